import EVMPrimitives

/// Builders of the instructions a Solana trade needs (protocol-facts §6 for the layouts).
public enum SystemProgram {
    /// Transfer: u32 LE 2 ‖ u64 LE lamports; [from: signer, writable; to: writable].
    public static func transfer(from: PublicKey, to: PublicKey, lamports: UInt64) -> Instruction {
        Instruction(programId: .systemProgram, accounts: [AccountMeta(from, signer: true, writable: true), AccountMeta(to, writable: true)],
                    data: le(UInt32(2)) + le(lamports))
    }
}

public enum ComputeBudget {
    public static func requestHeapFrame(_ bytes: UInt32) -> Instruction { ix([0x01] + le(bytes)) }
    public static func setComputeUnitLimit(_ units: UInt32) -> Instruction { ix([0x02] + le(units)) }
    /// Micro-lamports per compute unit.
    public static func setComputeUnitPrice(_ microLamports: UInt64) -> Instruction { ix([0x03] + le(microLamports)) }
    public static func setLoadedAccountsDataSizeLimit(_ bytes: UInt32) -> Instruction { ix([0x04] + le(bytes)) }

    /// The priority fee in lamports of `limit` units at `price` micro-lamports each:
    /// ceil(limit·price/1e6); nil past 64 bits.
    public static func priorityFee(limit: UInt32, price: UInt64) -> UInt64? {
        let product = UInt64(limit).multipliedFullWidth(by: price)
        guard product.high < 1_000_000 else { return nil }
        let (q, r) = UInt64(1_000_000).dividingFullWidth((product.high, product.low))
        return r == 0 ? q : (q == .max ? nil : q + 1)
    }

    static func ix(_ data: [UInt8]) -> Instruction { Instruction(programId: .computeBudgetProgram, accounts: [], data: data) }
}

public enum TokenProgram {
    /// TransferChecked (12): amount u64 LE, decimals u8; [source: writable, mint, destination: writable, authority: signer].
    public static func transferChecked(source: PublicKey, mint: PublicKey, destination: PublicKey, authority: PublicKey, amount: UInt64,
                                       decimals: UInt8, program: PublicKey = .tokenProgram) -> Instruction {
        Instruction(programId: program,
                    accounts: [AccountMeta(source, writable: true), AccountMeta(mint), AccountMeta(destination, writable: true),
                               AccountMeta(authority, signer: true)],
                    data: [12] + le(amount) + [decimals])
    }

    /// SyncNative (17): a wrapped-SOL account's token amount set to its lamports; [account: writable].
    public static func syncNative(_ account: PublicKey, program: PublicKey = .tokenProgram) -> Instruction {
        Instruction(programId: program, accounts: [AccountMeta(account, writable: true)], data: [17])
    }
}

public enum AssociatedTokenProgram {
    /// CreateIdempotent (1): [payer: signer, writable; ata: writable; owner; mint; system program; token program].
    public static func createIdempotent(payer: PublicKey, owner: PublicKey, mint: PublicKey, tokenProgram: PublicKey = .tokenProgram) throws(SolanaError)
        -> Instruction {
        let ata = try PublicKey.associatedTokenAddress(owner: owner, mint: mint, tokenProgram: tokenProgram)
        return Instruction(programId: .associatedTokenProgram,
                           accounts: [AccountMeta(payer, signer: true, writable: true), AccountMeta(ata, writable: true), AccountMeta(owner),
                                      AccountMeta(mint), AccountMeta(.systemProgram), AccountMeta(tokenProgram)],
                           data: [1])
    }
}

/// The lab's token bridge on the Solana stand-in (`tools/solana/bridge.py`), shaped like
/// Wormhole's token bridge where a searcher meets it: a transfer out locks the tokens in the
/// mint's custody (the PDA ["custody", mint]) and posts a message whose sequence the program
/// logs ("Program log: Sequence: N"), the id the relayer fills it under on the other chain.
/// Its amount crosses at 8 decimals at most (the rest stays with the sender).
public struct TokenBridgeProgram: Sendable, Equatable {
    public var program: PublicKey
    public init(program: PublicKey) { self.program = program }

    public func custody(_ mint: PublicKey) throws(SolanaError) -> PublicKey {
        try PublicKey.findProgramAddress(seeds: [Array("custody".utf8), mint.bytes], program: program).0
    }

    /// Transfer (1): amount u64 LE, target chain u64 LE, recipient [32];
    /// [sender: signer; source token account: writable; custody: writable; mint].
    public func transfer(sender: PublicKey, source: PublicKey, mint: PublicKey, amount: UInt64, targetChain: UInt64, recipient: [UInt8]) throws(SolanaError)
        -> Instruction {
        guard recipient.count == 32 else { throw SolanaError(.invalidKey, "a bridge recipient is 32 bytes, not \(recipient.count)") }
        return Instruction(programId: program,
                           accounts: [AccountMeta(sender, signer: true), AccountMeta(source, writable: true), AccountMeta(try custody(mint), writable: true),
                                      AccountMeta(mint)],
                           data: [1] + le(amount) + le(targetChain) + recipient)
    }

    /// The claim account a completed transfer in leaves (the PDA ["claim", source chain u64 LE,
    /// sequence u64 LE]; Wormhole's token bridge keeps one per redeemed message): it exists once
    /// the transfer has been paid, and never twice.
    public func claim(sourceChain: UInt64, sequence: UInt64) throws(SolanaError) -> PublicKey {
        try PublicKey.findProgramAddress(seeds: [Array("claim".utf8), le(sourceChain), le(sequence)], program: program).0
    }

    /// What a transfer in of `amount` units sent at `sentDecimals` pays a mint of `decimals`:
    /// the amount crosses at min(8, `sentDecimals`) decimals (the rest stays on the source chain,
    /// as Wormhole normalizes it) and is scaled up to the mint's; nil if it does not fit 64 bits.
    public static func delivered(_ amount: UInt256, sentDecimals: UInt8, decimals: UInt8) -> UInt64? {
        let wire = min(wireDecimals, sentDecimals)
        guard decimals >= wire else { return nil }
        let (units, _) = amount.quotientAndRemainder(dividingBy: pow10(sentDecimals - wire))
        let (paid, overflow) = units.multipliedReportingOverflow(by: pow10(decimals - wire))
        guard !overflow, paid <= UInt256(UInt64.max) else { return nil }
        return paid.w0
    }

    public static let wireDecimals: UInt8 = 8

    private static func pow10(_ n: UInt8) -> UInt256 { (0..<n).reduce(UInt256.one) { p, _ in p &* UInt256(10) } }

    /// The sequence a transaction's bridge message took, from its logs.
    public static func sequence(logs: [String]) -> UInt64? {
        let prefix = "Program log: Sequence: "
        return logs.lazy.filter { $0.hasPrefix(prefix) }.compactMap { UInt64($0.dropFirst(prefix.count)) }.first
    }
}

func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian, Array.init) }
