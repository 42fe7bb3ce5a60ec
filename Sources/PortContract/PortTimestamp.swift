#if canImport(FoundationEssentials)
package import FoundationEssentials
#else
package import Foundation
#endif

/// Port's timestamps: ISO 8601 in UTC with milliseconds.
package enum PortTimestamp {
    package static func format(_ date: Date) -> JSONValue {
        .string(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
    }

    package static func format(_ date: Date?) -> JSONValue { date.map(format) ?? .null }

    package static func parse(_ text: String) -> Date? {
        try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)
    }
}
