import SolanaPrimitives

/// The Clock sysvar (`SysvarC1ock11111111111111111111111111111111`, owned by
/// `Sysvar1111111111111111111111111111111111111`): the cluster's time as programs see it, five
/// little-endian 8-byte fields (slot, epoch start time, epoch, leader-schedule epoch, unix time;
/// `solana_program::clock::Clock`, 40 bytes). A Meteora DLMM pair's variable fee and a Phoenix
/// order's expiry depend on its unix time.
public struct ClockSysvar: Equatable, Sendable {
    public static let address = try! PublicKey(base58: "SysvarC1ock11111111111111111111111111111111")
    public static let owner = try! PublicKey(base58: "Sysvar1111111111111111111111111111111111111")
    public static let size = 40

    public var slot: UInt64
    public var epochStartTimestamp: Int64
    public var epoch: UInt64
    public var leaderScheduleEpoch: UInt64
    public var unixTimestamp: Int64

    public init(data: [UInt8]) throws(VenueDecodeError) {
        let r = try AccountReader(data, kind: "Clock", size: Self.size)
        (slot, epochStartTimestamp, epoch, leaderScheduleEpoch, unixTimestamp) = (r.u64(0), r.i64(8), r.u64(16), r.u64(24), r.i64(32))
    }
}
