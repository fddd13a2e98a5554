import Feeds
import MarketWatch
import SolanaWatch

extension FuzzTarget {
    /// A recorded input (the first byte picks the stream's kind: market watch, CEX feed, Solana
    /// detection; the second, the input's kind): what decodes encodes to bytes that decode to the
    /// same input, and encoding that is stable.
    static func recordedInputs(_ input: [UInt8]) throws(FuzzFailure) -> Bool {
        guard input.count >= 2 else { return false }
        let kind = input[1], payload = Array(input.dropFirst(2))
        switch input[0] % 3 {
        case 0:
            guard let w = try? WatchInput(kind: kind, payload: payload) else { return false }
            guard let bytes = try? w.encoded() else { throw FuzzFailure("a decoded watch input \(w) does not encode") }
            try require((try? WatchInput(kind: w.kind, payload: bytes)) == w && w.kind == kind, "a watch input changed through its encoding")
            try require((try? WatchInput(kind: kind, payload: bytes).encoded()) == bytes, "a watch input's encoding not stable")
        case 1:
            guard let f = try? FeedInput(kind: kind, payload: payload) else { return false }
            let bytes = f.encoded()
            try require((try? FeedInput(kind: f.kind, payload: bytes)) == f && f.kind == kind, "a feed input changed through its encoding")
            try require((try? FeedInput(kind: kind, payload: bytes))?.encoded() == bytes, "a feed input's encoding not stable")
        default:
            guard let s = try? SolanaWatchStep.Input(kind: kind, payload: payload) else { return false }
            let bytes = s.encoded()
            try require((try? SolanaWatchStep.Input(kind: s.kind, payload: bytes)) == s && s.kind == kind, "a Solana watch input changed through its encoding")
            try require((try? SolanaWatchStep.Input(kind: kind, payload: bytes))?.encoded() == bytes, "a Solana watch input's encoding not stable")
        }
        return true
    }
}
