import KafkaProtocol
import KafkaRecords
import NIOCore
import Synchronization

/// OffsetCommit, OffsetFetch, DescribeGroups and ListGroups.
extension KafkaBroker {
    func offsetCommit(_ call: BrokerCall) async -> KafkaStruct {
        let body = call.body
        let groupID = body.string("GroupId") ?? ""
        // Partitions of topics the principal may not read, or that do not exist, are answered
        // here; the rest go to the coordinator.
        var refused: [String: KafkaErrorCode] = [:]
        var topics: [OffsetCommitTopic] = []
        for topic in body.structs("Topics") {
            let name = topic.string("Name") ?? ""
            if !call.connection.mayRead(name, api: call.api) {
                refused[name] = .topicAuthorizationFailed
                continue
            }
            if state.withLock({ $0.topics[name] == nil }) {
                refused[name] = .unknownTopicOrPartition
                continue
            }
            topics.append(
                OffsetCommitTopic(
                    name: name,
                    partitions: topic.structs("Partitions").map {
                        OffsetCommitPartition(
                            partitionIndex: Int32(truncatingIfNeeded: $0.int("PartitionIndex")),
                            committedOffset: $0.int("CommittedOffset"),
                            committedLeaderEpoch: Int32(truncatingIfNeeded: $0.int("CommittedLeaderEpoch")),
                            committedMetadata: $0.string("CommittedMetadata")
                        )
                    }
                )
            )
        }
        let request = OffsetCommitRequest(
            groupId: groupID,
            generationIdOrMemberEpoch: Int32(truncatingIfNeeded: body.int("GenerationIdOrMemberEpoch")),
            memberId: body.string("MemberId") ?? "",
            groupInstanceId: body.string("GroupInstanceId"),
            topics: topics
        )
        var errors: [String: [Int64: Int16]] = [:]
        if !topics.isEmpty || refused.isEmpty {
            guard
                case .offsetCommit(let response) = await group(
                    call,
                    groupID,
                    { $0.commitOffsets(request, ticket: $1, now: $2) }
                )
            else { return groupError(call) }
            for topic in response.topics {
                for partition in topic.partitions {
                    errors[topic.name, default: [:]][Int64(partition.partitionIndex)] = partition.errorCode.rawValue
                }
            }
        } else if !call.connection.mayUseGroup(groupID, api: call.api) {
            return groupError(call)
        }
        let answer: [KafkaValue] = body.structs("Topics").map { topic in
            let name = topic.string("Name") ?? ""
            let partitions: [KafkaValue] = topic.structs("Partitions").map { partition in
                let index = partition.int("PartitionIndex")
                let code = refused[name]?.rawValue ?? errors[name]?[index] ?? 0
                return .structure(["PartitionIndex": .int(index), "ErrorCode": .int(Int64(code))])
            }
            return .structure(["Name": .string(name), "Partitions": .array(partitions)])
        }
        return ["Topics": .array(answer)]
    }

    func offsetFetch(_ call: BrokerCall) -> KafkaStruct {
        let body = call.body
        if call.version >= 8 {
            let groups: [KafkaValue] = body.structs("Groups").map { group in
                let groupID = group.string("GroupId") ?? ""
                let (error, topics) = fetchOffsets(call, groupID, group["Topics"])
                return .structure(["GroupId": .string(groupID), "ErrorCode": .int(Int64(error)), "Topics": topics])
            }
            return ["Groups": .array(groups)]
        }
        let groupID = body.string("GroupId") ?? ""
        let (error, topics) = fetchOffsets(call, groupID, body["Topics"])
        if call.version < 2, error != 0 {
            // v0–v1 have no top-level error: each partition carries it.
            return errorAnswer(to: call, KafkaErrorCode(rawValue: error) ?? .unknownServerError) ?? [:]
        }
        return ["ErrorCode": .int(Int64(error)), "Topics": topics]
    }

    /// One group's committed offsets as OffsetFetch answers them: the group's error and its
    /// topics (every readable topic with commits when `requested` is null).
    private func fetchOffsets(_ call: BrokerCall, _ groupID: String, _ requested: KafkaValue) -> (Int16, KafkaValue) {
        guard call.connection.mayUseGroup(groupID, api: call.api) else {
            return (KafkaErrorCode.groupAuthorizationFailed.rawValue, [])
        }
        guard coordinator(of: groupID) == call.connection.nodeID else {
            return (KafkaErrorCode.notCoordinator.rawValue, [])
        }
        let wanted: [OffsetFetchTopic]? = requested.array.map { topics in
            topics.compactMap(\.structure).map {
                OffsetFetchTopic(
                    name: $0.string("Name") ?? "",
                    partitionIndexes: ($0["PartitionIndexes"].array ?? []).map {
                        Int32(truncatingIfNeeded: $0.int ?? 0)
                    }
                )
            }
        }
        let response = state.withLock {
            $0.coordinator.fetchOffsets(OffsetFetchRequest(groupId: groupID, topics: wanted))
        }
        let topics: [KafkaValue] = response.topics.compactMap { topic in
            let readable =
                wanted == nil
                ? call.connection.acl.allowsRead(topic.name) : call.connection.mayRead(topic.name, api: call.api)
            if !readable, wanted == nil { return nil }
            let partitions: [KafkaValue] = topic.partitions.map { partition in
                .structure([
                    "PartitionIndex": .int(Int64(partition.partitionIndex)),
                    "CommittedOffset": .int(readable ? partition.committedOffset : -1),
                    "CommittedLeaderEpoch": .int(Int64(readable ? partition.committedLeaderEpoch : -1)),
                    "Metadata": .string(readable ? partition.metadata : ""),
                    "ErrorCode": .int(
                        Int64(
                            readable ? partition.errorCode.rawValue : KafkaErrorCode.topicAuthorizationFailed.rawValue
                        )
                    ),
                ])
            }
            return .structure(["Name": .string(topic.name), "Partitions": .array(partitions)])
        }
        return (response.errorCode.rawValue, .array(topics))
    }

    func describeGroups(_ call: BrokerCall) -> KafkaStruct {
        let ids = (call.body["Groups"].array ?? []).compactMap(\.string)
        let allowed = ids.filter { call.connection.mayUseGroup($0, api: call.api) }
        let described = state.withLock { $0.coordinator.describeGroups(allowed) }
        let byID = Dictionary(described.map { ($0.groupId, $0) }, uniquingKeysWith: { first, _ in first })
        let groups: [KafkaValue] = ids.map { id in
            guard let group = byID[id] else {
                let code = Int64(KafkaErrorCode.groupAuthorizationFailed.rawValue)
                return .structure(["ErrorCode": .int(code), "GroupId": .string(id), "GroupState": ""])
            }
            let members: [KafkaValue] = group.members.map {
                .structure([
                    "MemberId": .string($0.memberId),
                    "GroupInstanceId": $0.groupInstanceId.map(KafkaValue.string) ?? .null,
                    "ClientId": .string($0.clientId), "ClientHost": .string($0.clientHost),
                    "MemberMetadata": .bytes(ByteBuffer(bytes: $0.memberMetadata)),
                    "MemberAssignment": .bytes(ByteBuffer(bytes: $0.memberAssignment)),
                ])
            }
            return .structure([
                "ErrorCode": .int(Int64(group.errorCode.rawValue)), "GroupId": .string(id),
                "GroupState": .string(group.groupState), "ProtocolType": .string(group.protocolType),
                "ProtocolData": .string(group.protocolData), "Members": .array(members),
                "AuthorizedOperations": .int(Int64(Int32.min)),
            ])
        }
        return ["Groups": .array(groups)]
    }

    func listGroups(_ call: BrokerCall) -> KafkaStruct {
        let request = ListGroupsRequest(
            statesFilter: (call.body["StatesFilter"].array ?? []).compactMap(\.string),
            typesFilter: (call.body["TypesFilter"].array ?? []).compactMap(\.string)
        )
        let response = state.withLock { $0.coordinator.listGroups(request) }
        let groups: [KafkaValue] = response.groups.filter {
            call.connection.acl.allowsGroup($0.groupId, principal: call.connection.principal)
        }.map {
            .structure([
                "GroupId": .string($0.groupId), "ProtocolType": .string($0.protocolType),
                "GroupState": .string($0.groupState), "GroupType": .string($0.groupType),
            ])
        }
        return ["ErrorCode": .int(Int64(response.errorCode.rawValue)), "Groups": .array(groups)]
    }
}
