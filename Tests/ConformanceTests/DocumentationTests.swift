import ChildProcesses
import Emulator
import Foundation
import PortContract
import TestSupport
import Testing

/// The configuration reference, docs/configuration.md, must list what the executables accept:
/// every option their `--help` prints and every variable they read or write.
@Suite("The configuration reference (docs/configuration.md)", .heavy, .timeLimit(.minutes(10)))
struct DocumentationTests {
    /// docs/configuration.md, the whole file.
    static func reference() throws -> String {
        try String(contentsOf: Repository.root.appendingPathComponent("docs/configuration.md"), encoding: .utf8)
    }

    /// What `command --help` prints.
    static func help(_ arguments: [String]) async throws -> String {
        let output = try Repository.temporaryDirectory() + "/help.txt"
        let child = try ChildProcess.spawn(
            [Repository.binaries + "/" + arguments[0]] + arguments.dropFirst() + ["--help"],
            environment: ["PATH": "/usr/bin:/bin"],
            outputPath: output
        )
        let termination = try await withDeadline(.seconds(30), "\(arguments) --help") { await child.wait() }
        #expect(termination.status == 0)
        return try String(contentsOfFile: output, encoding: .utf8)
    }

    /// The long options in a help text's OPTIONS list, without `--help`.
    static func options(in help: String) -> Set<String> {
        var found: Set<String> = []
        for line in help.split(separator: "\n") {
            let trimmed = line.drop { $0 == " " }
            guard line.hasPrefix("  "), trimmed.hasPrefix("--") || trimmed.hasPrefix("-h,") else { continue }
            // The option is the line's first word (`-h, --help` has it second).
            let words = trimmed.split(separator: " ")
            guard let word = words.first(where: { $0.hasPrefix("--") }), words.first == word || words.first == "-h,"
            else { continue }
            let name = word.prefix { $0 != "," && $0 != "<" && $0 != "=" }
            if name != "--help" { found.insert(String(name)) }
        }
        return found
    }

    @Test(
        "every option of serve, trigger, verify, import and port-consumer is in the reference",
        arguments: [
            ["port-emulator", "serve"], ["port-emulator", "trigger"], ["port-emulator", "verify"],
            ["port-emulator", "import"], ["port-consumer"],
        ]
    )
    func everyOptionIsListed(command: [String]) async throws {
        let reference = try Self.reference()
        let options = Self.options(in: try await Self.help(command))
        #expect(options.count >= 3, "\(command): no options read from --help")
        let missing = options.filter { !reference.contains("`\($0)") }.sorted()
        #expect(missing.isEmpty, "\(command.joined(separator: " ")): not in docs/configuration.md: \(missing)")
    }

    @Test("every variable port-consumer reads, and every one the env file writes, is in the reference")
    func everyVariableIsListed() async throws {
        let reference = try Self.reference()
        let help = try await Self.help(["port-consumer"])
        let pattern = try Regex(#"\b(?:PORT|KAFKA)_[A-Z_]+[A-Z]\b"#)
        let read = Set(help.matches(of: pattern).map { String(help[$0.range]) })
        #expect(read.count >= 15, "\(read)")
        let unlisted = read.filter { !reference.contains("`\($0)") }.sorted()
        #expect(unlisted.isEmpty, "port-consumer reads these, the reference does not list them: \(unlisted)")

        var configuration = EmulatorConfiguration()
        configuration.port = 0
        try await PortEmulator.withRunning(configuration: configuration, logger: quietLogger) { emulator in
            let written = emulator.info.environment.map(\.key)
            #expect(written.contains("USING_LOCAL_PORT_INSTANCE"))
            let undocumented = written.filter { !reference.contains("`\($0)") }
            #expect(
                undocumented.isEmpty,
                "the env file writes these, docs/configuration.md does not name them: \(undocumented)"
            )
        }
    }
}
