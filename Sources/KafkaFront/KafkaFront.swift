package import KafkaBroker
package import Logging
package import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// How clients reach the front: `PLAINTEXT`, or `SASL_SSL` (TLS, then SCRAM); `INTERNAL`
/// is the emulator's own plaintext door (its publisher's producer), under no ACLs and never
/// advertised to clients.
package enum FrontListenerKind: String, Sendable, CaseIterable {
    case plaintext = "PLAINTEXT"
    case saslSSL = "SASL_SSL"
    case `internal` = "INTERNAL"
}

/// What the front needs to know.
package struct KafkaFrontConfiguration: Sendable {
    /// The broker behind the listeners.
    package var broker: KafkaBroker
    /// Whether to open an `INTERNAL` listener per node (on a free port).
    package var internalListeners = false
    /// The principal of `INTERNAL` connections.
    package var internalPrincipal = "port-emulator"
    /// Connections idle this long are closed (Kafka's `connections.max.idle.ms`, 10 minutes).
    package var idleTimeout: Duration = .seconds(600)
    /// The address the listeners bind.
    package var host = "127.0.0.1"
    /// The host Metadata and FindCoordinator answers give clients.
    package var advertisedHost = "127.0.0.1"
    /// The first listener's port; the others follow it (broker 1 PLAINTEXT, broker 1
    /// SASL_SSL, broker 2 PLAINTEXT, …). 0 picks free ports.
    package var basePort = 0
    /// The TLS identity of the SASL_SSL listeners; nil opens no SASL_SSL listener.
    package var tls: FrontTLSIdentity?
    /// SCRAM users: each user's credentials, one per mechanism it may use.
    package var users: [String: [ScramMechanism: ScramCredential]] = [:]
    /// The mechanisms the SASL_SSL listeners offer.
    package var mechanisms: [ScramMechanism] = [.sha512, .sha256]
    /// The principal of plaintext connections (the customer's username).
    package var plaintextPrincipal: String
    /// Port's ACLs.
    package var acl: KafkaACL
    /// Frames over this size close the connection (Kafka's `socket.request.max.bytes`).
    package var maximumFrameSize = 100 * 1024 * 1024
    /// Told of each refusal under the ACLs (once per connection and resource).
    package var onRefusal: @Sendable (KafkaRefusal) -> Void = { _ in }
    /// Told when a client aborts the TLS handshake because it does not trust the listener's
    /// certificate (its TLS alert: unknown CA, bad certificate…), with that alert's name.
    package var onUntrustedCertificate: @Sendable (_ alert: String) -> Void = { _ in }

    /// A front for `broker`, its plaintext connections authenticated as `plaintextPrincipal`.
    package init(broker: KafkaBroker, plaintextPrincipal: String, acl: KafkaACL) {
        self.broker = broker
        self.plaintextPrincipal = plaintextPrincipal
        self.acl = acl
    }
}

/// The only door clients use to the embedded Kafka: listeners (per node and security mode)
/// that terminate TLS and SASL, then hand each request to the broker and write its answer.
package final class KafkaFront: Sendable {
    /// A bound listener: which node it serves, its kind and port.
    package struct Listener: Sendable {
        package let nodeID: Int32
        package let kind: FrontListenerKind
        package let port: Int
        let channel: NIOAsyncChannel<AcceptedConnection, Never>
    }

    package let listeners: [Listener]
    let configuration: KafkaFrontConfiguration
    let addresses: [FrontListenerKind: [Int32: KafkaBrokerAddress]]
    let group: any EventLoopGroup
    let logger: Logger
    let closeLog = RepeatFilter(window: .seconds(10))
    /// Open connections by node, so that a node taken down drops them.
    let connections = Mutex<[Int32: [ObjectIdentifier: any Channel]]>([:])
    private let sslContext: NIOSSLContext?
    /// Every connection accepted and still open, served or not.
    let accepted: AcceptedConnections
    /// The client hosts that completed a TLS handshake.
    let handshakes: TLSHandshakes
    /// Whether `run()` was called: a front stopped without it must still drain its listeners.
    private let ran = Mutex(false)

    /// How many connections are open (served or not yet handed out).
    package var acceptedCount: Int { accepted.count }

    /// Whether a client on `host` has completed a TLS handshake with a SASL_SSL listener.
    package func handshakeCompleted(from host: String) -> Bool { handshakes.completed(from: host) }

    /// How many mid-handshake hang-ups were not reported as an untrusted CA, because their
    /// host had completed a handshake.
    package var unreportedHangUps: Int { handshakes.unreportedHangUps }

    /// The broker behind the front.
    package var broker: KafkaBroker { configuration.broker }

    private init(
        listeners: [Listener],
        configuration: KafkaFrontConfiguration,
        group: any EventLoopGroup,
        sslContext: NIOSSLContext?,
        accepted: AcceptedConnections,
        handshakes: TLSHandshakes,
        logger: Logger
    ) {
        self.listeners = listeners
        self.accepted = accepted
        self.handshakes = handshakes
        self.configuration = configuration
        self.group = group
        self.sslContext = sslContext
        self.logger = logger
        var addresses: [FrontListenerKind: [Int32: KafkaBrokerAddress]] = [:]
        for listener in listeners {
            addresses[listener.kind, default: [:]][listener.nodeID] = KafkaBrokerAddress(
                host: configuration.advertisedHost,
                port: Int32(listener.port)
            )
        }
        self.addresses = addresses
    }

    /// The `host:port` list of one kind of listener, as `bootstrap.servers`.
    package func bootstrapServers(_ kind: FrontListenerKind) -> [String] {
        listeners.filter { $0.kind == kind }.sorted { $0.nodeID < $1.nodeID }.map {
            "\(configuration.advertisedHost):\($0.port)"
        }
    }

    /// Binds the listeners, runs `body` with the front serving them, then stops the front
    /// (and waits for its connections to end) whichever way `body` ends: the scoped way to
    /// run a front in a test or a tool. `run()` never fails, so only `body`'s error is thrown.
    package static func withRunning<Value: Sendable>(
        configuration: KafkaFrontConfiguration,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger,
        _ body: @escaping @Sendable (KafkaFront) async throws -> Value
    ) async throws -> Value {
        let front = try await bind(configuration: configuration, group: group, logger: logger)
        // Marked as run before its task starts, so that a quick `body` does not make `stop()`
        // run the listeners a second time.
        front.ran.withLock { $0 = true }
        let result: Result<Value, any Error> = await withTaskGroup(of: Void.self) { tasks in
            // On an event loop, as the accept loops and connections are: a busy cooperative
            // pool (a test process running hundreds of tests) must not delay serving.
            tasks.addTask(executorPreference: EventLoopTaskExecutor(group.next())) { await front.run() }
            let result: Result<Value, any Error>
            do {
                result = .success(try await body(front))
            } catch {
                result = .failure(error)
            }
            await front.stop()  // closes the listeners: run() ends its connections and returns
            await tasks.waitForAll()
            return result
        }
        return try result.get()
    }

    /// Binds the listeners, a plaintext one (and a SASL_SSL one with a TLS identity, and an
    /// internal one if asked) per node; nothing is served until `run()`.
    package static func bind(
        configuration: KafkaFrontConfiguration,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) async throws -> KafkaFront {
        let sslContext = try configuration.tls.map { identity in
            let configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(identity.certificateChainPEM.utf8)).map {
                    .certificate($0)
                },
                privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(identity.privateKeyPEM.utf8), format: .pem))
            )
            return try NIOSSLContext(configuration: configuration)
        }
        var kinds: [FrontListenerKind] = [.plaintext]
        if sslContext != nil { kinds.append(.saslSSL) }
        var listeners: [Listener] = []
        let accepted = AcceptedConnections()
        let handshakes = TLSHandshakes()
        do {
            for nodeID in configuration.broker.nodeIDs {
                for kind in kinds {
                    let tls = kind == .saslSSL ? sslContext : nil
                    let channel = try await bind(
                        host: configuration.host,
                        port: configuration.basePort == 0 ? 0 : configuration.basePort + listeners.count,
                        tls: tls,
                        configuration: configuration,
                        accepted: accepted,
                        handshakes: handshakes,
                        group: group
                    )
                    listeners.append(
                        Listener(
                            nodeID: nodeID,
                            kind: kind,
                            port: channel.channel.localAddress?.port ?? 0,
                            channel: channel
                        )
                    )
                }
            }
            // The internal listeners take free ports on loopback, after the numbered ones.
            for nodeID in configuration.broker.nodeIDs where configuration.internalListeners {
                let channel = try await bind(
                    host: "127.0.0.1",
                    port: 0,
                    tls: nil,
                    configuration: configuration,
                    accepted: accepted,
                    handshakes: handshakes,
                    group: group
                )
                listeners.append(
                    Listener(
                        nodeID: nodeID,
                        kind: .internal,
                        port: channel.channel.localAddress?.port ?? 0,
                        channel: channel
                    )
                )
            }
        } catch {
            for listener in listeners { try? await listener.channel.channel.close() }
            throw error
        }
        let front = KafkaFront(
            listeners: listeners,
            configuration: configuration,
            group: group,
            sslContext: sslContext,
            accepted: accepted,
            handshakes: handshakes,
            logger: logger
        )
        return front
    }

    private static func bind(
        host: String,
        port: Int,
        tls: NIOSSLContext?,
        configuration: KafkaFrontConfiguration,
        accepted: AcceptedConnections,
        handshakes: TLSHandshakes,
        group: any EventLoopGroup
    ) async throws -> NIOAsyncChannel<AcceptedConnection, Never> {
        let maximumFrameSize = configuration.maximumFrameSize
        let idle = TimeAmount.nanoseconds(
            configuration.idleTimeout.components.seconds * 1_000_000_000
                + configuration.idleTimeout.components.attoseconds / 1_000_000_000
        )
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(allTimeout: idle))
                    try channel.pipeline.syncOperations.addHandler(IdleConnectionCloser())
                    // Read now: a client that has already hung up leaves a closed channel,
                    // which no longer knows its address, to the task that serves it.
                    let remote = channel.remoteAddress
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                        try channel.pipeline.syncOperations.addHandler(handshakes.watcher(host: remote?.ipAddress))
                    }
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(KafkaFrameDecoder(maximumFrameSize: maximumFrameSize))
                    )
                    // Under TLS, large answers are encrypted and sent 64 KiB at a time (16 KiB and
                    // 256 KiB measured the same; the whole answer at once, 20% slower).
                    try channel.pipeline.syncOperations.addHandler(
                        KafkaFrameWriter(sliceSize: tls == nil ? nil : 64 * 1024)
                    )
                    let connection = try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    accepted.hold(connection)  // until it closes, even if no one is handed it
                    return AcceptedConnection(channel: connection, remote: remote)
                }
            }
    }

    /// Serves every listener, each connection a child task, and runs the broker's timers,
    /// until `stop()` closes the listeners; then ends the connections and returns.
    ///
    /// Stopping never cancels the accept loops: a cancelled loop would drop connections
    /// accepted but not yet handed out. A closed listener instead hands out what it accepted,
    /// then ends; those connections start cancelled and close at once. A connection whose
    /// set-up completes after its listener's stream has ended is handed to no one: it is held
    /// by `accepted` (see `AcceptedConnections`) and closed here once the listeners are done.
    package func run() async {
        ran.withLock { $0 = true }
        await withDiscardingTaskGroup { outer in
            // The broker's timers (group sessions and rebalances) for as long as the listeners run.
            outer.addTask(executorPreference: EventLoopTaskExecutor(self.group.next())) { await self.broker.run() }
            await serveListeners()
            accepted.closeAll()
            outer.cancelAll()
        }
    }

    private func serveListeners() async {
        await withDiscardingTaskGroup { group in
            for listener in listeners {
                // The accept loop too runs on an event loop: a busy cooperative pool must not
                // leave new connections unserved.
                group.addTask(executorPreference: EventLoopTaskExecutor(listener.channel.channel.eventLoop)) {
                    do {
                        try await listener.channel.executeThenClose { connections in
                            try await withThrowingDiscardingTaskGroup { connectionGroup in
                                for try await connection in connections {
                                    connectionGroup.addTask(
                                        executorPreference: EventLoopTaskExecutor(connection.channel.channel.eventLoop)
                                    ) {
                                        await FrontConnection(front: self, listener: listener).serve(connection)
                                    }
                                }
                                connectionGroup.cancelAll()  // the listener closed: end the connections
                            }
                        }
                    } catch {
                        if !Task.isCancelled {
                            self.logger.warning(
                                "Kafka front listener stopped",
                                metadata: ["port": "\(listener.port)", "error": "\(error)"]
                            )
                        }
                    }
                }
            }
        }
    }

    /// Takes `node` down (its connections are closed and new ones refused) or brings it up.
    package func setNode(_ node: Int32, down: Bool) {
        broker.setNode(node, down: down)
        guard down else { return }
        let open = connections.withLock { $0[node].map { Array($0.values) } ?? [] }
        for channel in open { channel.close(promise: nil) }
    }

    func opened(_ channel: any Channel, node: Int32) {
        connections.withLock { $0[node, default: [:]][ObjectIdentifier(channel)] = channel }
    }

    func closed(_ channel: any Channel, node: Int32) {
        _ = connections.withLock { $0[node]?.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// Closes the listeners, which makes `run()` end every connection and return.
    package func stop() async {
        for listener in listeners { listener.channel.channel.close(promise: nil) }
        // Connections accepted by a front that never ran are handed out (and closed at
        // once) by a run over the closed listeners: dropped, NIO would trap on them.
        if !ran.withLock({ $0 }) { await run() }
    }
}

/// Closes a connection that has been idle for the `IdleStateHandler`'s timeout.
final class IdleConnectionCloser: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}

/// Lets each distinct message through once per `window`, counting the ones held back.
final class RepeatFilter: Sendable {
    private struct Entry {
        var last: ContinuousClock.Instant
        var heldBack: Int
    }

    private let window: Duration
    private let entries = Mutex<[String: Entry]>([:])

    init(window: Duration) { self.window = window }

    /// Nil when `message` was let through less than `window` ago; otherwise how many
    /// repeats were held back since.
    func admit(_ message: String) -> Int? {
        let now = ContinuousClock.now
        return entries.withLock { entries in
            if var entry = entries[message], now - entry.last < window {
                entry.heldBack += 1
                entries[message] = entry
                return nil
            }
            if entries.count > 1000 { entries.removeAll() }
            let heldBack = entries[message]?.heldBack ?? 0
            entries[message] = Entry(last: now, heldBack: 0)
            return heldBack
        }
    }
}
