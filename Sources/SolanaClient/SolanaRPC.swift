import EVMCodec
import Foundation
import JSONRPC
import SolanaPrimitives

/// How settled a read or a status is, as the cluster says it.
public enum Commitment: String, Sendable, Comparable {
    case processed, confirmed, finalized

    public static func < (a: Commitment, b: Commitment) -> Bool {
        let order: [Commitment] = [.processed, .confirmed, .finalized]
        return order.firstIndex(of: a)! < order.firstIndex(of: b)!
    }
}

/// An account as `getAccountInfo` gives it (base64 data).
public struct SolanaAccount: Equatable, Sendable {
    public var lamports: UInt64
    public var owner: PublicKey
    public var data: [UInt8]
    public var executable: Bool

    public init(lamports: UInt64, owner: PublicKey, data: [UInt8], executable: Bool) {
        (self.lamports, self.owner, self.data, self.executable) = (lamports, owner, data, executable)
    }

    /// Reads the RPC's account object strictly: lamports, owner, `["<base64>", "base64"]`, executable.
    public init(json v: JSONValue) throws(RPCError) {
        guard let lamports = v["lamports"].flatMap(SolanaRPC.u64), let owner = v["owner"]?.stringValue.flatMap({ try? PublicKey(base58: $0) }),
              let parts = v["data"]?.arrayValue, parts.count == 2, parts[1].stringValue == "base64",
              let text = parts[0].stringValue, let data = Data(base64Encoded: text), case .bool(let executable)? = v["executable"] else {
            throw RPCError(.malformedResponse, "an account without lamports, owner, base64 data or executable")
        }
        self.init(lamports: lamports, owner: owner, data: [UInt8](data), executable: executable)
    }

    /// An SPL Token account's mint, owner and amount (the 165-byte layout, initialized), else nil.
    public var tokenAccount: (mint: PublicKey, owner: PublicKey, amount: UInt64)? {
        guard owner == .tokenProgram || owner == .token2022Program, data.count >= 165, data[108] == 1,
              let mint = try? PublicKey(bytes: Array(data[0..<32])), let holder = try? PublicKey(bytes: Array(data[32..<64])) else { return nil }
        return (mint, holder, data[64..<72].reversed().reduce(0) { $0 << 8 | UInt64($1) })
    }
}

/// A recent blockhash and the last block height at which a transaction using it can land.
public struct Blockhash: Equatable, Sendable {
    public var hash: [UInt8]
    public var lastValidBlockHeight: UInt64
    /// The slot the cluster answered at.
    public var slot: UInt64

    public init(hash: [UInt8], lastValidBlockHeight: UInt64, slot: UInt64) {
        (self.hash, self.lastValidBlockHeight, self.slot) = (hash, lastValidBlockHeight, slot)
    }

    /// Whether a transaction signed with it now can still land with `margin` blocks to spare.
    public func isFresh(atBlockHeight height: UInt64, margin: UInt64) -> Bool { height + margin <= lastValidBlockHeight }
}

/// What `simulateTransaction` said.
public struct Simulation: Equatable, Sendable {
    /// The slot whose state the transaction ran on (the response's context).
    public var slot: UInt64
    /// The transaction error as the cluster writes it (`"BlockhashNotFound"`, `{"InstructionError": [...]}`), nil on success.
    public var err: JSONValue?
    public var logs: [String]
    public var unitsConsumed: UInt64
    /// The requested accounts after the transaction (nil where none).
    public var accounts: [SolanaAccount?]
}

/// A signature's status.
public struct SignatureStatus: Equatable, Sendable {
    public var slot: UInt64
    public var err: JSONValue?
    public var confirmation: Commitment
}

/// A landed transaction as `getTransaction` reports it: its balances before and after, by the
/// index of each account in the message (static keys, then loaded writable, then loaded readonly).
public struct LandedTransaction: Equatable, Sendable {
    public struct TokenBalance: Equatable, Sendable {
        public var accountIndex: Int
        public var mint: PublicKey
        public var owner: PublicKey
        public var amount: UInt64
    }

    public var slot: UInt64
    public var err: JSONValue?
    public var fee: UInt64
    public var preBalances: [UInt64]
    public var postBalances: [UInt64]
    public var preTokenBalances: [TokenBalance]
    public var postTokenBalances: [TokenBalance]
    /// The programs' logs (`meta.logMessages`; empty when the node keeps none).
    public var logs: [String] = []

    /// `owner`'s `mint` balance before (`pre`) or after, summed over its token accounts (0 if none).
    public func tokens(of owner: PublicKey, mint: PublicKey, pre: Bool) -> UInt64 {
        (pre ? preTokenBalances : postTokenBalances).filter { $0.owner == owner && $0.mint == mint }.reduce(0) { $0 + $1.amount }
    }
}

/// Solana's JSON-RPC (HTTP) over the transport stack the EVM side uses (a `ProviderPool` gives
/// failover): every answer read strictly, a wrong shape an error, never a guess.
public struct SolanaRPC: Sendable {
    public let rpc: RPCClient

    public init(_ rpc: RPCClient) { self.rpc = rpc }

    static func u64(_ v: JSONValue) -> UInt64? {
        if case .number(let n) = v { return UInt64(n) }
        return nil
    }

    static func value(_ v: JSONValue, _ what: String) throws(RPCError) -> (slot: UInt64, value: JSONValue) {
        guard let slot = v["context"]?["slot"].flatMap(u64), let value = v["value"] else {
            throw RPCError(.malformedResponse, "\(what): no context.slot or value")
        }
        return (slot, value)
    }

    static func config(_ commitment: Commitment?, _ more: [(String, JSONValue)] = []) -> JSONValue {
        .object((commitment.map { [("commitment", JSONValue.string($0.rawValue))] } ?? []) + more)
    }

    public func latestBlockhash(_ commitment: Commitment = .confirmed) async throws(RPCError) -> Blockhash {
        let (slot, v) = try Self.value(try await rpc.call("getLatestBlockhash", [Self.config(commitment)]), "getLatestBlockhash")
        guard let text = v["blockhash"]?.stringValue, let hash = Base58.decode(text), hash.count == 32,
              let last = v["lastValidBlockHeight"].flatMap(Self.u64) else {
            throw RPCError(.malformedResponse, "getLatestBlockhash: no 32-byte blockhash or lastValidBlockHeight")
        }
        return Blockhash(hash: hash, lastValidBlockHeight: last, slot: slot)
    }

    public func slot(_ commitment: Commitment = .processed) async throws(RPCError) -> UInt64 {
        guard let s = Self.u64(try await rpc.call("getSlot", [Self.config(commitment)])) else { throw RPCError(.malformedResponse, "getSlot: not a u64") }
        return s
    }

    public func blockHeight(_ commitment: Commitment = .processed) async throws(RPCError) -> UInt64 {
        guard let h = Self.u64(try await rpc.call("getBlockHeight", [Self.config(commitment)])) else { throw RPCError(.malformedResponse, "getBlockHeight: not a u64") }
        return h
    }

    public func balance(_ key: PublicKey, _ commitment: Commitment = .processed) async throws(RPCError) -> UInt64 {
        guard let b = Self.u64(try Self.value(try await rpc.call("getBalance", [.string(key.base58), Self.config(commitment)]), "getBalance").value) else {
            throw RPCError(.malformedResponse, "getBalance: not a u64")
        }
        return b
    }

    public func account(_ key: PublicKey, _ commitment: Commitment = .processed) async throws(RPCError) -> SolanaAccount? {
        let v = try Self.value(try await rpc.call("getAccountInfo", [.string(key.base58), Self.config(commitment, [("encoding", .string("base64"))])]), "getAccountInfo").value
        return v.isNull ? nil : try SolanaAccount(json: v)
    }

    /// `getMultipleAccounts`, 100 keys a request (the RPC's limit), in `keys`' order.
    public func accounts(_ keys: [PublicKey], _ commitment: Commitment = .processed) async throws(RPCError) -> [SolanaAccount?] {
        try await accountsRead(keys, commitment).map(\.account)
    }

    /// As `accounts`, each with the slot it was read at (its request's context slot): what a
    /// state kept from accounts needs to order writes.
    public func accountsRead(_ keys: [PublicKey], _ commitment: Commitment = .processed) async throws(RPCError) -> [(slot: UInt64, account: SolanaAccount?)] {
        var out: [(slot: UInt64, account: SolanaAccount?)] = []
        for start in stride(from: 0, to: keys.count, by: 100) {
            let chunk = keys[start..<min(start + 100, keys.count)]
            let (slot, v) = try Self.value(try await rpc.call("getMultipleAccounts", [.array(chunk.map { .string($0.base58) }),
                                                                                    Self.config(commitment, [("encoding", .string("base64"))])]), "getMultipleAccounts")
            guard let items = v.arrayValue, items.count == chunk.count else { throw RPCError(.malformedResponse, "getMultipleAccounts: \(chunk.count) accounts asked, another count answered") }
            for item in items { out.append((slot, item.isNull ? nil : try SolanaAccount(json: item))) }
        }
        return out
    }

    /// A `getProgramAccounts` filter: the account's data size, or bytes at an offset.
    public enum AccountFilter: Sendable, Equatable {
        case dataSize(Int)
        case memcmp(offset: Int, bytes: [UInt8])

        var json: JSONValue {
            switch self {
            case .dataSize(let n): .object([("dataSize", .number(String(n)))])
            case .memcmp(let o, let b): .object([("memcmp", .object([("offset", .number(String(o))), ("bytes", .string(Base58.encode(b)))]))])
            }
        }
    }

    /// `getProgramAccounts` with `filters` (all must hold), with the context slot
    /// (`withContext`): every account `program` owns that passes them, by address.
    public func programAccounts(_ program: PublicKey, filters: [AccountFilter], _ commitment: Commitment = .processed) async throws(RPCError)
        -> (slot: UInt64, accounts: [(key: PublicKey, account: SolanaAccount)]) {
        let config = Self.config(commitment, [("encoding", .string("base64")), ("withContext", .bool(true)), ("filters", .array(filters.map(\.json)))])
        let (slot, v) = try Self.value(try await rpc.call("getProgramAccounts", [.string(program.base58), config]), "getProgramAccounts")
        guard let items = v.arrayValue else { throw RPCError(.malformedResponse, "getProgramAccounts: value is not a list") }
        var out: [(key: PublicKey, account: SolanaAccount)] = []
        for item in items {
            guard let text = item["pubkey"]?.stringValue, let key = try? PublicKey(base58: text), let a = item["account"] else {
                throw RPCError(.malformedResponse, "getProgramAccounts: an entry without pubkey or account")
            }
            out.append((key, try SolanaAccount(json: a)))
        }
        return (slot, out)
    }

    /// An address lookup table's addresses (the program's account: a 56-byte header, then 32-byte keys).
    public func lookupTable(_ key: PublicKey) async throws(RPCError) -> AddressLookupTable? {
        guard let a = try await account(key) else { return nil }
        return try Self.lookupTable(key, a)
    }

    public static let lookupTableProgram = try! PublicKey(base58: "AddressLookupTab1e1111111111111111111111111")

    public static func lookupTable(_ key: PublicKey, _ a: SolanaAccount) throws(RPCError) -> AddressLookupTable {
        guard a.owner == lookupTableProgram, a.data.count >= 56, (a.data.count - 56) % 32 == 0, a.data[0] == 1 else {
            throw RPCError(.malformedResponse, "\(key): not an address lookup table")
        }
        let keys = stride(from: 56, to: a.data.count, by: 32).map { try! PublicKey(bytes: Array(a.data[$0..<$0 + 32])) }
        return AddressLookupTable(key: key, addresses: keys)
    }

    /// `simulateTransaction` (base64), the `addresses`' accounts after it.
    public func simulate(_ tx: SolanaTransaction, accounts addresses: [PublicKey] = [], replaceRecentBlockhash: Bool = false,
                         _ commitment: Commitment = .processed) async throws(RPCError) -> Simulation {
        var more: [(String, JSONValue)] = [("encoding", .string("base64")), ("sigVerify", .bool(!replaceRecentBlockhash)),
                                           ("replaceRecentBlockhash", .bool(replaceRecentBlockhash))]
        if !addresses.isEmpty {
            more.append(("accounts", .object([("addresses", .array(addresses.map { .string($0.base58) })), ("encoding", .string("base64"))])))
        }
        let (slot, v) = try Self.value(try await rpc.call("simulateTransaction", [.string(Data(tx.serialized()).base64EncodedString()), Self.config(commitment, more)]),
                                       "simulateTransaction")
        guard let logs = v["logs"].map({ $0.isNull ? [] : ($0.arrayValue ?? []).compactMap(\.stringValue) }) else {
            throw RPCError(.malformedResponse, "simulateTransaction: no logs")
        }
        let err = v["err"].flatMap { $0.isNull ? nil : $0 }
        var accounts: [SolanaAccount?] = []
        if let items = v["accounts"]?.arrayValue {
            for item in items { accounts.append(item.isNull ? nil : try SolanaAccount(json: item)) }
        }
        return Simulation(slot: slot, err: err, logs: logs, unitsConsumed: v["unitsConsumed"].flatMap(Self.u64) ?? 0, accounts: accounts)
    }

    /// `sendTransaction` (base64): the first signature, base58, which must be the transaction's own.
    public func send(_ tx: SolanaTransaction, skipPreflight: Bool = false, maxRetries: UInt64? = nil) async throws(RPCError) -> String {
        var more: [(String, JSONValue)] = [("encoding", .string("base64")), ("skipPreflight", .bool(skipPreflight))]
        if let maxRetries { more.append(("maxRetries", .number(String(maxRetries)))) }
        let v = try await rpc.callUncancelled("sendTransaction", [.string(Data(tx.serialized()).base64EncodedString()), .object(more)])
        guard let sig = v.stringValue, sig == tx.id else { throw RPCError(.malformedResponse, "sendTransaction: answered another signature than the transaction's") }
        return sig
    }

    /// `getSignatureStatuses`, 256 a request, in order (nil: not known to the cluster).
    public func statuses(_ signatures: [String]) async throws(RPCError) -> [SignatureStatus?] {
        var out: [SignatureStatus?] = []
        for start in stride(from: 0, to: signatures.count, by: 256) {
            let chunk = signatures[start..<min(start + 256, signatures.count)]
            let v = try Self.value(try await rpc.call("getSignatureStatuses", [.array(chunk.map(JSONValue.string)), .object([("searchTransactionHistory", .bool(false))])]),
                                   "getSignatureStatuses").value
            guard let items = v.arrayValue, items.count == chunk.count else { throw RPCError(.malformedResponse, "getSignatureStatuses: wrong count") }
            for item in items {
                if item.isNull { out.append(nil); continue }
                guard let slot = item["slot"].flatMap(Self.u64), let level = item["confirmationStatus"]?.stringValue.flatMap(Commitment.init(rawValue:)) else {
                    throw RPCError(.malformedResponse, "getSignatureStatuses: a status without slot or confirmationStatus")
                }
                out.append(SignatureStatus(slot: slot, err: item["err"].flatMap { $0.isNull ? nil : $0 }, confirmation: level))
            }
        }
        return out
    }

    /// `getTransaction` (base64, v0): nil while the cluster does not have it.
    public func transaction(_ signature: String, _ commitment: Commitment = .confirmed) async throws(RPCError) -> LandedTransaction? {
        let v = try await rpc.call("getTransaction", [.string(signature), Self.config(commitment, [("encoding", .string("base64")),
                                                                                                   ("maxSupportedTransactionVersion", .number("0"))])])
        if v.isNull { return nil }
        guard let slot = v["slot"].flatMap(Self.u64), let meta = v["meta"], let fee = meta["fee"].flatMap(Self.u64),
              let pre = meta["preBalances"]?.arrayValue?.compactMap(Self.u64), let post = meta["postBalances"]?.arrayValue?.compactMap(Self.u64),
              pre.count == post.count, pre.count == meta["preBalances"]?.arrayValue?.count else {
            throw RPCError(.malformedResponse, "getTransaction: no slot, fee or balances")
        }
        func tokens(_ k: String) throws(RPCError) -> [LandedTransaction.TokenBalance] {
            var out: [LandedTransaction.TokenBalance] = []
            for t in meta[k]?.arrayValue ?? [] {
                guard case .number(let i)? = t["accountIndex"], let index = Int(i), index < pre.count,
                      let mint = t["mint"]?.stringValue.flatMap({ try? PublicKey(base58: $0) }), let owner = t["owner"]?.stringValue.flatMap({ try? PublicKey(base58: $0) }),
                      let amount = t["uiTokenAmount"]?["amount"]?.stringValue.flatMap({ UInt64($0) }) else {
                    throw RPCError(.malformedResponse, "getTransaction: a token balance without accountIndex, mint, owner or amount")
                }
                out.append(.init(accountIndex: index, mint: mint, owner: owner, amount: amount))
            }
            return out
        }
        var logs: [String] = []
        if let l = meta["logMessages"], !l.isNull {
            guard let items = l.arrayValue, case let lines = items.compactMap(\.stringValue), lines.count == items.count else {
                throw RPCError(.malformedResponse, "getTransaction: logMessages is not a list of strings")
            }
            logs = lines
        }
        return LandedTransaction(slot: slot, err: meta["err"].flatMap { $0.isNull ? nil : $0 }, fee: fee, preBalances: pre, postBalances: post,
                                 preTokenBalances: try tokens("preTokenBalances"), postTokenBalances: try tokens("postTokenBalances"), logs: logs)
    }

    /// `getRecentPrioritizationFees`: per recent slot, the lowest price (micro-lamports per unit)
    /// a landed transaction locking any of `accounts` paid.
    public func recentPrioritizationFees(_ accounts: [PublicKey]) async throws(RPCError) -> [(slot: UInt64, microLamports: UInt64)] {
        let v = try await rpc.call("getRecentPrioritizationFees", [.array(accounts.map { .string($0.base58) })])
        guard let items = v.arrayValue else { throw RPCError(.malformedResponse, "getRecentPrioritizationFees: not an array") }
        return try items.map { (item) throws(RPCError) in
            guard let s = item["slot"].flatMap(Self.u64), let f = item["prioritizationFee"].flatMap(Self.u64) else {
                throw RPCError(.malformedResponse, "getRecentPrioritizationFees: an entry without slot or prioritizationFee")
            }
            return (s, f)
        }
    }
}
