public import PortContract

#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// The action a run belongs to, as Port shows it on the run.
public struct RunActionInfo: Sendable, Equatable {
    /// The action's identifier.
    public var identifier: String
    /// The action's title.
    public var title: String?
    /// The action's icon.
    public var icon: String?

    /// Creates the action summary.
    public init(identifier: String, title: String? = nil, icon: String? = nil) {
        self.identifier = identifier
        self.title = title
        self.icon = icon
    }
}

/// What is needed to create a run.
public struct NewRun: Sendable, Equatable {
    /// The action.
    public var action: RunActionInfo
    /// The action's blueprint, if it has one.
    public var blueprintIdentifier: String?
    /// The blueprint's title (its identifier when not given).
    public var blueprintTitle: String?
    /// The entity a DAY-2 or DELETE run acts on, if any.
    public var entityIdentifier: String?
    /// The entity's title (its identifier when not given).
    public var entityTitle: String?
    /// The user inputs.
    public var properties: JSONObject
    /// Whether the run waits for approval before it starts.
    public var requiredApproval: Bool
    /// Whether Port itself calls a synchronized webhook for this run, so that its status is
    /// Port's to set, never a PATCH's (false for an agent's synchronized run: port-agent
    /// reports it).
    public var synchronized: Bool
    /// Where it was triggered from.
    public var source: RunSource
    /// The user who triggered it.
    public var createdBy: String
    /// The triggering user's record (`email`, `firstName`, `lastName`, `id`) when the
    /// organization has users: what `trigger.by.user` shows.
    public var user: JSONObject?
    /// For an automation's run: the event object that fired it (contract §7).
    public var automationEvent: JSONValue?
    /// The automations whose runs led to this run, itself last when it is an automation's:
    /// none of them fires again for what this run causes (see `AutomationEngine`).
    public var automationChain: [String] = []

    /// Creates a run request; by default an API-triggered run of a KAFKA action.
    public init(
        action: RunActionInfo,
        blueprintIdentifier: String? = nil,
        blueprintTitle: String? = nil,
        entityIdentifier: String? = nil,
        entityTitle: String? = nil,
        properties: JSONObject = [:],
        requiredApproval: Bool = false,
        synchronized: Bool = false,
        source: RunSource = .api,
        createdBy: String = "emulator-user@example.com"
    ) {
        self.action = action
        self.blueprintIdentifier = blueprintIdentifier
        self.blueprintTitle = blueprintTitle
        self.entityIdentifier = entityIdentifier
        self.entityTitle = entityTitle
        self.properties = properties
        self.requiredApproval = requiredApproval
        self.synchronized = synchronized
        self.source = source
        self.createdBy = createdBy
    }
}

/// One action run, as the RunStore holds it.
public struct ActionRun: Sendable, Equatable {
    /// `r_` and 16 alphanumerics.
    public let id: String
    /// Where the run stands.
    public var status: RunStatus
    /// The label shown beside the status.
    public var statusLabel: String?
    /// Links, replaced as a whole by each PATCH that names them.
    public var links: [String] = []
    /// The run's summary.
    public var summary: String?
    /// The consumer's own id for the run.
    public var externalRunId: String?
    /// Port's deprecated `message` object.
    public var message: JSONObject?
    /// When the run finished.
    public var endedAt: Date?
    /// The approver's decision, once made.
    public var approval: JSONObject?
    /// The response of a synchronized webhook run.
    public var response: JSONValue?
    /// The entities the run created, changed or deleted, oldest first.
    public var affectedEntities: [AffectedEntity] = []
    /// Where its invocation landed on Kafka, once published.
    public internal(set) var delivery: RunDelivery?
    /// How many times the run has changed (a log counts): what waiters compare.
    public internal(set) var version = 0
    /// The request that created it.
    public let request: NewRun
    /// When it was created.
    public let createdAt: Date
    /// When it last changed.
    public var updatedAt: Date
    /// The client id (or user) that last changed it.
    public var updatedBy: String

    /// Whether the run is finished and refuses every further write.
    public var isLocked: Bool { status.isFinished }
}

/// One log line of a run.
public struct RunLog: Sendable, Equatable {
    /// `log_` and 16 alphanumerics.
    public let id: String
    /// The run it belongs to.
    public let runId: String
    /// The text.
    public let message: String
    /// The client id that posted it.
    public let createdBy: String
    /// When it was posted.
    public let createdAt: Date
}

/// Port's identifiers: a prefix and 16 letters and digits.
enum PortIdentifier {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

    static func make(prefix: String) -> String {
        var randomness = IdentifierRandomness()
        return prefix + String((0..<16).map { _ in alphabet.randomElement(using: &randomness)! })
    }
}

/// Where a run's invocation message landed on Kafka.
public struct RunDelivery: Sendable, Equatable {
    /// The topic.
    public let topic: String
    /// The partition.
    public let partition: Int32
    /// The message's offset.
    public let offset: Int64
    /// The message as published.
    public var message: JSONValue = .null
}
