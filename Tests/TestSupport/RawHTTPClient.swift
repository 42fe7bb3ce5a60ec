import Foundation

/// A response as read off the socket.
public struct RawResponse: Sendable {
    /// The status code.
    public var status: Int
    /// Headers, keyed by lower-cased name.
    public var headers: [String: String]
    /// The body bytes.
    public var body: [UInt8]
    /// The body as UTF-8 text.
    public var bodyString: String { String(decoding: body, as: UTF8.self) }
    /// The body parsed as a JSON object.
    public func json() throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] ?? [:]
    }
}

/// A request that could not be sent or a response that could not be read.
public struct RawHTTPError: Error, CustomStringConvertible {
    /// What went wrong.
    public let description: String
}

/// A minimal HTTP/1.1 client over a plain socket: one request per connection, with
/// `Connection: close`, run on its own thread so that many can block at once.
public enum RawHTTPClient {
    /// Sends one request and reads the whole response.
    public static func send(
        port: Int,
        method: String,
        path: String,
        headers: [(String, String)] = [],
        body: [UInt8] = [],
        chunked: Bool = false
    ) async throws -> RawResponse {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(
                    with: Result {
                        try sendBlocking(
                            port: port,
                            method: method,
                            path: path,
                            headers: headers,
                            body: body,
                            chunked: chunked
                        )
                    }
                )
            }
            thread.start()
        }
    }

    /// Whether a TCP connection to the port is accepted.
    public static func canConnect(port: Int) -> Bool {
        guard let socket = try? connect(port: port) else { return false }
        close(socket)
        return true
    }

    private static func connect(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawHTTPError(description: "socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Foundation.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            close(fd)
            throw RawHTTPError(description: "connect to port \(port) failed: \(String(cString: strerror(errno)))")
        }
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    private static func sendBlocking(
        port: Int,
        method: String,
        path: String,
        headers: [(String, String)],
        body: [UInt8],
        chunked: Bool
    ) throws -> RawResponse {
        let fd = try connect(port: port)
        defer { close(fd) }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        var payload = body
        if chunked {
            head += "Transfer-Encoding: chunked\r\n"
            payload = []
            var offset = 0
            while offset < body.count {
                let chunk = body[offset..<min(offset + 65536, body.count)]
                payload += Array(String(chunk.count, radix: 16).utf8) + [13, 10] + chunk + [13, 10]
                offset += chunk.count
            }
            payload += Array("0\r\n\r\n".utf8)
        } else if !body.isEmpty || ["POST", "PUT", "PATCH"].contains(method) {
            head += "Content-Length: \(body.count)\r\n"
        }
        head += "\r\n"
        let request = Array(head.utf8) + payload
        var written = 0
        while written < request.count {
            let count = request[written...].withUnsafeBytes {
                Foundation.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if count <= 0 { break }  // the server may answer and close early; read what it said
            written += count
        }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            response += buffer[0..<count]
        }
        return try parse(response)
    }

    private static func parse(_ bytes: [UInt8]) throws -> RawResponse {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = bytes.indices.first(where: { Array(bytes[$0..<min($0 + 4, bytes.count)]) == separator }) else {
            throw RawHTTPError(description: "no complete response head in \(bytes.count) bytes")
        }
        let lines = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
            throw RawHTTPError(description: "bad status line '\(lines[0])'")
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces
            )
        }
        return RawResponse(status: status, headers: headers, body: Array(bytes[(end + 4)...]))
    }
}
