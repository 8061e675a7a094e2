// Non-causal attention with bf16 products, for long key sequences in models that run in bf16
// (SAM 2's global Hiera blocks and memory attention: 4,096 queries × 4,096 … 28,700 keys).
// Per head, per block of query rows: scores = bf16(Q)·bf16(K)ᵀ with f32 accumulation (oneDNN
// matmul), row softmax of scale·scores in f32, out = bf16(P)·bf16(V) with f32 accumulation, written
// straight into the strided output rows. K and V of the head are rounded to bf16 once per call;
// blocks bound the f32 score matrix to ~16 MB. The error is that of bf16 inputs (relative 2⁻⁹
// per operand) on the two products; the softmax itself stays f32.
import CDNNL
import CKernels

extension Kernels {
    /// `attention` (non-causal, `kvHeads == heads`) with bf16 products; same layout rules.
    public static func attentionBF16(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                                     out: UnsafeMutablePointer<Float>, layout: AttentionLayout,
                                     queries T: Int, keys S: Int, heads H: Int, headDim D: Int, scale: Float) {
        precondition(T >= 0 && S > 0 && H > 0 && D > 0, "attentionBF16: bad sizes")
        precondition(layout.qRowStride >= H * D && layout.outRowStride >= H * D && layout.kRowStride >= H * D
                     && layout.vRowStride >= H * D, "attentionBF16: rows too short")
        guard T > 0 else { return }
        let block = max(16, min(T, (1 << 22) / S))
        let kb = UnsafeMutablePointer<UInt16>.allocate(capacity: S * D), vb = UnsafeMutablePointer<UInt16>.allocate(capacity: S * D)
        let qb = UnsafeMutablePointer<UInt16>.allocate(capacity: block * D)
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: block * S)
        let pb = UnsafeMutablePointer<UInt16>.allocate(capacity: block * S)
        defer { kb.deallocate(); vb.deallocate(); qb.deallocate(); scores.deallocate(); pb.deallocate() }
        for h in 0 ..< H {
            parallelFor(S, grain: 256) { r in
                for s in r {
                    gk_f32_to_bf16(k + s * layout.kRowStride + h * D, kb + s * D, D)
                    gk_f32_to_bf16(v + s * layout.vRowStride + h * D, vb + s * D, D)
                }
            }
            var t0 = 0
            while t0 < T {
                let rows = min(block, T - t0)
                for i in 0 ..< rows { gk_f32_to_bf16(q + (t0 + i) * layout.qRowStride + h * D, qb + i * D, D) }
                // scores [rows, S] = Q [rows, D] · Kᵀ (K is [S, D] row-major: Kᵀ has strides (1, D)).
                DNNL.gemmBF16(m: rows, n: S, k: D, a: qb, b: kb, bStrides: (1, D), c: scores, ldc: S)
                parallelFor(rows, grain: 8) { r in
                    for i in r {
                        gk_softmax(scores + i * S, S, scale)
                        gk_f32_to_bf16(scores + i * S, pb + i * S, S)
                    }
                }
                // out [rows, D] = P [rows, S] · V [S, D], into the strided output rows.
                DNNL.gemmBF16(m: rows, n: D, k: S, a: pb, b: vb, bStrides: (D, 1),
                              c: out + t0 * layout.outRowStride + h * D, ldc: layout.outRowStride)
                t0 += rows
            }
        }
    }
}

extension DNNL {
    /// `c[m, n] (f32, row stride ldc) = a[m, k] (bf16, dense) · b[k, n]` (bf16, element strides
    /// `bStrides` = (row, column)); f32 accumulation. The primitive comes from oneDNN's cache.
    static func gemmBF16(m: Int, n: Int, k: Int, a: UnsafePointer<UInt16>, b: UnsafePointer<UInt16>, bStrides: (Int, Int),
                         c: UnsafeMutablePointer<Float>, ldc: Int) {
        func strided(_ rows: Int, _ cols: Int, _ type: dnnl_data_type_t, _ rs: Int, _ cs: Int) -> dnnl_memory_desc_t {
            var md = dnnl_memory_desc_t()
            check(dnnl_memory_desc_init_by_strides(&md, 2, [Int64(rows), Int64(cols)], type, [Int64(rs), Int64(cs)]),
                  "memory descriptor [\(rows), \(cols)]")
            return md
        }
        var src = strided(m, k, dnnl_bf16, k, 1)
        var wts = strided(k, n, dnnl_bf16, bStrides.0, bStrides.1)
        var dst = strided(m, n, dnnl_f32, ldc, 1)
        var op = dnnl_matmul_desc_t()
        check(dnnl_matmul_desc_init(&op, &src, &wts, nil, &dst), "matmul descriptor [\(m), \(k)]×[\(k), \(n)]")
        var pd: dnnl_primitive_desc_t?
        check(dnnl_primitive_desc_create(&pd, &op, nil, engine, nil), "matmul primitive descriptor [\(m), \(k)]×[\(k), \(n)]")
        defer { dnnl_primitive_desc_destroy(pd) }
        var prim: dnnl_primitive_t?
        check(dnnl_primitive_create(&prim, pd), "matmul primitive")
        defer { dnnl_primitive_destroy(prim) }
        let sm = memory(&src, UnsafeMutableRawPointer(mutating: a))
        let wm = memory(&wts, UnsafeMutableRawPointer(mutating: b))
        let dm = memory(&dst, UnsafeMutableRawPointer(c))
        defer { dnnl_memory_destroy(sm); dnnl_memory_destroy(wm); dnnl_memory_destroy(dm) }
        run(prim!, [(DNNL_ARG_SRC, sm), (DNNL_ARG_WEIGHTS, wm), (DNNL_ARG_DST, dm)])
    }
}
