public import PortContract

/// A workflow as the emulator runs it: a `SELF_SERVE_TRIGGER` node whose inputs become its
/// output, and `KAFKA` nodes whose payload templates are published when a run starts.
///
/// Emulator choice: every KAFKA node starts with the run (connections are kept as given but
/// not followed); node payloads render against `{"outputs": {"<trigger node>": inputs},
/// "trigger": {"by", "at"}, "workflowRun": {"id"}, "secrets"}`.
public struct WorkflowDefinition: Sendable, Equatable {
    /// One node.
    public struct Node: Sendable, Equatable {
        /// The node's identifier.
        public let identifier: String
        /// `SELF_SERVE_TRIGGER`, `KAFKA`, ...
        public let type: String
        /// A KAFKA node's payload template.
        public let payload: JSONValue?
    }

    /// The workflow's identifier.
    public let identifier: String
    /// The trigger node.
    public let trigger: Node
    /// The trigger's inputs.
    public let inputSchema: EntitySchema
    /// The KAFKA nodes, in order.
    public let kafkaNodes: [Node]
    /// The definition as given.
    public let definition: JSONObject

    /// Reads a workflow; anything the emulator cannot run is 422 `invalid_request`.
    public init(definition body: JSONValue) throws(PortError) {
        let (object, identifier) = try PortIdentifierRules.definition(body, of: "workflow")
        guard let nodeValues = object["nodes"]?.arrayValue else {
            throw .invalidRequest("workflow \(identifier): nodes must be an array")
        }
        var nodes: [Node] = []
        var inputs: JSONValue = ["properties": [:]]
        for value in nodeValues {
            guard let nodeIdentifier = value["identifier"]?.stringValue,
                let type = value["config"]?["type"]?.stringValue
            else {
                throw .invalidRequest("workflow \(identifier): every node needs an identifier and config.type")
            }
            nodes.append(Node(identifier: nodeIdentifier, type: type, payload: value["config"]?["payload"]))
            if type == "SELF_SERVE_TRIGGER" { inputs = value["config"]?["userInputs"] ?? inputs }
        }
        guard let trigger = nodes.first(where: { $0.type == "SELF_SERVE_TRIGGER" }) else {
            throw .invalidRequest("workflow \(identifier): needs a SELF_SERVE_TRIGGER node")
        }
        self.identifier = identifier
        self.trigger = trigger
        inputSchema = try EntitySchema(inputs, at: "nodes.\(trigger.identifier).config.userInputs")
        kafkaNodes = nodes.filter { $0.type == "KAFKA" }
        definition = object
    }
}
