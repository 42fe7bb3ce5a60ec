import HTTPServer
import PortCatalog
import PortContract

/// Port's renames of a blueprint's property, mirror property and relation. Choices
/// (`fixtures/README.md`): stored entities' values move to the new name (without change-log
/// messages: the entities did not change); a renamed relation's mirror paths follow it;
/// calculations and saved queries that name the old identifier are not rewritten; the new
/// name must be free (409 `identifier_taken`).
extension PortAPI {
    func registerRenameRoutes(on router: inout PortRouter) {
        for (segment, field, kind) in [
            ("properties", "newPropertyName", RenameKind.property), ("mirror", "newMirrorName", .mirror),
            ("relations", "newRelationIdentifier", .relation),
        ] {
            addRoute(
                &router,
                .patch,
                "/v1/blueprints/:blueprint/\(segment)/:name/rename",
                route { (request, client) throws(PortError) in
                    let body = try optionalObject(request)
                    if let unknown = body.keys.first(where: { $0 != field }) {
                        throw .invalidRequest("body.\(unknown) is not allowed (only \(field))")
                    }
                    guard let newName = body[field]?.stringValue, Self.isRenameTarget(newName) else {
                        throw .invalidRequest(
                            "body.\(field) is required: letters, digits and @_=- (at most 100 characters)"
                        )
                    }
                    let blueprint = request.parameter("blueprint")!
                    let old = request.parameter("name")!
                    let before = try catalog.model(blueprint)
                    let renamed = try catalog.update(
                        blueprint,
                        with: try Self.renaming(kind, old, to: newName, in: try catalog.blueprint(blueprint)),
                        merge: false,
                        by: client,
                        check: { (body) throws(PortError) in try PortRequestSchemas.blueprint(from: body) }
                    )
                    if kind != .mirror {
                        runs.rename(
                            kind == .relation ? .relation : .property,
                            old,
                            to: newName,
                            of: blueprint,
                            from: before,
                            to: try catalog.model(blueprint)
                        )
                    }
                    return ok(["blueprint": renamed.json])
                }
            )
        }
    }

    enum RenameKind { case property, mirror, relation }

    private static func isRenameTarget(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 100
            && name.unicodeScalars.allSatisfy { scalar in
                (scalar.isASCII && (CharacterSetASCII.alphanumerics(scalar))) || "@_=-".unicodeScalars.contains(scalar)
            }
    }

    /// The blueprint's definition with one member renamed.
    private static func renaming(
        _ kind: RenameKind,
        _ old: String,
        to new: String,
        in blueprint: Blueprint
    ) throws(PortError) -> JSONValue {
        var definition = blueprint.definition
        func move(_ key: String, in object: inout JSONObject, what: String) throws(PortError) {
            guard let value = object[key] else {
                throw PortError(
                    status: 404,
                    code: "not_found",
                    message: "Blueprint \"\(blueprint.identifier)\" has no \(what) \"\(key)\"",
                    rule: "blueprint-member-exists"
                )
            }
            guard object[new] == nil else {
                throw .identifierTaken(new, blueprint: blueprint.identifier)
            }
            var renamed = JSONObject()
            for (name, member) in object { renamed[name == key ? new : name] = member }
            object = renamed
            _ = value
        }
        switch kind {
        case .property:
            var schema = definition["schema"]?.objectValue ?? [:]
            var properties = schema["properties"]?.objectValue ?? [:]
            try move(old, in: &properties, what: "property")
            schema["properties"] = .object(properties)
            if let required = schema["required"]?.arrayValue {
                schema["required"] = .array(required.map { $0.stringValue == old ? .string(new) : $0 })
            }
            definition["schema"] = .object(schema)
        case .mirror:
            var mirrors = definition["mirrorProperties"]?.objectValue ?? [:]
            try move(old, in: &mirrors, what: "mirror property")
            definition["mirrorProperties"] = .object(mirrors)
        case .relation:
            var relations = definition["relations"]?.objectValue ?? [:]
            try move(old, in: &relations, what: "relation")
            definition["relations"] = .object(relations)
            var mirrors = JSONObject()
            for (name, mirror) in definition["mirrorProperties"]?.objectValue ?? [:] {
                guard var object = mirror.objectValue, let path = object["path"]?.stringValue,
                    path == old || path.hasPrefix(old + ".")
                else {
                    mirrors[name] = mirror
                    continue
                }
                object["path"] = .string(new + path.dropFirst(old.count))
                mirrors[name] = .object(object)
            }
            if definition["mirrorProperties"] != nil { definition["mirrorProperties"] = .object(mirrors) }
        }
        return .object(definition)
    }
}

/// ASCII letters and digits.
private enum CharacterSetASCII {
    static func alphanumerics(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
    }
}
