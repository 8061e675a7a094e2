// bf16 matrix products through oneDNN (libdnnl 2.6, C API): bf16 operands, f32 accumulation and
// f32 output. The weight matrix is reordered ONCE, when the `BF16Matrix` is built, into the layout
// oneDNN's matmul prefers on the running CPU (`dnnl_format_tag_any`; on AVX512_BF16 machines a
// blocked, VNNI-paired layout); f32 weights that are not bf16 numbers keep their rounding residue
// as a second packed matrix. Each product then only converts the activations: by default into two
// bf16 halves (hi + lo, ~16 significant bits) multiplied in one call of 2T rows — what makes the
// bf16 mode faithful to the f32 path (README "Precision faithfulness").
//
// oneDNN picks its kernels from the CPU at run time (AVX512_BF16/AMX natively, an emulation on
// older AVX-512, a reference loop elsewhere), so this runs on any x86-64 or arm64 — fast only on
// CPUs with native bf16 dot products (`CPUFeatures.hasNativeBF16`).
//
// A matrix built with `plain: true` keeps the stored row-major layout instead ("ba" for oneDNN):
// oneDNN's GEMM reads it as well (its kernels copy panels of B as they go), and one-row products
// (decoding) then run on the bf16 GEMV of CKernels (`gemv`), which streams the weights once at
// memory bandwidth with f32 activations — no barrier of an OpenMP team per product, and exact
// products (more accurate than the split activations).
//
// Primitives for small row counts are kept by each matrix; larger ones are created per call and
// found again in oneDNN's own primitive cache (keyed by shapes and layouts).
// Threads: oneDNN's OpenMP pool, sized to `Threading.count` before each call (omp_set_num_threads,
// looked up at run time in the libgomp that libdnnl loads; it applies to the calling thread).
import CDNNL
import CKernels
import Foundation

/// The running CPU's relevant features.
public enum CPUFeatures {
    /// True when the CPU computes bf16 dot products natively (x86-64 AVX512_BF16).
    public static var hasNativeBF16: Bool { gk_cpu_has_avx512_bf16() != 0 }

    /// The instruction set oneDNN dispatches to (e.g. "avx512_core_bf16"), for `--verbose`.
    public static var dnnlISA: String {
        switch dnnl_get_effective_cpu_isa() {
        case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx"
        case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16"
        case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni"
        case dnnl_cpu_isa_avx512_core: return "avx512_core"
        case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni"
        case dnnl_cpu_isa_avx2: return "avx2"
        case dnnl_cpu_isa_avx: return "avx"
        case dnnl_cpu_isa_sse41: return "sse41"
        default: return "other"
        }
    }
}

/// A weight matrix `W [rows, cols]` (PyTorch `[out, in]`) held as bf16 in oneDNN's packed layout,
/// for `y[T, rows] = x[T, cols] · Wᵀ` with bf16 inputs and f32 accumulation.
public final class BF16Matrix: @unchecked Sendable {
    // @unchecked: the packed bytes, the memory descriptor and the residue are written once while
    // the matrix is built and only read afterwards; the kept primitives are guarded by keptLock;
    // oneDNN primitives may execute concurrently.
    public let rows: Int
    public let cols: Int
    private var packedDesc: dnnl_memory_desc_t
    private let packed: UnsafeMutableRawPointer
    /// Bytes of the packed weights (and of the residue, if any).
    public var bytes: Int { packedBytes + (residue?.bytes ?? 0) }
    private let packedBytes: Int
    /// oneDNN's name of the matmul implementation chosen at packing time (e.g. "brg:avx512_core_bf16").
    public let implementation: String

    /// True when the weights are held row-major as stored (`init(bf16:rows:cols:plain: true)`).
    public let isPlain: Bool

    /// Packs bf16 bit patterns `w [rows, cols]` (row-major, as stored). `plain`: keep that layout
    /// (oneDNN reads it too) so that `gemv` can stream it; else oneDNN's preferred blocked layout.
    public init(bf16 w: UnsafeBufferPointer<UInt16>, rows: Int, cols: Int, plain: Bool = false) {
        precondition(w.count >= rows * cols && rows > 0 && cols > 0, "BF16Matrix: \(w.count) values for [\(rows), \(cols)]")
        self.rows = rows
        self.cols = cols
        isPlain = plain
        let engine = DNNL.engine
        // W stored [rows, cols] row-major is the [K = cols, N = rows] matrix in layout "ba".
        var plainDesc = DNNL.desc([Int64(cols), Int64(rows)], dnnl_bf16, dnnl_ba)
        // Ask the matmul for its preferred weight layout at a typical row count (or for the plain one).
        let pd = DNNL.matmulDesc(m: 256, k: cols, n: rows, weights: isPlain ? plainDesc : DNNL.desc([Int64(cols), Int64(rows)], dnnl_bf16, dnnl_format_tag_any))
        defer { dnnl_primitive_desc_destroy(pd) }
        packedDesc = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0)!.pointee
        implementation = DNNL.implementationName(pd)
        packedBytes = dnnl_memory_desc_get_size(&packedDesc)
        packed = UnsafeMutableRawPointer.allocate(byteCount: max(packedBytes, 64), alignment: 64)
        if isPlain {
            packed.copyMemory(from: w.baseAddress!, byteCount: rows * cols * 2)
            return
        }
        var reorder: dnnl_primitive_desc_t?
        DNNL.check(dnnl_reorder_primitive_desc_create(&reorder, &plainDesc, engine, &packedDesc, engine, nil), "reorder descriptor")
        defer { dnnl_primitive_desc_destroy(reorder) }
        let src = DNNL.memory(&plainDesc, UnsafeMutableRawPointer(mutating: w.baseAddress!))
        let dst = DNNL.memory(&packedDesc, packed)
        defer { dnnl_memory_destroy(src); dnnl_memory_destroy(dst) }
        var prim: dnnl_primitive_t?
        DNNL.check(dnnl_primitive_create(&prim, reorder), "reorder primitive")
        defer { dnnl_primitive_destroy(prim) }
        DNNL.run(prim!, [(DNNL_ARG_FROM, src), (DNNL_ARG_TO, dst)])
    }

    /// The rounding residue of f32 weights that are not all bf16 numbers (`rounding(f32:)`), as a
    /// second bf16 matrix: W ≈ hi + lo to ~16 significant bits. nil when W is exactly bf16.
    public private(set) var residue: BF16Matrix?

    /// Packs f32 weights `w [rows, cols]`: hi = bf16(w), and when that is not exact, the residue
    /// lo = bf16(w − hi) too (its product is added with single-rounded activations: its error is
    /// 2⁻⁹ of an already 2⁻⁹-small term).
    public static func rounding(f32 w: UnsafeBufferPointer<Float>, rows: Int, cols: Int) -> BF16Matrix {
        let n = rows * cols
        var hi = [UInt16](repeating: 0, count: n), lo = hi
        hi.withUnsafeMutableBufferPointer { h in
            lo.withUnsafeMutableBufferPointer { l in gk_f32_to_bf16_split(w.baseAddress!, h.baseAddress!, l.baseAddress!, n) }
        }
        let m = hi.withUnsafeBufferPointer { BF16Matrix(bf16: $0, rows: rows, cols: cols) }
        if lo.contains(where: { $0 & 0x7fff != 0 }) {
            m.residue = lo.withUnsafeBufferPointer { BF16Matrix(bf16: $0, rows: rows, cols: cols) }
        }
        return m
    }

    deinit {
        packed.deallocate()
        for p in kept.values { dnnl_primitive_destroy(p) }
    }

    /// Primitives for row counts up to this are kept by the matrix (decoding calls with 1–2 rows
    /// run once per token, where building a primitive descriptor would cost as much as the
    /// product); larger ones are built per call (their descriptor cost is amortised, and prompt
    /// lengths vary without bound).
    static let keptRowLimit = 8
    private var kept: [Int: dnnl_primitive_t] = [:]   // guarded by keptLock
    private let keptLock = NSLock()

    /// The matmul primitive for `M` source rows (kept for small `M`; else the caller destroys it).
    private func primitive(rows M: Int) -> dnnl_primitive_t {
        if M <= BF16Matrix.keptRowLimit, let p = keptLock.withLock({ kept[M] }) { return p }
        let pd = DNNL.matmulDesc(m: M, k: cols, n: rows, weights: packedDesc)
        defer { dnnl_primitive_desc_destroy(pd) }
        var prim: dnnl_primitive_t?
        DNNL.check(dnnl_primitive_create(&prim, pd), "matmul primitive")
        guard M <= BF16Matrix.keptRowLimit else { return prim! }
        keptLock.lock()
        defer { keptLock.unlock() }
        if let other = kept[M] {   // another thread built it meanwhile
            dnnl_primitive_destroy(prim)
            return other
        }
        kept[M] = prim!
        return prim!
    }

    /// `y[r] = Σ_c W[r, c] · x[c]` for a plain matrix: bf16 weights times f32 activations with
    /// f32 accumulation (CKernels `gk_gemv_bf16`), rows split across threads.
    public func gemv(_ x: UnsafePointer<Float>, out y: UnsafeMutablePointer<Float>) {
        precondition(isPlain, "BF16Matrix.gemv: the matrix is not plain")
        let w = packed.assumingMemoryBound(to: UInt16.self), cols = cols
        // ~64 KB of weights per chunk at least, so thread hand-off stays cheap.
        parallelFor(rows, grain: max(16, (1 << 15) / cols)) { r in
            gk_gemv_bf16(w + r.lowerBound * cols, cols, r.count, cols, x, y + r.lowerBound)
        }
    }

    /// `out[t, r] = Σ_c x[t, c] · W[r, c]` for `t < T`; `x: [T, cols]`, `out: [T, rows]`, both
    /// row-major and dense. Products run in bf16 with f32 accumulation. `split` (the default)
    /// writes each activation as the sum of two bf16 numbers, hi = bf16(x) and lo = bf16(x − hi)
    /// (16 significant bits instead of 8), and multiplies both halves in one call of 2T rows —
    /// the weights are read once, the arithmetic doubles. Without it, x is rounded to bf16.
    public func multiply(_ x: UnsafePointer<Float>, rows T: Int, out: UnsafeMutablePointer<Float>, split: Bool = true) {
        guard T > 0 else { return }
        let n = T * cols, M = split ? 2 * T : T
        let xb = UnsafeMutablePointer<UInt16>.allocate(capacity: M * cols)
        defer { xb.deallocate() }
        if split {
            parallelFor(n, grain: 1 << 16) { r in gk_f32_to_bf16_split(x + r.lowerBound, xb + r.lowerBound, xb + n + r.lowerBound, r.count) }
        } else {
            Convert.f32ToBF16(UnsafeBufferPointer(start: x, count: n), UnsafeMutableBufferPointer(start: xb, count: n))
        }
        let y = split ? UnsafeMutablePointer<Float>.allocate(capacity: M * rows) : out
        defer { if split { y.deallocate() } }
        var srcDesc = DNNL.desc([Int64(M), Int64(cols)], dnnl_bf16, dnnl_ab)
        var dstDesc = DNNL.desc([Int64(M), Int64(rows)], dnnl_f32, dnnl_ab)
        let prim = primitive(rows: M)
        defer { if M > BF16Matrix.keptRowLimit { dnnl_primitive_destroy(prim) } }
        let src = DNNL.memory(&srcDesc, UnsafeMutableRawPointer(xb))
        let wts = DNNL.memory(&packedDesc, packed)
        let dst = DNNL.memory(&dstDesc, UnsafeMutableRawPointer(y))
        defer { dnnl_memory_destroy(src); dnnl_memory_destroy(wts); dnnl_memory_destroy(dst) }
        DNNL.run(prim, [(DNNL_ARG_SRC, src), (DNNL_ARG_WEIGHTS, wts), (DNNL_ARG_DST, dst)])
        if split {
            let m = T * rows
            parallelFor(m, grain: 1 << 16) { r in
                for i in r { out[i] = y[i] + y[m + i] }
            }
        }
        if let residue {
            let extra = UnsafeMutablePointer<Float>.allocate(capacity: T * rows)
            defer { extra.deallocate() }
            residue.multiply(x, rows: T, out: extra, split: false)
            for i in 0 ..< T * rows { out[i] += extra[i] }
        }
    }

}

/// Thin helpers over oneDNN's C API. A failing oneDNN call is a programming error (shapes are
/// checked before), so it stops with the call named.
enum DNNL {
    nonisolated(unsafe) static let engine: dnnl_engine_t = {
        var e: dnnl_engine_t?
        check(dnnl_engine_create(&e, dnnl_cpu, 0), "CPU engine")
        return e!
    }()

    static func check(_ status: dnnl_status_t, _ what: String) {
        precondition(status == dnnl_success, "oneDNN: \(what) failed (status \(status.rawValue))")
    }

    /// A dense memory descriptor.
    static func desc(_ dims: [Int64], _ type: dnnl_data_type_t, _ tag: dnnl_format_tag_t) -> dnnl_memory_desc_t {
        var md = dnnl_memory_desc_t()
        check(dnnl_memory_desc_init_by_tag(&md, Int32(dims.count), dims, type, tag), "memory descriptor \(dims)")
        return md
    }

    /// Matmul `[m, k] bf16 × [k, n] (weights) → [m, n] f32` primitive descriptor.
    static func matmulDesc(m: Int, k: Int, n: Int, weights: dnnl_memory_desc_t) -> dnnl_primitive_desc_t {
        var src = desc([Int64(m), Int64(k)], dnnl_bf16, dnnl_ab)
        var dst = desc([Int64(m), Int64(n)], dnnl_f32, dnnl_ab)
        var w = weights
        var op = dnnl_matmul_desc_t()
        check(dnnl_matmul_desc_init(&op, &src, &w, nil, &dst), "matmul descriptor [\(m), \(k)]×[\(k), \(n)]")
        var pd: dnnl_primitive_desc_t?
        check(dnnl_primitive_desc_create(&pd, &op, nil, engine, nil), "matmul primitive descriptor [\(m), \(k)]×[\(k), \(n)]")
        return pd!
    }

    static func implementationName(_ pd: dnnl_primitive_desc_t) -> String {
        var name: UnsafePointer<CChar>?
        guard dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name) == dnnl_success, let name else { return "unknown" }
        return String(cString: name)
    }

    static func memory(_ md: UnsafePointer<dnnl_memory_desc_t>, _ handle: UnsafeMutableRawPointer) -> dnnl_memory_t {
        var m: dnnl_memory_t?
        check(dnnl_memory_create(&m, md, engine, handle), "memory object")
        return m!
    }

    /// `omp_set_num_threads` of the OpenMP runtime oneDNN runs on (nil if there is none).
    nonisolated(unsafe) static let setOMPThreads: (@convention(c) (Int32) -> Void)? = {
        guard let f = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "omp_set_num_threads") else { return nil }
        return unsafeBitCast(f, to: (@convention(c) (Int32) -> Void).self)
    }()

    /// Executes `primitive` on a fresh stream with `Threading.count` OpenMP threads and waits for it.
    static func run(_ primitive: dnnl_primitive_t, _ args: [(Int32, dnnl_memory_t)]) {
        setOMPThreads?(Int32(Threading.count))
        var stream: dnnl_stream_t?
        check(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue), "stream")
        defer { dnnl_stream_destroy(stream) }
        let list = args.map { dnnl_exec_arg_t(arg: $0.0, memory: $0.1) }
        check(dnnl_primitive_execute(primitive, stream, Int32(list.count), list), "execute")
        check(dnnl_stream_wait(stream), "stream wait")
    }
}

extension Reference {
    /// Naive twin of `BF16Matrix.multiply` on a matrix packed by `BF16Matrix.rounding(f32:)`:
    /// `w [rows, cols]` as hi = bf16(w) plus, when w is not all bf16, lo = bf16(w − hi) times
    /// single-rounded activations; `x` rounded to bf16 (`split: false`) or to the sum of its two
    /// bf16 halves (`split: true`); products summed in Double.
    public static func matmulBF16(_ x: UnsafePointer<Float>, rows T: Int, weight w: UnsafePointer<Float>, outFeatures: Int,
                                  inFeatures: Int, out: UnsafeMutablePointer<Float>, split: Bool = true) {
        func halves(_ v: Float) -> (hi: Double, lo: Double) {
            var f = v, h = UInt16(0), l = UInt16(0)
            gk_f32_to_bf16_split(&f, &h, &l, 1)
            return (Double(Float(bitPattern: UInt32(h) << 16)), Double(Float(bitPattern: UInt32(l) << 16)))
        }
        let wh = (0 ..< outFeatures * inFeatures).map { halves(w[$0]) }
        let hasResidue = wh.contains { $0.lo != 0 }
        for t in 0 ..< T {
            let xh = (0 ..< inFeatures).map { halves(x[t * inFeatures + $0]) }
            for o in 0 ..< outFeatures {
                var s = 0.0
                for c in 0 ..< inFeatures {
                    let wc = wh[o * inFeatures + c], xc = xh[c]
                    s += (split ? xc.hi + xc.lo : xc.hi) * wc.hi
                    if hasResidue { s += xc.hi * wc.lo }
                }
                out[t * outFeatures + o] = Float(s)
            }
        }
    }
}
