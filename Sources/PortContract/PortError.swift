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

    /// 404 `not_found` for an entity that does not exist.
    public static func entityNotFound(_ identifier: String, blueprint: String) -> PortError {
        PortError(
            status: 404,
            code: "not_found",
            message: "Entity with identifier \"\(identifier)\" was not found in blueprint \"\(blueprint)\"",
            rule: "entity-exists"
        )
    }

    /// 404 `not_found` for a blueprint that does not exist.
    public static func blueprintNotFound(_ identifier: String) -> PortError {
        PortError(
            status: 404,
            code: "not_found",
            message: "Blueprint with identifier \"\(identifier)\" was not found",
            rule: "blueprint-exists"
        )
    }

    /// 404 `not_found` for an action that does not exist.
    public static func actionNotFound(_ identifier: String) -> PortError {
        PortError(
            status: 404,
            code: "not_found",
            message: "Action with identifier \"\(identifier)\" was not found",
            rule: "action-exists"
        )
    }

    /// 409 `identifier_taken`: creating something whose identifier is in use (no `upsert`).
    public static func identifierTaken(_ identifier: String, blueprint: String? = nil) -> PortError {
        PortError(
            status: 409,
            code: "identifier_taken",
            message: blueprint.map { "Entity with identifier \"\(identifier)\" already exists in blueprint \"\($0)\"" }
                ?? "A resource with identifier \"\(identifier)\" already exists",
            rule: "identifier-unique"
        )
    }

    /// 422 `blueprint_schema_mismatch`: entity properties that break the blueprint's schema.
    public static func blueprintSchemaMismatch(_ problems: [String], blueprint: String) -> PortError {
        PortError(
            status: 422,
            code: "blueprint_schema_mismatch",
            message: "The entity does not match the schema of blueprint \"\(blueprint)\": "
                + problems.joined(separator: "; "),
            rule: "entity-matches-blueprint-schema"
        )
    }

    /// 422 `user_inputs_schema_invalid`: run inputs that break the action's `userInputs`.
    public static func userInputsInvalid(_ problems: [String], action: String) -> PortError {
        PortError(
            status: 422,
            code: "user_inputs_schema_invalid",
            message: "The inputs do not match the user inputs of action \"\(action)\": "
                + problems.joined(separator: "; "),
            rule: "inputs-match-user-inputs"
        )
    }
}
