// Adaptive average pooling on channels-last token grids (the projector's 32×32 → 16×16).

extension Kernels {
    /// PyTorch `adaptive_avg_pool2d` on a channels-last grid: `x: [Hi·Wi, C]` (token
    /// `p = row·Wi + col`) → `out: [Ho·Wo, C]`. Window of output row `i`:
    /// `floor(i·Hi/Ho) ..< ceil((i+1)·Hi/Ho)` (same for columns). The window sum runs row by row
    /// in Float32 from zero and is divided by the window area, as PyTorch does, so the 2×2 case
    /// matches it bit for bit.
    public static func adaptiveAvgPool2d(_ x: UnsafeBufferPointer<Float>, height Hi: Int, width Wi: Int, channels C: Int,
                                         outHeight Ho: Int, outWidth Wo: Int, out: UnsafeMutableBufferPointer<Float>) {
        precondition(x.count >= Hi * Wi * C && out.count >= Ho * Wo * C, "adaptiveAvgPool2d: buffer sizes")
        precondition(Ho > 0 && Wo > 0 && Hi > 0 && Wi > 0, "adaptiveAvgPool2d: empty grid")
        let xp = x.baseAddress!, op = out.baseAddress!
        parallelFor(Ho * Wo, grain: max(1, 4096 / max(C, 1))) { cells in
            for cell in cells {
                let i = cell / Wo, j = cell % Wo
                let h0 = (i * Hi) / Ho, h1 = ((i + 1) * Hi + Ho - 1) / Ho
                let w0 = (j * Wi) / Wo, w1 = ((j + 1) * Wi + Wo - 1) / Wo
                let area = Float((h1 - h0) * (w1 - w0))
                let o = op + cell * C
                o.update(repeating: 0, count: C)
                for h in h0 ..< h1 {
                    for w in w0 ..< w1 {
                        let src = xp + (h * Wi + w) * C
                        for c in 0 ..< C { o[c] += src[c] }
                    }
                }
                for c in 0 ..< C { o[c] /= area }
            }
        }
    }
}
