#!/usr/bin/env python3
"""PyTorch reference benchmark for a GAR checkpoint directory (the baseline `gar bench model` is compared with).

Runs the reference stack (transformers 4.56.2 PerceptionLM + timm 1.0.19 Eva + GAR's glue from
Tests/Fixtures/generate/gar_reference.py) on CPU in `--precision f32` (float32, weights upcast from the
checkpoint's bf16; the default) or `bf16` (`model.to(torch.bfloat16)`: bf16 weights and activations, what
PyTorch users run for speed), and measures:
  * vision: the mask embedding + vision tower + projector + 2x2 pooling on a batch of `--tiles` 448x448 tiles
    (one call, as GARModel.generate runs all tiles of an image), reported as ms per tile;
  * prefill: one forward of `--prefill-len` input embeddings through the Llama decoder with a fresh KV cache,
    logits for the last position only (as generate's prefill), reported as tokens/s;
  * decode: `--decode-steps` greedy steps on that cache (embed previous token, one position, argmax),
    reported as tokens/s;
  * peak RSS of the process (ru_maxrss) and the fp32 weight size, for the memory ratio.
Inputs are random (seeded): speed does not depend on values. Prints one JSON object on stdout.

Usage (the venv with the reference stack; a GAR-1B-shaped checkpoint from
`Tests/Fixtures/generate/generate.py --size full --out DIR`):
    python bench/pytorch/bench_gar.py --model DIR --threads 2 --tiles 2 --prefill-len 3700 --decode-steps 16
"""
import argparse
import json
import os
import resource
import sys
import time

import torch

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "Tests", "Fixtures", "generate"))
import gar_reference as ref  # noqa: E402


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def current_rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="GAR checkpoint directory (config.json + model.safetensors)")
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="torch.set_num_threads (default: all cores)")
    ap.add_argument("--tiles", type=int, default=2, help="tiles in the vision batch")
    ap.add_argument("--prefill-len", type=int, default=3700, help="prompt length L for the prefill")
    ap.add_argument("--decode-steps", type=int, default=16, help="greedy decode steps after the prefill")
    ap.add_argument("--attn", choices=["sdpa", "eager"], default="sdpa",
                    help="decoder attention kernel (sdpa = PyTorch's fused CPU path; eager = the parity path)")
    ap.add_argument("--precision", choices=["f32", "bf16"], default="f32",
                    help="f32: float32 model; bf16: model.to(torch.bfloat16) and bf16 inputs")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rss_before_load = peak_rss_mb()  # the interpreter + torch/transformers imports
    t0 = time.perf_counter()
    model = ref.GARModel.from_pretrained(args.model, use_flash_attn=False, dtype=torch.float32).eval()
    dtype = torch.bfloat16 if args.precision == "bf16" else torch.float32
    model = model.to(dtype)
    load_s = time.perf_counter() - t0
    model.mllm.config.text_config._attn_implementation = args.attn
    assert model.mllm.model.language_model.config is model.mllm.config.text_config
    n_params = sum(p.numel() for p in model.parameters())
    rss_after_load = peak_rss_mb()
    text = model.config.mllm_config.text_config
    result = dict(model=os.path.abspath(args.model), threads=args.threads, torch=torch.__version__, dtype=str(dtype).replace("torch.", ""),
                  attn=args.attn, parameters=n_params, fp32_weight_mb=n_params * 4 / 2**20, load_s=load_s,
                  rss_before_load_mb=rss_before_load, peak_rss_after_load_mb=rss_after_load,
                  rss_after_load_mb=current_rss_mb())

    with torch.inference_mode():
        # vision: pixel tiles in [-1, 1], a binary mask covering a quarter of each tile
        pixels = (torch.rand(args.tiles, 3, 448, 448) * 2 - 1).to(dtype)
        mask = torch.zeros(args.tiles, 3, 448, 448, dtype=dtype)
        mask[:, :, 100:324, 100:324] = 1

        def vision(n):
            embeds = model.mask_patch_embedding(mask[:n])
            return model.mllm.get_image_features(pixel_values=pixels[:n], mask_embeds=embeds)

        vision(1)  # warm-up (allocator, thread pool, oneDNN primitives)
        t = time.perf_counter()
        feats = vision(args.tiles)
        vision_s = time.perf_counter() - t
        assert feats.shape == (args.tiles, 256, text.hidden_size)
        result.update(tiles=args.tiles, vision_s=vision_s, vision_ms_per_tile=1000 * vision_s / args.tiles)

        # prefill: random token embeddings (scale of the embedding table), one forward with a fresh cache
        lm = model.mllm
        embed = lm.get_input_embeddings()
        ids = torch.randint(0, min(text.vocab_size, 1000), (1, args.prefill_len))
        inputs_embeds = embed(ids)
        warm = lm(inputs_embeds=inputs_embeds[:, :64], use_cache=True, logits_to_keep=1)  # warm-up
        del warm
        t = time.perf_counter()
        out = lm(inputs_embeds=inputs_embeds, use_cache=True, logits_to_keep=1)
        prefill_s = time.perf_counter() - t
        result.update(prefill_len=args.prefill_len, prefill_s=prefill_s,
                      prefill_tokens_per_s=args.prefill_len / prefill_s)

        # decode: greedy steps on the prefill's KV cache
        cache = out.past_key_values
        token = out.logits[:, -1].argmax(-1, keepdim=True)
        pos = args.prefill_len
        t = time.perf_counter()
        for _ in range(args.decode_steps):
            step = lm(input_ids=token, past_key_values=cache, use_cache=True,
                      cache_position=torch.tensor([pos]), position_ids=torch.tensor([[pos]]), logits_to_keep=1)
            cache = step.past_key_values
            token = step.logits[:, -1].argmax(-1, keepdim=True)
            pos += 1
        decode_s = time.perf_counter() - t
        result.update(decode_steps=args.decode_steps, decode_s=decode_s,
                      decode_tokens_per_s=args.decode_steps / decode_s)

    result["rss_end_mb"] = current_rss_mb()
    result["peak_rss_mb"] = peak_rss_mb()
    result["peak_rss_over_fp32_weights"] = result["peak_rss_mb"] / result["fp32_weight_mb"]
    result["peak_rss_minus_imports_over_fp32_weights"] = (result["peak_rss_mb"] - rss_before_load) / result["fp32_weight_mb"]
    result["env"] = {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS")}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
