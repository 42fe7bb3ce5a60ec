/// A Heartbeat request (v0–v4).
package struct HeartbeatRequest: Sendable, Equatable {
    /// GroupId.
    package var groupId: String
    /// GenerationId.
    package var generationId: Int32
    /// MemberId.
    package var memberId: String
    /// GroupInstanceId (v3+).
    package var groupInstanceId: String?

    /// A heartbeat of a member in a generation.
    package init(groupId: String, generationId: Int32, memberId: String, groupInstanceId: String? = nil) {
        self.groupId = groupId
        self.generationId = generationId
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
    }
}

/// A Heartbeat response.
package struct HeartbeatResponse: Sendable, Equatable {
    /// ErrorCode.
    package var errorCode: GroupErrorCode

    /// A heartbeat response with its error code.
    package init(errorCode: GroupErrorCode) { self.errorCode = errorCode }
}

/// One member leaving (LeaveGroupRequest's Members, v3+; v0–v2 name one member id).
package struct LeaveGroupMember: Sendable, Equatable {
    /// MemberId: "" to remove a static member by its instance id alone.
    package var memberId: String
    /// GroupInstanceId.
    package var groupInstanceId: String?
    /// Reason (v5+), for logs only.
    package var reason: String?

    /// A leaving member.
    package init(memberId: String, groupInstanceId: String? = nil, reason: String? = nil) {
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
        self.reason = reason
    }
}

/// A LeaveGroup request (v0–v5).
package struct LeaveGroupRequest: Sendable, Equatable {
    /// GroupId.
    package var groupId: String
    /// The leaving members: the one MemberId of v0–v2, the Members of v3+.
    package var members: [LeaveGroupMember]

    /// A batched (v3+) leave.
    package init(groupId: String, members: [LeaveGroupMember]) {
        self.groupId = groupId
        self.members = members
    }

    /// A v0–v2 leave of one member id.
    package init(groupId: String, memberId: String) {
        self.init(groupId: groupId, members: [LeaveGroupMember(memberId: memberId)])
    }
}

/// One member's outcome in a LeaveGroup response (v3+).
package struct LeaveGroupMemberResponse: Sendable, Equatable {
    /// MemberId, as the request gave it.
    package var memberId: String
    /// GroupInstanceId, as the request gave it.
    package var groupInstanceId: String?
    /// ErrorCode.
    package var errorCode: GroupErrorCode

    /// A member's outcome.
    package init(memberId: String, groupInstanceId: String?, errorCode: GroupErrorCode) {
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
        self.errorCode = errorCode
    }
}

/// A LeaveGroup response.
package struct LeaveGroupResponse: Sendable, Equatable {
    /// ErrorCode: the top-level error.
    package var errorCode: GroupErrorCode
    /// Members (v3+): each leaving member's outcome.
    package var members: [LeaveGroupMemberResponse]

    /// A leave response.
    package init(errorCode: GroupErrorCode, members: [LeaveGroupMemberResponse] = []) {
        self.errorCode = errorCode
        self.members = members
    }

    /// The single ErrorCode of v0–v2: the top-level error, else the first member error.
    package var legacyErrorCode: GroupErrorCode {
        if errorCode != .none { return errorCode }
        return members.first { $0.errorCode != .none }?.errorCode ?? .none
    }
}

/// One group's outcome in a DeleteGroups response.
package struct DeletedGroup: Sendable, Equatable {
    /// GroupId.
    package var groupId: String
    /// ErrorCode: NONE, GROUP_ID_NOT_FOUND or NON_EMPTY_GROUP.
    package var errorCode: GroupErrorCode

    /// A group's outcome.
    package init(groupId: String, errorCode: GroupErrorCode) {
        self.groupId = groupId
        self.errorCode = errorCode
    }
}

/// A reply that is ready: the response to the request `ticket` names. A call may return the replies
/// of requests parked earlier (other members' JoinGroups when the rebalance completes, followers'
/// SyncGroups when the leader assigns) along with, or instead of, its own.
package struct GroupReply: Sendable, Equatable {
    /// The ticket of the request this answers.
    package var ticket: GroupTicket
    /// The response.
    package var body: Body

    /// A reply to a ticket.
    package init(ticket: GroupTicket, body: Body) {
        self.ticket = ticket
        self.body = body
    }

    /// A response of one of the group APIs.
    package enum Body: Sendable, Equatable {
        /// A JoinGroup response.
        case join(JoinGroupResponse)
        /// A SyncGroup response.
        case sync(SyncGroupResponse)
        /// A Heartbeat response.
        case heartbeat(HeartbeatResponse)
        /// A LeaveGroup response.
        case leave(LeaveGroupResponse)
        /// An OffsetCommit response.
        case offsetCommit(OffsetCommitResponse)
        /// A DeleteGroups response: one outcome per distinct group id.
        case deleteGroups([DeletedGroup])
    }
}
