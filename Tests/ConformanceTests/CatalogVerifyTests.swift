import Conformance
import Emulator
import Foundation
import PortContract
import TestSupport
import Testing

/// A Python consumer (confluent-kafka) that works with Port's catalog, driven end to end by
/// `port-emulator verify`: it finds a service's environment through Port's searches and
/// records a deployment related to both (`CatalogFixtures/`, `Consumers/catalog_consumer.py`).
@Suite(
    "verify drives a Python consumer that searches the catalog and writes related entities",
    .heavy,
    .timeLimit(.minutes(10))
)
struct CatalogVerifyTests {
    /// The fixtures of these tests: blueprints `environment`, `service` and `deployment`,
    /// actions `record_deployment` and `record_deployment_broken`, and their scenarios.
    static let fixtures = Repository.root.appendingPathComponent("Tests/ConformanceTests/CatalogFixtures").path
    /// The scenarios: `01_record_deployment` passes, `02_record_deployment_broken` fails.
    static let scenarios = fixtures + "/scenarios"
    /// The consumer under test.
    static let consumer = Repository.root.appendingPathComponent("Tests/ConformanceTests/Consumers/catalog_consumer.py")
        .path
    /// What the consumer prints once it has joined its group.
    static let readyLog = "assigned [0-9]+ partitions"

    /// Runs `port-emulator verify` over `CatalogFixtures` with the Python consumer; returns
    /// its exit status and output, the JSON report and the consumer's log.
    static func verify(
        only: String?
    ) async throws -> (
        status: Int32, output: String, report: JSONValue, consumerLog: String
    ) {
        let directory = try Repository.temporaryDirectory()
        var arguments = [
            "verify", "--fixtures", fixtures, "--scenarios", scenarios, "--json", directory + "/report.json",
            "--consumer-log", directory + "/consumer.log", "--ready-log", readyLog,
        ]
        if let only { arguments += ["--only", only] }
        let (status, output) = try await runExecutable(
            Repository.binaries + "/port-emulator",
            arguments + ["--", "python3", consumer]
        )
        let report = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/report.json"))))
        let log = (try? String(contentsOfFile: directory + "/consumer.log", encoding: .utf8)) ?? ""
        return (status, output, report, log)
    }

    @Test("setup entities carry relations: the scenarios load them, and a relations field that is no object is refused")
    func setupRelationsLoad() throws {
        let scenarios = try Scenario.load(directory: Self.scenarios)
        #expect(scenarios.map(\.name) == ["01_record_deployment", "02_record_deployment_broken"])
        for scenario in scenarios {
            #expect(scenario.setup.map(\.identifier) == ["prod", "payments"])
            #expect(scenario.setup.first?.relations == [:])
            #expect(scenario.setup.last?.relations == ["environment": "prod"])
        }
        let error = #expect(throws: ScenarioError.self) {
            try scenario(
                "bad",
                #"""
                {"setup":{"entities":[{"blueprint":"service","identifier":"a","relations":"prod"}]},
                 "trigger":{"action":"record_deployment","entity":"a"},"expect":{"status":"SUCCESS"}}
                """#
            )
        }
        #expect(error?.message == "setup.entities[].relations must be an object: {relation: identifier}")
    }

    @Test(
        "record_deployment: the consumer searches, creates the deployment related to service and environment, and passes"
    )
    func recordDeploymentPasses() async throws {
        let (status, output, report, log) = try await Self.verify(only: "01_record_deployment")
        #expect(status == 0, "\(output)\n\(log)")
        #expect(output.contains("PASS  01_record_deployment"), "\(output)")
        #expect(output.contains("1 of 1 scenarios passed"), "\(output)")

        #expect(report["passed"] == true)
        let results = try #require(report["results"]?.arrayValue)
        #expect(results.count == 1)
        let result = try #require(results.first)
        #expect(result["name"] == "01_record_deployment")
        #expect(result["got"] == "SUCCESS")
        #expect(result["violations"]?.arrayValue?.isEmpty == true, "\(result)")
        #expect(result["failures"]?.arrayValue?.isEmpty == true, "\(result)")
        #expect(result["statistics"]?["statuses"]?["SUCCESS"]?.intValue == 1)
        // The JSON report names no entities: the scenario's `entities.created` (the judge found
        // deployment/payments-2.5.0 among the run's affected entities, written with run_id)
        // and its `summary` (built by the consumer from the deployment as Port stored it,
        // read back after the write) are what passed. The consumer's own line says the same.
        #expect(
            log.contains("SUCCESS: deployment payments-2.5.0 recorded: service payments, environment prod"),
            "\(log)"
        )
    }

    @Test("record_deployment_broken: the 404 not_found of the refused write fails verify, named in both reports")
    func brokenDeploymentFails() async throws {
        let (status, output, report, log) = try await Self.verify(only: nil)
        #expect(status == 1, "\(output)\n\(log)")
        #expect(output.contains("PASS  01_record_deployment"), "\(output)")
        #expect(output.contains("FAIL  02_record_deployment_broken"), "\(output)")
        #expect(output.contains("1 of 2 scenarios passed"), "\(output)")
        let refusal =
            #"contract violation: POST /v1/blueprints/deployment/entities → 404 not_found (rule related-entity-exists): "#
            + #"Related entity with identifier "nowhere" was not found in blueprint "environment" (relation "environment")"#
        #expect(output.contains(refusal), "\(output)")

        #expect(report["passed"] == false)
        #expect(report["failed"]?.intValue == 1)
        let results = try #require(report["results"]?.arrayValue)
        let good = try #require(results.first { $0["name"] == "01_record_deployment" })
        #expect(good["passed"] == true, "\(good)")
        let broken = try #require(results.first { $0["name"] == "02_record_deployment_broken" })
        #expect(broken["passed"] == false)
        // The run ended as the scenario expects: the violation alone fails it.
        #expect(broken["got"] == "FAILURE")
        let failures = broken["failures"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(failures.count == 1, "\(failures)")
        #expect(failures.first?.hasPrefix(refusal) == true, "\(failures)")
        let violations = broken["violations"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(violations.count == 1, "\(violations)")
        #expect(violations.first?.contains("404 not_found (rule related-entity-exists)") == true, "\(violations)")
        #expect(broken["statistics"]?["violationsByRule"]?["related-entity-exists"]?.intValue == 1)
        #expect(log.contains("FAILURE: deployment payments-2.5.1 not recorded (404 not_found)"), "\(log)")
    }

    @Test("the deployment Port stores relates to the service and its environment (verify against a running emulator)")
    func storedDeploymentHasBothRelations() async throws {
        var configuration = EmulatorConfiguration()
        configuration.port = 0
        configuration.fixtures = try Fixtures.load(from: Self.fixtures)
        let (report, stored, search) = try await PortEmulator.withRunning(
            configuration: configuration,
            logger: quietLogger
        ) { emulator in
            let directory = try Repository.temporaryDirectory()
            let consumer = ConsumerProcess(
                command: ["python3", Self.consumer],
                environment: Verifier.consumerEnvironment(emulator.info),
                logPath: directory + "/consumer.log"
            )
            try consumer.start()
            var options = Verifier.Options(
                scenarios: try Scenario.load(directory: Self.scenarios).filter { $0.name == "01_record_deployment" }
            )
            options.against = emulator.info.apiBaseURL
            let report = try await Verifier(options: options, logger: quietLogger) { _ in }.run()
            await consumer.stop(grace: .seconds(10))

            // Read before the emulator stops; judged after (a failed read is a nil answer). The
            // search: deployments related to prod and to payments, `downstream` of them (what
            // points to the named entities).
            let client = try EmulatorClient(url: emulator.info.apiBaseURL)
            let token = try? await client.accessToken()
            let stored = try? await client.call(
                "GET",
                "/v1/blueprints/deployment/entities/payments-2.5.0",
                token: token
            )
            let search = try? await client.call(
                "POST",
                "/v1/blueprints/deployment/entities/search",
                body: [
                    "query": [
                        "combinator": "and",
                        "rules": [
                            [
                                "operator": "relatedTo", "blueprint": "environment", "value": "prod",
                                "direction": "downstream",
                            ],
                            [
                                "operator": "relatedTo", "blueprint": "service", "value": "payments",
                                "direction": "downstream",
                            ],
                        ],
                    ]
                ],
                token: token
            )
            return (report, stored, search)
        }
        #expect(report.passed, "\(report.table)")
        #expect(stored?.status == 200, "\(String(describing: stored))")
        let entity = try #require(stored?.json?["entity"])
        #expect(entity["relations"]?["service"] == "payments", "\(entity)")
        #expect(entity["relations"]?["environment"] == "prod", "\(entity)")
        #expect(entity["properties"]?["version"] == "2.5.0", "\(entity)")
        #expect(search?.status == 200, "\(String(describing: search))")
        let found = search?.json?["entities"]?.arrayValue?.compactMap { $0["identifier"]?.stringValue }
        #expect(found == ["payments-2.5.0"], "\(String(describing: search))")
    }
}
