"""The stand-in's token bridge: a transfer out locks what crosses at 8 decimals (the rest stays
with the sender) and posts one message, only when its transaction commits; a transfer in pays
the recipient from the custody once per id; wrong accounts, a missing signature, too little or
nothing to cross are refused without a message."""
import struct

import pytest
from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from tools.solana import bridge
from tools.solana.bank import TOKEN, WSOL, Account, Bank, TokenAccount, ata_address, mint_data, rent_exempt, MINT_SIZE

WETH = Pubkey.from_string("7vfCXTUXx5WJV5JADk17DUJ4ksgau7utNKj4b963voxs")
USER = Keypair.from_seed(bytes([21]) * 32)
RECIPIENT = bytes(12) + bytes.fromhex("5a" * 20)


@pytest.fixture
def bank():
    b = Bank()
    for mint, dec in ((WSOL, 9), (WETH, 8)):
        b.accounts[mint] = Account(rent_exempt(MINT_SIZE), TOKEN, mint_data(dec, supply=10**18))
        custody = bridge.custody_address(mint)
        b.set_token_account(custody, mint, custody, 1_000 * 10**dec)
    b.accounts[USER.pubkey()] = Account(10 * 10**9)
    b.set_token_account(ata_address(USER.pubkey(), WSOL), WSOL, USER.pubkey(), 5 * 10**9)
    b.set_token_account(ata_address(USER.pubkey(), WETH), WETH, USER.pubkey(), 3 * 10**8)
    return b


def send(bank, mint, amount, signer=USER, custody=None, owner=None, commit=True):
    ix = Instruction(bridge.PROGRAM, bridge.transfer_data(amount, 900001, RECIPIENT),
                     [AccountMeta(owner or USER.pubkey(), owner is None, False), AccountMeta(ata_address(USER.pubkey(), mint), False, True),
                      AccountMeta(custody or bridge.custody_address(mint), False, True), AccountMeta(mint, False, False)])
    tx = VersionedTransaction(MessageV0.try_compile(signer.pubkey(), [ix], [], bank.latest_hash), [signer])
    return bank.execute(tx, commit=commit)


def amount(bank, key):
    return TokenAccount.read(bank.accounts[key]).amount


def test_a_transfer_out_locks_what_crosses_and_posts_one_message(bank):
    sol_ata, custody = ata_address(USER.pubkey(), WSOL), bridge.custody_address(WSOL)
    before, held = amount(bank, sol_ata), amount(bank, custody)
    out = send(bank, WSOL, 1_000_000_007)  # 9 decimals: the last digit does not cross
    assert out.err is None
    assert before - amount(bank, sol_ata) == 1_000_000_000 and amount(bank, custody) - held == 1_000_000_000
    assert bank.accounts[custody].lamports - rent_exempt(165) == amount(bank, custody)  # wrapped SOL: lamports move with it
    [m] = bank.bridge_messages
    assert (m["sequence"], m["amount"], m["moved"], m["decimals"], m["targetChain"]) == (1, 100_000_000, 1_000_000_000, 9, 900001)
    assert m["recipient"] == "0x" + RECIPIENT.hex() and m["signature"] == out.signature and m["sender"] == str(USER.pubkey())
    assert "Program log: Sequence: 1" in out.logs  # the sender reads its message's id from its logs
    # 8 decimals: all of it crosses; the next message has the next sequence (a simulation logs the
    # sequence it would take, and posts nothing).
    simulated = send(bank, WETH, 123_456_789, commit=False)
    assert simulated.err is None and "Program log: Sequence: 2" in simulated.logs and len(bank.bridge_messages) == 1
    second = send(bank, WETH, 123_456_789)
    assert second.err is None and [line for line in second.logs if "Sequence" in line] == ["Program log: Sequence: 2"]
    assert [x["sequence"] for x in bank.bridge_messages] == [1, 2] and bank.bridge_messages[1]["amount"] == 123_456_789


def test_refusals_post_nothing_and_move_nothing(bank):
    sol_ata = ata_address(USER.pubkey(), WSOL)
    before = amount(bank, sol_ata)
    assert send(bank, WSOL, 9).err == {"InstructionError": [0, {"Custom": 3}]}  # under one unit at 8 decimals
    assert send(bank, WSOL, 6 * 10**9).err == {"InstructionError": [0, {"Custom": 4}]}  # more than it holds
    assert send(bank, WSOL, 10**9, custody=bridge.custody_address(WETH)).err == {"InstructionError": [0, {"Custom": 1}]}
    other = Keypair.from_seed(bytes([22]) * 32)
    bank.accounts[other.pubkey()] = Account(10**9)
    # Someone else signing for the user's account: the owner is not the signer.
    assert send(bank, WSOL, 10**9, signer=other, owner=other.pubkey()).err == {"InstructionError": [0, {"Custom": 2}]}
    assert bank.bridge_messages == [] and amount(bank, sol_ata) == before


def test_a_transfer_in_pays_once_from_the_custody(bank):
    owner = Keypair.from_seed(bytes([23]) * 32).pubkey()
    custody = bridge.custody_address(WETH)
    held = amount(bank, custody)
    claim = bridge.claim_address(900001, 7)
    assert claim not in bank.accounts
    paid = bridge.complete(bank, 900001, 7, WETH, owner, 250_000_000)
    assert paid["paid"] == 250_000_000 and amount(bank, ata_address(owner, WETH)) == 250_000_000 and held - amount(bank, custody) == 250_000_000
    # Its claim account: the bridge's, one byte `claimed`, at ["claim", chain u64 LE, sequence u64 LE].
    assert paid["claim"] == str(claim) == str(Pubkey.find_program_address([b"claim", (900001).to_bytes(8, "little"), (7).to_bytes(8, "little")],
                                                                         bridge.PROGRAM)[0])
    assert bank.accounts[claim].owner == bridge.PROGRAM and bank.accounts[claim].data == b"\x01"
    assert bridge.complete(bank, 900001, 7, WETH, owner, 250_000_000) == {"paid": 0, "already": True, "claim": str(claim)}
    assert amount(bank, ata_address(owner, WETH)) == 250_000_000
    # The same sequence from another chain is another transfer. 9 decimals: a wire unit is 10 lamports of wrapped SOL.
    assert bridge.complete(bank, 900002, 7, WSOL, owner, 5)["paid"] == 50
    with pytest.raises(ValueError):
        bridge.complete(bank, 900001, 9, WETH, owner, 10**12)  # more than the custody holds
    assert bridge.claim_address(900001, 9) not in bank.accounts
