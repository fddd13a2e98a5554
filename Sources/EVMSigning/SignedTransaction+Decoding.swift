import EVMCodec
import EVMPrimitives

extension SignedTransaction {
    /// Decodes a raw signed transaction (legacy, EIP-2930 or EIP-1559) and recovers its sender.
    ///
    /// Strict: non-canonical RLP, a wrong field count, an unknown type byte, a `to` that is
    /// neither empty nor 20 bytes, a high-`s` signature (EIP-2) or a bad `v` are errors.
    public init(raw: [UInt8]) throws(SigningError) {
        guard let first = raw.first else { throw SigningError(.invalidTransaction, "empty transaction") }
        do {
            if first >= 0xc0 {
                try self.init(legacy: raw)
            } else if first == 1 || first == 2 {
                try self.init(typed: raw, type: TransactionType(rawValue: first)!)
            } else {
                throw SigningError(.invalidTransaction, "unknown transaction type 0x\(String(first, radix: 16))")
            }
        } catch let e as CodecError {
            throw SigningError(.invalidTransaction, "malformed transaction", underlying: e)
        } catch let e as SigningError {
            throw e
        } catch {
            throw SigningError(.invalidTransaction, "malformed transaction")
        }
    }

    private static func fields(_ raw: some Collection<UInt8>, count: Int) throws -> [RLPItem] {
        let items = try RLP.decode(Array(raw)).listValue()
        guard items.count == count else {
            throw SigningError(.invalidTransaction, "expected \(count) fields, found \(items.count)")
        }
        return items
    }

    private static func to(_ item: RLPItem) throws -> Address? {
        let b = try item.bytesValue()
        if b.isEmpty { return nil }
        guard b.count == 20 else { throw SigningError(.invalidTransaction, "`to` is \(b.count) bytes, not 20") }
        return try Address(bytes: b)
    }

    private static func accessList(_ item: RLPItem) throws -> [AccessListEntry] {
        try item.listValue().map { entry in
            let parts = try entry.listValue()
            guard parts.count == 2 else { throw SigningError(.invalidTransaction, "access-list entry needs 2 fields") }
            let a = try parts[0].bytesValue()
            guard a.count == 20 else { throw SigningError(.invalidTransaction, "access-list address is not 20 bytes") }
            let keys = try parts[1].listValue().map { k in
                let kb = try k.bytesValue()
                guard kb.count == 32 else { throw SigningError(.invalidTransaction, "storage key is not 32 bytes") }
                return try UInt256(bigEndian: kb)
            }
            return AccessListEntry(address: try Address(bytes: a), storageKeys: keys)
        }
    }

    private static func signature(r: RLPItem, s: RLPItem, parity: UInt8) throws -> Signature {
        let sig = Signature(r: try r.uint256Value(), s: try s.uint256Value(), yParity: parity)
        guard sig.isLowS else { throw SigningError(.invalidSignature, "signature s is above n/2 (EIP-2)") }
        return sig
    }

    private init(legacy raw: [UInt8]) throws {
        let f = try SignedTransaction.fields(raw, count: 9)
        let v = try f[6].uint256Value()
        let chainId: UInt64?
        let parity: UInt8
        if v == 27 || v == 28 {
            chainId = nil
            parity = UInt8(v.w0 - 27)
        } else if v >= 37 {
            let id = (v - 35) / 2
            guard id.fitsInUInt64 else { throw SigningError(.invalidTransaction, "chain id does not fit in 64 bits") }
            chainId = id.w0
            parity = UInt8(((v - 35) % 2).w0)
        } else {
            throw SigningError(.invalidSignature, "legacy v \(v) is neither 27/28 nor EIP-155")
        }
        let tx = Transaction(
            type: .legacy, chainId: chainId, nonce: try f[0].uint64Value(), gasPrice: try f[1].uint256Value(),
            gasLimit: try f[2].uint64Value(), to: try SignedTransaction.to(f[3]), value: try f[4].uint256Value(),
            data: try f[5].bytesValue())
        try self.init(decoded: tx, signature: SignedTransaction.signature(r: f[7], s: f[8], parity: parity), raw: raw)
    }

    private init(typed raw: [UInt8], type: TransactionType) throws {
        let f = try SignedTransaction.fields(raw.dropFirst(), count: type == .accessList ? 11 : 12)
        let tx: Transaction
        if type == .accessList {
            tx = Transaction(
                type: .accessList, chainId: try f[0].uint64Value(), nonce: try f[1].uint64Value(),
                gasPrice: try f[2].uint256Value(), gasLimit: try f[3].uint64Value(), to: try SignedTransaction.to(f[4]),
                value: try f[5].uint256Value(), data: try f[6].bytesValue(), accessList: try SignedTransaction.accessList(f[7]))
        } else {
            tx = Transaction(
                type: .dynamicFee, chainId: try f[0].uint64Value(), nonce: try f[1].uint64Value(),
                maxPriorityFeePerGas: try f[2].uint256Value(), maxFeePerGas: try f[3].uint256Value(),
                gasLimit: try f[4].uint64Value(), to: try SignedTransaction.to(f[5]), value: try f[6].uint256Value(),
                data: try f[7].bytesValue(), accessList: try SignedTransaction.accessList(f[8]))
        }
        let n = f.count
        let parity = try f[n - 3].uint64Value()
        guard parity <= 1 else { throw SigningError(.invalidSignature, "y parity must be 0 or 1, got \(parity)") }
        try self.init(decoded: tx, signature: SignedTransaction.signature(r: f[n - 2], s: f[n - 1], parity: UInt8(parity)), raw: raw)
    }

    private init(decoded tx: Transaction, signature: Signature, raw: [UInt8]) throws {
        let from = try signature.recoverSigner(digest: tx.signingHash)
        self.init(transaction: tx, signature: signature, from: from)
        // Re-encoding must give back the input byte for byte; anything else was not canonical.
        guard self.raw == raw else { throw SigningError(.invalidTransaction, "transaction encoding is not canonical") }
    }
}
