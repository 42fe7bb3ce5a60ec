import Emulator
import Foundation
import PortContract
import TestSupport
import Testing

@Suite("The emulator's OpenAPI document at /openapi.json")
struct OpenAPITests {
    /// `GET /v1/actions/runs/{run_id}` and `GET /v1/actions/runs/:id` both become `GET /v1/actions/runs/{}`.
    static func shape(_ method: String, _ path: String) -> String {
        let segments = path.split(separator: "/").map { segment in
            segment.hasPrefix(":") || segment.hasPrefix("{") ? "{}" : String(segment)
        }
        return method.uppercased() + " /" + segments.joined(separator: "/")
    }

    @Test("it describes exactly the Port API routes the emulator serves")
    func describesExactlyTheServedRoutes() async throws {
        var configuration = EmulatorConfiguration()
        configuration.port = 0
        let emulator = try await PortEmulator.start(configuration: configuration, logger: quietLogger)
        defer { Task { await emulator.stop() } }
        let client = try EmulatorClient(url: emulator.info.apiBaseURL)
        let document = try await client.send("GET", "/openapi.json")
        #expect(document["openapi"]?.stringValue?.hasPrefix("3.") == true)
        var documented: Set<String> = []
        for (path, item) in document["paths"]?.objectValue ?? [:] {
            for (method, _) in item.objectValue ?? [:] { documented.insert(Self.shape(method, path)) }
        }
        let routes = try await client.send("GET", "/_emulator/routes")["routes"]?.arrayValue ?? []
        let served = Set(
            routes.compactMap { route -> String? in
                guard let path = route["path"]?.stringValue, path.hasPrefix("/v1/"),
                    let method = route["method"]?.stringValue
                else { return nil }
                return Self.shape(method, path)
            }
        )
        #expect(documented.count >= 26)
        #expect(documented.subtracting(served).isEmpty, "documented, not served: \(documented.subtracting(served))")
        #expect(served.subtracting(documented).isEmpty, "served, not documented: \(served.subtracting(documented))")
    }

    @Test("schemathesis fuzzes every operation from the document: no crash, no 5xx")
    func fuzzingFindsNoServerError() async throws {
        var configuration = EmulatorConfiguration()
        configuration.port = 0
        configuration.fixtures = try Fixtures.load(from: Repository.fixtures)
        let emulator = try await PortEmulator.start(configuration: configuration, logger: quietLogger)
        defer { Task { await emulator.stop() } }
        let base = emulator.info.apiBaseURL
        let token = try await EmulatorClient(url: base).accessToken()
        let output = try Repository.temporaryDirectory() + "/schemathesis.log"
        let child = try ChildProcess.spawn(
            [
                "schemathesis", "run", base + "/openapi.json", "--url", base, "-H", "Authorization: Bearer \(token)",
                // The fuzzing phase alone, two examples per operation: the suite runs it beside
                // timing-sensitive tests on two cores.
                "--checks", "not_a_server_error", "--phases", "fuzzing", "--max-examples", "2", "--no-color",
            ],
            environment: ProcessInfo.processInfo.environment,
            outputPath: output
        )
        let termination = try await withDeadline(.seconds(150), "schemathesis") { await child.wait() }
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        #expect(!termination.bySignal && termination.status == 0, "\(text.suffix(3000))")
        #expect(text.contains("Tested: 26"), "not every operation was fuzzed:\n\(text.suffix(1500))")
        #expect(!text.contains("FAILURES"), "\(text.suffix(3000))")
    }
}
