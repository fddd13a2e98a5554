import Synchronization

/// One waiter at a time, woken by `signal()` or its timeout. A signal given while no one waits is
/// kept for the next wait, and a wait that ended (by its timer) before its waiter was in place
/// lets that waiter through at once: no wakeup is lost and no wait outlives its timeout, whatever
/// order the signal, the timer and the waiter come in.
public final class Wakeup: Sendable {
    private struct State {
        var waiter: (id: UInt64, continuation: CheckedContinuation<Void, Never>)?
        var signalled = false
        /// The wait whose waiter, not yet in place, must not wait.
        var abandoned: UInt64?
        var nextID: UInt64 = 0
    }
    private let state = Mutex(State())

    public init() {}

    /// Wakes the waiter, or the next wait when none is waiting.
    public func signal() {
        let w = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard let w = s.waiter else {
                s.signalled = true
                return nil
            }
            s.waiter = nil
            return w.continuation
        }
        w?.resume()
    }

    /// Returns after a signal (one given since the last wait included), after `timeout`, or on cancellation.
    public func wait(_ timeout: Duration) async {
        let id = state.withLock { s -> UInt64 in
            s.nextID += 1
            return s.nextID
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    let now = self.state.withLock { s -> Bool in
                        if s.signalled || s.abandoned == id {
                            s.signalled = false
                            return true
                        }
                        s.waiter = (id, c)
                        return false
                    }
                    if now { c.resume() }
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                self.release(id)
            }
            await group.next()
            group.cancelAll()
            self.release(id)
        }
    }

    /// Lets wait `id`'s waiter go, now or as soon as it is in place.
    private func release(_ id: UInt64) {
        let w = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard let w = s.waiter, w.id == id else {
                s.abandoned = id
                return nil
            }
            s.waiter = nil
            return w.continuation
        }
        w?.resume()
    }
}
