import Emulator
public import PortContract

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One conformance scenario (`fixtures/scenarios/*.json`): what to trigger, the faults to
/// inject while it runs, and what must happen.
public struct Scenario: Sendable {
    /// How the scenario starts its runs.
    public enum Trigger: Sendable, Equatable {
        /// `POST /v1/actions/{action}/runs`, as a user's click in Port.
        case action(String, inputs: JSONObject, entity: String?, user: String?)
        /// A raw invocation fixture, published byte for byte (`fixtures/invocations/NAME.json`).
        case invocation(String)
        /// A run of an action Port's catalog (and so the consumer) does not know, published
        /// in the legacy format through the admin API.
        case unknownAction(String, inputs: JSONObject)
        /// The run an automation creates for what `cause` does; that run is the one judged.
        case automation(String, cause: AutomationCause)
    }

    /// What makes an automation fire, done in this order: an entity upserted through Port's
    /// API, an action's run triggered (its own run is not judged), the emulator's clock moved.
    public struct AutomationCause: Sendable, Equatable {
        /// An entity to upsert (`POST …/entities?upsert=true`).
        public var upsert: SetupEntity?
        /// An action to trigger, with its inputs and entity.
        public var action: String?
        /// The action's inputs.
        public var inputs: JSONObject = [:]
        /// The action's entity.
        public var entity: String?
        /// The body of `POST /_emulator/clock`: `{"advance": "2h"}` or `{"set": "<ISO-8601>"}`.
        public var clock: JSONValue?
    }

    /// An entity that must exist before the trigger (for DAY-2 and DELETE actions).
    public struct SetupEntity: Sendable, Equatable {
        /// Its blueprint.
        public var blueprint: String
        /// Its identifier.
        public var identifier: String
        /// Its properties.
        public var properties: JSONObject
        /// Its relations (`{relation: identifier}` or `{relation: [identifiers]}`), sent as
        /// they are: the related entities must exist (set them up first).
        public var relations: JSONObject = [:]

        /// The body of `POST /v1/blueprints/{blueprint}/entities?upsert=true` for it.
        var upsertBody: JSONValue {
            var body: JSONObject = ["identifier": .string(identifier), "properties": .object(properties)]
            if !relations.isEmpty { body["relations"] = .object(relations) }
            return .object(body)
        }
    }

    /// An entity a run must have created, updated or deleted, with `run_id`.
    public struct EntityChangeExpectation: Sendable, Equatable {
        /// `created`, `updated` or `deleted`.
        public var kind: String
        /// The entity's blueprint.
        public var blueprint: String
        /// The entity's identifier.
        public var identifier: String
    }

    /// What must happen.
    public struct Expectation: Sendable, Equatable {
        /// Port refuses the trigger with this status (and error code, if set); no run exists.
        public var refusedStatus: Int?
        /// The error code of the refusal.
        public var refusedError: String?
        /// The terminal status each run must reach.
        public var status: RunStatus?
        /// How long after the trigger (or the approval) each run has to reach it.
        public var within: Duration = .seconds(10)
        /// For bursts: stop waiting early when no run has finished for this long.
        public var idle: Duration?
        /// The fewest logs each run must carry.
        public var minLogs = 0
        /// Links each run must carry.
        public var links: [String] = []
        /// The fewest links each run must carry.
        public var minLinks = 0
        /// The status label each run must end with.
        public var statusLabel: String?
        /// The summary each run must end with.
        public var summary: String?
        /// Entity changes each run must have made with `run_id`.
        public var entities: [EntityChangeExpectation] = []
        /// The most contract violations the consumer may cause (default none).
        public var maxViolations = 0
        /// The most calls the consumer may make for one run, if limited (calls an injected
        /// fault answered are not counted).
        public var maxAPICalls: Int?
    }

    /// The scenario's name: its file name without `.json`.
    public var name: String
    /// What it checks, in a sentence.
    public var description: String
    /// How its runs start.
    public var trigger: Trigger
    /// How many runs it triggers at once (a burst), 1 by default.
    public var count = 1
    /// Entities created (upserted) before the trigger.
    public var setup: [SetupEntity] = []
    /// Whether the run needs approval and what the approver decides: `true` approves,
    /// `false` declines; nil for an action without approval.
    public var approve: Bool?
    /// Faults injected before the trigger and lifted after the scenario (the JSON of
    /// `POST /_emulator/faults`).
    public var faults: [JSONValue] = []
    /// What must happen.
    public var expect = Expectation()
}

/// A scenario file that cannot be used, with the reason.
public struct ScenarioError: Error, Sendable, CustomStringConvertible {
    /// The file and the problem.
    public let message: String
    /// The message.
    public var description: String { message }

    /// An error with this message.
    public init(message: String) { self.message = message }
}

extension Scenario {
    /// Every `*.json` scenario in `directory`, sorted by file name.
    public static func load(directory: String) throws(ScenarioError) -> [Scenario] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
                .filter { $0.hasSuffix(".json") }.sorted()
        } catch {
            throw ScenarioError(
                message: "cannot read the scenarios directory \(directory): \(describeError(error))"
            )
        }
        guard !names.isEmpty else { throw ScenarioError(message: "no *.json scenarios in \(directory)") }
        return try names.map { (name) throws(ScenarioError) in
            let path = joinPath(directory, name)
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ScenarioError(message: "\(path): cannot be read")
            }
            do {
                return try Scenario(name: String(name.dropLast(5)), json: try JSONValue.parse(Array(data)))
            } catch let error as ScenarioError {
                throw ScenarioError(message: "\(path): \(error.message)")
            } catch {
                throw ScenarioError(message: "\(path): not valid JSON: \(error)")
            }
        }
    }

    /// Reads one scenario from its JSON document.
    public init(name: String, json: JSONValue) throws(ScenarioError) {
        let object = try Self.object(
            json,
            "the scenario",
            allowing: [
                "description", "trigger", "count", "setup", "approve", "faults", "expect",
            ]
        )
        self.name = name
        description = object["description"]?.stringValue ?? name
        trigger = try Self.trigger(object["trigger"])
        if let count = object["count"] {
            guard let value = count.intValue, (1...100_000).contains(value) else {
                throw ScenarioError(message: "count must be a whole number from 1 to 100000")
            }
            self.count = Int(value)
        }
        if let setup = object["setup"] {
            let entities = try Self.object(setup, "setup", allowing: ["entities"])["entities"]?.arrayValue ?? []
            self.setup = try entities.map { (entity) throws(ScenarioError) in
                try Self.setupEntity(entity, "setup.entities[]")
            }
        }
        if let approve = object["approve"] {
            guard let value = approve.boolValue else { throw ScenarioError(message: "approve must be true or false") }
            self.approve = value
        }
        if let faults = object["faults"] {
            guard let list = faults.arrayValue else { throw ScenarioError(message: "faults must be an array") }
            for fault in list {
                do throws(PortError) { _ = try FaultInjector.fault(from: fault) } catch {
                    throw ScenarioError(message: "faults: \(error.message)")
                }
            }
            self.faults = list
        }
        if case .automation = trigger, count != 1 {
            throw ScenarioError(message: "count must be 1 for an automation's trigger")
        }
        guard let expect = object["expect"] else { throw ScenarioError(message: "expect is required") }
        self.expect = try Self.expectation(expect)
        if self.expect.refusedStatus == nil && self.expect.status == nil {
            throw ScenarioError(message: "expect needs status (the terminal status) or refused")
        }
    }

    private static func setupEntity(_ value: JSONValue, _ what: String) throws(ScenarioError) -> SetupEntity {
        let fields = try Self.object(value, what, allowing: ["blueprint", "identifier", "properties", "relations"])
        guard let blueprint = fields["blueprint"]?.stringValue, let identifier = fields["identifier"]?.stringValue
        else { throw ScenarioError(message: "\(what) needs blueprint and identifier strings") }
        guard fields["relations"] == nil || fields["relations"]?.objectValue != nil else {
            throw ScenarioError(message: "\(what).relations must be an object: {relation: identifier}")
        }
        return SetupEntity(
            blueprint: blueprint,
            identifier: identifier,
            properties: fields["properties"]?.objectValue ?? [:],
            relations: fields["relations"]?.objectValue ?? [:]
        )
    }

    private static func trigger(_ value: JSONValue?) throws(ScenarioError) -> Trigger {
        guard let value else { throw ScenarioError(message: "trigger is required") }
        let object = try object(
            value,
            "trigger",
            allowing: [
                "action", "inputs", "entity", "user", "invocation", "unknownAction", "automation", "upsert", "clock",
            ]
        )
        let inputs = object["inputs"]?.objectValue ?? [:]
        if let automation = object["automation"]?.stringValue {
            var cause = AutomationCause(
                action: object["action"]?.stringValue,
                inputs: inputs,
                entity: object["entity"]?.stringValue
            )
            if let upsert = object["upsert"] { cause.upsert = try setupEntity(upsert, "trigger.upsert") }
            if let clock = object["clock"] {
                let body = try Self.object(clock, "trigger.clock", allowing: ["advance", "set"])
                guard body.count == 1, body.allSatisfy({ $0.value.stringValue != nil }) else {
                    throw ScenarioError(
                        message: "trigger.clock needs one of advance (a duration) or set (an ISO-8601 time)"
                    )
                }
                cause.clock = clock
            }
            guard cause.upsert != nil || cause.action != nil || cause.clock != nil else {
                throw ScenarioError(message: "trigger.automation needs a cause: upsert, action or clock")
            }
            return .automation(automation, cause: cause)
        }
        if object["upsert"] != nil || object["clock"] != nil {
            throw ScenarioError(message: "trigger.upsert and trigger.clock go with trigger.automation")
        }
        if let action = object["action"]?.stringValue {
            return .action(
                action,
                inputs: inputs,
                entity: object["entity"]?.stringValue,
                user: object["user"]?.stringValue
            )
        }
        if let invocation = object["invocation"]?.stringValue { return .invocation(invocation) }
        if let action = object["unknownAction"]?.stringValue { return .unknownAction(action, inputs: inputs) }
        throw ScenarioError(message: "trigger needs action, invocation, unknownAction or automation")
    }

    private static func expectation(_ value: JSONValue) throws(ScenarioError) -> Expectation {
        let object = try object(
            value,
            "expect",
            allowing: [
                "refused", "status", "within", "idle", "minLogs", "links", "minLinks", "statusLabel", "summary",
                "entities",
                "maxViolations", "maxApiCalls",
            ]
        )
        var expect = Expectation()
        if let refused = object["refused"] {
            let fields = try Self.object(refused, "expect.refused", allowing: ["status", "error"])
            guard let status = fields["status"]?.intValue else {
                throw ScenarioError(message: "expect.refused.status must be an HTTP status")
            }
            expect.refusedStatus = Int(status)
            expect.refusedError = fields["error"]?.stringValue
        }
        if let status = object["status"] {
            guard let text = status.stringValue, let value = RunStatus(rawValue: text), value.isFinished else {
                throw ScenarioError(message: "expect.status must be SUCCESS, FAILURE or DECLINED")
            }
            expect.status = value
        }
        if let within = object["within"] {
            guard let text = within.stringValue, let duration = DurationText.parse(text), duration > .zero else {
                throw ScenarioError(message: "expect.within must be a duration such as \"10s\"")
            }
            expect.within = duration
        }
        if let idle = object["idle"] {
            guard let text = idle.stringValue, let duration = DurationText.parse(text), duration > .zero else {
                throw ScenarioError(message: "expect.idle must be a duration such as \"20s\"")
            }
            expect.idle = duration
        }
        expect.minLogs = try count(object["minLogs"], "expect.minLogs") ?? 0
        expect.minLinks = try count(object["minLinks"], "expect.minLinks") ?? 0
        expect.links = object["links"]?.arrayValue?.compactMap(\.stringValue) ?? []
        expect.statusLabel = object["statusLabel"]?.stringValue
        expect.summary = object["summary"]?.stringValue
        if let entities = object["entities"] {
            let kinds = try Self.object(entities, "expect.entities", allowing: ["created", "updated", "deleted"])
            for kind in ["created", "updated", "deleted"] {
                for entity in kinds[kind]?.arrayValue ?? [] {
                    guard let blueprint = entity["blueprint"]?.stringValue,
                        let identifier = entity["identifier"]?.stringValue
                    else { throw ScenarioError(message: "expect.entities.\(kind)[] needs blueprint and identifier") }
                    expect.entities.append(
                        EntityChangeExpectation(kind: kind, blueprint: blueprint, identifier: identifier)
                    )
                }
            }
        }
        expect.maxViolations = try count(object["maxViolations"], "expect.maxViolations") ?? 0
        expect.maxAPICalls = try count(object["maxApiCalls"], "expect.maxApiCalls")
        return expect
    }

    private static func count(_ value: JSONValue?, _ field: String) throws(ScenarioError) -> Int? {
        guard let value else { return nil }
        guard let number = value.intValue, number >= 0 else {
            throw ScenarioError(message: "\(field) must be a whole number, 0 or more")
        }
        return Int(number)
    }

    private static func object(
        _ value: JSONValue,
        _ what: String,
        allowing keys: Set<String>
    ) throws(ScenarioError)
        -> JSONObject
    {
        guard let object = value.objectValue else { throw ScenarioError(message: "\(what) must be an object") }
        let unknown = object.keys.filter { !keys.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw ScenarioError(
                message: "\(what) has unknown field(s) \(unknown.joined(separator: ", ")); known: "
                    + keys.sorted().joined(separator: ", ")
            )
        }
        return object
    }
}
