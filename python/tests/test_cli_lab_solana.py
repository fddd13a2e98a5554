"""`arbiter lab --solana`: the Solana stand-in (a ledger running System, ComputeBudget, SPL Token,
ATA and Raydium AMM v4, Orca Whirlpool and Meteora DLMM pools in their programs' layouts; Jupiter;
a Jito block engine; drifting pools) beside a lab chain. Cycles the P4 detector finds on those
pools (found by getProgramAccounts, decoded, sized) are quoted through Jupiter, bundled with a tip and sent to the block
engine; each landed bundle realizes exactly its simulated profit, read back from the landed
transaction's balances, and the wallet's holdings move by exactly the sum. Cross-chain gaps are
bought on Solana, bridged and sold on the lab chain, and the other way round. The journal (read with Python's sqlite3), the
relayer's log and solders (decoding the landed transactions) must agree with the summary."""
import base64
import hashlib
import json
import re
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
                "--dir", str(tmp), "--record", str(tmp / "rec"), check=False)
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
    # The wallet moved by the round trips' profits and what the buys bridged to the lab chain and
    # the sales of what it bridged here cost it.
    assert int(sol["walletDelta"]) == sum(int(t["realizedProfit"]) for t in sol["trades"]) + sum(int(b["realized"]) for b in sol["bridged"] + sol["sold"])
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
    bridged = {b["signature"] for b in summary["solana"]["bridged"] + summary["solana"]["sold"]}
    rows = [r for r in db.execute("SELECT signature, raw, tip FROM solana_trade WHERE status = 'landed'") if r[0] not in bridged]
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


def test_a_gap_bought_on_solana_is_bridged_and_sold_on_the_lab_chain(solana_lab_run):
    """The stand-in's Ether (Wormhole) trades at 1960 USDC, the lab chain's WETH at 2000; the lab
    adds Wormhole routes between them. Cross-chain detection, fed Solana's decoded pools beside the
    chain's, publishes the gap; the trade is bought on Solana and sent across by the stand-in's
    token bridge in one transaction (solders decodes it from the journal: Jupiter's swap, then the
    bridge's transfer of exactly what detection sized the sale on, to the lab chain's cross-chain
    executor), relayed (the relayer's own log), and sold on the lab chain: what arrived is what
    left Solana scaled to 18 decimals less the lab bridge's fee, to the wei."""
    from tools.solana import bridge as solana_bridge
    summary, tmp, _ = solana_lab_run
    lab_chain = summary["chains"][0]["chainId"]
    manifest = json.load(open(tmp / "ethereum-lab.json"))
    executor = manifest["executors"]["crossChain"].lower()
    fee_pips = manifest["bridge"]["feePips"]
    bought_on_solana = [t for t in summary["crossChain"]["transfers"] if t["from"] == 101]
    assert all(t["to"] == lab_chain for t in bought_on_solana), summary["crossChain"]
    # Sold on the lab chain; one still on its way when the run ended is journaled open, never lost.
    sold = [t for t in bought_on_solana if t["status"] == "sold"]
    assert sold and all(t["status"] in ("sold", "inFlight", "arrived", "held") for t in bought_on_solana), summary["crossChain"]
    db = sqlite3.connect(str(tmp / "journal.sqlite"))
    relayed = [json.loads(line) for line in open(tmp / "bridge.log") if line.startswith("{")]
    raws = dict(db.execute("SELECT signature, raw FROM solana_trade"))
    landed = {b["signature"]: b for b in summary["solana"]["bridged"]}
    for t in sold:
        assert int(t["realizedProfit"]) == int(t["proceeds"]) - int(t["amountIn"]) > 0, t
        # The Solana transaction: the swap, then the bridge's transfer of what was bought.
        tx = VersionedTransaction.from_bytes(base64.b64decode(raws[t["depositTx"]]))
        assert all(tx.verify_with_results()) and str(tx.signatures[0]) == t["depositTx"]
        keys = [str(k) for k in tx.message.account_keys]
        transfers = [bytes(ix.data) for ix in tx.message.instructions if ix.program_id_index < len(keys) and keys[ix.program_id_index] == str(solana_bridge.PROGRAM)]
        assert len(transfers) == 1 and transfers[0][0] == 1, transfers
        amount, target = struct.unpack_from("<QQ", transfers[0], 1)
        assert (amount, target, "0x" + transfers[0][17 + 12:49].hex()) == (int(t["bought"]), lab_chain, executor), t
        assert transfers[0][17:29] == bytes(12)
        # It cost the wallet what its simulation said (lamports: fee and tip).
        assert int(landed[t["depositTx"]]["realized"]) == int(landed[t["depositTx"]]["expected"]) < 0
        # Relayed under the message's sequence and received scaled from 8 decimals to 18, less the fee.
        fills = [e for e in relayed if e.get("src") == 101 and e["event"] == "filled" and e["amount"] == t["bought"]]
        assert len(fills) == 1 and fills[0]["recipient"] == executor and fills[0]["dest"] == lab_chain, relayed
        delivered = int(t["bought"]) * 10**10
        assert int(t["received"]) == delivered - delivered * fee_pips // 10**6, t
    # Each cross-chain opportunity was decided: executed (a transfer, either way), or refused by name.
    reasons = {}
    for opportunity, reason in db.execute("SELECT d.opportunity, d.stage || ':' || d.reason FROM decision d JOIN opportunity o ON o.id = d.opportunity "
                                          "WHERE o.kind = 'crossChain'"):
        reasons.setdefault(opportunity, set()).add(reason)
    cross = {r[0] for r in db.execute("SELECT id FROM opportunity WHERE kind = 'crossChain'")}
    assert set(reasons) == cross
    executed = {t["opportunity"] for t in summary["crossChain"]["transfers"]}
    assert executed <= cross and all("inclusion:jito" in reasons[t["opportunity"]] for t in bought_on_solana)
    # The rest refused by name at a stage; none as malformed (that would be a detection bug), none as unsupported.
    assert all(r and not r & {"validate:invalid", "validate:notCrossChain", "strategy:solanaSideUnsupported"}
               for o, r in reasons.items() if o not in executed), reasons


def test_a_gap_bought_on_the_lab_chain_is_bridged_to_solana_and_sold_there(solana_lab_run):
    """The other way: WETH bought on the lab chain by its cross-chain executor and deposited in the
    same transaction for the wallet's 32-byte key on Solana (`buy_and_bridge_to`); the relayer
    completes it on the stand-in (its own log: paid at Wormhole's 8 decimals, the claim account
    left), the executor learns of it from that claim account and sells exactly what arrived
    through Jupiter in a Jito bundle (solders decodes it from the journal), its lamports' cost as
    simulated. Realized is the sale's proceeds less the quote spent, to the unit."""
    from solders.pubkey import Pubkey

    from tools.solana import bridge as solana_bridge
    summary, tmp, stderr = solana_lab_run
    lab_chain = summary["chains"][0]["chainId"]
    wallet = re.search(r"wallet (\w+)", stderr).group(1)
    to_solana = [t for t in summary["crossChain"]["transfers"] if t["from"] == lab_chain]
    assert all(t["to"] == 101 for t in to_solana), summary["crossChain"]
    sold = [t for t in to_solana if t["status"] == "sold"]
    # Sold on Solana; one still on its way when the run ended is journaled open; a leg one that did not land moved nothing.
    assert sold and all(t["status"] in ("sold", "failed", "inFlight", "arrived", "held") for t in to_solana), summary["crossChain"]
    db = sqlite3.connect(str(tmp / "journal.sqlite"))
    relayed = [json.loads(line) for line in open(tmp / "bridge.log") if line.startswith("{")]
    raws = dict(db.execute("SELECT signature, raw FROM solana_trade"))
    landed = {b["signature"]: b for b in summary["solana"]["sold"]}
    for t in sold:
        assert int(t["realizedProfit"]) == int(t["proceeds"]) - int(t["amountIn"]), t
        # Paid on Solana at 8 decimals (the dust under 10^10 wei stays in the source bridge), once, to the wallet.
        fills = [e for e in relayed if e.get("src") == lab_chain and e.get("dest") == 101 and e["event"] == "filled" and e["amount"] == t["bought"]]
        assert len(fills) == 1 and fills[0]["recipient"] == "0x" + bytes(Pubkey.from_string(wallet)).hex(), relayed
        assert int(t["received"]) == int(t["bought"]) // 10**10 == int(fills[0]["paid"]) and not fills[0]["already"], (t, fills)
        assert fills[0]["claim"] == str(solana_bridge.claim_address(lab_chain, fills[0]["id"]))
        # The sale: one signed transaction, Jupiter's route of exactly what arrived, no bridge in it.
        tx = VersionedTransaction.from_bytes(base64.b64decode(raws[t["sellTx"]]))
        assert all(tx.verify_with_results()) and str(tx.signatures[0]) == t["sellTx"]
        keys = [str(k) for k in tx.message.account_keys]
        assert str(solana_bridge.PROGRAM) not in keys
        routes = [bytes(ix.data) for ix in tx.message.instructions if keys[ix.program_id_index] == AGGREGATOR]
        assert len(routes) == 1 and struct.unpack_from("<Q", routes[0], 1)[0] == int(t["received"]), routes
        assert struct.unpack_from("<Q", routes[0], 9)[0] <= int(t["proceeds"])
        # It cost the wallet what its simulation said (lamports: fee and tip).
        assert int(landed[t["sellTx"]]["realized"]) == int(landed[t["sellTx"]]["expected"]) < 0


def test_solana_detection_replays_from_its_recorded_changes(solana_lab_run, arbiter):
    """Solana detection's changes are recorded (stream solana:<name>: the detector's configuration,
    each pool followed, each account's data taken at its slot, the cluster clock, each detection with
    its clock reading) and fed again to a fresh book and detector: every opportunity published live is
    found again, byte for byte. The events are read here by the documented layout: the pools followed
    are the seven the lab discovered, each a Solana address solders parses, whose data was taken."""
    from test_cli_replay import read_recording
    summary, tmp, _ = solana_lab_run
    events = read_recording(tmp / "rec")
    declared = [json.loads(e[3]) for e in events if e[0] == 0 and e[1] == 1]
    [stream] = [d["stream"] for d in declared if d["component"].startswith("solana:")]
    mine = [e for e in events if e[0] == stream]
    assert mine[0][1] == 1, "the detector's configuration comes first"
    watched = {bytes(e[3][:32]) for e in mine if e[1] == 2}
    assert len(watched) == summary["solana"]["discovered"] == 7
    assert all(str(Pubkey.from_bytes(k)) for k in watched)
    taken = {bytes(e[3][:32]) for e in mine if e[1] == 3 and e[3][40] in (1, 3) and struct.unpack_from("<I", e[3], 41)[0] > 0}
    assert watched <= taken, "every pool followed had its data taken"
    # Discovery and polls take what they read (flag 3: as of the read's slot), notifications what was written (1).
    assert {e[3][40] for e in mine if e[1] == 3} <= {0, 1, 2, 3} and any(e[3][40] == 3 for e in mine if e[1] == 3)
    detections = [e for e in mine if e[1] == 5]
    published = [e for e in mine if e[1] == 6]
    assert len(published) == summary["solana"]["published"] >= 1 and detections
    replay = json.loads(arbiter("replay", str(tmp / "rec"), "--json").stdout)
    [d] = [d for d in replay["detection"] if d["kind"] == "solana"]
    assert d["detected"] == len(detections) and d["published"] == len(published), d
    assert d["identical"] == d["published"] and d["different"] == 0 and d["undecodable"] == 0, d
