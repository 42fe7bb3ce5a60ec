import Emulator
import PortContract
import Testing

@Suite("Payload templates rendered by libjq", .timeLimit(.minutes(10)))
struct PayloadTemplateTests {
    let context: JSONValue = [
        "inputs": ["name": "api", "count": 3, "tags": ["a", "b"], "empty": .null],
        "run": ["id": "r_1"],
    ]

    @Test(
        "each template rule",
        arguments: [
            (#"{"x":"{{ .inputs.count }}"}"#, #"{"x":3}"#),
            (#"{"x":"  {{.inputs.tags}}  "}"#, #"{"x":["a","b"]}"#),
            (#"{"x":"{{ .inputs.name }}-{{ .inputs.count }} {{ .inputs.tags }}"}"#, #"{"x":"api-3 [\"a\",\"b\"]"}"#),
            (#"{"x":"{{ .inputs.empty }} and {{ .inputs.missing }}"}"#, #"{"x":"null and null"}"#),
            (#"{"{{ .inputs.name }}":1,"{{ .inputs.empty }}":2,"{{ .inputs.count }}":3}"#, #"{"api":1,"3":3}"#),
            (
                #"{"a":1,"{{ spreadValue() }}":"{{ .inputs | {name, count} }}","b":2}"#,
                #"{"a":1,"name":"api","count":3,"b":2}"#
            ),
            (#"{"x":"{{ .inputs.tags[] }}"}"#, #"{"x":"a"}"#),
            (
                #"[{"id":"{{ .run.id }}"},"plain {not a template}",7,true,null]"#,
                #"[{"id":"r_1"},"plain {not a template}",7,true,null]"#
            ),
        ]
    )
    func rule(template: String, expected: String) throws {
        let rendered = try PayloadTemplateRenderer().render(try JSONValue.parse(template), context: context)
        #expect(rendered.compactText == expected)
    }

    @Test(
        "a template that cannot render is an error naming the expression",
        arguments: [
            (#"{"x":"{{ .inputs | nope( }}"}"#, "{{ .inputs | nope( }}"),
            (#"{"x":"{{ .inputs.name | error }}"}"#, "{{ .inputs.name | error }}"),
            (#"{"x":"open {{ .inputs"}"#, "{{ .inputs"),
            (#"{"{{ spreadValue() }}":"{{ .inputs.tags }}"}"#, "spreadValue() needs an object"),
        ]
    )
    func failure(template: String, named: String) throws {
        let error = #expect(throws: PayloadTemplateError.self) {
            try PayloadTemplateRenderer().render(try JSONValue.parse(template), context: context)
        }
        #expect(error?.description.contains(named) == true, "\(error?.description ?? "")")
    }
}
