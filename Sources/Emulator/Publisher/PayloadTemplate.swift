import Foundation
import JQ
import PortContract
import Synchronization

/// Port's payload templates: JSON whose strings may hold `{{ jq }}` expressions, rendered
/// by libjq against the run's context object.
///
/// - A string that is exactly one `{{ expr }}` becomes the JSON value of `expr`.
/// - Other strings interpolate: string results as they are, other values as compact JSON.
/// - Keys may be templates; a key that renders to `null` drops its pair.
/// - `"{{ spreadValue() }}": "{{ .inputs }}"` spreads an object into its parent.
///
/// Compiled programs are cached by their source and shared between renders.
public final class PayloadTemplateRenderer: Sendable {
    private let programs = Mutex<[String: JQProgram]>([:])

    /// Creates a renderer with an empty program cache.
    public init() {}

    /// Renders `template` against `context`; a jq expression that does not compile or fails
    /// on the context throws an error naming it.
    public func render(_ template: JSONValue, context: JSONValue) throws(PayloadTemplateError) -> JSONValue {
        let input: JQInput
        do {
            input = try JQInput(json: context.compactText)
        } catch {
            throw PayloadTemplateError(expression: "", reason: "the context is not JSON: \(error)")
        }
        return try render(template, input: input)
    }

    private func render(_ value: JSONValue, input: JQInput) throws(PayloadTemplateError) -> JSONValue {
        switch value {
        case .string(let text): return try renderString(text, input: input)
        case .array(let items):
            var rendered: [JSONValue] = []
            for item in items { rendered.append(try render(item, input: input)) }
            return .array(rendered)
        case .object(let object):
            var rendered = JSONObject()
            for (key, member) in object {
                if let expression = Self.wholeExpression(key), expression == "spreadValue()" {
                    let spread = try render(member, input: input)
                    guard let members = spread.objectValue else {
                        throw PayloadTemplateError(
                            expression: key,
                            reason: "spreadValue() needs an object to spread, got \(spread.typeName)"
                        )
                    }
                    for (spreadKey, spreadValue) in members { rendered[spreadKey] = spreadValue }
                    continue
                }
                let renderedKey = try renderString(key, input: input)
                if renderedKey == .null { continue }
                rendered[renderedKey.stringValue ?? renderedKey.compactText] = try render(member, input: input)
            }
            return .object(rendered)
        default: return value
        }
    }

    private func renderString(_ text: String, input: JQInput) throws(PayloadTemplateError) -> JSONValue {
        if let expression = Self.wholeExpression(text) { return try evaluate(expression, input: input) }
        guard text.contains("{{") else { return .string(text) }
        var output = ""
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            output += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw PayloadTemplateError(expression: String(rest[open.lowerBound...]), reason: "no closing }}")
            }
            let expression = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            let value = try evaluate(expression, input: input)
            output += value.stringValue ?? value.compactText
            rest = rest[close.upperBound...]
        }
        return .string(output + rest)
    }

    /// The expression of a string that is exactly one `{{ expr }}` (spaces around allowed).
    static func wholeExpression(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("{{"), trimmed.hasSuffix("}}"), trimmed.count >= 4 else { return nil }
        let inner = trimmed.dropFirst(2).dropLast(2)
        guard !inner.contains("{{"), !inner.contains("}}") else { return nil }
        return inner.trimmingCharacters(in: .whitespaces)
    }

    /// The first output of `expression` on the input, `null` when it has none.
    private func evaluate(_ expression: String, input: JQInput) throws(PayloadTemplateError) -> JSONValue {
        do {
            let program = try self.program(expression)
            guard let first = try program.run(input: input).first else { return .null }
            return try JSONValue.parse(first)
        } catch let error as JQError {
            throw PayloadTemplateError(expression: "{{ \(expression) }}", reason: error.description)
        } catch {
            throw PayloadTemplateError(expression: "{{ \(expression) }}", reason: "\(error)")
        }
    }

    private func program(_ source: String) throws -> JQProgram {
        if let cached = programs.withLock({ $0[source] }) { return cached }
        let compiled = try JQProgram(source)
        programs.withLock { $0[source] = compiled }
        return compiled
    }
}

/// A payload template that could not be rendered.
public struct PayloadTemplateError: Error, Sendable, CustomStringConvertible {
    /// The template text that failed, e.g. `{{ .inputs | nope }}`.
    public let expression: String
    /// jq's error, or what else is wrong.
    public let reason: String

    /// `payload template <expression>: <reason>`.
    public var description: String { "payload template \(expression): \(reason)" }
}
