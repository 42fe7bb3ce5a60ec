import NIOCore

/// Runs a connection's tasks on its NIO event loop instead of Swift's cooperative pool, so the
/// broker keeps answering when the pool is busy with other work in the same process (a test
/// run's CPU-bound suites, an emulator's own load): Kafka clients time out on a broker that
/// stops answering for seconds.
final class EventLoopTaskExecutor: TaskExecutor, Sendable {
    private let loop: any EventLoop

    init(_ loop: any EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
