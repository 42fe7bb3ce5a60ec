extension KafkaProducer {
    /// The partition count of every topic the brokers report (and the client may see).
    ///
    /// Throws a retriable `.transport` error when no broker answers within `timeout`.
    public func topicPartitionCounts(timeout: Duration = .seconds(10)) async throws -> [String: Int] {
        try await client.topicPartitionCounts(timeout: timeout)
    }

    /// Creates topics with the brokers' default replication; a topic that already exists is
    /// not an error. Needs the `CreateTopics` permission (the embedded cluster lacks the API).
    public func createTopics(_ names: [String], partitions: Int, timeout: Duration = .seconds(10)) async throws {
        try await client.createTopics(names, partitions: partitions, timeout: timeout)
    }
}
