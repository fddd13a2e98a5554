/// An actor's background tasks (trades being tracked, transfers being followed), each removing
/// itself when it ends, and the bounded wait for them at a stop: until a deadline, then cancelled
/// and given 2 s.
public struct Followers {
    private var tasks: [Int: Task<Void, Never>] = [:]
    private var serial = 0

    public init() {}

    public var isEmpty: Bool { tasks.isEmpty }
    public var count: Int { tasks.count }

    /// Keeps the task `make` starts; it is handed its serial, to `remove` itself when it ends
    /// (which runs on the actor after this, never before).
    public mutating func add(_ make: (Int) -> Task<Void, Never>) {
        serial += 1
        tasks[serial] = make(serial)
    }

    public mutating func remove(_ serial: Int) { tasks[serial] = nil }

    public func cancelAll() { for t in tasks.values { t.cancel() } }

    /// Waits on the caller's actor until `done`, `deadline`, or (when `cancellable`) the caller's cancellation.
    static func wait(until deadline: ContinuousClock.Instant?, poll: Duration, cancellable: Bool = true,
                     isolation: isolated (any Actor)? = #isolation, _ done: () -> Bool) async {
        while !done(), !(cancellable && Task.isCancelled), deadline.map({ ContinuousClock.now < $0 }) ?? true {
            await pause(poll)
        }
    }

    /// Waits for the tasks `isEmpty` reports until `deadline` (or the caller's cancellation); then
    /// cancels what is left and waits up to 2 s for it to end, whatever the network does.
    public static func drain(until deadline: ContinuousClock.Instant?, poll: Duration = .milliseconds(50), isolation: isolated (any Actor)? = #isolation,
                      isEmpty: () -> Bool, cancel: () -> Void) async {
        await wait(until: deadline, poll: poll, isEmpty)
        guard !isEmpty() else { return }
        cancel()
        await wait(until: ContinuousClock.now + .seconds(2), poll: .milliseconds(20), cancellable: false, isEmpty)
    }
}
