import NIOCore
import NIOPosix

/// One connection to a Redis server, speaking RESP2 over swift-nio. Commands may be sent from
/// many tasks at once; answers come back in order (Redis answers in order on a connection). A
/// blocking command (`XREADGROUP … BLOCK`) holds the connection, so blocking readers get their own.
public final class RedisConnection: Sendable {
    let channel: any Channel

    private init(channel: any Channel) { self.channel = channel }

    /// Connects to `host:port`, optionally selecting a database.
    public static func connect(host: String, port: Int, database: Int = 0,
                               group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws(BusError) -> RedisConnection {
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(.seconds(5))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(RESPHandler())
                    }
                }
                .connect(host: host, port: port).get()
        } catch {
            throw BusError(.connection, "cannot connect to redis at \(host):\(port): \(error)")
        }
        let connection = RedisConnection(channel: channel)
        if database != 0 { _ = try await connection.command("SELECT", "\(database)") }
        return connection
    }

    /// Sends a command and returns its answer; a Redis error answer throws `.server`.
    @discardableResult
    public func command(_ arguments: [[UInt8]]) async throws(BusError) -> RESPValue {
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        var buffer = channel.allocator.buffer(capacity: 64 + arguments.reduce(0) { $0 + $1.count + 16 })
        RESPParser.encode(arguments, into: &buffer)
        channel.writeAndFlush(RESPHandler.Request(buffer: buffer, promise: promise), promise: nil)
        let value: RESPValue
        do {
            value = try await promise.futureResult.get()
        } catch let e as BusError {
            throw e
        } catch {
            throw BusError(.connection, "redis connection: \(error)")
        }
        if case .error(let message) = value { throw BusError(.server, message) }
        return value
    }

    @discardableResult
    public func command(_ arguments: String...) async throws(BusError) -> RESPValue {
        try await command(arguments.map { Array($0.utf8) })
    }

    public var isActive: Bool { channel.isActive }

    public func close() async {
        try? await channel.close()
    }
}

/// Matches answers to requests in order; a protocol violation or a closed connection fails every
/// request waiting.
final class RESPHandler: ChannelDuplexHandler {
    struct Request: Sendable {
        var buffer: ByteBuffer
        var promise: EventLoopPromise<RESPValue>
    }

    typealias InboundIn = ByteBuffer
    typealias OutboundIn = Request
    typealias OutboundOut = ByteBuffer

    private var waiting = CircularBuffer<EventLoopPromise<RESPValue>>()
    private var received: ByteBuffer?
    private let parser = RESPParser()
    private var failure: BusError?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if let failure {
            request.promise.fail(failure)
            promise?.fail(failure)
            return
        }
        waiting.append(request.promise)
        context.write(wrapOutboundOut(request.buffer), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = unwrapInboundIn(data)
        if received == nil { received = chunk } else { received!.writeBuffer(&chunk) }
        do {
            while var buffer = received, let value = try parser.parse(&buffer) {
                received = buffer
                guard let p = waiting.popFirst() else {
                    throw BusError(.protocolViolation, "redis sent an answer nobody asked for")
                }
                p.succeed(value)
            }
            if received?.readableBytes == 0 { received = nil } else { received?.discardReadBytes() }
        } catch {
            fail(context, error as? BusError ?? BusError(.protocolViolation, "\(error)"))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(context, BusError(.connection, "redis closed the connection"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context, BusError(.connection, "redis connection: \(error)"))
    }

    private func fail(_ context: ChannelHandlerContext, _ error: BusError) {
        if failure == nil { failure = error }
        while let p = waiting.popFirst() { p.fail(error) }
        received = nil
        context.close(promise: nil)
    }
}
