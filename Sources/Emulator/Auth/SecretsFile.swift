import PortContract

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The secrets of `--secrets-file`: a JSON object of strings, or `NAME=VALUE` lines with
/// `#` comments and blank lines (a dotenv file).
package enum SecretsFile {
    /// The secrets in the file at `path`, or an error naming the line or field that is wrong.
    package static func read(_ path: String) throws(EmulatorError) -> [String: String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EmulatorError(message: "\(path) cannot be read")
        }
        let text = String(decoding: data, as: UTF8.self)
        if text.trimmingWhitespaceAndNewlines().hasPrefix("{") {
            guard let object = (try? JSONValue.parse(text))?.objectValue else {
                throw EmulatorError(message: "\(path) starts like JSON but is not a JSON object")
            }
            var secrets: [String: String] = [:]
            for (name, value) in object {
                guard let string = value.stringValue else {
                    throw EmulatorError(message: "\(path): secret \(name) must be a string, not \(value.typeName)")
                }
                secrets[name] = string
            }
            return secrets
        }
        var secrets: [String: String] = [:]
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let equals = line.firstIndex(of: "="), equals != line.startIndex else {
                throw EmulatorError(message: "\(path):\(number + 1): expected NAME=VALUE")
            }
            var value = String(line[line.index(after: equals)...])
            if value.count >= 2, let first = value.first, first == value.last, first == "\"" || first == "'" {
                value = String(value.dropFirst().dropLast())
            }
            secrets[String(line[..<equals]).trimmingWhitespace()] = value
        }
        return secrets
    }
}
