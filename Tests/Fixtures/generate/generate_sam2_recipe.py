#!/usr/bin/env python3
"""SAM 2.1 goldens at the real hiera-tiny shape that run in `swift test` (issue 13): formula weights.

The hiera-tiny-shaped checkpoint (~39 M values, ~156 MB) is too big to commit, so its weights are a
formula that Python and Swift both evaluate bit for bit, and only the recipe and compact goldens are
committed:

  Tests/Fixtures/sam2video-hiera-tiny-recipe/config.json    `Sam2VideoModel.save_pretrained`'s config of
                                                             `Sam2VideoConfig()` (hiera-tiny, as
                                                             `generate_sam2_video.py --size hiera-tiny`)
  Tests/Fixtures/sam2video-hiera-tiny-recipe/recipe.json    per key of the written model.safetensors:
                                                             shape, dtype, scale, offset
  Tests/Fixtures/goldens/sam2/hiera-tiny-recipe/manifest.json + tensors.safetensors

The formula. Element i of tensor `key` is `u * scale + offset`, where
  u = (SplitMix64 output number i+1 of the stream seeded with SEED ^ FNV-1a-64(key's UTF-8 bytes)) >> 56, minus 128,
i.e. z = (SEED ^ fnv) + (i + 1) * 0x9E3779B97F4A7C15 (mod 2^64) through SplitMix64's mix; u is in [-128, 127]
and `scale` is a (signed) power of two, so every value is exact in f32 (and in bf16 when offset is 0).
Scales follow each kind's init std (u's std is ≈ 73.9): Linear / Conv weights 1/sqrt(fan_in), transposed
convs 1/sqrt(in), biases 0.1, norms 1 + 0.1 · noise, embeddings 0.5, the Gaussian random-feature matrix 1,
the memory fuser's layer scales 0.5 + 0.1 · noise, each rounded to a power of two. The object-score head's
output layer is then scaled by OBJECT_SCORE_SCALE and its bias shifted by OBJECT_SCORE_SHIFT (the
occlusion branches run, as in generate_sam2_video.py, with constants for these weights). The prompt encoder's copy of the random-feature
matrix is tied to `shared_image_embedding.positional_embedding` (save_pretrained does not write it).

Frames (also a formula, integer arithmetic, so Swift rebuilds them): 8 RGB frames 270×480, a gradient
background, a yellow ellipse drifting right and a dark rectangle moving right and leaving the view from
frame 6 on, plus noise (u >> 4) from the same hash with key "frame<t>".

Goldens (the reference on these weights, fp32, eager attention):
  image mode on frame 4 (`Sam2Model` holding the image keys of the same weights): box, clicks (a positive
  and a negative click), click_single (multimask off), mask (a formula low-res mask prompt);
  video mode (`Sam2VideoModel` + inference session, the call sequence of generate_sam2_video.py, its
  case "a"): object 1 by a box and object 2 by a click, both on the middle frame 4, propagated forward
  and backward over the 8 frames.
Stored: low-res logits every 8th pixel ([M, 32, 32]) with the full tensor's max |logit| and mean, IoU and
object scores, visible flags, binary masks at frame size as packed bits (row-major, most significant bit
first: masks of random weights are speckled, so bits are smaller than run lengths), and the pixels whose upscaled logit is within NEAR_ZERO of 0 with that logit (a port may flip those).

    /work/venv/ref/bin/python Tests/Fixtures/generate/generate_sam2_recipe.py      # ~2.5 min, deterministic

then `swift test --filter SAM2HieraTinyRecipeTests` (≈ 2 min in a debug build on 2 cores).
"""
import json
import math
import os
import shutil
import sys
import tempfile

import numpy as np
import torch
import transformers
from safetensors import safe_open
from safetensors.numpy import save_file
from transformers import (Sam2Config, Sam2ImageProcessorFast, Sam2Model, Sam2Processor, Sam2VideoConfig,
                          Sam2VideoModel, Sam2VideoProcessor)
from transformers.models.sam2_video.video_processing_sam2_video import Sam2VideoVideoProcessor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from generate_sam2 import FIXTURES, SEED, f32, pinned_deterministic_torch  # noqa: E402
from generate_sam2_video import run_case  # noqa: E402

RECIPE_DIR = os.path.join(FIXTURES, "sam2video-hiera-tiny-recipe")
GOLDEN_DIR = os.path.join(FIXTURES, "goldens", "sam2", "hiera-tiny-recipe")
FRAMES, H, W = 8, 270, 480
IMAGE_FRAME = 4
SUB = 8             # low-res logits stored every SUB-th pixel
NEAR_ZERO = 1e-3    # upscaled logits this close to 0 may binarise either way (listed with their logits)
U_STD = math.sqrt((256 ** 2 - 1) / 12)
MASK64 = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15
# The object-score head's output layer is scaled by OBJECT_SCORE_SCALE and its bias raised by
# OBJECT_SCORE_SHIFT (as generate_sam2_video.py does, with values for these weights): unscaled, the
# head gives ≈ 0.08 on the prompted frame and ≈ −0.73..−0.68 on tracked frames (every object visible);
# ×32 + 22 keeps the prompted frame clearly visible and puts tracked frames on both sides of 0 (none
# within 0.1 of it), so the occlusion branches (−1024 masks, no-object pointer, occlusion embedding) run.
OBJECT_SCORE_SCALE, OBJECT_SCORE_SHIFT = 32.0, 22.0


def fnv1a64(text):
    h = 0xCBF29CE484222325
    for b in text.encode("utf-8"):
        h = ((h ^ b) * 0x100000001B3) & MASK64
    return h


def hash_u(key, count, seed=SEED):
    """u in [-128, 127] for elements 0..count-1 of `key` (int64 array)."""
    base = np.uint64((seed ^ fnv1a64(key)) & MASK64)
    z = base + (np.arange(1, count + 1, dtype=np.uint64) * np.uint64(GAMMA))  # uint64 arrays wrap
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(56)).astype(np.int64) - 128


def hash_u_scalar(key, index, seed=SEED):
    """The same, written out with Python integers (checks the vectorised form)."""
    z = ((seed ^ fnv1a64(key)) + (index + 1) * GAMMA) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    z ^= z >> 31
    return (z >> 56) - 128


def pow2(x):
    return 2.0 ** round(math.log2(x))


def recipe_entry(model, modules, key, shape):
    """(scale, offset) of one tensor, by the kind of module that owns it."""
    owner_name, leaf = key.rsplit(".", 1) if "." in key else ("", key)
    owner = modules[owner_name]
    kind = type(owner).__name__
    numel = int(np.prod(shape))
    if key == "shared_image_embedding.positional_embedding":
        return pow2(1.0 / U_STD), 0.0
    if leaf == "bias":
        scale, offset = pow2(0.1 / U_STD), 0.0
    elif "LayerNorm" in kind:
        scale, offset = pow2(0.1 / U_STD), 1.0
    elif isinstance(owner, torch.nn.ConvTranspose2d):  # [in, out, k, k]
        scale, offset = pow2(1.0 / math.sqrt(shape[0]) / U_STD), 0.0
    elif isinstance(owner, (torch.nn.Linear, torch.nn.Conv2d)):
        scale, offset = pow2(1.0 / math.sqrt(numel // shape[0]) / U_STD), 0.0
    elif kind == "Sam2VideoMemoryFuserCXBlock" and leaf == "scale":  # positive layer scales
        scale, offset = pow2(0.1 / U_STD), 0.5
    else:  # embeddings, position embeddings, the no-memory / no-pointer / occlusion embeddings
        scale, offset = pow2(0.5 / U_STD), 0.0
    if owner is model.mask_decoder.pred_obj_score_head.proj_out:
        scale *= OBJECT_SCORE_SCALE
        if leaf == "bias":
            offset = OBJECT_SCORE_SHIFT
    return scale, offset


def formula(key, shape, scale, offset):
    u = hash_u(key, int(np.prod(shape)))
    v = u.astype(np.float64) * scale + offset
    v32 = v.astype(np.float32)
    assert np.array_equal(v32.astype(np.float64), v), f"{key}: not exact in f32"
    return v32.reshape(shape)


def make_frame(t):
    """uint8 [H, W, 3], integer arithmetic only (SAM2HieraTinyRecipeTests.frame is the same)."""
    y, x = np.mgrid[0:H, 0:W].astype(np.int64)
    img = np.stack([60 + 80 * x // W, 90 + 60 * y // H, 120 + 40 * (x + y) // (W + H)], axis=-1)
    cx, cy, rx, ry = (35 + 3 * t) * W // 100, 45 * H // 100, 15 * W // 100, 25 * H // 100
    ell = (x - cx) ** 2 * ry ** 2 + (y - cy) ** 2 * rx ** 2 < rx ** 2 * ry ** 2
    img[ell] = [230, 200, 60]
    x0 = (45 + 10 * t) * W // 100
    img[60 * H // 100:85 * H // 100, x0:x0 + 20 * W // 100] = [30, 40, 90]
    img = img + (hash_u(f"frame{t}", H * W * 3) >> 4).reshape(H, W, 3)
    return np.clip(img, 0, 255).astype(np.uint8)


def mask_prompt(side):
    """The image-mode mask prompt [side, side]: +6 inside frame 4's ellipse (at that scale), −6 outside."""
    y, x = np.mgrid[0:side, 0:side].astype(np.int64)
    cx, cy, rx, ry = 47 * side // 100, 45 * side // 100, 15 * side // 100, 25 * side // 100
    inside = (x - cx) ** 2 * ry ** 2 + (y - cy) ** 2 * rx ** 2 < rx ** 2 * ry ** 2
    return np.where(inside, 6.0, -6.0).astype(np.float32)


class Golden:
    """Accumulates compact tensors of named mask sets."""

    def __init__(self):
        self.tensors = {}

    def masks(self, prefix, low_res, upscaled):
        """low_res [M, 4E, 4E] logits, upscaled [M, H, W] logits (binary = > 0)."""
        low_res, upscaled = f32(low_res), f32(upscaled)
        self.tensors[f"{prefix}.logits_sub"] = np.ascontiguousarray(low_res[:, ::SUB, ::SUB])
        self.tensors[f"{prefix}.logits_max_abs"] = np.abs(low_res).reshape(len(low_res), -1).max(axis=1).astype(np.float32)
        self.tensors[f"{prefix}.logits_mean"] = low_res.reshape(len(low_res), -1).astype(np.float64).mean(axis=1).astype(np.float32)
        self.tensors[f"{prefix}.bits"] = np.packbits((upscaled > 0).reshape(len(upscaled), -1), axis=1)  # [M, ⌈H·W / 8⌉]
        flat = upscaled.reshape(len(upscaled), -1)
        near = np.argwhere(np.abs(flat) < NEAR_ZERO)
        self.tensors[f"{prefix}.near_zero"] = np.ascontiguousarray(near, dtype=np.int32)  # [n, 2] (mask, pixel); argwhere's is column-major
        self.tensors[f"{prefix}.near_zero_logits"] = flat[near[:, 0], near[:, 1]].astype(np.float32)
        return [int((m > 0).sum()) for m in upscaled]


def main():
    pinned_deterministic_torch()
    versions = {"transformers": transformers.__version__, "torch": torch.__version__, "numpy": np.__version__}

    # The formula's vectorised and written-out forms agree; the probes are pinned in the Swift test.
    probes = [("shared_image_embedding.positional_embedding", 0), ("vision_encoder.backbone.patch_embed.projection.weight", 12344),
              ("mask_decoder.pred_obj_score_head.proj_out.bias", 0), ("frame3", 388799)]
    for key, index in probes:
        u = hash_u_scalar(key, index)
        assert u == hash_u(key, index + 1)[index]
        print(f"probe u({key!r}, {index}) = {u}")

    config = Sam2VideoConfig()
    config._attn_implementation = "eager"
    model = Sam2VideoModel(config).eval()
    modules = dict(model.named_modules())
    state = model.state_dict()
    tied = {"prompt_encoder.shared_embedding.positional_embedding": "shared_image_embedding.positional_embedding"}
    recipe = {}
    with torch.no_grad():
        for key, tensor in state.items():
            if key in tied:
                continue
            scale, offset = recipe_entry(model, modules, key, list(tensor.shape))
            recipe[key] = {"shape": list(tensor.shape), "dtype": "F32", "scale": scale, "offset": offset}
            tensor.copy_(torch.from_numpy(formula(key, list(tensor.shape), scale, offset)))
        for key, source in tied.items():
            state[key].copy_(state[source])
    model.load_state_dict(state, strict=True)

    tmp = tempfile.mkdtemp(prefix="sam2-recipe-")
    try:
        ckpt = os.path.join(tmp, "sam2video-hiera-tiny")
        model.save_pretrained(ckpt, safe_serialization=True)
        with safe_open(os.path.join(ckpt, "model.safetensors"), "np") as f:  # the recipe is exactly the written file
            written = set(f.keys())
            assert written == set(recipe), (written ^ set(recipe))
            for key in written:
                t = f.get_tensor(key)
                assert t.dtype == np.float32 and list(t.shape) == recipe[key]["shape"], key
                assert np.array_equal(t, formula(key, recipe[key]["shape"], recipe[key]["scale"], recipe[key]["offset"])), key
        os.makedirs(RECIPE_DIR, exist_ok=True)
        shutil.copy(os.path.join(ckpt, "config.json"), os.path.join(RECIPE_DIR, "config.json"))
        with open(os.path.join(RECIPE_DIR, "recipe.json"), "w") as f:
            json.dump({
                "seed": SEED, "formula": "u * scale + offset, u = (SplitMix64 draw i+1 seeded with seed ^ FNV-1a-64(key)) >> 56 - 128",
                "object_score_head": {"scale": OBJECT_SCORE_SCALE, "shift": OBJECT_SCORE_SHIFT},
                "tensors": {k: recipe[k] for k in sorted(recipe)}, "versions": versions,
            }, f, indent=0, sort_keys=True)
            f.write("\n")
        model = Sam2VideoModel.from_pretrained(ckpt, attn_implementation="eager", dtype=torch.float32).eval()
        image_config = Sam2Config(vision_config=config.vision_config.to_dict(), prompt_encoder_config=config.prompt_encoder_config.to_dict(),
                                  mask_decoder_config=config.mask_decoder_config.to_dict())
        image_config._attn_implementation = "eager"
        image_model = Sam2Model(image_config).eval()
        image_state = image_model.state_dict()
        video_state = model.state_dict()
        for key in image_state:
            image_state[key] = video_state[key]  # every image key is in the video model
        image_model.load_state_dict(image_state, strict=True)
    finally:
        shutil.rmtree(tmp)

    golden = Golden()
    frames = [make_frame(t) for t in range(FRAMES)]
    side = config.image_size
    processor = Sam2Processor(image_processor=Sam2ImageProcessorFast(size={"height": side, "width": side},
                                                                    mask_size={"height": side // 4, "width": side // 4}))
    image = frames[IMAGE_FRAME]
    r = lambda v: [round(c, 1) for c in v]  # noqa: E731
    box = r([0.3 * W, 0.15 * H, 0.65 * W, 0.75 * H])
    clicks = [r([0.47 * W, 0.45 * H]), r([0.9 * W, 0.72 * H])]
    image_cases = {
        "box": dict(boxes=box, multimask=True),
        "clicks": dict(points=clicks, labels=[1, 0], multimask=True),
        "click_single": dict(points=clicks[:1], labels=[1], multimask=False),
        "mask": dict(masks=mask_prompt(side // 4), multimask=False),
    }
    pixel_values = processor(images=image, return_tensors="pt")["pixel_values"]
    with torch.no_grad():
        embeddings = image_model.get_image_embeddings(pixel_values)
    manifest_image = {}
    for name, c in image_cases.items():
        kwargs = {}
        if "points" in c:
            kwargs.update(input_points=[[c["points"]]], input_labels=[[c["labels"]]])
        if "boxes" in c:
            kwargs["input_boxes"] = [[c["boxes"]]]
        inputs = processor(images=image, return_tensors="pt", **kwargs)
        masks = torch.from_numpy(c["masks"])[None, None] if "masks" in c else None
        with torch.no_grad():
            out = image_model(image_embeddings=embeddings, input_points=inputs.get("input_points"), input_labels=inputs.get("input_labels"),
                              input_boxes=inputs.get("input_boxes"), input_masks=masks, multimask_output=c["multimask"])
        upscaled = processor.post_process_masks(out.pred_masks, inputs["original_sizes"], binarize=False)[0][0]
        pixels = golden.masks(f"image.{name}", out.pred_masks[0, 0], upscaled)
        golden.tensors[f"image.{name}.iou_scores"] = f32(out.iou_scores[0, 0])
        golden.tensors[f"image.{name}.object_score_logits"] = f32(out.object_score_logits.reshape(-1))
        manifest_image[name] = {"points": c.get("points"), "labels": c.get("labels"), "box": c.get("boxes"),
                                "mask_prompt": "masks" in c, "multimask_output": c["multimask"],
                                "iou_scores": out.iou_scores[0, 0].tolist(), "object_score_logits": out.object_score_logits.reshape(-1).tolist(),
                                "mask_pixels": pixels}
        print(f"image {name}: iou {np.round(out.iou_scores[0, 0].numpy(), 4).tolist()} score {out.object_score_logits.item():.3f} pixels {pixels}")

    # Video mode, case "a" of generate_sam2_video.py on these frames.
    vprocessor = Sam2VideoProcessor(
        image_processor=Sam2ImageProcessorFast(size={"height": side, "width": side}, mask_size={"height": side // 4, "width": side // 4}),
        video_processor=Sam2VideoVideoProcessor(size={"height": side, "width": side}))
    prompts = [(4, 1, "box", r([0.22 * W, 0.2 * H, 0.73 * W, 0.72 * H])), (4, 2, "points", ([r([0.92 * W, 0.72 * H])], [1]))]
    pred, scores, order, _, _ = run_case(model, vprocessor, frames, prompts, H, W)
    pixels = []
    for t in range(FRAMES):
        low = torch.from_numpy(pred[t])
        upscaled = vprocessor.post_process_masks([low[:, None]], original_sizes=[[H, W]], binarize=False)[0][:, 0]
        pixels.append(golden.masks(f"video.frame{t}", low, upscaled))
    golden.tensors["video.object_score_logits"] = scores
    print("video order", order)
    print("video scores", np.round(scores, 2).tolist())
    print("video pixels", pixels)
    assert (scores <= 0).any() and (scores > 0).any(), "the video case should have visible and not-visible objects"
    assert np.abs(scores).min() > 0.1, "a visible flag would hinge on a score near 0"

    os.makedirs(GOLDEN_DIR, exist_ok=True)
    save_file(golden.tensors, os.path.join(GOLDEN_DIR, "tensors.safetensors"), metadata={"format": "np"})
    manifest = {
        "case": "hiera-tiny-recipe", "recipe": "sam2video-hiera-tiny-recipe", "seed": SEED,
        "probes": [{"key": k, "index": i, "u": hash_u_scalar(k, i)} for k, i in probes],
        "frames": {"count": FRAMES, "height": H, "width": W, "image_frame": IMAGE_FRAME,
                   "channel_sums": [f.reshape(-1, 3).sum(axis=0, dtype=np.int64).tolist() for f in frames]},
        "object_score_head": {"scale": OBJECT_SCORE_SCALE, "shift": OBJECT_SCORE_SHIFT},
        "subsample": SUB, "near_zero": NEAR_ZERO, "image": manifest_image,
        "video": {"prompts": [{"frame": f, "obj_id": o, "kind": k, "value": v} for f, o, k, v in prompts],
                  "order": order, "object_score_logits": scores.tolist(), "mask_pixels": pixels},
        "versions": versions,
    }
    with open(os.path.join(GOLDEN_DIR, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
