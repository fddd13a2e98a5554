import EVMPrimitives

/// Reads a harness's input front to back; past its end, zeros (a harness never runs out).
struct FuzzReader {
    let input: [UInt8]
    var at = 0

    init(_ input: [UInt8]) { self.input = input }

    var atEnd: Bool { at >= input.count }

    mutating func byte() -> UInt8 {
        defer { at += 1 }
        return at < input.count ? input[at] : 0
    }

    mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in byte() } }

    mutating func word() -> UInt256 { try! UInt256(bigEndian: bytes(32)) }

    /// What is left.
    mutating func rest() -> [UInt8] {
        defer { at = input.count }
        return at < input.count ? Array(input[at...]) : []
    }
}
