import Foundation
import Testing

/// The golden vectors are this project's reading of Kafka's definitions; a codec written by
/// others from the same definitions must agree with them byte for byte.
@Suite("Golden vectors against an independent codec")
struct IndependentJudgeTests {
    @Test("kafka-python 3's codec reads every golden vector and writes the same bytes back")
    func kafkaPythonAgrees() throws {
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        let root = here.deletingLastPathComponent().deletingLastPathComponent()
        // Made by `make deps` (the client matrix uses it too).
        let python = root.appendingPathComponent(".build-venv/kafka-python3/bin/python").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [
            here.appendingPathComponent("Judge/kafka_python_judge.py").path,
            here.appendingPathComponent("Golden").path,
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.contains("disagreed 0"), "\(text)")
    }
}
