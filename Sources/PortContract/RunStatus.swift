/// The status of an action run.
public enum RunStatus: String, Sendable, Hashable, CaseIterable, Codable {
    /// Running; reports may still change it.
    case inProgress = "IN_PROGRESS"
    /// Waiting for someone to approve or decline it.
    case waitingForApproval = "WAITING_FOR_APPROVAL"
    /// Finished successfully.
    case success = "SUCCESS"
    /// Finished with a failure.
    case failure = "FAILURE"
    /// Declined by an approver.
    case declined = "DECLINED"

    /// Whether the run is finished and therefore locked.
    public var isFinished: Bool { self == .success || self == .failure || self == .declined }
}

/// The status a consumer may set when it finishes a run: only `SUCCESS` or `FAILURE`.
public enum TerminationStatus: String, Sendable, Hashable, CaseIterable {
    /// The run succeeded.
    case success = "SUCCESS"
    /// The run failed.
    case failure = "FAILURE"

    /// The run status this termination sets.
    public var runStatus: RunStatus { self == .success ? .success : .failure }
}

/// Where a run was triggered from.
public enum RunSource: String, Sendable, Hashable, CaseIterable {
    /// Port's UI.
    case ui = "UI"
    /// Port's API.
    case api = "API"
    /// An automation.
    case automation = "AUTOMATION"
}
