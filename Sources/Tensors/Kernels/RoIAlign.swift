// RoI-Align with torchvision semantics (torchvision.ops.roi_align, CPU kernel
// roi_align_kernel.cpp + roi_align_common.h), on a channels-last feature map.
// GAR calls it with aligned=True, sampling_ratio=2, output 16×16 (GAR-SPEC §6.3).

/// One region of interest in input coordinates, `(x1, y1, x2, y2)`, before `spatialScale`.
public struct RoIBox: Sendable, Equatable {
    public var x1: Float, y1: Float, x2: Float, y2: Float
    public init(x1: Float, y1: Float, x2: Float, y2: Float) {
        self.x1 = x1; self.y1 = y1; self.x2 = x2; self.y2 = y2
    }
}

/// Parameters of a `roiAlign` call.
public struct RoIAlignParameters: Sendable {
    public var outHeight: Int
    public var outWidth: Int
    public var spatialScale: Float
    /// Samples per bin side; ≤ 0 means adaptive `ceil(roi size / output size)`.
    public var samplingRatio: Int
    /// `true`: pixel centres at +0.5 (shift the box by −0.5, no minimum size).
    public var aligned: Bool

    public init(outHeight: Int, outWidth: Int, spatialScale: Float, samplingRatio: Int, aligned: Bool) {
        self.outHeight = outHeight
        self.outWidth = outWidth
        self.spatialScale = spatialScale
        self.samplingRatio = samplingRatio
        self.aligned = aligned
    }
}

/// A bilinear sample: four cell indices (row-major) and their weights, all zero outside.
struct BilinearSample {
    var pos: (Int, Int, Int, Int) = (0, 0, 0, 0)
    var w: (Float, Float, Float, Float) = (0, 0, 0, 0)
}

/// Sampling points of one box (torchvision `pre_calc_for_bilinear_interpolate`), in the order
/// (ph, pw, iy, ix), plus the per-bin sample count.
func roiAlignSamples(box: RoIBox, height H: Int, width W: Int, _ p: RoIAlignParameters) -> (samples: [BilinearSample], gridH: Int, gridW: Int, count: Float) {
    let offset: Float = p.aligned ? 0.5 : 0
    let startW = box.x1 * p.spatialScale - offset
    let startH = box.y1 * p.spatialScale - offset
    let endW = box.x2 * p.spatialScale - offset
    let endH = box.y2 * p.spatialScale - offset
    var roiW = endW - startW, roiH = endH - startH
    if !p.aligned {
        roiW = max(roiW, 1)
        roiH = max(roiH, 1)
    }
    let binH = roiH / Float(p.outHeight), binW = roiW / Float(p.outWidth)
    let gridH = p.samplingRatio > 0 ? p.samplingRatio : Int((roiH / Float(p.outHeight)).rounded(.up))
    let gridW = p.samplingRatio > 0 ? p.samplingRatio : Int((roiW / Float(p.outWidth)).rounded(.up))
    let count = Float(max(gridH * gridW, 1))
    var samples = [BilinearSample]()
    samples.reserveCapacity(p.outHeight * p.outWidth * max(gridH * gridW, 0))
    for ph in 0 ..< p.outHeight {
        for pw in 0 ..< p.outWidth {
            for iy in 0 ..< max(gridH, 0) {
                let yy = startH + Float(ph) * binH + Float(iy).plusHalf * binH / Float(gridH)
                for ix in 0 ..< max(gridW, 0) {
                    let xx = startW + Float(pw) * binW + Float(ix).plusHalf * binW / Float(gridW)
                    var x = xx, y = yy
                    guard y >= -1, y <= Float(H), x >= -1, x <= Float(W) else {
                        samples.append(BilinearSample())  // outside (or NaN): contributes 0
                        continue
                    }
                    if y <= 0 { y = 0 }
                    if x <= 0 { x = 0 }
                    var yLow = Int(y), xLow = Int(x)
                    let yHigh: Int, xHigh: Int
                    if yLow >= H - 1 { yLow = H - 1; yHigh = yLow; y = Float(yLow) } else { yHigh = yLow + 1 }
                    if xLow >= W - 1 { xLow = W - 1; xHigh = xLow; x = Float(xLow) } else { xHigh = xLow + 1 }
                    let ly = y - Float(yLow), lx = x - Float(xLow)
                    let hy = 1 - ly, hx = 1 - lx
                    samples.append(BilinearSample(
                        pos: (yLow * W + xLow, yLow * W + xHigh, yHigh * W + xLow, yHigh * W + xHigh),
                        w: (hy * hx, hy * lx, ly * hx, ly * lx)))
                }
            }
        }
    }
    return (samples, gridH, gridW, count)
}

private extension Float {
    /// `Float(i) + 0.5`, spelled as torchvision's `static_cast<T>(i + .5f)`.
    var plusHalf: Float { self + 0.5 }
}

extension Kernels {
    /// RoI-Align of one box over a channels-last map `features: [H·W, C]` (cell `y·W + x`)
    /// → `out: [outHeight·outWidth, C]` (bin `ph·outWidth + pw`, channels last).
    /// Per channel the Float32 arithmetic and summation order are torchvision's, so results match
    /// `roi_align(features.permute(2,0,1)[None], …).permute(0,2,3,1)` bit for bit.
    public static func roiAlign(features: UnsafeBufferPointer<Float>, height H: Int, width W: Int, channels C: Int,
                                box: RoIBox, parameters p: RoIAlignParameters, out: UnsafeMutableBufferPointer<Float>) {
        precondition(features.count >= H * W * C && out.count >= p.outHeight * p.outWidth * C, "roiAlign: buffer sizes")
        precondition(H > 0 && W > 0, "roiAlign: empty feature map")
        let (samples, gridH, gridW, count) = roiAlignSamples(box: box, height: H, width: W, p)
        let perBin = max(gridH, 0) * max(gridW, 0)
        let fp = features.baseAddress!, op = out.baseAddress!
        samples.withUnsafeBufferPointer { sb in
            let sp = sb.baseAddress!
            parallelFor(p.outHeight * p.outWidth, grain: max(1, 4096 / max(C, 1))) { bins in
                for bin in bins {
                    let o = op + bin * C
                    o.update(repeating: 0, count: C)
                    for s in 0 ..< perBin {
                        let smp = sp[bin * perBin + s]
                        let a = fp + smp.pos.0 * C, b = fp + smp.pos.1 * C
                        let c3 = fp + smp.pos.2 * C, d = fp + smp.pos.3 * C
                        let (w1, w2, w3, w4) = smp.w
                        for c in 0 ..< C { o[c] += w1 * a[c] + w2 * b[c] + w3 * c3[c] + w4 * d[c] }
                    }
                    for c in 0 ..< C { o[c] /= count }
                }
            }
        }
    }
}
