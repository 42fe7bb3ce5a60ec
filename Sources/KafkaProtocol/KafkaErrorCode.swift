/// Kafka's error codes the broker answers with (Apache Kafka's `Errors`), by their names.
package enum KafkaErrorCode: Int16, Sendable, CaseIterable {
    case unknownServerError = -1
    case none = 0
    case offsetOutOfRange = 1
    case corruptMessage = 2
    case unknownTopicOrPartition = 3
    case invalidFetchSize = 4
    case leaderNotAvailable = 5
    case notLeaderOrFollower = 6
    case requestTimedOut = 7
    case messageTooLarge = 10
    case coordinatorLoadInProgress = 14
    case coordinatorNotAvailable = 15
    case notCoordinator = 16
    case invalidTopicException = 17
    case recordListTooLarge = 18
    case invalidRequiredAcks = 21
    case illegalGeneration = 22
    case inconsistentGroupProtocol = 23
    case invalidGroupID = 24
    case unknownMemberID = 25
    case invalidSessionTimeout = 26
    case rebalanceInProgress = 27
    case invalidCommitOffsetSize = 28
    case topicAuthorizationFailed = 29
    case groupAuthorizationFailed = 30
    case clusterAuthorizationFailed = 31
    case invalidTimestamp = 32
    case unsupportedSASLMechanism = 33
    case illegalSASLState = 34
    case unsupportedVersion = 35
    case invalidRequest = 42
    case unsupportedForMessageFormat = 43
    case transactionalIDAuthorizationFailed = 53
    case saslAuthenticationFailed = 58
    case unknownProducerID = 59
    case nonEmptyGroup = 68
    case groupIDNotFound = 69
    case fetchSessionIDNotFound = 70
    case invalidFetchSessionEpoch = 71
    case fencedLeaderEpoch = 74
    case unknownLeaderEpoch = 75
    case unsupportedCompressionType = 76
    case offsetNotAvailable = 78
    case memberIDRequired = 79
    case groupMaxSizeReached = 81
    case fencedInstanceID = 82
    case invalidRecord = 87
    case unstableOffsetCommit = 88
    case unknownTopicID = 100
    case inconsistentTopicID = 103

    /// Kafka's name for the code (`NOT_COORDINATOR`…), for logs and injected faults.
    package var kafkaName: String {
        let special: [KafkaErrorCode: String] = [
            .invalidGroupID: "INVALID_GROUP_ID", .unknownMemberID: "UNKNOWN_MEMBER_ID",
            .unsupportedSASLMechanism: "UNSUPPORTED_SASL_MECHANISM", .illegalSASLState: "ILLEGAL_SASL_STATE",
            .transactionalIDAuthorizationFailed: "TRANSACTIONAL_ID_AUTHORIZATION_FAILED",
            .saslAuthenticationFailed: "SASL_AUTHENTICATION_FAILED", .unknownProducerID: "UNKNOWN_PRODUCER_ID",
            .groupIDNotFound: "GROUP_ID_NOT_FOUND", .fetchSessionIDNotFound: "FETCH_SESSION_ID_NOT_FOUND",
            .memberIDRequired: "MEMBER_ID_REQUIRED", .fencedInstanceID: "FENCED_INSTANCE_ID",
            .unknownTopicID: "UNKNOWN_TOPIC_ID", .inconsistentTopicID: "INCONSISTENT_TOPIC_ID",
        ]
        if let name = special[self] { return name }
        var name = ""
        for character in "\(self)" {
            if character.isUppercase, !name.isEmpty { name += "_" }
            name += character.uppercased()
        }
        return name
    }
}
