#if canImport(FoundationEssentials)
package import FoundationEssentials
#else
package import Foundation
#endif

/// Parses an HTTP date in RFC 1123 form, `Wed, 21 Oct 2015 07:28:00 GMT` (what
/// `Retry-After` carries), by hand: FoundationEssentials has no `DateFormatter`. The day
/// name is checked for form only; the zone must be `GMT` or `UTC`. Nil for anything else.
package func httpDate(_ text: some StringProtocol) -> Date? {
    let parts = text.split(separator: " ", omittingEmptySubsequences: true)
    guard parts.count == 6, parts[0].count == 4, parts[0].last == ",",
        weekdays.contains(String(parts[0].dropLast())),
        let day = Int(parts[1]), (1...31).contains(day), parts[1].count <= 2,
        let month = months.firstIndex(of: String(parts[2])),
        parts[3].count == 4, let year = Int(parts[3]),
        parts[5] == "GMT" || parts[5] == "UTC"
    else { return nil }
    let clock = parts[4].split(separator: ":", omittingEmptySubsequences: false)
    guard clock.count == 3, clock.allSatisfy({ $0.count == 2 }),
        let hour = Int(clock[0]), let minute = Int(clock[1]), let second = Int(clock[2]),
        (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second)
    else { return nil }
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = .gmt
    let components = DateComponents(year: year, month: month + 1, day: day, hour: hour, minute: minute, second: second)
    guard let date = calendar.date(from: components),
        calendar.component(.day, from: date) == day
    else { return nil }
    return date
}

private let weekdays: Set<String> = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
private let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
