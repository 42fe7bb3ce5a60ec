import KafkaProtocol
import KafkaRecords
import NIOCore
import Testing

/// A bit-at-a-time reflected CRC-32, the textbook definition the tables must agree with.
private func referenceCRC(_ bytes: [UInt8], polynomial: UInt32) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ polynomial : crc >> 1 }
    }
    return ~crc
}

@Suite(.timeLimit(.minutes(10))) struct ChecksumTests {
    @Test func crc32cKnownVectors() {
        #expect(CRC32C.checksum(utf8("123456789")) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8]()) == 0)
        // RFC 3720 (iSCSI) B.4 vectors.
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(CRC32C.checksum((0..<32).map { UInt8(31 - $0) }) == 0x113F_DB5C)
    }

    @Test func crc32KnownVectors() {
        #expect(CRC32.checksum(utf8("123456789")) == 0xCBF4_3926)
        #expect(CRC32.checksum(utf8("The quick brown fox jumps over the lazy dog")) == 0x414F_A339)
        #expect(CRC32.checksum([UInt8]()) == 0)
    }

    @Test func tablesMatchTheBitwiseDefinitionAtEveryLengthAndAlignment() {
        var generator = SeededGenerator(state: 42)
        for length in 0..<80 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(CRC32C.checksum(bytes) == referenceCRC(bytes, polynomial: 0x82F6_3B78))
            #expect(CRC32.checksum(bytes) == referenceCRC(bytes, polynomial: 0xEDB8_8320))
            let split = length / 3
            let continued = CRC32C.checksum(Array(bytes[split...]), continuing: CRC32C.checksum(Array(bytes[..<split])))
            #expect(continued == CRC32C.checksum(bytes))
        }
    }

    @Test func byteBufferSlicesAreChecksummedFromTheirReaderIndex() {
        var bytes = buffer(utf8("xx123456789"))
        bytes.moveReaderIndex(forwardBy: 2)
        #expect(CRC32C.checksum(bytes) == 0xE306_9283)
        #expect(CRC32.checksum(bytes) == 0xCBF4_3926)
    }
}
