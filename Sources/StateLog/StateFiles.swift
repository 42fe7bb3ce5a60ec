import ChildProcesses

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The few file operations the state needs, each throwing a `StateError` that names the path.
package enum StateFiles {
    /// `mkdir -p`.
    package static func makeDirectories(_ directory: String) throws(StateError) {
        if let failed = ChildProcesses.makeDirectories(directory) { throw failure("create the directory", failed) }
    }

    /// The names in `directory`, without `.` and `..`.
    package static func names(in directory: String) throws(StateError) -> [String] {
        guard let stream = opendir(directory) else { throw failure("list", directory) }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(cString: $0.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// open(2).
    static func openFile(_ path: String, _ flags: Int32, _ mode: mode_t = 0o644) -> Int32 {
        open(path, flags, mode)
    }

    /// Whether `path` exists.
    package static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// The whole file at `path`.
    package static func read(_ path: String) throws(StateError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure("open", path) }
        defer { close(descriptor) }
        return readAll(descriptor)
    }

    /// Writes `bytes` to `path` so that a crash leaves the old file or the new one: a
    /// temporary file beside it, fsync, rename over `path`, fsync of the directory.
    package static func replace(_ path: String, with bytes: [UInt8]) throws(StateError) {
        let temporary = path + ".tmp"
        close(try create(temporary, with: bytes))
        try move(temporary, to: path)
        try syncDirectory(of: path)
    }

    /// Creates (or empties) the file at `path` with `bytes`, synced, and returns it open for
    /// appending.
    package static func create(_ path: String, with bytes: [UInt8]) throws(StateError) -> Int32 {
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw failure("create", path) }
        guard writeAll(descriptor, bytes), fsync(descriptor) == 0 else {
            let error = failure("write", path)
            close(descriptor)
            throw error
        }
        return descriptor
    }

    /// fsync of the directory holding `path`, so that a rename or a new file survives a crash.
    package static func syncDirectory(of path: String) throws(StateError) {
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let descriptor = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure("open the directory of", path) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw failure("sync the directory of", path) }
    }

    /// Cuts the file at `path` to `length` bytes.
    package static func truncate(_ path: String, to length: Int) throws(StateError) {
        #if canImport(Glibc)
        let result = Glibc.truncate(path, off_t(length))
        #else
        let result = Darwin.truncate(path, off_t(length))
        #endif
        guard result == 0 else { throw failure("truncate", path) }
    }

    /// Renames `path` to `target`.
    package static func move(_ path: String, to target: String) throws(StateError) {
        guard rename(path, target) == 0 else { throw failure("rename \(path) to", target) }
    }

    /// A `.system` error for `action` on `path`, with errno's text.
    package static func failure(_ action: String, _ path: String) -> StateError {
        .system("cannot \(action) \(path): \(String(cString: strerror(errno)))")
    }
}
