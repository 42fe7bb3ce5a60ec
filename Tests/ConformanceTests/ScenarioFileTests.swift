import Conformance
import Emulator
import Foundation
import PortContract
import Testing

@Suite("Scenario files", .timeLimit(.minutes(10)))
struct ScenarioFileTests {
    @Test("an automation's trigger reads its cause: an upsert, an action, the clock")
    func automationTrigger() throws {
        let read = try scenario(
            "ttl",
            #"""
            {"trigger":{"automation":"expire_environment","upsert":{"blueprint":"environment","identifier":"e",
              "properties":{"ttl":"2099-01-01T00:00:00Z"}},"clock":{"set":"2099-01-01T01:00:00Z"}},
             "expect":{"status":"SUCCESS"}}
            """#
        )
        guard case .automation(let automation, let cause) = read.trigger else {
            Issue.record("not an automation trigger: \(read.trigger)")
            return
        }
        #expect(automation == "expire_environment")
        #expect(cause.upsert?.identifier == "e")
        #expect(cause.upsert?.properties["ttl"] == "2099-01-01T00:00:00Z")
        #expect(cause.clock == ["set": "2099-01-01T01:00:00Z"])
        #expect(cause.action == nil)
    }

    @Test(
        "a scenario that cannot be run is refused with what is wrong",
        arguments: [
            (#"{"trigger":{"automation":"a"},"expect":{"status":"SUCCESS"}}"#, "needs a cause"),
            (
                #"{"trigger":{"action":"a","clock":{"advance":"1h"}},"expect":{"status":"SUCCESS"}}"#,
                "go with trigger.automation"
            ),
            (
                #"{"trigger":{"automation":"a","clock":{"advance":"1h","set":"x"}},"expect":{"status":"SUCCESS"}}"#,
                "trigger.clock"
            ),
            (
                #"{"trigger":{"automation":"a","upsert":{"identifier":"x"}},"expect":{"status":"SUCCESS"}}"#,
                "trigger.upsert needs"
            ),
            (
                #"{"count":2,"trigger":{"automation":"a","clock":{"advance":"1h"}},"expect":{"status":"SUCCESS"}}"#,
                "count must be 1"
            ),
        ]
    )
    func refused(json: String, reason: String) {
        #expect {
            _ = try scenario("bad", json)
        } throws: { error in
            "\(error)".contains(reason)
        }
    }
}
