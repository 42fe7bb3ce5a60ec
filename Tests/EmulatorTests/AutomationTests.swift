import Emulator
import Foundation
import PortContract
import PortKafka
import TestSupport
import Testing

/// Automations (contract §7): definitions, events, jq conditions, the message's context,
/// loops, timers on the emulator's clock, and bad input.
@Suite("Automations", .heavy, .timeLimit(.minutes(10)))
struct AutomationTests {
    /// An automation on `event`, whose payload is its whole jq context (so the test sees
    /// exactly what §7 says templates see), with an optional condition.
    static func automation(
        _ identifier: String,
        event: String,
        condition: String? = nil,
        publish: Bool = true
    ) -> String {
        #"""
        {"identifier":"\#(identifier)","title":"\#(identifier)","publish":\#(publish),
         "trigger":{"type":"automation","event":\#(event)\#(condition.map { ",\"condition\":\($0)" } ?? "")},
         "invocationMethod":{"type":"KAFKA","payload":{"runId":"{{ .run.id }}","context":"{{ . }}"}}}
        """#
    }

    /// The automation's runs, oldest first.
    static func runs(of automation: String, in harness: EmulatorHarness, token: String) async throws -> [JSONValue] {
        let answer = try await harness.call("GET", "/v1/actions/runs?action=\(automation)&version=v2", token: token)
        return (answer.json["runs"]?.arrayValue ?? []).reversed()
    }

    /// Waits until `automation` has `count` runs, then checks it keeps that many through a
    /// later marker: a run of `marker` fired after everything the test did.
    static func waitForRuns(
        _ automation: String,
        count: Int,
        in harness: EmulatorHarness,
        token: String
    ) async throws -> [JSONValue] {
        try await waitUntil("\(count) run(s) of \(automation)", within: .seconds(30)) {
            (try? await runs(of: automation, in: harness, token: token).count) ?? 0 >= count
        }
        return try await runs(of: automation, in: harness, token: token)
    }

    @Test("entity events fire once per matching event, with and/or conditions, never for other blueprints or when off")
    func entityEvents() async throws {
        try await EmulatorHarness.run { harness in
            let reader = try harness.runsReader()
            let token = try await harness.token()
            let definitions = [
                Self.automation(
                    "on_prod_service",
                    event: #"{"type":"ENTITY_CREATED","blueprintIdentifier":"service"}"#,
                    condition:
                        #"{"type":"JQ","expressions":[".diff.after.properties.environment == \"production\"",".diff.after.properties.region != null"],"combinator":"and"}"#
                ),
                Self.automation(
                    "on_any_service",
                    event: #"{"type":"ANY_ENTITY_CHANGE","blueprintIdentifier":"service"}"#,
                    condition:
                        #"{"type":"JQ","expressions":[".action == \"DELETE\"",".diff.after.properties.replicas > 2"],"combinator":"or"}"#
                ),
                Self.automation(
                    "on_service_update",
                    event: #"{"type":"ENTITY_UPDATED","blueprintIdentifier":"service"}"#
                ),
                Self.automation("on_vm_created", event: #"{"type":"ENTITY_CREATED","blueprintIdentifier":"vm"}"#),
                Self.automation(
                    "off_service",
                    event: #"{"type":"ENTITY_CREATED","blueprintIdentifier":"service"}"#,
                    publish: false
                ),
            ]
            for definition in definitions {
                #expect(try await harness.call("POST", "/v1/actions", token: token, body: definition).status == 201)
            }
            let writes: [(String, String, String?)] = [
                (
                    "POST", "/v1/blueprints/service/entities",
                    #"{"identifier":"a","properties":{"environment":"production","region":"eu"}}"#
                ),
                (
                    "POST", "/v1/blueprints/service/entities",
                    #"{"identifier":"b","properties":{"environment":"production"}}"#
                ),
                (
                    "POST", "/v1/blueprints/service/entities",
                    #"{"identifier":"c","properties":{"environment":"staging","region":"eu"}}"#
                ),
                ("PATCH", "/v1/blueprints/service/entities/b", #"{"properties":{"replicas":3}}"#),
                ("PUT", "/v1/blueprints/service/entities/c", #"{"properties":{"replicas":1}}"#),
                ("DELETE", "/v1/blueprints/service/entities/a", nil),
            ]
            for (method, path, body) in writes {
                let answer = try await harness.call(method, path, token: token, body: body)
                #expect((200..<300).contains(answer.status), "\(method) \(path): \(answer.json)")
            }
            // The marker: once its run exists, every earlier event has been evaluated.
            let marker = try await harness.call(
                "POST",
                "/v1/blueprints/vm/entities",
                token: token,
                body: #"{"identifier":"m","properties":{"cpu":1,"region":"eu"}}"#
            )
            #expect(marker.status == 201)
            _ = try await Self.waitForRuns("on_vm_created", count: 1, in: harness, token: token)

            let prod = try await Self.runs(of: "on_prod_service", in: harness, token: token)
            #expect(prod.count == 1, "only a: production and a region")
            let any = try await Self.runs(of: "on_any_service", in: harness, token: token)
            #expect(any.count == 2, "b's update to 3 replicas, and a's deletion")
            let updates = try await Self.runs(of: "on_service_update", in: harness, token: token)
            #expect(updates.count == 2, "the PATCH of b and the PUT of c; not the creations or the deletion")
            #expect(try await Self.runs(of: "off_service", in: harness, token: token).isEmpty, "publish: false")
            #expect(try await Self.runs(of: "on_vm_created", in: harness, token: token).count == 1)

            // The run Port creates: source AUTOMATION, the automation as its action, tied to the entity.
            let run = try #require(prod.first)
            #expect(run["source"] == "AUTOMATION")
            #expect(run["action"]?["identifier"] == "on_prod_service")
            #expect(run["entity"]?["identifier"] == "a")
            #expect(run["status"] == "IN_PROGRESS")

            // The message's jq context is §7's, with the event.
            let runID = try #require(run["id"]?.stringValue)
            let message = try await reader.json(key: runID)
            #expect(message["runId"] == .string(runID))
            let context = try #require(message["context"])
            #expect(
                context.objectValue?.keys.sorted() == [
                    "action", "entity", "event", "inputs", "run", "secrets", "trigger",
                ]
            )
            #expect(context["inputs"] == .null)
            #expect(context["entity"] == .null)
            #expect(context["action"] == ["identifier": "on_prod_service"])
            #expect(context["run"] == ["id": .string(runID)])
            #expect(context["trigger"]?["origin"] == "AUTOMATION")
            #expect(context["trigger"]?["by"]?["orgId"] == "org_api")
            #expect(context["trigger"]?["at"] == run["createdAt"])
            let event = try #require(context["event"])
            #expect(event["action"] == "CREATE")
            #expect(event["resourceType"] == "entity")
            #expect(event["trigger"]?["origin"] == "API")
            #expect(event["trigger"]?["by"]?["userId"] == "emulator-client-id")
            #expect(
                event["context"] == [
                    "blueprintIdentifier": "service", "entityIdentifier": "a", "propertyIdentifier": .null,
                ]
            )
            #expect(event["diff"]?["before"] == .null)
            #expect(event["diff"]?["after"]?["identifier"] == "a")
            #expect(event["diff"]?["after"]?["properties"] == ["environment": "production", "region": "eu"])

            // The deletion's event: after is null, before the whole entity.
            let deletion = try #require(any.last?["id"]?.stringValue)
            let deleted = try await reader.json(key: deletion)
            #expect(deleted["context"]?["event"]?["action"] == "DELETE")
            #expect(deleted["context"]?["event"]?["diff"]?["after"] == .null)
            #expect(deleted["context"]?["event"]?["diff"]?["before"]?["identifier"] == "a")

            // Journaled as the emulator's, with the run.
            let journal = try await harness.call("GET", "/_emulator/journal?run=\(runID)")
            let line = try #require(journal.json["journal"]?.arrayValue?.first)
            #expect(line["method"] == "AUTOMATION")
            #expect(line["path"] == "/v1/actions/on_prod_service/runs (ENTITY_CREATED)")
            #expect(line["clientId"] == "port-emulator")
            await reader.close()
        }
    }

    @Test("run events: RUN_CREATED once, RUN_UPDATED on status, label, links and summary but not on a log")
    func runEvents() async throws {
        try await EmulatorHarness.run { harness in
            let reader = try harness.runsReader()
            let token = try await harness.token()
            for definition in [
                Self.automation(
                    "on_deploy_created",
                    event: #"{"type":"RUN_CREATED","actionIdentifier":"deploy_service"}"#
                ),
                Self.automation(
                    "on_deploy_updated",
                    event: #"{"type":"RUN_UPDATED","actionIdentifier":"deploy_service"}"#
                ),
                Self.automation(
                    "on_deploy_failed",
                    event: #"{"type":"ANY_RUN_CHANGE","actionIdentifier":"deploy_service"}"#,
                    condition: #"{"type":"JQ","expressions":[".diff.after.status == \"FAILURE\""]}"#
                ),
                Self.automation("on_vm_run", event: #"{"type":"RUN_CREATED","actionIdentifier":"create_vm"}"#),
            ] {
                #expect(try await harness.call("POST", "/v1/actions", token: token, body: definition).status == 201)
            }
            _ = try await harness.call(
                "POST",
                "/v1/blueprints/service/entities",
                token: token,
                body: #"{"identifier":"api"}"#
            )
            let created = try await harness.call(
                "POST",
                "/v1/actions/deploy_service/runs",
                token: token,
                body: #"{"properties":{"version":"2.0","environment":"production"},"entity":"api"}"#
            )
            let runID = try #require(created.json["run"]?["id"]?.stringValue)
            let steps: [(String, String, String)] = [
                ("POST", "/v1/actions/runs/\(runID)/logs", #"{"message":"a log is not an update"}"#),
                ("PATCH", "/v1/actions/runs/\(runID)", #"{"statusLabel":"Deploying"}"#),
                ("PATCH", "/v1/actions/runs/\(runID)", #"{"link":["https://ci.example.com/1"]}"#),
                ("PATCH", "/v1/actions/runs/\(runID)", #"{"externalRunId":"ci-1"}"#),
                ("PATCH", "/v1/actions/runs/\(runID)", #"{"status":"FAILURE","summary":"boom"}"#),
            ]
            for (method, path, body) in steps {
                let answer = try await harness.call(method, path, token: token, body: body)
                #expect((200..<300).contains(answer.status), "\(method) \(path): \(answer.json)")
            }
            _ = try await harness.call(
                "POST",
                "/v1/actions/create_vm/runs",
                token: token,
                body: #"{"properties":{"name":"x","cpu":1,"region":"eu"}}"#
            )
            _ = try await Self.waitForRuns("on_vm_run", count: 1, in: harness, token: token)
            #expect(try await Self.runs(of: "on_deploy_created", in: harness, token: token).count == 1)
            let updates = try await Self.runs(of: "on_deploy_updated", in: harness, token: token)
            #expect(updates.count == 3, "label, links, then status with summary: not the log, not externalRunId")
            let failures = try await Self.runs(of: "on_deploy_failed", in: harness, token: token)
            #expect(failures.count == 1)

            let failureID = try #require(failures.first?["id"]?.stringValue)
            let event = try #require(try await reader.json(key: failureID)["context"]?["event"])
            #expect(event["id"]?.stringValue?.hasPrefix("event_") == true)
            #expect(event["resourceType"] == "run")
            #expect(event["action"] == "UPDATE")
            #expect(event["context"]?["action"]?["identifier"] == "deploy_service")
            #expect(event["diff"]?["before"]?["status"] == "IN_PROGRESS")
            #expect(event["diff"]?["after"]?["status"] == "FAILURE")
            #expect(event["diff"]?["after"]?["id"] == .string(runID))
            #expect(
                event["diff"]?["after"]?["action"]?["identifier"] == "deploy_service",
                "run objects in the v2 shape"
            )

            let createdID = try #require(
                try await Self.runs(of: "on_deploy_created", in: harness, token: token).first?["id"]?.stringValue
            )
            let creation = try #require(try await reader.json(key: createdID)["context"]?["event"])
            #expect(creation["action"] == "CREATE")
            #expect(creation["diff"]?["before"] == .null)
            await reader.close()
        }
    }

    @Test(
        "an automation without a template publishes the legacy message with the event; the fixture fires on a failed rollback"
    )
    func legacyMessageAndFixture() async throws {
        try await EmulatorHarness.run { harness in
            let reader = try harness.runsReader()
            let token = try await harness.token()
            _ = try await harness.call(
                "POST",
                "/v1/blueprints/service/entities",
                token: token,
                body: #"{"identifier":"pay"}"#
            )
            let created = try await harness.call(
                "POST",
                "/v1/actions/rollback_service/runs",
                token: token,
                body: #"{"properties":{"reason":"test"},"entity":"pay"}"#
            )
            let rollback = try #require(created.json["run"]?["id"]?.stringValue)
            _ = try await harness.call(
                "PATCH",
                "/v1/actions/runs/\(rollback)",
                token: token,
                body: #"{"statusLabel":"Rolling back"}"#
            )
            #expect(try await Self.runs(of: "alert_rollback_failure", in: harness, token: token).isEmpty)
            _ = try await harness.call(
                "PATCH",
                "/v1/actions/runs/\(rollback)",
                token: token,
                body: #"{"status":"FAILURE"}"#
            )
            let alerts = try await Self.waitForRuns("alert_rollback_failure", count: 1, in: harness, token: token)
            let alertID = try #require(alerts.first?["id"]?.stringValue)
            let message = try await reader.json(key: alertID)
            #expect(message["action"] == "alert_rollback_failure")
            #expect(message["resourceType"] == "run")
            #expect(message["status"] == "TRIGGERED")
            #expect(message["trigger"]?["origin"] == "AUTOMATION")
            #expect(message["context"]?["runId"] == .string(alertID))
            #expect(message["payload"]?["action"]?["trigger"]?["type"] == "automation")
            #expect(message["event"]?["diff"]?["after"]?["id"] == .string(rollback))
            #expect(message["event"]?["diff"]?["after"]?["status"] == "FAILURE")
            await reader.close()
        }
    }

    @Test("an automation never fires for what its own run caused; a change from outside fires it again")
    func loops() async throws {
        try await EmulatorHarness.run { harness in
            let token = try await harness.token()
            let loop = Self.automation(
                "touch_service",
                event: #"{"type":"ENTITY_UPDATED","blueprintIdentifier":"service"}"#
            )
            let watcher = Self.automation(
                "watch_touch",
                event: #"{"type":"RUN_UPDATED","actionIdentifier":"touch_service"}"#
            )
            let back = Self.automation(
                "back_to_touch",
                event: #"{"type":"RUN_UPDATED","actionIdentifier":"watch_touch"}"#
            )
            for definition in [loop, watcher, back] {
                #expect(try await harness.call("POST", "/v1/actions", token: token, body: definition).status == 201)
            }
            _ = try await harness.call(
                "POST",
                "/v1/blueprints/service/entities",
                token: token,
                body: #"{"identifier":"s"}"#
            )
            _ = try await harness.call(
                "PATCH",
                "/v1/blueprints/service/entities/s",
                token: token,
                body: #"{"title":"S"}"#
            )
            let first = try #require(
                try await Self.waitForRuns("touch_service", count: 1, in: harness, token: token).first
            )
            let firstID = try #require(first["id"]?.stringValue)
            // Its backend updates the entity with run_id: the same event type, caused by its own run.
            let own = try await harness.call(
                "PATCH",
                "/v1/blueprints/service/entities/s?run_id=\(firstID)",
                token: token,
                body: #"{"title":"S2"}"#
            )
            #expect(own.status == 200)
            // And reports: watch_touch fires; its report fires back_to_touch (a chain, no loop).
            _ = try await harness.call(
                "PATCH",
                "/v1/actions/runs/\(firstID)",
                token: token,
                body: #"{"statusLabel":"touched"}"#
            )
            let watch = try #require(
                try await Self.waitForRuns("watch_touch", count: 1, in: harness, token: token).first
            )
            let watchID = try #require(watch["id"]?.stringValue)
            _ = try await harness.call(
                "PATCH",
                "/v1/actions/runs/\(watchID)",
                token: token,
                body: #"{"statusLabel":"seen"}"#
            )
            let backRun = try #require(
                try await Self.waitForRuns("back_to_touch", count: 1, in: harness, token: token).first
            )
            let backID = try #require(backRun["id"]?.stringValue)
            // back_to_touch's run updates the entity: touch_service is in its chain, so no new run.
            _ = try await harness.call(
                "PATCH",
                "/v1/blueprints/service/entities/s?run_id=\(backID)",
                token: token,
                body: #"{"title":"S3"}"#
            )
            let firings = try await harness.call("GET", "/_emulator/automations")
            let touch = try #require(
                firings.json["automations"]?.arrayValue?.first { $0["identifier"] == "touch_service" }?["firings"]?
                    .arrayValue
            )
            #expect(touch.map { $0["outcome"]?.stringValue ?? "" } == ["fired", "loop", "loop"])
            #expect(try await Self.runs(of: "touch_service", in: harness, token: token).count == 1)
            // A change from outside (no run_id) is a new cause: it fires again.
            _ = try await harness.call(
                "PATCH",
                "/v1/blueprints/service/entities/s",
                token: token,
                body: #"{"title":"S4"}"#
            )
            _ = try await Self.waitForRuns("touch_service", count: 2, in: harness, token: token)
        }
    }

    /// The emulator clock's time, and an hour later as a ttl value.
    static func inAnHour(_ harness: EmulatorHarness) async throws -> (now: Date, ttl: String) {
        let clock = try await harness.call("GET", "/_emulator/clock")
        let now = try #require(clock.json["clock"]?["now"]?.stringValue.flatMap(TimerInstant.parse))
        return (now, now.addingTimeInterval(3600).formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
    }

    @Test("a one-hour TTL fires when the clock passes it, not before, and its change-log message is published")
    func timers() async throws {
        try await EmulatorHarness.run { harness in
            let reader = try harness.runsReader()
            let changes = try harness.changeLogReader()
            let token = try await harness.token()
            let (now, ttl) = try await Self.inAnHour(harness)
            let created = try await harness.call(
                "POST",
                "/v1/blueprints/environment/entities",
                token: token,
                body: #"{"identifier":"pr-42","properties":{"ttl":"\#(ttl)","status":"active"}}"#
            )
            #expect(created.status == 201, "\(created.json)")
            let early = try await harness.call("POST", "/_emulator/clock", body: #"{"advance":"59m"}"#)
            #expect(early.status == 200)
            let earlyNow = try #require(early.json["clock"]?["now"]?.stringValue.flatMap(TimerInstant.parse))
            #expect(earlyNow.timeIntervalSince(now) >= 59 * 60)
            #expect(try await Self.runs(of: "expire_environment", in: harness, token: token).isEmpty, "not before")

            let late = try await harness.call("POST", "/_emulator/clock", body: #"{"advance":"2m"}"#)
            #expect(late.status == 200)
            let runs = try await Self.runs(of: "expire_environment", in: harness, token: token)
            #expect(runs.count == 1, "fired before the clock's answer")
            let runID = try #require(runs.first?["id"]?.stringValue)
            let message = try await reader.json(key: runID)
            #expect(message["inputs"] == ["environment": "pr-42", "expiredAt": .string(ttl)])
            #expect(message["context"]?["entity"] == "pr-42")

            let change = try await changes.json(key: "pr-42")
            try await waitUntil("the TIMER_EXPIRED change", within: .seconds(30)) {
                changes.messages.contains { message in
                    (try? JSONValue.parse(message.value ?? []))?["action"] == "TIMER_EXPIRED"
                }
            }
            #expect(change["action"] == "CREATE", "the creation's change comes first")
            let expiry = try #require(
                changes.messages.compactMap { try? JSONValue.parse($0.value ?? []) }.first {
                    $0["action"] == "TIMER_EXPIRED"
                }
            )
            #expect(expiry["resourceType"] == "entity")
            #expect(expiry["status"] == "SUCCESS")
            #expect(expiry["context"] == ["blueprint": "environment", "entity": "pr-42"])
            #expect(expiry["trigger"]?["by"] == ["byPort": true, "orgId": "org_api"])
            #expect(expiry["trigger"]?["origin"] == "API")

            // Once per value: moving on does not fire it again; a new ttl re-arms it.
            _ = try await harness.call("POST", "/_emulator/clock", body: #"{"advance":"1d"}"#)
            #expect(try await Self.runs(of: "expire_environment", in: harness, token: token).count == 1)
            let setTo = try await harness.call("POST", "/_emulator/clock", body: #"{"set":"2099-01-01T00:00:00Z"}"#)
            #expect(setTo.json["clock"]?["now"]?.stringValue?.hasPrefix("2099-01-01T00:00:0") == true)
            _ = try await harness.call(
                "PATCH",
                "/v1/blueprints/environment/entities/pr-42",
                token: token,
                body: #"{"properties":{"ttl":"2099-01-01T00:30:00Z"}}"#
            )
            _ = try await harness.call("POST", "/_emulator/clock", body: #"{"advance":"31m"}"#)
            #expect(try await Self.runs(of: "expire_environment", in: harness, token: token).count == 2)
            await reader.close()
            await changes.close()
        }
    }

    /// The runs left that name one of `prefix`'s entities.
    static func runs(ofEntitiesPrefixed prefix: String, in harness: EmulatorHarness) async throws -> [String] {
        let list = try await harness.call("GET", "/_emulator/runs")
        return (list.json["runs"]?.arrayValue ?? []).compactMap { run in
            guard let entity = run["entity"]?["identifier"]?.stringValue,
                entity.hasPrefix(prefix)
            else { return nil }
            return entity
        }
    }

    @Test("a reset in the middle of a timer check leaves no run behind for the entities it removed")
    func resetDuringTimerCheck() async throws {
        try await EmulatorHarness.run { harness in
            // A second automation on the same timer, whose condition takes jq tens of
            // milliseconds: a check over 40 entities takes long enough for a reset to land in it.
            let slow = Self.automation(
                "slow_expiry",
                event:
                    #"{"type":"TIMER_PROPERTY_EXPIRED","blueprintIdentifier":"environment","propertyIdentifier":"ttl"}"#,
                condition: #"{"type":"JQ","expressions":["[range(0; 100000)] | length > 0"],"combinator":"and"}"#
            )
            for round in 0..<3 {
                let token = try await harness.token()
                // The reset takes the automation away with the rest of what the test added.
                let defined = try await harness.call("POST", "/v1/actions", token: token, body: slow)
                #expect(defined.status == 201, "\(defined.json.compactText)")
                let ttl = try await Self.inAnHour(harness).ttl
                // 40 environments whose ttl passes at the same move of the clock.
                for batch in 0..<2 {
                    let entities = (0..<20).map { index in
                        #"{"identifier":"race-\#(round)-\#(batch * 20 + index)","properties":{"ttl":"\#(ttl)"}}"#
                    }
                    let written = try await harness.call(
                        "POST",
                        "/v1/blueprints/environment/entities/bulk",
                        token: token,
                        body: #"{"entities":[\#(entities.joined(separator: ","))]}"#
                    )
                    #expect(written.status == 200, "\(written.json.compactText)")
                }
                try await withThrowingTaskGroup { group in
                    group.addTask { _ = try await harness.call("POST", "/_emulator/clock", body: #"{"advance":"2h"}"#) }
                    // The reset goes as soon as the check has fired its first run.
                    try await waitUntil("the check's first run", within: .seconds(30)) {
                        try await !Self.runs(ofEntitiesPrefixed: "race-\(round)-", in: harness).isEmpty
                    }
                    let reset = try await harness.call("POST", "/_emulator/reset", body: "{}")
                    #expect(reset.status == 200)
                    try await group.waitForAll()
                }
                let left = try await Self.runs(ofEntitiesPrefixed: "race-\(round)-", in: harness)
                #expect(left.isEmpty, "round \(round): \(left.count) run(s) outlived the reset")
            }
        }
    }

    /// Definitions Port refuses: an event, a condition, and the field the refusal names.
    static let badDefinitionCases: [(String, String?, String)] = [
        (
            #"{"type":"ENTITY_CREATED","blueprintIdentifier":"service","actionIdentifier":"x"}"#, nil,
            "body.trigger.event.actionIdentifier"
        ),
        (#"{"type":"ENTITY_BORN","blueprintIdentifier":"service"}"#, nil, "body.trigger.event.type"),
        (#"{"type":"RUN_CREATED"}"#, nil, "body.trigger.event.actionIdentifier"),
        (#"{"type":"ENTITY_CREATED","blueprintIdentifier":"nope"}"#, nil, "nope"),
        (
            #"{"type":"TIMER_PROPERTY_EXPIRED","blueprintIdentifier":"environment","propertyIdentifier":"region"}"#,
            nil, "body.trigger.event.propertyIdentifier"
        ),
        (
            #"{"type":"ENTITY_CREATED","blueprintIdentifier":"service"}"#,
            #"{"type":"JQ","expressions":[".a ==="]}"#, "body.trigger.condition.expressions[0]"
        ),
        (
            #"{"type":"ENTITY_CREATED","blueprintIdentifier":"service"}"#,
            #"{"type":"JQ","expressions":[".a"],"combinator":"xor"}"#, "body.trigger.condition.combinator"
        ),
        (
            #"{"type":"ENTITY_CREATED","blueprintIdentifier":"service"}"#, #"{"type":"JS","expressions":[]}"#,
            "body.trigger.condition.type"
        ),
    ]

    // One emulator for every case: a parameterized test would start one per case at once.
    @Test("bad definitions are 422 (404 for an unknown blueprint) naming the field, and nothing is stored")
    func badDefinitions() async throws {
        try await EmulatorHarness.run { harness in
            let token = try await harness.token()
            for (event, condition, field) in Self.badDefinitionCases {
                let answer = try await harness.call(
                    "POST",
                    "/v1/actions",
                    token: token,
                    body: Self.automation("bad_one", event: event, condition: condition)
                )
                #expect([404, 422].contains(answer.status), "\(event) \(condition ?? "")")
                #expect(answer.json["message"]?.stringValue?.contains(field) == true, "\(answer.json)")
                #expect(try await harness.call("GET", "/v1/actions/bad_one", token: token).status == 404)
            }
        }
    }

    @Test("the clock and the run route refuse what they cannot do, with the field named")
    func badRequests() async throws {
        try await EmulatorHarness.run { harness in
            let token = try await harness.token()
            let before = try await harness.call("GET", "/_emulator/clock")
            for (body, field) in [
                (#"{"advance":"soon"}"#, "body.advance"), (#"{"set":"yesterday"}"#, "body.set"),
                (#"{"advance":"1h","set":"2030-01-01T00:00:00Z"}"#, "exactly one"),
                (#"{"rewind":"1h"}"#, "body.rewind"),
                ("[", "Malformed JSON"),
            ] {
                let answer = try await harness.call("POST", "/_emulator/clock", body: body)
                #expect([400, 422].contains(answer.status), "\(body)")
                #expect(answer.json["message"]?.stringValue?.contains(field) == true, "\(body): \(answer.json)")
            }
            let after = try await harness.call("GET", "/_emulator/clock")
            #expect(after.json["clock"]?["offsetSeconds"] == before.json["clock"]?["offsetSeconds"], "nothing moved")
            let manual = try await harness.call(
                "POST",
                "/v1/actions/expire_environment/runs",
                token: token,
                body: #"{"properties":{}}"#
            )
            #expect(manual.status == 422)
            #expect(manual.json["message"]?.stringValue?.contains("is an automation") == true)
        }
    }

    @Test("an automation whose payload fails to render ends its run as FAILURE with jq's reason")
    func renderFailure() async throws {
        try await EmulatorHarness.run { harness in
            let token = try await harness.token()
            let definition = #"""
                {"identifier":"broken","trigger":{"type":"automation","event":{"type":"ENTITY_CREATED","blueprintIdentifier":"service"}},
                 "invocationMethod":{"type":"KAFKA","payload":{"x":"{{ .event.diff.after.identifier | error }}"}}}
                """#
            #expect(try await harness.call("POST", "/v1/actions", token: token, body: definition).status == 201)
            _ = try await harness.call(
                "POST",
                "/v1/blueprints/service/entities",
                token: token,
                body: #"{"identifier":"q"}"#
            )
            let runs = try await Self.waitForRuns("broken", count: 1, in: harness, token: token)
            let runID = try #require(runs.first?["id"]?.stringValue)
            try await waitUntil("the broken run to fail", within: .seconds(30)) {
                (try? await harness.call("GET", "/v1/actions/runs/\(runID)", token: token))?.json["run"]?["status"]
                    == "FAILURE"
            }
            let logs = try await harness.call("GET", "/v1/actions/runs/\(runID)/logs", token: token)
            #expect(
                logs.json["runLogs"]?.arrayValue?.first?["message"]?.stringValue?.contains("could not render") == true
            )
        }
    }
}
