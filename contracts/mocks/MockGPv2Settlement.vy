# pragma version 0.4.3
"""
@title GPv2Settlement stand-in for the lab's CoW settlements
@notice The real `settle` entry point (selector 0x13d79a0b) with GPv2Settlement's rules and
        events (protocol-facts §4): only allow-listed solvers; pre-interactions, then each
        trade's order recovered from its signature (EIP-712, eth_sign, EIP-1271 or pre-sign),
        checked against its limit price and validity, and its sell amount pulled from the
        owner; intra-interactions (the AMM swaps); the buy amounts paid out; post-interactions;
        `Trade` per trade, `Interaction` per interaction, `Settlement(solver)`.
        Differences from the real contract, by design: owners approve this contract (there is
        no vault relayer) and only ERC-20 balances are supported (the Balancer-vault balance
        flags revert); fee amounts are taken with the sell amount, as GPv2 does, and kept here.
"""
import token_ops

struct TradeData:
    sellTokenIndex: uint256
    buyTokenIndex: uint256
    receiver: address
    sellAmount: uint256
    buyAmount: uint256
    validTo: uint32
    appData: bytes32
    feeAmount: uint256
    flags: uint256
    executedAmount: uint256
    signature: Bytes[256]

struct InteractionData:
    target: address
    value: uint256
    callData: Bytes[2048]

interface ERC1271:
    def isValidSignature(digest: bytes32, signature: Bytes[256]) -> bytes4: view

event Trade:
    owner: indexed(address)
    sellToken: address
    buyToken: address
    sellAmount: uint256
    buyAmount: uint256
    feeAmount: uint256
    orderUid: Bytes[56]

event Interaction:
    target: indexed(address)
    value: uint256
    selector: bytes4

event Settlement:
    solver: indexed(address)

event PreSignature:
    owner: indexed(address)
    orderUid: Bytes[56]
    signed: bool

ORDER_TYPE_HASH: constant(bytes32) = 0xd5a25ba2e97094ad7d83dc28a6572da797d6b3e7fc6663bd93efb789fc17e489
KIND_SELL: constant(bytes32) = keccak256("sell")
KIND_BUY: constant(bytes32) = keccak256("buy")
BALANCE_ERC20: constant(bytes32) = keccak256("erc20")
ERC1271_MAGIC: constant(bytes4) = 0x1626ba7e
PRE_SIGNED: constant(bytes32) = keccak256("GPv2Signing.Scheme.PreSign")

domainSeparator: public(bytes32)
isSolver: public(HashMap[address, bool])
filledAmount: public(HashMap[Bytes[56], uint256])
preSignature: public(HashMap[Bytes[56], uint256])
manager: public(address)


@deploy
def __init__():
    self.manager = msg.sender
    self.domainSeparator = keccak256(abi_encode(
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
        keccak256("Gnosis Protocol"), keccak256("v2"), chain.id, self))


@external
def set_solver(solver: address, allowed: bool):
    assert msg.sender == self.manager, "not manager"
    self.isSolver[solver] = allowed


@external
def setPreSignature(orderUid: Bytes[56], signed: bool):
    owner: address = convert(convert(slice(orderUid, 32, 20), bytes20), address)
    assert owner == msg.sender, "cannot presign order"
    if signed:
        self.preSignature[orderUid] = convert(PRE_SIGNED, uint256)
    else:
        self.preSignature[orderUid] = 0
    log PreSignature(owner=owner, orderUid=orderUid, signed=signed)


@external
@nonreentrant
def settle(tokens: DynArray[address, 16], clearingPrices: DynArray[uint256, 16], trades: DynArray[TradeData, 16],
           interactions: DynArray[InteractionData, 8][3]):
    assert self.isSolver[msg.sender], "GPv2: not a solver"
    self._interact(interactions[0])
    owners: DynArray[address, 16] = []
    sells: DynArray[uint256, 16] = []
    buys: DynArray[uint256, 16] = []
    for t: TradeData in trades:
        owner: address = empty(address)
        sold: uint256 = 0
        bought: uint256 = 0
        owner, sold, bought = self._trade(tokens, clearingPrices, t)
        owners.append(owner)
        sells.append(sold)
        buys.append(bought)
    self._interact(interactions[1])
    for i: uint256 in range(len(trades), bound=16):
        receiver: address = trades[i].receiver
        if receiver == empty(address):
            receiver = owners[i]
        token_ops.transfer(tokens[trades[i].buyTokenIndex], receiver, buys[i])
    self._interact(interactions[2])
    log Settlement(solver=msg.sender)


@internal
def _interact(list: DynArray[InteractionData, 8]):
    for it: InteractionData in list:
        raw_call(it.target, it.callData, value=it.value)
        selector: bytes4 = empty(bytes4)
        if len(it.callData) >= 4:
            selector = convert(slice(it.callData, 0, 4), bytes4)
        log Interaction(target=it.target, value=it.value, selector=selector)


@internal
def _trade(tokens: DynArray[address, 16], prices: DynArray[uint256, 16], t: TradeData) -> (address, uint256, uint256):
    assert t.flags & 28 == 0, "GPv2: only erc20 balances"
    sell_token: address = tokens[t.sellTokenIndex]
    buy_token: address = tokens[t.buyTokenIndex]
    kind: bytes32 = KIND_SELL
    if t.flags & 1 == 1:
        kind = KIND_BUY
    receiver: address = t.receiver
    digest: bytes32 = keccak256(concat(b"\x19\x01", self.domainSeparator, keccak256(abi_encode(
        ORDER_TYPE_HASH, sell_token, buy_token, receiver, t.sellAmount, t.buyAmount, t.validTo, t.appData, t.feeAmount,
        kind, t.flags & 2 == 2, BALANCE_ERC20, BALANCE_ERC20))))
    owner: address = self._recover(digest, t.flags >> 5, t.signature)
    uid: Bytes[56] = concat(digest, convert(owner, bytes20), convert(t.validTo, bytes4))
    if t.flags >> 5 == 3:
        assert self.preSignature[uid] == convert(PRE_SIGNED, uint256), "GPv2: order not presigned"
    assert convert(t.validTo, uint256) >= block.timestamp, "GPv2: order expired"
    sell_price: uint256 = prices[t.sellTokenIndex]
    buy_price: uint256 = prices[t.buyTokenIndex]
    assert t.sellAmount * sell_price >= t.buyAmount * buy_price, "GPv2: limit price not respected"
    sold: uint256 = 0
    bought: uint256 = 0
    fee: uint256 = 0
    if kind == KIND_SELL:
        sold = t.sellAmount
        fee = t.feeAmount
        if t.flags & 2 == 2:
            sold = t.executedAmount
            fee = t.feeAmount * sold // t.sellAmount
        bought = (sold * sell_price + buy_price - 1) // buy_price
        self.filledAmount[uid] += sold
        assert self.filledAmount[uid] <= t.sellAmount, "GPv2: order filled"
    else:
        bought = t.buyAmount
        fee = t.feeAmount
        if t.flags & 2 == 2:
            bought = t.executedAmount
            fee = t.feeAmount * bought // t.buyAmount
        sold = bought * buy_price // sell_price
        self.filledAmount[uid] += bought
        assert self.filledAmount[uid] <= t.buyAmount, "GPv2: order filled"
    token_ops.transfer_from(sell_token, owner, self, sold + fee)
    log Trade(owner=owner, sellToken=sell_token, buyToken=buy_token, sellAmount=sold, buyAmount=bought, feeAmount=fee, orderUid=uid)
    return owner, sold, bought


@internal
@view
def _recover(digest: bytes32, scheme: uint256, signature: Bytes[256]) -> address:
    if scheme == 0 or scheme == 1:
        assert len(signature) == 65, "GPv2: malformed ecdsa signature"
        message: bytes32 = digest
        if scheme == 1:
            message = keccak256(concat(b"\x19Ethereum Signed Message:\n32", digest))
        r: uint256 = convert(slice(signature, 0, 32), uint256)
        s: uint256 = convert(slice(signature, 32, 32), uint256)
        v: uint256 = convert(slice(signature, 64, 1), uint256)
        signer: address = ecrecover(message, v, r, s)
        assert signer != empty(address), "GPv2: invalid ecdsa signature"
        return signer
    assert scheme <= 3, "GPv2: invalid signing scheme"
    assert len(signature) >= 20, "GPv2: malformed signature"
    owner: address = convert(convert(slice(signature, 0, 20), bytes20), address)
    if scheme == 2:
        data: Bytes[256] = slice(signature, 20, len(signature) - 20)
        assert staticcall ERC1271(owner).isValidSignature(digest, data) == ERC1271_MAGIC, "GPv2: invalid eip1271 signature"
    else:
        assert len(signature) == 20, "GPv2: malformed presignature"
    return owner
