import KafkaProtocol
import KafkaRecords
import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Produce, InitProducerId and the transactional APIs.
extension KafkaBroker {
    func produce(_ call: BrokerCall) -> KafkaStruct? {
        let acks = call.body.int("Acks")
        let now = Self.millisecondsSinceEpoch()
        let transactionalID = call.body.string("TransactionalId")
        let refusal: KafkaErrorCode?
        if let transactionalID, !call.connection.mayUseTransactionalID(transactionalID, api: call.api) {
            refusal = .transactionalIDAuthorizationFailed
        } else if ![-1, 0, 1].contains(acks) {
            refusal = .invalidRequiredAcks
        } else {
            refusal = nil
        }
        var appended = false
        let responses: [KafkaValue] = call.body.structs("TopicData").map { topic in
            let name = topic.string("Name") ?? ""
            let writable = refusal == nil && call.connection.mayWrite(name, api: call.api)
            let partitions: [KafkaValue] = topic.structs("PartitionData").map { partition in
                let index = Int32(truncatingIfNeeded: partition.int("Index"))
                var answer: KafkaStruct = ["Index": .int(Int64(index)), "BaseOffset": -1]
                if let refusal {
                    answer["ErrorCode"] = .int(Int64(refusal.rawValue))
                } else if !writable {
                    answer["ErrorCode"] = .int(Int64(KafkaErrorCode.topicAuthorizationFailed.rawValue))
                } else if leader(of: index) != call.connection.nodeID, state.withLock({ $0.topics[name] != nil }) {
                    answer["ErrorCode"] = .int(Int64(KafkaErrorCode.notLeaderOrFollower.rawValue))
                } else {
                    let records = partition["Records"].bytes ?? ByteBuffer()
                    let result = state.withLock { state in
                        Result { () throws(RecordsError) in
                            try state.topics.withPartition(name, index) { log throws(RecordsError) in
                                try log.append(records, produceVersion: call.version, now: now)
                            }
                        }
                    }
                    switch result {
                    case .success(nil):
                        answer["ErrorCode"] = .int(Int64(KafkaErrorCode.unknownTopicOrPartition.rawValue))
                    case .success(let appendResult?):
                        appended = true
                        answer["ErrorCode"] = 0
                        answer["BaseOffset"] = .int(appendResult.baseOffset)
                        answer["LogAppendTimeMs"] = .int(appendResult.logAppendTime)
                        answer["LogStartOffset"] = .int(appendResult.logStartOffset)
                    case .failure(let error):
                        answer["ErrorCode"] = .int(Int64(error.code.rawValue))
                        answer["ErrorMessage"] = .string(error.message)
                        answer["RecordErrors"] = .array(
                            error.recordErrors.map {
                                .structure([
                                    "BatchIndex": .int(Int64($0.batchIndex)),
                                    "BatchIndexErrorMessage": .string($0.message),
                                ])
                            }
                        )
                    }
                }
                return .structure(answer)
            }
            return .structure(["Name": .string(name), "PartitionResponses": .array(partitions)])
        }
        if appended { signalAppend() }
        return acks == 0 ? nil : ["Responses": .array(responses)]
    }

    /// InitProducerId: an idempotent producer id where the principal may write (the emulator's
    /// own producer); Port's customer is refused, as Port's ACLs refuse it.
    func initProducerID(_ call: BrokerCall) -> KafkaStruct {
        if let transactionalID = call.body.string("TransactionalId") {
            // Transactions are not served: refused with or without the ACLs (see `transactional`).
            _ = call.connection.mayUseTransactionalID(transactionalID, api: call.api)
            return errorAnswer(to: call, .transactionalIDAuthorizationFailed) ?? [:]
        }
        guard call.connection.mayUseCluster(api: call.api) else {
            return errorAnswer(to: call, .clusterAuthorizationFailed) ?? [:]
        }
        let id = state.withLock { state in
            state.nextProducerID += 1
            return state.nextProducerID
        }
        return ["ErrorCode": 0, "ProducerId": .int(id), "ProducerEpoch": 0]
    }

    /// AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, TxnOffsetCommit: transactions are not
    /// served; every one is refused as Port's ACLs refuse the customer's.
    func transactional(_ call: BrokerCall) -> KafkaStruct? {
        let id = call.body.string("TransactionalId") ?? call.body.string("V3AndBelowTransactionalId") ?? ""
        _ = call.connection.mayUseTransactionalID(id, api: call.api)
        return errorAnswer(to: call, .transactionalIDAuthorizationFailed)
    }

    /// Milliseconds since 1970, as Kafka's timestamps count.
    static func millisecondsSinceEpoch() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}
