import PortContract
package import PortKafka

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The event Lambda's Kafka event source mapping sends a function: records grouped by
/// `topic-partition`, keys and values base64, header values as arrays of byte values.
///
/// The bytes are written here rather than by an encoder, so that the fields come in AWS's
/// documented order (`eventSource`, `eventSourceArn`, `bootstrapServers`, `records`; per
/// record `topic`, `partition`, `offset`, `timestamp`, `timestampType`, `key`, `value`,
/// `headers`): `Tests/EmulatorTests/LambdaEventTests` compares them with AWS's examples byte
/// for byte. A record without a key has no `key` field and a null value has `"value":null`
/// (AWS's documentation shows neither; our choice, in `fixtures/README.md`).
package enum KafkaLambdaEvent {
    /// The compact JSON of one event holding `records` (in the order given, grouped by
    /// partition in order of first appearance).
    package static func encode(
        _ records: [KafkaConsumerMessage],
        trigger: LambdaSettings.Trigger,
        bootstrapServers: String,
        clusterARN: String
    ) -> [UInt8] {
        var groups: [(key: String, records: [KafkaConsumerMessage])] = []
        var index: [String: Int] = [:]
        for record in records {
            let key = "\(record.topic)-\(record.partition)"
            if let position = index[key] {
                groups[position].records.append(record)
            } else {
                index[key] = groups.count
                groups.append((key, [record]))
            }
        }
        var out = "{"
        switch trigger {
        case .selfManaged: out += "\"eventSource\":\"SelfManagedKafka\","
        case .msk: out += "\"eventSource\":\"aws:kafka\",\"eventSourceArn\":\(string(clusterARN)),"
        }
        out += "\"bootstrapServers\":\(string(bootstrapServers)),\"records\":{"
        out += groups.map { group in
            string(group.key) + ":[" + group.records.map(record).joined(separator: ",") + "]"
        }.joined(separator: ",")
        out += "}}"
        return Array(out.utf8)
    }

    private static func record(_ record: KafkaConsumerMessage) -> String {
        var out = "{\"topic\":\(string(record.topic)),\"partition\":\(record.partition),\"offset\":\(record.offset),"
        out += "\"timestamp\":\(record.timestampMilliseconds ?? 0),"
        out += "\"timestampType\":\"\(record.timestampType == .logAppendTime ? "LOG_APPEND_TIME" : "CREATE_TIME")\","
        if let key = record.key { out += "\"key\":\"\(Data(key).base64EncodedString())\"," }
        out += "\"value\":" + (record.value.map { "\"\(Data($0).base64EncodedString())\"" } ?? "null") + ","
        out += "\"headers\":["
        out += record.headers.map { header in
            "{\(string(header.key)):[" + (header.value ?? []).map(String.init).joined(separator: ",") + "]}"
        }.joined(separator: ",")
        out += "]}"
        return out
    }

    /// A JSON string literal, as PortContract writes one.
    private static func string(_ text: String) -> String {
        String(decoding: JSONValue.string(text).compactBytes, as: UTF8.self)
    }
}
