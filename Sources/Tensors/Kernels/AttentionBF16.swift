// Attention with bf16 products and f32 accumulation, for the fast precisions: SAM 2's global Hiera
// blocks and memory attention in bf16 (4,096 queries × 4,096 … 28,700 keys), GAR's vision tower
// and Llama prefill in int8 (`Kernels.attention(…, precision:)`; bf16 keeps f32 attention, below).
//
// One fused flash-style C kernel (CKernels `gk_attention_bf16_block`, include/attention_bf16.h):
// K and V of each kv head are rounded to bf16 and packed ONCE per call into the layout of
// `vdpbf16ps` (pairs of dims per key for Q·Kᵀ, pairs of keys per dim for P·V); then per (head,
// block of 64 query rows): Q rounded to bf16 once, scores in registers for 4 query rows × 64 keys,
// online softmax in f32 per tile of 64 keys (no score matrix is stored), P rounded to bf16 for
// bf16(P)·bf16(V), accumulated in f32; keys in L2-sized blocks that every row group passes over.
// Causal rows stop at their last visible key (fully masked tiles are never computed). AVX512_BF16
// when the CPU has it, else the same arithmetic emulated in f32 (AVX2+FMA or portable C).
// The error is that of bf16 operands (relative 2⁻⁹ each) on the two products; the softmax stays f32.
// Twin: `Reference.attentionBF16` (the same roundings, tile by tile).
import CKernels

extension Kernels {
    /// `attention` with bf16 products; same layout rules, causal offsets and GQA (`H % Hkv == 0`,
    /// query head `h` uses kv head `h / (H / Hkv)`). Any head dim (packed with zero columns up to
    /// a multiple of 32).
    public static func attentionBF16(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                                     out: UnsafeMutablePointer<Float>, layout: AttentionLayout,
                                     queries T: Int, keys S: Int, heads H: Int, kvHeads Hkv: Int, headDim D: Int,
                                     scale: Float, causalOffset: Int?) {
        precondition(T >= 0 && S > 0 && H > 0 && Hkv > 0 && D > 0 && H % Hkv == 0, "attentionBF16: bad sizes")
        precondition(layout.qRowStride >= H * D && layout.outRowStride >= H * D, "attentionBF16: q/out rows too short")
        precondition(layout.kRowStride >= Hkv * D && layout.vRowStride >= Hkv * D, "attentionBF16: k/v rows too short")
        if let off = causalOffset { precondition(off >= 0 && off + T <= S, "attentionBF16: cache holds \(S) < \(off)+\(T) rows") }
        guard T > 0 else { return }
        let group = H / Hkv
        let Spad = gk_attention_bf16_keys(S), packed = gk_attention_bf16_packed_count(S, D)
        let kp = UnsafeMutablePointer<UInt16>.allocate(capacity: Hkv * packed)
        let vp = UnsafeMutablePointer<UInt16>.allocate(capacity: Hkv * packed)
        defer { kp.deallocate(); vp.deallocate() }
        // Pack bf16(K) and bf16(V) of every kv head, 256 keys per task (padding keys zero).
        let chunks = (Spad + 255) / 256
        parallelFor(Hkv * chunks) { tasks in
            for task in tasks {
                let g = task % Hkv, s0 = (task / Hkv) * 256, s1 = min(Spad, s0 + 256)
                gk_attention_bf16_pack(k + g * D, layout.kRowStride, v + g * D, layout.vRowStride, S, D, s0, s1,
                                       kp + g * packed, vp + g * packed)
            }
        }
        // (head, block of query rows) tasks; causal blocks late in the sequence see more keys, so
        // they are handed out first.
        let block = 64
        let blocks = (T + block - 1) / block
        parallelFor(H * blocks) { tasks in
            let scratch = UnsafeMutableRawPointer.allocate(byteCount: gk_attention_bf16_scratch_bytes(block, D), alignment: 64)
            defer { scratch.deallocate() }
            for task in tasks {
                let h = task % H, b = causalOffset == nil ? task / H : blocks - 1 - task / H
                let t0 = b * block, rows = min(block, T - t0), g = h / group
                gk_attention_bf16_block(q + t0 * layout.qRowStride + h * D, layout.qRowStride, rows, kp + g * packed, vp + g * packed,
                                        S, D, scale, (causalOffset ?? 0) + t0 + 1, causalOffset == nil ? 0 : 1,
                                        out + t0 * layout.outRowStride + h * D, layout.outRowStride, scratch)
            }
        }
    }

    /// Non-causal `attentionBF16` with one kv head per query head (SAM 2's attentions).
    public static func attentionBF16(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                                     out: UnsafeMutablePointer<Float>, layout: AttentionLayout,
                                     queries T: Int, keys S: Int, heads H: Int, headDim D: Int, scale: Float) {
        attentionBF16(q: q, k: k, v: v, out: out, layout: layout, queries: T, keys: S, heads: H, kvHeads: H, headDim: D,
                      scale: scale, causalOffset: nil)
    }

    /// The attention of a model running in `precision`: `attentionBF16` in int8 for ≥ 16 query
    /// rows (the vision tower, the Llama prefill), else the exact f32 kernels (`attention`).
    /// bf16 keeps f32 attention: its GEMMs split activations into two bf16 halves and stay within
    /// 2e-4 of the f32 logits (BF16FaithfulnessTests), and bf16 attention — in the vision tower or
    /// in the prefill alone — measured 1.2e-2 … 5.7e-2 relative first-step logit error on the tiny
    /// golden checkpoints (whose ×3/×6 q/k scaling amplifies rounding), losing the first token on
    /// case c. int8 (not faithful, never the default; errors 4.7e-2 … 1.0e-1 from its weights) gets it.
    public static func attention(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                                 out: UnsafeMutablePointer<Float>, layout: AttentionLayout,
                                 queries T: Int, keys S: Int, heads H: Int, kvHeads Hkv: Int, headDim D: Int,
                                 scale: Float, causalOffset: Int?, scoreScratch: UnsafeMutablePointer<Float>? = nil,
                                 precision: Precision) {
        if precision == .int8 && T >= 16 {
            attentionBF16(q: q, k: k, v: v, out: out, layout: layout, queries: T, keys: S, heads: H, kvHeads: Hkv, headDim: D,
                          scale: scale, causalOffset: causalOffset)
        } else {
            attention(q: q, k: k, v: v, out: out, layout: layout, queries: T, keys: S, heads: H, kvHeads: Hkv, headDim: D,
                      scale: scale, causalOffset: causalOffset, scoreScratch: scoreScratch)
        }
    }

    /// The code path of `attentionBF16` on this CPU, for `--verbose` and the benchmarks.
    public static var attentionBF16Kernel: String {
        "CKernels fused flash attention, bf16 products (\(String(cString: gk_attention_bf16_isa())))"
    }
}
