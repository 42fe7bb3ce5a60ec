/// An error Port's API answers with: status, `error` code and message, plus the rule of
/// the contract that refused the request (for the emulator's violation list).
public struct PortError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The HTTP status.
    public let status: Int
    /// Port's `error` code, e.g. `run_exhausted`.
    public let code: String
    /// Port's `message`.
    public let message: String
    /// The contract rule that refused the request, e.g. `run-locked-after-finish`.
    public let rule: String

    /// Creates an error; prefer the named factories, which carry Port's wording.
    public init(status: Int, code: String, message: String, rule: String) {
        self.status = status
        self.code = code
        self.message = message
        self.rule = rule
    }

    /// `status code: message`.
    public var description: String { "\(status) \(code): \(message)" }

    /// 404 `not_found` for a run id that does not exist.
    public static func runNotFound(_ id: String) -> PortError {
        PortError(
            status: 404,
            code: "not_found",
            message: "Action run with id \"\(id)\" was not found",
            rule: "run-exists"
        )
    }

    /// 422 `run_exhausted`: any write to a finished run.
    public static let runExhausted = PortError(
        status: 422,
        code: "run_exhausted",
        message: "Action run already finished execution",
        rule: "run-locked-after-finish"
    )

    /// 400 `run_exhausted`: an entity write with `run_id` of a finished run.
    public static let entityRunExhausted = PortError(
        status: 400,
        code: "run_exhausted",
        message: "Action run already finished execution",
        rule: "run-id-only-while-in-progress"
    )

    /// 422 `run_synchronized_error`: a manual status change on a synchronized run.
    public static let runSynchronized = PortError(
        status: 422,
        code: "run_synchronized_error",
        message: "Cannot change the status of a synchronized action run manually",
        rule: "synchronized-run-status"
    )

    /// 422 `run_not_waiting_for_approval`.
    public static let runNotWaitingForApproval = PortError(
        status: 422,
        code: "run_not_waiting_for_approval",
        message: "Action run is not waiting for approval",
        rule: "approval-only-when-waiting"
    )

    /// 422 `invalid_request` naming the offending field.
    public static func invalidRequest(_ message: String, rule: String = "request-schema") -> PortError {
        PortError(status: 422, code: "invalid_request", message: message, rule: rule)
    }

    /// 400 `bad_request` for a body that is not JSON.
    public static func malformedBody(_ reason: String) -> PortError {
        PortError(status: 400, code: "bad_request", message: reason, rule: "body-is-json")
    }
}
