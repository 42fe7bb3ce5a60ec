import KafkaProtocol
import KafkaRecords
import NIOCore
import Testing

/// Random, truncated and bit-flipped inputs: the parsers must throw `RecordsError`, never trap.
@Suite(.timeLimit(.minutes(10))) struct FuzzTests {
    /// Everything a Produce or a down-conversion does with a `records` field.
    private func exercise(_ bytes: [UInt8]) {
        let input = buffer(bytes)
        for version: Int16 in [0, 2, 3, 9] {
            _ = try? AppendValidator.validate(input, produceVersion: version, nextOffset: 0, leaderEpoch: 0, now: 0)
        }
        guard let entries = try? RecordSet.shallowBatches(input) else { return }
        for entry in entries {
            switch entry {
            case .v2(let batch):
                _ = try? batch.records()
                _ = batch.offsetOfMaxTimestamp()
                _ = try? DownConversion.fetchRecords([batch], toMagic: 0, firstOffset: 0)
                _ = try? DownConversion.fetchRecords([batch], toMagic: 1, firstOffset: 1)
            case .legacy(let message):
                _ = try? message.innerMessages()
            }
        }
    }

    /// Valid inputs of every kind, to truncate and corrupt.
    private func seeds() -> [[UInt8]] {
        var gzip = RecordBatchBuilder()
        gzip.compression = .gzip
        gzip.append(
            timestamp: 1,
            key: buffer(utf8("key")),
            value: buffer(utf8("value")),
            headers: [RecordHeader(key: "h", value: nil)]
        )
        gzip.append(timestamp: 2, key: nil, value: nil)
        var legacy = ByteBuffer()
        LegacyMessage.write(
            offset: 0,
            magic: 1,
            timestampType: .createTime,
            timestamp: 3,
            key: nil,
            value: buffer([1, 2]),
            to: &legacy
        )
        LegacyMessage.write(
            offset: 1,
            magic: 1,
            timestampType: .createTime,
            timestamp: 4,
            key: buffer([3]),
            value: nil,
            to: &legacy
        )
        var wrapper = ByteBuffer()
        LegacyMessage.write(
            offset: 1,
            magic: 1,
            compression: .gzip,
            timestampType: .createTime,
            timestamp: 4,
            key: nil,
            value: Gzip.compress(legacy),
            to: &wrapper
        )
        return [Golden.producerBatch, gzip.build()!.buffer.bytes, legacy.bytes, wrapper.bytes]
    }

    @Test func randomBytes() {
        var generator = SeededGenerator(state: 7)
        for _ in 0..<3_000 {
            let length = Int.random(in: 0..<200, using: &generator)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            // Plausible framing half the time, so that parsing gets past the first checks.
            if length >= 17 && Bool.random(using: &generator) {
                bytes.replaceSubrange(8..<12, with: be(Int32(length - 12)))
                bytes[16] = UInt8.random(in: 0...2, using: &generator)
            }
            exercise(bytes)
        }
    }

    @Test func everyTruncation() {
        for seed in seeds() {
            for length in 0...seed.count { exercise(Array(seed[..<length])) }
        }
    }

    @Test func bitFlipsWithRepairedCRCs() {
        var generator = SeededGenerator(state: 11)
        for seed in seeds() {
            for _ in 0..<1_500 {
                var bytes = seed
                let flips = Int.random(in: 1...4, using: &generator)
                for _ in 0..<flips {
                    let index = Int.random(in: 0..<bytes.count, using: &generator)
                    bytes[index] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &generator)
                }
                exercise(bytes)
                // With the CRC made right again, the damage reaches the record parser.
                if bytes.count >= 61, bytes[16] == 2, var batch = try? RecordBatch(bytes: buffer(bytes)) {
                    batch.setCRC()
                    exercise(batch.buffer.bytes)
                }
            }
        }
    }

    @Test func hostileLengthsAndCounts() throws {
        let hostile: [(Int, [UInt8])] = [
            (57, be(Int32.max)), (57, be(Int32(-1))), (23, be(Int32.max)), (23, be(Int32(-1))),
            (27, be(Int64.max)), (27, be(Int64.min)), (61, [0xFF, 0xFF, 0xFF, 0xFF, 0x0F]),
            (61, [0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
            (64, [0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),
        ]
        for (offset, patch) in hostile {
            var bytes = Golden.producerBatch
            bytes.replaceSubrange(offset..<offset + patch.count, with: patch)
            var batch = try RecordBatch(bytes: buffer(bytes))
            batch.setCRC()
            exercise(batch.buffer.bytes)
            // Any base timestamp is accepted (as by Kafka, with unbounded timestamp settings).
            guard offset != 27 else { continue }
            #expect(
                recordsError {
                    _ = try AppendValidator.validate(
                        batch.buffer,
                        produceVersion: 9,
                        nextOffset: 0,
                        leaderEpoch: 0,
                        now: 0
                    )
                } != nil
            )
        }
    }

    @Test func gzipBombsAreRefused() throws {
        var builder = RecordBatchBuilder()
        builder.compression = .gzip
        builder.append(timestamp: 0, key: nil, value: ByteBuffer(repeating: 0, count: 1 << 20))
        let batch = try #require(builder.build())
        #expect(batch.sizeInBytes < 10_000)
        let error = recordsError { _ = try batch.records(decompressionLimit: 1 << 16) }
        #expect(error?.code == .invalidRecord)
        #expect(try batch.records().count == 1)
    }
}
