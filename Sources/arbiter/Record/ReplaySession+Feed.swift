import Detection
import EVMCodec
import Feeds
import Pipeline
import Recording
import Registry

extension ReplaySession {
    /// The exchange's feed read back: each recorded change (`FeedInput`) applied to a fresh
    /// `CexFeedState` of the recorded symbols, so that the books stand, at every point of the
    /// recording, as they stood live.
    struct Feed {
        let maxAge: UInt64
        var state: CexFeedState?
        var steps = 0
        var undecodable = 0
        var frames = 0
        var applied = 0
        var malformed = 0
        /// CEX references kept with detection moments, and those computed again identically
        /// (`CexPrices.reference`) from the replayed books (their age aside).
        var checked = 0
        var identical = 0
        /// The books before each of the last few changes, newest first: a detection moment is
        /// recorded just after it read its references, and a burst of frames may have been applied
        /// (and recorded) in between, never before a read that saw them (both under the feed's lock).
        var before: [[CexBook]] = []
        static let lookBack = 8

        var json: JSONValue {
            func n(_ v: Int) -> JSONValue { .number(String(v)) }
            return .object([("feed", .string("binance")), ("steps", n(steps)), ("frames", n(frames)), ("applied", n(applied)), ("malformed", n(malformed)),
                            ("undecodable", n(undecodable)), ("symbols", n(state?.symbols.count ?? 0)), ("referencesChecked", n(checked)),
                            ("referencesIdentical", n(identical))])
        }

        var line: String {
            "binance feed: \(steps) changes, \(frames) frames (\(applied) applied, \(malformed) malformed)" + (undecodable > 0 ? ", \(undecodable) undecodable" : "")
                + "; references detection weighed: \(checked), \(identical) computed again identically from the replayed books"
        }

        init(registry: Registry) { maxAge = UInt64(registry.cexFeed.maxAgeMillis) * 1_000_000 }

        mutating func apply(_ e: RecordedEvent) {
            steps += 1
            guard let input = try? FeedInput(kind: e.kind, payload: e.payload) else {
                undecodable += 1
                return
            }
            if case .symbols(let names) = input {
                var o = CexFeedState.Options()
                o.maxAge = maxAge
                state = CexFeedState(symbols: names, options: o)
                return
            }
            guard state != nil else {
                undecodable += 1  // a change before the symbols: the stream's head is missing
                return
            }
            before.insert(state!.books, at: 0)
            if before.count > Self.lookBack { before.removeLast() }
            let r = state!.perform(input)
            guard case .frame = input else { return }
            frames += 1
            switch r.outcome {
            case .applied, .gap: applied += 1
            case .malformed: malformed += 1
            default: break
            }
        }
    }

    /// Checks the references a detection moment weighed against the replayed books: each is
    /// computed again from the book of its symbol (and of its divisor) as they stand at this point,
    /// or as they stood before one of the last few changes (`Feed.before`).
    mutating func check(_ references: [CexReference], chainID: UInt64) {
        guard !references.isEmpty, let stream = feeds.keys.min(), let feed = feeds[stream], let state = feed.state, let registry else { return }
        if cexPairs == nil {
            let watched = Set(chains.values.map(\.chainID))
            cexPairs = CexPlan.markets(registry, chains: registry.chains.filter { $0.id.map(watched.contains) ?? false })
        }
        guard let market = cexPairs, market.symbols == state.symbols else {
            feeds[stream]!.checked += references.count  // another market than the recorded feed's: none found again
            return
        }
        for r in references {
            feeds[stream]!.checked += 1
            guard let p = market.pairs.first(where: { $0.chainID == chainID && market.symbols[$0.symbol] == r.symbol && $0.base == r.base && $0.quote == r.quote })
            else { continue }
            let found = ([state.books] + feed.before).contains { books in
                CexPrices.reference(p, book: books[p.symbol], divisor: p.divideBy.map { books[$0] }, ageMillis: r.ageMillis,
                                    bandBps: CexPrices.defaultBandBps) == r
            }
            if found { feeds[stream]!.identical += 1 }
        }
    }
}
