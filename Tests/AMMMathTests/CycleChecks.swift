import AMMMath
import EVMPrimitives
import Testing

/// `amountOut − amountIn` of a cycle at `x`, or nil if the path cannot take it.
func cycleProfit(_ path: Path, _ x: UInt256) -> Int256? {
    guard !x.isZero, let out = try? path.amountOut(x) else { return nil }
    return Int256(bitPattern: out) &- Int256(bitPattern: x)
}

/// The optimiser's answer is profitable, reports its own profit, and beats ±1 wei, ±1%, ±10%,
/// double and half.
func expectNoNearbyInputBeats(_ path: Path, _ best: Optimizer.Sizing, sourceLocation: SourceLocation = #_sourceLocation) {
    let x = best.amountIn
    guard let p = cycleProfit(path, x) else {
        Issue.record("the answer \(x) cannot be traded", sourceLocation: sourceLocation)
        return
    }
    #expect(p > .zero && p == Int256(bitPattern: best.grossProfit), sourceLocation: sourceLocation)
    for alt in [x + 1, x - 1, x + x / 100, x - x / 100, x + x / 10, x - x / 10, x * 2, x / 2] {
        if let q = cycleProfit(path, alt) { #expect(q <= p, "input \(alt)", sourceLocation: sourceLocation) }
    }
}
