// Scaled dot-product attention on strided row layouts, for the vision tower (non-causal, all
// tokens) and the Llama decoder (causal, grouped-query heads, keys/values from a KV cache).
//
// Two implementations behind one entry point:
// * fused (C, CKernels `gk_attention_block`): for blocks of query rows, flash-style — K and V of
//   each kv head are packed once (Kᵀ [D, S], V [S, D]), scores are computed tile by tile in
//   registers with an online softmax, and P·V accumulates in place; no score matrix is stored.
//   Causal: a row group stops at its last visible key (the masked half is never computed). Keys
//   are taken in L2-sized blocks that all rows of a block pass over before the next (cache
//   blocking: K/V of long prompts are read from memory once per 64 query rows, not once per 4).
//   Used when there are ≥ 16 query rows and the head dim is a multiple of the vector width: the
//   vision tower and the decoder's prefill, in every precision (attention is f32 in all modes).
// * BLAS: per (head, block of query rows): scores = Q·Kᵀ (sgemm), row softmax of scale·scores (masked
// beyond the causal limit), out = P·V (sgemm). Blocks bound the score scratch to about 1 MB
// per worker, so 16 × 1025² scores are never materialised at once.
import CKernels

/// Where the rows of one attention call live. Head `h` of query row `t` is at
/// `q + t·qRowStride + h·D`; kv-head `g` of key/value row `s` at `k + s·kRowStride + g·D`
/// (same for `v`); the output of head `h` for row `t` goes to `out + t·outRowStride + h·D`.
public struct AttentionLayout: Sendable {
    public var qRowStride: Int
    public var kRowStride: Int
    public var vRowStride: Int
    public var outRowStride: Int

    public init(qRowStride: Int, kRowStride: Int, vRowStride: Int, outRowStride: Int) {
        self.qRowStride = qRowStride
        self.kRowStride = kRowStride
        self.vRowStride = vRowStride
        self.outRowStride = outRowStride
    }

    /// Fused `[T, 3·H·D]` qkv rows (timm's Attention: q | k | v, head-major inside each) and a
    /// `[T, H·D]` output.
    public static func fusedQKV(heads H: Int, headDim D: Int) -> AttentionLayout {
        AttentionLayout(qRowStride: 3 * H * D, kRowStride: 3 * H * D, vRowStride: 3 * H * D, outRowStride: H * D)
    }
}

extension Kernels {
    /// Attention for `T` query rows over `S` key/value rows, `H` query heads sharing `Hkv`
    /// kv heads (`H % Hkv == 0`; query head `h` uses kv head `h / (H / Hkv)`), head dim `D`.
    ///
    /// - `causalOffset`: `nil` for full (non-causal) attention; otherwise query row `t` sits at
    ///   absolute position `causalOffset + t` and sees keys `0 ... causalOffset + t` (a KV cache
    ///   holding `causalOffset` earlier positions followed by the `T` new ones: `S ≥ causalOffset + T`).
    /// - `scale`: multiplies the scores before the softmax (usually `1/√D`).
    /// - `scoreScratch`: for one query row (a decode step), `H · keys` floats the scores may use, so
    ///   nothing is allocated per call (else a small buffer per worker is).
    public static func attention(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                                 out: UnsafeMutablePointer<Float>, layout: AttentionLayout,
                                 queries T: Int, keys S: Int, heads H: Int, kvHeads Hkv: Int, headDim D: Int,
                                 scale: Float, causalOffset: Int?, scoreScratch: UnsafeMutablePointer<Float>? = nil) {
        precondition(T >= 0 && S > 0 && H > 0 && Hkv > 0 && D > 0 && H % Hkv == 0, "attention: bad sizes")
        precondition(layout.qRowStride >= H * D && layout.outRowStride >= H * D, "attention: q/out rows too short")
        precondition(layout.kRowStride >= Hkv * D && layout.vRowStride >= Hkv * D, "attention: k/v rows too short")
        if let off = causalOffset { precondition(off >= 0 && off + T <= S, "attention: cache holds \(S) < \(off)+\(T) rows") }
        guard T > 0 else { return }
        let group = H / Hkv
        let lanes = Int(gk_attention_lanes())
        if T >= 16 && D % lanes == 0 && D <= 256 {
            fusedAttention(q: q, k: k, v: v, out: out, layout: layout, queries: T, keys: S, heads: H, kvHeads: Hkv,
                           headDim: D, scale: scale, causalOffset: causalOffset, lanes: lanes)
            return
        }

        // One query row (decoding): the `group` heads sharing a kv head are contiguous in the row,
        // so they form one [group, D] matrix and share a single pass over K and V.
        if T == 1 {
            let visible = causalOffset.map { $0 + 1 } ?? S
            func oneRow(_ g: Int, scores sp: UnsafeMutablePointer<Float>) {
                let h0 = g * group
                gemm(transA: false, transB: true, m: group, n: visible, k: D, alpha: 1,
                     a: q + h0 * D, lda: D, b: k + g * D, ldb: layout.kRowStride,
                     beta: 0, c: sp, ldc: visible)
                for j in 0 ..< group { gk_softmax(sp + j * visible, visible, scale) }
                gemm(transA: false, transB: false, m: group, n: D, k: visible, alpha: 1,
                     a: sp, lda: visible, b: v + g * D, ldb: layout.vRowStride,
                     beta: 0, c: out + h0 * D, ldc: D)
            }
            parallelFor(Hkv) { range in
                if let scratch = scoreScratch {
                    for g in range { oneRow(g, scores: scratch + g * group * visible) }
                } else {
                    var scores = [Float](repeating: 0, count: group * visible)
                    scores.withUnsafeMutableBufferPointer { sb in for g in range { oneRow(g, scores: sb.baseAddress!) } }
                }
            }
            return
        }

        // Blocks of query rows per head.
        let block = max(32, min(256, (1 << 18) / S))
        let blocks = (T + block - 1) / block
        parallelFor(H * blocks) { range in
            var scores = [Float](repeating: 0, count: block * S)
            scores.withUnsafeMutableBufferPointer { sb in
                let sp = sb.baseAddress!
                for task in range {
                    let h = task / blocks, t0 = (task % blocks) * block
                    let rows = min(block, T - t0)
                    let g = h / group
                    // Keys any row of this block can see.
                    let visible = causalOffset.map { min(S, $0 + t0 + rows) } ?? S
                    gemm(transA: false, transB: true, m: rows, n: visible, k: D, alpha: 1,
                         a: q + t0 * layout.qRowStride + h * D, lda: layout.qRowStride,
                         b: k + g * D, ldb: layout.kRowStride, beta: 0, c: sp, ldc: visible)
                    for i in 0 ..< rows {
                        let row = sp + i * visible
                        let allowed = causalOffset.map { $0 + t0 + i + 1 } ?? visible
                        gk_softmax(row, allowed, scale)
                        if allowed < visible { (row + allowed).update(repeating: 0, count: visible - allowed) }
                    }
                    gemm(transA: false, transB: false, m: rows, n: D, k: visible, alpha: 1,
                         a: sp, lda: visible, b: v + g * D, ldb: layout.vRowStride,
                         beta: 0, c: out + t0 * layout.outRowStride + h * D, ldc: layout.outRowStride)
                }
            }
        }
    }
}

extension Kernels {
    /// The fused path of `attention` (see the file comment).
    static func fusedAttention(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                               out: UnsafeMutablePointer<Float>, layout: AttentionLayout,
                               queries T: Int, keys S: Int, heads H: Int, kvHeads Hkv: Int, headDim D: Int,
                               scale: Float, causalOffset: Int?, lanes: Int) {
        let tile = 4 * lanes
        let Spad = (S + tile - 1) / tile * tile
        let group = H / Hkv
        // Pack Kᵀ and V per kv head (zero padding beyond S).
        var kt = [Float](repeating: 0, count: Hkv * D * Spad)
        var vp = [Float](repeating: 0, count: Hkv * Spad * D)
        kt.withUnsafeMutableBufferPointer { ktb in
            vp.withUnsafeMutableBufferPointer { vpb in
                let ktp = ktb.baseAddress!, vpp = vpb.baseAddress!
                parallelFor(Hkv * ((S + 255) / 256)) { tasks in
                    for task in tasks {
                        let g = task % Hkv, s0 = (task / Hkv) * 256, s1 = min(S, s0 + 256)
                        let ktg = ktp + g * D * Spad, vg = vpp + g * Spad * D
                        for s in s0 ..< s1 {
                            let krow = k + s * layout.kRowStride + g * D
                            for d in 0 ..< D { ktg[d * Spad + s] = krow[d] }
                            (vg + s * D).update(from: v + s * layout.vRowStride + g * D, count: D)
                        }
                    }
                }
                // Query blocks per head; causal blocks late in the sequence cost more, and
                // parallelFor hands blocks out dynamically.
                let block = 96   // a multiple of every ISA's row tile (6 with AVX-512, 2 otherwise)
                let blocks = (T + block - 1) / block
                parallelFor(H * blocks) { tasks in
                    var scratch = [Float](repeating: 0, count: gk_attention_scratch_floats(block, D))
                    scratch.withUnsafeMutableBufferPointer { sb in
                        for task in tasks {
                            let h = task / blocks, t0 = (task % blocks) * block
                            let rows = min(block, T - t0)
                            let g = h / group
                            let first = causalOffset.map { $0 + t0 + 1 } ?? S
                            gk_attention_block(q + t0 * layout.qRowStride + h * D, layout.qRowStride, rows,
                                               ktp + g * D * Spad, vpp + g * Spad * D, S, Spad, D, scale,
                                               first, causalOffset == nil ? 0 : 1,
                                               out + t0 * layout.outRowStride + h * D, layout.outRowStride, sb.baseAddress!)
                        }
                    }
                }
            }
        }
    }
}
