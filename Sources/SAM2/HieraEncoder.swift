// Hiera image encoder of SAM 2 (transformers `Sam2HieraDetModel`): a 7×7 stride-4 patch
// convolution, a bicubic-interpolated background position embedding plus a tiled window
// embedding, then multi-scale blocks in stages. The first block of stages 1…numQueryPoolStages
// max-pools its queries 2×2 (halving the grid) and widens the channels through a projected,
// pooled residual. Blocks attend inside square windows (zero-padded at the right/bottom edge,
// padding tokens included as keys, exactly as the reference) or globally (`global_attention_blocks`).
// Grids are channels-last `[H·W, C]`.
import Checkpoints
import Tensors

struct HieraBlock: Sendable {
    let dim: Int, dimOut: Int, heads: Int
    /// Attention window side on the block's input grid (0 = global).
    let window: Int
    /// Query pooling stride (1 = none).
    let queryStride: Int
    let norm1: LayerNorm, norm2: LayerNorm
    let qkv: Linear, attnProj: Linear
    let proj: Linear?
    let mlp: FeedForward
    let precision: Precision

    init(_ w: SAM2Weights, config h: SAM2Config.Hiera, stage: Int, indexInStage: Int, index: Int) throws {
        precision = w.precision
        let first = stage > 0 && indexInStage == 0
        dim = first ? h.embedDimPerStage[stage - 1] : h.embedDimPerStage[stage]
        dimOut = h.embedDimPerStage[stage]
        heads = h.numAttentionHeadsPerStage[stage]
        let win = first ? h.windowSizePerStage[stage - 1] : h.windowSizePerStage[stage]
        window = h.globalAttentionBlocks.contains(index) ? 0 : win
        queryStride = (stage > 0 && stage <= h.numQueryPoolStages && indexInStage == 0) ? h.queryStride[0] : 1
        norm1 = try LayerNorm(w, "layer_norm1", width: dim, eps: h.layerNormEps)
        norm2 = try LayerNorm(w, "layer_norm2", width: dimOut, eps: h.layerNormEps)
        qkv = try Linear(w, "attn.qkv", in: dim, out: 3 * dimOut)
        attnProj = try Linear(w, "attn.proj", in: dimOut, out: dimOut)
        proj = dim != dimOut ? try Linear(w, "proj", in: dim, out: dimOut) : nil
        mlp = try FeedForward(w, "mlp", input: dimOut, hidden: Int(Double(dimOut) * h.mlpRatio), output: dimOut,
                              numLayers: 2, activation: .gelu)
    }

    /// `x: [H·W, dim]` → `[H'·W', dimOut]` with `H' = H / queryStride`.
    func callAsFunction(_ x: Tensor, height H: Int, width W: Int) -> (Tensor, Int, Int) {
        let normed = norm1(x)
        var residual = x
        if let proj { residual = maxPool(proj(normed), height: H, width: W, stride: queryStride) }
        let Ho = H / queryStride, Wo = W / queryStride

        // Windows (one window of the whole grid for global attention), zero-padded.
        let ws = window > 0 ? window : 0
        let (wh, ww) = ws > 0 ? (ws, ws) : (H, W)
        let Hp = ws > 0 ? (H + ws - 1) / ws * ws : H, Wp = ws > 0 ? (W + ws - 1) / ws * ws : W
        let nWy = Hp / wh, nWx = Wp / ww, nW = nWy * nWx
        // One window without padding (global attention): the partition is the identity.
        let windows = nW == 1 && Hp == H && Wp == W
            ? normed : partition(normed, height: H, width: W, windowHeight: wh, windowWidth: ww, paddedHeight: Hp, paddedWidth: Wp)
        let qkvOut = qkv(windows)  // [nW·wh·ww, 3·dimOut]
        let qh = wh / queryStride, qw = ww / queryStride
        let D = dimOut / heads, n = wh * ww, nq = qh * qw
        // Queries: read in place from the qkv rows, or pooled inside each window when this block pools.
        var pooled: Tensor? = nil
        if queryStride > 1 {
            var p = Tensor(shape: [nW * nq, dimOut])
            qkvOut.withUnsafeBufferPointer { qb in
                p.withUnsafeMutableBufferPointer { pb in
                    parallelFor(nW) { range in
                        var q = [Float](repeating: 0, count: n * dimOut)
                        for wi in range {
                            for r in 0 ..< n { for c in 0 ..< dimOut { q[r * dimOut + c] = qb[(wi * n + r) * 3 * dimOut + c] } }
                            q.withUnsafeBufferPointer {
                                Kernels.maxPool2d($0, height: wh, width: ww, channels: dimOut, kernel: queryStride,
                                                  out: UnsafeMutableBufferPointer(rebasing: pb[wi * nq * dimOut ..< (wi + 1) * nq * dimOut]))
                            }
                        }
                    }
                }
            }
            pooled = p
        }
        var attn = Tensor(shape: [nW * nq, dimOut], unsafeUninitialized: { _ in })   // every row is written below
        let qStride = pooled == nil ? 3 * dimOut : dimOut
        let layout = AttentionLayout(qRowStride: qStride, kRowStride: 3 * dimOut, vRowStride: 3 * dimOut, outRowStride: dimOut)
        let precision = precision
        (pooled ?? qkvOut).withUnsafeBufferPointer { qb in
            qkvOut.withUnsafeBufferPointer { kvb in
                attn.withUnsafeMutableBufferPointer { ob in
                    let qp = qb.baseAddress!, kp = kvb.baseAddress! + dimOut, vp = kvb.baseAddress! + 2 * dimOut, op = ob.baseAddress!
                    if nW == 1 {
                        sam2Attention(q: qp, k: kp, v: vp, out: op, layout: layout, queries: nq, keys: n, heads: heads, headDim: D,
                                      precision: precision)
                        return
                    }
                    parallelFor(nW, grain: 1) { range in
                        for wi in range {
                            sam2Attention(q: qp + wi * nq * qStride, k: kp + wi * n * 3 * dimOut, v: vp + wi * n * 3 * dimOut,
                                          out: op + wi * nq * dimOut, layout: layout, queries: nq, keys: n,
                                          heads: heads, headDim: D, precision: precision)
                        }
                    }
                }
            }
        }
        let projected = attnProj(attn)
        // Back to the (pooled) grid, cropping the padding.
        var y = nW == 1 && qh == Ho && qw == Wo
            ? projected : unpartition(projected, windowsY: nWy, windowsX: nWx, windowHeight: qh, windowWidth: qw, height: Ho, width: Wo)
        Ops.addInPlace(&y, residual)
        Ops.addInPlace(&y, mlp(norm2(y)))
        return (y, Ho, Wo)
    }
}

/// `[H·W, C]` → windows `[nW·wh·ww, C]` (window-major, row-major inside), zero-padded to `Hp×Wp`.
func partition(_ x: Tensor, height H: Int, width W: Int, windowHeight wh: Int, windowWidth ww: Int,
               paddedHeight Hp: Int, paddedWidth Wp: Int) -> Tensor {
    let C = x.rowLength, nWx = Wp / ww
    func copy(into ob: UnsafeMutableBufferPointer<Float>) {
        x.withUnsafeBufferPointer { xb in
            let op = ob.baseAddress!, xp = xb.baseAddress!
            parallelFor(H, grain: 4) { ys in
                for y in ys {
                    for xx in 0 ..< W {
                        let wi = (y / wh) * nWx + xx / ww, r = wi * wh * ww + (y % wh) * ww + xx % ww
                        (op + r * C).update(from: xp + (y * W + xx) * C, count: C)
                    }
                }
            }
        }
    }
    if Hp == H && Wp == W { return Tensor(shape: [Hp * Wp, C], unsafeUninitialized: copy) }
    var out = Tensor(shape: [Hp * Wp, C])   // zero padding
    out.withUnsafeMutableBufferPointer(copy)
    return out
}

/// Inverse of `partition` for windows of `wh×ww` tokens, keeping the top-left `H×W`.
func unpartition(_ x: Tensor, windowsY nWy: Int, windowsX nWx: Int, windowHeight wh: Int, windowWidth ww: Int,
                 height H: Int, width W: Int) -> Tensor {
    let C = x.rowLength
    precondition(H <= nWy * wh && W <= nWx * ww, "unpartition: \(H)×\(W) outside the windows")
    return Tensor(shape: [H * W, C], unsafeUninitialized: { ob in
        x.withUnsafeBufferPointer { xb in
            let op = ob.baseAddress!, xp = xb.baseAddress!
            parallelFor(H, grain: 4) { ys in
                for y in ys {
                    for xx in 0 ..< W {
                        let wi = (y / wh) * nWx + xx / ww, r = wi * wh * ww + (y % wh) * ww + xx % ww
                        (op + (y * W + xx) * C).update(from: xp + r * C, count: C)
                    }
                }
            }
        }
    })
}

/// 2-D max pooling of a channels-last grid (stride 1 = identity).
func maxPool(_ x: Tensor, height H: Int, width W: Int, stride s: Int) -> Tensor {
    guard s > 1 else { return x }
    let C = x.rowLength
    var out = Tensor(shape: [(H / s) * (W / s), C])
    x.withUnsafeBufferPointer { xb in
        out.withUnsafeMutableBufferPointer { Kernels.maxPool2d(xb, height: H, width: W, channels: C, kernel: s, out: $0) }
    }
    return out
}

public struct HieraEncoder: Sendable {
    let config: SAM2Config.Hiera
    /// The 7×7/4 patch convolution as a GEMM over im2col rows: `[C, 3·K·K]`.
    let patchEmbed: Linear
    /// Position embedding for the stage-0 grid, channels-last `[G·G, C]` (computed at load).
    let positionEmbedding: Tensor
    let blocks: [HieraBlock]
    /// Index of the last block of each stage.
    let stageEnds: [Int]
    let grid: Int

    init(_ w: SAM2Weights, config h: SAM2Config.Hiera) throws {
        config = h
        let C = h.hiddenSize, K = h.patchKernelSize[0]
        let patchWeight = try w.take("patch_embed.projection.weight", shape: [C, h.numChannels, K, K])
        let patchBias = try w.take("patch_embed.projection.bias", shape: [C])
        patchEmbed = Linear(matrix: patchWeight.storage, out: C, in: h.numChannels * K * K, bias: patchBias.storage, precision: w.precision)
        let bg = h.windowPositionalEmbeddingBackgroundSize[0], win = h.windowSizePerStage[0]
        let background = try w.take("pos_embed", shape: [1, C, bg, bg])
        let window = try w.take("pos_embed_window", shape: [1, C, win, win])
        grid = Kernels.convOutputSize(h.imageSize[0], kernel: K, stride: h.patchStride[0], padding: h.patchPadding[0])
        positionEmbedding = HieraEncoder.positionEmbedding(background: background, window: window, channels: C, grid: grid)
        var blocks: [HieraBlock] = []
        var ends: [Int] = []
        for (stage, count) in h.blocksPerStage.enumerated() {
            for i in 0 ..< count {
                blocks.append(try HieraBlock(w.scope("blocks.\(blocks.count)"), config: h, stage: stage, indexInStage: i, index: blocks.count))
            }
            ends.append(blocks.count - 1)
        }
        self.blocks = blocks
        stageEnds = ends
    }

    /// `interpolate(pos_embed, (G, G), bicubic) + tile(pos_embed_window)`, channels-last.
    static func positionEmbedding(background: Tensor, window: Tensor, channels C: Int, grid G: Int) -> Tensor {
        let bg = background.shape[2], win = window.shape[2]
        var planarPE = Tensor(shape: [C, G, G])
        background.withUnsafeBufferPointer { b in
            planarPE.withUnsafeMutableBufferPointer { Kernels.interpolateBicubic(b, channels: C, height: bg, width: bg, out: $0, height: G, width: G) }
        }
        planarPE.withUnsafeMutableBufferPointer { pe in
            window.withUnsafeBufferPointer { wb in
                for c in 0 ..< C { for y in 0 ..< G { for x in 0 ..< G {
                    pe[(c * G + y) * G + x] += wb[(c * win + y % win) * win + x % win]
                } } }
            }
        }
        return channelsLast(planarPE, channels: C)
    }

    /// `pixels: [3, S, S]` → the output of each stage, channels-last, with its grid side.
    func callAsFunction(_ pixels: Tensor, tap: SAM2Tap? = nil) -> [(features: Tensor, side: Int)] {
        let S = config.imageSize[0], C = config.hiddenSize, K = config.patchKernelSize[0]
        precondition(pixels.shape == [3, S, S], "Hiera: pixel values \(pixels.shape), expected [3, \(S), \(S)]")
        var columns = Tensor(shape: [grid * grid, 3 * K * K])
        pixels.withUnsafeBufferPointer { pb in
            columns.withUnsafeMutableBufferPointer {
                Kernels.im2col(image: pb, channels: 3, height: S, width: S, kernel: K, stride: config.patchStride[0],
                               padding: config.patchPadding[0], out: $0)
            }
        }
        var x = patchEmbed(columns)
        precondition(x.shape == [grid * grid, C], "Hiera: patch embedding \(x.shape)")
        Ops.addInPlace(&x, positionEmbedding)
        var side = grid
        var stages: [(Tensor, Int)] = []
        for (i, block) in blocks.enumerated() {
            (x, side, _) = block(x, height: side, width: side)
            tap?("hiera.block\(i)", x)
            if let s = stageEnds.firstIndex(of: i) {
                stages.append((x, side))
                tap?("hiera.stage\(s)", x)
            }
        }
        return stages
    }
}
