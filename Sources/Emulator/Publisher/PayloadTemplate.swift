import JQ
package import PortContract

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Port's payload templates: JSON whose strings may hold `{{ jq }}` expressions, rendered
/// by libjq against the run's context object.
///
/// - A string that is exactly one `{{ expr }}` becomes the JSON value of `expr`.
/// - Other strings interpolate: string results as they are, other values as compact JSON.
/// - Keys may be templates; a key that renders to `null` drops its pair.
/// - `"{{ spreadValue() }}": "{{ .inputs }}"` spreads an object into its parent.
///
/// Compiled programs are cached by their source and shared between renders.
package final class PayloadTemplateRenderer: Sendable {
    private let programs = JQProgramCache()

    /// Creates a renderer with an empty program cache.
    package init() {}

    /// Renders `template` against `context`; a jq expression that does not compile or fails
    /// on the context throws an error naming it.
    package func render(_ template: JSONValue, context: JSONValue) throws(PayloadTemplateError) -> JSONValue {
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
        let bytes = Array(text.utf8)
        guard var open = Self.find(Self.openBraces, in: bytes, from: 0) else { return .string(text) }
        var output: [UInt8] = []
        var position = 0
        while true {
            output.append(contentsOf: bytes[position..<open])
            guard let close = Self.find(Self.closeBraces, in: bytes, from: open + 2) else {
                throw PayloadTemplateError(
                    expression: String(decoding: bytes[open...], as: UTF8.self),
                    reason: "no closing }}"
                )
            }
            let expression = Self.trimmed(bytes[(open + 2)..<close])
            let value = try evaluate(expression, input: input)
            output.append(contentsOf: (value.stringValue ?? value.compactText).utf8)
            position = close + 2
            guard let next = Self.find(Self.openBraces, in: bytes, from: position) else { break }
            open = next
        }
        output.append(contentsOf: bytes[position...])
        return .string(String(decoding: output, as: UTF8.self))
    }

    private static let openBraces: [UInt8] = [UInt8(ascii: "{"), UInt8(ascii: "{")]
    private static let closeBraces: [UInt8] = [UInt8(ascii: "}"), UInt8(ascii: "}")]

    /// The index of `pair` (two bytes) in `bytes` at or after `start`. Byte-wise, because
    /// Foundation's string search showed up as the publisher's main cost.
    private static func find(_ pair: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        var index = start
        while index + 1 < bytes.count {
            if bytes[index] == pair[0], bytes[index + 1] == pair[1] { return index }
            index += 1
        }
        return nil
    }

    /// The text without spaces and tabs around it.
    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> String {
        let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        guard let first = bytes.firstIndex(where: { !isBlank($0) }), let last = bytes.lastIndex(where: { !isBlank($0) })
        else { return "" }
        return String(decoding: bytes[first...last], as: UTF8.self)
    }

    /// The expression of a string that is exactly one `{{ expr }}` (spaces around allowed).
    static func wholeExpression(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        guard let open = find(openBraces, in: bytes, from: 0),
            bytes[..<open].allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }),
            let close = find(closeBraces, in: bytes, from: open + 2),
            bytes[(close + 2)...].allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }),
            find(openBraces, in: bytes, from: open + 2).map({ $0 > close }) ?? true
        else { return nil }
        return trimmed(bytes[(open + 2)..<close])
    }

    /// The first output of `expression` on the input, `null` when it has none.
    private func evaluate(_ expression: String, input: JQInput) throws(PayloadTemplateError) -> JSONValue {
        do {
            let program = try programs.program(expression)
            guard let first = try program.run(input: input).first else { return .null }
            return try JSONValue.parse(first)
        } catch let error as JQError {
            throw PayloadTemplateError(expression: "{{ \(expression) }}", reason: error.description)
        } catch {
            throw PayloadTemplateError(expression: "{{ \(expression) }}", reason: "\(error)")
        }
    }
}

/// A payload template that could not be rendered.
package struct PayloadTemplateError: Error, Sendable, CustomStringConvertible {
    /// The template text that failed, e.g. `{{ .inputs | nope }}`.
    package let expression: String
    /// jq's error, or what else is wrong.
    package let reason: String

    /// `payload template <expression>: <reason>`.
    package var description: String { "payload template \(expression): \(reason)" }
}
