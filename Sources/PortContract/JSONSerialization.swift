#if canImport(Glibc)
import Glibc
#endif
extension JSONValue {
    /// Compact JSON text, byte for byte what Python's
    /// `json.dumps(value, separators=(",", ":"), ensure_ascii=False)` writes for the same
    /// parsed value: keys in order, non-ASCII kept, integers without a fraction and
    /// floating-point numbers in Python's shortest round-trip form (`1.0`, `1e+16`).
    public var compactText: String { String(decoding: compactBytes, as: UTF8.self) }

    /// The compact text as UTF-8 bytes.
    public var compactBytes: [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(256)
        write(to: &output)
        return output
    }

    /// Indented JSON text as UTF-8 bytes, laid out as Foundation's `JSONSerialization`
    /// `.prettyPrinted` writes it: two spaces per level, `"key" : value`, empty arrays and
    /// objects as `[]` and `{}`; members in key order, or sorted by key when `sortedKeys`.
    package func prettyBytes(sortedKeys: Bool = false) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(1024)
        writePretty(to: &output, indent: 0, sortedKeys: sortedKeys)
        return output
    }

    private func writePretty(to output: inout [UInt8], indent: Int, sortedKeys: Bool) {
        func newline(_ level: Int) {
            output.append(UInt8(ascii: "\n"))
            output.append(contentsOf: repeatElement(UInt8(ascii: " "), count: level * 2))
        }
        switch self {
        case .array(let elements) where !elements.isEmpty:
            output.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                newline(indent + 1)
                element.writePretty(to: &output, indent: indent + 1, sortedKeys: sortedKeys)
            }
            newline(indent)
            output.append(UInt8(ascii: "]"))
        case .object(let object) where !object.isEmpty:
            output.append(UInt8(ascii: "{"))
            let keys = sortedKeys ? object.keys.sorted() : object.keys
            for (position, key) in keys.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                newline(indent + 1)
                Self.writeString(key, to: &output)
                output.append(contentsOf: " : ".utf8)
                object[key]?.writePretty(to: &output, indent: indent + 1, sortedKeys: sortedKeys)
            }
            newline(indent)
            output.append(UInt8(ascii: "}"))
        default: write(to: &output)
        }
    }

    private func write(to output: inout [UInt8]) {
        switch self {
        case .null: output.append(contentsOf: "null".utf8)
        case .bool(let value): output.append(contentsOf: (value ? "true" : "false").utf8)
        case .int(let value): output.append(contentsOf: String(value).utf8)
        case .double(let value): output.append(contentsOf: Self.pythonRepresentation(value).utf8)
        case .string(let value): Self.writeString(value, to: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                element.write(to: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let object):
            output.append(UInt8(ascii: "{"))
            for (position, member) in object.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                Self.writeString(member.key, to: &output)
                output.append(UInt8(ascii: ":"))
                member.value.write(to: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    /// Writes a JSON string: `"`, `\` and control characters escaped as Python escapes
    /// them; every other byte, non-ASCII UTF-8 included, copied as it is.
    private static func writeString(_ string: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\n"): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x08: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x00...0x1F:
                let hexDigits = Array("0123456789abcdef".utf8)
                output.append(contentsOf: "\\u00".utf8)
                output.append(hexDigits[Int(byte >> 4)])
                output.append(hexDigits[Int(byte & 0x0F)])
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    /// Python's `repr(float)`: the shortest round-trip digits, in exponent form below 1e-4
    /// and from 1e16 on, and with `.0` on whole numbers so that it reads back as a float.
    static func pythonRepresentation(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Infinity" : "Infinity" }
        let swiftText = "\(value)"  // shortest round-trip digits, possibly with an exponent
        let magnitude = abs(value)
        let pythonUsesExponent = magnitude != 0 && (magnitude >= 1e16 || magnitude < 1e-4)
        let (digits, exponent, negative) = decompose(swiftText)
        if pythonUsesExponent {
            // d.ddde+XX with at least two exponent digits, as Python writes it.
            let mantissa = digits.count > 1 ? "\(digits.first!).\(digits.dropFirst())" : digits
            let power = exponent - 1
            let powerDigits = String(abs(power))
            let paddedPower = powerDigits.count < 2 ? "0" + powerDigits : powerDigits
            return (negative ? "-" : "") + mantissa + "e" + (power < 0 ? "-" : "+") + paddedPower
        }
        // Positional: digits with the decimal point `exponent` places from the left.
        var text: String
        if exponent <= 0 {
            text = "0." + String(repeating: "0", count: -exponent) + digits
        } else if exponent >= digits.count {
            text = digits + String(repeating: "0", count: exponent - digits.count) + ".0"
        } else {
            let split = digits.index(digits.startIndex, offsetBy: exponent)
            text = digits[..<split] + "." + digits[split...]
        }
        return (negative ? "-" : "") + text
    }

    /// Splits Swift's description of a finite double into significant digits (no leading or
    /// trailing zeros, "0" for zero), the position of the decimal point relative to the
    /// first digit, and the sign.
    private static func decompose(_ text: String) -> (digits: String, pointPosition: Int, negative: Bool) {
        var body = Substring(text)
        let negative = body.hasPrefix("-")
        if negative { body = body.dropFirst() }
        var exponent = 0
        if let e = body.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(body[body.index(after: e)...]) ?? 0
            body = body[..<e]
        }
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        let integerPart = String(parts[0])
        let fractionPart = parts.count > 1 ? String(parts[1]) : ""
        var digits = integerPart + fractionPart
        var pointPosition = integerPart.count + exponent
        while digits.hasPrefix("0"), digits.count > 1 {
            digits.removeFirst()
            pointPosition -= 1
        }
        while digits.hasSuffix("0"), digits.count > 1 { digits.removeLast() }
        if digits == "0" { pointPosition = 1 }
        return (digits, pointPosition, negative)
    }
}
