import KafkaProtocol
package import NIOCore

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): the checksum of a v2 record batch,
/// over the bytes from its attributes to its end.
package enum CRC32C {
    private static let engine = ReflectedCRC32(polynomial: 0x82F6_3B78)

    /// The CRC of `bytes`, continuing from `crc` (the result of an earlier call, 0 to start).
    package static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        engine.update(crc, bytes)
    }

    /// The CRC of a byte array, continuing from `crc`.
    package static func checksum(_ bytes: [UInt8], continuing crc: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { engine.update(crc, $0) }
    }

    /// The CRC of `buffer`'s readable bytes, continuing from `crc`.
    package static func checksum(_ buffer: ByteBuffer, continuing crc: UInt32 = 0) -> UInt32 {
        buffer.withUnsafeReadableBytes { engine.update(crc, $0) }
    }
}

/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, as zlib and java.util.zip.CRC32): the
/// checksum of a legacy (magic 0 and 1) message, over the bytes from its magic to its end.
package enum CRC32 {
    private static let engine = ReflectedCRC32(polynomial: 0xEDB8_8320)

    /// The CRC of `bytes`, continuing from `crc` (the result of an earlier call, 0 to start).
    package static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        engine.update(crc, bytes)
    }

    /// The CRC of a byte array, continuing from `crc`.
    package static func checksum(_ bytes: [UInt8], continuing crc: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { engine.update(crc, $0) }
    }

    /// The CRC of `buffer`'s readable bytes, continuing from `crc`.
    package static func checksum(_ buffer: ByteBuffer, continuing crc: UInt32 = 0) -> UInt32 {
        buffer.withUnsafeReadableBytes { engine.update(crc, $0) }
    }
}

/// A table-driven reflected CRC-32 that consumes 8 bytes per step ("slicing-by-8"): eight
/// 256-entry tables, where table k maps a byte to its CRC after k further zero bytes.
private struct ReflectedCRC32: Sendable {
    private let table: [UInt32]

    /// The tables for a reflected polynomial.
    init(polynomial: UInt32) {
        var table = [UInt32](repeating: 0, count: 8 * 256)
        for byte in 0..<256 {
            var crc = UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ polynomial : crc >> 1 }
            table[byte] = crc
        }
        for byte in 0..<256 {
            var crc = table[byte]
            for slice in 1..<8 {
                crc = table[Int(crc & 0xff)] ^ (crc >> 8)
                table[slice * 256 + byte] = crc
            }
        }
        self.table = table
    }

    /// The CRC of `bytes` continuing from `initial`.
    func update(_ initial: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard var pointer = bytes.baseAddress else { return initial }
        var remaining = bytes.count
        var crc = ~initial
        table.withUnsafeBufferPointer { table in
            while remaining >= 8 {
                let low = UInt32(littleEndian: pointer.loadUnaligned(as: UInt32.self)) ^ crc
                let high = UInt32(littleEndian: pointer.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
                crc =
                    table[7 * 256 + Int(low & 0xff)] ^ table[6 * 256 + Int((low >> 8) & 0xff)]
                    ^ table[5 * 256 + Int((low >> 16) & 0xff)] ^ table[4 * 256 + Int(low >> 24)]
                    ^ table[3 * 256 + Int(high & 0xff)] ^ table[2 * 256 + Int((high >> 8) & 0xff)]
                    ^ table[256 + Int((high >> 16) & 0xff)] ^ table[Int(high >> 24)]
                pointer += 8
                remaining -= 8
            }
            while remaining > 0 {
                let byte = pointer.load(as: UInt8.self)
                crc = table[Int((crc ^ UInt32(byte)) & 0xff)] ^ (crc >> 8)
                pointer += 1
                remaining -= 1
            }
        }
        return ~crc
    }
}
