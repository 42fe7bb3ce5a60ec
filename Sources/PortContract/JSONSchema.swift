import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A JSON schema, as Port's OpenAPI document writes them, checked against JSON values.
///
/// The emulator uses it to refuse request bodies that Port's own request schemas refuse
/// (422 `invalid_request`, naming the field), and the tests use it to check response bodies
/// against Port's response schemas.
///
/// Enforced keywords: `type` (one type or several; `integer` takes whole numbers, `number`
/// any number), `nullable`, `enum`, `const`, `required`, `properties`,
/// `additionalProperties` (`false` or a schema), `propertyNames`, `items`, `minItems`,
/// `maxItems`, `minLength`, `maxLength` (counted in Unicode code points), `pattern` (ICU
/// regular expressions, which read Port's `\p{L}` and look-aheads), `minimum`, `maximum`,
/// `allOf`, `anyOf`, `oneOf` and `$ref` to `#/…` inside the document given. A `oneOf` is
/// treated like an `anyOf`, because Port's branches overlap and a body often matches more
/// than one. Of `format`, only `uri` is checked (a scheme, then something: what Port's
/// answers are judged by); every other keyword is ignored, and so is a pattern Swift's `Regex`
/// cannot compile.
public struct JSONSchema: Sendable, Hashable {
    /// The schema itself: an object, or `true` / `false`.
    public let json: JSONValue
    /// The document `$ref`s point into (`#/components/schemas/…`), if any.
    public let document: JSONValue?

    /// A schema from its JSON; `document` resolves its `$ref`s.
    public init(_ json: JSONValue, document: JSONValue? = nil) {
        self.json = json
        self.document = document
    }

    /// The ways `value` breaks the schema, one readable line each, such as
    /// `$.run.status: expected string, got null`; empty when it conforms. `root` names the
    /// value in those lines (`$`, or `body` for a request body).
    public func violations(of value: JSONValue, root: String = "$") -> [String] {
        var checker = Checker(document: document)
        checker.check(value, against: json, at: root, depth: 0)
        return checker.found
    }
}

/// One pass of checking: the document for `$ref`s and the violations found so far.
private struct Checker {
    /// How many schemas deep a check may go: deeper means a `$ref` cycle that never reaches a value.
    static let maximumDepth = 512

    let document: JSONValue?
    var found: [String] = []

    init(document: JSONValue?) {
        self.document = document
    }

    mutating func check(_ value: JSONValue, against schema: JSONValue, at path: String, depth: Int) {
        guard depth < Self.maximumDepth else {
            found.append("\(path): the schema nests too deeply (a $ref cycle?)")
            return
        }
        switch schema {
        case .bool(true):
            return
        case .bool(false):
            found.append("\(path): no value is allowed here, got \(describe(value))")
        case .object(let keywords):
            checkKeywords(value, keywords, at: path, depth: depth + 1)
        default:
            found.append("\(path): the schema is not an object or a boolean: \(describe(schema))")
        }
    }

    private mutating func checkKeywords(_ value: JSONValue, _ schema: JSONObject, at path: String, depth: Int) {
        if let reference = schema["$ref"]?.stringValue {
            guard let target = resolve(reference) else {
                found.append("\(path): the schema refers to \(reference), which the document does not have")
                return
            }
            check(value, against: target, at: path, depth: depth)
        }
        if value == .null, schema["nullable"] == .bool(true) { return }

        if let type = schema["type"] {
            let allowed = type.arrayValue?.compactMap(\.stringValue) ?? type.stringValue.map { [$0] } ?? []
            if !allowed.contains(where: { matches(value, type: $0) }) {
                let expected = allowed.count == 1 ? allowed[0] : "one of " + allowed.joined(separator: ", ")
                found.append("\(path): expected \(expected), got \(value.typeName)")
                return
            }
        }
        if let options = schema["enum"]?.arrayValue, !options.contains(where: { sameJSON($0, value) }) {
            let listed = options.map(describe).joined(separator: ", ")
            found.append("\(path): expected one of [\(listed)], got \(describe(value))")
        }
        if let constant = schema["const"], !sameJSON(constant, value) {
            found.append("\(path): expected \(describe(constant)), got \(describe(value))")
        }

        switch value {
        case .object(let members):
            checkMembers(members, against: schema, at: path, depth: depth)
        case .array(let elements):
            checkElements(elements, against: schema, at: path, depth: depth)
        case .string(let text):
            checkString(text, against: schema, at: path)
        case .int, .double:
            checkNumber(value.doubleValue ?? 0, against: schema, at: path)
        default:
            break
        }

        for branch in schema["allOf"]?.arrayValue ?? [] {
            check(value, against: branch, at: path, depth: depth)
        }
        for keyword in ["anyOf", "oneOf"] {
            guard let branches = schema[keyword]?.arrayValue, !branches.isEmpty else { continue }
            checkAnyOf(value, branches: branches, keyword: keyword, at: path, depth: depth)
        }
    }

    private mutating func checkMembers(_ members: JSONObject, against schema: JSONObject, at path: String, depth: Int) {
        for case .string(let name) in schema["required"]?.arrayValue ?? [] where members[name] == nil {
            found.append("\(path): missing required property \"\(name)\"")
        }
        let properties = schema["properties"]?.objectValue ?? JSONObject()
        for (name, member) in members {
            let memberPath = path + pathComponent(name)
            if let names = schema["propertyNames"] {
                var nameChecker = Checker(document: document)
                nameChecker.check(.string(name), against: names, at: memberPath, depth: depth)
                found += nameChecker.found.map { "\($0) (in the property's name)" }
            }
            if let propertySchema = properties[name] {
                check(member, against: propertySchema, at: memberPath, depth: depth)
            } else if let additional = schema["additionalProperties"] {
                if additional == .bool(false) {
                    found.append("\(memberPath): unexpected property (additionalProperties is false)")
                } else {
                    check(member, against: additional, at: memberPath, depth: depth)
                }
            }
        }
    }

    private mutating func checkElements(
        _ elements: [JSONValue],
        against schema: JSONObject,
        at path: String,
        depth: Int
    ) {
        if let minimum = schema["minItems"]?.doubleValue, Double(elements.count) < minimum {
            found.append("\(path): expected at least \(Int(minimum)) item(s), got \(elements.count)")
        }
        if let maximum = schema["maxItems"]?.doubleValue, Double(elements.count) > maximum {
            found.append("\(path): expected at most \(Int(maximum)) item(s), got \(elements.count)")
        }
        if let items = schema["items"] {
            for (index, element) in elements.enumerated() {
                check(element, against: items, at: "\(path)[\(index)]", depth: depth)
            }
        }
    }

    private mutating func checkString(_ text: String, against schema: JSONObject, at path: String) {
        let length = text.unicodeScalars.count
        if let minimum = schema["minLength"]?.doubleValue, Double(length) < minimum {
            found.append("\(path): expected at least \(Int(minimum)) character(s), got \(length)")
        }
        if let maximum = schema["maxLength"]?.doubleValue, Double(length) > maximum {
            found.append("\(path): expected at most \(Int(maximum)) character(s), got \(length)")
        }
        if let pattern = schema["pattern"]?.stringValue,
            let expression = Self.compiled(pattern),
            !text.contains(expression)
        {
            found.append("\(path): \(describe(.string(text))) does not match the pattern \(pattern)")
        }
        if schema["format"]?.stringValue == "uri", !Self.isURI(text) {
            found.append("\(path): \(describe(.string(text))) is not a URI (a scheme such as https:, then the rest)")
        }
    }

    /// `pattern` compiled once per process (matching by Unicode scalar, as ICU does), or nil
    /// when Swift's regex syntax rejects it.
    private static func compiled(_ pattern: String) -> Regex<AnyRegexOutput>? {
        if let known = patterns.withLock({ $0[pattern] }) { return known.regex }
        let compiled = CompiledPattern(regex: try? Regex(pattern).matchingSemantics(.unicodeScalar))
        patterns.withLock { cache in
            if cache.count >= 1024 { cache.removeAll() }
            cache[pattern] = compiled
        }
        return compiled.regex
    }

    /// The patterns compiled so far.
    private static let patterns = Mutex<[String: CompiledPattern]>([:])

    /// An absolute URI: `scheme:rest`, the scheme a letter then letters, digits, `+`, `-` or `.`.
    private static func isURI(_ text: String) -> Bool {
        guard let colon = text.firstIndex(of: ":"), colon != text.startIndex, text.index(after: colon) != text.endIndex
        else { return false }
        let scheme = text[..<colon].unicodeScalars
        guard let first = scheme.first, first.isASCII, first.properties.isAlphabetic else { return false }
        return scheme.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "+-.".unicodeScalars.contains($0))
        }
    }

    private mutating func checkNumber(_ number: Double, against schema: JSONObject, at path: String) {
        if let minimum = schema["minimum"], let bound = minimum.doubleValue, number < bound {
            found.append("\(path): expected at least \(describe(minimum)), got \(describe(.double(number)))")
        }
        if let maximum = schema["maximum"], let bound = maximum.doubleValue, number > bound {
            found.append("\(path): expected at most \(describe(maximum)), got \(describe(.double(number)))")
        }
    }

    /// Passes when at least one branch has no violations; otherwise reports the branch that
    /// came closest, so the message points at a likely culprit.
    private mutating func checkAnyOf(
        _ value: JSONValue,
        branches: [JSONValue],
        keyword: String,
        at path: String,
        depth: Int
    ) {
        var closest: [String] = []
        for branch in branches {
            var branchChecker = Checker(document: document)
            branchChecker.check(value, against: branch, at: path, depth: depth)
            if branchChecker.found.isEmpty { return }
            if closest.isEmpty || branchChecker.found.count < closest.count { closest = branchChecker.found }
        }
        let detail = closest.joined(separator: "; ")
        found.append("\(path): matches none of the \(branches.count) \(keyword) branches; closest: \(detail)")
    }

    /// The schema a `#/a/b` reference points at in the document (JSON pointer, `~0` and `~1` unescaped).
    private func resolve(_ reference: String) -> JSONValue? {
        guard let document, reference.hasPrefix("#") else { return nil }
        var node = document
        for token in reference.dropFirst().split(separator: "/") {
            let key = String(token.replacing("~1", with: "/").replacing("~0", with: "~"))
            if let index = Int(key), let elements = node.arrayValue, elements.indices.contains(index) {
                node = elements[index]
            } else if let member = node[key] {
                node = member
            } else {
                return nil
            }
        }
        return node
    }

    private func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object):
            true
        case ("number", .int), ("number", .double), ("integer", .int):
            true
        case ("integer", .double(let number)):
            number.isFinite && number.rounded() == number
        default:
            false
        }
    }

    /// JSON equality, except that numbers compare by value, so `1` equals `1.0`.
    private func sameJSON(_ lhs: JSONValue, _ rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.int, .int), (.int, .double), (.double, .int), (.double, .double):
            lhs.doubleValue == rhs.doubleValue
        case (.array(let left), .array(let right)):
            left.count == right.count && zip(left, right).allSatisfy { sameJSON($0, $1) }
        case (.object(let left), .object(let right)):
            left.count == right.count
                && left.allSatisfy { member in right[member.key].map { sameJSON(member.value, $0) } ?? false }
        default:
            lhs == rhs
        }
    }

    /// `.name` for an identifier-like key, `["key"]` otherwise.
    private func pathComponent(_ name: String) -> String {
        func isWordCharacter(_ character: Character) -> Bool {
            character == "_" || character == "$" || (character.isASCII && (character.isLetter || character.isNumber))
        }
        let isIdentifier = name.first.map { !$0.isNumber } == true && name.allSatisfy(isWordCharacter)
        return isIdentifier ? "." + name : "[" + describe(.string(name)) + "]"
    }

    /// A short rendering of a value for messages: scalars in full (long strings cut), containers summarized.
    private func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let flag): flag ? "true" : "false"
        case .int(let number): String(number)
        case .double(let number):
            number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : String(number)
        case .string(let text):
            "\""
                + String(text.prefix(60)).replacing("\\", with: "\\\\")
                .replacing("\"", with: "\\\"") + (text.count > 60 ? "…" : "") + "\""
        case .array(let elements): "an array of \(elements.count)"
        case .object(let members): "an object with \(members.count) members"
        }
    }
}

/// A compiled `pattern` keyword (nil when it does not compile), shared between threads.
/// `Regex` is not declared `Sendable`, but it is an immutable value whose lazily lowered
/// program is published atomically by the string-processing library, so matching one from
/// several threads is safe.
private final class CompiledPattern: @unchecked Sendable {
    let regex: Regex<AnyRegexOutput>?
    init(regex: Regex<AnyRegexOutput>?) { self.regex = regex }
}
