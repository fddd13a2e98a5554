/// A 20-byte account address, held as integers so that hashing and comparison are cheap.
///
/// Parse at the edge with ``init(hex:)``; mixed-case input must carry a valid EIP-55 checksum,
/// all-lowercase and all-uppercase input is accepted as is. ``description`` prints the checksummed form.
@frozen
public struct Address: Sendable, Hashable, Comparable {
    /// Bytes 0..<8, 8..<16 and 16..<20, big-endian, so tuple order is byte order.
    @usableFromInline var hi: UInt64
    @usableFromInline var mid: UInt64
    @usableFromInline var lo: UInt32

    @inlinable
    init(hi: UInt64, mid: UInt64, lo: UInt32) {
        self.hi = hi
        self.mid = mid
        self.lo = lo
    }

    public static let zero = Address(hi: 0, mid: 0, lo: 0)

    /// Reads exactly 20 bytes.
    @inlinable
    public init<C: Collection>(bytes: C) throws(PrimitiveError) where C.Element == UInt8 {
        guard bytes.count == 20 else {
            throw PrimitiveError(.invalidLength, "an address is 20 bytes, got \(bytes.count)")
        }
        var h: UInt64 = 0, m: UInt64 = 0, l: UInt32 = 0
        for (i, b) in bytes.enumerated() {
            switch i {
            case 0..<8: h = h << 8 | UInt64(b)
            case 8..<16: m = m << 8 | UInt64(b)
            default: l = l << 8 | UInt32(b)
            }
        }
        self.init(hi: h, mid: m, lo: l)
    }

    /// Reads 20 bytes from raw memory.
    @inlinable
    public init(bytesAt p: UnsafeRawPointer) {
        self.init(
            hi: UInt64(bigEndian: p.loadUnaligned(as: UInt64.self)),
            mid: UInt64(bigEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
            lo: UInt32(bigEndian: p.loadUnaligned(fromByteOffset: 16, as: UInt32.self)))
    }

    /// The low 160 bits of a word, as an ABI `address` is stored.
    @inlinable
    public init(truncating word: UInt256) {
        self.init(hi: word.w2 << 32 | word.w1 >> 32, mid: word.w1 << 32 | word.w0 >> 32, lo: UInt32(truncatingIfNeeded: word.w0))
    }

    /// The address as a word (zero-extended on the left).
    @inlinable
    public var word: UInt256 {
        UInt256(limbs: mid << 32 | UInt64(lo), hi << 32 | mid >> 32, hi >> 32, 0)
    }

    /// The 20 bytes.
    @inlinable
    public var bytes: [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 20) { buf, n in
            write(to: UnsafeMutableRawPointer(buf.baseAddress!))
            n = 20
        }
    }

    /// Writes the 20 bytes.
    @inlinable
    public func write(to p: UnsafeMutableRawPointer) {
        p.storeBytes(of: hi.bigEndian, toByteOffset: 0, as: UInt64.self)
        p.storeBytes(of: mid.bigEndian, toByteOffset: 8, as: UInt64.self)
        p.storeBytes(of: lo.bigEndian, toByteOffset: 16, as: UInt32.self)
    }

    /// Parses `0x` + 40 hex digits, enforcing EIP-55 when the letters are mixed-case.
    public init(hex text: some StringProtocol) throws(PrimitiveError) {
        guard text.hasPrefix("0x") || text.hasPrefix("0X") else {
            throw PrimitiveError(.invalidAddress, "an address starts with 0x", input: String(text))
        }
        let digits = text.dropFirst(2)
        guard digits.utf8.count == 40 else {
            throw PrimitiveError(.invalidAddress, "an address has 40 hex digits", input: String(text))
        }
        let bytes: [UInt8]
        do { bytes = try Hex.decode(digits) } catch {
            throw PrimitiveError(.invalidAddress, "an address is hex", input: String(text))
        }
        try self.init(bytes: bytes)
        let hasLower = digits.utf8.contains { $0 >= 0x61 && $0 <= 0x66 }
        let hasUpper = digits.utf8.contains { $0 >= 0x41 && $0 <= 0x46 }
        if hasLower && hasUpper && "0x" + digits != checksummed {
            throw PrimitiveError(.badChecksum, "address fails its EIP-55 checksum (expected \(checksummed))", input: String(text))
        }
    }

    /// The EIP-55 mixed-case form.
    public var checksummed: String {
        let lower = Array(Hex.encode(bytes, prefix: false).utf8)
        let hash = Keccak256.hash(lower)
        var out: [UInt8] = Array("0x".utf8)
        for (i, c) in lower.enumerated() {
            let nibble = i % 2 == 0 ? hash[i / 2] >> 4 : hash[i / 2] & 0x0f
            out.append(c >= 0x61 && nibble >= 8 ? c - 32 : c)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Lowercase `0x` hex.
    public var lowercased: String { Hex.encode(bytes) }

    @inlinable
    public static func < (lhs: Address, rhs: Address) -> Bool {
        (lhs.hi, lhs.mid, lhs.lo) < (rhs.hi, rhs.mid, rhs.lo)
    }
}

extension Address: CustomStringConvertible, LosslessStringConvertible {
    public var description: String { checksummed }

    public init?(_ description: String) {
        guard let a = try? Address(hex: description) else { return nil }
        self = a
    }
}

extension Address {
    /// The address of a contract deployed with CREATE2:
    /// `keccak256(0xff ‖ deployer ‖ salt ‖ keccak256(initCode))[12:]`.
    public static func create2(deployer: Address, salt: UInt256, initCodeHash: UInt256) -> Address {
        var buf = [UInt8](repeating: 0, count: 85)
        buf.withUnsafeMutableBytes { p in
            p[0] = 0xff
            deployer.write(to: p.baseAddress! + 1)
            salt.writeBigEndian(to: p.baseAddress! + 21)
            initCodeHash.writeBigEndian(to: p.baseAddress! + 53)
        }
        let digest = Keccak256.hash(buf)
        return try! Address(bytes: digest[12...])
    }

    /// The address of a contract deployed with CREATE by `deployer` at `nonce`:
    /// `keccak256(rlp([deployer, nonce]))[12:]`.
    public static func create(deployer: Address, nonce: UInt64) -> Address {
        // RLP by hand here: the primitives layer sits below the codec.
        var payload: [UInt8] = [0x94] + deployer.bytes
        if nonce == 0 {
            payload.append(0x80)
        } else if nonce < 0x80 {
            payload.append(UInt8(nonce))
        } else {
            let n = UInt256(nonce).minimalBigEndianBytes
            payload.append(0x80 + UInt8(n.count))
            payload += n
        }
        let digest = Keccak256.hash([0xc0 + UInt8(payload.count)] + payload)
        return try! Address(bytes: digest[12...])
    }
}
