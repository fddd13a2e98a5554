"""The seed tool and the harness agree on the ABI harness's type lists (the first input byte picks
one), and every fuzz target has a kept corpus whose ABI seeds decode, under eth_abi, as the types
the harness will read them as."""
import os
import re

import eth_abi

from tools.fuzz import seed

SOURCES = os.path.join(seed.ROOT, "Sources", "FuzzChecks")


def swift_abi_types():
    text = open(os.path.join(SOURCES, "FuzzTarget+EVM.swift")).read()
    body = text[text.index("static let abiTypes: [String] = ["):]
    body = body[:body.index("]\n")]
    return re.findall(r'"([^"]*)"', body)


def targets():
    text = open(os.path.join(SOURCES, "FuzzTarget.swift")).read()
    return [m.group(2) or m.group(1) for m in re.finditer(r'^    case (\w+)(?: = "([^"]+)")?$', text, re.M)]


def test_the_abi_type_lists_agree():
    assert swift_abi_types() == seed.ABI_TYPES


def test_every_target_has_a_corpus_and_the_abi_seeds_decode_as_their_types():
    names = targets()
    assert len(names) == 14 and "abi" in names and "recorded-inputs" in names
    for name in names:
        folder = os.path.join(seed.CORPUS, name)
        assert len(os.listdir(folder)) >= 3, name
    abi = os.path.join(seed.CORPUS, "abi")
    decoded = 0
    for f in os.listdir(abi):
        if not f.startswith("seed-"):
            continue
        data = open(os.path.join(abi, f), "rb").read()
        types = seed.split_types(seed.ABI_TYPES[data[0] % len(seed.ABI_TYPES)])
        eth_abi.decode(types, data[1:])
        decoded += 1
    assert decoded >= len(seed.ABI_TYPES)
