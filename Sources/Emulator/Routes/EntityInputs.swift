import JQ
import PortCatalog
import PortContract

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The `jqQuery` programs of entity inputs' datasets, compiled once each.
private let datasetPrograms = JQProgramCache()

extension ActionDefinition {
    /// Entity inputs (`format: entity`, or an array of them) name entities of their
    /// `blueprint` that exist and match the input's `dataset`; else the trigger is 422
    /// `user_inputs_schema_invalid` naming the input. A dataset value `{"jqQuery": …}` is
    /// evaluated with jq over `{form, entity, user}`, as Port's form does.
    func checkEntityInputs(
        _ inputs: JSONObject,
        entity: Entity?,
        user: String,
        reader: CatalogReader
    ) throws(PortError) {
        let store = reader.store
        for (name, definition) in userInputs["properties"]?.objectValue ?? [:] {
            let isArray = definition["type"]?.stringValue == "array"
            let rule = isArray ? (definition["items"] ?? .null) : definition
            guard rule["format"]?.stringValue == "entity", let blueprint = rule["blueprint"]?.stringValue,
                let value = inputs[name], value != .null
            else { continue }
            let chosen = (isArray ? value.arrayValue ?? [] : [value]).compactMap {
                $0.stringValue ?? $0["identifier"]?.stringValue
            }
            var query: Query?
            if let dataset = definition["dataset"] ?? rule["dataset"], dataset != .null {
                let context: JSONValue = [
                    "form": .object(inputs), "entity": entity.map { reader.render($0) } ?? .null,
                    "user": ["email": .string(user)],
                ]
                let resolved = try Self.resolveJQ(in: dataset, context: context, at: "properties.\(name).dataset")
                query = try Query(parsing: resolved, at: "userInputs.properties.\(name).dataset")
            }
            let prepared = try query.map { (query) throws(PortError) in try reader.prepare(query) }
            for identifier in chosen {
                guard let candidate = store.entity(identifier, of: blueprint) else {
                    throw .userInputsInvalid(
                        ["properties.\(name): entity \"\(identifier)\" of blueprint \"\(blueprint)\" does not exist"],
                        action: identifier
                    )
                }
                if let prepared, !reader.matches(prepared, candidate) {
                    throw .userInputsInvalid(
                        ["properties.\(name): entity \"\(identifier)\" is not one the input's dataset offers"],
                        action: identifier
                    )
                }
            }
        }
    }

    /// The dataset with each `{"jqQuery": expression}` replaced by the expression's first output.
    private static func resolveJQ(
        in value: JSONValue,
        context: JSONValue,
        at location: String
    ) throws(PortError) -> JSONValue {
        switch value {
        case .object(let object):
            if object.count == 1, let expression = object["jqQuery"]?.stringValue {
                do {
                    let output =
                        try datasetPrograms.program(expression).run(jsonInput: context.compactText).first ?? "null"
                    return try JSONValue.parse(output)
                } catch {
                    throw .invalidRequest("\(location): jqQuery \"\(expression)\" failed: \(error)")
                }
            }
            var resolved = JSONObject()
            for (key, member) in object { resolved[key] = try resolveJQ(in: member, context: context, at: location) }
            return .object(resolved)
        case .array(let items):
            var resolved: [JSONValue] = []
            for item in items { resolved.append(try resolveJQ(in: item, context: context, at: location)) }
            return .array(resolved)
        default:
            return value
        }
    }
}
