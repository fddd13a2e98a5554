import AMMMath
import EVMPrimitives
import SolanaPrimitives

/// A Phoenix (v1) market account: its `MarketHeader` (576 bytes) and the `FIFOMarket` after it,
/// whose bids and asks are sokoban red-black trees of `(FIFOOrderId, FIFORestingOrder)` nodes.
/// Layouts from Ellipsis-Labs/phoenix-v1 (`program/accounts.rs`, `state/markets/fifo.rs`,
/// `program/dispatch_market.rs`) and Ellipsis-Labs/sokoban (`red_black_tree.rs`,
/// `node_allocator.rs`), all `repr(C)`:
///
/// - header: discriminant 0 (keccak256(program id ‖ "phoenix::program::accounts::MarketHeader")[..8]),
///   status 8 (1 Active: the only status a taker may cross in), bids/asks/seats capacities 16/24/32,
///   base params 40 (decimals, vault bump, mint 48, vault 80), base lot size 112, quote params 120
///   (mint 128, vault 160), quote lot size 192, tick size in quote atoms per base unit 200;
/// - market at 576: 256 bytes of padding, base lots per base unit 832, tick size in quote lots per
///   base unit 840, sequence number 848, taker fee bps 856, fees 864/872, bids at 880;
/// - a tree: root u32, 12 bytes of padding, then its allocator (size u64, bump index u32, free
///   list head u32) and `capacity` nodes of 64 bytes (registers left, right, parent, colour as u32,
///   then price in ticks, sequence number, trader index, base lots, last valid slot, last valid
///   unix time, each u64); node i (1-based) is the (i − 1)th; 0 is the sentinel;
/// - then the traders' tree (nodes of 16 + 32 + 96 bytes), not needed to quote.
///
/// The orders are read by an in-order walk from the root, checked to come out in the book's own
/// order (asks by price then sequence up; bids by price down, then by inverted sequence down),
/// and to be as many as the allocator says: a node out of range, a cycle or a misordered tree is
/// refused.
public struct PhoenixMarketAccount: Equatable, Sendable {
    public static let program = try! PublicKey(base58: "PhoeNiXZ8ByJGLkxNfZRnkUfjvmuYqLR89jjFHGqdXY")
    public static let headerSize = 576
    /// Where the base and quote mints sit (discovery filters on them).
    public static let mintOffsets = (48, 128)
    /// The market sizes the program dispatches on: (bids, asks, seats).
    public static let sizes: [(UInt64, UInt64, UInt64)] = [
        (512, 512, 128), (512, 512, 1025), (512, 512, 1153), (1024, 1024, 128), (1024, 1024, 2049), (1024, 1024, 2177),
        (2048, 2048, 128), (2048, 2048, 4097), (2048, 2048, 4225), (4096, 4096, 128), (4096, 4096, 8193), (4096, 4096, 8321),
    ]
    public static let discriminant: UInt64 = {
        let h = Keccak256.hash(program.bytes + Array("phoenix::program::accounts::MarketHeader".utf8))
        return (0..<8).reduce(UInt64(0)) { $0 | UInt64(h[$1]) << (8 * UInt64($1)) }
    }()
    static let orderNode = 64, traderNode = 144, treeHeader = 32, marketFields = 256 + 48

    /// The account size for capacities (bids, asks, seats).
    public static func size(bids: UInt64, asks: UInt64, seats: UInt64) -> Int {
        headerSize + marketFields + 3 * treeHeader + orderNode * Int(bids + asks) + traderNode * Int(seats)
    }

    public var status: UInt64
    public var baseMint: PublicKey
    public var baseVault: PublicKey
    public var quoteMint: PublicKey
    public var quoteVault: PublicKey
    public var baseDecimals: UInt32
    public var quoteDecimals: UInt32
    public var baseLotSize: UInt64
    public var quoteLotSize: UInt64
    public var baseLotsPerBaseUnit: UInt64
    public var tickSizeInQuoteLotsPerBaseUnit: UInt64
    public var takerFeeBps: UInt64
    public var asks: [PhoenixBook.Order]
    public var bids: [PhoenixBook.Order]

    public init(data: [UInt8]) throws(VenueDecodeError) {
        let kind = "Phoenix market"
        guard data.count >= Self.headerSize + Self.marketFields else { throw VenueDecodeError(.length, "\(kind): \(data.count) bytes") }
        let head = try AccountReader(Array(data[0..<Self.headerSize]), kind: kind, size: Self.headerSize)
        guard head.u64(0) == Self.discriminant else { throw VenueDecodeError(.discriminator, "\(kind): discriminant \(head.u64(0))") }
        let (bidsCap, asksCap, seats) = (head.u64(16), head.u64(24), head.u64(32))
        guard Self.sizes.contains(where: { $0 == (bidsCap, asksCap, seats) }) else {
            throw VenueDecodeError(.value, "\(kind): capacities \(bidsCap)/\(asksCap)/\(seats) are not one the program dispatches")
        }
        let size = Self.size(bids: bidsCap, asks: asksCap, seats: seats)
        guard data.count >= size else { throw VenueDecodeError(.length, "\(kind): \(data.count) bytes, expected \(size)") }
        let r = try AccountReader(Array(data[0..<size]), kind: kind, size: size)
        status = r.u64(8)
        guard status <= 6 else { throw VenueDecodeError(.value, "\(kind): status \(status)") }
        baseDecimals = r.u32(40)
        baseMint = r.key(Self.mintOffsets.0)
        baseVault = r.key(80)
        baseLotSize = r.u64(112)
        quoteDecimals = r.u32(120)
        quoteMint = r.key(Self.mintOffsets.1)
        quoteVault = r.key(160)
        quoteLotSize = r.u64(192)
        baseLotsPerBaseUnit = r.u64(832)
        tickSizeInQuoteLotsPerBaseUnit = r.u64(840)
        takerFeeBps = r.u64(856)
        guard baseLotSize > 0, quoteLotSize > 0, baseLotsPerBaseUnit > 0, tickSizeInQuoteLotsPerBaseUnit > 0, takerFeeBps <= 10_000 else {
            throw VenueDecodeError(.value, "\(kind): lot sizes \(baseLotSize)/\(quoteLotSize), \(baseLotsPerBaseUnit) lots per unit, tick \(tickSizeInQuoteLotsPerBaseUnit), fee \(takerFeeBps) bps")
        }
        let bidsAt = Self.headerSize + Self.marketFields
        let asksAt = bidsAt + Self.treeHeader + Self.orderNode * Int(bidsCap)
        bids = try Self.orders(r, at: bidsAt, capacity: bidsCap, bids: true)
        asks = try Self.orders(r, at: asksAt, capacity: asksCap, bids: false)
    }

    /// Crossing the book is allowed (status Active).
    public var active: Bool { status == 1 }

    /// The book at the cluster's clock.
    public func book(slot: UInt64, unixTimestamp: UInt64) throws(AMMError) -> PhoenixBook {
        try PhoenixBook(baseLotSize: baseLotSize, quoteLotSize: quoteLotSize, baseLotsPerBaseUnit: baseLotsPerBaseUnit,
                        tickSize: tickSizeInQuoteLotsPerBaseUnit, takerFeeBps: takerFeeBps, asks: asks, bids: bids, slot: slot, unixTimestamp: unixTimestamp)
    }

    /// One side's orders in the book's order: an in-order walk of its tree.
    static func orders(_ r: AccountReader, at base: Int, capacity: UInt64, bids: Bool) throws(VenueDecodeError) -> [PhoenixBook.Order] {
        let side = bids ? "bids" : "asks"
        let root = r.u32(base), count = r.u64(base + 16)
        guard count <= capacity else { throw VenueDecodeError(.value, "Phoenix market: \(count) \(side) in a tree of \(capacity)") }
        let nodes = base + Self.treeHeader
        func node(_ i: UInt32) -> Int { nodes + Self.orderNode * Int(i - 1) }
        var out: [PhoenixBook.Order] = []
        out.reserveCapacity(Int(count))
        var keys: [(price: UInt64, sequence: UInt64)] = []
        var stack: [UInt32] = []
        var at = root
        // Each node is entered once: a walk longer than the allocator's count is a cycle or garbage.
        while at != 0 || !stack.isEmpty {
            while at != 0 {
                guard UInt64(at) <= capacity, stack.count <= Int(count) else {
                    throw VenueDecodeError(.value, "Phoenix market: \(side) tree node \(at) out of range or too deep")
                }
                stack.append(at)
                at = r.u32(node(at))  // left
            }
            let i = stack.removeLast()
            let o = node(i)
            guard out.count < Int(count) else { throw VenueDecodeError(.value, "Phoenix market: \(side) tree holds more than its \(count) orders") }
            let key = (price: r.u64(o + 16), sequence: r.u64(o + 24))
            if let last = keys.last {
                // Asks: price then sequence ascending. Bids: price descending, then the inverted sequence descending.
                let ordered = bids ? (key.price < last.price || key.price == last.price && key.sequence < last.sequence)
                    : (key.price > last.price || key.price == last.price && key.sequence > last.sequence)
                guard ordered else { throw VenueDecodeError(.value, "Phoenix market: \(side) out of order at node \(i)") }
            }
            guard key.price > 0 else { throw VenueDecodeError(.value, "Phoenix market: an order of the \(side) at price zero") }
            keys.append(key)
            out.append(PhoenixBook.Order(priceInTicks: key.price, baseLots: r.u64(o + 40), lastValidSlot: r.u64(o + 48),
                                         lastValidUnixTimestamp: r.u64(o + 56)))
            at = r.u32(o + 4)  // right
        }
        guard out.count == Int(count) else { throw VenueDecodeError(.value, "Phoenix market: \(out.count) \(side) reached of \(count)") }
        return out
    }
}
