import HTTPServer
import PortContract

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `GET /v1/audit-log` over ``AuditLog``, with Port's filters (a logical AND of all).
extension PortAPI {
    func registerAuditRoutes(on router: inout PortRouter) {
        addRoute(
            &router,
            .get,
            "/v1/audit-log",
            route { (request, _) throws(PortError) in
                let filter = try AuditFilter(request)
                let entries = audit.entries(limit: filter.limit, where: filter.matches)
                return ok(["audits": .array(entries.map { .object(filter.project($0)) })])
            }
        )
    }
}

/// The audit log's query: which entries, how many, which fields.
private struct AuditFilter {
    static let resourceTypes: Set<String> = [
        "blueprint", "entity", "run", "webhook", "scorecard", "action", "integration",
    ]
    static let fields: Set<String> = [
        "action", "context", "diff", "identifier", "resourceType", "status", "trigger", "additionalData", "message",
    ]

    var equal: [(path: [String], value: String)] = []
    var resources: Set<String> = []
    var from: Date?
    var to: Date?
    var limit = 100
    var includes: Set<String> = []

    init(_ request: HTTPRequest) throws(PortError) {
        for (name, path) in [
            ("identifier", ["identifier"]), ("entity", ["context", "entity"]), ("blueprint", ["context", "blueprint"]),
            ("run_id", ["context", "runId"]), ("action", ["action"]), ("status", ["status"]),
            ("origin", ["trigger", "origin"]), ("actionType", ["trigger", "actionType"]),
            ("InstallationId", ["context", "integration"]),
        ] {
            if let value = request.query(name) { equal.append((path, value)) }
        }
        if let status = request.query("status"), !["SUCCESS", "FAILURE"].contains(status) {
            throw .invalidRequest("querystring.status must be SUCCESS or FAILURE (got \"\(status)\")")
        }
        if let type = request.query("actionType"), !["automation", "self-service"].contains(type) {
            throw .invalidRequest("querystring.actionType must be automation or self-service (got \"\(type)\")")
        }
        resources = Set(request.queryValues("resources").flatMap { $0.split(separator: ",").map(String.init) })
        if let unknown = resources.first(where: { !Self.resourceTypes.contains($0) }) {
            throw .invalidRequest(
                "querystring.resources must name \(Self.resourceTypes.sorted().joined(separator: ", ")) (got \"\(unknown)\")"
            )
        }
        includes = Set(request.queryValues("includes").flatMap { $0.split(separator: ",").map(String.init) })
        if let unknown = includes.first(where: { !Self.fields.contains($0) }) {
            throw .invalidRequest("querystring.includes names no field of an audit entry (got \"\(unknown)\")")
        }
        from = try Self.date(request, "from")
        to = try Self.date(request, "to")
        if let text = request.query("limit") {
            // Port's document types it as a number.
            guard let number = Double(text), number >= 1, number <= 10_000 else {
                throw .invalidRequest("querystring.limit must be a number from 1 to 10000 (got \"\(text)\")")
            }
            limit = Int(number)
        }
    }

    func matches(_ entry: JSONObject) -> Bool {
        for (path, value) in equal {
            var current: JSONValue = .object(entry)
            for key in path { current = current[key] ?? .null }
            guard current.stringValue == value else { return false }
        }
        if !resources.isEmpty, !resources.contains(entry["resourceType"]?.stringValue ?? "") { return false }
        if from != nil || to != nil {
            guard let text = entry["trigger"]?["at"]?.stringValue, let at = PortTimestamp.parse(text) else {
                return false
            }
            if let from, at < from { return false }
            if let to, at > to { return false }
        }
        return true
    }

    func project(_ entry: JSONObject) -> JSONObject {
        guard !includes.isEmpty else { return entry }
        var projected = JSONObject()
        for (key, value) in entry where includes.contains(key) { projected[key] = value }
        return projected
    }

    private static func date(_ request: HTTPRequest, _ name: String) throws(PortError) -> Date? {
        guard let text = request.query(name) else { return nil }
        guard let date = PortTimestamp.parse(text) else {
            throw .invalidRequest("querystring.\(name) must be an ISO 8601 date-time (got \"\(text)\")")
        }
        return date
    }
}
