import KafkaProtocol
import KafkaRecords
import NIOCore
import Synchronization

/// The group APIs: decoded requests go to the `GroupCoordinator`; JoinGroup and SyncGroup
/// may wait (parked by ticket) until the coordinator answers them.
extension KafkaBroker {
    func joinGroup(_ call: BrokerCall) async -> KafkaStruct {
        let body = call.body
        let request = JoinGroupRequest(
            apiVersion: call.version,
            groupId: body.string("GroupId") ?? "",
            sessionTimeoutMs: Int32(truncatingIfNeeded: body.int("SessionTimeoutMs")),
            rebalanceTimeoutMs: Int32(truncatingIfNeeded: body.int("RebalanceTimeoutMs")),
            memberId: body.string("MemberId") ?? "",
            groupInstanceId: body.string("GroupInstanceId"),
            protocolType: body.string("ProtocolType") ?? "",
            protocols: body.structs("Protocols").map {
                GroupProtocol(name: $0.string("Name") ?? "", metadata: Self.bytes($0["Metadata"]))
            },
            reason: body.string("Reason"),
            clientId: call.request.clientID ?? "",
            clientHost: "/" + call.connection.clientHost
        )
        guard
            case .join(let response) = await group(
                call,
                request.groupId,
                { $0.joinGroup(request, ticket: $1, now: $2) }
            )
        else { return groupError(call) }
        return [
            "ErrorCode": .int(Int64(response.errorCode.rawValue)), "GenerationId": .int(Int64(response.generationId)),
            "ProtocolType": response.protocolType.map(KafkaValue.string) ?? .null,
            "ProtocolName": response.protocolName.map(KafkaValue.string) ?? (call.version >= 7 ? .null : ""),
            "Leader": .string(response.leader), "SkipAssignment": .bool(response.skipAssignment),
            "MemberId": .string(response.memberId),
            "Members": .array(
                response.members.map {
                    .structure([
                        "MemberId": .string($0.memberId),
                        "GroupInstanceId": $0.groupInstanceId.map(KafkaValue.string) ?? .null,
                        "Metadata": .bytes(ByteBuffer(bytes: $0.metadata)),
                    ])
                }
            ),
        ]
    }

    func syncGroup(_ call: BrokerCall) async -> KafkaStruct {
        let body = call.body
        let request = SyncGroupRequest(
            apiVersion: call.version,
            groupId: body.string("GroupId") ?? "",
            generationId: Int32(truncatingIfNeeded: body.int("GenerationId")),
            memberId: body.string("MemberId") ?? "",
            groupInstanceId: body.string("GroupInstanceId"),
            protocolType: body.string("ProtocolType"),
            protocolName: body.string("ProtocolName"),
            assignments: body.structs("Assignments").map {
                SyncGroupAssignment(memberId: $0.string("MemberId") ?? "", assignment: Self.bytes($0["Assignment"]))
            }
        )
        guard
            case .sync(let response) = await group(
                call,
                request.groupId,
                { $0.syncGroup(request, ticket: $1, now: $2) }
            )
        else { return groupError(call) }
        return [
            "ErrorCode": .int(Int64(response.errorCode.rawValue)),
            "ProtocolType": response.protocolType.map(KafkaValue.string) ?? .null,
            "ProtocolName": response.protocolName.map(KafkaValue.string) ?? .null,
            "Assignment": .bytes(ByteBuffer(bytes: response.assignment)),
        ]
    }

    func heartbeat(_ call: BrokerCall) async -> KafkaStruct {
        let body = call.body
        let request = HeartbeatRequest(
            groupId: body.string("GroupId") ?? "",
            generationId: Int32(truncatingIfNeeded: body.int("GenerationId")),
            memberId: body.string("MemberId") ?? "",
            groupInstanceId: body.string("GroupInstanceId")
        )
        guard
            case .heartbeat(let response) = await group(
                call,
                request.groupId,
                { $0.heartbeat(request, ticket: $1, now: $2) }
            )
        else { return groupError(call) }
        return ["ErrorCode": .int(Int64(response.errorCode.rawValue))]
    }

    func leaveGroup(_ call: BrokerCall) async -> KafkaStruct {
        let body = call.body
        let groupID = body.string("GroupId") ?? ""
        let members: [LeaveGroupMember] =
            call.version >= 3
            ? body.structs("Members").map {
                LeaveGroupMember(
                    memberId: $0.string("MemberId") ?? "",
                    groupInstanceId: $0.string("GroupInstanceId"),
                    reason: $0.string("Reason")
                )
            } : [LeaveGroupMember(memberId: body.string("MemberId") ?? "")]
        let request = LeaveGroupRequest(groupId: groupID, members: members)
        guard case .leave(let response) = await group(call, groupID, { $0.leaveGroup(request, ticket: $1, now: $2) })
        else { return groupError(call) }
        if call.version < 3 { return ["ErrorCode": .int(Int64(response.legacyErrorCode.rawValue))] }
        return [
            "ErrorCode": .int(Int64(response.errorCode.rawValue)),
            "Members": .array(
                response.members.map {
                    .structure([
                        "MemberId": .string($0.memberId),
                        "GroupInstanceId": $0.groupInstanceId.map(KafkaValue.string) ?? .null,
                        "ErrorCode": .int(Int64($0.errorCode.rawValue)),
                    ])
                }
            ),
        ]
    }

    /// The answer for a group the principal may not use, or one this node does not coordinate.
    func groupError(_ call: BrokerCall) -> KafkaStruct {
        let groupID = call.body.string("GroupId") ?? ""
        let error: KafkaErrorCode =
            call.connection.acl.allowsGroup(groupID, principal: call.connection.principal)
            ? (coordinator(of: groupID) == call.connection.nodeID ? .coordinatorNotAvailable : .notCoordinator)
            : .groupAuthorizationFailed
        return errorAnswer(to: call, error) ?? [:]
    }

    /// Runs one coordinator call for `groupID` and waits for its reply: nil when the group is
    /// refused (ACL), coordinated elsewhere, or the wait was cancelled.
    func group(
        _ call: BrokerCall,
        _ groupID: String,
        _ body: @escaping @Sendable (inout GroupCoordinator, GroupTicket, Duration) -> [GroupReply]
    ) async -> GroupReply.Body? {
        guard call.connection.mayUseGroup(groupID, api: call.api), coordinator(of: groupID) == call.connection.nodeID
        else { return nil }
        let ticket = state.withLock { state in
            state.nextTicket &+= 1
            return state.nextTicket
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<GroupReply.Body?, Never>) in
                let ready = state.withLock {
                    state -> [(CheckedContinuation<GroupReply.Body?, Never>, GroupReply.Body)] in
                    if state.cancelledTickets.remove(ticket) != nil {
                        continuation.resume(returning: nil)
                        return []
                    }
                    state.parked[ticket] = continuation
                    let replies = body(&state.coordinator, ticket, self.now())
                    return Self.collect(replies, &state)
                }
                for (parked, reply) in ready { parked.resume(returning: reply) }
                groupTimer.poke()
            }
        } onCancel: {
            let parked = state.withLock { state in
                let parked = state.parked.removeValue(forKey: ticket)
                if parked == nil { state.cancelledTickets.insert(ticket) }
                return parked
            }
            parked?.resume(returning: nil)
        }
    }

    /// The parked continuations the replies answer, taken out of the state.
    static func collect(
        _ replies: [GroupReply],
        _ state: inout BrokerState
    ) -> [(CheckedContinuation<GroupReply.Body?, Never>, GroupReply.Body)] {
        replies.compactMap { reply in state.parked.removeValue(forKey: reply.ticket).map { ($0, reply.body) } }
    }

    /// The time the coordinator counts in: since the broker started.
    func now() -> Duration { ContinuousClock.now - started }

    /// Fires the coordinator's timers (session expiry, rebalance and initial delays) as they come
    /// due, until cancelled: a long-lived part of whoever runs the broker.
    package func run() async {
        while !Task.isCancelled {
            let deadline = state.withLock { $0.coordinator.nextDeadline }
            await groupTimer.wait(until: deadline.map { started + $0 })
            let ready = state.withLock { state in
                Self.collect(state.coordinator.advance(to: now()), &state)
            }
            for (parked, reply) in ready { parked.resume(returning: reply) }
        }
    }

    static func bytes(_ value: KafkaValue) -> [UInt8] { value.bytes.map { Array($0.readableBytesView) } ?? [] }
}

/// Wakes the coordinator's timer loop early (a call moved its next deadline).
final class WakeSignal: Sendable {
    private let waiting = Mutex<(poked: Bool, continuation: CheckedContinuation<Void, Never>?)>((false, nil))

    /// Wakes the loop now, or at its next wait.
    func poke() {
        let continuation = waiting.withLock { state in
            defer { state = (state.continuation == nil, nil) }
            return state.continuation
        }
        continuation?.resume()
    }

    /// Returns at `deadline` (never, when nil), at a poke, or when cancelled.
    func wait(until deadline: ContinuousClock.Instant?) async {
        await withTaskGroup(of: Void.self) { group in
            if let deadline { group.addTask { try? await Task.sleep(until: deadline) } }
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        let now = self.waiting.withLock { state in
                            if state.poked {
                                state.poked = false
                                return true
                            }
                            state.continuation = continuation
                            return false
                        }
                        if now { continuation.resume() }
                    }
                } onCancel: {
                    self.poke()
                }
            }
            await group.next()
            group.cancelAll()
            self.waiting.withLock { $0.poked = false }
        }
    }
}
