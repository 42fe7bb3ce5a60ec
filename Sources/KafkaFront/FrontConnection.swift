import KafkaBroker
import KafkaProtocol
import Logging
import NIOCore
import NIOSSL

/// A reason the front closes a client's connection: logged once, never sent.
struct ConnectionRefusal: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One client connection: requests are read and served in order, one at a time as Kafka
/// serves a connection, and the answers written back in that order by a child task.
struct FrontConnection {
    let front: KafkaFront
    let listener: KafkaFront.Listener

    func serve(_ accepted: AcceptedConnection) async {
        let connection = accepted.channel
        let remote = accepted.remote?.description ?? "unknown"
        let channel = connection.channel
        let clientHost = accepted.remote?.ipAddress ?? "unknown"
        var session = FrontSession(front: front, listener: listener, clientHost: clientHost)
        front.opened(channel, node: listener.nodeID)
        defer { front.closed(channel, node: listener.nodeID) }
        do {
            try await connection.executeThenClose { inbound, outbound in
                // A node taken down refuses connections, as a stopped broker would.
                if front.broker.isDown(listener.nodeID) { return }
                let (answers, queue) = AsyncStream.makeStream(of: ByteBuffer.self)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        do {
                            for await answer in answers { try await outbound.write(answer) }
                        } catch {
                            channel.close(promise: nil)
                            throw error
                        }
                    }
                    do {
                        // The writer ends with the queue on every path, cancelled or not.
                        defer { queue.finish() }
                        for try await frame in inbound {
                            let more = try await session.handle(frame) { queue.yield($0) }
                            if !more { break }
                        }
                    }
                    try await group.waitForAll()
                }
            }
        } catch let refusal as ConnectionRefusal {
            logClosed(remote: remote, reason: refusal.description)
        } catch let refusal as KafkaFrameDecoder.Refusal {
            logClosed(remote: remote, reason: refusal.description)
        } catch let error as KafkaWireError {
            logClosed(remote: remote, reason: "a request that does not parse: \(error)")
        } catch let error as NIOSSLError {
            // A client that does not trust the certificate says so in its alert (Go); an
            // OpenSSL 3 client's TLS 1.3 alert reaches BoringSSL as an undecryptable record,
            // and a retry as a hang-up mid-handshake.
            let text = "\(error)"
            let alerts = [
                "ALERT_UNKNOWN_CA": "unknown CA", "ALERT_BAD_CERTIFICATE": "bad certificate",
                "ALERT_CERTIFICATE_UNKNOWN": "certificate unknown",
                "DECRYPTION_FAILED_OR_BAD_RECORD_MAC": "handshake aborted after the certificate",
                "EOF during handshake": "hung up after the certificate",
            ]
            let hungUp = text.contains("EOF during handshake")
            if hungUp, front.handshakes.completed(from: clientHost) {
                // A host whose clients complete handshakes trusts the CA: a client closing a
                // connection mid-handshake (librdkafka's others, as kcat exits) is not a sign.
                front.handshakes.notReported()
                logClosed(remote: remote, reason: "the client hung up during the TLS handshake")
            } else if listener.kind == .saslSSL, let alert = alerts.first(where: { text.contains($0.key) })?.value {
                front.configuration.onUntrustedCertificate(alert)
                logClosed(
                    remote: remote,
                    reason: "the client ended the TLS handshake (\(alert)): most likely it does not trust the CA"
                )
            } else {
                logClosed(remote: remote, reason: "TLS failed: \(text)")
            }
        } catch {
            front.logger.debug(
                "Kafka connection ended",
                metadata: ["client": "\(remote)", "listener": "\(listener.kind.rawValue)", "error": "\(error)"]
            )
        }
        if let reason = session.closeReason { logClosed(remote: remote, reason: reason) }
    }

    /// One warning per closed connection, except that a client repeating the same mistake
    /// (librdkafka retries a failed login every 50 ms or so) is logged once per 10 s, with
    /// the count of the repeats folded in.
    private func logClosed(remote: String, reason: String) {
        guard let repeats = front.closeLog.admit(reason) else { return }
        var metadata: Logger.Metadata = [
            "client": "\(remote)", "listener": "\(listener.kind.rawValue)", "reason": "\(reason)",
        ]
        if repeats > 0 { metadata["repeats_not_logged"] = "\(repeats)" }
        front.logger.warning("Kafka connection closed", metadata: metadata)
    }
}
