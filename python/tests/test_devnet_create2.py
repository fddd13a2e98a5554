"""`arbiter util create2` against the real Uniswap V2 (SushiSwap build) and V3 factories on py-evm."""
import json

import boa
from eth_abi import encode
from eth_utils import keccak

from evm_artifacts import creation_code, deploy


def sorted_pair(a, b):
    return sorted([str(a.address), str(b.address)], key=lambda s: int(s, 16))


def test_v2_pair_address_matches_the_factory(arbiter):
    factory = deploy("sushi/UniswapV2Factory", boa.env.generate_address())
    init_hash = keccak(creation_code("sushi/UniswapV2Pair"))
    for i in range(3):
        a = deploy("sushi/ERC20Mock", f"A{i}", f"A{i}", 10**24)
        b = deploy("sushi/ERC20Mock", f"B{i}", f"B{i}", 10**24)
        factory.createPair(a.address, b.address)
        t0, t1 = sorted_pair(a, b)
        salt = keccak(bytes.fromhex(t0[2:]) + bytes.fromhex(t1[2:]))
        derived = arbiter("util", "create2", str(factory.address), "0x" + salt.hex(), "0x" + init_hash.hex()).stdout.strip()
        assert derived == factory.getPair(a.address, b.address)


def test_v3_pool_address_matches_the_factory(arbiter):
    factory = deploy("uniswap_v3/UniswapV3Factory")
    init_hash = keccak(creation_code("uniswap_v3/UniswapV3Pool"))
    a = deploy("sushi/ERC20Mock", "A", "A", 10**24)
    b = deploy("sushi/ERC20Mock", "B", "B", 10**24)
    t0, t1 = sorted_pair(a, b)
    for fee in (500, 3000, 10000):
        factory.createPool(a.address, b.address, fee)
        salt = keccak(encode(["address", "address", "uint24"], [t0, t1, fee]))
        derived = arbiter("util", "create2", str(factory.address), "0x" + salt.hex(), "0x" + init_hash.hex()).stdout.strip()
        assert derived == factory.getPool(a.address, b.address, fee)


def test_registry_v3_init_code_hash_is_the_real_pool_bytecode(arbiter):
    """The registry's Uniswap V3 init-code hash is keccak of the real UniswapV3Pool creation code."""
    real = "0x" + keccak(creation_code("uniswap_v3/UniswapV3Pool")).hex()
    for chain in ("ethereum", "arbitrum", "optimism", "polygon", "base", "blast"):
        dexes = json.loads(arbiter("chains", chain, "--json").stdout)["dexList"]
        uni = next(d for d in dexes if d["name"] == "uniswap_v3")
        assert uni["initCodeHash"] == real, chain
