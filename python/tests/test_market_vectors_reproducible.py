"""The committed market vectors (real V3 pool logs and states) are what the seeded generator writes,
and they exercise what market state must handle: mints and burns that share ticks, ticks that
become uninitialised again, swaps that cross ticks."""
import json
import os

import amm_oracle
import gen_market_vectors

PATH = os.path.join(amm_oracle.ROOT, "Tests", "Fixtures", "market", "v3-events.json")


def test_market_vectors_regenerate_identically():
    with open(PATH) as f:
        doc = json.load(f)
    assert doc["seed"] == gen_market_vectors.DEFAULT_SEED and doc["count"] == len(doc["vectors"])
    assert gen_market_vectors.scenarios(gen_market_vectors.DEFAULT_SEED, 12, 40) == doc["vectors"]


def test_market_vectors_cover_the_hard_cases():
    with open(PATH) as f:
        vectors = json.load(f)["vectors"]
    topics = [log["topics"][0] for v in vectors for log in v["logs"]]
    assert topics.count("0x%064x" % 0x7a53080ba414158be7ec69b987b5fb7d07dee101fe85488f0853ae16239d0bde) > 100  # Mint
    assert topics.count("0x%064x" % 0x0c396cd989a39f4459b5fa1aed6a9a8dcdbc45908acfd67e028cd568da98982c) > 50  # Burn
    assert topics.count("0x%064x" % 0xc42079f94a6350d7e6235f29174924f928cc2ac818eb64fed8004e115fbcca67) > 50  # Swap
    uninitialised = sum(1 for v in vectors for t in v["final"]["ticks"] if not t["initialized"])
    assert uninitialised > 10
    moved = sum(1 for v in vectors if v["final"]["tick"] != v["pool"]["tick"])
    assert moved > len(vectors) // 2
