import Emulator
import Foundation
import PortCatalog
import PortContract
import Testing

/// `value` through its state JSON's bytes and back, as a state file holds it.
func throughBytes<Value: StateCodable>(_ value: Value) throws -> Value {
    try Value(state: try JSONValue.parse(value.stateJSON.compactBytes))
}

@Suite("State codecs: what --state-dir writes reads back equal, dates to the bit")
struct StateCodecTests {
    static let instants = [786_000_000.123456789, 1.5e-7, 0, -978_307_200.000001, 812_345_678.999999]

    @Test("an entity, every field set, with dates that need every digit")
    func entity() throws {
        for seconds in Self.instants {
            let entity = Entity(
                identifier: "billing",
                blueprint: "service",
                title: "Billing",
                icon: "Go",
                team: ["payments", "core"],
                properties: ["version": "2.4.1", "replicas": 3, "ratio": 0.1, "tags": ["a"], "nothing": .null],
                relations: ["env": "staging", "deps": ["a", "b"]],
                createdAt: Date(timeIntervalSinceReferenceDate: seconds),
                createdBy: "ci",
                updatedAt: Date(timeIntervalSinceReferenceDate: seconds + 0.001),
                updatedBy: "ocean",
                datasources: ["port-ocean/github/1.0", "curl/8"]
            )
            #expect(try throughBytes(entity) == entity, "\(seconds)")
        }
    }

    /// A run's state with every field given.
    static let run: JSONValue = [
        "id": "r_abcdefghijklmnop", "status": "SUCCESS", "statusLabel": "deployed", "links": ["https://x/1"],
        "summary": "done", "externalRunId": "ext-1", "message": ["text": "hi"], "endedAt": .double(786_000_001.25),
        "approval": ["decision": "APPROVE", "by": "lead"], "response": .null, "hasResponse": true,
        "delivery": ["topic": "org.runs", "partition": 2, "offset": 41], "version": 7,
        "request": [
            "action": ["identifier": "deploy", "title": "Deploy", "icon": .null], "blueprintIdentifier": "service",
            "blueprintTitle": "Service", "entityIdentifier": "billing", "entityTitle": .null,
            "properties": ["version": "2.4.1"], "requiredApproval": true, "synchronized": false, "source": "AUTOMATION",
            "createdBy": "user@example.com", "user": ["email": "user@example.com"], "automationEvent": .null,
            "hasAutomationEvent": true, "automationChain": ["notify", "deploy"],
        ],
        "createdAt": .double(786_000_000.123456789), "updatedAt": .double(786_000_001.25), "updatedBy": "agent",
    ]

    @Test("a run, every field set: a null response and a null automation event stay apart from none")
    func run() throws {
        let run = try ActionRun(state: Self.run)
        #expect(run.stateJSON == Self.run)
        #expect(run.response == .null && run.request.automationEvent == .null)
        #expect(run.delivery?.offset == 41 && run.delivery?.message == .null)
        #expect(try throughBytes(run) == run)
        #expect(run.createdAt.timeIntervalSinceReferenceDate == 786_000_000.123456789)

        // No response and no automation event: `nil`, never a null (JSONValue is nil-literal
        // convertible, so `cond ? value : nil` would make the nil a `.null`).
        guard case .object(var fields) = Self.run, case .object(var request)? = fields["request"] else {
            Issue.record("the run's state is not an object")
            return
        }
        fields["hasResponse"] = false
        request["hasAutomationEvent"] = false
        fields["request"] = .object(request)
        let none = try ActionRun(state: .object(fields))
        #expect(none.response == nil && none.request.automationEvent == nil)
        #expect(none.stateJSON == .object(fields))
        let back = try throughBytes(none)
        #expect(back.response == nil && back.request.automationEvent == nil)
    }

    @Test("a journal entry, a violation and a log line")
    func records() throws {
        let entry = JournalEntry(
            time: Date(timeIntervalSinceReferenceDate: 786_000_000.5),
            clientID: "client",
            method: "PATCH",
            path: "/v1/actions/runs/r_1",
            status: 422,
            runID: "r_1",
            injected: "http:500"
        )
        #expect(try throughBytes(entry) == entry)
        let violation: JSONValue = [
            "time": .double(786_000_000.25), "clientId": .null, "method": "POST", "path": "/v1/x", "runId": .null,
            "status": 404, "code": "not_found", "rule": "route-exists", "message": "no",
        ]
        #expect(try Violation(state: violation).stateJSON == violation)
        let log: JSONValue = [
            "id": "log_1", "runId": "r_1", "message": "step 1", "createdBy": "c", "createdAt": .double(786_000_000.75),
        ]
        #expect(try RunLog(state: log).stateJSON == log)
    }

    @Test("a record that is not what it says names the field at fault")
    func errors() throws {
        var broken = Self.run
        if case .object(var object) = broken, case .object(var request)? = object["request"] {
            request["action"] = ["title": "no identifier"]
            object["request"] = .object(request)
            broken = .object(object)
        }
        let error = #expect(throws: StateCodecError.self) { try ActionRun(state: broken) }
        #expect(error?.description == "run.request.action.identifier: not a string")
        let status = #expect(throws: StateCodecError.self) {
            try ActionRun(state: Self.run.merging(["status": "DONE"]))
        }
        #expect(status?.description == "run.status: not a known value")
    }
}

extension JSONValue {
    /// This object with `other`'s members over it.
    fileprivate func merging(_ other: JSONObject) -> JSONValue {
        guard case .object(var object) = self else { return self }
        for (key, value) in other { object[key] = value }
        return .object(object)
    }
}
