import Consumer
import Emulator
import Foundation
import HTTPServer
import PortContract
import Synchronization
import TestSupport
import Testing

@Suite("Handler files, the token cache and the webhook handler", .serialized, .heavy, .timeLimit(.minutes(10)))
struct ConsumerHandlerTests {
    @Test("a YAML handler file reads like its JSON twin; a broken one is an error naming the file")
    func yamlHandlerFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("yaml-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("handlers.yaml").path
        try """
        actions:
          create_vm:
            command: ["./create_vm.sh"]
            timeout: 90s
          notify:
            webhook: https://hooks.example.com/port
        workflowNodes:
          provision:
            command: [./provision.sh, --fast]
        changeLog:
          vm:
            command: [./on_change.sh]
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let handlers = try HandlerFile.load(file, signingSecret: "s")
        #expect(Set(handlers.actions.keys) == ["create_vm", "notify"])
        #expect(Set(handlers.nodes.keys) == ["provision"])
        #expect(Set(handlers.changes.keys) == ["vm"])
        let broken = directory.appendingPathComponent("broken.yml").path
        try "actions: [unclosed".write(toFile: broken, atomically: true, encoding: .utf8)
        let error = #expect(throws: ConsumerConfiguration.Problem.self) {
            try HandlerFile.load(broken, signingSecret: "s")
        }
        #expect(error?.description.contains("broken.yml is not a YAML mapping") == true)
        let noCommand = directory.appendingPathComponent("empty.yaml").path
        try "actions:\n  x:\n    timeout: 5s\n".write(toFile: noCommand, atomically: true, encoding: .utf8)
        let missing = #expect(throws: ConsumerConfiguration.Problem.self) {
            try HandlerFile.load(noCommand, signingSecret: "s")
        }
        #expect(missing?.description.contains("actions.x needs") == true)
    }

    @Test("PortClient's methods are its own type: its API exposes no NIO type")
    func ownMethods() {
        // Before, send took NIOHTTP1's HTTPMethod, so callers depended on NIO unawares.
        let methods: [PortClient.Method] = PortClient.Method.allCases
        #expect(methods.map(\.rawValue) == ["GET", "POST", "PUT", "PATCH", "DELETE"])
    }

    @Test("a sub-second request timeout is kept: 950 ms answers in time, a 3 s answer times out")
    func subSecondTimeout() async throws {
        try await ConsumerHarness.run { harness in
            var retry = RetryPolicy()
            retry.maxAttempts = 1
            let client = PortClient(
                apiURL: harness.emulator.info.apiURL,
                clientID: harness.emulator.info.clientID,
                clientSecret: harness.emulator.info.clientSecret,
                retry: retry,
                requestTimeout: .milliseconds(950),
                logger: quietLogger
            )
            // Cut to whole seconds, 950 ms was 0: every call failed at once. One answer within
            // 950 ms shows it is not (a loaded machine may stall a single call past it).
            var answered = false
            var failures: [String] = []
            for _ in 0..<5 where !answered {
                do {
                    let organization = try await client.send(.GET, "/organization")
                    #expect(organization["organization"]?["id"] == "org_consumer")
                    answered = true
                } catch {
                    failures.append("\(error)")
                }
            }
            #expect(answered, "no call answered within 950 ms: \(failures)")
            try harness.emulator.faults.inject(
                try FaultInjector.fault(from: [
                    "latency": "3s", "method": "GET", "path": "/v1/organization", "count": 1,
                ])
            )
            await #expect(throws: (any Error).self, "the 3 s answer is past the 950 ms timeout") {
                _ = try await client.send(.GET, "/organization")
            }
            await client.shutdown()
        }
    }

    @Test("the token is reused until a minute before it expires, then fetched again")
    func tokenCache() async throws {
        try await ConsumerHarness.run { harness in
            let clock = TestClock()
            let client = PortClient(
                apiURL: harness.emulator.info.apiURL,
                clientID: harness.emulator.info.clientID,
                clientSecret: harness.emulator.info.clientSecret,
                refreshMargin: .seconds(60),
                now: { clock.now },
                logger: quietLogger
            )
            let first = try await client.accessToken()
            #expect(try await client.accessToken() == first)
            #expect(await client.tokensFetched == 1)
            clock.advance(by: 10_800 - 61)
            _ = try await client.accessToken()
            #expect(await client.tokensFetched == 1, "still more than a minute left")
            clock.advance(by: 2)
            _ = try await client.accessToken()
            #expect(await client.tokensFetched == 2)
            await client.shutdown()
        }
    }

    @Test("the webhook handler posts the invocation signed as Port signs it; 2xx is SUCCESS, else FAILURE")
    func webhook() async throws {
        try await ConsumerHarness.run { harness in
            let received = Mutex<[(body: [UInt8], timestamp: String?, signature: String?)]>([])
            let answer = Mutex(200)
            var router = HTTPRouter<BasicRequestContext>()
            router.addImmediate(.post, "/hook") { request in
                received.withLock {
                    $0.append((request.body, request.header("X-Port-Timestamp"), request.header("X-Port-Signature")))
                }
                return .json(status: answer.withLock { $0 }, bytes: Array(#"{"ok":true}"#.utf8))
            }
            var configuration = HTTPServer.Configuration()
            configuration.port = 0
            let receiver = try HTTPServer.start(configuration: configuration, router: router, logger: quietLogger)
            let client = harness.client()
            let secret = harness.emulator.info.clientSecret
            let runtime = RunRuntime(
                client: client,
                handlers: ["hook": WebhookHandler(url: receiver.baseURL + "/hook", signingSecret: secret).handler],
                logger: quietLogger
            )
            for (status, expected) in [(200, RunStatus.success), (500, .failure)] {
                answer.withLock { $0 = status }
                let run = harness.emulator.runs.create(NewRun(action: RunActionInfo(identifier: "hook")))
                let message = #"{"action":"hook","context":{"runId":"\#(run.id)"},"payload":{"properties":{"n":1}}}"#
                _ = try await runtime.handle(try InvocationParser.parse(Array(message.utf8)))
                #expect(try harness.emulator.runs.run(run.id).status == expected)
                let last = try #require(received.withLock { $0.last })
                let timestamp = try #require(last.timestamp)
                let text = String(decoding: last.body, as: UTF8.self)
                #expect(try JSONValue.parse(last.body) == (try JSONValue.parse(message)))
                #expect(last.signature == PortSignature.sign(text, secret: secret, timestamp: timestamp))
            }
            #expect(
                try harness.emulator.runs.logs(harness.emulator.runs.runs.last!.id).last?.message.contains(
                    "answered 500"
                )
                    == true
            )
            await receiver.stop()
            await client.shutdown()
        }
    }
}

/// A clock the test moves by hand.
final class TestClock: Sendable {
    private let current = Mutex(Date())
    var now: Date { current.withLock { $0 } }
    func advance(by seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
}
