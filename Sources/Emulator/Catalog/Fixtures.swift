import Foundation
import PortContract

/// Blueprints and actions read from a fixtures directory:
/// `DIR/blueprints/*.json` and `DIR/actions/*.json`, each file one definition or a list.
public struct Fixtures: Sendable {
    /// The blueprints, in file-name order.
    public var blueprints: [Blueprint] = []
    /// The actions, in file-name order.
    public var actions: [ActionDefinition] = []

    /// No fixtures.
    public init() {}

    /// Reads `directory`; a missing directory, a file that is not JSON or a definition Port
    /// would refuse is an error naming the file and what is wrong.
    public static func load(from directory: String) throws(FixtureError) -> Fixtures {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw FixtureError(file: directory, reason: "no such directory")
        }
        var fixtures = Fixtures()
        fixtures.blueprints = try definitions(in: directory + "/blueprints") { (value) throws(PortError) in
            try Blueprint(definition: value)
        }
        fixtures.actions = try definitions(in: directory + "/actions") { (value) throws(PortError) in
            try ActionDefinition(definition: value)
        }
        return fixtures
    }

    private static func definitions<Definition>(
        in directory: String,
        _ read: (JSONValue) throws(PortError) -> Definition
    ) throws(FixtureError) -> [Definition] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        var definitions: [Definition] = []
        for name in names.sorted() where name.hasSuffix(".json") {
            let path = directory + "/" + name
            guard let data = FileManager.default.contents(atPath: path) else {
                throw FixtureError(file: path, reason: "cannot be read")
            }
            let document: JSONValue
            do {
                document = try JSONValue.parse(Array(data))
            } catch {
                throw FixtureError(file: path, reason: "not JSON: \(error.description)")
            }
            for (position, value) in (document.arrayValue ?? [document]).enumerated() {
                do {
                    definitions.append(try read(value))
                } catch {
                    let which = document.arrayValue == nil ? "" : " (item \(position))"
                    throw FixtureError(file: path, reason: "\(error.message)\(which)")
                }
            }
        }
        return definitions
    }
}

/// A fixture file the emulator cannot use.
public struct FixtureError: Error, Sendable, CustomStringConvertible {
    /// The file or directory.
    public let file: String
    /// What is wrong.
    public let reason: String

    /// `file: reason`.
    public var description: String { "\(file): \(reason)" }
}
