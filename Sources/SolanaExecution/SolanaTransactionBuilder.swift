import SolanaClient
import SolanaPrimitives

/// Composes one Solana arbitrage transaction: our compute budget (a unit limit from the
/// simulation with a margin, a unit price from recent prioritization fees), the routes' setup
/// instructions (each once), their swap instructions in order, what must follow the swaps (a
/// bridge transfer of what they bought), their cleanups, and a Jito tip as
/// a System transfer to a tip account inside the same transaction; a v0 message with the routes'
/// lookup tables, never loading the tip account through one; at most 1,232 bytes signed.
public enum SolanaTransactionBuilder {
    public struct Plan: Sendable {
        public var payer: PublicKey
        public var routes: [JupiterInstructions]
        public var unitLimit: UInt32
        public var unitPrice: UInt64
        public var tip: (account: PublicKey, lamports: UInt64)?
        public var blockhash: [UInt8]
        public var tables: [AddressLookupTable]
        /// Instructions after the swaps, before the cleanups (which may close what the swaps filled).
        public var after: [Instruction]

        public init(payer: PublicKey, routes: [JupiterInstructions], unitLimit: UInt32, unitPrice: UInt64, tip: (account: PublicKey, lamports: UInt64)?,
                    blockhash: [UInt8], tables: [AddressLookupTable], after: [Instruction] = []) {
            (self.payer, self.routes, self.unitLimit, self.unitPrice, self.tip, self.blockhash, self.tables) = (payer, routes, unitLimit, unitPrice, tip, blockhash, tables)
            self.after = after
        }
    }

    public struct Failure: Error, Equatable, Sendable, CustomStringConvertible {
        public enum Kind: String, Sendable { case noRoute, tipInLookupTable, tooLarge, invalid }
        public var kind: Kind
        public var detail: String
        public var description: String { "\(kind.rawValue): \(detail)" }
    }

    public static let maxUnits: UInt32 = 1_400_000

    /// The instructions in order.
    public static func instructions(_ p: Plan) throws(Failure) -> [Instruction] {
        guard !p.routes.isEmpty else { throw Failure(kind: .noRoute, detail: "no route to build") }
        var out = [ComputeBudget.setComputeUnitLimit(p.unitLimit), ComputeBudget.setComputeUnitPrice(p.unitPrice)]
        var seen = Set<Instruction>()
        for r in p.routes { for ix in r.setup where seen.insert(ix).inserted { out.append(ix) } }
        for r in p.routes { out += r.other + [r.swap] }
        out += p.after
        for r in p.routes { if let c = r.cleanup, seen.insert(c).inserted { out.append(c) } }
        if let tip = p.tip {
            guard !p.tables.contains(where: { $0.addresses.contains(tip.account) }) else {
                throw Failure(kind: .tipInLookupTable, detail: "\(tip.account) is in a lookup table: a tip account must be a static key")
            }
            out.append(SystemProgram.transfer(from: p.payer, to: tip.account, lamports: tip.lamports))
        }
        return out
    }

    /// The signed transaction.
    public static func transaction(_ p: Plan, signer: Keypair) throws(Failure) -> SolanaTransaction {
        guard signer.publicKey == p.payer else { throw Failure(kind: .invalid, detail: "the signer is not the payer") }
        let list = try instructions(p)
        do {
            let message = try Message.compile(payer: p.payer, instructions: list, recentBlockhash: p.blockhash, tables: p.tables)
            return try SolanaTransaction(message: message, signers: [signer])
        } catch {
            throw Failure(kind: error.code == .tooLarge ? .tooLarge : .invalid, detail: "\(error)")
        }
    }

    /// The unit limit for what a simulation consumed: `marginBps` more, at least `floor`, at most 1.4 M.
    public static func unitLimit(simulated units: UInt64, marginBps: UInt64 = 2_000, floor: UInt32 = 5_000) -> UInt32 {
        let padded = units + (units * marginBps + 9_999) / 10_000
        return UInt32(min(UInt64(maxUnits), max(UInt64(floor), padded)))
    }

    /// The unit price (micro-lamports) at `percentile` of the recent non-zero prices, at most
    /// `cap`, at least `floor`.
    public static func unitPrice(recent fees: [UInt64], percentile: Double = 0.75, floor: UInt64 = 1, cap: UInt64) -> UInt64 {
        let paid = fees.filter { $0 > 0 }.sorted()
        guard !paid.isEmpty else { return min(floor, cap) }
        let i = min(paid.count - 1, Int((Double(paid.count - 1) * percentile).rounded(.up)))
        return min(cap, max(floor, paid[i]))
    }

    /// The fee in lamports: 5,000 a signature plus ceil(limit × price / 10^6).
    /// (Saturating: a price past 64 bits of lamports is `UInt64.max`, which no profit clears.)
    public static func fee(signatures: Int, limit: UInt32, price: UInt64) -> UInt64 {
        let (sum, overflow) = (UInt64(signatures) * 5_000).addingReportingOverflow(ComputeBudget.priorityFee(limit: limit, price: price) ?? .max)
        return overflow ? .max : sum
    }
}
