import PortContract
import Testing

@Suite("JSON values, parsing and compact text", .timeLimit(.minutes(10)))
struct JSONValueTests {
    @Test("compact text matches Python's json.dumps byte for byte", arguments: pythonCompactVectors)
    func compactTextMatchesPython(input: String, expected: String) throws {
        #expect(try JSONValue.parse(input).compactText == expected)
    }

    @Test("floating-point numbers are written as Python's repr writes them", arguments: pythonFloatVectors)
    func doublesMatchPythonRepr(value: Double, expected: String) {
        #expect(JSONValue.double(value).compactText == expected)
    }

    @Test("integers and floating-point numbers stay apart, and key order is kept")
    func numbersAndOrder() throws {
        let value = try JSONValue.parse(#"{"z":1,"a":1.0,"m":-0,"big":12345678901234567890}"#)
        #expect(value.objectValue?.keys == ["z", "a", "m", "big"])
        #expect(value["z"] == .int(1))
        #expect(value["a"] == .double(1))
        #expect(value["m"] == .int(0))
        #expect(value["big"] == .double(12_345_678_901_234_567_168))
        #expect(value.compactText == #"{"z":1,"a":1.0,"m":0,"big":1.2345678901234567e+19}"#)
    }

    @Test("objects compare equal whatever their key order")
    func objectEqualityIgnoresOrder() throws {
        #expect(try JSONValue.parse(#"{"a":1,"b":[true]}"#) == JSONValue.parse(#"{"b":[true],"a":1}"#))
        #expect(try JSONValue.parse(#"{"a":1}"#) != JSONValue.parse(#"{"a":1.5}"#))
        var object: JSONObject = ["first": 1, "second": 2]
        object["first"] = nil
        object["third"] = "x"
        #expect(object.keys == ["second", "third"])
    }

    @Test(
        "malformed JSON is refused with the line, column and reason",
        arguments: [
            ("", 1, 1, "empty"),
            ("{", 1, 2, "member name"),
            (#"{"a" 1}"#, 1, 6, "expected ':'"),
            ("{\n  \"a\": tru\n}", 2, 8, "expected a value"),
            ("[1,]", 1, 4, "expected a value"),
            ("[01]", 1, 3, "leading zeros"),
            ("\"tab\tinside\"", 1, 5, "control character"),
            (#""\x""#, 1, 4, "invalid escape"),
            (#""\ud800""#, 1, 8, "unpaired surrogate"),
            ("{} x", 1, 4, "after the JSON value"),
            ("1e999", 1, 6, "out of range"),
            (#"{"a":1,}"#, 1, 8, "member name"),
        ]
    )
    func malformed(input: String, line: Int, column: Int, reason: String) {
        let error = #expect(throws: JSONParseError.self) { try JSONValue.parse(input) }
        #expect(error?.line == line)
        #expect(error?.column == column)
        #expect(error?.reason.contains(reason) == true, "\(error?.reason ?? "no error")")
        #expect(error?.description.hasPrefix("Malformed JSON at line \(line), column \(column): ") == true)
    }

    @Test("hostile nesting and invalid UTF-8 are refused, not crashed on")
    func hostileInput() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let depthError = #expect(throws: JSONParseError.self) { try JSONValue.parse(deep) }
        #expect(depthError?.reason.contains("nesting deeper than 512") == true)
        let nested513 = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        #expect(throws: Never.self) { try JSONValue.parse(nested513) }
        let invalidUTF8: [UInt8] = [0x22, 0xC3, 0x28, 0x22]
        let utf8Error = #expect(throws: JSONParseError.self) { try JSONValue.parse(invalidUTF8) }
        #expect(utf8Error?.reason.contains("UTF-8") == true)
    }

    @Test("type names and accessors describe what a value is")
    func accessors() throws {
        let value = try JSONValue.parse(#"{"s":"x","i":3,"d":2.5,"w":4.0,"b":false,"n":null,"a":[1],"o":{}}"#)
        #expect(value["s"]?.stringValue == "x")
        #expect(value["i"]?.intValue == 3)
        #expect(value["d"]?.intValue == nil)
        #expect(value["w"]?.intValue == 4)
        #expect(value["d"]?.doubleValue == 2.5)
        #expect(value["b"]?.boolValue == false)
        #expect(value["n"]?.isNull == true)
        #expect(value["missing"] == nil)
        #expect(
            ["s", "i", "d", "b", "n", "a", "o"].map { value[$0]!.typeName }
                == ["string", "integer", "number", "boolean", "null", "array", "object"]
        )
    }
}
