// Shared helpers: seeded random data, error measures, golden fixtures.
import Checkpoints
import Foundation
import Tensors

/// SplitMix64: small, seeded, identical on every platform.
struct SeededRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    /// Uniform in [lo, hi).
    mutating func uniform(_ lo: Float, _ hi: Float) -> Float { lo + (hi - lo) * Float(unit()) }

    /// Standard normal (Box–Muller).
    mutating func normal() -> Float {
        let u1 = max(unit(), 1e-300), u2 = unit()
        return Float((-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2))
    }

    mutating func normals(_ n: Int, scale: Float = 1) -> [Float] { (0 ..< n).map { _ in normal() * scale } }

    mutating func tensor(_ shape: [Int], scale: Float = 1) -> Tensor {
        Tensor(shape: shape, normals(Tensor.count(of: shape), scale: scale))
    }

    mutating func bytes(_ n: Int, below limit: UInt8 = 255) -> [UInt8] {
        (0 ..< n).map { _ in UInt8(truncatingIfNeeded: next() % (UInt64(limit) + 1)) }
    }
}

/// Largest absolute difference.
func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "maxAbsDiff: \(a.count) vs \(b.count) values")
    var m: Float = 0
    for i in 0 ..< a.count {
        let d = abs(a[i] - b[i])
        if d.isNaN { return .infinity }
        m = max(m, d)
    }
    return m
}

/// Largest absolute difference relative to the largest |b| (scale-free).
func maxRelDiff(_ a: [Float], _ b: [Float]) -> Float {
    let scale = b.reduce(Float(0)) { max($0, abs($1)) }
    return maxAbsDiff(a, b) / max(scale, .leastNormalMagnitude)
}

/// Normalised mean squared error Σ(a−b)² / Σb² (ggml test-backend-ops' measure).
func nmse(_ a: [Float], _ b: [Float]) -> Double {
    precondition(a.count == b.count)
    var num = 0.0, den = 0.0
    for i in 0 ..< a.count {
        let d = Double(a[i]) - Double(b[i])
        num += d * d
        den += Double(b[i]) * Double(b[i])
    }
    return den == 0 ? num : num / den
}

/// The repository root, found from this file's path (Tests/TensorsTests/TestSupport.swift).
let repositoryRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// An op golden written by Tests/Fixtures/generate/make_op_goldens.py.
struct Golden {
    let file: SafeTensorsFile

    init(_ name: String) throws {
        file = try SafeTensorsFile(path: repositoryRoot.appendingPathComponent("Tests/Fixtures/ops/\(name).safetensors").path)
    }

    func tensor(_ key: String) throws -> Tensor { try file.tensor(key) }
    func floats(_ key: String) throws -> [Float] { try file.tensor(key).storage }
    func ints(_ key: String) throws -> [Int] { try file.view(key).integers().map { Int($0) } }
    func int64s(_ key: String) throws -> [Int64] { try file.view(key).integers() }
    func bytes(_ key: String) throws -> [UInt8] { try file.view(key).uint8Values() }
    func shape(_ key: String) -> [Int] { file.info(key)?.shape ?? [] }
    func has(_ key: String) -> Bool { file.info(key) != nil }
}

/// Runs `body` with the given thread count for this test only (tests running at the same time keep theirs).
func withThreads<T>(_ n: Int, _ body: () throws -> T) rethrows -> T {
    try Threading.withCount(n, body)
}
