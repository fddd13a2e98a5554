/// An account an instruction reads or writes, and whether it must sign.
public struct AccountMeta: Hashable, Sendable {
    public var pubkey: PublicKey
    public var isSigner: Bool
    public var isWritable: Bool
    public init(_ pubkey: PublicKey, signer: Bool = false, writable: Bool = false) {
        self.pubkey = pubkey
        isSigner = signer
        isWritable = writable
    }
}

/// One instruction before compilation: a program, its accounts, its data.
public struct Instruction: Hashable, Sendable {
    public var programId: PublicKey
    public var accounts: [AccountMeta]
    public var data: [UInt8]
    public init(programId: PublicKey, accounts: [AccountMeta], data: [UInt8]) {
        self.programId = programId
        self.accounts = accounts
        self.data = data
    }
}

/// An address lookup table's key and the addresses it holds (its account's contents).
public struct AddressLookupTable: Hashable, Sendable {
    public var key: PublicKey
    public var addresses: [PublicKey]
    public init(key: PublicKey, addresses: [PublicKey]) {
        self.key = key
        self.addresses = addresses
    }
}

/// A legacy or v0 message (protocol-facts §6): the header, the static keys (writable signers,
/// readonly signers, writable non-signers, readonly non-signers; the payer first), the recent
/// blockhash, the compiled instructions, and (v0) the lookups. Account indices run over the
/// static keys, then every lookup's writable addresses, then every lookup's readonly ones.
public struct Message: Hashable, Sendable {
    public enum Version: Hashable, Sendable { case legacy, v0 }

    public struct Header: Hashable, Sendable {
        public var numRequiredSignatures: UInt8
        public var numReadonlySigned: UInt8
        public var numReadonlyUnsigned: UInt8
    }

    public struct CompiledInstruction: Hashable, Sendable {
        public var programIdIndex: UInt8
        public var accounts: [UInt8]
        public var data: [UInt8]
    }

    public struct Lookup: Hashable, Sendable {
        public var table: PublicKey
        public var writable: [UInt8]
        public var readonly: [UInt8]
    }

    public var version: Version
    public var header: Header
    public var accountKeys: [PublicKey]
    public var recentBlockhash: [UInt8]
    public var instructions: [CompiledInstruction]
    public var lookups: [Lookup]

    public init(version: Version, header: Header, accountKeys: [PublicKey], recentBlockhash: [UInt8], instructions: [CompiledInstruction],
                lookups: [Lookup]) {
        self.version = version
        self.header = header
        self.accountKeys = accountKeys
        self.recentBlockhash = recentBlockhash
        self.instructions = instructions
        self.lookups = lookups
    }

    /// Every account the indices can name: static keys, then lookups' writable, then readonly.
    public var accountCount: Int { accountKeys.count + lookups.reduce(0) { $0 + $1.writable.count + $1.readonly.count } }

    /// Whether index `i` is writable under the header and the lookups (as the runtime reads it).
    public func isWritable(_ i: Int) -> Bool {
        let signed = Int(header.numRequiredSignatures), n = accountKeys.count
        if i < signed { return i < signed - Int(header.numReadonlySigned) }
        if i < n { return i < n - Int(header.numReadonlyUnsigned) }
        return i - n < lookups.reduce(0) { $0 + $1.writable.count }
    }

    public func isSigner(_ i: Int) -> Bool { i < Int(header.numRequiredSignatures) }

    // MARK: bytes

    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(8 + 32 * (accountKeys.count + lookups.count + 1) + instructions.reduce(0) { $0 + 6 + $1.accounts.count + $1.data.count }
                            + lookups.reduce(0) { $0 + 6 + $1.writable.count + $1.readonly.count })
        if version == .v0 { out.append(0x80) }
        out += [header.numRequiredSignatures, header.numReadonlySigned, header.numReadonlyUnsigned]
        CompactU16.encode(UInt16(accountKeys.count), into: &out)
        for k in accountKeys { out += k.bytes }
        out += recentBlockhash
        CompactU16.encode(UInt16(instructions.count), into: &out)
        for ix in instructions {
            out.append(ix.programIdIndex)
            CompactU16.encode(UInt16(ix.accounts.count), into: &out)
            out += ix.accounts
            CompactU16.encode(UInt16(ix.data.count), into: &out)
            out += ix.data
        }
        if version == .v0 {
            CompactU16.encode(UInt16(lookups.count), into: &out)
            for l in lookups {
                out += l.table.bytes
                CompactU16.encode(UInt16(l.writable.count), into: &out)
                out += l.writable
                CompactU16.encode(UInt16(l.readonly.count), into: &out)
                out += l.readonly
            }
        }
        return out
    }

    /// Strict decoding of a whole message: a version prefix of 0x80 (v0) or none (legacy; other
    /// versions refused), lengths in compact-u16, a header the keys can hold, no duplicate static
    /// key, every index within the accounts, a program never from a lookup, nothing after it.
    public init(bytes: [UInt8]) throws(SolanaError) {
        var r = ByteReader(bytes)
        try self.init(reading: &r)
        guard r.atEnd else { throw SolanaError(.invalidMessage, "\(r.remaining) trailing bytes") }
    }

    init(reading r: inout ByteReader) throws(SolanaError) {
        let first = try r.peek()
        if first & 0x80 != 0 {
            guard first == 0x80 else { throw SolanaError(.invalidMessage, "message version \(first & 0x7f)") }
            version = .v0
            _ = try r.byte()
        } else {
            version = .legacy
        }
        header = Header(numRequiredSignatures: try r.byte(), numReadonlySigned: try r.byte(), numReadonlyUnsigned: try r.byte())
        let keyCount = try r.length()
        accountKeys = []
        for _ in 0..<keyCount { accountKeys.append(try PublicKey(bytes: try r.take(32))) }
        recentBlockhash = try r.take(32)
        instructions = []
        for _ in 0..<(try r.length()) {
            let program = try r.byte()
            let accounts = try r.take(try r.length())
            instructions.append(CompiledInstruction(programIdIndex: program, accounts: accounts, data: try r.take(try r.length())))
        }
        lookups = []
        if version == .v0 {
            for _ in 0..<(try r.length()) {
                let table = try PublicKey(bytes: try r.take(32))
                let writable = try r.take(try r.length())
                lookups.append(Lookup(table: table, writable: writable, readonly: try r.take(try r.length())))
            }
        }
        try validate()
    }

    func validate() throws(SolanaError) {
        let h = header, n = accountKeys.count
        guard h.numRequiredSignatures >= 1, Int(h.numRequiredSignatures) <= n, h.numReadonlySigned < h.numRequiredSignatures,
              Int(h.numReadonlyUnsigned) <= n - Int(h.numRequiredSignatures) else {
            throw SolanaError(.invalidMessage, "a header of \(h.numRequiredSignatures)/\(h.numReadonlySigned)/\(h.numReadonlyUnsigned) for \(n) keys")
        }
        guard Set(accountKeys).count == n else { throw SolanaError(.invalidMessage, "a static key twice") }
        guard accountCount <= 256 else { throw SolanaError(.invalidMessage, "\(accountCount) accounts") }
        for l in lookups where l.writable.isEmpty && l.readonly.isEmpty { throw SolanaError(.invalidMessage, "a lookup of no address: \(l.table)") }
        for ix in instructions {
            guard Int(ix.programIdIndex) < n, ix.programIdIndex > 0 else { throw SolanaError(.invalidMessage, "program index \(ix.programIdIndex)") }
            guard ix.accounts.allSatisfy({ Int($0) < accountCount }) else { throw SolanaError(.invalidMessage, "an account index past \(accountCount)") }
        }
    }
}

/// Reads a byte buffer front to back, every read bounded.
struct ByteReader {
    let bytes: [UInt8]
    var at = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    var atEnd: Bool { at == bytes.count }
    var remaining: Int { bytes.count - at }

    func peek() throws(SolanaError) -> UInt8 {
        guard at < bytes.count else { throw SolanaError(.truncated, "at byte \(at)") }
        return bytes[at]
    }

    mutating func byte() throws(SolanaError) -> UInt8 {
        let b = try peek()
        at += 1
        return b
    }

    mutating func take(_ n: Int) throws(SolanaError) -> [UInt8] {
        guard n <= remaining else { throw SolanaError(.truncated, "\(n) bytes wanted at byte \(at), \(remaining) left") }
        defer { at += n }
        return Array(bytes[at..<at + n])
    }

    mutating func length() throws(SolanaError) -> Int {
        guard let (v, used) = CompactU16.decode(bytes, at: at) else { throw SolanaError(.nonCanonical, "a compact-u16 at byte \(at)") }
        at += used
        return Int(v)
    }
}
