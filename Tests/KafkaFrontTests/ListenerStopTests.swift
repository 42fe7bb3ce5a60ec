import KafkaBroker
import KafkaFront
import NIOCore
import NIOPosix
import Synchronization
import TestSupport
import Testing

/// Stopping a front while clients connect: the race that once trapped in NIO ("Deinited
/// NIOAsyncWriter without calling finish()") when a connection's set-up completed after its
/// listener had closed.
@Suite("Stopping the front while clients connect", .heavy, .timeLimit(.minutes(10)))
struct ListenerStopTests {
    /// Client connections opened so far, to be checked once the front has stopped.
    final class Clients: Sendable {
        private let channels = Mutex<[any Channel]>([])
        var all: [any Channel] { channels.withLock { $0 } }
        var count: Int { channels.withLock { $0.count } }
        func add(_ channel: any Channel) { channels.withLock { $0.append(channel) } }
    }

    @Test(
        "connections made as the listeners close are all closed by the front, and none crashes it",
        arguments: [FrontListenerKind.plaintext, .saslSSL]
    )
    func stopWhileConnecting(kind: FrontListenerKind) async throws {
        for round in 1...6 {
            let clients = Clients()
            let broker = KafkaBroker()
            var configuration = KafkaFrontConfiguration(
                broker: broker,
                plaintextPrincipal: "org_stop",
                acl: KafkaACL(orgID: "org_stop", readableTopics: [])
            )
            configuration.tls = try FrontTLSIdentity.generate()
            // A connection that reached no one would otherwise wait for this to close.
            configuration.idleTimeout = .seconds(600)
            let (front, connecting) = try await KafkaFront.withRunning(
                configuration: configuration,
                logger: quietLogger
            ) { front in
                let port = try #require(front.listeners.first { $0.kind == kind }).port
                // Four connectors, each connecting again as soon as it is connected, until the
                // front has stopped and refuses them.
                let connecting = Task {
                    await withTaskGroup(of: Void.self) { group in
                        for _ in 0..<4 {
                            group.addTask {
                                while !Task.isCancelled {
                                    guard
                                        let channel = try? await ClientBootstrap(
                                            group: MultiThreadedEventLoopGroup.singleton
                                        ).connect(host: "127.0.0.1", port: port).get()
                                    else { return }
                                    clients.add(channel)
                                }
                            }
                        }
                    }
                }
                try await waitUntil("clients to open 40 connections (round \(round))") { clients.count >= 40 }
                return (front, connecting)  // left running: the front stops while it connects
            }
            try await withDeadline(.seconds(60), "the connectors to be refused (round \(round))") {
                await connecting.value  // ends once the closed listeners refuse it
            }
            let opened = clients.all
            // Every connection the front accepted is closed by it: served or not, none is left open.
            try await withDeadline(.seconds(120), "\(opened.count) connections to be closed (round \(round))") {
                for channel in opened { try await channel.closeFuture.get() }
            }
            try await waitUntil("the front to hold no connection (round \(round))") { front.acceptedCount == 0 }
        }
    }
}
