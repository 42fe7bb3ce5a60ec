extension GroupCoordinator {
    /// Handles an OffsetCommit; its answer is among the returned replies. A commit with generation
    /// -1 to a group that does not exist creates it, Empty; any other commit to an unknown group is
    /// ILLEGAL_GENERATION.
    package mutating func commitOffsets(
        _ request: OffsetCommitRequest,
        ticket: GroupTicket,
        now: Duration
    ) -> [GroupReply] {
        run(now: now) { coordinator, context in
            let response: OffsetCommitResponse
            if coordinator.groups[request.groupId] == nil && request.generationIdOrMemberEpoch >= 0 {
                response = ClassicGroup.commitResponse(request) { _, _ in .illegalGeneration }
            } else {
                if coordinator.groups[request.groupId] == nil {
                    coordinator.groups[request.groupId] = ClassicGroup(groupId: request.groupId, now: now)
                }
                response =
                    coordinator.groups[request.groupId]?.commitOffsets(request, context)
                    ?? OffsetCommitResponse(topics: [])
            }
            context.replies.append(GroupReply(ticket: ticket, body: .offsetCommit(response)))
        }
    }

    /// Handles an OffsetFetch, whatever the group's state: partitions without a committed offset
    /// (or of an unknown group) answer offset -1, leader epoch -1 and metadata "". There are never
    /// pending commits here, so `requireStable` changes nothing.
    package func fetchOffsets(_ request: OffsetFetchRequest) -> OffsetFetchResponse {
        let offsets = groups[request.groupId]?.offsets ?? [:]
        let topics: [OffsetFetchResponseTopic]
        if let requested = request.topics {
            topics = requested.map { topic in
                OffsetFetchResponseTopic(
                    name: topic.name,
                    partitions: topic.partitionIndexes.map {
                        Self.fetched($0, offsets[GroupTopicPartition(topic: topic.name, partition: $0)])
                    }
                )
            }
        } else {
            var byTopic: [(name: String, partitions: [OffsetFetchResponsePartition])] = []
            for (key, offset) in offsets.sorted(by: { $0.key < $1.key }) {
                if byTopic.last?.name != key.topic { byTopic.append((key.topic, [])) }
                byTopic[byTopic.count - 1].partitions.append(Self.fetched(key.partition, offset))
            }
            topics = byTopic.map { OffsetFetchResponseTopic(name: $0.name, partitions: $0.partitions) }
        }
        return OffsetFetchResponse(groupId: request.groupId, topics: topics)
    }

    /// A partition's committed offset, or the answer for none.
    private static func fetched(_ partition: Int32, _ offset: CommittedOffset?) -> OffsetFetchResponsePartition {
        guard let offset else { return OffsetFetchResponsePartition(partitionIndex: partition) }
        return OffsetFetchResponsePartition(
            partitionIndex: partition,
            committedOffset: offset.offset,
            committedLeaderEpoch: offset.leaderEpoch,
            metadata: offset.metadata
        )
    }

    /// Handles a DescribeGroups: an unknown group is "Dead" with error NONE, as Kafka answers.
    /// Member metadata and assignments are shown only while the group is Stable.
    package func describeGroups(_ groupIds: [String]) -> [DescribedGroup] {
        groupIds.map { groupId in
            guard let group = groups[groupId] else {
                return DescribedGroup(
                    errorCode: .none,
                    groupId: groupId,
                    groupState: GroupState.dead.rawValue,
                    protocolType: "",
                    protocolData: "",
                    members: []
                )
            }
            let stable = group.state == .stable
            let members = group.orderedMembers.map {
                DescribedGroupMember(
                    memberId: $0.memberId,
                    groupInstanceId: $0.groupInstanceId,
                    clientId: $0.clientId,
                    clientHost: $0.clientHost,
                    memberMetadata: stable ? $0.metadata(for: group.protocolName ?? "") : [],
                    memberAssignment: stable ? $0.assignment : []
                )
            }
            return DescribedGroup(
                errorCode: .none,
                groupId: groupId,
                groupState: group.state.rawValue,
                protocolType: group.protocolType ?? "",
                protocolData: stable ? group.protocolName ?? "" : "",
                members: members
            )
        }
    }

    /// Handles a ListGroups: the state filter and type filter compare case-insensitively, and every
    /// group is of type "classic".
    package func listGroups(_ request: ListGroupsRequest) -> ListGroupsResponse {
        let states = Set(request.statesFilter.map { $0.lowercased() })
        let types = Set(request.typesFilter.map { $0.lowercased() })
        let listed = groups.values
            .filter { states.isEmpty || states.contains($0.state.rawValue.lowercased()) }
            .filter { _ in types.isEmpty || types.contains("classic") }
            .sorted { $0.groupId < $1.groupId }
            .map {
                ListedGroup(groupId: $0.groupId, protocolType: $0.protocolType ?? "", groupState: $0.state.rawValue)
            }
        return ListGroupsResponse(groups: listed)
    }

    /// Handles a DeleteGroups; its answer is among the returned replies. Only Empty groups are
    /// deleted, with their offsets.
    package mutating func deleteGroups(_ groupIds: [String], ticket: GroupTicket, now: Duration) -> [GroupReply] {
        run(now: now) { coordinator, context in
            var seen: Set<String> = []
            let results = groupIds.filter { seen.insert($0).inserted }.map { groupId in
                switch coordinator.groups[groupId]?.state {
                case nil, .dead: return DeletedGroup(groupId: groupId, errorCode: .groupIdNotFound)
                case .empty:
                    coordinator.groups[groupId] = nil
                    return DeletedGroup(groupId: groupId, errorCode: .none)
                case .preparingRebalance, .completingRebalance, .stable:
                    return DeletedGroup(groupId: groupId, errorCode: .nonEmptyGroup)
                }
            }
            context.replies.append(GroupReply(ticket: ticket, body: .deleteGroups(results)))
        }
    }

    /// Kafka's periodic cleanup: offsets of an Empty group expire once it has been Empty for the
    /// retention; offsets of a group that never had members, once their commit is that old. Empty
    /// groups left without offsets are removed.
    package mutating func removeExpiredOffsets(now: Duration) {
        let retention = settings.offsetsRetention
        for groupId in groups.keys.sorted() {
            guard var group = groups[groupId] else { continue }
            if group.protocolType != nil && group.state == .empty {
                if now - group.stateSince >= retention { group.offsets.removeAll() }
            } else if group.protocolType == nil {
                group.offsets = group.offsets.filter { now - $0.value.commitTime < retention }
            }
            groups[groupId] = group.state == .empty && group.offsets.isEmpty ? nil : group
        }
    }
}

/// The randomness of member ids: the system's, or a reproducible SplitMix64 sequence.
package struct MemberIdRandom: RandomNumberGenerator, Sendable {
    /// The SplitMix64 state, nil for the system generator.
    private var state: UInt64?

    /// A generator, seeded for reproducible ids.
    package init(seed: UInt64?) { state = seed }

    /// The next 64 random bits.
    package mutating func next() -> UInt64 {
        guard var z = state else {
            var system = SystemRandomNumberGenerator()
            return system.next()
        }
        z &+= 0x9E37_79B9_7F4A_7C15
        state = z
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A random (version 4) UUID in Java's `UUID.toString` form, as Kafka puts in member ids.
    package mutating func uuidString() -> String {
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &self) }
        bytes[6] = bytes[6] & 0x0F | 0x40
        bytes[8] = bytes[8] & 0x3F | 0x80
        let hex = bytes.map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
        }
        return [0..<4, 4..<6, 6..<8, 8..<10, 10..<16].map { hex[$0].joined() }.joined(separator: "-")
    }
}
