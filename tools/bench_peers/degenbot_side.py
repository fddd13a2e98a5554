"""degenbot 0.3.0's pools and cycles built from the fixture without a node: the objects its own
calculations read (reserves, V3 ticks and bitmap, tokens, fees) are set directly, since its
constructors fetch them over web3."""
from fractions import Fraction
from threading import Lock

from degenbot.arbitrage.uniswap_lp_cycle import UniswapLpCycle
from degenbot.erc20_token import Erc20Token
from degenbot.uniswap.types import UniswapV2PoolState, UniswapV3BitmapAtWord, UniswapV3LiquidityAtTick, UniswapV3PoolState
from degenbot.uniswap.v2_liquidity_pool import UnregisteredLiquidityPool
from degenbot.uniswap.v3_liquidity_pool import UniswapV3Pool
from eth_utils import to_checksum_address


class Tokens:
    def __init__(self):
        self.by_address = {}

    def __getitem__(self, address):
        token = self.by_address.get(address)
        if token is None:
            token = Erc20Token.__new__(Erc20Token)
            token.address = to_checksum_address(address)
            token.name = token.symbol = address[-4:]
            token.decimals = 18
            self.by_address[address] = token
        return token


def pool(spec, tokens):
    token0, token1 = tokens[spec["token0"]], tokens[spec["token1"]]
    if spec["kind"] == "v2":
        p = UnregisteredLiquidityPool(address=spec["address"], tokens=[token0, token1], fee=Fraction(spec["feePips"], 1_000_000))
        p._state = UniswapV2PoolState(pool=p.address, reserves_token0=int(spec["reserve0"]), reserves_token1=int(spec["reserve1"]))
        p.name = f"V2 {spec['address'][-4:]}"
        return p
    p = UniswapV3Pool.__new__(UniswapV3Pool)
    p.address = to_checksum_address(spec["address"])
    p.token0, p.token1 = token0, token1
    p.fee = spec["feePips"]
    p.tick_spacing = spec["tickSpacing"]
    p.sparse_liquidity_map = False
    p.name = f"V3 {spec['address'][-4:]}"
    p._state_lock = Lock()
    p._subscribers = set()
    p._update_block = 1
    tick_data, bitmap = {}, {}
    for index, net in spec["ticks"]:
        net = int(net)
        tick_data[index] = UniswapV3LiquidityAtTick(liquidity_net=net, liquidity_gross=abs(net))
        compressed = index // p.tick_spacing
        word, bit = compressed >> 8, compressed % 256
        bitmap[word] = bitmap.get(word, 0) | (1 << bit)
    p._state = UniswapV3PoolState(pool=p.address, liquidity=int(spec["liquidity"]), sqrt_price_x96=int(spec["sqrtPriceX96"]),
                                  tick=spec["tick"], tick_bitmap={w: UniswapV3BitmapAtWord(bitmap=b) for w, b in bitmap.items()},
                                  tick_data=tick_data)
    return p


def quote_case(spec, tokens):
    """(pool, input token, amount) for a quote case."""
    p = pool(spec["pool"], tokens)
    token_in = p.token0 if spec["zeroForOne"] else p.token1
    return p, token_in, int(spec["amountIn"])


def cycle(spec, tokens, n):
    pools = [pool(h["pool"], tokens) for h in spec["hops"]]
    c = UniswapLpCycle(input_token=tokens[spec["inputToken"]], swap_pools=pools, id=f"cycle-{n}", max_input=int(spec["maxIn"]))
    # The fixture's directions are what degenbot derived from the input token.
    assert [v.zero_for_one for v in c._swap_vectors] == [h["zeroForOne"] for h in spec["hops"]], f"cycle {n}: directions differ"
    return c


def cycle_output(c, amount):
    """The cycle's output for `amount` in, by degenbot's exact pool math (None when a hop fails)."""
    out = amount
    for p, v in zip(c.swap_pools, c._swap_vectors):
        try:
            out = p.calculate_tokens_out_from_tokens_in(token_in=v.token_in, token_in_quantity=out)
        except Exception:
            return None
    return out
