// f32 matrix products through oneDNN's matmul (libdnnl 2.6, C API), for the weight products of
// the exact f32 path with many rows (vision, projector, prefill; `LinearLayer.apply`).
//
// Why not OpenBLAS: on the development machine (Sapphire Rapids VM) OpenBLAS 0.3.21 detects the
// CPU as "Prescott" and runs its generic SSE kernels: 29–31 GFLOP/s per core at GAR-1B's shapes,
// against 135–147 GFLOP/s for oneDNN's AVX-512 f32 kernels (`bench/dnnl/matmul_shapes.c`, one
// thread, CPU time). Both are plain f32 FMA arithmetic; only the summation order differs.
//
// The weights are read as stored (PyTorch `[out, in]` row-major, the `[K, N]` matrix in oneDNN's
// "ba" layout): oneDNN copies panels of them as it goes, which measured as fast as a matrix
// packed once (within 3 %), so nothing is repacked or duplicated at load, and the one-row
// decoding products keep their GEMV on the same array.
// Threads: oneDNN's OpenMP pool, `Threading.count` (see `DNNL.run`).
import CDNNL

extension Kernels {
    /// `out[t, o] = Σ_c x[t, c] · w[o, c]` for `t < T`, `o < OC`: `x [T, C]` row-major (row stride
    /// `C`), `w [OC, C]` row-major (PyTorch `[out, in]`), `out` rows of stride `outRowStride ≥ OC`
    /// (columns beyond `OC` untouched). f32 arithmetic on oneDNN's matmul; `accumulate` adds the
    /// product to `out` (oneDNN's sum post-op) instead of overwriting it. Naive twin:
    /// `Reference.linear` (without bias).
    public static func matmulF32(_ x: UnsafePointer<Float>, rows T: Int, weight w: UnsafePointer<Float>, outFeatures OC: Int,
                                 inFeatures C: Int, out: UnsafeMutablePointer<Float>, outRowStride: Int, accumulate: Bool = false) {
        precondition(T >= 0 && OC >= 0 && C >= 0 && outRowStride >= OC, "matmulF32: bad sizes")
        guard T > 0, OC > 0 else { return }
        guard C > 0 else {
            if !accumulate { for t in 0 ..< T { (out + t * outRowStride).update(repeating: 0, count: OC) } }
            return
        }
        var src = DNNL.desc([Int64(T), Int64(C)], dnnl_f32, dnnl_ab)
        var wts = DNNL.desc([Int64(C), Int64(OC)], dnnl_f32, dnnl_ba)
        var dst = dnnl_memory_desc_t()
        DNNL.check(dnnl_memory_desc_init_by_strides(&dst, 2, [Int64(T), Int64(OC)], dnnl_f32,
                                                    [Int64(outRowStride), 1]), "output descriptor")
        var op = dnnl_matmul_desc_t()
        DNNL.check(dnnl_matmul_desc_init(&op, &src, &wts, nil, &dst), "f32 matmul descriptor [\(T), \(C)]×[\(C), \(OC)]")
        var attr: dnnl_primitive_attr_t?
        if accumulate {
            DNNL.check(dnnl_primitive_attr_create(&attr), "primitive attributes")
            var ops: dnnl_post_ops_t?
            DNNL.check(dnnl_post_ops_create(&ops), "post-ops")
            defer { dnnl_post_ops_destroy(ops) }
            DNNL.check(dnnl_post_ops_append_sum(ops, 1), "sum post-op")
            DNNL.check(dnnl_primitive_attr_set_post_ops(attr, ops), "set post-ops")
        }
        defer { if let attr { dnnl_primitive_attr_destroy(attr) } }
        var pd: dnnl_primitive_desc_t?
        DNNL.check(dnnl_primitive_desc_create(&pd, &op, attr, DNNL.engine, nil), "f32 matmul primitive descriptor [\(T), \(C)]×[\(C), \(OC)]")
        defer { dnnl_primitive_desc_destroy(pd) }
        var prim: dnnl_primitive_t?
        DNNL.check(dnnl_primitive_create(&prim, pd), "f32 matmul primitive")
        defer { dnnl_primitive_destroy(prim) }
        let ms = DNNL.memory(&src, UnsafeMutableRawPointer(mutating: x))
        let mw = DNNL.memory(&wts, UnsafeMutableRawPointer(mutating: w))
        let md = DNNL.memory(&dst, UnsafeMutableRawPointer(out))
        defer { dnnl_memory_destroy(ms); dnnl_memory_destroy(mw); dnnl_memory_destroy(md) }
        DNNL.run(prim!, [(DNNL_ARG_SRC, ms), (DNNL_ARG_WEIGHTS, mw), (DNNL_ARG_DST, md)])
    }
}
