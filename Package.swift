// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "catroom",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "catroom", targets: ["catroom"]),
        .library(name: "CatroomCrypto", targets: ["CatroomCrypto"]),
        .library(name: "CatroomXML", targets: ["CatroomXML"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    ],
    targets: [
        // System libraries from Debian (see README for the apt packages).
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(name: "CExpat", pkgConfig: "expat", providers: [.apt(["libexpat1-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),

        .target(name: "CatroomCrypto", dependencies: ["CSodium"]),
        .target(name: "CatroomXML", dependencies: ["CExpat"]),
        .target(name: "CatroomBench", dependencies: ["CatroomCrypto", "CSodium"]),

        .executableTarget(
            name: "catroom",
            dependencies: [
                "CatroomCrypto",
                "CatroomBench",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        .testTarget(name: "CatroomCryptoTests", dependencies: ["CatroomCrypto"], exclude: ["Vectors"]),
        .testTarget(name: "CatroomXMLTests", dependencies: ["CatroomXML"]),
        .testTarget(name: "CatroomBenchTests", dependencies: ["CatroomBench"]),
    ]
)
