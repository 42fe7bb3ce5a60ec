// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "port-kafka-harness",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "port-emulator", targets: ["port-emulator"]),
        .executable(name: "port-bench", targets: ["port-bench"]),
        .library(name: "PortKafka", targets: ["PortKafka"]),
        .library(name: "PortContract", targets: ["PortContract"]),
        .library(name: "PortCatalog", targets: ["PortCatalog"]),
        .library(name: "Emulator", targets: ["Emulator"]),
        .library(name: "Conformance", targets: ["Conformance"]),
        .library(name: "Consumer", targets: ["Consumer"]),
        .executable(name: "port-consumer", targets: ["port-consumer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // 4.x imports FoundationEssentials; 3.x imported full Foundation (ICU) into every binary.
        .package(url: "https://github.com/apple/swift-crypto", from: "4.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        // `make docs`: DocC for the libraries (swift package generate-documentation).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // C libraries, each declared once as a system library with a shim header.
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"]), .brew(["librdkafka"])]
        ),
        .systemLibrary(
            name: "CMicroHTTPD",
            pkgConfig: "libmicrohttpd",
            providers: [.apt(["libmicrohttpd-dev"]), .brew(["libmicrohttpd"])]
        ),
        .systemLibrary(
            name: "CJQ",
            providers: [.apt(["libjq-dev"]), .brew(["jq"])]
        ),
        // libyaml, for port-consumer's YAML handler files (Yams would link full Foundation).
        .systemLibrary(
            name: "CYAML",
            path: "Sources/CYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"]), .brew(["libyaml"])]
        ),

        // One Swift wrapper per C library.
        .target(
            name: "PortKafka",
            dependencies: ["CRdKafka", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "HTTPServer",
            dependencies: [
                "CMicroHTTPD", .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "JQ",
            dependencies: ["CJQ", "ChildProcesses", .product(name: "Crypto", package: "swift-crypto")]
        ),

        // The Kafka front: a Kafka-protocol gateway before the embedded cluster (TLS, SCRAM,
        // Port's ACLs, long-poll Fetch), in Swift on SwiftNIO.
        // Kafka's wire protocol: the message schemas of every version the broker serves
        // (generated from Apache Kafka's definitions), one codec that interprets them, and
        // the primitive readers and writers.
        .target(
            name: "KafkaProtocol",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")]
        ),
        // The system zlib, for gzip-compressed record batches.
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]),
        // Kafka's record formats: v2 batches, legacy messages, CRCs, the broker's checks on
        // append, and down-conversion for old fetches.
        .target(
            name: "KafkaRecords",
            dependencies: ["CZlib", "KafkaProtocol", .product(name: "NIOCore", package: "swift-nio")]
        ),
        // Our own Kafka broker: partition logs, the group coordinator, Port's ACLs, every
        // request served over KafkaProtocol's codec.
        .target(
            name: "KafkaBroker",
            dependencies: ["KafkaProtocol", "KafkaRecords", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .target(
            name: "KafkaFront",
            dependencies: [
                "KafkaProtocol", "KafkaBroker",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // The product's libraries.
        .target(name: "PortContract", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        // Port's catalog: the entity store, relations, the query language, computed properties
        // (no HTTP, no Kafka).
        .target(
            name: "PortCatalog",
            dependencies: [
                "PortContract", "JQ", .product(name: "OrderedCollections", package: "swift-collections"),
            ]
        ),
        // posix_spawn in a process group of its own: the command handler's and verify's children.
        .target(name: "ChildProcesses"),
        // serve --state-dir: the durable, checksummed log of the emulator's state changes.
        .target(name: "StateLog", dependencies: ["PortContract", "KafkaRecords", "ChildProcesses"]),
        .target(
            name: "Emulator",
            dependencies: [
                "PortKafka", "KafkaFront", "KafkaBroker", "KafkaProtocol", "HTTPServer", "JQ", "PortContract",
                "PortCatalog", "ChildProcesses", "StateLog",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                // The journal's and the run store's bounded lists.
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "OrderedCollections", package: "swift-collections"),
            ],
            // The OpenAPI document's source of truth; OpenAPIDocument.swift is generated from it.
            exclude: ["Dashboard/openapi.json"]
        ),
        // port-emulator's command line, for the executable and the tests: its commands
        // (Commands/), serve's options, each flag
        // declared once (ArgumentParser), checked, and turned into the emulator's configuration;
        // import's options, its reading of Port's API (AsyncHTTPClient, as Consumer's and
        // Conformance's clients) and its writing of a fixtures directory serve loads.
        .target(
            name: "EmulatorCLI",
            dependencies: [
                "Emulator", "PortKafka", "PortContract", "Conformance", "ChildProcesses", "JQ",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // verify: scenarios, their judge, chaos profiles and reports, the consumer process it
        // drives, and an HTTP client of the emulator's APIs. For verify's users and tests;
        // nothing in Emulator uses it.
        .target(
            name: "Conformance",
            dependencies: [
                "Emulator", "PortKafka", "PortContract", "ChildProcesses",
                // EmulatorClient's HTTP client, and the NIO types its requests are made of.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "Consumer",
            dependencies: [
                "PortKafka", "PortContract", "ChildProcesses",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                // Imported for AsyncHTTPClient's request and body types; none is in the API.
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                "CYAML",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "Benchmarks",
            dependencies: [
                "PortKafka", "KafkaFront", "KafkaBroker", "HTTPServer", "Emulator", "Consumer", "PortContract",
                "PortCatalog",
                "ChildProcesses", "StateLog",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // port-consumer's command line: its settings, handlers, metrics endpoint and signals.
        .target(
            name: "ConsumerCLI",
            dependencies: [
                "Consumer", "PortKafka", "HTTPServer", "PortContract", "ChildProcesses",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // Thin executables. port-emulator is also port-consumer when called by that name: the
        // release archives ship that one binary under both names.
        .executableTarget(
            name: "port-emulator",
            dependencies: ["EmulatorCLI", "ConsumerCLI"]
        ),
        .executableTarget(
            name: "port-consumer",
            dependencies: ["ConsumerCLI"]
        ),
        .executableTarget(
            name: "port-bench",
            dependencies: [
                "Benchmarks",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // Helpers shared by the test targets: a raw-socket HTTP client, deadline waits, and the
        // checker of response bodies against Port's OpenAPI schemas (Resources/, from scripts/).
        .target(
            name: "TestSupport",
            dependencies: ["PortContract", "ChildProcesses"],
            path: "Tests/TestSupport",
            exclude: ["Resources"]
        ),
        .testTarget(
            name: "PortKafkaTests",
            dependencies: ["PortKafka", "TestSupport", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "HTTPServerTests",
            dependencies: [
                "HTTPServer", "TestSupport", .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(name: "JQTests", dependencies: ["JQ"]),
        .testTarget(name: "StateLogTests", dependencies: ["StateLog", "PortContract"]),
        .testTarget(
            name: "KafkaRecordsTests",
            dependencies: ["KafkaRecords", "KafkaProtocol", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .testTarget(
            name: "KafkaBrokerTests",
            dependencies: [
                "TestSupport",
                "KafkaBroker", "KafkaRecords", "KafkaProtocol", .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "KafkaProtocolTests",
            dependencies: ["KafkaProtocol", "ChildProcesses", .product(name: "NIOCore", package: "swift-nio")],
            exclude: ["Golden", "Judge"]
        ),
        .testTarget(
            name: "KafkaFrontTests",
            dependencies: [
                "ChildProcesses",
                "KafkaFront", "KafkaProtocol", "PortKafka", "Emulator", "PortContract", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Clients"]
        ),
        .testTarget(name: "PortContractTests", dependencies: ["PortContract"]),
        .testTarget(name: "PortCatalogTests", dependencies: ["PortCatalog", "PortContract"]),
        .testTarget(
            name: "EmulatorTests",
            dependencies: [
                "ChildProcesses",
                "Emulator", "PortKafka", "PortContract", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            exclude: ["Browser", "Secrets"]
        ),
        .testTarget(
            name: "EmulatorCLITests",
            dependencies: [
                "EmulatorCLI", "Emulator", "PortContract", "ChildProcesses", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "ConformanceTests",
            dependencies: [
                "ChildProcesses", "Emulator", "Conformance", "PortContract", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Consumers", "CatalogFixtures", "Peers"]
        ),
        .testTarget(
            name: "ConsumerTests",
            dependencies: [
                "Consumer", "Emulator", "Conformance", "HTTPServer", "PortKafka", "PortCatalog", "PortContract",
                "TestSupport",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ]
)

// Swift 6 upcoming features on every Swift target: imports are internal unless marked
// `public import`, members are visible only through a module imported in the file, and
// existential types are spelled `any`.
for target in package.targets where target.type != .system {
    target.swiftSettings =
        (target.swiftSettings ?? []) + [
            .enableUpcomingFeature("InternalImportsByDefault"),
            .enableUpcomingFeature("MemberImportVisibility"),
            .enableUpcomingFeature("ExistentialAny"),
        ]
}
