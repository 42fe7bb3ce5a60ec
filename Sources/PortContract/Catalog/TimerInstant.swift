#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// The instants timer properties hold: ISO 8601, with or without fractional seconds.
public enum TimerInstant {
    /// The instant `text` names, or `nil` when it is not ISO 8601 with a time zone.
    public static func parse(_ text: String) -> Date? {
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date }
        return try? Date.ISO8601FormatStyle().parse(text)
    }
}
