#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A path pattern for faults: `*` matches within one path segment, `**` matches anything,
/// and a pattern without `*` matches every path that starts with it.
package struct PathPattern: Sendable, Equatable {
    /// The pattern as written, e.g. `/v1/actions/runs/*/logs`.
    package let text: String

    /// Wraps a pattern.
    package init(_ text: String) { self.text = text }

    /// Whether `path` matches.
    package func matches(_ path: String) -> Bool {
        let pattern = Array(text.utf8)
        let subject = Array(path.utf8)
        guard pattern.contains(UInt8(ascii: "*")) else { return subject.starts(with: pattern) }
        return Self.match(pattern[...], subject[...])
    }

    private static func match(_ pattern: ArraySlice<UInt8>, _ subject: ArraySlice<UInt8>) -> Bool {
        guard let first = pattern.first else { return subject.isEmpty }
        guard first == UInt8(ascii: "*") else {
            guard let head = subject.first, head == first else { return false }
            return match(pattern.dropFirst(), subject.dropFirst())
        }
        let anySegment = pattern.dropFirst().first == UInt8(ascii: "*")
        let rest = pattern.dropFirst(anySegment ? 2 : 1)
        var candidate = subject
        while true {
            if match(rest, candidate) { return true }
            guard let head = candidate.first, anySegment || head != UInt8(ascii: "/") else { return false }
            candidate = candidate.dropFirst()
        }
    }
}
