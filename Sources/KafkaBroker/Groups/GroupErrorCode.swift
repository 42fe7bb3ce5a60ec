/// A Kafka error code as `org.apache.kafka.common.protocol.Errors` numbers it: the codes the classic
/// group coordinator answers with. The case names are Errors.java's in lower camel case; `name` spells
/// them as Kafka does.
package enum GroupErrorCode: Int16, Sendable, CaseIterable {
    /// UNKNOWN_SERVER_ERROR: the server failed in a way it has no code for.
    case unknownServerError = -1
    /// NONE: success.
    case none = 0
    /// UNKNOWN_TOPIC_OR_PARTITION: the broker does not host this topic-partition.
    case unknownTopicOrPartition = 3
    /// OFFSET_METADATA_TOO_LARGE: a committed offset's metadata is longer than `offset.metadata.max.bytes`.
    case offsetMetadataTooLarge = 12
    /// COORDINATOR_LOAD_IN_PROGRESS: the coordinator is loading the group.
    case coordinatorLoadInProgress = 14
    /// COORDINATOR_NOT_AVAILABLE: the coordinator is not available (or the group has just died).
    case coordinatorNotAvailable = 15
    /// NOT_COORDINATOR: this broker is not the group's coordinator.
    case notCoordinator = 16
    /// ILLEGAL_GENERATION: the request names another generation than the group's.
    case illegalGeneration = 22
    /// INCONSISTENT_GROUP_PROTOCOL: the protocol type or protocols do not match the group's.
    case inconsistentGroupProtocol = 23
    /// INVALID_GROUP_ID: the group id is empty where a group id is needed.
    case invalidGroupId = 24
    /// UNKNOWN_MEMBER_ID: the coordinator does not know this member.
    case unknownMemberId = 25
    /// INVALID_SESSION_TIMEOUT: the session timeout is outside the broker's bounds.
    case invalidSessionTimeout = 26
    /// REBALANCE_IN_PROGRESS: the group is rebalancing; the member must rejoin.
    case rebalanceInProgress = 27
    /// GROUP_AUTHORIZATION_FAILED: the principal may not use the group.
    case groupAuthorizationFailed = 30
    /// UNSUPPORTED_VERSION: the API version is not supported.
    case unsupportedVersion = 35
    /// INVALID_REQUEST: the request is malformed.
    case invalidRequest = 42
    /// NON_EMPTY_GROUP: the group still has members.
    case nonEmptyGroup = 68
    /// GROUP_ID_NOT_FOUND: the group does not exist.
    case groupIdNotFound = 69
    /// MEMBER_ID_REQUIRED: rejoin with the member id this response carries.
    case memberIdRequired = 79
    /// GROUP_MAX_SIZE_REACHED: the group has `group.max.size` members.
    case groupMaxSizeReached = 81
    /// FENCED_INSTANCE_ID: another member id now holds this group instance id.
    case fencedInstanceId = 82
    /// UNSTABLE_OFFSET_COMMIT: an offset commit for the partition is still pending.
    case unstableOffsetCommit = 88

    /// The name Errors.java gives the code, e.g. `ILLEGAL_GENERATION`.
    package var name: String {
        var name = ""
        for character in String(describing: self) {
            if character.isUppercase { name.append("_") }
            name.append(contentsOf: character.uppercased())
        }
        return name
    }
}
