"""The stand-in's ledger against a real SVM: LiteSVM (shipped in solders) runs the real System,
ComputeBudget, SPL Token and Associated Token Account programs. Seeded random transactions of
those instructions go to both from the same accounts; every account's lamports, token amount and
owner, each fee and each success or failure must agree. The pool program (ours, not on any
cluster) is checked against its integer formula and for atomicity."""
import random
import struct

import pytest
from solders.account import Account as SvmAccount
from solders.compute_budget import set_compute_unit_limit, set_compute_unit_price
from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

from tools.solana.bank import (ATA, CPMM, RAYDIUM_AMM, RAYDIUM_AUTHORITY, TOKEN, WSOL, Account, Bank, TokenAccount, TxError, ata_address,
                               cpmm_out, mint_data, pool_authority, rent_exempt, route_data, swap_data, MINT_SIZE)

MINT = Pubkey.from_string("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v")


def transfer_checked(src, mint, dst, owner, amount, decimals):
    return Instruction(TOKEN, bytes([12]) + struct.pack("<Q", amount) + bytes([decimals]),
                       [AccountMeta(src, False, True), AccountMeta(mint, False, False), AccountMeta(dst, False, True), AccountMeta(owner, True, False)])


def sync_native(account):
    return Instruction(TOKEN, bytes([17]), [AccountMeta(account, False, True)])


def create_ata(payer, owner, mint):
    from solders.system_program import ID as SYS
    return Instruction(ATA, bytes([1]), [AccountMeta(payer, True, True), AccountMeta(ata_address(owner, mint), False, True), AccountMeta(owner, False, False),
                                         AccountMeta(mint, False, False), AccountMeta(SYS, False, False), AccountMeta(TOKEN, False, False)])


def world(seed):
    """Both ledgers with the same wallets, mints and token accounts."""
    rng = random.Random(seed)
    users = [Keypair.from_seed(bytes([seed % 256, i]) + bytes(30)) for i in range(4)]
    svm, bank = LiteSVM(), Bank()
    def put(key, a: Account):
        bank.accounts[key] = a
        svm.set_account(key, SvmAccount(a.lamports, a.data, a.owner, a.executable))
    for mint, dec in ((MINT, 6), (WSOL, 9)):
        put(mint, Account(rent_exempt(MINT_SIZE), TOKEN, mint_data(dec, supply=10**15)))
    for u in users:
        put(u.pubkey(), Account(rng.randint(2, 50) * 10**9))
        if rng.random() < 0.75:  # some have no USDC account yet
            bank.set_token_account(ata_address(u.pubkey(), MINT), MINT, u.pubkey(), rng.randint(0, 10**9))
            a = bank.accounts[ata_address(u.pubkey(), MINT)]
            svm.set_account(ata_address(u.pubkey(), MINT), SvmAccount(a.lamports, a.data, a.owner, False))
        bank.set_token_account(ata_address(u.pubkey(), WSOL), WSOL, u.pubkey(), rng.randint(0, 10**9))
        a = bank.accounts[ata_address(u.pubkey(), WSOL)]
        svm.set_account(ata_address(u.pubkey(), WSOL), SvmAccount(a.lamports, a.data, a.owner, False))
    return rng, users, svm, bank


def random_instructions(rng, users, payer):
    ixs = []
    if rng.random() < 0.6:
        ixs.append(set_compute_unit_limit(rng.choice([10_000, 60_000, 200_000])))
    if rng.random() < 0.6:
        ixs.append(set_compute_unit_price(rng.choice([0, 1, 1_000, 123_457])))
    for _ in range(rng.randint(1, 3)):
        kind = rng.randrange(3)  # (this LiteSVM build has no Associated Token Account program: its create is tested apart)
        other = rng.choice(users)
        if kind == 0:
            # Sometimes to a key no one funded: below the rent-exempt minimum the runtime refuses it.
            to = other.pubkey() if rng.random() < 0.8 else Keypair.from_seed(bytes([rng.randrange(256)]) * 32).pubkey()
            ixs.append(transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=rng.choice([1, 10**6, 10**9, 10**12]))))
        elif kind == 1:
            mint, dec = rng.choice([(MINT, 6), (WSOL, 9)])
            amount = rng.choice([0, 1, 10**5, 10**8, 10**10])
            ixs.append(transfer_checked(ata_address(payer.pubkey(), mint), mint, ata_address(other.pubkey(), mint), payer.pubkey(), amount,
                                        dec if rng.random() < 0.9 else dec + 1))
        elif kind == 2:
            w = ata_address(payer.pubkey(), WSOL)
            ixs.append(transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=w, lamports=rng.choice([1, 10**7]))))
            ixs.append(sync_native(w))
    return ixs


def state(get, keys):
    out = {}
    for k in keys:
        a = get(k)
        if a is None or a.lamports == 0:
            out[str(k)] = None
            continue
        t = TokenAccount.read(Account(a.lamports, a.owner, bytes(a.data)))
        out[str(k)] = (a.lamports, str(a.owner), t.amount if t else None)
    return out


@pytest.mark.parametrize("seed", range(6))
def test_the_ledger_agrees_with_litesvm_running_the_real_programs(seed):
    rng, users, svm, bank = world(seed)
    keys = [u.pubkey() for u in users] + [ata_address(u.pubkey(), m) for u in users for m in (MINT, WSOL)]
    agreed_failures = 0
    for n in range(60):
        payer = rng.choice(users)
        ixs = random_instructions(rng, users, payer)
        blockhash = svm.latest_blockhash()
        tx = VersionedTransaction(MessageV0.try_compile(payer.pubkey(), ixs, [], blockhash), [payer])
        before = svm.get_balance(payer.pubkey())
        result = svm.send_transaction(tx)
        svm_ok = not hasattr(result, "err")
        try:
            ours = bank.execute(tx, check_blockhash=False)
            ours_ok, fee = ours.err is None, ours.fee
        except TxError as e:
            ours_ok, fee = False, 0
            assert not svm_ok, f"tx {n}: ours refused it ({e.err}), the SVM ran it"
        assert ours_ok == svm_ok, f"tx {n}: ours {ours.err if not ours_ok else 'ok'}, SVM {result}"
        if svm_ok:
            assert fee == result.fee(), f"tx {n}: fee {fee}, the SVM's {result.fee()}"
            # Units consumed agree in size, not to the unit (the Token program's own fast paths vary them).
            assert abs(ours.units - result.compute_units_consumed()) <= 100 * len(ixs), (ours.units, result.compute_units_consumed())
        else:
            agreed_failures += 1
        svm.expire_blockhash()
        assert state(bank.get, keys) == state(svm.get_account, keys), f"after tx {n} (seed {seed})"
    assert agreed_failures > 0  # the seeds reach failures (insufficient funds, decimals, limits)


def funded_bank(seed_byte):
    """A ledger with the SOL and USDC mints and a user holding 10 SOL, 5 wrapped SOL and an empty USDC account."""
    bank = Bank()
    user = Keypair.from_seed(bytes([seed_byte]) + bytes(31))
    bank.accounts[MINT] = Account(rent_exempt(MINT_SIZE), TOKEN, mint_data(6))
    bank.accounts[WSOL] = Account(rent_exempt(MINT_SIZE), TOKEN, mint_data(9))
    bank.accounts[user.pubkey()] = Account(10 * 10**9)
    bank.set_token_account(ata_address(user.pubkey(), WSOL), WSOL, user.pubkey(), 5 * 10**9)
    bank.set_token_account(ata_address(user.pubkey(), MINT), MINT, user.pubkey(), 0)
    return bank, user


def test_the_pool_program_swaps_by_its_formula_and_a_failed_minimum_leaves_only_the_fee():
    bank, user = funded_bank(7)
    pool = Pubkey.new_unique()
    va, vb = bank.create_pool(pool, WSOL, MINT, 1_000 * 10**9, 150_000 * 10**6, 30)
    def swap(amount, minimum):
        ix = Instruction(CPMM, swap_data(amount, minimum), [
            AccountMeta(pool, False, False), AccountMeta(pool_authority(pool), False, False), AccountMeta(va, False, True), AccountMeta(vb, False, True),
            AccountMeta(ata_address(user.pubkey(), WSOL), False, True), AccountMeta(ata_address(user.pubkey(), MINT), False, True),
            AccountMeta(user.pubkey(), True, False), AccountMeta(TOKEN, False, False)])
        return VersionedTransaction(MessageV0.try_compile(user.pubkey(), [ix], [], bank.latest_hash), [user])
    expected = cpmm_out(10**9, 1_000 * 10**9, 150_000 * 10**6, 30)
    lamports = bank.accounts[user.pubkey()].lamports
    out = bank.execute(swap(10**9, expected + 1))
    assert out.err == {"InstructionError": [0, {"Custom": 6001}]}
    assert bank.accounts[user.pubkey()].lamports == lamports - 5_000
    assert TokenAccount.read(bank.accounts[ata_address(user.pubkey(), MINT)]).amount == 0
    bank.advance()
    out = bank.execute(swap(10**9, expected))
    assert out.err is None
    assert TokenAccount.read(bank.accounts[ata_address(user.pubkey(), MINT)]).amount == expected
    assert TokenAccount.read(bank.accounts[vb]).amount == 150_000 * 10**6 - expected
    # Wrapped SOL moves its lamports with its amount.
    assert bank.accounts[va].lamports == rent_exempt(165) + 1_001 * 10**9
    with pytest.raises(TxError) as e:
        bank.execute(swap(10**9, expected))  # the same signature again
    assert e.value.err == "AlreadyProcessed"


def test_a_raydium_pool_is_laid_out_as_the_program_and_swaps_by_its_formula():
    """A Raydium AMM v4 pool: its `AmmInfo` parses with raydiumsdk's layout (752 bytes, the program's
    owner, the vaults and mints it was made with), and a route through it pays what the program's
    formula pays (the oracle's, written apart from the bank) on the vaults less the owed profit."""
    import os
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "python", "oracle"))
    from raydium.layouts import LIQUIDITY_STATE_LAYOUT_V4
    from solana_venue_oracles import raydium_reference

    bank, user = funded_bank(8)
    pool = Pubkey.new_unique()
    va, vb = bank.create_raydium_pool(pool, WSOL, MINT, 2_000 * 10**9, 301_000 * 10**6, 25, 10_000, (9, 6), [Pubkey.new_unique() for _ in range(9)])
    info = LIQUIDITY_STATE_LAYOUT_V4.parse(bank.accounts[pool].data)
    assert bank.accounts[pool].owner == RAYDIUM_AMM and len(bank.accounts[pool].data) == 752
    assert (info.status, info.swapFeeNumerator, info.swapFeeDenominator) == (6, 25, 10_000)
    assert (Pubkey(bytes(info.poolCoinTokenAccount)), Pubkey(bytes(info.poolPcTokenAccount))) == (va, vb)
    assert (Pubkey(bytes(info.coinMintAddress)), Pubkey(bytes(info.pcMintAddress))) == (WSOL, MINT)
    assert str(RAYDIUM_AUTHORITY) == "5Q544fKrFoe6tsEbD7S8EmxGTJYAKtTVhAW5Q5pge4j1"  # the program's authority on mainnet

    def route(amount, minimum, authority=RAYDIUM_AUTHORITY):
        ix = Instruction(CPMM, route_data(amount, minimum, 1), [
            AccountMeta(user.pubkey(), True, False), AccountMeta(TOKEN, False, False),
            AccountMeta(pool, False, False), AccountMeta(authority, False, False), AccountMeta(va, False, True), AccountMeta(vb, False, True),
            AccountMeta(ata_address(user.pubkey(), WSOL), False, True), AccountMeta(ata_address(user.pubkey(), MINT), False, True)])
        return VersionedTransaction(MessageV0.try_compile(user.pubkey(), [ix], [], bank.latest_hash), [user])

    amount = 3 * 10**9 + 7
    expected = raydium_reference(2_000 * 10**9, 301_000 * 10**6, 25, 10_000, amount, True)
    assert bank.execute(route(amount, expected + 1)).err == {"InstructionError": [0, {"Custom": 6001}]}
    bank.advance()
    assert bank.execute(route(amount, expected, authority=pool_authority(pool))).err == {"InstructionError": [0, {"Custom": 6000}]}
    bank.advance()
    out = bank.execute(route(amount, expected))
    assert out.err is None
    assert TokenAccount.read(bank.accounts[ata_address(user.pubkey(), MINT)]).amount == expected
    assert (TokenAccount.read(bank.accounts[va]).amount, TokenAccount.read(bank.accounts[vb]).amount) == (2_000 * 10**9 + amount, 301_000 * 10**6 - expected)


def test_the_dlmm_pair_swaps_as_meteora_dlmm_quotes_it():
    """The stand-in's DLMM pair (in the market): its swap, bins taken from the active one outward,
    pays what meteora-dlmm (an implementation validated on the program) quotes on the same
    accounts, both ways, within a bin and across many; then the pair after it quotes on."""
    import meteora_dlmm
    from tools.solana.market import Market
    from tools.solana.venues import Pair, bin_array_address

    bank = Bank()
    market = Market(bank, seed=3)
    p = next(p for p in market.pools if p["venue"] == "dlmm")
    checked = 0
    for amount in (1, 999, 10**6, 24_999 * 10**6, 260_000 * 10**6, 3_100_000 * 10**6):
        for swap_for_y in (True, False):
            pair = Pair.read(bank.accounts[p["key"]])
            indexes = pair.arrays_for(swap_for_y)
            arrays = {k: bank.accounts[bin_array_address(p["key"], k)].data for k in indexes}
            state = meteora_dlmm.PoolState.from_accounts(bank.accounts[p["key"]].data, [bank.accounts[a].data for a in p["arrays"]], 6, 6)
            try:
                q = meteora_dlmm.quote(state, amount, swap_for_y, timestamp=0, strict=True)
                expected = q.amount_out if q.remaining_in == 0 and q.amount_out > 0 else None
            except meteora_dlmm.InsufficientBinArrays:
                expected = None
            ours = pair.swap(arrays, amount, swap_for_y)
            if expected is None:
                assert ours is None or ours[0] == 0, (amount, swap_for_y, ours)
                continue
            assert ours is not None and ours[0] == expected, (amount, swap_for_y, expected, ours)
            checked += 1
            # Trade it: the next quote runs on the bins after.
            out, active, after = ours
            bank.accounts[p["key"]].data = pair.moved(bank.accounts[p["key"]].data, active)
            for k, d in after.items():
                bank.accounts[bin_array_address(p["key"], k)].data = d
    assert checked >= 9
