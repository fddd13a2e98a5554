import JSONRPC
import Logging
import Opportunities
import ServiceLifecycle
import SolanaClient
import SolanaDetection
import SolanaPrimitives
import SolanaVenues
import StreamBus

/// Partition P4's detector over RPC: finds the venues' pools by `getProgramAccounts` (each venue's
/// program, filtered by its pool account's size), then every interval reads every account the pool
/// book follows (`getMultipleAccounts`, each at its context slot, so an older read never replaces
/// a newer one), applies what changed, and publishes what the cycle detector finds on the bus.
/// Discovery is repeated now and then, so a pool created later is followed too.
public actor SolanaPoolWatcher: Service {
    public struct Configuration: Sendable {
        public var venues: [SolanaPoolBook.Venue]
        public var detector: SolanaCycleDetector.Configuration
        public var interval: Duration
        /// Discovery again after this many polls.
        public var rediscoverEvery: Int
        public var partition: String
        public init(venues: [SolanaPoolBook.Venue] = SolanaPoolBook.Venue.allCases, detector: SolanaCycleDetector.Configuration,
                    interval: Duration = .milliseconds(400), rediscoverEvery: Int = 150, partition: String = "P4") {
            (self.venues, self.detector, self.interval, self.rediscoverEvery, self.partition) = (venues, detector, interval, rediscoverEvery, partition)
        }
    }

    public struct Status: Sendable, Equatable {
        public var polls = 0
        /// Polls whose reads failed (the RPC down or answering badly): counted, retried next interval.
        public var failedPolls = 0
        public var discovered = 0
        public var published = 0
        public var pools = 0
        public var book = SolanaPoolBook.Counts()
        public var detector = SolanaCycleDetector.Counts()
    }

    let rpc: SolanaRPC
    let bus: any OpportunityBus
    let configuration: Configuration
    let logger: Logger
    /// Unix time in nanoseconds (the opportunities' timestamps and expiry).
    let clock: @Sendable () -> UInt64
    var book = SolanaPoolBook()
    var detector: SolanaCycleDetector
    /// The data last read per account: a poll applies only what changed.
    var seen: [PublicKey: [UInt8]] = [:]
    public private(set) var status = Status()

    public init(rpc: SolanaRPC, bus: any OpportunityBus, configuration: Configuration, logger: Logger, clock: @escaping @Sendable () -> UInt64) {
        (self.rpc, self.bus, self.configuration, self.logger, self.clock) = (rpc, bus, configuration, logger, clock)
        detector = SolanaCycleDetector(configuration: configuration.detector)
    }

    /// The size of each venue's pool account: the filter that finds its pools among the program's accounts.
    static func poolSize(_ venue: SolanaPoolBook.Venue) -> Int {
        switch venue {
        case .raydiumAMM: RaydiumAMMAccount.size
        case .whirlpool: WhirlpoolAccount.size
        case .meteoraDLMM: DLMMPairAccount.size
        }
    }

    /// Finds the venues' pools and follows the new ones; returns how many were new.
    @discardableResult
    public func discover() async throws(RPCError) -> Int {
        var new = 0
        for venue in configuration.venues {
            let (slot, found) = try await rpc.programAccounts(venue.program, filters: [.dataSize(Self.poolSize(venue))])
            for (key, account) in found where book.venue(of: key) == nil {
                book.watch(key, venue: venue)
                seen[key] = account.data
                book.apply(key, slot: slot, data: account.data)
                new += 1
            }
        }
        status.discovered += new
        return new
    }

    /// Reads every followed account once and detects on what changed; returns what was published.
    @discardableResult
    public func poll(now: UInt64) async throws(RPCError) -> [Opportunity] {
        status.polls += 1
        // A pool's dependencies become known once its own account is applied: read until none is missing.
        var changed = Set<PublicKey>()
        var slot: UInt64 = 0
        var keys = book.followed
        for _ in 0..<3 where !keys.isEmpty {
            let read = try await rpc.accountsRead(keys)
            for (key, r) in zip(keys, read) {
                slot = max(slot, r.slot)
                let data = r.account?.data
                guard seen[key] != (data ?? []) else { continue }
                seen[key] = data ?? []
                for pool in book.apply(key, slot: r.slot, data: data) { changed.insert(pool) }
            }
            keys = book.missing
        }
        status.pools = book.entries.count
        status.book = book.counts
        let found = detector.detect(book, changed: changed.sorted(), slot: slot, now: now)
        status.detector = detector.counts
        var published: [Opportunity] = []
        for o in found {
            do {
                try await bus.publish(o, partition: configuration.partition)
                published.append(o)
            } catch {
                logger.warning("Solana opportunity not published", metadata: ["error": "\(error)"])
            }
        }
        status.published += published.count
        return published
    }

    public func run() async throws {
        var polls = 0
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                if polls % max(configuration.rediscoverEvery, 1) == 0 { try await discover() }
                try await poll(now: clock())
            } catch {
                status.failedPolls += 1
                logger.debug("Solana poll failed", metadata: ["error": "\(error)"])
            }
            polls += 1
            try? await Task.sleep(for: configuration.interval)
        }
    }
}
