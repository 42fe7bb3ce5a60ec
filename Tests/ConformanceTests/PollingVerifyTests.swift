import Conformance
import Emulator
import Foundation
import PortContract
import TestSupport
import Testing

/// `verify --polling`: the consumer under test claims its work over HTTP (contract §9).
@Suite("verify --polling", .heavy, .timeLimit(.minutes(10)))
struct PollingVerifyTests {
    static let consumer = [
        "python3", Repository.root.appendingPathComponent("Tests/ConformanceTests/Consumers/polling_consumer.py").path,
    ]

    static func scenarios(within: String) throws -> [Scenario] {
        [
            try scenario(
                "create",
                #"{"trigger":{"action":"create_vm","inputs":{"name":"p","cpu":2,"region":"eu"}},"expect":{"status":"SUCCESS","within":"\#(within)","summary":"polled create_vm","minLogs":1,"maxApiCalls":6}}"#
            ),
            try scenario(
                "day2",
                #"{"setup":{"entities":[{"blueprint":"service","identifier":"api"}]},"trigger":{"action":"deploy_service","entity":"api","inputs":{"version":"2","environment":"staging"}},"expect":{"status":"SUCCESS","within":"\#(within)","summary":"polled deploy_service"}}"#
            ),
            try scenario(
                "burst",
                #"{"count":25,"trigger":{"action":"create_vm","inputs":{"name":"b","cpu":1,"region":"eu"}},"expect":{"status":"SUCCESS","within":"\#(within)"}}"#
            ),
            try scenario(
                "automation",
                #"{"trigger":{"automation":"announce_microservice","upsert":{"blueprint":"microservice","identifier":"m","properties":{"region":"eu"}}},"expect":{"status":"SUCCESS","within":"\#(within)","summary":"polled announce_microservice"}}"#
            ),
        ]
    }

    @Test("a polling consumer passes; the same consumer without --polling gets nothing, and fails")
    func pollingConsumer() async throws {
        let (report, progress) = try await verify(
            try Self.scenarios(within: "20s"),
            command: Self.consumer,
            polling: true
        )
        #expect(report.passed, "\(progress.joined(separator: "\n"))")
        #expect(report.results.count == 4)
        #expect(progress.contains { $0.contains("HTTP polling") })

        // Without --polling the runs go to Kafka, which this consumer never reads.
        let (kafka, _) = try await verify(
            [try Self.scenarios(within: "2s")[0]],
            command: Self.consumer,
            polling: false
        )
        #expect(!kafka.passed)
        #expect(kafka.results.first?.failures.first?.contains("IN_PROGRESS") == true, "\(kafka.results)")
    }
}
