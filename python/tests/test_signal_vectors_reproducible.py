"""The committed momentum vectors are what the seeded generator writes from pandas."""
import json
import os

import amm_oracle
import gen_signal_vectors

PATH = os.path.join(amm_oracle.ROOT, "Tests", "Fixtures", "signals", "momentum.json")


def test_signal_vectors_regenerate_identically():
    with open(PATH) as f:
        doc = json.load(f)
    assert doc["seed"] == gen_signal_vectors.DEFAULT_SEED and doc["count"] == len(doc["vectors"])
    assert json.loads(json.dumps(gen_signal_vectors.vectors(doc["seed"], doc["count"]))) == doc["vectors"]


def test_signal_vectors_have_jumps_and_quiet_stretches():
    with open(PATH) as f:
        vectors = json.load(f)["vectors"]
    steps = [b / a for v in vectors for a, b in zip(v["prices"], v["prices"][1:])]
    assert sum(1 for s in steps if abs(s - 1) > 0.01) > 20
    assert sum(1 for s in steps if s == 1) > 50
