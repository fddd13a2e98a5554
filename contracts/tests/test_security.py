"""The executors' security properties, one test each."""
import boa
import pytest

from onchain import DOUBLES, FAR, V2, balances, load, step
from test_execute import two_hop_v2, two_hop_v3

E6 = 10**6
STEPS_CODEC = ("(address,uint8,address,address,uint24)[]", "uint256")


def params(steps, min_profit=0):
    from eth_abi import encode
    return encode(["(address,uint8,address,address,uint24)[]", "uint256"], [steps, min_profit])


def test_callbacks_not_sent_by_the_lender_revert(world):
    usdc = world.tokens["USDC"]
    p = params(two_hop_v2(world, "USDC"))
    attacker = boa.env.generate_address()
    with boa.env.prank(attacker), boa.reverts("arbiter: no loan in flight"):
        world.executors["aave"].executeOperation(usdc.address, 10**6, 0, world.executors["aave"].address, p)
    with boa.env.prank(attacker), boa.reverts("arbiter: no loan in flight"):
        world.executors["balancer"].receiveFlashLoan([usdc.address], [10**6], [0], p)
    for name in ("syncswap", "dss"):
        with boa.env.prank(attacker), boa.reverts("arbiter: no loan in flight"):
            world.executors[name].onFlashLoan(world.executors[name].address, usdc.address, 10**6, 0, p)


def test_callback_from_another_address_during_a_loan_reverts(world):
    # A pool on the path is an attacker contract that calls the lender callback mid-loan.
    usdc, ex = world.tokens["USDC"], world.executors["aave"]
    evil = load(DOUBLES, "ReentrantToken")  # any contract address that is not the lender
    with boa.env.prank(evil.address), boa.reverts("arbiter: no loan in flight"):
        ex.executeOperation(usdc.address, 1, 0, ex.address, params(two_hop_v2(world, "USDC")))


@pytest.mark.parametrize("lender", ["aave", "syncswap"])
def test_foreign_initiator_reverts(world, lender):
    usdc, ex, pool = world.tokens["USDC"], world.executors[lender], world.lenders[lender]
    pool.set_initiator_override(boa.env.generate_address())
    with boa.reverts("arbiter: loan not initiated by this contract"):
        ex.execute(usdc.address, 10_000 * E6, two_hop_v2(world, "USDC"), 0, FAR)


@pytest.mark.parametrize("lender", ["aave", "balancer", "syncswap", "dss"])
def test_loans_started_by_someone_else_revert(world, lender):
    """A stranger borrows with our executor as the receiver: no loan of ours is in flight."""
    ex, lend = world.executors[lender], world.lenders[lender]
    sym = "DAI" if lender == "dss" else "USDC"
    token = world.tokens[sym]
    p = params(two_hop_v2(world, sym))
    with boa.env.prank(boa.env.generate_address()), boa.reverts("arbiter: no loan in flight"):
        if lender == "aave":
            lend.flashLoanSimple(ex.address, token.address, 10**6, p, 0)
        elif lender == "balancer":
            lend.flashLoan(ex.address, [token.address], [10**6], p)
        else:
            lend.flashLoan(ex.address, token.address, 10**6, p)


def test_v3_swap_callback_only_from_the_pool_being_swapped(world):
    ex = world.executors["aave"]
    with boa.reverts("arbiter: unexpected swap callback"):
        ex.uniswapV3SwapCallback(10**6, -(10**6), b"")
    pool = world.v3_pool(500, "USDC", "WETH")
    with boa.env.prank(pool.address), boa.reverts("arbiter: unexpected swap callback"):
        ex.uniswapV3SwapCallback(10**6, -(10**6), b"")  # the real pool, but not during our swap


def test_execute_only_by_owner_or_authorised_executors(world):
    ex, usdc = world.executors["balancer"], world.tokens["USDC"]
    bot = boa.env.generate_address()
    with boa.env.prank(bot), boa.reverts("arbiter: not authorised"):
        ex.execute(usdc.address, 10_000 * E6, two_hop_v2(world, "USDC"), 0, FAR)
    with boa.env.prank(bot), boa.reverts("arbiter: not owner"):
        ex.set_executor(bot, True)
    ex.set_executor(bot, True)
    with boa.env.prank(bot):
        assert ex.execute(usdc.address, 10_000 * E6, two_hop_v2(world, "USDC"), 0, FAR) > 0
    ex.set_executor(bot, False)
    with boa.env.prank(bot), boa.reverts("arbiter: not authorised"):
        ex.execute(usdc.address, 10_000 * E6, two_hop_v2(world, "USDC"), 0, FAR)


def test_reentrancy_into_execute_reverts(world):
    ex = world.executors["direct"]
    evil = load(DOUBLES, "ReentrantToken")
    weth = world.tokens["WETH"]
    # A V2 pair between the hostile token and WETH; the hostile token re-enters on transfer.
    fac = world.v2_factories[0]
    fac.createPair(evil.address, weth.address)
    from onchain import v2_pair_at
    pair = v2_pair_at(fac.getPair(evil.address, weth.address))
    evil.mint(pair.address, 10**24)
    weth.mint(pair.address, 10**24)
    pair.mint(world.owner)
    ex.set_executor(evil.address, True)  # so that only the lock, not authorisation, can stop it
    evil.mint(ex.address, 10**20)
    evil.arm(ex.address)
    steps = [step(pair, V2, evil, weth, 3000), step(pair, V2, weth, evil, 3000)]
    with boa.reverts():
        ex.execute(evil.address, 10**18, steps, 0, FAR)
    assert evil.armed()  # rolled back: the re-entrant call reverted the whole transaction


@pytest.mark.parametrize("lender", ["aave", "balancer", "syncswap", "direct"])
def test_unprofitable_path_reverts_and_changes_nothing(world, lender):
    ex, usdc = world.executors[lender], world.tokens["USDC"]
    if lender == "direct":
        usdc.mint(ex.address, 10_000 * E6)
    before = balances(world)
    with boa.reverts("arbiter: unprofitable"):
        # Asking for more profit than the gap offers.
        ex.execute(usdc.address, 10_000 * E6, two_hop_v2(world, "USDC"), 10**12, FAR)
    assert balances(world) == before
    before = balances(world)
    with boa.reverts("arbiter: unprofitable"):
        # The reverse direction loses money.
        rev = list(reversed([(p, k, o, i, f) for (p, k, i, o, f) in two_hop_v2(world, "USDC")]))
        ex.execute(usdc.address, 10_000 * E6, rev, 0, FAR)
    assert balances(world) == before


def test_path_must_return_to_the_asset_and_be_continuous(world):
    ex, usdc, weth, dai = world.executors["aave"], world.tokens["USDC"], world.tokens["WETH"], world.tokens["DAI"]
    one_way = [step(world.v2_pair(0, "USDC", "WETH"), V2, usdc, weth, 3000)]
    with boa.reverts("arbiter: path must return to the asset"):
        ex.execute(usdc.address, 10 * E6, one_way, 0, FAR)
    gap = [step(world.v2_pair(0, "USDC", "WETH"), V2, usdc, weth, 3000), step(world.v2_pair(1, "DAI", "USDC"), V2, dai, usdc, 3000)]
    with boa.reverts("arbiter: path is not continuous"):
        ex.execute(usdc.address, 10 * E6, gap, 0, FAR)
    with boa.reverts("arbiter: path must start with the asset"):
        ex.execute(weth.address, 10 * E6, two_hop_v2(world, "USDC"), 0, FAR)
    with boa.reverts("arbiter: empty path"):
        ex.execute(usdc.address, 10 * E6, [], 0, FAR)


def test_deadline_and_pause(world):
    ex, usdc = world.executors["syncswap"], world.tokens["USDC"]
    with boa.reverts("arbiter: deadline passed"):
        ex.execute(usdc.address, 10 * E6, two_hop_v2(world, "USDC"), 0, boa.env.evm.patch.timestamp - 1)
    ex.pause()
    with boa.reverts("arbiter: paused"):
        ex.execute(usdc.address, 10 * E6, two_hop_v2(world, "USDC"), 0, FAR)
    ex.unpause()
    assert ex.execute(usdc.address, 10_000 * E6, two_hop_v2(world, "USDC"), 0, FAR) > 0


def test_two_step_ownership_and_withdraw(world):
    ex, usdc = world.executors["aave"], world.tokens["USDC"]
    usdc.mint(ex.address, 123)
    new_owner, stranger = boa.env.generate_address(), boa.env.generate_address()
    with boa.env.prank(stranger), boa.reverts("arbiter: not owner"):
        ex.withdraw(usdc.address, 123, stranger)
    ex.transfer_ownership(new_owner)
    assert ex.owner() == world.owner  # not yet
    with boa.env.prank(stranger), boa.reverts("arbiter: not pending owner"):
        ex.accept_ownership()
    with boa.env.prank(new_owner):
        ex.accept_ownership()
        ex.withdraw(usdc.address, 123, new_owner)
    assert ex.owner() == new_owner and usdc.balanceOf(new_owner) == 123
    with boa.reverts("arbiter: not owner"):
        ex.pause()  # the old owner lost its rights
