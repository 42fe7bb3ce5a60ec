import Foundation
import KafkaProtocol
import NIOCore
import Testing

/// One golden vector: a sample message of one schema and version, and its bytes as
/// `scripts/kafka-schemas.py` encodes them with an encoder of its own.
struct GoldenVector: CustomTestStringConvertible, Sendable {
    let schema: KafkaMessageSchema
    let version: Int16
    let index: Int
    let value: KafkaStruct
    let bytes: [UInt8]

    var testDescription: String { "\(schema.name) v\(version) #\(index)" }

    /// Every vector in `Golden/*.json`, for the schemas the registry (or the headers) name.
    static let all: [GoldenVector] = {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
        let schemas = Dictionary(
            uniqueKeysWithValues: (Array(KafkaSchemas.requests.values) + Array(KafkaSchemas.responses.values)
                + [KafkaSchemas.requestHeader, KafkaSchemas.responseHeader]).map { ($0.name, $0) }
        )
        var vectors: [GoldenVector] = []
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        for file in files.sorted() where file.hasSuffix(".json") {
            let data = try! Data(contentsOf: folder.appendingPathComponent(file))
            let document = try! JSONSerialization.jsonObject(with: data) as! [String: Any]
            for (name, cases) in document["messages"] as! [String: [[String: Any]]] {
                let schema = schemas[name]!
                for (index, entry) in cases.enumerated() {
                    let version = Int16((entry["version"] as! NSNumber).intValue)
                    let json = entry["value"] as! [String: Any]
                    vectors.append(
                        GoldenVector(
                            schema: schema,
                            version: version,
                            index: index,
                            value: structure(json, schema.root, version: version),
                            bytes: hexBytes(entry["bytes"] as! String)
                        )
                    )
                }
            }
        }
        return vectors.sorted { ($0.schema.name, $0.version, $0.index) < ($1.schema.name, $1.version, $1.index) }
    }()

    /// The vector's JSON value as the codec's value, every field the JSON lacks at its default.
    static func structure(_ json: [String: Any], _ schema: KafkaStructSchema, version: Int16) -> KafkaStruct {
        var result = schema.defaults
        for field in schema.fields {
            guard let item = json[field.name] else { continue }
            result[field.name] = value(item, field.type, version: version)
        }
        for (tag, hex) in json["_unknownTags"] as? [String: String] ?? [:] {
            result.unknownTags[UInt32(tag)!] = ByteBuffer(bytes: hexBytes(hex))
        }
        return result
    }

    static func value(_ json: Any, _ type: KafkaType, version: Int16) -> KafkaValue {
        if json is NSNull { return .null }
        switch type {
        case .bool: return .bool((json as! NSNumber).boolValue)
        case .int8, .int16, .int32, .int64, .uint16: return .int((json as! NSNumber).int64Value)
        case .float64: return .float((json as! NSNumber).doubleValue)
        case .string: return .string(json as! String)
        case .bytes, .records:
            return .bytes(ByteBuffer(bytes: hexBytes((json as! [String: String])["bytes"]!)))
        case .uuid:
            let bytes = hexBytes((json as! [String: String])["uuid"]!)
            let high = bytes[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let low = bytes[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            return .uuid(KafkaUUID(high: high, low: low))
        case .array(let element):
            return .array((json as! [Any]).map { value($0, element, version: version) })
        case .structure(let schema):
            return .structure(structure(json as! [String: Any], schema, version: version))
        }
    }
}

func hexBytes(_ hex: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2)
        bytes.append(UInt8(hex[index..<next], radix: 16)!)
        index = next
    }
    return bytes
}
