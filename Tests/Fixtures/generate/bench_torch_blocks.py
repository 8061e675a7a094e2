#!/usr/bin/env python3
"""PyTorch fp32 timings of the blocks `gar bench ops` times (same shapes), for comparison on
the same machine. Run with the reference venv:

    /work/venv/ref/bin/python Tests/Fixtures/generate/bench_torch_blocks.py [--threads 2] [--reps 5]

Vision: timm 1.0.19 EvaBlock (AttentionRope, fused qkv, LayerScale, exact GELU; fused SDPA) at
1025 tokens × 1024. Llama: transformers 4.56.2 LlamaDecoderLayer (sdpa attention) for a prefill
of N tokens and one decode step over a DynamicCache of C tokens. Prints a markdown table.
"""
import argparse
import time
from functools import partial

import torch


def timed(fn, reps, warmup=1):
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1e3)
    mean = sum(samples) / reps
    sd = (sum((s - mean) ** 2 for s in samples) / max(reps - 1, 1)) ** 0.5
    return mean, sd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--prefill", type=int, default=1024)
    ap.add_argument("--context", type=int, default=3660)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rows = []

    a = torch.randn(1025, 1024)
    w = torch.randn(4096, 1024)
    with torch.inference_mode():
        m, s = timed(lambda: torch.nn.functional.linear(a, w), args.reps)
    rows.append(("baseline sgemm 1025×1024 · 4096×1024ᵀ (F.linear, MKL)", m, s, 2 * 1025 * 1024 * 4096 / (m * 1e6)))

    from timm.layers import LayerNorm
    from timm.layers.pos_embed_sincos import RotaryEmbeddingCat
    from timm.models.eva import EvaBlock

    T, D = 1025, 1024
    block = EvaBlock(dim=D, num_heads=16, qkv_bias=True, qkv_fused=True, mlp_ratio=4.0, attn_type="rope",
                     num_prefix_tokens=1, init_values=0.1, norm_layer=partial(LayerNorm, eps=1e-5)).eval()
    rope = RotaryEmbeddingCat(dim=64, in_pixels=False, feat_shape=[32, 32], ref_feat_shape=[32, 32], grid_offset=1.0,
                              grid_indexing="xy").get_embed()
    x = torch.randn(1, T, D)
    flops = 2 * T * (4 * D * D + 2 * D * 4096) + 4 * T * T * D
    with torch.inference_mode():
        m, s = timed(lambda: block(x, rope=rope), args.reps)
    rows.append(("vision block 1025×1024, 16 heads, MLP 4096 (timm EvaBlock)", m, s, flops / (m * 1e6)))

    q = torch.randn(1, 16, T, 64)
    k = torch.randn(1, 16, T, 64)
    v = torch.randn(1, 16, T, 64)
    with torch.inference_mode():
        m, s = timed(lambda: torch.nn.functional.scaled_dot_product_attention(q, k, v), args.reps)
    rows.append(("vision attention 1025 tokens, 16×64 (F.sdpa)", m, s, 4 * T * T * 1024 / (m * 1e6)))

    from transformers import LlamaConfig
    from transformers.cache_utils import DynamicCache
    from transformers.models.llama.modeling_llama import LlamaDecoderLayer, LlamaRotaryEmbedding

    cfg = LlamaConfig(hidden_size=2048, num_hidden_layers=1, num_attention_heads=32, num_key_value_heads=8,
                      intermediate_size=8192, rms_norm_eps=1e-5, rope_theta=500000.0,
                      rope_scaling=dict(rope_type="llama3", factor=32.0, low_freq_factor=1.0, high_freq_factor=4.0,
                                        original_max_position_embeddings=8192),
                      max_position_embeddings=16384, vocab_size=128)
    cfg._attn_implementation = "sdpa"
    layer = LlamaDecoderLayer(cfg, layer_idx=0).eval()
    rot = LlamaRotaryEmbedding(cfg)
    N = args.prefill
    h = torch.randn(1, N, 2048)
    pos = torch.arange(N)[None]
    pe = rot(h, pos)
    with torch.inference_mode():
        def prefill():
            return layer(h, attention_mask=None, position_ids=pos, position_embeddings=pe, is_causal=True)
        m, s = timed(prefill, args.reps)
    kvw = 8 * 64
    flops = 2 * N * (2 * 2048 * 2048 + 2 * kvw * 2048 + 3 * 2048 * 8192) + 4 * 2048 * N * (N + 1) / 2
    rows.append((f"llama layer prefill {N} tokens (HF LlamaDecoderLayer, sdpa)", m, s, flops / (m * 1e6)))

    C = args.context
    cache = DynamicCache()
    with torch.inference_mode():
        hc = torch.randn(1, C - 1, 2048)
        posc = torch.arange(C - 1)[None]
        layer(hc, attention_mask=None, position_ids=posc, position_embeddings=rot(hc, posc), past_key_values=cache,
              use_cache=True, cache_position=torch.arange(C - 1), is_causal=True)
        h1 = torch.randn(1, 1, 2048)
        pos1 = torch.tensor([[C - 1]])
        pe1 = rot(h1, pos1)

        def step():
            layer(h1, attention_mask=None, position_ids=pos1, position_embeddings=pe1, past_key_values=cache, use_cache=True,
                  cache_position=torch.tensor([C - 1]))
            cache.crop(C - 1)  # keep the context length fixed across repetitions

        m, s = timed(step, max(args.reps, 20))
    flops = 2 * (2 * 2048 * 2048 + 2 * kvw * 2048 + 3 * 2048 * 8192) + 4 * 2048 * C
    rows.append((f"llama layer decode step @{C} (HF, DynamicCache)", m, s, flops / (m * 1e6)))

    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    base = rows[0][3]
    print("| benchmark | ms (mean ± sd) | GFLOP/s | vs baseline sgemm |")
    print("|---|---|---|---|")
    for name, m, s, gf in rows:
        print(f"| {name} | {m:.2f} ± {s:.2f} | {gf:.1f} | {gf / base:.2f} |")


if __name__ == "__main__":
    main()
