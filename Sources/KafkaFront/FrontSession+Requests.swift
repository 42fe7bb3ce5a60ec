import KafkaProtocol
import NIOCore

/// The requests of an authenticated connection: Port's ACLs first, then the rewrites the
/// front owns (Metadata, FindCoordinator, the Fetch long poll), else byte-for-byte forwarding.
extension FrontSession {
    /// Answers, refuses or forwards one request of an authenticated connection.
    mutating func serve(
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
            if let topics, refusesRead(topics, of: request, principal: principal) {
                send(
                    answer(GroupMessages.refusal(request, error: KafkaRefusal.topicAuthorizationFailed, topics: topics))
                )
                return
            }
            if key == KafkaAPI.joinGroup, case let join = try GroupMessages.join(request), let instance = join.instance
            {
                send(try await joinStatically(request, join, group: groupID, instance: instance))
                return
            }
            if key == KafkaAPI.syncGroup {
                send(try await syncStatically(request, group: groupID))
                return
            }
            send(try await forward(request.frame))

        case KafkaAPI.fetch:
            let fetch = try FetchMessages.parse(request)
            if refusesRead(fetch.topics, of: request, principal: principal) {
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
            if refusesRead(topics, of: request, principal: principal) {
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

    /// A static member's JoinGroup: a restarted instance (no member id) gets its old place
    /// from the front's memory; otherwise it is forwarded and its answer remembered (see
    /// `StaticMembers`).
    private mutating func joinStatically(
        _ request: KafkaRequest,
        _ join: GroupMessages.StaticJoin,
        group: String,
        instance: String
    ) async throws -> EventLoopFuture<ByteBuffer?> {
        let members = front.staticMembers
        let version = request.apiVersion
        let connection = connectionID
        if join.member.isEmpty,
            let body = members.rejoinAnswer(group: group, instance: instance, version: version, connection: connection)
        {
            return answer(request.response(body))
        }
        return try await forward(request.frame).map { frame in
            if let frame, let (body, member) = try? GroupMessages.joinAnswer(frame, version: version) ?? nil {
                members.joined(
                    group: group,
                    instance: instance,
                    member: member,
                    version: version,
                    answer: body,
                    connection: connection
                )
            }
            return frame
        }
    }

    /// A SyncGroup: answered from memory right after a replayed JoinGroup, else forwarded,
    /// and a static member's answer remembered.
    private mutating func syncStatically(
        _ request: KafkaRequest,
        group: String
    ) async throws -> EventLoopFuture<ByteBuffer?> {
        let members = front.staticMembers
        let version = request.apiVersion
        let member = try GroupMessages.syncMember(request)
        if let body = members.syncAnswer(group: group, member: member, version: version) {
            return answer(request.response(body))
        }
        return try await forward(request.frame).map { frame in
            if let frame, let body = try? GroupMessages.syncAnswer(frame, version: version) ?? nil {
                members.synced(group: group, member: member, version: version, answer: body)
            }
            return frame
        }
    }

    /// Forwards a Fetch with a short MaxWaitMs, again and again, until the client's
    /// MinBytes are there, an error comes, or the client's MaxWaitMs has passed.
    private mutating func longPoll(
        _ request: KafkaRequest,
        _ fetch: FetchMessages.Request,
        group: inout ThrowingTaskGroup<Void, any Error>
    ) async throws -> EventLoopFuture<ByteBuffer?> {
        let poll = front.fetchPollMilliseconds
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
                    let leftMs = KafkaFront.milliseconds(deadline - now)
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
}
