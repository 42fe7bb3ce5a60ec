/// One protocol a joining member supports (JoinGroupRequest's Protocols), in its order of preference.
package struct GroupProtocol: Sendable, Equatable {
    /// The protocol name, e.g. a partition assignor such as `range`.
    package var name: String
    /// The member's metadata for the protocol (for consumers, its subscription).
    package var metadata: [UInt8]

    /// A protocol with its metadata.
    package init(name: String, metadata: [UInt8] = []) {
        self.name = name
        self.metadata = metadata
    }
}

/// A JoinGroup request (v0–v9) with the connection facts the coordinator records for the member.
package struct JoinGroupRequest: Sendable, Equatable {
    /// The request's API version: v4+ requires a known member id of dynamic members
    /// (MEMBER_ID_REQUIRED); v9+ lets a rejoining static leader skip the assignment.
    package var apiVersion: Int16
    /// GroupId.
    package var groupId: String
    /// SessionTimeoutMs.
    package var sessionTimeoutMs: Int32
    /// RebalanceTimeoutMs (v1+); v0 uses the session timeout, see `effectiveRebalanceTimeoutMs`.
    package var rebalanceTimeoutMs: Int32
    /// MemberId: "" for a member that has none yet.
    package var memberId: String
    /// GroupInstanceId (v5+): the static member's instance id, nil for a dynamic member.
    package var groupInstanceId: String?
    /// ProtocolType, e.g. `consumer`.
    package var protocolType: String
    /// Protocols, in the member's order of preference.
    package var protocols: [GroupProtocol]
    /// Reason (v8+), for logs only.
    package var reason: String?
    /// The client id of the request header; a new dynamic member id starts with it.
    package var clientId: String
    /// The client's address as DescribeGroups shows it (Kafka writes `/` and the IP address).
    package var clientHost: String

    /// A JoinGroup request; the defaults are a v9 dynamic consumer with 45 s session and 5 min
    /// rebalance timeouts, as the Java consumer sends.
    package init(
        apiVersion: Int16 = 9,
        groupId: String,
        sessionTimeoutMs: Int32 = 45_000,
        rebalanceTimeoutMs: Int32 = 300_000,
        memberId: String = "",
        groupInstanceId: String? = nil,
        protocolType: String = "consumer",
        protocols: [GroupProtocol] = [GroupProtocol(name: "range")],
        reason: String? = nil,
        clientId: String = "consumer",
        clientHost: String = "/127.0.0.1"
    ) {
        self.apiVersion = apiVersion
        self.groupId = groupId
        self.sessionTimeoutMs = sessionTimeoutMs
        self.rebalanceTimeoutMs = rebalanceTimeoutMs
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
        self.protocolType = protocolType
        self.protocols = protocols
        self.reason = reason
        self.clientId = clientId
        self.clientHost = clientHost
    }

    /// The rebalance timeout Kafka uses: the session timeout for v0, which has no rebalance timeout.
    package var effectiveRebalanceTimeoutMs: Int32 { apiVersion == 0 ? sessionTimeoutMs : rebalanceTimeoutMs }
}

/// One member in the leader's JoinGroup response.
package struct JoinGroupResponseMember: Sendable, Equatable {
    /// MemberId.
    package var memberId: String
    /// GroupInstanceId of a static member.
    package var groupInstanceId: String?
    /// Metadata: the member's metadata for the group's selected protocol.
    package var metadata: [UInt8]

    /// A member of the leader's list.
    package init(memberId: String, groupInstanceId: String?, metadata: [UInt8]) {
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
        self.metadata = metadata
    }
}

/// A JoinGroup response. `protocolName` nil is written as "" before v7 and as null from v7.
package struct JoinGroupResponse: Sendable, Equatable {
    /// ErrorCode.
    package var errorCode: GroupErrorCode
    /// GenerationId (-1 with an error).
    package var generationId: Int32
    /// ProtocolType (v7+).
    package var protocolType: String?
    /// ProtocolName.
    package var protocolName: String?
    /// Leader: the leader's member id.
    package var leader: String
    /// SkipAssignment (v9+): the static leader rejoined a stable group and must not assign.
    package var skipAssignment: Bool
    /// MemberId: the member's id (the generated id with MEMBER_ID_REQUIRED).
    package var memberId: String
    /// Members: every member's metadata for the leader, empty for followers.
    package var members: [JoinGroupResponseMember]

    /// A JoinGroup response; the defaults are those of an error response.
    package init(
        errorCode: GroupErrorCode,
        generationId: Int32 = -1,
        protocolType: String? = nil,
        protocolName: String? = nil,
        leader: String = "",
        skipAssignment: Bool = false,
        memberId: String,
        members: [JoinGroupResponseMember] = []
    ) {
        self.errorCode = errorCode
        self.generationId = generationId
        self.protocolType = protocolType
        self.protocolName = protocolName
        self.leader = leader
        self.skipAssignment = skipAssignment
        self.memberId = memberId
        self.members = members
    }
}

/// One member's assignment in the leader's SyncGroup request.
package struct SyncGroupAssignment: Sendable, Equatable {
    /// MemberId.
    package var memberId: String
    /// Assignment: opaque to the coordinator.
    package var assignment: [UInt8]

    /// An assignment for a member.
    package init(memberId: String, assignment: [UInt8]) {
        self.memberId = memberId
        self.assignment = assignment
    }
}

/// A SyncGroup request (v0–v5).
package struct SyncGroupRequest: Sendable, Equatable {
    /// The request's API version: v5+ must carry ProtocolType and ProtocolName.
    package var apiVersion: Int16
    /// GroupId.
    package var groupId: String
    /// GenerationId.
    package var generationId: Int32
    /// MemberId.
    package var memberId: String
    /// GroupInstanceId (v3+).
    package var groupInstanceId: String?
    /// ProtocolType (v5+).
    package var protocolType: String?
    /// ProtocolName (v5+).
    package var protocolName: String?
    /// Assignments: the leader's assignment of every member; empty from followers.
    package var assignments: [SyncGroupAssignment]

    /// A SyncGroup request; the defaults are a v5 consumer using `range`.
    package init(
        apiVersion: Int16 = 5,
        groupId: String,
        generationId: Int32,
        memberId: String,
        groupInstanceId: String? = nil,
        protocolType: String? = "consumer",
        protocolName: String? = "range",
        assignments: [SyncGroupAssignment] = []
    ) {
        self.apiVersion = apiVersion
        self.groupId = groupId
        self.generationId = generationId
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
        self.protocolType = protocolType
        self.protocolName = protocolName
        self.assignments = assignments
    }
}

/// A SyncGroup response.
package struct SyncGroupResponse: Sendable, Equatable {
    /// ErrorCode.
    package var errorCode: GroupErrorCode
    /// ProtocolType (v5+), nil with an error.
    package var protocolType: String?
    /// ProtocolName (v5+), nil with an error.
    package var protocolName: String?
    /// Assignment: the member's assignment, empty with an error.
    package var assignment: [UInt8]

    /// A SyncGroup response; the defaults are those of an error response.
    package init(
        errorCode: GroupErrorCode,
        protocolType: String? = nil,
        protocolName: String? = nil,
        assignment: [UInt8] = []
    ) {
        self.errorCode = errorCode
        self.protocolType = protocolType
        self.protocolName = protocolName
        self.assignment = assignment
    }
}
