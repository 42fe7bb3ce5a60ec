package import Logging
import PortContract

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A handler of one action's runs. Return normally for SUCCESS; throw for FAILURE (the
/// error's description becomes the final log).
public typealias RunHandler = @Sendable (RunContext) async throws -> Void

/// How one invocation ended, from the consumer's side.
public enum RunOutcome: String, Sendable, Equatable {
    /// The handler succeeded and SUCCESS was reported.
    case succeeded
    /// The handler failed (or there was none) and FAILURE was reported.
    case failed
    /// The run was already finished: nothing was run (a redelivery).
    case alreadyFinished
    /// Port does not know the run: nothing can be reported.
    case unknownRun
}

/// Turns invocations into handled, reported runs: posts a start log (which Port refuses
/// for a finished run, so a redelivered run is skipped), runs the handler, and ends the
/// run exactly once.
///
/// It never PATCHes `IN_PROGRESS` (Port refuses it): a new run already is.
package final class RunRuntime: Sendable {
    private let client: PortClient
    private let handlers: [String: RunHandler]
    private let nodeHandlers: [String: RunHandler]
    private let logger: Logger

    /// A runtime with handlers by action identifier, and by workflow node identifier.
    package init(
        client: PortClient,
        handlers: [String: RunHandler],
        nodeHandlers: [String: RunHandler] = [:],
        logger: Logger = Logger(label: "port-consumer")
    ) {
        self.client = client
        self.handlers = handlers
        self.nodeHandlers = nodeHandlers
        self.logger = logger
    }

    /// Handles one invocation to its end. Throws when the terminal report could not be
    /// delivered, or when the task was cancelled while the handler ran and it failed (a
    /// shutdown cut it off): either way the message must not be committed.
    package func handle(_ invocation: Invocation) async throws -> RunOutcome {
        switch invocation {
        case .run(let run): return try await handle(run)
        case .workflowNode(let node): return try await handle(node)
        }
    }

    private func handle(_ run: RunInvocation) async throws -> RunOutcome {
        let started = ContinuousClock.now
        var metadata: Logger.Metadata = ["run": "\(run.runID)", "action": "\(run.action)"]
        // The start log doubles as the status check: Port refuses a log on a finished run
        // with 422 run_exhausted (a redelivery: skip it) and an unknown run with 404.
        do {
            try await client.send(
                .POST,
                "/actions/runs/\(run.runID)/logs",
                body: ["message": .string("port-consumer started \(run.action)"), "statusLabel": "Running"]
            )
        } catch let failure as PortClient.Failure where failure.code == "run_exhausted" {
            logger.info("run already finished; skipped", metadata: metadata)
            return .alreadyFinished
        } catch let failure as PortClient.Failure where failure.status == 404 {
            logger.error("Port does not know the run; nothing to report", metadata: metadata)
            return .unknownRun
        }
        let decrypted: RunInvocation
        do {
            decrypted = try Self.decryptingSecrets(of: run, clientSecret: client.decryptionSecret)
        } catch {
            // Not a crash, and not the plaintext: the run fails, saying which input and why.
            try await finish(run.runID, failure: error.description, summary: nil)
            logger.error("run failed: a secret input does not decrypt", metadata: metadata)
            return .failed
        }
        let context = RunContext(invocation: decrypted, client: client)
        var failure: String?
        if let handler = handlers[run.action] {
            do {
                try await handler(context)
            } catch {
                // Cut off by a shutdown: not a failure of the run. It is not reported, and
                // its message is delivered again.
                if Task.isCancelled { throw CancellationError() }
                failure = "\(run.action) failed: \(error)"
            }
        } else {
            failure = "no handler for action \(run.action.isEmpty ? "(none named in the message)" : run.action)"
        }
        let outcome: RunOutcome = failure == nil ? .succeeded : .failed
        try await finish(run.runID, failure: failure, summary: context.summary)
        metadata["outcome"] = "\(outcome.rawValue)"
        metadata["duration_ms"] = "\((ContinuousClock.now - started).secondsDouble * 1000)"
        if let failure { metadata["error"] = "\(failure)" }
        logger.info("run finished", metadata: metadata)
        return outcome
    }

    /// The invocation with its secret inputs decrypted (contract §8): strings as text,
    /// `object` inputs parsed back to JSON.
    static func decryptingSecrets(
        of run: RunInvocation,
        clientSecret: String
    ) throws(SecretInput.Failure) -> RunInvocation {
        var decrypted = run
        for name in run.secretInputs {
            guard let value = run.inputs[name], value != .null else { continue }
            guard let encoded = value.stringValue else {
                throw SecretInput.Failure(
                    description: "the secret input \(name) is \(value.typeName), not an encrypted string"
                )
            }
            let plaintext: [UInt8]
            do {
                plaintext = try SecretInput.decrypt(encoded, clientSecret: clientSecret)
            } catch {
                throw SecretInput.Failure(
                    description: "the secret input \(name) cannot be decrypted: \(error.description)"
                )
            }
            if run.objectSecretInputs.contains(name) {
                guard let object = try? JSONValue.parse(plaintext) else {
                    throw SecretInput.Failure(description: "the secret input \(name) decrypts to text that is not JSON")
                }
                decrypted.inputs[name] = object
            } else {
                decrypted.inputs[name] = .string(String(decoding: plaintext, as: UTF8.self))
            }
        }
        return decrypted
    }

    /// The terminal report, exactly once: a log with `terminationStatus`. A 422
    /// `run_exhausted` means the run was already finished, which is what was wanted.
    private func finish(_ runID: String, failure: String?, summary: String?) async throws {
        let body: JSONValue = [
            "message": .string(failure ?? summary ?? "Succeeded"),
            "terminationStatus": failure == nil ? "SUCCESS" : "FAILURE",
            "statusLabel": failure == nil ? "Succeeded" : "Failed",
        ]
        do {
            try await client.send(.POST, "/actions/runs/\(runID)/logs", body: body)
        } catch let failure as PortClient.Failure where failure.code == "run_exhausted" {
            logger.info("run was already finished when reported", metadata: ["run": "\(runID)"])
        }
    }

    private func handle(_ node: WorkflowNodeInvocation) async throws -> RunOutcome {
        let path = "/workflows/nodes/runs/\(node.nodeRunID)"
        do {
            let current = try await client.send(.GET, path)
            if current["nodeRun"]?["status"] == "COMPLETED" { return .alreadyFinished }
        } catch let failure as PortClient.Failure where failure.status == 404 {
            return .unknownRun
        }
        var failure: String?
        if let handler = nodeHandlers[node.node] {
            let invocation = RunInvocation(
                runID: node.nodeRunID,
                action: node.node,
                operation: nil,
                blueprint: nil,
                entityIdentifier: nil,
                entity: nil,
                inputs: node.payload.objectValue ?? [:],
                user: nil,
                message: node.payload
            )
            do {
                try await handler(RunContext(invocation: invocation, client: client, isWorkflowNode: true))
            } catch {
                if Task.isCancelled { throw CancellationError() }  // as for runs: delivered again
                failure = "\(node.node) failed: \(error)"
            }
        } else {
            failure = "no handler for workflow node \(node.node)"
        }
        try await client.send(
            .POST,
            path + "/logs",
            body: ["logs": [["level": failure == nil ? "INFO" : "ERROR", "message": .string(failure ?? "Succeeded")]]]
        )
        do {
            try await client.send(
                .PATCH,
                path,
                body: ["status": "COMPLETED", "result": failure == nil ? "SUCCESS" : "FAILED"]
            )
        } catch let failure as PortClient.Failure where failure.code == "run_exhausted" {}
        return failure == nil ? .succeeded : .failed
    }
}
