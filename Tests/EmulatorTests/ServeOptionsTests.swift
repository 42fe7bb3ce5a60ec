import Emulator
import Testing

/// `serve`'s checks, in the library: each bad flag is one line naming it.
@Suite("ServeOptions: serve's flags checked and turned into a configuration", .timeLimit(.minutes(10)))
struct ServeOptionsTests {
    @Test(
        "a bad option is refused with a line naming the flag",
        arguments: [
            (
                { @Sendable (options: inout ServeOptions) in options.apiLatency = "soon" },
                "--api-latency 'soon' is not a duration"
            ),
            (
                { @Sendable (options: inout ServeOptions) in options.tokenTTL = "3 hours" },
                "--token-ttl '3 hours' is not a duration"
            ),
            (
                { @Sendable (options: inout ServeOptions) in options.publishTimeout = "x" },
                "--publish-timeout 'x' is not a duration"
            ),
            (
                { @Sendable (options: inout ServeOptions) in options.secrets = ["TOKEN"] },
                "--secret 'TOKEN…' is not NAME=VALUE"
            ),
            (
                { @Sendable (options: inout ServeOptions) in options.kafkaACLs = "maybe" },
                "--kafka-acls must be on or off"
            ),
            (
                { @Sendable (options: inout ServeOptions) in options.kafkaInitialRebalanceDelay = "later" },
                "--kafka-initial-rebalance-delay 'later' is not a duration"
            ),
            (
                { @Sendable (options: inout ServeOptions) in options.kafkaIdleTimeout = "0s" },
                "--kafka-idle-timeout '0s' is not a duration above zero"
            ),
            (
                { @Sendable (options: inout ServeOptions) in options.kafkaCALocation = "/ca.pem" },
                "--kafka-security-protocol and --kafka-*-location need --kafka-bootstrap"
            ),
            (
                { @Sendable (options: inout ServeOptions) in
                    options.kafkaBootstrap = "broker:9092"
                    options.kafkaPort = 9092
                },
                "are for the embedded Kafka; with --kafka-bootstrap the real broker's own security and ACLs apply"
            ),
        ] as [(@Sendable (inout ServeOptions) -> Void, String)]
    )
    func refused(change: @Sendable (inout ServeOptions) -> Void, message: String) {
        var options = ServeOptions()
        change(&options)
        let error = #expect(throws: ServeOptionsError.self) { try options.validate() }
        #expect(error?.message.contains(message) == true, "\(String(describing: error))")
    }

    @Test("the defaults make the emulator's default configuration; flags and KAFKA_PASSWORD carry over")
    func configuration() throws {
        var options = ServeOptions()
        try options.validate()
        options.secrets = ["TOKEN=a=b"]
        options.apiLatency = "30ms"
        options.environment = ["KAFKA_PASSWORD": "from-the-environment"]
        let configuration = try options.configuration()
        #expect(configuration.secrets == ["TOKEN": "a=b"])
        #expect(configuration.apiLatency == .milliseconds(30))
        #expect(configuration.kafkaFront.password == "from-the-environment")
        #expect(configuration.externalKafka == nil)
        options.kafkaPassword = "from-the-flag"
        #expect(try options.configuration().kafkaFront.password == "from-the-flag")
    }
}
