import Foundation
import TestSupport
import Testing

/// The release archives ship one binary, port-emulator, installed also as port-consumer (a
/// link): it runs the command it is called by.
@Suite("One binary, two commands: port-emulator runs port-consumer when called by that name")
struct MultiCallTests {
    /// A link named `name` to the built port-emulator, in a fresh directory.
    static func link(_ name: String) throws -> String {
        let path = try Repository.temporaryDirectory() + "/" + name
        try FileManager.default.createSymbolicLink(
            atPath: path,
            withDestinationPath: Repository.binaries + "/port-emulator"
        )
        return path
    }

    @Test("called port-consumer, it is the consumer: its help, its version, its settings errors")
    func consumerByName() async throws {
        let consumer = try Self.link("port-consumer")
        let help = try await runExecutable(consumer, ["--help"])
        #expect(help.status == 0)
        #expect(
            help.output.hasPrefix("OVERVIEW: Consume Port's self-service invocations"),
            "\(help.output.prefix(300))"
        )
        #expect(help.output.contains("--handlers"))
        let version = try await runExecutable(consumer, ["--version"])
        let expected = try await runExecutable(Repository.binaries + "/port-emulator", ["--version"])
        #expect(version.status == 0 && version.output == expected.output)
        // The consumer's own error for a missing env file, not serve's "unknown option".
        let missing = try await runExecutable(consumer, ["--env-file", "/nonexistent/port.env"])
        #expect(missing.status != 0)
        #expect(missing.output.contains("--env-file /nonexistent/port.env cannot be read"), "\(missing.output)")
    }

    @Test("called port-emulator (or by any other name), it is the emulator")
    func emulatorByName() async throws {
        for name in ["port-emulator", "my-emulator"] {
            let help = try await runExecutable(try Self.link(name), ["--help"])
            #expect(help.status == 0)
            #expect(help.output.hasPrefix("OVERVIEW: A local stand-in for Port"), "\(name): \(help.output.prefix(300))")
            #expect(help.output.contains("serve"))
        }
    }
}
