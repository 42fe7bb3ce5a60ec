/// Port's ACLs for a customer's Kafka user: Describe and Read on the organization's two
/// topics, consumer groups named `ORG_ID.*` or equal to the username, and nothing else (no
/// Write, no transactions, no cluster operations).
package struct KafkaACL: Sendable {
    /// False lets every request through (`--kafka-acls off`).
    package var enabled: Bool
    /// The organization id: groups must start with `ORG_ID.`.
    package var orgID: String
    /// The topics the customer may describe and read.
    package var readableTopics: Set<String>

    package init(enabled: Bool = true, orgID: String, readableTopics: Set<String>) {
        self.enabled = enabled
        self.orgID = orgID
        self.readableTopics = readableTopics
    }

    package func allowsGroup(_ group: String, principal: String) -> Bool {
        !enabled || group.hasPrefix("\(orgID).") || group == principal
    }

    package func allowsRead(_ topic: String) -> Bool { !enabled || readableTopics.contains(topic) }

    package var allowsWrite: Bool { !enabled }

    package var topicList: String { readableTopics.sorted().joined(separator: " and ") }
}

/// A request the front refused under Port's ACLs, for the emulator's violations.
package struct KafkaRefusal: Sendable, Equatable {
    /// The Kafka user (the customer's username on the plaintext listener).
    package let principal: String
    /// The listener: `PLAINTEXT` or `SASL_SSL`.
    package let listener: String
    /// The request, as the Kafka protocol names it (`FindCoordinator`, `Produce`…).
    package let api: String
    /// `group:NAME`, `topic:NAME` or `transactional-id:NAME`.
    package let resource: String
    /// Kafka's error code (29, 30, 31, 53).
    package let errorCode: Int16
    /// Kafka's name for it (`GROUP_AUTHORIZATION_FAILED`…).
    package let errorName: String
    /// The rule: `kafka-group-acl`, `kafka-topic-read-acl`, `kafka-topic-write-acl`…
    package let rule: String
    /// One sentence a user can act on.
    package let message: String

    package static let topicAuthorizationFailed: Int16 = 29
    package static let groupAuthorizationFailed: Int16 = 30
    package static let clusterAuthorizationFailed: Int16 = 31
    package static let transactionalIDAuthorizationFailed: Int16 = 53

    package static func group(
        _ group: String,
        api: String,
        principal: String,
        listener: String,
        acl: KafkaACL
    ) -> KafkaRefusal {
        KafkaRefusal(
            principal: principal,
            listener: listener,
            api: api,
            resource: "group:\(group)",
            errorCode: groupAuthorizationFailed,
            errorName: "GROUP_AUTHORIZATION_FAILED",
            rule: "kafka-group-acl",
            message: "consumer group `\(group)` refused: Port's ACLs allow only `\(acl.orgID).*` or the Kafka "
                + "username `\(principal)`"
        )
    }

    package static func read(
        _ topic: String,
        api: String,
        principal: String,
        listener: String,
        acl: KafkaACL
    ) -> KafkaRefusal {
        KafkaRefusal(
            principal: principal,
            listener: listener,
            api: api,
            resource: "topic:\(topic)",
            errorCode: topicAuthorizationFailed,
            errorName: "TOPIC_AUTHORIZATION_FAILED",
            rule: "kafka-topic-read-acl",
            message: "topic `\(topic)` refused: Port's ACLs let `\(principal)` describe and read only "
                + "\(acl.topicList)"
        )
    }

    package static func write(_ topic: String, api: String, principal: String, listener: String) -> KafkaRefusal {
        KafkaRefusal(
            principal: principal,
            listener: listener,
            api: api,
            resource: "topic:\(topic)",
            errorCode: topicAuthorizationFailed,
            errorName: "TOPIC_AUTHORIZATION_FAILED",
            rule: "kafka-topic-write-acl",
            message: "producing to `\(topic)` refused: Port's ACLs give `\(principal)` no Write on any topic "
                + "(only Port publishes to the org's topics)"
        )
    }

    package static func cluster(api: String, principal: String, listener: String) -> KafkaRefusal {
        KafkaRefusal(
            principal: principal,
            listener: listener,
            api: api,
            resource: "cluster",
            errorCode: clusterAuthorizationFailed,
            errorName: "CLUSTER_AUTHORIZATION_FAILED",
            rule: "kafka-cluster-acl",
            message: "\(api) refused: Port's ACLs give `\(principal)` no idempotent or transactional writes"
        )
    }

    package static func transactionalID(_ id: String, api: String, principal: String, listener: String) -> KafkaRefusal
    {
        KafkaRefusal(
            principal: principal,
            listener: listener,
            api: api,
            resource: "transactional-id:\(id)",
            errorCode: transactionalIDAuthorizationFailed,
            errorName: "TRANSACTIONAL_ID_AUTHORIZATION_FAILED",
            rule: "kafka-transaction-acl",
            message: "transactional id `\(id)` refused: Port's ACLs give `\(principal)` no transactions"
        )
    }
}
