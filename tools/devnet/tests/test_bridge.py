"""The lab's bridge relayer between two lab devnets, observed with web3.py."""
import contextlib
import json
import os
import subprocess
import sys
import time

from eth_account import Account
from web3 import Web3

from tools.devnet.testing import ROOT, Devnet

ERC20 = [{"name": "balanceOf", "type": "function", "stateMutability": "view", "inputs": [{"name": "o", "type": "address"}],
          "outputs": [{"name": "", "type": "uint256"}]},
         {"name": "approve", "type": "function", "stateMutability": "nonpayable",
          "inputs": [{"name": "s", "type": "address"}, {"name": "a", "type": "uint256"}], "outputs": [{"name": "", "type": "bool"}]}]
BRIDGE = [{"name": "deposit", "type": "function", "stateMutability": "nonpayable",
           "inputs": [{"name": "token", "type": "address"}, {"name": "amount", "type": "uint256"}, {"name": "dest_chain", "type": "uint256"},
                      {"name": "recipient", "type": "address"}], "outputs": [{"name": "", "type": "uint256"}]},
          {"name": "filled", "type": "function", "stateMutability": "view", "inputs": [{"name": "a", "type": "uint256"}, {"name": "b", "type": "uint256"}],
           "outputs": [{"name": "", "type": "bool"}]}]


@contextlib.contextmanager
def solana_and_chain(tmp_path, fund=()):
    """The Solana stand-in (`fund`: its --fund arguments), lab chain 1 and the relayer between them
    (its ready line read). Yields (the stand-in's ready line, the devnet, the relayer's events: filled
    in once everything has stopped)."""
    standin = subprocess.Popen([sys.executable, "-m", "tools.solana", "--port", "0", "--slot-ms", "100", *fund, "--parent", str(os.getpid())],
                               cwd=ROOT, stdout=subprocess.PIPE, text=True)
    ready = json.loads(standin.stdout.readline())
    ready_path = os.path.join(str(tmp_path), "solana.json")
    with open(ready_path, "w") as f:
        json.dump(ready, f)
    a = Devnet(1, True, str(tmp_path))
    relayer = subprocess.Popen([sys.executable, "-m", "tools.devnet.bridge", "--latency", "1", "--solana", ready_path, a.manifest_path],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    events = []
    try:
        assert json.loads(relayer.stdout.readline()) == {"event": "ready", "chains": [1, 101]}
        yield ready, a, events
    finally:
        relayer.terminate()
        out = relayer.communicate(timeout=10)[0]
        a.stop()
        standin.terminate()
        standin.wait(10)
        events += [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_a_deposit_is_filled_on_its_destination_after_the_latency_less_the_fee(tmp_path):
    a, b = Devnet(1, True, str(tmp_path)), Devnet(10, True, str(tmp_path))
    relayer = subprocess.Popen([sys.executable, "-m", "tools.devnet.bridge", "--latency", "1", a.manifest_path, b.manifest_path],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert json.loads(relayer.stdout.readline()) == {"event": "ready", "chains": [1, 10]}
        wa, wb = Web3(Web3.HTTPProvider(a.http)), Web3(Web3.HTTPProvider(b.http))
        trader = a.manifest["keys"]["trader"]
        weth_a = wa.eth.contract(a.manifest["tokens"]["WETH"]["address"], abi=ERC20)
        weth_b = wb.eth.contract(b.manifest["tokens"]["WETH"]["address"], abi=ERC20)
        bridge_a = wa.eth.contract(a.manifest["bridge"]["address"], abi=BRIDGE)
        bridge_b = wb.eth.contract(b.manifest["bridge"]["address"], abi=BRIDGE)
        recipient = Account.create().address
        held_a = weth_a.functions.balanceOf(bridge_a.address).call()
        weth_a.functions.approve(bridge_a.address, 2**256 - 1).transact({"from": trader})
        sent_at = time.time()
        bridge_a.functions.deposit(weth_a.address, 5 * 10**18, 10, recipient).transact({"from": trader})
        bridge_a.functions.deposit(weth_a.address, 10**18, 999, recipient).transact({"from": trader})  # nowhere: stuck
        deadline = time.time() + 60
        while weth_b.functions.balanceOf(recipient).call() == 0 and time.time() < deadline:
            time.sleep(0.1)
        assert time.time() - sent_at >= 1  # not before the latency
        assert weth_b.functions.balanceOf(recipient).call() == 5 * 10**18 - 5 * 10**18 * 500 // 10**6
        assert bridge_b.functions.filled(1, 0).call() and not bridge_b.functions.filled(1, 1).call()
        assert weth_a.functions.balanceOf(bridge_a.address).call() == held_a + 6 * 10**18  # both locked at the source
        time.sleep(3)  # the relayer confirms its fill two seconds after sending it
    finally:
        relayer.terminate()
        out = relayer.communicate(timeout=10)[0]
        a.stop()
        b.stop()
    events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert [(e["event"], e["dest"], e["id"]) for e in events if e.get("event") in ("filled", "skipped")] == [("skipped", 999, 1), ("filled", 10, 0)]
    assert len([e for e in events if e.get("event") == "sent"]) == 1  # filled at the first try here


def test_a_transfer_out_of_the_solana_stand_in_is_filled_on_its_evm_chain_at_the_tokens_decimals(tmp_path):
    """The Solana stand-in's token bridge relayed: WETH locked there at 8 decimals arrives on the
    EVM chain scaled to 18, less the bridge's fee, at the EVM address in the message's 32 bytes;
    a message to a chain the relayer does not know, or to a recipient that is no EVM address, is
    skipped and paid nowhere."""
    from solders.instruction import AccountMeta, Instruction
    from solders.keypair import Keypair

    from tools.solana import bridge as solana_bridge
    from tools.solana.bank import ata_address
    from tools.solana.tests.test_server import post, signed, b64, wait_status

    user = Keypair.from_seed(bytes([41]) * 32)
    recipient = Account.create().address
    with solana_and_chain(tmp_path, ["--fund", f"{user.pubkey()}:{10 * 10**9}:WETH={7 * 10**8}"]) as (ready, a, events):
        rpc = ready["rpc"]
        weth = ready["market"]["mints"]["WETH"]["mint"]
        wa = Web3(Web3.HTTPProvider(a.http))
        weth_a = wa.eth.contract(a.manifest["tokens"]["WETH"]["address"], abi=ERC20)
        from solders.pubkey import Pubkey
        mint = Pubkey.from_string(weth)

        def transfer(amount, chain, to):
            ix = Instruction(solana_bridge.PROGRAM, solana_bridge.transfer_data(amount, chain, to),
                             [AccountMeta(user.pubkey(), True, False), AccountMeta(ata_address(user.pubkey(), mint), False, True),
                              AccountMeta(solana_bridge.custody_address(mint), False, True), AccountMeta(mint, False, False)])
            blockhash = post(rpc, "getLatestBlockhash", [])["result"]["value"]["blockhash"]
            sig = post(rpc, "sendTransaction", [b64(signed([ix], blockhash, user)), {"encoding": "base64"}])["result"]
            wait_status(rpc, sig)

        evm = bytes(12) + bytes.fromhex(recipient[2:])
        transfer(123_456_789, 1, evm)            # 1.23456789 WETH to chain 1
        transfer(10**8, 999, evm)                # to a chain the relayer does not know
        transfer(10**8, 1, bytes([7]) * 32)      # to a Solana key, not an EVM address
        deadline = time.time() + 60
        while weth_a.functions.balanceOf(recipient).call() == 0 and time.time() < deadline:
            time.sleep(0.1)
        sent = 123_456_789 * 10**10
        assert weth_a.functions.balanceOf(recipient).call() == sent - sent * 500 // 10**6
        bridge_a = wa.eth.contract(a.manifest["bridge"]["address"], abi=BRIDGE)
        assert bridge_a.functions.filled(101, 1).call() and not bridge_a.functions.filled(101, 2).call()
        assert not bridge_a.functions.filled(101, 3).call()
        time.sleep(3)  # the relayer confirms its fill two seconds after sending it
    assert sorted((e["event"], e["dest"], e["id"]) for e in events if e.get("event") in ("filled", "skipped")) == \
        [("filled", 1, 1), ("skipped", 1, 3), ("skipped", 999, 2)]


def test_a_deposit_to_a_solana_key_is_paid_on_the_stand_in_at_8_decimals_with_its_claim(tmp_path):
    """`deposit_to` for chain 101: the relayer completes it on the Solana stand-in, the mint of the
    same symbol paid to the 32-byte owner's token account at Wormhole's 8 decimals (the dust below
    stays in the source bridge), its claim account left behind, once; a deposit with a 32-byte
    recipient for any other chain, or of a token Solana's side does not list, is skipped."""
    import base64

    from solders.keypair import Keypair
    from solders.pubkey import Pubkey

    from tools.solana import bridge as solana_bridge
    from tools.solana.bank import ata_address
    from tools.solana.tests.test_server import post

    owner = Keypair.from_seed(bytes([42]) * 32).pubkey()
    to_abi = [{"name": "deposit_to", "type": "function", "stateMutability": "nonpayable",
               "inputs": [{"name": "token", "type": "address"}, {"name": "amount", "type": "uint256"}, {"name": "dest_chain", "type": "uint256"},
                          {"name": "recipient", "type": "bytes32"}], "outputs": [{"name": "", "type": "uint256"}]}]
    with solana_and_chain(tmp_path) as (ready, a, events):
        rpc = ready["rpc"]
        weth = Pubkey.from_string(ready["market"]["mints"]["WETH"]["mint"])
        account = str(ata_address(owner, weth))
        wa = Web3(Web3.HTTPProvider(a.http))
        trader = a.manifest["keys"]["trader"]
        weth_a = wa.eth.contract(a.manifest["tokens"]["WETH"]["address"], abi=ERC20)
        dai_a = wa.eth.contract(a.manifest["tokens"]["DAI"]["address"], abi=ERC20)
        bridge_a = wa.eth.contract(a.manifest["bridge"]["address"], abi=to_abi)
        for t in (weth_a, dai_a):
            t.functions.approve(bridge_a.address, 2**256 - 1).transact({"from": trader})
        sent = 2 * 10**18 + 345_678_901_234_567_891
        bridge_a.functions.deposit_to(weth_a.address, sent, 101, bytes(owner)).transact({"from": trader})      # id 0
        bridge_a.functions.deposit_to(dai_a.address, 10**18, 101, bytes(owner)).transact({"from": trader})     # id 1: no DAI on Solana's side
        bridge_a.functions.deposit_to(weth_a.address, 10**18, 999, bytes(owner)).transact({"from": trader})  # id 2: a chain with no side here
        deadline = time.time() + 60

        def balance():
            v = post(rpc, "getTokenAccountBalance", [account]).get("result")
            return int(v["value"]["amount"]) if v else 0
        while balance() == 0 and time.time() < deadline:
            time.sleep(0.1)
        assert balance() == sent // 10**10  # 8 decimals on the wire and on Solana's WETH
        claim = solana_bridge.claim_address(1, 0)
        info = post(rpc, "getAccountInfo", [str(claim), {"encoding": "base64"}])["result"]["value"]
        assert info["owner"] == str(solana_bridge.PROGRAM) and base64.b64decode(info["data"][0]) == b"\x01"
        time.sleep(2)
        assert balance() == sent // 10**10  # once
    assert sorted((e["event"], e["dest"], e["id"]) for e in events if e.get("event") in ("filled", "skipped")) == \
        [("filled", 101, 0), ("skipped", 101, 1), ("skipped", 999, 2)]
    filled = [e for e in events if e.get("event") == "filled"][0]
    assert int(filled["paid"]) == sent // 10**10 and filled["claim"] == str(solana_bridge.claim_address(1, 0))
