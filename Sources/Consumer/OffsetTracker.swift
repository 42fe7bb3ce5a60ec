/// Per-partition bookkeeping for at-least-once delivery with concurrent runs: an offset is
/// committed only when it and every earlier offset read from its partition are done.
package struct OffsetTracker: Sendable, Equatable {
    private struct Partition: Sendable, Equatable {
        /// Offsets read and not yet done, in order.
        var pending: [Int64] = []
        /// Offsets done ahead of an earlier pending one.
        var doneEarly: Set<Int64> = []
    }

    private var partitions: [Int32: Partition] = [:]

    /// No offsets yet.
    package init() {}

    /// Notes that `offset` was read from `partition` and is being handled.
    package mutating func started(partition: Int32, offset: Int64) {
        partitions[partition, default: Partition()].pending.append(offset)
    }

    /// Notes that `offset` is done; returns the next offset to commit (last contiguous
    /// done offset + 1) when this moved it forward, else `nil`.
    package mutating func finished(partition: Int32, offset: Int64) -> Int64? {
        guard var state = partitions[partition], let index = state.pending.firstIndex(of: offset) else { return nil }
        guard index == 0 else {
            state.doneEarly.insert(offset)
            partitions[partition] = state
            return nil
        }
        var committed = state.pending.removeFirst()
        while let next = state.pending.first, state.doneEarly.remove(next) != nil {
            committed = state.pending.removeFirst()
        }
        partitions[partition] = state
        return committed + 1
    }

    /// Offsets of the partition still being handled.
    package func pendingCount(partition: Int32) -> Int { partitions[partition]?.pending.count ?? 0 }
}
