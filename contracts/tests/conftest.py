"""Fixtures for the executor tests; the world and helpers live in onchain.py (a module name no
other test folder uses, so the folders can run in one pytest session)."""
import boa
import pytest

from onchain import build_world


@pytest.fixture(scope="session")
def world_session():
    return build_world()


@pytest.fixture
def world(world_session):
    with boa.env.anchor():
        yield world_session
