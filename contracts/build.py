"""Compiles contracts/src and contracts/mocks to contracts/artifacts (see contracts/build)."""
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.abspath(__file__))
VYPER = os.path.join(os.path.dirname(sys.executable), "vyper")
# Modules (imported, never deployed on their own).
MODULES = {"flash_arb.vy", "token_ops.vy"}


def sources():
    for folder in ("src", "mocks"):
        for name in sorted(os.listdir(os.path.join(ROOT, folder))):
            if name.endswith(".vy") and name not in MODULES:
                yield os.path.join(ROOT, folder, name)


def source_hash(path: str) -> str:
    """sha256 over the contract and, recursively, every module it imports."""
    seen, order = set(), []

    def visit(p):
        if p in seen:
            return
        seen.add(p)
        text = open(p).read()
        order.append((os.path.relpath(p, ROOT), text))
        for module in re.findall(r"^import (\w+)", text, re.M):
            candidate = os.path.join(os.path.dirname(p), module + ".vy")
            if os.path.exists(candidate):
                visit(candidate)

    visit(path)
    h = hashlib.sha256()
    for rel, text in sorted(order):
        h.update(rel.encode() + b"\0" + text.encode() + b"\0")
    return "0x" + h.hexdigest()


def compile_one(path: str) -> dict:
    out = subprocess.run(
        [VYPER, "-f", "abi,bytecode,bytecode_runtime,method_identifiers", path],
        capture_output=True, text=True, cwd=os.path.dirname(path))
    if out.returncode != 0:
        sys.exit(f"vyper failed on {path}:\n{out.stderr}")
    abi, bytecode, runtime, ids = out.stdout.strip().split("\n")
    version = subprocess.run([VYPER, "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "contractName": os.path.basename(path)[:-3],
        "source": os.path.relpath(path, os.path.dirname(ROOT)),
        "compiler": "vyper " + version,
        "sourceHash": source_hash(path),
        "abi": json.loads(abi),
        # vyper prints selectors as integers in hex (0x74b2e43); store them as 4 bytes.
        "methodIdentifiers": {sig: "0x%08x" % int(sel, 16) for sig, sel in json.loads(ids.replace("'", '"')).items()},
        "bytecode": bytecode,
        "deployedBytecode": runtime,
    }


def write_all(folder: str):
    os.makedirs(folder, exist_ok=True)
    names = []
    for path in sources():
        art = compile_one(path)
        names.append(art["contractName"] + ".json")
        with open(os.path.join(folder, names[-1]), "w") as f:
            json.dump(art, f, indent=1, sort_keys=True)
            f.write("\n")
    return names


def main(argv):
    target = os.path.join(ROOT, "artifacts")
    if argv == ["--check"]:
        with tempfile.TemporaryDirectory() as tmp:
            names = write_all(tmp)
            stale = [n for n in names if not os.path.exists(os.path.join(target, n))
                     or open(os.path.join(tmp, n)).read() != open(os.path.join(target, n)).read()]
            extra = sorted(set(n for n in os.listdir(target) if n.endswith(".json")) - set(names)) if os.path.isdir(target) else []
        if stale or extra:
            sys.exit("stale contract artifacts (run contracts/build): " + ", ".join(stale + extra))
        print(f"{len(names)} artifacts up to date")
        return
    if argv:
        sys.exit("usage: contracts/build [--check]")
    names = write_all(target)
    print(f"wrote {len(names)} artifacts to contracts/artifacts")


if __name__ == "__main__":
    main(sys.argv[1:])
