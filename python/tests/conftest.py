import os
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "python", "oracle"))


@pytest.fixture(scope="session")
def arbiter():
    """Runs the built `arbiter` binary (ARBITER_BIN, else .build/debug/arbiter)."""
    path = os.environ.get("ARBITER_BIN", os.path.join(ROOT, ".build", "debug", "arbiter"))
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} not found: run `swift build` first (scripts/test does)")

    def run(*args, stdin=None, key=None, check=True, env_extra=None):
        env = {k: v for k, v in os.environ.items() if k != "ARBITER_PRIVATE_KEY"}
        if key is not None:
            env["ARBITER_PRIVATE_KEY"] = key
        env.update(env_extra or {})
        p = subprocess.run([path, *args], input=stdin, capture_output=True, text=True, env=env)
        if check and p.returncode != 0:
            raise AssertionError(f"arbiter {' '.join(args)} exited {p.returncode}: {p.stderr}")
        return p

    return run
