public import PortContract

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The two shapes Port returns a run in: `?version=v2`, or the default (v1) of Port's docs.
public enum RunShape: String, Sendable {
    /// Port's documented default: `action` is the identifier string.
    case v1
    /// The current shape: `action` and `blueprint` are objects.
    case v2
}

extension ActionRun {
    /// The run as Port's API returns it.
    public func json(_ shape: RunShape) -> JSONValue {
        let blueprint = request.blueprintIdentifier
        let blueprintTitle = JSONValue.string(request.blueprintTitle ?? blueprint ?? "")
        let entityTitle = JSONValue.string(request.entityTitle ?? request.entityIdentifier ?? "")
        var object: JSONObject = [
            "id": .string(id),
            "status": .string(status.rawValue),
            "statusLabel": statusLabel.map(JSONValue.string) ?? .null,
            "link": .array(links.map(JSONValue.string)),
            "summary": summary.map(JSONValue.string) ?? .null,
            "externalRunId": externalRunId.map(JSONValue.string) ?? .null,
            "endedAt": PortTimestamp.format(endedAt),
            "source": .string(request.source.rawValue),
            "requiredApproval": .bool(request.requiredApproval),
            "properties": .object(request.properties),
        ]
        switch shape {
        case .v2:
            // Port's OpenAPI types these as non-null: absent until they have a value.
            for key in ["endedAt", "summary"] where object[key] == .null { object[key] = nil }
            object["rawProperties"] = .object(request.properties)
            object["blueprint"] = blueprint.map {
                .object(["identifier": .string($0), "title": blueprintTitle, "icon": .null, "deleted": false])
            }
            object["entity"] = request.entityIdentifier.map {
                .object(["identifier": .string($0), "title": entityTitle, "deleted": false])
            }
            object["action"] = .object([
                "identifier": .string(request.action.identifier),
                "title": request.action.title.map(JSONValue.string) ?? .null,
                "icon": request.action.icon.map(JSONValue.string) ?? .null,
                "deleted": false,
            ])
            object["approval"] = approval.map(JSONValue.object) ?? .null
            object["payload"] = .null
            object["response"] = response
        case .v1:
            object["action"] = .string(request.action.identifier)
            if let blueprint {
                object["blueprint"] = .object(["identifier": .string(blueprint), "title": blueprintTitle])
            }
            if let entity = request.entityIdentifier {
                object["entity"] = .object(["identifier": .string(entity), "title": entityTitle])
            }
            object["relatedEntityExists"] = .bool(request.entityIdentifier != nil)
            object["relatedBlueprintExists"] = .bool(blueprint != nil)
            object["approval"] = approval.map(JSONValue.object) ?? .null
        }
        object["createdBy"] = .string(request.createdBy)
        object["updatedBy"] = .string(updatedBy)
        object["createdAt"] = PortTimestamp.format(createdAt)
        object["updatedAt"] = PortTimestamp.format(updatedAt)
        return .object(object)
    }
}

extension RunLog {
    /// The log as Port's API returns it.
    public var json: JSONValue {
        [
            "id": .string(id), "runId": .string(runId), "message": .string(message),
            "createdBy": .string(createdBy), "createdAt": PortTimestamp.format(createdAt),
        ]
    }
}
