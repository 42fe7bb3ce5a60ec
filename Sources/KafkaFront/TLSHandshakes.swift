import NIOCore
import NIOTLS
import Synchronization

/// The client hosts that completed a TLS handshake with a SASL_SSL listener: they trust its CA.
///
/// A client that does not trust the CA says so in an alert, or (OpenSSL 3 retrying) hangs
/// up mid-handshake, and the front reports an untrusted CA. A client that trusts it can hang
/// up mid-handshake too: librdkafka closing its other connections as kcat exits. From a host
/// that has completed a handshake, such a hang-up is not reported as a trust problem.
final class TLSHandshakes: Sendable {
    private let hosts = Mutex<Set<String>>([])
    private let hangUps = Mutex(0)

    /// Whether a client on `host` has completed a handshake.
    func completed(from host: String) -> Bool { hosts.withLock { $0.contains(host) } }

    /// Counts a hang-up not reported, because its host has completed a handshake.
    func notReported() { hangUps.withLock { $0 += 1 } }

    /// How many hang-ups were not reported.
    var unreportedHangUps: Int { hangUps.withLock { $0 } }

    fileprivate func record(_ host: String) { _ = hosts.withLock { $0.insert(host) } }

    /// A handler, after the TLS handler, that records `host` (the client's, read when its
    /// connection was accepted) when the handshake completes.
    func watcher(host: String?) -> some ChannelInboundHandler { Watcher(handshakes: self, host: host) }

    private final class Watcher: ChannelInboundHandler, Sendable {
        typealias InboundIn = NIOAny
        let handshakes: TLSHandshakes
        let host: String?
        init(handshakes: TLSHandshakes, host: String?) {
            self.handshakes = handshakes
            self.host = host
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case TLSUserEvent.handshakeCompleted = event, let host {
                handshakes.record(host)
            }
            context.fireUserInboundEventTriggered(event)
        }
    }
}
