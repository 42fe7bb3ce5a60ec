import KafkaBroker
import KafkaProtocol
import NIOCore

/// The state of one client connection: where it is in SASL and who it is once
/// authenticated; every request after that goes to the broker.
struct FrontSession {
    private enum Authentication {
        /// A SASL_SSL connection before its SaslHandshake.
        case awaitingHandshake
        /// In a SCRAM exchange; `raw` after a v0 handshake (tokens without Kafka framing).
        case exchanging(ScramServerExchange, raw: Bool)
        case authenticated(BrokerConnection)
    }

    let front: KafkaFront
    let listener: KafkaFront.Listener
    let clientHost: String
    /// Why the connection is being closed after its last answer, for the log.
    private(set) var closeReason: String?
    private var authentication: Authentication

    init(front: KafkaFront, listener: KafkaFront.Listener, clientHost: String) {
        self.front = front
        self.listener = listener
        self.clientHost = clientHost
        authentication = .awaitingHandshake
        if listener.kind != .saslSSL {
            let principal =
                listener.kind == .internal
                ? front.configuration.internalPrincipal : front.configuration.plaintextPrincipal
            authentication = .authenticated(connection(for: principal))
        }
    }

    private func connection(for principal: String) -> BrokerConnection {
        var acl = front.configuration.acl
        if listener.kind == .internal { acl.enabled = false }
        return BrokerConnection(
            principal: principal,
            listener: listener.kind.rawValue,
            nodeID: listener.nodeID,
            addresses: front.addresses[listener.kind] ?? [:],
            clientHost: clientHost,
            acl: acl,
            onRefusal: front.configuration.onRefusal
        )
    }

    /// Handles one frame; `send` queues its answer (in request order). Returns false when
    /// the connection must close once the answers queued so far are written.
    mutating func handle(_ frame: ByteBuffer, send: (ByteBuffer) -> Void) async throws -> Bool {
        if case .exchanging(var exchange, raw: true) = authentication {
            switch exchange.receive(Array(frame.readableBytesView)) {
            case .challenge(let bytes):
                authentication = .exchanging(exchange, raw: true)
                send(ByteBuffer(bytes: bytes))
            case .success(let user, let bytes):
                authentication = .authenticated(connection(for: user))
                send(ByteBuffer(bytes: bytes))
            case .failure(let reason):
                closeReason = "SASL authentication failed: \(reason)"
                return false
            }
            return true
        }
        let request = try KafkaRequest(frame: frame)
        if request.apiKey == KafkaAPI.apiVersions {
            // Answered before authentication too; a version not served in version 0's layout.
            let version = KafkaSchemas.apiVersionsRequest.valid.contains(request.apiVersion) ? request.apiVersion : 0
            let body = KafkaBroker.apiVersions(version: request.apiVersion)
            send(request.response(try KafkaCodec.encode(body, as: KafkaSchemas.apiVersionsResponse, version: version)))
            return true
        }
        guard let schema = KafkaSchemas.requests[request.apiKey] else {
            throw ConnectionRefusal(
                "unknown API key \(request.apiKey) (the broker serves \(KafkaSchemas.requests.count) APIs)"
            )
        }
        guard schema.valid.contains(request.apiVersion) else {
            throw ConnectionRefusal("\(request.apiName) v\(request.apiVersion) is not served (v\(schema.valid))")
        }
        switch authentication {
        case .awaitingHandshake, .exchanging:
            return try authenticate(request, send: send)
        case .authenticated(let connection):
            if request.apiKey == KafkaAPI.saslHandshake || request.apiKey == KafkaAPI.saslAuthenticate {
                let mechanisms = listener.kind == .saslSSL ? front.configuration.mechanisms.map(\.rawValue) : []
                send(try SASLMessages.handshakeResponse(to: request, error: .illegalSASLState, mechanisms: mechanisms))
                closeReason =
                    listener.kind == .saslSSL
                    ? "SASL after authentication" : "SASL on the plaintext listener (use the SASL_SSL listener)"
                return false
            }
            do {
                if let answer = try await front.broker.handle(request, on: connection) { send(answer) }
            } catch {
                let head = request.body.readableBytesView.prefix(48).map { String($0, radix: 16) }.joined(
                    separator: " "
                )
                throw ConnectionRefusal(
                    "a \(request.apiName) v\(request.apiVersion) request that does not parse: \(error) (body: \(head))"
                )
            }
            return true
        }
    }

    // MARK: SASL

    private mutating func authenticate(_ request: KafkaRequest, send: (ByteBuffer) -> Void) throws -> Bool {
        switch (request.apiKey, authentication) {
        case (KafkaAPI.saslHandshake, .awaitingHandshake):
            let name = try SASLMessages.handshakeMechanism(request)
            let enabled = front.configuration.mechanisms
            guard let mechanism = ScramMechanism(rawValue: name), enabled.contains(mechanism) else {
                send(
                    try SASLMessages.handshakeResponse(
                        to: request,
                        error: .unsupportedSASLMechanism,
                        mechanisms: enabled.map(\.rawValue)
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
            send(try SASLMessages.handshakeResponse(to: request, error: .none, mechanisms: enabled.map(\.rawValue)))
            return true
        case (KafkaAPI.saslAuthenticate, .exchanging(var exchange, raw: false)):
            switch exchange.receive(try SASLMessages.authenticateBytes(request)) {
            case .challenge(let bytes):
                authentication = .exchanging(exchange, raw: false)
                send(try SASLMessages.authenticateResponse(to: request, error: .none, message: nil, bytes: bytes))
                return true
            case .success(let user, let bytes):
                authentication = .authenticated(connection(for: user))
                send(try SASLMessages.authenticateResponse(to: request, error: .none, message: nil, bytes: bytes))
                return true
            case .failure(let reason):
                send(
                    try SASLMessages.authenticateResponse(
                        to: request,
                        error: .saslAuthenticationFailed,
                        message: "Authentication failed during authentication due to invalid credentials with "
                            + "SASL mechanism \(exchange.mechanism.rawValue)",
                        bytes: []
                    )
                )
                closeReason = "SASL authentication failed: \(reason)"
                return false
            }
        default:
            throw ConnectionRefusal("\(request.apiName) before SASL authentication completed")
        }
    }
}
