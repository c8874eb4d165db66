// swift-tools-version:6.0
//
// Cloak: protect images from machine learning, record what was done, measure whether it holds.
//
// Module graph (one-way; see README "Code layout"):
//
//   cloak (executable, ArgumentParser)
//     -> CloakKit (pipelines)
//          -> CloakData  -> CloakImage -> CPNG, CJPEGShim(C) -> CJPEG ; CZlib
//          -> CloakStore -> GRDB, Crypto
//
// Build for this machine kind with `-Xswiftc -target-cpu -Xswiftc znver4` (the Makefile does);
// the manifest itself stays portable.
import PackageDescription

let package = Package(
    name: "Cloak",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "cloak", targets: ["cloak"]),

    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),


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

        // MARK: - Cloak libraries
        .target(name: "CloakImage", dependencies: ["CPNG", "CZlib"]),
        // Engine: tensors and kernels (oneDNN behind one wrapper file), then layers, models, training.
        .target(name: "CloakTensor", dependencies: ["CDNNL"]),
        .target(name: "CloakNN", dependencies: ["CloakTensor"]),
        .executableTarget(name: "cloak-bench-engine", dependencies: ["CloakNN"], path: "bench/engine",
                          exclude: ["compare.py"]),
        .executableTarget(name: "cloak", dependencies: [
            "CloakImage",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // MARK: - Tests
        .testTarget(name: "CloakTensorTests", dependencies: ["CloakTensor"]),
        .testTarget(name: "CloakNNTests", dependencies: ["CloakNN", "CZlib"],
                    exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)
