"""Real third-party contract bytecode (from web3-ethereum-defi's JSON artifacts) on titanoboa's py-evm."""
import json
import os

import boa
from boa.contracts.abi.abi_contract import ABIContractFactory
from eth_abi import encode

import eth_defi

ABI_DIR = os.path.join(os.path.dirname(eth_defi.__file__), "abi")


def artifact(path: str) -> dict:
    """`sushi/UniswapV2Factory` → the parsed Hardhat artifact."""
    with open(os.path.join(ABI_DIR, path + ".json")) as f:
        return json.load(f)


def creation_code(path: str) -> bytes:
    code = artifact(path)["bytecode"]
    code = code["object"] if isinstance(code, dict) else code
    return bytes.fromhex(code.removeprefix("0x"))


def deploy(path: str, *args):
    """Deploys the artifact's creation code with ABI-encoded constructor arguments."""
    a = artifact(path)
    ctor = next((x for x in a["abi"] if x["type"] == "constructor"), None)
    types = [i["type"] for i in ctor["inputs"]] if ctor else []
    address, _ = boa.env.deploy_code(bytecode=creation_code(path) + (encode(types, list(args)) if types else b""))
    return ABIContractFactory.from_abi_dict(a["abi"], name=path.split("/")[-1]).at(address)
