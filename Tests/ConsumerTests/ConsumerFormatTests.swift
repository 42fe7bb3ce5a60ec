import Consumer
import Foundation
import PortContract
import Testing

@Suite("HTTP dates and YAML documents, read without full Foundation or Yams")
struct ConsumerFormatTests {
    @Test("an RFC 1123 date is read in GMT; anything else is nil")
    func rfc1123() {
        #expect(httpDate("Wed, 21 Oct 2015 07:28:00 GMT")?.timeIntervalSince1970 == 1_445_412_480)
        #expect(httpDate("Thu, 01 Jan 1970 00:00:00 GMT")?.timeIntervalSince1970 == 0)
        #expect(httpDate("Sun, 29 Feb 2032 23:59:59 UTC")?.timeIntervalSince1970 == 1_961_711_999)
        #expect(httpDate("Wed, 21 Oct 2015 07:28:00 PST") == nil)
        #expect(httpDate("Wed, 31 Feb 2015 07:28:00 GMT") == nil)
        #expect(httpDate("Wed, 21 Foo 2015 07:28:00 GMT") == nil)
        #expect(httpDate("21 Oct 2015 07:28:00 GMT") == nil)
        #expect(httpDate("120") == nil)
        #expect(httpDate("") == nil)
    }

    @Test("YAML: anchors and aliases, nesting, quoted numbers stay strings, YAML 1.1 booleans, null")
    func yamlFeatures() throws {
        let document = YAMLDocument.parse(
            """
            defaults: &defaults
              timeout: 90s
              retries: 3
            actions:
              create_vm:
                command: [./create.sh, "--size", '10']
                settings: *defaults
              notify: {webhook: "https://hooks.example.com/port", enabled: yes}
            numbers: [1, -7, +5, 1.5, 0x1F, "42", '42', 9223372036854775808]
            flags: [true, False, ON, off, No, y]
            nothing: [null, ~, Null, "null", ""]
            empty:
            block: |
              line one
              line two
            """
        )
        let expected: JSONValue = [
            "defaults": ["timeout": "90s", "retries": 3],
            "actions": [
                "create_vm": [
                    "command": ["./create.sh", "--size", "10"], "settings": ["timeout": "90s", "retries": 3],
                ],
                "notify": ["webhook": "https://hooks.example.com/port", "enabled": true],
            ],
            "numbers": [1, -7, 5, "1.5", "0x1F", "42", "42", "9223372036854775808"],
            "flags": [true, false, true, false, false, "y"],
            "nothing": [nil, nil, "Null", "null", ""],
            "empty": "",
            "block": "line one\nline two",
        ]
        #expect(document == expected)
        #expect(
            document?.objectValue?.keys == ["defaults", "actions", "numbers", "flags", "nothing", "empty", "block"]
        )
    }

    @Test("YAML that is broken, empty, several documents or an unknown alias is nil")
    func yamlRefusals() {
        #expect(YAMLDocument.parse("actions: [unclosed") == nil)
        #expect(YAMLDocument.parse("") == nil)
        #expect(YAMLDocument.parse("a: 1\n---\nb: 2\n") == nil)
        #expect(YAMLDocument.parse("a: *nowhere\n") == nil)
        #expect(YAMLDocument.parse("- 1\n- 2\n") == [1, 2])
        #expect(YAMLDocument.parse("--- plain\n") == "plain")
    }
}
