public import PortCatalog
public import PortContract

#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// An entity a run created, changed or deleted (`run_id` on the write).
public struct AffectedEntity: Sendable, Equatable {
    /// The blueprint.
    public let blueprint: String
    /// The entity's identifier.
    public let identifier: String
    /// What the run did to it.
    public let kind: EntityChange.Kind
    /// When.
    public let at: Date
    /// The entity before the change (nil for a creation).
    public var before: Entity?
    /// The entity after the change (nil for a deletion).
    public var after: Entity?

    /// The record as the admin API shows it.
    public var json: JSONValue {
        [
            "blueprint": .string(blueprint), "identifier": .string(identifier), "operation": .string(kind.rawValue),
            "at": PortTimestamp.format(at), "before": before?.json ?? .null, "after": after?.json ?? .null,
        ]
    }
}
