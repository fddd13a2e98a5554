# pragma version 0.4.3
"""
@title Liquidity-bridge double (Across/Stargate-shaped): lock on the source, fill from the
       destination's own liquidity, less a proportional fee
@notice `deposit` takes the tokens and logs the transfer; the relayer (the lab's bridge process)
        sees the log and, after the route's latency, calls `fill` on the destination chain's
        bridge, which pays the recipient `amount − amount·fee_pips / 1e6` once per (source, id).
        `deposit_to` is the same for a recipient of 32 bytes (a chain whose accounts are not EVM
        addresses: Solana's owner keys, as Wormhole's `transferTokens` takes them); the relayer
        completes it on that chain's side. Both take their id from one counter.
"""
import token_ops

event Deposited:
    id: indexed(uint256)
    token: indexed(address)
    amount: uint256
    dest_chain: uint256
    recipient: address
    sender: address

event DepositedTo:
    id: indexed(uint256)
    token: indexed(address)
    amount: uint256
    dest_chain: uint256
    recipient: bytes32
    sender: address

event Filled:
    src_chain: indexed(uint256)
    id: indexed(uint256)
    token: address
    recipient: address
    amount: uint256

PIPS: constant(uint256) = 1_000_000
relayer: public(immutable(address))
fee_pips: public(immutable(uint256))
next_id: public(uint256)
filled: public(HashMap[uint256, HashMap[uint256, bool]])


@deploy
def __init__(relayer_: address, fee_pips_: uint256):
    assert fee_pips_ < PIPS, "bridge: fee out of range"
    relayer = relayer_
    fee_pips = fee_pips_


@external
def deposit(token: address, amount: uint256, dest_chain: uint256, recipient: address) -> uint256:
    assert amount > 0 and recipient != empty(address), "bridge: empty deposit"
    assert dest_chain != chain.id, "bridge: same chain"
    token_ops.transfer_from(token, msg.sender, self, amount)
    id: uint256 = self.next_id
    self.next_id = id + 1
    log Deposited(id=id, token=token, amount=amount, dest_chain=dest_chain, recipient=recipient, sender=msg.sender)
    return id


@external
def deposit_to(token: address, amount: uint256, dest_chain: uint256, recipient: bytes32) -> uint256:
    assert amount > 0 and recipient != empty(bytes32), "bridge: empty deposit"
    assert dest_chain != chain.id, "bridge: same chain"
    token_ops.transfer_from(token, msg.sender, self, amount)
    id: uint256 = self.next_id
    self.next_id = id + 1
    log DepositedTo(id=id, token=token, amount=amount, dest_chain=dest_chain, recipient=recipient, sender=msg.sender)
    return id


@external
def fill(src_chain: uint256, id: uint256, token: address, amount: uint256, recipient: address) -> uint256:
    assert msg.sender == relayer, "bridge: not the relayer"
    assert not self.filled[src_chain][id], "bridge: already filled"
    self.filled[src_chain][id] = True
    out: uint256 = amount - amount * fee_pips // PIPS
    token_ops.transfer(token, recipient, out)
    log Filled(src_chain=src_chain, id=id, token=token, recipient=recipient, amount=out)
    return out
