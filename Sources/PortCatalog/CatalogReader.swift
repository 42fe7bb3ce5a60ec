public import PortContract

#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// Reads the catalog as Port's API answers: values of properties, meta-properties and
/// computed properties, queries, relation walks. Works on a copy of the store, so a search
/// holds no lock.
public struct CatalogReader: Sendable {
    /// The entities.
    public let store: EntityStore
    /// The blueprints.
    public let models: BlueprintModels
    /// Now, for date presets and expiry.
    public let now: Date

    /// Creates a reader over a copy of the store.
    public init(store: EntityStore, models: BlueprintModels, now: Date = Date()) {
        self.store = store
        self.models = models
        self.now = now
    }

    /// The meta-properties rules and projections name, and the entity field each reads.
    public static let metaProperties: [String: String] = [
        "$identifier": "identifier", "$title": "title", "$blueprint": "blueprint", "$team": "team",
        "$icon": "icon", "$createdAt": "createdAt", "$updatedAt": "updatedAt", "$createdBy": "createdBy",
        "$updatedBy": "updatedBy",
    ]

    /// The value `name` has on `entity`: a meta-property, a property, a relation or a
    /// computed property; `nil` when the entity has no such thing.
    public func value(of name: String, for entity: Entity) -> JSONValue? {
        if name.hasPrefix("$") { return Self.meta(name, of: entity) }
        if let value = entity.properties[name] { return value }
        let model = models[entity.blueprint]
        if let model, model.relations[name] != nil { return entity.relations[name] ?? .null }
        guard let model, model.computedIdentifiers.contains(name) else { return nil }
        return computedProperties(of: entity, model: model)[name]
    }

    /// A meta-property's value, or `nil` for an unknown name.
    public static func meta(_ name: String, of entity: Entity) -> JSONValue? {
        switch name {
        case "$identifier": .string(entity.identifier)
        case "$title": .string(entity.title)
        case "$blueprint": .string(entity.blueprint)
        case "$team": entity.team
        case "$icon": entity.icon.map(JSONValue.string) ?? .null
        case "$createdAt": PortTimestamp.format(entity.createdAt)
        case "$updatedAt": PortTimestamp.format(entity.updatedAt)
        case "$createdBy": .string(entity.createdBy)
        case "$updatedBy": .string(entity.updatedBy)
        case "$datasource": .array(entity.datasources.map(JSONValue.string))
        default: nil
        }
    }

    /// The entities `entity` points at through `relation`, that exist.
    public func targets(of entity: Entity, through relation: String) -> [Entity] {
        EntityStore.targets(of: entity, through: relation, in: models[entity.blueprint]).compactMap(store.entity)
    }

    /// The entities related to `starts`: what they point at (`upstream`), what points at
    /// them (`downstream`), or both (each way on its own, never mixed), through any number
    /// of relations; `required` follows only required (`true`) or optional (`false`)
    /// relations. The starts themselves are not included.
    public func related(
        to starts: [EntityKey],
        direction: Query.RelatedTo.Direction?,
        required: Bool? = nil
    ) -> Set<EntityKey> {
        var result: Set<EntityKey> = []
        if direction != .downstream { result.formUnion(walk(from: starts, upstream: true, required: required)) }
        if direction != .upstream { result.formUnion(walk(from: starts, upstream: false, required: required)) }
        return result.subtracting(starts)
    }

    private func walk(from starts: [EntityKey], upstream: Bool, required: Bool?) -> Set<EntityKey> {
        var seen = Set(starts)
        var queue = starts
        var reached: Set<EntityKey> = []
        while let key = queue.popLast() {
            var next: [EntityKey] = []
            if upstream {
                guard let entity = store.entity(key), let model = models[key.blueprint] else { continue }
                for relation in entity.relations.keys
                where required == nil || model.relations[relation]?.required == required {
                    next += EntityStore.targets(of: entity, through: relation, in: model)
                }
            } else {
                for link in store.links(to: key)
                where required == nil || models[link.source.blueprint]?.relations[link.relation]?.required == required {
                    next.append(link.source)
                }
            }
            for candidate in next where store.entity(candidate) != nil && seen.insert(candidate).inserted {
                reached.insert(candidate)
                queue.append(candidate)
            }
        }
        return reached
    }
}
