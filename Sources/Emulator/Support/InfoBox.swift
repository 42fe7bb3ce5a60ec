import Synchronization

/// Holds the emulator's info, known only after the server has bound its port.
final class InfoBox: Sendable {
    private let value = Mutex<EmulatorInfo?>(nil)

    func set(_ info: EmulatorInfo) { value.withLock { $0 = info } }

    var info: EmulatorInfo? { value.withLock { $0 } }
}
