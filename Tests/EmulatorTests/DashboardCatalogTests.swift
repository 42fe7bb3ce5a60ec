import ChildProcesses
import Emulator
import Foundation
import PortContract
import TestSupport
import Testing

/// The dashboard's catalog section (`#/catalog`), driven in headless Chromium by
/// `Browser/catalog_check.py` over entities created through Port's API.
@Suite("The dashboard's catalog section", .heavy, .timeLimit(.minutes(10)))
struct DashboardCatalogTests {
    /// Creates `dash_service` (with a relation to itself) and two entities, one related to
    /// the other, then checks the count, the relation's title, a search and a 422 in Chromium.
    @Test("in headless Chromium: entities per blueprint with related titles, a search, and a malformed rule's 422")
    func browser() async throws {
        try await EmulatorHarness.run { harness in
            let token = try await harness.token()
            let blueprint = try await harness.call(
                "POST",
                "/v1/blueprints",
                token: token,
                body: #"""
                    {"identifier":"dash_service","title":"Dash service",
                     "schema":{"properties":{"tier":{"type":"string","title":"Tier","enum":["backend","data"]}}},
                     "relations":{"dependsOn":{"title":"Depends on","target":"dash_service","required":false,"many":false}}}
                    """#
            )
            #expect(blueprint.status == 201, "\(blueprint.json)")
            for entity in [
                #"{"identifier":"dash-db","title":"Orders Database","properties":{"tier":"data"}}"#,
                #"{"identifier":"dash-api","title":"Orders API","properties":{"tier":"backend"},"relations":{"dependsOn":"dash-db"}}"#,
            ] {
                let created = try await harness.call(
                    "POST",
                    "/v1/blueprints/dash_service/entities",
                    token: token,
                    body: entity
                )
                #expect(created.status == 201, "\(created.json)")
            }

            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent()
            let artifacts = root.appendingPathComponent("test-artifacts").path
            try FileManager.default.createDirectory(atPath: artifacts, withIntermediateDirectories: true)
            let screenshot = artifacts + "/dashboard-catalog.png"
            try? FileManager.default.removeItem(atPath: screenshot)
            let outputPath = artifacts + "/dashboard-catalog-check.log"
            try? FileManager.default.removeItem(atPath: outputPath)
            let child = try ChildProcess.spawn(
                [
                    "python3", root.appendingPathComponent("Tests/EmulatorTests/Browser/catalog_check.py").path,
                    harness.emulator.info.apiBaseURL, screenshot,
                ],
                environment: ProcessInfo.processInfo.environment,
                outputPath: outputPath
            )
            let termination = try await withDeadline(.seconds(90), "the catalog browser check") { await child.wait() }
            let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            #expect(!termination.bySignal && termination.status == 0, "\(output)")
            #expect(output.contains("the catalog lists dash_service with 2 entities and its relation"), "\(output)")
            #expect(output.contains("its entities list shows the related entity's title"), "\(output)")
            #expect(output.contains("a search for $identifier = dash-db shows exactly dash-db"), "\(output)")
            #expect(output.contains("a malformed rule shows the 422 message"), "\(output)")
            let png = try Data(contentsOf: URL(fileURLWithPath: screenshot))
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
            // The page's searches went through Port's API: the malformed one is a refused request.
            let violations = harness.emulator.recorder.violations
            #expect(violations.contains { $0.path == "/v1/entities/search" && $0.status == 422 }, "\(violations)")
        }
    }
}
