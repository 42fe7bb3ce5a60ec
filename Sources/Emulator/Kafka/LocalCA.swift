import ChildProcesses
package import KafkaFront
import PortContract

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#endif

/// The emulator's own certificate authority, kept between runs so that it can be trusted once,
/// system-wide, by consumers that cannot be given a CA file (port-agent in production mode,
/// Port's own examples): `port-emulator ca install` creates it and adds it to the system's
/// store, `serve` signs its SASL_SSL certificate with it while it exists, and `ca remove`
/// takes it out of the store and deletes it.
package struct LocalCA: Sendable {
    /// The folder the CA's certificate and key live in.
    package let directory: String
    /// Where `install` copies the certificate (Debian's and Ubuntu's local CA folder).
    package let store: String

    /// The system store `update-ca-certificates` reads local CAs from.
    package static let systemStore = "/usr/local/share/ca-certificates"

    /// The CA of `PORT_EMULATOR_CA_DIR`, else `$XDG_DATA_HOME/port-emulator`, else
    /// `~/.local/share/port-emulator`; installed into `store`.
    package init(environment: [String: String] = ProcessInfo.processInfo.environment, store: String? = nil) {
        if let directory = environment["PORT_EMULATOR_CA_DIR"], !directory.isEmpty {
            self.directory = directory
        } else {
            let data =
                environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 }
                ?? (environment["HOME"] ?? FileManager.default.homeDirectoryForCurrentUser.path) + "/.local/share"
            self.directory = data + "/port-emulator"
        }
        self.store = store ?? Self.systemStore
    }

    /// The CA certificate, PEM: what a client's `ssl.ca.location` can name.
    package var certificatePath: String { directory + "/kafka-ca.pem" }
    var keyPath: String { directory + "/kafka-ca.key" }
    /// The certificate's name in the store (`.crt`, as update-ca-certificates wants).
    package var installedPath: String { store + "/port-emulator-kafka-ca.crt" }

    /// The CA, when one was created (by `install`).
    package func load() throws -> FrontCA? {
        guard FileManager.default.fileExists(atPath: certificatePath) else { return nil }
        do {
            return FrontCA(
                certificatePEM: try String(contentsOfFile: certificatePath, encoding: .utf8),
                privateKeyPEM: try String(contentsOfFile: keyPath, encoding: .utf8)
            )
        } catch {
            throw EmulatorError(
                message: "cannot read the emulator's CA in \(directory) (\(describeError(error))); "
                    + "`port-emulator ca remove` deletes it, `ca install` makes a new one"
            )
        }
    }

    /// Creates the CA if there is none, copies its certificate into the store, and runs
    /// `update-ca-certificates` when the store is the system's. Returns what was done, a line each.
    package func install(update: Bool = true) throws -> [String] {
        var done: [String] = []
        let ca: FrontCA
        if let existing = try load() {
            ca = existing
            done.append("using the CA in \(directory)")
        } else {
            ca = try FrontCA.generate(days: 3650, label: ProcessInfo.processInfo.hostName)
            try write(ca)
            done.append("created a CA (valid 10 years) in \(directory)")
        }
        do {
            try FileManager.default.createDirectory(atPath: store, withIntermediateDirectories: true)
            try Data(ca.certificatePEM.utf8).write(to: URL(fileURLWithPath: installedPath), options: .atomic)
        } catch {
            throw EmulatorError(
                message: "cannot write \(installedPath) (\(Self.reason(error)))"
                    + (store == Self.systemStore ? "; the system store needs root: sudo port-emulator ca install" : "")
            )
        }
        done.append("copied its certificate to \(installedPath)")
        if update {
            try runUpdate()
            done.append("ran update-ca-certificates: clients that use the system's CAs now trust the emulator")
        }
        return done
    }

    /// Takes the certificate out of the store (updating it) and deletes the CA.
    package func remove(update: Bool = true) throws -> [String] {
        var done: [String] = []
        if FileManager.default.fileExists(atPath: installedPath) {
            do {
                try FileManager.default.removeItem(atPath: installedPath)
            } catch {
                throw EmulatorError(
                    message: "cannot remove \(installedPath) (\(Self.reason(error)))"
                        + (store == Self.systemStore
                            ? "; the system store needs root: sudo port-emulator ca remove" : "")
                )
            }
            done.append("removed \(installedPath)")
            if update {
                try runUpdate(fresh: true)
                done.append("ran update-ca-certificates --fresh")
            }
        } else {
            done.append("\(installedPath) was not there")
        }
        for path in [certificatePath, keyPath] where FileManager.default.fileExists(atPath: path) {
            try? FileManager.default.removeItem(atPath: path)
            done.append("deleted \(path)")
        }
        return done
    }

    /// The system's words for a file error ("Not a directory"), not Foundation's error number.
    static func reason(_ error: any Error) -> String {
        if let posix = (error as? CocoaError)?.underlying as? POSIXError {
            return String(cString: strerror(posix.code.rawValue))
        }
        return describeError(error)
    }

    private func write(_ ca: FrontCA) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try Data(ca.privateKeyPEM.utf8).write(to: URL(fileURLWithPath: keyPath), options: .atomic)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: keyPath)
            try Data(ca.certificatePEM.utf8).write(to: URL(fileURLWithPath: certificatePath), options: .atomic)
        } catch {
            throw EmulatorError(message: "cannot write the CA to \(directory) (\(describeError(error)))")
        }
    }

    /// Runs `update-ca-certificates` (through `env`, on this process's `PATH`) to its end,
    /// its stdout and stderr together in a temporary file. Blocks the calling thread: only the
    /// synchronous `ca` commands call it.
    private func runUpdate(fresh: Bool = false) throws {
        let outputPath = FileManager.default.temporaryDirectory.path + "/ca-update-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let child: ChildProcess
        do {
            child = try ChildProcess.spawn(
                ["/usr/bin/env", "update-ca-certificates"] + (fresh ? ["--fresh"] : []),
                environment: ProcessInfo.processInfo.environment,
                outputPath: outputPath
            )
        } catch {
            throw EmulatorError(message: "cannot run update-ca-certificates (\(describeError(error)))")
        }
        var termination = child.termination
        while termination == nil {
            usleep(10_000)
            termination = child.termination
        }
        let text = String(decoding: FileManager.default.contents(atPath: outputPath) ?? Data(), as: UTF8.self)
        let status = termination?.status ?? 0  // the signal number when one ended it, as Process gave
        guard status == 0 else {
            throw EmulatorError(
                message: "update-ca-certificates failed (exit \(status)): "
                    + text.trimmingWhitespaceAndNewlines()
                    + " (Debian and Ubuntu: apt-get install ca-certificates; run as root)"
            )
        }
    }
}
