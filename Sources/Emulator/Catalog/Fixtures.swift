public import PortContract

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Definitions read from a fixtures directory: `DIR/blueprints/*.json`,
/// `DIR/actions/*.json`, `DIR/workflows/*.json`, `DIR/teams/*.json`, `DIR/users/*.json` and
/// `DIR/scorecards/*.json` (each file one definition or a list), `DIR/entities/*.json` (each
/// file a list of entities, each naming its `blueprint`, or of the blueprint the file is
/// named after), and `DIR/invocations/*.json` (each file one message, published as it is on
/// request). `port-emulator import` writes this layout.
public struct Fixtures: Sendable {
    /// The blueprints, in file-name order.
    public var blueprints: [Blueprint] = []
    /// The actions, in file-name order.
    public var actions: [ActionDefinition] = []
    /// Raw invocation messages by name (the file name without `.json`).
    public var invocations: [String: JSONValue] = [:]
    /// Workflows (`DIR/workflows/*.json`), in file-name order.
    public var workflows: [WorkflowDefinition] = []
    /// Teams (`DIR/teams/*.json`) as Port's `POST /v1/teams` takes them, in file-name order.
    public var teams: [JSONValue] = []
    /// Users (`DIR/users/*.json`) as Port's invite takes them (`email`, `roles`, `teams`,
    /// `firstName`, `lastName`), in file-name order.
    public var users: [JSONValue] = []
    /// Scorecards (`DIR/scorecards/*.json`), each with its `blueprint`, in file-name order.
    public var scorecards: [JSONValue] = []
    /// Entities (`DIR/entities/*.json`), each with its `blueprint`, in file-name order.
    public var entities: [JSONValue] = []

    /// No fixtures.
    public init() {}

    /// Reads `directory`; a missing directory, a file that is not JSON or a definition Port
    /// would refuse is an error naming the file and what is wrong.
    public static func load(from directory: String) throws(FixtureError) -> Fixtures {
        guard isDirectory(directory) else {
            throw FixtureError(file: directory, reason: "no such directory")
        }
        var fixtures = Fixtures()
        fixtures.blueprints = try definitions(in: directory + "/blueprints") { (value) throws(PortError) in
            try PortRequestSchemas.blueprint(from: value)
        }
        fixtures.actions = try definitions(in: directory + "/actions") { (value) throws(PortError) in
            try ActionDefinition(definition: value)
        }
        fixtures.workflows = try definitions(in: directory + "/workflows") { (value) throws(PortError) in
            try WorkflowDefinition(definition: value)
        }
        fixtures.teams = try definitions(in: directory + "/teams") { (value) throws(PortError) in value }
        fixtures.users = try definitions(in: directory + "/users") { (value) throws(PortError) in value }
        fixtures.scorecards = try definitions(in: directory + "/scorecards") { (value) throws(PortError) in value }
        for (name, document) in try documents(in: directory + "/entities") {
            for value in document.arrayValue ?? [document] {
                guard var entity = value.objectValue else {
                    throw FixtureError(file: "\(directory)/entities/\(name).json", reason: "an entity is not an object")
                }
                if entity["blueprint"] == nil { entity["blueprint"] = .string(name) }
                fixtures.entities.append(.object(entity))
            }
        }
        for (name, message) in try documents(in: directory + "/invocations") {
            guard RawInvocation.runID(of: message) != nil else {
                throw FixtureError(
                    file: "\(directory)/invocations/\(name).json",
                    reason: "no run id at context.runId or payload.context.runId"
                )
            }
            fixtures.invocations[name] = message
        }
        return fixtures
    }

    /// The JSON files of a directory, by name without `.json`, in name order.
    private static func documents(in directory: String) throws(FixtureError) -> [(name: String, value: JSONValue)] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        var documents: [(name: String, value: JSONValue)] = []
        for name in names.sorted() where name.hasSuffix(".json") {
            let path = directory + "/" + name
            guard let data = FileManager.default.contents(atPath: path) else {
                throw FixtureError(file: path, reason: "cannot be read")
            }
            do {
                documents.append((String(name.dropLast(5)), try JSONValue.parse(Array(data))))
            } catch {
                throw FixtureError(file: path, reason: "not JSON: \(error.description)")
            }
        }
        return documents
    }

    private static func definitions<Definition>(
        in directory: String,
        _ read: (JSONValue) throws(PortError) -> Definition
    ) throws(FixtureError) -> [Definition] {
        var definitions: [Definition] = []
        for (name, document) in try documents(in: directory) {
            let path = "\(directory)/\(name).json"
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
