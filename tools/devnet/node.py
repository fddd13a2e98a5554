"""The chain behind the devnet's JSON-RPC: eth-tester on py-evm, mined only through `Node.mine`
so that every block passes through snapshots, bundles and subscription notifications."""
import os
import re
import time

import rlp
from eth_account import Account
from eth_tester import EthereumTester, PyEVMBackend
from eth_tester.exceptions import TransactionFailed, ValidationError
from eth_utils.exceptions import ValidationError as EVMValidationError
from eth.vm.spoof import SpoofTransaction
from eth_utils import keccak, to_checksum_address

from . import encode as enc
from .standin import RPCError




def _block_tag(tester, tag):
    if tag is None or tag == "latest":
        return "latest"
    if tag in ("earliest", "pending", "safe", "finalized"):
        return tag
    return enc.inbound_quantity(tag, "block")


class Node:
    # Chain time starts this many seconds in the past, and a block is one second after its parent
    # until the chain is that far behind the wall clock: a burst of blocks (the lab's deployment,
    # its market's history) stays in the past, so deadlines taken from the wall clock (ours, the
    # routers') hold on it. A block's transactions run with its timestamp (set before they run).
    LAG = 1800

    def __init__(self, chain_id: int = 1337):
        genesis = PyEVMBackend.generate_genesis_params(overrides={"timestamp": int(time.time()) - self.LAG})
        backend = PyEVMBackend(genesis_parameters=genesis)
        # The chain class is local to this backend: setting its id affects only this node.
        type(backend.chain).chain_id = chain_id
        self.chain_id = chain_id
        self.t = EthereumTester(backend=backend, auto_mine_transactions=False)
        self.automine = True
        self.accounts = self.t.get_accounts()
        # The unlocked accounts' keys, to sign what eth_sendTransaction asks of them.
        self.keys = {k.public_key.to_checksum_address().lower(): k.to_hex() for k in backend.account_keys}
        self.snapshots = {}          # block number → snapshot id, after the block was mined
        self.block_logs = {}         # block number → JSON-RPC logs emitted in it
        self.bundles = {}            # target block number → [(raw txs, reverting hashes)]
        self.listeners = []          # callables(kind, payload) for subscriptions
        self.pending_raw = []        # raw transactions in the block being built (re-applied if a bundle is rolled back)
        self.bundle_log = []         # every bundle received: target, tx hashes, signer, the block it landed in
        self.relay_signer = None     # the X-Flashbots-Signature address of the request being served
        self.drop_bundles = 0        # fault: this many next bundles are accepted but never built into a block
        self.min_tip = 0             # a transaction tipping less waits in the pool (devnet_setMinTip)
        self.txpool = {}             # (sender, nonce) → waiting transaction: raw, hash, fee caps
        self.raw_by_hash = {}        # hash → raw of every transaction sent (eth_getRawTransactionByHash)
        self._stamp()
        self._record(self.latest_number())

    # ------------------------------------------------------------------ mining

    def latest_number(self) -> int:
        return self.t.get_block_by_number("latest")["number"]

    def _stamp(self):
        """The block being built gets its parent's timestamp + 1, or the wall clock less LAG if later."""
        parent = self.t.get_block_by_number("latest")["timestamp"]
        chain = self.t.backend.chain
        chain.header = chain.header.copy(timestamp=max(parent + 1, int(time.time()) - self.LAG))

    def _record(self, number):
        self.snapshots[number] = self.t.take_snapshot()

    def _notify_block(self, number):
        b = self.t.get_block_by_number(number)
        head = enc.block(b, False)
        logs = []
        for h in b["transactions"]:
            r = self.t.get_transaction_receipt(h)
            logs += [enc.log(l) for l in r["logs"]]
        # eth-tester numbers logs within their transaction; nodes number them across the block.
        for i, l in enumerate(logs):
            l["logIndex"] = hex(i)
        self.block_logs[number] = logs
        for listener in list(self.listeners):
            listener("newHeads", head)
            for l in logs:
                listener("logs", l)

    def mine(self, count=1, coinbase=None):
        """Mines `count` blocks, landing any bundles that target them."""
        hashes = []
        for _ in range(count):
            self._admit_from_pool()
            target = self.latest_number() + 1
            # Bundles in the order received, each on top of those already in the block, as a
            # builder merges them: one that no longer lands there (a nonce taken, a revert) is left out.
            landed, built = [], False
            for raw_txs, reverting, entry in self.bundles.pop(target, []):
                built = self._try_bundles(target, landed + [(raw_txs, reverting)])
                if built:
                    landed.append((raw_txs, reverting))
                    entry["landed"] = target
            if landed and not built:  # the last one was left out: the block again with those that landed
                self._try_bundles(target, landed)
            if self.latest_number() < target:  # no bundle landed: mine the block as usual
                hashes.append(self.t.mine_block(coinbase=coinbase or "0x" + "00" * 20))
            else:
                hashes.append(self.t.get_block_by_number(target)["hash"])
            self.pending_raw = []
            self._stamp()
            self._record(target)
            self._notify_block(target)
        # Bundles whose target block has passed are dropped, as a builder would.
        for n in [n for n in self.bundles if n <= self.latest_number()]:
            del self.bundles[n]
        return hashes

    def _apply(self, raw: str) -> str:
        """Applies a raw transaction to the block being built, validated against its state, so
        that one sender's consecutive nonces can share a block (eth-tester's own queue cannot).
        py-evm's own validation errors come out as eth-tester's, in geth's words for a nonce."""
        try:
            h = self.t.backend.send_raw_transaction(bytes.fromhex(raw.removeprefix("0x")))
        except EVMValidationError as e:
            m = re.search(r"Invalid transaction nonce: Expected (\d+), but got (\d+)", str(e))
            if m:
                want, got = int(m.group(1)), int(m.group(2))
                raise ValidationError(f"nonce too {'low' if got < want else 'high'}: next nonce {want}, tx nonce {got}") from None
            raise ValidationError(str(e)) from None
        return "0x" + bytes(h).hex()

    def _try_bundles(self, target, bundles) -> bool:
        """Lands bundles at the top of block `target`, in order, as builders place the bundles they
        are paid for: the block's other transactions follow them (those the bundles invalidated are
        dropped). A reverting transaction not listed in its bundle's `reverting` fails them all
        (the caller leaves the last one out)."""
        start = self.snapshots[target - 1]
        self.t.revert_to_snapshot(start)
        self._stamp()  # a reverted block being built takes the wall clock's time; the chain runs LAG behind it
        try:
            checks = []
            for raw_txs, reverting in bundles:
                checks += [(self._apply(raw), reverting) for raw in raw_txs]
            self._reapply_pending()
            self.t.mine_block()
            for h, reverting in checks:
                if self.t.get_transaction_receipt(h)["status"] == 0 and h.lower() not in reverting:
                    raise TransactionFailed("bundle transaction reverted")
            return True
        except (TransactionFailed, ValidationError, ValueError):
            self.t.revert_to_snapshot(start)
            self._stamp()
            self._reapply_pending()
            return False

    def _reapply_pending(self):
        """The block's ordinary transactions again, after a rollback (those no longer valid are dropped)."""
        for raw in self.pending_raw:
            try:
                self._apply(raw)
            except (ValidationError, ValueError, TransactionFailed):
                pass

    def reorg(self, depth: int):
        """Replaces the last `depth` blocks with `depth + 1` empty ones; subscribers get the dropped
        blocks' logs again with `removed: true`, then the new heads."""
        latest = self.latest_number()
        if depth < 1 or depth > latest:
            raise RPCError(-32602, f"cannot reorganise {depth} blocks at height {latest}")
        fork = latest - depth
        self.t.revert_to_snapshot(self.snapshots[fork])
        for n in range(latest, fork, -1):
            for l in self.block_logs.pop(n, []):
                removed = dict(l, removed=True)
                for listener in list(self.listeners):
                    listener("logs", removed)
            self.snapshots.pop(n, None)
        # A different coinbase makes every replacement block differ from the one it replaces.
        self.mine(depth + 1, coinbase="0x" + os.urandom(20).hex())
        return hex(self.latest_number())

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _fee_fields(raw: str):
        """(sender, nonce, max fee, priority fee cap) of a signed transaction: legacy or EIP-1559."""
        b = bytes.fromhex(raw.removeprefix("0x"))
        sender = Account.recover_transaction(b).lower()
        if b[0] == 2:
            f = rlp.decode(b[1:])
            return sender, int.from_bytes(f[1], "big"), int.from_bytes(f[3], "big"), int.from_bytes(f[2], "big")
        if b[0] == 1:
            f = rlp.decode(b[1:])
            price = int.from_bytes(f[2], "big")
            return sender, int.from_bytes(f[1], "big"), price, price
        f = rlp.decode(b)
        price = int.from_bytes(f[1], "big")
        return sender, int.from_bytes(f[0], "big"), price, price

    def _tip(self, max_fee, tip_cap):
        base = self.t.get_block_by_number("pending")["base_fee_per_gas"]
        return min(tip_cap, max_fee - base)

    def _pool(self, raw: str):
        """A mempool as geth keeps one, when `min_tip` is set: a transaction tipping less than it
        waits; the same sender and nonce again replaces a waiting one only with both fee caps at
        least 10% higher ("replacement transaction underpriced" otherwise). Returns the hash if
        the transaction waits, None if it goes into the block being built."""
        if self.min_tip == 0 and not self.txpool:
            return None
        if self.min_tip == 0 and self._nonce(raw) not in {n for (_, n) in self.txpool}:
            return None  # nothing waits with its nonce: no replacement to judge (and no costly sender recovery)
        h = "0x" + keccak(hexstr=raw).hex()
        try:
            sender, nonce, max_fee, tip_cap = self._fee_fields(raw)
        except Exception as e:  # noqa: BLE001 - malformed bytes: the node's own validation reports them
            raise RPCError(-32000, f"invalid transaction: {e}") from None
        old = self.txpool.get((sender, nonce))
        if old is not None and (max_fee * 10 < old["max_fee"] * 11 or tip_cap * 10 < old["tip_cap"] * 11):
            raise RPCError(-32000, "replacement transaction underpriced")
        if self._tip(max_fee, tip_cap) < self.min_tip:
            if nonce < self.t.get_nonce(to_checksum_address(sender), "pending"):
                raise RPCError(-32000, "nonce too low")
            self.txpool[(sender, nonce)] = {"raw": raw, "hash": h, "max_fee": max_fee, "tip_cap": tip_cap}
            return h
        self.txpool.pop((sender, nonce), None)
        return None

    @staticmethod
    def _nonce(raw: str):
        """A signed transaction's nonce, read without recovering its sender (None if unreadable)."""
        try:
            b = bytes.fromhex(raw.removeprefix("0x"))
            f = rlp.decode(b[1:]) if b[0] in (1, 2) else rlp.decode(b)
            return int.from_bytes(f[1] if b[0] in (1, 2) else f[0], "big")
        except Exception:  # noqa: BLE001 - the full path reports malformed bytes
            return None

    def _admit_from_pool(self):
        """Waiting transactions that now tip enough (and whose hold is over) join the block being built, by sender and nonce."""
        target = self.latest_number() + 1
        for key in sorted(self.txpool):
            w = self.txpool[key]
            if self._tip(w["max_fee"], w["tip_cap"]) >= self.min_tip and w.get("until", 0) <= target:
                del self.txpool[key]
                try:
                    self._apply(w["raw"])
                    self.pending_raw.append(w["raw"])
                except (ValidationError, ValueError, TransactionFailed):
                    pass  # no longer valid (its nonce was taken): dropped, as a node drops it

    def hold(self, raw: str, blocks: int) -> str:
        """Puts a signed transaction in the pool, announced pending, for no block before the
        `blocks`-th from now (a transaction pending as long as a slower chain's block takes).
        Bundles may carry it sooner; the same sender and nonce at 10 % more replaces it."""
        try:
            sender, nonce, max_fee, tip_cap = self._fee_fields(raw)
        except Exception as e:  # noqa: BLE001
            raise RPCError(-32000, f"invalid transaction: {e}") from None
        if nonce < self.t.get_nonce(to_checksum_address(sender), "pending"):
            raise RPCError(-32000, "nonce too low")
        h = "0x" + keccak(hexstr=raw).hex()
        self.txpool[(sender, nonce)] = {"raw": raw, "hash": h, "max_fee": max_fee, "tip_cap": tip_cap, "until": self.latest_number() + blocks}
        self._announce(raw, h)
        return h

    def _send(self, raw: str) -> str:
        waiting = self._pool(raw)
        if waiting is not None:
            self._announce(raw, waiting)
            return waiting
        try:
            h = self._apply(raw)
            self.pending_raw.append(raw)
        except (ValidationError, ValueError) as e:
            raise RPCError(-32000, f"invalid transaction: {e}") from None
        except TransactionFailed as e:
            raise RPCError(3, f"execution reverted: {e}") from None
        self._announce(raw, h)
        if self.automine:
            self.mine()
        return h

    def _announce(self, raw: str, h: str):
        """A transaction entered the pool or the block being built: newPendingTransactions subscribers hear of it."""
        self.raw_by_hash[h.lower()] = raw
        # Only a subscriber of pending transactions needs the transaction (its sender costs an ecrecover).
        if not any(getattr(listener, "wants_pending", False) for listener in self.listeners):
            return
        try:
            tx = enc.pending_transaction(raw, h.lower(), Account.recover_transaction(bytes.fromhex(raw.removeprefix("0x"))).lower())
        except Exception:  # noqa: BLE001 - the node took it, so it decodes; never let a listener's view break a send
            return
        for listener in list(self.listeners):
            listener("newPendingTransactions", tx)

    def fund(self, address: str, wei: int):
        self._send(self._sign({"from": self.accounts[0], "to": to_checksum_address(address), "value": wei, "gas": 21000}))

    # ------------------------------------------------------------------ JSON-RPC

    def call(self, method: str, params: list):
        fn = getattr(self, "rpc_" + method, None)
        if fn is None:
            raise RPCError(-32601, f"the method {method} does not exist/is not available")
        try:
            return fn(*params)
        except RPCError:
            raise
        except TypeError as e:
            raise RPCError(-32602, f"invalid params for {method}: {e}") from None
        except (ValueError, ValidationError) as e:
            raise RPCError(-32602, f"invalid params for {method}: {e}") from None

    def rpc_web3_clientVersion(self):
        return "arbiter-devnet/0.1 (eth-tester, py-evm)"

    def rpc_eth_chainId(self):
        return hex(self.chain_id)

    def rpc_net_version(self):
        return str(self.chain_id)

    def rpc_eth_blockNumber(self):
        return hex(self.latest_number())

    def rpc_eth_gasPrice(self):
        return hex(self.t.get_block_by_number("pending")["base_fee_per_gas"] + 10**9)

    def rpc_eth_maxPriorityFeePerGas(self):
        return hex(10**9)

    def rpc_eth_feeHistory(self, count, newest="latest", percentiles=None):
        n = enc.inbound_quantity(count, "blockCount")
        h = enc.outbound(self.t.get_fee_history(n, _block_tag(self.t, newest), percentiles or []))
        # The spec includes the base fee of the block after the newest one.
        if len(h.get("baseFeePerGas", [])) == len(h.get("gasUsedRatio", [])):
            h["baseFeePerGas"].append(hex(self.t.get_block_by_number("pending")["base_fee_per_gas"]))
        return h

    def rpc_eth_getBlockByNumber(self, tag, full=False):
        try:
            b = self.t.get_block_by_number(_block_tag(self.t, tag))
        except Exception:
            return None
        txs = [self.t.get_transaction_by_hash(h) for h in b["transactions"]] if full else None
        return enc.block(b, full, txs)

    def rpc_eth_getBlockByHash(self, h, full=False):
        try:
            b = self.t.get_block_by_hash(h)
        except Exception:
            return None
        txs = [self.t.get_transaction_by_hash(x) for x in b["transactions"]] if full else None
        return enc.block(b, full, txs)

    def rpc_eth_getBalance(self, address, tag="latest"):
        return hex(self.t.get_balance(to_checksum_address(address), _block_tag(self.t, tag)))

    def rpc_eth_getCode(self, address, tag="latest"):
        return enc.data(self.t.get_code(to_checksum_address(address), _block_tag(self.t, tag)))

    def rpc_eth_getStorageAt(self, address, slot, tag="latest"):
        v = self.t.get_storage_at(to_checksum_address(address), hex(enc.inbound_quantity(slot, "slot")), _block_tag(self.t, tag))
        return "0x" + (v[2:] if isinstance(v, str) else bytes(v).hex()).rjust(64, "0")

    def rpc_eth_getTransactionCount(self, address, tag="latest"):
        n = self.t.get_nonce(to_checksum_address(address), _block_tag(self.t, tag))
        if tag == "pending":  # as geth counts: the sender's waiting transactions too
            while (address.lower(), n) in self.txpool:
                n += 1
        return hex(n)

    def _simulate(self, tx: dict, tag, gas=None):
        """Runs a call object against the state after block `tag` and reverts it. As in geth, a call
        without fee fields pays nothing: the sender needs no balance for gas (its balance seen by the
        code is unchanged). Returns py-evm's computation."""
        backend = self.t.backend
        out = enc.inbound_tx(tx)
        sender = out.pop("from", "0x" + "00" * 20)  # JSON-RPC makes `from` optional for calls
        block = _block_tag(self.t, tag)
        chain = backend.chain
        if block == "pending":
            vm = chain.get_vm()
        else:
            number = block if isinstance(block, int) else 0 if block == "earliest" else self.latest_number()
            if number > self.latest_number():
                raise RPCError(-32000, f"header not found: block {number} is beyond the head")
            vm = chain.get_vm(at_header=chain.get_canonical_block_header_by_number(number))
        free = not any(k in out for k in ("gas_price", "max_fee_per_gas", "max_priority_fee_per_gas"))
        base_fee = vm.get_header().base_fee_per_gas or 0
        if free:
            out["max_fee_per_gas"], out["max_priority_fee_per_gas"] = base_fee, 0
        out["gas"] = gas if gas is not None else out.get("gas", vm.get_header().gas_limit)
        out.setdefault("to", b"")
        out.setdefault("value", 0)
        out.setdefault("data", b"")
        state = vm.state
        canonical = bytes.fromhex(to_checksum_address(sender)[2:])
        out.setdefault("nonce", state.get_nonce(canonical))
        data = out["data"]
        to = bytes.fromhex(out["to"][2:]) if out["to"] else b""
        data = bytes.fromhex(data[2:]) if isinstance(data, str) else data
        if "gas_price" in out:
            unsigned = vm.create_unsigned_transaction(nonce=out["nonce"], gas_price=out["gas_price"], gas=out["gas"],
                                                      to=to, value=out["value"], data=data)
        else:
            unsigned = vm.get_transaction_builder().new_unsigned_dynamic_fee_transaction(
                chain_id=self.chain_id, nonce=out["nonce"], max_priority_fee_per_gas=out.get("max_priority_fee_per_gas", 0),
                max_fee_per_gas=out["max_fee_per_gas"], gas=out["gas"], to=to, value=out["value"], data=data, access_list=())
        spoof = SpoofTransaction(unsigned, from_=canonical)
        snapshot = state.snapshot()
        try:
            if free:
                state.set_balance(canonical, state.get_balance(canonical) + out["gas"] * base_fee)
            return state.apply_transaction(spoof)
        finally:
            state.revert(snapshot)

    def _succeeding(self, tx, tag):
        """The call's computation; a revert is JSON-RPC error 3 with the revert bytes, as geth does."""
        try:
            c = self._simulate(tx, tag)
        except EVMValidationError as e:
            raise RPCError(-32000, str(e)) from None
        if c.is_error:
            raise RPCError(3, "execution reverted", "0x" + c.output.hex()) from None
        return c

    def rpc_eth_call(self, tx, tag="latest"):
        return "0x" + self._succeeding(tx, tag).output.hex()

    def rpc_debug_traceCall(self, tx, tag="latest", config=None):
        """geth's `callTracer` (with `tracerConfig.withLog`) for a call on the state after `tag`: one
        frame; every log the call emits, sub-calls' included, is on it in emission order
        (position 0: the devnet does not trace sub-calls). A reverting call has `error` and no logs."""
        config = config if isinstance(config, dict) else {}
        if config.get("tracer") != "callTracer":
            raise RPCError(-32602, "only the callTracer is served")
        with_log = bool((config.get("tracerConfig") or {}).get("withLog"))
        c = self._simulate(tx, tag)
        frame = {"type": "CALL", "from": (tx.get("from") or "0x" + "00" * 20).lower(), "to": (tx.get("to") or "").lower(),
                 "input": tx.get("data") or tx.get("input") or "0x", "value": tx.get("value") or "0x0",
                 "gas": tx.get("gas") or "0x0", "gasUsed": hex(c.get_gas_used()), "output": "0x" + bytes(c.output).hex()}
        if c.is_error:
            frame["error"] = "execution reverted"
            return frame
        if with_log:
            frame["logs"] = [{"address": "0x" + bytes(a).hex(), "topics": ["0x" + t.to_bytes(32, "big").hex() for t in topics],
                              "data": "0x" + bytes(d).hex(), "position": "0x0"} for a, topics, d in c.get_log_entries()]
        return frame

    def rpc_eth_estimateGas(self, tx, tag="latest"):
        """The least gas limit at which the call succeeds, by bisection as geth does."""
        self._succeeding(tx, tag)
        hi = enc.inbound_quantity(tx["gas"], "gas") if tx.get("gas") else None
        hi = hi or self._simulate_gas_cap(tag)
        lo = 21_000 - 1
        while lo + 1 < hi:
            mid = (lo + hi) // 2
            try:
                ok = not self._simulate(tx, tag, gas=mid).is_error
            except EVMValidationError:  # below the intrinsic gas
                ok = False
            if ok:
                hi = mid
            else:
                lo = mid
        return hex(hi)

    def _simulate_gas_cap(self, tag):
        return self.t.get_block_by_number(_block_tag(self.t, tag))["gas_limit"]

    def rpc_eth_sendRawTransaction(self, raw):
        return self._send(raw)

    def rpc_eth_accounts(self):
        return [a.lower() for a in self.accounts]

    def rpc_eth_sendTransaction(self, tx):
        """Signs with one of the devnet's unlocked accounts (as Anvil and Hardhat do), then takes
        the raw transaction's path: eth-tester's own send_transaction rebuilds the block being
        built from its queue and silently drops raw transactions applied to it."""
        out = enc.inbound_tx(tx)
        if out.get("from") not in self.accounts:
            raise RPCError(-32000, "eth_sendTransaction needs `from` to be one of eth_accounts; sign others and use eth_sendRawTransaction")
        return self._send(self._sign(out))

    def _sign(self, out: dict) -> str:
        """An unlocked account's transaction (eth-tester dict) signed: next pending nonce unless
        given, 8M gas and 100 gwei / 1 gwei fee caps unless given."""
        sender = out["from"]
        tx = {"chainId": self.chain_id, "to": to_checksum_address(out["to"]) if out.get("to") else b"", "value": out.get("value", 0), "data": out.get("data", "0x"),
              "gas": out.get("gas", 8_000_000),
              "nonce": out["nonce"] if "nonce" in out else int(self.rpc_eth_getTransactionCount(sender, "pending"), 16)}
        if "gas_price" in out:
            tx["gasPrice"] = out["gas_price"]
        else:
            tx["type"] = 2
            tx["maxFeePerGas"] = out.get("max_fee_per_gas", 10**11)
            tx["maxPriorityFeePerGas"] = out.get("max_priority_fee_per_gas", 10**9)
        return "0x" + Account.sign_transaction(tx, self.keys[sender.lower()]).raw_transaction.hex()

    def rpc_eth_getTransactionByHash(self, h):
        try:
            return enc.transaction(self.t.get_transaction_by_hash(h))
        except Exception:
            pass
        # Waiting in the pool: known, not mined (geth's answer: no block fields).
        for (sender, nonce), w in self.txpool.items():
            if w["hash"] == h.lower():
                return {"hash": w["hash"], "from": sender, "nonce": hex(nonce), "maxFeePerGas": hex(w["max_fee"]),
                        "maxPriorityFeePerGas": hex(w["tip_cap"]), "blockHash": None, "blockNumber": None, "transactionIndex": None}
        return None

    def rpc_eth_getRawTransactionByHash(self, h):
        """The signed bytes of a transaction sent to this node (pending or mined), as geth answers; null if unknown."""
        if not isinstance(h, str):
            raise RPCError(-32602, "a transaction hash")
        return self.raw_by_hash.get(h.lower())

    def rpc_eth_getTransactionReceipt(self, h):
        try:
            r = self.t.get_transaction_receipt(h)
        except Exception:
            return None
        if r is None or r.get("block_number") is None:
            return None
        out = enc.receipt(r)
        mined = self.block_logs.get(r["block_number"])
        if mined is not None:  # block-wide log indices, as in eth_getLogs
            out["logs"] = [l for l in mined if l["transactionHash"] == out["transactionHash"]]
        return out

    def _log_range_end(self, tag, default):
        if tag is None:
            return default
        if tag in ("latest", "pending", "safe", "finalized"):
            return self.latest_number()
        if tag == "earliest":
            return 0
        return enc.inbound_quantity(tag, "block")

    def rpc_eth_getLogs(self, flt):
        if flt.get("blockHash"):
            if flt.get("fromBlock") is not None or flt.get("toBlock") is not None:
                raise RPCError(-32602, "blockHash cannot be combined with fromBlock/toBlock")
            try:
                n = self.t.get_block_by_hash(flt["blockHash"])["number"]
            except Exception:
                raise RPCError(-32000, f"unknown block {flt['blockHash']}") from None
            from_block = to_block = n
        else:
            head = self.latest_number()
            from_block = self._log_range_end(flt.get("fromBlock"), head)
            to_block = self._log_range_end(flt.get("toBlock"), head)
        if to_block - from_block > 10_000:
            raise RPCError(-32005, "query returned more than 10000 blocks")
        out = []
        for n in range(from_block, min(to_block, self.latest_number()) + 1):
            out += [l for l in self.block_logs.get(n, []) if matches(l, flt)]
        return out

    # ------------------------------------------------------------------ bundles (Flashbots)

    def rpc_eth_sendBundle(self, bundle):
        txs = bundle["txs"]
        target = enc.inbound_quantity(bundle["blockNumber"], "blockNumber")
        if target <= self.latest_number():
            raise RPCError(-32602, f"block {target} is in the past")
        if not isinstance(txs, list) or not txs or not all(isinstance(t, str) for t in txs):
            raise RPCError(-32602, "txs must be a non-empty array of raw transactions")
        reverting = set(h.lower() for h in bundle.get("revertingTxHashes", []))
        entry = {"target": target, "txs": ["0x" + keccak(hexstr=t).hex() for t in txs], "signer": self.relay_signer, "landed": None}
        for h, t in zip(entry["txs"], txs):
            self.raw_by_hash[h] = t
        self.bundle_log.append(entry)
        if self.drop_bundles > 0:  # accepted, as a relay would, but no builder includes it
            self.drop_bundles -= 1
            entry["dropped"] = True
        else:
            self.bundles.setdefault(target, []).append((txs, reverting, entry))
        hashes = b"".join(keccak(hexstr=t) for t in txs)
        return {"bundleHash": "0x" + keccak(hashes).hex()}

    def rpc_eth_callBundle(self, bundle):
        """Simulates the bundle at the top of the next block, on the latest block's state (the
        block being built is set aside and restored afterwards)."""
        txs = bundle["txs"]
        snap = self.t.take_snapshot()
        coinbase = "0x" + "00" * 20
        try:
            self.t.revert_to_snapshot(self.snapshots[self.latest_number()])
            self._stamp()
            before = self.t.get_balance(coinbase)
            hashes = [self._apply(raw) for raw in txs]
            self.t.mine_block()
            results, total_gas, total_fees = [], 0, 0
            block = self.t.get_block_by_number("latest")
            base_fee = block["base_fee_per_gas"]
            for h in hashes:
                r = self.t.get_transaction_receipt(h)
                tx = self.t.get_transaction_by_hash(h)
                price = r["effective_gas_price"]
                fees = r["gas_used"] * (price - base_fee)
                entry = {
                    "coinbaseDiff": str(fees), "ethSentToCoinbase": "0", "fromAddress": tx["from"],
                    "gasFees": str(fees), "gasPrice": str(price), "gasUsed": r["gas_used"],
                    "toAddress": tx["to"] or None, "txHash": h, "value": "0x",
                }
                if r["status"] == 0:
                    entry["error"] = "execution reverted"
                results.append(entry)
                total_gas += r["gas_used"]
                total_fees += fees
            diff = self.t.get_balance(coinbase) - before
            return {
                "bundleGasPrice": str(total_fees // total_gas if total_gas else 0),
                "bundleHash": "0x" + keccak(b"".join(keccak(hexstr=t) for t in txs)).hex(),
                "coinbaseDiff": str(diff), "ethSentToCoinbase": str(max(0, diff - total_fees)), "gasFees": str(total_fees),
                "results": results, "stateBlockNumber": self.latest_number() - 1, "totalGasUsed": total_gas,
            }
        except (ValidationError, TransactionFailed, ValueError) as e:
            raise RPCError(-32000, f"bundle simulation failed: {e}") from None
        finally:
            self.t.revert_to_snapshot(snap)
            self._stamp()
            self._reapply_pending()

    # ------------------------------------------------------------------ control

    def rpc_evm_mine(self, count=None):
        self.mine(enc.inbound_quantity(count, "count") if count else 1)
        return "0x0"

    def rpc_evm_snapshot(self):
        return hex(self.t.take_snapshot())

    def rpc_evm_revert(self, snap):
        n = enc.inbound_quantity(snap, "snapshot")
        try:
            self.t.revert_to_snapshot(n)
        except Exception:
            return False
        # Blocks above the restored head are gone: so are their snapshots, logs and bundles.
        head = self.latest_number()
        for table in (self.snapshots, self.block_logs):
            for k in [k for k in table if k > head]:
                del table[k]
        self.pending_raw = []
        return True

    def rpc_evm_setAutomine(self, on):
        self.automine = bool(on)
        return True

    def rpc_devnet_fund(self, address, wei):
        self.fund(address, enc.inbound_quantity(wei, "wei"))
        return True

    def rpc_devnet_reorg(self, depth):
        return self.reorg(enc.inbound_quantity(depth, "depth") if isinstance(depth, str) else int(depth))

    def rpc_devnet_setMinTip(self, wei):
        """Transactions tipping less than `wei` wait in the pool (0: none wait)."""
        self.min_tip = enc.inbound_quantity(wei, "wei") if isinstance(wei, str) else int(wei)
        return True

    def rpc_devnet_txpool(self):
        """The waiting transactions' hashes (for tests)."""
        return [w["hash"] for w in self.txpool.values()]

    def rpc_devnet_dropPool(self):
        """Evicts every waiting transaction, as a node drops what waited past its pool lifetime;
        returns their hashes."""
        dropped = [w["hash"] for w in self.txpool.values()]
        self.txpool.clear()
        return dropped

    def rpc_devnet_cowSettle(self, opts=None):
        """The lab's CoW solver sends a settlement now (options: dex, sellWeth, units, tip); its hash."""
        cow = getattr(self, "cow", None)
        if cow is None:
            raise RPCError(-32601, "devnet_cowSettle needs the lab (--lab)")
        opts = opts if isinstance(opts, dict) else {}
        return cow.settle_now(dex=opts.get("dex"), sell_weth=opts.get("sellWeth"), units=opts.get("units"), tip=opts.get("tip"),
                              hold=opts.get("hold"), via=opts.get("via") or "pair")

    def rpc_devnet_cowCancel(self, tip):
        """The solver withdraws its waiting settlement: a no-op with its nonce at `tip`; the no-op's hash."""
        cow = getattr(self, "cow", None)
        if cow is None:
            raise RPCError(-32601, "devnet_cowCancel needs the lab (--lab)")
        next_nonce = self.t.get_nonce(to_checksum_address(cow.solver), "latest")
        waiting = [n for (sender, n) in self.txpool if sender == cow.solver.lower() and n >= next_nonce]
        if not waiting:
            raise RPCError(-32000, "no settlement is waiting in the pool")
        return cow.cancel(min(waiting), enc.inbound_quantity(tip, "tip") if isinstance(tip, str) else int(tip))

    def rpc_devnet_bundles(self):
        """Every bundle received so far (for tests): target block, tx hashes, relay signer, landed block."""
        return self.bundle_log

    def rpc_devnet_accounts(self):
        return [a.lower() for a in self.accounts]


def matches(log: dict, flt: dict) -> bool:
    """eth_getLogs / eth_subscribe filter semantics: address (one or many), positional topics with
    null wildcards and OR-lists."""
    addr = flt.get("address")
    if addr:
        addrs = [a.lower() for a in (addr if isinstance(addr, list) else [addr])]
        if log["address"].lower() not in addrs:
            return False
    for i, want in enumerate(flt.get("topics") or []):
        if want is None:
            continue
        if i >= len(log["topics"]):
            return False
        options = [w.lower() for w in (want if isinstance(want, list) else [want])]
        if log["topics"][i].lower() not in options:
            return False
    return True
