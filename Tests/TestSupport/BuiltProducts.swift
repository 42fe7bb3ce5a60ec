import Foundation

/// Where the package's executables were built: beside the test bundle that runs (so a
/// sanitized build in `.build-asan` runs sanitized executables too), else `.build/debug`.
public enum BuiltProducts {
    /// The directory of `port-emulator`, `port-consumer` and the test bundle.
    public static let directory: String = {
        let bundle = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        for candidate in [
            bundle.deletingLastPathComponent(), bundle.deletingLastPathComponent().deletingLastPathComponent(),
        ]
        where FileManager.default.isExecutableFile(atPath: candidate.appendingPathComponent("port-emulator").path) {
            return candidate.path
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug").path
    }()
}
