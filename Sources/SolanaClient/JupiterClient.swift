import AsyncHTTPClient
import EVMCodec
import Foundation
import SolanaPrimitives

/// Why a Jupiter call failed.
public struct JupiterError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// 429, or our own token bucket empty: nothing was asked.
        case rateLimited
        /// The quote is too old to build from: quote again.
        case quoteExpired
        case noRoute
        /// Another HTTP status or a transport failure.
        case unavailable
        /// An answer of the wrong shape.
        case malformed
    }

    public var kind: Kind
    public var message: String
    public var description: String { "\(kind.rawValue): \(message)" }

    public init(_ kind: Kind, _ message: String) { (self.kind, self.message) = (kind, message) }
}

/// A Jupiter quote: the fields we act on, read strictly, and the answer itself, which goes back
/// verbatim as `quoteResponse`.
public struct JupiterQuote: Equatable, Sendable {
    public var raw: JSONValue
    public var inputMint: PublicKey
    public var outputMint: PublicKey
    public var inAmount: UInt64
    public var outAmount: UInt64
    /// The least the swap may give (`outAmount` less the slippage): its on-chain minimum.
    public var otherAmountThreshold: UInt64
    public var slippageBps: UInt16
    public var contextSlot: UInt64
    /// The pools (`ammKey`) of the route, in order.
    public var pools: [PublicKey]

    public init(json v: JSONValue) throws(JupiterError) {
        func u64(_ k: String) -> UInt64? { v[k]?.stringValue.flatMap { UInt64($0) } }
        func key(_ k: String, _ o: JSONValue? = nil) -> PublicKey? { (o ?? v)[k]?.stringValue.flatMap { try? PublicKey(base58: $0) } }
        guard let input = key("inputMint"), let output = key("outputMint"), let inAmount = u64("inAmount"), let outAmount = u64("outAmount"),
              let threshold = u64("otherAmountThreshold"), threshold <= outAmount, v["swapMode"]?.stringValue == "ExactIn",
              case .number(let bps)? = v["slippageBps"], let slippage = UInt16(bps), slippage <= 10_000,
              case .number(let slot)? = v["contextSlot"], let contextSlot = UInt64(slot), let plan = v["routePlan"]?.arrayValue, !plan.isEmpty else {
            throw JupiterError(.malformed, "a quote without mints, amounts as u64 strings, ExactIn, slippageBps, contextSlot or routePlan")
        }
        var pools: [PublicKey] = []
        for leg in plan {
            guard let info = leg["swapInfo"], let amm = key("ammKey", info) else { throw JupiterError(.malformed, "a route leg without swapInfo.ammKey") }
            pools.append(amm)
        }
        (raw, inputMint, outputMint, self.inAmount, self.outAmount, otherAmountThreshold) = (v, input, output, inAmount, outAmount, threshold)
        (slippageBps, self.contextSlot, self.pools) = (slippage, contextSlot, pools)
    }
}

/// What `/swap-instructions` gives: the instructions of the swap, and the lookup tables its accounts are in.
public struct JupiterInstructions: Equatable, Sendable {
    public var computeBudget: [Instruction]
    public var setup: [Instruction]
    public var swap: Instruction
    public var cleanup: Instruction?
    public var other: [Instruction]
    public var lookupTables: [PublicKey]
    public var computeUnitLimit: UInt32?

    public init(json v: JSONValue) throws(JupiterError) {
        func list(_ k: String) throws(JupiterError) -> [Instruction] {
            guard let items = v[k]?.arrayValue else { return [] }
            return try items.map(Self.instruction)
        }
        guard let swap = v["swapInstruction"] else { throw JupiterError(.malformed, "no swapInstruction") }
        self.swap = try Self.instruction(swap)
        computeBudget = try list("computeBudgetInstructions")
        setup = try list("setupInstructions")
        other = try list("otherInstructions")
        cleanup = try v["cleanupInstruction"].flatMap { (c) throws(JupiterError) -> Instruction? in c.isNull ? nil : try Self.instruction(c) }
        var tables: [PublicKey] = []
        for t in v["addressLookupTableAddresses"]?.arrayValue ?? [] {
            guard let k = t.stringValue.flatMap({ try? PublicKey(base58: $0) }) else { throw JupiterError(.malformed, "a lookup table address that is not a key") }
            tables.append(k)
        }
        lookupTables = tables
        if case .number(let n)? = v["computeUnitLimit"] { computeUnitLimit = UInt32(n) } else { computeUnitLimit = nil }
    }

    static func instruction(_ v: JSONValue) throws(JupiterError) -> Instruction {
        guard let program = v["programId"]?.stringValue.flatMap({ try? PublicKey(base58: $0) }), let accounts = v["accounts"]?.arrayValue,
              let text = v["data"]?.stringValue, let data = Data(base64Encoded: text) else {
            throw JupiterError(.malformed, "an instruction without programId, accounts or base64 data")
        }
        var metas: [AccountMeta] = []
        for a in accounts {
            guard let key = a["pubkey"]?.stringValue.flatMap({ try? PublicKey(base58: $0) }), case .bool(let s)? = a["isSigner"], case .bool(let w)? = a["isWritable"] else {
                throw JupiterError(.malformed, "an account meta without pubkey, isSigner or isWritable")
            }
            metas.append(AccountMeta(key, signer: s, writable: w))
        }
        return Instruction(programId: program, accounts: metas, data: [UInt8](data))
    }
}

/// A token bucket: `burst` calls at once, `perSecond` refilled. Time comes from the caller.
public struct RateBucket: Sendable {
    public let perSecond: Double
    public let burst: Double
    var tokens: Double
    var last: ContinuousClock.Instant?

    public init(perSecond: Double, burst: Double) {
        (self.perSecond, self.burst, tokens) = (perSecond, burst, burst)
    }

    /// Takes a token if there is one at `now`.
    public mutating func take(now: ContinuousClock.Instant) -> Bool {
        guard available(now: now) >= 1 else { return false }
        tokens -= 1
        return true
    }

    /// The tokens there are at `now`.
    public mutating func available(now: ContinuousClock.Instant) -> Double {
        if let last {
            let elapsed = Double((now - last).components.seconds) + Double((now - last).components.attoseconds) / 1e18
            tokens = min(burst, tokens + max(0, elapsed) * perSecond)
        }
        last = now
        return tokens
    }
}

/// Jupiter's swap API in the `/swap/v1` shapes (`api.jup.ag/swap/v1`
/// with `x-api-key`, or the stand-in): quotes and swap instructions, within a token bucket per
/// plan (a call with no token is refused here, never sent). An expired quote is
/// `JupiterError.quoteExpired`; the Solana executor quotes its whole route again.
public actor JupiterClient {
    public let base: String
    let apiKey: String?
    let timeout: Duration
    let client: HTTPClient
    var bucket: RateBucket
    public private(set) var calls = 0

    /// The calls a plan of `perSecond` allows at once: Jupiter counts them over a sliding window,
    /// 60 s for the keyless and free tiers (1 call a second or less), 10 s for paid tiers
    /// (dev.jup.ag, "Rate limits").
    public static func burst(perSecond: Double) -> Double { perSecond * (perSecond <= 1 ? 60 : 10) }

    /// The calls that can be made now without waiting for the plan's window.
    public func spare() -> Int { Int(bucket.available(now: .now)) }

    public init(base: String, apiKey: String? = nil, perSecond: Double = 1, burst: Double = 5, timeout: Duration = .seconds(5), client: HTTPClient = .shared) {
        self.base = base.hasSuffix("/") ? String(base.dropLast()) : base
        (self.apiKey, self.timeout, self.client) = (apiKey, timeout, client)
        bucket = RateBucket(perSecond: perSecond, burst: burst)
    }

    /// `GET /quote` (ExactIn).
    public func quote(input: PublicKey, output: PublicKey, amount: UInt64, slippageBps: UInt16, onlyDirectRoutes: Bool = false,
                      maxAccounts: Int? = nil, excludeDexes: [String] = []) async throws(JupiterError) -> JupiterQuote {
        var query = "inputMint=\(input.base58)&outputMint=\(output.base58)&amount=\(amount)&slippageBps=\(slippageBps)&swapMode=ExactIn"
        if onlyDirectRoutes { query += "&onlyDirectRoutes=true" }
        if !excludeDexes.isEmpty { query += "&excludeDexes=" + excludeDexes.joined(separator: ",").addingPercentEncoding(withAllowedCharacters: .alphanumerics)! }
        if let maxAccounts { query += "&maxAccounts=\(maxAccounts)" }
        let q = try JupiterQuote(json: try await request("/quote?" + query, body: nil))
        guard q.inputMint == input, q.outputMint == output, q.inAmount == amount else {
            throw JupiterError(.malformed, "a quote for other mints or another amount than asked")
        }
        return q
    }

    /// `POST /swap-instructions` for `quote` (sent back verbatim).
    public func swapInstructions(_ quote: JupiterQuote, user: PublicKey, computeUnitLimit: UInt32? = nil,
                                 computeUnitPriceMicroLamports: UInt64? = nil, wrapAndUnwrapSol: Bool = false) async throws(JupiterError) -> JupiterInstructions {
        var fields: [(String, JSONValue)] = [("userPublicKey", .string(user.base58)), ("quoteResponse", quote.raw), ("wrapAndUnwrapSol", .bool(wrapAndUnwrapSol))]
        if let computeUnitLimit { fields.append(("computeUnitLimit", .number(String(computeUnitLimit)))) }
        if let computeUnitPriceMicroLamports { fields.append(("computeUnitPriceMicroLamports", .number(String(computeUnitPriceMicroLamports)))) }
        return try JupiterInstructions(json: try await request("/swap-instructions", body: .object(fields)))
    }

    func request(_ path: String, body: JSONValue?) async throws(JupiterError) -> JSONValue {
        guard bucket.take(now: .now) else { throw JupiterError(.rateLimited, "the plan's rate is spent (\(bucket.perSecond)/s)") }
        calls += 1
        let status: UInt, bytes: [UInt8]
        do {
            (status, bytes) = try await HTTPFetch.fetch(base + path, headers: apiKey.map { [("x-api-key", $0)] } ?? [], json: body, timeout: timeout,
                                                        maxBytes: 8 << 20, client: client)
        } catch {
            throw JupiterError(.unavailable, "\(path): \(error)")
        }
        if status == 429 { throw JupiterError(.rateLimited, "\(path): HTTP 429") }
        let v = try? JSONValue.parse(bytes)
        guard status == 200 else {
            let code = v?["errorCode"]?.stringValue ?? ""
            let message = v?["error"]?.stringValue ?? "HTTP \(status)"
            if code == "QUOTE_EXPIRED" { throw JupiterError(.quoteExpired, message) }
            if code == "COULD_NOT_FIND_ANY_ROUTE" { throw JupiterError(.noRoute, message) }
            throw JupiterError(.unavailable, "\(path): HTTP \(status): \(message)")
        }
        guard let v else { throw JupiterError(.malformed, "\(path): not JSON") }
        return v
    }
}
