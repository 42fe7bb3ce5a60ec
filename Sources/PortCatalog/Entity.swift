public import PortContract

#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// An entity of a blueprint, as Port's API returns it.
public struct Entity: Sendable, Equatable {
    /// The entity's identifier, unique within its blueprint.
    public let identifier: String
    /// The blueprint it belongs to.
    public let blueprint: String
    /// The title.
    public var title: String
    /// The icon, if any.
    public var icon: String?
    /// The owning team or teams (a string or a list), if any.
    public var team: JSONValue
    /// The properties, checked against the blueprint's schema.
    public var properties: JSONObject
    /// The relations: relation identifier to the related entity's identifier(s).
    public var relations: JSONObject
    /// When it was created.
    public let createdAt: Date
    /// Who created it.
    public let createdBy: String
    /// When it last changed.
    public var updatedAt: Date
    /// Who changed it last.
    public var updatedBy: String
    /// Where its writes came from (`$datasource`): each distinct `User-Agent` that wrote it,
    /// oldest first. Ocean finds its stale entities by these.
    public var datasources: [String]

    /// Creates an entity as stored.
    public init(
        identifier: String,
        blueprint: String,
        title: String,
        icon: String? = nil,
        team: JSONValue = [],
        properties: JSONObject = [:],
        relations: JSONObject = [:],
        createdAt: Date,
        createdBy: String,
        updatedAt: Date,
        updatedBy: String,
        datasources: [String] = []
    ) {
        self.identifier = identifier
        self.blueprint = blueprint
        self.title = title
        self.icon = icon
        self.team = team
        self.properties = properties
        self.relations = relations
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.updatedAt = updatedAt
        self.updatedBy = updatedBy
        self.datasources = datasources
    }

    /// The team names `team` holds (a name or a list of them).
    public var teamNames: [String] { team.arrayValue?.compactMap(\.stringValue) ?? team.stringValue.map { [$0] } ?? [] }

    /// The entity as Port's API returns it (no `icon` when it has none: the OpenAPI
    /// document types it as a string).
    public var json: JSONValue {
        var object: JSONObject = ["identifier": .string(identifier), "title": .string(title)]
        object["icon"] = icon.map(JSONValue.string)
        object["blueprint"] = .string(blueprint)
        object["team"] = team
        object["properties"] = .object(properties)
        object["relations"] = .object(relations)
        object["createdAt"] = PortTimestamp.format(createdAt)
        object["createdBy"] = .string(createdBy)
        object["updatedAt"] = PortTimestamp.format(updatedAt)
        object["updatedBy"] = .string(updatedBy)
        return .object(object)
    }
}

/// The fields of an entity body (`identifier, title, icon, team, properties, relations`);
/// each is `nil` when the body leaves it out. Other fields are ignored, as Port ignores them.
public struct EntityBody: Sendable, Equatable {
    /// The identifier; Port makes one up when a created entity has none.
    public var identifier: String?
    /// The title.
    public var title: String?
    /// The icon.
    public var icon: String?
    /// A team name or a list of them.
    public var team: JSONValue?
    /// The properties.
    public var properties: JSONObject?
    /// The relations.
    public var relations: JSONObject?

    /// Creates a body.
    public init(
        identifier: String? = nil,
        title: String? = nil,
        icon: String? = nil,
        team: JSONValue? = nil,
        properties: JSONObject? = nil,
        relations: JSONObject? = nil
    ) {
        self.identifier = identifier
        self.title = title
        self.icon = icon
        self.team = team
        self.properties = properties
        self.relations = relations
    }

    /// Reads a request body; a mistyped field is 422 `invalid_request` naming it.
    public init(body: JSONValue) throws(PortError) {
        guard let object = body.objectValue else {
            throw .invalidRequest("body must be a JSON object, not \(body.typeName)")
        }
        for key in ["identifier", "title", "icon"] {
            if let value = object[key], value.stringValue == nil {
                throw .invalidRequest("body.\(key) must be a string, not \(value.typeName)")
            }
        }
        if let identifier = object["identifier"]?.stringValue, !PortIdentifierRules.isValid(identifier) {
            throw .invalidRequest(
                "body.identifier \"\(identifier)\" may hold only letters, digits and @_.+:\\/=- (and not be . or ..)"
            )
        }
        if let team = object["team"] {
            let isList = team.arrayValue?.allSatisfy { $0.stringValue != nil } ?? false
            guard team.stringValue != nil || isList || team == .null else {
                throw .invalidRequest("body.team must be a string or an array of strings, not \(team.typeName)")
            }
        }
        for key in ["properties", "relations"] {
            if let value = object[key], value.objectValue == nil {
                throw .invalidRequest("body.\(key) must be an object, not \(value.typeName)")
            }
        }
        if let relations = object["relations"]?.objectValue {
            for (name, target) in relations {
                let isList = target.arrayValue?.allSatisfy { $0.stringValue != nil } ?? false
                guard target.stringValue != nil || isList || target == .null else {
                    throw .invalidRequest(
                        "body.relations.\(name) must be an entity identifier, a list of them or null, not \(target.typeName)"
                    )
                }
            }
        }
        self.init(
            identifier: object["identifier"]?.stringValue,
            title: object["title"]?.stringValue,
            icon: object["icon"]?.stringValue,
            team: object["team"],
            properties: object["properties"]?.objectValue,
            relations: object["relations"]?.objectValue
        )
    }
}

/// How an entity write treats what is already there.
public enum EntityWriteMode: Sendable, Equatable {
    /// `POST`: creates; an existing identifier is 409 `identifier_taken` unless `upsert`,
    /// which replaces it, or merges into it with `merge`.
    case create(upsert: Bool, merge: Bool)
    /// `PUT`: replaces an existing entity.
    case replace
    /// `PATCH`: merges properties and relations into an existing entity.
    case merge
}

/// What an entity write did: the entity before and after (`nil` for none).
public struct EntityChange: Sendable, Equatable {
    /// `CREATE`, `UPDATE` or `DELETE`, as Port's change log names them.
    public enum Kind: String, Sendable {
        /// A new entity.
        case create = "CREATE"
        /// An existing entity changed.
        case update = "UPDATE"
        /// An entity removed.
        case delete = "DELETE"
    }

    /// What happened.
    public let kind: Kind
    /// The entity before the change.
    public let before: Entity?
    /// The entity after the change.
    public let after: Entity?
    /// The run the change was made for, if any.
    public let runID: String?

    /// Creates a change record.
    public init(kind: Kind, before: Entity?, after: Entity?, runID: String?) {
        self.kind = kind
        self.before = before
        self.after = after
        self.runID = runID
    }
}
