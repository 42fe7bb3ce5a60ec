import Dispatch
import PortKafka
import TestSupport
import Testing

@Suite("Kafka faults through the embedded cluster's hooks", .heavy, .timeLimit(.minutes(10)))
struct KafkaFaultTests {
    @Test("with the broker down, sends fail with a retriable timeout or wait; once it is up, nothing is lost")
    func brokerOutage() async throws {
        let cluster = try EmbeddedKafkaCluster.start(logger: quietLogger)
        defer { cluster.shutdown() }
        try cluster.createTopic("org.outage", partitions: 1)
        let impatient = try makeProducer(cluster, messageTimeout: .milliseconds(1500))
        let patient = try makeProducer(cluster)
        try await impatient.send(KafkaProducerMessage(topic: "org.outage", value: "before"))
        try await patient.send(KafkaProducerMessage(topic: "org.outage", value: "before-patient"))

        try cluster.setBrokerDown(1)

        // A short message timeout: each send fails with a clear, retriable error.
        var failed: [String] = []
        for index in 0..<3 {
            let value = "timed-out-\(index)"
            let error = await #expect(throws: KafkaError.self) {
                try await impatient.send(KafkaProducerMessage(topic: "org.outage", value: value))
            }
            #expect(error?.code == .messageTimedOut)
            #expect(error?.isRetriable == true)
            #expect(error?.description.contains("[retriable]") == true)
            failed.append(value)
        }

        // A long message timeout: sends wait while the broker is down.
        let waiting = (0..<5).map { index in
            Task { try await patient.send(KafkaProducerMessage(topic: "org.outage", value: "waited-\(index)")) }
        }
        try await waitUntil("five messages queued while the broker is down") { patient.outstandingCount == 5 }

        try cluster.setBrokerUp(1)
        for task in waiting { _ = try await task.value }
        for value in failed {  // the caller retries what timed out
            try await impatient.send(KafkaProducerMessage(topic: "org.outage", value: value))
        }
        await impatient.close()
        await patient.close()

        let consumer = try makeConsumer(cluster, group: "org.outage-check", topics: ["org.outage"])
        let received = try await read(10, from: consumer)
        await consumer.close()
        let expected = ["before", "before-patient"] + failed + (0..<5).map { "waited-\($0)" }
        #expect(received.compactMap(\.valueString).sorted() == expected.sorted())
    }

    @Test("injected produce errors are retried by the producer and the message still arrives once")
    func injectedProduceErrorsAreRetried() async throws {
        let cluster = try EmbeddedKafkaCluster.start(logger: quietLogger)
        defer { cluster.shutdown() }
        try cluster.createTopic("org.flaky", partitions: 1)
        let producer = try makeProducer(cluster)
        try await producer.send(KafkaProducerMessage(topic: "org.flaky", value: "warm-up"))

        cluster.pushRequestErrors(.produce, [.notEnoughReplicas, .requestTimedOut])
        let report = try await producer.send(KafkaProducerMessage(topic: "org.flaky", value: "flaky"))
        #expect(report.offset == 1)
        await producer.close()
    }

    @Test("a round-trip delay on the broker slows deliveries by at least that much")
    func roundTripDelay() async throws {
        let cluster = try EmbeddedKafkaCluster.start(logger: quietLogger)
        defer { cluster.shutdown() }
        try cluster.createTopic("org.slow", partitions: 1)
        let producer = try makeProducer(cluster)
        try await producer.send(KafkaProducerMessage(topic: "org.slow", value: "warm-up"))

        try cluster.setRoundTripTime(broker: 1, .milliseconds(300))
        let clock = ContinuousClock()
        let elapsed = try await clock.measure {
            try await producer.send(KafkaProducerMessage(topic: "org.slow", value: "slow"))
        }
        #expect(elapsed >= .milliseconds(300))
        try cluster.setRoundTripTime(broker: 1, .zero)
        await producer.close()
    }

    @Test("the cluster refuses bad topics and unknown brokers with a clear error")
    func clusterErrors() throws {
        let cluster = try EmbeddedKafkaCluster.start(brokers: 2, logger: quietLogger)
        defer { cluster.shutdown() }
        #expect(cluster.bootstrapServerList.count == 2)
        #expect(cluster.bootstrapServerList.allSatisfy { $0.hasPrefix("127.0.0.1:") })
        let badTopic = #expect(throws: KafkaError.self) { try cluster.createTopic("t", partitions: 0) }
        #expect(badTopic?.code == .mockCluster)
        let badReplication = #expect(throws: KafkaError.self) {
            try cluster.createTopic("t", partitions: 1, replicationFactor: 3)
        }
        #expect(badReplication?.reason.contains("replication factor") == true)
        #expect(throws: KafkaError.self) { try cluster.setBrokerDown(9) }
        #expect(throws: KafkaError.self) { try EmbeddedKafkaCluster.start(brokers: 0, logger: quietLogger) }
    }

    @Test("calls on a stopped cluster throw a clear error instead of reaching the freed mock")
    func callsAfterStop() async throws {
        let cluster = try EmbeddedKafkaCluster.start(logger: quietLogger)
        try cluster.setBrokerDown(1)
        await cluster.stop()
        // Before, this was rd_kafka_mock_broker_set_up on a destroyed cluster (ASan: use after free).
        let error = #expect(throws: KafkaError.self) { try cluster.setBrokerUp(1) }
        #expect(error?.code == .mockCluster)
        #expect(error?.reason.contains("stopped") == true, "\(String(describing: error))")
        #expect(throws: KafkaError.self) { try cluster.createTopic("late", partitions: 1) }
        cluster.pushRequestErrors(.produce, [.unknownTopicOrPartition])  // ignored, no crash
        cluster.shutdown()  // a second stop does nothing
    }

    @Test("broker faults racing a stop: each call succeeds or fails stopped, none reaches a freed cluster")
    func faultsRacingStop() async throws {
        for _ in 0..<5 {
            let cluster = try EmbeddedKafkaCluster.start(logger: quietLogger)
            // The mock's calls block until its thread has done them: make them on threads of
            // their own, not on Swift's cooperative pool, which the other tests share.
            let outcomes = await withTaskGroup(of: [String].self) { group in
                for _ in 0..<3 {
                    group.addTask {
                        await withCheckedContinuation { continuation in
                            DispatchQueue.global().async {
                                continuation.resume(
                                    returning: (0..<20).map { (index: Int) -> String in
                                        do {
                                            // Not setBrokerUp: the mock listens again on the same
                                            // port, and aborts the process when another socket of
                                            // the (busy) test run took it in between.
                                            try index.isMultiple(of: 2)
                                                ? cluster.setBrokerDown(1)
                                                : cluster.setRoundTripTime(broker: 1, .milliseconds(1))
                                            return "done"
                                        } catch let error as KafkaError {
                                            return error.reason.contains("stopped")
                                                ? "stopped" : "other \(error.reason)"
                                        } catch {
                                            return "other \(error)"
                                        }
                                    }
                                )
                            }
                        }
                    }
                }
                group.addTask {
                    await cluster.stop()
                    return []
                }
                return await group.reduce(into: [String]()) { $0 += $1 }
            }
            #expect(outcomes.count == 60)
            #expect(outcomes.allSatisfy { $0 == "done" || $0 == "stopped" }, "\(Set(outcomes))")
        }
    }

    @Test("a closed producer refuses to send with a closed error")
    func closedProducer() async throws {
        let cluster = try EmbeddedKafkaCluster.start(logger: quietLogger)
        defer { cluster.shutdown() }
        let producer = try makeProducer(cluster)
        await producer.close()
        let error = await #expect(throws: KafkaError.self) {
            try await producer.send(KafkaProducerMessage(topic: "x", value: "y"))
        }
        #expect(error?.code == .closed)
    }

    @Test("sends, assignment reads and outstanding counts racing a close: each succeeds or fails closed, none crashes")
    func callsRacingClose() async throws {
        let cluster = try EmbeddedKafkaCluster.start(logger: quietLogger)
        defer { cluster.shutdown() }
        try cluster.createTopic("org.race", partitions: 1)
        for round in 0..<5 {
            let producer = try makeProducer(cluster)
            let consumer = try makeConsumer(cluster, group: "org.race-\(round)", topics: ["org.race"])
            // The check and the call into librdkafka were two steps: a close could destroy
            // the handle between them. Now a close waits for calls already inside.
            let outcomes = await withTaskGroup(of: [String].self) { group in
                for sender in 0..<4 {
                    group.addTask {
                        var seen: [String] = []
                        for index in 0..<50 {
                            do {
                                _ = try await producer.send(
                                    KafkaProducerMessage(topic: "org.race", value: "r\(round)-s\(sender)-\(index)")
                                )
                                seen.append("sent")
                            } catch let error as KafkaError {
                                seen.append(error.code == .closed ? "closed" : "failed \(error.code)")
                            } catch {
                                seen.append("other \(error)")
                            }
                            _ = producer.outstandingCount
                            _ = try? consumer.assignment()
                        }
                        return seen
                    }
                }
                group.addTask {
                    await producer.close(timeout: .seconds(5))
                    await consumer.close()
                    return []
                }
                return await group.reduce(into: [String]()) { $0 += $1 }
            }
            #expect(outcomes.count == 200)
            let expected = outcomes.allSatisfy { $0 == "sent" || $0 == "closed" || $0.hasPrefix("failed") }
            #expect(expected, "\(Set(outcomes))")
            #expect(!outcomes.contains { $0.hasPrefix("other") })
        }
    }

    @Test("cancelling a read ends the message sequence without an error")
    func cancelledRead() async throws {
        let cluster = try EmbeddedKafkaCluster.start(logger: quietLogger)
        defer { cluster.shutdown() }
        try cluster.createTopic("org.idle", partitions: 1)
        let consumer = try makeConsumer(cluster, group: "org.idle", topics: ["org.idle"])
        let reader = Task { () -> Int in
            var count = 0
            for try await _ in consumer.messages { count += 1 }
            return count
        }
        reader.cancel()
        let count = try await withDeadline(.seconds(5), "the cancelled read to end") { try await reader.value }
        #expect(count == 0)
        await consumer.close()
        var iterator = consumer.messages.makeAsyncIterator()
        #expect(try await iterator.next() == nil)
    }
}
