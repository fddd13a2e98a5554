/// Compiling instructions into a message as the Solana SDK does (`CompiledKeys`), so that the
/// same instructions give the same bytes: the payer first, then keys by category (writable
/// signers, readonly signers, writable, readonly), each category in key order; for v0, every
/// non-signer that is not invoked as a program and that a table holds is taken from the first
/// table holding it (writable ones, then readonly ones, in key order), indexed by its place there.
extension Message {
    struct KeyMeta {
        var signer = false, writable = false, invoked = false
    }

    public static func compile(payer: PublicKey, instructions: [Instruction], recentBlockhash: [UInt8],
                               tables: [AddressLookupTable]? = nil) throws(SolanaError) -> Message {
        guard recentBlockhash.count == 32 else { throw SolanaError(.invalidMessage, "a blockhash of \(recentBlockhash.count) bytes") }
        var metas: [PublicKey: KeyMeta] = [payer: KeyMeta(signer: true, writable: true)]
        for ix in instructions {
            metas[ix.programId, default: KeyMeta()].invoked = true
            for a in ix.accounts {
                metas[a.pubkey, default: KeyMeta()].signer = metas[a.pubkey, default: KeyMeta()].signer || a.isSigner
                metas[a.pubkey, default: KeyMeta()].writable = metas[a.pubkey, default: KeyMeta()].writable || a.isWritable
            }
        }
        var lookups: [Lookup] = [], loadedWritable: [PublicKey] = [], loadedReadonly: [PublicKey] = []
        let sorted = metas.keys.sorted()
        for table in tables ?? [] {
            // Each address's first place in the table.
            var place: [PublicKey: Int] = [:]
            place.reserveCapacity(table.addresses.count)
            for (i, a) in table.addresses.enumerated() where place[a] == nil { place[a] = i }
            var entry = Lookup(table: table.key, writable: [], readonly: [])
            for writable in [true, false] {
                for key in sorted where key != payer {
                    guard let m = metas[key], !m.signer, !m.invoked, m.writable == writable, let i = place[key], i < 256 else { continue }
                    if writable { entry.writable.append(UInt8(i)); loadedWritable.append(key) } else { entry.readonly.append(UInt8(i)); loadedReadonly.append(key) }
                    metas[key] = nil
                }
            }
            if !entry.writable.isEmpty || !entry.readonly.isEmpty { lookups.append(entry) }
        }
        let rest = sorted.filter { $0 != payer && metas[$0] != nil }
        func keys(signer: Bool, writable: Bool) -> [PublicKey] { rest.filter { metas[$0]!.signer == signer && metas[$0]!.writable == writable } }
        let writableSigners = [payer] + keys(signer: true, writable: true), readonlySigners = keys(signer: true, writable: false)
        let writable = keys(signer: false, writable: true), readonly = keys(signer: false, writable: false)
        let statics = writableSigners + readonlySigners + writable + readonly
        let all = statics + loadedWritable + loadedReadonly
        guard all.count <= 256, writableSigners.count + readonlySigners.count <= 255 else { throw SolanaError(.tooLarge, "\(all.count) accounts") }
        var index: [PublicKey: UInt8] = [:]
        for (i, k) in all.enumerated() { index[k] = UInt8(i) }
        let compiled = instructions.map { ix in
            CompiledInstruction(programIdIndex: index[ix.programId]!, accounts: ix.accounts.map { index[$0.pubkey]! }, data: ix.data)
        }
        let m = Message(version: tables == nil ? .legacy : .v0,
                        header: Header(numRequiredSignatures: UInt8(writableSigners.count + readonlySigners.count),
                                       numReadonlySigned: UInt8(readonlySigners.count), numReadonlyUnsigned: UInt8(readonly.count)),
                        accountKeys: statics, recentBlockhash: recentBlockhash, instructions: compiled, lookups: lookups)
        try m.validate()
        return m
    }
}

/// A signed transaction: compact-u16 signature count, 64-byte signatures, the message. At most
/// 1,232 bytes (a packet).
public struct SolanaTransaction: Hashable, Sendable {
    public static let maxSize = 1_232
    public let signatures: [[UInt8]]
    public let message: Message
    /// The message's bytes as signed (its signatures are over them; serializing appends them).
    public let messageBytes: [UInt8]

    /// Signs `message` with `signers`, each placed at its key's index among the required signers.
    public init(message: Message, signers: [Keypair]) throws(SolanaError) {
        let bytes = message.serialized()
        let required = Int(message.header.numRequiredSignatures)
        var sigs = [[UInt8]](repeating: [UInt8](repeating: 0, count: 64), count: required)
        var signed = Set<Int>()
        for k in signers {
            guard let i = message.accountKeys.prefix(required).firstIndex(of: k.publicKey) else {
                throw SolanaError(.invalidSignature, "\(k.publicKey) is not a signer of the message")
            }
            sigs[i] = try k.sign(bytes)
            signed.insert(i)
        }
        guard signed.count == required else { throw SolanaError(.invalidSignature, "\(required - signed.count) signature(s) missing") }
        let size = CompactU16.encode(UInt16(required)).count + 64 * required + bytes.count
        guard size <= Self.maxSize else { throw SolanaError(.tooLarge, "\(size) bytes, over \(Self.maxSize)") }
        (signatures, self.message, messageBytes) = (sigs, message, bytes)
    }

    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(3 + 64 * signatures.count + messageBytes.count)
        CompactU16.encode(UInt16(signatures.count), into: &out)
        for s in signatures { out += s }
        return out + messageBytes
    }

    /// Strict decoding: one signature per required signer, a valid message, nothing after it, at
    /// most 1,232 bytes. Signatures are not checked here (`verify`).
    public init(bytes: [UInt8]) throws(SolanaError) {
        guard bytes.count <= Self.maxSize else { throw SolanaError(.tooLarge, "\(bytes.count) bytes") }
        var r = ByteReader(bytes)
        let n = try r.length()
        var sigs: [[UInt8]] = []
        for _ in 0..<n { sigs.append(try r.take(64)) }
        let start = r.at
        let m = try Message(reading: &r)
        guard r.atEnd else { throw SolanaError(.invalidMessage, "\(r.remaining) trailing bytes") }
        guard n == Int(m.header.numRequiredSignatures) else {
            throw SolanaError(.invalidSignature, "\(n) signatures for \(m.header.numRequiredSignatures) signers")
        }
        (signatures, message, messageBytes) = (sigs, m, Array(bytes[start...]))
    }

    /// Whether every signature is its signer's over the message.
    public func verify() -> Bool {
        signatures.enumerated().allSatisfy { i, s in Keypair.verify(s, message: messageBytes, signer: message.accountKeys[i]) }
    }

    /// The transaction's id: its first signature, in base58.
    public var id: String { Base58.encode(signatures.first ?? []) }
}
