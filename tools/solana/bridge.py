"""The stand-in's token bridge between the Solana stand-in and the lab's EVM devnets: a program of
our own (no such program on mainnet), shaped like Wormhole's token bridge where it matters to a
searcher. A transfer out locks the tokens in the mint's custody account and posts a message; the
amount crosses at 8 decimals at most, as Wormhole's does (⌊amount / 10^(d − 8)⌋; the rest stays
with the sender). The relayer reads the messages (`standin_bridgeMessages`) and completes
transfers in (`standin_bridgeComplete`): the custody pays the recipient's token account, once per
(source chain, sequence), and leaves the transfer's claim account (the PDA ["claim", source chain
u64 LE, sequence u64 LE], one byte `claimed` = 1, as Wormhole's token bridge keeps one per redeemed
message): how the recipient learns that its transfer was paid.

Instruction (tag 1, `transfer`): accounts sender (signer), its token account (writable), the
mint's custody (writable, the PDA ["custody", mint], its own token authority), the mint; data
tag u8, amount u64, target chain u64, recipient [u8; 32] (an EVM address left-padded). The bank logs
"Program log: Sequence: N" for each message: the sequence it takes if the transaction commits (as
Wormhole's core bridge logs it), which is how the sender learns its transfer's id."""
import hashlib
import struct

from solders.pubkey import Pubkey

PROGRAM = Pubkey(hashlib.sha256(b"arbiter stand-in token bridge").digest())
WIRE_DECIMALS = 8
UNITS = 30_000


def custody_address(mint: Pubkey) -> Pubkey:
    return Pubkey.find_program_address([b"custody", bytes(mint)], PROGRAM)[0]


def transfer_data(amount: int, target_chain: int, recipient: bytes) -> bytes:
    assert len(recipient) == 32
    return b"\x01" + struct.pack("<QQ", amount, target_chain) + recipient


def wire_scale(decimals: int) -> int:
    """What one unit on the wire is in the token's own units."""
    return 10 ** max(0, decimals - WIRE_DECIMALS)


def transfer(bank, i, metas, data, work, messages):
    """Runs a `transfer` in `work`; appends its message to `messages` (posted when the transaction commits)."""
    from .bank import TokenAccount, ix_error, set_amount
    if len(data) != 49 or data[0] != 1:
        raise ix_error(i, "InvalidInstructionData")
    bank._need(i, metas, 4)
    amount, target = struct.unpack_from("<QQ", data, 1)
    recipient = data[17:49]
    (sender, _, signed), (source, source_w, _), (custody, custody_w, _), (mint, _, _) = metas[:4]
    if not signed:
        raise ix_error(i, "MissingRequiredSignature")
    if not (source_w and custody_w):
        raise ix_error(i, "InvalidArgument")
    mint_account = work.get(mint)
    if mint_account is None or len(mint_account.data) != 82:
        raise ix_error(i, "InvalidAccountData")
    decimals = mint_account.data[44]
    src, held = TokenAccount.read(work.get(source)), TokenAccount.read(work.get(custody))
    if custody != custody_address(mint) or src is None or held is None or src.mint != mint or held.mint != mint or held.owner != custody:
        raise ix_error(i, {"Custom": 1})  # not the mint's custody, or not the sender's account of the mint
    if src.owner != sender:
        raise ix_error(i, {"Custom": 2})  # the sender does not own the source
    normalized = amount // wire_scale(decimals)
    moved = normalized * wire_scale(decimals)
    if normalized == 0 or normalized >= 2**64:
        raise ix_error(i, {"Custom": 3})  # nothing crosses: less than one unit at 8 decimals
    if src.amount < moved:
        raise ix_error(i, {"Custom": 4})  # insufficient funds
    for key, delta in ((source, -moved), (custody, moved)):
        t = TokenAccount.read(work[key])
        set_amount(work[key], t.amount + delta)
        if t.native is not None:
            work[key].lamports += delta
    messages.append({"mint": str(mint), "decimals": decimals, "amount": normalized, "moved": moved, "targetChain": target,
                     "recipient": "0x" + recipient.hex(), "sender": str(sender)})
    return UNITS


def claim_address(src_chain: int, sequence: int) -> Pubkey:
    return Pubkey.find_program_address([b"claim", struct.pack("<Q", src_chain), struct.pack("<Q", sequence)], PROGRAM)[0]


def complete(bank, src_chain: int, sequence: int, mint: Pubkey, owner: Pubkey, amount: int):
    """A transfer in (the relayer's call): `amount` wire units of `mint` from its custody to `owner`'s
    associated token account (created if missing), and the transfer's claim account. Once per
    (`src_chain`, `sequence`): a second call pays nothing. Returns what was paid."""
    from .bank import Account, TokenAccount, ata_address, rent_exempt, set_amount
    claim = claim_address(src_chain, sequence)
    if claim in bank.accounts:
        return {"paid": 0, "already": True, "claim": str(claim)}
    mint_account = bank.accounts.get(mint)
    if mint_account is None or len(mint_account.data) != 82:
        raise ValueError(f"{mint} is not a mint")
    paid = amount * wire_scale(mint_account.data[44])
    custody = custody_address(mint)
    held = TokenAccount.read(bank.accounts.get(custody))
    if held is None or held.amount < paid:
        raise ValueError(f"the custody of {mint} holds {held.amount if held else 0}, less than {paid}")
    ata = ata_address(owner, mint)
    if TokenAccount.read(bank.accounts.get(ata)) is None:
        bank.set_token_account(ata, mint, owner, 0)
    for key, delta in ((custody, -paid), (ata, paid)):
        t = TokenAccount.read(bank.accounts[key])
        set_amount(bank.accounts[key], t.amount + delta)
        if t.native is not None:
            bank.accounts[key].lamports += delta
    bank.accounts[claim] = Account(rent_exempt(1), PROGRAM, b"\x01")
    return {"paid": paid, "already": False, "account": str(ata), "claim": str(claim)}
