import KafkaProtocol
import KafkaRecords
import NIOCore
import Synchronization

/// Fetch, as Kafka serves it: a long poll until MinBytes are there or MaxWaitMs has passed,
/// whole batches from the fetch offset, message format 0 or 1 for Fetch v0–v3, and no
/// fetch sessions (every answer is a full one with session id 0, as Kafka answers when it
/// keeps no session).
extension KafkaBroker {
    func fetch(_ call: BrokerCall) async -> KafkaStruct {
        let deadline = ContinuousClock.now + .milliseconds(max(0, call.body.int("MaxWaitMs")))
        let minimum = max(1, Int(call.body.int("MinBytes")))
        while true {
            let (sequence, answer, bytes, failed) = read(call)
            if bytes >= minimum || failed || ContinuousClock.now >= deadline || Task.isCancelled {
                return answer
            }
            await appended(after: sequence, until: deadline)
        }
    }

    /// One pass over the request's partitions: the answer, the record bytes in it, and
    /// whether a partition failed (an error answers at once, as in Kafka).
    private func read(_ call: BrokerCall) -> (UInt64, KafkaStruct, Int, Bool) {
        let version = call.version
        let maximum = version >= 3 ? Int(call.body.int("MaxBytes")) : Int(Int32.max)
        let byID = version >= 13
        return state.withLock { state in
            var total = 0
            var failed = false
            let topics: [KafkaValue] = call.body.structs("Topics").map { topic in
                let log =
                    byID
                    ? state.topics.topic(id: TopicID(topic["TopicId"].uuid ?? .zero))
                    : state.topics[topic.string("Topic") ?? ""]
                let name = log?.name ?? topic.string("Topic") ?? ""
                let allowed = log == nil || call.connection.mayRead(name, api: call.api)
                let partitions: [KafkaValue] = topic.structs("Partitions").map { partition in
                    let index = Int32(truncatingIfNeeded: partition.int("Partition"))
                    var answer: KafkaStruct = [
                        "PartitionIndex": .int(Int64(index)), "HighWatermark": -1, "Records": .bytes(ByteBuffer()),
                    ]
                    func fail(_ error: KafkaErrorCode) -> KafkaValue {
                        failed = true
                        answer["ErrorCode"] = .int(Int64(error.rawValue))
                        return .structure(answer)
                    }
                    guard let log else { return fail(byID ? .unknownTopicID : .unknownTopicOrPartition) }
                    guard allowed else { return fail(.topicAuthorizationFailed) }
                    guard Int(index) < log.partitions.count, index >= 0 else { return fail(.unknownTopicOrPartition) }
                    guard leader(of: index) == call.connection.nodeID else { return fail(.notLeaderOrFollower) }
                    let partitionLog = log.partitions[Int(index)]
                    let room = min(Int(partition.int("PartitionMaxBytes")), max(0, maximum - total))
                    do throws(RecordsError) {
                        let result = try partitionLog.read(
                            from: partition.int("FetchOffset"),
                            maxBytes: room,
                            minOneBatch: version >= 3 && total == 0
                        )
                        let records = try result.records(forFetchVersion: version)
                        total += records.readableBytes
                        answer["ErrorCode"] = 0
                        answer["HighWatermark"] = .int(result.highWatermark)
                        answer["LastStableOffset"] = .int(result.lastStableOffset)
                        answer["LogStartOffset"] = .int(result.logStartOffset)
                        answer["Records"] = .bytes(records)
                    } catch {
                        answer["HighWatermark"] = .int(partitionLog.highWatermark)
                        answer["LogStartOffset"] = .int(partitionLog.logStartOffset)
                        return fail(error.code)
                    }
                    return .structure(answer)
                }
                var answer: KafkaStruct = ["Partitions": .array(partitions)]
                if byID { answer["TopicId"] = topic["TopicId"] } else { answer["Topic"] = .string(name) }
                return .structure(answer)
            }
            // An incremental fetch (epoch neither 0 nor -1) names a session that cannot be
            // found: this broker keeps none. A full fetch closes the one it names, as in Kafka.
            var answer: KafkaStruct = ["SessionId": 0, "Responses": .array(topics)]
            if version >= 7, ![0, -1].contains(call.body.int("SessionEpoch")) {
                answer = ["ErrorCode": .int(Int64(KafkaErrorCode.fetchSessionIDNotFound.rawValue)), "Responses": []]
                failed = true
            }
            return (state.appends, answer, total, failed)
        }
    }

    func listOffsets(_ call: BrokerCall) -> KafkaStruct {
        let topics: [KafkaValue] = call.body.structs("Topics").map { topic in
            let name = topic.string("Name") ?? ""
            let allowed = call.connection.mayRead(name, api: call.api)
            let partitions: [KafkaValue] = topic.structs("Partitions").map { partition in
                let index = Int32(truncatingIfNeeded: partition.int("PartitionIndex"))
                var answer: KafkaStruct = ["PartitionIndex": .int(Int64(index))]
                let error: KafkaErrorCode? = state.withLock { state in
                    guard allowed else { return .topicAuthorizationFailed }
                    guard let log = state.topics[name], index >= 0, Int(index) < log.partitions.count else {
                        return .unknownTopicOrPartition
                    }
                    guard leader(of: index) == call.connection.nodeID else { return .notLeaderOrFollower }
                    let partitionLog = log.partitions[Int(index)]
                    let target = partition.int("Timestamp")
                    if call.version == 0 {
                        let offsets: [Int64] =
                            target == -1
                            ? [partitionLog.logEndOffset, partitionLog.logStartOffset]
                            : target == -2
                                ? [partitionLog.logStartOffset] : [partitionLog.listOffsets(timestamp: target).offset]
                        let count = max(0, Int(partition.int("MaxNumOffsets")))
                        answer["OldStyleOffsets"] = .array(offsets.filter { $0 >= 0 }.prefix(count).map { .int($0) })
                    } else {
                        let found = partitionLog.listOffsets(timestamp: target)
                        answer["Timestamp"] = .int(found.timestamp)
                        answer["Offset"] = .int(found.offset)
                        if call.version >= 4 { answer["LeaderEpoch"] = .int(Int64(found.leaderEpoch)) }
                    }
                    return nil
                }
                answer["ErrorCode"] = .int(Int64((error ?? KafkaErrorCode.none).rawValue))
                return .structure(answer)
            }
            return .structure(["Name": .string(name), "Partitions": .array(partitions)])
        }
        return ["Topics": .array(topics)]
    }

    /// OffsetForLeaderEpoch: every partition has had one leader epoch (0), whose end is the
    /// log end offset.
    func offsetForLeaderEpoch(_ call: BrokerCall) -> KafkaStruct {
        let topics: [KafkaValue] = call.body.structs("Topics").map { topic in
            let name = topic.string("Topic") ?? ""
            let allowed = call.connection.mayRead(name, api: call.api)
            let partitions: [KafkaValue] = topic.structs("Partitions").map { partition in
                let index = Int32(truncatingIfNeeded: partition.int("Partition"))
                let end: Int64? = state.withLock { state in
                    guard let log = state.topics[name], index >= 0, Int(index) < log.partitions.count else {
                        return nil
                    }
                    return log.partitions[Int(index)].logEndOffset
                }
                var answer: KafkaStruct = ["Partition": .int(Int64(index)), "LeaderEpoch": -1, "EndOffset": -1]
                let error: KafkaErrorCode
                if !allowed {
                    error = .topicAuthorizationFailed
                } else if let end {
                    error = leader(of: index) == call.connection.nodeID ? .none : .notLeaderOrFollower
                    if error == .none, partition.int("LeaderEpoch") >= 0 {
                        answer["LeaderEpoch"] = 0
                        answer["EndOffset"] = .int(end)
                    }
                } else {
                    error = .unknownTopicOrPartition
                }
                answer["ErrorCode"] = .int(Int64(error.rawValue))
                return .structure(answer)
            }
            return .structure(["Topic": .string(name), "Partitions": .array(partitions)])
        }
        return ["Topics": .array(topics)]
    }

    // MARK: Waiting for appends

    /// Wakes every fetch waiting for data.
    func signalAppend() {
        let waiting = state.withLock { state in
            state.appends &+= 1
            defer { state.fetchWaiters.removeAll() }
            return Array(state.fetchWaiters.values)
        }
        for continuation in waiting { continuation.resume() }
    }

    /// Returns when something was appended after `sequence`, at `deadline`, or on cancellation.
    func appended(after sequence: UInt64, until deadline: ContinuousClock.Instant) async {
        let id = state.withLock { state in
            state.nextWaiterID &+= 1
            return state.nextWaiterID
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(until: deadline) }
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        let now = self.state.withLock { state in
                            if state.appends != sequence || state.cancelledWaiters.remove(id) != nil { return true }
                            state.fetchWaiters[id] = continuation
                            return false
                        }
                        if now { continuation.resume() }
                    }
                } onCancel: {
                    let continuation = self.state.withLock { state in
                        let waiting = state.fetchWaiters.removeValue(forKey: id)
                        if waiting == nil { state.cancelledWaiters.insert(id) }
                        return waiting
                    }
                    continuation?.resume()
                }
            }
            await group.next()
            group.cancelAll()
        }
        state.withLock { _ = $0.cancelledWaiters.remove(id) }
    }
}
