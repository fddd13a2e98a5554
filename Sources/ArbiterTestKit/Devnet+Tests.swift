import Foundation
@_exported import LabKit

extension Devnet {
    /// The repository root, found from this source file.
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A devnet of this checkout for a test (see `init(root:…)`).
    public convenience init(chainId: UInt64, lab: Bool = true, market: Bool = false, blockTime: Double = 0, seed: Int = 1, mirrors: Int = 0,
                            statArb: Int? = nil) async throws {
        try await self.init(root: Self.root, chainId: chainId, lab: lab, market: market, blockTime: blockTime, seed: seed, mirrors: mirrors, statArb: statArb)
    }

    /// A loopback port nothing listens on (for tests of refused connections).
    public static func freePortForTests() throws -> Int { try freePort() }
}

extension BinanceStandIn {
    /// A stand-in Binance server of this checkout for a test (see `init(root:…)`).
    public convenience init(seed: Int = 1, scale: Double = 1, tick: Double = 0.05, chaosEvery: Double = 0) async throws {
        try await self.init(root: Devnet.root, seed: seed, scale: scale, tick: tick, chaosEvery: chaosEvery)
    }
}

extension SolanaStandIn {
    /// A Solana stand-in of this checkout for a test (see `init(root:…)`).
    public convenience init(seed: Int = 1, slotMillis: Int = 400, fund: [String: UInt64] = [:], tokens: [String: [String: UInt64]] = [:], drift: Bool = false) async throws {
        try await self.init(root: Devnet.root, seed: seed, slotMillis: slotMillis, fund: fund, tokens: tokens, drift: drift)
    }
}
