import PortContract

/// `DIR/state.json`: which format and which version wrote the state, whose it is, and which
/// files hold it. It is replaced atomically (a temporary file, fsync, rename, fsync of the
/// directory), so a crash leaves the old one or the new one, never half of one.
package struct StateManifest: Sendable, Equatable {
    /// The state format this build writes, and the newest it reads.
    package static let currentFormat = 1

    /// The state format of the files.
    package var format: Int
    /// The version that last wrote the state (`HarnessVersion.current` then).
    package var writer: String
    /// The version that created the state.
    package var firstWriter: String
    /// The organization the state belongs to.
    package var orgID: String
    /// The first log segment still holding records (the older ones were compacted away).
    package var firstSegment: Int
    /// The snapshot file the state starts from (in the directory), if one was written.
    package var snapshot: String?

    /// A manifest of the current format, written by this version.
    package init(orgID: String, firstSegment: Int = 1) {
        self.format = Self.currentFormat
        self.writer = HarnessVersion.current
        self.firstWriter = HarnessVersion.current
        self.orgID = orgID
        self.firstSegment = firstSegment
    }

    /// The manifest `text` holds; `.unreadable` naming `path` when it is not one.
    package init(json text: [UInt8], path: String) throws(StateError) {
        guard case .object(let object)? = try? JSONValue.parse(text),
            case .int(let format)? = object["format"], case .string(let writer)? = object["writer"],
            case .string(let orgID)? = object["orgID"], case .int(let firstSegment)? = object["firstSegment"]
        else {
            throw .unreadable(path, "not a port-emulator state manifest (format, writer, orgID, firstSegment)")
        }
        self.format = Int(format)
        self.writer = writer
        self.firstWriter = object["firstWriter"]?.stringValue ?? writer
        self.orgID = orgID
        self.firstSegment = Int(firstSegment)
        self.snapshot = object["snapshot"]?.stringValue
    }

    /// The manifest as JSON.
    package var json: [UInt8] {
        let object: JSONValue = [
            "format": .int(Int64(format)), "writer": .string(writer), "firstWriter": .string(firstWriter),
            "orgID": .string(orgID), "firstSegment": .int(Int64(firstSegment)),
            "snapshot": snapshot.map(JSONValue.string) ?? .null,
        ]
        return object.compactBytes
    }

    /// Throws when this build must not read the state in `directory`: written by a newer
    /// version or in a newer format, in a format older than any this build reads, or for
    /// another organization. Nothing is written before this check passes.
    package func check(directory: String, orgID: String) throws(StateError) {
        let current = HarnessVersion.current
        if format > Self.currentFormat
            || (HarnessVersion.Parsed(writer).map { $0 > HarnessVersion.Parsed(current)! } ?? true)
        {
            throw .newer(
                "\(directory) holds state written by port-emulator \(writer) (state format \(format)); "
                    + "this is \(current), which reads state formats up to \(Self.currentFormat): "
                    + "run port-emulator \(writer) or later, or give another --state-dir"
            )
        }
        if format < Self.currentFormat {
            throw .older(
                "\(directory) holds state in format \(format), from port-emulator \(writer), which this "
                    + "version (\(current)) does not read: move it aside, or run port-emulator \(writer)"
            )
        }
        if self.orgID != orgID {
            throw .otherOrganization(
                "\(directory) holds the state of organization \(self.orgID), not \(orgID): give --org-id "
                    + "\(self.orgID), or another --state-dir"
            )
        }
    }
}
