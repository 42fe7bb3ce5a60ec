import KafkaProtocol
import KafkaRecords
import NIOCore
import Testing

/// Big-endian bytes of an integer.
func be<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.bigEndian) { Array($0) }
}

/// The UTF-8 bytes of a string.
func utf8(_ text: String) -> [UInt8] { Array(text.utf8) }

/// A buffer holding `bytes`.
func buffer(_ bytes: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: bytes) }

extension ByteBuffer {
    /// The readable bytes.
    var bytes: [UInt8] { Array(readableBytesView) }
}

/// A deterministic pseudo-random generator (SplitMix64) for fuzzing.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}

/// The error `body` throws, or nil.
func recordsError(_ body: () throws -> Void) -> RecordsError? {
    do {
        try body()
        return nil
    } catch let error as RecordsError {
        return error
    } catch {
        Issue.record("not a RecordsError: \(error)")
        return nil
    }
}

/// The golden batch's two records: a null key with one header, a null value with two.
enum Golden {
    static let baseTimestamp: Int64 = 1_700_000_000_000

    /// The batch as a producer sends it, built field by field from the v2 format.
    static let producerBatch: [UInt8] = {
        // Record 0: offsetDelta 0, timestampDelta 0, key null, value "v1", header h=x.
        let record0: [UInt8] =
            [0x18]  // length: 12, zigzag varint 24
            + [0x00]  // attributes
            + [0x00]  // timestampDelta 0 (varlong)
            + [0x00]  // offsetDelta 0 (varint)
            + [0x01]  // key length -1: null
            + [0x04] + utf8("v1")  // value length 2, "v1"
            + [0x02]  // header count 1
            + [0x02] + utf8("h")  // header key length 1, "h"
            + [0x02] + utf8("x")  // header value length 1, "x"
        // Record 1: offsetDelta 1, timestampDelta 5, key "k2", value null, headers a=b, c=null.
        let record1: [UInt8] =
            [0x1E]  // length: 15, zigzag varint 30
            + [0x00]  // attributes
            + [0x0A]  // timestampDelta 5
            + [0x02]  // offsetDelta 1
            + [0x04] + utf8("k2")  // key length 2, "k2"
            + [0x01]  // value length -1: null
            + [0x04]  // header count 2
            + [0x02] + utf8("a") + [0x02] + utf8("b")  // a = "b"
            + [0x02] + utf8("c") + [0x01]  // c = null
        let records = record0 + record1
        let afterCRC: [UInt8] =
            be(Int16(0))  // attributes: no compression, CreateTime, not transactional, not control
            + be(Int32(1))  // lastOffsetDelta
            + be(baseTimestamp)  // baseTimestamp
            + be(baseTimestamp + 5)  // maxTimestamp
            + be(Int64(-1))  // producerId: none
            + be(Int16(-1))  // producerEpoch: none
            + be(Int32(-1))  // baseSequence: none
            + be(Int32(2))  // recordCount
            + records
        return be(Int64(0))  // baseOffset: 0 from a producer
            + be(Int32(4 + 1 + 4 + afterCRC.count))  // batchLength: the bytes after this field (78)
            + be(Int32(-1))  // partitionLeaderEpoch: -1 from a producer
            + [0x02]  // magic 2
            + be(UInt32(0x6686_0652))  // CRC-32C of attributes..end
            + afterCRC
    }()
}
