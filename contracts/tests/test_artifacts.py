"""The committed artifacts are what the pinned compiler makes of the current sources."""
import json
import os
import subprocess

from onchain import ROOT


def test_artifacts_are_up_to_date():
    p = subprocess.run([os.path.join(ROOT, "contracts", "build"), "--check"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr + p.stdout


def test_artifact_bytecode_is_what_titanoboa_compiles():
    import boa
    art = json.load(open(os.path.join(ROOT, "contracts", "artifacts", "DirectArbitrage.json")))
    deployer = boa.load_partial(os.path.join(ROOT, "contracts", "src", "DirectArbitrage.vy"))
    assert "0x" + deployer.compiler_data.bytecode.hex() == art["bytecode"]
    assert art["compiler"].startswith("vyper 0.4.3")
