#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs `body` on a new detached POSIX thread, off Swift's cooperative pool (in place of
/// Foundation's `Thread.detachNewThread`, which FoundationEssentials lacks). Traps if the
/// thread cannot be created, as `Thread` does.
package func detachThread(_ body: @escaping @Sendable () -> Void) {
    let box = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    #if canImport(Glibc)
    var thread = pthread_t()
    #else
    var thread: pthread_t?
    #endif
    let result = pthread_create(
        &thread,
        nil,
        { context in
            let body = Unmanaged<ThreadBody>.fromOpaque(context!).takeRetainedValue()
            body.run()
            return nil
        },
        box
    )
    guard result == 0 else {
        Unmanaged<ThreadBody>.fromOpaque(box).release()
        fatalError("cannot start a thread: \(String(cString: strerror(result)))")
    }
    #if canImport(Glibc)
    pthread_detach(thread)
    #else
    if let thread { pthread_detach(thread) }
    #endif
}

/// The closure a detached thread runs, boxed to cross `pthread_create`'s context pointer.
private final class ThreadBody: Sendable {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
}

/// Reads `descriptor` to its end (retrying on `EINTR`) and returns every byte; a read error
/// ends it like the end of the file. Blocks: call it off Swift's tasks (`onThreadOfItsOwn`).
/// Does not close the descriptor.
package func readAll(_ descriptor: Int32) -> [UInt8] {
    var all: [UInt8] = []
    while let chunk = readChunk(descriptor) { all.append(contentsOf: chunk) }
    return all
}

/// The next bytes available on `descriptor` (at most 64 KiB, blocking until there are some),
/// or nil at the end of the file or on a read error; retries on `EINTR`, as
/// `FileHandle.availableData` does.
package func readChunk(_ descriptor: Int32) -> [UInt8]? {
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR { continue }
        guard count > 0 else { return nil }
        return Array(buffer[..<count])
    }
}

/// Appends `bytes` to the file at `path` (which must exist, as with
/// `FileHandle(forWritingAtPath:)` then `seekToEndOfFile()`); false when it cannot be opened
/// or written.
@discardableResult
package func appendToFile(_ path: String, _ bytes: [UInt8]) -> Bool {
    let descriptor = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
    guard descriptor >= 0 else { return false }
    defer { close(descriptor) }
    return writeAll(descriptor, bytes)
}

/// Writes every byte of `bytes` to `descriptor`, retrying on `EINTR` and short writes;
/// false on an error.
@discardableResult
package func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { buffer in
        var offset = 0
        while offset < buffer.count {
            let written = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return false }
            offset += written
        }
        return true
    }
}

/// `mkdir -p`: makes `directory` and every missing parent (mode 0755); nil when it exists
/// then, else the path that could not be made (errno says why).
package func makeDirectories(_ directory: String) -> String? {
    var prefix = directory.hasPrefix("/") ? "" : "."
    for component in directory.split(separator: "/") {
        prefix += "/" + component
        if mkdir(prefix, 0o755) != 0 && errno != EEXIST { return prefix }
    }
    return nil
}
