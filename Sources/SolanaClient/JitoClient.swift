import EVMCodec
import Foundation
import JSONRPC
import SolanaPrimitives

/// A bundle's state at the block engine.
public struct BundleStatus: Equatable, Sendable {
    public enum State: String, Sendable { case invalid = "Invalid", pending = "Pending", failed = "Failed", landed = "Landed" }
    public var state: State
    public var landedSlot: UInt64?
}

/// A landed bundle, as `getBundleStatuses` reports it.
public struct LandedBundle: Equatable, Sendable {
    public var slot: UInt64
    public var signatures: [String]
    public var confirmation: Commitment
}

/// Jito's block engine (JSON-RPC over HTTP: `/api/v1/bundles`, `/api/v1/transactions`): bundles of
/// at most five transactions in base64, their statuses, the tip accounts. Its answers are read
/// strictly; a 429 is `RPCError.rateLimited` (the caller backs off), an unreachable engine
/// `.transport` (the caller may fall back to plain `sendTransaction`).
public struct JitoClient: Sendable {
    public static let maxBundle = 5
    /// Jito's documented minimum tip.
    public static let minimumTip: UInt64 = 1_000
    /// Mainnet regions (`https://<region>.mainnet.block-engine.jito.wtf`).
    public static let regions = ["amsterdam", "dublin", "frankfurt", "london", "ny", "slc", "singapore", "tokyo"]

    public let engine: String
    let bundles: RPCClient
    let transactions: RPCClient

    /// `engine`: the block engine's base URL (a region's, or the stand-in's).
    public init(engine: String, timeout: Duration = .seconds(5), uuid: String? = nil) {
        let base = engine.hasSuffix("/") ? String(engine.dropLast()) : engine
        self.engine = base
        var headers: (@Sendable ([UInt8]) -> [(String, String)])? = nil
        if let uuid {
            headers = { @Sendable (_: [UInt8]) -> [(String, String)] in [("x-jito-auth", uuid)] }
        }
        bundles = RPCClient(HTTPTransport(url: base + "/api/v1/bundles", timeout: timeout, signHeaders: headers))
        transactions = RPCClient(HTTPTransport(url: base + "/api/v1/transactions", timeout: timeout, signHeaders: headers))
    }

    public static func regionURL(_ region: String) -> String { "https://\(region).mainnet.block-engine.jito.wtf" }

    public func tipAccounts() async throws(RPCError) -> [PublicKey] {
        guard let items = try await bundles.call("getTipAccounts").arrayValue, !items.isEmpty else { throw RPCError(.malformedResponse, "getTipAccounts: not a list") }
        var keys: [PublicKey] = []
        for i in items {
            guard let k = i.stringValue.flatMap({ try? PublicKey(base58: $0) }) else { throw RPCError(.malformedResponse, "getTipAccounts: not a key") }
            keys.append(k)
        }
        return keys
    }

    /// `sendBundle` (base64): the bundle id.
    public func sendBundle(_ txs: [SolanaTransaction]) async throws(RPCError) -> String {
        guard (1...Self.maxBundle).contains(txs.count) else { throw RPCError(.invalidRequest, "a bundle holds 1 to \(Self.maxBundle) transactions, not \(txs.count)") }
        let v = try await bundles.callUncancelled("sendBundle", [.array(txs.map { .string(Data($0.serialized()).base64EncodedString()) }), .object([("encoding", .string("base64"))])])
        guard let id = v.stringValue, !id.isEmpty else { throw RPCError(.malformedResponse, "sendBundle: no bundle id") }
        return id
    }

    /// `getInflightBundleStatuses` (the last five minutes), in order.
    public func inflightStatuses(_ ids: [String]) async throws(RPCError) -> [BundleStatus] {
        guard (1...5).contains(ids.count) else { throw RPCError(.invalidRequest, "1 to 5 bundle ids") }
        let v = try SolanaRPC.value(try await bundles.call("getInflightBundleStatuses", [.array(ids.map(JSONValue.string))]), "getInflightBundleStatuses").value
        guard let items = v.arrayValue, items.count == ids.count else { throw RPCError(.malformedResponse, "getInflightBundleStatuses: wrong count") }
        return try items.map { (i) throws(RPCError) in
            guard let s = i["status"]?.stringValue.flatMap(BundleStatus.State.init(rawValue:)) else { throw RPCError(.malformedResponse, "getInflightBundleStatuses: no status") }
            return BundleStatus(state: s, landedSlot: i["landed_slot"].flatMap(SolanaRPC.u64))
        }
    }

    /// `getBundleStatuses`, in order (nil: not landed, or unknown).
    public func statuses(_ ids: [String]) async throws(RPCError) -> [LandedBundle?] {
        guard (1...5).contains(ids.count) else { throw RPCError(.invalidRequest, "1 to 5 bundle ids") }
        let v = try SolanaRPC.value(try await bundles.call("getBundleStatuses", [.array(ids.map(JSONValue.string))]), "getBundleStatuses").value
        guard let items = v.arrayValue, items.count == ids.count else { throw RPCError(.malformedResponse, "getBundleStatuses: wrong count") }
        return try items.map { (i) throws(RPCError) -> LandedBundle? in
            if i.isNull { return nil }
            let level = (i["confirmation_status"] ?? i["confirmationStatus"])?.stringValue.flatMap(Commitment.init(rawValue:))
            guard let slot = i["slot"].flatMap(SolanaRPC.u64), let sigs = i["transactions"]?.arrayValue?.compactMap(\.stringValue), let level else {
                throw RPCError(.malformedResponse, "getBundleStatuses: a status without slot, transactions or confirmation_status")
            }
            return LandedBundle(slot: slot, signatures: sigs, confirmation: level)
        }
    }

    /// `sendTransaction` through the engine (`bundleOnly`: revert protection, as a bundle of one).
    public func sendTransaction(_ tx: SolanaTransaction) async throws(RPCError) -> String {
        let v = try await transactions.callUncancelled("sendTransaction", [.string(Data(tx.serialized()).base64EncodedString()), .object([("encoding", .string("base64"))])])
        guard let sig = v.stringValue, sig == tx.id else { throw RPCError(.malformedResponse, "sendTransaction: another signature than the transaction's") }
        return sig
    }
}

/// Jito's tip floor (`GET …/api/v1/bundles/tip_floor`): percentiles of recently landed tips, in
/// lamports (the API gives SOL as decimals; rounded up to the lamport).
public struct TipFloor: Equatable, Sendable {
    public var p25: UInt64
    public var p50: UInt64
    public var p75: UInt64
    public var p95: UInt64
    public var p99: UInt64
    public var ema50: UInt64

    public init(json v: JSONValue) throws(RPCError) {
        guard let first = v.arrayValue?.first else { throw RPCError(.malformedResponse, "tip_floor: not a non-empty list") }
        func lamports(_ k: String) throws(RPCError) -> UInt64 {
            guard case .number(let text)? = first[k], let sol = Double(text), sol.isFinite, sol >= 0, sol < 1_000 else {
                throw RPCError(.malformedResponse, "tip_floor: \(k) is not a SOL amount")
            }
            return UInt64((sol * 1e9).rounded(.up))
        }
        (p25, p50, p75, p95, p99) = (try lamports("landed_tips_25th_percentile"), try lamports("landed_tips_50th_percentile"),
                                     try lamports("landed_tips_75th_percentile"), try lamports("landed_tips_95th_percentile"),
                                     try lamports("landed_tips_99th_percentile"))
        ema50 = try lamports("ema_landed_tips_50th_percentile")
    }
}

extension JitoClient {
    /// Jito's public tip-floor endpoint.
    public static let tipFloorURL = "https://bundles-api-rest.jito.wtf/api/v1/bundles/tip_floor"

    /// The tip floor from `url` (the public endpoint, or a stand-in's).
    public static func tipFloor(_ url: String = tipFloorURL, timeout: Duration = .seconds(5)) async throws(RPCError) -> TipFloor {
        let status: UInt, bytes: [UInt8]
        do {
            (status, bytes) = try await HTTPFetch.fetch(url, timeout: timeout, maxBytes: 1 << 20)
        } catch {
            throw RPCError(.transport, "\(url): \(error)")
        }
        guard status == 200 else { throw RPCError(.transport, "\(url): HTTP \(status)") }
        guard let v = try? JSONValue.parse(bytes) else { throw RPCError(.malformedResponse, "tip_floor: not JSON") }
        return try TipFloor(json: v)
    }

    /// Of `engines` (block engine base URLs, e.g. the regions'), the one answering
    /// `getTipAccounts` fastest (the median of `probes` round trips); unreachable ones are skipped.
    /// nil when none answers.
    public static func fastest(_ engines: [String], probes: Int = 3, timeout: Duration = .seconds(2)) async -> String? {
        var best: (url: String, rtt: Duration)? = nil
        let clock = ContinuousClock()
        for url in engines {
            let client = JitoClient(engine: url, timeout: timeout)
            var samples: [Duration] = []
            for _ in 0..<max(1, probes) {
                let start = clock.now
                guard (try? await client.tipAccounts()) != nil else { break }
                samples.append(clock.now - start)
            }
            guard samples.count == max(1, probes) else { continue }
            let median = samples.sorted()[samples.count / 2]
            if best == nil || median < best!.rtt { best = (url, median) }
        }
        return best?.url
    }
}
