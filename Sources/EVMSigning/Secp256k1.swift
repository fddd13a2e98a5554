import CSecp256k1
import EVMPrimitives

/// The process-wide libsecp256k1 context.
///
/// Since libsecp256k1 0.2 signing needs no precomputed tables, so one context created once
/// serves every thread: the library documents contexts as safe for concurrent use by the
/// functions called here (none of them mutates the context).
enum Secp256k1 {
    nonisolated(unsafe) static let context: OpaquePointer = {
        guard let ctx = secp256k1_context_create(UInt32(SECP256K1_CONTEXT_NONE)) else {
            fatalError("libsecp256k1: context creation failed")
        }
        return ctx
    }()

    /// n/2, the largest `s` a canonical (EIP-2) signature may carry.
    static let halfOrder: UInt256 = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0
    /// The group order n.
    static let order: UInt256 = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141
}
