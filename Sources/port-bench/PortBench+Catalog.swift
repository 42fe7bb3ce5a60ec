import ArgumentParser
import Benchmarks

extension PortBench {
    /// `port-bench catalog`: search and upsert figures of Port's catalog (issue #22).
    struct CatalogSearch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "catalog",
            abstract:
                "Search over a large blueprint (two rules, relatedTo, a paginated scan) and upserts with computed properties."
        )

        @Option(help: "Entities of the searched blueprint.")
        var entities = 100_000

        @Option(help: "Searches timed per query.")
        var rounds = 200

        @Option(help: "Upserts timed on the blueprint with three computed properties.")
        var upserts = 20_000

        @Option(help: "Through Port's API: searches timed, one after another.")
        var httpSearches = 200

        @Option(help: "Through Port's API: upserts timed on each blueprint.")
        var httpUpserts = 5_000

        @Option(help: "Through Port's API: upserts in flight.")
        var concurrency = 16

        func run() async throws {
            let figures = try CatalogBenchmarks.measure(count: entities, rounds: rounds, upserts: upserts)
            func line(_ name: String, _ samples: [Duration]) -> String {
                "catalog \(name) entities=\(entities) p50_ms=\(format(samples.percentile(0.5).milliseconds, 2)) "
                    + "p99_ms=\(format(samples.percentile(0.99).milliseconds, 2)) samples=\(samples.count)"
            }
            print(line("search-two-rules-limit-200", figures.twoRule))
            print(line("search-two-rules-limit-200-exclude-calculated", figures.twoRuleWithoutComputed))
            print(
                "catalog search-two-rules computed_over_excluded_p50="
                    + format(
                        figures.twoRule.percentile(0.5).seconds
                            / figures.twoRuleWithoutComputed.percentile(0.5).seconds,
                        2
                    )
            )
            print(line("search-related-to-limit-200", figures.relatedTo))
            print(line("scan-page-limit-1000", figures.scanPage))
            print("catalog full-scan entities=\(figures.entities) total_ms=\(format(figures.fullScan.milliseconds, 1))")
            print(
                "catalog memory entities=\(figures.entities) rss_mb=\(format(Double(figures.bytesForEntities) / 1_048_576, 1))"
            )
            print(
                "catalog upserts upserts_per_s_3_computed=\(format(figures.upsertsPerSecond, 0)) "
                    + "upserts_per_s_no_computed=\(format(figures.plainUpsertsPerSecond, 0)) "
                    + "ratio=\(format(figures.upsertsPerSecond / figures.plainUpsertsPerSecond, 2))"
            )
            let http = try await CatalogBenchmarks.overHTTP(
                count: entities,
                searches: httpSearches,
                writes: httpUpserts,
                concurrency: concurrency,
                logger: quietLogger
            )
            print(line("http-search-two-rules-limit-200", http.twoRuleSearch))
            print(
                "catalog http-upserts concurrency=\(concurrency) upserts_per_s_3_computed=\(format(http.upsertsPerSecond, 0)) "
                    + "upserts_per_s_no_computed=\(format(http.plainUpsertsPerSecond, 0)) "
                    + "ratio=\(format(http.upsertsPerSecond / http.plainUpsertsPerSecond, 2))"
            )
            print(
                "catalog http-bulk-upserts batch=20 concurrency=\(concurrency) "
                    + "entities_per_s_3_computed=\(format(http.bulkEntitiesPerSecond, 0)) "
                    + "entities_per_s_no_computed=\(format(http.plainBulkEntitiesPerSecond, 0)) "
                    + "bulk_over_single_3_computed=\(format(http.bulkEntitiesPerSecond / http.upsertsPerSecond, 2))"
            )
        }
    }
}
