/// One member in a DescribeGroups response.
package struct DescribedGroupMember: Sendable, Equatable {
    /// MemberId.
    package var memberId: String
    /// GroupInstanceId (v4+).
    package var groupInstanceId: String?
    /// ClientId.
    package var clientId: String
    /// ClientHost.
    package var clientHost: String
    /// MemberMetadata: the metadata for the selected protocol, empty unless the group is Stable.
    package var memberMetadata: [UInt8]
    /// MemberAssignment: empty unless the group is Stable.
    package var memberAssignment: [UInt8]

    /// A described member.
    package init(
        memberId: String,
        groupInstanceId: String?,
        clientId: String,
        clientHost: String,
        memberMetadata: [UInt8],
        memberAssignment: [UInt8]
    ) {
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
        self.clientId = clientId
        self.clientHost = clientHost
        self.memberMetadata = memberMetadata
        self.memberAssignment = memberAssignment
    }
}

/// One group in a DescribeGroups response.
package struct DescribedGroup: Sendable, Equatable {
    /// ErrorCode.
    package var errorCode: GroupErrorCode
    /// GroupId.
    package var groupId: String
    /// GroupState: "Empty", "PreparingRebalance", "CompletingRebalance", "Stable" or "Dead".
    package var groupState: String
    /// ProtocolType ("" when none).
    package var protocolType: String
    /// ProtocolData: the selected protocol when Stable, else "".
    package var protocolData: String
    /// Members.
    package var members: [DescribedGroupMember]

    /// A described group.
    package init(
        errorCode: GroupErrorCode,
        groupId: String,
        groupState: String,
        protocolType: String,
        protocolData: String,
        members: [DescribedGroupMember]
    ) {
        self.errorCode = errorCode
        self.groupId = groupId
        self.groupState = groupState
        self.protocolType = protocolType
        self.protocolData = protocolData
        self.members = members
    }
}

/// A ListGroups request (v0–v5).
package struct ListGroupsRequest: Sendable, Equatable {
    /// StatesFilter (v4+), case-insensitive; empty for all states.
    package var statesFilter: [String]
    /// TypesFilter (v5+), case-insensitive; empty for all types. Every group here is `classic`.
    package var typesFilter: [String]

    /// A listing, unfiltered by default.
    package init(statesFilter: [String] = [], typesFilter: [String] = []) {
        self.statesFilter = statesFilter
        self.typesFilter = typesFilter
    }
}

/// One group in a ListGroups response.
package struct ListedGroup: Sendable, Equatable {
    /// GroupId.
    package var groupId: String
    /// ProtocolType ("" when none).
    package var protocolType: String
    /// GroupState (v4+).
    package var groupState: String
    /// GroupType (v5+): always "classic".
    package var groupType: String

    /// A listed group.
    package init(groupId: String, protocolType: String, groupState: String, groupType: String = "classic") {
        self.groupId = groupId
        self.protocolType = protocolType
        self.groupState = groupState
        self.groupType = groupType
    }
}

/// A ListGroups response, groups sorted by id.
package struct ListGroupsResponse: Sendable, Equatable {
    /// ErrorCode.
    package var errorCode: GroupErrorCode
    /// Groups.
    package var groups: [ListedGroup]

    /// A listing.
    package init(errorCode: GroupErrorCode = .none, groups: [ListedGroup]) {
        self.errorCode = errorCode
        self.groups = groups
    }
}
