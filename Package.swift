// swift-tools-version:6.0
//
// Cloak: protect images from machine learning, record what was done, measure whether it holds.
//
// Module graph (one-way; the committed graph is docs/module-graph.txt, checked by `make test`):
//
//   cloak (executable: ArgumentParser and CloakKit only)
//     -> CloakKit (resumable recorded jobs, reports)
//          -> CloakDatasetProtection (error-minimising noise, TAP, PGD, adversarial training, countermeasures)
//          -> CloakFace  -> CloakNN, CloakImage (dlib models, landmarks, HOG detector, chips, embedder, cloak)
//          -> CloakNN    -> CloakTensor -> CDNNL (oneDNN)
//          -> CloakData  -> CloakImage -> CPNG (libpng), CJPEGShim (C) -> CJPEG (libjpeg), CZlib
//          -> CloakStore -> GRDB (SQLite)
//          -> CloakSupport (file I/O, atomic writes, paths, digests, JSON, clock) -> Crypto (SHA-256)
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

        // MARK: - Cloak libraries (the graph is docs/module-graph.txt, checked by scripts/check-imports.sh)
        // File I/O, atomic writes, paths, digests, JSON, the clock: what every layer may use.
        .target(name: "CloakSupport", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "CloakImage", dependencies: ["CPNG", "CJPEGShim", "CZlib", "CloakSupport"]),
        // Engine: tensors and kernels (oneDNN behind one wrapper file), then layers, models, training.
        .target(name: "CloakTensor", dependencies: ["CDNNL"]),
        .target(name: "CloakNN", dependencies: ["CloakTensor", "CloakSupport"]),
        .target(name: "CloakData", dependencies: ["CloakImage", "CloakSupport", "CZlib"]),
        .target(name: "CloakStore", dependencies: ["CloakSupport", .product(name: "GRDB", package: "GRDB.swift")]),
        .target(name: "CloakFace", dependencies: ["CloakImage", "CloakNN", "CloakTensor", "CloakSupport"]),
        // The data-set protections: tensors and settings in, tensors and measurements out; no files, store or CLI.
        .target(name: "CloakDatasetProtection", dependencies: ["CloakImage", "CloakNN", "CloakTensor", "CloakSupport"]),
        // Jobs (resumable, recorded) and reports.
        .target(name: "CloakKit", dependencies: [
            "CloakSupport", "CloakImage", "CloakData", "CloakStore", "CloakNN", "CloakTensor", "CloakFace",
            "CloakDatasetProtection",
        ]),
        .executableTarget(name: "cloak", dependencies: [
            "CloakKit", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // MARK: - Benchmarks (`make bench-*`)
        .executableTarget(name: "cloak-bench-engine", dependencies: ["CloakNN", "CloakTensor", "CloakSupport"], path: "bench/engine",
                          exclude: ["compare.py"]),

        // MARK: - Tests
        .target(name: "CloakTestSupport", dependencies: ["CloakSupport"], path: "Tests/CloakTestSupport"),
        .testTarget(name: "CloakSupportTests", dependencies: ["CloakSupport"]),
        .testTarget(name: "CloakTensorTests", dependencies: ["CloakTensor"]),
        .testTarget(name: "CloakNNTests", dependencies: ["CloakNN", "CloakTensor", "CloakSupport", "CZlib"], exclude: ["Fixtures"]),
        .testTarget(name: "CloakImageTests", dependencies: ["CloakImage", "CloakSupport", "CJPEGShim", "CPNG", "CZlib"]),
        .testTarget(name: "CloakDataTests", dependencies: ["CloakData", "CloakImage", "CloakSupport", "CloakTestSupport", "CZlib"]),
        .testTarget(name: "CloakFaceTests", dependencies: ["CloakFace", "CloakImage", "CloakNN", "CloakTensor", "CloakSupport"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "CloakStoreTests", dependencies: [
            "CloakStore", "CloakSupport", "CloakTestSupport", .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .testTarget(name: "CloakDatasetProtectionTests", dependencies: ["CloakDatasetProtection", "CloakImage", "CloakNN", "CloakTensor"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "CloakKitTests", dependencies: ["CloakKit", "CloakDatasetProtection", "CloakFace", "CloakNN", "CloakTensor", "CloakImage", "CloakData", "CloakStore", "CloakSupport", "CloakTestSupport"]),
        .testTarget(name: "CloakCLITests", dependencies: ["cloak", "CloakKit", "CloakData", "CloakImage", "CloakStore", "CloakSupport", "CloakTestSupport", "CZlib"],
                    exclude: ["Snapshots"]),
    ],
    swiftLanguageModes: [.v6]
)
