import AMMMath
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
/// program, filtered by its pool account's size), then keeps the pool book fresh and publishes
/// what the cycle detector finds on the bus, one of two ways:
/// - `run()` polls: every interval it reads every account the book follows (`getMultipleAccounts`,
///   each at its context slot, so an older read never replaces a newer one) and applies what changed;
/// - `follow(_:)` subscribes, as `following` says: each venue's program (`programSubscribe`:
///   pools, tick arrays, bin arrays) and each followed token vault (`accountSubscribe`); or every
///   followed account one by one (`accountSubscribe`, up to a limit; a mainnet node's program
///   subscription would carry every pool of the venue). Every notification is applied at its slot
///   and detected on at once; a (re)subscription reads afresh what it covers, and a poll every
///   `fallback` catches what a lost notification missed (and what is past the limit).
/// Discovery is repeated now and then, so a pool created later is followed too.
public actor SolanaPoolWatcher: Service {
    /// How `follow` subscribes.
    public enum Following: Sendable, Equatable {
        /// Each venue's program, and the vaults one by one.
        case programs
        /// Every followed account one by one, at most `limit` of them.
        case accounts(limit: Int)
    }

    public struct Configuration: Sendable {
        public var following: Following = .programs
        public var venues: [SolanaPoolBook.Venue]
        public var detector: SolanaCycleDetector.Configuration
        public var interval: Duration
        /// Discovery again after this many polls.
        public var rediscoverEvery: Int
        public var partition: String
        /// Only pools between two of these mints (found with `memcmp` filters on each mint
        /// position, so a venue's other pools never leave the node); nil: every pool of the venue.
        public var mints: Set<PublicKey>?
        public init(venues: [SolanaPoolBook.Venue] = SolanaPoolBook.Venue.allCases, detector: SolanaCycleDetector.Configuration,
                    interval: Duration = .milliseconds(400), rediscoverEvery: Int = 150, partition: String = "P4", mints: Set<PublicKey>? = nil,
                    following: Following = .programs) {
            (self.venues, self.detector, self.interval, self.rediscoverEvery, self.partition) = (venues, detector, interval, rediscoverEvery, partition)
            (self.mints, self.following) = (mints, following)
        }
    }

    public struct Status: Sendable, Equatable {
        public var polls = 0
        /// Polls whose reads failed (the RPC down or answering badly): counted, retried next interval.
        public var failedPolls = 0
        public var discovered = 0
        /// Pools found by one of their mints whose other mint is not among `mints`: not followed.
        public var outside = 0
        public var published = 0
        /// Notifications applied (`follow`), and those for accounts the book does not follow.
        public var notifications = 0
        public var ignored = 0
        /// Reads or notifications of an account older than what was already taken of it (refused).
        public var olderReads = 0
        /// Accounts subscribed one by one now, and subscriptions the node confirmed (each followed
        /// by a fresh read of what it covers).
        public var subscriptions = 0
        public var confirmed = 0
        /// Subscriptions confirmed now, each counted once (programs, the Clock sysvar, accounts
        /// still subscribed): `confirmed` also counts confirmations again after a reconnect or a
        /// subscription made anew.
        public var live = 0
        public var pools = 0
        /// The cluster's unix time as its Clock sysvar last said (0 before it was read), and reads
        /// of the sysvar that did not decode.
        public var clock: Int64 = 0
        public var clockUnreadable = 0
        public var book = SolanaPoolBook.Counts()
        public var detector = SolanaCycleDetector.Counts()
    }

    let rpc: SolanaRPC
    let bus: any OpportunityBus
    public nonisolated let configuration: Configuration
    let logger: Logger
    /// Unix time in nanoseconds (the opportunities' timestamps and expiry).
    let clock: @Sendable () -> UInt64
    /// The cluster's WebSocket, when `run()` follows subscriptions rather than polling.
    let session: WebSocketSession?
    /// The book and the detector: changed only through `perform` (recorded when recording).
    var step: SolanaWatchStep
    var book: SolanaPoolBook { step.book }
    var detector: SolanaCycleDetector { step.detector }
    /// `--record`: each change to the step, and each opportunity published.
    let recorder: (@Sendable (SolanaWatchStep.Recorded) -> Void)?
    /// The data last taken per account and the slot it was read or notified at: what changed is
    /// applied, and nothing older than what was taken replaces it (see `take`).
    var seen: [PublicKey: (slot: UInt64, data: [UInt8])] = [:]
    /// Followed accounts owned by the token program (vaults), by what we last read of them: the
    /// ones `follow` subscribes to one by one.
    var vaults: Set<PublicKey> = []
    var accountSubscriptions: [PublicKey: Task<Void, Never>] = [:]
    /// The programs and accounts whose subscription the node confirmed (`Status.live`).
    var confirmedStreams: Set<PublicKey> = []
    /// The book's `followedGeneration` the account subscriptions were last made for.
    var subscribedGeneration = -1
    /// Pools found by one mint whose other mint is not among `mints`.
    var outside: Set<PublicKey> = []
    public private(set) var status = Status()
    /// The latest slot detection ran on, and when (unix ns).
    var lastSlot: UInt64 = 0
    var appliedAt: UInt64 = 0

    public init(rpc: SolanaRPC, bus: any OpportunityBus, configuration: Configuration, logger: Logger, session: WebSocketSession? = nil,
                clock: @escaping @Sendable () -> UInt64, recorder: (@Sendable (SolanaWatchStep.Recorded) -> Void)? = nil) {
        (self.rpc, self.bus, self.configuration, self.logger, self.session, self.clock) = (rpc, bus, configuration, logger, session, clock)
        self.recorder = recorder
        step = SolanaWatchStep(configuration: configuration.detector)
        let d = configuration.detector
        recorder?(.input(.configuration(starts: d.starts, maxHops: d.maxHops, lifetime: d.lifetime)))
    }

    /// One change to the book or the detector, recorded first when recording.
    @discardableResult
    func perform(_ input: SolanaWatchStep.Input) -> SolanaWatchStep.Outcome {
        recorder?(.input(input))
        return step.perform(input)
    }

    /// How many accounts the book follows.
    public var followedCount: Int { book.followed.count }

    /// Every decoded pool as it stands.
    public func pools() -> [PublicKey: AMMMath.Pool] { book.entries.mapValues(\.pool) }

    /// Every decoded pool with its mints, the latest slot applied and when (unix ns): what
    /// cross-chain detection prices Solana's side on. Nil before the first pool.
    public func snapshot() -> (entries: [SolanaPoolBook.Entry], slot: UInt64, appliedAt: UInt64)? {
        guard !book.entries.isEmpty else { return nil }
        return (book.entries.keys.sorted().map { book.entries[$0]! }, lastSlot, appliedAt)
    }

    /// The filter that finds each venue's pools among its program's accounts (the pool account's
    /// size; for Phoenix, whose markets come in several sizes, its header's discriminant) and
    /// where its two mints sit.
    static func poolLayout(_ venue: SolanaPoolBook.Venue) -> (filter: SolanaRPC.AccountFilter, mints: (Int, Int)) {
        switch venue {
        case .raydiumAMM: (.dataSize(RaydiumAMMAccount.size), RaydiumAMMAccount.mintOffsets)
        case .whirlpool: (.dataSize(WhirlpoolAccount.size), WhirlpoolAccount.mintOffsets)
        case .meteoraDLMM: (.dataSize(DLMMPairAccount.size), DLMMPairAccount.mintOffsets)
        case .raydiumCLMM: (.dataSize(RaydiumCLMMAccount.size), RaydiumCLMMAccount.mintOffsets)
        case .phoenix:
            (.memcmp(offset: 0, bytes: (0..<8).map { UInt8(truncatingIfNeeded: PhoenixMarketAccount.discriminant >> (8 * UInt64($0))) }),
             PhoenixMarketAccount.mintOffsets)
        }
    }

    /// Finds the venues' pools and follows the new ones; returns how many were new. With
    /// `mints`, one query per mint and position (the pool's size and that mint there), and a
    /// pool is kept only when its other mint is among them too.
    @discardableResult
    public func discover() async throws(RPCError) -> Int {
        var new = 0
        for venue in configuration.venues {
            let layout = Self.poolLayout(venue)
            let queries: [[SolanaRPC.AccountFilter]] = configuration.mints.map { mints in
                mints.sorted().flatMap { mint in
                    [layout.mints.0, layout.mints.1].map { [layout.filter, .memcmp(offset: $0, bytes: mint.bytes)] }
                }
            } ?? [[layout.filter]]
            for filters in queries {
                let (slot, found) = try await rpc.programAccounts(venue.program, filters: filters)
                for (key, account) in found where book.venue(of: key) == nil {
                    if let mints = configuration.mints {
                        let pair = [layout.mints.0, layout.mints.1].map { o in
                            account.data.count >= o + 32 ? PublicKey(account.data[o..<o + 32]) : nil
                        }
                        guard pair.allSatisfy({ $0.map(mints.contains) ?? false }) else {
                            outside.insert(key)
                            continue
                        }
                    }
                    perform(.watch(key, venue: venue))
                    seen[key] = (slot, account.data)
                    perform(.apply(key, slot: slot, data: account.data, read: true))
                    new += 1
                }
            }
        }
        status.discovered += new
        status.outside = outside.count
        return new
    }

    /// Reads every followed account once and detects on what changed; returns what was published.
    @discardableResult
    public func poll(now: UInt64) async throws(RPCError) -> [Opportunity] {
        status.polls += 1
        // A pool's dependencies become known once its own account is applied: read until none is missing.
        var changed = Set<PublicKey>()
        var slot: UInt64 = 0
        // The Clock sysvar with the first read: DLMM fees and Phoenix expiry are quoted at its time.
        var keys = book.followed + [ClockSysvar.address]
        for _ in 0..<3 where !keys.isEmpty {
            let read = try await rpc.accountsRead(keys)
            for (key, r) in zip(keys, read) {
                slot = max(slot, r.slot)
                if key == ClockSysvar.address {
                    clocked(r.account)
                    continue
                }
                if let a = r.account, a.owner == .tokenProgram || a.owner == .token2022Program { vaults.insert(key) }
                for pool in take(key, slot: r.slot, data: r.account?.data, read: true) { changed.insert(pool) }
            }
            keys = book.missing
        }
        return await detect(changed.sorted(), slot: slot, now: now)
    }

    /// One account as a notification brought it (written at `slot`), or as a read of it alone
    /// answered (`read`: as of `slot`, not counted as a notification): applied when the book
    /// follows it, then detection on the pools it changed.
    @discardableResult
    public func notified(_ key: PublicKey, slot: UInt64, account: SolanaAccount?, now: UInt64, read: Bool = false) async -> [Opportunity] {
        if key == ClockSysvar.address {
            clocked(account)
            return []
        }
        guard book.follows(key) else {
            status.ignored += 1
            return []
        }
        if !read { status.notifications += 1 }
        let changed = take(key, slot: slot, data: account?.data, read: read)
        return changed.isEmpty ? [] : await detect(changed, slot: slot, now: now)
    }

    /// `data` of `key`, read or notified at `slot`, to the book when it is news: not older than
    /// what was last taken (a read answered after a newer notification was processed, the two
    /// being separate tasks, is refused and counted) and not the same bytes (those only tell a
    /// half-written pool waiting on `key` that it is current as of `slot`). What is taken is
    /// remembered, so a refused old read cannot make a later write that restores those bytes
    /// look like no change. Returns the pools rebuilt.
    func take(_ key: PublicKey, slot: UInt64, data: [UInt8]?, read: Bool) -> [PublicKey] {
        let bytes = data ?? []
        if let last = seen[key] {
            guard slot >= last.slot else {
                status.olderReads += 1
                return []
            }
            seen[key] = (slot, bytes)
            guard last.data != bytes else {
                guard book.awaits(key) else { return [] }
                defer { status.book = book.counts }
                return perform(.seen(key, slot: slot)).pools
            }
        } else {
            seen[key] = (slot, bytes)
        }
        defer { status.book = book.counts }
        return perform(.apply(key, slot: slot, data: data, read: read)).pools
    }

    /// The Clock sysvar as read or notified: the book quotes at its unix time from now on (a pool
    /// is detected on again when it changes, not because time passed).
    func clocked(_ account: SolanaAccount?) {
        guard let account, account.owner == ClockSysvar.owner, let c = try? ClockSysvar(data: account.data) else {
            status.clockUnreadable += 1
            return
        }
        guard c.unixTimestamp != status.clock || c.slot != book.clockSlot else { return }
        status.clock = c.unixTimestamp
        perform(.clock(unixTime: c.unixTimestamp, slot: c.slot))
    }

    func detect(_ changed: [PublicKey], slot: UInt64, now: UInt64) async -> [Opportunity] {
        if !changed.isEmpty { (lastSlot, appliedAt) = (max(lastSlot, slot), now) }
        status.pools = book.entries.count
        status.book = book.counts
        let found = perform(.detect(changed: changed, slot: slot, now: now)).opportunities
        status.detector = detector.counts
        var published: [Opportunity] = []
        for o in found {
            do {
                try await bus.publish(o, partition: configuration.partition)
                published.append(o)
                recorder?(.published(o))
            } catch {
                logger.warning("Solana opportunity not published", metadata: ["error": "\(error)"])
            }
        }
        status.published += published.count
        return published
    }

    /// Discovery (every `rediscoverEvery` calls) and a poll; a failure is counted, not thrown.
    func refresh(_ count: Int) async {
        do {
            if count % max(configuration.rediscoverEvery, 1) == 0 { try await discover() }
            try await poll(now: clock())
        } catch {
            status.failedPolls += 1
            logger.debug("Solana poll failed", metadata: ["error": "\(error)"])
        }
    }

    /// Kept fresh by subscriptions until cancelled (see the type's notes).
    public func follow(_ subscriptions: SolanaSubscriptions, fallback: Duration = .seconds(5)) async {
        await refresh(0)
        await withTaskGroup(of: Void.self) { group in
            if configuration.following == .programs {
                for venue in configuration.venues {
                    let stream = subscriptions.program(venue.program)
                    group.addTask { [weak self] in
                        for await e in stream {
                            guard let self else { return }
                            switch e {
                            case .subscribed: await self.confirmed(reading: nil, stream: venue.program)
                            case .update(let u): await self.notified(u.key, slot: u.slot, account: u.account, now: self.clock())
                            }
                            await self.subscribeAccounts(subscriptions)
                        }
                    }
                }
            }
            let clock = subscriptions.account(ClockSysvar.address)
            group.addTask { [weak self] in
                for await e in clock {
                    guard let self else { return }
                    switch e {
                    case .subscribed: await self.confirmed(reading: ClockSysvar.address, stream: ClockSysvar.address)
                    case .update(let u): await self.clocked(u.account)
                    }
                }
            }
            group.addTask { [weak self] in
                var count = 1
                while !Task.isCancelled {
                    try? await Task.sleep(for: fallback)
                    guard let self, !Task.isCancelled else { return }
                    await self.refresh(count)
                    await self.subscribeAccounts(subscriptions, force: true)
                    count += 1
                }
            }
            subscribeAccounts(subscriptions)
            await group.waitForAll()
        }
        for t in accountSubscriptions.values { t.cancel() }
        accountSubscriptions = [:]
        confirmedStreams = []
        status.subscriptions = 0
        status.live = 0
    }

    /// A subscription (of `stream`) confirmed: what it covers read afresh (`reading` one account; nil, all).
    func confirmed(reading key: PublicKey?, stream: PublicKey) async {
        status.confirmed += 1
        confirmedStreams.insert(stream)
        status.live = confirmedStreams.count
        guard let key else { return await refresh(1) }
        do {
            guard let r = try await rpc.accountsRead([key]).first else { return }
            if let a = r.account, a.owner == .tokenProgram || a.owner == .token2022Program { vaults.insert(key) }
            await notified(key, slot: r.slot, account: r.account, now: clock(), read: true)
        } catch {
            status.failedPolls += 1
        }
    }

    /// The accounts to subscribe one by one (the vaults, or every followed account up to the
    /// limit): new ones subscribed, those no longer followed ended. Only when the book's followed
    /// set may have changed, or `force`.
    func subscribeAccounts(_ subscriptions: SolanaSubscriptions, force: Bool = false) {
        guard force || book.followedGeneration != subscribedGeneration else { return }
        subscribedGeneration = book.followedGeneration
        let wanted: Set<PublicKey> = switch configuration.following {
        case .programs: vaults.filter(book.follows)
        case .accounts(let limit): Set(book.followed.prefix(max(0, limit)))
        }
        for (key, task) in accountSubscriptions where !wanted.contains(key) {
            task.cancel()
            accountSubscriptions[key] = nil
            confirmedStreams.remove(key)
        }
        status.live = confirmedStreams.count
        for key in wanted.sorted() where accountSubscriptions[key] == nil {
            let stream = subscriptions.account(key)
            accountSubscriptions[key] = Task { [weak self] in
                for await e in stream {
                    guard let self else { return }
                    switch e {
                    case .subscribed: await self.confirmed(reading: key, stream: key)
                    case .update(let u): await self.notified(key, slot: u.slot, account: u.account, now: self.clock())
                    }
                    await self.subscribeAccounts(subscriptions)
                }
            }
        }
        status.subscriptions = accountSubscriptions.count
    }

    /// Polls every interval (`session` nil) or follows subscriptions over `session` (which it
    /// runs) with a poll every 20 intervals as the fallback, until cancelled or shut down.
    public func run() async throws {
        if let session {
            let fallback = configuration.interval * 20
            await cancelWhenGracefulShutdown {
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await session.run() }
                    group.addTask { await self.follow(SolanaSubscriptions(session), fallback: fallback) }
                    await group.next()
                    group.cancelAll()
                }
            }
            return
        }
        var polls = 0
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await refresh(polls)
            polls += 1
            try? await Task.sleep(for: configuration.interval)
        }
    }
}
