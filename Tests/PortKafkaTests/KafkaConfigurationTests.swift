import PortKafka
import Testing

@Suite("Kafka configuration", .timeLimit(.minutes(10)))
struct KafkaConfigurationTests {
    @Test("SASL_SSL with SCRAM-SHA-512, as Port's brokers require, emits librdkafka's keys")
    func portSecurityProperties() {
        var configuration = KafkaProducerConfiguration(bootstrapServers: ["b-1.port:9196", "b-2.port:9196"])
        configuration.securityProtocol = .saslTLS(
            KafkaSASLConfiguration(mechanism: .scramSHA512, username: "org_abc", password: "s3cret"),
            KafkaTLSConfiguration(caLocation: "/etc/ssl/ca.pem")
        )
        configuration.acks = .all
        configuration.linger = .milliseconds(20)
        let properties = configuration.librdkafkaProperties
        #expect(properties["bootstrap.servers"] == "b-1.port:9196,b-2.port:9196")
        #expect(properties["security.protocol"] == "sasl_ssl")
        #expect(properties["sasl.mechanisms"] == "SCRAM-SHA-512")
        #expect(properties["sasl.username"] == "org_abc")
        #expect(properties["sasl.password"] == "s3cret")
        #expect(properties["ssl.ca.location"] == "/etc/ssl/ca.pem")
        #expect(properties["ssl.endpoint.identification.algorithm"] == "https")
        #expect(properties["acks"] == "all")
        #expect(properties["linger.ms"] == "20")
    }

    @Test(
        "each security protocol maps to librdkafka's name",
        arguments: [
            (KafkaSecurityProtocol.plaintext, "plaintext"),
            (.tls(KafkaTLSConfiguration(verifyHostname: false)), "ssl"),
            (.saslPlaintext(KafkaSASLConfiguration(mechanism: .plain, username: "u", password: "p")), "sasl_plaintext"),
            (
                .saslTLS(
                    KafkaSASLConfiguration(mechanism: .scramSHA256, username: "u", password: "p"),
                    KafkaTLSConfiguration()
                ), "sasl_ssl"
            ),
        ]
    )
    func securityProtocolNames(securityProtocol: KafkaSecurityProtocol, expected: String) {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: ["localhost:9092"], groupID: "org.g")
        configuration.securityProtocol = securityProtocol
        #expect(configuration.librdkafkaProperties["security.protocol"] == expected)
    }

    @Test("consumers always commit by hand")
    func consumerCommitsManually() {
        let properties = KafkaConsumerConfiguration(bootstrapServers: ["h:1"], groupID: "org.g").librdkafkaProperties
        #expect(properties["enable.auto.commit"] == "false")
        #expect(properties["enable.auto.offset.store"] == "false")
        #expect(properties["group.id"] == "org.g")
    }

    @Test("librdkafka accepts the SASL_SSL/SCRAM-SHA-512 settings (it was built with TLS and SASL)")
    func librdkafkaAcceptsPortSecurity() async throws {
        var configuration = KafkaProducerConfiguration(bootstrapServers: ["127.0.0.1:1"])
        configuration.securityProtocol = .saslTLS(
            KafkaSASLConfiguration(mechanism: .scramSHA512, username: "org_abc", password: "s3cret"),
            KafkaTLSConfiguration()
        )
        let producer = try KafkaProducer.make(configuration: configuration, logger: quietLogger)
        await producer.close(timeout: .milliseconds(10))
    }

    @Test("a rejected property names the key and never prints the value")
    func invalidPropertyIsNamed() throws {
        var configuration = KafkaProducerConfiguration(bootstrapServers: ["h:1"])
        configuration.additionalProperties = ["no.such.property": "hunter2"]
        let error = #expect(throws: KafkaError.self) {
            try KafkaProducer.make(configuration: configuration, logger: quietLogger)
        }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.reason.contains("no.such.property") == true)
        #expect(error?.description.contains("hunter2") == false)
    }

    @Test("SASL credentials print without their password")
    func saslDescriptionRedactsPassword() {
        let sasl = KafkaSASLConfiguration(mechanism: .scramSHA512, username: "org_abc", password: "hunter2")
        #expect(!sasl.description.contains("hunter2"))
        #expect(sasl.description.contains("org_abc"))
    }

    @Test("textual security settings resolve to Port's SASL_SSL with SCRAM-SHA-512 by default")
    func securitySettingsResolve() throws {
        var settings = KafkaSecuritySettings()
        #expect(try settings.resolve() == .plaintext)
        settings.securityProtocol = "SASL_SSL"
        settings.username = "org_abc"
        settings.password = "secret"
        settings.caLocation = "/etc/ca.pem"
        let resolved = try settings.resolve()
        #expect(
            resolved
                == .saslTLS(
                    KafkaSASLConfiguration(mechanism: .scramSHA512, username: "org_abc", password: "secret"),
                    KafkaTLSConfiguration(caLocation: "/etc/ca.pem")
                )
        )
    }

    @Test(
        "a wrong or incomplete security setting is one clear error",
        arguments: [
            ("tls", "abc", "security protocol 'tls' is not one of"),
            ("sasl_ssl", "SCRAM-SHA-1", "SASL mechanism 'SCRAM-SHA-1' is not one of"),
            ("sasl_plaintext", nil, "sasl_plaintext needs a SASL username and password"),
        ] as [(String, String?, String)]
    )
    func securitySettingsErrors(protocolName: String, mechanism: String?, message: String) {
        var settings = KafkaSecuritySettings()
        settings.securityProtocol = protocolName
        if let mechanism {
            settings.saslMechanism = mechanism
            settings.username = "u"
            settings.password = "p"
        }
        let error = #expect(throws: KafkaError.self) { try settings.resolve() }
        #expect(error?.reason.hasPrefix(message) == true, "\(error?.reason ?? "")")
    }
}
