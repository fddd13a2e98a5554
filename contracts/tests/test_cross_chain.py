"""The cross-chain legs (`CrossChainArbitrage`) over real Uniswap V2 pairs, and the bridge double
they deposit into."""
import boa
import pytest

from onchain import FAR, MOCKS, V2, balances, load, step

E6, E18 = 10**6, 10**18
DEST = 10  # the destination chain's id (boa's chain is 1)


def v2_out(amount_in, reserve_in, reserve_out, fee=3000):
    with_fee = amount_in * (10**6 - fee)
    return with_fee * reserve_out // (reserve_in * 10**6 + with_fee)


def reserves(pair, token_in):
    r0, r1, _ = pair.getReserves()
    return (r0, r1) if pair.token0() == token_in.address else (r1, r0)


@pytest.fixture
def bridge(world):
    b = load(MOCKS, "MockBridge", world.owner, 500)  # 0.05 %, the lab's relayer is the deployer
    world.tokens["WETH"].mint(b.address, 1_000 * E18)  # destination liquidity
    return b


def buy_path(world):
    usdc, weth = world.tokens["USDC"], world.tokens["WETH"]
    return [step(world.v2_pair(0, "USDC", "WETH"), V2, usdc, weth, 3000)]


def test_buy_and_bridge_deposits_exactly_what_it_bought(world, bridge):
    ex, usdc, weth = world.executors["cross"], world.tokens["USDC"], world.tokens["WETH"]
    usdc.mint(ex.address, 10_000 * E6)
    pair = world.v2_pair(0, "USDC", "WETH")
    expected = v2_out(4_000 * E6, *reserves(pair, usdc))
    held = weth.balanceOf(bridge.address)
    recipient = boa.env.generate_address()
    bought = ex.buy_and_bridge(usdc.address, 4_000 * E6, buy_path(world), expected, bridge.address, DEST, recipient, FAR)
    assert bought == expected
    assert usdc.balanceOf(ex.address) == 6_000 * E6 and weth.balanceOf(ex.address) == 0
    assert weth.balanceOf(bridge.address) == held + bought
    logs = ex.get_logs()  # the whole transaction's, the bridge's included (boa decodes contracts it deployed)
    dep = [e for e in logs if type(e).__name__ == "Deposited"]
    sent = [e for e in logs if type(e).__name__ == "BridgeSent"]
    assert len(dep) == 1 and dep[0].amount == bought and dep[0].dest_chain == DEST and dep[0].recipient == recipient
    assert dep[0].sender == ex.address and dep[0].id == 0
    assert len(sent) == 1 and sent[0].id == 0 and sent[0].amount == bought and sent[0].quote_spent == 4_000 * E6


def test_buy_and_bridge_to_deposits_for_a_32_byte_recipient(world, bridge):
    """Toward Solana: the recipient is a wallet's 32-byte key, the deposit id comes from the same
    counter as `deposit`'s, and the bridge holds exactly what was bought."""
    ex, usdc, weth = world.executors["cross"], world.tokens["USDC"], world.tokens["WETH"]
    usdc.mint(ex.address, 10_000 * E6)
    pair = world.v2_pair(0, "USDC", "WETH")
    first = v2_out(1_000 * E6, *reserves(pair, usdc))
    ex.buy_and_bridge(usdc.address, 1_000 * E6, buy_path(world), first, bridge.address, DEST, world.owner, FAR)
    expected = v2_out(3_000 * E6, *reserves(pair, usdc))
    held = weth.balanceOf(bridge.address)
    key = bytes(range(1, 33))
    bought = ex.buy_and_bridge_to(usdc.address, 3_000 * E6, buy_path(world), expected, bridge.address, 101, key, FAR)
    assert bought == expected and weth.balanceOf(bridge.address) == held + bought and weth.balanceOf(ex.address) == 0
    assert usdc.balanceOf(ex.address) == 6_000 * E6
    logs = ex.get_logs()
    dep = [e for e in logs if type(e).__name__ == "DepositedTo"]
    assert [type(e).__name__ for e in logs].count("Deposited") == 0
    assert len(dep) == 1 and dep[0].id == 1 and dep[0].amount == bought and dep[0].dest_chain == 101 and dep[0].recipient == key
    assert dep[0].sender == ex.address
    sent = [e for e in logs if type(e).__name__ == "BridgeSent"]
    assert len(sent) == 1 and sent[0].id == 1 and sent[0].amount == bought and sent[0].dest_chain == 101
    before = balances(world, [bridge.address])
    with boa.reverts("arbiter: no bridge"):
        ex.buy_and_bridge_to(usdc.address, 1 * E6, buy_path(world), 1, bridge.address, 101, b"\x00" * 32, FAR)
    with boa.reverts("arbiter: bought too little"):
        ex.buy_and_bridge_to(usdc.address, 1 * E6, buy_path(world), 10**30, bridge.address, 101, key, FAR)
    with boa.env.prank(boa.env.generate_address()), boa.reverts("arbiter: not authorised"):
        ex.buy_and_bridge_to(usdc.address, 1 * E6, buy_path(world), 1, bridge.address, 101, key, FAR)
    assert balances(world, [bridge.address]) == before


def test_buy_and_bridge_reverts_and_moves_nothing_below_its_minimum(world, bridge):
    ex, usdc = world.executors["cross"], world.tokens["USDC"]
    usdc.mint(ex.address, 10_000 * E6)
    expected = v2_out(4_000 * E6, *reserves(world.v2_pair(0, "USDC", "WETH"), usdc))
    before = balances(world, [bridge.address])
    with boa.reverts("arbiter: bought too little"):
        ex.buy_and_bridge(usdc.address, 4_000 * E6, buy_path(world), expected + 1, bridge.address, DEST, world.owner, FAR)
    with boa.reverts("arbiter: not enough capital"):
        ex.buy_and_bridge(usdc.address, 10_001 * E6, buy_path(world), 1, bridge.address, DEST, world.owner, FAR)
    with boa.reverts("arbiter: path must start with the asset"):
        ex.buy_and_bridge(world.tokens["DAI"].address, 1 * E6, buy_path(world), 1, bridge.address, DEST, world.owner, FAR)
    with boa.env.prank(boa.env.generate_address()), boa.reverts("arbiter: not authorised"):
        ex.buy_and_bridge(usdc.address, 1 * E6, buy_path(world), 1, bridge.address, DEST, world.owner, FAR)
    with boa.reverts("arbiter: deadline passed"):
        ex.buy_and_bridge(usdc.address, 1 * E6, buy_path(world), 1, bridge.address, DEST, world.owner, boa.env.evm.patch.timestamp - 1)
    assert balances(world, [bridge.address]) == before


def test_the_bridge_fills_once_less_its_fee_and_only_for_the_relayer(world, bridge):
    weth, recipient = world.tokens["WETH"], boa.env.generate_address()
    with boa.env.prank(boa.env.generate_address()), boa.reverts("bridge: not the relayer"):
        bridge.fill(1, 0, weth.address, E18, recipient)
    out = bridge.fill(1, 0, weth.address, 3 * E18 + 7, recipient)
    assert out == 3 * E18 + 7 - (3 * E18 + 7) * 500 // 10**6 and weth.balanceOf(recipient) == out
    with boa.reverts("bridge: already filled"):
        bridge.fill(1, 0, weth.address, E18, recipient)
    bridge.fill(2, 0, weth.address, E18, recipient)  # the same id from another chain is another transfer
    filled = [e for e in bridge.get_logs() if type(e).__name__ == "Filled"]
    assert filled[-1].src_chain == 2 and filled[-1].amount == E18 - E18 * 500 // 10**6


def test_sell_swaps_what_arrived_back_into_the_quote_token(world):
    ex, usdc, weth = world.executors["cross"], world.tokens["USDC"], world.tokens["WETH"]
    pair = world.v2_pair(1, "USDC", "WETH")
    steps = [step(pair, V2, weth, usdc, 3000)]
    with boa.reverts("arbiter: not enough of the asset"):
        ex.sell(weth.address, E18, steps, 1, FAR)
    weth.mint(ex.address, 2 * E18)
    expected = v2_out(2 * E18, *reserves(pair, weth))
    with boa.reverts("arbiter: sold for too little"):
        ex.sell(weth.address, 2 * E18, steps, expected + 1, FAR)
    assert ex.sell(weth.address, 2 * E18, steps, expected, FAR) == expected
    assert usdc.balanceOf(ex.address) == expected and weth.balanceOf(ex.address) == 0
    sold = [e for e in ex.get_logs() if type(e).__name__ == "Sold"]
    assert len(sold) == 1 and sold[0].proceeds == expected and sold[0].amount == 2 * E18
