// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "catroom",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "catroom", targets: ["catroom"]),
        .library(name: "CatroomCrypto", targets: ["CatroomCrypto"]),
        .library(name: "CatroomXML", targets: ["CatroomXML"]),
        .library(name: "CatroomProtocol", targets: ["CatroomProtocol"]),
        .library(name: "CatroomServer", targets: ["CatroomServer"]),
        .library(name: "CatroomClient", targets: ["CatroomClient"]),
        .library(name: "CatroomProfile", targets: ["CatroomProfile"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // System libraries from Debian (scripts/setup.sh installs them).
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(name: "CExpat", pkgConfig: "expat", providers: [.apt(["libexpat1-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),

        .target(name: "CatroomCrypto", dependencies: ["CSodium"]),
        .target(name: "CatroomXML", dependencies: ["CExpat"]),
        .target(name: "CatroomProtocol", dependencies: ["CatroomXML", "CatroomCrypto"]),
        .target(
            name: "CatroomServer",
            dependencies: [
                "CatroomProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .target(
            name: "CatroomClient",
            dependencies: [
                "CatroomProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ]
        ),
        // `catroom join --profile`: the identity and contacts, sealed in SQLite (docs/profile-format.md).
        .target(name: "CatroomProfile", dependencies: ["CatroomClient", "CatroomCrypto", "CSQLite"]),
        .target(
            name: "CatroomBench",
            dependencies: [
                "CatroomCrypto", "CSodium", "CatroomXML", "CatroomProtocol", "CatroomClient", "CatroomServer", "CatroomProfile",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ]
        ),
        // What server and client tests share: a real XMPP test client on loopback.
        .target(
            name: "CatroomTesting",
            dependencies: [
                "CatroomServer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),

        .executableTarget(
            name: "catroom",
            dependencies: [
                "CatroomCrypto",
                "CatroomProtocol",
                "CatroomBench",
                "CatroomServer",
                "CatroomClient",
                "CatroomProfile",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),

        .testTarget(name: "CatroomCryptoTests", dependencies: ["CatroomCrypto"], exclude: ["Vectors"]),
        .testTarget(name: "CatroomXMLTests", dependencies: ["CatroomXML"]),
        .testTarget(name: "CatroomProtocolTests", dependencies: ["CatroomProtocol"]),
        .testTarget(
            name: "CatroomServerTests",
            dependencies: ["CatroomServer", "CatroomTesting", .product(name: "NIOEmbedded", package: "swift-nio")]
        ),
        .testTarget(name: "CatroomBenchTests", dependencies: ["CatroomBench"]),
        .testTarget(name: "CatroomClientTests", dependencies: ["CatroomClient", "CatroomServer", "CatroomTesting"]),
        .testTarget(name: "CatroomProfileTests", dependencies: ["CatroomProfile", "CSQLite"]),
        .testTarget(name: "CatroomTerminalTests", dependencies: ["catroom", "CatroomClient"]),
    ]
)

// libFuzzer targets (docs/security-testing.md), seen only when CATROOM_FUZZ is set, so that
// `swift build` and `swift test` never build them: scripts/fuzz.sh (`make fuzz`, CI's smoke)
// sets it and builds them with -sanitize=fuzzer,address in .build-fuzz. CATROOM_FUZZ=client
// adds the targets that need the client, and so NIO and NIOSSL under the sanitizers: about
// four CPU-minutes more, built apart in .build-fuzz-client.
if let fuzz = Context.environment["CATROOM_FUZZ"] {
    let client = fuzz == "client"
    package.targets += [
        .systemLibrary(name: "CLibFuzzer", path: "Fuzz/CLibFuzzer"),
        // The second parser of the differential XML target; test-only.
        .systemLibrary(name: "CLibXML2", path: "Fuzz/CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        .executableTarget(
            name: "catroom-fuzz",
            dependencies: ["CLibFuzzer", "CLibXML2", "CatroomXML", "CatroomProtocol", "CatroomCrypto"]
                + (client ? [
                    "CatroomClient", "CatroomProfile", .product(name: "NIOCore", package: "swift-nio"),
                    .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                ] : []),
            path: "Fuzz/Targets",
            swiftSettings: client ? [.define("CATROOM_FUZZ_CLIENT")] : []
        ),
    ]
}
