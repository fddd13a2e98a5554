import AMMMath

/// The pools' states, in the book's dense order, each in an immutable box of its own.
///
/// A copy (the snapshot a block publishes) shares every box, so the book's next change copies a
/// reference per pool and replaces the one box it changes, instead of copying every pool's state
/// (tick arrays and all) once per block and destroying the old ones when the snapshot goes. An
/// undo entry keeps the box it replaced: the previous state at the cost of a reference.
public struct PoolStates: RandomAccessCollection, Sendable {
    @usableFromInline
    final class Box: Sendable {
        @usableFromInline let pool: Pool
        init(_ pool: Pool) { self.pool = pool }
    }

    // Inlinable reads: a caller reading one field (a price, a reserve) borrows the boxed state
    // instead of copying it out.
    @usableFromInline private(set) var boxes: [Box] = []

    init() {}

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { boxes.count }
    @inlinable public subscript(position: Int) -> Pool { boxes[position].pool }

    /// Reads pool `position` where it is boxed, without copying its state out (the subscript
    /// copies it: a V3 pool's tick arrays retained and released): `book.pools.reading(i) { $0.spotPrice }`.
    @inlinable
    public func reading<R>(_ position: Int, _ body: (Pool) throws -> R) rethrows -> R { try body(boxes[position].pool) }

    mutating func append(_ pool: Pool) { boxes.append(Box(pool)) }

    /// Puts `pool` at `index` in a box of its own (the old box stays with whoever holds it).
    mutating func replace(_ index: Int, with pool: Pool) { boxes[index] = Box(pool) }

    /// Puts back a box taken earlier with `box(_:)` (an undo).
    mutating func restore(_ index: Int, _ box: Box) { boxes[index] = box }

    func box(_ index: Int) -> Box { boxes[index] }
}
