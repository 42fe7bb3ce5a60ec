import HTTPServer
import PortContract
import StateLog
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The organization's secrets (contract §8): `{{ .secrets.NAME }}` in payload templates.
/// Created with `POST /v1/organization/secrets`, changed and deleted by name; their values
/// are never answered. `--secret NAME=VALUE` ones are there from the start.
///
/// With `--state-dir` only their names, descriptions and dates are kept, never their values:
/// after a restart a secret created through the API is listed without a value until it is
/// given again (`PATCH`, or `--secret`): until then a template reads it as `null`.
final class SecretStore: Sendable {
    private struct Secret {
        /// `nil` for a secret restored from `--state-dir` and not given again.
        var value: String?
        var description: String?
        let createdAt: Date
        var updatedAt: Date
    }

    private struct State {
        var secrets: [String: Secret] = [:]
    }

    private let initial: State
    private let state: Mutex<State>
    /// Where changes are recorded (`--state-dir`): metadata only.
    private let stateLog: StateLog?

    init(_ secrets: [String: String], stateLog: StateLog? = nil) {
        self.stateLog = stateLog
        var initial = State()
        let now = Date()
        for (name, value) in secrets {
            initial.secrets[name] = Secret(value: value, description: nil, createdAt: now, updatedAt: now)
        }
        self.initial = initial
        state = Mutex(initial)
    }

    /// `.secrets` of a template's context: every name with its value.
    var values: JSONObject {
        state.withLock { state in
            JSONObject(
                state.secrets.sorted { $0.key < $1.key }.compactMap { name, secret in
                    secret.value.map { (name, JSONValue.string($0)) }
                }
            )
        }
    }

    /// What the API shows of one secret: never its value.
    private static func json(_ name: String, _ secret: Secret) -> JSONValue {
        var object: JSONObject = ["secretName": .string(name)]
        object["description"] = secret.description.map(JSONValue.string)
        object["createdAt"] = PortTimestamp.format(secret.createdAt)
        object["updatedAt"] = PortTimestamp.format(secret.updatedAt)
        return .object(object)
    }

    var list: [JSONValue] {
        state.withLock { state in state.secrets.sorted { $0.key < $1.key }.map { Self.json($0.key, $0.value) } }
    }

    func show(_ name: String) throws(PortError) -> JSONValue {
        guard let secret = state.withLock({ $0.secrets[name] }) else { throw Self.notFound(name) }
        return Self.json(name, secret)
    }

    func create(_ name: String, value: String, description: String?) throws(PortError) -> JSONValue {
        let now = Date()
        return try state.withLock { (state) throws(PortError) -> JSONValue in
            guard state.secrets[name] == nil else {
                throw PortError(
                    status: 409,
                    code: "identifier_taken",
                    message: "A secret named \"\(name)\" already exists",
                    rule: "secret-name-unique"
                )
            }
            let secret = Secret(value: value, description: description, createdAt: now, updatedAt: now)
            state.secrets[name] = secret
            stateLog.record(.secrets, "sec", Self.stateRecord(name, secret))
            return Self.json(name, secret)
        }
    }

    func update(_ name: String, value: String?, description: String?) throws(PortError) -> JSONValue {
        try state.withLock { (state) throws(PortError) -> JSONValue in
            guard var secret = state.secrets[name] else { throw Self.notFound(name) }
            if let value { secret.value = value }
            if let description { secret.description = description }
            secret.updatedAt = Date()
            state.secrets[name] = secret
            stateLog.record(.secrets, "sec", Self.stateRecord(name, secret))
            return Self.json(name, secret)
        }
    }

    func delete(_ name: String) throws(PortError) {
        try state.withLock { (state) throws(PortError) in
            guard state.secrets.removeValue(forKey: name) != nil else { throw Self.notFound(name) }
            stateLog.record(.secrets, "sec-", ["name": .string(name)])
        }
    }

    /// Back to the secrets given at start-up (`POST /_emulator/reset`).
    func reset() {
        state.withLock { state in
            state = initial
            stateLog.record(.secrets, StateRecords.reset, [:])
        }
    }

    /// A secret's record: never its value.
    private static func stateRecord(_ name: String, _ secret: Secret) -> JSONObject {
        [
            "name": .string(name), "description": secret.description.stateJSON,
            "createdAt": secret.createdAt.stateJSON, "updatedAt": secret.updatedAt.stateJSON,
        ]
    }

    /// Applies one record of the secrets (`--state-dir`'s load). Records nothing. A secret
    /// given at start (`--secret`) keeps that value; any other comes back without one.
    func restore(_ kind: String, _ fields: JSONObject) throws(StateCodecError) {
        let record = try StateFields(.object(fields), "secret")
        switch kind {
        case "sec":
            let name = try record.string("name")
            let secret = Secret(
                value: initial.secrets[name]?.value,
                description: try record.optionalString("description"),
                createdAt: try record.date("createdAt"),
                updatedAt: try record.date("updatedAt")
            )
            state.withLock { $0.secrets[name] = secret }
        case "sec-":
            let name = try record.string("name")
            state.withLock { $0.secrets[name] = nil }
        case StateRecords.reset: state.withLock { $0 = initial }
        default: throw StateCodecError(field: "k", reason: "\"\(kind)\" is not a kind of the secrets' records")
        }
    }

    /// The secrets' metadata as records, and the last log record it includes.
    func stateSection() -> StateSection {
        let (copy, fence) = state.withLock { ($0, stateLog.fence) }
        // Secrets given at start that are gone stay gone.
        var records = initial.secrets.keys.sorted().filter { copy.secrets[$0] == nil }.map {
            StateRecords.payload(.secrets, "sec-", ["name": .string($0)])
        }
        records += copy.secrets.sorted { $0.key < $1.key }.map {
            StateRecords.payload(.secrets, "sec", Self.stateRecord($0.key, $0.value))
        }
        return StateSection(store: .secrets, fence: fence, records: records)
    }

    private static func notFound(_ name: String) -> PortError {
        PortError(status: 404, code: "not_found", message: "Secret \"\(name)\" was not found", rule: "secret-exists")
    }
}

extension PortAPI {
    /// `/v1/organization/secrets`: create, list, show (never the value), change, delete.
    func registerSecretRoutes(on router: inout PortRouter) {
        let path = "/v1/organization/secrets"
        addRoute(&router, .get, path, route { (_, _) throws(PortError) in ok(["secrets": .array(secrets.list)]) })
        addRoute(
            &router,
            .post,
            path,
            route { (request, _) throws(PortError) in
                let body = try JSONBody(request).value
                try PortRequestSchemas.check(body, against: PortRequestSchemas.newSecretSchema)
                let secret = try secrets.create(
                    body["secretName"]?.stringValue ?? "",
                    value: body["secretValue"]?.stringValue ?? "",
                    description: body["description"]?.stringValue
                )
                return ok(["secret": secret], status: 201)
            }
        )
        addRoute(
            &router,
            .get,
            path + "/:name",
            route { (request, _) throws(PortError) in ok(["secret": try secrets.show(request.parameter("name")!)]) }
        )
        addRoute(
            &router,
            .patch,
            path + "/:name",
            route { (request, _) throws(PortError) in
                let body = try JSONBody(request).value
                try PortRequestSchemas.check(body, against: PortRequestSchemas.secretPatchSchema)
                let secret = try secrets.update(
                    request.parameter("name")!,
                    value: body["secretValue"]?.stringValue,
                    description: body["description"]?.stringValue
                )
                return ok(["secret": secret])
            }
        )
        addRoute(
            &router,
            .delete,
            path + "/:name",
            route { (request, _) throws(PortError) in
                try secrets.delete(request.parameter("name")!)
                return ok([:])
            }
        )
    }
}

extension PortRequestSchemas {
    /// `POST /v1/organization/secrets`: Port's body (name `^[A-Za-z0-9-_]*$`, 1–100 characters).
    static let newSecretSchema = requestSchema("post", "/v1/organization/secrets")
    /// `PATCH /v1/organization/secrets/{secret_name}`: a new value and/or description.
    static let secretPatchSchema = requestSchema("patch", "/v1/organization/secrets/{secret_name}")
}
