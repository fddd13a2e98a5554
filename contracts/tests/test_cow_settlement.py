"""The GPv2Settlement stand-in keeps GPv2's rules: orders signed by eth-account under every
signing scheme, clearing prices, limit prices, validity, fills, the allow-list, and the real
events (protocol-facts §4), its interactions moving a real Uniswap V2 pair."""
import json
import os
import sys

import boa
import pytest
from eth_account import Account
from eth_utils import keccak

from onchain import DOUBLES, MOCKS, ROOT

sys.path.insert(0, ROOT)
from tools.devnet import cow  # noqa: E402

E6, E18 = 10**6, 10**18
KEY = "0x" + keccak(text="cow-owner").hex()
OWNER = Account.from_key(KEY).address


@pytest.fixture
def market(world):
    settlement = boa.load(os.path.join(MOCKS, "MockGPv2Settlement.vy"))
    solver = boa.env.generate_address()
    settlement.set_solver(solver, True)
    usdc, weth = world.tokens["USDC"], world.tokens["WETH"]
    weth.mint(OWNER, 1_000 * E18)
    usdc.mint(OWNER, 10_000_000 * E6)
    with boa.env.prank(OWNER):
        weth.approve(settlement.address, 2**256 - 1)
        usdc.approve(settlement.address, 2**256 - 1)
    return settlement, solver, usdc, weth


def order(sell, buy, sell_amount, buy_amount, kind="sell", partial=False, valid_to=2**32 - 1, fee=0):
    return {"sellToken": sell.address, "buyToken": buy.address, "receiver": cow.ZERO, "sellAmount": sell_amount,
            "buyAmount": buy_amount, "validTo": valid_to, "appData": b"\x01" * 32, "feeAmount": fee, "kind": kind,
            "partiallyFillable": partial, "sellTokenBalance": "erc20", "buyTokenBalance": "erc20"}


def against_pair(world, settlement, o, amount_in, pair):
    """Intra-interactions that swap `amount_in` of the order's sell token on `pair`: (interactions, amount out)."""
    r0, r1, _ = pair.getReserves()
    zero_for_one = int(o["sellToken"], 16) < int(o["buyToken"], 16)
    r_in, r_out = (r0, r1) if zero_for_one else (r1, r0)
    out = amount_in * 997 * r_out // (r_in * 1000 + amount_in * 997)
    swap = (0, out) if zero_for_one else (out, 0)
    return [(o["sellToken"], 0, cow.call("transfer(address,uint256)", ["address", "uint256"], [pair.address, amount_in])),
            (pair.address, 0, cow.call("swap(uint256,uint256,address,bytes)", ["uint256", "uint256", "address", "bytes"],
                                       [*swap, settlement.address, b""]))], out


def settle(settlement, solver, tokens, prices, trades, intra, pre=(), post=()):
    with boa.env.prank(solver):
        settlement.settle(tokens, prices, trades, [list(pre), list(intra), list(post)])


def named(settlement, name):
    return [e for e in settlement.get_logs() if type(e).__name__ == name]


@pytest.mark.parametrize("scheme", ["eip712", "ethsign", "presign"])
def test_a_sell_order_settles_against_the_pair_under_each_scheme(world, market, scheme):
    settlement, solver, usdc, weth = market
    pair = world.v2_pair(0, "USDC", "WETH")
    o = order(weth, usdc, 50 * E18, 1)
    chain_id = boa.env.evm.patch.chain_id
    signature, owner = cow.sign_order(chain_id, settlement.address, o, scheme, key=KEY, owner=OWNER)
    digest = cow.order_digest(chain_id, settlement.address, o)
    uid = cow.order_uid(digest, OWNER, o["validTo"])
    if scheme == "presign":
        with boa.env.prank(OWNER):
            settlement.setPreSignature(uid, True)
    intra, out = against_pair(world, settlement, o, o["sellAmount"], pair)
    tokens = [weth.address, usdc.address]
    before_pair, before_owner = pair.getReserves(), usdc.balanceOf(OWNER)
    trade = cow.trade_tuple(tokens, o, cow.flags(scheme=scheme), 0, signature)
    settle(settlement, solver, tokens, [out, o["sellAmount"]], [trade], intra)
    assert owner == OWNER
    assert usdc.balanceOf(OWNER) - before_owner == out  # the clearing price pays the pair's rate, rounded up: exact here
    assert pair.getReserves()[:2] != before_pair[:2]
    (t,), interactions, settled = named(settlement, "Trade"), named(settlement, "Interaction"), named(settlement, "Settlement")
    assert (t.owner, t.sellToken, t.buyToken, t.sellAmount, t.buyAmount, t.feeAmount) == (OWNER, weth.address, usdc.address, 50 * E18, out, 0)
    assert [(i.target, i.selector) for i in interactions] == [(weth.address, bytes.fromhex("a9059cbb")), (pair.address, bytes.fromhex("022c0d9f"))]
    assert [s.solver for s in settled] == [solver]
    assert t.orderUid == uid and settlement.filledAmount(uid) == 50 * E18
    # Settled once: the same order again is filled.
    with boa.reverts("GPv2: order filled"):
        settle(settlement, solver, tokens, [out, o["sellAmount"]], [trade], [])


def test_eip1271_orders_ask_the_owner_contract(world, market):
    settlement, solver, usdc, weth = market
    wallet = boa.load(os.path.join(DOUBLES, "ERC1271Wallet.vy"), b"ok")
    weth.mint(wallet.address, 10 * E18)
    wallet.approve(weth.address, settlement.address)
    o = order(weth, usdc, 10 * E18, 1)
    tokens = [weth.address, usdc.address]
    good, _ = cow.sign_order(boa.env.evm.patch.chain_id, settlement.address, o, "eip1271", owner=wallet.address, wallet_bytes=b"ok")
    bad, _ = cow.sign_order(boa.env.evm.patch.chain_id, settlement.address, o, "eip1271", owner=wallet.address, wallet_bytes=b"no")
    intra, out = against_pair(world, settlement, o, o["sellAmount"], world.v2_pair(0, "USDC", "WETH"))
    with boa.reverts("GPv2: invalid eip1271 signature"):
        settle(settlement, solver, tokens, [out, o["sellAmount"]], [cow.trade_tuple(tokens, o, cow.flags(scheme="eip1271"), 0, bad)], intra)
    settle(settlement, solver, tokens, [out, o["sellAmount"]], [cow.trade_tuple(tokens, o, cow.flags(scheme="eip1271"), 0, good)], intra)
    assert usdc.balanceOf(wallet.address) == out


def test_buy_and_partially_fillable_orders_execute_at_clearing_prices(world, market):
    settlement, solver, usdc, weth = market
    chain_id = boa.env.evm.patch.chain_id
    tokens = [weth.address, usdc.address]
    prices = [2_000 * E6, E18]  # 2,000 USDC a WETH
    # A buy order: 4,000 USDC for at most 3 WETH pays 2 WETH; a partially fillable sell of 10 WETH filled by 4.
    buy = order(weth, usdc, 3 * E18, 4_000 * E6, kind="buy")
    part = order(weth, usdc, 10 * E18, 15_000 * E6, partial=True, fee=10**16)
    usdc.mint(settlement.address, 20_000 * E6)  # the solver's own inventory pays the buys
    trades = []
    for o, executed, flag_kwargs in ((buy, 0, {"kind": "buy"}), (part, 4 * E18, {"partial": True})):
        sig, _ = cow.sign_order(chain_id, settlement.address, o, "eip712", key=KEY)
        trades.append(cow.trade_tuple(tokens, o, cow.flags(**flag_kwargs), executed, sig))
    weth_before = weth.balanceOf(OWNER)
    settle(settlement, solver, tokens, prices, trades, [])
    t_buy, t_part = named(settlement, "Trade")
    assert (t_buy.sellAmount, t_buy.buyAmount) == (2 * E18, 4_000 * E6)
    assert (t_part.sellAmount, t_part.buyAmount, t_part.feeAmount) == (4 * E18, 8_000 * E6, 4 * 10**15)
    assert weth_before - weth.balanceOf(OWNER) == 6 * E18 + 4 * 10**15


def test_the_rules_refuse_what_gpv2_refuses(world, market):
    settlement, solver, usdc, weth = market
    chain_id = boa.env.evm.patch.chain_id
    tokens = [weth.address, usdc.address]

    def trade(o, **kw):
        sig, _ = cow.sign_order(chain_id, settlement.address, o, "eip712", key=KEY)
        return cow.trade_tuple(tokens, o, cow.flags(**kw), 0, sig)

    o = order(weth, usdc, E18, 2_000 * E6)
    with boa.reverts("GPv2: not a solver"):
        settlement.settle(tokens, [2_000 * E6, E18], [trade(o)], [[], [], []])
    with boa.reverts("GPv2: limit price not respected"):
        settle(settlement, solver, tokens, [1_999 * E6, E18], [trade(o)], [])
    with boa.reverts("GPv2: order expired"):
        settle(settlement, solver, tokens, [2_000 * E6, E18], [trade(order(weth, usdc, E18, 1, valid_to=1))], [])
    with boa.reverts("GPv2: only erc20 balances"):
        settle(settlement, solver, tokens, [2_000 * E6, E18], [trade(o, sell_balance="external")], [])
    with boa.reverts("GPv2: order not presigned"):
        sig, _ = cow.sign_order(chain_id, settlement.address, o, "presign", owner=OWNER)
        settle(settlement, solver, tokens, [2_000 * E6, E18], [cow.trade_tuple(tokens, o, cow.flags(scheme="presign"), 0, sig)], [])


def test_the_selector_events_and_domain_are_gpv2s(market):
    settlement = market[0]
    abi = json.load(open(os.path.join(ROOT, "contracts", "artifacts", "MockGPv2Settlement.json")))["abi"]
    sigs = {e["name"]: f"{e['name']}({','.join(canonical(i) for i in e['inputs'])})" for e in abi if e["type"] in ("event", "function")}
    assert keccak(text=sigs["settle"])[:4] == cow.SELECTOR == bytes.fromhex("13d79a0b")
    assert {n: keccak(text=sigs[n]).hex() for n in ("Trade", "Interaction", "Settlement", "PreSignature")} == {
        "Trade": "a07a543ab8a018198e99ca0184c93fe9050a79400a0a723441f84de1d972cc17",
        "Interaction": "ed99827efb37016f2275f98c4bcf71c7551c75d59e9b450f79fa32e60be672c2",
        "Settlement": "40338ce1a7c49204f0099533b1e9a7ee0a3d261f84974ab7af36105b8c4e9db4",
        "PreSignature": "01bf7c8b0ca55deecbea89d7e58295b7ffbf685fd0d96801034ba8c6ffe1c68d",
    }
    # The EIP-712 domain separator eth-account computes is the contract's.
    from eth_account.messages import encode_typed_data
    m = encode_typed_data(full_message=cow.typed_order(boa.env.evm.patch.chain_id, settlement.address, order_fields()))
    assert settlement.domainSeparator() == m.header


def order_fields():
    return {"sellToken": cow.ZERO, "buyToken": cow.ZERO, "receiver": cow.ZERO, "sellAmount": 0, "buyAmount": 0, "validTo": 0,
            "appData": b"\x00" * 32, "feeAmount": 0, "kind": "sell", "partiallyFillable": False, "sellTokenBalance": "erc20",
            "buyTokenBalance": "erc20"}


def canonical(i):
    if i["type"].startswith("tuple"):
        return "(" + ",".join(canonical(c) for c in i["components"]) + ")" + i["type"][5:]
    return i["type"]
