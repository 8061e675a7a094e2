// The GEMM backend seam (in Tensors so every model module — Models' GAR, SAM2 — shares it): every
// weight matrix product of the models (vision blocks, patch and mask
// embeddings, projector, decoder, head) goes through `LinearLayer.apply`. How a matrix is held and
// multiplied is fixed once, at load, by the `Precision` the caller passes to `GARModel.load`
// (`LinearLayer.init` packs the weights into the backend's layout); model files never pick kernels.
//
// f32 (the exact path, parity with the PyTorch fp32 reference; weights kept as stored):
//   f32 weights:                      rows T < gemvRowLimit: cblas_sgemv / sgemm (`Kernels.linear`);
//                                     larger T: oneDNN's f32 matmul (`Kernels.matmulF32`, 4–5× the
//                                     misdetected OpenBLAS's sgemm on the development machine);
//   bf16-stored weights (the Llama decoder of every GAR checkpoint; half the memory and half the
//   bytes read per decoded token; widening bf16 to f32 is exact, so results equal an f32 model's
//   up to summation order):
//     rows T < gemvRowLimit (decoding): fused bf16 GEMV in CKernels (gk_gemv_bf16), rows of W split
//                                       across threads;
//     larger T (prefill):               W is widened to f32 in chunks of output rows into caller
//                                       scratch, then oneDNN's f32 matmul (big M = T).
// bf16 (fast path; bf16 inputs, f32 accumulation): f32 weights rounded to bf16 (with a residue
//   matrix when inexact) and reordered once into oneDNN's preferred layout (`BF16Matrix`).
//   Faithful (the default, GAR): activations are split into two bf16 halves (~16 significant bits;
//   twice the arithmetic). Plain (`faithfulBF16: false`, SAM2): weights and activations rounded once
//   to bf16 — PyTorch's bf16 numerics at the full bf16 rate, for models whose outputs tolerate it
//   (binary masks). bf16-stored weights (the decoder and head of every GAR checkpoint) are exact in
//   bf16 and keep their row-major layout, which oneDNN reads as well: rows T < gemvRowLimit
//   (decoding) then run on the bf16 GEMV of CKernels (f32 activations, exact products, at memory
//   bandwidth) instead of oneDNN's GEMM.
// int8 (fast path; Int8Matmul.swift): weights quantised once to int8 with per-row scales
//   (`Int8Matrix`); T < gemvRowLimit: activations quantised per block of 32, int8 × int8 GEMV
//   (CKernels gk_gemv_q8x, VNNI); larger T: activations quantised per row, oneDNN's int8 matmul.
//
// Layout convention: `x [T, C]` row-major, `W [OC, C]` (PyTorch `[out, in]`), `y [T, OC]`.
import CKernels

/// A weight matrix `[rows, cols]` in its storage format.
public enum MatrixStorage: Sendable {
    case f32([Float])
    /// bf16 bit patterns (the upper 16 bits of the f32 value).
    case bf16([UInt16])

    public var count: Int {
        switch self {
        case let .f32(v): return v.count
        case let .bf16(v): return v.count
        }
    }

    /// Bytes held.
    public var bytes: Int {
        switch self {
        case let .f32(v): return v.count * 4
        case let .bf16(v): return v.count * 2
        }
    }

    /// Row `r` of a `[?, cols]` matrix widened to f32 into `out` (embedding lookup).
    public func copyRow(_ r: Int, cols: Int, into out: UnsafeMutablePointer<Float>) {
        switch self {
        case let .f32(v):
            v.withUnsafeBufferPointer { out.update(from: $0.baseAddress! + r * cols, count: cols) }
        case let .bf16(v):
            v.withUnsafeBufferPointer { gk_bf16_to_f32($0.baseAddress! + r * cols, out, cols) }
        }
    }
}

/// A weight matrix in the layout of the backend that multiplies it.
public enum PackedWeights: Sendable {
    /// f32 path, f32 weights as stored.
    case f32([Float])
    /// f32 path, bf16 weights as stored (widened to f32 for the arithmetic).
    case bf16Stored([UInt16])
    /// bf16 path: oneDNN's packed bf16 layout.
    case bf16Packed(BF16Matrix)
    /// int8 path: int8 weights with per-row scales.
    case int8(Int8Matrix)

    /// Packs `storage [rows, cols]` for `precision`. `faithfulBF16` (bf16 only): f32 weights keep
    /// their bf16 rounding residue; without it they are rounded once to bf16.
    public init(_ storage: MatrixStorage, rows: Int, cols: Int, precision: Precision, faithfulBF16: Bool = true) {
        switch (precision, storage) {
        case let (.f32, .f32(w)): self = .f32(w)
        case let (.f32, .bf16(w)): self = .bf16Stored(w)
        case let (.bf16, .f32(w)) where !faithfulBF16:
            var bits = [UInt16](repeating: 0, count: w.count)
            w.withUnsafeBufferPointer { wb in bits.withUnsafeMutableBufferPointer { Convert.f32ToBF16(wb, $0) } }
            self = .bf16Packed(bits.withUnsafeBufferPointer { BF16Matrix(bf16: $0, rows: rows, cols: cols) })
        case let (.bf16, .f32(w)): self = .bf16Packed(w.withUnsafeBufferPointer { BF16Matrix.rounding(f32: $0, rows: rows, cols: cols) })
        case let (.bf16, .bf16(w)): self = .bf16Packed(w.withUnsafeBufferPointer { BF16Matrix(bf16: $0, rows: rows, cols: cols, plain: true) })
        case let (.int8, .f32(w)): self = .int8(w.withUnsafeBufferPointer { Int8Matrix(quantizing: $0, rows: rows, cols: cols) })
        case let (.int8, .bf16(w)): self = .int8(w.withUnsafeBufferPointer { Int8Matrix(quantizing: $0, rows: rows, cols: cols) })
        }
    }

    /// Bytes held.
    public var bytes: Int {
        switch self {
        case let .f32(w): return w.count * 4
        case let .bf16Stored(w): return w.count * 2
        case let .bf16Packed(m): return m.bytes
        case let .int8(m): return m.bytes
        }
    }

    /// The kernel that multiplies this matrix, for `--verbose`.
    public var kernelName: String {
        switch self {
        case .f32: return "oneDNN f32 matmul; rows < \(LinearLayer.gemvRowLimit): OpenBLAS sgemv/sgemm (f32)"
        case .bf16Stored: return "bf16-stored: CKernels GEMV (decoding) / widen + oneDNN f32 matmul (f32)"
        case let .bf16Packed(m):
            let gemv = m.isPlain ? "; one-row products: CKernels bf16 GEMV" : ""
            return "oneDNN matmul \(m.implementation) (bf16, f32 accumulation)\(gemv)"
        case let .int8(m): return "int8 weights: CKernels GEMV (decoding) / oneDNN matmul \(m.implementation) (s8 × s8 → s32)"
        }
    }
}

/// `y = x · Wᵀ + b` with `W: [outFeatures, inFeatures]`.
public struct LinearLayer: Sendable {
    public let outFeatures: Int
    public let inFeatures: Int
    public let weight: PackedWeights
    public let bias: [Float]?
    /// bf16 path: activations split into two bf16 halves (true, GAR) or rounded once (false, SAM2).
    public let faithfulBF16: Bool

    /// Row counts below this use the bf16 GEMV (one pass over the weights per row); above, the
    /// weights are widened once per call and multiplied with sgemm (f32 path, bf16-stored weights).
    public static let gemvRowLimit = 4
    /// Scratch floats `apply` may use for widening (callers provide at least this many, or
    /// `inFeatures` if larger): 32 MB, so a widened chunk stays a large sgemm operand.
    public static let widenChunkElements = 1 << 23

    /// Packs `weight` for `precision` (done once, at load). `faithfulBF16: false` selects plain
    /// bf16 (weights and activations rounded once) on the bf16 path; f32 ignores it.
    public init(outFeatures: Int, inFeatures: Int, weight: MatrixStorage, bias: [Float]? = nil, precision: Precision,
                faithfulBF16: Bool = true) {
        precondition(weight.count == outFeatures * inFeatures, "LinearLayer: \(weight.count) weights for [\(outFeatures), \(inFeatures)]")
        precondition(bias == nil || bias!.count == outFeatures, "LinearLayer: bias size")
        self.outFeatures = outFeatures
        self.inFeatures = inFeatures
        self.weight = PackedWeights(weight, rows: outFeatures, cols: inFeatures, precision: precision, faithfulBF16: faithfulBF16)
        self.bias = bias
        self.faithfulBF16 = faithfulBF16
    }

    /// Bytes of weights and bias held.
    public var bytes: Int { weight.bytes + 4 * (bias?.count ?? 0) }

    /// `out[t, o] = Σ_c x[t, c] · W[o, c] + b[o]` for `t < T`; `x: [T, inFeatures]` (row stride
    /// `inFeatures`), `out: [T, outFeatures]`. `scratch` is used for bf16-stored weights on the f32
    /// path with T ≥ `gemvRowLimit` and must then hold at least `min(widenChunkElements, W.count)`
    /// floats (`inFeatures` at the very least); other paths ignore it.
    /// `activation` is applied to the result after the bias: inside oneDNN's kernel on the plain
    /// bf16 path (no extra pass over the output), elementwise afterwards on the others (f32: the
    /// same `Kernels.gelu` / `Kernels.relu` a separate call would run, so results are unchanged).
    public func apply(_ x: UnsafePointer<Float>, rows T: Int, out: UnsafeMutablePointer<Float>,
               scratch: UnsafeMutableBufferPointer<Float>, activation: MatmulActivation = .none) {
        guard T > 0 else { return }
        let C = inFeatures, OC = outFeatures
        if case let .bf16Packed(m) = weight, !faithfulBF16, m.residue == nil, !(m.isPlain && T < LinearLayer.gemvRowLimit) {
            if let bias {
                bias.withUnsafeBufferPointer { m.multiply(x, rows: T, out: out, split: false, bias: $0.baseAddress!, activation: activation) }
            } else {
                m.multiply(x, rows: T, out: out, split: false, activation: activation)
            }
            return
        }
        defer { LinearLayer.activate(activation, out, count: T * OC) }
        switch weight {
        case let .f32(w) where T >= LinearLayer.gemvRowLimit:
            w.withUnsafeBufferPointer { Kernels.matmulF32(x, rows: T, weight: $0.baseAddress!, outFeatures: OC, inFeatures: C, out: out, outRowStride: OC) }
        case let .f32(w):
            w.withUnsafeBufferPointer { wb in
                let xb = UnsafeBufferPointer(start: x, count: T * C), ob = UnsafeMutableBufferPointer(start: out, count: T * OC)
                if let bias {
                    bias.withUnsafeBufferPointer { Kernels.linear(x: xb, weight: wb, bias: $0, out: ob, rows: T, inFeatures: C, outFeatures: OC) }
                } else {
                    Kernels.linear(x: xb, weight: wb, bias: nil, out: ob, rows: T, inFeatures: C, outFeatures: OC)
                }
            }
            return
        case let .bf16Stored(w):
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
                        Kernels.matmulF32(x, rows: T, weight: scratch.baseAddress!, outFeatures: n, inFeatures: C,
                                          out: out + o0, outRowStride: OC)
                        o0 += n
                    }
                }
            }
        case let .bf16Packed(m):
            if m.isPlain && T < LinearLayer.gemvRowLimit {
                for t in 0 ..< T { m.gemv(x + t * C, out: out + t * OC) }
            } else {
                m.multiply(x, rows: T, out: out, split: faithfulBF16)
            }
        case let .int8(m):
            if T < LinearLayer.gemvRowLimit {
                for t in 0 ..< T { m.gemv(x + t * C, out + t * OC) }
            } else {
                m.multiply(x, rows: T, out: out)
            }
        }
        if let bias {
            bias.withUnsafeBufferPointer { bb in
                Kernels.addRowVector(UnsafeMutableBufferPointer(start: out, count: T * OC), bb, rows: T, cols: OC)
            }
        }
    }

    // MARK: blocks of a wide layer (f32 path)

    /// Whether `applyRows` / `applyColumns` can run on this layer: weights the f32 path reads as
    /// stored (`.f32`, `.bf16Stored`), no bias. (Packed bf16 and int8 matrices are laid out for
    /// whole products.)
    public var supportsBlocks: Bool {
        guard bias == nil else { return false }
        switch weight {
        case .f32, .bf16Stored: return true
        case .bf16Packed, .int8: return false
        }
    }

    /// `out[t, o − r.lowerBound] = Σ_c x[t, c] · W[o, c]` for the output features `o ∈ r` and
    /// `t < T`: `x [T, inFeatures]`, `out` rows of stride `outRowStride ≥ r.count`. f32 arithmetic
    /// on oneDNN (the rows of bf16-stored weights widened into `scratch` in chunks, as `apply`).
    /// Needs `supportsBlocks`. Naive twin: `Reference.linear` on the rows.
    public func applyRows(_ r: Range<Int>, _ x: UnsafePointer<Float>, rows T: Int, out: UnsafeMutablePointer<Float>,
                          outRowStride: Int, scratch: UnsafeMutableBufferPointer<Float>) {
        precondition(supportsBlocks && r.lowerBound >= 0 && r.upperBound <= outFeatures && outRowStride >= r.count, "LinearLayer.applyRows: \(r)")
        guard T > 0, !r.isEmpty else { return }
        let C = inFeatures
        switch weight {
        case let .f32(w):
            w.withUnsafeBufferPointer {
                Kernels.matmulF32(x, rows: T, weight: $0.baseAddress! + r.lowerBound * C, outFeatures: r.count, inFeatures: C,
                                  out: out, outRowStride: outRowStride)
            }
        case let .bf16Stored(w):
            w.withUnsafeBufferPointer { wb in
                let chunkRows = max(1, min(r.count, scratch.count / C))
                precondition(scratch.count >= chunkRows * C, "LinearLayer.applyRows: scratch holds \(scratch.count) < \(C) floats")
                var o0 = r.lowerBound
                while o0 < r.upperBound {
                    let n = min(chunkRows, r.upperBound - o0)
                    Convert.bf16ToF32(UnsafeBufferPointer(start: wb.baseAddress! + o0 * C, count: n * C),
                                      UnsafeMutableBufferPointer(rebasing: scratch[0 ..< n * C]))
                    Kernels.matmulF32(x, rows: T, weight: scratch.baseAddress!, outFeatures: n, inFeatures: C,
                                      out: out + (o0 - r.lowerBound), outRowStride: outRowStride)
                    o0 += n
                }
            }
        case .bf16Packed, .int8:
            preconditionFailure("LinearLayer.applyRows: \(weight.kernelName)")
        }
    }

    /// `out[t, o] (+)= Σ_{c ∈ k} x[t, c − k.lowerBound] · W[o, c]` for every output feature `o` and
    /// `t < T`: the share of input features `k` in the product, added to `out` with `accumulate`;
    /// `x [T, k.count]` (row stride `k.count`), `out [T, outFeatures]`. The columns `k` of W are gathered (and widened) into
    /// `scratch` in chunks of output rows, then multiplied in f32 on oneDNN. Needs
    /// `supportsBlocks`; `scratch` must hold at least `k.count` floats.
    public func applyColumns(_ k: Range<Int>, _ x: UnsafePointer<Float>, rows T: Int, out: UnsafeMutablePointer<Float>,
                             accumulate: Bool = false, scratch: UnsafeMutableBufferPointer<Float>) {
        precondition(supportsBlocks && k.lowerBound >= 0 && k.upperBound <= inFeatures, "LinearLayer.applyColumns: \(k)")
        guard T > 0, !k.isEmpty else { return }
        let C = inFeatures, OC = outFeatures, B = k.count
        let chunkRows = max(1, min(OC, scratch.count / B))
        precondition(scratch.count >= chunkRows * B, "LinearLayer.applyColumns: scratch holds \(scratch.count) < \(B) floats")
        let s = scratch.baseAddress!
        var o0 = 0
        while o0 < OC {
            let n = min(chunkRows, OC - o0)
            switch weight {
            case let .f32(w):
                w.withUnsafeBufferPointer { wb in
                    parallelFor(n, grain: max(1, (1 << 16) / B)) { rows in
                        for o in rows { (s + o * B).update(from: wb.baseAddress! + (o0 + o) * C + k.lowerBound, count: B) }
                    }
                }
            case let .bf16Stored(w):
                w.withUnsafeBufferPointer { wb in
                    parallelFor(n, grain: max(1, (1 << 16) / B)) { rows in
                        for o in rows { gk_bf16_to_f32(wb.baseAddress! + (o0 + o) * C + k.lowerBound, s + o * B, B) }
                    }
                }
            case .bf16Packed, .int8:
                preconditionFailure("LinearLayer.applyColumns: \(weight.kernelName)")
            }
            Kernels.matmulF32(x, rows: T, weight: s, outFeatures: n, inFeatures: B, out: out + o0, outRowStride: OC, accumulate: accumulate)
            o0 += n
        }
    }

    /// Applies `activation` in place to `count` values.
    static func activate(_ activation: MatmulActivation, _ y: UnsafeMutablePointer<Float>, count: Int) {
        let b = UnsafeMutableBufferPointer(start: y, count: count)
        switch activation {
        case .none: return
        case .gelu: Kernels.gelu(UnsafeBufferPointer(b), b)
        case .relu: Kernels.relu(UnsafeBufferPointer(b), b)
        }
    }

    /// `y[rows] = W[rows, cols] · x[cols]` with bf16 `W`, rows split across threads.
    public static func gemvBF16(_ w: UnsafePointer<UInt16>, rows: Int, cols: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
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
