import EVMPrimitives

/// The least input for which `quote` pays at least `wanted`, for pools without an exact-output
/// formula (Curve, Solidly, the Solana venues). `quote` must only grow with its input; a throw
/// counts as paying too little.
///
/// Without a guess: doubling from 1 to a bracket, then bisection. With one (an estimate of the
/// answer from the pool's local model): a few secant steps on the exact quotes bring it within a
/// few units, then a gallop outward from it brackets the answer and bisection settles it, so the
/// cost is a handful of quotes rather than two per bit of the answer. Either way the answer is the
/// exact least input: the guess only decides where the search starts.
func leastInput(paying wanted: UInt256, below limit: UInt256, guess: Double? = nil,
                _ quote: (UInt256) throws(AMMError) -> UInt256) throws(AMMError) -> UInt256 {
    func paid(_ x: UInt256) -> UInt256 { (try? quote(x)) ?? .zero }
    var lo: UInt256, hi: UInt256  // lo pays less than wanted (or is zero), hi pays it
    if let guess, guess.isFinite, guess >= 1, guess < limit.doubleValue {
        var x = UInt256(UInt64(min(guess.rounded(.up), 1.8e19)))
        var fx = paid(x)
        var previous: (x: Double, f: Double)? = nil
        let target = wanted.doubleValue
        for _ in 0..<3 where fx != wanted && !fx.isZero {
            let (xd, fd) = (x.doubleValue, fx.doubleValue)
            let slope = previous.map { p in p.f != fd ? (fd - p.f) / (xd - p.x) : fd / xd } ?? fd / xd
            guard slope > 0, slope.isFinite else { break }
            let next = (xd + (target - fd) / slope).rounded(.up)
            guard next >= 1, next < min(limit.doubleValue, 1.8e19), next != xd else { break }
            previous = (xd, fd)
            x = UInt256(UInt64(next))
            fx = paid(x)
        }
        var step = UInt256.one
        if fx >= wanted {
            hi = x
            while true {
                guard hi > step else { lo = .zero; break }
                let down = hi - step
                if paid(down) < wanted { lo = down; break }
                hi = down
                step <<= 1
            }
        } else {
            lo = x
            while true {
                let up = lo + step
                guard up < limit else { throw AMMError(.insufficientLiquidity, "the pool cannot pay \(wanted)") }
                if paid(up) >= wanted { hi = up; break }
                lo = up
                step <<= 1
            }
        }
    } else {
        hi = .one
        while paid(hi) < wanted {
            guard hi < limit else { throw AMMError(.insufficientLiquidity, "the pool cannot pay \(wanted)") }
            hi <<= 1
        }
        lo = hi >> 1
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2
        if paid(mid) >= wanted { hi = mid } else { lo = mid }
    }
    return hi
}
