import HTTPServer
import PortContract

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension PortAPI {
    /// `GET/POST /_emulator/clock` (the clock timers and visibility timeouts read) and
    /// `GET /_emulator/automations` (each automation with what it fired).
    func registerClockRoutes(on router: inout PortRouter) {
        router.addImmediate(.get, "/_emulator/clock") { _ in ok(["clock": clockJSON]) }
        router.addImmediate(.post, "/_emulator/clock") { request in
            try PortError.typed { () throws(PortError) in
                let body = try JSONBody(request).value.object(allowing: ["advance", "set"])
                switch (body["advance"], body["set"]) {
                case (let advance?, nil):
                    guard let text = advance.stringValue, let duration = DurationText.parse(text) else {
                        throw .invalidRequest(
                            "body.advance must be a duration such as 90m, 1h, 2d or 30s (got \(advance.compactText))"
                        )
                    }
                    automations.clock.advance(by: duration)
                case (nil, let set?):
                    guard let text = set.stringValue, let time = TimerInstant.parse(text) else {
                        throw .invalidRequest(
                            "body.set must be an ISO-8601 date-time such as 2026-12-01T12:00:00Z (got \(set.compactText))"
                        )
                    }
                    automations.clock.set(time)
                default:
                    throw .invalidRequest("body needs exactly one of advance (a duration) and set (an ISO-8601 time)")
                }
                // Timers that passed fire before the answer, so a test can look for them at once.
                automations.checkTimers()
                return ok(["clock": clockJSON])
            }
        }
        router.addImmediate(.get, "/_emulator/automations") { _ in
            let firings = automations.firings
            let list = catalog.actions.filter { $0.automation != nil }.map { automation -> JSONValue in
                var object = automation.json.objectValue ?? [:]
                object["firings"] = .array(firings.filter { $0.automation == automation.identifier }.map(\.json))
                return .object(object)
            }
            return ok(["automations": .array(list)])
        }
    }

    private var clockJSON: JSONValue {
        [
            "now": PortTimestamp.format(automations.clock.now()),
            "offsetSeconds": .double(automations.clock.offsetSeconds),
        ]
    }
}
