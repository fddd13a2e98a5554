import EVMPrimitives

/// The least input for which `quote` pays at least `wanted`, for pools without an exact-output
/// formula (Curve, Solidly): doubling to a bracket, then bisection. `quote` must only grow with
/// its input; a throw counts as paying too little.
func leastInput(paying wanted: UInt256, below limit: UInt256, _ quote: (UInt256) throws(AMMError) -> UInt256) throws(AMMError) -> UInt256 {
    func pays(_ x: UInt256) -> Bool { ((try? quote(x)) ?? .zero) >= wanted }
    var hi = UInt256.one
    while !pays(hi) {
        guard hi < limit else { throw AMMError(.insufficientLiquidity, "the pool cannot pay \(wanted)") }
        hi <<= 1
    }
    var lo = hi >> 1  // pays less than wanted (or is zero)
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2
        if pays(mid) { hi = mid } else { lo = mid }
    }
    return hi
}
