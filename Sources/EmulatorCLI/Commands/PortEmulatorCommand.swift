package import ArgumentParser
import ChildProcesses
import Emulator
import Logging
import PortContract
import PortKafka
import ServiceLifecycle

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `port-emulator`: serve, trigger, verify, import and ca, as the executable runs them.
package struct PortEmulatorCommand: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "port-emulator",
        abstract: "A local stand-in for Port (getport.io): its API and an embedded Kafka, for testing action backends.",
        discussion: """
            `serve` starts the embedded Kafka cluster with the organization's topics behind a \
            Kafka front that looks like Port's brokers (a PLAINTEXT and a SASL_SSL listener with \
            SCRAM-SHA-512, Port's ACLs on groups and topics, long-poll fetches), loads the \
            blueprints and actions of a fixtures directory, and serves Port's API (auth, action \
            runs and their state machine, logs, approval, blueprints, actions, entities with \
            run_id) and the admin API under /_emulator/ (runs, journal, violations, faults, \
            reset). --kafka-bootstrap uses an existing Kafka instead of the embedded one. \
            `trigger` starts a run of an action and can wait for it. `verify` checks a consumer, \
            in any language, against Port's contract through scenarios, and writes JUnit and \
            JSON reports. `import` reads an organization's definitions from Port's API into a \
            fixtures directory serve loads.
            """,
        version: HarnessVersion.current,
        subcommands: [Serve.self, Trigger.self, Verify.self, Import.self, CA.self],
        defaultSubcommand: Serve.self
    )

    package init() {}
}

func bootstrapLogging(_ level: Logger.Level) {
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = level
        return handler
    }
}

/// Writes a line to stdout at once (scripts read it through a pipe).
func say(_ line: String) {
    writeToStandardOutput(line + "\n")
}

/// The name a program was called by: the last component of its `argv[0]` (`port-consumer`
/// for `/usr/bin/port-consumer`), or an empty string without one.
package func calledName(_ argument0: String?) -> String {
    guard let argument0 else { return "" }
    return argument0.split(separator: "/").last.map(String.init) ?? argument0
}
