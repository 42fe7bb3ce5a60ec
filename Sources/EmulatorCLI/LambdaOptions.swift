package import ArgumentParser
package import Emulator

#if canImport(Glibc)
import Glibc
#endif

/// The Lambda function's settings on the command line (`serve --lambda`, `verify --lambda`),
/// named after Lambda's own: the event source mapping's batch size, batching window, retry
/// limits and consumer group, and the function's timeout.
package struct LambdaOptions: ParsableArguments, Sendable {
    /// The defaults.
    package init() {}

    @Option(
        name: .customLong("lambda-trigger"),
        help: ArgumentHelp(
            "self-managed (eventSource SelfManagedKafka) or msk (aws:kafka, with an eventSourceArn).",
            valueName: "kind"
        )
    )
    package var trigger = "self-managed"

    @Option(
        name: .customLong("lambda-batch-size"),
        help: "Records per invocation at most (Lambda's BatchSize, 1-10000)."
    )
    package var batchSize = 100

    @Option(
        name: .customLong("lambda-batching-window"),
        help: ArgumentHelp(
            "How long records are gathered before a smaller batch is sent (MaximumBatchingWindowInSeconds).",
            valueName: "duration"
        )
    )
    package var batchingWindow = DurationArgument("500ms", .milliseconds(500))

    @Option(
        name: .customLong("lambda-timeout"),
        help: ArgumentHelp(
            "The function's timeout: past it the invocation fails, the environment is replaced and the batch retried.",
            valueName: "duration"
        )
    )
    package var timeout = DurationArgument("30s", .seconds(30))

    @Option(
        name: .customLong("lambda-max-retries"),
        help: "Retries of a failed batch (MaximumRetryAttempts); -1 retries until it succeeds, then it is discarded."
    )
    package var maximumRetryAttempts = -1

    @Option(
        name: .customLong("lambda-max-record-age"),
        help: ArgumentHelp("Records older than this are not sent (MaximumRecordAgeInSeconds).", valueName: "duration")
    )
    package var maximumRecordAge: DurationArgument?

    @Flag(
        name: .customLong("lambda-bisect-on-error"),
        help: "Split a failed batch in two and retry each half (BisectBatchOnFunctionError)."
    )
    package var bisect = false

    @Option(
        name: .customLong("lambda-consumer-group"),
        help: ArgumentHelp(
            "The mapping's consumer group (ConsumerGroupId). Default: ORG_ID.lambda.FUNCTION.",
            discussion: "Port's ACLs refuse a group without the ORG_ID. prefix, as they would in AWS.",
            valueName: "group"
        )
    )
    package var consumerGroup: String?

    @Flag(name: .customLong("lambda-change-log"), help: "Also send the change log (ORG_ID.change.log) to the function.")
    package var changeLog = false

    @Option(name: .customLong("lambda-function-name"), help: "AWS_LAMBDA_FUNCTION_NAME, and the ARN's last part.")
    package var functionName = "port-action-handler"

    @Option(name: .customLong("lambda-log"), help: "Where the function's stdout and stderr go.")
    package var logPath = "port-emulator-lambda.log"

    /// The settings for a function run as `command` (empty: the user starts the runtime
    /// client themselves).
    package func settings(command: [String]) throws -> LambdaSettings {
        guard let trigger = LambdaSettings.Trigger(rawValue: trigger) else {
            throw ValidationError("--lambda-trigger must be self-managed or msk (got \(trigger))")
        }
        var settings = LambdaSettings()
        settings.command = command
        settings.trigger = trigger
        settings.batchSize = batchSize
        settings.batchingWindow = batchingWindow.duration
        settings.timeout = timeout.duration
        settings.maximumRetryAttempts = maximumRetryAttempts
        settings.maximumRecordAge = maximumRecordAge?.duration
        settings.bisectBatchOnFunctionError = bisect
        settings.consumerGroup = consumerGroup
        settings.includeChangeLog = changeLog
        settings.functionName = functionName
        settings.logPath = logPath
        let problems = settings.problems()
        guard problems.isEmpty else { throw ValidationError(problems.joined(separator: "\n")) }
        return settings
    }

    /// Whether any `--lambda-*` option differs from its default (they need `--lambda`).
    package var isChanged: Bool {
        trigger != "self-managed" || batchSize != 100 || batchingWindow.text != "500ms" || timeout.text != "30s"
            || maximumRetryAttempts != -1 || maximumRecordAge != nil || bisect || consumerGroup != nil || changeLog
            || functionName != "port-action-handler" || logPath != "port-emulator-lambda.log"
    }
}

/// Splits a command line written as one string (`serve --lambda "python -m awslambdaric app.handler"`)
/// the way a POSIX shell splits words: spaces separate, single and double quotes group,
/// a backslash escapes the next character. No expansion of any kind.
package enum CommandLineWords {
    /// The words, or an error for an unclosed quote.
    package static func split(_ line: String) throws -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for character in line {
            if escaped {
                current.append(character)
                escaped = false
                continue
            }
            switch (quote, character) {
            case (nil, "\\"), ("\"", "\\"):
                escaped = true
                inWord = true
            case (nil, "'"), (nil, "\""):
                quote = character
                inWord = true
            case (let open?, _) where character == open:
                quote = nil
            case (nil, _) where character.isWhitespace:
                if inWord { words.append(current) }
                current = ""
                inWord = false
            default:
                current.append(character)
                inWord = true
            }
        }
        if quote != nil || escaped { throw ValidationError("unclosed quote or trailing backslash in '\(line)'") }
        if inWord { words.append(current) }
        return words
    }
}
