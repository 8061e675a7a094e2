// The bicubic antialias resize the GAR image processor really runs, bit-exact with the reference.
//
// Which code runs. transformers' PerceptionLM fast image processor imports torchvision's v1
// functional API (`from torchvision.transforms import functional as F`) and calls
// `F.resize(uint8 CHW tensor, size, BICUBIC)` (antialias defaults to True). The v1 tensor resize
// casts the image to float32, calls `interpolate(mode="bicubic", antialias=True)` (aten
// `_upsample_bicubic2d_aa`, CPU kernel `separable_upsample_generic_Nd_kernel_impl` in
// aten/src/ATen/native/cpu/UpSampleKernel.cpp), clamps to [0, 255] and rounds half-to-even back to
// uint8. (The native uint8 path of torchvision v2, which Tensors' `resizedBicubicAntialias` mirrors,
// is NOT what the processor uses: it differs by up to 8 levels on ~7 % of pixels here.)
//
// The float kernel, per axis (in → out), width pass first (only if the width changes), then the
// height pass, the intermediate kept in float32:
//   scale = Float(in) / Float(out); support = 2·scale (scale ≥ 1) else 2; taps ≤ ⌈support⌉·2 + 1
//   center_i = Float(Double(scale) · (i + 0.5)); invscale = Float(1 / Double(scale)) (scale ≥ 1) else 1
//   xmin = max(trunc(Double(center − support) + 0.5), 0); xsize = min(trunc(Double(center + support) + 0.5), in) − xmin
//   w_j = K(Float((Double(Float(j + xmin) − center) + 0.5) · Double(invscale))), then w_j /= Σ w (Float)
//   K = Keys cubic, a = −0.5, evaluated as aten's AVX2/AVX-512 build compiles it — with fused
//       multiply-adds: |x| < 1: fma(fma(a+2, x, −(a+3))·x, x, 1); |x| < 2: fma(fma(fma(a, x, −5a), x, 8a), x, −4a)
//   out = s_0·w_0, then for j ≥ 1 the first 4·⌊(n−1)/4⌋ terms plain (acc + s·w) and the rest fused
//       (the compiler unrolled the tap loop by 4 and fused only the remainder).
// These details were measured against torch 2.15 on this AVX-512 machine: recovered weights match
// torch's exactly and the full resize matches the goldens' uint8 thumbnail and canvas bit for bit.
// (A torch build on a CPU without FMA would round differently at the ±1 level.)
import CKernels
import Tensors

/// The weights of one axis of the float antialias bicubic resize.
struct AntialiasWeightsF32: Equatable {
    let inSize: Int
    let outSize: Int
    let maxTaps: Int
    /// First input index per output index.
    let start: [Int32]
    /// Taps per output index.
    let taps: [Int32]
    /// `[outSize, maxTaps]`, row `o` valid for `taps[o]` entries.
    let weights: [Float]

    init(from inSize: Int, to outSize: Int) {
        precondition(inSize > 0 && outSize > 0, "AntialiasWeightsF32: empty size")
        self.inSize = inSize
        self.outSize = outSize
        let scale = Float(inSize) / Float(outSize)
        let support: Float = scale >= 1 ? Float(2.0 * Double(scale)) : 2
        let maxTaps = Int(support.rounded(.up)) * 2 + 1
        let invscale: Float = scale >= 1 ? Float(1.0 / Double(scale)) : 1
        var start = [Int32](repeating: 0, count: outSize)
        var taps = [Int32](repeating: 0, count: outSize)
        var weights = [Float](repeating: 0, count: outSize * maxTaps)
        for i in 0 ..< outSize {
            let center = Float(Double(scale) * (Double(i) + 0.5))
            let xmin = max(Int(Double(center - support) + 0.5), 0)        // Int() truncates toward zero, as C's cast
            var xsize = min(Int(Double(center + support) + 0.5), inSize) - xmin
            xsize = min(max(xsize, 0), maxTaps)
            var total: Float = 0
            for j in 0 ..< xsize {
                let w = AntialiasWeightsF32.keys(Float((Double(Float(j + xmin) - center) + 0.5) * Double(invscale)))
                weights[i * maxTaps + j] = w
                total += w
            }
            if total != 0 {
                for j in 0 ..< xsize { weights[i * maxTaps + j] /= total }
            }
            start[i] = Int32(xmin)
            taps[i] = Int32(xsize)
        }
        self.maxTaps = maxTaps
        self.start = start
        self.taps = taps
        self.weights = weights
    }

    /// Keys cubic with a = −0.5, with aten's fused multiply-adds (not a hot loop: once per tap).
    static func keys(_ value: Float) -> Float {
        let a: Float = -0.5
        let x = abs(value)
        if x < 1 {
            let t = (-(a + 3)).addingProduct(a + 2, x)
            return Float(1).addingProduct(t * x, x)
        }
        if x < 2 {
            let t = (-5 * a).addingProduct(a, x)
            return (-4 * a).addingProduct((8 * a).addingProduct(t, x), x)
        }
        return 0
    }
}

enum BicubicResize {
    /// RGB (or any interleaved) uint8 image → `width × height`, as the GAR image processor resizes.
    static func resize(_ image: ImageU8, width outW: Int, height outH: Int) -> ImageU8 {
        let C = image.channels, W = image.width, H = image.height
        if W == outW && H == outH { return image }
        // Planar float32 [C, H, W].
        var plane = [Float](repeating: 0, count: C * H * W)
        image.pixels.withUnsafeBufferPointer { px in
            plane.withUnsafeMutableBufferPointer { pl in
                for i in 0 ..< H * W { for c in 0 ..< C { pl[c * H * W + i] = Float(px[i * C + c]) } }
            }
        }
        var curW = W
        if outW != W {
            let axis = AntialiasWeightsF32(from: W, to: outW)
            var out = [Float](repeating: 0, count: C * H * outW)
            plane.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    axis.withPointers { start, taps, w in
                        let s = src.baseAddress!, d = dst.baseAddress!
                        parallelFor(C * H, grain: max(1, 16384 / max(outW * axis.maxTaps, 1))) { r in
                            gk_resample_rows_f32(s + r.lowerBound * W, r.count, W, d + r.lowerBound * outW, outW, start, taps, w, axis.maxTaps)
                        }
                    }
                }
            }
            plane = out
            curW = outW
        }
        if outH != H {
            let axis = AntialiasWeightsF32(from: H, to: outH)
            var out = [Float](repeating: 0, count: C * outH * curW)
            plane.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    axis.withPointers { start, taps, w in
                        let s = src.baseAddress!, d = dst.baseAddress!
                        parallelFor(C * outH, grain: max(1, 16384 / max(curW * axis.maxTaps, 1))) { r in
                            // Split the (channel, row) range into per-channel runs of output rows.
                            var k = r.lowerBound
                            while k < r.upperBound {
                                let c = k / outH, row0 = k % outH
                                let n = min(r.upperBound - k, outH - row0)
                                gk_resample_cols_f32(s + c * H * curW, curW, d + c * outH * curW, row0, n, start, taps, w, axis.maxTaps)
                                k += n
                            }
                        }
                    }
                }
            }
            plane = out
        }
        return ImageU8(width: outW, height: outH, channels: C, pixels: toBytes(plane, channels: C, width: outW, height: outH))
    }

    /// Planar float → interleaved uint8: clamp to [0, 255], round half to even (torch.round).
    static func toBytes(_ plane: [Float], channels C: Int, width W: Int, height H: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: C * H * W)
        for c in 0 ..< C {
            for i in 0 ..< H * W {
                out[i * C + c] = UInt8(min(max(plane[c * H * W + i], 0), 255).rounded(.toNearestOrEven))
            }
        }
        return out
    }
}

extension AntialiasWeightsF32 {
    func withPointers<R>(_ body: (UnsafePointer<Int32>, UnsafePointer<Int32>, UnsafePointer<Float>) -> R) -> R {
        start.withUnsafeBufferPointer { s in
            taps.withUnsafeBufferPointer { t in
                weights.withUnsafeBufferPointer { w in body(s.baseAddress!, t.baseAddress!, w.baseAddress!) }
            }
        }
    }
}

extension Reference {
    /// Naive twin of `BicubicResize.resize`: the same arithmetic written per output value in Swift,
    /// single-threaded (the fused terms through `addingProduct`).
    static func resizeBicubicAntialiasF32(_ image: ImageU8, width outW: Int, height outH: Int) -> ImageU8 {
        let C = image.channels, W = image.width, H = image.height
        if W == outW && H == outH { return image }
        func accumulate(_ n: Int, _ value: (Int) -> Float, _ weight: (Int) -> Float) -> Float {
            guard n > 0 else { return 0 }
            var acc = value(0) * weight(0)
            let plain = 4 * ((n - 1) / 4)
            for j in 1 ..< max(n, 1) {
                if j <= plain { acc = acc + value(j) * weight(j) } else { acc = acc.addingProduct(value(j), weight(j)) }
            }
            return acc
        }
        var plane = (0 ..< C * H * W).map { k in Float(image.pixels[(k % (H * W)) * C + k / (H * W)]) }
        var curW = W
        if outW != W {
            let a = AntialiasWeightsF32(from: W, to: outW)
            var out = [Float](repeating: 0, count: C * H * outW)
            for r in 0 ..< C * H {
                for o in 0 ..< outW {
                    out[r * outW + o] = accumulate(Int(a.taps[o]), { plane[r * W + Int(a.start[o]) + $0] }, { a.weights[o * a.maxTaps + $0] })
                }
            }
            plane = out
            curW = outW
        }
        if outH != H {
            let a = AntialiasWeightsF32(from: H, to: outH)
            var out = [Float](repeating: 0, count: C * outH * curW)
            for c in 0 ..< C {
                for o in 0 ..< outH {
                    for x in 0 ..< curW {
                        out[(c * outH + o) * curW + x] = accumulate(Int(a.taps[o]), { plane[(c * H + Int(a.start[o]) + $0) * curW + x] },
                                                                    { a.weights[o * a.maxTaps + $0] })
                    }
                }
            }
            plane = out
        }
        return ImageU8(width: outW, height: outH, channels: C, pixels: BicubicResize.toBytes(plane, channels: C, width: outW, height: outH))
    }
}
