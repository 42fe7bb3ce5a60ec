import Emulator
import Foundation
import PortContract
import Testing

/// The polling queue forgets acked items past its cap, never pending ones.
@Suite("Polling queue: acked items kept up to a cap, pending ones always")
struct PollingCapTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    func claim(_ queue: PollingQueue, limit: Int) -> [String] {
        queue.claim(
            .run,
            limit: limit,
            installationID: "installation",
            invocationType: nil,
            visibilityTimeout: .seconds(60),
            exclude: [],
            by: "client",
            now: Self.now,
            isOpen: { _ in true }
        ).map(\.id)
    }

    @Test("past the cap the oldest acked go; a second ack of a kept one is 409, of a forgotten one unknown")
    func ackedItemsAreCapped() {
        let queue = PollingQueue(acknowledgedCapacity: 3)
        for index in 0..<10 {
            queue.enqueue("r_\(index)", kind: .run, invocationType: "KAFKA", payload: [:], at: Self.now)
        }
        #expect(claim(queue, limit: 8) == (0..<8).map { "r_\($0)" })
        for index in 0..<8 {
            #expect(queue.ack("r_\(index)", kind: .run, by: "client", at: Self.now) == .acked)
        }
        // 3 acked kept (r_5, r_6, r_7) and the 2 never claimed.
        #expect(queue.count == 5)
        #expect(queue.item("r_4") == nil && queue.item("r_5")?.acked != nil)
        #expect(queue.ack("r_7", kind: .run, by: "client", at: Self.now) == .alreadyAcked)
        #expect(queue.ack("r_0", kind: .run, by: "client", at: Self.now) == .unknown)
        // The pending ones are still handed out, oldest first, after the order was compacted.
        #expect(claim(queue, limit: 10) == ["r_8", "r_9"])
    }

    @Test("20,000 items queued, claimed and acked one by one keep the queue at its cap")
    func longRunStaysBounded() {
        let queue = PollingQueue(acknowledgedCapacity: 100)
        for index in 0..<20_000 {
            queue.enqueue("r_\(index)", kind: .run, invocationType: "KAFKA", payload: [:], at: Self.now)
            #expect(claim(queue, limit: 1) == ["r_\(index)"])
            _ = queue.ack("r_\(index)", kind: .run, by: "client", at: Self.now)
        }
        #expect(queue.count == 100)
        #expect(queue.item("r_19999")?.acked != nil && queue.item("r_19899") == nil)
    }
}
