import ArgumentParser
import ChildProcesses
import Conformance
import Emulator
import Logging
import PortContract
import PortKafka
import ServiceLifecycle

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension PortEmulatorCommand {
    struct Trigger: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "trigger",
            abstract: "Trigger a run of an action on a running emulator and print its id; --wait follows it.",
            discussion: """
                The emulator is found through --url, else PORT_API_URL or PORT_API_BASE_URL (source \
                serve's --env-file), else http://127.0.0.1:5100. Credentials come from --client-id and \
                --client-secret, else PORT_CLIENT_ID and PORT_CLIENT_SECRET, else the emulator's defaults.

                Exit status: 0 when the run was created (with --wait: when it ended SUCCESS), 1 when it \
                ended FAILURE or DECLINED, 2 when --timeout passed first, 3 when the emulator refused \
                the request or could not be reached.
                """
        )

        @Argument(help: "The action's identifier, e.g. create_vm.")
        var action: String

        @Option(
            name: .customLong("input"),
            help: ArgumentHelp(
                "An input as NAME=VALUE; repeat for more. VALUE is read as JSON when it is JSON, else as text.",
                discussion: "--input cpu=2 gives a number, --input name=vm-1 a string, --input 'tags=[\"a\"]' a list.",
                valueName: "name=value"
            )
        )
        var inputs: [String] = []

        @Option(help: "The entity a DAY-2 or DELETE action acts on.")
        var entity: String?

        @Option(name: .customLong("as"), help: "The user the run is triggered as (an email).")
        var user: String?

        @Flag(help: "Follow the run: print status changes and logs until it finishes.")
        var wait = false

        @Option(help: "With --wait: how long to follow before giving up (exit 2): 500ms, 30s, 5m.")
        var timeout = "30s"

        @Option(help: "The emulator's API URL, with or without /v1.")
        var url: String?

        @Option(name: .customLong("client-id"), help: "The client id to authenticate with.")
        var clientID: String?

        @Option(name: .customLong("client-secret"), help: "The client secret to authenticate with.")
        var clientSecret: String?

        func validate() throws {
            guard DurationText.parse(timeout) != nil else {
                throw ValidationError("--timeout '\(timeout)' is not a duration; write e.g. 500ms, 30s or 5m")
            }
            _ = try parsedInputs()
        }

        /// `--input` values as JSON: JSON when they parse as JSON, text otherwise.
        func parsedInputs() throws -> JSONObject {
            var inputs = JSONObject()
            for pair in self.inputs {
                guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                    throw ValidationError("--input '\(pair)' is not NAME=VALUE")
                }
                let text = String(pair[pair.index(after: equals)...])
                inputs[String(pair[..<equals])] = (try? JSONValue.parse(text)) ?? .string(text)
            }
            return inputs
        }

        func run() async throws {
            let environment = ProcessInfo.processInfo.environment
            let target =
                url ?? environment["PORT_API_URL"] ?? environment["PORT_API_BASE_URL"] ?? "http://127.0.0.1:5100"
            do {
                var client = try EmulatorClient(url: target)
                client.clientID = clientID ?? environment["PORT_CLIENT_ID"] ?? client.clientID
                client.clientSecret = clientSecret ?? environment["PORT_CLIENT_SECRET"] ?? client.clientSecret
                let run = try await client.trigger(
                    action: action,
                    inputs: try parsedInputs(),
                    entity: entity,
                    user: user
                )
                let runID = run["id"]?.stringValue ?? ""
                say(runID)
                guard wait else { return }
                let limit = DurationText.parse(timeout) ?? .seconds(30)
                let final = try await client.follow(runID: runID, timeout: limit) { event in
                    switch event {
                    case .status(let status, let label): say("status \(status)" + (label.map { " (\($0))" } ?? ""))
                    case .log(let message): say("log    \(message)")
                    }
                }
                switch final {
                case "SUCCESS": return
                case nil:
                    writeToStandardError("port-emulator trigger: \(runID) did not finish within \(timeout)\n")
                    throw ExitCode(2)
                default: throw ExitCode(1)
                }
            } catch let error as EmulatorClientError {
                writeToStandardError("port-emulator trigger: \(error.message)\n")
                throw ExitCode(3)
            }
        }
    }
}

/// Sends every log line at `level` or above to stderr (stdout carries the ready line and
/// reports).
