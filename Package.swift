// swift-tools-version: 6.0
//
// gar — Grasp Any Region on CPUs. Target DAG (bottom to top; each target lists every module it
// imports — see ARCHITECTURE.md §1):
//
//   CFFmpeg, COpenBLAS, CDNNL, CKernels   C: system libraries (FFmpeg, OpenBLAS, oneDNN) and small -O3 kernels
//   Basics                                                  dependency-free helpers shared by several layers (SplitMix64, peak RSS)
//   Tensors       ← COpenBLAS, CDNNL, CKernels              Tensor + ops on OpenBLAS (naive twins for tests)
//   JSONCore                                                strict JSON parser (safetensors headers, configs, tokenizer files)
//   Checkpoints   ← Basics, Tensors, CKernels, JSONCore     safetensors (mmap, shards), config.json, strict loader
//   Tokenizers    ← JSONCore                                Llama-3 byte-level BPE, PLM chat template
//   Models        ← Basics, Tensors, CKernels, Checkpoints, Tokenizers
//                                                           Perception Encoder, projector, Llama decoder, GAR
//   SAM2          ← Basics, Tensors, Checkpoints            SAM 2.1 (Hiera, FPN, prompt encoder, mask decoder, video components)
//   Video         ← CFFmpeg                                 FFmpeg decode/seek/sample, still images
//   Tracking      ← Basics, Video                           masks, prompt -> mask, propagation, J&F
//   Pipeline      ← Basics, Models, SAM2, Video, Tracking, Tensors, Checkpoints, Tokenizers, Yams
//                                                           jobs (caption, QA, batch, bench), YAML specs
//   Server        ← Pipeline, Models, Video, Tracking, Basics, Hummingbird, NIOCore
//                                                           `gar serve`: HTTP API, web page, bounded work queues
//   gar (GARCLI)  ← Pipeline, Server, Models, Video, Tensors, Checkpoints, ArgumentParser
//                                                           thin command-line shell
//
// Build flags. Numeric targets are compiled with -O even in debug builds (`swift test` is a
// debug build and SIMD code is ~100x slower unoptimised; STYLE.md §8 #4), and C kernels with -O3.
// No -target-cpu flag is set by default: release binaries must run on any x86-64 (or arm64)
// machine. CPU-specific code (F16C, AVX2, FMA) lives in CKernels behind runtime dispatch.
// To build for the local CPU only, set GAR_TARGET_CPU (e.g. `GAR_TARGET_CPU=native swift build
// -c release`); binaries built that way must not be shipped to other machines.
import PackageDescription
import Foundation

let targetCPU = ProcessInfo.processInfo.environment["GAR_TARGET_CPU"]
let cpuFlags: [String] = targetCPU.map { ["-target-cpu", $0] } ?? []

/// Swift settings for compute-heavy targets: optimised in debug too.
let numericSwift: [SwiftSetting] = [
    .unsafeFlags(["-O"], .when(configuration: .debug)),
    .unsafeFlags(cpuFlags),
]
let plainSwift: [SwiftSetting] = [.unsafeFlags(cpuFlags)]

let package = Package(
    name: "gar",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "gar", targets: ["GARCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.0.0"),
    ],
    targets: [
        // MARK: C layer
        .systemLibrary(name: "CFFmpeg", pkgConfig: "libavformat",
                       providers: [.apt(["libavformat-dev", "libavcodec-dev", "libswscale-dev", "libavutil-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"])]),
        .target(name: "CKernels",
                cSettings: [.unsafeFlags(["-O3", "-fno-math-errno"])]),

        // MARK: numerics and model core
        .target(name: "Basics", exclude: ["README.md"], swiftSettings: plainSwift),
        .target(name: "Tensors", dependencies: ["COpenBLAS", "CDNNL", "CKernels"], exclude: ["README.md"], swiftSettings: numericSwift),
        .target(name: "JSONCore", exclude: ["README.md"], swiftSettings: numericSwift),
        .target(name: "Checkpoints", dependencies: ["Basics", "Tensors", "CKernels", "JSONCore"], exclude: ["README.md"], swiftSettings: numericSwift),
        .target(name: "Tokenizers", dependencies: ["JSONCore"], exclude: ["README.md"], swiftSettings: numericSwift),
        .target(name: "Models", dependencies: ["Basics", "Tensors", "CKernels", "Checkpoints", "Tokenizers"], exclude: ["README.md"],
                swiftSettings: numericSwift),
        .target(name: "SAM2", dependencies: ["Basics", "Tensors", "Checkpoints"], exclude: ["README.md"], swiftSettings: numericSwift),

        // MARK: media
        .target(name: "Video", dependencies: ["CFFmpeg"], exclude: ["README.md"], swiftSettings: numericSwift),
        .target(name: "Tracking", dependencies: ["Basics", "Video"], exclude: ["README.md"], swiftSettings: numericSwift),

        // MARK: product
        .target(name: "Pipeline",
                dependencies: ["Basics", "Models", "SAM2", "Video", "Tracking", "Tensors", "Checkpoints", "Tokenizers",
                               .product(name: "Yams", package: "Yams")],
                exclude: ["README.md"],
                swiftSettings: plainSwift),
        .target(name: "Server",
                dependencies: ["Pipeline", "Models", "Video", "Tracking", "Basics",
                               .product(name: "Hummingbird", package: "hummingbird"),
                               .product(name: "NIOCore", package: "swift-nio")],
                exclude: ["README.md"],
                swiftSettings: plainSwift),
        .executableTarget(name: "GARCLI",
                          dependencies: ["Pipeline", "Server", "Models", "Video", "Tensors", "Checkpoints",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          swiftSettings: plainSwift),

        // MARK: tests
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: plainSwift),
        .testTarget(name: "TensorsTests", dependencies: ["Tensors", "Checkpoints", "CKernels"], swiftSettings: numericSwift),
        .testTarget(name: "CheckpointsTests", dependencies: ["Checkpoints", "Tensors", "JSONCore"], swiftSettings: numericSwift),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "JSONCore", "TestSupport"], swiftSettings: numericSwift),
        .testTarget(name: "ModelsTests", dependencies: ["Basics", "Models", "Tensors", "Checkpoints", "Tokenizers", "Video", "CKernels", "JSONCore", "TestSupport"],
                    swiftSettings: numericSwift),
        .testTarget(name: "SAM2Tests", dependencies: ["SAM2", "Tensors", "Checkpoints", "JSONCore", "Basics", "TestSupport"], swiftSettings: numericSwift),
        .testTarget(name: "VideoTests", dependencies: ["Video", "TestSupport"], swiftSettings: numericSwift),
        .testTarget(name: "TrackingTests", dependencies: ["Basics", "Tracking", "Video"], swiftSettings: numericSwift),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "Models", "Video", "Tracking", "Tensors", "Checkpoints", "Basics", "TestSupport"], swiftSettings: plainSwift),
        .testTarget(name: "ServerTests", dependencies: ["Server", "Pipeline", "Models", "Video", "Tracking", "JSONCore", "TestSupport",
                                                        .product(name: "Hummingbird", package: "hummingbird")],
                    swiftSettings: plainSwift),
        .testTarget(name: "GARCLITests", dependencies: ["GARCLI", "TestSupport", "JSONCore", "Video"], swiftSettings: plainSwift),
    ]
)
