import CJQ
import Synchronization

/// Why a jq program could not be compiled or run.
public struct JQError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Where the failure happened.
    public enum Stage: String, Sendable {
        /// The program did not compile.
        case compile
        /// The input was not valid JSON.
        case input
        /// The program raised an error while running.
        case runtime
    }

    /// Where the failure happened.
    public let stage: Stage
    /// jq's own message.
    public let message: String

    /// `jq <stage> error: <message>`.
    public var description: String { "jq \(stage.rawValue) error: \(message)" }
}

/// A compiled jq program, run by the real libjq.
///
/// A jq state is not thread-safe, so runs of one program are serialized; compile one
/// program per template and reuse it.
public final class JQProgram: Sendable {
    /// The program's source text.
    public let source: String
    private let state: Mutex<JQState>

    /// Compiles `source`, throwing a `.compile` error with jq's messages when it is invalid.
    public init(_ source: String) throws {
        guard let pointer = jq_init() else {
            throw JQError(stage: .compile, message: "jq_init failed (out of memory)")
        }
        // No module search path: libjq 1.6 asserts (aborting the process) when a program
        // imports a module and the path was never set; with an empty one, an `import` or
        // `include` is a compile error naming the module.
        jq_set_attr(pointer, jv_string("JQ_LIBRARY_PATH"), jv_array())
        let messages = JQMessages()
        jq_set_error_cb(
            pointer,
            { data, message in
                guard let data else { return }
                Unmanaged<JQMessages>.fromOpaque(data).takeUnretainedValue().append(message)
            },
            Unmanaged.passUnretained(messages).toOpaque()
        )
        let compiled = withExtendedLifetime(messages) { jq_compile(pointer, source) }
        jq_set_error_cb(pointer, nil, nil)
        guard compiled != 0 else {
            var owned: OpaquePointer? = pointer
            jq_teardown(&owned)
            let text = messages.all.joined(separator: "; ")
            throw JQError(stage: .compile, message: text.isEmpty ? "cannot compile '\(source)'" : text)
        }
        self.source = source
        state = Mutex(JQState(pointer: pointer))
    }

    /// Runs the program on a JSON text and returns each output as compact JSON text.
    public func run(jsonInput: String) throws -> [String] {
        try run(input: try JQInput(json: jsonInput))
    }

    /// Runs the program on an input parsed once (for several programs over one document).
    public func run(input: JQInput) throws -> [String] {
        try run(consuming: jv_copy(input.value))
    }

    private func run(consuming input: jv) throws -> [String] {
        try state.withLock { state in
            jq_start(state.pointer, input, 0)
            var outputs: [String] = []
            while true {
                let output = jq_next(state.pointer)
                guard jv_get_kind(output) != JV_KIND_INVALID else {
                    if let message = Self.takeMessage(output) {
                        throw JQError(stage: .runtime, message: message)
                    }
                    return outputs
                }
                outputs.append(Self.takeJSONText(output))
            }
        }
    }

    /// Runs the program and returns its only output; several outputs or none are an error.
    public func runSingle(jsonInput: String) throws -> String {
        let outputs = try run(jsonInput: jsonInput)
        guard outputs.count == 1 else {
            throw JQError(stage: .runtime, message: "expected one result from '\(source)', got \(outputs.count)")
        }
        return outputs[0]
    }

    deinit {
        state.withLock { state in
            var owned: OpaquePointer? = state.pointer
            jq_teardown(&owned)
        }
    }

    /// Consumes an invalid value and returns its message, if it carries one.
    fileprivate static func takeMessage(_ invalid: jv) -> String? {
        guard jv_invalid_has_msg(jv_copy(invalid)) != 0 else {
            jv_free(invalid)
            return nil
        }
        let message = jv_invalid_get_msg(invalid)
        if jv_get_kind(message) == JV_KIND_STRING {
            defer { jv_free(message) }
            return String(cString: jv_string_value(message))
        }
        return takeJSONText(message)
    }

    /// Consumes a value and returns it as compact JSON text.
    private static func takeJSONText(_ value: jv) -> String {
        let dumped = jv_dump_string(value, 0)
        defer { jv_free(dumped) }
        return String(cString: jv_string_value(dumped))
    }
}

/// A JSON document parsed by libjq once, to be the input of several programs.
///
/// Not `Sendable`: libjq's reference counts are not atomic, so use it on one thread.
public final class JQInput {
    fileprivate let value: jv

    /// Parses `json`, throwing an `.input` error with jq's message when it is not JSON.
    public init(json: String) throws {
        var text = json
        let parsed = text.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { jv_parse_sized($0.baseAddress, Int32(clamping: $0.count)) }
        }
        guard jv_get_kind(parsed) != JV_KIND_INVALID else {
            throw JQError(stage: .input, message: JQProgram.takeMessage(parsed) ?? "invalid JSON input")
        }
        value = parsed
    }

    deinit {
        jv_free(value)
    }
}

/// The jq state pointer, only touched under the program's mutex.
struct JQState: @unchecked Sendable {
    var pointer: OpaquePointer

    init(pointer: OpaquePointer) {
        self.pointer = pointer
    }
}

/// Collects jq's error messages during compilation.
private final class JQMessages {
    private(set) var all: [String] = []

    /// Takes ownership of a message value jq passed to the error callback.
    func append(_ message: jv) {
        var text = message
        if jv_get_kind(text) == JV_KIND_INVALID {
            text = jv_invalid_get_msg(text)
        }
        if jv_get_kind(text) == JV_KIND_STRING {
            all.append(String(cString: jv_string_value(text)))
            jv_free(text)
        } else {
            let dumped = jv_dump_string(text, 0)
            all.append(String(cString: jv_string_value(dumped)))
            jv_free(dumped)
        }
    }
}
