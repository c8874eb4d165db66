// swift-tools-version:6.0
//
// Cloak: protect images from machine learning, record what was done, measure whether it holds.
//
// Module graph (one-way; see README "Code layout"):
//
//   cloak (executable, ArgumentParser)
//     -> CloakKit (pipelines, reports)
//          -> CloakFace  -> CloakNN, CloakImage (dlib models, landmarks, HOG detector, chips, embedder, cloak)
//          -> CloakNN    -> CloakTensor -> CDNNL (oneDNN)
//          -> CloakData  -> CloakImage -> CPNG (libpng), CJPEGShim (C) -> CJPEG (libjpeg), CZlib
//          -> CloakStore -> GRDB (SQLite), Crypto (SHA-256)
//
// Build for this machine kind with `-Xswiftc -target-cpu -Xswiftc znver4` (the Makefile does);
// the manifest itself stays portable.
import PackageDescription

let package = Package(
    name: "Cloak",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "cloak", targets: ["cloak"]),
        .library(name: "CloakKit", targets: ["CloakKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // MARK: - System libraries (Debian -dev packages, installed by `make setup`)
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng16",
                       providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CJPEG", path: "Sources/CJPEG", pkgConfig: "libjpeg",
                       providers: [.apt(["libjpeg62-turbo-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        // libdnnl-dev 2.6.3 ships no .pc file; the modulemap links libdnnl. Only CloakTensor imports it.
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL", providers: [.apt(["libdnnl-dev"])]),
        // libjpeg reports fatal errors through error_exit(), which must not return; the only safe way out
        // is longjmp, which Swift cannot do, so that part lives in this small C target.
        .target(name: "CJPEGShim", dependencies: ["CJPEG"], path: "Sources/CJPEGShim"),

        // MARK: - Cloak libraries
        .target(name: "CloakImage", dependencies: ["CPNG", "CJPEGShim", "CZlib"]),
        // Engine: tensors and kernels (oneDNN behind one wrapper file), then layers, models, training.
        .target(name: "CloakTensor", dependencies: ["CDNNL"]),
        .target(name: "CloakNN", dependencies: ["CloakTensor", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "CloakData", dependencies: ["CloakImage", "CZlib"]),
        .target(name: "CloakStore", dependencies: [
            "CloakImage",   // FileIO: file helpers shared by every writer
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "CloakFace", dependencies: ["CloakImage", "CloakNN", "CloakTensor"]),
        .target(name: "CloakKit", dependencies: ["CloakImage", "CloakData", "CloakStore", "CloakNN", "CloakTensor", "CloakFace"]),
        .executableTarget(name: "cloak", dependencies: [
            "CloakKit", "CloakFace", "CloakImage", "CloakStore",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // MARK: - Benchmarks (`make bench-*`)
        .executableTarget(name: "cloak-bench-engine", dependencies: ["CloakNN"], path: "bench/engine",
                          exclude: ["compare.py"]),

        // MARK: - Tests
        .target(name: "CloakTestSupport", path: "Tests/CloakTestSupport"),
        .testTarget(name: "CloakTensorTests", dependencies: ["CloakTensor"]),
        .testTarget(name: "CloakNNTests", dependencies: ["CloakNN", "CZlib"], exclude: ["Fixtures"]),
        .testTarget(name: "CloakImageTests", dependencies: ["CloakImage", "CJPEGShim", "CPNG", "CZlib"]),
        .testTarget(name: "CloakDataTests", dependencies: ["CloakData", "CloakTestSupport"]),
        .testTarget(name: "CloakFaceTests", dependencies: ["CloakFace", "CloakImage", "CloakNN", "CloakTensor"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "CloakStoreTests", dependencies: [
            "CloakStore", "CloakTestSupport", .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .testTarget(name: "CloakKitTests", dependencies: ["CloakKit", "CloakNN", "CloakTensor", "CloakImage", "CloakData", "CloakStore", "CloakTestSupport"]),
        .testTarget(name: "CloakCLITests", dependencies: ["cloak", "CloakKit", "CloakImage", "CloakStore", "CloakTestSupport", "CZlib"],
                    exclude: ["Snapshots"]),
    ],
    swiftLanguageModes: [.v6]
)
