#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes `text` to the process's standard error at once, unbuffered (in place of
/// Foundation's `FileHandle.standardError.write`, which FoundationEssentials lacks).
package func writeToStandardError(_ text: String) {
    writeAll(2, Array(text.utf8))
}

/// Writes `text` to the process's standard output at once, after whatever `print` buffered
/// (in place of `FileHandle.standardOutput.write`): scripts read it through a pipe.
package func writeToStandardOutput(_ text: String) {
    fflush(nil)  // every stdio stream: `stdout` itself is a global Swift 6 will not read
    writeAll(1, Array(text.utf8))
}
