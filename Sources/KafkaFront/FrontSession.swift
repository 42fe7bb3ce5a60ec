import KafkaProtocol
import NIOCore

/// The state of one client connection: where it is in SASL, its principal, its upstream
/// connection, and what it has been refused; and the decision for each request.
struct FrontSession {
    private enum Authentication {
        /// A SASL_SSL connection before its SaslHandshake.
        case awaitingHandshake
        /// In a SCRAM exchange; `raw` after a v0 handshake (tokens without Kafka framing).
        case exchanging(ScramServerExchange, raw: Bool)
        case authenticated(principal: String)
    }

    let front: KafkaFront
    let listener: KafkaFront.Listener
    let eventLoop: any EventLoop
    /// This connection's id among the front's, for static membership.
    let connectionID: UInt64
    private(set) var upstream: UpstreamConnection?
    /// Why the connection is being closed after its last answer, for the log.
    private(set) var closeReason: String?
    private var authentication: Authentication
    private var refused: Set<String> = []

    init(front: KafkaFront, listener: KafkaFront.Listener, eventLoop: any EventLoop) {
        self.front = front
        self.listener = listener
        self.eventLoop = eventLoop
        connectionID = front.staticMembers.openConnection()
        authentication =
            listener.kind == .plaintext
            ? .authenticated(principal: front.configuration.plaintextPrincipal) : .awaitingHandshake
    }

    var acl: KafkaACL { front.configuration.acl }

    /// AddPartitionsToTxn, AddOffsetsToTxn, EndTxn and TxnOffsetCommit: Port's customer
    /// has no transactional id, so these never reach the mock while the ACLs hold.
    static let transactionAPIs: Set<Int16> = [24, 25, 26, 28]

    /// Handles one frame; `send` queues its answer (in request order). Returns false when
    /// the connection must close once the answers queued so far are written.
    mutating func handle(
        _ frame: ByteBuffer,
        group: inout ThrowingTaskGroup<Void, any Error>,
        send: (EventLoopFuture<ByteBuffer?>) -> Void
    ) async throws -> Bool {
        if case .exchanging(var exchange, raw: true) = authentication {
            switch exchange.receive(Array(frame.readableBytesView)) {
            case .challenge(let bytes):
                authentication = .exchanging(exchange, raw: true)
                send(answer(ByteBuffer(bytes: bytes)))
            case .success(let user, let bytes):
                authentication = .authenticated(principal: user)
                send(answer(ByteBuffer(bytes: bytes)))
            case .failure(let reason):
                closeReason = "SASL authentication failed: \(reason)"
                return false
            }
            return true
        }
        let request = try KafkaRequest(frame: frame)
        if request.apiKey == KafkaAPI.apiVersions {
            send(answer(HandshakeMessages.apiVersionsResponse(to: request, ranges: front.apiVersions)))
            return true
        }
        guard let range = front.versionRanges[request.apiKey] else {
            throw ConnectionRefusal(
                "unknown API key \(request.apiKey) (the front serves \(front.apiVersions.count) APIs)"
            )
        }
        guard (range.minVersion...range.maxVersion).contains(request.apiVersion) else {
            throw ConnectionRefusal(
                "\(request.apiName) v\(request.apiVersion) is not served (v\(range.minVersion)–v\(range.maxVersion))"
            )
        }
        switch authentication {
        case .awaitingHandshake, .exchanging:
            return try authenticate(request, send: send)
        case .authenticated(let principal):
            if request.apiKey == KafkaAPI.saslHandshake || request.apiKey == KafkaAPI.saslAuthenticate {
                let mechanisms = listener.kind == .plaintext ? [] : front.configuration.mechanisms.map(\.rawValue)
                send(answer(HandshakeMessages.handshakeResponse(to: request, error: 34, mechanisms: mechanisms)))
                closeReason =
                    listener.kind == .plaintext
                    ? "SASL on the plaintext listener (use the SASL_SSL listener)" : "SASL after authentication"
                return false
            }
            do {
                try await serve(request, principal: principal, group: &group, send: send)
            } catch let error as KafkaWireError {
                throw ConnectionRefusal(
                    "a \(request.apiName) v\(request.apiVersion) request that does not parse: \(error)"
                )
            }
            return true
        }
    }

    // MARK: SASL

    private mutating func authenticate(
        _ request: KafkaRequest,
        send: (EventLoopFuture<ByteBuffer?>) -> Void
    ) throws -> Bool {
        switch (request.apiKey, authentication) {
        case (KafkaAPI.saslHandshake, .awaitingHandshake):
            let name = try HandshakeMessages.handshakeMechanism(request)
            let enabled = front.configuration.mechanisms
            guard let mechanism = ScramMechanism(rawValue: name), enabled.contains(mechanism) else {
                send(
                    answer(
                        HandshakeMessages.handshakeResponse(to: request, error: 33, mechanisms: enabled.map(\.rawValue))
                    )
                )
                closeReason =
                    "SASL mechanism \(name) is not enabled (\(enabled.map(\.rawValue).joined(separator: ", ")))"
                return false
            }
            let users = front.configuration.users
            authentication = .exchanging(
                ScramServerExchange(mechanism: mechanism) { user, mechanism in users[user]?[mechanism] },
                raw: request.apiVersion == 0
            )
            send(
                answer(HandshakeMessages.handshakeResponse(to: request, error: 0, mechanisms: enabled.map(\.rawValue)))
            )
            return true
        case (KafkaAPI.saslAuthenticate, .exchanging(var exchange, raw: false)):
            switch exchange.receive(try HandshakeMessages.authenticateBytes(request)) {
            case .challenge(let bytes):
                authentication = .exchanging(exchange, raw: false)
                send(answer(HandshakeMessages.authenticateResponse(to: request, error: 0, message: nil, bytes: bytes)))
                return true
            case .success(let user, let bytes):
                authentication = .authenticated(principal: user)
                send(answer(HandshakeMessages.authenticateResponse(to: request, error: 0, message: nil, bytes: bytes)))
                return true
            case .failure(let reason):
                send(
                    answer(
                        HandshakeMessages.authenticateResponse(
                            to: request,
                            error: 58,
                            message: "Authentication failed during authentication due to invalid credentials with "
                                + "SASL mechanism \(exchange.mechanism.rawValue)",
                            bytes: []
                        )
                    )
                )
                closeReason = "SASL authentication failed: \(reason)"
                return false
            }
        default:
            throw ConnectionRefusal("\(request.apiName) before SASL authentication completed")
        }
    }

    // MARK: Helpers

    func answer(_ frame: ByteBuffer) -> EventLoopFuture<ByteBuffer?> {
        eventLoop.makeSucceededFuture(frame)
    }

    /// Sends `frame` to this connection's broker, connecting at the first request.
    mutating func forward(
        _ frame: ByteBuffer,
        expectsResponse: Bool = true
    ) async throws -> EventLoopFuture<
        ByteBuffer?
    > {
        if upstream == nil {
            do {
                upstream = try await UpstreamConnection.connect(
                    host: listener.upstream.host,
                    port: listener.upstream.port,
                    // The client's own event loop: an answer is forwarded without a thread hop.
                    group: eventLoop,
                    maximumFrameSize: front.configuration.maximumFrameSize
                )
            } catch {
                throw UpstreamUnavailable(nodeID: listener.nodeID, error: error)
            }
        }
        return upstream!.send(frame, expectsResponse: expectsResponse)
    }

    /// Whether `topics` names one the principal may not read; if so the refusal is reported.
    mutating func refusesRead(_ topics: KafkaTopicPartitions, of request: KafkaRequest, principal: String) -> Bool {
        guard let topic = topics.first(where: { !acl.allowsRead($0.topic) }) else { return false }
        refuse(
            .read(topic.topic, api: request.apiName, principal: principal, listener: listener.kind.rawValue, acl: acl)
        )
        return true
    }

    /// Reports a refusal once per connection and resource.
    mutating func refuse(_ refusal: KafkaRefusal) {
        guard refused.insert("\(refusal.api)|\(refusal.resource)").inserted else { return }
        front.configuration.onRefusal(refusal)
    }
}

/// The broker behind a listener refused the front's connection (it is down).
struct UpstreamUnavailable: Error, CustomStringConvertible {
    let nodeID: Int32
    let error: any Error
    var description: String { "embedded broker \(nodeID) is unreachable (\(error))" }
}
