"""eth-tester values ⇄ JSON-RPC shapes (camelCase keys, 0x quantities)."""
import re

from eth_utils import to_checksum_address

RENAME = {
    "coinbase": "miner", "data": "input", "sha3_uncles": "sha3Uncles", "logs_bloom": "logsBloom",
    "gas": "gas", "from": "from", "to": "to",
}
HASHLIKE = {"hash", "parentHash", "blockHash", "transactionHash", "stateRoot", "receiptsRoot", "transactionsRoot",
            "sha3Uncles", "mixHash", "nonce", "withdrawalsRoot", "parentBeaconBlockRoot", "requestsHash"}


def camel(key: str) -> str:
    if key in RENAME:
        return RENAME[key]
    head, *rest = key.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def quantity(v) -> str:
    return hex(int(v))


def data(v) -> str:
    if isinstance(v, (bytes, bytearray)):
        return "0x" + bytes(v).hex()
    return v if isinstance(v, str) and v.startswith("0x") else "0x" + str(v)


def outbound(obj, key=None):
    """Recursively converts an eth-tester dict into JSON-RPC form."""
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            ck = camel(k)
            if ck == "logsBloom":
                out[ck] = "0x" + int(v).to_bytes(256, "big").hex() if isinstance(v, int) else data(v)
            elif ck == "nonce" and isinstance(v, (bytes, str)) and key == "block":
                out[ck] = data(v)
            else:
                out[ck] = outbound(v, ck)
        return out
    if isinstance(obj, (list, tuple)):
        return [outbound(x, key) for x in obj]
    if isinstance(obj, bool):
        return obj
    if isinstance(obj, int):
        return hex(obj)
    if isinstance(obj, (bytes, bytearray)):
        return "0x" + bytes(obj).hex()
    return obj


def block(b: dict, full: bool, txs=None) -> dict:
    out = outbound({k: v for k, v in b.items() if k != "transactions"}, "block")
    out["transactions"] = [transaction(t) for t in txs] if full and txs is not None else list(b["transactions"])
    if "miner" in out and out["miner"]:
        out["miner"] = out["miner"].lower()
    return out


def transaction(t: dict) -> dict:
    out = outbound(t)
    if "input" not in out and "data" in t:
        out["input"] = data(t["data"])
    return out


def receipt(r: dict) -> dict:
    out = outbound(r)
    out["logs"] = [log(l) for l in r.get("logs", [])]
    if out.get("contractAddress") in ("0x", None, ""):
        out["contractAddress"] = None
    out.setdefault("type", "0x2")
    return out


def log(l: dict, removed=False) -> dict:
    return {
        "address": l["address"].lower() if isinstance(l["address"], str) else data(l["address"]),
        "topics": [data(t) for t in l["topics"]],
        "data": data(l["data"]),
        "blockNumber": quantity(l["block_number"]),
        "blockHash": data(l["block_hash"]),
        "transactionHash": data(l["transaction_hash"]),
        "transactionIndex": quantity(l["transaction_index"]),
        "logIndex": quantity(l["log_index"]),
        "removed": removed,
    }


HEX_RE = re.compile(r"^0x[0-9a-fA-F]*$")


def inbound_quantity(v, name="value") -> int:
    if isinstance(v, int):
        return v
    if isinstance(v, str) and HEX_RE.match(v) and len(v) > 2:
        return int(v, 16)
    raise ValueError(f"{name}: expected a 0x quantity")


def inbound_tx(tx: dict) -> dict:
    """A JSON-RPC call object → eth-tester's transaction dict."""
    out = {}
    for k, v in tx.items():
        if v is None:
            continue
        if k == "from":
            out["from"] = to_checksum_address(v)
        elif k == "to":
            out["to"] = to_checksum_address(v)
        elif k in ("data", "input"):
            out["data"] = v
        elif k in ("gas", "gasPrice", "value", "maxFeePerGas", "maxPriorityFeePerGas", "nonce"):
            snake = {"gasPrice": "gas_price", "maxFeePerGas": "max_fee_per_gas", "maxPriorityFeePerGas": "max_priority_fee_per_gas"}.get(k, k)
            out[snake] = inbound_quantity(v, k)
    return out


def pending_transaction(raw: str, h: str, sender: str) -> dict:
    """A signed transaction not in a block yet, as geth shows one: its fields, no block fields."""
    from eth_account.typed_transactions import TypedTransaction
    from hexbytes import HexBytes
    import rlp
    b = bytes.fromhex(raw.removeprefix("0x"))
    if b[0] in (1, 2):
        t = TypedTransaction.from_bytes(HexBytes(b)).as_dict()
        v = t["v"]
    else:
        f = rlp.decode(b)
        names = ["nonce", "gasPrice", "gas", "to", "value", "data", "v", "r", "s"]
        t = {n: (int.from_bytes(x, "big") if n not in ("to", "data") else x) for n, x in zip(names, f)}
        v = t["v"]
    out = {"hash": h, "from": sender, "nonce": hex(t["nonce"]), "gas": hex(t["gas"]), "value": hex(t["value"]),
           "input": "0x" + bytes(t["data"]).hex(), "to": ("0x" + bytes(t["to"]).hex()) if t["to"] else None,
           "v": hex(v), "r": hex(t["r"]), "s": hex(t["s"]), "type": hex(b[0] if b[0] in (1, 2) else 0),
           "blockHash": None, "blockNumber": None, "transactionIndex": None}
    if b[0] == 2:
        out.update({"maxFeePerGas": hex(t["maxFeePerGas"]), "maxPriorityFeePerGas": hex(t["maxPriorityFeePerGas"]),
                    "chainId": hex(t["chainId"]), "yParity": hex(v), "accessList": []})
    else:
        out["gasPrice"] = hex(t["gasPrice"])
    return out
