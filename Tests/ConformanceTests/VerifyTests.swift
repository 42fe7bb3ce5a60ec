import ChildProcesses
import Emulator
import Foundation
import PortContract
import TestSupport
import Testing

#if canImport(FoundationXML)
import FoundationXML
import Conformance
#endif

@Suite("port-emulator verify", .heavy, .timeLimit(.minutes(10)))
struct VerifyTests {
    @Test("port-consumer passes every shipped scenario, through the real executables, with JUnit and JSON reports")
    func portConsumerPassesEveryScenario() async throws {
        let directory = try Repository.temporaryDirectory()
        let (status, output) = try await runExecutable(
            Repository.binaries + "/port-emulator",
            [
                "verify", "--fixtures", Repository.fixtures, "--scenarios", Repository.scenarios,
                "--junit", directory + "/report.xml", "--json", directory + "/report.json",
                "--consumer-log", directory + "/consumer.log",
                "--", Repository.binaries + "/port-consumer", "--handlers", Repository.handlers,
            ]
        )
        let shipped = try FileManager.default.contentsOfDirectory(atPath: Repository.scenarios)
            .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
        #expect(shipped.count >= 14)
        #expect(status == 0, "\(output)")
        for name in shipped { #expect(output.contains("PASS  \(name)"), "\(name)") }
        #expect(output.contains("\(shipped.count) of \(shipped.count) scenarios passed"))

        let json = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/report.json"))))
        #expect(json["passed"] == true)
        let results = try #require(json["results"]?.arrayValue)
        #expect(results.compactMap { $0["name"]?.stringValue } == shipped)
        let burst = try #require(results.first { $0["name"] == "14_burst_200" })
        #expect(burst["statistics"]?["statuses"]?["SUCCESS"]?.intValue == 200)
        #expect(burst["statistics"]?["lost"]?.intValue == 0)

        let xml = try XMLDocument(contentsOf: URL(fileURLWithPath: directory + "/report.xml"))
        let suite = try #require(try xml.nodes(forXPath: "//testsuite").first as? XMLElement)
        #expect(suite.attribute(forName: "tests")?.stringValue == String(shipped.count))
        #expect(suite.attribute(forName: "failures")?.stringValue == "0")
        #expect(try xml.nodes(forXPath: "//testcase").count == shipped.count)
        // 18_secret_inputs: port-consumer's own log never shows a secret input's plaintext.
        let log = try String(contentsOfFile: directory + "/consumer.log", encoding: .utf8)
        #expect(log.contains("deploy_with_secrets"), "the secret scenario ran")
        for secret in ["tok-0123456789abcdef", "hunter2-but-longer"] { #expect(!log.contains(secret)) }
    }

    @Test(
        "verify --kafka-security sasl_ssl: port-consumer passes every shipped scenario with Port's production settings only"
    )
    func portConsumerOverSASLSSL() async throws {
        let directory = try Repository.temporaryDirectory()
        let (status, output) = try await runExecutable(
            Repository.binaries + "/port-emulator",
            [
                "verify", "--kafka-security", "sasl_ssl", "--fixtures", Repository.fixtures, "--scenarios",
                Repository.scenarios, "--consumer-log", directory + "/consumer.log",
                "--", Repository.binaries + "/port-consumer", "--handlers", Repository.handlers,
            ]
        )
        let shipped = try FileManager.default.contentsOfDirectory(atPath: Repository.scenarios)
            .filter { $0.hasSuffix(".json") }.count
        #expect(status == 0, "\(output)")
        #expect(output.contains("\(shipped) of \(shipped) scenarios passed"), "\(output)")
        // port-consumer logs its settings at start: the SCRAM user, and brokers that are the
        // SASL_SSL listeners (the plaintext ones are not in its environment at all).
        let log = try String(contentsOfFile: directory + "/consumer.log", encoding: .utf8)
        #expect(log.contains("kafka_user=org_emulator"), "\(log.prefix(2000))")
    }

    @Test(
        "port-consumer passes every shipped scenario while a chaos profile injects faults",
        arguments: ["http-errors", "kafka"]
    )
    func portConsumerUnderChaos(profile: String) async throws {
        let directory = try Repository.temporaryDirectory()
        // A 3 s broker outage plus reconnection can outlast a 10 s deadline on a loaded machine
        // (the suite runs schemathesis, Chromium and the Kafka clients alongside, and perhaps a
        // second copy of itself): the question here is whether every run ends right, so
        // deadlines get 120 s (200 runs under 14% faulty calls took 60.7 s with two suites).
        let scenarios = try Scenario.load(directory: Repository.scenarios).map { scenario in
            var relaxed = scenario
            relaxed.expect.within = max(scenario.expect.within, .seconds(120))
            return relaxed
        }
        var options = Verifier.Options(scenarios: scenarios)
        options.consumerCommand = [Repository.binaries + "/port-consumer", "--handlers", Repository.handlers]
        options.fixtures = try Fixtures.load(from: Repository.fixtures)
        options.chaos = try ChaosProfile.load(profile, directory: Repository.fixtures + "/chaos")
        options.consumerLogPath = directory + "/consumer.log"
        let report = try await Verifier(options: options, logger: quietLogger) { _ in }.run()
        let failures = report.results.filter { !$0.passed }.map { "\($0.name): \($0.failures.joined(separator: "; "))" }
        #expect(report.passed, "\(failures.joined(separator: "\n"))")
        #expect(report.events.contains { $0.contains("chaos profile \(profile)") })
        let injected = report.results.reduce(0) { $0 + $1.statistics.injectedFaults }
        if profile == "http-errors" { #expect(injected > 0, "no call met an injected fault") }
    }

    @Test(
        "--against verifies a consumer already running against an emulator already running; a declined run is checked"
    )
    func againstRunningEmulator() async throws {
        var configuration = EmulatorConfiguration()
        configuration.port = 0
        configuration.fixtures = try Fixtures.load(from: Repository.fixtures)
        let (report, emulator) = try await PortEmulator.withRunning(
            configuration: configuration,
            logger: quietLogger
        ) { emulator in
            let directory = try Repository.temporaryDirectory()
            let consumer = ConsumerProcess(
                command: [Repository.binaries + "/port-consumer", "--handlers", Repository.handlers],
                environment: Verifier.consumerEnvironment(emulator.info),
                logPath: directory + "/consumer.log"
            )
            try consumer.start()
            var options = Verifier.Options(scenarios: [
                try scenario(
                    "vm",
                    #"{"trigger":{"action":"create_vm","inputs":{"name":"a","cpu":2}},"expect":{"status":"SUCCESS","within":"15s"}}"#
                ),
                try scenario(
                    "declined",
                    #"""
                    {"setup":{"entities":[{"blueprint":"vm","identifier":"a","properties":{"cpu":2,"region":"eu-west-1"}}]},
                     "trigger":{"action":"resize_vm","entity":"a","inputs":{"cpu":4}},"approve":false,
                     "expect":{"status":"DECLINED","within":"5s","maxApiCalls":0}}
                    """#
                ),
            ])
            options.against = emulator.info.apiBaseURL
            let report = try await Verifier(options: options, logger: quietLogger) { _ in }.run()
            await consumer.stop(grace: .seconds(10))
            return (report, emulator)
        }
        #expect(report.passed, "\(report.table)")
        #expect(report.readiness.contains("--against"))
        // verify's own calls (the trigger, the setup, the decision) are the tester's, not the consumer's.
        #expect(emulator.recorder.journal.contains { $0.clientID == EmulatorConfiguration.testerClientID })
    }

    @Test("a consumer that crashes at once fails with its exit status and output, and verify does not hang")
    func crashingConsumer() async throws {
        let scenarios = try (1...5).map { index in
            try scenario(
                "vm\(index)",
                #"{"trigger":{"action":"create_vm","inputs":{"name":"a","cpu":2}},"expect":{"status":"SUCCESS","within":"5s"}}"#
            )
        }
        // Generous: the point is that verify ends (about 5 s alone), not how fast on a loaded machine.
        let (report, _) = try await withDeadline(.seconds(120), "verify of a crashing consumer") {
            // A long start-up allowance: on a loaded machine four crash-and-restart rounds can
            // outlast the default 30 s, and the crashes, not the allowance, are the subject.
            try await verify(
                scenarios,
                command: ["sh", "-c", "echo 'no Kafka settings, giving up' >&2; exit 3"],
                startupTimeout: .seconds(110)
            )
        }
        #expect(!report.passed)
        // It crashes in each scenario and is started again, until the fourth crash.
        for result in report.results.prefix(4) {
            let explanation = result.failures.joined(separator: "\n")
            #expect(explanation.contains("the consumer crashed during this scenario (exit status 3)"), "\(explanation)")
            #expect(explanation.contains("no Kafka settings, giving up"), "\(explanation)")
        }
        #expect(report.results[4].failures == ["not run: the consumer crashed 4 times (last: exit status 3)"])
    }

    @Test("a consumer that never connects fails after the start-up allowance, and the rest are not run")
    func consumerThatNeverConnects() async throws {
        let scenarios = [
            try scenario(
                "one",
                #"{"trigger":{"action":"create_vm","inputs":{"name":"a","cpu":2}},"expect":{"status":"SUCCESS","within":"1s"}}"#
            ),
            try scenario(
                "two",
                #"{"trigger":{"action":"create_vm","inputs":{"name":"b","cpu":2}},"expect":{"status":"SUCCESS","within":"1s"}}"#
            ),
        ]
        let (report, _) = try await withDeadline(.seconds(120), "verify of a silent consumer") {
            try await verify(scenarios, command: ["sleep", "60"], startupTimeout: .seconds(3))
        }
        #expect(!report.passed)
        let first = report.results[0].failures.joined(separator: "\n")
        #expect(first.contains("the consumer never called Port's API at all (it never became ready)"), "\(first)")
        #expect(
            report.results[1].failures == [
                "not run: the consumer never called Port's API within the 3s start-up allowance"
            ]
        )
        // That verify gave up at the 3 s allowance rather than waiting out `sleep 60` is what
        // the 30 s deadline above checks; the scenario's own time is the machine's business.
    }

    @Test("usage errors and bad scenario files get a clear message and a non-zero exit, never a crash")
    func badInput() async throws {
        let noCommand = try await runExecutable(Repository.binaries + "/port-emulator", ["verify"])
        #expect(noCommand.status == 64)
        #expect(noCommand.output.contains("give the consumer's command after --"))

        let directory = try Repository.temporaryDirectory()
        try Data(#"{"trigger":{"action":"create_vm"},"expect":{"status":"DONE"}}"#.utf8)
            .write(to: URL(fileURLWithPath: directory + "/bad.json"))
        let badScenario = try await runExecutable(
            Repository.binaries + "/port-emulator",
            ["verify", "--scenarios", directory, "--fixtures", Repository.fixtures, "--", "true"]
        )
        #expect(badScenario.status == 2)
        #expect(
            badScenario.output.contains("bad.json: expect.status must be SUCCESS, FAILURE or DECLINED"),
            "\(badScenario.output)"
        )

        let badChaos = try await runExecutable(
            Repository.binaries + "/port-emulator",
            [
                "verify", "--scenarios", Repository.scenarios, "--fixtures", Repository.fixtures, "--chaos", "tornado",
                "--", "true",
            ]
        )
        #expect(badChaos.status == 2)
        #expect(
            badChaos.output.contains("no chaos profile \"tornado\"; known: http-errors, kafka, reliability"),
            "\(badChaos.output)"
        )
    }

    @Test("every shipped scenario and chaos profile loads")
    func shippedFilesLoad() throws {
        let scenarios = try Scenario.load(directory: Repository.scenarios)
        #expect(scenarios.contains { $0.count == 200 })
        #expect(scenarios.contains { $0.approve == true })
        #expect(scenarios.contains { if case .unknownAction = $0.trigger { true } else { false } })
        #expect(scenarios.filter { if case .invocation = $0.trigger { true } else { false } }.count == 3)
        #expect(scenarios.contains { $0.expect.refusedStatus == 422 })
        for name in ["http-errors", "kafka", "reliability"] {
            let profile = try ChaosProfile.load(name, directory: Repository.fixtures + "/chaos")
            #expect(!profile.events.isEmpty)
        }
        let reliability = try ChaosProfile.load("reliability", directory: Repository.fixtures + "/chaos")
        #expect(reliability.events.filter { $0.action == .killConsumer }.count == 2)
    }

    @Test("the JUnit report escapes what it quotes and counts failures")
    func junitEscaping() throws {
        var report = VerifyReport()
        report.consumer = #"node "consumer.js" <dev>"#
        report.results = [
            ScenarioResult(
                name: "ok",
                description: "fine",
                expected: "SUCCESS ≤ 1s",
                got: "SUCCESS",
                duration: .milliseconds(120)
            ),
            ScenarioResult(
                name: "bad & worse",
                description: "broken",
                expected: "SUCCESS ≤ 1s",
                got: "IN_PROGRESS",
                duration: .seconds(1),
                failures: [#"run r_1 is IN_PROGRESS; last log: "<oops>""#]
            ),
        ]
        let xml = try XMLDocument(xmlString: report.junitXML)
        let suite = try #require(try xml.nodes(forXPath: "//testsuite").first as? XMLElement)
        #expect(suite.attribute(forName: "tests")?.stringValue == "2")
        #expect(suite.attribute(forName: "failures")?.stringValue == "1")
        let failure = try #require(try xml.nodes(forXPath: "//failure").first as? XMLElement)
        #expect(failure.attribute(forName: "message")?.stringValue == #"run r_1 is IN_PROGRESS; last log: "<oops>""#)
        #expect(report.table.contains("FAIL bad & worse: broken"))
        #expect(!report.passed)
    }
}

/// Runs an executable, returning its exit status and its stdout and stderr together.
func runExecutable(_ path: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
    let directory = try Repository.temporaryDirectory()
    let outputPath = directory + "/output.log"
    let child = try ChildProcess.spawn(
        [path] + arguments,
        environment: ProcessInfo.processInfo.environment,
        outputPath: outputPath
    )
    let termination = await child.wait()
    let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    return (termination.bySignal ? -termination.status : termination.status, output)
}
