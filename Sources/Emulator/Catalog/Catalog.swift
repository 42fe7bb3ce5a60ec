import JQ
public import PortCatalog
public import PortContract
package import StateLog
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The organization's blueprints and actions: loaded from fixtures, added through the API.
///
/// `reset()` goes back to what was loaded at start-up.
public final class Catalog: Sendable {
    private struct State {
        /// The blueprints, with their relations and computed properties read.
        var models: BlueprintModels = [:]
        var blueprintOrder: [String] = []
        var actions: [String: ActionDefinition] = [:]
        var actionOrder: [String] = []
        /// Permissions patched through the API, by `blueprint:ID` or `action:ID`.
        var permissions: [String: JSONValue] = [:]
    }

    private let state: Mutex<State>
    private let initial: State
    /// Where changes are recorded (`--state-dir`).
    private let stateLog: StateLog?
    /// Raw invocation messages from the fixtures, by name.
    public let invocations: [String: JSONValue]
    /// Workflows from the fixtures, by identifier.
    public let workflows: [String: WorkflowDefinition]

    /// Creates a catalog holding `fixtures`.
    ///
    /// Throws when an identifier repeats or an action names a blueprint that is not there.
    public convenience init(fixtures: Fixtures = Fixtures()) throws(PortError) {
        try self.init(fixtures: fixtures, stateLog: nil)
    }

    /// Creates a catalog holding `fixtures` that records every change in `stateLog`.
    package init(fixtures: Fixtures, stateLog: StateLog?) throws(PortError) {
        self.stateLog = stateLog
        var initial = State()
        let loaded = Date()
        for blueprint in fixtures.blueprints {
            try Self.add(blueprint.stamped(at: loaded, by: Self.fixtureAuthor), to: &initial, checkTargets: false)
        }
        // Fixtures may relate blueprints in any order (or in a cycle): targets are checked once all are in.
        for model in initial.models.values.sorted(by: { $0.identifier < $1.identifier }) {
            try Self.checkTargets(of: model, in: initial)
        }
        // Every fixture condition in one jq compile (each action's check then finds them known).
        _ = JQSyntax.errors(inFixtures: fixtures.actions.flatMap { $0.automation?.expressions ?? [] })
        for action in fixtures.actions {
            try Self.add(action.stamped(at: loaded, by: Self.fixtureAuthor), to: &initial)
        }
        for (index, body) in fixtures.scorecards.enumerated() {
            let blueprint = body["blueprint"]?.stringValue ?? ""
            guard var model = initial.models[blueprint] else { throw .blueprintNotFound(blueprint) }
            var scorecard = try Scorecard(body: body, blueprint: blueprint, at: "scorecards[\(index)]")
            guard !model.scorecards.contains(where: { $0.identifier == scorecard.identifier }) else {
                throw .identifierTaken(scorecard.identifier, blueprint: blueprint)
            }
            scorecard.stamp(at: loaded, by: Self.fixtureAuthor)
            model.scorecards.append(scorecard)
            initial.models[blueprint] = model
        }
        self.initial = initial
        state = Mutex(initial)
        invocations = fixtures.invocations
        workflows = Dictionary(fixtures.workflows.map { ($0.identifier, $0) }) { first, _ in first }
    }

    /// Who fixtures are created by, in `createdBy`.
    public static let fixtureAuthor = "port-emulator-fixtures"

    /// Adds a blueprint created by `author`; an identifier in use is 409 `identifier_taken`.
    /// Returns it as stored, with Port's timestamps.
    @discardableResult
    public func add(_ blueprint: Blueprint, by author: String) throws(PortError) -> Blueprint {
        let stamped = blueprint.stamped(at: Date(), by: author)
        try mutate { (state) throws(PortError) in try Self.add(stamped, to: &state) }
        return stamped
    }

    /// Adds an action created by `author`; an identifier in use is 409, an unknown
    /// blueprint 404. Returns it as stored, with Port's id and timestamps.
    @discardableResult
    public func add(_ action: ActionDefinition, by author: String) throws(PortError) -> ActionDefinition {
        let stamped = action.stamped(at: Date(), by: author)
        try mutate { (state) throws(PortError) in try Self.add(stamped, to: &state) }
        return stamped
    }

    /// Replaces (`PUT`) or merges into (`PATCH`) a blueprint, keeping who created it and when.
    ///
    /// A merge replaces each top-level field the body names, and merges the maps of
    /// `schema.properties`, `relations` and the computed properties key by key (a `null`
    /// member removes one). The result is checked as a new blueprint would be (Port's
    /// request schema, relations' and aggregations' targets); entities already stored are
    /// not checked again (`fixtures/README.md`).
    @discardableResult
    public func update(
        _ identifier: String,
        with body: JSONValue,
        merge: Bool,
        by author: String,
        check: (JSONValue) throws(PortError) -> Blueprint
    ) throws(PortError) -> Blueprint {
        guard var object = body.objectValue else {
            throw .invalidRequest("body must be a JSON object, not \(body.typeName)")
        }
        if let named = object["identifier"], named.stringValue != identifier {
            throw .invalidRequest(
                "body.identifier \(named.compactText) differs from the path's \"\(identifier)\"; a blueprint's identifier cannot change"
            )
        }
        let current = try blueprint(identifier)
        if merge { object = Self.merging(object, into: current.definition) }
        object["identifier"] = .string(identifier)
        for key in ["createdAt", "createdBy", "updatedAt", "updatedBy"] { object[key] = nil }
        var updated = try check(.object(object))
        for key in ["createdAt", "createdBy"] { updated.definition[key] = current.definition[key] }
        updated.definition["updatedAt"] = PortTimestamp.format(Date())
        updated.definition["updatedBy"] = .string(author)
        var model = try BlueprintModel(updated)
        try mutate { (state) throws(PortError) in
            guard let current = state.models[identifier] else { throw .blueprintNotFound(identifier) }
            try Self.checkTargets(of: model, in: state)
            model.scorecards = current.scorecards
            state.models[identifier] = model
        }
        return model.blueprint
    }

    /// Replaces an action (`PUT /v1/actions/{id}`), keeping its id and who created it when;
    /// checked as a new action is. 404 when there is none.
    @discardableResult
    public func replace(_ action: ActionDefinition, by author: String) throws(PortError) -> ActionDefinition {
        try mutate { (state) throws(PortError) -> ActionDefinition in
            guard let current = state.actions[action.identifier] else { throw .actionNotFound(action.identifier) }
            if let blueprint = action.blueprintIdentifier, state.models[blueprint] == nil {
                throw .blueprintNotFound(blueprint)
            }
            if let trigger = action.automation {
                try Self.check(trigger, of: state.models[action.blueprintIdentifier ?? ""]?.blueprint)
            }
            var stamped = action
            var definition: JSONObject = ["id": current.definition["id"] ?? .null]
            for (key, value) in action.definition where key != "id" { definition[key] = value }
            for key in ["createdAt", "createdBy"] { definition[key] = current.definition[key] }
            definition["updatedAt"] = PortTimestamp.format(Date())
            definition["updatedBy"] = .string(author)
            stamped.definition = definition
            state.actions[action.identifier] = stamped
            return stamped
        }
    }

    /// Deletes an action or automation (404 when there is none); its runs stay.
    public func remove(action identifier: String) throws(PortError) {
        try mutate { (state) throws(PortError) in
            guard state.actions.removeValue(forKey: identifier) != nil else { throw .actionNotFound(identifier) }
            state.actionOrder.removeAll { $0 == identifier }
            state.permissions["action:\(identifier)"] = nil
        }
    }

    /// The permissions of a blueprint or an action (`kind` `blueprint` or `action`): as
    /// last patched, over Port's defaults. Stored and shown; not enforced (every caller is
    /// the organization's machine client).
    public func permissions(of kind: String, _ identifier: String) throws(PortError) -> JSONValue {
        try state.withLock { (state) throws(PortError) -> JSONValue in
            try Self.checkExists(kind, identifier, in: state)
            return state.permissions["\(kind):\(identifier)"] ?? Self.defaultPermissions(kind)
        }
    }

    /// Merges a permissions body into the stored ones, member by member.
    public func patchPermissions(
        of kind: String,
        _ identifier: String,
        _ body: JSONObject
    ) throws(PortError)
        -> JSONValue
    {
        try mutate { (state) throws(PortError) -> JSONValue in
            try Self.checkExists(kind, identifier, in: state)
            let current = state.permissions["\(kind):\(identifier)"] ?? Self.defaultPermissions(kind)
            let merged = Self.deepMerge(.object(body), into: current)
            state.permissions["\(kind):\(identifier)"] = merged
            return merged
        }
    }

    /// `patch` merged into `value`: objects member by member, at every depth; anything else replaces.
    private static func deepMerge(_ patch: JSONValue, into value: JSONValue) -> JSONValue {
        guard case .object(let members) = patch, case .object(var merged) = value else { return patch }
        for (key, member) in members { merged[key] = deepMerge(member, into: merged[key] ?? .null) }
        return .object(merged)
    }

    private static func checkExists(_ kind: String, _ identifier: String, in state: State) throws(PortError) {
        if kind == "action" {
            guard state.actions[identifier] != nil else { throw .actionNotFound(identifier) }
        } else {
            guard state.models[identifier] != nil else { throw .blueprintNotFound(identifier) }
        }
    }

    private static func defaultPermissions(_ kind: String) -> JSONValue {
        let anyone: JSONValue = ["users": [], "roles": ["Admin", "Member"], "teams": [], "ownedByTeam": false]
        let admins: JSONValue = ["users": [], "roles": ["Admin"], "teams": [], "ownedByTeam": false]
        if kind == "action" {
            return ["execute": anyone, "approve": ["users": [], "roles": ["Admin"], "teams": [], "policy": .null]]
        }
        return [
            "entities": [
                "read": anyone, "register": admins, "update": admins, "unregister": admins,
                "updateProperties": [:], "updateRelations": [:],
            ]
        ]
    }

    /// Removes a blueprint, and with `deleteActions` the actions (and automations) bound to
    /// it; without, a blueprint that has some is 403 `has_dependents` naming them. Refused the
    /// same way while another blueprint's relation or aggregation names it; whether it still
    /// has entities is the caller's to check. Returns the actions removed.
    @discardableResult
    public func remove(blueprint identifier: String, deleteActions: Bool) throws(PortError) -> [ActionDefinition] {
        try mutate { (state) throws(PortError) -> [ActionDefinition] in
            let removed = try Self.checkRemovable(identifier, deleteActions: deleteActions, in: state)
            state.models[identifier] = nil
            state.blueprintOrder.removeAll { $0 == identifier }
            state.permissions["blueprint:\(identifier)"] = nil
            for action in removed { state.actions[action.identifier] = nil }
            state.actionOrder.removeAll { state.actions[$0] == nil }
            return removed
        }
    }

    /// Throws what ``remove(blueprint:deleteActions:)`` would refuse, without removing
    /// anything: to check before deleting the blueprint's entities.
    public func checkRemovable(blueprint identifier: String, deleteActions: Bool) throws(PortError) {
        try state.withLock { (state) throws(PortError) in
            _ = try Self.checkRemovable(identifier, deleteActions: deleteActions, in: state)
        }
    }

    /// The actions bound to the blueprint, once it is known that it may go.
    private static func checkRemovable(
        _ identifier: String,
        deleteActions: Bool,
        in state: State
    ) throws(PortError)
        -> [ActionDefinition]
    {
        guard state.models[identifier] != nil else { throw .blueprintNotFound(identifier) }
        let referring = state.models.values.filter { model in
            model.identifier != identifier && !model.unknownTargets { $0 != identifier }.isEmpty
        }
        if let first = referring.map(\.identifier).sorted().first {
            throw PortError(
                status: 403,
                code: "has_dependents",
                message:
                    "Blueprint \"\(identifier)\" is the target of blueprint \"\(first)\"'s relations or aggregations; remove them first",
                rule: "blueprint-no-dependents"
            )
        }
        let bound = state.actions.values.filter { $0.blueprintIdentifier == identifier }
        if !deleteActions, !bound.isEmpty {
            throw PortError(
                status: 403,
                code: "has_dependents",
                message:
                    "Blueprint \"\(identifier)\" has actions (\(bound.map(\.identifier).sorted().joined(separator: ", "))); delete them, or pass delete_actions=true",
                rule: "blueprint-no-dependents"
            )
        }
        return bound
    }

    /// Runs `change` on a blueprint's model under the lock (404 for an unknown blueprint).
    func updateModel<Result>(
        _ blueprint: String,
        _ change: (inout BlueprintModel) throws(PortError) -> Result
    ) throws(PortError) -> Result {
        try mutate { (state) throws(PortError) -> Result in
            guard var model = state.models[blueprint] else { throw .blueprintNotFound(blueprint) }
            let result = try change(&model)
            state.models[blueprint] = model
            return result
        }
    }

    /// `patch` merged into `definition`: fields replaced, named maps merged key by key.
    private static func merging(_ patch: JSONObject, into definition: JSONObject) -> JSONObject {
        var merged = definition
        for (key, value) in patch {
            switch (key, value, definition[key]) {
            case ("relations", .object(let members), .object(var existing)?),
                ("mirrorProperties", .object(let members), .object(var existing)?),
                ("calculationProperties", .object(let members), .object(var existing)?),
                ("aggregationProperties", .object(let members), .object(var existing)?):
                for (name, member) in members { existing[name] = member == .null ? nil : member }
                merged[key] = .object(existing)
            case ("schema", .object(let schema), .object(var existing)?):
                for (field, part) in schema {
                    if field == "properties", case .object(let members) = part,
                        case .object(var properties)? = existing["properties"]
                    {
                        for (name, member) in members { properties[name] = member == .null ? nil : member }
                        existing["properties"] = .object(properties)
                    } else {
                        existing[field] = part
                    }
                }
                merged[key] = .object(existing)
            default:
                merged[key] = value
            }
        }
        return merged
    }

    /// The blueprint, or 404 `not_found`.
    public func blueprint(_ identifier: String) throws(PortError) -> Blueprint {
        guard let blueprint = state.withLock({ $0.models[identifier]?.blueprint }) else {
            throw .blueprintNotFound(identifier)
        }
        return blueprint
    }

    /// The blueprint with its relations and computed properties, or 404 `not_found`.
    public func model(_ identifier: String) throws(PortError) -> BlueprintModel {
        guard let model = state.withLock({ $0.models[identifier] }) else { throw .blueprintNotFound(identifier) }
        return model
    }

    /// Every blueprint with its relations and computed properties, by identifier.
    public var models: BlueprintModels { state.withLock { $0.models } }

    /// The action, or 404 `not_found`.
    public func action(_ identifier: String) throws(PortError) -> ActionDefinition {
        guard let action = state.withLock({ $0.actions[identifier] }) else { throw .actionNotFound(identifier) }
        return action
    }

    /// Every blueprint, in the order added.
    public var blueprints: [Blueprint] {
        state.withLock { state in state.blueprintOrder.compactMap { state.models[$0]?.blueprint } }
    }

    /// Every action, in the order added.
    public var actions: [ActionDefinition] {
        state.withLock { state in state.actionOrder.compactMap { state.actions[$0] } }
    }

    /// Forgets what the API added and goes back to the fixtures.
    public func reset() {
        state.withLock { state in
            state = initial
            stateLog.record(.catalog, StateRecords.reset, [:])
        }
    }

    /// Runs `change` under the lock, then records the whole catalog (`--state-dir`): its
    /// changes are rare, and one record keeps blueprints, scorecards, actions and
    /// permissions consistent with each other.
    private func mutate<Result>(_ change: (inout State) throws(PortError) -> Result) throws(PortError) -> Result {
        try state.withLock { (state) throws(PortError) -> Result in
            let result = try change(&state)
            stateLog.record(.catalog, "catalog", Self.stateRecord(of: state))
            return result
        }
    }

    /// The catalog as a state record: blueprints in order with their scorecards, actions in
    /// order, the patched permissions.
    private static func stateRecord(of state: State) -> JSONObject {
        let blueprints = state.blueprintOrder.compactMap { state.models[$0] }.map { model -> JSONValue in
            [
                "definition": .object(model.blueprint.definition),
                "scorecards": .array(model.scorecards.map { .object($0.definition) }),
            ]
        }
        return [
            "blueprints": .array(blueprints),
            "actions": .array(state.actionOrder.compactMap { state.actions[$0] }.map { .object($0.definition) }),
            "permissions": .object(JSONObject(state.permissions.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })),
        ]
    }

    /// Applies one record of the catalog (`--state-dir`'s load): the whole catalog, or back
    /// to the fixtures. Records nothing.
    package func restore(_ kind: String, _ fields: JSONObject) throws(StateCodecError) {
        switch kind {
        case StateRecords.reset: state.withLock { $0 = initial }
        case "catalog":
            let restored = try Self.state(from: fields)
            state.withLock { $0 = restored }
        default: throw StateCodecError(field: "k", reason: "\"\(kind)\" is not a kind of the catalog's records")
        }
    }

    private static func state(from fields: JSONObject) throws(StateCodecError) -> State {
        var restored = State()
        func failed(_ field: String, _ error: PortError) -> StateCodecError {
            StateCodecError(field: field, reason: error.message)
        }
        for (index, item) in (fields["blueprints"]?.arrayValue ?? []).enumerated() {
            let field = "catalog.blueprints[\(index)]"
            do throws(PortError) {
                var model = try BlueprintModel(Blueprint(definition: item["definition"] ?? .null))
                for body in item["scorecards"]?.arrayValue ?? [] {
                    var scorecard = try Scorecard(body: body, blueprint: model.identifier)
                    scorecard.definition = body.objectValue ?? scorecard.definition
                    model.scorecards.append(scorecard)
                }
                restored.models[model.identifier] = model
                restored.blueprintOrder.append(model.identifier)
            } catch {
                throw failed(field, error)
            }
        }
        for (index, item) in (fields["actions"]?.arrayValue ?? []).enumerated() {
            do throws(PortError) {
                let action = try ActionDefinition(definition: item)
                restored.actions[action.identifier] = action
                restored.actionOrder.append(action.identifier)
            } catch {
                throw failed("catalog.actions[\(index)]", error)
            }
        }
        restored.permissions =
            fields["permissions"]?.objectValue.map { Dictionary(uniqueKeysWithValues: $0.map { ($0.key, $0.value) }) }
            ?? [:]
        return restored
    }

    /// A copy of the catalog as one record, and the last log record it includes.
    package func stateSection() -> StateSection {
        let (copy, fence) = state.withLock { ($0, stateLog.fence) }
        return StateSection(
            store: .catalog,
            fence: fence,
            records: [StateRecords.payload(.catalog, "catalog", Self.stateRecord(of: copy))]
        )
    }

    private static func add(_ blueprint: Blueprint, to state: inout State, checkTargets: Bool = true) throws(PortError)
    {
        guard state.models[blueprint.identifier] == nil else { throw .identifierTaken(blueprint.identifier) }
        let model = try BlueprintModel(blueprint)
        if checkTargets { try Self.checkTargets(of: model, in: state) }
        state.models[blueprint.identifier] = model
        state.blueprintOrder.append(blueprint.identifier)
    }

    private static func add(_ action: ActionDefinition, to state: inout State) throws(PortError) {
        guard state.actions[action.identifier] == nil else { throw .identifierTaken(action.identifier) }
        if let blueprint = action.blueprintIdentifier, state.models[blueprint] == nil {
            throw .blueprintNotFound(blueprint)
        }
        if let trigger = action.automation {
            try check(trigger, of: state.models[action.blueprintIdentifier ?? ""]?.blueprint)
        }
        state.actions[action.identifier] = action
        state.actionOrder.append(action.identifier)
    }
}

extension Catalog {
    /// Relations and aggregations must name blueprints that exist (or the blueprint itself):
    /// 404 `not_found` naming the field.
    private static func checkTargets(of model: BlueprintModel, in state: State) throws(PortError) {
        let unknown = model.unknownTargets { $0 == model.identifier || state.models[$0] != nil }
        guard let first = unknown.first else { return }
        throw PortError(
            status: 404,
            code: "not_found",
            message: "Blueprint \"\(model.identifier)\": \(first) names a blueprint that does not exist",
            rule: "blueprint-exists"
        )
    }

    /// An automation's conditions must compile with jq, and a timer event must name a
    /// `format: timer` property of its blueprint; else 422 naming the field.
    fileprivate static func check(_ trigger: AutomationTrigger, of blueprint: Blueprint?) throws(PortError) {
        for (index, expression) in trigger.expressions.enumerated() {
            do throws(JQError) {
                try JQSyntax.check(expression)
            } catch {
                throw .invalidRequest("body.trigger.condition.expressions[\(index)] is not valid jq: \(error)")
            }
        }
        if case .timerExpired(_, let property) = trigger.event, let blueprint,
            !blueprint.schema.timerProperties.contains(property)
        {
            throw .invalidRequest(
                "body.trigger.event.propertyIdentifier \"\(property)\" is not a timer property (type string, format timer) of blueprint \"\(blueprint.identifier)\""
            )
        }
    }
}

extension Blueprint {
    /// With `createdAt`, `createdBy`, `updatedAt` and `updatedBy` as Port adds them.
    fileprivate func stamped(at time: Date, by author: String) -> Blueprint {
        var stamped = self
        stamped.definition.addAuthorship(at: time, by: author)
        return stamped
    }
}

extension ActionDefinition {
    /// With Port's `id` (`action_` + 16) and authorship fields.
    fileprivate func stamped(at time: Date, by author: String) -> ActionDefinition {
        var stamped = self
        var definition: JSONObject = ["id": .string(PortIdentifier.make(prefix: "action_"))]
        for (key, value) in self.definition where key != "id" { definition[key] = value }
        definition.addAuthorship(at: time, by: author)
        stamped.definition = definition
        return stamped
    }
}

extension JSONObject {
    fileprivate mutating func addAuthorship(at time: Date, by author: String) {
        for key in ["createdAt", "updatedAt"] { self[key] = PortTimestamp.format(time) }
        for key in ["createdBy", "updatedBy"] { self[key] = .string(author) }
    }
}
