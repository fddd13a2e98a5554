/// The decoders fuzzed (`scripts/fuzz`, harness `Fuzz/Harness.swift`), each with the properties
/// an input that decodes must have: a round trip to the same bytes where the format is canonical,
/// a decode that does not depend on how the input was split or encoded where it is not, the
/// invariants of what was decoded. An input a decoder refuses with its typed error passes; a
/// property broken throws `FuzzFailure` (the harness traps on it, so libFuzzer keeps the input;
/// `FuzzCorpusTests` runs every kept input again in the normal suite).
public enum FuzzTarget: String, CaseIterable, Sendable {
    case rlp
    case abi
    case rawTransaction = "raw-transaction"
    case json
    case jsonRPC = "json-rpc"
    case poolLogs = "pool-logs"
    case resp
    case opportunity
    case registry
    case binance
    case solanaMessage = "solana-message"
    case solanaAccounts = "solana-accounts"
    case cowSettle = "cow-settle"
    case recordedInputs = "recorded-inputs"

    /// Runs the target's checks on one input; whether the decoder took it (false: refused, which
    /// is no failure).
    @discardableResult
    public func check(_ input: [UInt8]) throws(FuzzFailure) -> Bool {
        switch self {
        case .rlp: return try Self.rlp(input)
        case .abi: return try Self.abi(input)
        case .rawTransaction: return try Self.rawTransaction(input)
        case .json: return try Self.json(input)
        case .jsonRPC: return try Self.jsonRPC(input)
        case .poolLogs: return try Self.poolLogs(input)
        case .resp: return try Self.resp(input)
        case .opportunity: return try Self.opportunity(input)
        case .registry: return try Self.registry(input)
        case .binance: return try Self.binance(input)
        case .solanaMessage: return try Self.solanaMessage(input)
        case .solanaAccounts: return try Self.solanaAccounts(input)
        case .cowSettle: return try Self.cowSettle(input)
        case .recordedInputs: return try Self.recordedInputs(input)
        }
    }
}
