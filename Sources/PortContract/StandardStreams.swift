#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes `text` to the process's standard error at once, unbuffered (in place of
/// Foundation's `FileHandle.standardError.write`, which FoundationEssentials lacks).
package func writeToStandardError(_ text: String) {
    writeFully(2, text)
}

/// Writes `text` to the process's standard output at once, after whatever `print` buffered
/// (in place of `FileHandle.standardOutput.write`): scripts read it through a pipe.
package func writeToStandardOutput(_ text: String) {
    fflush(nil)  // every stdio stream: `stdout` itself is a global Swift 6 will not read
    writeFully(1, text)
}

/// Writes every byte of `text` to `descriptor`, retrying on `EINTR` and short writes; stops
/// at an error (a closed stream is not worth a crash).
private func writeFully(_ descriptor: Int32, _ text: String) {
    var text = text
    text.withUTF8 { buffer in
        var offset = 0
        while offset < buffer.count {
            let written = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return }
            offset += written
        }
    }
}
