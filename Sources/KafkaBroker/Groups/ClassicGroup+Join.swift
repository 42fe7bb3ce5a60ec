extension ClassicGroup {
    /// Handles a JoinGroup whose group exists (Kafka's `handleJoinGroup` once the group is found):
    /// the answer is given at once, or parked on the member until the rebalance completes.
    /// `generatedMemberId` is the id a member without one gets.
    package mutating func join(
        _ request: JoinGroupRequest,
        ticket: GroupTicket,
        generatedMemberId: String,
        _ context: inout GroupContext
    ) {
        if !acceptsJoiningMember(request.memberId, maxSize: context.settings.maxGroupSize) {
            removeAndAnswer(request.memberId, &context)
            context.reply(ticket, JoinGroupResponse(errorCode: .groupMaxSizeReached, memberId: ""))
        } else if request.memberId.isEmpty {
            joinNewMember(request, ticket: ticket, newMemberId: generatedMemberId, &context)
        } else {
            joinCurrentMember(request, ticket: ticket, &context)
        }
        if state == .preparingRebalance { tryCompleteJoin(&context) }
    }

    /// Kafka's `acceptJoiningMember`: while preparing, members already waiting are kept and others
    /// are admitted up to the max size of waiting members; otherwise up to the max size of members.
    private func acceptsJoiningMember(_ memberId: String, maxSize: Int) -> Bool {
        switch state {
        case .empty, .dead: true
        case .preparingRebalance: members[memberId]?.joinTicket != nil || awaitingJoinCount < maxSize
        case .completingRebalance, .stable: members[memberId] != nil || members.count < maxSize
        }
    }

    /// A member without a member id: a static one takes over its instance id's place (or is added);
    /// a dynamic one is added, or from v4 first told MEMBER_ID_REQUIRED with its new id.
    private mutating func joinNewMember(
        _ request: JoinGroupRequest,
        ticket: GroupTicket,
        newMemberId: String,
        _ context: inout GroupContext
    ) {
        guard supportsProtocols(type: request.protocolType, protocols: request.protocols) else {
            context.reply(ticket, JoinGroupResponse(errorCode: .inconsistentGroupProtocol, memberId: ""))
            return
        }
        if let instanceId = request.groupInstanceId {
            if let oldMemberId = staticMembers[instanceId] {
                replaceStaticMember(
                    instanceId,
                    oldMemberId: oldMemberId,
                    newMemberId: newMemberId,
                    request,
                    ticket,
                    &context
                )
            } else {
                addMemberAndRebalance(newMemberId, request, ticket: ticket, &context)
            }
        } else if request.apiVersion >= 4 {
            pendingMembers[newMemberId] = context.now + .kafkaMilliseconds(request.sessionTimeoutMs)
            context.reply(ticket, JoinGroupResponse(errorCode: .memberIdRequired, memberId: newMemberId))
        } else {
            addMemberAndRebalance(newMemberId, request, ticket: ticket, &context)
        }
    }

    /// A member with a member id: a pending one is added; a known one rejoins, which rebalances
    /// unless it is a follower with unchanged metadata outside PreparingRebalance.
    private mutating func joinCurrentMember(
        _ request: JoinGroupRequest,
        ticket: GroupTicket,
        _ context: inout GroupContext
    ) {
        let memberId = request.memberId
        guard supportsProtocols(type: request.protocolType, protocols: request.protocols) else {
            context.reply(ticket, JoinGroupResponse(errorCode: .inconsistentGroupProtocol, memberId: memberId))
            return
        }
        if pendingMembers[memberId] != nil {
            guard request.groupInstanceId == nil else {
                // Kafka throws IllegalStateException here: a pending member id is never static.
                context.reply(ticket, JoinGroupResponse(errorCode: .unknownServerError, memberId: memberId))
                return
            }
            addMemberAndRebalance(memberId, request, ticket: ticket, &context)
            return
        }
        if let error = validateCurrentMember(memberId, instanceId: request.groupInstanceId) {
            context.reply(ticket, JoinGroupResponse(errorCode: error, memberId: memberId))
            return
        }
        guard let member = members[memberId] else { return }
        let unchanged = member.matches(request.protocols)
        switch state {
        case .preparingRebalance:
            updateMember(memberId, request, ticket: ticket, &context)
            maybePrepareRebalance(&context)
        case .completingRebalance where unchanged, .stable where unchanged && leaderId != memberId:
            // The member missed its answer: the current generation again, metadata for the leader.
            let isLeader = state == .completingRebalance && leaderId == memberId
            context.reply(ticket, currentGenerationResponse(memberId, members: isLeader ? currentMemberMetadata() : []))
        case .completingRebalance, .stable:
            updateMember(memberId, request, ticket: ticket, &context)
            maybePrepareRebalance(&context)
        case .empty, .dead:
            context.reply(ticket, JoinGroupResponse(errorCode: .unknownMemberId, memberId: memberId))
        }
    }

    /// The current generation as a JoinGroup response.
    private func currentGenerationResponse(
        _ memberId: String,
        members: [JoinGroupResponseMember],
        leader: String? = nil,
        skipAssignment: Bool = false
    ) -> JoinGroupResponse {
        JoinGroupResponse(
            errorCode: .none,
            generationId: generationId,
            protocolType: protocolType,
            protocolName: protocolName,
            leader: leader ?? leaderId ?? "",
            skipAssignment: skipAssignment,
            memberId: memberId,
            members: members
        )
    }

    /// Records a rejoin's protocols, timeouts and ticket. A JoinGroup it replaces (a retry from a
    /// new connection) gets REBALANCE_IN_PROGRESS, where Kafka leaves it unanswered.
    private mutating func updateMember(
        _ memberId: String,
        _ request: JoinGroupRequest,
        ticket: GroupTicket,
        _ context: inout GroupContext
    ) {
        if let old = members[memberId]?.joinTicket {
            context.reply(old, JoinGroupResponse(errorCode: .rebalanceInProgress, memberId: memberId))
        }
        members[memberId]?.protocols = request.protocols
        members[memberId]?.rebalanceTimeout = .kafkaMilliseconds(request.effectiveRebalanceTimeoutMs)
        members[memberId]?.sessionTimeout = .kafkaMilliseconds(request.sessionTimeoutMs)
        members[memberId]?.joinTicket = ticket
    }

    /// Kafka's `addMemberAndRebalance`: a new member waits (at most the new member join timeout)
    /// for a rebalance, which a new member of generation 0 extends during the initial delay.
    private mutating func addMemberAndRebalance(
        _ memberId: String,
        _ request: JoinGroupRequest,
        ticket: GroupTicket,
        _ context: inout GroupContext
    ) {
        var member = GroupMember(
            memberId: memberId,
            groupInstanceId: request.groupInstanceId,
            request: request,
            joinTicket: ticket
        )
        member.isNew = true
        if state == .preparingRebalance && generationId == 0 { newMemberAdded = true }
        add(member)
        scheduleHeartbeat(memberId, timeout: context.settings.newMemberJoinTimeout, now: context.now)
        maybePrepareRebalance(&context)
    }

    /// Kafka's `updateStaticMemberAndRebalance`: a known instance id joins without a member id. It
    /// gets a new member id and the old one is fenced. A Stable group whose selected protocol stays
    /// keeps its generation and assignments (v9+: the leader learns it leads but skips assigning;
    /// before v9 the old leader id is returned so that nobody assigns); otherwise it rebalances.
    private mutating func replaceStaticMember(
        _ instanceId: String,
        oldMemberId: String,
        newMemberId: String,
        _ request: JoinGroupRequest,
        _ ticket: GroupTicket,
        _ context: inout GroupContext
    ) {
        let oldLeader = leaderId
        guard var member = members.removeValue(forKey: oldMemberId) else { return }
        if let old = member.joinTicket {
            context.reply(old, JoinGroupResponse(errorCode: .fencedInstanceId, memberId: oldMemberId))
        }
        if let old = member.syncTicket { context.reply(old, SyncGroupResponse(errorCode: .fencedInstanceId)) }
        member.joinTicket = nil
        member.syncTicket = nil
        member.memberId = newMemberId
        members[newMemberId] = member
        memberIds = memberIds.map { $0 == oldMemberId ? newMemberId : $0 }
        // As in Kafka, a pending sync stays under the old id: if the old member had not synced, the
        // sync timer still rebalances the group.
        if leaderId == oldMemberId { leaderId = newMemberId }
        staticMembers[instanceId] = newMemberId
        scheduleHeartbeat(newMemberId, now: context.now)
        updateMember(newMemberId, request, ticket: ticket, &context)

        switch state {
        case .stable where selectProtocol() == protocolName:
            let isLeader = leaderId == newMemberId
            let response =
                request.apiVersion >= 9
                ? currentGenerationResponse(
                    newMemberId,
                    members: isLeader ? currentMemberMetadata() : [],
                    skipAssignment: isLeader
                )
                : currentGenerationResponse(newMemberId, members: [], leader: oldLeader ?? "")
            answerJoin(newMemberId, response, &context)
        case .stable: maybePrepareRebalance(&context)
        case .completingRebalance: prepareRebalance(&context)
        case .preparingRebalance: break
        case .empty, .dead:
            answerJoin(newMemberId, JoinGroupResponse(errorCode: .unknownServerError, memberId: newMemberId), &context)
        }
    }
}
