import EVMPrimitives

/// A value of an ``ABIType``. Fixed-size arrays use ``array(_:)`` too.
public indirect enum ABIValue: Hashable, Sendable {
    case uint(UInt256)
    case int(Int256)
    case address(Address)
    case bool(Bool)
    case fixedBytes([UInt8])
    case bytes([UInt8])
    case string(String)
    case array([ABIValue])
    case tuple([ABIValue])


    /// The unsigned integer, if this is one.
    public var uintValue: UInt256? { if case .uint(let v) = self { v } else { nil } }
    /// The signed integer, if this is one.
    public var intValue: Int256? { if case .int(let v) = self { v } else { nil } }
    /// The address, if this is one.
    public var addressValue: Address? { if case .address(let v) = self { v } else { nil } }
    /// The bytes of a `bytes` or `bytesN` value.
    public var bytesValue: [UInt8]? {
        switch self {
        case .bytes(let b), .fixedBytes(let b): b
        default: nil
        }
    }
    /// The elements of an array or tuple.
    public var elements: [ABIValue]? {
        switch self {
        case .array(let e), .tuple(let e): e
        default: nil
        }
    }
}
