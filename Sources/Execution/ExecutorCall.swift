import AMMMath
import EVMCodec
import EVMPrimitives
import EthClient
import Foundation
import JSONRPC
import MarketState
import Opportunities

/// One swap as Arbiter's executor contracts take it (`Step` in contracts/src/flash_arb.vy).
public struct ExecutorStep: Equatable, Sendable {
    public enum Kind: UInt8, Sendable {
        case uniswapV2 = 0
        case uniswapV3 = 1
    }

    public var pool: Address
    public var kind: Kind
    public var tokenIn: Address
    public var tokenOut: Address
    /// V2: the pair's fee in pips; V3: the pool's tier.
    public var feePips: UInt32

    public init(pool: Address, kind: Kind, tokenIn: Address, tokenOut: Address, feePips: UInt32) {
        self.pool = pool
        self.kind = kind
        self.tokenIn = tokenIn
        self.tokenOut = tokenOut
        self.feePips = feePips
    }
}

/// Calldata of every executor's entry point and what its answers mean.
public enum ExecutorCall {
    /// `execute(asset, amount, steps, min_profit, deadline) -> profit`, selector 0x41dc1dc3.
    public static let execute = try! FunctionSignature(
        "execute(address,uint256,(address,uint8,address,address,uint24)[],uint256,uint256) returns (uint256)")
    /// `Executed(address indexed asset, uint256 amount, uint256 profit)`.
    public static let executedTopic = try! UInt256(bigEndian: Keccak256.hash(utf8: "Executed(address,uint256,uint256)"))

    /// `UniswapV3FlashArbitrage.execute(pool, asset, amount, steps, min_profit, deadline) -> profit`:
    /// the lending pool comes first.
    public static let executeFromPool = try! FunctionSignature(
        "execute(address,address,uint256,(address,uint8,address,address,uint24)[],uint256,uint256) returns (uint256)")

    /// The executor's calldata; with `lendingPool`, the V3-pool executor's.
    public static func calldata(asset: Address, amount: UInt256, steps: [ExecutorStep], minProfit: UInt256, deadline: UInt64,
                                lendingPool: Address? = nil) -> [UInt8] {
        let args: [ABIValue] = [.address(asset), .uint(amount), Self.steps(steps), .uint(minProfit), .uint(UInt256(deadline))]
        // The values match the signature's types by construction: encoding cannot fail.
        if let lendingPool { return try! executeFromPool.calldata([.address(lendingPool)] + args) }
        return try! execute.calldata(args)
    }

    /// The `Step[]` argument every executor entry point takes.
    public static func steps(_ steps: [ExecutorStep]) -> ABIValue {
        .array(steps.map {
            .tuple([.address($0.pool), .uint(UInt256(UInt64($0.kind.rawValue))), .address($0.tokenIn), .address($0.tokenOut),
                    .uint(UInt256(UInt64($0.feePips)))])
        })
    }

    /// A receipt's logs (those that do not parse are left out).
    public static func logs(ofReceipt receipt: JSONValue) -> [EVMLog] {
        (receipt["logs"]?.arrayValue ?? []).compactMap { try? EthClient.log($0) }
    }

    /// Why a call reverted: the `Error(string)` in the error's data when there is one, else its message.
    public static func revertReason(_ e: RPCError) -> String {
        guard let text = e.data?.trimmingCharacters(in: CharacterSet(charactersIn: "\" ")), let bytes = try? Hex.decode(text),
              bytes.count > 4, bytes.prefix(4) == [0x08, 0xc3, 0x79, 0xa0],
              let values = try? ABI.decode([.string], from: Array(bytes.dropFirst(4))), case .string(let reason)? = values.first else { return e.message }
        return reason
    }

    /// The profit `execute` returned (from `eth_call`), or nil for an answer that is not one word.
    public static func profit(output: [UInt8]) -> UInt256? {
        guard output.count == 32 else { return nil }
        return try? UInt256(bigEndian: output)
    }

    /// `Transfer(address indexed from, address indexed to, uint256 value)`.
    public static let transferTopic = try! UInt256(bigEndian: Keccak256.hash(utf8: "Transfer(address,address,uint256)"))

    /// What `holder` gained in `token` by one transaction: ERC-20 transfers to it less those from
    /// it, from the transaction's own receipt logs (exact per transaction, however many trades
    /// share the block).
    public static func netTransfers(_ logs: [EVMLog], token: Address, holder: Address) -> Int256 {
        let h = try! UInt256(bigEndian: holder.bytes)
        var net = Int256.zero
        for l in logs where l.address == token && l.topics.count == 3 && l.topics[0] == transferTopic && l.data.count == 32 {
            guard let v = try? UInt256(bigEndian: l.data) else { continue }
            if l.topics[2] == h { net = net &+ Int256(bitPattern: v) }
            if l.topics[1] == h { net = net &- Int256(bitPattern: v) }
        }
        return net
    }

    /// The profit of the `Executed` event `executor` emitted for `asset` among `logs`.
    public static func executedProfit(_ logs: [EVMLog], executor: Address, asset: Address) -> UInt256? {
        for l in logs where l.address == executor && l.topics.count == 2 && l.topics[0] == executedTopic
            && l.topics[1] == (try? UInt256(bigEndian: asset.bytes)) && l.data.count == 64 {
            return try? UInt256(bigEndian: l.data[32..<64])
        }
        return nil
    }
}

/// The chain's state as execution sees it: the block, its base fee, the pools and each one's
/// first token (to tell a hop's direction).
public struct ChainState: Sendable {
    public var chainID: UInt64
    public var block: UInt64
    public var baseFee: UInt256?
    public var book: PoolBook
    /// By pool index: token0 (Uniswap order).
    public var token0: [Address]

    public init(chainID: UInt64, block: UInt64, baseFee: UInt256?, book: PoolBook, token0: [Address]) {
        self.chainID = chainID
        self.block = block
        self.baseFee = baseFee
        self.book = book
        self.token0 = token0
    }
}

/// The latest state of each chain, from whatever keeps it (the watchers, in process).
public protocol ChainStateSource: Sendable {
    func state(chain: UInt64) -> ChainState?
}

/// An opportunity's path quoted again on current state, as the executor will run it.
public struct Requote: Equatable, Sendable {
    public var steps: [ExecutorStep]
    /// Each hop's output; the last is what comes back to the asset.
    public var amounts: [UInt256]
    public var block: UInt64

    public var amountOut: UInt256 { amounts.last ?? .zero }

    public init(steps: [ExecutorStep], amounts: [UInt256], block: UInt64) {
        self.steps = steps
        self.amounts = amounts
        self.block = block
    }

    public enum Failure: Error, Equatable, Sendable {
        /// A pool is not in the state (not watched, or not read yet).
        case unknownPool(Address)
        /// A pool kind the executors cannot swap on (Curve, Solidly: not yet in the contracts).
        case unsupportedPool(Address)
        /// A hop's tokens are not the pool's.
        case wrongTokens(Address)
        /// The pool cannot fill the hop.
        case noLiquidity(Address)
    }

    /// Quotes `path` for `amountIn` on `state`, hop by hop, each pool updated by the hop before
    /// (the same pool twice sees its own first swap), exactly as the contract will.
    public static func quote(_ path: [Opportunity.Hop], amountIn: UInt256, on state: ChainState) -> Result<Requote, Failure> {
        var steps: [ExecutorStep] = []
        var amounts: [UInt256] = []
        var touched: [Int: Pool] = [:]
        var amount = amountIn
        for hop in path {
            guard let id = state.book.id(of: hop.pool) else { return .failure(.unknownPool(hop.pool)) }
            let pool = touched[id.index] ?? state.book[id]
            let t0 = state.token0[id.index]
            let step: ExecutorStep
            switch pool {
            case .uniswapV2(let p):
                step = ExecutorStep(pool: hop.pool, kind: .uniswapV2, tokenIn: hop.tokenIn, tokenOut: hop.tokenOut,
                                    feePips: hop.tokenIn == t0 ? p.fee0Pips : p.fee1Pips)
            case .uniswapV3(let p):
                step = ExecutorStep(pool: hop.pool, kind: .uniswapV3, tokenIn: hop.tokenIn, tokenOut: hop.tokenOut, feePips: p.feePips)
            case .curve, .solidly, .raydiumAMM, .whirlpool, .meteoraDLMM, .raydiumCLMM, .phoenix:
                return .failure(.unsupportedPool(hop.pool))
            }
            guard hop.tokenIn != hop.tokenOut, hop.tokenIn == t0 || hop.tokenOut == t0 else { return .failure(.wrongTokens(hop.pool)) }
            let zeroForOne = hop.tokenIn == t0
            guard let out = try? pool.amountOut(amount, zeroForOne: zeroForOne), let after = try? pool.applying(amountIn: amount, zeroForOne: zeroForOne) else {
                return .failure(.noLiquidity(hop.pool))
            }
            touched[id.index] = after
            steps.append(step)
            amounts.append(out)
            amount = out
        }
        return .success(Requote(steps: steps, amounts: amounts, block: state.block))
    }
}
