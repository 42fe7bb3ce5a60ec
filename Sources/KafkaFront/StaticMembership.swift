import KafkaProtocol
import NIOCore
import Synchronization

/// KIP-345 static membership, which librdkafka's mock cluster ignores (it makes a restarted
/// member wait out the dead one's session, then a rebalance, as for any member).
///
/// Kafka's coordinator hands a restarted static member (the same `group.instance.id`,
/// no member id) its old place without a rebalance: the same member id, generation and
/// assignment. The front does the same: it keeps each instance's last JoinGroup and
/// SyncGroup answers, and when the instance joins again with no member id it answers both
/// from them, once, and only when the connection that last joined for the instance has
/// closed (a crash, not a live member rejoining). The restarted process then heartbeats and
/// commits as the old member, which
/// the mock still counts as alive; if the group moved on meanwhile, the mock answers with a
/// generation error and the client rejoins the ordinary way.
///
/// Not emulated: fencing. Kafka answers a second live process using the same instance id
/// with FENCED_INSTANCE_ID; here both would act as one member. Give each process its own id.
final class StaticMembers: Sendable {
    private struct Instance: Hashable {
        let group: String
        let id: String
    }

    /// What the coordinator last told an instance.
    private struct Place {
        var member: String
        /// The connection that joined, while it is open.
        var owner: UInt64?
        var joinVersion: Int16
        var joinAnswer: ByteBuffer
        var syncVersion: Int16?
        var syncAnswer: ByteBuffer?
    }

    private struct State {
        var places: [Instance: Place] = [:]
        var nextConnection: UInt64 = 0
        /// Member ids whose JoinGroup the front answered, whose next SyncGroup it answers too.
        var replaying: Set<String> = []
    }

    private let state = Mutex(State())

    /// The answer to a restarted instance's JoinGroup (no member id), when the front has
    /// its last place; nil to forward the request.
    func rejoinAnswer(group: String, instance: String, version: Int16, connection: UInt64) -> ByteBuffer? {
        state.withLock { state in
            let key = Instance(group: group, id: instance)
            guard let place = state.places[key], place.owner == nil, place.joinVersion == version,
                place.syncAnswer != nil
            else { return nil }
            state.places[key]?.owner = connection
            state.replaying.insert(place.member)
            return place.joinAnswer
        }
    }

    /// A new connection's id, for `joined` and `closed`.
    func openConnection() -> UInt64 {
        state.withLock { state in
            state.nextConnection += 1
            return state.nextConnection
        }
    }

    /// The connection closed: the instances it joined for may be restarting.
    func closed(_ connection: UInt64) {
        state.withLock { state in
            for (key, place) in state.places where place.owner == connection { state.places[key]?.owner = nil }
        }
    }

    /// The answer to the SyncGroup that follows a replayed JoinGroup; nil to forward it.
    func syncAnswer(group: String, member: String, version: Int16) -> ByteBuffer? {
        state.withLock { state in
            guard state.replaying.remove(member) != nil else { return nil }
            return state.places.first {
                $0.key.group == group && $0.value.member == member && $0.value.syncVersion == version
            }?
            .value.syncAnswer
        }
    }

    /// Records a JoinGroup answer without error: the instance's member id and generation.
    func joined(group: String, instance: String, member: String, version: Int16, answer: ByteBuffer, connection: UInt64)
    {
        state.withLock {
            $0.places[Instance(group: group, id: instance)] = Place(
                member: member,
                owner: connection,
                joinVersion: version,
                joinAnswer: answer
            )
        }
    }

    /// Records a SyncGroup answer without error for `member`, if it is a static member.
    func synced(group: String, member: String, version: Int16, answer: ByteBuffer) {
        state.withLock { state in
            guard let key = state.places.first(where: { $0.key.group == group && $0.value.member == member })?.key
            else { return }
            state.places[key]?.syncVersion = version
            state.places[key]?.syncAnswer = answer
        }
    }
}

extension GroupMessages {
    /// A JoinGroup's member id and group instance id (nil before v5).
    struct StaticJoin {
        let member: String
        let instance: String?
    }

    /// A JoinGroup's member id and group instance id.
    static func join(_ request: KafkaRequest) throws(KafkaWireError) -> StaticJoin {
        var reader = request.body
        _ = try reader.kafkaString()  // group
        _ = try reader.kafkaInt32()  // session timeout
        if request.apiVersion >= 1 { _ = try reader.kafkaInt32() }  // rebalance timeout
        let member = try reader.kafkaString()
        let instance = request.apiVersion >= 5 ? try reader.kafkaNullableString() : nil
        return StaticJoin(member: member, instance: instance)
    }

    /// A JoinGroup answer's body and member id, when it has no error.
    static func joinAnswer(
        _ frame: ByteBuffer,
        version: Int16
    ) throws(KafkaWireError) -> (body: ByteBuffer, member: String)? {
        let body = try KafkaResponse(frame: frame, flexibleHeader: false).body
        var reader = body
        if version >= 2 { _ = try reader.kafkaInt32() }  // throttle
        guard try reader.kafkaInt16() == 0 else { return nil }
        _ = try reader.kafkaInt32()  // generation
        _ = try reader.kafkaString()  // protocol
        _ = try reader.kafkaString()  // leader
        return (body, try reader.kafkaString())
    }

    /// A SyncGroup answer's body, when it has no error.
    static func syncAnswer(_ frame: ByteBuffer, version: Int16) throws(KafkaWireError) -> ByteBuffer? {
        let body = try KafkaResponse(frame: frame, flexibleHeader: false).body
        var reader = body
        if version >= 1 { _ = try reader.kafkaInt32() }  // throttle
        return try reader.kafkaInt16() == 0 ? body : nil
    }

    /// The member id after the group and generation of a SyncGroup.
    static func syncMember(_ request: KafkaRequest) throws(KafkaWireError) -> String {
        var reader = request.body
        _ = try reader.kafkaString()  // group
        _ = try reader.kafkaInt32()  // generation
        return try reader.kafkaString()
    }
}
