import CYAML
package import PortContract

/// One YAML document read with libyaml's event parser into `JSONValue`, by the rules the
/// handler files followed when Yams read them (`Yams.compose`, then a walk of its nodes):
///
/// - a plain scalar is an `int` when it is a 64-bit integer, a `bool` for YAML 1.1's
///   `true`/`yes`/`on` and `false`/`no`/`off` in any case, `null` for `null` and `~`;
///   every other scalar, a quoted one or a float included, is a `string`;
/// - an alias is a copy of the node its anchor named last; `<<` merge keys are kept as keys;
/// - a mapping's key is the scalar's text (`""` for a sequence or mapping key); a repeated
///   key keeps its first position and its last value.
///
/// Nil when the text is not YAML, holds no document, or holds more than one.
package enum YAMLDocument {
    /// `text` as JSON, or nil.
    package static func parse(_ text: String) -> JSONValue? {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return nil }
        let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        defer { parser.deallocate() }
        guard yaml_parser_initialize(parser) == 1 else { return nil }
        defer { yaml_parser_delete(parser) }
        return bytes.withUnsafeBufferPointer { buffer -> JSONValue? in
            yaml_parser_set_input_string(parser, buffer.baseAddress, buffer.count)
            var reader = Reader(parser: parser)
            return try? reader.singleDocument().json
        }
    }

    /// A node as Yams composed it: scalars keep their text and whether they were plain.
    indirect enum Node {
        case scalar(String, plain: Bool)
        case sequence([Node])
        case mapping([(key: Node, value: Node)])

        /// The node as JSON, by the rules above.
        var json: JSONValue {
            switch self {
            case .scalar(let text, let plain):
                guard plain else { return .string(text) }
                if let integer = Int64(text) { return .int(integer) }
                switch text.lowercased() {
                case "true", "yes", "on": return .bool(true)
                case "false", "no", "off": return .bool(false)
                default: break
                }
                return text == "null" || text == "~" ? .null : .string(text)
            case .sequence(let elements): return .array(elements.map(\.json))
            case .mapping(let pairs):
                var object = JSONObject()
                for (key, value) in pairs {
                    if case .scalar(let text, _) = key { object[text] = value.json } else { object[""] = value.json }
                }
                return .object(object)
            }
        }
    }

    /// A YAML text that libyaml refused, or that is not exactly one document.
    struct Invalid: Error {}

    /// libyaml's events, each copied into Swift and freed at once.
    private enum Event {
        case streamStart, streamEnd, documentStart, documentEnd
        case alias(String)
        case scalar(String, plain: Bool, anchor: String?)
        case sequenceStart(anchor: String?)
        case sequenceEnd
        case mappingStart(anchor: String?)
        case mappingEnd
    }

    /// Composes nodes from events, as Yams's `Parser.singleRoot()` does.
    private struct Reader {
        let parser: UnsafeMutablePointer<yaml_parser_t>
        var anchors: [String: Node] = [:]

        init(parser: UnsafeMutablePointer<yaml_parser_t>) { self.parser = parser }

        /// The stream's one document; `Invalid` for none, two or more, or broken YAML.
        mutating func singleDocument() throws(Invalid) -> Node {
            guard case .streamStart = try next(), case .documentStart = try next() else { throw Invalid() }
            let root = try node(from: next())
            guard case .documentEnd = try next(), case .streamEnd = try next() else { throw Invalid() }
            return root
        }

        private mutating func node(from event: Event) throws(Invalid) -> Node {
            switch event {
            case .alias(let name):
                guard let node = anchors[name] else { throw Invalid() }
                return node
            case .scalar(let text, let plain, let anchor):
                let node = Node.scalar(text, plain: plain)
                if let anchor { anchors[anchor] = node }
                return node
            case .sequenceStart(let anchor):
                var elements: [Node] = []
                while true {
                    let event = try next()
                    if case .sequenceEnd = event { break }
                    elements.append(try node(from: event))
                }
                let node = Node.sequence(elements)
                if let anchor { anchors[anchor] = node }
                return node
            case .mappingStart(let anchor):
                var pairs: [(key: Node, value: Node)] = []
                while true {
                    let event = try next()
                    if case .mappingEnd = event { break }
                    let key = try node(from: event)
                    pairs.append((key, try node(from: next())))
                }
                let node = Node.mapping(pairs)
                if let anchor { anchors[anchor] = node }
                return node
            default: throw Invalid()
            }
        }

        private func next() throws(Invalid) -> Event {
            var event = yaml_event_t()
            guard yaml_parser_parse(parser, &event) == 1 else { throw Invalid() }
            defer { yaml_event_delete(&event) }
            func text(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
                pointer.map { String(cString: $0) }
            }
            switch event.type {
            case YAML_STREAM_START_EVENT: return .streamStart
            case YAML_STREAM_END_EVENT: return .streamEnd
            case YAML_DOCUMENT_START_EVENT: return .documentStart
            case YAML_DOCUMENT_END_EVENT: return .documentEnd
            case YAML_ALIAS_EVENT: return .alias(text(event.data.alias.anchor) ?? "")
            case YAML_SCALAR_EVENT:
                let scalar = event.data.scalar
                let value = String(
                    decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length),
                    as: UTF8.self
                )
                return .scalar(value, plain: scalar.style == YAML_PLAIN_SCALAR_STYLE, anchor: text(scalar.anchor))
            case YAML_SEQUENCE_START_EVENT: return .sequenceStart(anchor: text(event.data.sequence_start.anchor))
            case YAML_SEQUENCE_END_EVENT: return .sequenceEnd
            case YAML_MAPPING_START_EVENT: return .mappingStart(anchor: text(event.data.mapping_start.anchor))
            case YAML_MAPPING_END_EVENT: return .mappingEnd
            default: throw Invalid()
            }
        }
    }
}
