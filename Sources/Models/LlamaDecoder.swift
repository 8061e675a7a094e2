// Llama decoder (transformers 4.56.2 models/llama/modeling_llama.py: LlamaModel, LlamaDecoderLayer,
// LlamaAttention with eager_attention_forward, LlamaMLP, LlamaRMSNorm, LlamaRotaryEmbedding with
// modeling_rope_utils._compute_llama3_parameters) plus the lm_head. GAR-SPEC §7.
//
// Per layer, rows x [T, D] at positions p0 … p0+T−1 (H heads, Hkv kv heads, hd head dim, I MLP):
//   a   = RMSNorm_in(x)
//   qkv = a · [Wq; Wk; Wv]ᵀ                        [T, (H + 2·Hkv)·hd]   (fused at load)
//   q, k ← RoPE half-split (pairs i, i + hd/2) at their positions
//   K/V cache rows p0 … ← k, v                       (f32, or bf16 for int8: Support/KVCache.swift)
//   o   = softmax(q·Kᵀ/√hd + causal mask) · V       query head h reads kv head h / (H/Hkv)
//   x  += o · Woᵀ
//   gu  = RMSNorm_post(x) · [Wgate; Wup]ᵀ           [T, 2I]               (fused at load)
//   x  += (silu(gate) ⊙ up) · Wdownᵀ
// A prefill chunk on the f32 path runs the MLP in blocks of `mlpBlock` intermediate features j
// (row ranges of [Wgate; Wup], column ranges of Wdown; the matrices are not split):
//   gu_j = RMSNorm_post(x) · [Wgate_j; Wup_j]ᵀ      [T, 2B]
//   x   += (silu(gate_j) ⊙ up_j) · Wdown[:, j]ᵀ
// so it holds [T, 2B] of MLP activations instead of [T, 2I] (GAR-1B, 2,048 rows: 32 MB instead of
// 128 MB). The products are the same; only the down product's sum over I is added to x block by
// block. Decode steps (one row: GEMVs over the whole matrices) and the bf16/int8 paths (packed
// matrices) run the MLP whole.
// then RMSNorm_final and the head (the embedding matrix when tied) on the last row only.
//
// Matrices are packed at load for the requested precision; on the f32 path they stay in the
// checkpoint's storage format (bf16 for GAR): see Support/Linear.swift.
// State (KV cache, scratch, RoPE table) lives in `DecoderState`, one per request.
import CKernels
import Checkpoints
import Tensors

public final class LlamaDecoder: Sendable {
    public let spec: TextModelSpec

    struct Layer: Sendable {
        var inputNorm: [Float]
        var qkv: LinearLayer      // [(H + 2·Hkv)·hd, D]
        var o: LinearLayer        // [D, H·hd]
        var postNorm: [Float]
        var gateUp: LinearLayer   // [2I, D]: gate rows then up rows
        var down: LinearLayer     // [D, I]
    }

    let embedTokens: MatrixStorage   // [V, D]
    let layers: [Layer]
    let finalNorm: [Float]
    let head: LinearLayer            // [V, D] (shares embedTokens' storage when tied)
    let invFreq: [Float]             // [hd/2]
    /// Intermediate features per MLP block of a prefill chunk; `I` or more = the MLP whole.
    let mlpBlock: Int
    /// Blocks of a 2,048-row chunk: 32 MB of MLP activations for GAR-1B instead of 128 MB.
    public static let defaultMLPBlock = 2048
    /// Element type of the KV cache of this decoder's states.
    public let kvStorage: KVStorage

    var qWidth: Int { spec.numHeads * spec.headDim }
    var kvWidth: Int { spec.numKVHeads * spec.headDim }

    /// Loads `mllm.model.language_model.*` and `mllm.lm_head.weight`: the tensors of `keys` (its
    /// table, built from `spec`), read from the checkpoint's root scope `w`.
    convenience init(spec: TextModelSpec, keys: LlamaKeys, weights w: WeightScope, precision: Precision,
                     kvStorage: KVStorage? = nil) throws {
        if let problem = GARKeySchema.unsupported(text: spec) {
            throw ModelError.modelFiles(path: w.loader.checkpoint.source, problem: problem)
        }
        // Tied head (GAR-1B): the table marks a stored copy as ignored; untied (GAR-8B): required.
        try self.init(spec: spec, embedTokens: try w.matrix(keys.embedTokens), finalNorm: try w.floats(keys.norm),
                      untiedHead: keys.lmHead.optional ? nil : try w.matrix(keys.lmHead), precision: precision,
                      kvStorage: kvStorage) { i in
            let l = keys.layers[i]
            return (inputNorm: try w.floats(l.inputNorm), qkv: try w.stackedMatrix([l.qProj, l.kProj, l.vProj]), o: try w.matrix(l.oProj),
                    postNorm: try w.floats(l.postAttentionNorm), gateUp: try w.stackedMatrix([l.gateProj, l.upProj]),
                    down: try w.matrix(l.downProj))
        }
        w.ignore(keys.all)
    }

    /// One layer's weights in their storage format.
    typealias LayerWeights = (inputNorm: [Float], qkv: MatrixStorage, o: MatrixStorage, postNorm: [Float], gateUp: MatrixStorage,
                              down: MatrixStorage)

    /// A decoder of `spec` from weights in the model's layout: `layer(i)` gives layer i's weights
    /// (`qkv` is q | k | v stacked, `gateUp` gate | up), packed for `precision` one layer at a time;
    /// `untiedHead` nil ties the head to `embedTokens`; `kvStorage` nil = `KVStorage.default(for: precision)`.
    init(spec: TextModelSpec, embedTokens: MatrixStorage, finalNorm: [Float], untiedHead: MatrixStorage?, precision: Precision,
         kvStorage: KVStorage? = nil, mlpBlock: Int = LlamaDecoder.defaultMLPBlock, layer: (Int) throws -> LayerWeights) rethrows {
        precondition(mlpBlock >= 1, "LlamaDecoder: MLP block \(mlpBlock)")
        self.spec = spec
        self.kvStorage = kvStorage ?? .default(for: precision)
        let D = spec.hiddenSize, V = spec.vocabSize, I = spec.intermediateSize
        let q = spec.numHeads * spec.headDim, kv = spec.numKVHeads * spec.headDim
        self.embedTokens = embedTokens
        self.layers = try (0 ..< spec.numLayers).map { i in
            let l = try layer(i)
            return Layer(inputNorm: l.inputNorm,
                         qkv: LinearLayer(outFeatures: q + 2 * kv, inFeatures: D, weight: l.qkv, precision: precision),
                         o: LinearLayer(outFeatures: D, inFeatures: q, weight: l.o, precision: precision),
                         postNorm: l.postNorm,
                         gateUp: LinearLayer(outFeatures: 2 * I, inFeatures: D, weight: l.gateUp, precision: precision),
                         down: LinearLayer(outFeatures: D, inFeatures: I, weight: l.down, precision: precision))
        }
        self.finalNorm = finalNorm
        let blocksWork = layers.allSatisfy { $0.gateUp.supportsBlocks && $0.down.supportsBlocks }
        self.mlpBlock = blocksWork ? min(mlpBlock, I) : I
        head = LinearLayer(outFeatures: V, inFeatures: D, weight: untiedHead ?? embedTokens, precision: precision)
        switch spec.ropeScaling {
        case .none:
            invFreq = Rope.defaultInvFreq(headDim: spec.headDim, theta: spec.ropeTheta)
        case let .llama3(factor, low, high, original):
            invFreq = Rope.llama3InvFreq(headDim: spec.headDim, theta: spec.ropeTheta, factor: factor, lowFreqFactor: low,
                                         highFreqFactor: high, originalMaxPositions: original)
        }
    }

    /// Bytes of weights held (bf16 matrices count 2 bytes per value). A tied head shares the
    /// embedding's storage on the f32 path; the bf16 and int8 paths pack their own copy.
    var weightBytes: Int {
        var n = embedTokens.bytes + finalNorm.count * 4
        switch head.weight {
        case .bf16Packed, .int8: n += head.weight.bytes
        case .f32, .bf16Stored: if !spec.tieWordEmbeddings { n += head.weight.bytes }
        }
        for l in layers { n += l.qkv.bytes + l.o.bytes + l.gateUp.bytes + l.down.bytes + (l.inputNorm.count + l.postNorm.count) * 4 }
        return n
    }

    /// Embedding rows of `ids` into `out [ids.count, D]`.
    func embed(_ ids: [Int], into out: UnsafeMutablePointer<Float>) {
        let D = spec.hiddenSize
        for (i, id) in ids.enumerated() { embedTokens.copyRow(id, cols: D, into: out + i * D) }
    }

    // MARK: forward

    /// Runs rows `x [T, D]` (already embedded) at positions `state.length …` through every layer,
    /// appending their keys and values to the cache, and leaves the logits of the LAST row in
    /// `state.logits`. `x` is overwritten. Prompts longer than `state.chunkRows` run in chunks.
    func forward(_ input: UnsafePointer<Float>, rows total: Int, state s: DecoderState, tap: (any ActivationTap)?) {
        let D = spec.hiddenSize
        precondition(total > 0, "LlamaDecoder.forward: no rows")
        precondition(s.length + total <= s.capacity, "LlamaDecoder: \(s.length)+\(total) positions exceed the cache (\(s.capacity))")
        var done = 0, lastRows = 0
        while done < total {
            let T = min(s.chunkRows, total - done)
            lastRows = T
            s.x.pointer.update(from: input + done * D, count: T * D)
            for (i, layer) in layers.enumerated() {
                runLayer(i, layer, rows: T, state: s)
                tap.record("llm.layer\(i).out", shape: [T, D], s.x.pointer, count: T * D)
            }
            s.length += T
            done += T
        }
        // Final norm and head on the last row.
        let last = s.x.pointer + (lastRows - 1) * D
        let profile = total == 1 ? s.profile : nil
        profile.measure(.norms) {
            finalNorm.withUnsafeBufferPointer { nb in
                Kernels.rmsNorm(UnsafeBufferPointer(start: last, count: D), weight: nb, eps: spec.rmsNormEps,
                                out: UnsafeMutableBufferPointer(start: s.h.pointer, count: D), rows: 1, cols: D)
            }
        }
        profile.measure(.head, bytes: head.weight.bytes) { head.apply(s.h.pointer, rows: 1, out: s.logits.pointer, scratch: s.widen.buffer) }
        profile?.steps += 1
    }

    /// One layer over the `T` rows of `s.x` at positions `s.length …` (what `forward` runs per
    /// layer; `gar bench ops` times it through DecoderLayerBench).
    func runLayer(_ index: Int, _ layer: Layer, rows T: Int, state s: DecoderState) {
        let D = spec.hiddenSize, H = spec.numHeads, Hkv = spec.numKVHeads, hd = spec.headDim, I = spec.intermediateSize
        let qkvW = qWidth + 2 * kvWidth
        let x = s.x.pointer, h = s.h.pointer, qkv = s.qkv.pointer
        let p0 = s.length
        let profile = T == 1 ? s.profile : nil   // decode steps only

        // Attention.
        profile.measure(.norms) { rmsNorm(x, layer.inputNorm, rows: T, out: h) }
        profile.measure(.qkv, bytes: layer.qkv.weight.bytes) { layer.qkv.apply(h, rows: T, out: qkv, scratch: s.widen.buffer) }
        profile.measure(.ropeCache) {
            s.rope.apply(qkv, rowStride: qkvW, rows: T, heads: H, firstPosition: p0)
            s.rope.apply(qkv + qWidth, rowStride: qkvW, rows: T, heads: Hkv, firstPosition: p0)
            s.cache.write(layer: index, first: p0, rows: T, k: qkv + qWidth, v: qkv + qWidth + kvWidth, stride: qkvW)
        }
        let scale = 1 / Float(hd).squareRoot()
        profile.measure(.attention, bytes: 2 * (p0 + T) * kvWidth * s.cache.storage.bytes) {
            if T == 1 {
                // A decode step reads the stored rows; the state's scratch holds its scores.
                let kv = s.cache.rows(layer: index)
                Kernels.attentionDecode(q: qkv, k: kv.keys, v: kv.values, storage: s.cache.storage, rowStride: kvWidth, out: h,
                                        keys: p0 + 1, heads: H, kvHeads: Hkv, headDim: hd, scale: scale, scratch: s.scores.pointer)
            } else {
                let kv = s.cache.f32Rows(layer: index, count: p0 + T)
                Kernels.attention(q: qkv, k: kv.keys, v: kv.values, out: h,
                                  layout: AttentionLayout(qRowStride: qkvW, kRowStride: kvWidth, vRowStride: kvWidth, outRowStride: qWidth),
                                  queries: T, keys: p0 + T, heads: H, kvHeads: Hkv, headDim: hd, scale: scale, causalOffset: p0)
            }
        }
        profile.measure(.o, bytes: layer.o.weight.bytes) { layer.o.apply(h, rows: T, out: qkv, scratch: s.widen.buffer) }   // qkv reused as [T, D]
        profile.measure(.residual) {
            Kernels.addInPlace(UnsafeMutableBufferPointer(start: x, count: T * D), UnsafeBufferPointer(start: qkv, count: T * D))
        }

        // MLP.
        profile.measure(.norms) { rmsNorm(x, layer.postNorm, rows: T, out: h) }
        let gu = s.mlp.pointer
        if T >= LinearLayer.gemvRowLimit && mlpBlock < I {
            runMLPBlocks(layer, rows: T, state: s)
            return
        }
        profile.measure(.gateUp, bytes: layer.gateUp.weight.bytes) { layer.gateUp.apply(h, rows: T, out: gu, scratch: s.widen.buffer) }
        profile.measure(.siluMul) { Self.siluMulPacked(gu, rows: T, width: I) }
        profile.measure(.down, bytes: layer.down.weight.bytes) { layer.down.apply(gu, rows: T, out: h, scratch: s.widen.buffer) }
        profile.measure(.residual) {
            Kernels.addInPlace(UnsafeMutableBufferPointer(start: x, count: T * D), UnsafeBufferPointer(start: h, count: T * D))
        }
    }

    /// The MLP of a prefill chunk in blocks of `mlpBlock` intermediate features: `h` holds
    /// RMSNorm_post(x); each block's down product is added to `x` by the product itself.
    private func runMLPBlocks(_ layer: Layer, rows T: Int, state s: DecoderState) {
        let I = spec.intermediateSize
        let x = s.x.pointer, h = s.h.pointer, gu = s.mlp.pointer
        for j0 in stride(from: 0, to: I, by: mlpBlock) {
            let j = j0 ..< min(I, j0 + mlpBlock), B = j.count
            layer.gateUp.applyRows(j, h, rows: T, out: gu, outRowStride: 2 * B, scratch: s.widen.buffer)
            layer.gateUp.applyRows(I + j0 ..< I + j.upperBound, h, rows: T, out: gu + B, outRowStride: 2 * B, scratch: s.widen.buffer)
            Self.siluMulPacked(gu, rows: T, width: B)
            layer.down.applyColumns(j, gu, rows: T, out: x, accumulate: true, scratch: s.widen.buffer)
        }
    }

    /// `gu [T, 2W]` (gate | up per row) → silu(gate) ⊙ up, written over the gate half of each row,
    /// then packed to `[T, W]` at the start of `gu`.
    private static func siluMulPacked(_ gu: UnsafeMutablePointer<Float>, rows T: Int, width W: Int) {
        parallelFor(T, grain: max(1, 8192 / max(W, 1))) { r in
            for t in r { gk_silu_mul(gu + t * 2 * W, gu + t * 2 * W + W, W) }
        }
        for t in 1 ..< max(T, 1) { (gu + t * W).update(from: gu + t * 2 * W, count: W) }
    }

    private func rmsNorm(_ x: UnsafeMutablePointer<Float>, _ w: [Float], rows: Int, out: UnsafeMutablePointer<Float>) {
        let D = spec.hiddenSize
        w.withUnsafeBufferPointer { wb in
            Kernels.rmsNorm(UnsafeBufferPointer(start: x, count: rows * D), weight: wb, eps: spec.rmsNormEps,
                            out: UnsafeMutableBufferPointer(start: out, count: rows * D), rows: rows, cols: D)
        }
    }
}

/// Per-request decoder state: KV cache, scratch rows, RoPE table, logits.
public final class DecoderState {
    /// Positions the cache can hold.
    public let capacity: Int
    /// Positions filled so far.
    public internal(set) var length = 0
    /// Rows per prefill chunk.
    let chunkRows: Int
    let cache: KVCache           // per layer [capacity, Hkv·hd] keys and values
    let x: FloatBuffer           // [chunk, D]
    let h: FloatBuffer           // [chunk, max(D, H·hd)]
    let qkv: FloatBuffer         // [chunk, max((H+2Hkv)·hd, D)]
    let mlp: FloatBuffer         // [chunk, 2·mlpBlock] (mlpBlock = I: whole), ≥ min(chunk, 3)·2I floats (short chunks run whole)
    let widen: FloatBuffer       // bf16 → f32 weight chunks
    let logits: FloatBuffer      // [V]
    let scores: FloatBuffer      // decode-step attention scratch (Kernels.attentionDecodeScratch at capacity)
    let rope: HalfSplitRope
    /// When set, one-row steps add their per-stage times to it (`gar bench model`); nil otherwise.
    public var profile: DecodeProfile?

    /// Rows per prefill pass unless a request says otherwise.
    public static let defaultChunkRows = 2048

    /// `chunkRows`: rows per prefill pass (bounds scratch memory; 2048 rows of GAR-1B take ~120 MB,
    /// 1024 rows about half that).
    init(decoder d: LlamaDecoder, capacity: Int, chunkRows: Int = DecoderState.defaultChunkRows) {
        let s = d.spec
        self.capacity = capacity
        self.chunkRows = max(1, min(chunkRows, capacity))
        let T = self.chunkRows
        cache = KVCache(storage: d.kvStorage, layers: s.numLayers, capacity: capacity, width: d.kvWidth)
        x = FloatBuffer(count: T * s.hiddenSize)
        h = FloatBuffer(count: T * max(s.hiddenSize, d.qWidth))
        qkv = FloatBuffer(count: T * max(d.qWidth + 2 * d.kvWidth, s.hiddenSize))
        // Chunks of gemvRowLimit rows or more run the MLP in blocks, fewer rows (decode) whole.
        mlp = FloatBuffer(count: max(T * 2 * d.mlpBlock, min(T, LinearLayer.gemvRowLimit - 1) * 2 * s.intermediateSize))
        widen = FloatBuffer(count: max(LinearLayer.widenChunkElements, s.intermediateSize, s.hiddenSize))
        logits = FloatBuffer(count: s.vocabSize)
        scores = FloatBuffer(count: Kernels.attentionDecodeScratch(keys: capacity, heads: s.numHeads, kvHeads: s.numKVHeads,
                                                                   headDim: s.headDim))
        rope = HalfSplitRope(invFreq: d.invFreq, positions: capacity)
    }

    /// Bytes of scratch and cache held.
    var bytes: Int {
        cache.bytes + 4 * (x.count + h.count + qkv.count + mlp.count + widen.count + logits.count + scores.count) + rope.bytes
    }
}

/// The Llama RoPE table for positions `0 ..< positions` and its application with a position offset
/// (Hugging Face `LlamaRotaryEmbedding` + `apply_rotary_pos_emb`: angle = Float(position) · inv_freq[i],
/// cos/sin of `cat(freqs, freqs)`; pairs (i, i + hd/2) rotated).
struct HalfSplitRope {
    let table: RopeTable

    init(invFreq: [Float], positions: Int) {
        table = Rope.halfSplitTable(invFreq: invFreq, positions: Array(0 ..< max(positions, 1)))
    }

    var bytes: Int { (table.sin.count + table.cos.count) * 4 }

    /// Rotates `heads` heads of `rows` rows of `x` (row stride `rowStride`) in place; row t is at
    /// position `firstPosition + t` (Kernels.ropeHalfSplit).
    func apply(_ x: UnsafeMutablePointer<Float>, rowStride: Int, rows T: Int, heads H: Int, firstPosition p0: Int) {
        Kernels.ropeHalfSplit(x, rowStride: rowStride, rows: T, heads: H, table: table, firstPosition: p0)
    }
}
