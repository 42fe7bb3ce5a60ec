import JQ
public import PortContract

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension CatalogReader {
    /// The mirror, aggregation and calculation properties of `entity`, in that order
    /// (a calculation sees the others in `.properties`). A calculation that fails is `null`.
    public func computedProperties(of entity: Entity, model: BlueprintModel) -> JSONObject {
        guard model.hasComputedProperties else { return [:] }
        var computed = JSONObject()
        for mirror in model.mirrors { computed[mirror.identifier] = mirrorValue(mirror, of: entity) }
        for aggregation in model.aggregations {
            computed[aggregation.identifier] = aggregate(aggregation, for: entity)
        }
        if !model.calculations.isEmpty {
            var input = entity
            for (key, value) in computed { input.properties[key] = value }
            let text = input.json.compactText
            for calculation in model.calculations {
                computed[calculation.identifier] = calculate(calculation.calculation, on: text)
            }
        }
        return computed
    }

    /// Whether following `relations` from an entity of `blueprint` can reach more than one
    /// entity (a `many` relation on the way), as the blueprints define them.
    func isMany(_ relations: [String], from blueprint: String) -> Bool {
        var current = blueprint
        for relation in relations {
            guard let definition = models[current]?.relations[relation] else { return false }
            if definition.many { return true }
            current = definition.target
        }
        return false
    }

    private func mirrorValue(_ mirror: MirrorProperty, of entity: Entity) -> JSONValue {
        let values = entities(along: mirror.relations.map { Query.PathStep($0) }, from: entity).map {
            value(of: mirror.property, for: $0) ?? .null
        }
        return isMany(mirror.relations, from: entity.blueprint) ? .array(values) : (values.first ?? .null)
    }

    private func calculate(_ source: String, on input: String) -> JSONValue {
        guard let program = try? calculationPrograms.program(source),
            let output = try? program.run(jsonInput: input).first,
            let value = try? JSONValue.parse(Array(output.utf8))
        else { return .null }
        return value
    }

    /// An aggregation over the entities of its target related to `entity` (either way,
    /// through any number of relations) that match its query.
    func aggregate(_ aggregation: AggregationProperty, for entity: Entity) -> JSONValue {
        let start = EntityKey(blueprint: entity.blueprint, identifier: entity.identifier)
        let prepared = aggregation.query.flatMap { try? prepare($0) }
        let related = related(to: [start], direction: nil)
            .filter { $0.blueprint == aggregation.target }
            .sorted()
            .compactMap(store.entity)
            .filter { candidate in prepared.map { matches($0, candidate) } ?? true }
        switch aggregation.function {
        case .count:
            return .int(Int64(related.count))
        case .averageOfEntities(let unit, let measureTimeBy):
            let times = related.compactMap {
                value(of: measureTimeBy, for: $0)?.stringValue.flatMap(TimerInstant.parse)
            }
            guard let oldest = times.min() else { return .int(0) }
            let seconds: Double = ["hour": 3600, "day": 86400, "week": 604_800, "month": 2_592_000][unit] ?? 86400
            let units = max(1, (now.timeIntervalSince(oldest) / seconds).rounded(.up))
            return .double(Double(related.count) / units)
        case .ofProperty(let function, let property):
            let numbers = related.compactMap { value(of: property, for: $0)?.doubleValue }
            guard !numbers.isEmpty else { return function == "sum" ? .int(0) : .null }
            let result: Double
            switch function {
            case "sum": result = numbers.reduce(0, +)
            case "min": result = numbers.min()!
            case "max": result = numbers.max()!
            case "median":
                let sorted = numbers.sorted()
                result =
                    sorted.count % 2 == 1
                    ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
            default: result = numbers.reduce(0, +) / Double(numbers.count)
            }
            return result.rounded() == result && abs(result) < 9e15 ? .int(Int64(result)) : .double(result)
        }
    }
}
