/// Work started from synchronous code (a route, a fault, a store's observer) that must still
/// be a child of a long-lived part's `run()`.
///
/// `add` queues the work; `run()` starts each piece as a child task and returns once
/// `finish()` has been called and every child has ended. Work added after `finish()` is
/// dropped. Cancelling `run()` cancels the children.
package final class ChildTasks: Sendable {
    private enum Event: Sendable {
        case work(@Sendable () async -> Void)
        case cancelAll
    }

    private let events: AsyncStream<Event>
    private let sink: AsyncStream<Event>.Continuation

    package init() {
        (events, sink) = AsyncStream.makeStream(of: Event.self)
    }

    /// Queues `work` to run as a child of `run()`.
    package func add(_ work: @escaping @Sendable () async -> Void) {
        sink.yield(.work(work))
    }

    /// Cancels the children running, and those started from now on (for a stop).
    package func cancelAll() {
        sink.yield(.cancelAll)
    }

    /// Lets `run()` return once the children have ended.
    package func finish() {
        sink.finish()
    }

    /// Runs the queued work as child tasks until `finish()`, then awaits them.
    package func run() async {
        await withDiscardingTaskGroup { group in
            for await event in events {
                switch event {
                case .work(let work): group.addTask(operation: work)
                case .cancelAll: group.cancelAll()
                }
            }
        }
    }
}
