import ArgumentParser
import ChildProcesses
import PortContract

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension PortEmulatorCommand {
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Read an organization's definitions from Port's API and write them as a fixtures directory.",
            discussion: """
                With the organization's credentials, import reads blueprints (GET /v1/blueprints), \
                actions and automations (GET /v1/actions), teams, users and scorecards (GET \
                /v1/teams, /v1/users, /v1/scorecards; a Port that answers 404 gets a note and is \
                skipped) and, with --entities, every entity of every blueprint (POST \
                /v1/blueprints/{bp}/entities/search, page by page), and writes them into --output \
                as `port-emulator serve --fixtures DIR` loads them: blueprints/<identifier>.json, \
                actions/<identifier>.json (automations too), teams/<name>.json, users/<email>.json, \
                scorecards/<blueprint>.<identifier>.json and entities/<blueprint>.json (a list). \
                Files are pretty-printed with sorted keys, so two imports diff line by line; \
                characters unsafe in a file name are written %XX.

                What Port manages is left out: createdAt, createdBy, updatedAt, updatedBy, ids, \
                and entities' computed properties (calculation, mirror, aggregation: serve \
                computes them). Port's system blueprints (_user, _team, ...) are skipped, with the \
                relations, mirror and aggregation properties that lead to them, and the actions \
                and scorecards on them; each skip is a line on stderr. Before anything lands in \
                --output the files are loaded as serve loads them; a refusal writes nothing.

                Secrets are never written: not the client secret, not the access token (a file \
                that would contain either stops the import), and not the organization's secrets, \
                which are not read. Payload templates keep `{{ .secrets.NAME }}` as references: give \
                serve their values with --secret NAME=VALUE or --secrets-file.

                Progress goes to stderr, one line per kind (`blueprints: 4`, `entities of \
                service: 120`), and the summary to stdout. Exit status: 0 written, 1 failed \
                (refused credentials, an unreachable API, an answer that is not Port's, a \
                non-empty --output without --force), with one line saying why; 64 a usage error \
                (no --output, an unknown flag).
                """
        )

        @OptionGroup
        var options: ImportOptions

        func run() async throws {
            do {
                let settings = try options.settings(environment: ProcessInfo.processInfo.environment)
                let summary = try await PortImport(
                    settings: settings,
                    transport: HTTPPortTransport(baseURL: settings.apiURL),
                    progress: { writeToStandardError("\($0)\n") }
                ).run()
                say(summary.line)
            } catch {
                writeToStandardError("port-emulator import: \(error.message)\n")
                throw ExitCode(1)
            }
        }
    }
}
