import ArbiterTestKit
import NIOCore
import StreamBus
import Testing

@Suite struct RESPParserTests {
    /// Answers in Redis's own wire form, as `redis-cli --no-raw` shows them.
    static let wire = Array((
        "+OK\r\n" + "-BUSYGROUP Consumer Group name already exists\r\n" + ":42\r\n" + ":-1\r\n" + "$-1\r\n" + "*-1\r\n"
        + "$5\r\nhe\r\no\r\n" + "$0\r\n\r\n"
        + "*2\r\n*2\r\n$15\r\n1700000000000-0\r\n*2\r\n$1\r\nd\r\n$3\r\n\u{1}\u{2}\u{3}\r\n$-1\r\n"
    ).utf8)
    static let values: [RESPValue] = [
        .simpleString("OK"), .error("BUSYGROUP Consumer Group name already exists"), .integer(42), .integer(-1), .bulkString(nil),
        .array(nil), .bulkString(Array("he\r\no".utf8)), .bulkString([]),
        .array([.array([.bulkString(Array("1700000000000-0".utf8)), .array([.bulkString([100]), .bulkString([1, 2, 3])])]), .bulkString(nil)]),
    ]

    /// However the bytes are split into reads, the same values come out, and an incomplete value
    /// consumes nothing.
    @Test func everySplitOfTheStreamGivesTheSameValues() throws {
        let parser = RESPParser()
        for cut in 0...Self.wire.count {
            var buffer = ByteBuffer(bytes: Self.wire.prefix(cut))
            var got: [RESPValue] = []
            while let v = try parser.parse(&buffer) { got.append(v) }
            buffer.writeBytes(Self.wire.dropFirst(cut))
            while let v = try parser.parse(&buffer) { got.append(v) }
            #expect(got == Self.values, "cut at \(cut)")
            #expect(buffer.readableBytes == 0)
        }
    }

    @Test func malformedInputIsAnErrorNotACrash() {
        let parser = RESPParser()
        let bad = ["!x\r\n", ":12a\r\n", "$-2\r\n", "$3\r\nabcd\r\n", "*-5\r\n", "$99999999999\r\n", "+OK\rX"]
        for text in bad {
            var buffer = ByteBuffer(string: text)
            #expect(throws: BusError.self, "\(text.debugDescription)") {
                while try parser.parse(&buffer) != nil {}
            }
        }
        var deep = ByteBuffer(string: String(repeating: "*1\r\n", count: 40) + ":1\r\n")
        #expect(throws: BusError.self) { _ = try parser.parse(&deep) }
        // Seeded garbage never crashes: it parses, waits for more, or throws.
        var g = SeededGenerator(seed: 0x2E5)
        for _ in 0..<5_000 {
            var buffer = ByteBuffer(bytes: g.mutate(Self.wire))
            _ = try? { while try parser.parse(&buffer) != nil {} }()
        }
    }

    @Test func commandsAreArraysOfBulkStrings() {
        var buffer = ByteBuffer()
        RESPParser.encode([Array("XACK".utf8), [0, 13, 10]], into: &buffer)
        #expect(buffer.readBytes(length: buffer.readableBytes)! == Array("*2\r\n$4\r\nXACK\r\n$3\r\n\0\r\n\r\n".utf8))
    }
}
