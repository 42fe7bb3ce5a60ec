#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs (whitespace that is not a line
    /// break), as Foundation's `trimmingCharacters(in: .whitespaces)`.
    package func trimmingWhitespace() -> String {
        trimming { $0.isWhitespace && !$0.isNewline }
    }

    /// The text without leading and trailing whitespace and line breaks, as Foundation's
    /// `trimmingCharacters(in: .whitespacesAndNewlines)`.
    package func trimmingWhitespaceAndNewlines() -> String {
        trimming { $0.isWhitespace }
    }

    private func trimming(_ drop: (Character) -> Bool) -> String {
        guard let first = firstIndex(where: { !drop($0) }), let last = lastIndex(where: { !drop($0) }) else {
            return ""
        }
        return String(self[first...last])
    }

    /// The text percent-encoded as UTF-8, keeping only RFC 3986's unreserved characters
    /// (`A-Z a-z 0-9 - . _ ~`): safe in a path segment and in a query name or value.
    package func percentEncoded() -> String {
        var encoded = ""
        encoded.reserveCapacity(utf8.count)
        let hexDigits = Array("0123456789ABCDEF".unicodeScalars)
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                encoded.unicodeScalars.append("%")
                encoded.unicodeScalars.append(hexDigits[Int(byte >> 4)])
                encoded.unicodeScalars.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        return encoded
    }
}

/// `printf`-style formatting with the C library's `vsnprintf`, in the C locale (what
/// Foundation's `String(format:)` gives for `%d`, `%08x`, `%.2f` and the like). Arguments
/// must be C types: `Int`, `Int32`, `UInt64`, `Double`; not `String` (use `%@` nowhere).
package func cFormat(_ format: String, _ arguments: any CVarArg...) -> String {
    withVaList(arguments) { list in
        var buffer = [CChar](repeating: 0, count: 128)
        // vsnprintf consumes the va_list: format a copy the second time.
        let needed = Int(vsnprintf(&buffer, buffer.count, format, list))
        guard needed >= buffer.count else { return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) } }
        return withVaList(arguments) { again in
            var larger = [CChar](repeating: 0, count: needed + 1)
            _ = vsnprintf(&larger, larger.count, format, again)
            return larger.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        }
    }
}

/// `directory/name`, with one slash between them whether or not `directory` ends in one
/// (as `NSString.appendingPathComponent` joins them); `name` alone when `directory` is empty.
package func joinPath(_ directory: String, _ name: String) -> String {
    guard !directory.isEmpty else { return name }
    return directory.hasSuffix("/") ? directory + name : directory + "/" + name
}
