import Emulator
import Logging
import PortContract
import PortKafka
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

extension Verifier {

    func runChaos(_ profile: ChaosProfile, client: EmulatorClient, consumer: ConsumerProcess?) async {
        // Event times count from the consumer's readiness: a kill before it has joined its
        // group would test nothing.
        while !isReady {
            do { try await Task.sleep(for: .milliseconds(50)) } catch { return }
        }
        note("chaos profile \(profile.name): \(profile.description)")
        await withTaskGroup(of: Void.self) { group in
            for event in profile.events {
                group.addTask {
                    do { try await Task.sleep(for: event.at) } catch { return }
                    while !Task.isCancelled {
                        switch event.action {
                        case .fault(let fault):
                            var tagged = fault.objectValue ?? [:]
                            tagged["tag"] = "chaos"
                            let answer = try? await client.send("POST", "/_emulator/faults", body: .object(tagged))
                            self.note("chaos: \(answer?["injected"]?.stringValue ?? "fault injection failed")")
                        case .killConsumer:
                            if let consumer, consumer.isRunning {
                                consumer.kill(SIGKILL)
                                _ = await consumer.waitForExit(timeout: .seconds(5))
                                self.note("chaos: consumer killed with SIGKILL; starting it again")
                                try? consumer.start()
                            }
                        }
                        guard let every = event.every else { return }
                        do { try await Task.sleep(for: every) } catch { return }
                    }
                }
            }
        }
    }
}
