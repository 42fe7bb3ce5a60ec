import PortContract

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `port-emulator import`: reads an organization's definitions from Port's API (blueprints,
/// actions and automations, teams, users, scorecards and, optionally, entities) and writes
/// them as a fixtures directory that `serve --fixtures` loads unchanged.
///
/// What Port manages is left out (`createdAt`, `createdBy`, `updatedAt`, `updatedBy`, ids,
/// computed properties of entities), as are Port's system blueprints (`_user`, `_team`, ...)
/// and whatever leads to them. The client secret and the access token are never written;
/// the written files are checked for them before anything lands in the output.
package struct PortImport: Sendable {
    /// What to import, from where, and where to write it.
    package struct Settings: Sendable, Equatable {
        /// Port's API base URL, without `/v1` (see ``PortImport/normalizedBaseURL(_:)``).
        package var apiURL: String
        /// The client id.
        package var clientID: String
        /// The client secret: sent to `POST /v1/auth/access_token`, never written.
        package var clientSecret: String
        /// The fixtures directory to write.
        package var output: String
        /// Whether a non-empty `output` may be written into.
        package var force = false
        /// Whether to import every entity too.
        package var entities = false

        /// Settings for one import.
        package init(apiURL: String, clientID: String, clientSecret: String, output: String) {
            self.apiURL = apiURL
            self.clientID = clientID
            self.clientSecret = clientSecret
            self.output = output
        }
    }

    /// The settings.
    package let settings: Settings
    private let transport: any PortAPITransport
    private let progress: @Sendable (String) -> Void

    /// An import through `transport`, reporting progress lines (`blueprints: 4`, notes on
    /// what was skipped) to `progress`.
    package init(
        settings: Settings,
        transport: any PortAPITransport,
        progress: @escaping @Sendable (String) -> Void
    ) {
        self.settings = settings
        self.transport = transport
        self.progress = progress
    }

    /// The fields Port stamps on what it stores, which `serve` stamps again (and would
    /// otherwise keep as given): never imported.
    package static let managedFields: Set<String> = ["id", "createdAt", "createdBy", "updatedAt", "updatedBy"]

    /// The API base URL of `text`: an http(s) URL, with or without a trailing `/` or `/v1`.
    package static func normalizedBaseURL(_ text: String) throws(ImportError) -> String {
        var base = text.trimmingWhitespace()
        while base.hasSuffix("/") { base.removeLast() }
        if base.hasSuffix("/v1") { base.removeLast(3) }
        while base.hasSuffix("/") { base.removeLast() }
        guard let url = URL(string: base), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
            url.host != nil
        else {
            throw ImportError("--api-url '\(text)' is not an http(s) URL of Port's API (e.g. https://api.port.io)")
        }
        return base
    }

    /// Reads everything, then writes the fixtures directory; returns what was written.
    package func run() async throws(ImportError) -> ImportSummary {
        try FixtureWriter.checkOutput(settings.output, force: settings.force)
        let token = try await accessToken()
        var summary = ImportSummary(output: settings.output)
        var documents: [ImportKind: [FixtureDocument]] = [:]

        let blueprints = try await readBlueprints(token: token)
        documents[.blueprints] = blueprints.map { FixtureDocument(name: [$0.identifier], value: .object($0.body)) }
        summary.counts[.blueprints] = blueprints.count
        progress("blueprints: \(blueprints.count)")
        let imported = Set(blueprints.map(\.identifier))

        let actions = try await readActions(token: token, blueprints: imported)
        documents[.actions] = actions.documents
        summary.counts[.actions] = actions.documents.count
        summary.automations = actions.automations
        progress("actions: \(actions.documents.count) (\(actions.automations) automations)")

        for kind in [ImportKind.teams, .users, .scorecards] {
            guard let read = try await readOptional(kind, token: token, blueprints: imported) else { continue }
            documents[kind] = read
            summary.counts[kind] = read.count
            progress("\(kind.rawValue): \(read.count)")
        }

        if settings.entities {
            var entities: [FixtureDocument] = []
            var total = 0
            for blueprint in blueprints {
                let found = try await readEntities(of: blueprint, token: token)
                progress("entities of \(blueprint.identifier): \(found.count)")
                total += found.count
                if !found.isEmpty {
                    entities.append(
                        FixtureDocument(name: [blueprint.identifier], value: .array(found.map(JSONValue.object)))
                    )
                }
            }
            documents[.entities] = entities
            summary.counts[.entities] = total
        }

        try FixtureWriter(output: settings.output, secrets: [settings.clientSecret, token]).write(documents)
        return summary
    }

    // MARK: - Reading

    private func accessToken() async throws(ImportError) -> String {
        let request = PortAPIRequest(
            "POST",
            "/v1/auth/access_token",
            body: ["clientId": .string(settings.clientID), "clientSecret": .string(settings.clientSecret)]
        )
        let response = try await transport.send(request)
        if response.status == 401 || response.status == 403 {
            throw ImportError(
                "\(settings.apiURL) refused the client id and secret: POST /v1/auth/access_token answered "
                    + "\(response.status)\(reason(response))"
            )
        }
        guard (200..<300).contains(response.status) else { throw failure(request, response) }
        guard let token = response.json?["accessToken"]?.stringValue, !token.isEmpty else {
            throw ImportError(
                "\(settings.apiURL): POST /v1/auth/access_token answered no accessToken; is --api-url Port's API?"
            )
        }
        return token
    }

    /// `GET path`'s list under `key`; nil when `optional` and the route is not there (404).
    private func list(
        _ path: String,
        key: String,
        token: String,
        optional: Bool = false
    ) async throws(ImportError) -> [JSONObject]? {
        let request = PortAPIRequest("GET", path, token: token)
        let response = try await transport.send(request)
        if optional, response.status == 404 { return nil }
        guard (200..<300).contains(response.status) else { throw failure(request, response) }
        guard let items = response.json?[key]?.arrayValue else {
            throw ImportError("\(settings.apiURL): GET \(path) answered no \(key) list; is --api-url Port's API?")
        }
        var objects: [JSONObject] = []
        for item in items {
            guard let object = item.objectValue else {
                throw ImportError("\(settings.apiURL): GET \(path) answered a \(key) item that is \(item.typeName)")
            }
            objects.append(object)
        }
        return objects
    }

    /// A blueprint as it is written, with what its entities need to lose.
    struct ImportedBlueprint {
        let identifier: String
        var body: JSONObject
        /// Its computed properties (calculation, mirror, aggregation): Port computes them on read.
        var computed: Set<String> = []
        /// Relations dropped because they lead to a blueprint not imported.
        var droppedRelations: Set<String> = []
    }

    private func readBlueprints(token: String) async throws(ImportError) -> [ImportedBlueprint] {
        let all = try await list("/v1/blueprints", key: "blueprints", token: token) ?? []
        var identifiers: [String] = []
        for object in all {
            guard let identifier = object["identifier"]?.stringValue, !identifier.isEmpty else {
                throw ImportError("\(settings.apiURL): GET /v1/blueprints answered a blueprint without an identifier")
            }
            identifiers.append(identifier)
        }
        let system = Set(identifiers.filter(Self.isSystemBlueprint))
        if !system.isEmpty {
            progress(
                "blueprints: skipped Port's system blueprints \(system.sorted().joined(separator: ", ")) "
                    + "(Port makes them in every organization)"
            )
        }
        var blueprints: [ImportedBlueprint] = []
        for (identifier, object) in zip(identifiers, all) where !system.contains(identifier) {
            let blueprint = Self.blueprint(object, identifier: identifier, imported: { !Self.isSystemBlueprint($0) })
            if !blueprint.dropped.isEmpty {
                progress(
                    "blueprint \(identifier): dropped \(blueprint.dropped.joined(separator: ", ")) "
                        + "(they lead to a system blueprint, which is not imported)"
                )
            }
            blueprints.append(blueprint.imported)
        }
        return blueprints.sorted { $0.identifier.utf8.lexicographicallyPrecedes($1.identifier.utf8) }
    }

    /// Whether `identifier` is one of Port's system blueprints (`_user`, `_team`, `_rule`, ...).
    package static func isSystemBlueprint(_ identifier: String) -> Bool { identifier.hasPrefix("_") }

    /// A blueprint from `GET /v1/blueprints` as a fixture: without Port's stamps, and without
    /// the relations, mirror and aggregation properties and inherited ownership that lead to
    /// a blueprint for which `imported` is false (named in `dropped`).
    static func blueprint(
        _ object: JSONObject,
        identifier: String,
        imported: (String) -> Bool
    ) -> (imported: ImportedBlueprint, dropped: [String]) {
        var body = object
        for key in managedFields { body[key] = nil }
        var result = ImportedBlueprint(identifier: identifier, body: body)
        for section in ["calculationProperties", "mirrorProperties", "aggregationProperties"] {
            result.computed.formUnion(object[section]?.objectValue?.keys ?? [])
        }
        var dropped: [String] = []
        if var relations = body["relations"]?.objectValue {
            for (name, relation) in relations {
                guard let target = relation["target"]?.stringValue, !imported(target) else { continue }
                relations[name] = nil
                result.droppedRelations.insert(name)
                dropped.append("relations.\(name)")
            }
            body["relations"] = .object(relations)
        }
        if var aggregations = body["aggregationProperties"]?.objectValue {
            for (name, aggregation) in aggregations {
                guard let target = aggregation["target"]?.stringValue, !imported(target) else { continue }
                aggregations[name] = nil
                dropped.append("aggregationProperties.\(name)")
            }
            body["aggregationProperties"] = .object(aggregations)
        }
        func leadsThroughDropped(_ path: JSONValue?) -> Bool {
            guard let path = path?.stringValue, let first = path.split(separator: ".").first else { return false }
            return result.droppedRelations.contains(String(first))
        }
        if var mirrors = body["mirrorProperties"]?.objectValue {
            for (name, mirror) in mirrors where leadsThroughDropped(mirror["path"]) {
                mirrors[name] = nil
                dropped.append("mirrorProperties.\(name)")
            }
            body["mirrorProperties"] = .object(mirrors)
        }
        if leadsThroughDropped(body["ownership"]?["path"]) {
            body["ownership"] = nil
            dropped.append("ownership")
        }
        result.body = body
        return (result, dropped)
    }

    private func readActions(
        token: String,
        blueprints: Set<String>
    ) async throws(ImportError) -> (documents: [FixtureDocument], automations: Int) {
        // v2: Port's current shape, self-service actions and automations alike.
        let all = try await list("/v1/actions?version=v2", key: "actions", token: token) ?? []
        var documents: [FixtureDocument] = []
        var automations = 0
        for object in all {
            var body = object
            for key in Self.managedFields { body[key] = nil }
            guard let identifier = body["identifier"]?.stringValue, !identifier.isEmpty else {
                throw ImportError("\(settings.apiURL): GET /v1/actions answered an action without an identifier")
            }
            let definition: ActionDefinition
            do {
                definition = try ActionDefinition(definition: .object(body))
            } catch {
                progress("action \(identifier): skipped: serve would refuse it: \(error.message)")
                continue
            }
            if let blueprint = definition.blueprintIdentifier, !blueprints.contains(blueprint) {
                progress("action \(identifier): skipped: its blueprint \(blueprint) is not imported")
                continue
            }
            if definition.automation != nil { automations += 1 }
            documents.append(FixtureDocument(name: [identifier], value: .object(body)))
        }
        documents.sort { $0.name.joined().utf8.lexicographicallyPrecedes($1.name.joined().utf8) }
        return (documents, automations)
    }

    /// Teams, users or scorecards; nil (with a note) when this Port does not serve them.
    private func readOptional(
        _ kind: ImportKind,
        token: String,
        blueprints: Set<String>
    ) async throws(ImportError) -> [FixtureDocument]? {
        let path = "/v1/\(kind.rawValue)"
        guard let all = try await list(path, key: kind.rawValue, token: token, optional: true) else {
            progress("\(kind.rawValue): GET \(path) is not served by this Port; skipped")
            return nil
        }
        var documents: [FixtureDocument] = []
        for object in all {
            var body = object
            for key in Self.managedFields { body[key] = nil }
            let name: [String]
            switch kind {
            case .teams, .users:
                let key = kind == .teams ? "name" : "email"
                guard let value = body[key]?.stringValue, !value.isEmpty else {
                    progress("\(kind.rawValue): skipped one without a \(key): \(JSONValue.object(body).compactText)")
                    continue
                }
                name = [value]
            default:
                guard let blueprint = body["blueprint"]?.stringValue, let identifier = body["identifier"]?.stringValue
                else {
                    progress("scorecards: skipped one without a blueprint and an identifier")
                    continue
                }
                guard blueprints.contains(blueprint) else {
                    progress("scorecard \(identifier) of \(blueprint): skipped: its blueprint is not imported")
                    continue
                }
                name = [blueprint, identifier]
            }
            documents.append(FixtureDocument(name: name, value: .object(body)))
        }
        documents.sort {
            $0.name.joined(separator: ".").utf8.lexicographicallyPrecedes($1.name.joined(separator: ".").utf8)
        }
        return documents
    }

    /// Every entity of `blueprint`, through Port's paged search (`next`, 1000 a page).
    private func readEntities(of blueprint: ImportedBlueprint, token: String) async throws(ImportError) -> [JSONObject]
    {
        let path = "/v1/blueprints/\(Self.escape(blueprint.identifier))/entities/search"
        var byIdentifier: [String: JSONObject] = [:]
        var from: String?
        var seen: Set<String> = []
        repeat {
            var body: JSONObject = ["limit": 1000]
            body["from"] = from.map(JSONValue.string)
            let request = PortAPIRequest("POST", path, body: .object(body), token: token)
            let response = try await transport.send(request)
            guard (200..<300).contains(response.status) else { throw failure(request, response) }
            guard let page = response.json?["entities"]?.arrayValue else {
                throw ImportError("\(settings.apiURL): POST \(path) answered no entities list")
            }
            for item in page {
                guard let object = item.objectValue, let identifier = object["identifier"]?.stringValue else {
                    throw ImportError("\(settings.apiURL): POST \(path) answered an entity without an identifier")
                }
                byIdentifier[identifier] = Self.entity(object, of: blueprint)
            }
            from = response.json?["next"]?.stringValue
            if let next = from, !seen.insert(next).inserted {
                throw ImportError("\(settings.apiURL): POST \(path) answered the same next page twice")
            }
        } while from != nil
        return byIdentifier.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }.map(\.value)
    }

    /// An entity as a fixture: without Port's stamps, computed properties and scorecard
    /// results (Port computes them on read; serve does too) and relations its blueprint
    /// lost; with its blueprint.
    static func entity(_ object: JSONObject, of blueprint: ImportedBlueprint) -> JSONObject {
        var entity = object
        for key in managedFields { entity[key] = nil }
        entity["scorecards"] = nil
        entity["blueprint"] = .string(blueprint.identifier)
        if var properties = entity["properties"]?.objectValue {
            for name in blueprint.computed { properties[name] = nil }
            entity["properties"] = .object(properties)
        }
        if var relations = entity["relations"]?.objectValue {
            for name in blueprint.droppedRelations { relations[name] = nil }
            entity["relations"] = .object(relations)
        }
        return entity
    }

    /// `text` escaped for one path segment (a `/` in an identifier included).
    static func escape(_ text: String) -> String {
        text.percentEncoded()
    }

    /// ` (code: message)` from Port's error body, or nothing.
    private func reason(_ response: PortAPIResponse) -> String {
        guard let json = response.json else { return "" }
        let parts = [json["error"]?.stringValue, json["message"]?.stringValue].compactMap { $0 }
        guard !parts.isEmpty else { return "" }
        var text = parts.joined(separator: ": ")
        if text.count > 300 { text = String(text.prefix(300)) + "…" }
        if settings.clientSecret.count >= FixtureWriter.minimumSecretLength {
            text = text.replacing(settings.clientSecret, with: "***")
        }
        return " (\(text))"
    }

    private func failure(_ request: PortAPIRequest, _ response: PortAPIResponse) -> ImportError {
        ImportError(
            "\(settings.apiURL): \(request.method) \(request.path) answered \(response.status)\(reason(response))"
        )
    }
}

/// The kinds `import` writes, each a directory of the fixtures.
package enum ImportKind: String, CaseIterable, Sendable, Comparable {
    /// `blueprints/<identifier>.json`.
    case blueprints
    /// `actions/<identifier>.json`: self-service actions and automations.
    case actions
    /// `teams/<name>.json`.
    case teams
    /// `users/<email>.json`.
    case users
    /// `scorecards/<blueprint>.<identifier>.json`.
    case scorecards
    /// `entities/<blueprint>.json`: a list of the blueprint's entities.
    case entities

    /// In the order they are read and listed.
    package static func < (lhs: ImportKind, rhs: ImportKind) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// What one import wrote.
package struct ImportSummary: Sendable, Equatable {
    /// The fixtures directory.
    package let output: String
    /// How many of each kind were written; a kind not read (not served, or entities without
    /// `--entities`) is absent.
    package var counts: [ImportKind: Int] = [:]
    /// How many of the actions are automations.
    package var automations = 0

    /// A summary of nothing yet, for `output`.
    package init(output: String) {
        self.output = output
    }

    /// `wrote DIR: 4 blueprints, 11 actions (3 automations), ...`.
    package var line: String {
        let parts = counts.keys.sorted().map { kind in
            let count = counts[kind] ?? 0
            return kind == .actions ? "\(count) actions (\(automations) automations)" : "\(count) \(kind.rawValue)"
        }
        return "wrote \(output): " + parts.joined(separator: ", ")
    }
}
