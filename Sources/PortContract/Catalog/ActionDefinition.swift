/// A self-service action's definition, read from Port's current (v2) shape or the older
/// (v1) shape of Port's docs; both are served as given.
///
/// v2: `{"identifier", "trigger": {"type": "self-service", "operation", "blueprintIdentifier"?,
/// "userInputs"}, "invocationMethod", "requiredApproval"?}`. v1 puts `userInputs`,
/// `trigger: "CREATE"` and `blueprint` at the top level.
public struct ActionDefinition: Sendable, Equatable {
    /// What the action does to its blueprint's entities.
    public enum Operation: String, Sendable, CaseIterable {
        /// Creates an entity; runs have no entity.
        case create = "CREATE"
        /// Acts on an existing entity.
        case dayTwo = "DAY-2"
        /// Deletes an existing entity.
        case delete = "DELETE"
    }

    /// How Port delivers a run's invocation.
    public struct Invocation: Sendable, Equatable {
        /// `KAFKA`, `WEBHOOK`, `GITHUB`, ...
        public let type: String
        /// For `WEBHOOK`: delivered through Kafka to Port's execution agent, signed.
        public let agent: Bool
        /// For `WEBHOOK`: Port sets the run's status from the webhook's response.
        public let synchronized: Bool
        /// The `payload` template (`{{ jq }}` strings), if the action has one.
        public let payloadTemplate: JSONValue?

        /// Whether Port publishes this action's runs to the organization's Kafka topic.
        public var isDeliveredThroughKafka: Bool { type == "KAFKA" || (type == "WEBHOOK" && agent) }
    }

    /// The action's identifier.
    public let identifier: String
    /// The action's title.
    public let title: String?
    /// The action's icon.
    public let icon: String?
    /// CREATE, DAY-2 or DELETE.
    public let operation: Operation
    /// The blueprint whose entities the action works on, if any.
    public let blueprintIdentifier: String?
    /// The inputs' schema: `{"properties": {...}, "required": [...]}`.
    public let userInputs: JSONObject
    /// The inputs' schema, read: types, enums, required inputs and defaults.
    public let inputSchema: EntitySchema
    /// How runs are delivered.
    public let invocation: Invocation
    /// Whether a run waits for an approval before it starts.
    public let requiredApproval: Bool
    /// The automation's trigger, when this is an automation (`trigger.type: "automation"`);
    /// `nil` for a self-service action.
    public let automation: AutomationTrigger?
    /// Whether the action is on (`publish: false` turns an automation off).
    public let publish: Bool
    /// The definition as given, plus what Port adds (`id`, `createdAt`, `createdBy`, ...).
    public var definition: JSONObject

    /// Reads a definition in either shape; anything missing or mistyped is 422 `invalid_request`.
    public init(definition body: JSONValue) throws(PortError) {
        let (object, identifier) = try PortIdentifierRules.definition(body, of: "action")
        let trigger = object["trigger"]
        let operationText: String?
        let blueprint: JSONValue?
        let inputs: JSONValue?
        var automation: AutomationTrigger?
        var blueprintText: JSONValue?
        switch trigger {
        case .string(let text)?:
            (operationText, blueprint, inputs) = (text, object["blueprint"], object["userInputs"])
        case .object(let triggerObject)? where triggerObject["type"]?.stringValue == "automation":
            // An automation: no inputs, no operation; an entity or timer event names its blueprint.
            let trigger = try AutomationTrigger(triggerObject)
            automation = trigger
            switch trigger.event {
            case .entity(_, let blueprint), .timerExpired(let blueprint, _): blueprintText = .string(blueprint)
            case .run: blueprintText = nil
            }
            (operationText, blueprint, inputs) = ("CREATE", blueprintText, nil)
        case .object(let triggerObject)?:
            guard triggerObject["type"]?.stringValue == "self-service" else {
                throw .invalidRequest(
                    "body.trigger.type must be \"self-service\" or \"automation\" (got \(triggerObject["type"]?.compactText ?? "nothing"))"
                )
            }
            (operationText, blueprint, inputs) = (
                triggerObject["operation"]?.stringValue, triggerObject["blueprintIdentifier"],
                triggerObject["userInputs"]
            )
        default:
            throw .invalidRequest("body.trigger is required: an object (v2) or CREATE, DAY-2 or DELETE (v1)")
        }
        guard let operationText, let operation = Operation(rawValue: operationText) else {
            throw .invalidRequest("body.trigger.operation must be one of CREATE, DAY-2, DELETE")
        }
        if let blueprint, blueprint != .null, blueprint.stringValue == nil {
            throw .invalidRequest("the action's blueprint identifier must be a string, not \(blueprint.typeName)")
        }
        let userInputs = inputs ?? ["properties": [:], "required": []]
        guard let userInputObject = userInputs.objectValue else {
            throw .invalidRequest("body.trigger.userInputs must be an object, not \(userInputs.typeName)")
        }
        inputSchema = try EntitySchema(userInputs, at: "userInputs")
        self.identifier = identifier
        title = object["title"]?.stringValue
        icon = object["icon"]?.stringValue
        self.operation = operation
        blueprintIdentifier = blueprint?.stringValue
        self.userInputs = userInputObject
        invocation = try Self.invocation(object["invocationMethod"])
        requiredApproval =
            switch object["requiredApproval"] {
            case .bool(let value)?: value
            case .object?: true
            default: false
            }
        self.automation = automation
        if let publish = object["publish"], publish.boolValue == nil {
            throw .invalidRequest("body.publish must be a boolean, not \(publish.typeName)")
        }
        publish = object["publish"]?.boolValue ?? true
        definition = object
    }

    private static func invocation(_ value: JSONValue?) throws(PortError) -> Invocation {
        guard let method = value?.objectValue, let type = method["type"]?.stringValue else {
            throw .invalidRequest("body.invocationMethod is required: an object with a type (KAFKA, WEBHOOK, ...)")
        }
        for flag in ["agent", "synchronized"] {
            if let value = method[flag], value.boolValue == nil {
                throw .invalidRequest("body.invocationMethod.\(flag) must be a boolean, not \(value.typeName)")
            }
        }
        return Invocation(
            type: type,
            agent: method["agent"]?.boolValue ?? false,
            synchronized: method["synchronized"]?.boolValue ?? false,
            payloadTemplate: method["payload"]
        )
    }

    /// The secret inputs' values encrypted as Port encrypts them (contract §8), the other
    /// inputs as they are; a client secret too short to be a key is 422.
    public func encryptingSecretInputs(_ inputs: JSONObject, clientSecret: String) throws(PortError) -> JSONObject {
        let secret = inputSchema.encryptedProperties
        guard !secret.isEmpty else { return inputs }
        var encrypted = inputs
        for name in secret {
            guard let value = inputs[name], value != .null else { continue }
            do {
                encrypted[name] = .string(
                    try SecretInput.encrypt(SecretInput.plaintext(of: value), clientSecret: clientSecret)
                )
            } catch {
                throw .invalidRequest("properties.\(name) is a secret input, and \(error.description)")
            }
        }
        return encrypted
    }

    /// The inputs with their defaults filled in, or 422 `user_inputs_schema_invalid`
    /// naming every input that breaks `userInputs`.
    public func validatedInputs(_ inputs: JSONObject) throws(PortError) -> JSONObject {
        let filled = inputSchema.applyingDefaults(to: inputs)
        let problems = inputSchema.violations(of: filled, at: "properties", unknown: "an input of the action")
        guard problems.isEmpty else { throw .userInputsInvalid(problems, action: identifier) }
        return filled
    }
}
