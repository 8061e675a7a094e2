// Fast kernels and naive twins against PyTorch outputs (Tests/Fixtures/ops, written by
// Tests/Fixtures/generate/make_op_goldens.py with torch 2.15 / torchvision 0.29.2 /
// transformers 4.56.2 / timm 1.0.19).
import Checkpoints
import Foundation
import Testing
@testable import Tensors

@Suite struct OpGoldenTests {
    // MARK: pointwise, norms, softmax, linear

    @Test func pointwise() throws {
        let g = try Golden("pointwise")
        let x = try g.floats("x")
        for (name, expected) in [("gelu", try g.floats("gelu")), ("silu", try g.floats("silu"))] {
            var fast = x, slow = x
            x.withUnsafeBufferPointer { xb in
                fast.withUnsafeMutableBufferPointer { name == "gelu" ? Kernels.gelu(xb, $0) : Kernels.silu(xb, $0) }
                slow.withUnsafeMutableBufferPointer { name == "gelu" ? Reference.gelu(xb, $0) : Reference.silu(xb, $0) }
            }
            // Measured: torch 2.15's float32 GELU (AVX-512) is up to 1.16e-6 from the exact-erf GELU
            // on |x| ≤ 8 (its vectorised erf is an approximation, ≈1.5e-7·|x| in GELU terms); ours
            // is within 2 ulp + 0.8e-7·|x|. Per element: 3 ulp(|y|) + 2.5e-7·|x|.
            for (label, got) in [("fast", fast), ("naive", slow)] {
                var bad = 0
                for i in 0 ..< x.count where abs(got[i] - expected[i]) > 3 * max(abs(expected[i]).ulp, Float.leastNormalMagnitude) + 2.5e-7 * abs(x[i]) {
                    bad += 1
                }
                #expect(bad == 0, "\(name) \(label) vs torch: \(bad) values off, max diff \(maxAbsDiff(got, expected))")
            }
        }
        let xe = try g.floats("x_exp"), expected = try g.floats("exp")
        var y = xe
        xe.withUnsafeBufferPointer { xb in y.withUnsafeMutableBufferPointer { Kernels.exp(xb, $0) } }
        var worst: Float = 0
        for i in 0 ..< xe.count where expected[i] > Float.leastNormalMagnitude {
            worst = max(worst, abs(y[i] - expected[i]) / expected[i].ulp)
        }
        // ≤ 2 ulp from the truth each, torch ≤ 1 ulp: ≤ 3 ulp apart
        #expect(worst <= 3, "exp vs torch: \(worst) ulp")
    }

    @Test func norms() throws {
        let g = try Golden("norms")
        let x = try g.tensor("ln_x"), w = try g.tensor("ln_weight"), b = try g.tensor("ln_bias")
        let ln = Ops.layerNorm(x, weight: w, bias: b, eps: 1e-5)
        // F.layer_norm (Welford, vectorised) vs our two-pass Float32: outputs O(3); 1e-5 relative
        #expect(maxRelDiff(ln.storage, try g.floats("ln_y")) <= 1e-5)
        let xr = try g.tensor("rms_x"), wr = try g.tensor("rms_weight")
        let rms = Ops.rmsNorm(xr, weight: wr, eps: 1e-5)
        #expect(maxRelDiff(rms.storage, try g.floats("rms_y")) <= 1e-5)
        var naive = [Float](repeating: 0, count: xr.count)
        xr.withUnsafeBufferPointer { xb in
            wr.withUnsafeBufferPointer { wb in naive.withUnsafeMutableBufferPointer { Reference.rmsNorm(xb, weight: wb, eps: 1e-5, out: $0, rows: xr.rowCount, cols: xr.rowLength) } }
        }
        #expect(maxRelDiff(naive, try g.floats("rms_y")) <= 1e-5)
    }

    @Test func softmaxAndLinear() throws {
        let g = try Golden("softmax_linear")
        let sm = Ops.softmax(try g.tensor("sm_x"), scale: 0.125)
        // probabilities: 1e-6 absolute is a few ulp of the largest
        #expect(maxAbsDiff(sm.storage, try g.floats("sm_y")) <= 1e-6)
        let x = try g.tensor("lin_x"), w = try g.tensor("lin_w"), b = try g.tensor("lin_b")
        // 37-term dot products: MKL vs OpenBLAS summation order; 1e-5 relative to max |y|
        #expect(maxRelDiff(Ops.linear(x, w, bias: b).storage, try g.floats("lin_y")) <= 1e-5)
        #expect(maxRelDiff(Ops.linear(x, w).storage, try g.floats("lin_nobias_y")) <= 1e-5)
        #expect(maxRelDiff(Ops.linear(try g.tensor("lin1_x"), w, bias: b).storage, try g.floats("lin1_y")) <= 1e-5)
    }

    // MARK: RoPE

    @Test(arguments: [("gar1b", 64, Float(32)), ("l31", 128, Float(8)), ("tiny", 16, Float(32))])
    func llamaRope(name: String, headDim D: Int, factor: Float) throws {
        let g = try Golden("llama_rope")
        let inv = Rope.llama3InvFreq(headDim: D, theta: 500000, factor: factor, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192)
        let torchInv = try g.floats("\(name)_inv_freq")
        // Same Float32 operation order as HF; powf may differ from torch's pow by 1 ulp.
        var worst: Float = 0
        for i in 0 ..< inv.count { worst = max(worst, abs(inv[i] - torchInv[i]) / torchInv[i].ulp) }
        #expect(worst <= 1, "\(name) inv_freq: \(worst) ulp")
        let positions = try g.ints("positions")
        let table = Rope.halfSplitTable(invFreq: torchInv, positions: positions)
        // angles up to ~1e4 rad: sinf/cosf of the same Float32 angle, ≤ 1 ulp apart from torch's
        #expect(maxAbsDiff(table.cos, try g.floats("\(name)_cos")) <= 2e-7)
        #expect(maxAbsDiff(table.sin, try g.floats("\(name)_sin")) <= 2e-7)
        // apply to q [heads, P, D] (golden layout) → rows [P, heads·D]
        for which in ["q", "k"] {
            let x = try g.tensor("\(name)_\(which)"), expected = try g.tensor("\(name)_\(which)_rot")
            let H = x.shape[0], P = x.shape[1]
            let torchTable = RopeTable(positions: P, headDim: D, sin: try g.floats("\(name)_sin"), cos: try g.floats("\(name)_cos"))
            var rows = headMajorToRows(x)
            rows.withUnsafeMutableBufferPointer { Kernels.ropeHalfSplit($0.baseAddress!, rowStride: H * D, rows: P, heads: H, table: torchTable) }
            // identical Float32 formula on identical tables: bit-exact
            #expect(rows == headMajorToRows(expected), "\(name) \(which) rotation")
        }
    }

    @Test(arguments: [("l", 64, Float(1)), ("g", 96, Float(0)), ("odd", 32, Float(1))])
    func visionRope(name: String, headDim D: Int, offset: Float) throws {
        let g = try Golden("vit_rope")
        let (gh, gw) = name == "odd" ? (6, 5) : (32, 32)
        let table = Rope.visionTable(gridHeight: gh, gridWidth: gw, headDim: D, gridOffset: offset, refFeatHeight: 32, refFeatWidth: 32)
        let rows = try g.ints("\(name)_rows")
        let torchRows = try g.tensor("\(name)_table")  // [rows, 2D] = sin | cos
        var worst: Float = 0
        for (i, r) in rows.enumerated() {
            for d in 0 ..< D {
                worst = max(worst, abs(table.sin[r * D + d] - torchRows[i, d]))
                worst = max(worst, abs(table.cos[r * D + d] - torchRows[i, D + d]))
            }
        }
        // angles ≤ 33 rad: 1 ulp of sin/cos plus powf vs torch pow in the bands (≤ 1 ulp · 33)
        #expect(worst <= 5e-7, "\(name) table: \(worst)")
        // Rotation of [heads, tokens, D] with one CLS token in front, on torch's own table rows.
        let x = try g.tensor("\(name)_x"), expected = try g.tensor("\(name)_y")
        let tokens = try g.ints("\(name)_x_tokens")  // token indices kept in the fixture (0 = CLS)
        let H = x.shape[0], N = x.shape[1]
        var sinT = [Float](repeating: 0, count: (N - 1) * D), cosT = sinT
        for j in 1 ..< N {
            let tableRow = tokens[j] - 1
            guard let i = rows.firstIndex(of: tableRow) else { Issue.record("row \(tableRow) not stored"); return }
            for d in 0 ..< D {
                sinT[(j - 1) * D + d] = torchRows[i, d]
                cosT[(j - 1) * D + d] = torchRows[i, D + d]
            }
        }
        var r = headMajorToRows(x)
        r.withUnsafeMutableBufferPointer {
            Kernels.ropeInterleaved($0.baseAddress!, rowStride: H * D, rows: N, prefix: 1, heads: H,
                                    table: RopeTable(positions: N - 1, headDim: D, sin: sinT, cos: cosT))
        }
        #expect(r == headMajorToRows(expected), "\(name) rotation is bit-exact")
    }

    // MARK: attention

    @Test func sdpa() throws {
        let g = try Golden("sdpa")
        // causal with a 7-position cache, GQA 8/2
        let c = Ops.attention(q: headMajorToTensor(try g.tensor("c_q")), k: headMajorToTensor(try g.tensor("c_k")),
                              v: headMajorToTensor(try g.tensor("c_v")), heads: 8, kvHeads: 2, causalOffset: 7)
        // convex mixes of N(0,1): 2e-6 absolute ≈ 10 ulp of the values
        #expect(maxAbsDiff(c.storage, headMajorToRows(try g.tensor("c_y"))) <= 2e-6)
        let p = Ops.attention(q: headMajorToTensor(try g.tensor("p_q")), k: headMajorToTensor(try g.tensor("p_k")),
                              v: headMajorToTensor(try g.tensor("p_v")), heads: 4, kvHeads: 1, causalOffset: 0)
        #expect(maxAbsDiff(p.storage, headMajorToRows(try g.tensor("p_y"))) <= 2e-6)
        let n = Ops.attention(q: headMajorToTensor(try g.tensor("n_q")), k: headMajorToTensor(try g.tensor("n_k")),
                              v: headMajorToTensor(try g.tensor("n_v")), heads: 4, kvHeads: 4)
        #expect(maxAbsDiff(n.storage, headMajorToRows(try g.tensor("n_y"))) <= 2e-6)
    }

    // MARK: RoI-Align, pooling, patch conv

    @Test func roiAlign() throws {
        let g = try Golden("roi_align")
        let feat = try g.tensor("features")  // [C, H, W]
        let C = feat.shape[0], H = feat.shape[1], W = feat.shape[2]
        let cl = channelsFirstToLast(feat)
        func check(_ boxesKey: String, _ outKey: String, _ p: RoIAlignParameters, exact: Bool) throws {
            let boxes = try g.tensor(boxesKey), out = try g.tensor(outKey)  // out [K, C, ph, pw]
            for k in 0 ..< boxes.shape[0] {
                let box = RoIBox(x1: boxes[k, 0], y1: boxes[k, 1], x2: boxes[k, 2], y2: boxes[k, 3])
                let fast = Ops.roiAlign(cl, height: H, width: W, box: box, parameters: p)
                var slow = [Float](repeating: 0, count: fast.count)
                cl.withUnsafeBufferPointer { fb in slow.withUnsafeMutableBufferPointer { Reference.roiAlign(features: fb, height: H, width: W, channels: C, box: box, parameters: p, out: $0) } }
                let per = C * p.outHeight * p.outWidth
                let one = Tensor(shape: [C, p.outHeight, p.outWidth], Array(out.storage[k * per ..< (k + 1) * per]))
                let expected = channelsFirstToLast(one).storage
                if exact {
                    // torchvision's Float32 arithmetic mirrored: bit-exact
                    #expect(fast.storage == expected, "\(outKey) box \(k): max diff \(maxAbsDiff(fast.storage, expected))")
                } else {
                    #expect(maxAbsDiff(fast.storage, expected) <= 1e-6, "\(outKey) box \(k)")
                }
                // the Double twin: coordinates in Double move samples by ~1e-7 cells
                #expect(maxAbsDiff(slow, expected) <= 2e-5, "\(outKey) box \(k) naive")
            }
        }
        let s = Float(Double(16) / Double(28 * 16))
        try check("boxes_gar", "out_gar", RoIAlignParameters(outHeight: 16, outWidth: 16, spatialScale: s, samplingRatio: 2, aligned: true), exact: true)
        try check("boxes_px", "out_px", RoIAlignParameters(outHeight: 7, outWidth: 5, spatialScale: 1, samplingRatio: 2, aligned: true), exact: true)
        try check("boxes_px", "out_adaptive", RoIAlignParameters(outHeight: 4, outWidth: 6, spatialScale: 0.5, samplingRatio: 0, aligned: false), exact: true)
    }

    @Test func poolingAndPatchConv() throws {
        let g = try Golden("pool_conv")
        // channels-first input [C, 32, 32] → our channels-last layout
        let x = channelsFirstToLast(try g.tensor("pool_x"))
        let y = Ops.adaptiveAvgPool2d(x, height: 32, width: 32, outHeight: 16, outWidth: 16)
        #expect(y.storage == channelsFirstToLast(try g.tensor("pool_y")).storage, "2×2 pooling is bit-exact")
        let tokens = try g.tensor("pool_tokens")  // [1024, C] as the projector produces it
        let yt = Ops.adaptiveAvgPool2d(tokens, height: 32, width: 32, outHeight: 16, outWidth: 16)
        #expect(yt.storage == channelsFirstToLast(try g.tensor("pool_tokens_y")).storage)
        let xo = channelsFirstToLast(try g.tensor("pool_odd_x"))
        let yo = Ops.adaptiveAvgPool2d(xo, height: 7, width: 5, outHeight: 3, outWidth: 2)
        // non-power-of-two windows: torch divides by kh then kw (contiguous path); we divide once
        #expect(maxAbsDiff(yo.storage, channelsFirstToLast(try g.tensor("pool_odd_y")).storage) <= 2e-7)

        let img = try g.tensor("conv_image"), w = try g.tensor("conv_weight"), b = try g.tensor("conv_bias")
        let conv = Ops.patchEmbed(img, weight: w, bias: b)  // [tokens, D]
        // 588-term dot products, MKL-DNN conv vs OpenBLAS GEMM order: 1e-5 relative
        #expect(maxRelDiff(conv.storage, channelsFirstToLast(try g.tensor("conv_y")).storage) <= 1e-5)
        let convNB = Ops.patchEmbed(img, weight: w)
        #expect(maxRelDiff(convNB.storage, channelsFirstToLast(try g.tensor("conv_nobias_y")).storage) <= 1e-5)
    }

    // MARK: resize

    /// `golden` "resize_bicubic" holds torchvision v2 (native uint8) outputs, "resize_bicubic_v1"
    /// torchvision v1 (float path, what GAR's processor runs).
    @Test(arguments: [("resize_bicubic", ImageU8.BicubicPath.torchvisionV2UInt8), ("resize_bicubic_v1", .torchvisionV1Float)])
    func bicubicResizeSmall(golden: String, path: ImageU8.BicubicPath) throws {
        let g = try Golden(golden)
        var i = 0
        while g.has("full\(i)_in") {
            let src = try g.bytes("full\(i)_in"), expected = try g.bytes("full\(i)_out")
            let ins = g.shape("full\(i)_in"), outs = g.shape("full\(i)_out")  // [H, W, C]
            let img = ImageU8(width: ins[1], height: ins[0], channels: ins[2], pixels: src)
            let out = img.resizedBicubicAntialias(width: outs[1], height: outs[0], path: path)
            #expect(out.pixels == expected, "\(golden) case \(i): \(ins) → \(outs): \(zip(out.pixels, expected).filter { $0 != $1 }.count) bytes differ")
            var naive = [UInt8](repeating: 0, count: expected.count)
            src.withUnsafeBufferPointer { s in
                naive.withUnsafeMutableBufferPointer {
                    if path == .torchvisionV2UInt8 {
                        Reference.resizeBicubicAntialias(s, width: ins[1], height: ins[0], channels: ins[2], into: $0, width: outs[1], height: outs[0])
                    } else {
                        Reference.resizeBicubicAntialiasFloat(s, width: ins[1], height: ins[0], channels: ins[2], into: $0, width: outs[1], height: outs[0])
                    }
                }
            }
            if path == .torchvisionV2UInt8 {
                #expect(naive == expected, "naive case \(i)")
            } else {
                // the Double twin differs only where a value sits at a rounding boundary: ±1 level
                let off = zip(naive, expected).filter { $0 != $1 }
                #expect(off.allSatisfy { abs(Int($0) - Int($1)) <= 1 } && off.count * 200 <= expected.count, "naive case \(i): \(off.count) bytes off")
            }
            i += 1
        }
        #expect(i >= 5)
    }

    /// Large resizes (thumbnail and tile canvases of GAR's preprocessing): procedural inputs,
    /// outputs compared as one FNV-1a hash per row — bit-exact or it fails, naming the rows.
    @Test(arguments: [("resize_bicubic", ImageU8.BicubicPath.torchvisionV2UInt8), ("resize_bicubic_v1", .torchvisionV1Float)])
    func bicubicResizeLarge(golden: String, path: ImageU8.BicubicPath) throws {
        let g = try Golden(golden)
        var i = 0
        while g.has("hashed\(i)_size") {
            let size = try g.ints("hashed\(i)_size")
            let (w, h, ow, oh, seed) = (size[0], size[1], size[2], size[3], size[4])
            let img = proceduralImage(width: w, height: h, channels: 3, seed: seed)
            let out = img.resizedBicubicAntialias(width: ow, height: oh, path: path)
            let hashes = rowHashes(out)
            let expected = try g.int64s("hashed\(i)_rows")
            let badRows = (0 ..< oh).filter { hashes[$0] != expected[$0] }
            #expect(badRows.isEmpty, "\(golden) \(w)×\(h) → \(ow)×\(oh): \(badRows.count) rows differ, first \(badRows.prefix(5))")
            #expect(Array(out.pixels[0 ..< ow * 3]) == (try g.bytes("hashed\(i)_row0")))
            #expect(Array(out.pixels[(oh / 2) * ow * 3 ..< (oh / 2 + 1) * ow * 3]) == (try g.bytes("hashed\(i)_rowmid")))
            i += 1
        }
        #expect(i >= 7)
    }

    @Test func nearestResize() throws {
        let g = try Golden("resize_nearest")
        var i = 0
        while g.has("full\(i)_in") {
            let ins = g.shape("full\(i)_in"), outs = g.shape("full\(i)_out")
            let img = ImageU8(width: ins[1], height: ins[0], channels: ins[2], pixels: try g.bytes("full\(i)_in"))
            #expect(img.resizedNearest(width: outs[1], height: outs[0]).pixels == (try g.bytes("full\(i)_out")), "case \(i)")
            i += 1
        }
        var j = 0
        while g.has("hashed\(j)_size") {
            let s = try g.ints("hashed\(j)_size")
            let ids = proceduralIDs(width: s[0], height: s[1], seed: s[4])
            let out = ids.resizedNearest(width: s[2], height: s[3])
            let expected = try g.int64s("hashed\(j)_rows")
            let hashes = rowHashes(out)
            #expect((0 ..< s[3]).allSatisfy { hashes[$0] == expected[$0] }, "nearest \(s)")
            j += 1
        }
        #expect(i >= 4 && j >= 4)
    }
}

// MARK: - layout helpers

/// `[H, T, D]` (torch's head-major) → rows `[T, H·D]`.
func headMajorToRows(_ x: Tensor) -> [Float] {
    let H = x.shape[0], T = x.shape[1], D = x.shape[2]
    var out = [Float](repeating: 0, count: x.count)
    for h in 0 ..< H { for t in 0 ..< T { for d in 0 ..< D { out[(t * H + h) * D + d] = x.storage[(h * T + t) * D + d] } } }
    return out
}

func headMajorToTensor(_ x: Tensor) -> Tensor {
    Tensor(shape: [x.shape[1], x.shape[0] * x.shape[2]], headMajorToRows(x))
}

/// `[C, H, W]` → `[H·W, C]`.
func channelsFirstToLast(_ x: Tensor) -> Tensor {
    let C = x.shape[0], HW = x.count / C
    var out = [Float](repeating: 0, count: x.count)
    for c in 0 ..< C { for p in 0 ..< HW { out[p * C + c] = x.storage[c * HW + p] } }
    return Tensor(shape: [HW, C], out)
}

// MARK: - procedural images (must equal make_op_goldens.py's procedural_image / procedural_ids)

func proceduralImage(width: Int, height: Int, channels: Int, seed: Int) -> ImageU8 {
    var px = [UInt8](repeating: 0, count: width * height * channels)
    for y in 0 ..< height {
        for x in 0 ..< width {
            for c in 0 ..< channels {
                let (ux, uy, uc) = (UInt64(x), UInt64(y), UInt64(c))
                let smooth = ((ux * 255) / UInt64(max(width - 1, 1)) + (uy * 255) / UInt64(max(height - 1, 1))) / 2
                let edges = ((ux / 37 + uy / 29 + uc) % 2) * 70
                let h = (ux &* 2_654_435_761 &+ uy &* 2_246_822_519 &+ (uc + UInt64(seed)) &* 3_266_489_917) % (1 << 32)
                px[(y * width + x) * channels + c] = UInt8((smooth + edges + (h >> 27)) % 256)
            }
        }
    }
    return ImageU8(width: width, height: height, channels: channels, pixels: px)
}

func proceduralIDs(width: Int, height: Int, seed: Int) -> ImageU8 {
    var px = [UInt8](repeating: 0, count: width * height)
    for y in 0 ..< height { for x in 0 ..< width { px[y * width + x] = UInt8((x / 13 + (y / 7) * 3 + seed) % 6) } }
    return ImageU8(width: width, height: height, channels: 1, pixels: px)
}

/// 64-bit FNV-1a of each row's bytes, as Int64 bit patterns.
func rowHashes(_ img: ImageU8) -> [Int64] {
    let rowBytes = img.width * img.channels
    return (0 ..< img.height).map { y in
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for i in y * rowBytes ..< (y + 1) * rowBytes {
            h ^= UInt64(img.pixels[i])
            h = h &* 0x0000_0100_0000_01B3
        }
        return Int64(bitPattern: h)
    }
}
