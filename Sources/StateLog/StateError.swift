/// Why a state directory cannot be used; each message says what to do.
package enum StateError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Written by a newer version or in a newer format: this build refuses it, untouched.
    case newer(String)
    /// In a format this build no longer reads.
    case older(String)
    /// The state of another organization.
    case otherOrganization(String)
    /// Another process holds the directory's lock.
    case locked(String)
    /// The directory holds other files and no state.
    case notAState(String)
    /// A file (the path) that cannot be read as what it should be.
    case unreadable(String, String)
    /// A system call failed (what was done, the path, errno's text).
    case system(String)

    /// The message, ready for a user.
    package var description: String {
        switch self {
        case .newer(let message), .older(let message), .otherOrganization(let message), .locked(let message),
            .notAState(let message), .system(let message):
            message
        case .unreadable(let path, let reason): "\(path): \(reason)"
        }
    }
}
