import Emulator
import Foundation
import PortContract
import Testing

/// Workflow runs are kept up to a cap, the oldest completed one going first.
@Suite("Workflow runs: the oldest completed go past the cap, never one in progress")
struct WorkflowCapTests {
    static func workflow() throws -> WorkflowDefinition {
        let path = EmulatorHarness.fixturesDirectory + "/workflows/provision_environment.json"
        let data = try #require(FileManager.default.contents(atPath: path))
        return try WorkflowDefinition(definition: try JSONValue.parse(Array(data)))
    }

    @Test("with a cap of 2, a third run drops the oldest completed run and its node runs; runs in progress stay")
    func oldestCompletedGoes() throws {
        let workflow = try Self.workflow()
        let store = WorkflowRuns(capacity: 2)
        let (first, firstNodes) = store.start(workflow, inputs: [:], by: "user")
        let (second, _) = store.start(workflow, inputs: [:], by: "user")
        // Both in progress: a third is kept beside them rather than dropping one.
        let (third, thirdNodes) = store.start(workflow, inputs: [:], by: "user")
        #expect(store.count == 3)
        // The first completes: the next start drops it, not the second, still in progress.
        for node in firstNodes {
            _ = try store.patch(node.id, try NodeRunPatch(body: ["status": "COMPLETED", "result": "SUCCESS"]))
        }
        for node in thirdNodes {
            _ = try store.patch(node.id, try NodeRunPatch(body: ["status": "COMPLETED", "result": "SUCCESS"]))
        }
        _ = store.start(workflow, inputs: [:], by: "user")
        #expect(store.count == 2)
        #expect(throws: PortError.self) { try store.run(first.id) }
        #expect(throws: PortError.self) { try store.nodeRun(firstNodes[0].id) }
        #expect(throws: PortError.self) { try store.run(third.id) }
        #expect(try store.run(second.id).0.id == second.id)
    }
}
