import ChildProcesses
import PortContract
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// close(2), under a name the log's own `close()` does not hide.
private func closeFile(_ descriptor: Int32) { _ = close(descriptor) }

/// The durable record of the emulator's state in a directory (`serve --state-dir`): an
/// append-only log of change records, in segments `log-000001`, `log-000002`, …, framed and
/// checksummed (``StateFrames``), under a manifest (``StateManifest``) that says which format
/// and version wrote them.
///
/// Opening it reads what a previous process left: a record cut by a crash at the end of the
/// last segment (the write in progress) is dropped and the file cut back to the last whole
/// record; a damaged record stops the load there. What was cut is set aside in `*.torn-N` or
/// `*.corrupt-N` files, never deleted. Stores then ``append(_:)`` records under their own
/// locks (a buffer in memory, no I/O); ``flush()`` writes the buffer with write(2) before an
/// answer leaves (enough to survive `kill -9`), and ``sync()`` also calls fdatasync (enough to
/// survive a power loss). One process at a time: the directory's `LOCK` is held with flock.
package final class StateLog: Sendable {
    /// The state's directory.
    package let directory: String
    private let state: Mutex<Pending>
    private let file: Mutex<Output>

    private struct Pending {
        var nextLSN: UInt64
        var buffer: [UInt8] = []
    }

    private struct Output {
        var descriptor: Int32
        var lock: Int32
        var segment: Int
        var manifest: StateManifest
        var dirty = false
        var failure: StateError?
        /// Bytes written to the segments since the last rotation (or in the segments read).
        var written = 0
    }

    private init(
        directory: String,
        manifest: StateManifest,
        segment: Int,
        nextLSN: UInt64,
        descriptor: Int32,
        lock: Int32,
        written: Int
    ) {
        self.directory = directory
        self.state = Mutex(Pending(nextLSN: nextLSN))
        self.file = Mutex(
            Output(descriptor: descriptor, lock: lock, segment: segment, manifest: manifest, written: written)
        )
    }

    /// The segment being appended to.
    package var segment: Int { file.withLock { $0.segment } }

    /// The bytes of records in the segments since the last ``rotate()`` (at open: in the
    /// segments read): how much a load would replay past the snapshot.
    package var bytesSinceRotation: Int { file.withLock { $0.written } }

    deinit {
        file.withLock { output in
            if output.descriptor >= 0 { closeFile(output.descriptor) }
            if output.lock >= 0 { closeFile(output.lock) }
        }
    }

    /// The number of the segment named `name`, or nil when it names no segment.
    private static func segmentNumber(_ name: String) -> Int? {
        name.hasPrefix("log-") && name.count == 10 ? Int(name.dropFirst(4)) : nil
    }

    /// A new segment at `path`, holding its magic (synced, and its name too), open for
    /// appending.
    private static func createSegment(_ path: String) throws(StateError) -> Int32 {
        let descriptor = try StateFiles.create(path, with: StateFrames.magic)
        do throws(StateError) {
            try StateFiles.syncDirectory(of: path)
        } catch {
            closeFile(descriptor)
            throw error
        }
        return descriptor
    }

    /// The path of segment `number` in `directory`.
    package static func segmentPath(_ directory: String, _ number: Int) -> String {
        directory + "/log-" + sixDigits(number)
    }

    /// Opens the state in `directory` (created when missing) for `orgID`: refuses a state this
    /// build must not read, or a directory another process uses, before anything is written;
    /// returns the log, open for appending, and every good record, in order.
    package static func open(_ directory: String, orgID: String) throws(StateError) -> (StateLog, StateLoad) {
        try StateFiles.makeDirectories(directory)
        let manifestPath = directory + "/state.json"
        let manifest: StateManifest
        if StateFiles.exists(manifestPath) {
            manifest = try StateManifest(json: try StateFiles.read(manifestPath), path: manifestPath)
            try manifest.check(directory: directory, orgID: orgID)
        } else {
            let others = try StateFiles.names(in: directory).filter { $0 != "LOCK" && !$0.hasSuffix(".tmp") }
            guard others.isEmpty else {
                throw .notAState(
                    "\(directory) holds files (\(others.prefix(3).joined(separator: ", "))) but no port-emulator "
                        + "state (no state.json): give an empty or a new directory"
                )
            }
            manifest = StateManifest(orgID: orgID)
        }
        let lock = try Self.lock(directory)
        do throws(StateError) {
            if !StateFiles.exists(manifestPath) { try StateFiles.replace(manifestPath, with: manifest.json) }
            try Self.removeLeftovers(directory, manifest)
            var snapshot: StateSnapshot?
            if let name = manifest.snapshot { snapshot = try Self.readSnapshot(directory + "/" + name) }
            var load = try Self.readSegments(directory, from: manifest.firstSegment)
            load.snapshot = snapshot?.records ?? []
            load.snapshotLSN = snapshot?.lsn ?? 0
            let segment = load.lastSegment ?? manifest.firstSegment
            let path = segmentPath(directory, segment)
            let descriptor: Int32
            if load.lastSegment == nil || load.lastSegmentEmpty {
                // A new segment, or one cut inside its magic.
                descriptor = try Self.createSegment(path)
            } else {
                descriptor = StateFiles.openFile(path, O_WRONLY | O_APPEND | O_CLOEXEC)
                guard descriptor >= 0 else { throw StateFiles.failure("open", path) }
            }
            load.lastSegment = segment
            let log = StateLog(
                directory: directory,
                manifest: manifest,
                segment: segment,
                nextLSN: max(load.records.last?.lsn ?? 0, load.snapshotLSN) + 1,
                descriptor: descriptor,
                lock: lock,
                written: load.records.reduce(0) { $0 + StateFrames.size(ofPayload: $1.payload.count) }
            )
            return (log, load)
        } catch {
            closeFile(lock)
            throw error
        }
    }

    /// Deletes what an interrupted compaction left and the manifest does not name: segments
    /// before its first one, other snapshots, temporary files.
    private static func removeLeftovers(_ directory: String, _ manifest: StateManifest) throws(StateError) {
        for name in try StateFiles.names(in: directory) {
            let oldSegment = (segmentNumber(name) ?? .max) < manifest.firstSegment
            let otherSnapshot = name.hasPrefix("snapshot-") && name != manifest.snapshot
            if oldSegment || otherSnapshot || name.hasSuffix(".tmp") { _ = unlink(directory + "/" + name) }
        }
    }

    /// Takes `DIR/LOCK` with flock, or says which process holds it.
    private static func lock(_ directory: String) throws(StateError) -> Int32 {
        let path = directory + "/LOCK"
        let descriptor = StateFiles.openFile(path, O_RDWR | O_CREAT | O_CLOEXEC)
        guard descriptor >= 0 else { throw StateFiles.failure("open", path) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = String(decoding: readAll(descriptor), as: UTF8.self).trimmingWhitespaceAndNewlines()
            closeFile(descriptor)
            throw .locked(
                "\(directory) is in use by another port-emulator\(holder.isEmpty ? "" : " (pid \(holder))"): "
                    + "stop it, or give another --state-dir"
            )
        }
        _ = ftruncate(descriptor, 0)
        _ = writeAll(descriptor, Array("\(getpid())\n".utf8))
        return descriptor
    }

    /// Reads the segments from `first` on; cuts a torn tail off the last one and sets aside
    /// everything from a damaged record on.
    private static func readSegments(_ directory: String, from first: Int) throws(StateError) -> StateLoad {
        let numbers = try StateFiles.names(in: directory).compactMap(segmentNumber).filter { $0 >= first }.sorted()
        var load = StateLoad()
        var stopped = false
        for (index, number) in numbers.enumerated() {
            let path = segmentPath(directory, number)
            if stopped {
                let aside = Self.freeName(path + ".corrupt")
                try StateFiles.move(path, to: aside)
                load.setAside.append(aside)
                continue
            }
            let bytes = try StateFiles.read(path)
            let contents = StateFrames.read(bytes)
            // Sequence numbers grow by one: a record that does not is damage, whatever its checksum.
            var kept = 0
            for record in contents.records {
                if let previous = load.records.last?.lsn, record.lsn != previous + 1 { break }
                load.records.append(record)
                kept += 1
            }
            load.lastSegment = number
            let isLast = index == numbers.count - 1
            let end =
                kept == contents.records.count
                ? contents.validEnd : kept == 0 ? StateFrames.magic.count : contents.ends[kept - 1]
            if case .clean = contents.ending, kept == contents.records.count {
                load.lastSegmentEmpty = end < StateFrames.magic.count
                continue
            }
            // Past the last good record: the bytes are set aside, never deleted. A frame cut
            // short at the end of the last segment is the write in progress when the process
            // stopped; anything else is damage, and the load stops there.
            var torn = false
            if case .torn = contents.ending, kept == contents.records.count, isLast { torn = true }
            let aside = Self.freeName(path + (torn ? ".torn" : ".corrupt"))
            try StateFiles.replace(aside, with: Array(bytes[end...]))
            try StateFiles.truncate(path, to: end)
            load.setAside.append(aside)
            if torn {
                load.notes.append(
                    "dropped an incomplete record (\(bytes.count - end) bytes) at byte \(end) of \(path): the "
                        + "write in progress when port-emulator stopped (its bytes are in \(aside))"
                )
            } else {
                let reason = kept < contents.records.count ? "a record out of sequence" : describe(contents.ending)
                load.notes.append(
                    "\(path): \(reason) at byte \(end); loaded the records before it, and set aside the "
                        + "\(bytes.count - end) bytes from there in \(aside)"
                )
                stopped = true
            }
            load.lastSegmentEmpty = end < StateFrames.magic.count
        }
        return load
    }

    /// `base-1`, or the first of `base-2`, `base-3`, … that does not exist yet.
    private static func freeName(_ base: String) -> String {
        var number = 1
        while StateFiles.exists("\(base)-\(number)") { number += 1 }
        return "\(base)-\(number)"
    }

    private static func describe(_ ending: StateFileContents.Ending) -> String {
        switch ending {
        case .clean: "a clean end"
        case .torn(let bytes): "an incomplete record (\(bytes) bytes) before the segment's end"
        case .corrupt(_, let reason): "a damaged record (\(reason))"
        }
    }

    /// Appends a record with `payload` to the buffer (no I/O) and returns its sequence number.
    /// Stores call it under their own lock, so that records keep their changes' order.
    @discardableResult
    package func append(_ payload: [UInt8]) -> UInt64 {
        state.withLock { pending in
            let lsn = pending.nextLSN
            pending.nextLSN += 1
            pending.buffer.append(contentsOf: StateFrames.frame(lsn: lsn, payload: payload))
            return lsn
        }
    }

    /// The sequence number of the last record appended.
    package var lastLSN: UInt64 { state.withLock { $0.nextLSN - 1 } }

    /// Writes the buffered records (write(2)): once it returns, they survive the process's
    /// death. After a failed write the log stays failed: what is on disk is a valid prefix.
    package func flush() throws(StateError) {
        try file.withLock { (output: inout Output) throws(StateError) in try write(&output) }
    }

    /// Writes the buffer to the open segment; called with the file's lock held.
    private func write(_ output: inout Output) throws(StateError) {
        if let failure = output.failure { throw failure }
        let bytes = state.withLock { pending in
            defer { pending.buffer = [] }
            return pending.buffer
        }
        guard !bytes.isEmpty else { return }
        guard writeAll(output.descriptor, bytes) else {
            let failure = StateFiles.failure("write", Self.segmentPath(directory, output.segment))
            output.failure = failure
            throw failure
        }
        output.dirty = true
        output.written += bytes.count
    }

    /// Closes the open segment (its buffered records written and synced) and opens the next
    /// one; returns the new segment's number. A compaction starts with it: every record in
    /// the older segments is then in the stores' state that the snapshot copies.
    package func rotate() throws(StateError) -> Int {
        try file.withLock { (output: inout Output) throws(StateError) in
            try write(&output)
            let old = Self.segmentPath(directory, output.segment)
            guard fdatasync(output.descriptor) == 0 else { throw StateFiles.failure("sync", old) }
            let next = output.segment + 1
            let descriptor = try Self.createSegment(Self.segmentPath(directory, next))
            closeFile(output.descriptor)
            output.descriptor = descriptor
            output.segment = next
            output.dirty = false
            output.written = 0
            return next
        }
    }

    /// The steps of ``writeSnapshot(startingSegment:payloads:stop:)``, for tests that stop it
    /// after each as a crash would.
    package enum CompactionStep: Int, Sendable, CaseIterable {
        /// The snapshot is written and synced under a temporary name.
        case written
        /// It has its name.
        case named
        /// The manifest names it.
        case recorded
        /// The segments and the snapshot it replaces are deleted.
        case cleaned
    }

    /// Writes a snapshot of the whole state, `payloads` (a header and the stores' sections,
    /// as the stores encode them), which replaces every segment before `startingSegment`
    /// (the number ``rotate()`` returned before the stores were copied). It is written under
    /// a temporary name, synced, renamed, then named by the manifest, and only then are the
    /// old files deleted: a crash at any point leaves a manifest whose files all exist.
    /// `stop` is called after each step (tests throw from it to stop there).
    package func writeSnapshot(
        startingSegment: Int,
        payloads: [[UInt8]],
        stop: (CompactionStep) throws(StateError) -> Void = { _ throws(StateError) in }
    ) throws(StateError) {
        let name = "snapshot-" + Self.sixDigits(startingSegment)
        let path = directory + "/" + name
        var bytes = StateFrames.magic
        for (index, payload) in payloads.enumerated() {
            bytes += StateFrames.frame(lsn: UInt64(index + 1), payload: payload)
        }
        let end: JSONValue = ["end": .int(Int64(payloads.count)), "lsn": .int(Int64(lastLSN))]
        bytes += StateFrames.frame(lsn: UInt64(payloads.count + 1), payload: end.compactBytes)
        let temporary = path + ".tmp"
        closeFile(try StateFiles.create(temporary, with: bytes))
        try stop(.written)
        try StateFiles.move(temporary, to: path)
        try StateFiles.syncDirectory(of: path)
        try stop(.named)
        let previous = try file.withLock { (output: inout Output) throws(StateError) -> StateManifest in
            let previous = output.manifest
            var manifest = previous
            manifest.snapshot = name
            manifest.firstSegment = startingSegment
            manifest.writer = HarnessVersion.current
            try StateFiles.replace(directory + "/state.json", with: manifest.json)
            output.manifest = manifest
            return previous
        }
        try stop(.recorded)
        for number in previous.firstSegment..<startingSegment {
            _ = unlink(Self.segmentPath(directory, number))
        }
        if let old = previous.snapshot, old != name { _ = unlink(directory + "/" + old) }
        try stop(.cleaned)
    }

    /// A snapshot's records (its end frame checked and removed); a damaged snapshot is
    /// refused: it was complete before it was named, so damage there is not a crash's.
    private static func readSnapshot(_ path: String) throws(StateError) -> StateSnapshot {
        let contents = StateFrames.read(try StateFiles.read(path))
        guard case .clean = contents.ending, let last = contents.records.last,
            case .object(let end)? = try? JSONValue.parse(last.payload),
            case .int(let count)? = end["end"], Int(count) == contents.records.count - 1,
            case .int(let lsn)? = end["lsn"]
        else {
            throw .unreadable(
                path,
                "a damaged snapshot (it was complete when it was named, so this is not a crash's doing): "
                    + "move the state directory aside and start again"
            )
        }
        return StateSnapshot(records: Array(contents.records.dropLast()), lsn: UInt64(lsn))
    }

    private static func sixDigits(_ number: Int) -> String {
        let digits = String(number)
        return String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    /// Writes and syncs what is buffered, then closes the segment and releases the
    /// directory's lock, so that another process (or another emulator in this one) may open
    /// it. Later records are refused as a failed write would be.
    package func close() throws(StateError) {
        try file.withLock { (output: inout Output) throws(StateError) in
            guard output.descriptor >= 0 else { return }
            defer {
                closeFile(output.descriptor)
                closeFile(output.lock)
                output.descriptor = -1
                output.lock = -1
                output.failure = output.failure ?? .system("\(directory): the state was closed")
            }
            try write(&output)
            if output.dirty, fdatasync(output.descriptor) != 0 {
                throw StateFiles.failure("sync", Self.segmentPath(directory, output.segment))
            }
        }
    }

    /// ``flush()``, then fdatasync: once it returns, the records survive a power loss too.
    package func sync() throws(StateError) {
        try file.withLock { (output: inout Output) throws(StateError) in
            try write(&output)
            guard output.dirty else { return }
            guard fdatasync(output.descriptor) == 0 else {
                throw StateFiles.failure("sync", Self.segmentPath(directory, output.segment))
            }
            output.dirty = false
        }
    }
}

/// A snapshot's records and the last sequence number it covers.
package struct StateSnapshot: Sendable {
    /// The payloads as ``StateLog/writeSnapshot(startingSegment:payloads:stop:)`` got them, in
    /// records numbered from 1.
    package var records: [StateRecord]
    /// The log's last sequence number when it was written.
    package var lsn: UInt64
}

/// What ``StateLog/open(_:orgID:)`` found.
package struct StateLoad: Sendable {
    /// The snapshot the state starts from (none when empty).
    package var snapshot: [StateRecord] = []
    /// The log's last sequence number when the snapshot was written (0 without one).
    package var snapshotLSN: UInt64 = 0
    /// The good log records after the snapshot, in order.
    package var records: [StateRecord] = []
    /// Files set aside (damaged records and what followed them).
    package var setAside: [String] = []
    /// What the load did beyond reading, for the log: each a sentence.
    package var notes: [String] = []
    /// The last segment read (nil when there was none).
    package var lastSegment: Int?
    /// Whether that segment held not even its whole magic.
    package var lastSegmentEmpty = false
}
