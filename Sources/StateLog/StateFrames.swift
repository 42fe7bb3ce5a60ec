import KafkaRecords

/// The framing of the state's files (the log's segments and, later, snapshots): an 8-byte
/// magic, then frames of `length (u32 LE) | CRC-32C (u32 LE) | lsn (u64 LE) | payload`, where
/// `length` counts the lsn and the payload and the CRC covers the same bytes.
package enum StateFrames {
    /// The first bytes of every state file.
    package static let magic: [UInt8] = Array("PESTATE1".utf8)
    /// Bytes before a frame's lsn: its length and its CRC.
    package static let headerSize = 8
    /// A frame longer than this is damage, not data: a garbage length never allocates more.
    package static let maximumLength = 64 << 20

    /// The bytes of a frame holding `payloadCount` bytes of payload: header, lsn, payload.
    package static func size(ofPayload payloadCount: Int) -> Int { headerSize + lsnSize + payloadCount }

    private static let lsnSize = 8

    /// `payload` as one frame with sequence number `lsn`.
    package static func frame(lsn: UInt64, payload: [UInt8]) -> [UInt8] {
        var body: [UInt8] = []
        body.reserveCapacity(lsnSize + payload.count)
        appendLittleEndian(lsn, to: &body)
        body.append(contentsOf: payload)
        var frame: [UInt8] = []
        frame.reserveCapacity(size(ofPayload: payload.count))
        appendLittleEndian(UInt32(body.count), to: &frame)
        appendLittleEndian(CRC32C.checksum(body), to: &frame)
        frame.append(contentsOf: body)
        return frame
    }

    /// The frames of a whole file's `bytes`, and how its end was found.
    package static func read(_ bytes: [UInt8]) -> StateFileContents {
        guard bytes.count >= magic.count else {
            // A file cut while its magic was being written holds no record yet.
            return StateFileContents([], 0, bytes.isEmpty ? .clean : .torn(bytes.count), ends: [])
        }
        guard Array(bytes[0..<magic.count]) == magic else {
            return StateFileContents([], 0, .corrupt(offset: 0, reason: "not a state file"), ends: [])
        }
        var records: [StateRecord] = []
        var ends: [Int] = []
        var offset = magic.count
        while offset < bytes.count {
            let remaining = bytes.count - offset
            guard remaining >= headerSize else {
                return StateFileContents(records, offset, .torn(remaining), ends: ends)
            }
            let length = Int(readLittleEndian(UInt32.self, bytes, at: offset))
            guard length >= 8, length <= maximumLength else {
                return StateFileContents(
                    records,
                    offset,
                    .corrupt(offset: offset, reason: "a frame length of \(length)"),
                    ends: ends
                )
            }
            guard remaining >= headerSize + length else {
                return StateFileContents(records, offset, .torn(remaining), ends: ends)
            }
            let expected = readLittleEndian(UInt32.self, bytes, at: offset + 4)
            let body = bytes[(offset + headerSize)..<(offset + headerSize + length)]
            guard CRC32C.checksum(Array(body)) == expected else {
                return StateFileContents(
                    records,
                    offset,
                    .corrupt(offset: offset, reason: "a checksum mismatch"),
                    ends: ends
                )
            }
            let lsn = readLittleEndian(UInt64.self, bytes, at: offset + headerSize)
            records.append(StateRecord(lsn: lsn, payload: Array(body.dropFirst(8))))
            offset += headerSize + length
            ends.append(offset)
        }
        return StateFileContents(records, offset, .clean, ends: ends)
    }

    private static func appendLittleEndian<Integer: FixedWidthInteger>(_ value: Integer, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    private static func readLittleEndian<Integer: FixedWidthInteger>(
        _: Integer.Type,
        _ bytes: [UInt8],
        at offset: Int
    ) -> Integer {
        var value = Integer.zero
        for index in 0..<(Integer.bitWidth / 8) {
            value |= Integer(bytes[offset + index]) << (8 * index)
        }
        return value
    }
}

/// One record of a state file: its sequence number and its payload.
package struct StateRecord: Sendable, Equatable {
    /// The log sequence number, increasing by one per record over the state's life.
    package let lsn: UInt64
    /// The record's bytes (JSON, for the stores).
    package let payload: [UInt8]

    /// A record.
    package init(lsn: UInt64, payload: [UInt8]) {
        self.lsn = lsn
        self.payload = payload
    }
}

/// What a state file held: its good records, where they end, and what came after them.
package struct StateFileContents: Sendable, Equatable {
    /// How a file's bytes ended.
    package enum Ending: Sendable, Equatable {
        /// At a frame's end.
        case clean
        /// In the middle of a frame (this many bytes after the last good one): the write in
        /// progress when the process stopped.
        case torn(Int)
        /// At a frame that is damaged (its checksum, its length, its magic), at `offset`.
        case corrupt(offset: Int, reason: String)
    }

    /// The good records, in order.
    package let records: [StateRecord]
    /// The offset just after the last good record (the magic's end when there is none).
    package let validEnd: Int
    /// What follows `validEnd`.
    package let ending: Ending
    /// The offset just after each record.
    package let ends: [Int]

    init(_ records: [StateRecord], _ validEnd: Int, _ ending: Ending, ends: [Int]) {
        self.records = records
        self.validEnd = validEnd
        self.ending = ending
        self.ends = ends
    }
}
