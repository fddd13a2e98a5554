import Foundation

/// SplitMix64: a small, fast, seedable generator, so that generated test inputs are reproducible.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// Standard normal (Box–Muller over two uniforms in (0, 1)).
    public mutating func normal() -> Double {
        let u = (Double(next() >> 11) + 0.5) / Double(1 << 53), v = Double(next() >> 11) / Double(1 << 53)
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }

    /// `count` random bytes.
    public mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) }
    }

    /// `input` with one to four random edits: flip a byte, cut, insert, delete, or splice a
    /// boundary value (0x00, 0x7f, 0x80, 0xb7, 0xb8, 0xbf, 0xc0, 0xf7, 0xf8, 0xff) that length
    /// prefixes treat specially.
    public mutating func mutate(_ input: [UInt8]) -> [UInt8] {
        let boundaries: [UInt8] = [0x00, 0x01, 0x7f, 0x80, 0x81, 0xb7, 0xb8, 0xbf, 0xc0, 0xf7, 0xf8, 0xff]
        var b = input
        for _ in 0..<Int.random(in: 1...4, using: &self) {
            switch Int.random(in: 0..<6, using: &self) {
            case 0 where !b.isEmpty: b[Int.random(in: 0..<b.count, using: &self)] = UInt8.random(in: 0...255, using: &self)
            case 1 where !b.isEmpty: b.removeLast(Int.random(in: 1...b.count, using: &self))
            case 2: b.insert(UInt8.random(in: 0...255, using: &self), at: Int.random(in: 0...b.count, using: &self))
            case 3 where !b.isEmpty: b.remove(at: Int.random(in: 0..<b.count, using: &self))
            case 4 where !b.isEmpty: b[Int.random(in: 0..<b.count, using: &self)] = boundaries.randomElement(using: &self)!
            default: b.append(contentsOf: bytes(Int.random(in: 1...40, using: &self)))
            }
        }
        return b
    }
}
