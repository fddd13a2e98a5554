"""`arbiter chains` and `arbiter config validate`, as a user runs them."""
import json

from eth_utils import is_checksum_address

IDS = {"ethereum": 1, "bsc": 56, "polygon": 137, "avalanche": 43114, "fantom": 250, "arbitrum": 42161,
       "optimism": 10, "base": 8453, "zksync": 324, "linea": 59144, "blast": 81457, "scroll": 534352,
       "mantle": 5000, "mode": 34443, "solana": None}
PARTITIONS = {"P1": {"bsc", "polygon", "avalanche", "fantom"},
              "P2": {"arbitrum", "optimism", "base", "blast", "scroll", "mantle", "mode"},
              "P3": {"ethereum", "zksync", "linea"}, "P4": {"solana"}}


def test_chains_json_lists_fifteen_chains(arbiter):
    chains = json.loads(arbiter("chains", "--json").stdout)
    assert {c["name"]: c["id"] for c in chains} == IDS
    for c in chains:
        assert c["name"] in PARTITIONS[c["partition"]]
        assert c["mev"] and c["dexes"] > 0 and c["tokens"] > 0


def test_chains_blast_detail(arbiter):
    text = arbiter("chains", "blast").stdout
    assert "partition P2" in text and "MEV sequencer" in text
    assert "0x4300000000000000000000000000000000000004" in text
    assert "thruster_v3" in text and "factory 0x71b08f13B3c3aF35aAdEb3949AFEb1ded1016127" in text
    assert "Flash loans:\n  none — " in text
    detail = json.loads(arbiter("chains", "blast", "--json").stdout)
    assert detail["partition"] == "P2" and detail["mev"] == "sequencer" and detail["execution"] is True
    assert detail["flashLoans"]["available"] is False and detail["flashLoans"]["note"]
    weth = next(t for t in detail["tokenList"] if t["symbol"] == "WETH")
    assert weth["address"] == "0x4300000000000000000000000000000000000004"
    for d in detail["dexList"]:
        for key in ("factory", "router", "poolDeployer", "quoter"):
            assert d[key] is None or is_checksum_address(d[key])
    assert detail["bridges"], "blast must be reachable by a bridge route"


def test_config_validate_names_a_mistyped_checksum(arbiter, tmp_path):
    good = tmp_path / "good.toml"
    good.write_text('[chains.fantom]\nenabled = false\n')
    p = arbiter("config", "validate", "--config", str(good), check=False)
    assert p.returncode == 0 and p.stdout == "" and p.stderr == ""
    bad = tmp_path / "arbiter.toml"
    bad.write_text('[[add_token]]\nchain = "base"\nsymbol = "DEGEN"\n'
                   'address = "0x4ed4E862860beD51a9570b96d89aF5E1B0EfefeD"\ndecimals = 18\n')
    p = arbiter("config", "validate", "--config", str(bad), check=False)
    assert p.returncode == 1
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{bad}: add_token[0].address: ") and "EIP-55" in lines[0]


def test_unknown_chain_is_an_error(arbiter):
    p = arbiter("chains", "atlantis", check=False)
    assert p.returncode == 1 and "unknown chain" in p.stderr
