import AMMMath

/// The pools' states, in the book's dense order, each in a box of its own.
///
/// A copy (the snapshot a block publishes) shares every box, so the book's next change copies a
/// reference per pool and puts the state it changes in a new box, instead of copying every pool's
/// state (tick arrays and all) once per block. A box no one else holds (the snapshot is gone, as in
/// replay once detection has read it) is changed in place: no allocation per log.
///
/// `@unchecked Sendable`: a box is only ever changed by the one array that holds it (checked by
/// `isKnownUniquelyReferenced` before every change), so a copy sent elsewhere reads boxes nothing
/// changes. (`ManagedBuffer`, which the box is, cannot declare itself `Sendable`.)
public struct PoolStates: RandomAccessCollection, @unchecked Sendable {
    /// One pool's state. Changed only while the array holding it is its sole owner
    /// (`isKnownUniquelyReferenced`), so a box a snapshot shares never changes; read and written
    /// through its header's pointer (a class's stored `var` would be checked for exclusive
    /// access at run time on every read).
    @usableFromInline
    final class Box: ManagedBuffer<Pool, UInt8> {
        static func make(_ pool: Pool) -> Box { unsafeDowncast(Box.create(minimumCapacity: 0) { _ in pool }, to: Box.self) }
    }

    // Inlinable reads: a caller reading a price or rates reads the boxed state in place.
    @usableFromInline private(set) var boxes: [Box] = []

    init() {}

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { boxes.count }
    @inlinable public subscript(position: Int) -> Pool { boxes[position].withUnsafeMutablePointerToHeader { $0.pointee } }

    // The hot reads (a price per log, rates per changed pool) call the state's own accessor where
    // it is boxed: handing it to a closure instead (`reading(i) { $0.spotPrice }`) copies it
    // out first (a V3 pool's tick arrays retained and released, their headers cold).

    /// Pool `position`'s `spotPrice`, read in place.
    @inlinable
    public func spotPrice(_ position: Int) -> Double { boxes[position].withUnsafeMutablePointerToHeader { $0.pointee.spotPrice } }

    /// Pool `position`'s `marginalRates()`, read in place.
    @inlinable
    public func marginalRates(_ position: Int) -> (zeroForOne: Double, oneForZero: Double) {
        boxes[position].withUnsafeMutablePointerToHeader { $0.pointee.marginalRates() }
    }

    mutating func append(_ pool: Pool) { boxes.append(Box.make(pool)) }

    /// Changes pool `index` in place when its box is held here only, else in a new box (the old
    /// one stays as it is with whoever holds it).
    mutating func update<R>(_ index: Int, _ body: (inout Pool) -> R) -> R {
        if !isKnownUniquelyReferenced(&boxes[index]) { boxes[index] = Box.make(self[index]) }
        return boxes[index].withUnsafeMutablePointerToHeader { body(&$0.pointee) }
    }

    /// Sets pool `index` to `pool` (a registration, an undo), in place when only this holds its box.
    mutating func set(_ index: Int, _ pool: Pool) {
        if isKnownUniquelyReferenced(&boxes[index]) {
            boxes[index].withUnsafeMutablePointerToHeader { $0.pointee = pool }
        } else {
            boxes[index] = Box.make(pool)
        }
    }
}
