"""The committed AMM vectors are what the seeded generator writes: all of V2, and the first ten V3
pools (the generator draws pool by pool, so a prefix regenerates on its own)."""
import json
import os

import amm_oracle
import gen_amm_vectors

FIXTURES = os.path.join(amm_oracle.ROOT, "Tests", "Fixtures", "amm")


def committed(name):
    with open(os.path.join(FIXTURES, name)) as f:
        doc = json.load(f)
    assert doc["seed"] == gen_amm_vectors.DEFAULT_SEED and doc["count"] == len(doc["vectors"])
    return doc["vectors"]


def test_v2_vectors_regenerate_identically():
    old = committed("uniswapV2.json")
    assert amm_oracle.v2_vectors(gen_amm_vectors.DEFAULT_SEED, len(old)) == old


def test_v3_vectors_regenerate_identically():
    old = committed("uniswapV3.json")
    assert amm_oracle.v3_vectors(gen_amm_vectors.DEFAULT_SEED, 10, 8) == old[:80]
