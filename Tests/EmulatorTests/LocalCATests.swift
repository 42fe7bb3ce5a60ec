import ChildProcesses
import Emulator
import Foundation
import TestSupport
import Testing

/// `port-emulator ca` and `serve` as executables, with the CA in a temporary
/// PORT_EMULATOR_CA_DIR and a temporary folder as the store (`--store`, `--no-update`): the
/// machine's own CAs and home are never touched.
struct CASandbox {
    let root: String
    var caDirectory: String { root + "/ca" }
    var store: String { root + "/store" }
    var certificate: String { caDirectory + "/kafka-ca.pem" }
    var key: String { caDirectory + "/kafka-ca.key" }
    var installed: String { store + "/port-emulator-kafka-ca.crt" }
    var environment: [String: String] {
        [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": root + "/home",
            "PORT_EMULATOR_CA_DIR": caDirectory,
        ]
    }

    static func make() throws -> CASandbox {
        let root = NSTemporaryDirectory() + "local-ca-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root + "/home", withIntermediateDirectories: true)
        return CASandbox(root: root)
    }

    /// Runs `port-emulator` with these arguments to its end; a signal gives a negative status.
    func run(_ arguments: [String]) async throws -> (status: Int32, output: String, errors: String) {
        try await Self.run([EmulatorExecutable.path] + arguments, environment: environment)
    }

    /// `port-emulator ca ACTION --store STORE --no-update`.
    func ca(_ action: String, store: String? = nil) async throws -> (status: Int32, output: String, errors: String) {
        try await run(["ca", action, "--store", store ?? self.store, "--no-update"])
    }

    static func run(
        _ command: [String],
        environment: [String: String]
    ) async throws -> (status: Int32, output: String, errors: String) {
        let (termination, output, errors) = try await withDeadline(.seconds(60), "\(command.joined(separator: " "))") {
            try await ChildProcess.run(command, environment: environment)
        }
        return (termination.bySignal ? -termination.status : termination.status, output, errors)
    }

    func contents(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }
    func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }
    func remove() { try? FileManager.default.removeItem(atPath: root) }
}

@Suite(
    "port-emulator ca: a lasting CA in a store, and serve's SASL_SSL certificate signed by it",
    .heavy,
    .timeLimit(.minutes(10))
)
struct LocalCATests {
    @Test("ca install creates the CA (key 0600) and copies it to the store; a second install reuses it; ca path")
    func installAndPath() async throws {
        let sandbox = try CASandbox.make()
        defer { sandbox.remove() }
        let none = try await sandbox.run(["ca", "path"])
        #expect(none.status == 1 && none.output.isEmpty, "\(none)")
        #expect(none.errors.contains("no CA yet at \(sandbox.certificate): `port-emulator ca install` makes one"))

        let install = try await sandbox.ca("install")
        #expect(install.status == 0, "\(install)")
        #expect(install.output.contains("created a CA (valid 10 years) in \(sandbox.caDirectory)"), "\(install)")
        #expect(install.output.contains("copied its certificate to \(sandbox.installed)"), "\(install)")
        #expect(!install.output.contains("update-ca-certificates"), "--no-update: \(install)")
        let certificate = try #require(sandbox.contents(sandbox.certificate))
        let key = try #require(sandbox.contents(sandbox.key))
        #expect(certificate.hasPrefix("-----BEGIN CERTIFICATE-----"))
        #expect(key.contains("PRIVATE KEY-----"))
        let mode = try FileManager.default.attributesOfItem(atPath: sandbox.key)[.posixPermissions] as? Int
        #expect(mode.map { $0 & 0o777 } == 0o600, "kafka-ca.key mode \(mode.map { String($0, radix: 8) } ?? "?")")
        #expect(sandbox.contents(sandbox.installed) == certificate)
        // A CA indeed, that verifies itself (it is its own issuer).
        let text = try await CASandbox.run(
            ["openssl", "x509", "-in", sandbox.certificate, "-noout", "-ext", "basicConstraints"],
            environment: sandbox.environment
        )
        #expect(text.output.contains("CA:TRUE"), "\(text)")

        let again = try await sandbox.ca("install")
        #expect(again.status == 0, "\(again)")
        #expect(again.output.contains("using the CA in \(sandbox.caDirectory)"), "\(again)")
        #expect(sandbox.contents(sandbox.certificate) == certificate && sandbox.contents(sandbox.key) == key)
        #expect(sandbox.contents(sandbox.installed) == certificate)

        let path = try await sandbox.run(["ca", "path"])
        #expect(path.status == 0, "\(path)")
        #expect(path.output.trimmingCharacters(in: .whitespacesAndNewlines) == sandbox.certificate)
    }

    @Test("serve presents a SASL_SSL certificate that verifies against the installed .crt, not against another CA")
    func serveUsesTheCA() async throws {
        let sandbox = try CASandbox.make()
        defer { sandbox.remove() }
        #expect(try await sandbox.ca("install").status == 0)
        let log = sandbox.root + "/serve.log"
        // Bounded by timeout(1): a test process that dies (a crash elsewhere in the run) leaves no serve behind.
        let serve = try ChildProcess.spawn(
            ["timeout", "300", EmulatorExecutable.path, "serve", "--port", "0"],
            environment: sandbox.environment,
            outputPath: log
        )
        defer { serve.signal(SIGKILL) }
        try await waitUntil("serve's ready line", within: .seconds(60)) {
            serve.termination != nil || (sandbox.contents(log) ?? "").contains("port-emulator ready:")
        }
        let ready = try #require(
            sandbox.contents(log)?.split(separator: "\n").first { $0.hasPrefix("port-emulator ready:") },
            "serve ended: \(sandbox.contents(log) ?? "")"
        )
        func field(_ name: String) -> String? {
            ready.split(separator: " ").first { $0.hasPrefix("\(name)=") }.map { String($0.dropFirst(name.count + 1)) }
        }
        let address = try #require(field("kafka_sasl_ssl")?.split(separator: ",").first.map(String.init), "\(ready)")
        let host = String(address[..<address.lastIndex(of: ":")!])
        // The CA file serve hands out is the installed one.
        #expect(field("kafka_ca").flatMap(sandbox.contents) == sandbox.contents(sandbox.installed), "\(ready)")

        func verify(against ca: String) async throws -> (status: Int32, output: String, errors: String) {
            try await CASandbox.run(
                [
                    "openssl", "s_client", "-connect", address, "-CAfile", ca, "-verify_return_error", "-verify_ip",
                    host,
                ],
                environment: sandbox.environment
            )
        }
        let trusted = try await verify(against: sandbox.installed)
        #expect(trusted.status == 0, "\(trusted)")
        #expect(trusted.output.contains("Verify return code: 0 (ok)"), "\(trusted)")

        let other = sandbox.root + "/other-ca.pem"
        let made = try await CASandbox.run(
            [
                "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                sandbox.root + "/other-ca.key", "-out", other, "-subj", "/CN=another CA", "-days", "1",
            ],
            environment: sandbox.environment
        )
        #expect(made.status == 0, "\(made)")
        let untrusted = try await verify(against: other)
        #expect(untrusted.status != 0, "\(untrusted)")
        #expect(
            (untrusted.output + untrusted.errors).contains("unable to get local issuer certificate"),
            "\(untrusted)"
        )
        serve.signal(SIGTERM)
        let ended = try await withDeadline(.seconds(60), "serve to stop on SIGTERM") { await serve.wait() }
        #expect(!ended.bySignal, "\(ended): \(sandbox.contents(log) ?? "")")
    }

    @Test("ca remove deletes the store's copy and the CA, and ca path then exits 1; a second remove is harmless")
    func remove() async throws {
        let sandbox = try CASandbox.make()
        defer { sandbox.remove() }
        #expect(try await sandbox.ca("install").status == 0)
        let removed = try await sandbox.ca("remove")
        #expect(removed.status == 0, "\(removed)")
        for line in ["removed \(sandbox.installed)", "deleted \(sandbox.certificate)", "deleted \(sandbox.key)"] {
            #expect(removed.output.contains(line), "\(removed)")
        }
        #expect(!sandbox.exists(sandbox.installed) && !sandbox.exists(sandbox.certificate))
        #expect(!sandbox.exists(sandbox.key))
        #expect(try await sandbox.run(["ca", "path"]).status == 1)
        let again = try await sandbox.ca("remove")
        #expect(again.status == 0 && again.output.contains("\(sandbox.installed) was not there"), "\(again)")
    }

    @Test("ca install into a store that cannot be written fails with a clear error, not a crash")
    func unwritableStore() async throws {
        let sandbox = try CASandbox.make()
        defer { sandbox.remove() }
        // Below a regular file: no folder can be made there, not even by root.
        let blocker = sandbox.root + "/a-file"
        try Data("not a folder".utf8).write(to: URL(fileURLWithPath: blocker))
        let store = blocker + "/store"
        let install = try await sandbox.ca("install", store: store)
        #expect(install.status > 0, "an exit status, not a signal: \(install)")
        #expect(install.errors.contains("cannot write \(store)/port-emulator-kafka-ca.crt ("), "\(install)")
        #expect(!install.errors.contains("sudo"), "no root hint for a store of one's own: \(install)")
        #expect(!install.errors.contains("Fatal error"), "\(install)")
        #expect(!sandbox.exists(store))
    }
}
