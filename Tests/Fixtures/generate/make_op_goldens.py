#!/usr/bin/env python3
"""Op goldens for Tests/TensorsTests: seeded inputs and the PyTorch reference outputs.

Writes small safetensors files into Tests/Fixtures/ops/ (total < 2 MB). Run from the repository
root with the reference venv (README of this folder):

    /work/venv/ref/bin/python Tests/Fixtures/generate/make_op_goldens.py

Pinned stack: torch (2.15.0 here), torchvision (0.29.2), transformers 4.56.2, timm 1.0.19,
numpy 1.26.4, safetensors. Every file carries `generator`, `format` and the package versions in
its metadata. Regenerate, never hand-edit.

Large resize outputs are not stored: their inputs are procedural (integer formulas that the
Swift tests reproduce exactly, `procedural_image`) and the outputs are stored as one 64-bit
FNV-1a hash per output row (HWC bytes), so a mismatch names the rows that differ.

`--fit-erf` prints the erf polynomial coefficients used in Sources/CKernels/vecmath.inc.
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
import torchvision

FORMAT = "1"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "ops")


def meta(**extra):
    import timm
    import transformers

    m = {
        "generator": "Tests/Fixtures/generate/make_op_goldens.py",
        "format": FORMAT,
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "transformers": transformers.__version__,
        "timm": timm.__version__,
        "numpy": np.__version__,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
    }
    m.update({k: str(v) for k, v in extra.items()})
    return m


DTYPES = {torch.float32: "F32", torch.bfloat16: "BF16", torch.float16: "F16", torch.int64: "I64",
          torch.int32: "I32", torch.uint8: "U8", torch.bool: "BOOL", torch.float64: "F64"}


def save(name, tensors, **extra):
    """safetensors with a deterministic header (sorted metadata, tensors in insertion order), so
    regenerating gives byte-identical files (the safetensors library orders metadata randomly)."""
    path = os.path.join(OUT, name + ".safetensors")
    header = {"__metadata__": dict(sorted(meta(**extra).items()))}
    blobs, offset = [], 0
    for k, v in tensors.items():
        v = v.contiguous()
        raw = v.view(torch.uint8).numpy().tobytes() if v.dtype != torch.bool else v.numpy().astype(np.uint8).tobytes()
        header[k] = {"dtype": DTYPES[v.dtype], "shape": list(v.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little") + h + b"".join(blobs))
    print(f"{name}: {os.path.getsize(path)} bytes")


def f32(x):
    return torch.as_tensor(np.asarray(x), dtype=torch.float32)


# ----------------------------------------------------------------------------- procedural images

def procedural_image(width, height, channels, seed):
    """uint8 [H, W, C]; integer-only so Swift reproduces it exactly (see OpGoldenTests.swift).

    smooth ramp + a checkerboard of 37×29 cells (+70) + 5-bit hash noise, wrapped mod 256
    (the wraps give hard edges that drive bicubic overshoot into the clamp)."""
    x = np.arange(width, dtype=np.uint64)[None, :, None]
    y = np.arange(height, dtype=np.uint64)[:, None, None]
    c = np.arange(channels, dtype=np.uint64)[None, None, :]
    smooth = ((x * 255) // max(width - 1, 1) + (y * 255) // max(height - 1, 1)) // 2
    edges = ((x // 37 + y // 29 + c) % 2) * 70
    h = (x * 2654435761 + y * 2246822519 + (c + seed) * 3266489917) % (1 << 32)
    noise = h >> 27
    return ((smooth + edges + noise) % 256).astype(np.uint8)


def procedural_ids(width, height, seed):
    """uint8 [H, W] prompt-id map with values 0..5 (5 = background), blocky regions."""
    x = np.arange(width, dtype=np.uint64)[None, :]
    y = np.arange(height, dtype=np.uint64)[:, None]
    v = (x // 13 + (y // 7) * 3 + seed) % 6
    return v.astype(np.uint8)


FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3


def row_hashes(hwc):
    """64-bit FNV-1a of each row's bytes, returned as int64 (bit pattern)."""
    out = []
    for row in hwc.reshape(hwc.shape[0], -1):
        h = FNV_OFFSET
        for b in row.tobytes():
            h ^= b
            h = (h * FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
        out.append(h)
    return torch.tensor(np.array(out, dtype=np.uint64).view(np.int64))


def fast_row_hashes(hwc):
    """Vectorised FNV-1a over all rows at once (same values as row_hashes)."""
    rows = hwc.reshape(hwc.shape[0], -1).astype(np.uint64)
    h = np.full(rows.shape[0], FNV_OFFSET, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(rows.shape[1]):
            h ^= rows[:, j]
            h *= np.uint64(FNV_PRIME)
    return torch.tensor(h.view(np.int64))


def tv_resize(hwc, w, h, mode, api="v2"):
    """torchvision F.resize on a uint8 CHW tensor.

    api "v1" = torchvision.transforms.functional — what transformers' PLM image processor imports
    (image_processing_perception_lm_fast.py: `from torchvision.transforms import functional as F`):
    the image is cast to float32, resampled, clamped and rounded back to uint8.
    api "v2" = torchvision.transforms.v2.functional: resamples uint8 natively (int16 weights)."""
    from torchvision.transforms import InterpolationMode

    if api == "v1":
        from torchvision.transforms import functional as TF
    else:
        from torchvision.transforms.v2 import functional as TF

    t = torch.from_numpy(np.ascontiguousarray(hwc)).permute(2, 0, 1).contiguous()
    interp = InterpolationMode.BICUBIC if mode == "bicubic" else InterpolationMode.NEAREST
    out = TF.resize(t, [h, w], interpolation=interp, antialias=True)
    assert out.dtype == torch.uint8
    return out.permute(1, 2, 0).contiguous().numpy()


# ----------------------------------------------------------------------------- goldens

def gen_pointwise(g):
    x = torch.cat([torch.linspace(-8, 8, 1601), torch.randn(2000, generator=g) * 3,
                   torch.tensor([0.0, -0.0, 1e-30, -1e-30, 5.5, -5.5, 10.0, -10.0, 30.0, -30.0])])
    save("pointwise", {"x": x, "gelu": F.gelu(x), "silu": F.silu(x), "exp": torch.exp(x.clamp(-80, 80)),
                       "x_exp": x.clamp(-80, 80)})


def gen_norms(g):
    from transformers.models.llama.modeling_llama import LlamaRMSNorm

    x = torch.randn(7, 300, generator=g) * 2 + 0.5
    w = torch.randn(300, generator=g)
    b = torch.randn(300, generator=g)
    ln = F.layer_norm(x, (300,), w, b, eps=1e-5)
    xr = torch.randn(5, 256, generator=g) * 3
    rms = LlamaRMSNorm(256, eps=1e-5)
    with torch.no_grad():
        rms.weight.copy_(torch.randn(256, generator=g))
        yr = rms(xr)
    save("norms", {"ln_x": x, "ln_weight": w, "ln_bias": b, "ln_y": ln,
                   "rms_x": xr, "rms_weight": rms.weight.detach(), "rms_y": yr}, ln_eps=1e-5, rms_eps=1e-5)


def gen_softmax_linear(g):
    x = torch.randn(9, 333, generator=g) * 4
    y = torch.softmax(x * 0.125, dim=-1)
    a = torch.randn(3, 37, generator=g)
    w = torch.randn(29, 37, generator=g)
    b = torch.randn(29, generator=g)
    a1 = torch.randn(1, 37, generator=g)
    save("softmax_linear", {"sm_x": x, "sm_y": y, "lin_x": a, "lin_w": w, "lin_b": b, "lin_y": F.linear(a, w, b),
                            "lin1_x": a1, "lin1_y": F.linear(a1, w, b), "lin_nobias_y": F.linear(a, w)},
         sm_scale=0.125)


def gen_llama_rope(g):
    from transformers import LlamaConfig
    from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding, apply_rotary_pos_emb

    out = {}
    cases = {
        # GAR-1B text config (GAR-SPEC §2.5/§7.1)
        "gar1b": dict(hidden_size=2048, num_attention_heads=32, num_key_value_heads=8, rope_theta=500000.0,
                      rope_scaling=dict(rope_type="llama3", factor=32.0, low_freq_factor=1.0, high_freq_factor=4.0,
                                        original_max_position_embeddings=8192), max_position_embeddings=11520),
        # Llama-3.1-style (head_dim 128, factor 8)
        "l31": dict(hidden_size=4096, num_attention_heads=32, num_key_value_heads=8, rope_theta=500000.0,
                    rope_scaling=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0,
                                      original_max_position_embeddings=8192), max_position_embeddings=131072),
        # a tiny model's head (head_dim 16)
        "tiny": dict(hidden_size=64, num_attention_heads=4, num_key_value_heads=2, rope_theta=500000.0,
                     rope_scaling=dict(rope_type="llama3", factor=32.0, low_freq_factor=1.0, high_freq_factor=4.0,
                                       original_max_position_embeddings=8192), max_position_embeddings=16384),
    }
    positions = torch.tensor([[0, 1, 2, 7, 100, 1023, 2047, 4999, 8191, 11519]])
    for name, kw in cases.items():
        cfg = LlamaConfig(**kw)
        rope = LlamaRotaryEmbedding(cfg)
        hd = kw["hidden_size"] // kw["num_attention_heads"]
        q = torch.randn(1, 3, positions.shape[1], hd, generator=g)
        k = torch.randn(1, 2, positions.shape[1], hd, generator=g)
        cos, sin = rope(q, positions)
        qe, ke = apply_rotary_pos_emb(q, k, cos, sin)
        out.update({f"{name}_inv_freq": rope.inv_freq.float(), f"{name}_cos": cos[0], f"{name}_sin": sin[0],
                    f"{name}_q": q[0], f"{name}_k": k[0], f"{name}_q_rot": qe[0], f"{name}_k_rot": ke[0]})
    out["positions"] = positions[0]
    save("llama_rope", out)


def gen_vit_rope(g):
    from timm.layers.pos_embed_sincos import RotaryEmbeddingCat, apply_rot_embed_cat

    out = {}
    # (name, head_dim, feat, ref, offset): GAR-1B (L), GAR-8B (G), and a grid that differs from ref.
    cases = [("l", 64, (32, 32), (32, 32), 1.0), ("g", 96, (32, 32), (32, 32), 0.0), ("odd", 32, (6, 5), (32, 32), 1.0)]
    for name, hd, feat, ref, off in cases:
        rope = RotaryEmbeddingCat(dim=hd, temperature=10000, in_pixels=False, feat_shape=list(feat),
                                  ref_feat_shape=list(ref), grid_offset=off, grid_indexing="xy")
        table = rope.get_embed()  # [N, 2·hd] = [sin | cos]
        n = table.shape[0]
        rows = sorted(set([0, 1, 2, 31, 32, 33, n // 2, n - 2, n - 1] + list(range(0, n, max(1, n // 24)))))
        rows = [r for r in rows if r < n]
        out[f"{name}_rows"] = torch.tensor(rows)
        out[f"{name}_table"] = table[rows]
        # apply to a few heads with one prefix token (CLS) that must pass through
        heads = 2
        x = torch.randn(1, heads, n + 1, hd, generator=g)
        y = torch.cat([x[:, :, :1, :], apply_rot_embed_cat(x[:, :, 1:, :], table)], dim=2)
        if n > 64:  # keep the fixture small: store a slice of tokens
            keep = [0] + [r + 1 for r in rows]
            out[f"{name}_x_tokens"] = torch.tensor(keep)
            x, y = x[:, :, keep, :], y[:, :, keep, :]
        else:
            out[f"{name}_x_tokens"] = torch.arange(n + 1)
        out[f"{name}_x"] = x[0]
        out[f"{name}_y"] = y[0]
    save("vit_rope", out, temperature=10000)


def gen_roi_align(g):
    from torchvision.ops import roi_align

    C, H, W = 8, 32, 48
    feat = torch.randn(1, C, H, W, generator=g)
    # GAR-style boxes: normalised box × feat size, then spatial_scale = 1/28 (the double scaling)
    gar_boxes = [(0.40, 0.25, 0.90, 0.80), (0.0, 0.0, 1.0, 1.0), (0.123, 0.456, 0.789, 0.987), (0.5, 0.5, 0.5, 0.5)]
    rows = [[0, x1 * W, y1 * H, x2 * W, y2 * H] for (x1, y1, x2, y2) in gar_boxes]
    boxes_gar = torch.tensor(rows, dtype=torch.float64).float()
    s = 16 / (28 * 16)
    out_gar = roi_align(feat, boxes_gar, output_size=(16, 16), spatial_scale=s, sampling_ratio=2, aligned=True)
    # Boxes in cell units (scale 1), some partly outside the map.
    boxes_px = torch.tensor([[0, 3.2, 4.7, 20.1, 17.9], [0, -3.0, -2.5, 10.0, 6.0], [0, 40.0, 25.0, 52.0, 35.5],
                             [0, 0.0, 0.0, 48.0, 32.0]], dtype=torch.float32)
    out_px = roi_align(feat, boxes_px, output_size=(7, 5), spatial_scale=1.0, sampling_ratio=2, aligned=True)
    out_adaptive = roi_align(feat, boxes_px, output_size=(4, 6), spatial_scale=0.5, sampling_ratio=0, aligned=False)
    save("roi_align", {"features": feat[0], "boxes_gar": boxes_gar[:, 1:], "out_gar": out_gar,
                       "boxes_px": boxes_px[:, 1:], "out_px": out_px, "out_adaptive": out_adaptive},
         gar_spatial_scale=repr(s))


def gen_pool_conv(g):
    x = torch.randn(1, 24, 32, 32, generator=g)
    y = F.adaptive_avg_pool2d(x, (16, 16))
    # channels-last input as the projector produces it (tokens [1024, C] viewed as [C, 32, 32])
    tokens = torch.randn(1, 1024, 24, generator=g)
    cl = tokens.permute(0, 2, 1).reshape(1, 24, 32, 32)
    ycl = F.adaptive_avg_pool2d(cl, (16, 16))
    xo = torch.randn(1, 6, 7, 5, generator=g)
    yo = F.adaptive_avg_pool2d(xo, (3, 2))
    img = torch.randn(1, 3, 56, 42, generator=g)
    w = torch.randn(16, 3, 14, 14, generator=g) * 0.05
    b = torch.randn(16, generator=g)
    conv = F.conv2d(img, w, b, stride=14)
    conv_nb = F.conv2d(img, w, None, stride=14)
    save("pool_conv", {"pool_x": x[0], "pool_y": y[0], "pool_tokens": tokens[0], "pool_tokens_y": ycl[0],
                       "pool_odd_x": xo[0], "pool_odd_y": yo[0], "conv_image": img[0], "conv_weight": w,
                       "conv_bias": b, "conv_y": conv[0], "conv_nobias_y": conv_nb[0]})


def gen_sdpa(g):
    def repeat_kv(x, n):
        b, h, s, d = x.shape
        return x[:, :, None, :, :].expand(b, h, n, s, d).reshape(b, h * n, s, d)

    out = {}
    # causal with cache: T new queries at positions off..off+T-1 over S = off + T keys, GQA 8/2
    H, Hkv, D, T, off = 8, 2, 16, 5, 7
    S = off + T
    q = torch.randn(1, H, T, D, generator=g)
    k = torch.randn(1, Hkv, S, D, generator=g)
    v = torch.randn(1, Hkv, S, D, generator=g)
    mask = torch.arange(S)[None, :] <= (off + torch.arange(T))[:, None]
    y = F.scaled_dot_product_attention(q, repeat_kv(k, H // Hkv), repeat_kv(v, H // Hkv), attn_mask=mask)
    out.update({"c_q": q[0], "c_k": k[0], "c_v": v[0], "c_y": y[0]})
    # plain causal prefill (no cache), GQA 4/1, T = S = 9
    q2 = torch.randn(1, 4, 9, 8, generator=g)
    k2 = torch.randn(1, 1, 9, 8, generator=g)
    v2 = torch.randn(1, 1, 9, 8, generator=g)
    y2 = F.scaled_dot_product_attention(q2, repeat_kv(k2, 4), repeat_kv(v2, 4), is_causal=True)
    out.update({"p_q": q2[0], "p_k": k2[0], "p_v": v2[0], "p_y": y2[0]})
    # non-causal (vision), 4 heads, 37 tokens
    q3 = torch.randn(1, 4, 37, 16, generator=g)
    k3 = torch.randn(1, 4, 37, 16, generator=g)
    v3 = torch.randn(1, 4, 37, 16, generator=g)
    y3 = F.scaled_dot_product_attention(q3, k3, v3)
    out.update({"n_q": q3[0], "n_k": k3[0], "n_v": v3[0], "n_y": y3[0]})
    save("sdpa", out, c_offset=off)


def gen_convert(g):
    special = [0.0, -0.0, float("inf"), float("-inf"), float("nan"), 1.0, -1.0, 65504.0, 65519.99, 65520.0,
               1e-8, 6.1e-5, 6.0e-8, 5.9e-8, 2.98e-8, 3.0e-8, 1e-40, -1e-40, 3.4e38, -3.4e38, 1.17e-38]
    # bf16 ties: values exactly halfway between two bf16 numbers, both parities
    ties = [np.uint32(0x3F808000).view(np.float32), np.uint32(0x3F818000).view(np.float32),
            np.uint32(0x3F80C000).view(np.float32), np.uint32(0x3F80FFFF).view(np.float32),
            np.uint32(0xBF808000).view(np.float32), np.uint32(0x00008000).view(np.float32)]
    # f16 ties: 1 + k·2^-11 halfway cases
    f16ties = [1.0 + 2.0 ** -11, 1.0 + 3 * 2.0 ** -11, 2048.0 + 1.0, 2048.0 + 3.0, 2.0 ** -24 * 1.5, 2.0 ** -24 * 2.5]
    x = torch.cat([f32(special), f32(np.array(ties, dtype=np.float32)), f32(f16ties),
                   torch.randn(3000, generator=g) * 10, torch.randn(500, generator=g) * 1e-6,
                   torch.randn(500, generator=g) * 3e4])
    save("convert", {"x": x, "bf16": x.to(torch.bfloat16), "f16": x.to(torch.float16)})


RESIZE_FULL = [((64, 48), (29, 31)), ((20, 13), (57, 40)), ((50, 50), (50, 17)), ((50, 50), (23, 50)),
               ((31, 17), (448, 448 // 16))]
RESIZE_HASHED = [((1024, 770), (448, 448)), ((1024, 770), (1792, 1344)), ((640, 480), (1792, 1344)),
                 ((1280, 720), (448, 448)), ((100, 100), (1792, 1792)), ((2000, 500), (3584, 896)),
                 ((4032, 3024), (448, 448))]
NEAREST_FULL = [((37, 23), (101, 67)), ((96, 64), (48, 32)), ((30, 20), (60, 40)), ((7, 9), (448, 448 // 8))]
NEAREST_HASHED = [((1024, 770), (448, 448)), ((1024, 770), (1792, 1344)), ((640, 480), (1792, 1344)),
                  ((300, 200), (448, 448))]


def gen_resize(g, api="v2"):
    out = {}
    for i, ((w, h), (ow, oh)) in enumerate(RESIZE_FULL):
        img = torch.randint(0, 256, (h, w, 3), generator=g, dtype=torch.uint8).numpy()
        res = tv_resize(img, ow, oh, "bicubic", api)
        out[f"full{i}_in"] = torch.from_numpy(img)
        out[f"full{i}_out"] = torch.from_numpy(res)
    for i, ((w, h), (ow, oh)) in enumerate(RESIZE_HASHED):
        img = procedural_image(w, h, 3, seed=i)
        res = tv_resize(img, ow, oh, "bicubic", api)
        assert res.shape == (oh, ow, 3)
        out[f"hashed{i}_size"] = torch.tensor([w, h, ow, oh, i])
        out[f"hashed{i}_rows"] = fast_row_hashes(res)
        # spot values so a failure shows numbers, not only hashes
        out[f"hashed{i}_row0"] = torch.from_numpy(res[0].copy())
        out[f"hashed{i}_rowmid"] = torch.from_numpy(res[oh // 2].copy())
    # sanity check of the vectorised hash against the plain one
    probe = procedural_image(13, 5, 3, seed=3)
    assert torch.equal(fast_row_hashes(probe), row_hashes(probe))
    if api == "v1":
        save("resize_bicubic_v1", out, api="torchvision.transforms.functional (float path)")
        return
    save("resize_bicubic", out, api="torchvision.transforms.v2.functional (native uint8 path)")

    out = {}
    for i, ((w, h), (ow, oh)) in enumerate(NEAREST_FULL):
        ids = torch.randint(0, 6, (h, w, 1), generator=g, dtype=torch.uint8).numpy()
        out[f"full{i}_in"] = torch.from_numpy(ids)
        out[f"full{i}_out"] = torch.from_numpy(tv_resize(ids, ow, oh, "nearest"))
    for i, ((w, h), (ow, oh)) in enumerate(NEAREST_HASHED):
        ids = procedural_ids(w, h, seed=i)[:, :, None]
        res = tv_resize(ids, ow, oh, "nearest")
        out[f"hashed{i}_size"] = torch.tensor([w, h, ow, oh, i])
        out[f"hashed{i}_rows"] = fast_row_hashes(res)
    save("resize_nearest", out)


def fit_erf():
    erf = np.vectorize(math.erf)
    erfc = np.vectorize(math.erfc)
    n = 6000
    u = np.cos(np.pi * (np.arange(n) + 0.5) / n) * 0.5 + 0.5
    x = np.sqrt(u)
    x[x == 0] = 1e-12
    y = erf(x) / x
    ca, *_ = np.linalg.lstsq(np.vander(u, 7, increasing=True) / y[:, None], np.ones_like(y), rcond=None)
    x = (np.cos(np.pi * (np.arange(n) + 0.5) / n) * 0.5 + 0.5) * 3 + 1
    r = erfc(x) * np.exp(x * x)
    cb, *_ = np.linalg.lstsq(np.vander(1 / x, 9, increasing=True) / r[:, None], np.ones_like(r), rcond=None)
    print("small |x| < 1, erf = x·P(x²), P coefficients (ascending):")
    print(", ".join("%.9e" % np.float32(c) for c in ca))
    print("1 <= |x| < 4, erf = 1 − exp(−x²)·R(1/|x|), R coefficients (ascending):")
    print(", ".join("%.9e" % np.float32(c) for c in cb))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fit-erf", action="store_true")
    args = ap.parse_args()
    if args.fit_erf:
        fit_erf()
        return
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    g = torch.Generator().manual_seed(20240607)
    gen_pointwise(g)
    gen_norms(g)
    gen_softmax_linear(g)
    gen_llama_rope(g)
    gen_vit_rope(g)
    gen_roi_align(g)
    gen_pool_conv(g)
    gen_sdpa(g)
    gen_convert(g)
    gen_resize(g)
    gen_resize(torch.Generator().manual_seed(20240608), api="v1")
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"total {total} bytes")
    assert total < 2 * 1024 * 1024, "op goldens must stay under 2 MB"


if __name__ == "__main__":
    sys.exit(main())
