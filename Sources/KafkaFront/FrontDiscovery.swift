import KafkaProtocol
import NIOCore

/// What the front learns from the mock cluster before it opens its listeners.
enum FrontDiscovery {
    struct Result {
        var brokers: [Int32: (host: String, port: Int)]
        var apiVersions: [KafkaAPIVersionRange]
    }

    /// The versions the front parses, per API; APIs it forwards without reading keep the
    /// mock's range, and the SASL APIs are the front's own. ListOffsets stops at v3: the
    /// mock's v4–v5 answers make kafka-python 3 read partition -1 and never fetch.
    static let parsedVersions: [Int16: ClosedRange<Int16>] = [
        KafkaAPI.produce: 0...7, KafkaAPI.fetch: 0...11, KafkaAPI.listOffsets: 0...3, KafkaAPI.metadata: 0...2,
        KafkaAPI.offsetCommit: 0...7, KafkaAPI.offsetFetch: 0...5, KafkaAPI.findCoordinator: 0...2,
        KafkaAPI.joinGroup: 0...5, KafkaAPI.heartbeat: 0...3, KafkaAPI.leaveGroup: 0...1, KafkaAPI.syncGroup: 0...3,
        KafkaAPI.apiVersions: 0...3, KafkaAPI.initProducerID: 0...4,
    ]

    static func discover(configuration: KafkaFrontConfiguration, group: any EventLoopGroup) async throws -> Result {
        guard let first = configuration.upstreamBootstrap.first, let (host, port) = splitHostPort(first) else {
            throw KafkaWireError("no embedded broker address to front")
        }
        let connection = try await UpstreamConnection.connect(
            host: host,
            port: port,
            group: group,
            maximumFrameSize: configuration.maximumFrameSize
        )
        defer { connection.close() }
        guard
            let versionsFrame = try await connection.send(HandshakeMessages.apiVersionsRequest(correlationID: 1)).get()
        else { throw KafkaWireError("no ApiVersions answer from the embedded broker") }
        let mock = try HandshakeMessages.parseAPIVersions(
            KafkaResponse(frame: versionsFrame, flexibleHeader: false).body
        )

        let metadata = KafkaRequest.frame(apiKey: KafkaAPI.metadata, version: 1, correlationID: 2) { body in
            var noTopics = MetadataMessages.requestBody(topics: [])
            body.writeBuffer(&noTopics)
        }
        guard let metadataFrame = try await connection.send(metadata).get() else {
            throw KafkaWireError("no Metadata answer from the embedded broker")
        }
        var reader = try KafkaResponse(frame: metadataFrame, flexibleHeader: false).body
        var brokers: [Int32: (host: String, port: Int)] = [:]
        for _ in 0..<(try reader.kafkaArrayCount(minimumElementSize: 10) ?? 0) {
            let nodeID = try reader.kafkaInt32()
            let host = try reader.kafkaString()
            let port = try reader.kafkaInt32()
            _ = try reader.kafkaNullableString()
            brokers[nodeID] = (host, Int(port))
        }
        guard !brokers.isEmpty else { throw KafkaWireError("the embedded cluster listed no brokers") }
        return Result(brokers: brokers, apiVersions: advertised(mock: mock))
    }

    /// The ApiVersions table clients see: the mock's APIs capped at what the front parses,
    /// and SaslHandshake v0–v1 and SaslAuthenticate v0–v2.
    static func advertised(mock: [KafkaAPIVersionRange]) -> [KafkaAPIVersionRange] {
        var table: [KafkaAPIVersionRange] = []
        for var range in mock where range.apiKey != KafkaAPI.saslHandshake && range.apiKey != KafkaAPI.saslAuthenticate
        {
            if let parsed = parsedVersions[range.apiKey] {
                range.minVersion = max(range.minVersion, parsed.lowerBound)
                range.maxVersion = min(range.maxVersion, parsed.upperBound)
                if range.apiKey == KafkaAPI.apiVersions { range.maxVersion = parsed.upperBound }
                guard range.minVersion <= range.maxVersion else { continue }
            }
            table.append(range)
        }
        table.append(KafkaAPIVersionRange(apiKey: KafkaAPI.saslHandshake, minVersion: 0, maxVersion: 1))
        table.append(KafkaAPIVersionRange(apiKey: KafkaAPI.saslAuthenticate, minVersion: 0, maxVersion: 2))
        return table.sorted { $0.apiKey < $1.apiKey }
    }

    static func splitHostPort(_ text: String) -> (String, Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else { return nil }
        return (String(text[..<colon]), port)
    }
}
