import Consumer
import Foundation
import PortContract
import PortKafka
import Testing

/// The repository's fixtures directory.
let fixturesDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("fixtures").path

@Suite("Consumer configuration", .timeLimit(.minutes(10)))
struct ConsumerConfigurationTests {
    let base = [
        "PORT_CLIENT_ID": "id", "PORT_CLIENT_SECRET": "s3cr3t", "PORT_ORG_ID": "org_1",
        "KAFKA_BROKERS": "k1:9196,k2:9196",
    ]

    @Test("Port's defaults; SASL_SSL with SCRAM-SHA-512 once a username is set; secrets never described")
    func defaults() throws {
        let plain = try ConsumerConfiguration(environment: base)
        #expect(plain.apiURL == "https://api.getport.io/v1")
        #expect(plain.groupID == "org_1.port-consumer")
        #expect(plain.brokers == ["k1:9196", "k2:9196"])
        #expect(plain.security == .plaintext)
        var withUser = base
        withUser["KAFKA_USERNAME"] = "org_1"
        withUser["KAFKA_PASSWORD"] = "kafka-pass"
        let sasl = try ConsumerConfiguration(environment: withUser)
        guard case .saslTLS(let credentials, _) = sasl.security else {
            Issue.record("expected SASL_SSL, got \(sasl.security)")
            return
        }
        #expect(credentials.mechanism == .scramSHA512)
        #expect(!sasl.redactedDescription.contains("s3cr3t"))
        #expect(!sasl.redactedDescription.contains("kafka-pass"))
    }

    @Test("static membership is on by default with a per-host id, settable, and off with none")
    func instanceID() throws {
        let host = ProcessInfo.processInfo.hostName
        let byDefault = try ConsumerConfiguration(environment: base)
        #expect(byDefault.groupInstanceID == "port-consumer-\(host)")
        #expect(byDefault.redactedDescription.contains("instance=port-consumer-\(host)"))
        var environment = base
        environment["PORT_CONSUMER_INSTANCE_ID"] = "worker-2.eu_west"
        #expect(try ConsumerConfiguration(environment: environment).groupInstanceID == "worker-2.eu_west")
        environment["PORT_CONSUMER_INSTANCE_ID"] = "none"
        #expect(try ConsumerConfiguration(environment: environment).groupInstanceID == nil)
        var kafka = KafkaConsumerConfiguration(bootstrapServers: ["k:9092"], groupID: "org_1.g")
        #expect(kafka.librdkafkaProperties["group.instance.id"] == nil)
        kafka.groupInstanceID = "worker-2"
        #expect(kafka.librdkafkaProperties["group.instance.id"] == "worker-2")
    }

    @Test("the environment wins over the .env file, which fills the gaps (shell quoting included)")
    func dotEnv() throws {
        let file =
            "export PORT_CLIENT_ID='from-file'\nPORT_ORG_ID=org_file\n# comment\nPORT_API_URL=\"http://127.0.0.1:5100/v1\"\n"
        var environment = base
        environment["PORT_ORG_ID"] = nil
        let configuration = try ConsumerConfiguration(environment: environment, dotEnv: file)
        #expect(configuration.clientID == "id")
        #expect(configuration.orgID == "org_file")
        #expect(configuration.apiURL == "http://127.0.0.1:5100/v1")
    }

    @Test(
        "a missing or invalid setting is one line naming it",
        arguments: [
            ("PORT_CLIENT_SECRET", nil, "PORT_CLIENT_SECRET is not set"),
            ("KAFKA_BROKERS", "", "KAFKA_BROKERS is not set"),
            ("KAFKA_CONSUMER_GROUP_ID", "mygroup", "must start with 'org_1.'"),
            ("PORT_API_URL", "api.getport.io", "is not an http(s) URL"),
            ("PORT_CONSUMER_CONCURRENCY", "0", "PORT_CONSUMER_CONCURRENCY '0'"),
            ("KAFKA_SECURITY_PROTOCOL", "sasl_ssl", "needs a SASL username and password"),
            ("PORT_CONSUMER_INSTANCE_ID", "web 1", "PORT_CONSUMER_INSTANCE_ID 'web 1' must be 1 to 249 letters"),
            ("PORT_CONSUMER_INSTANCE_ID", "", "PORT_CONSUMER_INSTANCE_ID '' must be 1 to 249 letters"),
        ] as [(String, String?, String)]
    )
    func problems(key: String, value: String?, message: String) {
        var environment = base
        environment[key] = value
        let error = #expect(throws: ConsumerConfiguration.Problem.self) {
            try ConsumerConfiguration(environment: environment)
        }
        #expect(error?.description.contains(message) == true, "\(error?.description ?? "")")
    }
}

@Suite("Parsing every message shape", .timeLimit(.minutes(10)))
struct InvocationParserTests {
    func fixture(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: "\(fixturesDirectory)/invocations/\(name).json")))
    }

    @Test("the seed's CREATE message")
    func create() throws {
        guard case .run(let run) = try InvocationParser.parse(try fixture("create_microservice")) else {
            Issue.record("not a run")
            return
        }
        #expect(run.runID == "r_QOz6WoOB1Q2lmhZZ")
        #expect(run.action == "create_microservice")
        #expect(run.operation == "CREATE")
        #expect(run.blueprint == "microservice")
        #expect(run.entityIdentifier == nil)
        #expect(run.inputs == ["name": "my-microservice", "region": "eu-west-1"])
        #expect(run.user == "test@test.com")
    }

    @Test("the wrapped DAY-2 message, also base64-encoded as AWS Lambda delivers it")
    func wrappedAndBase64() throws {
        let bytes = try fixture("deploy_microservice_wrapped")
        for variant in [bytes, Array(Data(bytes).base64EncodedString().utf8)] {
            guard case .run(let run) = try InvocationParser.parse(variant) else {
                Issue.record("not a run")
                return
            }
            #expect(run.runID == "r_z0nJYJv0wCm2ASTR")
            #expect(run.action == "deploy_microservice")
            #expect(run.operation == "DAY-2")
            #expect(run.entityIdentifier == "my-microservice")
            #expect(run.entity?["properties"] == ["region": "eu-west-1"])
        }
    }

    @Test("the proof of concept's message")
    func proofOfConcept() throws {
        guard case .run(let run) = try InvocationParser.parse(try fixture("deploy_service_poc")) else {
            Issue.record("not a run")
            return
        }
        #expect(run.runID == "r_abc123xyz")
        #expect(run.action == "deploy_service")
        #expect(run.blueprint == "service")
        #expect(run.entityIdentifier == "my-service-id")
        #expect(run.inputs["version"] == "1.2.3")
        #expect(run.user == "user@example.com")
    }

    @Test("templated payloads carrying run.id or runId, and workflow node messages")
    func templatedAndWorkflow() throws {
        let templated = try InvocationParser.parse(
            Array(#"{"run":{"id":"r_1"},"action":"scale","inputs":{"n":2}}"#.utf8)
        )
        #expect(templated.id == "r_1")
        if case .run(let run) = templated {
            #expect(run.action == "scale")
            #expect(run.inputs == ["n": 2])
        }
        #expect(try InvocationParser.parse(Array(#"{"runId":"r_2","x":1}"#.utf8)).id == "r_2")
        let node = try InvocationParser.parse(
            Array(
                #"{"payload":{"a":1},"context":{"workflowRunId":"wfr_1","nodeRunId":"wfnr_1","workflow":"w","node":"n"}}"#
                    .utf8
            )
        )
        guard case .workflowNode(let nodeRun) = node else {
            Issue.record("not a workflow node")
            return
        }
        #expect(nodeRun.workflowRunID == "wfr_1")
        #expect(nodeRun.nodeRunID == "wfnr_1")
        #expect(nodeRun.node == "n")
        #expect(nodeRun.payload == ["a": 1])
    }

    @Test("poison: not JSON, no run id, a bad signature", arguments: ["not json {", #"{"action":"x"}"#, "[1,2]"])
    func poison(text: String) {
        #expect(throws: PoisonMessage.self) { try InvocationParser.parse(Array(text.utf8)) }
    }

    @Test("a signed message is accepted with the right secret and refused with another")
    func signatures() throws {
        let message: JSONObject = ["action": "a", "context": ["runId": "r_1"], "headers": [:]]
        let signed = JSONValue.object(PortSignature.signed(message, secret: "right", at: Date())).compactBytes
        #expect(try InvocationParser.parse(signed, signingSecret: "right").id == "r_1")
        #expect(throws: PoisonMessage.self) { try InvocationParser.parse(signed, signingSecret: "wrong") }
    }
}

@Suite("Retry policy", .timeLimit(.minutes(10)))
struct RetryPolicyTests {
    @Test("429, 5xx and network errors are retried with growing, capped, jittered delays; other statuses are final")
    func decisions() {
        let policy = RetryPolicy()
        #expect(policy.decision(status: 200, attempt: 1) == .done)
        #expect(policy.decision(status: 404, attempt: 1) == .done)
        #expect(policy.decision(status: 422, attempt: 1) == .done)
        #expect(policy.decision(status: 503, attempt: 1, jitter: 1) == .retry(after: .milliseconds(100)))
        #expect(policy.decision(status: nil, attempt: 3, jitter: 0) == .retry(after: .milliseconds(200)))
        #expect(policy.decision(status: 500, attempt: 6) == .giveUp)
        #expect(policy.backoff(attempt: 30, jitter: 1) == .seconds(10))
    }

    @Test("a 429 waits as Retry-After or x-ratelimit-reset says")
    func rateLimit() {
        let policy = RetryPolicy()
        let now = Date(timeIntervalSince1970: 1_000_000)
        #expect(
            policy.decision(status: 429, headers: ["Retry-After": "2"], attempt: 1, now: now)
                == .retry(after: .seconds(2))
        )
        #expect(
            policy.decision(status: 429, headers: ["x-ratelimit-reset": "1000003"], attempt: 1, now: now)
                == .retry(after: .seconds(3))
        )
        #expect(
            policy.decision(status: 429, headers: ["Retry-After": "600"], attempt: 1, now: now)
                == .retry(after: .seconds(10))
        )
        // A 429 is not an attempt until the call has waited maxRateLimitWait on 429s.
        #expect(!policy.countsAsAttempt(status: 429, waited: .seconds(299)))
        #expect(policy.countsAsAttempt(status: 429, waited: .seconds(300)))
        #expect(policy.countsAsAttempt(status: 503, waited: .zero))
        #expect(policy.countsAsAttempt(status: nil, waited: .zero))
    }
}

@Suite("Offsets are committed in order", .timeLimit(.minutes(10)))
struct OffsetTrackerTests {
    @Test("a later offset done first waits for the earlier one; then both are committed at once")
    func ordering() {
        var tracker = OffsetTracker()
        for offset: Int64 in [10, 11, 12] { tracker.started(partition: 0, offset: offset) }
        tracker.started(partition: 1, offset: 5)
        #expect(tracker.finished(partition: 0, offset: 11) == nil)
        #expect(tracker.finished(partition: 1, offset: 5) == 6)
        #expect(tracker.finished(partition: 0, offset: 10) == 12)
        #expect(tracker.finished(partition: 0, offset: 12) == 13)
        #expect(tracker.pendingCount(partition: 0) == 0)
    }
}

@Suite("The command protocol", .timeLimit(.minutes(10)))
struct CommandOutputLineTests {
    @Test(
        "each ::port:: directive, and everything else a log line",
        arguments: [
            ("::port::link https://ci/1", CommandOutputLine.link("https://ci/1")),
            ("::port::label Deploying", .label("Deploying")),
            ("::port::summary All good", .summary("All good")),
            (
                #"::port::entity {"identifier":"vm-1","properties":{"cpu":2}}"#,
                .entity(["identifier": "vm-1", "properties": ["cpu": 2]])
            ),
            ("compiling 12 files", .log("compiling 12 files")),
            (
                "::port::entity {}",
                .invalid(line: "::port::entity {}", reason: "::port::entity needs a JSON object with an identifier")
            ),
            (
                "::port::shout hi",
                .invalid(line: "::port::shout hi", reason: "unknown or empty directive ::port::shout")
            ),
        ]
    )
    func line(text: String, expected: CommandOutputLine) {
        #expect(CommandOutputLine(parsing: text) == expected)
    }

    @Test("import Consumer leaves Swift's CommandLine alone (its enum of that name hid CommandLine.arguments)")
    func swiftCommandLine() {
        // This file imports Consumer: with a Consumer type named CommandLine, it did not compile.
        #expect(!CommandLine.arguments.isEmpty)
    }
}
