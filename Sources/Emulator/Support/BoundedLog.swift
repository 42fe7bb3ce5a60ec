import DequeModule

/// A list that keeps its last entries up to a capacity, oldest first, and counts what it
/// dropped (the journal, the violations, the audit log).
struct BoundedLog<Element> {
    private(set) var entries = Deque<Element>()
    /// How many entries were dropped to stay within the capacity.
    var evicted = 0

    /// Appends `entry`, dropping the oldest past `capacity`.
    mutating func append(_ entry: Element, capacity: Int) {
        entries.append(entry)
        while entries.count > capacity {
            entries.removeFirst()
            evicted += 1
        }
    }
}
