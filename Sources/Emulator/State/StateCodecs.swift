package import PortCatalog
package import PortContract

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Lossless JSON for what `--state-dir` keeps: unlike the API's shapes (`json`), every field
/// is written, and dates as their exact `timeIntervalSinceReferenceDate`, so that a value read
/// back is `==` to the one written.
package protocol StateCodable {
    /// The value as a state record's JSON.
    var stateJSON: JSONValue { get }
    /// The value `state` holds; throws naming the field that is missing or wrong.
    init(state: JSONValue) throws(StateCodecError)
}

/// A state record that is not what its kind says: the field at fault and why.
package struct StateCodecError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The field, as a path (`run.request.action`).
    package let field: String
    /// What is wrong with it.
    package let reason: String

    /// `field: reason`.
    package var description: String { "\(field): \(reason)" }
}

/// Reads the fields of one state object, naming each failure by its path.
struct StateFields {
    let object: JSONObject
    let path: String

    init(_ value: JSONValue, _ path: String) throws(StateCodecError) {
        guard case .object(let object) = value else { throw StateCodecError(field: path, reason: "not an object") }
        self.object = object
        self.path = path
    }

    func error(_ key: String, _ reason: String) -> StateCodecError {
        StateCodecError(field: path.isEmpty ? key : "\(path).\(key)", reason: reason)
    }

    func value(_ key: String) -> JSONValue { object[key] ?? .null }

    func string(_ key: String) throws(StateCodecError) -> String {
        guard case .string(let text)? = object[key] else { throw error(key, "not a string") }
        return text
    }

    func optionalString(_ key: String) throws(StateCodecError) -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let text)?: return text
        default: throw error(key, "not a string or null")
        }
    }

    func int(_ key: String) throws(StateCodecError) -> Int {
        guard case .int(let number)? = object[key] else { throw error(key, "not an integer") }
        return Int(number)
    }

    func bool(_ key: String) throws(StateCodecError) -> Bool {
        guard case .bool(let flag)? = object[key] else { throw error(key, "not a boolean") }
        return flag
    }

    func date(_ key: String) throws(StateCodecError) -> Date {
        switch object[key] {
        case .double(let seconds)?: return Date(timeIntervalSinceReferenceDate: seconds)
        case .int(let seconds)?: return Date(timeIntervalSinceReferenceDate: Double(seconds))
        default: throw error(key, "not a date (seconds since 2001)")
        }
    }

    func optionalDate(_ key: String) throws(StateCodecError) -> Date? {
        if case nil = object[key] { return nil }
        if case .null? = object[key] { return nil }
        return try date(key)
    }

    func objectValue(_ key: String) throws(StateCodecError) -> JSONObject {
        guard case .object(let object)? = object[key] else { throw error(key, "not an object") }
        return object
    }

    func optionalObject(_ key: String) throws(StateCodecError) -> JSONObject? {
        switch object[key] {
        case nil, .null?: return nil
        case .object(let object)?: return object
        default: throw error(key, "not an object or null")
        }
    }

    func strings(_ key: String) throws(StateCodecError) -> [String] {
        guard case .array(let items)? = object[key] else { throw error(key, "not a list") }
        var strings: [String] = []
        for item in items {
            guard case .string(let text) = item else { throw error(key, "not a list of strings") }
            strings.append(text)
        }
        return strings
    }

    func enumeration<Value: RawRepresentable>(_ key: String, _: Value.Type) throws(StateCodecError) -> Value
    where Value.RawValue == String {
        guard let value = Value(rawValue: try string(key)) else { throw error(key, "not a known value") }
        return value
    }

    func nested<Value: StateCodable>(_ key: String, _: Value.Type) throws(StateCodecError) -> Value {
        do {
            return try Value(state: value(key))
        } catch {
            // The nested value names its fields from its own root (`action.identifier`): the
            // root becomes this field.
            let inner = error.field.split(separator: ".", maxSplits: 1)
            let rest = inner.count > 1 ? ".\(inner[1])" : ""
            throw StateCodecError(field: "\(path.isEmpty ? key : "\(path).\(key)")\(rest)", reason: error.reason)
        }
    }

    func optionalNested<Value: StateCodable>(_ key: String, _ type: Value.Type) throws(StateCodecError) -> Value? {
        if case .null = value(key) { return nil }
        return try nested(key, type)
    }
}

extension Date {
    /// The date as a state record writes it: exact seconds since 2001.
    var stateJSON: JSONValue { .double(timeIntervalSinceReferenceDate) }
}

extension Optional where Wrapped == String {
    var stateJSON: JSONValue { map(JSONValue.string) ?? .null }
}

extension Entity: StateCodable {
    package var stateJSON: JSONValue {
        [
            "identifier": .string(identifier), "blueprint": .string(blueprint), "title": .string(title),
            "icon": icon.stateJSON, "team": team, "properties": .object(properties), "relations": .object(relations),
            "createdAt": createdAt.stateJSON, "createdBy": .string(createdBy), "updatedAt": updatedAt.stateJSON,
            "updatedBy": .string(updatedBy), "datasources": .array(datasources.map(JSONValue.string)),
        ]
    }

    package init(state: JSONValue) throws(StateCodecError) {
        let fields = try StateFields(state, "entity")
        self.init(
            identifier: try fields.string("identifier"),
            blueprint: try fields.string("blueprint"),
            title: try fields.string("title"),
            icon: try fields.optionalString("icon"),
            team: fields.value("team"),
            properties: try fields.objectValue("properties"),
            relations: try fields.objectValue("relations"),
            createdAt: try fields.date("createdAt"),
            createdBy: try fields.string("createdBy"),
            updatedAt: try fields.date("updatedAt"),
            updatedBy: try fields.string("updatedBy"),
            datasources: try fields.strings("datasources")
        )
    }
}

extension RunActionInfo: StateCodable {
    package var stateJSON: JSONValue {
        ["identifier": .string(identifier), "title": title.stateJSON, "icon": icon.stateJSON]
    }

    package init(state: JSONValue) throws(StateCodecError) {
        let fields = try StateFields(state, "action")
        self.init(
            identifier: try fields.string("identifier"),
            title: try fields.optionalString("title"),
            icon: try fields.optionalString("icon")
        )
    }
}

extension NewRun: StateCodable {
    package var stateJSON: JSONValue {
        [
            "action": action.stateJSON, "blueprintIdentifier": blueprintIdentifier.stateJSON,
            "blueprintTitle": blueprintTitle.stateJSON, "entityIdentifier": entityIdentifier.stateJSON,
            "entityTitle": entityTitle.stateJSON, "properties": .object(properties),
            "requiredApproval": .bool(requiredApproval), "synchronized": .bool(synchronized),
            "source": .string(source.rawValue), "createdBy": .string(createdBy),
            "user": user.map(JSONValue.object) ?? .null,
            "automationEvent": automationEvent ?? .null,
            "automationChain": .array(automationChain.map(JSONValue.string)),
            "hasAutomationEvent": .bool(automationEvent != nil),
        ]
    }

    package init(state: JSONValue) throws(StateCodecError) {
        let fields = try StateFields(state, "request")
        self.init(
            action: try fields.nested("action", RunActionInfo.self),
            blueprintIdentifier: try fields.optionalString("blueprintIdentifier"),
            blueprintTitle: try fields.optionalString("blueprintTitle"),
            entityIdentifier: try fields.optionalString("entityIdentifier"),
            entityTitle: try fields.optionalString("entityTitle"),
            properties: try fields.objectValue("properties"),
            requiredApproval: try fields.bool("requiredApproval"),
            synchronized: try fields.bool("synchronized"),
            source: try fields.enumeration("source", RunSource.self),
            createdBy: try fields.string("createdBy")
        )
        user = try fields.optionalObject("user")
        // An event may itself be null: whether there was one is kept apart.
        // `.some`: a bare `nil` beside a JSONValue would be JSONValue's nil literal, `.null`.
        automationEvent = try fields.bool("hasAutomationEvent") ? .some(fields.value("automationEvent")) : .none
        automationChain = try fields.strings("automationChain")
    }
}

extension AffectedEntity: StateCodable {
    package var stateJSON: JSONValue {
        [
            "blueprint": .string(blueprint), "identifier": .string(identifier), "kind": .string(kind.rawValue),
            "at": at.stateJSON, "before": before?.stateJSON ?? .null, "after": after?.stateJSON ?? .null,
        ]
    }

    package init(state: JSONValue) throws(StateCodecError) {
        let fields = try StateFields(state, "affected")
        self.init(
            blueprint: try fields.string("blueprint"),
            identifier: try fields.string("identifier"),
            kind: try fields.enumeration("kind", EntityChange.Kind.self),
            at: try fields.date("at"),
            before: try fields.optionalNested("before", Entity.self),
            after: try fields.optionalNested("after", Entity.self)
        )
    }
}

extension RunLog: StateCodable {
    package var stateJSON: JSONValue {
        [
            "id": .string(id), "runId": .string(runId), "message": .string(message), "createdBy": .string(createdBy),
            "createdAt": createdAt.stateJSON,
        ]
    }

    package init(state: JSONValue) throws(StateCodecError) {
        let fields = try StateFields(state, "log")
        self.init(
            id: try fields.string("id"),
            runId: try fields.string("runId"),
            message: try fields.string("message"),
            createdBy: try fields.string("createdBy"),
            createdAt: try fields.date("createdAt")
        )
    }
}

extension ActionRun: StateCodable {
    /// Every field but the delivered message (a payload template may render secrets into it)
    /// and the affected entities (records of their own, so that a run's record stays small).
    package var stateJSON: JSONValue {
        [
            "id": .string(id), "status": .string(status.rawValue), "statusLabel": statusLabel.stateJSON,
            "links": .array(links.map(JSONValue.string)), "summary": summary.stateJSON,
            "externalRunId": externalRunId.stateJSON, "message": message.map(JSONValue.object) ?? .null,
            "endedAt": endedAt?.stateJSON ?? .null, "approval": approval.map(JSONValue.object) ?? .null,
            "response": response ?? .null, "hasResponse": .bool(response != nil),
            "delivery": delivery.map {
                ["topic": .string($0.topic), "partition": .int(Int64($0.partition)), "offset": .int($0.offset)]
            }
                ?? .null,
            "version": .int(Int64(version)), "request": request.stateJSON, "createdAt": createdAt.stateJSON,
            "updatedAt": updatedAt.stateJSON, "updatedBy": .string(updatedBy),
        ]
    }

    package init(state: JSONValue) throws(StateCodecError) {
        let fields = try StateFields(state, "run")
        var delivery: RunDelivery?
        if case .object = fields.value("delivery") {
            let where_ = try StateFields(fields.value("delivery"), "run.delivery")
            delivery = RunDelivery(
                topic: try where_.string("topic"),
                partition: Int32(try where_.int("partition")),
                offset: Int64(try where_.int("offset"))
            )
        }
        self.init(
            id: try fields.string("id"),
            status: try fields.enumeration("status", RunStatus.self),
            statusLabel: try fields.optionalString("statusLabel"),
            links: try fields.strings("links"),
            summary: try fields.optionalString("summary"),
            externalRunId: try fields.optionalString("externalRunId"),
            message: try fields.optionalObject("message"),
            endedAt: try fields.optionalDate("endedAt"),
            approval: try fields.optionalObject("approval"),
            // `.some`: a bare `nil` beside a JSONValue would be JSONValue's nil literal, `.null`.
            response: try fields.bool("hasResponse") ? .some(fields.value("response")) : .none,
            affectedEntities: [],
            delivery: delivery,
            version: try fields.int("version"),
            request: try fields.nested("request", NewRun.self),
            createdAt: try fields.date("createdAt"),
            updatedAt: try fields.date("updatedAt"),
            updatedBy: try fields.string("updatedBy")
        )
    }
}

extension JournalEntry: StateCodable {
    package var stateJSON: JSONValue {
        [
            "time": time.stateJSON, "clientId": clientID.stateJSON, "method": .string(method), "path": .string(path),
            "status": .int(Int64(status)), "runId": runID.stateJSON, "injected": injected.stateJSON,
        ]
    }

    package init(state: JSONValue) throws(StateCodecError) {
        let fields = try StateFields(state, "journal")
        self.init(
            time: try fields.date("time"),
            clientID: try fields.optionalString("clientId"),
            method: try fields.string("method"),
            path: try fields.string("path"),
            status: try fields.int("status"),
            runID: try fields.optionalString("runId"),
            injected: try fields.optionalString("injected")
        )
    }
}

extension Violation: StateCodable {
    package var stateJSON: JSONValue {
        [
            "time": time.stateJSON, "clientId": clientID.stateJSON, "method": .string(method), "path": .string(path),
            "runId": runID.stateJSON, "status": .int(Int64(status)), "code": .string(code), "rule": .string(rule),
            "message": .string(message),
        ]
    }

    package init(state: JSONValue) throws(StateCodecError) {
        let fields = try StateFields(state, "violation")
        self.init(
            time: try fields.date("time"),
            clientID: try fields.optionalString("clientId"),
            method: try fields.string("method"),
            path: try fields.string("path"),
            runID: try fields.optionalString("runId"),
            status: try fields.int("status"),
            code: try fields.string("code"),
            rule: try fields.string("rule"),
            message: try fields.string("message")
        )
    }
}
