import Foundation
public import Testing

/// A test that starts whole systems (an emulator with its Kafka and HTTP threads, a consumer
/// process, an external client, a browser) takes a share of the machine that a unit test does
/// not. Swift Testing runs every test of a process at once unless told otherwise, so on a
/// small machine (2 cores here, and CI) two such suites side by side starve each other's
/// cooperative pools until honest deadlines of a minute pass. `.heavy` on a suite or a test
/// lets at most ``HeavyTests/width`` of them run at once in the process; unit tests still run
/// beside them without limit, and the suite's own assertions and deadlines are unchanged.
public struct HeavyTestTrait: TestTrait, SuiteTrait, TestScoping {
    /// Applies to every test of a suite it is on.
    public var isRecursive: Bool { true }

    /// Holds one of the process's heavy slots for each test case.
    public func provideScope(
        for test: Test,
        testCase: Test.Case?,
        performing function: @Sendable () async throws -> Void
    ) async throws {
        guard testCase != nil else { return try await function() }  // a suite: its tests take slots
        await HeavyTests.slots.acquire()
        do {
            try await function()
        } catch {
            await HeavyTests.slots.release()
            throw error
        }
        await HeavyTests.slots.release()
    }
}

extension Trait where Self == HeavyTestTrait {
    /// At most ``HeavyTests/width`` tests marked `.heavy` run at once in this process.
    public static var heavy: Self { HeavyTestTrait() }
}

/// The process-wide limit on heavy tests.
public enum HeavyTests {
    /// How many heavy tests run at once: `PORT_HEAVY_TESTS` if set, else twice the cores
    /// (at least 4).
    public static let width: Int = {
        if let text = ProcessInfo.processInfo.environment["PORT_HEAVY_TESTS"], let value = Int(text), value > 0 {
            return value
        }
        return max(4, 2 * ProcessInfo.processInfo.activeProcessorCount)
    }()

    static let slots = AsyncSlots(width)
}

/// A counting semaphore for tasks: `acquire` waits (first come, first served) while all
/// slots are taken.
actor AsyncSlots {
    private var free: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(_ count: Int) { free = count }

    func acquire() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty {
            free += 1
        } else {
            waiters.removeFirst().resume()  // the slot passes straight to the next waiter
        }
    }
}
