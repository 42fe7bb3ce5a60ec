public import OrderedCollections
public import PortContract

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An entity's place in the catalog: its blueprint and identifier.
public struct EntityKey: Sendable, Hashable, Comparable {
    /// The blueprint.
    public let blueprint: String
    /// The identifier within it.
    public let identifier: String

    /// Creates a key.
    public init(blueprint: String, identifier: String) {
        self.blueprint = blueprint
        self.identifier = identifier
    }

    /// By blueprint, then identifier.
    public static func < (lhs: EntityKey, rhs: EntityKey) -> Bool {
        (lhs.blueprint, lhs.identifier) < (rhs.blueprint, rhs.identifier)
    }
}

/// One relation value pointing at an entity: who points, and through which relation.
public struct EntityLink: Sendable, Hashable {
    /// The entity that holds the relation.
    public let source: EntityKey
    /// The relation's identifier.
    public let relation: String
}

/// The organization's entities, with the index of who points at whom.
///
/// A value type: the run store keeps it under its lock (so an entity write and its run's
/// record change together), and readers take a copy to search without the lock. Entities of
/// a blueprint keep the order they were created in, which is the order search pages follow.
public struct EntityStore: Sendable {
    /// Entities by blueprint, then identifier, oldest first.
    private(set) var byBlueprint: [String: OrderedDictionary<String, Entity>] = [:]
    /// Who points at each entity.
    private(set) var incoming: [EntityKey: Set<EntityLink>] = [:]
    /// Each entity's place in creation order: increasing along each blueprint's order, kept by
    /// an upsert, new when an entity is created again. Search cursors hold it.
    /// By blueprint, so that a write copies only its own blueprint's table when a reader
    /// still holds a copy of the store.
    private(set) var sequence: [String: [String: Int]] = [:]
    private var nextSequence = 0

    /// An empty store.
    public init() {}

    /// The entity, if there is one.
    public func entity(_ key: EntityKey) -> Entity? {
        byBlueprint[key.blueprint]?[key.identifier]
    }

    /// The entity `identifier` of `blueprint`, if there is one.
    public func entity(_ identifier: String, of blueprint: String) -> Entity? {
        byBlueprint[blueprint]?[identifier]
    }

    /// The blueprint's entities, oldest first.
    public func entities(of blueprint: String) -> OrderedDictionary<String, Entity>.Values {
        (byBlueprint[blueprint] ?? [:]).values
    }

    /// How many entities there are in all.
    public var count: Int { byBlueprint.values.reduce(0) { $0 + $1.count } }

    /// Every entity, in the order they were created (what `put` in that order rebuilds).
    public var inCreationOrder: [Entity] {
        var ordered: [(Int, Entity)] = []
        ordered.reserveCapacity(count)
        for (blueprint, entities) in byBlueprint {
            let numbers = sequence[blueprint] ?? [:]
            for entity in entities.values { ordered.append((numbers[entity.identifier] ?? 0, entity)) }
        }
        return ordered.sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// The entities pointing at `key`, and through which relations.
    public func links(to key: EntityKey) -> Set<EntityLink> { incoming[key] ?? [] }

    /// The entities `entity` points at through `relation` of `model` (none when unset).
    public static func targets(of entity: Entity, through relation: String, in model: BlueprintModel?) -> [EntityKey] {
        guard let target = model?.relations[relation]?.target, let value = entity.relations[relation] else {
            return []
        }
        return identifiers(in: value).map { EntityKey(blueprint: target, identifier: $0) }
    }

    /// The identifiers a relation value holds: one, a list, or none for `null`.
    public static func identifiers(in value: JSONValue) -> [String] {
        switch value {
        case .string(let identifier): [identifier]
        case .array(let items): items.compactMap(\.stringValue)
        default: []
        }
    }

    /// Stores `entity`, replacing the one with its identifier, and indexes its relations.
    public mutating func put(_ entity: Entity, model: BlueprintModel?) {
        let key = EntityKey(blueprint: entity.blueprint, identifier: entity.identifier)
        if let previous = byBlueprint[entity.blueprint]?[entity.identifier] {
            unlink(previous, key: key, model: model)
        } else {
            sequence[entity.blueprint, default: [:]][entity.identifier] = nextSequence
            nextSequence += 1
        }
        byBlueprint[entity.blueprint, default: [:]][entity.identifier] = entity
        link(entity, key: key, model: model)
    }

    /// Replaces a stored entity in place after its blueprint changed from `old` to `new`
    /// (a renamed relation): its links are dropped as `old` read them and made as `new` does.
    public mutating func replace(_ entity: Entity, from old: BlueprintModel?, to new: BlueprintModel?) {
        let key = EntityKey(blueprint: entity.blueprint, identifier: entity.identifier)
        guard let previous = byBlueprint[entity.blueprint]?[entity.identifier] else { return }
        unlink(previous, key: key, model: old)
        byBlueprint[entity.blueprint]?[entity.identifier] = entity
        link(entity, key: key, model: new)
    }

    private mutating func link(_ entity: Entity, key: EntityKey, model: BlueprintModel?) {
        for relation in entity.relations.keys {
            for target in Self.targets(of: entity, through: relation, in: model) {
                incoming[target, default: []].insert(EntityLink(source: key, relation: relation))
            }
        }
    }

    /// Removes the entity and its outgoing links; returns it, or `nil` when there was none.
    @discardableResult
    public mutating func remove(_ key: EntityKey, model: BlueprintModel?) -> Entity? {
        guard let entity = byBlueprint[key.blueprint]?.removeValue(forKey: key.identifier) else { return nil }
        sequence[key.blueprint]?[key.identifier] = nil
        unlink(entity, key: key, model: model)
        return entity
    }

    private mutating func unlink(_ entity: Entity, key: EntityKey, model: BlueprintModel?) {
        for relation in entity.relations.keys {
            for target in Self.targets(of: entity, through: relation, in: model) {
                incoming[target]?.remove(EntityLink(source: key, relation: relation))
                if incoming[target]?.isEmpty == true { incoming[target] = nil }
            }
        }
    }

    /// The creation sequence of `identifier` in `blueprint`, if it is there.
    func sequence(of identifier: String, in blueprint: String) -> Int? {
        sequence[blueprint]?[identifier]
    }

    /// The position in `blueprint`'s order of the first entity created after `sequence`
    /// (binary search: sequences increase along the order).
    func position(after sequence: Int, in blueprint: String) -> Int {
        guard let entities = byBlueprint[blueprint], let sequences = self.sequence[blueprint] else { return 0 }
        var low = 0
        var high = entities.count
        while low < high {
            let middle = (low + high) / 2
            if (sequences[entities.keys[middle]] ?? Int.min) <= sequence { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
