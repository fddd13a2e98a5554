"""`arbiter lab --solana`: the Solana stand-in (a ledger running System, ComputeBudget, SPL Token,
ATA and Raydium AMM v4, Orca Whirlpool and Meteora DLMM pools in their programs' layouts; Jupiter;
a Jito block engine; drifting pools) beside a lab chain. Cycles the P4 detector finds on those
pools (found by getProgramAccounts, decoded, sized) are quoted through Jupiter, bundled with a tip and sent to the block
engine; each landed bundle realizes exactly its simulated profit, read back from the landed
transaction's balances, and the wallet's holdings move by exactly the sum. The journal (read with
Python's sqlite3) and solders (decoding the landed transactions) must agree with the summary."""
import base64
import hashlib
import json
import sqlite3
import struct

import pytest
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

# The stand-in aggregator's program (its route instruction: tag, amount in, minimum out, …).
AGGREGATOR = str(Pubkey(hashlib.sha256(b"arbiter stand-in constant-product pools").digest()))


@pytest.fixture(scope="module")
def solana_lab_run(tmp_path_factory, arbiter):
    tmp = tmp_path_factory.mktemp("lab-solana")
    p = arbiter("lab", "--chains", "1", "--blocks", "20", "--seed", "4", "--json", "--no-cex", "--no-cow", "--stat-arb-history", "0", "--solana",
                "--dir", str(tmp), check=False)
    assert p.returncode == 0, p.stderr[-4000:]
    return json.loads(p.stdout), tmp, p.stderr


def test_round_trips_land_as_jito_bundles_realizing_exactly_the_simulated_profit(solana_lab_run):
    summary, tmp, _ = solana_lab_run
    sol = summary["solana"]
    assert sol["published"] >= 1 and sol["sent"] >= 1 and sol["trades"], sol
    # The detector found the stand-in's seven pools (a Whirlpool, a DLMM pair, three Raydium pools, a CLMM pool, a Phoenix book) by
    # getProgramAccounts, decoded every one, followed them by subscription and sized cycles through them.
    assert sol["discovered"] == 7 and sol["pools"] == 7 and sol["sized"] >= sol["published"], sol
    assert sol["notifications"] > 0, "the pools were kept fresh by the cluster's notifications"
    assert sol["mismatches"] == 0 and summary["mismatches"] == 0 and sol["pending"] == 0
    # A bundle landed in the slot it was simulated on ran on the simulated state: exactly the
    # expected profit. One landed later (the market drifted in between) ran on other pools; only
    # its slippage bound held, and the wallet check below still counts it to the lamport.
    exact = [t for t in sol["trades"] if t["slot"] == t["simulatedSlot"]]
    assert exact, sol["trades"]
    for t in sol["trades"]:
        assert t["bundle"] and t["tip"] >= 1_000 and t["slot"] >= t["simulatedSlot"], t
    for t in exact:
        assert int(t["realizedProfit"]) == int(t["expectedProfit"]) > 0, t
    assert int(sol["walletDelta"]) == sum(int(t["realizedProfit"]) for t in sol["trades"])
    db = sqlite3.connect(str(tmp / "journal.sqlite"))
    rows = {r[0]: r[1:] for r in db.execute("SELECT signature, status, realized, expected, mode, bundle FROM solana_trade")}
    for t in sol["trades"]:
        status, realized, expected, mode, bundle = rows[t["signature"]]
        assert (status, int(realized), int(expected), mode, bundle) == ("landed", int(t["realizedProfit"]), int(t["expectedProfit"]), "jito", t["bundle"])
    # Every journaled Solana transaction is settled: landed, or dropped with a reason.
    assert {r[0] for r in rows.values()} <= {"landed", "dropped", "failed"}
    kinds = {r[0] for r in db.execute("SELECT kind FROM opportunity")}
    assert "solana" in kinds


def test_each_landed_transaction_is_one_signed_v0_transaction_with_its_tip_inside(solana_lab_run):
    """The journal keeps each transaction as sent; solders decodes it: it verifies, its signature
    is the journaled one, it is v0 with the pools' lookup table, and it pays the tip it was
    journaled with to one of Jito's tip accounts as a static key (never through a table)."""
    summary, tmp, _ = solana_lab_run
    tips = {"96gYZGLnJYVFmbjzopPSU6QiEV5fGqZNyN9nmNhvrZU5", "HFqU5x63VTqvQss8hp11i4wVV8bD44PvwucfZ2bU7gRe", "Cw8CFyM9FkoMi7K7Crf6HNQqf4uEMzpKw6QNghXLvLkY",
            "ADaUMid9yfUytqMBgopwjb2DTLSokTSzL1zt6iGPaS49", "DfXygSm4jCyNCybVYYK6DwvWqjKee8pbDmJGcLWNDXjh", "ADuUkR4vqLUMWXxW9gh6D6L8pMSawimctcNZ5pGwDcEt",
            "DttWaMuVvTiduZRnguLF7jNxTgiMBZ1hyAumKUiL2KRL", "3AVi9Tg9Uo68tJfuvoKvqKNWKkC5wPdSSdeBnizKZ6jT"}
    db = sqlite3.connect(str(tmp / "journal.sqlite"))
    rows = db.execute("SELECT signature, raw, tip FROM solana_trade WHERE status = 'landed'").fetchall()
    assert len(rows) == len(summary["solana"]["trades"]) >= 1
    for signature, raw, tip in rows:
        tx = VersionedTransaction.from_bytes(base64.b64decode(raw))
        assert all(tx.verify_with_results()) and str(tx.signatures[0]) == signature and len(base64.b64decode(raw)) <= 1232
        m = tx.message
        assert m.address_table_lookups, "the pools' accounts come through the lookup table"
        keys = [str(k) for k in m.account_keys]
        paid = [(keys[ix.accounts[1]], int.from_bytes(bytes(ix.data)[4:], "little")) for ix in m.instructions
                if keys[ix.program_id_index] == "11111111111111111111111111111111" and bytes(ix.data)[:4] == b"\x02\x00\x00\x00"
                and ix.accounts[1] < len(keys)]
        assert any(to in tips and lamports == tip for to, lamports in paid), (paid, tip)
        budget = [bytes(ix.data)[0] for ix in m.instructions if keys[ix.program_id_index] == "ComputeBudget111111111111111111111111111111"]
        assert budget == [2, 3]  # our unit limit and price, first
        # The on-chain guard: the last leg's minimum out covers what the first leg put in, the tip
        # and the largest fee at the transaction's unit price (1.4M units, one signature), so a
        # bundle that lands after the pools moved can fail but never lose.
        price = next(struct.unpack_from("<Q", bytes(ix.data), 1)[0] for ix in m.instructions
                     if keys[ix.program_id_index] == "ComputeBudget111111111111111111111111111111" and bytes(ix.data)[0] == 3)
        routes = [bytes(ix.data) for ix in m.instructions if keys[ix.program_id_index] == AGGREGATOR]
        assert len(routes) >= 2, routes
        amount_in = struct.unpack_from("<Q", routes[0], 1)[0]
        minimum_out = struct.unpack_from("<Q", routes[-1], 9)[0]
        assert minimum_out >= amount_in + tip + 5_000 + -(-1_400_000 * price // 1_000_000), (amount_in, minimum_out, tip, price)


def test_trades_go_through_every_kind_of_book_the_stand_in_keeps(solana_lab_run):
    """The landed transactions name the pools through the market's lookup table: resolved against
    the same seeded market (its keys derive from the seed), they route through the Phoenix book
    and through the AMMs beside it."""
    from tools.solana.bank import RAYDIUM_AMM, TOKEN, Bank
    from tools.solana.market import Market
    summary, tmp, _ = solana_lab_run
    market = Market(Bank(), seed=4)
    entries = [RAYDIUM_AMM, TOKEN]
    for p in market.pools:
        entries += [p["key"], p["authority"], p["vaultA"], p["vaultB"]] + p["arrays"] + ([p["config"]] if p["config"] else [])
    venues = {p["key"]: p["venue"] for p in market.pools}
    db = sqlite3.connect(str(tmp / "journal.sqlite"))
    seen = set()
    for (raw,) in db.execute("SELECT raw FROM solana_trade WHERE status = 'landed'"):
        m = VersionedTransaction.from_bytes(base64.b64decode(raw)).message
        lookups = [entries[i] for l in m.address_table_lookups for i in list(l.writable_indexes) + list(l.readonly_indexes)]
        seen |= {venues[k] for k in lookups if k in venues}
    assert "phoenix" in seen and seen - {"phoenix"}, seen


def test_gaps_between_the_lab_chain_and_solana_are_found_across_the_bridge_and_refused_by_name(solana_lab_run):
    """The stand-in's Ether (Wormhole) trades at 2040 USDC, the lab chain's WETH at 2000; the lab
    adds Wormhole routes between them. Cross-chain detection, fed Solana's decoded pools beside the
    chain's, publishes the gap (bought on one side, bridged, sold on the other); bridging to or
    from Solana is not executed yet, so each is refused by name and journaled as such."""
    summary, tmp, _ = solana_lab_run
    db = sqlite3.connect(str(tmp / "journal.sqlite"))
    cross = db.execute("SELECT id, chain, gross_profit, net_profit FROM opportunity WHERE kind = 'crossChain'").fetchall()
    assert cross, summary["refused"]
    lab_chain = summary["chains"][0]["chainId"]
    for _, chain, gross, net in cross:
        assert chain in (lab_chain, 101) and int(gross) > int(net) > 0
    # Each refused by name (or, arriving as the run ended, because it was ending).
    reasons = dict(db.execute("SELECT d.opportunity, d.stage || ':' || d.reason FROM decision d JOIN opportunity o ON o.id = d.opportunity "
                              "WHERE o.kind = 'crossChain'").fetchall())
    assert set(reasons) == {c[0] for c in cross} and set(reasons.values()) <= {"strategy:solanaSideUnsupported", "risk:closing"}, reasons
    named = sum(r == "strategy:solanaSideUnsupported" for r in reasons.values())
    assert named >= 1 and summary["refused"]["strategy:solanaSideUnsupported"] == named
