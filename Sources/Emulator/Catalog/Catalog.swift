import PortContract
import Synchronization

/// The organization's blueprints and actions: loaded from fixtures, added through the API.
///
/// `reset()` goes back to what was loaded at start-up.
public final class Catalog: Sendable {
    private struct State {
        var blueprints: [String: Blueprint] = [:]
        var blueprintOrder: [String] = []
        var actions: [String: ActionDefinition] = [:]
        var actionOrder: [String] = []
    }

    private let state: Mutex<State>
    private let initial: State

    /// Creates a catalog holding `fixtures`.
    ///
    /// Throws when an identifier repeats or an action names a blueprint that is not there.
    public init(fixtures: Fixtures = Fixtures()) throws(PortError) {
        var initial = State()
        for blueprint in fixtures.blueprints { try Self.add(blueprint, to: &initial) }
        for action in fixtures.actions { try Self.add(action, to: &initial) }
        self.initial = initial
        state = Mutex(initial)
    }

    /// Adds a blueprint; an identifier in use is 409 `identifier_taken`.
    public func add(_ blueprint: Blueprint) throws(PortError) {
        try state.withLock { (state) throws(PortError) in try Self.add(blueprint, to: &state) }
    }

    /// Adds an action; an identifier in use is 409, an unknown blueprint 404.
    public func add(_ action: ActionDefinition) throws(PortError) {
        try state.withLock { (state) throws(PortError) in try Self.add(action, to: &state) }
    }

    /// The blueprint, or 404 `not_found`.
    public func blueprint(_ identifier: String) throws(PortError) -> Blueprint {
        guard let blueprint = state.withLock({ $0.blueprints[identifier] }) else {
            throw .blueprintNotFound(identifier)
        }
        return blueprint
    }

    /// The action, or 404 `not_found`.
    public func action(_ identifier: String) throws(PortError) -> ActionDefinition {
        guard let action = state.withLock({ $0.actions[identifier] }) else { throw .actionNotFound(identifier) }
        return action
    }

    /// Every blueprint, in the order added.
    public var blueprints: [Blueprint] {
        state.withLock { state in state.blueprintOrder.compactMap { state.blueprints[$0] } }
    }

    /// Every action, in the order added.
    public var actions: [ActionDefinition] {
        state.withLock { state in state.actionOrder.compactMap { state.actions[$0] } }
    }

    /// Forgets what the API added and goes back to the fixtures.
    public func reset() {
        state.withLock { $0 = initial }
    }

    private static func add(_ blueprint: Blueprint, to state: inout State) throws(PortError) {
        guard state.blueprints[blueprint.identifier] == nil else { throw .identifierTaken(blueprint.identifier) }
        state.blueprints[blueprint.identifier] = blueprint
        state.blueprintOrder.append(blueprint.identifier)
    }

    private static func add(_ action: ActionDefinition, to state: inout State) throws(PortError) {
        guard state.actions[action.identifier] == nil else { throw .identifierTaken(action.identifier) }
        if let blueprint = action.blueprintIdentifier, state.blueprints[blueprint] == nil {
            throw .blueprintNotFound(blueprint)
        }
        state.actions[action.identifier] = action
        state.actionOrder.append(action.identifier)
    }
}
