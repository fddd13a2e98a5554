"""CoW Protocol for the lab: orders signed as GPv2 users sign them, `settle` calls encoded by eth-abi,
and the lab's solver, which now and then settles a large order against a real Uniswap V2 pair.

- `order_digest`/`sign_order`: the EIP-712 order (domain {"Gnosis Protocol", "v2", chainId,
  settlement}) signed by eth-account for the EIP-712 and eth_sign schemes; EIP-1271 and pre-sign
  signatures are the owner's address (and the wallet's bytes). The orderUid is digest ‖ owner ‖ validTo.
- `flags`: bit 0 kind, bit 1 partially fillable, bits 2–3 sell balance, bit 4 buy balance, bits
  5–6 signing scheme (protocol-facts §4).
- `encode_settle`: the calldata of `settle(tokens, clearingPrices, trades, interactions[3])`.
- `CowMarket`: every `EVERY` blocks (the first after `FIRST`), the solver (an allow-listed key of
  its own) settles one user order of `UNITS` WETH (≈ $100k, past the searcher's $50k threshold)
  against one of the two V2 WETH/USDC pairs, alternating direction, as a CoW solver that found no
  coincidence of wants does: the sell amount is sent to the pair and `swap` pays the buy amount
  to the settlement, which pays the user at clearing prices equal to the pair's rate. The
  settlement is signed right after a head and waits `HOLD` blocks in the pool (announced pending)
  before a block takes it, as a mainnet settlement is pending for most of a 12 s slot; a bundle
  may carry it sooner. `settle_now` (`devnet_cowSettle`) sends one on demand."""
from eth_abi import encode
from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address

SETTLE = "settle(address[],uint256[],(uint256,uint256,address,uint256,uint256,uint32,bytes32,uint256,uint256,uint256,bytes)[],(address,uint256,bytes)[][3])"
SETTLE_TYPES = ["address[]", "uint256[]", "(uint256,uint256,address,uint256,uint256,uint32,bytes32,uint256,uint256,uint256,bytes)[]",
                "(address,uint256,bytes)[][3]"]
SELECTOR = function_signature_to_4byte_selector(SETTLE)
SCHEMES = {"eip712": 0, "ethsign": 1, "eip1271": 2, "presign": 3}
BALANCES = {"erc20": 0, "external": 2, "internal": 3}
ORDER_FIELDS = [
    {"name": "sellToken", "type": "address"}, {"name": "buyToken", "type": "address"}, {"name": "receiver", "type": "address"},
    {"name": "sellAmount", "type": "uint256"}, {"name": "buyAmount", "type": "uint256"}, {"name": "validTo", "type": "uint32"},
    {"name": "appData", "type": "bytes32"}, {"name": "feeAmount", "type": "uint256"}, {"name": "kind", "type": "string"},
    {"name": "partiallyFillable", "type": "bool"}, {"name": "sellTokenBalance", "type": "string"},
    {"name": "buyTokenBalance", "type": "string"},
]
ZERO = "0x" + "00" * 20


def flags(kind="sell", partial=False, sell_balance="erc20", buy_balance="erc20", scheme="eip712"):
    """The trade's flags word (protocol-facts §4)."""
    return ((kind == "buy") | (partial << 1) | (BALANCES[sell_balance] << 2) | ((buy_balance == "internal") << 4)
            | (SCHEMES[scheme] << 5))


def typed_order(chain_id, settlement, order):
    """The EIP-712 message of `order` (a dict with ORDER_FIELDS' names)."""
    return {
        "types": {"EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                                   {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}],
                  "Order": ORDER_FIELDS},
        "primaryType": "Order",
        "domain": {"name": "Gnosis Protocol", "version": "v2", "chainId": chain_id, "verifyingContract": settlement},
        "message": order,
    }


def order_digest(chain_id, settlement, order) -> bytes:
    m = encode_typed_data(full_message=typed_order(chain_id, settlement, order))
    return keccak(b"\x19" + m.version + m.header + m.body)


def order_uid(digest: bytes, owner: str, valid_to: int) -> bytes:
    return digest + bytes.fromhex(owner[2:]) + valid_to.to_bytes(4, "big")


def sign_order(chain_id, settlement, order, scheme, key=None, owner=None, wallet_bytes=b""):
    """The trade's signature bytes under `scheme` and the order's owner."""
    if scheme == "eip712":
        s = Account.sign_message(encode_typed_data(full_message=typed_order(chain_id, settlement, order)), key)
        return s.r.to_bytes(32, "big") + s.s.to_bytes(32, "big") + bytes([s.v]), Account.from_key(key).address
    if scheme == "ethsign":
        s = Account.sign_message(encode_defunct(primitive=order_digest(chain_id, settlement, order)), key)
        return s.r.to_bytes(32, "big") + s.s.to_bytes(32, "big") + bytes([s.v]), Account.from_key(key).address
    return bytes.fromhex(owner[2:]) + (wallet_bytes if scheme == "eip1271" else b""), owner


def trade_tuple(tokens, order, flag_word, executed, signature):
    """The `settle` trade tuple of `order` (indices into `tokens`)."""
    index = {t.lower(): i for i, t in enumerate(tokens)}
    return (index[order["sellToken"].lower()], index[order["buyToken"].lower()], order["receiver"], order["sellAmount"],
            order["buyAmount"], order["validTo"], order["appData"], order["feeAmount"], flag_word, executed, signature)


def encode_settle(tokens, prices, trades, interactions) -> bytes:
    """`settle` calldata; `interactions` is three lists of (target, value, callData)."""
    return SELECTOR + encode(SETTLE_TYPES, [tokens, prices, trades, interactions])


def call(sig, types, args) -> bytes:
    return function_signature_to_4byte_selector(sig) + encode(types, args)


class CowMarket:
    EVERY = 5
    FIRST = 3
    # Blocks a market settlement waits in the pool: the lab's blocks are a second, a mainnet
    # settlement is pending for most of a 12 s slot.
    HOLD = 3
    UNITS = 50  # WETH per settlement: ≈ $100k at the lab's ≈ $2,000

    def __init__(self, lab, seed):
        self.lab = lab
        self.seed = seed
        self.solver_key = "0x" + keccak(text=f"arbiter-lab-cow-solver-{seed}").hex()
        self.owner_key = "0x" + keccak(text=f"arbiter-lab-cow-owner-{seed}").hex()
        self.solver = Account.from_key(self.solver_key).address
        self.owner = Account.from_key(self.owner_key).address
        self.rounds = 0
        self.sent = []      # hashes of every settlement sent
        self.failures = 0

    def deploy(self):
        """The solver allow-listed and funded; the order owner with WETH and USDC, approving the settlement."""
        lab, m = self.lab, self.lab.m
        settlement = m["gpv2Settlement"]
        lab.send(settlement, "set_solver(address,bool)", ["address", "bool"], [self.solver, True])
        lab.node.fund(self.solver, 100 * 10**18)
        lab.node.fund(self.owner, 10 * 10**18)
        lab.mint("WETH", self.owner, 5_000 * 10**18)
        lab.mint("USDC", self.owner, 10_000_000 * 10**6)
        for sym in ("WETH", "USDC"):
            lab._tx(self.owner_address_unlocked(), m["tokens"][sym]["address"],
                    call("approve(address,uint256)", ["address", "uint256"], [settlement, 2**256 - 1]))
        m["cow"] = {"settlement": settlement, "solver": self.solver, "owner": self.owner, "every": self.EVERY, "units": self.UNITS}

    def owner_address_unlocked(self):
        """The owner signs its own approvals: its key joins the node's unlocked keys."""
        self.lab.node.keys[self.owner.lower()] = self.owner_key
        return self.owner

    def settlement(self, dex, sell_weth, units, tip=10**9, via="pair"):
        """A signed `settle` of one EIP-712 order against `dex`'s WETH/USDC pair: (raw tx, order). `via`:
        "pair" (the sell amount sent to the pair, then its `swap`) or "router" (an approval, then the
        DEX's router's `swapExactTokensForTokens`)."""
        lab, m = self.lab, self.lab.m
        weth, usdc = m["tokens"]["WETH"]["address"], m["tokens"]["USDC"]["address"]
        pair = m["dexes"][dex]["pools"]["WETH/USDC"]
        sell, buy = (weth, usdc) if sell_weth else (usdc, weth)
        r0, r1, _ = lab.view(pair, "getReserves()", [], [], ["uint112", "uint112", "uint32"])
        zero_for_one = int(sell, 16) < int(buy, 16)
        r_in, r_out = (r0, r1) if zero_for_one else (r1, r0)
        amount_in = units * 10**18 if sell_weth else self._usdc_for(units, pair, weth)
        out = amount_in * 997 * r_out // (r_in * 1000 + amount_in * 997)
        valid_to = lab.t.get_block_by_number("latest")["timestamp"] + 600
        order = {"sellToken": sell, "buyToken": buy, "receiver": ZERO, "sellAmount": amount_in, "buyAmount": out * 99 // 100,
                 "validTo": valid_to, "appData": b"\x00" * 32, "feeAmount": 0, "kind": "sell", "partiallyFillable": False,
                 "sellTokenBalance": "erc20", "buyTokenBalance": "erc20"}
        settlement = m["gpv2Settlement"]
        signature, _ = sign_order(lab.node.chain_id, settlement, order, "eip712", key=self.owner_key)
        tokens = [sell, buy]
        trade = trade_tuple(tokens, order, flags(), 0, signature)
        swap = (0, out) if zero_for_one else (out, 0)
        if via == "router":
            router = m["dexes"][dex]["router"]
            intra = [(sell, 0, call("approve(address,uint256)", ["address", "uint256"], [router, amount_in])),
                     (router, 0, call("swapExactTokensForTokens(uint256,uint256,address[],address,uint256)",
                                      ["uint256", "uint256", "address[]", "address", "uint256"], [amount_in, out, [sell, buy], settlement, 2**40]))]
        else:
            intra = [(sell, 0, call("transfer(address,uint256)", ["address", "uint256"], [pair, amount_in])),
                     (pair, 0, call("swap(uint256,uint256,address,bytes)", ["uint256", "uint256", "address", "bytes"], [*swap, settlement, b""]))]
        data = encode_settle(tokens, [out, amount_in], [trade], [[], intra, []])
        return self._sign(settlement, data, tip), order

    def _usdc_for(self, units, pair, weth):
        """USDC worth `units` WETH at the pair's price."""
        r0, r1, _ = self.lab.view(pair, "getReserves()", [], [], ["uint112", "uint112", "uint32"])
        usdc_r, weth_r = (r1, r0) if int(weth, 16) < int(self.lab.m["tokens"]["USDC"]["address"], 16) else (r0, r1)
        return units * 10**18 * usdc_r // weth_r

    def next_nonce(self):
        """The solver's next nonce, counting its settlements waiting in the pool."""
        node = self.lab.node
        waiting = [n + 1 for (sender, n) in node.txpool if str(sender).lower() == self.solver.lower()]
        return max([node.t.get_nonce(self.solver, "pending")] + waiting)

    def _sign(self, to, data, tip):
        node = self.lab.node
        nonce = self.next_nonce()
        tx = {"type": 2, "chainId": node.chain_id, "nonce": nonce, "to": to, "value": 0, "data": data, "gas": 600_000,
              "maxFeePerGas": 10**11, "maxPriorityFeePerGas": tip}
        return "0x" + bytes(Account.sign_transaction(tx, self.solver_key).raw_transaction).hex()

    def settle_now(self, dex=None, sell_weth=None, units=None, tip=None, hold=None, via="pair"):
        """Sends one settlement now (with `hold`, it waits that many blocks in the pool); its hash."""
        self.rounds += 1
        dex = dex or ("uniswap_v2" if self.rounds % 2 else "sushiswap")
        sell_weth = (self.rounds // 2) % 2 == 0 if sell_weth is None else sell_weth
        raw, _ = self.settlement(dex, sell_weth, units or self.UNITS, tip if tip is not None else 10**9, via=via)
        h = self.lab.node.hold(raw, hold) if hold else self.lab.node._send(raw)
        self.sent.append(h)
        return h

    def cancel(self, nonce, tip):
        """The solver's no-op with `nonce` (a 0-value transfer to itself): a settlement withdrawn."""
        node = self.lab.node
        tx = {"type": 2, "chainId": node.chain_id, "nonce": nonce, "to": self.solver, "value": 0, "data": b"", "gas": 21_000,
              "maxFeePerGas": 2 * 10**11, "maxPriorityFeePerGas": tip}
        return node._send("0x" + bytes(Account.sign_transaction(tx, self.solver_key).raw_transaction).hex())

    def on_head(self, number):
        """The settlement of this block, if it is one of the market's."""
        if number < self.FIRST or (number - self.FIRST) % self.EVERY:
            return None
        try:
            return self.settle_now(hold=self.HOLD)
        except Exception as e:  # noqa: BLE001 - a failed settlement must not stop the market
            import json
            import sys
            self.failures += 1
            print(json.dumps({"cow": "settlement failed", "error": str(e)}), file=sys.stderr, flush=True)
            return None
