import EVMPrimitives

/// The dense index of each address in a set that only grows (a book's pools): open addressing
/// with linear probing, at most half full, hashed multiplicatively from the address's words.
/// Every log looks its pool up here; a `Dictionary` spends a SipHash of 20 bytes on each.
/// Probing stays short whatever addresses logs carry: only our own pools are ever inserted.
struct AddressIndex: Sendable {
    private var keys: [Address] = []
    /// The index stored with the key in the same slot; -1: the slot is empty.
    private var values: [Int32] = []
    /// 64 − log2(capacity): the hash's top bits choose the slot.
    private var shift = 0
    private(set) var count = 0

    init() { rebuild(capacity: 16) }

    private func slot(_ a: Address) -> Int {
        let w = a.word
        let x = w.w0 ^ (w.w1 &* 0xC2B2_AE3D_27D4_EB4F) ^ (w.w2 &* 0x1656_67B1_9E37_79F9)
        return Int(truncatingIfNeeded: (x &* 0x9E37_79B9_7F4A_7C15) >> UInt64(shift))
    }

    subscript(_ a: Address) -> Int? {
        var i = slot(a)
        let mask = values.count - 1
        while true {
            let v = values[i]
            if v < 0 { return nil }
            if keys[i] == a { return Int(v) }
            i = (i + 1) & mask
        }
    }

    /// Adds `a` (not present yet) with `index`.
    mutating func insert(_ a: Address, _ index: Int) {
        precondition(index >= 0 && index <= Int(Int32.max), "an index beyond Int32")
        if (count + 1) * 2 > values.count { rebuild(capacity: values.count * 2) }
        place(a, Int32(index))
        count += 1
    }

    private mutating func place(_ a: Address, _ v: Int32) {
        var i = slot(a)
        let mask = values.count - 1
        while values[i] >= 0 { i = (i + 1) & mask }
        keys[i] = a
        values[i] = v
    }

    private mutating func rebuild(capacity: Int) {
        let held = zip(keys, values).filter { $0.1 >= 0 }
        keys = Array(repeating: .zero, count: capacity)
        values = Array(repeating: -1, count: capacity)
        shift = 64 - capacity.trailingZeroBitCount
        for (k, v) in held { place(k, v) }
    }
}
