import NIOCore

/// A RESP2 value as Redis sends it.
public enum RESPValue: Equatable, Sendable {
    case simpleString(String)
    case error(String)
    case integer(Int64)
    /// nil: the null bulk string.
    case bulkString([UInt8]?)
    /// nil: the null array.
    case array([RESPValue]?)

    public var bytes: [UInt8]? {
        switch self {
        case .bulkString(let b): b
        case .simpleString(let s): Array(s.utf8)
        default: nil
        }
    }

    public var string: String? { bytes.map { String(decoding: $0, as: UTF8.self) } }
    public var array: [RESPValue]? { if case .array(let a) = self { a } else { nil } }
    public var integer: Int64? { if case .integer(let i) = self { i } else { nil } }
    public var isNull: Bool { self == .bulkString(nil) || self == .array(nil) }
}

/// Reads RESP2 values from a byte stream that may stop anywhere: a value that is not complete yet
/// consumes nothing. Lengths, nesting and line sizes are bounded, so a broken or hostile server
/// cannot make the client allocate without limit; a violation is an error (the connection is
/// then unusable).
public struct RESPParser: Sendable {
    public var maxBulkLength = 64 << 20
    public var maxArrayCount = 1 << 20
    public var maxDepth = 16
    public var maxLineLength = 64 << 10

    public init() {}

    /// The next value, or nil when `buffer` does not hold a whole one yet.
    public func parse(_ buffer: inout ByteBuffer) throws(BusError) -> RESPValue? {
        var view = buffer
        guard let value = try parseValue(&view, depth: 0) else { return nil }
        buffer = view
        return value
    }

    private func parseValue(_ b: inout ByteBuffer, depth: Int) throws(BusError) -> RESPValue? {
        guard depth <= maxDepth else { throw BusError(.protocolViolation, "RESP nesting deeper than \(maxDepth)") }
        guard let type = b.readInteger(as: UInt8.self) else { return nil }
        guard let line = try readLine(&b) else { return nil }
        switch type {
        case UInt8(ascii: "+"): return .simpleString(line)
        case UInt8(ascii: "-"): return .error(line)
        case UInt8(ascii: ":"):
            guard let i = Int64(line) else { throw BusError(.protocolViolation, "RESP integer \"\(line.prefix(32))\"") }
            return .integer(i)
        case UInt8(ascii: "$"):
            guard let n = Int(line), n >= -1, n <= maxBulkLength else { throw BusError(.protocolViolation, "RESP bulk length \"\(line.prefix(32))\"") }
            if n == -1 { return .bulkString(nil) }
            guard b.readableBytes >= n + 2 else { return nil }
            let bytes = b.readBytes(length: n)!
            guard b.readInteger(as: UInt16.self) == 0x0D0A else { throw BusError(.protocolViolation, "RESP bulk string not followed by CRLF") }
            return .bulkString(bytes)
        case UInt8(ascii: "*"):
            guard let n = Int(line), n >= -1, n <= maxArrayCount else { throw BusError(.protocolViolation, "RESP array length \"\(line.prefix(32))\"") }
            if n == -1 { return .array(nil) }
            var items: [RESPValue] = []
            items.reserveCapacity(min(n, 1024))
            for _ in 0..<n {
                guard let item = try parseValue(&b, depth: depth + 1) else { return nil }
                items.append(item)
            }
            return .array(items)
        default:
            throw BusError(.protocolViolation, "RESP type byte 0x\(String(type, radix: 16))")
        }
    }

    private func readLine(_ b: inout ByteBuffer) throws(BusError) -> String? {
        let view = b.readableBytesView
        guard let cr = view.firstIndex(of: 0x0D) else {
            if view.count > maxLineLength { throw BusError(.protocolViolation, "RESP line longer than \(maxLineLength) bytes") }
            return nil
        }
        let length = cr - view.startIndex
        guard length <= maxLineLength else { throw BusError(.protocolViolation, "RESP line longer than \(maxLineLength) bytes") }
        guard b.readableBytes >= length + 2 else { return nil }
        let line = b.readString(length: length)!
        guard b.readInteger(as: UInt8.self) == 0x0D, b.readInteger(as: UInt8.self) == 0x0A else {
            throw BusError(.protocolViolation, "RESP line not ended by CRLF")
        }
        return line
    }

    /// A command as Redis reads it: an array of bulk strings.
    public static func encode(_ arguments: [[UInt8]], into buffer: inout ByteBuffer) {
        buffer.writeString("*\(arguments.count)\r\n")
        for a in arguments {
            buffer.writeString("$\(a.count)\r\n")
            buffer.writeBytes(a)
            buffer.writeString("\r\n")
        }
    }
}
