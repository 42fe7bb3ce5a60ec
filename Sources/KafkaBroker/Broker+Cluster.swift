package import KafkaProtocol
import KafkaRecords
import Synchronization

/// The cluster's shape: ApiVersions, Metadata, FindCoordinator, and the topics.
extension KafkaBroker {
    /// Creates `name` with `partitions` partitions, or adds partitions to it; its topic id is
    /// derived from the name, so it is the same on every run.
    package func createTopic(_ name: String, partitions: Int32) {
        state.withLock { state in
            if state.topics[name] == nil {
                state.topics.createTopic(
                    name,
                    partitions: Int(partitions),
                    retentionBytes: configuration.retentionBytes
                )
            } else {
                state.topics.addPartitions(name, totalCount: Int(partitions))
            }
        }
    }

    /// The APIs served and their versions: exactly the schemas' (Apache Kafka 3.9's).
    package static var servedVersions: [(apiKey: Int16, versions: KafkaVersions)] {
        KafkaSchemas.requests.values.map { ($0.apiKey, $0.valid) }.sorted { $0.apiKey < $1.apiKey }
    }

    /// An ApiVersions answer. A version not served is answered in version 0 with
    /// UNSUPPORTED_VERSION and ApiVersions' own range, as Kafka answers it (KIP-511), so the
    /// client can pick a version and ask again.
    package static func apiVersions(version: Int16) -> KafkaStruct {
        let served = KafkaSchemas.apiVersionsRequest.valid.contains(version)
        let listed = served ? servedVersions : servedVersions.filter { $0.apiKey == KafkaAPI.apiVersions }
        let keys: [KafkaValue] = listed.map { api in
            .structure([
                "ApiKey": .int(Int64(api.apiKey)), "MinVersion": .int(Int64(api.versions.lowest)),
                "MaxVersion": .int(Int64(api.versions.highest)),
            ])
        }
        return [
            "ErrorCode": .int(Int64(served ? 0 : KafkaErrorCode.unsupportedVersion.rawValue)), "ApiKeys": .array(keys),
        ]
    }

    func metadata(_ call: BrokerCall) -> KafkaStruct {
        let connection = call.connection
        let topics = state.withLock { state in
            Dictionary(uniqueKeysWithValues: state.topics.names.compactMap { state.topics[$0] }.map { ($0.name, $0) })
        }
        var answers: [KafkaValue] = []
        if let requested = call.body["Topics"].array {
            let all = call.version == 0 && requested.isEmpty
            if all {
                answers = topics.values.sorted { $0.name < $1.name }.filter { connection.acl.allowsRead($0.name) }
                    .map { .structure(describe($0, call: call)) }
            }
            for entry in requested.compactMap(\.structure) {
                answers.append(.structure(describeRequested(entry, topics: topics, call: call)))
            }
        } else {
            answers = topics.values.sorted { $0.name < $1.name }.filter { connection.acl.allowsRead($0.name) }
                .map { .structure(describe($0, call: call)) }
        }
        let brokers: [KafkaValue] = nodeIDs.compactMap { node in
            guard let address = connection.addresses[node] else { return nil }
            return .structure([
                "NodeId": .int(Int64(node)), "Host": .string(address.host), "Port": .int(Int64(address.port)),
                "Rack": .null,
            ])
        }
        return [
            "Brokers": .array(brokers), "ClusterId": .string(configuration.clusterID),
            "ControllerId": .int(Int64(nodeIDs[0])), "Topics": .array(answers),
            "ClusterAuthorizedOperations": .int(Int64(Int32.min)),
        ]
    }

    private func describeRequested(
        _ entry: KafkaStruct,
        topics: [String: TopicLog],
        call: BrokerCall
    ) -> KafkaStruct {
        let name = entry.string("Name")
        let id = entry["TopicId"].uuid ?? .zero
        let topic = name.flatMap { topics[$0] } ?? (id == .zero ? nil : topics.values.first { KafkaUUID($0.id) == id })
        if let name, !call.connection.mayRead(name, api: call.api) {
            return failedTopic(name: name, id: id, .topicAuthorizationFailed)
        }
        guard let topic else {
            return failedTopic(name: name, id: id, name == nil ? .unknownTopicID : .unknownTopicOrPartition)
        }
        guard call.connection.mayRead(topic.name, api: call.api) else {
            return failedTopic(name: name, id: id, .topicAuthorizationFailed)
        }
        return describe(topic, call: call)
    }

    private func failedTopic(name: String?, id: KafkaUUID, _ error: KafkaErrorCode) -> KafkaStruct {
        [
            "ErrorCode": .int(Int64(error.rawValue)), "Name": name.map(KafkaValue.string) ?? .null,
            "TopicId": .uuid(id),
            "Partitions": [], "TopicAuthorizedOperations": .int(Int64(Int32.min)),
        ]
    }

    private func describe(_ topic: TopicLog, call: BrokerCall) -> KafkaStruct {
        let partitions: [KafkaValue] = (0..<Int32(topic.partitions.count)).map { index in
            let leader = KafkaValue.int(Int64(leader(of: index)))
            return .structure([
                "ErrorCode": 0, "PartitionIndex": .int(Int64(index)), "LeaderId": leader, "LeaderEpoch": 0,
                "ReplicaNodes": [leader], "IsrNodes": [leader], "OfflineReplicas": [],
            ])
        }
        let operations: Int64
        if call.body["IncludeTopicAuthorizedOperations"].bool == true {
            // READ 3 and DESCRIBE 8 for Port's customer; every topic operation with the ACLs off.
            operations = call.connection.acl.enabled ? (1 << 3 | 1 << 8) : 3576
        } else {
            operations = Int64(Int32.min)
        }
        return [
            "ErrorCode": 0, "Name": .string(topic.name), "TopicId": .uuid(KafkaUUID(topic.id)), "IsInternal": false,
            "Partitions": .array(partitions), "TopicAuthorizedOperations": .int(operations),
        ]
    }

    func findCoordinator(_ call: BrokerCall) -> KafkaStruct {
        let type = call.body.int("KeyType")
        let keys =
            call.version >= 4
            ? call.body["CoordinatorKeys"].array?.compactMap(\.string) ?? [] : [call.body.string("Key") ?? ""]
        let coordinators: [KafkaStruct] = keys.map { key in
            let allowed =
                type == 0
                ? call.connection.mayUseGroup(key, api: call.api)
                : call.connection.mayUseTransactionalID(key, api: call.api)
            guard allowed else {
                let error: KafkaErrorCode = type == 0 ? .groupAuthorizationFailed : .transactionalIDAuthorizationFailed
                return [
                    "Key": .string(key), "ErrorCode": .int(Int64(error.rawValue)), "ErrorMessage": .null,
                    "NodeId": -1, "Host": "", "Port": -1,
                ]
            }
            let node = coordinator(of: key)
            let address = call.connection.addresses[node] ?? KafkaBrokerAddress(host: "", port: -1)
            return [
                "Key": .string(key), "ErrorCode": 0, "ErrorMessage": .null, "NodeId": .int(Int64(node)),
                "Host": .string(address.host), "Port": .int(Int64(address.port)),
            ]
        }
        if call.version >= 4 { return ["Coordinators": .array(coordinators.map(KafkaValue.structure))] }
        var single = coordinators.first ?? [:]
        single.fields.removeValue(forKey: "Key")
        return single
    }
}
