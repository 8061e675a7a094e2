// Perception Encoder vision tower (timm 1.0.19 `Eva`, attn_type 'rope', as registered by
// `vit_pe_core_large_patch14_336` / `vit_pe_core_gigantic_patch14_448`; timm/models/eva.py Eva,
// EvaBlock, layers/attention.py AttentionRope, layers/pos_embed_sincos.py RotaryEmbeddingCat) with
// GAR's forward_features (GAR models/modeling/modeling_perception_lm.py): the mask embedding is added
// to the patch tokens right after the patch embedding, before the CLS token and the position
// embedding. GAR-SPEC §4.
//
// Per tile (P patch size, G = 448/P = 32 grid, N = G² + prefix tokens, D width, H heads, hd = D/H):
//   patches  = conv(P, stride P, no bias)(pixels)            [G², D]   (im2col + sgemm)
//   patches += mask term (caller's hook, GAR's mask embedding) [G², D]
//   x        = [cls] ++ patches (1B form)  + pos_embed        [N, D]
//   x        = LayerNorm_pre(x)
//   per block: x += γ1 ⊙ proj(attn(rope(q), rope(k), v)(LN1(x)))
//              x += γ2 ⊙ fc2(GELU(fc1(LN2(x))))
//   (final norm: Identity for GAR; applied if the config enables it)
// Output: [N, D] per tile, CLS still first (GAR's get_image_features drops it).
//
// Tiles are run in batches: every GEMM takes all rows of the batch (M = B·N), attention and RoPE run
// per tile. Weight matrices are `LinearLayer`s packed for the load's precision (Support/Linear.swift),
// laid out as stored ([out, in]); the patch conv weight [D, 3, P, P] is already the [D, 3·P·P] GEMM
// matrix.
import Checkpoints
import Tensors

public final class PerceptionEncoder: Sendable {
    public let spec: VisionTowerSpec

    struct Block: Sendable {
        var norm1: (w: [Float], b: [Float])
        var qkv: LinearLayer          // [3D, D] rows q | k | v, head-major inside each
        var proj: LinearLayer         // [D, D]
        var gamma1: [Float]?
        var norm2: (w: [Float], b: [Float])
        var fc1: LinearLayer          // [hidden, D]
        var fc2: LinearLayer          // [D, hidden]
        var gamma2: [Float]?
    }

    let patchEmbed: LinearLayer       // [D, 3·P·P] (+ bias when there is no pre-norm)
    let clsToken: [Float]?            // [D]
    let posEmbed: [Float]?            // [N, D]
    let normPre: (w: [Float], b: [Float])?
    let blocks: [Block]
    let normPost: (w: [Float], b: [Float])?
    let rope: RopeTable?              // [G², hd] interleaved-pair table

    /// Tokens per tile (patches + CLS).
    public var tokensPerTile: Int { spec.numPatches + spec.numPrefixTokens }

    /// Loads `mllm.model.vision_tower.timm_model.*`: the tensors of `keys` (its table, built from
    /// `spec`), read from the checkpoint's root scope `w`.
    init(spec: VisionTowerSpec, keys: VisionTowerKeys, weights w: WeightScope, precision: Precision) throws {
        self.spec = spec
        if let problem = GARKeySchema.unsupported(vision: spec) {
            throw ModelError.modelFiles(path: w.loader.checkpoint.source, problem: problem)
        }
        func floats(_ key: TensorKey?) throws -> [Float]? { try key.map(w.floats) }
        // The blocks' matrices stay as stored (a bf16 checkpoint's tower: 0.56 GB instead of an
        // f32 copy of 1.1 GB, widened per batch of tiles into `Scratch.widen`); the patch
        // embedding is a conv kernel, read as f32.
        func linear(_ weight: TensorKey, _ bias: TensorKey?) throws -> LinearLayer { try w.storedLinear(weight, bias: bias, precision: precision) }
        func norm(_ weight: TensorKey?, _ bias: TensorKey?) throws -> (w: [Float], b: [Float])? {
            guard let weight, let bias else { return nil }
            return (try w.floats(weight), try w.floats(bias))
        }
        patchEmbed = try w.linear(keys.patchEmbedWeight, bias: keys.patchEmbedBias, precision: precision)
        clsToken = try floats(keys.clsToken)
        posEmbed = try floats(keys.posEmbed)
        normPre = try norm(keys.normPreWeight, keys.normPreBias)
        var blocks: [Block] = []
        for b in keys.blocks {
            blocks.append(Block(
                norm1: (try w.floats(b.norm1Weight), try w.floats(b.norm1Bias)),
                qkv: try linear(b.qkvWeight, b.qkvBias),
                proj: try linear(b.projWeight, b.projBias),
                gamma1: try floats(b.gamma1),
                norm2: (try w.floats(b.norm2Weight), try w.floats(b.norm2Bias)),
                fc1: try linear(b.fc1Weight, b.fc1Bias),
                fc2: try linear(b.fc2Weight, b.fc2Bias),
                gamma2: try floats(b.gamma2)))
        }
        self.blocks = blocks
        normPost = try norm(keys.normWeight, keys.normBias)
        w.ignore(keys.all)
        if spec.useRotPosEmb {
            let ref = spec.ropeRefFeatShape
            rope = Rope.visionTable(gridHeight: spec.gridHeight, gridWidth: spec.gridWidth, headDim: spec.headDim,
                                    temperature: spec.ropeTemperature, gridOffset: spec.ropeGridOffset,
                                    refFeatHeight: ref?[0], refFeatWidth: ref?[1])
        } else {
            rope = nil
        }
    }

    /// Scratch for a batch of up to `tiles` tiles.
    final class Scratch {
        let tiles: Int
        let cols: FloatBuffer   // [B·G², 3·P·P]
        let x: FloatBuffer      // [B·N, D]
        let h: FloatBuffer      // [B·N, D]
        let qkv: FloatBuffer    // [B·N, 3D]
        let mlp: FloatBuffer    // [B·N, hidden]
        /// bf16-stored matrices widened for the f32 path (`LinearLayer.apply`'s scratch); pages
        /// are touched only when a matrix is bf16-stored.
        let widen: FloatBuffer  // [min(widenChunkElements, largest matrix)]

        init(spec: VisionTowerSpec, tiles B: Int) {
            let N = spec.numPatches + spec.numPrefixTokens, D = spec.embedDim
            tiles = B
            cols = FloatBuffer(count: B * spec.numPatches * 3 * spec.patchSize * spec.patchSize)
            x = FloatBuffer(count: B * N * D)
            h = FloatBuffer(count: B * N * D)
            qkv = FloatBuffer(count: B * N * 3 * D)
            mlp = FloatBuffer(count: B * N * spec.mlpHidden)
            widen = FloatBuffer(count: min(LinearLayer.widenChunkElements, max(3 * D, spec.mlpHidden) * D))
        }
    }

    /// Runs `B` tiles. `pixels`: `[B, 3, S, S]` normalised planar. `addToPatches` receives the patch
    /// tokens `[B·G², D]` right after the patch embedding (GAR adds its mask embedding there).
    /// The result `[B·N, D]` (tile-major, CLS first per tile in the 1B form) is in `scratch.x`.
    /// `firstTile` numbers the tiles in tap names.
    func forward(pixels: UnsafePointer<Float>, tiles B: Int, scratch s: Scratch,
                 addToPatches: (UnsafeMutablePointer<Float>) -> Void, tap: (any ActivationTap)?, firstTile: Int) {
        precondition(B >= 1 && B <= s.tiles, "PerceptionEncoder.forward: \(B) tiles for scratch of \(s.tiles)")
        let D = spec.embedDim, P = spec.patchSize, G2 = spec.numPatches, pre = spec.numPrefixTokens
        let N = G2 + pre, S = spec.imageHeight, K = 3 * P * P, rows = B * N
        let x = s.x.pointer, h = s.h.pointer

        // Patch embedding of every tile in one GEMM: im2col rows [B·G², 3·P·P] → h [B·G², D].
        for b in 0 ..< B {
            Kernels.im2col(image: UnsafeBufferPointer(start: pixels + b * 3 * S * S, count: 3 * S * S), channels: 3,
                           height: S, width: spec.imageWidth, patch: P,
                           out: UnsafeMutableBufferPointer(start: s.cols.pointer + b * G2 * K, count: G2 * K))
        }
        patchEmbed.apply(s.cols.pointer, rows: B * G2, out: h, scratch: UnsafeMutableBufferPointer(start: nil, count: 0))
        addToPatches(h)

        // Token sequence per tile: [CLS] + patches, then the absolute position embedding.
        for b in 0 ..< B {
            let dst = x + b * N * D
            if let clsToken { clsToken.withUnsafeBufferPointer { dst.update(from: $0.baseAddress!, count: D) } }
            (dst + pre * D).update(from: h + b * G2 * D, count: G2 * D)
            if let posEmbed {
                posEmbed.withUnsafeBufferPointer { pb in
                    Kernels.addRowVector(UnsafeMutableBufferPointer(start: dst, count: N * D), pb, rows: 1, cols: N * D)
                }
            }
            tap.record("vision.tile\(firstTile + b).pos_embedded", shape: [N, D], dst, count: N * D)
        }
        if let normPre { layerNorm(x, normPre, rows: rows, out: x) }
        for b in 0 ..< B { tap.record("vision.tile\(firstTile + b).norm_pre", shape: [N, D], x + b * N * D, count: N * D) }

        let H = spec.numHeads, hd = spec.headDim
        let scale = 1 / Float(hd).squareRoot()
        let qkv = s.qkv.pointer, mlp = s.mlp.pointer
        let widen = s.widen.buffer
        for (i, block) in blocks.enumerated() {
            // Attention half.
            layerNorm(x, block.norm1, rows: rows, out: h)
            block.qkv.apply(h, rows: rows, out: qkv, scratch: widen)
            for b in 0 ..< B {
                let base = qkv + b * N * 3 * D
                if let rope {
                    Kernels.ropeInterleaved(base, rowStride: 3 * D, rows: N, prefix: pre, heads: H, table: rope)
                    Kernels.ropeInterleaved(base + D, rowStride: 3 * D, rows: N, prefix: pre, heads: H, table: rope)
                }
                Kernels.attention(q: base, k: base + D, v: base + 2 * D, out: h + b * N * D,
                                  layout: .fusedQKV(heads: H, headDim: hd), queries: N, keys: N, heads: H, kvHeads: H,
                                  headDim: hd, scale: scale, causalOffset: nil)
            }
            block.proj.apply(h, rows: rows, out: qkv, scratch: widen)   // qkv reused as [B·N, D]
            residual(x, add: qkv, gamma: block.gamma1, rows: rows)
            // MLP half.
            layerNorm(x, block.norm2, rows: rows, out: h)
            block.fc1.apply(h, rows: rows, out: mlp, scratch: widen)
            Kernels.gelu(UnsafeBufferPointer(start: mlp, count: rows * spec.mlpHidden), UnsafeMutableBufferPointer(start: mlp, count: rows * spec.mlpHidden))
            block.fc2.apply(mlp, rows: rows, out: h, scratch: widen)
            residual(x, add: h, gamma: block.gamma2, rows: rows)
            for b in 0 ..< B { tap.record("vision.tile\(firstTile + b).block\(i)", shape: [N, D], x + b * N * D, count: N * D) }
        }
        if let normPost { layerNorm(x, normPost, rows: rows, out: x) }
        for b in 0 ..< B { tap.record("vision.tile\(firstTile + b).out", shape: [N, D], x + b * N * D, count: N * D) }
    }

    private func layerNorm(_ x: UnsafeMutablePointer<Float>, _ p: (w: [Float], b: [Float]), rows: Int, out: UnsafeMutablePointer<Float>) {
        let D = spec.embedDim
        p.w.withUnsafeBufferPointer { wb in
            p.b.withUnsafeBufferPointer { bb in
                Kernels.layerNorm(UnsafeBufferPointer(start: x, count: rows * D), weight: wb, bias: bb, eps: spec.layerNormEps,
                                  out: UnsafeMutableBufferPointer(start: out, count: rows * D), rows: rows, cols: D)
            }
        }
    }

    /// `x += gamma ⊙ y` (LayerScale) or `x += y`.
    private func residual(_ x: UnsafeMutablePointer<Float>, add y: UnsafeMutablePointer<Float>, gamma: [Float]?, rows: Int) {
        let D = spec.embedDim
        let xb = UnsafeMutableBufferPointer(start: x, count: rows * D), yb = UnsafeBufferPointer(start: y, count: rows * D)
        if let gamma {
            gamma.withUnsafeBufferPointer { Kernels.addScaledRows(xb, yb, gamma: $0, rows: rows, cols: D) }
        } else {
            Kernels.addInPlace(xb, yb)
        }
    }
}

extension Optional where Wrapped == [Float] {
    /// Calls `body` with the array's buffer, or nil.
    func withOptionalBuffer<R>(_ body: (UnsafeBufferPointer<Float>?) -> R) -> R {
        switch self {
        case let .some(a): return a.withUnsafeBufferPointer { body($0) }
        case .none: return body(nil)
        }
    }
}
