import OrderedCollections
public import PortContract

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// How an entity is shown: Port's read flags.
public struct EntityReadOptions: Sendable, Equatable {
    /// Only these paths (`identifier`, `properties.x`, `$title`, or a bare property or
    /// relation identifier); `nil` keeps everything.
    public var include: [String]?
    /// These paths left out.
    public var exclude: [String] = []
    /// `exclude_calculated_properties`: no mirror, calculation or aggregation properties.
    public var excludeCalculatedProperties = false
    /// `attach_title_to_relation`: each related identifier becomes `{identifier, title}`.
    public var attachTitleToRelation = false
    /// `attach_identifier_to_title_mirror_properties`: a mirror of `$title` becomes
    /// `{identifier, title}`.
    public var attachIdentifierToTitleMirrorProperties = false

    /// Everything, as stored, plus computed properties.
    public init() {}
}

/// A page of a blueprint search, and the cursor of the next one.
public struct SearchPage: Sendable {
    /// The entities of the page, in creation order.
    public let entities: [Entity]
    /// The cursor for `from`, or `nil` on the last page.
    public let next: String?
}

extension CatalogReader {
    /// The entities of `blueprints` (every blueprint when `nil`) that match `query`, each
    /// blueprint's in creation order, blueprints by identifier.
    public func search(_ query: Query, in blueprints: [String]? = nil) throws(PortError) -> [Entity] {
        let prepared = try prepare(query)
        return (blueprints ?? scope(of: query)).flatMap { blueprint in
            store.entities(of: blueprint).filter { matches(prepared, $0) }
        }
    }

    /// The blueprints a cross-blueprint search reads (`matchingBlueprints`): those a
    /// top-level `$blueprint = x` or `$blueprint in [...]` names that exist, else every
    /// blueprint, by identifier.
    public func scope(of query: Query) -> [String] {
        Self.blueprintScope(of: query)?.filter { models[$0] != nil } ?? models.keys.sorted()
    }

    /// The blueprints a query can match, when its top level is an `and` holding
    /// `$blueprint = x` or `$blueprint in [...]`; `nil` when any blueprint can.
    private static func blueprintScope(of query: Query) -> [String]? {
        let rules: [Query]
        switch query {
        case .group(.and, let members): rules = members
        case .property: rules = [query]
        default: return nil
        }
        for rule in rules {
            guard case .property(.named("$blueprint"), let condition) = rule else { continue }
            switch condition {
            case .compare(.equals, .string(let name)): return [name]
            case .compare(.in, .array(let names)): return names.compactMap(\.stringValue).sorted()
            default: continue
            }
        }
        return nil
    }

    /// One page of `blueprint`'s entities matching `query`: up to `limit`, after the
    /// cursor `from`. A cursor this emulator did not hand out is 422.
    public func page(
        of blueprint: String,
        matching query: Query?,
        limit: Int,
        from cursor: String?
    ) throws(PortError) -> SearchPage {
        let prepared = try query.map { (query) throws(PortError) in try prepare(query) }
        let entities = store.entities(of: blueprint)
        var start = entities.startIndex
        if let cursor {
            guard let position = SearchCursor(text: cursor), position.blueprint == blueprint else {
                throw .invalidRequest("body.from \"\(cursor)\" is not a cursor of this blueprint's search (use next)")
            }
            // After the last entity handed out, by creation order: what was deleted or created
            // since does not shift the page.
            start = store.position(after: position.sequence, in: blueprint)
        }
        var found: [Entity] = []
        var index = start
        while index < entities.endIndex {
            let entity = entities[index]
            if prepared.map({ matches($0, entity) }) ?? true {
                if found.count == limit {
                    let last = found[found.count - 1]
                    let sequence = store.sequence(of: last.identifier, in: blueprint) ?? 0
                    return SearchPage(
                        entities: found,
                        next: SearchCursor(blueprint: blueprint, sequence: sequence).text
                    )
                }
                found.append(entity)
            }
            index += 1
        }
        return SearchPage(entities: found, next: nil)
    }

    /// The entity as Port's API answers with these read options.
    public func render(_ entity: Entity, _ options: EntityReadOptions = EntityReadOptions()) -> JSONValue {
        guard var object = entity.json.objectValue else { return entity.json }
        let model = models[entity.blueprint]
        if let model, !options.excludeCalculatedProperties, model.hasComputedProperties {
            var properties = object["properties"]?.objectValue ?? [:]
            for (key, value) in computedProperties(of: entity, model: model) { properties[key] = value }
            if options.attachIdentifierToTitleMirrorProperties {
                for mirror in model.mirrors where mirror.property == "$title" {
                    properties[mirror.identifier] = titled(mirror.relations, from: entity)
                }
            }
            object["properties"] = .object(properties)
        }
        if let scorecards = scorecards(of: entity) { object["scorecards"] = scorecards }
        if options.attachTitleToRelation {
            var relations = JSONObject()
            for (relation, value) in entity.relations {
                let target = model?.relations[relation]?.target ?? ""
                func titled(_ identifier: String) -> JSONValue {
                    [
                        "identifier": .string(identifier),
                        "title": store.entity(identifier, of: target).map { .string($0.title) } ?? .null,
                    ]
                }
                switch value {
                case .string(let identifier): relations[relation] = titled(identifier)
                case .array(let items): relations[relation] = .array(items.compactMap(\.stringValue).map(titled))
                default: relations[relation] = value
                }
            }
            object["relations"] = .object(relations)
        }
        return .object(Self.project(object, options, relations: Set(model?.relations.keys ?? [:].keys)))
    }

    /// The entities at the end of `relations` as `{identifier, title}` (a list when the path
    /// can reach several).
    private func titled(_ relations: [String], from entity: Entity) -> JSONValue {
        let reached = entities(along: relations.map { Query.PathStep($0) }, from: entity).map {
            JSONValue.object(["identifier": .string($0.identifier), "title": .string($0.title)])
        }
        return isMany(relations, from: entity.blueprint) ? .array(reached) : (reached.first ?? .null)
    }

    /// The object with only the included paths, and without the excluded ones.
    static func project(_ object: JSONObject, _ options: EntityReadOptions, relations: Set<String>) -> JSONObject {
        func path(_ text: String) -> [String] {
            if let field = metaProperties[text] { return [field] }
            if text.hasPrefix("properties.") || text.hasPrefix("relations.") {
                let parts = text.split(separator: ".", maxSplits: 1).map(String.init)
                return parts
            }
            if object[text] != nil || ["identifier", "title", "icon", "team", "blueprint"].contains(text) {
                return [text]
            }
            return [relations.contains(text) ? "relations" : "properties", text]
        }
        var result = object
        if let include = options.include {
            result = [:]
            for text in include {
                let parts = path(text)
                if parts.count == 1 {
                    result[parts[0]] = object[parts[0]]
                } else if let value = object[parts[0]]?[parts[1]] {
                    var inner = result[parts[0]]?.objectValue ?? [:]
                    inner[parts[1]] = value
                    result[parts[0]] = .object(inner)
                }
            }
        }
        for text in options.exclude {
            let parts = path(text)
            if parts.count == 1 {
                result[parts[0]] = nil
            } else if var inner = result[parts[0]]?.objectValue {
                inner[parts[1]] = nil
                result[parts[0]] = .object(inner)
            }
        }
        return result
    }
}

/// Where a blueprint search stopped: the creation sequence of the last entity handed out.
struct SearchCursor: Equatable {
    let blueprint: String
    let sequence: Int

    init(blueprint: String, sequence: Int) {
        self.blueprint = blueprint
        self.sequence = sequence
    }

    /// Reads a cursor's text (URL-safe base64 of compact JSON); `nil` when it is not one.
    init?(text: String) {
        var base64 = text.replacing("-", with: "+").replacing("_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let value = try? JSONValue.parse(Array(data)),
            let blueprint = value["b"]?.stringValue, let sequence = value["s"]?.intValue, sequence >= 0
        else { return nil }
        self.init(blueprint: blueprint, sequence: Int(sequence))
    }

    /// The cursor as `next` gives it: URL-safe base64 without padding.
    var text: String {
        let json: JSONValue = ["b": .string(blueprint), "s": .int(Int64(sequence))]
        return Data(json.compactBytes).base64EncodedString()
            .replacing("+", with: "-").replacing("/", with: "_")
            .replacing("=", with: "")
    }
}
