#!/usr/bin/env python3
"""The transformers reference side of `gar bench track --sam2 DIR --python PY`.

gar writes the inputs it timed itself (the frames' pixel values, a memory bank, high-res mask
logits) to a safetensors file and runs this script on them; it times the same stages of
transformers' SAM 2.1 with torch threads = --threads, in fp32 and in bf16 (CPU autocast: bf16
matmuls/convolutions, f32 weights and everything else), and prints one JSON object on stdout:

  {"torch": ..., "transformers": ..., "threads": 2,
   "fp32": {"encoder_s": [...], "encoder_cpu_s": [...], "decoder_s": [...], ..., "memory_encoder_cpu_s": [...]},
   "bf16": {...}}

Stages (per frame, `torch.inference_mode`):
  encoder           Sam2Model.get_image_embeddings(pixel_values)   (Hiera + FPN neck + conv_s0/s1)
  decoder           Sam2Model(image_embeddings=..., input_boxes=[box])  (prompt encoder + mask decoder, 3 masks)
  memory_attention  Sam2VideoModel.memory_attention on the bank gar wrote (video checkpoints only)
  memory_encoder    Sam2VideoModel.memory_encoder(level-2 features, high-res mask)  (video checkpoints only)

Also: `--write-checkpoint OUT` writes a random-weight hiera-tiny VIDEO checkpoint
(`Sam2VideoModel(Sam2VideoConfig())`, the default config is sam2.1-hiera-tiny) for the video stages:

    /work/venv/ref/bin/python bench/sam2_reference_bench.py --write-checkpoint /tmp/sam2-video-hiera-tiny
"""
import argparse
import json
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", help="SAM 2.1 checkpoint directory (config.json + model.safetensors)")
    ap.add_argument("--inputs", help="safetensors file written by gar bench track --sam2")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--precisions", default="fp32,bf16")
    ap.add_argument("--write-checkpoint", metavar="OUT")
    a = ap.parse_args()

    import torch
    import transformers
    from safetensors.torch import load_file
    from transformers import Sam2Model, Sam2VideoConfig, Sam2VideoModel

    torch.set_num_threads(a.threads)
    if a.write_checkpoint:
        torch.manual_seed(20261206)
        model = Sam2VideoModel(Sam2VideoConfig()).eval()
        with torch.no_grad():  # the default init zeroes some parameters; random values everywhere
            for name, p in model.named_parameters():
                p.copy_(torch.randn(p.shape) / (p[0].numel() ** 0.5 if p.dim() > 1 else 10))
        model.save_pretrained(a.write_checkpoint, safe_serialization=True)
        print(json.dumps({"written": a.write_checkpoint}))
        return
    if not a.model or not a.inputs:
        sys.exit("error: --model and --inputs are required (or --write-checkpoint OUT)")

    with open(f"{a.model}/config.json") as f:
        is_video = json.load(f).get("model_type") == "sam2_video"
    image_model = Sam2Model.from_pretrained(a.model, dtype=torch.float32).eval()
    video_model = Sam2VideoModel.from_pretrained(a.model, dtype=torch.float32).eval() if is_video else None
    t = load_file(a.inputs)
    frames = t["pixel_values"]  # [N, 3, S, S]
    box = t["box"].reshape(1, 1, 4)  # model-input coordinates
    memory, memory_pe = t["memory"].unsqueeze(1), t["memory_pe"].unsqueeze(1)  # [M, 1, 64]
    pointer_tokens = int(t["pointer_tokens"].item())
    current, current_pe = t["current"].unsqueeze(1), t["current_pe"].unsqueeze(1)  # [E², 1, C]
    masks = t["high_res_mask"].reshape(1, 1, *t["high_res_mask"].shape[-2:])
    E = int(current.shape[0] ** 0.5)

    def timed(side, key, fn):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        side[key + "_s"].append(time.perf_counter() - t0)
        side[key + "_cpu_s"].append(time.process_time() - c0)

    result = {"torch": torch.__version__, "transformers": transformers.__version__, "threads": a.threads,
              "video_stages": is_video}
    for precision in a.precisions.split(","):
        ctx = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if precision == "bf16" else torch.no_grad
        side = {f"{k}{suffix}": [] for k in ("encoder", "decoder", "memory_attention", "memory_encoder") for suffix in ("_s", "_cpu_s")}
        with torch.inference_mode(), ctx():
            for i in range(frames.shape[0]):
                px = frames[i:i + 1]
                emb = None

                def enc():
                    nonlocal emb
                    emb = image_model.get_image_embeddings(px)
                timed(side, "encoder", enc)
                timed(side, "decoder", lambda: image_model(image_embeddings=emb, input_boxes=box, multimask_output=True))
                if video_model is not None:
                    timed(side, "memory_attention", lambda: video_model.memory_attention(
                        current_vision_features=current, memory=memory, current_vision_position_embeddings=current_pe,
                        memory_posision_embeddings=memory_pe, num_object_pointer_tokens=pointer_tokens))
                    feats = current.permute(1, 2, 0).reshape(1, -1, E, E)
                    timed(side, "memory_encoder", lambda: video_model.memory_encoder(feats, masks))
        result[precision] = side
    print(json.dumps(result))


if __name__ == "__main__":
    main()
