/// A `PATCH /v1/actions/runs/{id}` body. Every field is optional; each one given replaces
/// the run's value.
public struct RunPatch: Sendable, Equatable {
    /// Finishes the run when set.
    public var status: TerminationStatus?
    /// A short label shown beside the status.
    public var statusLabel: String?
    /// Links; a string or a list, and a later PATCH replaces the whole list.
    public var links: [String]?
    /// A summary of the run.
    public var summary: String?
    /// The consumer's own id for the run.
    public var externalRunId: String?
    /// Port's deprecated `message` object.
    public var message: JSONObject?

    /// Creates a patch.
    public init(
        status: TerminationStatus? = nil,
        statusLabel: String? = nil,
        links: [String]? = nil,
        summary: String? = nil,
        externalRunId: String? = nil,
        message: JSONObject? = nil
    ) {
        self.status = status
        self.statusLabel = statusLabel
        self.links = links
        self.summary = summary
        self.externalRunId = externalRunId
        self.message = message
    }

    /// Reads a body with Port's schema (`additionalProperties: false`).
    public init(body: JSONValue) throws(PortError) {
        let reader = try StrictObject(
            body,
            allowed: ["status", "statusLabel", "link", "summary", "externalRunId", "message"]
        )
        if let status = reader["status"] {
            guard let text = status.stringValue, let value = TerminationStatus(rawValue: text) else {
                throw .invalidRequest(
                    "body.status must be one of SUCCESS, FAILURE (got \(status.compactText)); "
                        + "IN_PROGRESS is not a status a run can be set to",
                    rule: "patch-status-terminal-only"
                )
            }
            self.status = value
        }
        statusLabel = try reader.string("statusLabel")
        if let link = reader["link"] {
            switch link {
            case .string(let single): links = [single]
            case .array(let items):
                links = try items.enumerated().map { (position, item) throws(PortError) in
                    guard let text = item.stringValue else {
                        throw .invalidRequest("body.link[\(position)] must be a string, not \(item.typeName)")
                    }
                    return text
                }
            default: throw .invalidRequest("body.link must be a string or an array of strings, not \(link.typeName)")
            }
        }
        summary = try reader.string("summary")
        externalRunId = try reader.string("externalRunId")
        if let message = reader["message"] {
            guard let object = message.objectValue else {
                throw .invalidRequest("body.message must be an object, not \(message.typeName)")
            }
            self.message = object
        }
    }
}

/// A `POST /v1/actions/runs/{id}/logs` body.
public struct RunLogRequest: Sendable, Equatable {
    /// The log line (required).
    public var message: String
    /// Finishes the run with this status when set.
    public var terminationStatus: TerminationStatus?
    /// Sets the run's status label.
    public var statusLabel: String?

    /// Creates a log request.
    public init(message: String, terminationStatus: TerminationStatus? = nil, statusLabel: String? = nil) {
        self.message = message
        self.terminationStatus = terminationStatus
        self.statusLabel = statusLabel
    }

    /// Reads a body with Port's schema (`additionalProperties: false`).
    public init(body: JSONValue) throws(PortError) {
        let reader = try StrictObject(body, allowed: ["message", "terminationStatus", "statusLabel"])
        guard let message = try reader.string("message") else {
            throw .invalidRequest("body.message is required")
        }
        self.message = message
        if let status = reader["terminationStatus"] {
            guard let text = status.stringValue, let value = TerminationStatus(rawValue: text) else {
                throw .invalidRequest(
                    "body.terminationStatus must be one of SUCCESS, FAILURE (got \(status.compactText))"
                )
            }
            terminationStatus = value
        }
        statusLabel = try reader.string("statusLabel")
    }
}

/// A `PATCH /v1/actions/runs/{id}/approval` body.
public struct ApprovalRequest: Sendable, Equatable {
    /// Whether the run is approved (`APPROVE`) or declined (`DECLINE`).
    public var approve: Bool
    /// The approver's note.
    public var description: String?

    /// Creates an approval decision.
    public init(approve: Bool, description: String? = nil) {
        self.approve = approve
        self.description = description
    }

    /// Reads a body with Port's schema.
    public init(body: JSONValue) throws(PortError) {
        let reader = try StrictObject(body, allowed: ["status", "description"])
        switch reader["status"]?.stringValue {
        case "APPROVE": approve = true
        case "DECLINE": approve = false
        default:
            throw .invalidRequest(
                "body.status must be one of APPROVE, DECLINE (got \(reader["status"]?.compactText ?? "nothing"))"
            )
        }
        description = try reader.string("description")
    }
}

extension JSONValue {
    /// This body as an object that carries no field outside `allowed` (Port's
    /// `additionalProperties: false`), or 422 `invalid_request` naming the offending field.
    public func object(allowing allowed: Set<String>) throws(PortError) -> JSONObject {
        guard let object = objectValue else {
            throw .invalidRequest("body must be a JSON object, not \(typeName)")
        }
        if let unknown = object.keys.first(where: { !allowed.contains($0) }) {
            throw .invalidRequest(
                "body.\(unknown) is not allowed; allowed fields: \(allowed.sorted().joined(separator: ", "))",
                rule: "request-schema-no-additional-properties"
            )
        }
        return object
    }
}

/// Reads a JSON object body that must not carry fields outside `allowed`.
struct StrictObject {
    private let object: JSONObject

    init(_ body: JSONValue, allowed: Set<String>) throws(PortError) {
        object = try body.object(allowing: allowed)
    }

    subscript(key: String) -> JSONValue? { object[key] }

    /// The string at `key`, `nil` when absent; any other type is an error naming the field.
    func string(_ key: String) throws(PortError) -> String? {
        guard let value = object[key] else { return nil }
        guard let text = value.stringValue else {
            throw .invalidRequest("body.\(key) must be a string, not \(value.typeName)")
        }
        return text
    }
}
