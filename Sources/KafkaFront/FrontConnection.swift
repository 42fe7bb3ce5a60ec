import KafkaProtocol
import Logging
import NIOCore

/// A reason the front closes a client's connection: logged once, never sent.
struct ConnectionRefusal: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One client connection: requests are read in order, forwarded or answered, and the
/// answers written back in the order the requests came, while Fetch long-polls run as
/// child tasks.
struct FrontConnection {
    let front: KafkaFront
    let listener: KafkaFront.Listener

    func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        let remote = connection.channel.remoteAddress?.description ?? "unknown"
        var session = FrontSession(front: front, listener: listener, eventLoop: connection.channel.eventLoop)
        do {
            try await connection.executeThenClose { inbound, outbound in
                let (answers, queue) = AsyncStream.makeStream(of: EventLoopFuture<ByteBuffer?>.self)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    let channel = connection.channel
                    group.addTask {
                        do {
                            for await answer in answers {
                                if let frame = try await answer.get() { try await outbound.write(frame) }
                            }
                        } catch {
                            channel.close(promise: nil)
                            throw error
                        }
                    }
                    do {
                        // The writer ends with the queue on every path, cancelled or not.
                        defer { queue.finish() }
                        for try await frame in inbound {
                            let more = try await session.handle(frame, group: &group) { queue.yield($0) }
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
        } catch {
            front.logger.debug(
                "Kafka connection ended",
                metadata: ["client": "\(remote)", "listener": "\(listener.kind.rawValue)", "error": "\(error)"]
            )
        }
        if let reason = session.closeReason { logClosed(remote: remote, reason: reason) }
        front.staticMembers.closed(session.connectionID)
        session.upstream?.close()
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
