package import Logging
package import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// How clients reach the front: `PLAINTEXT`, or `SASL_SSL` (TLS, then SCRAM).
package enum FrontListenerKind: String, Sendable, CaseIterable {
    case plaintext = "PLAINTEXT"
    case saslSSL = "SASL_SSL"
}

/// What the front needs to know.
package struct KafkaFrontConfiguration: Sendable {
    /// The mock cluster's brokers (`host:port`), any of them: the front asks it for the rest.
    package var upstreamBootstrap: [String]
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
    /// How long each Fetch forwarded to the mock may wait: the long poll's granularity.
    package var fetchPollInterval: Duration = .milliseconds(5)
    /// Told of each refusal under the ACLs (once per connection and resource).
    package var onRefusal: @Sendable (KafkaRefusal) -> Void = { _ in }

    package init(upstreamBootstrap: [String], plaintextPrincipal: String, acl: KafkaACL) {
        self.upstreamBootstrap = upstreamBootstrap
        self.plaintextPrincipal = plaintextPrincipal
        self.acl = acl
    }
}

/// The only door clients use to the embedded Kafka: a Kafka-protocol gateway with one
/// listener per mock broker and security mode. It forwards requests byte for byte, answers
/// ApiVersions and SASL itself, rewrites broker addresses, enforces Port's ACLs, and
/// long-polls Fetch like a real broker.
package final class KafkaFront: Sendable {
    /// A bound listener: which broker it fronts, its kind and port.
    package struct Listener: Sendable {
        package let nodeID: Int32
        package let kind: FrontListenerKind
        package let port: Int
        let upstream: (host: String, port: Int)
        let channel: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>
    }

    package let listeners: [Listener]
    let configuration: KafkaFrontConfiguration
    let apiVersions: [KafkaAPIVersionRange]
    let addresses: [FrontListenerKind: [Int32: KafkaBrokerAddress]]
    let group: any EventLoopGroup
    let logger: Logger
    let closeLog = RepeatFilter(window: .seconds(10))
    /// `configuration.fetchPollInterval` in the protocol's unit, computed once.
    let fetchPollMilliseconds: Int32
    /// The ApiVersions table by API key, for the check of every request.
    let versionRanges: [Int16: KafkaAPIVersionRange]
    /// Static members' instance ids, across connections (a restarted member connects anew).
    let staticMembers = StaticMembers()
    private let sslContext: NIOSSLContext?
    private let running = Mutex<Task<Void, Never>?>(nil)

    private init(
        listeners: [Listener],
        configuration: KafkaFrontConfiguration,
        apiVersions: [KafkaAPIVersionRange],
        group: any EventLoopGroup,
        sslContext: NIOSSLContext?,
        logger: Logger
    ) {
        self.listeners = listeners
        self.configuration = configuration
        self.apiVersions = apiVersions
        fetchPollMilliseconds = Self.milliseconds(configuration.fetchPollInterval)
        versionRanges = Dictionary(apiVersions.map { ($0.apiKey, $0) }, uniquingKeysWith: { first, _ in first })
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

    /// A duration in whole milliseconds, as Kafka's MaxWaitMs counts them.
    static func milliseconds(_ duration: Duration) -> Int32 {
        let (seconds, attoseconds) = duration.components
        return Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }

    /// The `host:port` list of one kind of listener, as `bootstrap.servers`.
    package func bootstrapServers(_ kind: FrontListenerKind) -> [String] {
        listeners.filter { $0.kind == kind }.sorted { $0.nodeID < $1.nodeID }.map {
            "\(configuration.advertisedHost):\($0.port)"
        }
    }

    /// Binds the listeners and serves them in a task of the front's own until `stop()`: for
    /// tests and tools. A service runs `bind` and then `run()`.
    package static func start(
        configuration: KafkaFrontConfiguration,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) async throws -> KafkaFront {
        let front = try await bind(configuration: configuration, group: group, logger: logger)
        front.running.withLock { $0 = Task { await front.run() } }
        return front
    }

    /// Asks the mock cluster for its brokers and API versions and binds the listeners;
    /// nothing is served until `run()`.
    package static func bind(
        configuration: KafkaFrontConfiguration,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) async throws -> KafkaFront {
        let discovery = try await FrontDiscovery.discover(configuration: configuration, group: group)
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
        do {
            for (nodeID, upstream) in discovery.brokers.sorted(by: { $0.key < $1.key }) {
                for kind in kinds {
                    let tls = kind == .saslSSL ? sslContext : nil
                    let channel = try await bind(
                        host: configuration.host,
                        port: configuration.basePort == 0 ? 0 : configuration.basePort + listeners.count,
                        tls: tls,
                        maximumFrameSize: configuration.maximumFrameSize,
                        group: group
                    )
                    listeners.append(
                        Listener(
                            nodeID: nodeID,
                            kind: kind,
                            port: channel.channel.localAddress?.port ?? 0,
                            upstream: upstream,
                            channel: channel
                        )
                    )
                }
            }
        } catch {
            for listener in listeners { try? await listener.channel.channel.close() }
            throw error
        }
        let front = KafkaFront(
            listeners: listeners,
            configuration: configuration,
            apiVersions: discovery.apiVersions,
            group: group,
            sslContext: sslContext,
            logger: logger
        )
        return front
    }

    private static func bind(
        host: String,
        port: Int,
        tls: NIOSSLContext?,
        maximumFrameSize: Int,
        group: any EventLoopGroup
    ) async throws -> NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never> {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(KafkaFrameDecoder(maximumFrameSize: maximumFrameSize))
                    )
                    try channel.pipeline.syncOperations.addHandler(KafkaFrameWriter())
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
    }

    /// Serves every listener, each connection a child task, until `stop()` closes the
    /// listeners; then ends the connections and returns.
    ///
    /// Stopping never cancels the accept loops: a cancelled loop would drop connections
    /// accepted but not yet handed out, and NIO traps on an `NIOAsyncChannel` dropped that
    /// way ("Deinited NIOAsyncWriter without calling finish()", swift-nio #2813). A closed
    /// listener instead hands out what it accepted, then ends; those connections start
    /// cancelled and close at once.
    package func run() async {
        await withDiscardingTaskGroup { group in
            for listener in listeners {
                group.addTask {
                    do {
                        try await listener.channel.executeThenClose { connections in
                            try await withThrowingDiscardingTaskGroup { connectionGroup in
                                for try await connection in connections {
                                    connectionGroup.addTask {
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

    /// Closes the listeners, which makes `run()` end every connection and return; waits for
    /// that when `start` runs it.
    package func stop() async {
        let task = running.withLock { task in
            defer { task = nil }
            return task
        }
        for listener in listeners { listener.channel.channel.close(promise: nil) }
        await task?.value
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
