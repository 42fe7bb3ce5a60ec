import Foundation
import PortContract
import StateLog
import Testing

/// A fresh directory for one test's state.
func stateDirectory() -> String {
    NSTemporaryDirectory() + "state-log-\(UUID().uuidString)"
}

/// Payloads `record 1`, `record 2`, ….
func payloads(_ range: some Sequence<Int>) -> [[UInt8]] {
    range.map { Array("{\"record\":\($0)}".utf8) }
}

/// Every file in `directory` with its bytes, to show that a refusal touched nothing.
func contents(of directory: String) throws -> [String: Data] {
    var all: [String: Data] = [:]
    for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
        all[name] = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name))
    }
    return all
}

/// A segment file made of `magic` and frames for `records` (lsn, payload).
func segmentBytes(_ records: [(UInt64, [UInt8])]) -> [UInt8] {
    records.reduce(StateFrames.magic) { $0 + StateFrames.frame(lsn: $1.0, payload: $1.1) }
}

@Suite("StateLog: the state's append-only log, its recovery after a crash, and its manifest")
struct StateLogTests {
    /// A state with `count` records appended and flushed, then closed.
    static func written(_ count: Int) throws -> String {
        let directory = stateDirectory()
        let (log, load) = try StateLog.open(directory, orgID: "org_a")
        #expect(load.records.isEmpty && load.notes.isEmpty)
        for payload in payloads(stride(from: 1, through: count, by: 1)) { log.append(payload) }
        try log.sync()
        return directory
    }

    @Test("records come back in order with their sequence numbers, and appending goes on after them")
    func roundTrip() throws {
        let directory = try Self.written(5)
        do {
            let (log, load) = try StateLog.open(directory, orgID: "org_a")
            #expect(load.records.map(\.lsn) == [1, 2, 3, 4, 5])
            #expect(load.records.map(\.payload) == payloads(1...5))
            #expect(load.notes.isEmpty && load.setAside.isEmpty)
            #expect(log.append(payloads(6...6)[0]) == 6)
            try log.flush()
        }
        let (_, again) = try StateLog.open(directory, orgID: "org_a")
        #expect(again.records.map(\.lsn) == [1, 2, 3, 4, 5, 6])
        let manifest = try StateManifest(
            json: Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/state.json"))),
            path: ""
        )
        #expect(manifest.format == StateManifest.currentFormat && manifest.writer == HarnessVersion.current)
        #expect(manifest.orgID == "org_a" && manifest.firstSegment == 1)
    }

    @Test("a record cut anywhere by a crash is dropped and cut off the file; the records before it stay")
    func tornTail() throws {
        let original = try Array(Data(contentsOf: URL(fileURLWithPath: StateLog.segmentPath(try Self.written(5), 1))))
        let lastFrame = StateFrames.frame(lsn: 5, payload: payloads(5...5)[0]).count
        for cut in 1..<lastFrame {
            let directory = try Self.written(0)
            let path = StateLog.segmentPath(directory, 1)
            try Data(original.dropLast(cut)).write(to: URL(fileURLWithPath: path))
            do {
                let (log, load) = try StateLog.open(directory, orgID: "org_a")
                #expect(load.records.map(\.lsn) == [1, 2, 3, 4], "cut \(cut)")
                #expect(
                    load.notes.count == 1
                        && load.notes[0].contains("dropped an incomplete record (\(lastFrame - cut) bytes)")
                )
                // Set aside, not deleted.
                #expect(load.setAside.count == 1)
                #expect(
                    try load.setAside.first.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
                        == Data(original.dropLast(cut).suffix(lastFrame - cut))
                )
                #expect(try Data(contentsOf: URL(fileURLWithPath: path)).count == original.count - lastFrame)
                #expect(log.append(Array("{\"after\":true}".utf8)) == 5)
                try log.flush()
            }
            let (_, again) = try StateLog.open(directory, orgID: "org_a")
            #expect(again.records.map(\.lsn) == [1, 2, 3, 4, 5], "cut \(cut)")
            #expect(again.notes.isEmpty)
        }
    }

    @Test(
        "a damaged record (length, checksum, sequence number or payload) stops the load; the rest is set aside, not lost"
    )
    func damagedRecord() throws {
        let original = try Array(Data(contentsOf: URL(fileURLWithPath: StateLog.segmentPath(try Self.written(5), 1))))
        let third =
            StateFrames.magic.count
            + (1...2).map { StateFrames.frame(lsn: UInt64($0), payload: payloads($0...$0)[0]).count }.reduce(0, +)
        // Byte offsets in the third frame: its length, its checksum, its lsn, its payload.
        for position in [third, third + 5, third + 8, third + 17] {
            let directory = try Self.written(0)
            let path = StateLog.segmentPath(directory, 1)
            var damaged = original
            damaged[position] ^= 0x40
            try Data(damaged).write(to: URL(fileURLWithPath: path))
            let (log, load) = try StateLog.open(directory, orgID: "org_a")
            #expect(load.records.map(\.lsn) == [1, 2], "byte \(position)")
            #expect(load.setAside.count == 1)
            let aside = try #require(load.setAside.first)
            #expect(try Array(Data(contentsOf: URL(fileURLWithPath: aside))) == Array(damaged[third...]))
            #expect(load.notes.first?.contains("at byte \(third)") == true, "\(load.notes)")
            #expect(log.append(Array("{}".utf8)) == 3)
        }
    }

    @Test("a length field of gigabytes is damage, not a reason to allocate")
    func hugeLength() throws {
        let directory = try Self.written(3)
        let path = StateLog.segmentPath(directory, 1)
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        let second = StateFrames.magic.count + StateFrames.frame(lsn: 1, payload: payloads(1...1)[0]).count
        bytes.replaceSubrange(second..<(second + 4), with: [0xFF, 0xFF, 0xFF, 0x7F])
        #expect(StateFrames.read(bytes).ending == .corrupt(offset: second, reason: "a frame length of 2147483647"))
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let (_, load) = try StateLog.open(directory, orgID: "org_a")
        #expect(load.records.map(\.lsn) == [1])
    }

    @Test("damage in one segment sets aside that segment's rest and every later segment")
    func laterSegmentsSetAside() throws {
        let directory = try Self.written(0)
        let one: [(UInt64, [UInt8])] = [(1, payloads(1...1)[0]), (2, payloads(2...2)[0])]
        var two = segmentBytes([(3, payloads(3...3)[0]), (4, payloads(4...4)[0])])
        two[two.count - 1] ^= 1
        let three = segmentBytes([(5, payloads(5...5)[0])])
        try Data(segmentBytes(one)).write(to: URL(fileURLWithPath: StateLog.segmentPath(directory, 1)))
        try Data(two).write(to: URL(fileURLWithPath: StateLog.segmentPath(directory, 2)))
        try Data(three).write(to: URL(fileURLWithPath: StateLog.segmentPath(directory, 3)))
        let (log, load) = try StateLog.open(directory, orgID: "org_a")
        #expect(load.records.map(\.lsn) == [1, 2, 3])
        #expect(
            load.setAside.count == 2 && load.setAside[1].hasPrefix(StateLog.segmentPath(directory, 3) + ".corrupt-")
        )
        #expect(log.segment == 2 && log.append([]) == 4)
    }

    @Test("a sequence number that does not follow is damage, even with a good checksum")
    func outOfSequence() throws {
        let directory = try Self.written(0)
        let bytes = segmentBytes([(1, payloads(1...1)[0]), (2, payloads(2...2)[0]), (7, payloads(3...3)[0])])
        try Data(bytes).write(to: URL(fileURLWithPath: StateLog.segmentPath(directory, 1)))
        let (_, load) = try StateLog.open(directory, orgID: "org_a")
        #expect(load.records.map(\.lsn) == [1, 2])
        #expect(load.notes.first?.contains("a record out of sequence") == true, "\(load.notes)")
    }

    @Test("a state written by a newer version or format, an older format, or another organization is refused untouched")
    func refusals() throws {
        let cases: [(JSONValue, String)] = [
            (
                ["format": 1, "writer": "99.0.0", "orgID": "org_a", "firstSegment": 1],
                "holds state written by port-emulator 99.0.0 (state format 1); this is \(HarnessVersion.current)"
            ),
            (
                ["format": 99, "writer": .string(HarnessVersion.current), "orgID": "org_a", "firstSegment": 1],
                "reads state formats up to \(StateManifest.currentFormat)"
            ),
            (
                ["format": 0, "writer": "0.1.0", "orgID": "org_a", "firstSegment": 1],
                "holds state in format 0, from port-emulator 0.1.0, which this version (\(HarnessVersion.current)) does not read"
            ),
            (
                ["format": 1, "writer": .string(HarnessVersion.current), "orgID": "org_b", "firstSegment": 1],
                "holds the state of organization org_b, not org_a"
            ),
        ]
        for (manifest, message) in cases {
            let directory = try Self.written(2)
            try Data(manifest.compactBytes).write(to: URL(fileURLWithPath: directory + "/state.json"))
            let before = try contents(of: directory)
            let error = #expect(throws: StateError.self) { try StateLog.open(directory, orgID: "org_a") }
            #expect(error?.description.contains(message) == true, "\(error?.description ?? "")")
            #expect(try contents(of: directory) == before)
        }
    }

    @Test("a directory with other files and no state is refused; a missing one is created")
    func notAState() throws {
        let directory = stateDirectory()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data("mine".utf8).write(to: URL(fileURLWithPath: directory + "/notes.txt"))
        let error = #expect(throws: StateError.self) { try StateLog.open(directory, orgID: "org_a") }
        #expect(error?.description.contains("holds files (notes.txt) but no port-emulator state") == true)
        let nested = stateDirectory() + "/a/b"
        #expect(throws: Never.self) { try StateLog.open(nested, orgID: "org_a") }
    }

    @Test("one process at a time: a second open is refused, naming the holder")
    func locked() throws {
        let directory = try Self.written(1)
        let (log, _) = try StateLog.open(directory, orgID: "org_a")
        let error = #expect(throws: StateError.self) { try StateLog.open(directory, orgID: "org_a") }
        #expect(
            error?.description.contains("is in use by another port-emulator (pid \(getpid()))") == true,
            "\(error?.description ?? "")"
        )
        withExtendedLifetime(log) {}
    }

    @Test("versions are ordered as numbers")
    func versionOrder() {
        let ordered = ["0.9.0", "0.16.0", "0.16.1", "1.0.0"].compactMap(HarnessVersion.Parsed.init)
        #expect(ordered.count == 4 && ordered == ordered.sorted())
        #expect(HarnessVersion.Parsed("0.9.0")! < HarnessVersion.Parsed("0.16.0")!)
        for bad in ["1.0", "1.0.0.0", "a.b.c", "-1.0.0", ""] { #expect(HarnessVersion.Parsed(bad) == nil, "\(bad)") }
    }
}

@Suite("StateLog: snapshots replace the segments before them, and a crash at any step of one loses nothing")
struct StateSnapshotTests {
    static let sections = [Array("{\"section\":\"a\"}".utf8), Array("{\"section\":\"b\"}".utf8)]

    /// Five records in segment 1, a rotation, two more in segment 2: the moment a compaction
    /// has copied the stores.
    static func rotated() throws -> (String, StateLog) {
        let directory = try StateLogTests.written(5)
        let (log, _) = try StateLog.open(directory, orgID: "org_a")
        #expect(try log.rotate() == 2)
        for payload in payloads(6...7) { log.append(payload) }
        try log.flush()
        return (directory, log)
    }

    @Test("the snapshot's sections come back, with the records appended after the rotation; segment 1 is gone")
    func compaction() throws {
        let directory: String
        do {
            let (path, log) = try Self.rotated()
            directory = path
            try log.writeSnapshot(startingSegment: 2, payloads: Self.sections)
            #expect(!FileManager.default.fileExists(atPath: StateLog.segmentPath(directory, 1)))
        }
        let (reopened, load) = try StateLog.open(directory, orgID: "org_a")
        #expect(load.snapshot.map(\.payload) == Self.sections)
        #expect(load.snapshotLSN == 7)
        #expect(load.records.map(\.lsn) == [6, 7])
        #expect(reopened.append([]) == 8 && reopened.segment == 2)
    }

    @Test(
        "stopped after each step, as a crash would, the next open finds every record and no leftover",
        arguments: StateLog.CompactionStep.allCases
    )
    func crashAt(step: StateLog.CompactionStep) throws {
        var directory = ""
        do {
            let (path, log) = try Self.rotated()
            directory = path
            #expect(throws: StateError.self) {
                try log.writeSnapshot(startingSegment: 2, payloads: Self.sections) { reached throws(StateError) in
                    if reached == step { throw StateError.system("stopped after \(reached)") }
                }
            }
        }
        let (_, load) = try StateLog.open(directory, orgID: "org_a")
        if step.rawValue < StateLog.CompactionStep.recorded.rawValue {
            #expect(load.snapshot.isEmpty && load.records.map(\.lsn) == [1, 2, 3, 4, 5, 6, 7])
        } else {
            #expect(load.snapshot.map(\.payload) == Self.sections && load.records.map(\.lsn) == [6, 7])
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        let expected =
            step.rawValue < StateLog.CompactionStep.recorded.rawValue
            ? ["LOCK", "log-000001", "log-000002", "state.json"]
            : ["LOCK", "log-000002", "snapshot-000002", "state.json"]
        #expect(names == expected, "\(step)")
    }

    @Test("a damaged snapshot is refused: it was whole before it was named")
    func damagedSnapshot() throws {
        let directory: String
        do {
            let (path, log) = try Self.rotated()
            directory = path
            try log.writeSnapshot(startingSegment: 2, payloads: Self.sections)
        }
        let path = directory + "/snapshot-000002"
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count - 3] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: StateError.self) { try StateLog.open(directory, orgID: "org_a") }
        #expect(
            error?.description.contains("snapshot-000002: a damaged snapshot") == true,
            "\(error?.description ?? "")"
        )
    }
}
