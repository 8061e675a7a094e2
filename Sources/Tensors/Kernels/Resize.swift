// Image resizing bit-exact with torchvision on uint8 images (GAR-SPEC §3.3, §15.6).
//
// Which PyTorch code runs for GAR. transformers' PerceptionLM image processor
// (image_processing_perception_lm_fast.py) imports torchvision's *v1* functional API
// (`from torchvision.transforms import functional as F`) and its `resize` calls
// `F.resize(uint8 CHW tensor, size, BICUBIC)` (antialias defaults to True). v1 casts the image to
// float32, runs `interpolate(mode="bicubic", antialias=True)` (aten `_upsample_bicubic2d_aa`, CPU
// kernel `separable_upsample_generic_Nd_kernel_impl` with float weights), clamps to [0, 255] and
// rounds half to even back to uint8: the FLOAT PATH, `resizeBicubicAntialiasFloat` here (C in
// CKernels/resize.c, where torch's fused multiply-adds are reproduced).
//
// torchvision's *v2* `F.resize` (what transformers' generic fast processors call) keeps uint8 for
// BICUBIC on CPU (`_do_native_uint8_resize_on_cpu`) and resamples uint8 natively with int16
// fixed-point weights (ImagingResample style; `upsample_avx_bilinear_bicubic_uint8` with AVX2
// capability, the generic kernel otherwise — byte-identical, checked under ATEN_CPU_CAPABILITY=
// avx512, avx2 and default): the UINT8 PATH, `resizeBicubicAntialias` here. The two paths differ
// by up to several levels on a few percent of the pixels, so GAR's preprocessing must use the float
// path. Uint8 path recipe:
//
//  1. Per axis (in → out, scale = in/out in double): support = 2·scale (2 when upscaling),
//     kmax = ceil(support)·2 + 1; for output i: center = scale·(i + 0.5),
//     xmin = max(trunc(center − support + 0.5), 0), xsize = min(trunc(center + support + 0.5), in) − xmin
//     (clamped to [0, kmax]); w_j = K((j + xmin − center + 0.5)·invscale) for j < xsize with the
//     Keys cubic a = −0.5 and invscale = 1/scale when downscaling (else 1), normalised by their
//     sum — all in double.
//  2. precision = the largest p < 22 with trunc(0.5 + wmax·2^(p+1)) < 2^15 (wmax over the axis);
//     int16 weights w16 = trunc(±0.5 + w·2^p).
//  3. Horizontal pass first (width, if it changes) into a uint8 image, then the vertical pass
//     (height, if it changes): acc = 2^(p−1) + Σ pixel·w16 in integers,
//     out = clamp(acc >> p, 0, 255). Each pass rounds to uint8.
//
// The nearest resize is torch's legacy `interpolate(mode="nearest")`:
// src = min(floor(dst · float32(in/out)), in − 1), computed in Float32 (v1 and v2 agree).
//
// Layout here: interleaved HWC uint8 (`pixel (y, x), channel c` at `(y·W + x)·C + c`), which is
// what decoders produce; every channel is resampled independently, so the result equals
// torch's planar CHW result channel by channel.
import CKernels

/// The int16 resampling weights of one axis (torch `_compute_index_ranges_int16_weights`).
public struct AntialiasAxis: Sendable, Equatable {
    public let inSize: Int
    public let outSize: Int
    /// First input index per output index.
    public let start: [Int]
    /// Number of taps per output index.
    public let size: [Int]
    /// `[outSize, maxTaps]` int16 weights, row `i` valid for `size[i]` entries.
    public let weights: [Int16]
    public let maxTaps: Int
    /// Fixed-point precision p: weights are `w · 2^p`.
    public let precision: Int

    /// Bicubic (Keys, a = −0.5) antialiased weights for resampling `inSize` → `outSize`.
    public init(bicubicFrom inSize: Int, to outSize: Int) {
        self.init(from: inSize, to: outSize, interpSize: 4, filter: AntialiasAxis.keysCubic)
    }

    /// Bilinear (triangle filter) antialiased weights for resampling `inSize` → `outSize`
    /// (torch `HelperInterpLinear::aa_filter`, interp size 2).
    public init(bilinearFrom inSize: Int, to outSize: Int) {
        self.init(from: inSize, to: outSize, interpSize: 2) { x in
            let x = abs(x)
            return x < 1 ? 1 - x : 0
        }
    }

    /// torch `_compute_index_ranges_int16_weights` for a filter of support `interpSize / 2`.
    init(from inSize: Int, to outSize: Int, interpSize: Double, filter: (Double) -> Double) {
        precondition(inSize > 0 && outSize > 0, "AntialiasAxis: empty size")
        self.inSize = inSize
        self.outSize = outSize
        let scale = Double(inSize) / Double(outSize)
        let support = scale >= 1 ? (interpSize * 0.5) * scale : interpSize * 0.5
        let kmax = Int(support.rounded(.up)) * 2 + 1
        let invscale = scale >= 1 ? 1 / scale : 1
        var start = [Int](repeating: 0, count: outSize)
        var size = [Int](repeating: 0, count: outSize)
        var wf = [Double](repeating: 0, count: outSize * kmax)
        var wmax = 0.0
        for i in 0 ..< outSize {
            let center = scale * (Double(i) + 0.5)
            let xmin = max(Int(center - support + 0.5), 0)  // Int() truncates toward zero, as C's cast
            var xsize = min(Int(center + support + 0.5), inSize) - xmin
            xsize = min(max(xsize, 0), kmax)
            var total = 0.0
            for j in 0 ..< xsize {
                let w = filter((Double(j + xmin) - center + 0.5) * invscale)
                wf[i * kmax + j] = w
                total += w
            }
            if total != 0 {
                for j in 0 ..< xsize {
                    wf[i * kmax + j] /= total
                    wmax = max(wmax, wf[i * kmax + j])
                }
            }
            start[i] = xmin
            size[i] = xsize
        }
        var precision = 0
        while precision < 22 {
            let next = Int(0.5 + wmax * Double(1 << (precision + 1)))
            if next >= (1 << 15) { break }
            precision += 1
        }
        let factor = Double(1 << precision)
        self.weights = wf.map { w in
            let v = w * factor
            return Int16(truncatingIfNeeded: v < 0 ? Int(-0.5 + v) : Int(0.5 + v))
        }
        self.start = start
        self.size = size
        self.maxTaps = kmax
        self.precision = precision
    }

    /// Keys cubic convolution kernel with a = −0.5 (torch `HelperInterpCubic::aa_filter`,
    /// `cubic_convolution1/2`), same operation order, in double.
    static func keysCubic(_ x: Double) -> Double {
        let a = -0.5
        let x = abs(x)
        if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
        if x < 2 { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
        return 0
    }
}

/// The float32 weights of one axis for the float path (torch `_compute_indices_min_size_weights_aa<float>`,
/// computed in CKernels/resize.c).
public struct FloatAxisWeights: Sendable, Equatable {
    public let inSize: Int
    public let outSize: Int
    public let maxTaps: Int
    public let start: [Int64]
    public let size: [Int64]
    /// `[outSize, maxTaps]`, row `o` valid for `size[o]` entries.
    public let weights: [Float]

    public init(from inSize: Int, to outSize: Int) {
        precondition(inSize > 0 && outSize > 0, "FloatAxisWeights: empty size")
        self.inSize = inSize
        self.outSize = outSize
        let k = gk_aa_bicubic_float_taps(inSize, outSize)
        maxTaps = k
        var start = [Int64](repeating: 0, count: outSize), size = start
        var w = [Float](repeating: 0, count: outSize * k)
        start.withUnsafeMutableBufferPointer { st in
            size.withUnsafeMutableBufferPointer { sz in
                w.withUnsafeMutableBufferPointer { gk_aa_bicubic_float_weights(inSize, outSize, st.baseAddress!, sz.baseAddress!, $0.baseAddress!) }
            }
        }
        self.start = start
        self.size = size
        self.weights = w
    }
}

extension Kernels {
    /// Bicubic antialiased resize of an interleaved uint8 image `[H, W, C]` → `[Ho, Wo, C]` along
    /// torchvision v2's native uint8 path (int16 weights, uint8 intermediate), bit-exact with
    /// `torchvision.transforms.v2.functional.resize(…, BICUBIC, antialias=True)` on a uint8
    /// tensor. GAR's image processor uses the float path instead: `resizeBicubicAntialiasFloat`.
    public static func resizeBicubicAntialias(_ src: UnsafeBufferPointer<UInt8>, width W: Int, height H: Int, channels C: Int,
                                              into dst: UnsafeMutableBufferPointer<UInt8>, width Wo: Int, height Ho: Int) {
        resizeAntialias(src, width: W, height: H, channels: C, into: dst, width: Wo, height: Ho, axis: AntialiasAxis.init(bicubicFrom:to:))
    }

    /// Bilinear antialiased resize along the same uint8 path (int16 weights, uint8 intermediate):
    /// `torchvision.transforms.v2.functional.resize(…, BILINEAR, antialias=True)` on a uint8 tensor,
    /// what SAM 2's image processor runs.
    public static func resizeBilinearAntialias(_ src: UnsafeBufferPointer<UInt8>, width W: Int, height H: Int, channels C: Int,
                                               into dst: UnsafeMutableBufferPointer<UInt8>, width Wo: Int, height Ho: Int) {
        resizeAntialias(src, width: W, height: H, channels: C, into: dst, width: Wo, height: Ho, axis: AntialiasAxis.init(bilinearFrom:to:))
    }

    static func resizeAntialias(_ src: UnsafeBufferPointer<UInt8>, width W: Int, height H: Int, channels C: Int,
                                into dst: UnsafeMutableBufferPointer<UInt8>, width Wo: Int, height Ho: Int,
                                axis makeAxis: (Int, Int) -> AntialiasAxis) {
        precondition(W > 0 && H > 0 && C > 0 && Wo > 0 && Ho > 0, "resizeAntialias: empty image")
        precondition(src.count >= W * H * C && dst.count >= Wo * Ho * C, "resizeAntialias: buffer sizes")
        if W == Wo && H == Ho {
            _ = dst.update(fromContentsOf: src[0 ..< W * H * C])
            return
        }
        if W != Wo && H != Ho {
            var mid = [UInt8](repeating: 0, count: H * Wo * C)
            mid.withUnsafeMutableBufferPointer { m in
                resampleHorizontal(src, width: W, height: H, channels: C, into: m, axis: makeAxis(W, Wo))
                resampleVertical(UnsafeBufferPointer(m), width: Wo, channels: C, into: dst, axis: makeAxis(H, Ho))
            }
        } else if W != Wo {
            resampleHorizontal(src, width: W, height: H, channels: C, into: dst, axis: makeAxis(W, Wo))
        } else {
            resampleVertical(src, width: W, channels: C, into: dst, axis: makeAxis(H, Ho))
        }
    }

    /// One horizontal pass: `[H, W, C]` → `[H, axis.outSize, C]`.
    static func resampleHorizontal(_ src: UnsafeBufferPointer<UInt8>, width W: Int, height H: Int, channels C: Int,
                                   into dst: UnsafeMutableBufferPointer<UInt8>, axis: AntialiasAxis) {
        let Wo = axis.outSize, kmax = axis.maxTaps, p = axis.precision
        let rounding = 1 << (p - 1)
        let sp = src.baseAddress!, dp = dst.baseAddress!
        axis.weights.withUnsafeBufferPointer { wb in
            let wp = wb.baseAddress!
            parallelFor(H, grain: max(1, 65536 / max(1, Wo * C * kmax))) { rows in
                for y in rows {
                    let srow = sp + y * W * C, drow = dp + y * Wo * C
                    for x in 0 ..< Wo {
                        let x0 = axis.start[x], n = axis.size[x], w = wp + x * kmax
                        for c in 0 ..< C {
                            var acc = rounding
                            for j in 0 ..< n { acc += Int(srow[(x0 + j) * C + c]) * Int(w[j]) }
                            drow[x * C + c] = UInt8(min(max(acc >> p, 0), 255))
                        }
                    }
                }
            }
        }
    }

    /// One vertical pass: `[axis.inSize, W, C]` → `[axis.outSize, W, C]`.
    static func resampleVertical(_ src: UnsafeBufferPointer<UInt8>, width W: Int, channels C: Int,
                                 into dst: UnsafeMutableBufferPointer<UInt8>, axis: AntialiasAxis) {
        let Ho = axis.outSize, kmax = axis.maxTaps, p = axis.precision, rowLen = W * C
        let rounding = 1 << (p - 1)
        let sp = src.baseAddress!, dp = dst.baseAddress!
        axis.weights.withUnsafeBufferPointer { wb in
            let wp = wb.baseAddress!
            parallelFor(Ho, grain: max(1, 65536 / max(1, rowLen * kmax))) { rows in
                var acc = [Int](repeating: 0, count: rowLen)
                acc.withUnsafeMutableBufferPointer { ab in
                    let a = ab.baseAddress!
                    for y in rows {
                        let y0 = axis.start[y], n = axis.size[y], w = wp + y * kmax
                        a.update(repeating: rounding, count: rowLen)
                        for j in 0 ..< n {
                            let srow = sp + (y0 + j) * rowLen, wj = Int(w[j])
                            for i in 0 ..< rowLen { a[i] += Int(srow[i]) * wj }
                        }
                        let drow = dp + y * rowLen
                        for i in 0 ..< rowLen { drow[i] = UInt8(min(max(a[i] >> p, 0), 255)) }
                    }
                }
            }
        }
    }

    /// Bicubic antialiased resize of an interleaved uint8 image `[H, W, C]` → `[Ho, Wo, C]` along
    /// torchvision v1's float path — what GAR's image processor runs — bit-exact with it on an FMA
    /// CPU (see the file comment): float32 width pass (if the width changes), float32 height pass
    /// (if the height changes), clamp to [0, 255], round half to even.
    public static func resizeBicubicAntialiasFloat(_ src: UnsafeBufferPointer<UInt8>, width W: Int, height H: Int, channels C: Int,
                                                   into dst: UnsafeMutableBufferPointer<UInt8>, width Wo: Int, height Ho: Int) {
        precondition(W > 0 && H > 0 && C > 0 && Wo > 0 && Ho > 0, "resizeBicubicAntialiasFloat: empty image")
        precondition(src.count >= W * H * C && dst.count >= Wo * Ho * C, "resizeBicubicAntialiasFloat: buffer sizes")
        if W == Wo && H == Ho {  // torchvision returns the image unchanged
            _ = dst.update(fromContentsOf: src[0 ..< W * H * C])
            return
        }
        var image = [Float](unsafeUninitializedCapacity: W * H * C) { b, n in
            for i in 0 ..< W * H * C { b[i] = Float(src[i]) }
            n = W * H * C
        }
        if W != Wo {
            image = resampleFloat(image, outer: H, axis: FloatAxisWeights(from: W, to: Wo), inner: C)
        }
        if H != Ho {
            image = resampleFloat(image, outer: 1, axis: FloatAxisWeights(from: H, to: Ho), inner: Wo * C)
        }
        image.withUnsafeBufferPointer { b in gk_f32_to_u8_clamp_round(b.baseAddress!, dst.baseAddress!, Wo * Ho * C) }
    }

    /// One separable float pass: the input is `outer` blocks of `[axis.inSize, inner]`, the output
    /// `outer` blocks of `[axis.outSize, inner]` (width pass: outer = rows, inner = channels;
    /// height pass: outer = 1, inner = row length).
    static func resampleFloat(_ src: [Float], outer: Int, axis: FloatAxisWeights, inner: Int) -> [Float] {
        let n = axis.outSize
        var out = [Float](repeating: 0, count: outer * n * inner)
        src.withUnsafeBufferPointer { sb in
            out.withUnsafeMutableBufferPointer { ob in
                axis.start.withUnsafeBufferPointer { st in
                    axis.size.withUnsafeBufferPointer { sz in
                        axis.weights.withUnsafeBufferPointer { wb in
                            let sp = sb.baseAddress!, op = ob.baseAddress!
                            if outer > 1 {
                                parallelFor(outer, grain: max(1, 16384 / max(1, n * inner))) { blocks in
                                    for b in blocks {
                                        gk_aa_resample_f32(sp + b * axis.inSize * inner, op + b * n * inner, n, inner, inner, inner,
                                                           st.baseAddress!, sz.baseAddress!, wb.baseAddress!, axis.maxTaps)
                                    }
                                }
                            } else {
                                parallelFor(n, grain: max(1, 16384 / max(1, inner))) { rows in
                                    let r0 = rows.lowerBound
                                    gk_aa_resample_f32(sp, op + r0 * inner, rows.count, inner, inner, inner,
                                                       st.baseAddress! + r0, sz.baseAddress! + r0, wb.baseAddress! + r0 * axis.maxTaps,
                                                       axis.maxTaps)
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Legacy nearest resize (torch `interpolate(mode="nearest")`) of an interleaved image of
    /// bytes `[H, W, C]` → `[Ho, Wo, C]`: source index `min(floor(dst · float32(in/out)), in − 1)`.
    public static func resizeNearest(_ src: UnsafeBufferPointer<UInt8>, width W: Int, height H: Int, channels C: Int,
                                     into dst: UnsafeMutableBufferPointer<UInt8>, width Wo: Int, height Ho: Int) {
        precondition(W > 0 && H > 0 && C > 0 && Wo > 0 && Ho > 0, "resizeNearest: empty image")
        precondition(src.count >= W * H * C && dst.count >= Wo * Ho * C, "resizeNearest: buffer sizes")
        let xs = (0 ..< Wo).map { nearestSourceIndex($0, inSize: W, outSize: Wo) }
        let sp = src.baseAddress!, dp = dst.baseAddress!
        parallelFor(Ho, grain: max(1, 65536 / max(1, Wo * C))) { rows in
            for y in rows {
                let sy = nearestSourceIndex(y, inSize: H, outSize: Ho)
                let srow = sp + sy * W * C, drow = dp + y * Wo * C
                for x in 0 ..< Wo {
                    for c in 0 ..< C { drow[x * C + c] = srow[xs[x] * C + c] }
                }
            }
        }
    }

    /// torch `nearest_idx`: identity when sizes match, `i >> 1` for exact 2× upscaling, else
    /// `min(floor(Float(i) · (Float(in) / Float(out))), in − 1)`.
    @inline(__always)
    public static func nearestSourceIndex(_ i: Int, inSize: Int, outSize: Int) -> Int {
        if outSize == inSize { return i }
        if outSize == 2 * inSize { return i >> 1 }
        let scale = Float(inSize) / Float(outSize)
        return min(Int((Float(i) * scale).rounded(.down)), inSize - 1)
    }
}
