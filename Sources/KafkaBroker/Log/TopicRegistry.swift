package import KafkaRecords

/// A topic: its name, its id, its settings and its partitions' logs.
package struct TopicLog: Sendable {
    /// The topic's name.
    package let name: String
    /// The topic's id (stable for a name; see `TopicID`).
    package let id: TopicID
    /// The partitions, indexed by partition number.
    package var partitions: [PartitionLog]

    /// A topic with `partitionCount` empty partitions.
    package init(
        name: String,
        id: TopicID,
        partitionCount: Int,
        config: AppendConfig = AppendConfig(),
        retentionBytes: Int = PartitionLog.defaultRetentionBytes
    ) {
        self.name = name
        self.id = id
        self.partitions = (0..<max(partitionCount, 0)).map { _ in
            PartitionLog(config: config, retentionBytes: retentionBytes)
        }
    }
}

/// The topics of a broker, by name and by id.
package struct TopicRegistry: Sendable {
    private var topics: [String: TopicLog] = [:]
    private var namesByID: [TopicID: String] = [:]
    private var deletions: [String: Int] = [:]

    /// An empty registry.
    package init() {}

    /// The topic names, sorted.
    package var names: [String] { topics.keys.sorted() }

    /// The topic named `name`.
    package subscript(name: String) -> TopicLog? { topics[name] }

    /// The topic with id `id`.
    package func topic(id: TopicID) -> TopicLog? { namesByID[id].flatMap { topics[$0] } }

    /// Creates a topic; nil when one of that name exists. Its id is `TopicID(topic: name)`, or
    /// a different stable id if a topic of that name was deleted before in this registry.
    @discardableResult
    package mutating func createTopic(
        _ name: String,
        partitions: Int,
        config: AppendConfig = AppendConfig(),
        retentionBytes: Int = PartitionLog.defaultRetentionBytes
    ) -> TopicLog? {
        guard topics[name] == nil else { return nil }
        let id = TopicID(topic: name, incarnation: deletions[name, default: 0])
        let topic = TopicLog(
            name: name,
            id: id,
            partitionCount: partitions,
            config: config,
            retentionBytes: retentionBytes
        )
        topics[name] = topic
        namesByID[id] = name
        return topic
    }

    /// Deletes a topic and its data; returns whether it existed.
    @discardableResult
    package mutating func deleteTopic(_ name: String) -> Bool {
        guard let topic = topics.removeValue(forKey: name) else { return false }
        namesByID[topic.id] = nil
        deletions[name, default: 0] += 1
        return true
    }

    /// Grows a topic to `count` partitions (CreatePartitions); false when the topic does not
    /// exist or already has at least that many.
    @discardableResult
    package mutating func addPartitions(_ name: String, totalCount count: Int) -> Bool {
        guard let topic = topics[name], count > topic.partitions.count else { return false }
        let template = topic.partitions.first
        let config = template?.config ?? AppendConfig()
        let retention = template?.retentionBytes ?? PartitionLog.defaultRetentionBytes
        for _ in topic.partitions.count..<count {
            topics[name]!.partitions.append(PartitionLog(config: config, retentionBytes: retention))
        }
        return true
    }

    /// Runs `body` on one partition's log in place (no copy of the log); nil when the topic or
    /// partition does not exist.
    package mutating func withPartition<Result, Failure: Error>(
        _ name: String,
        _ partition: Int32,
        _ body: (inout PartitionLog) throws(Failure) -> Result
    ) throws(Failure) -> Result? {
        guard let count = topics[name]?.partitions.count, partition >= 0, Int(partition) < count else { return nil }
        return try body(&topics[name]!.partitions[Int(partition)])
    }

    /// Sets a topic's append settings on all its partitions; false when it does not exist.
    @discardableResult
    package mutating func setConfig(_ name: String, _ config: AppendConfig) -> Bool {
        guard let count = topics[name]?.partitions.count else { return false }
        for index in 0..<count { topics[name]!.partitions[index].config = config }
        return true
    }
}
