import Emulator
package import PortContract

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One file to write: its name's parts (an identifier, a team's name, a user's email, or a
/// scorecard's blueprint and identifier) and its content.
struct FixtureDocument: Sendable {
    /// The parts of the file's name, before escaping; joined with `.`.
    let name: [String]
    /// The content.
    let value: JSONValue
}

/// Writes imported documents as a fixtures directory: readable files, safe names, no
/// secret, and only what `serve` loads.
///
/// Everything is written to a staging directory inside the output first (hidden, so no
/// loader reads it), loaded there with `Fixtures.load` and `Catalog` as `serve` would, and
/// only then moved into place: each kind's directory replaces the one before it. A refusal
/// leaves the output as it was.
struct FixtureWriter {
    let output: String
    /// Strings no written file may contain (the client secret, the access token).
    let secrets: [String]

    /// Secrets shorter than this are not looked for in the files (every file would match).
    static let minimumSecretLength = 8

    /// Refuses an output that is a file, or a non-empty directory without `force`.
    static func checkOutput(_ output: String, force: Bool) throws(ImportError) {
        guard FileManager.default.fileExists(atPath: output) else { return }
        guard isDirectory(output) else { throw ImportError("--output \(output) is a file, not a directory") }
        let entries: [String]
        do {
            entries = try FileManager.default.contentsOfDirectory(atPath: output)
        } catch {
            throw ImportError("--output \(output) cannot be read: \(describeError(error))")
        }
        guard entries.isEmpty || force else {
            throw ImportError(
                "--output \(output) is not empty; pass --force to replace its "
                    + ImportKind.allCases.map { "\($0.rawValue)/" }.joined(separator: ", ") + " (other files stay)"
            )
        }
    }

    /// Writes `documents`: each kind present replaces its directory in the output.
    func write(_ documents: [ImportKind: [FixtureDocument]]) throws(ImportError) {
        var rendered: [(kind: ImportKind, files: [(name: String, text: String)])] = []
        for kind in documents.keys.sorted() {
            var names = FileNames()
            let files = (documents[kind] ?? []).map { document in
                (names.unique(document.name), document.value.prettyText)
            }
            rendered.append((kind, files))
        }
        try checkSecrets(rendered)
        let fileManager = FileManager.default
        let staging = output + "/.port-emulator-import-" + UUID().uuidString
        do {
            try fileManager.createDirectory(atPath: staging, withIntermediateDirectories: true)
        } catch {
            throw ImportError("cannot create \(output): \(describeError(error))")
        }
        defer { try? fileManager.removeItem(atPath: staging) }
        do {
            for (kind, files) in rendered where !files.isEmpty {
                let directory = staging + "/" + kind.rawValue
                try fileManager.createDirectory(atPath: directory, withIntermediateDirectories: true)
                for (name, text) in files {
                    try Data(text.utf8).write(to: URL(fileURLWithPath: directory + "/" + name))
                }
            }
        } catch {
            throw ImportError("cannot write into \(output): \(describeError(error))")
        }
        try check(staging)
        do {
            for (kind, files) in rendered {
                let target = output + "/" + kind.rawValue
                if fileManager.fileExists(atPath: target) { try fileManager.removeItem(atPath: target) }
                if !files.isEmpty { try fileManager.moveItem(atPath: staging + "/" + kind.rawValue, toPath: target) }
            }
        } catch {
            throw ImportError("cannot write into \(output): \(describeError(error))")
        }
    }

    /// Refuses to write when a secret appears in a file (as it is, or escaped in JSON).
    private func checkSecrets(
        _ rendered: [(kind: ImportKind, files: [(name: String, text: String)])]
    ) throws(ImportError) {
        let forms = secrets.filter { $0.count >= Self.minimumSecretLength }.flatMap { secret in
            [secret, String(JSONValue.string(secret).compactText.dropFirst().dropLast())]
        }
        for (kind, files) in rendered {
            for (name, text) in files where forms.contains(where: { text.contains($0) }) {
                throw ImportError(
                    "\(kind.rawValue)/\(name) would contain the client secret or the access token; nothing written"
                )
            }
        }
    }

    /// Loads the staged directory as `serve --fixtures` does.
    private func check(_ staging: String) throws(ImportError) {
        do {
            _ = try Catalog(fixtures: try Fixtures.load(from: staging))
        } catch let error as FixtureError {
            let file = error.file.replacing(staging + "/", with: "")
            throw ImportError("serve would refuse what Port answered, so nothing was written: \(file): \(error.reason)")
        } catch let error as PortError {
            throw ImportError("serve would refuse what Port answered, so nothing was written: \(error.message)")
        } catch {
            throw ImportError("serve would refuse what Port answered, so nothing was written: \(error)")
        }
    }
}

/// File names from identifiers, names and emails: readable where they can be, never a path,
/// hidden, too long, or the same as another (also where case is ignored, as on macOS).
package struct FileNames: Sendable {
    private var used: Set<String> = []

    /// No name used yet.
    package init() {}

    /// Bytes kept as they are; every other byte is `%XX`.
    private static let kept = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.@+=".utf8)
    /// Longer names (before `.json`) are cut and given a hash of the whole.
    package static let maximumLength = 200

    /// The escaped parts joined with `.`, unique among this directory's names, with `.json`.
    package mutating func unique(_ parts: [String]) -> String {
        var name = parts.map(Self.escape).joined(separator: ".")
        if name.utf8.count > Self.maximumLength {
            name = String(name.prefix(Self.maximumLength - 20)) + "~" + Self.hash(name)
        }
        var candidate = name
        var suffix = 2
        while !used.insert(candidate.lowercased()).inserted {
            candidate = name + "~\(suffix)"
            suffix += 1
        }
        return candidate + ".json"
    }

    /// `text` with every byte outside letters, digits and `-_.@+=` as `%XX`, and a leading
    /// `.` too (no hidden files, no `.` or `..`).
    package static func escape(_ text: String) -> String {
        var escaped = ""
        for (position, byte) in text.utf8.enumerated() {
            if kept.contains(byte), !(position == 0 && byte == UInt8(ascii: ".")) {
                escaped.append(Character(Unicode.Scalar(byte)))
            } else {
                escaped += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return escaped.isEmpty ? "%00" : escaped
    }

    /// FNV-1a, 64 bits, in hex: a short stable tag of a long name.
    private static func hash(_ text: String) -> String {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value = value &* 0x100_0000_01b3
        }
        return String(value, radix: 16).leftPadded(to: 16)
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

extension JSONValue {
    /// Two-space indented JSON with object keys sorted (by their UTF-8 bytes) and a final
    /// newline, so that two imports diff line by line.
    package var prettyText: String {
        var text = ""
        writePretty(to: &text, indent: "")
        return text + "\n"
    }

    private func writePretty(to text: inout String, indent: String) {
        let inner = indent + "  "
        switch self {
        case .array(let items) where !items.isEmpty:
            text += "[\n"
            for (position, item) in items.enumerated() {
                text += inner
                item.writePretty(to: &text, indent: inner)
                text += position == items.count - 1 ? "\n" : ",\n"
            }
            text += indent + "]"
        case .object(let object) where !object.isEmpty:
            text += "{\n"
            let keys = object.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (position, key) in keys.enumerated() {
                text += inner + JSONValue.string(key).compactText + ": "
                object[key]!.writePretty(to: &text, indent: inner)
                text += position == keys.count - 1 ? "\n" : ",\n"
            }
            text += indent + "}"
        default:
            text += compactText
        }
    }
}
