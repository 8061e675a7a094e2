// Naive twins of Kernels/RoIAlign.swift: same signatures, plain loops, Double accumulation where a
// sum is involved. Tests compare the fast kernels against these.

extension Reference {
    /// Naive twin of `Kernels.roiAlign`: the torchvision loops written directly per channel and
    /// bin, with the bilinear read recomputed for every sample (Double accumulation).
    public static func roiAlign(features: UnsafeBufferPointer<Float>, height H: Int, width W: Int, channels C: Int,
                                box: RoIBox, parameters p: RoIAlignParameters, out: UnsafeMutableBufferPointer<Float>) {
        let offset = p.aligned ? 0.5 : 0.0
        let sx = Double(box.x1) * Double(p.spatialScale) - offset
        let sy = Double(box.y1) * Double(p.spatialScale) - offset
        var rw = Double(box.x2) * Double(p.spatialScale) - offset - sx
        var rh = Double(box.y2) * Double(p.spatialScale) - offset - sy
        if !p.aligned { rw = max(rw, 1); rh = max(rh, 1) }
        let bw = rw / Double(p.outWidth), bh = rh / Double(p.outHeight)
        let gh = p.samplingRatio > 0 ? p.samplingRatio : Int((rh / Double(p.outHeight)).rounded(.up))
        let gw = p.samplingRatio > 0 ? p.samplingRatio : Int((rw / Double(p.outWidth)).rounded(.up))
        for ph in 0 ..< p.outHeight {
            for pw in 0 ..< p.outWidth {
                for c in 0 ..< C {
                    var acc = 0.0
                    for iy in 0 ..< gh {
                        for ix in 0 ..< gw {
                            var y = sy + Double(ph) * bh + (Double(iy) + 0.5) * bh / Double(gh)
                            var x = sx + Double(pw) * bw + (Double(ix) + 0.5) * bw / Double(gw)
                            if y < -1 || y > Double(H) || x < -1 || x > Double(W) { continue }
                            y = max(y, 0); x = max(x, 0)
                            let y0 = min(Int(y), H - 1), x0 = min(Int(x), W - 1)
                            let y1 = min(y0 + 1, H - 1), x1 = min(x0 + 1, W - 1)
                            if Int(y) >= H - 1 { y = Double(H - 1) }
                            if Int(x) >= W - 1 { x = Double(W - 1) }
                            let ly = y - Double(y0), lx = x - Double(x0)
                            func f(_ yy: Int, _ xx: Int) -> Double { Double(features[(yy * W + xx) * C + c]) }
                            acc += (1 - ly) * (1 - lx) * f(y0, x0) + (1 - ly) * lx * f(y0, x1)
                                + ly * (1 - lx) * f(y1, x0) + ly * lx * f(y1, x1)
                        }
                    }
                    out[(ph * p.outWidth + pw) * C + c] = Float(acc / Double(max(gh * gw, 1)))
                }
            }
        }
    }
}
