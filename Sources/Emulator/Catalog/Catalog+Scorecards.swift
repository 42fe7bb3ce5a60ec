import PortCatalog
public import PortContract

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Scorecards, kept on their blueprint's model so that every entity read evaluates them.
extension Catalog {
    /// The blueprint's scorecards as the API shows them (404 for an unknown blueprint).
    public func scorecards(of blueprint: String) throws(PortError) -> [JSONValue] {
        try model(blueprint).scorecards.map { .object($0.definition) }
    }

    /// Every scorecard of every blueprint, blueprints in the order added.
    public var allScorecards: [JSONValue] {
        blueprints.flatMap { (try? scorecards(of: $0.identifier)) ?? [] }
    }

    /// One scorecard, or 404.
    public func scorecard(_ identifier: String, of blueprint: String) throws(PortError) -> JSONValue {
        guard let found = try model(blueprint).scorecards.first(where: { $0.identifier == identifier }) else {
            throw Self.scorecardNotFound(identifier, blueprint: blueprint)
        }
        return .object(found.definition)
    }

    /// Adds (`replace: false`: 409 when taken) or replaces (`replace: true`: 404 when
    /// missing) one scorecard, or with `upsert` either. Returns it as stored.
    @discardableResult
    public func putScorecard(
        _ body: JSONValue,
        of blueprint: String,
        identifier pathIdentifier: String? = nil,
        mode: ScorecardWrite,
        by author: String,
        at location: String = "body"
    ) throws(PortError) -> JSONValue {
        var body = body
        if let pathIdentifier, var object = body.objectValue {
            if let named = object["identifier"]?.stringValue, named != pathIdentifier {
                throw .invalidRequest(
                    "\(location).identifier \"\(named)\" differs from the path's \"\(pathIdentifier)\""
                )
            }
            object["identifier"] = .string(pathIdentifier)
            body = .object(object)
        }
        var scorecard = try Scorecard(body: body, blueprint: blueprint, at: location)
        let now = Date()
        return try updateModel(blueprint) { (model) throws(PortError) -> JSONValue in
            let index = model.scorecards.firstIndex { $0.identifier == scorecard.identifier }
            switch (mode, index) {
            case (.create, _?):
                throw PortError(
                    status: 409,
                    code: "identifier_taken",
                    message: "Blueprint \"\(blueprint)\" already has a scorecard \"\(scorecard.identifier)\"",
                    rule: "identifier-unique"
                )
            case (.replace, nil):
                throw Self.scorecardNotFound(scorecard.identifier, blueprint: blueprint)
            default:
                break
            }
            scorecard.stamp(at: now, by: author, keeping: index.map { model.scorecards[$0].definition })
            if let index { model.scorecards[index] = scorecard } else { model.scorecards.append(scorecard) }
            return .object(scorecard.definition)
        }
    }

    /// Deletes a scorecard, or 404.
    public func deleteScorecard(_ identifier: String, of blueprint: String) throws(PortError) {
        try updateModel(blueprint) { (model) throws(PortError) in
            guard model.scorecards.contains(where: { $0.identifier == identifier }) else {
                throw Self.scorecardNotFound(identifier, blueprint: blueprint)
            }
            model.scorecards.removeAll { $0.identifier == identifier }
        }
    }

    static func scorecardNotFound(_ identifier: String, blueprint: String) -> PortError {
        PortError(
            status: 404,
            code: "not_found",
            message: "Scorecard \"\(identifier)\" of blueprint \"\(blueprint)\" was not found",
            rule: "scorecard-exists"
        )
    }
}

/// How ``Catalog/putScorecard(_:of:identifier:mode:by:at:)`` treats an existing scorecard.
public enum ScorecardWrite: Sendable {
    /// A new one: an identifier in use is 409.
    case create
    /// An existing one: a missing one is 404.
    case replace
    /// Either.
    case upsert
}

extension Scorecard {
    /// With Port's `id` and authorship, keeping those of the `previous` version it replaces.
    mutating func stamp(at time: Date, by author: String, keeping previous: JSONObject? = nil) {
        definition["id"] = previous?["id"] ?? .string(PortIdentifier.make(prefix: "scorecard_"))
        definition["createdAt"] = previous?["createdAt"] ?? PortTimestamp.format(time)
        definition["createdBy"] = previous?["createdBy"] ?? .string(author)
        definition["updatedAt"] = PortTimestamp.format(time)
        definition["updatedBy"] = .string(author)
    }
}
