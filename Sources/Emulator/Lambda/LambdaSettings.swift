/// A Lambda function the emulator runs as AWS Lambda runs a function triggered by a Kafka
/// event source mapping: the Runtime API for the function's runtime client, and a mapping
/// that reads the organization's topics through the Kafka front (SASL_SSL, SCRAM-SHA-512,
/// Port's ACLs) and invokes the function with batches.
///
/// The names follow Lambda's settings (`BatchSize`, `MaximumBatchingWindowInSeconds`,
/// `MaximumRetryAttempts`, `MaximumRecordAgeInSeconds`, `BisectBatchOnFunctionError`,
/// `ConsumerGroupId`, the function's `Timeout`). Where AWS's documentation is silent, the
/// choice is written in `fixtures/README.md` ("Lambda").
public struct LambdaSettings: Sendable, Equatable {
    /// Which trigger the events imitate.
    public enum Trigger: String, Sendable, CaseIterable {
        /// A self-managed Apache Kafka trigger: `eventSource: SelfManagedKafka`.
        case selfManaged = "self-managed"
        /// An Amazon MSK trigger: `eventSource: aws:kafka` with an `eventSourceArn`.
        case msk
    }

    /// The runtime client's command line (`python -m awslambdaric app.handler`); empty
    /// when the user starts it themselves with `AWS_LAMBDA_RUNTIME_API` set.
    public var command: [String] = []
    /// Extra environment for the function (the emulator's settings are added by the caller).
    public var environment: [String: String] = [:]
    /// Where the function's stdout and stderr go.
    public var logPath = "port-emulator-lambda.log"
    /// The function's name (`AWS_LAMBDA_FUNCTION_NAME`, and the ARN's last part).
    public var functionName = "port-action-handler"
    /// The trigger kind.
    public var trigger = Trigger.selfManaged
    /// Records per invocation at most (Lambda: 1–10,000, default 100).
    public var batchSize = 100
    /// How long records are gathered before a batch smaller than `batchSize` is sent
    /// (Lambda's Kafka default: 500 ms; 0 sends what has arrived at once).
    public var batchingWindow: Duration = .milliseconds(500)
    /// The function's timeout (Lambda's default is 3 s; ours is longer, for functions that
    /// call Port's API several times).
    public var timeout: Duration = .seconds(30)
    /// Retries of a failed batch after the first attempt; -1 retries until it succeeds.
    public var maximumRetryAttempts = -1
    /// Records older than this are not sent (nil: no limit, Lambda's -1).
    public var maximumRecordAge: Duration?
    /// On an error, split the batch in two and retry each half (a retry of a half counts
    /// against `maximumRetryAttempts` like any other).
    public var bisectBatchOnFunctionError = false
    /// The consumer group; nil: `<orgID>.lambda.<functionName>`. Port's ACLs refuse one
    /// without the `<orgID>.` prefix.
    public var consumerGroup: String?
    /// Also read the change log (`<orgID>.change.log`), not only `<orgID>.runs`.
    public var includeChangeLog = false

    /// The defaults.
    public init() {}

    /// What is wrong with these settings, one line each; empty when they can be used.
    public func problems() -> [String] {
        var problems: [String] = []
        if !(1...10_000).contains(batchSize) {
            problems.append("the Lambda batch size must be between 1 and 10000 (Lambda's limits), not \(batchSize)")
        }
        if batchingWindow < .zero || batchingWindow > .seconds(300) {
            problems.append("the Lambda batching window must be between 0s and 300s (Lambda's limits)")
        }
        if timeout < .milliseconds(100) || timeout > .seconds(900) {
            problems.append("the Lambda function timeout must be between 100ms and 900s (Lambda's limit is 15 min)")
        }
        if maximumRetryAttempts < -1 || maximumRetryAttempts > 10_000 {
            problems.append(
                "the Lambda maximum retry attempts must be -1 (no limit) or 0–10000, not \(maximumRetryAttempts)"
            )
        }
        if let maximumRecordAge, maximumRecordAge < .seconds(60) || maximumRecordAge > .seconds(604_800) {
            problems.append("the Lambda maximum record age must be 60s–604800s (Lambda's limits), or none")
        }
        if functionName.isEmpty
            || functionName.contains(where: { !($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        {
            problems.append("the Lambda function name '\(functionName)' may hold only letters, digits, '-' and '_'")
        }
        if let consumerGroup, consumerGroup.isEmpty { problems.append("the Lambda consumer group must not be empty") }
        return problems
    }

    /// The consumer group the mapping joins in the organization `orgID`.
    public func group(orgID: String) -> String { consumerGroup ?? "\(orgID).lambda.\(functionName)" }

    /// The function's ARN, as Lambda gives it (`Lambda-Runtime-Invoked-Function-Arn`).
    public var functionARN: String { "arn:aws:lambda:\(Self.region):\(Self.accountID):function:\(functionName)" }

    /// The MSK cluster's ARN in `aws:kafka` events.
    public var clusterARN: String {
        "arn:aws:kafka:\(Self.region):\(Self.accountID):cluster/port-emulator/00000000-0000-0000-0000-000000000000-1"
    }

    /// The region the emulated function lives in.
    public static let region = "us-east-1"
    /// The account id of the emulated function (AWS's documentation example account).
    public static let accountID = "123456789012"
}
