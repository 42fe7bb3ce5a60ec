/// A blueprint: the type of an entity, with the JSON schema its properties must follow.
///
/// Read from Port's blueprint body (`POST /v1/blueprints`, or a fixture file). The body is
/// kept as given so the API can return it unchanged.
public struct Blueprint: Sendable, Equatable {
    /// The blueprint's identifier, e.g. `microservice`.
    public let identifier: String
    /// The title shown in Port.
    public let title: String
    /// The icon's name, if any.
    public let icon: String?
    /// The schema of the entities' `properties`.
    public let schema: EntitySchema
    /// The identifiers of the relations entities may set.
    public let relationIdentifiers: Set<String>
    /// Whether entity changes are published to the `ORG_ID.change.log` topic.
    public let publishesChangeLog: Bool
    /// The definition as given, plus what Port adds (`createdAt`, `createdBy`, ...).
    public var definition: JSONObject

    /// Reads a blueprint body; a missing identifier or a malformed schema is 422 `invalid_request`.
    public init(definition body: JSONValue) throws(PortError) {
        let (object, identifier) = try PortIdentifierRules.definition(body, of: "blueprint")
        if let title = object["title"], title.stringValue == nil {
            throw .invalidRequest("body.title must be a string, not \(title.typeName)")
        }
        self.identifier = identifier
        title = object["title"]?.stringValue ?? identifier
        icon = object["icon"]?.stringValue
        schema = try EntitySchema(object["schema"] ?? ["properties": [:], "required": []], at: "body.schema")
        guard let relations = (object["relations"] ?? [:]).objectValue else {
            throw .invalidRequest("body.relations must be an object")
        }
        relationIdentifiers = Set(relations.keys)
        publishesChangeLog = object["changelogDestination"]?["type"]?.stringValue == "KAFKA"
        var definition = object
        definition["title"] = .string(title)
        if definition["schema"] == nil { definition["schema"] = ["properties": [:], "required": []] }
        if definition["relations"] == nil { definition["relations"] = [:] }
        self.definition = definition
    }
}

/// Port's rule for blueprint and entity identifiers: no `.` or `..` alone, and only
/// letters, digits and `@_.+:\/=-`.
public enum PortIdentifierRules {
    /// Whether `identifier` is acceptable (1 to 1000 characters).
    public static func isValid(_ identifier: String) -> Bool {
        guard !identifier.isEmpty, identifier.count <= 1000, identifier != ".", identifier != ".." else { return false }
        return identifier.unicodeScalars.allSatisfy { scalar in
            scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
                || "@_.+:\\/=-".unicodeScalars.contains(scalar)
        }
    }

    /// A definition body (`kind` names it in errors) as an object with a valid `identifier`.
    public static func definition(_ body: JSONValue, of kind: String) throws(PortError) -> (JSONObject, String) {
        guard let object = body.objectValue else {
            throw .invalidRequest("\(kind) must be a JSON object, not \(body.typeName)")
        }
        guard let identifier = object["identifier"]?.stringValue, isValid(identifier) else {
            throw .invalidRequest(
                "body.identifier is required: letters, digits and @_.+:\\/=- (got \(object["identifier"]?.compactText ?? "nothing"))"
            )
        }
        return (object, identifier)
    }
}
