/// The version of port-kafka-harness: what `port-emulator --version` and
/// `port-consumer --version` print, and the version `make dist` gives the tarball, the `.deb`
/// and the Python wheel.
package enum HarnessVersion {
    /// `MAJOR.MINOR.PATCH`.
    package static let current = "0.16.0"
}

extension HarnessVersion {
    /// A `MAJOR.MINOR.PATCH` version, ordered as numbers (0.9.0 < 0.16.0 < 1.0.0).
    package struct Parsed: Sendable, Comparable, CustomStringConvertible {
        /// The three numbers.
        package let major: Int, minor: Int, patch: Int

        /// `text` read as `MAJOR.MINOR.PATCH`; nil when it is not three numbers.
        package init?(_ text: String) {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false).map { Int($0) }
            guard parts.count == 3, let major = parts[0], let minor = parts[1], let patch = parts[2],
                major >= 0, minor >= 0, patch >= 0
            else { return nil }
            (self.major, self.minor, self.patch) = (major, minor, patch)
        }

        /// `MAJOR.MINOR.PATCH`.
        package var description: String { "\(major).\(minor).\(patch)" }

        /// Numeric order, major first.
        package static func < (left: Parsed, right: Parsed) -> Bool {
            (left.major, left.minor, left.patch) < (right.major, right.minor, right.patch)
        }
    }
}
