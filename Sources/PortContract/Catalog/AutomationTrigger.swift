/// The trigger of an automation (contract §7): `{"type": "automation", "event": {...},
/// "condition"?: {"type": "JQ", "expressions": [...], "combinator": "and"|"or"}}`.
///
/// Events allow no keys but their own, as Port's schema allows none.
public struct AutomationTrigger: Sendable, Equatable {
    /// What an automation listens to.
    public enum Event: Sendable, Equatable {
        /// `ENTITY_CREATED`, `ENTITY_UPDATED`, `ENTITY_DELETED` or `ANY_ENTITY_CHANGE` on a blueprint.
        case entity(EntityEventKind, blueprint: String)
        /// `TIMER_PROPERTY_EXPIRED`: a `format: timer` property of the blueprint passed.
        case timerExpired(blueprint: String, property: String)
        /// `RUN_CREATED`, `RUN_UPDATED` or `ANY_RUN_CHANGE` of an action's (or automation's) runs.
        case run(RunEventKind, action: String)

        /// The event's `type`, as the definition names it.
        public var type: String {
            switch self {
            case .entity(let kind, _): kind.rawValue
            case .timerExpired: "TIMER_PROPERTY_EXPIRED"
            case .run(let kind, _): kind.rawValue
            }
        }
    }

    /// The entity events.
    public enum EntityEventKind: String, Sendable, CaseIterable {
        /// An entity was created.
        case created = "ENTITY_CREATED"
        /// An entity was changed.
        case updated = "ENTITY_UPDATED"
        /// An entity was deleted.
        case deleted = "ENTITY_DELETED"
        /// Any of the three.
        case any = "ANY_ENTITY_CHANGE"
    }

    /// The run events.
    public enum RunEventKind: String, Sendable, CaseIterable {
        /// A run was created.
        case created = "RUN_CREATED"
        /// A run's status, label, links or summary changed (a log alone is not a change).
        case updated = "RUN_UPDATED"
        /// Either.
        case any = "ANY_RUN_CHANGE"
    }

    /// How the condition's expressions combine.
    public enum Combinator: String, Sendable {
        /// Every expression must hold (the emulator's choice when none is given).
        case and
        /// One expression is enough.
        case or
    }

    /// The event the automation listens to.
    public let event: Event
    /// The jq expressions run against the event object; empty when there is no condition.
    public let expressions: [String]
    /// How `expressions` combine.
    public let combinator: Combinator

    /// Reads `body.trigger` of an automation; anything unknown, missing or mistyped is 422
    /// `invalid_request` naming the field.
    public init(_ trigger: JSONObject) throws(PortError) {
        let allowed: Set<String> = ["type", "event", "condition"]
        if let unknown = trigger.keys.first(where: { !allowed.contains($0) }) {
            throw .invalidRequest("body.trigger.\(unknown) is not allowed in an automation's trigger")
        }
        guard let event = trigger["event"]?.objectValue else {
            throw .invalidRequest("body.trigger.event is required: an object with a type")
        }
        self.event = try Self.event(event)
        (expressions, combinator) = try Self.condition(trigger["condition"])
    }

    private static func event(_ event: JSONObject) throws(PortError) -> Event {
        guard let type = event["type"]?.stringValue else {
            throw .invalidRequest("body.trigger.event.type is required (a string)")
        }
        let keys: [String]
        if EntityEventKind(rawValue: type) != nil {
            keys = ["blueprintIdentifier"]
        } else if type == "TIMER_PROPERTY_EXPIRED" {
            keys = ["blueprintIdentifier", "propertyIdentifier"]
        } else if RunEventKind(rawValue: type) != nil {
            keys = ["actionIdentifier"]
        } else {
            let known =
                EntityEventKind.allCases.map(\.rawValue) + ["TIMER_PROPERTY_EXPIRED"]
                + RunEventKind.allCases.map(\.rawValue)
            throw .invalidRequest(
                "body.trigger.event.type must be one of \(known.joined(separator: ", ")) (got \"\(type)\")"
            )
        }
        if let unknown = event.keys.first(where: { $0 != "type" && !keys.contains($0) }) {
            throw .invalidRequest(
                "body.trigger.event.\(unknown) is not allowed in a \(type) event; allowed: type, "
                    + keys.joined(separator: ", ")
            )
        }
        var values: [String] = []
        for key in keys {
            guard let value = event[key]?.stringValue, !value.isEmpty else {
                throw .invalidRequest("body.trigger.event.\(key) is required for a \(type) event (a string)")
            }
            values.append(value)
        }
        if let kind = EntityEventKind(rawValue: type) { return .entity(kind, blueprint: values[0]) }
        if let kind = RunEventKind(rawValue: type) { return .run(kind, action: values[0]) }
        return .timerExpired(blueprint: values[0], property: values[1])
    }

    private static func condition(_ value: JSONValue?) throws(PortError) -> ([String], Combinator) {
        guard let value, value != .null else { return ([], .and) }
        guard let condition = value.objectValue else {
            throw .invalidRequest("body.trigger.condition must be an object, not \(value.typeName)")
        }
        let allowed: Set<String> = ["type", "expressions", "combinator"]
        if let unknown = condition.keys.first(where: { !allowed.contains($0) }) {
            throw .invalidRequest(
                "body.trigger.condition.\(unknown) is not allowed; allowed: combinator, expressions, type"
            )
        }
        guard condition["type"]?.stringValue == "JQ" else {
            throw .invalidRequest(
                "body.trigger.condition.type must be \"JQ\" (got \(condition["type"]?.compactText ?? "nothing"))"
            )
        }
        guard let items = condition["expressions"]?.arrayValue else {
            throw .invalidRequest("body.trigger.condition.expressions is required: a list of jq expressions")
        }
        var expressions: [String] = []
        for (index, item) in items.enumerated() {
            guard let expression = item.stringValue, !expression.isEmpty else {
                throw .invalidRequest("body.trigger.condition.expressions[\(index)] must be a jq expression (a string)")
            }
            expressions.append(expression)
        }
        var combinator = Combinator.and
        if let text = condition["combinator"] {
            guard let value = text.stringValue.flatMap(Combinator.init(rawValue:)) else {
                throw .invalidRequest(
                    "body.trigger.condition.combinator must be \"and\" or \"or\" (got \(text.compactText))"
                )
            }
            combinator = value
        }
        return (expressions, combinator)
    }
}
