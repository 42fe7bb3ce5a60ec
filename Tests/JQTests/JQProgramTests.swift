import JQ
import Testing

@Suite("jq through libjq", .timeLimit(.minutes(10)))
struct JQProgramTests {
    @Test(
        "filters produce the values jq produces",
        arguments: [
            (".inputs.name", #"{"inputs":{"name":"svc"}}"#, [#""svc""#]),
            (".run.id", #"{"run":{"id":"r_1"}}"#, [#""r_1""#]),
            (".inputs | keys", #"{"inputs":{"b":1,"a":2}}"#, [#"["a","b"]"#]),
            (".missing", "{}", ["null"]),
            (".[]", "[1,2,3]", ["1", "2", "3"]),
            ("\"deploy-\" + .inputs.env", #"{"inputs":{"env":"prod"}}"#, [#""deploy-prod""#]),
            ("empty", "{}", []),
            (".x", #"{"x":"ünïcode ✓"}"#, [#""ünïcode ✓""#]),
        ]
    )
    func outputs(program: String, input: String, expected: [String]) throws {
        #expect(try JQProgram(program).run(jsonInput: input) == expected)
    }

    @Test("a program that does not compile is a compile error with jq's message")
    func compileError() {
        let error = #expect(throws: JQError.self) { try JQProgram(".inputs | ") }
        #expect(error?.stage == .compile)
        #expect(error?.message.contains("syntax error") == true)
    }

    @Test("a cache compiles each source once, shares the program, and throws jq's compile error")
    func cache() throws {
        let cache = JQProgramCache()
        let first = try cache.program(".a")
        #expect(try cache.program(".a") === first)
        #expect(try cache.program(".b") !== first)
        #expect(try first.run(jsonInput: #"{"a":1}"#) == ["1"])
        let error = #expect(throws: JQError.self) { try cache.program(".a | ") }
        #expect(error?.stage == .compile)
    }

    @Test("a runtime failure is a runtime error with jq's message")
    func runtimeError() throws {
        let error = #expect(throws: JQError.self) { try JQProgram(".a + 1").run(jsonInput: #"{"a":"text"}"#) }
        #expect(error?.stage == .runtime)
        #expect(error?.message.contains("cannot be added") == true)
        let raised = #expect(throws: JQError.self) { try JQProgram(#"error("custom failure")"#).run(jsonInput: "{}") }
        #expect(raised?.message == "custom failure")
    }

    @Test("input that is not JSON is an input error")
    func invalidInput() {
        let error = #expect(throws: JQError.self) { try JQProgram(".").run(jsonInput: "{not json") }
        #expect(error?.stage == .input)
        let empty = #expect(throws: JQError.self) { try JQProgram(".").run(jsonInput: "") }
        #expect(empty?.stage == .input)
    }

    @Test("one compiled program serves many concurrent runs")
    func concurrentRuns() async throws {
        let program = try JQProgram(".n * 2")
        let results = try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for n in 0..<200 {
                group.addTask { (n, try program.runSingle(jsonInput: #"{"n":\#(n)}"#)) }
            }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        #expect(results.count == 200)
        #expect(results.allSatisfy { $0.value == String($0.key * 2) })
    }
}
