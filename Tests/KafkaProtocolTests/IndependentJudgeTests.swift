import ChildProcesses
import Foundation
import Testing

/// The golden vectors are this project's reading of Kafka's definitions; a codec written by
/// others from the same definitions must agree with them byte for byte.
@Suite("Golden vectors against an independent codec", .timeLimit(.minutes(10)))
struct IndependentJudgeTests {
    @Test("kafka-python 3's codec reads every golden vector and writes the same bytes back")
    func kafkaPythonAgrees() async throws {
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        let root = here.deletingLastPathComponent().deletingLastPathComponent()
        // Made by `make deps` (the client matrix uses it too).
        let python = root.appendingPathComponent(".build-venv/kafka-python3/bin/python").path
        let (termination, output, errors) = try await ChildProcess.run(
            [
                python, here.appendingPathComponent("Judge/kafka_python_judge.py").path,
                here.appendingPathComponent("Golden").path,
            ],
            environment: ProcessInfo.processInfo.environment
        )
        #expect(termination.status == 0, "\(output)\(errors)")
        #expect(output.contains("disagreed 0"), "\(output)\(errors)")
    }
}
