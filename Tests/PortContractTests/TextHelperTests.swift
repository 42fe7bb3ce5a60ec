import PortContract
import Testing

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

@Suite("Helpers that stand in for full Foundation (FoundationEssentials has none of these)")
struct TextHelperTests {
    @Test("cFormat formats as String(format:) did: fixed decimals, zero-padded hex and integers")
    func cFormatMatchesPrintf() {
        #expect(cFormat("%.2fs", 1.234_5) == "1.23s")
        #expect(cFormat("%.3f", 0.5) == "0.500")
        #expect(cFormat("%08x", UInt32(0xBEEF)) == "0000beef")
        #expect(cFormat("%016llx", UInt64(0x1234_5678_9ABC)) == "0000123456789abc")
        #expect(cFormat("audit_%012d", 42) == "audit_000000000042")
        let long = String(repeating: "x", count: 300)
        #expect(cFormat("%d " + long, 7) == "7 " + long)
    }

    @Test("trimming drops spaces and tabs; the newline variant drops line breaks too")
    func trimming() {
        #expect("  a b \t".trimmingWhitespace() == "a b")
        #expect("\n a \n".trimmingWhitespace() == "\n a \n")
        #expect("\n a \r\n".trimmingWhitespaceAndNewlines() == "a")
        #expect("   ".trimmingWhitespace() == "")
        #expect("".trimmingWhitespaceAndNewlines() == "")
        #expect("x"[...].trimmingWhitespace() == "x")
    }

    @Test("percent encoding keeps RFC 3986's unreserved characters and escapes every UTF-8 byte else")
    func percentEncoding() {
        #expect("AZaz09-._~".percentEncoded() == "AZaz09-._~")
        #expect("a/b?c&d=e+f g".percentEncoded() == "a%2Fb%3Fc%26d%3De%2Bf%20g")
        #expect("é!".percentEncoded() == "%C3%A9%21")
        #expect("".percentEncoded() == "")
    }

    @Test("pretty JSON is valid JSON of the same value, indented, keys sorted when asked")
    func prettyJSON() throws {
        let value: JSONValue = ["b": [1, 2.5, "x\"y"], "a": ["nested": nil, "empty": [], "none": [:]], "c": true]
        let pretty = String(decoding: value.prettyBytes(sortedKeys: true), as: UTF8.self)
        #expect(try JSONValue.parse(pretty) == value)
        #expect(
            pretty.hasPrefix("{\n  \"a\" : {\n    \"empty\" : [],\n    \"nested\" : null,\n    \"none\" : {}\n  },")
        )
        #expect(String(decoding: JSONValue.int(3).prettyBytes(), as: UTF8.self) == "3")
        let ordered = String(decoding: value.prettyBytes(), as: UTF8.self)
        #expect(ordered.hasPrefix("{\n  \"b\" : [\n    1,\n    2.5,\n    \"x\\\"y\"\n  ],"))
    }

    @Test("joinPath puts one slash between a directory and a name")
    func joiningPaths() {
        #expect(joinPath("/tmp", "a.json") == "/tmp/a.json")
        #expect(joinPath("/tmp/", "a.json") == "/tmp/a.json")
        #expect(joinPath("", "a.json") == "a.json")
    }

    @Test("a file error is described by the C library's words, not a CocoaError dump")
    func fileErrorDescription() throws {
        do {
            _ = try Data(contentsOf: URL(fileURLWithPath: "/nonexistent-\(UUID().uuidString)/file"))
            Issue.record("reading a missing file did not throw")
        } catch {
            #expect(describeError(error).contains("No such file or directory"))
        }
        struct Plain: Error, CustomStringConvertible { var description: String { "plain" } }
        #expect(describeError(Plain()) == "plain")
    }
}
