import Emulator
import Foundation
import PortContract
import PortKafka
import TestSupport
import Testing

/// The Kafka event the emulator's event source mapping sends a Lambda function, against the
/// examples AWS documents (fixtures/lambda/, copied from AWS's Powertools for Lambda event
/// references: docs.aws.amazon.com/powertools/typescript/…/KafkaSelfManagedEvent and KafkaMskEvent).
@Suite("Lambda: the Kafka event's bytes")
struct LambdaEventTests {
    /// AWS's example record: key `recordKey`, value `{"key":"value"}`, header headerKey=headerValue.
    static let example = KafkaConsumerMessage(
        topic: "mytopic",
        partition: 0,
        offset: 15,
        key: Array("recordKey".utf8),
        value: Array(#"{"key":"value"}"#.utf8),
        headers: [KafkaHeader(key: "headerKey", value: Array("headerValue".utf8))],
        timestampMilliseconds: 1_545_084_650_987
    )
    static let bootstrap =
        "b-2.demo-cluster-1.a1bcde.c1.kafka.us-east-1.amazonaws.com:9092,b-1.demo-cluster-1.a1bcde.c1.kafka.us-east-1.amazonaws.com:9092"

    /// A documented example without the whitespace outside its strings: the bytes Lambda sends.
    static func documented(_ name: String) throws -> String {
        let text = try String(contentsOfFile: EmulatorHarness.fixturesDirectory + "/lambda/" + name, encoding: .utf8)
        var out = ""
        var inString = false
        var escaped = false
        for character in text {
            if inString {
                out.append(character)
                if escaped {
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == "\"" {
                    inString = false
                }
            } else if character == "\"" {
                inString = true
                out.append(character)
            } else if !character.isWhitespace {
                out.append(character)
            }
        }
        return out
    }

    @Test("a self-managed Kafka trigger's event is AWS's documented example, byte for byte")
    func selfManaged() throws {
        let event = KafkaLambdaEvent.encode(
            [Self.example],
            trigger: .selfManaged,
            bootstrapServers: Self.bootstrap,
            clusterARN: ""
        )
        #expect(String(decoding: event, as: UTF8.self) == (try Self.documented("self-managed-kafka-event.json")))
    }

    @Test("an MSK trigger's event is AWS's documented example, byte for byte")
    func msk() throws {
        let event = KafkaLambdaEvent.encode(
            [Self.example],
            trigger: .msk,
            bootstrapServers: Self.bootstrap,
            clusterARN:
                "arn:aws:kafka:us-east-1:0123456789019:cluster/SalesCluster/abcd1234-abcd-cafe-abab-9876543210ab-4"
        )
        #expect(String(decoding: event, as: UTF8.self) == (try Self.documented("msk-event.json")))
    }

    @Test(
        "records are grouped by topic-partition in order of arrival; no key, a null value and LOG_APPEND_TIME as chosen"
    )
    func grouping() throws {
        var second = Self.example
        second.partition = 2
        second.offset = 3
        second.key = nil
        second.value = nil
        second.headers = []
        second.timestampType = .logAppendTime
        var third = Self.example
        third.offset = 16
        third.headers = [KafkaHeader(key: "empty", value: nil)]
        let event = KafkaLambdaEvent.encode(
            [Self.example, second, third],
            trigger: .selfManaged,
            bootstrapServers: "h:1",
            clusterARN: ""
        )
        let json = try JSONValue.parse(event)
        let text = String(decoding: event, as: UTF8.self)
        #expect(text.contains(#""records":{"mytopic-0":[{"#))
        #expect(text.range(of: "\"mytopic-0\"")!.lowerBound < text.range(of: "\"mytopic-2\"")!.lowerBound)
        #expect(json["records"]?["mytopic-0"]?.arrayValue?.compactMap { $0["offset"]?.intValue } == [15, 16])
        let lone = try #require(json["records"]?["mytopic-2"]?.arrayValue?.first?.objectValue)
        #expect(lone["key"] == nil)
        #expect(lone["value"] == .null)
        #expect(lone["timestampType"] == "LOG_APPEND_TIME")
        #expect(json["records"]?["mytopic-0"]?.arrayValue?.last?["headers"] == [["empty": []]])
    }
}

/// The Lambda Runtime API and the event source mapping in a running emulator, driven the way
/// a runtime client drives them (awslambdaric itself runs in examples/python-lambda's tests).
@Suite("Lambda: Runtime API and event source mapping", .heavy, .timeLimit(.minutes(10)))
struct LambdaRuntimeTests {
    /// The function's settings in these tests: no batching window.
    static var settings: LambdaSettings {
        var settings = LambdaSettings()
        settings.batchingWindow = .zero
        return settings
    }

    static func withFunction<Value: Sendable>(
        _ settings: LambdaSettings = Self.settings,
        _ body: @escaping @Sendable (EmulatorHarness, String) async throws -> Value
    ) async throws -> Value {
        let configure: (inout EmulatorConfiguration) -> Void = { $0.lambda = settings }
        return try await EmulatorHarness.run(configure: configure) { harness in
            try await body(harness, try await harness.token())
        }
    }

    static func trigger(_ harness: EmulatorHarness, token: String, _ name: String) async throws -> String {
        let created = try await harness.call(
            "POST",
            "/v1/actions/create_vm/runs",
            token: token,
            body: #"{"properties":{"name":"\#(name)","cpu":2,"region":"eu"}}"#
        )
        return try #require(created.json["run"]?["id"]?.stringValue)
    }

    /// `GET …/invocation/next`, as a runtime client long-polls it.
    static func next(_ harness: EmulatorHarness) async throws -> RawResponse {
        try await RawHTTPClient.send(port: harness.port, method: "GET", path: "/2018-06-01/runtime/invocation/next")
    }

    static func post(_ harness: EmulatorHarness, _ path: String, _ body: String) async throws -> RawResponse {
        try await RawHTTPClient.send(
            port: harness.port,
            method: "POST",
            path: "/2018-06-01/runtime/" + path,
            headers: [("Content-Type", "application/json")],
            body: Array(body.utf8)
        )
    }

    static func status(_ harness: EmulatorHarness) async throws -> JSONValue {
        try await harness.call("GET", "/_emulator/lambda").json
    }

    @Test(
        "next hands out the run's record with Lambda's headers; an error gets the same batch again; a response commits it"
    )
    func invocationCycle() async throws {
        try await Self.withFunction { harness, token in
            let runID = try await Self.trigger(harness, token: token, "lambda-vm")
            let first = try await Self.next(harness)
            #expect(first.status == 200)
            let requestID = try #require(first.headers["lambda-runtime-aws-request-id"])
            #expect(
                first.headers["lambda-runtime-invoked-function-arn"]
                    == "arn:aws:lambda:us-east-1:123456789012:function:port-action-handler"
            )
            #expect(first.headers["lambda-runtime-trace-id"]?.hasPrefix("Root=1-") == true)
            let deadline = try #require(Double(first.headers["lambda-runtime-deadline-ms"] ?? ""))
            let now = Date().timeIntervalSince1970 * 1000
            #expect(deadline > now + 20_000 && deadline <= now + 30_000, "30 s timeout: \(deadline - now) ms left")
            let event = try JSONValue.parse(first.body)
            #expect(event["eventSource"] == "SelfManagedKafka")
            let partitions = try #require(event["records"]?.objectValue)
            #expect(partitions.count == 1)
            let key = try #require(partitions.keys.first)
            let record = try #require(partitions[key]?.arrayValue?.first)
            #expect(key == "org_api.runs-\(record["partition"]?.intValue ?? -1)")
            let value = try #require(Data(base64Encoded: record["value"]?.stringValue ?? ""))
            #expect(try JSONValue.parse(Array(value))["context"]?["runId"]?.stringValue == runID)
            #expect(Data(base64Encoded: record["key"]?.stringValue ?? "") == Data(runID.utf8))

            let unknown = try await Self.post(harness, "invocation/not-a-request/response", "{}")
            #expect(unknown.status == 400)
            #expect(try JSONValue.parse(unknown.body)["errorType"] == "InvalidRequestID")

            let failed = try await Self.post(
                harness,
                "invocation/\(requestID)/error",
                #"{"errorMessage":"boom","errorType":"RuntimeError","stackTrace":[]}"#
            )
            #expect(failed.status == 202)
            let again = try await Self.next(harness)
            #expect(again.headers["lambda-runtime-aws-request-id"] != requestID)
            #expect(try JSONValue.parse(again.body)["records"] == event["records"], "the same batch, whole")
            let retryID = try #require(again.headers["lambda-runtime-aws-request-id"])
            let answered = try await Self.post(harness, "invocation/\(retryID)/response", #"{"ok":true}"#)
            #expect(answered.status == 202)
            #expect(try JSONValue.parse(answered.body)["status"] == "OK")
            try await waitUntil("the batch committed") {
                try await Self.status(harness)["invocations"]?.arrayValue?.count == 2
            }
            let invocations = try #require(try await Self.status(harness)["invocations"]?.arrayValue)
            #expect(invocations.map { $0["attempt"]?.intValue } == [1, 2])
            #expect(invocations[0]["outcome"] == "error RuntimeError: boom")
            #expect(invocations[0]["then"] == "retrying")
            #expect(invocations[1]["then"] == "committed")
            #expect(invocations[1]["runIds"] == [.string(runID)])
        }
    }

    @Test(
        "an invocation past the function's timeout fails as a timeout and its batch comes again; a late answer is refused"
    )
    func timeout() async throws {
        var settings = Self.settings
        settings.timeout = .milliseconds(500)
        try await Self.withFunction(settings) { harness, token in
            _ = try await Self.trigger(harness, token: token, "slow-vm")
            let first = try await Self.next(harness)
            let requestID = try #require(first.headers["lambda-runtime-aws-request-id"])
            let again = try await Self.next(harness)  // answered once the first has timed out
            #expect(try JSONValue.parse(again.body)["records"] == (try JSONValue.parse(first.body))["records"])
            let late = try await Self.post(harness, "invocation/\(requestID)/response", "{}")
            #expect(late.status == 400)
            let invocations = try #require(try await Self.status(harness)["invocations"]?.arrayValue)
            #expect(invocations.first?["outcome"] == "timeout")
        }
    }

    @Test("MaximumRetryAttempts: a batch that keeps failing is discarded and committed after the retries")
    func retryLimit() async throws {
        var settings = Self.settings
        settings.maximumRetryAttempts = 1
        try await Self.withFunction(settings) { harness, token in
            _ = try await Self.trigger(harness, token: token, "doomed-vm")
            for _ in 0..<2 {
                let invocation = try await Self.next(harness)
                let id = try #require(invocation.headers["lambda-runtime-aws-request-id"])
                _ = try await Self.post(harness, "invocation/\(id)/error", #"{"errorMessage":"no","errorType":"E"}"#)
            }
            try await waitUntil("the batch discarded") {
                try await Self.status(harness)["invocations"]?.arrayValue?.last?["then"] == "discarded after 1 retries"
            }
            // The next run is a new batch: the discarded one is not offered again.
            let runID = try await Self.trigger(harness, token: token, "next-vm")
            let next = try await Self.next(harness)
            let records = try #require(try JSONValue.parse(next.body)["records"]?.objectValue)
            let value = try #require(records[records.keys[0]]?.arrayValue?.first?["value"]?.stringValue)
            #expect(
                try JSONValue.parse(Array(Data(base64Encoded: value) ?? Data()))["context"]?["runId"]?.stringValue
                    == runID
            )
        }
    }

    @Test("a consumer group without the organization's prefix is refused by Port's ACLs, and the mapping says so")
    func foreignGroup() async throws {
        var settings = Self.settings
        settings.consumerGroup = "someone-else.lambda"
        try await Self.withFunction(settings) { harness, _ in
            try await waitUntil("the mapping's problem") {
                (try await Self.status(harness)["lastProcessingResult"]?.stringValue ?? "").hasPrefix("PROBLEM")
            }
            let problem = try await Self.status(harness)["lastProcessingResult"]?.stringValue ?? ""
            #expect(problem.contains("GROUP_AUTHORIZATION_FAILED"), "\(problem)")
            #expect(problem.contains("someone-else.lambda"))
        }
    }

    @Test("a mapping stopped mid-batch commits nothing: the batch is delivered again by the next consumer")
    func restartMidBatch() async throws {
        try await Self.withFunction { harness, token in
            _ = try await Self.trigger(harness, token: token, "restart-vm")
            let first = try await Self.next(harness)
            let requestID = try #require(first.headers["lambda-runtime-aws-request-id"])
            let restarted = try await harness.call("POST", "/_emulator/lambda/mapping/restart")
            #expect(restarted.status == 202)
            try await waitUntil("a second consumer") { try await Self.status(harness)["mappingStarts"]?.intValue == 2 }
            // The function finishes the abandoned invocation (the environment was busy); nobody commits it.
            #expect(try await Self.post(harness, "invocation/\(requestID)/response", "{}").status == 202)
            let again = try await Self.next(harness)
            #expect(try JSONValue.parse(again.body)["records"] == (try JSONValue.parse(first.body))["records"])
            let id = try #require(again.headers["lambda-runtime-aws-request-id"])
            #expect(try await Self.post(harness, "invocation/\(id)/response", "{}").status == 202)
            try await waitUntil("committed") {
                try await Self.status(harness)["invocations"]?.arrayValue?.last?["then"] == "committed"
            }
            let thens = try await Self.status(harness)["invocations"]?.arrayValue?.compactMap {
                $0["then"]?.stringValue
            }
            #expect(thens == ["abandoned: not committed", "committed"])
        }
    }
}
