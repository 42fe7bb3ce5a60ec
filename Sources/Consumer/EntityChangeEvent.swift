public import PortContract

/// An entity change from `ORG_ID.change.log`: what happened to which entity, before and after.
public struct EntityChangeEvent: Sendable, Equatable {
    /// `CREATE`, `UPDATE` or `DELETE`.
    public let action: String
    /// The entity's blueprint.
    public let blueprint: String
    /// The entity's identifier.
    public let entity: String
    /// The run the change was made for, if any.
    public let runID: String?
    /// The entity before the change (`nil` for a CREATE).
    public let before: JSONObject?
    /// The entity after the change (`nil` for a DELETE).
    public let after: JSONObject?
    /// The whole message.
    public let message: JSONValue

    /// Reads a change-log message (`resourceType: "entity"`); anything else is poison.
    public init(parsing bytes: [UInt8]) throws(PoisonMessage) {
        guard let message = try? JSONValue.parse(bytes), message.objectValue != nil else {
            throw PoisonMessage(reason: "a change-log message that is not a JSON object")
        }
        guard message["resourceType"] == "entity", let action = message["action"]?.stringValue,
            let blueprint = message["context"]?["blueprint"]?.stringValue,
            let entity = message["context"]?["entity"]?.stringValue
        else {
            throw PoisonMessage(
                reason: "not an entity change (resourceType, action, context.blueprint, context.entity)"
            )
        }
        self.action = action
        self.blueprint = blueprint
        self.entity = entity
        runID = message["context"]?["runId"]?.stringValue
        before = message["diff"]?["before"]?.objectValue
        after = message["diff"]?["after"]?.objectValue
        self.message = message
    }
}

/// A handler of entity changes of one blueprint. A thrown error is logged; the message is
/// committed either way (there is no run to report to).
public typealias ChangeHandler = @Sendable (EntityChangeEvent) async throws -> Void
