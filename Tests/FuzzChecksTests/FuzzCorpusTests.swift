import ArbiterTestKit
import Foundation
import FuzzChecks
import Testing

/// Every input the fuzzers keep (`Fuzz/Corpus/<target>`: seeds from the fixtures and what
/// coverage-guided runs found new) and every input that once broke a property
/// (`Fuzz/Regressions/<target>`), run through the same checks as the harness.
@Suite struct FuzzCorpusTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

    static func inputs(_ folder: String, _ target: FuzzTarget) -> [(String, [UInt8])] {
        let dir = root.appendingPathComponent(folder).appendingPathComponent(target.rawValue)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.sorted().compactMap { name in
            (try? Data(contentsOf: dir.appendingPathComponent(name))).map { (name, Array($0)) }
        }
    }

    @Test(arguments: FuzzTarget.allCases)
    func everyKeptInputHoldsItsProperties(_ target: FuzzTarget) {
        let corpus = Self.inputs("Corpus", target)
        #expect(corpus.count >= 3, "\(target.rawValue): a corpus of \(corpus.count) inputs (run scripts/fuzz --seed)")
        var decoded = 0, seeds = 0, seedsDecoded = 0
        for (name, input) in corpus + Self.inputs("Regressions", target) {
            do {
                let took = try target.check(input)
                if took { decoded += 1 }
                if name.hasPrefix("seed-") {
                    seeds += 1
                    if took { seedsDecoded += 1 }
                }
            } catch {
                Issue.record("\(target.rawValue)/\(name): \(error)")
            }
        }
        // The seeds reach past the decoders' first refusals: a third of them at least decode (what
        // runs added is kept for the coverage it reached, refusals included).
        #expect(seeds >= 3 && seedsDecoded * 3 >= seeds && decoded > 0, "\(target.rawValue): \(seedsDecoded) of \(seeds) seeds decode")
    }
}
