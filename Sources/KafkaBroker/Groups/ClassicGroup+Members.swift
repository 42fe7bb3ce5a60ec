extension ClassicGroup {
    /// Handles a SyncGroup (Kafka's `doSyncGroup`): in CompletingRebalance the request parks until
    /// the leader's assignment, which answers every parked sync and makes the group Stable; in
    /// Stable the member gets its current assignment at once.
    package mutating func sync(_ request: SyncGroupRequest, ticket: GroupTicket, _ context: inout GroupContext) {
        let memberId = request.memberId
        if let error = validateCurrentMember(memberId, instanceId: request.groupInstanceId) {
            return context.reply(ticket, SyncGroupResponse(errorCode: error))
        }
        if request.generationId != generationId {
            return context.reply(ticket, SyncGroupResponse(errorCode: .illegalGeneration))
        }
        if let type = request.protocolType, type != protocolType {
            return context.reply(ticket, SyncGroupResponse(errorCode: .inconsistentGroupProtocol))
        }
        if let name = request.protocolName, name != protocolName {
            return context.reply(ticket, SyncGroupResponse(errorCode: .inconsistentGroupProtocol))
        }
        switch state {
        case .empty: context.reply(ticket, SyncGroupResponse(errorCode: .unknownMemberId))
        case .dead: context.reply(ticket, SyncGroupResponse(errorCode: .coordinatorNotAvailable))
        case .preparingRebalance: context.reply(ticket, SyncGroupResponse(errorCode: .rebalanceInProgress))
        case .completingRebalance:
            // A sync it replaces (a retry from a new connection) is told to rejoin; Kafka drops it.
            answerSync(memberId, SyncGroupResponse(errorCode: .rebalanceInProgress), &context)
            members[memberId]?.syncTicket = ticket
            removePendingSyncMember(memberId)
            guard leaderId == memberId else { return }
            var assignments: [String: [UInt8]] = [:]
            for assignment in request.assignments { assignments[assignment.memberId] = assignment.assignment }
            for id in memberIds { members[id]?.assignment = assignments[id] ?? [] }
            propagateAssignment(error: .none, &context)
            transition(to: .stable, now: context.now)
        case .stable:
            removePendingSyncMember(memberId)
            let response = SyncGroupResponse(
                errorCode: .none,
                protocolType: protocolType,
                protocolName: protocolName,
                assignment: members[memberId]?.assignment ?? []
            )
            context.reply(ticket, response)
            scheduleHeartbeat(memberId, now: context.now)
        }
    }

    /// Handles a Heartbeat (Kafka's `handleHeartbeat`): renews the session; REBALANCE_IN_PROGRESS
    /// tells the member to rejoin.
    package mutating func heartbeat(_ request: HeartbeatRequest, now: Duration) -> GroupErrorCode {
        if let error = validateCurrentMember(request.memberId, instanceId: request.groupInstanceId) { return error }
        if request.generationId != generationId { return .illegalGeneration }
        switch state {
        case .empty: return .unknownMemberId
        case .dead: return .coordinatorNotAvailable
        case .completingRebalance, .stable:
            scheduleHeartbeat(request.memberId, now: now)
            return .none
        case .preparingRebalance:
            scheduleHeartbeat(request.memberId, now: now)
            return .rebalanceInProgress
        }
    }

    /// Handles a LeaveGroup (Kafka's `handleLeaveGroup` for an existing group): each member leaves
    /// by member id, or a static member by instance id alone; the group rebalances at once.
    package mutating func leave(
        _ leaving: [LeaveGroupMember],
        _ context: inout GroupContext
    ) -> [LeaveGroupMemberResponse] {
        leaving.map { member in
            let error: GroupErrorCode
            if member.memberId.isEmpty {
                if let instanceId = member.groupInstanceId, let current = staticMembers[instanceId] {
                    removeMemberAndUpdateGroup(current, &context)
                    error = .none
                } else {
                    error = .unknownMemberId
                }
            } else if pendingMembers[member.memberId] != nil {
                pendingMembers[member.memberId] = nil
                if state == .preparingRebalance { tryCompleteJoin(&context) }
                error = .none
            } else if let invalid = validateCurrentMember(member.memberId, instanceId: member.groupInstanceId) {
                error = invalid
            } else {
                removeMemberAndUpdateGroup(member.memberId, &context)
                error = .none
            }
            return LeaveGroupMemberResponse(
                memberId: member.memberId,
                groupInstanceId: member.groupInstanceId,
                errorCode: error
            )
        }
    }

    /// Kafka's `validateOffsetCommit`: a commit with a negative generation is accepted from anyone
    /// while the group is Empty; a commit naming a member or generation must come from a current
    /// member of the current generation; an anonymous commit to a non-Empty group is refused.
    package func validateOffsetCommit(_ request: OffsetCommitRequest) -> GroupErrorCode? {
        let generation = request.generationIdOrMemberEpoch
        if state == .dead { return .coordinatorNotAvailable }
        if generation < 0 && state == .empty { return nil }
        if generation >= 0 || !request.memberId.isEmpty || request.groupInstanceId != nil {
            if let error = validateCurrentMember(request.memberId, instanceId: request.groupInstanceId) { return error }
            return generation == generationId ? nil : .illegalGeneration
        }
        return state == .empty ? nil : .unknownMemberId
    }

    /// Handles an OffsetCommit (Kafka's `doCommitOffsets`): stores the offsets when Empty, Stable or
    /// PreparingRebalance (renewing the member's session), refuses them with REBALANCE_IN_PROGRESS
    /// in CompletingRebalance. Metadata too long is refused partition by partition.
    package mutating func commitOffsets(
        _ request: OffsetCommitRequest,
        _ context: GroupContext
    ) -> OffsetCommitResponse {
        let rebalancing: GroupErrorCode? = state == .completingRebalance ? .rebalanceInProgress : nil
        if let failure = validateOffsetCommit(request) ?? rebalancing {
            return Self.commitResponse(request) { _, _ in failure }
        }
        if state == .stable || state == .preparingRebalance { scheduleHeartbeat(request.memberId, now: context.now) }
        let maxBytes = context.settings.offsetMetadataMaxBytes
        return Self.commitResponse(request) { topic, partition in
            let metadata = partition.committedMetadata ?? ""
            guard metadata.utf16.count <= maxBytes else { return .offsetMetadataTooLarge }
            let key = GroupTopicPartition(topic: topic, partition: partition.partitionIndex)
            offsets[key] = CommittedOffset(
                offset: partition.committedOffset,
                leaderEpoch: partition.committedLeaderEpoch,
                metadata: metadata,
                commitTime: context.now
            )
            return .none
        }
    }

    /// An OffsetCommit response in the request's order, with each partition's error.
    package static func commitResponse(
        _ request: OffsetCommitRequest,
        _ outcome: (String, OffsetCommitPartition) -> GroupErrorCode
    ) -> OffsetCommitResponse {
        OffsetCommitResponse(
            topics: request.topics.map { topic in
                OffsetCommitResponseTopic(
                    name: topic.name,
                    partitions: topic.partitions.map {
                        OffsetCommitResponsePartition(
                            partitionIndex: $0.partitionIndex,
                            errorCode: outcome(topic.name, $0)
                        )
                    }
                )
            }
        )
    }
}
