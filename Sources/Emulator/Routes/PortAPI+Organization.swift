import HTTPServer
import PortContract
import StateLog
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The organization as Port's API shows it (`GET /v1/organization`): its id, name,
/// settings (which `PATCH /v1/organization` changes) and no feature flags. port-agent writes
/// `settings.portAgentStreamerName` there at start-up (contract §6).
final class OrganizationStore: Sendable {
    private struct State {
        var name: String
        var settings = JSONObject()
        /// Other members a PATCH set (`announcement`, `isOnboarded`…), shown as sent.
        var others = JSONObject()
        var updatedAt: Date
        var createdAt: Date
    }

    let id: String
    private let state: Mutex<State>
    /// Where changes are recorded (`--state-dir`).
    private let stateLog: StateLog?

    init(orgID: String, stateLog: StateLog? = nil) {
        id = orgID
        let now = Date()
        state = Mutex(State(name: orgID, updatedAt: now, createdAt: now))
        self.stateLog = stateLog
    }

    /// The organization object of `GET /v1/organization`.
    var json: JSONValue {
        state.withLock { state in
            var organization: JSONObject = [
                "id": .string(id), "name": .string(state.name), "settings": .object(state.settings),
                "createdAt": PortTimestamp.format(state.createdAt), "updatedAt": PortTimestamp.format(state.updatedAt),
                // None of Port's feature flags: Ocean reads the list, and two of them
                // (LAKEHOUSE_ELIGIBLE, DATA_SOURCE_PROCESSOR_ENABLED) would make it skip upserts.
                "featureFlags": [],
            ]
            for (key, value) in state.others where organization[key] == nil { organization[key] = value }
            return .object(organization)
        }
    }

    /// The value of one setting, if set.
    func setting(_ name: String) -> JSONValue? { state.withLock { $0.settings[name] } }

    /// Applies a PATCH body already checked against the schema: `name` replaces, `settings`
    /// merges key by key, anything else replaces its member.
    func patch(_ body: JSONObject) {
        state.withLock { state in
            for (key, value) in body {
                switch key {
                case "name": state.name = value.stringValue ?? state.name
                case "settings":
                    for (setting, setValue) in value.objectValue ?? [:] { state.settings[setting] = setValue }
                default: state.others[key] = value
                }
            }
            state.updatedAt = Date()
            stateLog.record(.organization, "org", Self.stateRecord(of: state))
        }
    }

    /// Back to the name and no settings (`POST /_emulator/reset`).
    func reset() {
        state.withLock { state in
            state = State(name: id, updatedAt: Date(), createdAt: state.createdAt)
            stateLog.record(.organization, "org", Self.stateRecord(of: state))
        }
    }

    private static func stateRecord(of state: State) -> JSONObject {
        [
            "name": .string(state.name), "settings": .object(state.settings), "others": .object(state.others),
            "createdAt": state.createdAt.stateJSON, "updatedAt": state.updatedAt.stateJSON,
        ]
    }

    /// Applies one record of the organization (`--state-dir`'s load). Records nothing.
    func restore(_ kind: String, _ fields: JSONObject) throws(StateCodecError) {
        guard kind == "org" else {
            throw StateCodecError(field: "k", reason: "\"\(kind)\" is not a kind of the organization's records")
        }
        let record = try StateFields(.object(fields), "org")
        let restored = State(
            name: try record.string("name"),
            settings: try record.objectValue("settings"),
            others: try record.objectValue("others"),
            updatedAt: try record.date("updatedAt"),
            createdAt: try record.date("createdAt")
        )
        state.withLock { $0 = restored }
    }

    /// The organization as one record, and the last log record it includes.
    func stateSection() -> StateSection {
        let (copy, fence) = state.withLock { ($0, stateLog.fence) }
        return StateSection(
            store: .organization,
            fence: fence,
            records: [StateRecords.payload(.organization, "org", Self.stateRecord(of: copy))]
        )
    }
}

extension PortAPI {
    func registerOrganizationRoutes(on router: inout PortRouter) {
        addRoute(
            &router,
            .get,
            "/v1/organization",
            route { (_, _) throws(PortError) in ok(["organization": organization.json]) }
        )
        addRoute(
            &router,
            .patch,
            "/v1/organization",
            route { (request, _) throws(PortError) in
                let body = try JSONBody(request).value
                try PortRequestSchemas.check(body, against: PortRequestSchemas.organizationSchema)
                organization.patch(body.objectValue ?? [:])
                return ok([:])
            }
        )
    }
}

extension PortRequestSchemas {
    /// `PATCH /v1/organization`: Port's body, less the `name` it requires (port-agent sends
    /// none), plus `settings.portAgentStreamerName` (see scripts/make-openapi.py).
    static let organizationSchema = requestSchema("patch", "/v1/organization")
}
