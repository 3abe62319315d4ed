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
// sets it and builds them with -sanitize=fuzzer,address in .build-fuzz.
if Context.environment["CATROOM_FUZZ"] != nil {
    package.targets += [
        .systemLibrary(name: "CLibFuzzer", path: "Fuzz/CLibFuzzer"),
        .executableTarget(
            name: "catroom-fuzz",
            dependencies: ["CLibFuzzer", "CatroomXML", "CatroomProtocol", "CatroomCrypto"],
            path: "Fuzz/Targets"
        ),
    ]
}
