extension ClassicGroup {
    /// The group's timers in the order they fire at one instant: pending member ids, sessions (in
    /// join order), the sync timer, the join timer.
    private enum Timer {
        case pending(String)
        case session(String)
        case sync
        case join
    }

    /// The earliest timer and when it fires.
    private var earliestTimer: (deadline: Duration, timer: Timer)? {
        var earliest: (deadline: Duration, timer: Timer)?
        func consider(_ deadline: Duration?, _ timer: Timer) {
            guard let deadline else { return }
            if let current = earliest, current.deadline <= deadline { return }
            earliest = (deadline, timer)
        }
        for (id, deadline) in pendingMembers.sorted(by: { $0.key < $1.key }) { consider(deadline, .pending(id)) }
        for member in orderedMembers { consider(member.heartbeatDeadline, .session(member.memberId)) }
        consider(syncTimer?.deadline, .sync)
        consider(joinTimer?.deadline, .join)
        return earliest
    }

    /// When the group's next timer fires, if it has one.
    package var nextDeadline: Duration? { earliestTimer?.deadline }

    /// Fires the earliest timer if it is due at `context.now`; returns whether one fired.
    package mutating func fireNextTimer(_ context: inout GroupContext) -> Bool {
        guard let (deadline, timer) = earliestTimer, deadline <= context.now else { return false }
        switch timer {
        case .pending(let id): expirePendingMember(id, &context)
        case .session(let id): expireSession(id, &context)
        case .sync: expireSync(&context)
        case .join: fireJoinTimer(&context)
        }
        return true
    }

    /// A member id handed out with MEMBER_ID_REQUIRED was not used in time.
    private mutating func expirePendingMember(_ memberId: String, _ context: inout GroupContext) {
        pendingMembers[memberId] = nil
        if state == .preparingRebalance { tryCompleteJoin(&context) }
    }

    /// A session timer fires: the member is removed unless it awaits a join or sync answer (and is
    /// not new), in which case its session is merely suspended.
    private mutating func expireSession(_ memberId: String, _ context: inout GroupContext) {
        members[memberId]?.heartbeatDeadline = nil
        guard let member = members[memberId], !member.hasSatisfiedHeartbeat else { return }
        removeMemberAndUpdateGroup(memberId, &context)
    }

    /// The sync timer fires (Kafka's `onExpirePendingSync`): members of this generation that have not
    /// synced are removed and the group rebalances.
    private mutating func expireSync(_ context: inout GroupContext) {
        guard let timer = syncTimer else { return }
        syncTimer = nil
        guard timer.generation == generationId, state == .completingRebalance || state == .stable,
            !pendingSyncMembers.isEmpty
        else { return }
        for id in memberIds where pendingSyncMembers.contains(id) { removeAndAnswer(id, &context) }
        prepareRebalance(&context)
    }
}
