"""The committed oracle vectors are exactly what the seeded generator writes."""
import filecmp
import os

import gen_vectors as gv

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def test_generator_is_deterministic_and_matches_committed_fixtures(tmp_path):
    committed = os.path.join(ROOT, "Tests", "Fixtures", "evm")
    total = gv.write(gv.generate(gv.DEFAULT_SEED), str(tmp_path), gv.DEFAULT_SEED)
    assert total >= 2000
    names = sorted(os.listdir(tmp_path))
    assert names == sorted(os.listdir(committed))
    match, mismatch, errors = filecmp.cmpfiles(committed, str(tmp_path), names, shallow=False)
    assert mismatch == [] and errors == [], f"regenerate with python/oracle/gen_vectors.py: {mismatch + errors}"
