import KafkaProtocol
import KafkaRecords
import Synchronization

/// Answers that carry one error everywhere an answer of the API has one, and do nothing
/// else: for injected faults, and for requests refused as a whole.
extension KafkaBroker {
    func errorAnswer(to call: BrokerCall, _ error: KafkaErrorCode) -> KafkaStruct? {
        let code = KafkaValue.int(Int64(error.rawValue))
        let body = call.body
        // The request's topics and partitions, answered with `build(partition index)`; the
        // name field is `Name` or `Topic` in both directions, and Fetch carries topic ids.
        func topics(
            _ field: String,
            _ partitionsField: String,
            _ index: String,
            name: String = "Name",
            _ build: (KafkaValue) -> KafkaStruct
        ) -> KafkaValue {
            .array(
                body.structs(field).map { topic in
                    var answer: KafkaStruct = [name: topic[name]]
                    if call.request.apiKey == KafkaAPI.fetch { answer["TopicId"] = topic["TopicId"] }
                    let indexes = topic.structs(partitionsField).map { $0[index] }
                    answer[partitionsField == "PartitionData" ? "PartitionResponses" : "Partitions"] = .array(
                        indexes.map { .structure(build($0)) }
                    )
                    return .structure(answer)
                }
            )
        }
        switch call.request.apiKey {
        case KafkaAPI.produce:
            guard body.int("Acks") != 0 else { return nil }
            return [
                "Responses": topics("TopicData", "PartitionData", "Index") {
                    ["Index": $0, "ErrorCode": code, "BaseOffset": -1]
                }
            ]
        case KafkaAPI.fetch:
            return [
                "Responses": topics("Topics", "Partitions", "Partition", name: "Topic") {
                    ["PartitionIndex": $0, "ErrorCode": code, "HighWatermark": -1, "Records": .null]
                }
            ]
        case KafkaAPI.listOffsets:
            return [
                "Topics": topics("Topics", "Partitions", "PartitionIndex") {
                    ["PartitionIndex": $0, "ErrorCode": code]
                }
            ]
        case KafkaAPI.offsetForLeaderEpoch:
            return [
                "Topics": topics("Topics", "Partitions", "Partition", name: "Topic") {
                    ["Partition": $0, "ErrorCode": code]
                }
            ]
        case KafkaAPI.offsetCommit:
            return [
                "Topics": topics("Topics", "Partitions", "PartitionIndex") {
                    ["PartitionIndex": $0, "ErrorCode": code]
                }
            ]
        case KafkaAPI.offsetFetch:
            if call.version >= 8 {
                return [
                    "Groups": .array(
                        body.structs("Groups").map { .structure(["GroupId": $0["GroupId"], "ErrorCode": code]) }
                    )
                ]
            }
            return ["ErrorCode": call.version >= 2 ? code : 0, "Topics": offsetFetchTopics(body, code)]
        case KafkaAPI.metadata:
            return [
                "Topics": .array(
                    body.structs("Topics").map {
                        .structure(["Name": $0["Name"], "ErrorCode": code, "Partitions": []])
                    }
                )
            ]
        case KafkaAPI.findCoordinator:
            if call.version >= 4 {
                let keys = body["CoordinatorKeys"].array ?? []
                return [
                    "Coordinators": .array(
                        keys.map { .structure(["Key": $0, "ErrorCode": code, "NodeId": -1, "Host": "", "Port": -1]) }
                    )
                ]
            }
            return ["ErrorCode": code, "NodeId": -1, "Host": "", "Port": -1]
        case KafkaAPI.describeGroups:
            return [
                "Groups": .array(
                    (body["Groups"].array ?? []).map {
                        .structure(["GroupId": $0, "ErrorCode": code, "GroupState": ""])
                    }
                )
            ]
        case KafkaAPI.leaveGroup:
            return ["ErrorCode": code]
        case KafkaAPI.addPartitionsToTxn:
            return addPartitionsToTxnRefusal(body, code, version: call.version)
        case KafkaAPI.txnOffsetCommit:
            return [
                "Topics": topics("Topics", "Partitions", "PartitionIndex") {
                    ["PartitionIndex": $0, "ErrorCode": code]
                }
            ]
        case KafkaAPI.apiVersions:
            return ["ErrorCode": code, "ApiKeys": Self.apiVersions(version: 0)["ApiKeys"]]
        case KafkaAPI.joinGroup:
            return ["ErrorCode": code, "GenerationId": -1, "MemberId": body["MemberId"], "ProtocolName": .null]
        case KafkaAPI.initProducerID:
            return ["ErrorCode": code, "ProducerId": -1, "ProducerEpoch": -1]
        default:
            // SyncGroup, Heartbeat, ListGroups, AddOffsetsToTxn, EndTxn: one error at the top.
            return ["ErrorCode": code]
        }
    }

    private func offsetFetchTopics(_ body: KafkaStruct, _ code: KafkaValue) -> KafkaValue {
        .array(
            body.structs("Topics").map { topic in
                let partitions = (topic["PartitionIndexes"].array ?? []).map {
                    KafkaValue.structure(
                        ["PartitionIndex": $0, "CommittedOffset": -1, "Metadata": "", "ErrorCode": code]
                    )
                }
                return .structure(["Name": topic["Name"], "Partitions": .array(partitions)])
            }
        )
    }

    private func addPartitionsToTxnRefusal(_ body: KafkaStruct, _ code: KafkaValue, version: Int16) -> KafkaStruct {
        func results(_ topics: [KafkaStruct]) -> KafkaValue {
            .array(
                topics.map { topic in
                    let partitions = (topic["Partitions"].array ?? []).map {
                        KafkaValue.structure(["PartitionIndex": $0, "PartitionErrorCode": code])
                    }
                    return .structure(["Name": topic["Name"], "ResultsByPartition": .array(partitions)])
                }
            )
        }
        if version >= 4 {
            let transactions = body.structs("Transactions").map { transaction in
                KafkaValue.structure([
                    "TransactionalId": transaction["TransactionalId"],
                    "TopicResults": results(transaction.structs("Topics")),
                ])
            }
            return ["ErrorCode": code, "ResultsByTransaction": .array(transactions)]
        }
        return ["ResultsByTopicV3AndBelow": results(body.structs("V3AndBelowTopics"))]
    }
}
