# pragma version 0.4.3
"""
@title Arbiter's cross-chain legs, on the contract's own capital
@notice Leg one (source chain): `buy_and_bridge` (`buy_and_bridge_to` for a recipient of 32 bytes:
        a wallet on Solana) swaps the quote token for the asset and deposits
        exactly what it bought into the bridge, for this contract's twin on the destination, in
        one transaction: no asset is left bought but unbridged. Leg two (destination chain):
        `sell` swaps what arrived back into the quote token. Each leg reverts unless it yields at
        least its minimum, so a moved price costs only gas; what sits between the legs (in the
        bridge, or arrived and not yet sold) is tracked off-chain as a recovery record.
"""
import flash_arb as base

initializes: base
exports: base.__interface__

interface IERC20:
    def balanceOf(owner: address) -> uint256: view

interface IBridge:
    def deposit(token: address, amount: uint256, dest_chain: uint256, recipient: address) -> uint256: nonpayable
    def deposit_to(token: address, amount: uint256, dest_chain: uint256, recipient: bytes32) -> uint256: nonpayable

event BridgeSent:
    id: indexed(uint256)
    bridge: indexed(address)
    asset: address
    amount: uint256
    dest_chain: uint256
    quote_spent: uint256

event Sold:
    asset: indexed(address)
    amount: uint256
    quote: address
    proceeds: uint256


@deploy
def __init__():
    base.__init__()


@external
@nonreentrant
def buy_and_bridge(quote: address, amount: uint256, steps: DynArray[base.Step, base.MAX_STEPS], min_out: uint256, bridge: address,
                   dest_chain: uint256, recipient: address, deadline: uint256) -> uint256:
    asset: address = empty(address)
    bought: uint256 = 0
    asset, bought = self._buy(quote, amount, steps, min_out, bridge, deadline)
    assert recipient != empty(address), "arbiter: no bridge"
    id: uint256 = extcall IBridge(bridge).deposit(asset, bought, dest_chain, recipient)
    log BridgeSent(id=id, bridge=bridge, asset=asset, amount=bought, dest_chain=dest_chain, quote_spent=amount)
    return bought


@external
@nonreentrant
def buy_and_bridge_to(quote: address, amount: uint256, steps: DynArray[base.Step, base.MAX_STEPS], min_out: uint256, bridge: address,
                      dest_chain: uint256, recipient: bytes32, deadline: uint256) -> uint256:
    asset: address = empty(address)
    bought: uint256 = 0
    asset, bought = self._buy(quote, amount, steps, min_out, bridge, deadline)
    assert recipient != empty(bytes32), "arbiter: no bridge"
    id: uint256 = extcall IBridge(bridge).deposit_to(asset, bought, dest_chain, recipient)
    log BridgeSent(id=id, bridge=bridge, asset=asset, amount=bought, dest_chain=dest_chain, quote_spent=amount)
    return bought


@internal
def _buy(quote: address, amount: uint256, steps: DynArray[base.Step, base.MAX_STEPS], min_out: uint256, bridge: address,
         deadline: uint256) -> (address, uint256):
    """Swaps `amount` of `quote` along `steps` (at least `min_out`) and lets `bridge` take what it bought."""
    base._check_caller(deadline)
    assert amount > 0 and min_out > 0, "arbiter: zero amount"
    assert bridge.is_contract, "arbiter: no bridge"
    asset: address = steps[len(steps) - 1].token_out if len(steps) > 0 else empty(address)
    base._check_path(quote, asset, steps)
    assert staticcall IERC20(quote).balanceOf(self) >= amount, "arbiter: not enough capital"
    bought: uint256 = base._run_path(amount, steps)
    assert bought >= min_out, "arbiter: bought too little"
    base._safe_approve(asset, bridge, bought)
    return asset, bought


@external
@nonreentrant
def sell(asset: address, amount: uint256, steps: DynArray[base.Step, base.MAX_STEPS], min_out: uint256, deadline: uint256) -> uint256:
    base._check_caller(deadline)
    assert amount > 0, "arbiter: zero amount"
    quote: address = steps[len(steps) - 1].token_out if len(steps) > 0 else empty(address)
    base._check_path(asset, quote, steps)
    assert staticcall IERC20(asset).balanceOf(self) >= amount, "arbiter: not enough of the asset"
    proceeds: uint256 = base._run_path(amount, steps)
    assert proceeds >= min_out, "arbiter: sold for too little"
    log Sold(asset=asset, amount=amount, quote=quote, proceeds=proceeds)
    return proceeds
