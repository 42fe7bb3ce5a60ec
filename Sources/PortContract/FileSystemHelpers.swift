#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A short message for `error`, in place of Foundation's `localizedDescription` (which
/// FoundationEssentials lacks): for a file-system error with a POSIX cause, the C library's
/// text for it (`No such file or directory`) and the path when known; for an error that
/// describes itself (`CustomStringConvertible`), that description; otherwise `"\(error)"`.
package func describeError(_ error: any Error) -> String {
    if let cocoa = error as? CocoaError {
        if let posix = cocoa.underlying as? POSIXError {
            let reason = String(cString: strerror(posix.code.rawValue))
            return cocoa.filePath.map { "\($0): \(reason)" } ?? reason
        }
        if let path = cocoa.filePath { return "\(path): file error \(cocoa.code.rawValue)" }
        return "file error \(cocoa.code.rawValue)"
    }
    if let posix = error as? POSIXError { return String(cString: strerror(posix.code.rawValue)) }
    return "\(error)"
}

/// Whether `path` names a directory (following symbolic links), as
/// `FileManager.fileExists(atPath:isDirectory:)` says: that takes an `inout Bool` in
/// FoundationEssentials and an `ObjCBool` in Darwin's Foundation.
package func isDirectory(_ path: String) -> Bool {
    #if canImport(FoundationEssentials)
    var directory = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory
    #else
    var directory: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    #endif
}
