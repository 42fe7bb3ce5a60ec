import JQ
import Testing

@Suite("JQSyntax: which sources compile, checked in one compile", .timeLimit(.minutes(10)))
struct JQSyntaxTests {
    @Test("a batch that compiles has no errors, comments, defs and reduce included")
    func validBatch() {
        let sources = [
            ".diff.after.status == \"FAILURE\"",
            ".a # a comment to the end of the line",
            "def twice: . * 2; .n | twice",
            "reduce .[] as $x (0; . + $x)",
            "",
        ]
        #expect(JQSyntax.errors(in: sources).isEmpty)
    }

    @Test("each source that does not compile is named by its index, with jq's message; the others pass")
    func invalidOnesNamed() throws {
        let sources = [".a == 1", ".b | nope_not_a_builtin", ".c ==", ".d"]
        let errors = JQSyntax.errors(in: sources)
        #expect(errors.keys.sorted() == [1, 2])
        #expect(errors[1]?.stage == .compile)
        #expect(errors[1]?.message.contains("nope_not_a_builtin") == true, "\(errors[1]?.message ?? "")")
        // The same verdicts as compiling each alone.
        for (index, source) in sources.enumerated() {
            #expect((try? JQProgram(source)) == nil ? errors[index] != nil : errors[index] == nil, "\(source)")
        }
        #expect(throws: JQError.self) { try JQSyntax.check(".c ==") }
        #expect(throws: Never.self) { try JQSyntax.check(".a == 1") }
    }

    @Test("an undefined function fails the batch too, with no syntax error beside it to make it fail")
    func undefinedFunctionAlone() {
        // libjq drops definitions nothing calls before it resolves names: the batch must call each.
        let errors = JQSyntax.errors(in: [".a == 2", ".b | not_a_builtin_either", ".c"])
        #expect(errors.keys.sorted() == [1])
        #expect(errors[1]?.message.contains("not_a_builtin_either") == true, "\(errors)")
    }

    @Test("a source valid alone but not as a definition body (an import) is still accepted")
    func fallbackKeepsVerdicts() {
        // `include`/`import` directives are not allowed inside a def: the batch fails and
        // each source is compiled alone, which gives jq's own verdict for each.
        let sources = [".x", "import \"nonexistent\" as n; .y"]
        let errors = JQSyntax.errors(in: sources)
        #expect(errors[0] == nil)
        #expect(((try? JQProgram(sources[1])) == nil) == (errors[1] != nil))
    }

    @Test("an import or include is a compile error naming the module, not an abort inside libjq")
    func importsAreCompileErrors() {
        for source in ["import \"nonexistent\" as n; .y", "include \"nowhere\"; .z"] {
            let error = #expect(throws: JQError.self) { try JQProgram(source) }
            #expect(error?.stage == .compile)
            #expect(JQSyntax.errors(in: [".a", source])[1] != nil)
        }
    }
}
