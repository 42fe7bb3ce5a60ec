import Emulator
public import PortContract

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A chaos profile for `verify --chaos`: faults injected on a schedule while the scenarios
/// run, and SIGKILLs of the consumer (which `verify` then restarts).
///
/// A profile is a JSON file: `{"description": "…", "events": [EVENT…]}`, where an event is
/// `{"fault": FAULT, "at"?: "4s", "every"?: "5s"}` (FAULT is the body of
/// `POST /_emulator/faults`) or `{"killConsumer": true, "at": "3s"}`. Times count from the
/// moment the consumer is ready; `every` repeats until the scenarios end.
public struct ChaosProfile: Sendable {
    /// One scheduled event.
    public struct Event: Sendable, Equatable {
        /// What happens.
        public enum Action: Sendable, Equatable {
            /// A fault is injected (the admin API's JSON).
            case fault(JSONValue)
            /// The consumer is killed with SIGKILL, then restarted.
            case killConsumer
        }

        /// What happens.
        public var action: Action
        /// When it first happens, from the start of the scenarios.
        public var at: Duration
        /// How often it happens again, if it repeats.
        public var every: Duration?
    }

    /// The profile's name (its file name without `.json`).
    public var name: String
    /// What it does, in a sentence.
    public var description: String
    /// Its events.
    public var events: [Event]

    /// The profile `nameOrPath` names: a JSON file, or `DIRECTORY/NAME.json` in `directory`
    /// (the fixtures' `chaos/` folder).
    public static func load(_ nameOrPath: String, directory: String?) throws(ScenarioError) -> ChaosProfile {
        var path = nameOrPath
        if !FileManager.default.fileExists(atPath: path), let directory {
            path = joinPath(directory, "\(nameOrPath).json")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            let known =
                directory.flatMap { try? FileManager.default.contentsOfDirectory(atPath: $0) }?
                .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted() ?? []
            throw ScenarioError(
                message: "no chaos profile \"\(nameOrPath)\""
                    + (known.isEmpty ? "" : "; known: \(known.joined(separator: ", "))")
            )
        }
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        do {
            return try ChaosProfile(name: name, json: try JSONValue.parse(Array(data)))
        } catch let error as ScenarioError {
            throw ScenarioError(message: "\(path): \(error.message)")
        } catch {
            throw ScenarioError(message: "\(path): not valid JSON: \(error)")
        }
    }

    /// Reads a profile from its JSON document.
    public init(name: String, json: JSONValue) throws(ScenarioError) {
        guard let object = json.objectValue, let events = object["events"]?.arrayValue else {
            throw ScenarioError(message: "a chaos profile is an object with an events array")
        }
        self.name = name
        description = object["description"]?.stringValue ?? name
        self.events = try events.map { (event) throws(ScenarioError) in
            guard let fields = event.objectValue else { throw ScenarioError(message: "events[] must be objects") }
            let unknown = fields.keys.filter { !["fault", "killConsumer", "at", "every"].contains($0) }
            guard unknown.isEmpty else {
                throw ScenarioError(message: "events[] has unknown field(s) \(unknown.joined(separator: ", "))")
            }
            let action: Event.Action
            if let fault = fields["fault"] {
                do throws(PortError) { _ = try FaultInjector.fault(from: fault) } catch {
                    throw ScenarioError(message: "events[].fault: \(error.message)")
                }
                action = .fault(fault)
            } else if fields["killConsumer"] == .bool(true) {
                action = .killConsumer
            } else {
                throw ScenarioError(message: "events[] needs fault or killConsumer: true")
            }
            let at = try Self.duration(fields["at"], "at") ?? .zero
            let every = try Self.duration(fields["every"], "every")
            if let every, every < .milliseconds(100) {
                throw ScenarioError(message: "events[].every must be at least 100ms")
            }
            return Event(action: action, at: at, every: every)
        }
    }

    private static func duration(_ value: JSONValue?, _ field: String) throws(ScenarioError) -> Duration? {
        guard let value else { return nil }
        guard let text = value.stringValue, let duration = DurationText.parse(text) else {
            throw ScenarioError(message: "events[].\(field) must be a duration such as \"5s\"")
        }
        return duration
    }
}
