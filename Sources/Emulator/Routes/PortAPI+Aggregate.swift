import HTTPServer
import PortCatalog
import PortContract

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `POST /v1/entities/aggregate`: one number (or counts per value) over the entities a query
/// matches. Port's document gives the answer the search's shape, with no field for the
/// result; the emulator answers `{ok, result}` as `aggregate-over-time` does (a correction in
/// `scripts/make-openapi.py`). Choices (`fixtures/README.md`): `average` of entities is per
/// `averageOf` unit (default `total`: the plain mean) since the oldest matched entity's
/// `measureTimeBy` (default `$createdAt`); values that are not numbers are skipped; no
/// entity gives `0` for `count` and `sum`, `null` otherwise; `countValues` counts each value
/// (each item of an array), the scorecard forms count levels or rule statuses.
extension PortAPI {
    func registerAggregateRoutes(on router: inout PortRouter) {
        addRoute(
            &router,
            .post,
            "/v1/entities/aggregate",
            route { (request, _) throws(PortError) in
                let body = try optionalObject(request)
                let reader = reader()
                guard let queryValue = body["query"] else { throw .invalidRequest("body.query is required") }
                let query = try Query(parsing: queryValue, at: "body.query")
                let entities = try reader.search(query, in: reader.scope(of: query))
                return ok(["result": try Self.aggregate(body, entities, reader)])
            }
        )
    }

    private static func aggregate(
        _ body: JSONObject,
        _ entities: [Entity],
        _ reader: CatalogReader
    ) throws(PortError)
        -> JSONValue
    {
        let function = body["func"]?.stringValue ?? ""
        let known: Set<String> = [
            "func", "query", "property", "relation", "scorecard", "rule", "averageOf", "measureTimeBy", "calculationBy",
        ]
        if let unknown = body.keys.first(where: { !known.contains($0) }) {
            throw .invalidRequest("body.\(unknown) is not allowed")
        }
        switch function {
        case "count" where body["property"] == nil:
            return .int(Int64(entities.count))
        case "average" where body["property"] == nil:
            return try .double(average(Double(entities.count), entities, body, reader))
        case "sum", "average", "min", "max", "median":
            guard let property = body["property"]?.stringValue else {
                throw .invalidRequest("body.property is required for func \(function)")
            }
            let numbers = entities.compactMap { reader.value(of: property, for: $0)?.doubleValue }
            switch function {
            case "sum": return .double(numbers.reduce(0, +))
            case "min": return numbers.min().map(JSONValue.double) ?? .null
            case "max": return numbers.max().map(JSONValue.double) ?? .null
            case "median":
                let sorted = numbers.sorted()
                guard !sorted.isEmpty else { return .null }
                let middle = sorted.count / 2
                return .double(sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2)
            default:
                guard !numbers.isEmpty else { return .null }
                return .double(try average(numbers.reduce(0, +), entities, body, reader, count: numbers.count))
            }
        case "countValues":
            var counts: [String: Int64] = [:]
            for entity in entities {
                for value in try values(body, entity, reader) { counts[value, default: 0] += 1 }
            }
            var result = JSONObject()
            for key in counts.keys.sorted() { result[key] = .int(counts[key]!) }
            return .object(result)
        default:
            throw .invalidRequest(
                "body.func must be count, average, sum, min, max, median or countValues (got \(body["func"]?.compactText ?? "nothing"))"
            )
        }
    }

    /// `total` over `count` items (entities, or values), or per `averageOf` unit since the
    /// oldest entity's `measureTimeBy`.
    private static func average(
        _ total: Double,
        _ entities: [Entity],
        _ body: JSONObject,
        _ reader: CatalogReader,
        count: Int? = nil
    ) throws(PortError) -> Double {
        let unit = body["averageOf"]?.stringValue ?? "total"
        let seconds: [String: Double] = ["hour": 3600, "day": 86_400, "week": 604_800, "month": 2_592_000]
        guard unit != "total" else { return total / Double(max(count ?? entities.count, 1)) }
        guard let span = seconds[unit] else {
            throw .invalidRequest("body.averageOf must be hour, day, week, month or total (got \"\(unit)\")")
        }
        let field = body["measureTimeBy"]?.stringValue ?? "$createdAt"
        let dates = entities.compactMap { reader.value(of: field, for: $0)?.stringValue.flatMap(PortTimestamp.parse) }
        guard let oldest = dates.min() else { return 0 }
        return total / max(reader.now.timeIntervalSince(oldest) / span, 1)
    }

    /// The values `countValues` counts for one entity.
    private static func values(
        _ body: JSONObject,
        _ entity: Entity,
        _ reader: CatalogReader
    ) throws(PortError)
        -> [String]
    {
        func texts(_ value: JSONValue?) -> [String] {
            switch value {
            case .array(let items)?: items.map { $0.stringValue ?? $0.compactText }
            case nil, .null?: []
            case let value?: [value.stringValue ?? value.compactText]
            }
        }
        if let property = body["property"]?.stringValue { return texts(reader.value(of: property, for: entity)) }
        if let relation = body["relation"]?.stringValue { return texts(entity.relations[relation]) }
        guard let scorecard = body["scorecard"]?.stringValue else {
            throw .invalidRequest("countValues needs one of body.property, body.relation or body.scorecard")
        }
        let result = reader.scorecards(of: entity)?[scorecard]
        guard let rule = body["rule"]?.stringValue else { return texts(result?["level"]) }
        let status = result?["rules"]?.arrayValue?.first { $0["identifier"]?.stringValue == rule }?["status"]
        return texts(status)
    }
}
