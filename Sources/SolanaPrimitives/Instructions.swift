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

func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian, Array.init) }
