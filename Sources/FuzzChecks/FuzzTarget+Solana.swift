import SolanaPrimitives
import SolanaVenues

extension FuzzTarget {
    /// A message or a transaction (the first byte says which) decodes only as it serializes: back
    /// to the same bytes, one signature per required signer.
    static func solanaMessage(_ input: [UInt8]) throws(FuzzFailure) -> Bool {
        guard let first = input.first else { return false }
        let bytes = Array(input.dropFirst())
        if first & 1 == 0 {
            guard let m = try? Message(bytes: bytes) else { return false }
            try require(m.serialized() == bytes, "a message decoded from \(bytes) serializes otherwise")
            try require((try? Message(bytes: m.serialized())) == m, "a message changed through its serialization")
        } else {
            guard let tx = try? SolanaTransaction(bytes: bytes) else { return false }
            try require(tx.serialized() == bytes, "a transaction decoded from \(bytes) serializes otherwise")
            try require(tx.signatures.count == Int(tx.message.header.numRequiredSignatures), "\(tx.signatures.count) signatures for \(tx.message.header.numRequiredSignatures) signers")
            try require(tx.messageBytes == tx.message.serialized(), "its message bytes are not its message's")
        }
        return true
    }

    /// An account (the first byte picks the layout) decodes the same every time; a token account's
    /// amount is its little-endian u64 at 64; a Raydium pool over two decoded vaults never holds
    /// more than they do.
    static func solanaAccounts(_ input: [UInt8]) throws(FuzzFailure) -> Bool {
        guard let first = input.first else { return false }
        let data = Array(input.dropFirst())
        func same<T: Equatable>(_ decode: ([UInt8]) throws(VenueDecodeError) -> T) throws(FuzzFailure) -> Bool {
            let a = try? decode(data), b = try? decode(data)
            try require(a == b, "\(T.self) decoded two ways")
            return a != nil
        }
        switch first % 11 {
        case 0: return try same(RaydiumAMMAccount.init(data:))
        case 1:
            if let t = try? SPLTokenAccount(data: data) {
                let amount = data[64..<72].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                try require(t.amount == amount, "a token account's amount \(t.amount), its bytes \(amount)")
            }
            return try same(SPLTokenAccount.init(data:))
        case 2: return try same(WhirlpoolAccount.init(data:))
        case 3: return try same(WhirlpoolTickArray.init(data:))
        case 4: return try same(DLMMPairAccount.init(data:))
        case 5: return try same(DLMMBinArray.init(data:))
        case 6: return try same(RaydiumCLMMAccount.init(data:))
        case 7: return try same(RaydiumCLMMConfig.init(data:))
        case 8: return try same(RaydiumCLMMTickArray.init(data:))
        case 9: return try same(PhoenixMarketAccount.init(data:))
        default:
            let clock = try same(ClockSysvar.init(data:))
            // An AmmInfo and two token accounts cut from the input.
            guard data.count >= 752 + 2 * 165, let info = try? RaydiumAMMAccount(data: Array(data[0..<752])),
                  let coin = try? SPLTokenAccount(data: Array(data[752..<917])), let pc = try? SPLTokenAccount(data: Array(data[917..<1082])),
                  let pool = try? info.pool(coinVault: coin, pcVault: pc) else { return clock }
            try require(pool.coinReserve <= coin.amount && pool.pcReserve <= pc.amount, "a Raydium pool holding more than its vaults")
            return true
        }
    }
}
