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
    private(set) var upstream: UpstreamConnection?
    /// Why the connection is being closed after its last answer, for the log.
    private(set) var closeReason: String?
    private var authentication: Authentication
    private var refused: Set<String> = []

    init(front: KafkaFront, listener: KafkaFront.Listener, eventLoop: any EventLoop) {
        self.front = front
        self.listener = listener
        self.eventLoop = eventLoop
        authentication =
            listener.kind == .plaintext
            ? .authenticated(principal: front.configuration.plaintextPrincipal) : .awaitingHandshake
    }

    private var acl: KafkaACL { front.configuration.acl }

    /// AddPartitionsToTxn, AddOffsetsToTxn, EndTxn and TxnOffsetCommit: Port's customer
    /// has no transactional id, so these never reach the mock while the ACLs hold.
    private static let transactionAPIs: Set<Int16> = [24, 25, 26, 28]

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
        guard let range = front.apiVersions.first(where: { $0.apiKey == request.apiKey }) else {
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

    // MARK: Authenticated requests

    private mutating func serve(
        _ request: KafkaRequest,
        principal: String,
        group: inout ThrowingTaskGroup<Void, any Error>,
        send: (EventLoopFuture<ByteBuffer?>) -> Void
    ) async throws {
        let version = request.apiVersion
        switch request.apiKey {
        case KafkaAPI.produce:
            let (acks, topics) = try ProduceMessages.parse(request)
            guard acl.allowsWrite else {
                for (topic, _) in topics {
                    refuse(.write(topic, api: request.apiName, principal: principal, listener: listener.kind.rawValue))
                }
                let body = ProduceMessages.refusal(
                    version: version,
                    topics: topics,
                    error: KafkaRefusal.topicAuthorizationFailed
                )
                send(acks == 0 ? eventLoop.makeSucceededFuture(nil) : answer(request.response(body)))
                return
            }
            send(try await forward(request.frame, expectsResponse: acks != 0))

        case KafkaAPI.metadata:
            send(try await metadata(request, principal: principal))

        case KafkaAPI.findCoordinator:
            let (key, type) = try CoordinatorMessages.key(request)
            if acl.enabled, type != 0 || !acl.allowsGroup(key, principal: principal) {
                let refusal: KafkaRefusal =
                    type == 0
                    ? .group(
                        key,
                        api: request.apiName,
                        principal: principal,
                        listener: listener.kind.rawValue,
                        acl: acl
                    )
                    : .transactionalID(
                        key,
                        api: request.apiName,
                        principal: principal,
                        listener: listener.kind.rawValue
                    )
                refuse(refusal)
                let body = CoordinatorMessages.refusal(
                    version: version,
                    error: refusal.errorCode,
                    message: refusal.message
                )
                send(answer(request.response(body)))
                return
            }
            let addresses = front.addresses[listener.kind] ?? [:]
            send(
                try await forward(request.frame).flatMapThrowing { frame in
                    guard let frame else { return nil }
                    let response = try KafkaResponse(frame: frame, flexibleHeader: false)
                    return request.response(
                        try CoordinatorMessages.rewriteResponse(response, version: version, addresses: addresses)
                    )
                }
            )

        case let key where GroupMessages.apis.contains(key):
            let groupID = try GroupMessages.groupID(request)
            let offsets = key == KafkaAPI.offsetCommit || key == KafkaAPI.offsetFetch
            let topics = offsets ? try GroupMessages.topics(request) : nil
            if !acl.allowsGroup(groupID, principal: principal) {
                refuse(
                    .group(
                        groupID,
                        api: request.apiName,
                        principal: principal,
                        listener: listener.kind.rawValue,
                        acl: acl
                    )
                )
                send(
                    answer(
                        GroupMessages.refusal(
                            request,
                            error: KafkaRefusal.groupAuthorizationFailed,
                            topics: topics ?? []
                        )
                    )
                )
                return
            }
            if let topics, let topic = topics.first(where: { !acl.allowsRead($0.topic) }) {
                refuse(
                    .read(
                        topic.topic,
                        api: request.apiName,
                        principal: principal,
                        listener: listener.kind.rawValue,
                        acl: acl
                    )
                )
                send(
                    answer(GroupMessages.refusal(request, error: KafkaRefusal.topicAuthorizationFailed, topics: topics))
                )
                return
            }
            send(try await forward(request.frame))

        case KafkaAPI.fetch:
            let fetch = try FetchMessages.parse(request)
            if let topic = fetch.topics.first(where: { !acl.allowsRead($0.topic) }) {
                refuse(
                    .read(
                        topic.topic,
                        api: request.apiName,
                        principal: principal,
                        listener: listener.kind.rawValue,
                        acl: acl
                    )
                )
                let body = FetchMessages.refusal(
                    version: version,
                    topics: fetch.topics,
                    error: KafkaRefusal.topicAuthorizationFailed
                )
                send(answer(request.response(body)))
                return
            }
            send(try await longPoll(request, fetch, group: &group))

        case KafkaAPI.listOffsets:
            let topics = try ListOffsetsMessages.topics(request)
            if let topic = topics.first(where: { !acl.allowsRead($0.topic) }) {
                refuse(
                    .read(
                        topic.topic,
                        api: request.apiName,
                        principal: principal,
                        listener: listener.kind.rawValue,
                        acl: acl
                    )
                )
                let body = ListOffsetsMessages.refusal(
                    version: version,
                    topics: topics,
                    error: KafkaRefusal.topicAuthorizationFailed
                )
                send(answer(request.response(body)))
                return
            }
            send(try await forward(request.frame))

        case KafkaAPI.initProducerID where acl.enabled:
            refuse(.cluster(api: request.apiName, principal: principal, listener: listener.kind.rawValue))
            var body = ByteBuffer()
            body.writeInteger(Int32(0))
            body.writeInteger(KafkaRefusal.clusterAuthorizationFailed)
            body.writeInteger(Int64(-1))
            body.writeInteger(Int16(-1))
            if KafkaAPI.isFlexible(request.apiKey, version) { body.writeKafkaEmptyTaggedFields() }
            send(answer(request.response(body)))

        case let key where acl.enabled && Self.transactionAPIs.contains(key):
            refuse(.cluster(api: request.apiName, principal: principal, listener: listener.kind.rawValue))
            throw ConnectionRefusal("\(request.apiName): Port's ACLs give the customer no transactions")

        default:
            send(try await forward(request.frame))
        }
    }

    private mutating func metadata(
        _ request: KafkaRequest,
        principal: String
    ) async throws -> EventLoopFuture<ByteBuffer?> {
        let version = request.apiVersion
        let acl = self.acl
        var frame = request.frame
        var refusedTopics: [String] = []
        var kept: Set<String>?  // nil keeps every topic the principal may describe
        if acl.enabled, let requested = try MetadataMessages.requestedTopics(request) {
            let allowed = requested.filter(acl.allowsRead)
            refusedTopics = requested.filter { !acl.allowsRead($0) }
            kept = Set(allowed)
            if !refusedTopics.isEmpty {
                // v0 reads an empty list as "all topics": ask for the readable ones instead.
                let names = allowed.isEmpty && version == 0 ? acl.readableTopics.sorted() : allowed
                frame = request.replacingBody(MetadataMessages.requestBody(topics: names))
            }
        }
        for topic in refusedTopics {
            refuse(.read(topic, api: request.apiName, principal: principal, listener: listener.kind.rawValue, acl: acl))
        }
        let addresses = front.addresses[listener.kind] ?? [:]
        let refused = refusedTopics
        let keptTopics = kept
        return try await forward(frame).flatMapThrowing { frame in
            guard let frame else { return nil }
            let response = try KafkaResponse(frame: frame, flexibleHeader: false)
            let body = try MetadataMessages.rewriteResponse(
                response,
                version: version,
                addresses: addresses,
                keep: { keptTopics?.contains($0) ?? acl.allowsRead($0) },
                refused: refused,
                error: KafkaRefusal.topicAuthorizationFailed
            )
            return request.response(body)
        }
    }

    /// Forwards a Fetch with a short MaxWaitMs, again and again, until the client's
    /// MinBytes are there, an error comes, or the client's MaxWaitMs has passed.
    private mutating func longPoll(
        _ request: KafkaRequest,
        _ fetch: FetchMessages.Request,
        group: inout ThrowingTaskGroup<Void, any Error>
    ) async throws -> EventLoopFuture<ByteBuffer?> {
        let poll = Int32(
            clamping: front.configuration.fetchPollInterval.components.seconds * 1000
                + front.configuration.fetchPollInterval.components.attoseconds / 1_000_000_000_000_000
        )
        guard fetch.maxWaitMs > poll, !fetch.topics.isEmpty else { return try await forward(request.frame) }
        let first = try await forward(FetchMessages.withMaxWait(request, poll))
        guard let upstream else { return first }
        let promise = eventLoop.makePromise(of: ByteBuffer?.self)
        let deadline = ContinuousClock.now + .milliseconds(Int(fetch.maxWaitMs))
        let minimum = max(1, Int(fetch.minBytes))
        let version = request.apiVersion
        group.addTask {
            do {
                guard var frame = try await first.get() else { throw UpstreamHandler.Closed() }
                while true {
                    let summary = try FetchMessages.summary(
                        KafkaResponse(frame: frame, flexibleHeader: false),
                        version: version
                    )
                    let now = ContinuousClock.now
                    if summary.recordBytes >= minimum || summary.hasError || now >= deadline || Task.isCancelled {
                        break
                    }
                    let left = (deadline - now).components
                    let leftMs = Int32(clamping: left.seconds * 1000 + left.attoseconds / 1_000_000_000_000_000)
                    guard
                        let next = try await upstream.send(
                            FetchMessages.withMaxWait(request, max(1, min(poll, leftMs)))
                        )
                        .get()
                    else { throw UpstreamHandler.Closed() }
                    frame = next
                }
                promise.succeed(frame)
            } catch {
                promise.fail(error)
            }
        }
        return promise.futureResult
    }

    // MARK: Helpers

    private func answer(_ frame: ByteBuffer) -> EventLoopFuture<ByteBuffer?> {
        eventLoop.makeSucceededFuture(frame)
    }

    /// Sends `frame` to this connection's broker, connecting at the first request.
    private mutating func forward(
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

    /// Reports a refusal once per connection and resource.
    private mutating func refuse(_ refusal: KafkaRefusal) {
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
