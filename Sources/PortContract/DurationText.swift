/// Parses durations written as people write them on a command line: `500ms`, `30s`, `5m`,
/// `3h`, `2d`, or a plain number of seconds.
public enum DurationText {
    /// The duration `text` stands for, or `nil` when it is not one.
    public static func parse(_ text: String) -> Duration? {
        let units: [(suffix: String, seconds: Double)] = [
            ("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400),
        ]
        for unit in units where text.hasSuffix(unit.suffix) {
            guard let number = Double(text.dropLast(unit.suffix.count)), number >= 0, number.isFinite else {
                return nil
            }
            return .milliseconds(Int64((number * unit.seconds * 1000).rounded()))
        }
        guard let seconds = Double(text), seconds >= 0, seconds.isFinite else { return nil }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    /// `duration` the way `parse` reads it back: `250ms`, `3s`, `1.5s`.
    public static func format(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        if milliseconds < 1000 || milliseconds % 100 != 0 { return "\(milliseconds)ms" }
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000)s" }
        return "\(Double(milliseconds) / 1000)s"
    }
}
