import JQ
import PortCatalog
import PortContract
import StateLog
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Runs the organization's automations (contract §7): every entity change, run change
/// and expired timer is turned into Port's event object, checked against each automation
/// that listens to it with its jq condition, and a match becomes a run (`source:
/// AUTOMATION`) whose payload is published to `ORG_ID.runs`.
///
/// **Loops** (Port documents no rule; this is the emulator's): an automation never fires
/// for an event its own runs caused, directly or through other automations. Each run
/// carries the chain of automations that led to it (`NewRun.automationChain`); an event
/// about that run, or an entity write made with its `run_id`, carries the same chain, and
/// an automation in the chain is skipped, with the skip listed as `loop` on the dashboard.
/// A chain only grows, so every cascade ends after at most one run per automation.
package final class AutomationEngine: Sendable {
    /// One automation that fired, or was skipped or failed to evaluate.
    struct Firing: Sendable {
        let time: Date
        let automation: String
        let eventType: String
        /// `fired`, `loop` (skipped, see the type's note) or `condition-error`.
        let outcome: String
        let runID: String?
        let detail: String?
        let event: JSONValue
    }

    private struct State {
        var firings: [Firing] = []
        /// Timers already fired: `blueprint/entity/property` to the instant that fired.
        var firedTimers: [String: String] = [:]
    }

    private let catalog: Catalog
    private let runs: RunStore
    private let publisher: InvocationPublisher
    private let recorder: CallRecorder
    private let orgID: String
    /// The clock timers expire on.
    let clock: EmulatorClock
    private let state = Mutex(State())
    /// Held through each timer check and through `withoutTimerChecks`: a reset cannot land in
    /// the middle of a check, which read the entities before it and would fire on them after.
    private let timerGate = Mutex(())
    private let programs = JQProgramCache()
    /// Where fired timers are recorded (`--state-dir`): a timer fires once, restarts or not.
    private let stateLog: StateLog?

    /// How many firings the dashboard and `/_emulator/automations` keep.
    static let firingsKept = 1000

    init(
        catalog: Catalog,
        runs: RunStore,
        publisher: InvocationPublisher,
        recorder: CallRecorder,
        clock: EmulatorClock,
        orgID: String,
        stateLog: StateLog? = nil
    ) {
        self.stateLog = stateLog
        self.catalog = catalog
        self.runs = runs
        self.publisher = publisher
        self.recorder = recorder
        self.clock = clock
        self.orgID = orgID
    }

    /// The firings kept, oldest first.
    var firings: [Firing] { state.withLock { $0.firings } }

    /// Forgets firings and fired timers (`POST /_emulator/reset`).
    func reset() {
        state.withLock { state in
            state = State()
            stateLog.record(.timers, StateRecords.reset, [:])
        }
    }

    /// Applies one record of the fired timers to `fired` (`--state-dir`'s load: the engine
    /// is made after the load, with what it rebuilt).
    static func restore(
        _ kind: String,
        _ fields: JSONObject,
        into fired: inout [String: String]
    )
        throws(StateCodecError)
    {
        let record = try StateFields(.object(fields), "timer")
        switch kind {
        case "fired": fired[try record.string("key")] = try record.string("value")
        case StateRecords.reset: fired = [:]
        default: throw StateCodecError(field: "k", reason: "\"\(kind)\" is not a kind of the timers' records")
        }
    }

    /// Takes the fired timers a load rebuilt. Records nothing.
    func restore(firedTimers: [String: String]) {
        state.withLock { $0.firedTimers = firedTimers }
    }

    /// The fired timers as records, and the last log record they include.
    func stateSection() -> StateSection {
        let (fired, fence) = state.withLock { ($0.firedTimers, stateLog.fence) }
        let records = fired.sorted { $0.key < $1.key }.map {
            StateRecords.payload(.timers, "fired", ["key": .string($0.key), "value": .string($0.value)])
        }
        return StateSection(store: .timers, fence: fence, records: records)
    }

    // MARK: Events

    /// An entity was created, changed or deleted through any route.
    func entityChanged(_ change: EntityChange, by client: String) {
        guard let entity = change.after ?? change.before else { return }
        let kind: AutomationTrigger.EntityEventKind =
            switch change.kind {
            case .create: .created
            case .update: .updated
            case .delete: .deleted
            }
        let automations = listeners { trigger in
            guard case .entity(let wanted, let blueprint) = trigger else { return false }
            return blueprint == entity.blueprint && (wanted == kind || wanted == .any)
        }
        // Most writes have no listener: the event and the chain are built only for one.
        guard !automations.isEmpty else { return }
        let chain = change.runID.flatMap { try? runs.run($0).request.automationChain } ?? []
        let event = AutomationEvents.entity(change, by: client, orgID: orgID, at: Date())
        evaluate(event, against: automations, type: kind.rawValue, chain: chain, user: client, entity: entity)
    }

    /// A run was created (`before` nil) or changed: the RunStore's observer.
    func runChanged(before: ActionRun?, after: ActionRun) {
        if let before, !AutomationEvents.isUpdate(from: before, to: after) { return }
        let kind: AutomationTrigger.RunEventKind = before == nil ? .created : .updated
        let action = after.request.action.identifier
        let automations = listeners { trigger in
            guard case .run(let wanted, let watched) = trigger else { return false }
            return watched == action && (wanted == kind || wanted == .any)
        }
        guard !automations.isEmpty else { return }
        let definition = (try? catalog.action(action))?.json ?? ["identifier": .string(action)]
        let event = AutomationEvents.run(before: before, after: after, definition: definition, orgID: orgID)
        evaluate(
            event,
            against: automations,
            type: kind.rawValue,
            chain: after.request.automationChain,
            user: after.updatedBy,
            entity: nil
        )
    }

    /// Fires `TIMER_PROPERTY_EXPIRED` for every timer property that has passed on the
    /// emulator's clock and has not fired for its current value, and publishes its
    /// change-log message. Called when the clock moves, and once a second.
    func checkTimers() {
        timerGate.withLock { _ in checkTimersNow() }
    }

    /// Runs `body` (`POST /_emulator/reset`) while no timer check runs.
    func withoutTimerChecks(_ body: () -> Void) {
        timerGate.withLock { _ in body() }
    }

    private func checkTimersNow() {
        let now = clock.now()
        for blueprint in catalog.blueprints {
            let timers = blueprint.schema.timerProperties
            guard !timers.isEmpty else { continue }
            for entity in runs.entities(of: blueprint.identifier) {
                for property in timers {
                    guard let text = entity.properties[property]?.stringValue,
                        let instant = TimerInstant.parse(text), instant <= now
                    else { continue }
                    let key = "\(blueprint.identifier)/\(entity.identifier)/\(property)"
                    let isNew = state.withLock { state in
                        guard state.firedTimers[key] != text else { return false }
                        state.firedTimers[key] = text
                        stateLog.record(.timers, "fired", ["key": .string(key), "value": .string(text)])
                        return true
                    }
                    guard isNew else { continue }
                    publisher.scheduleChangeLog(
                        AutomationEvents.timerChangeLog(entity, orgID: orgID, at: now),
                        key: entity.identifier,
                        of: blueprint
                    )
                    let automations = listeners { trigger in
                        trigger == .timerExpired(blueprint: blueprint.identifier, property: property)
                    }
                    guard !automations.isEmpty else { continue }
                    evaluate(
                        AutomationEvents.timerExpired(entity, property: property, orgID: orgID, at: now),
                        against: automations,
                        type: "TIMER_PROPERTY_EXPIRED",
                        chain: [],
                        user: RunStore.emulatorAuthor,
                        entity: entity
                    )
                }
            }
        }
    }

    // MARK: Evaluation

    /// The published automations whose event `listens` accepts, in catalog order.
    private func listeners(_ listens: (AutomationTrigger.Event) -> Bool) -> [ActionDefinition] {
        catalog.actions.filter { action in
            guard let trigger = action.automation, action.publish else { return false }
            return listens(trigger.event)
        }
    }

    /// Checks `event` against each of `automations` and fires those whose condition holds.
    private func evaluate(
        _ event: JSONValue,
        against automations: [ActionDefinition],
        type: String,
        chain: [String],
        user: String,
        entity: Entity?
    ) {
        let input = try? JQInput(json: event.compactText)
        for automation in automations {
            guard let trigger = automation.automation else { continue }
            if chain.contains(automation.identifier) {
                record(automation, type, outcome: "loop", detail: "caused by its own run", event: event)
                continue
            }
            let holds: Bool
            do {
                holds = try input.map { try condition(trigger, holdsOn: $0) } ?? false
            } catch {
                record(automation, type, outcome: "condition-error", detail: "\(error)", event: event)
                continue
            }
            guard holds else { continue }
            fire(automation, event: event, type: type, chain: chain, user: user, entity: entity)
        }
    }

    /// Whether the trigger's expressions hold on the event: jq's truth (anything but
    /// `false` and `null`) of each expression's first output, combined with `and` or `or`.
    private func condition(_ trigger: AutomationTrigger, holdsOn input: JQInput) throws -> Bool {
        guard !trigger.expressions.isEmpty else { return true }
        for expression in trigger.expressions {
            let output = try programs.program(expression).run(input: input).first
            let holds = output.map { $0 != "false" && $0 != "null" } ?? false
            if holds, trigger.combinator == .or { return true }
            if !holds, trigger.combinator == .and { return false }
        }
        return trigger.combinator == .and
    }

    /// Creates the automation's run, journals it, and publishes its invocation.
    private func fire(
        _ automation: ActionDefinition,
        event: JSONValue,
        type: String,
        chain: [String],
        user: String,
        entity: Entity?
    ) {
        var request = NewRun(
            action: RunActionInfo(identifier: automation.identifier, title: automation.title, icon: automation.icon),
            blueprintIdentifier: entity?.blueprint,
            blueprintTitle: entity.flatMap { try? catalog.blueprint($0.blueprint).title },
            entityIdentifier: entity?.identifier,
            entityTitle: entity?.title,
            source: .automation,
            createdBy: user
        )
        request.automationEvent = event
        request.automationChain = chain + [automation.identifier]
        // Recorded before the run exists (its creation may fire more), so that a cascade's
        // firings list in causal order.
        let id = PortIdentifier.make(prefix: "r_")
        record(automation, type, outcome: "fired", runID: id, event: event)
        recorder.record(
            JournalEntry(
                time: Date(),
                clientID: RunStore.emulatorAuthor,
                method: "AUTOMATION",
                path: "/v1/actions/\(automation.identifier)/runs (\(type))",
                status: 202,
                runID: id
            )
        )
        // A taken id (one in 62^16) drops the firing rather than reuse another run.
        guard (try? runs.create(request, id: id)) != nil else { return }
        publisher.schedule(runID: id)
    }

    private func record(
        _ automation: ActionDefinition,
        _ type: String,
        outcome: String,
        runID: String? = nil,
        detail: String? = nil,
        event: JSONValue
    ) {
        let firing = Firing(
            time: Date(),
            automation: automation.identifier,
            eventType: type,
            outcome: outcome,
            runID: runID,
            detail: detail,
            event: event
        )
        state.withLock { state in
            state.firings.append(firing)
            if state.firings.count > Self.firingsKept {
                state.firings.removeFirst(state.firings.count - Self.firingsKept)
            }
        }
    }
}

extension AutomationEngine.Firing {
    /// The firing as `/_emulator/automations` lists it.
    var json: JSONValue {
        [
            "time": PortTimestamp.format(time), "automation": .string(automation), "eventType": .string(eventType),
            "outcome": .string(outcome), "runId": runID.map(JSONValue.string) ?? .null,
            "detail": detail.map(JSONValue.string) ?? .null, "event": event,
        ]
    }
}
