import HTTPServer
import PortContract

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Records each successful write of Port's API to a blueprint, an action or automation, a
/// scorecard or an integration in the audit log, with the object the answer returned.
/// (Entity changes and runs are recorded where they happen, with their before and after.)
struct AuditMiddleware: HTTPMiddleware {
    let audit: AuditLog
    let orgID: String

    func didHandle(
        _ request: HTTPRequest,
        context: inout PortRequestContext,
        response: inout HTTPResponse,
        error: (any Error)?
    ) {
        guard (200..<300).contains(response.status), let action = Self.actions[request.method],
            let (resource, key, context: scope) = Self.resource(of: request.path)
        else { return }
        let answer = (try? JSONValue.parse(response.body))?[key]
        var contextObject = scope
        let identifier = answer?["identifier"] ?? answer?["name"] ?? scope[resource] ?? .null
        contextObject[resource] = identifier
        audit.record([
            "action": .string(action), "resourceType": .string(resource), "status": "SUCCESS",
            "trigger": [
                "by": ["orgId": .string(orgID), "userId": .string(context.clientID ?? "")],
                "origin": "API", "at": PortTimestamp.format(Date()),
            ],
            "context": .object(contextObject),
            "diff": ["before": .null, "after": action == "DELETE" ? .null : (answer ?? .null)],
            "additionalData": [:],
            "message": .string("\(request.method) \(request.path)"),
        ])
    }

    private static let actions: [String: String] = [
        "POST": "CREATE", "PUT": "UPDATE", "PATCH": "UPDATE", "DELETE": "DELETE",
    ]

    /// The resource a write path changes, the answer's member holding it, and its context.
    private static func resource(of path: String) -> (String, String, context: JSONObject)? {
        let parts = path.split(separator: "/").map(String.init)
        guard parts.count >= 2, parts[0] == "v1" else { return nil }
        switch (parts[1], parts.count) {
        case ("blueprints", 2): return ("blueprint", "blueprint", [:])
        case ("blueprints", 3): return ("blueprint", "blueprint", ["blueprint": .string(parts[2])])
        case ("blueprints", 4...) where parts[3] == "scorecards":
            var scope: JSONObject = ["blueprint": .string(parts[2])]
            if parts.count > 4 { scope["scorecard"] = .string(parts[4]) }
            return ("scorecard", "scorecard", scope)
        case ("actions", 2): return ("action", "action", [:])
        case ("actions", 3) where parts[2] != "runs": return ("action", "action", ["action": .string(parts[2])])
        case ("integration", 2): return ("integration", "integration", [:])
        case ("integration", 3...) where !["resync-state", "kinds"].contains(parts.count > 3 ? parts[3] : ""):
            return ("integration", "integration", ["integration": .string(parts[2])])
        default: return nil
        }
    }
}
