import CZlib
import KafkaProtocol
package import NIOCore

/// gzip (RFC 1952) through the system zlib: Kafka's codec 1.
package enum Gzip {
    /// The most bytes a decompression may produce before it is refused (a guard against
    /// decompression bombs): 64 MiB, far above Kafka's default `max.message.bytes` of 1 MiB.
    package static let defaultDecompressionLimit = 64 << 20

    /// Inflates one or more concatenated gzip members, as java.util.zip.GZIPInputStream does.
    package static func decompress(
        _ input: ByteBuffer,
        limit: Int = defaultDecompressionLimit
    ) throws(RecordsError) -> ByteBuffer {
        var stream = z_stream()
        guard czlib_inflate_init(&stream, 15 + 16) == Z_OK else {
            throw RecordsError(.unknownServerError, "zlib inflateInit2 failed")
        }
        defer { inflateEnd(&stream) }
        var output = ByteBufferAllocator().buffer(capacity: min(max(input.readableBytes * 4, 1024), limit + 1))
        let failure: String? = input.withUnsafeReadableBytes { bytes -> String? in
            guard let base = bytes.bindMemory(to: Bytef.self).baseAddress else { return "empty gzip stream" }
            stream.next_in = UnsafeMutablePointer(mutating: base)
            stream.avail_in = UInt32(bytes.count)
            while true {
                var status = Z_OK
                output.writeWithUnsafeMutableBytes(minimumWritableBytes: 16384) { out in
                    stream.next_out = out.bindMemory(to: Bytef.self).baseAddress
                    stream.avail_out = UInt32(out.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    return out.count - Int(stream.avail_out)
                }
                if output.readableBytes > limit { return "gzip data inflates past \(limit) bytes" }
                switch status {
                case Z_STREAM_END:
                    if stream.avail_in == 0 { return nil }
                    inflateReset(&stream)  // another member follows
                case Z_OK:
                    continue
                case Z_BUF_ERROR where stream.avail_in == 0:
                    return "truncated gzip stream"
                case Z_BUF_ERROR:
                    continue
                default:
                    let reason = stream.msg.map { String(cString: $0) } ?? "status \(status)"
                    return "invalid gzip stream: \(reason)"
                }
            }
        }
        if let failure { throw .invalid(failure) }
        return output
    }

    /// Deflates `input` into one gzip member at zlib's default level (Kafka's default gzip level),
    /// with the header java.util.zip.GZIPOutputStream writes on Java 16+ (no mtime, OS 255).
    package static func compress(_ input: ByteBuffer) -> ByteBuffer {
        var stream = z_stream()
        guard czlib_deflate_init(&stream, Z_DEFAULT_COMPRESSION, 15 + 16) == Z_OK else {
            preconditionFailure("zlib deflateInit2 failed")
        }
        defer { deflateEnd(&stream) }
        var header = gz_header()
        header.os = 255
        deflateSetHeader(&stream, &header)
        let bound = Int(deflateBound(&stream, uLong(input.readableBytes))) + 32
        var output = ByteBufferAllocator().buffer(capacity: bound)
        input.withUnsafeReadableBytes { bytes in
            stream.next_in = UnsafeMutablePointer(mutating: bytes.bindMemory(to: Bytef.self).baseAddress)
            stream.avail_in = UInt32(bytes.count)
            var status = Z_OK
            while status != Z_STREAM_END {
                output.writeWithUnsafeMutableBytes(minimumWritableBytes: 4096) { out in
                    stream.next_out = out.bindMemory(to: Bytef.self).baseAddress
                    stream.avail_out = UInt32(out.count)
                    status = deflate(&stream, Z_FINISH)
                    return out.count - Int(stream.avail_out)
                }
                precondition(status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR, "zlib deflate failed")
            }
        }
        return output
    }
}
