import DequeModule
package import PortContract
import Synchronization

#if canImport(FoundationEssentials)
package import FoundationEssentials
#else
package import Foundation
#endif

/// Work handed out by HTTP polling (contract §9): action runs and workflow node runs
/// waiting for `claim-pending`, their claims (timed on the emulator's clock) and acks.
///
/// An item is pending until acked: an unacked claim expires after its visibility timeout
/// and the item is handed out again; an acked item never is. Items whose run has finished
/// (reported through the run routes) are not handed out either.
///
/// **Emulator choice** (`fixtures/README.md`): the last ``defaultAcknowledgedCapacity``
/// acked items are kept (a second ack of one answers 409 as Port's does); older ones are
/// forgotten, so that a polling consumer left running does not grow the emulator for ever.
package final class PollingQueue: Sendable {
    /// Acked items kept: as many as the finished runs kept.
    package static let defaultAcknowledgedCapacity = 10_000

    /// What an item is.
    package enum Kind: String, Sendable {
        /// An action run (`POST /v1/actions/runs/claim-pending`).
        case run
        /// A workflow node run (`POST /v1/workflows/runs/claim-pending`).
        case nodeRun
    }

    /// One claim of an item.
    struct Claim: Sendable, Equatable {
        let installationID: String
        let client: String
        let at: Date
        let until: Date
    }

    /// One queued item.
    package struct Item: Sendable, Equatable {
        package let id: String
        let kind: Kind
        /// The invocation method's type (`KAFKA`, `WEBHOOK`…), which `invocationMethod` filters on.
        let invocationType: String
        /// What `claim-pending` hands out besides the claim's fields.
        let payload: JSONObject
        /// The only installation that may claim it (an integration action's `installationId`).
        var installation: String? = nil
        let queuedAt: Date
        var claims: [Claim] = []
        package internal(set) var acked: (client: String, at: Date)?

        package static func == (lhs: Item, rhs: Item) -> Bool {
            lhs.id == rhs.id && lhs.claims == rhs.claims && (lhs.acked == nil) == (rhs.acked == nil)
        }

        /// The item as the admin API and the dashboard show it.
        var json: JSONValue {
            [
                "queuedAt": PortTimestamp.format(queuedAt),
                "claims": .array(
                    claims.map { claim in
                        [
                            "installationId": .string(claim.installationID), "clientId": .string(claim.client),
                            "at": PortTimestamp.format(claim.at), "claimedUntil": PortTimestamp.format(claim.until),
                        ]
                    }
                ),
                "ackedBy": acked.map { .string($0.client) } ?? .null,
                "ackedAt": PortTimestamp.format(acked?.at),
            ]
        }
    }

    /// The outcome of acking one id.
    package enum AckOutcome: Sendable, Equatable {
        /// Acked now.
        case acked
        /// Acked before: Ocean's single-id ack answers 409.
        case alreadyAcked
        /// Not an item of this kind.
        case unknown
    }

    private struct State {
        var items: [String: Item] = [:]
        /// Ids in the order queued; forgotten ones are dropped when they are half of it.
        var order: [String] = []
        /// Acked ids, oldest ack first.
        var acknowledged = Deque<String>()
        var forgottenInOrder = 0
    }

    private let state = Mutex(State())
    private let acknowledgedCapacity: Int

    /// An empty queue keeping the last `acknowledgedCapacity` acked items.
    package init(acknowledgedCapacity: Int = PollingQueue.defaultAcknowledgedCapacity) {
        self.acknowledgedCapacity = max(1, acknowledgedCapacity)
    }

    /// How many items are kept, pending or acked.
    package var count: Int { state.withLock { $0.items.count } }

    /// Queues an item (again: a re-queued id keeps its claims and acks); with an
    /// `installation`, only claims naming it get the item.
    package func enqueue(
        _ id: String,
        kind: Kind,
        invocationType: String,
        payload: JSONObject,
        installation: String? = nil,
        at time: Date
    ) {
        state.withLock { state in
            guard state.items[id] == nil else { return }
            state.items[id] = Item(
                id: id,
                kind: kind,
                invocationType: invocationType,
                payload: payload,
                installation: installation,
                queuedAt: time
            )
            state.order.append(id)
        }
    }

    /// The item with this id, if queued.
    package func item(_ id: String) -> Item? { state.withLock { $0.items[id] } }

    /// Claims up to `limit` pending items of `kind`, oldest first: not acked, not claimed
    /// or with an expired claim, not in `exclude`, of the `invocationType` when given, for
    /// this installation when the item names one, and
    /// still `isOpen` (their run not finished). Returns them with their new claim.
    package func claim(
        _ kind: Kind,
        limit: Int,
        installationID: String,
        invocationType: String?,
        visibilityTimeout: Duration,
        exclude: Set<String>,
        by client: String,
        now: Date,
        isOpen: (String) -> Bool
    ) -> [Item] {
        let until = now.addingTimeInterval(
            Double(visibilityTimeout.components.seconds) + Double(visibilityTimeout.components.attoseconds) / 1e18
        )
        return state.withLock { state in
            var claimed: [Item] = []
            for id in state.order where claimed.count < limit {
                guard var item = state.items[id], item.kind == kind, item.acked == nil, !exclude.contains(id),
                    invocationType.map({ $0 == item.invocationType }) ?? true,
                    item.installation.map({ $0 == installationID }) ?? true,
                    item.claims.last.map({ $0.until <= now }) ?? true, isOpen(id)
                else { continue }
                item.claims.append(Claim(installationID: installationID, client: client, at: now, until: until))
                state.items[id] = item
                claimed.append(item)
            }
            return claimed
        }
    }

    /// Acks an item of `kind` so it is never handed out again.
    package func ack(_ id: String, kind: Kind, by client: String, at time: Date) -> AckOutcome {
        state.withLock { state in
            guard var item = state.items[id], item.kind == kind else { return .unknown }
            guard item.acked == nil else { return .alreadyAcked }
            item.acked = (client, time)
            state.items[id] = item
            state.acknowledged.append(id)
            while state.acknowledged.count > acknowledgedCapacity, let oldest = state.acknowledged.popFirst() {
                state.items[oldest] = nil
                state.forgottenInOrder += 1
            }
            if state.forgottenInOrder > state.order.count / 2 {
                state.order.removeAll { state.items[$0] == nil }
                state.forgottenInOrder = 0
            }
            return .acked
        }
    }

    /// Forgets everything (`POST /_emulator/reset`).
    func reset() { state.withLock { $0 = State() } }
}
