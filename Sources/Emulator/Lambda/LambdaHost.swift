import HTTPServer
package import Logging
package import PortContract
import PortKafka
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The emulator's Lambda function: the Runtime API's exchange, the execution environment
/// running the user's runtime client, the event source mapping, and their log.
package final class LambdaHost: Sendable {
    /// The function's settings.
    package let settings: LambdaSettings
    /// The Runtime API's exchange.
    package let runtime: LambdaRuntime
    /// Every invocation so far.
    package let log = LambdaInvocationLog()
    private let logger: Logger
    private let parts = Mutex<(mapping: EventSourceMapping?, group: String)>((nil, ""))

    /// A host for `settings`; nothing runs until ``start(info:)``'s work is run.
    package init(settings: LambdaSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
        let box = ProcessBox()
        self.runtime = LambdaRuntime(timeout: settings.timeout) { box.process?.discardEnvironment() }
        self.box = box
    }

    private let box: ProcessBox

    /// Creates the execution environment and the mapping for the emulator of `info`, and
    /// returns their work, to run as the emulator's parts.
    package func start(info: EmulatorInfo) throws -> [@Sendable () async -> Void] {
        guard let bootstrap = info.kafkaSASLSSLBootstrapServers, let username = info.kafkaUsername,
            let password = info.kafkaPassword, let ca = info.kafkaCALocation
        else {
            throw EmulatorError(
                message: "--lambda needs the embedded Kafka (its SASL_SSL listeners), not --kafka-bootstrap"
            )
        }
        let group = settings.group(orgID: info.orgID)
        let mapping = EventSourceMapping(
            settings: settings,
            group: group,
            connection: .init(
                bootstrapServers: bootstrap,
                username: username,
                password: password,
                caFile: ca,
                topics: [info.runsTopic] + (settings.includeChangeLog ? [info.changeLogTopic] : []),
                partitions: info.partitions
            ),
            runtime: runtime,
            log: log,
            logger: logger
        )
        var work: [@Sendable () async -> Void] = [
            { [runtime] in await runtime.run() },
            { await mapping.run() },
        ]
        if !settings.command.isEmpty {
            let process = LambdaFunctionProcess(
                command: settings.command,
                environment: functionEnvironment(info),
                logPath: settings.logPath,
                runtime: runtime,
                logger: logger
            )
            box.process = process
            work.append { await process.run() }
        }
        parts.withLock { $0 = (mapping, group) }
        return work
    }

    /// What the function's environment holds: the emulator's settings, as a user sets them
    /// on a function (`PORT_API_URL`, `PORT_CLIENT_ID`, `PORT_CLIENT_SECRET`, …), and
    /// Lambda's own variables, `AWS_LAMBDA_RUNTIME_API` first.
    package func functionEnvironment(_ info: EmulatorInfo) -> [String: String] {
        var environment = Dictionary(info.environment, uniquingKeysWith: { $1 })
        let runtimeAPI = info.apiBaseURL.replacing("http://", with: "")
        let lambda: [String: String] = [
            "AWS_LAMBDA_RUNTIME_API": runtimeAPI,
            "AWS_LAMBDA_FUNCTION_NAME": settings.functionName,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/\(settings.functionName)",
            "AWS_LAMBDA_LOG_STREAM_NAME": "port-emulator",
            "AWS_REGION": LambdaSettings.region,
            "AWS_DEFAULT_REGION": LambdaSettings.region,
            "LAMBDA_TASK_ROOT": FileManager.default.currentDirectoryPath,
        ]
        environment.merge(lambda) { $1 }
        environment.merge(settings.environment) { $1 }
        return environment
    }

    /// The state for `GET /_emulator/lambda`.
    package var status: JSONValue {
        let (mapping, group) = parts.withLock { $0 }
        let process = box.process
        var object: JSONObject = [
            "function": .string(settings.functionName),
            "functionArn": .string(settings.functionARN),
            "trigger": .string(settings.trigger.rawValue),
            "consumerGroup": .string(group),
            "batchSize": .int(Int64(settings.batchSize)),
            "runtimeRequests": .int(Int64(runtime.nextCalls)),
            "initErrors": .array(runtime.initErrors.map(JSONValue.string)),
            "environments": .int(Int64(process?.starts ?? 0)),
            "environmentExits": .array((process?.exits ?? []).map(JSONValue.string)),
            "mappingStarts": .int(Int64(mapping?.generation ?? 0)),
            "assignedPartitions": .array(
                (mapping?.assignment ?? []).map { .string("\($0.topic)-\($0.partition)") }
            ),
            "invocations": .array(log.entries.map(\.json)),
        ]
        object["lastProcessingResult"] = .string(log.problem ?? "OK")
        return .object(object)
    }

    /// Whether the mapping's consumer holds its partitions (its group's join has ended).
    package var mappingAssigned: Bool { !(parts.withLock { $0.mapping }?.assignment.isEmpty ?? true) }

    /// Stops the mapping's consumer mid-batch (nothing in flight is committed) and starts a
    /// new one; false when there is no mapping.
    package func restartMapping() -> Bool {
        guard let mapping = parts.withLock({ $0.mapping }) else { return false }
        mapping.restart()
        return true
    }
}

/// The environment (when there is a command): made after the runtime, whose timeout callback
/// reaches it through this box; the one place it is kept.
private final class ProcessBox: Sendable {
    private let value = Mutex<LambdaFunctionProcess?>(nil)
    var process: LambdaFunctionProcess? {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}
