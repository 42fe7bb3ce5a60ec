import CMicroHTTPD
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// What libmicrohttpd keeps for one request between calls of the access handler.
///
/// libmicrohttpd calls the access handler for a connection from one thread at a time, so the
/// mutable fields need no lock; only the response crosses from the handler task, under a mutex.
final class MHDRequestState: @unchecked Sendable {
    enum Phase {
        case receiving
        case handling
        case responded
    }

    let method: String
    let path: String
    var headers: [(name: String, value: String)] = []
    var queryItems: [(name: String, value: String)] = []
    var body: [UInt8] = []
    var bodyTooLarge = false
    var phase = Phase.receiving
    private let response = Mutex<HTTPResponse?>(nil)

    init(method: String, path: String) {
        self.method = method
        self.path = path
    }

    var request: HTTPRequest {
        HTTPRequest(method: method, path: path, queryItems: queryItems, headers: headers, body: body)
    }

    func deliver(_ response: HTTPResponse) { self.response.withLock { $0 = response } }

    func takeResponse() -> HTTPResponse? { response.withLock { $0.take() } }
}

/// libmicrohttpd's callbacks; the only code that touches connection pointers.
enum MHDBridge {
    /// A body announced larger than this is refused before it is read; smaller oversized
    /// bodies are read and discarded so that the client reliably sees the 413.
    static let earlyRejectThreshold = 16 << 20

    static func access(
        cls: UnsafeMutableRawPointer?,
        connection: OpaquePointer?,
        url: UnsafePointer<CChar>?,
        method: UnsafePointer<CChar>?,
        uploadData: UnsafePointer<CChar>?,
        uploadDataSize: UnsafeMutablePointer<Int>?,
        requestContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
    ) -> MHD_Result {
        guard let cls, let connection, let requestContext, let uploadDataSize else { return .NO }
        let core = Unmanaged<HTTPServerCore>.fromOpaque(cls).takeUnretainedValue()

        guard let stored = requestContext.pointee else {
            let state = MHDRequestState(
                method: method.map { String(cString: $0) } ?? "GET",
                path: url.map { String(cString: $0) } ?? "/"
            )
            state.headers = values(of: connection, kind: .HEADER_KIND)
            state.queryItems = values(of: connection, kind: .GET_ARGUMENT_KIND).map {
                (decodingKeptEscapes($0.name), decodingKeptEscapes($0.value))
            }
            requestContext.pointee = Unmanaged.passRetained(state).toOpaque()
            core.requestStarted()
            let limit = core.configuration.maxBodySize
            if let length = state.request.header("Content-Length").flatMap(Int.init), length > limit {
                state.bodyTooLarge = true
                if length > earlyRejectThreshold {
                    state.phase = .responded
                    return queue(
                        core.pipeline.refuse(state.request, with: core.configuration.bodyTooLargeResponse),
                        on: connection
                    )
                }
            }
            return .YES
        }

        let state = Unmanaged<MHDRequestState>.fromOpaque(stored).takeUnretainedValue()
        switch state.phase {
        case .receiving:
            let count = uploadDataSize.pointee
            if count > 0 {
                if !state.bodyTooLarge, let uploadData {
                    if state.body.count + count > core.configuration.maxBodySize {
                        state.bodyTooLarge = true
                        state.body = []
                    } else {
                        uploadData.withMemoryRebound(to: UInt8.self, capacity: count) {
                            state.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: count))
                        }
                    }
                }
                uploadDataSize.pointee = 0
                return .YES
            }
            if state.bodyTooLarge {
                state.phase = .responded
                state.body = []
                return queue(
                    core.pipeline.refuse(state.request, with: core.configuration.bodyTooLargeResponse),
                    on: connection
                )
            }
            let answer: @Sendable () async -> HTTPResponse
            switch core.pipeline.dispatch(state.request) {
            case .respond(let response) where response.delay == .zero:
                state.phase = .responded
                return queue(response, on: connection)
            case .respond(let response):
                answer = { response }  // held without blocking the I/O thread
            case .run(let run):
                answer = run
            }
            // Suspended, then resumed by a task with the answer.
            state.phase = .handling
            core.connectionSuspended()
            MHD_suspend_connection(connection)
            core.resume(MHDConnection(pointer: connection), of: state, with: answer)
            return .YES
        case .handling:
            guard let response = state.takeResponse() else { return .YES }
            core.connectionResumed()
            state.phase = .responded
            return queue(response, on: connection)
        case .responded:
            uploadDataSize.pointee = 0
            return .YES
        }
    }

    static func completed(
        cls: UnsafeMutableRawPointer?,
        requestContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
    ) {
        guard let cls, let requestContext, let stored = requestContext.pointee else { return }
        requestContext.pointee = nil
        let state = Unmanaged<MHDRequestState>.fromOpaque(stored).takeRetainedValue()
        // The core outlives every request: it is released only after MHD_stop_daemon returns.
        let core = Unmanaged<HTTPServerCore>.fromOpaque(cls).takeUnretainedValue()
        if state.phase == .handling {
            // Resumed but closed before its response was queued (the client went away).
            core.connectionResumed()
        }
        core.requestCompleted()
    }

    private static func queue(_ response: HTTPResponse, on connection: OpaquePointer) -> MHD_Result {
        // MHD closes the connection when the access handler answers NO.
        if response.dropsConnection { return .NO }
        let created = response.body.withUnsafeBytes { bytes in
            MHD_create_response_from_buffer(
                bytes.count,
                UnsafeMutableRawPointer(mutating: bytes.baseAddress),
                .RESPMEM_MUST_COPY
            )
        }
        guard let mhdResponse = created else { return .NO }
        defer { MHD_destroy_response(mhdResponse) }
        for header in response.headers {
            _ = MHD_add_response_header(mhdResponse, header.name, header.value)
        }
        return MHD_queue_response(connection, UInt32(response.status), mhdResponse)
    }

    /// Collects the values of one kind (headers or query arguments) in the order sent.
    private static func values(of connection: OpaquePointer, kind: MHD_ValueKind) -> [(name: String, value: String)] {
        final class Collector {
            var values: [(name: String, value: String)] = []
        }
        let collector = Collector()
        _ = withExtendedLifetime(collector) {
            MHD_get_connection_values(
                connection,
                kind,
                { cls, _, key, value in
                    guard let cls, let key else { return .YES }
                    let collector = Unmanaged<Collector>.fromOpaque(cls).takeUnretainedValue()
                    collector.values.append((String(cString: key), value.map { String(cString: $0) } ?? ""))
                    return .YES
                },
                Unmanaged.passUnretained(collector).toOpaque()
            )
        }
        return collector.values
    }
}
