"""The lab's bridge relayer between two lab devnets, observed with web3.py."""
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
