"""Writes the AMM oracle vectors under Tests/Fixtures/amm from the real Uniswap V2 and V3
bytecode on titanoboa (see amm_oracle.py). `--seed` makes them reproducible."""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import amm_oracle  # noqa: E402

DEFAULT_SEED = 20261201
OUT = os.path.join(amm_oracle.ROOT, "Tests", "Fixtures", "amm")


def generate(seed):
    return {
        "uniswapV2.json": amm_oracle.v2_vectors(seed, 600),
        "uniswapV3.json": amm_oracle.v3_vectors(seed, 80, 8),
    }


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--out", default=OUT)
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    for name, vectors in generate(args.seed).items():
        doc = {"generator": "python/oracle/gen_amm_vectors.py", "seed": args.seed, "count": len(vectors), "vectors": vectors}
        with open(os.path.join(args.out, name), "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=None, separators=(",", ":"))
            f.write("\n")
        errors = sum(1 for v in vectors if "error" in v["expect"])
        print(f"{name}: {len(vectors)} vectors ({errors} the contract rejects)")


if __name__ == "__main__":
    main(sys.argv[1:])
