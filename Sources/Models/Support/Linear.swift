// Linear layers whose weight stays in the checkpoint's storage format.
//
// The Llama decoder keeps its matrices as bf16 bit patterns when the checkpoint stores bf16 (every
// GAR checkpoint does): half the memory of f32, and half the bytes read per decoded token, which is
// what a one-token step is bound by. Arithmetic is still f32 everywhere — widening bf16 to f32 is
// exact — so results equal an f32 model's up to summation order:
//
//   rows T < gemvRowLimit (decoding): fused bf16 GEMV in CKernels (gk_gemv_bf16), rows of W split
//                                     across threads;
//   larger T (prefill):               W is widened to f32 in chunks of output rows into caller
//                                     scratch, then cblas_sgemm (big M = T).
//
// Layout convention: `x [T, C]` row-major, `W [OC, C]` (PyTorch `[out, in]`), `y [T, OC]`.
import CKernels
import Tensors

/// A weight matrix `[rows, cols]` in its storage format.
enum MatrixStorage: Sendable {
    case f32([Float])
    /// bf16 bit patterns (the upper 16 bits of the f32 value).
    case bf16([UInt16])

    var count: Int {
        switch self {
        case let .f32(v): return v.count
        case let .bf16(v): return v.count
        }
    }

    /// Bytes held.
    var bytes: Int {
        switch self {
        case let .f32(v): return v.count * 4
        case let .bf16(v): return v.count * 2
        }
    }

    /// Row `r` of a `[?, cols]` matrix widened to f32 into `out` (embedding lookup).
    func copyRow(_ r: Int, cols: Int, into out: UnsafeMutablePointer<Float>) {
        switch self {
        case let .f32(v):
            v.withUnsafeBufferPointer { out.update(from: $0.baseAddress! + r * cols, count: cols) }
        case let .bf16(v):
            v.withUnsafeBufferPointer { gk_bf16_to_f32($0.baseAddress! + r * cols, out, cols) }
        }
    }
}

/// `y = x · Wᵀ + b` with `W: [outFeatures, inFeatures]`.
struct LinearLayer: Sendable {
    let outFeatures: Int
    let inFeatures: Int
    let weight: MatrixStorage
    let bias: [Float]?

    /// Row counts below this use the bf16 GEMV (one pass over the weights per row); above, the
    /// weights are widened once per call and multiplied with sgemm.
    static let gemvRowLimit = 4
    /// Scratch floats `apply` may use for widening (callers provide at least this many, or
    /// `inFeatures` if larger): 32 MB, so a widened chunk stays a large sgemm operand.
    static let widenChunkElements = 1 << 23

    init(outFeatures: Int, inFeatures: Int, weight: MatrixStorage, bias: [Float]? = nil) {
        precondition(weight.count == outFeatures * inFeatures, "LinearLayer: \(weight.count) weights for [\(outFeatures), \(inFeatures)]")
        precondition(bias == nil || bias!.count == outFeatures, "LinearLayer: bias size")
        self.outFeatures = outFeatures
        self.inFeatures = inFeatures
        self.weight = weight
        self.bias = bias
    }

    /// `out[t, o] = Σ_c x[t, c] · W[o, c] + b[o]` for `t < T`; `x: [T, inFeatures]` (row stride
    /// `inFeatures`), `out: [T, outFeatures]`. `scratch` is used for bf16 weights with T ≥
    /// `gemvRowLimit` and must then hold at least `min(widenChunkElements, W.count)` floats
    /// (`inFeatures` at the very least).
    func apply(_ x: UnsafePointer<Float>, rows T: Int, out: UnsafeMutablePointer<Float>,
               scratch: UnsafeMutableBufferPointer<Float>) {
        guard T > 0 else { return }
        let C = inFeatures, OC = outFeatures
        switch weight {
        case let .f32(w):
            w.withUnsafeBufferPointer { wb in
                if let bias {
                    bias.withUnsafeBufferPointer { bb in
                        Kernels.linear(x: UnsafeBufferPointer(start: x, count: T * C), weight: wb, bias: bb,
                                       out: UnsafeMutableBufferPointer(start: out, count: T * OC), rows: T, inFeatures: C, outFeatures: OC)
                    }
                } else {
                    Kernels.linear(x: UnsafeBufferPointer(start: x, count: T * C), weight: wb, bias: nil,
                                   out: UnsafeMutableBufferPointer(start: out, count: T * OC), rows: T, inFeatures: C, outFeatures: OC)
                }
            }
            return
        case let .bf16(w):
            w.withUnsafeBufferPointer { wb in
                let wp = wb.baseAddress!
                if T < LinearLayer.gemvRowLimit {
                    for t in 0 ..< T { LinearLayer.gemvBF16(wp, rows: OC, cols: C, x: x + t * C, y: out + t * OC) }
                } else {
                    let chunkRows = max(1, min(OC, max(scratch.count, C) / C))
                    precondition(scratch.count >= chunkRows * C, "LinearLayer.apply: scratch holds \(scratch.count) < \(C) floats")
                    var o0 = 0
                    while o0 < OC {
                        let n = min(chunkRows, OC - o0)
                        Convert.bf16ToF32(UnsafeBufferPointer(start: wp + o0 * C, count: n * C),
                                          UnsafeMutableBufferPointer(rebasing: scratch[0 ..< n * C]))
                        Kernels.gemm(transA: false, transB: true, m: T, n: n, k: C, alpha: 1, a: x, lda: C,
                                     b: scratch.baseAddress!, ldb: C, beta: 0, c: out + o0, ldc: OC)
                        o0 += n
                    }
                }
            }
        }
        if let bias {
            bias.withUnsafeBufferPointer { bb in
                Kernels.addRowVector(UnsafeMutableBufferPointer(start: out, count: T * OC), bb, rows: T, cols: OC)
            }
        }
    }

    /// `y[rows] = W[rows, cols] · x[cols]` with bf16 `W`, rows split across threads.
    static func gemvBF16(_ w: UnsafePointer<UInt16>, rows: Int, cols: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        // ~64 KB of weights per chunk at least, so thread hand-off stays cheap.
        let grain = max(16, (1 << 15) / max(cols, 1))
        parallelFor(rows, grain: grain) { r in
            gk_gemv_bf16(w + r.lowerBound * cols, cols, r.count, cols, x, y + r.lowerBound)
        }
    }
}

extension Reference {
    /// Naive twin of `gk_gemv_bf16` / `LinearLayer.gemvBF16`: Double accumulation.
    public static func gemvBF16(_ w: UnsafePointer<UInt16>, rows: Int, cols: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        for r in 0 ..< rows {
            var s = 0.0
            for c in 0 ..< cols {
                s += Double(Float(bitPattern: UInt32(w[r * cols + c]) << 16)) * Double(x[c])
            }
            y[r] = Float(s)
        }
    }
}
