import NIOCore
import Synchronization

/// Every connection a listener accepted, from its pipeline's set-up until it closes.
///
/// NIO traps when an `NIOAsyncChannel` whose channel is still open is dropped ("Deinited
/// NIOAsyncWriter without calling finish()", swift-nio #2813). A listener that closes while
/// a client connects can drop one: the child's set-up completes after the listener's stream of
/// connections has ended, and the connection is handed to no one. Holding each connection here
/// until its channel closes makes that drop harmless, and lets `stop()` close the ones that
/// were never served.
final class AcceptedConnections: Sendable {
    typealias Connection = NIOAsyncChannel<ByteBuffer, ByteBuffer>
    private let open = Mutex<[ObjectIdentifier: Connection]>([:])

    /// Holds `connection` until its channel closes (once closed, NIO may drop it safely).
    func hold(_ connection: Connection) {
        let key = ObjectIdentifier(connection.channel)
        open.withLock { $0[key] = connection }
        connection.channel.closeFuture.whenComplete { _ in
            _ = self.open.withLock { $0.removeValue(forKey: key) }
        }
    }

    /// How many connections are open.
    var count: Int { open.withLock { $0.count } }

    /// Closes every connection still open: those being served end as their client's would,
    /// and those never handed out are closed rather than left to the idle timeout.
    func closeAll() {
        let channels = open.withLock { $0.values.map(\.channel) }
        for channel in channels { channel.close(promise: nil) }
    }
}

/// A connection as a listener hands it out, with its client's address read when it was
/// accepted: once the client has closed, the channel no longer knows it.
struct AcceptedConnection: Sendable {
    let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
    let remote: SocketAddress?
}
