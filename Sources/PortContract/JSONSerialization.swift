extension JSONValue {
    /// Compact JSON text, byte for byte what Python's
    /// `json.dumps(value, separators=(",", ":"), ensure_ascii=False)` writes for the same
    /// parsed value: keys in order, non-ASCII kept, integers without a fraction and
    /// floating-point numbers in Python's shortest round-trip form (`1.0`, `1e+16`).
    public var compactText: String {
        var output = ""
        write(to: &output)
        return output
    }

    /// The compact text as UTF-8 bytes.
    public var compactBytes: [UInt8] { Array(compactText.utf8) }

    private func write(to output: inout String) {
        switch self {
        case .null: output += "null"
        case .bool(let value): output += value ? "true" : "false"
        case .int(let value): output += String(value)
        case .double(let value): output += Self.pythonRepresentation(value)
        case .string(let value): Self.writeString(value, to: &output)
        case .array(let elements):
            output += "["
            for (position, element) in elements.enumerated() {
                if position > 0 { output += "," }
                element.write(to: &output)
            }
            output += "]"
        case .object(let object):
            output += "{"
            for (position, member) in object.enumerated() {
                if position > 0 { output += "," }
                Self.writeString(member.key, to: &output)
                output += ":"
                member.value.write(to: &output)
            }
            output += "}"
        }
    }

    private static func writeString(_ string: String, to output: inout String) {
        output += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case "\u{08}": output += "\\b"
            case "\u{0C}": output += "\\f"
            case "\u{00}"..."\u{1F}":
                let hex = String(scalar.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
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
