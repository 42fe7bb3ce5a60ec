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

/// Every relative link in the README, the changelog, docs/ and fixtures/README.md leads to a file
/// or directory of the repository (relative to the linking file), and an `#anchor` into a
/// markdown file to one of its headings, by GitHub's slug. Links to `http(s):` and `mailto:`
/// addresses, and anything inside fenced code blocks, are not checked.
@Suite("The documentation's relative links", .timeLimit(.minutes(1)))
struct DocumentationLinkTests {
    /// The markdown files whose links are checked, relative to the repository's root.
    static func documents() throws -> [String] {
        let directory = Repository.root.appendingPathComponent("docs").path
        let docs = try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { $0.hasSuffix(".md") }.sorted().map { "docs/" + $0 }
        return ["README.md", "CHANGELOG.md", "fixtures/README.md"] + docs
    }

    /// The lines of a markdown text outside its fenced code blocks.
    static func prose(_ text: String) -> [Substring] {
        var lines: [Substring] = []
        var fenced = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.drop(while: { $0 == " " }).hasPrefix("```") {
                fenced.toggle()
                continue
            }
            if !fenced { lines.append(line) }
        }
        return lines
    }

    /// GitHub's anchor for a heading: lowercased, with only letters, digits, spaces, hyphens and
    /// underscores kept, and each space turned into a hyphen.
    static func slug(_ heading: some StringProtocol) -> String {
        let kept = heading.lowercased().filter { $0.isLetter || $0.isNumber || $0 == " " || $0 == "-" || $0 == "_" }
        return String(kept.map { $0 == " " ? Character("-") : $0 })
    }

    /// The anchors of a markdown text's headings (`#` to `######`, outside code blocks).
    static func anchors(of text: String) -> Set<String> {
        var found: Set<String> = []
        for line in prose(text) {
            let level = line.prefix { $0 == "#" }.count
            let rest = line.dropFirst(level)
            guard (1...6).contains(level), rest.first == " " else { continue }
            found.insert(slug(rest.trimmingCharacters(in: .whitespaces)))
        }
        return found
    }

    @Test("the slug of a heading is GitHub's")
    func slugs() {
        #expect(Self.slug("Port's `port-agent` in local mode") == "ports-port-agent-in-local-mode")
        #expect(Self.slug("`port-emulator verify -- COMMAND…`") == "port-emulator-verify----command")
        #expect(
            Self.slug("AWS Lambda backends: `serve --lambda`, `verify --lambda`")
                == "aws-lambda-backends-serve---lambda-verify---lambda"
        )
    }

    @Test("every relative link leads to a file or directory, and every anchor to a heading")
    func everyRelativeLinkResolves() throws {
        let link = try Regex(#"\]\(([^)\s]+)\)"#, as: (Substring, Substring).self)
        var checked = 0
        var broken: [String] = []
        for document in try Self.documents() {
            let url = Repository.root.appendingPathComponent(document)
            let text = try String(contentsOf: url, encoding: .utf8)
            for line in Self.prose(text) {
                for match in line.matches(of: link) {
                    let target = String(match.output.1)
                    if target.hasPrefix("http://") || target.hasPrefix("https://") || target.hasPrefix("mailto:") {
                        continue
                    }
                    checked += 1
                    let parts = target.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
                    let path = String(parts[0])
                    let anchor = parts.count > 1 ? String(parts[1]) : ""
                    let destination: URL
                    if path.isEmpty {
                        destination = url
                    } else {
                        destination = url.deletingLastPathComponent().appendingPathComponent(path).standardizedFileURL
                    }
                    guard FileManager.default.fileExists(atPath: destination.path) else {
                        broken.append("\(document): \(target): no such file or directory")
                        continue
                    }
                    guard !anchor.isEmpty, destination.pathExtension == "md" else { continue }
                    let linked = try String(contentsOf: destination, encoding: .utf8)
                    if !Self.anchors(of: linked).contains(anchor) {
                        broken.append("\(document): \(target): no heading with that anchor")
                    }
                }
            }
        }
        #expect(checked >= 50, "only \(checked) relative links found: is the pattern right?")
        #expect(broken.isEmpty, "broken links:\n\(broken.joined(separator: "\n"))")
    }
}
