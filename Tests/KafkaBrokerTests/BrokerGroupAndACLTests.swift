import KafkaBroker
import KafkaProtocol
import KafkaRecords
import NIOCore
import TestSupport
import Testing

/// The group APIs through `KafkaBroker.handle`, Port's ACLs on a customer's connection, and
/// the fault hooks.
@Suite(.timeLimit(.minutes(10))) struct BrokerGroupAndACLTests {
    @Test("A consumer group forms, syncs, commits, leaves and is described and listed as Kafka answers")
    func groupLifecycle() async throws {
        var configuration = KafkaBrokerConfiguration()
        configuration.groups.initialRebalanceDelay = .milliseconds(50)
        let harness = BrokerHarness(configuration: configuration, topics: ["orders": 1])
        try await withThrowingTaskGroup(of: Void.self) { timers in
            timers.addTask { await harness.broker.run() }
            defer { timers.cancelAll() }
            try await formAndUseGroup(harness)
        }
    }

    private func formAndUseGroup(_ harness: BrokerHarness) async throws {
        var join: KafkaStruct = [
            "GroupId": "g", "SessionTimeoutMs": 120_000, "RebalanceTimeoutMs": 120_000, "MemberId": "",
            "ProtocolType": "consumer",
            "Protocols": [.structure(["Name": "range", "Metadata": .bytes(ByteBuffer(bytes: [0, 1, 2]))])],
        ]
        let first = try await harness.call(KafkaAPI.joinGroup, 4, join)
        #expect(first.error() == KafkaErrorCode.memberIDRequired.rawValue)
        let memberID = try #require(first.string("MemberId"))
        #expect(!memberID.isEmpty)

        join["MemberId"] = .string(memberID)
        let rejoin = join
        // Kafka's default initial delay is 3 s; the broker's configured 50 ms applies.
        let joined = try await withDeadline(.seconds(30), "the JoinGroup after the initial rebalance delay") {
            try await harness.call(KafkaAPI.joinGroup, 4, rejoin)
        }
        #expect(joined.error() == 0)
        #expect(joined.int("GenerationId") == 1)
        #expect(joined.string("Leader") == memberID)
        #expect(joined.string("ProtocolName") == "range")
        #expect(try joined.only("Members")["Metadata"] == .bytes(ByteBuffer(bytes: [0, 1, 2])))

        let assignment = ByteBuffer(bytes: [9, 8, 7])
        let synced = try await harness.call(
            KafkaAPI.syncGroup,
            3,
            [
                "GroupId": "g", "GenerationId": 1, "MemberId": .string(memberID),
                "Assignments": [.structure(["MemberId": .string(memberID), "Assignment": .bytes(assignment)])],
            ]
        )
        #expect(synced.error() == 0)
        #expect(synced["Assignment"] == .bytes(assignment))

        let committed = try await harness.call(
            KafkaAPI.offsetCommit,
            8,
            [
                "GroupId": "g", "GenerationIdOrMemberEpoch": 1, "MemberId": .string(memberID),
                "Topics": [
                    .structure([
                        "Name": "orders",
                        "Partitions": [
                            .structure([
                                "PartitionIndex": 0, "CommittedOffset": 42, "CommittedLeaderEpoch": -1,
                                "CommittedMetadata": "note",
                            ])
                        ],
                    ])
                ],
            ]
        )
        #expect(try committed.only("Topics").only("Partitions").error() == 0)

        let fetched = try await harness.call(
            KafkaAPI.offsetFetch,
            8,
            [
                "Groups": [
                    .structure(["GroupId": "g", "Topics": [.structure(["Name": "orders", "PartitionIndexes": [0]])]])
                ]
            ]
        )
        let fetchedGroup = try fetched.only("Groups")
        #expect(fetchedGroup.error() == 0)
        let offset = try fetchedGroup.only("Topics").only("Partitions")
        #expect(offset.error() == 0)
        #expect(offset.int("CommittedOffset") == 42)
        #expect(offset.string("Metadata") == "note")

        #expect(try await describe(harness).string("GroupState") == "Stable")
        #expect(try await listed(harness) == ["g": "Stable"])

        let left = try await harness.call(
            KafkaAPI.leaveGroup,
            3,
            [
                "GroupId": "g",
                "Members": [.structure(["MemberId": .string(memberID)]), .structure(["MemberId": "stranger"])],
            ]
        )
        #expect(left.error() == 0)
        let members = left.structs("Members").map { ($0.string("MemberId") ?? "", $0.error()) }
        #expect(members.map(\.0) == [memberID, "stranger"])
        #expect(members.map(\.1) == [0, KafkaErrorCode.unknownMemberID.rawValue])

        let empty = try await describe(harness)
        #expect(empty.string("GroupState") == "Empty")
        #expect(empty.structs("Members").isEmpty)
        #expect(try await listed(harness) == ["g": "Empty"])
    }

    /// DescribeGroups v5 of group `g`.
    private func describe(_ harness: BrokerHarness) async throws -> KafkaStruct {
        let answer = try await harness.call(KafkaAPI.describeGroups, 5, ["Groups": ["g"]])
        let group = try answer.only("Groups")
        #expect(group.error() == 0)
        #expect(group.string("ProtocolType") == "consumer")
        return group
    }

    /// ListGroups v4: each group's state.
    private func listed(_ harness: BrokerHarness) async throws -> [String: String] {
        let answer = try await harness.call(KafkaAPI.listGroups, 4, ["StatesFilter": []])
        #expect(answer.error() == 0)
        return Dictionary(
            uniqueKeysWithValues: answer.structs("Groups").map {
                ($0.string("GroupId") ?? "", $0.string("GroupState") ?? "")
            }
        )
    }

    @Test("Port's ACLs refuse a customer's writes, other groups, producer ids and transactions, and hide topics")
    func portACLs() async throws {
        let harness = BrokerHarness(topics: ["org.runs": 1, "secret": 1])
        let refusals = RefusalLog()
        let customer = BrokerHarness.connection(
            acl: KafkaACL(orgID: "org", readableTopics: ["org.runs"]),
            refusals: refusals
        )
        for _ in 0..<2 {
            let answer = try #require(try await harness.produce("org.runs", produced([1]), on: customer))
            #expect(answer.error() == KafkaErrorCode.topicAuthorizationFailed.rawValue)
        }
        #expect(refusals.all.map(\.api) == ["Produce"], "one refusal reported for both Produces")
        #expect(refusals.all.first?.resource == "topic:org.runs")
        #expect(refusals.all.first?.errorCode == KafkaRefusal.topicAuthorizationFailed)

        let other = try await harness.call(KafkaAPI.findCoordinator, 3, ["Key": "other", "KeyType": 0], on: customer)
        #expect(other.error() == KafkaErrorCode.groupAuthorizationFailed.rawValue)
        let batched = try await harness.call(
            KafkaAPI.findCoordinator,
            4,
            ["KeyType": 0, "CoordinatorKeys": ["other", "org.consumers"]],
            on: customer
        )
        #expect(batched.structs("Coordinators").map { $0.error() } == [30, 0])

        let idempotent = try await harness.call(
            KafkaAPI.initProducerID,
            4,
            ["TransactionalId": .null, "TransactionTimeoutMs": 60_000],
            on: customer
        )
        #expect(idempotent.error() == KafkaErrorCode.clusterAuthorizationFailed.rawValue)
        let transactional = try await harness.call(
            KafkaAPI.initProducerID,
            4,
            ["TransactionalId": "tx", "TransactionTimeoutMs": 60_000],
            on: customer
        )
        #expect(transactional.error() == KafkaErrorCode.transactionalIDAuthorizationFailed.rawValue)
        let added = try await harness.call(
            KafkaAPI.addPartitionsToTxn,
            3,
            [
                "V3AndBelowTransactionalId": "tx", "V3AndBelowProducerId": 1, "V3AndBelowProducerEpoch": 0,
                "V3AndBelowTopics": [.structure(["Name": "org.runs", "Partitions": [0]])],
            ],
            on: customer
        )
        let partition = try added.only("ResultsByTopicV3AndBelow").only("ResultsByPartition")
        #expect(partition.error("PartitionErrorCode") == KafkaErrorCode.transactionalIDAuthorizationFailed.rawValue)

        let all = try await harness.metadata(nil, on: customer)
        #expect(all.structs("Topics").map { $0.string("Name") } == ["org.runs"])
        let legacy = try await harness.call(KafkaAPI.metadata, 0, ["Topics": []], on: customer)
        #expect(legacy.structs("Topics").map { $0.string("Name") } == ["org.runs"])
        let named = try await harness.metadata(["secret"], on: customer).only("Topics")
        #expect(named.error() == KafkaErrorCode.topicAuthorizationFailed.rawValue)
        // The same requests on a connection without the ACLs see every topic.
        #expect(try await harness.metadata(nil).structs("Topics").count == 2)
    }

    @Test("An injected Fetch error answers exactly the next Fetch with it on every partition")
    func injectedFetchError() async throws {
        let harness = BrokerHarness(topics: ["audit": 2])
        _ = try await harness.produce("audit", produced([1]))
        harness.broker.injectErrors(KafkaAPI.fetch, [.notLeaderOrFollower])

        let failed = try await harness.fetch("audit", partitions: [0, 1]).only("Responses")
        #expect(failed.string("Topic") == "audit")
        #expect(failed.structs("Partitions").map { $0.error() } == [6, 6])
        #expect(failed.structs("Partitions").map { $0.int("PartitionIndex") } == [0, 1])

        let normal = try await harness.fetch("audit", partitions: [0, 1]).only("Responses")
        #expect(normal.structs("Partitions").map { $0.error() } == [0, 0])
        #expect(try values(#require(normal.structs("Partitions")[0]["Records"].bytes)) == ["p0"])
    }
}
