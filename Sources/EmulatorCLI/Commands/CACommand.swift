import ArgumentParser
import ChildProcesses
import Emulator
import PortContract

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension PortEmulatorCommand {
    struct CA: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ca",
            abstract: "Trust the emulator's Kafka CA system-wide, for consumers that cannot be given a CA file.",
            discussion: """
                `serve` signs its SASL_SSL listener's certificate with a CA. Clients given that CA \
                (KAFKA_SSL_CA_LOCATION, ssl.ca.location: the path serve prints) need nothing more. \
                Some cannot be given one: port-agent in production mode and Port's own examples use \
                the system's CAs only. For them, `ca install` creates a CA that lasts between runs \
                (in PORT_EMULATOR_CA_DIR, else ~/.local/share/port-emulator), adds it to the system's \
                store (/usr/local/share/ca-certificates, then update-ca-certificates: Debian and \
                Ubuntu, as root), and every later `serve` uses it. `ca remove` undoes both. `ca path` \
                prints the CA file.
                """,
            subcommands: [Install.self, Remove.self, Path.self]
        )

        struct StoreOptions: ParsableArguments {
            @Option(help: "The folder of local CA certificates (default: /usr/local/share/ca-certificates).")
            var store: String?

            @Flag(help: "Do not run update-ca-certificates (the store is read by something else).")
            var noUpdate = false

            var localCA: LocalCA { LocalCA(store: store) }
        }

        struct Install: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "install",
                abstract: "Create the emulator's CA if needed and add it to the system's trusted CAs (root)."
            )

            @OptionGroup var options: StoreOptions

            func run() throws {
                do {
                    for line in try options.localCA.install(update: !options.noUpdate) { say(line) }
                } catch let error as EmulatorError {
                    throw fail(error)
                }
                say("restart port-emulator serve: its SASL_SSL certificate is now signed by this CA")
            }
        }

        struct Remove: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "remove",
                abstract: "Take the emulator's CA out of the system's trusted CAs and delete it (root)."
            )

            @OptionGroup var options: StoreOptions

            func run() throws {
                do {
                    for line in try options.localCA.remove(update: !options.noUpdate) { say(line) }
                } catch let error as EmulatorError {
                    throw fail(error)
                }
            }
        }

        struct Path: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "path",
                abstract: "Print the path of the emulator's CA certificate (exit 1 when none was installed)."
            )

            func run() throws {
                let ca = LocalCA()
                guard FileManager.default.fileExists(atPath: ca.certificatePath) else {
                    writeToStandardError("no CA yet at \(ca.certificatePath): `port-emulator ca install` makes one\n")
                    throw ExitCode(1)
                }
                say(ca.certificatePath)
            }
        }
    }
}

/// A `ca` command that could not do its work: the reason on stderr, exit status 1 (not the
/// usage text a bad flag gets).
private func fail(_ error: EmulatorError) -> ExitCode {
    writeToStandardError("port-emulator ca: \(error.message)\n")
    return ExitCode(1)
}
