import ArbiterTestKit
import SolanaDetection
import SolanaPrimitives
import SolanaWatch
import Testing

/// Solana detection's recorded changes (`SolanaWatchStep.Input`): seeded round trips of every
/// kind, every cut and a trailing byte refused as malformed, a bad venue or flag named.
@Suite struct SolanaWatchInputTests {
    @Test func everyKindRoundTripsAndEveryCutIsAnError() throws {
        var rng = SeededGenerator(seed: 23)
        func key() -> PublicKey { PublicKey(rng.bytes(32)[...]) }
        for i in 0..<60 {
            let starts = Dictionary((0..<Int(rng.next() % 3)).map { _ in (key(), SolanaCycleDetector.Start(minProfit: rng.next(), maxIn: rng.next(), costs: rng.next())) },
                                    uniquingKeysWith: { a, _ in a })
            let inputs: [SolanaWatchStep.Input] = [
                .configuration(starts: starts, maxHops: 2 + i % 2, lifetime: rng.next()),
                .watch(key(), venue: SolanaPoolBook.Venue.allCases[i % SolanaPoolBook.Venue.allCases.count]),
                .apply(key(), slot: rng.next(), data: i % 3 == 0 ? nil : rng.bytes(Int(rng.next() % 700)), read: i % 4 < 2),
                .seen(key(), slot: rng.next()),
                .clock(unixTime: Int64(bitPattern: rng.next()), slot: rng.next()),
                .detect(changed: (0..<Int(rng.next() % 4)).map { _ in key() }, slot: rng.next(), now: rng.next()),
            ]
            for input in inputs {
                let bytes = input.encoded()
                #expect(try SolanaWatchStep.Input(kind: input.kind, payload: bytes) == input)
                for cut in Set([0, 1, bytes.count / 2, bytes.count - 1]) where cut < bytes.count {
                    #expect(throws: SolanaWatchStep.Input.Malformed.self) { _ = try SolanaWatchStep.Input(kind: input.kind, payload: Array(bytes.prefix(cut))) }
                }
                #expect(throws: SolanaWatchStep.Input.Malformed.self) { _ = try SolanaWatchStep.Input(kind: input.kind, payload: bytes + [7]) }
            }
        }
        #expect(throws: SolanaWatchStep.Input.Malformed.self) { _ = try SolanaWatchStep.Input(kind: 2, payload: Array(repeating: 1, count: 32) + [9]) }
        #expect(throws: SolanaWatchStep.Input.Malformed.self) { _ = try SolanaWatchStep.Input(kind: 3, payload: Array(repeating: 1, count: 40) + [4]) }
        #expect(throws: SolanaWatchStep.Input.Malformed.self) { _ = try SolanaWatchStep.Input(kind: 8, payload: []) }
    }
}
