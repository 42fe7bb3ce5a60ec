public import PortContract

#if canImport(Glibc)
import Glibc
#endif

extension PortError {
    /// 404 `not_found`: a relation names an entity that does not exist (and
    /// `create_missing_related_entities` is not set).
    public static func relatedEntityNotFound(_ identifier: String, blueprint: String, relation: String) -> PortError {
        PortError(
            status: 404,
            code: "not_found",
            message:
                "Related entity with identifier \"\(identifier)\" was not found in blueprint \"\(blueprint)\" (relation \"\(relation)\"); create it first or write with create_missing_related_entities=true",
            rule: "related-entity-exists"
        )
    }

    /// 422 `required_relation`: a required relation left out or set to nothing.
    public static func requiredRelation(_ relation: String, blueprint: String) -> PortError {
        PortError(
            status: 422,
            code: "required_relation",
            message: "Relation \"\(relation)\" of blueprint \"\(blueprint)\" is required",
            rule: "required-relation-set"
        )
    }

    /// 422 `relation_many_violation`: a list for a single relation, or one identifier for a
    /// `many` relation.
    public static func relationManyViolation(_ relation: String, many: Bool) -> PortError {
        PortError(
            status: 422,
            code: "relation_many_violation",
            message: many
                ? "Relation \"\(relation)\" is many: it takes an array of entity identifiers"
                : "Relation \"\(relation)\" is not many: it takes one entity identifier, not an array",
            rule: "relation-many-matches"
        )
    }

    /// 403 `has_dependents`: deleting an entity others point at through a required relation.
    public static func hasDependents(_ identifier: String, blueprint: String, dependents: [EntityKey]) -> PortError {
        let shown = dependents.prefix(5).map { "\($0.blueprint)/\($0.identifier)" }.joined(separator: ", ")
        let more = dependents.count > 5 ? " and \(dependents.count - 5) more" : ""
        return PortError(
            status: 403,
            code: "has_dependents",
            message:
                "Entity \"\(identifier)\" of blueprint \"\(blueprint)\" has dependent entities (\(shown)\(more)) whose required relations point at it; delete with delete_dependents=true to delete them too",
            rule: "no-dependents-on-delete"
        )
    }
}
