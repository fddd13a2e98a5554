/// Keccak-256 as Ethereum uses it: the original Keccak padding (0x01), not SHA3-256's (0x06).
public enum Keccak256 {
    /// Bytes absorbed per permutation: 1600 − 2·256 bits.
    @usableFromInline static let rate = 136

    /// Hashes `count` bytes at `input` and writes the 32-byte digest to `output`.
    @inlinable
    public static func hash(_ input: UnsafeRawPointer?, count: Int, into output: UnsafeMutableRawPointer) {
        if count == 32 || count == 64, let input {
            hashWords(input, count: count, into: output)
        } else {
            sponge(input, count: count, into: output)
        }
    }

    /// Any length: the sponge over a state in memory, a block at a time.
    @inlinable
    static func sponge(_ input: UnsafeRawPointer?, count: Int, into output: UnsafeMutableRawPointer) {
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 25) { buf in
            let s = buf.baseAddress!
            s.initialize(repeating: 0, count: 25)
            var offset = 0
            // Whole blocks.
            while count - offset >= rate {
                let p = input! + offset
                for i in 0..<(rate / 8) {
                    s[i] ^= UInt64(littleEndian: p.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))
                }
                permute(s)
                offset += rate
            }
            // Last partial block with padding 0x01 … 0x80.
            let tail = count - offset
            let whole = tail / 8
            if let input {
                let p = input + offset
                for i in 0..<whole {
                    s[i] ^= UInt64(littleEndian: p.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))
                }
                var last: UInt64 = 0
                for j in 0..<(tail % 8) {
                    last |= UInt64(p.load(fromByteOffset: whole * 8 + j, as: UInt8.self)) << UInt64(8 * j)
                }
                s[whole] ^= last
            }
            s[whole] ^= UInt64(0x01) << UInt64(8 * (tail % 8))
            s[rate / 8 - 1] ^= 0x8000_0000_0000_0000
            permute(s)
            for i in 0..<4 {
                output.storeBytes(of: s[i].littleEndian, toByteOffset: i * 8, as: UInt64.self)
            }
        }
    }

    /// The 32-byte digest of `bytes`.
    @inlinable
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 32) { out, n in
            hash(bytes.baseAddress, count: bytes.count, into: out.baseAddress!)
            n = 32
        }
    }

    /// The 32-byte digest of `bytes`.
    @inlinable
    public static func hash<C: Collection>(_ bytes: C) -> [UInt8] where C.Element == UInt8 {
        if let digest = bytes.withContiguousStorageIfAvailable({ hash(UnsafeRawBufferPointer($0)) }) {
            return digest
        }
        return Array(bytes).withUnsafeBytes { hash($0) }
    }

    /// The digest of UTF-8 text.
    public static func hash(utf8 text: String) -> [UInt8] { hash(Array(text.utf8)) }

    /// The digest as a big-endian 256-bit word, with no heap allocation.
    @inlinable
    public static func hashWord(_ bytes: UnsafeRawBufferPointer) -> UInt256 {
        withUnsafeTemporaryAllocation(byteCount: 32, alignment: 8) { out in
            hash(bytes.baseAddress, count: bytes.count, into: out.baseAddress!)
            return UInt256(bigEndianWordAt: UnsafeRawPointer(out.baseAddress!))
        }
    }
}
