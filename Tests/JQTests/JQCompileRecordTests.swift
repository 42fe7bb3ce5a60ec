import Foundation
import JQ
import Testing

@Suite("JQCompileRecord: sources that compiled, kept on disk for the next process", .timeLimit(.minutes(10)))
struct JQCompileRecordTests {
    /// A fresh directory, two levels below one that exists (the record makes them).
    static func directory() -> String {
        NSTemporaryDirectory() + "jq-record-\(UUID().uuidString)/cache/jq-compiles"
    }

    /// Sources no other test (nor an earlier check in this process) has seen.
    static func unique(_ source: String) -> String { "\(source) # \(UUID().uuidString)" }

    @Test("what compiled is recorded and read back by a later record; what failed never is")
    func recordsSuccessesOnly() throws {
        let directory = Self.directory()
        let record = try #require(JQCompileRecord(directory: directory))
        let sources = [Self.unique(".a == 1"), Self.unique(".b | nope_not_a_builtin"), Self.unique(".c")]
        let errors = JQSyntax.errors(in: sources, record: record)
        #expect(errors.keys.sorted() == [1])
        #expect(errors[1]?.message.contains("nope_not_a_builtin") == true)
        // Another process's record on the same directory: the files are the record.
        let later = try #require(JQCompileRecord(directory: directory))
        #expect(later.contains(sources[0]) && later.contains(sources[2]))
        #expect(!later.contains(sources[1]))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).count == 2)
    }

    @Test("a recorded source is not compiled again; a record made for another libjq holds nothing of this one's")
    func trustedPerLibrary() throws {
        let directory = Self.directory()
        // Stands in for a libjq that accepted this source: the check trusts the record and
        // does not compile it (which is what saves the time).
        let broken = Self.unique(".x ==")
        let record = try #require(JQCompileRecord(directory: directory))
        record.insert(broken)
        #expect(JQSyntax.errors(in: [broken], record: record).isEmpty)
        // The same directory seen by another libjq: nothing is known, the error is jq's.
        let other = try #require(JQCompileRecord(directory: directory, library: "/elsewhere/libjq.so.1|1|2|3.4"))
        let another = Self.unique(".y ==")
        record.insert(another)
        #expect(!other.contains(another))
        #expect(JQSyntax.errors(in: [another], record: other)[0]?.stage == .compile)
    }

    @Test("a directory that cannot be made gives no record, and the check still compiles")
    func unusableDirectory() throws {
        let file = NSTemporaryDirectory() + "jq-record-file-\(UUID().uuidString)"
        try Data("not a directory".utf8).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect(JQCompileRecord(directory: file + "/jq-compiles") == nil)
        #expect(JQCompileRecord(directory: file) == nil)
        #expect(JQSyntax.errors(in: [Self.unique(".z ==")], record: nil)[0] != nil)
    }
}
