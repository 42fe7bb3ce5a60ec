import CJQ
import ChildProcesses
import Crypto

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The jq sources that compiled with this machine's libjq, kept on disk across processes,
/// so that a restart with the same fixtures skips their check.
///
/// libjq 1.6 binds its builtins (parsing their jq source) on every compile: about 20 ms,
/// the largest part of `serve`'s start-up. Whether a source compiles depends only on the
/// source and on libjq, so the record names each source that compiled by a SHA-256 of both
/// (libjq by its path, size, inode and modification time): an upgraded or other libjq
/// finds nothing. Only successes are recorded; a source that fails is compiled again each
/// time, and its error is always jq's own. Each entry is an empty file whose name is the
/// digest, created in one step, so a crash cannot leave a half-written entry.
public struct JQCompileRecord: Sendable {
    /// The directory holding the entries.
    public let directory: String
    private let library: String

    /// A record in `directory`, created if missing; nil when it cannot be created or
    /// libjq's file cannot be identified (the check then compiles every time).
    public init?(directory: String) {
        guard let library = Self.libraryIdentity() else { return nil }
        self.init(directory: directory, library: library)
    }

    /// A record for the libjq identified by `library` (tests use this to stand for another
    /// libjq).
    package init?(directory: String, library: String) {
        guard Self.makeDirectories(directory) else { return nil }
        self.directory = directory
        self.library = library
    }

    /// The per-user record: `$XDG_CACHE_HOME/port-emulator/jq-compiles`, else
    /// `$HOME/.cache/port-emulator/jq-compiles`; nil when neither is set or the directory
    /// cannot be created.
    public static func perUser() -> JQCompileRecord? {
        let cache: String
        if let xdg = environment("XDG_CACHE_HOME"), xdg.hasPrefix("/") {
            cache = xdg
        } else if let home = environment("HOME"), home.hasPrefix("/") {
            cache = home + "/.cache"
        } else {
            return nil
        }
        return JQCompileRecord(directory: cache + "/port-emulator/jq-compiles")
    }

    /// Whether `source` is recorded as compiling with this libjq.
    public func contains(_ source: String) -> Bool {
        access(path(for: source), F_OK) == 0
    }

    /// Records that `source` compiled; a failure to write only costs a compile next time.
    public func insert(_ source: String) {
        let descriptor = open(path(for: source), O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        if descriptor >= 0 { close(descriptor) }
    }

    private func path(for source: String) -> String {
        var hash = SHA256()
        hash.update(data: Array("port-emulator jq compile record 1\u{0}\(library)\u{0}".utf8))
        hash.update(data: Array(source.utf8))
        let digits = Array("0123456789abcdef")
        let hex = hash.finalize().flatMap { byte in [digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]] }
        return directory + "/" + String(hex)
    }

    private static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        let text = String(cString: value)
        return text.isEmpty ? nil : text
    }

    /// `mkdir -p`: true when `directory` exists (or was made) and is a writable directory.
    private static func makeDirectories(_ directory: String) -> Bool {
        guard ChildProcesses.makeDirectories(directory) == nil else { return false }
        var status = stat()
        return stat(directory, &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR && access(directory, W_OK) == 0
    }

    /// libjq's file as loaded in this process: its path, size, inode and modification time.
    private static func libraryIdentity() -> String? {
        guard let name = cjq_library_path() else { return nil }
        let path = String(cString: name)
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        #if canImport(Darwin)
        let modified = status.st_mtimespec
        #else
        let modified = status.st_mtim
        #endif
        return "\(path)|\(status.st_size)|\(status.st_ino)|\(modified.tv_sec).\(modified.tv_nsec)"
    }
}
