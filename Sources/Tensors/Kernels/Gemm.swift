// Matrix products through OpenBLAS (cblas_sgemm / cblas_sgemv), row-major throughout.
import COpenBLAS

extension Kernels {
    /// General row-major product `C[M, N] = alpha · op(A) · op(B) + beta · C`.
    ///
    /// - `a`: `[M, K]` (or `[K, M]` when `transA`), row stride `lda`.
    /// - `b`: `[K, N]` (or `[N, K]` when `transB`), row stride `ldb`.
    /// - `c`: `[M, N]`, row stride `ldc`.
    /// Threads: OpenBLAS's own (see `Threading`).
    public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "gemm: negative size")
        if m == 0 || n == 0 { return }
        Threading.prepareBLAS()
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Fully connected layer with a PyTorch weight used as stored:
    /// `y[T, OC] = x[T, C] · w[OC, C]ᵀ + bias[OC]`.
    ///
    /// One row (`T == 1`, decoding) goes through `cblas_sgemv`, which streams the weight once and
    /// is 2–3× faster than sgemm for a single row on this machine.
    public static func linear(
        x: UnsafeBufferPointer<Float>, weight: UnsafeBufferPointer<Float>, bias: UnsafeBufferPointer<Float>?,
        out: UnsafeMutableBufferPointer<Float>, rows T: Int, inFeatures C: Int, outFeatures OC: Int
    ) {
        precondition(x.count >= T * C, "linear: x holds \(x.count) < \(T)×\(C)")
        precondition(weight.count >= OC * C, "linear: weight holds \(weight.count) < \(OC)×\(C)")
        precondition(out.count >= T * OC, "linear: out holds \(out.count) < \(T)×\(OC)")
        precondition(bias == nil || bias!.count >= OC, "linear: bias shorter than \(OC)")
        guard T > 0, OC > 0 else { return }
        let y = out.baseAddress!
        var beta: Float = 0
        if let bias, C > 0 {
            // Seed every output row with the bias and accumulate the product onto it.
            for t in 0 ..< T { (y + t * OC).update(from: bias.baseAddress!, count: OC) }
            beta = 1
        } else if C == 0 {
            for t in 0 ..< T {
                if let bias { (y + t * OC).update(from: bias.baseAddress!, count: OC) }
                else { (y + t * OC).update(repeating: 0, count: OC) }
            }
            return
        }
        Threading.prepareBLAS()
        if T == 1 {
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(OC), Int32(C), 1, weight.baseAddress!, Int32(C),
                        x.baseAddress!, 1, beta, y, 1)
        } else {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(T), Int32(OC), Int32(C), 1,
                        x.baseAddress!, Int32(C), weight.baseAddress!, Int32(C), beta, y, Int32(OC))
        }
    }
}
