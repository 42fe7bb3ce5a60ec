/// The version of port-kafka-harness: what `port-emulator --version` and
/// `port-consumer --version` print, and the version `make dist` gives the tarball, the `.deb`
/// and the Python wheel.
package enum HarnessVersion {
    /// `MAJOR.MINOR.PATCH`.
    package static let current = "0.16.0"
}
