// The int8 precision's weight matrix (`--precision int8`; README "Precision", "Precision
// faithfulness"). Weights are quantised ONCE, at load: symmetric int8 with one f32 scale per
// output channel (row of W; `block` columns per scale in general — per-block scales are what the
// GEMV supports, the GEMM needs one scale per row). One copy of the int8 weights serves both
// products:
//   - one-row decode steps (`gemv`): weight-only int8 GEMV in CKernels (gk_gemv_q8: f32
//     activations, weights widened to f32 in registers; AVX-512 or scalar, chosen at run time),
//     rows of W split across threads — reads 1 byte per weight, a quarter of f32;
//   - larger row counts (`multiply`): activations quantised dynamically per row, by default as
//     the sum of two int8 vectors (hi + lo, ~15 significant bits: `gk_quantize_row_s8`), then
//     oneDNN's int8 matmul s8 × s8 → s32 (VNNI on CPUs that have it, oneDNN's own dispatch
//     elsewhere) and the scales applied in f32: y[t, o] = w_s[o] · (x_s_hi[t]·acc_hi + x_s_lo[t]·acc_lo).
// The weights are handed to oneDNN in their plain layout; it copies them into its blocked layout
// on each call (one pass over the weights, small next to the T-row product).
import CDNNL
import CKernels
import Foundation

/// A weight matrix `W [rows, cols]` (PyTorch `[out, in]`) quantised to symmetric int8 with f32
/// scales per block of `block` columns of each row.
public final class Int8Matrix: @unchecked Sendable {
    // @unchecked: the quantised values and scales are written once, in init, and only read after.
    public let rows: Int
    public let cols: Int
    /// Columns per scale (`cols`: one scale per output channel).
    public let block: Int
    /// Quantised weights `[rows, cols]`, row-major.
    public let values: UnsafeMutablePointer<Int8>
    /// Scales `[rows, blocksPerRow]`.
    public let scales: UnsafeMutablePointer<Float>
    public var blocksPerRow: Int { (cols + block - 1) / block }
    /// Bytes held (int8 values and f32 scales).
    public var bytes: Int { rows * cols + 4 * rows * blocksPerRow }

    /// Quantises f32 weights `w [rows, cols]` (row-major) with one scale per `block` columns
    /// (default: per output channel).
    public init(quantizing w: UnsafeBufferPointer<Float>, rows: Int, cols: Int, block: Int? = nil) {
        precondition(w.count >= rows * cols && rows > 0 && cols > 0, "Int8Matrix: \(w.count) values for [\(rows), \(cols)]")
        self.rows = rows
        self.cols = cols
        self.block = min(block ?? cols, cols)
        values = .allocate(capacity: rows * cols)
        scales = .allocate(capacity: rows * ((cols + self.block - 1) / self.block))
        let (q, s, nb, blk) = (values, scales, blocksPerRow, self.block)
        parallelFor(rows, grain: max(1, (1 << 16) / cols)) { r in
            gk_quantize_q8(w.baseAddress! + r.lowerBound * cols, r.count, cols, blk, q + r.lowerBound * cols, s + r.lowerBound * nb)
        }
    }

    /// Quantises bf16-stored weights (bit patterns, row-major), widening them in row chunks.
    public init(quantizing w: UnsafeBufferPointer<UInt16>, rows: Int, cols: Int, block: Int? = nil) {
        precondition(w.count >= rows * cols && rows > 0 && cols > 0, "Int8Matrix: \(w.count) values for [\(rows), \(cols)]")
        self.rows = rows
        self.cols = cols
        self.block = min(block ?? cols, cols)
        values = .allocate(capacity: rows * cols)
        scales = .allocate(capacity: rows * ((cols + self.block - 1) / self.block))
        let (q, s, nb, blk) = (values, scales, blocksPerRow, self.block)
        parallelFor(rows, grain: max(1, (1 << 16) / cols)) { r in
            let wide = UnsafeMutablePointer<Float>.allocate(capacity: r.count * cols)
            defer { wide.deallocate() }
            gk_bf16_to_f32(w.baseAddress! + r.lowerBound * cols, wide, r.count * cols)
            gk_quantize_q8(wide, r.count, cols, blk, q + r.lowerBound * cols, s + r.lowerBound * nb)
        }
    }

    deinit {
        values.deallocate()
        scales.deallocate()
    }

    /// `y[rows] = W · x[cols]`, rows split across threads. With one scale per row (the model's
    /// matrices) the activations are quantised once per call per block of 32 columns (llama.cpp's
    /// Q8_0 activations) and multiplied as int8 × int8 (`gk_gemv_q8x`: AVX-512 VNNI, or portable C);
    /// with per-block weight scales, weight-only int8 with f32 activations (`gk_gemv_q8`).
    /// Twins: `Reference.gemvQ8x`, `Reference.gemvQ8`.
    public func gemv(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        let (q, s, nb, cols, blk) = (values, scales, blocksPerRow, cols, block)
        // ~64 KB of weights per chunk at least, so thread hand-off stays cheap.
        let grain = max(16, (1 << 16) / cols)
        guard block == cols else {
            parallelFor(rows, grain: grain) { r in
                gk_gemv_q8(q + r.lowerBound * cols, cols, s + r.lowerBound * nb, blk, r.count, cols, x, y + r.lowerBound)
            }
            return
        }
        let xq = UnsafeMutablePointer<Int8>.allocate(capacity: cols)
        let xs = UnsafeMutablePointer<Float>.allocate(capacity: (cols + 31) / 32)
        defer { xq.deallocate(); xs.deallocate() }
        gk_quantize_x_q8(x, cols, xq, xs)
        parallelFor(rows, grain: grain) { r in
            gk_gemv_q8x(q + r.lowerBound * cols, cols, s + r.lowerBound, r.count, cols, xq, xs, y + r.lowerBound)
        }
    }

    /// oneDNN's name of the int8 matmul implementation (e.g. "brg:avx512_core_vnni").
    public private(set) lazy var implementation: String = {
        let pd = matmulDesc(m: 256)
        defer { dnnl_primitive_desc_destroy(pd) }
        return DNNL.implementationName(pd)
    }()

    /// Matmul `[m, cols] s8 × [cols, rows] s8 (W, plain) → [m, rows] s32`.
    private func matmulDesc(m: Int) -> dnnl_primitive_desc_t {
        var src = DNNL.desc([Int64(m), Int64(cols)], dnnl_s8, dnnl_ab)
        var w = DNNL.desc([Int64(cols), Int64(rows)], dnnl_s8, dnnl_ba)
        var dst = DNNL.desc([Int64(m), Int64(rows)], dnnl_s32, dnnl_ab)
        var op = dnnl_matmul_desc_t()
        DNNL.check(dnnl_matmul_desc_init(&op, &src, &w, nil, &dst), "int8 matmul descriptor [\(m), \(cols)]×[\(cols), \(rows)]")
        var pd: dnnl_primitive_desc_t?
        DNNL.check(dnnl_primitive_desc_create(&pd, &op, nil, DNNL.engine, nil), "int8 matmul primitive descriptor [\(m), \(cols)]×[\(cols), \(rows)]")
        return pd!
    }

    /// `out[t, r] = Σ_c x[t, c] · W[r, c]` for `t < T` with dynamically quantised activations;
    /// `x: [T, cols]`, `out: [T, rows]`, row-major and dense. `split` (the default) quantises each
    /// activation row as hi + lo (two int8 vectors, one oneDNN call of 2T rows); without it, as
    /// one int8 vector. Needs one scale per row (`block == cols`). Rows run in chunks whose
    /// quantised activations and int32 products (≤ `chunkBytes`) live in a `ScratchPool.shared`
    /// buffer reused across calls (no fresh pages per call).
    /// `chunkRows` overrides the chunk (tests).
    public func multiply(_ x: UnsafePointer<Float>, rows T: Int, out: UnsafeMutablePointer<Float>, split: Bool = true,
                         chunkRows: Int? = nil) {
        precondition(block == cols, "Int8Matrix.multiply needs per-row scales (block \(block) < cols \(cols))")
        guard T > 0 else { return }
        let C = cols, N = rows, halves = split ? 2 : 1
        // Per activation row: its int8 halves, their scales, their int32 products.
        let perRow = halves * (C + 4 + 4 * N)
        let chunk = max(1, min(T, chunkRows ?? Int8Matrix.chunkBytes / perRow))
        ScratchPool.shared.with(bytes: chunk * perRow) { raw in
            for t0 in stride(from: 0, to: T, by: chunk) {
                let t = min(chunk, T - t0), M = halves * t
                let acc = raw.bindMemory(to: Int32.self, capacity: M * N)
                let xs = (raw + 4 * M * N).bindMemory(to: Float.self, capacity: M)
                let xq = (raw + 4 * M * N + 4 * M).bindMemory(to: Int8.self, capacity: M * C)
                multiplyChunk(x + t0 * C, rows: t, out: out + t0 * N, split: split, xq: xq, xs: xs, acc: acc)
            }
        }
    }

    /// Bytes of scratch per chunk of `multiply` (8 MiB: 256 rows of the vision MLP's 4,096 outputs, split).
    static let chunkBytes = 8 << 20

    /// One chunk of `multiply`: `T` rows, scratch `xq [M, C]`, `xs [M]`, `acc [M, N]` (M = 2T when split).
    private func multiplyChunk(_ x: UnsafePointer<Float>, rows T: Int, out: UnsafeMutablePointer<Float>, split: Bool,
                               xq: UnsafeMutablePointer<Int8>, xs: UnsafeMutablePointer<Float>, acc: UnsafeMutablePointer<Int32>) {
        let C = cols, N = rows, M = split ? 2 * T : T
        parallelFor(T, grain: max(1, (1 << 14) / C)) { r in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: C)
            defer { scratch.deallocate() }
            for t in r {
                gk_quantize_row_s8(x + t * C, C, xq + t * C, xs + t, split ? xq + (T + t) * C : nil, split ? xs + T + t : nil, scratch)
            }
        }
        let pd = matmulDesc(m: M)
        defer { dnnl_primitive_desc_destroy(pd) }
        var prim: dnnl_primitive_t?
        DNNL.check(dnnl_primitive_create(&prim, pd), "int8 matmul primitive")
        defer { dnnl_primitive_destroy(prim) }
        var srcDesc = DNNL.desc([Int64(M), Int64(C)], dnnl_s8, dnnl_ab)
        var wDesc = DNNL.desc([Int64(C), Int64(N)], dnnl_s8, dnnl_ba)
        var dstDesc = DNNL.desc([Int64(M), Int64(N)], dnnl_s32, dnnl_ab)
        let src = DNNL.memory(&srcDesc, UnsafeMutableRawPointer(xq))
        let wts = DNNL.memory(&wDesc, UnsafeMutableRawPointer(values))
        let dst = DNNL.memory(&dstDesc, UnsafeMutableRawPointer(acc))
        defer { dnnl_memory_destroy(src); dnnl_memory_destroy(wts); dnnl_memory_destroy(dst) }
        DNNL.run(prim!, [(DNNL_ARG_SRC, src), (DNNL_ARG_WEIGHTS, wts), (DNNL_ARG_DST, dst)])
        let ws = scales
        parallelFor(T, grain: max(1, (1 << 14) / N)) { r in
            for t in r {
                let a = acc + t * N, o = out + t * N, sHi = xs[t]
                if split {
                    let b = acc + (T + t) * N, sLo = xs[T + t]
                    for n in 0 ..< N { o[n] = ws[n] * (sHi * Float(a[n]) + sLo * Float(b[n])) }
                } else {
                    for n in 0 ..< N { o[n] = ws[n] * (sHi * Float(a[n])) }
                }
            }
        }
    }
}

extension Reference {
    /// Naive twin of `Int8Matrix.gemv`: `y[r] = Σ_b scale[r, b] · Σ_{c ∈ b} q[r, c] · x[c]`, in Double.
    public static func gemvQ8(_ q: UnsafePointer<Int8>, scales: UnsafePointer<Float>, block: Int, rows: Int, cols: Int,
                              x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        let nb = (cols + block - 1) / block
        for r in 0 ..< rows {
            var total = 0.0
            for b in 0 ..< nb {
                var s = 0.0
                for c in b * block ..< min(cols, (b + 1) * block) { s += Double(q[r * cols + c]) * Double(x[c]) }
                total += Double(scales[r * nb + b]) * s
            }
            y[r] = Float(total)
        }
    }

    /// Naive twin of `Int8Matrix.gemv` with one scale per row: `x` quantised per block of 32
    /// columns by `quantizeS8`, `y[r] = rowScale[r] · Σ_b xs[b] · Σ_{c ∈ b} q[r, c] · xq[c]`, in Double.
    public static func gemvQ8x(_ q: UnsafePointer<Int8>, rowScales: UnsafePointer<Float>, rows: Int, cols: Int,
                               x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        let xv = Array(UnsafeBufferPointer(start: x, count: cols))
        let blocks = stride(from: 0, to: cols, by: 32).map { quantizeS8(xv[$0 ..< min(cols, $0 + 32)]) }
        for r in 0 ..< rows {
            var total = 0.0
            for (b, block) in blocks.enumerated() {
                var dot = 0.0
                for (i, v) in block.q.enumerated() { dot += Double(q[r * cols + b * 32 + i]) * Double(v) }
                total += Double(block.scale) * dot
            }
            y[r] = Float(Double(rowScales[r]) * total)
        }
    }

    /// Symmetric int8 quantisation of `v` with one scale (max |v| / 127), round half to even, in
    /// Swift (the twin of the C quantisers).
    public static func quantizeS8(_ v: ArraySlice<Float>) -> (q: [Int8], scale: Float) {
        let s = (v.map { abs($0) }.max() ?? 0) / 127
        let inv: Float = s > 0 ? 1 / s : 0
        return (v.map { Int8(max(-127, min(127, ($0 * inv).rounded(.toNearestOrEven)))) }, s)
    }

    /// Naive twin of `Int8Matrix.multiply`: the activation rows quantised by `quantizeS8` (hi, and
    /// with `split` the residue as lo), integer dot products with the quantised weights in Double.
    public static func matmulInt8(_ x: [Float], rows T: Int, weight m: Int8Matrix, split: Bool = true) -> [Float] {
        let C = m.cols, N = m.rows
        var out = [Float](repeating: 0, count: T * N)
        for t in 0 ..< T {
            let row = x[t * C ..< (t + 1) * C]
            let hi = quantizeS8(row)
            var parts = [(hi.q, hi.scale)]
            if split {
                let residue = zip(row, hi.q).map { $0 - hi.scale * Float($1) }
                let lo = quantizeS8(residue[...])
                parts.append((lo.q, lo.scale))
            }
            for n in 0 ..< N {
                var s = 0.0
                for (q, scale) in parts {
                    var dot = 0.0
                    for c in 0 ..< C { dot += Double(q[c]) * Double(m.values[n * C + c]) }
                    s += Double(scale) * dot
                }
                out[t * N + n] = Float(Double(m.scales[n]) * s)
            }
        }
        return out
    }
}
