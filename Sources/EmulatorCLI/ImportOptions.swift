package import ArgumentParser

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `port-emulator import`'s options, with the environment's defaults. Tests build them as
/// the command line does: `try ImportOptions.parse(["--output", dir])`.
package struct ImportOptions: ParsableArguments, Sendable {
    /// The options' defaults (`--output` still to be given).
    package init() {}

    /// Port's API, where `--api-url` and `PORT_API_URL` are not given (EU; the US's is
    /// https://api.us.port.io).
    package static let defaultAPIURL = "https://api.port.io"

    @Option(
        name: .customLong("api-url"),
        help: ArgumentHelp(
            "Port's API, with or without /v1: https://api.port.io (EU), https://api.us.port.io (US), or an emulator's.",
            discussion: "Default: PORT_API_URL, else https://api.port.io.",
            valueName: "url"
        )
    )
    package var apiURL: String?

    @Option(
        name: .customLong("client-id"),
        help: ArgumentHelp("The client id of the organization's credentials.", discussion: "Default: PORT_CLIENT_ID.")
    )
    package var clientID: String?

    @Option(
        name: .customLong("client-secret"),
        help: ArgumentHelp(
            "The client secret; never written. PORT_CLIENT_SECRET keeps it out of the process list.",
            discussion: "Default: PORT_CLIENT_SECRET."
        )
    )
    package var clientSecret: String?

    @Option(
        name: .customLong("output"),
        help: ArgumentHelp("The fixtures directory to write (created if missing).", valueName: "dir")
    )
    package var output: String

    @Flag(
        help:
            "Write into a non-empty --output: the directories of the kinds read (blueprints/, actions/, ...) are replaced; other files stay."
    )
    package var force = false

    @Flag(help: "Also import every entity of every blueprint, as entities/<blueprint>.json.")
    package var entities = false

    /// The import's settings: flags first, then `environment` (`PORT_API_URL`,
    /// `PORT_CLIENT_ID`, `PORT_CLIENT_SECRET`). Missing credentials are an error naming both
    /// ways to give them.
    package func settings(environment: [String: String]) throws(ImportError) -> PortImport.Settings {
        let url = try PortImport.normalizedBaseURL(apiURL ?? environment["PORT_API_URL"] ?? Self.defaultAPIURL)
        func value(_ flag: String?, _ variable: String, _ name: String) throws(ImportError) -> String {
            guard let value = flag ?? environment[variable], !value.isEmpty else {
                throw ImportError("no client \(name): pass --client-\(name) or set \(variable)")
            }
            return value
        }
        var settings = PortImport.Settings(
            apiURL: url,
            clientID: try value(clientID, "PORT_CLIENT_ID", "id"),
            clientSecret: try value(clientSecret, "PORT_CLIENT_SECRET", "secret"),
            output: output
        )
        settings.force = force
        settings.entities = entities
        return settings
    }
}
