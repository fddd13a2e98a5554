"""Fixtures: a lab devnet for the session, a bare devnet per test."""
import pytest

from tools.devnet.testing import Devnet


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    d = Devnet(1, True, str(tmp_path_factory.mktemp("lab")))
    yield d
    d.stop()


@pytest.fixture
def fresh(tmp_path):
    """A devnet without the lab, for tests that change chain state heavily."""
    d = Devnet(31337, False, str(tmp_path))
    yield d
    d.stop()
