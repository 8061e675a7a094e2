#!/usr/bin/env python3
"""Reference fixture generator for gar: tiny GAR checkpoints in the real HF layout, parity goldens, unit goldens.

Everything is produced by the pinned Python reference stack (transformers 4.56.2, timm 1.0.19, numpy 1.26.4,
torch/torchvision) plus GAR's glue re-written in gar_reference.py. Seeded and deterministic; nothing is
downloaded (configs are built locally, timm models with pretrained=False).

Usage (venv with the reference stack; see Tests/Fixtures/README.md):
    python Tests/Fixtures/generate/generate.py                    # --size tiny: checkpoints + goldens + images
    python Tests/Fixtures/generate/generate.py --size full --out /tmp/gar-1b-random
                                                                  # GAR-1B-shaped random bf16 checkpoint (~3 GB)
    python Tests/Fixtures/generate/generate.py --size full-8b --out /tmp/gar-8b-config
                                                                  # GAR-8B-shaped config files only (no weights)

Outputs of --size tiny (all under Tests/Fixtures/, documented in Tests/Fixtures/README.md):
    gar-tiny/            1B-form tiny checkpoint (CLS token, RoPE offset 1, tied head, max_num_tiles 4)
    gar-tiny-8bform/     8B-form tiny checkpoint (no CLS, RoPE offset 0, untied lm_head, max_num_tiles 8)
    images/              synthetic input images, masks, video frames and a VideoRefer-style annotation
    goldens/<case>/      manifest.json + tensors.safetensors per parity case
    goldens/unit/        tile grids, llama3 inv_freq, PE 2-D RoPE tables
The tokenizer comes from Tests/Fixtures/tokenizer (make_tokenizer.py); run that first if it is missing.
"""
import argparse
import hashlib
import json
import math
import os
import re
import shutil
import sys
import tempfile

import numpy as np
import torch
from PIL import Image, ImageDraw

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.normpath(os.path.join(HERE, ".."))
sys.path.insert(0, HERE)

PINNED = {"transformers": "4.56.2", "timm": "1.0.19", "numpy": "1.26.4"}
SEED = 20240611


def check_versions():
    import timm
    import transformers
    found = {"transformers": transformers.__version__, "timm": timm.__version__, "numpy": np.__version__}
    bad = {k: v for k, v in found.items() if v != PINNED[k]}
    if bad:
        sys.exit(f"pinned versions required {PINNED}, found {found}")
    import safetensors
    import tokenizers
    import torchvision
    import PIL
    return dict(found, torch=torch.__version__, torchvision=torchvision.__version__,
                safetensors=safetensors.__version__, tokenizers=tokenizers.__version__, pillow=PIL.__version__)


import gar_reference as ref  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from transformers import (AutoConfig, AutoTokenizer, LlamaConfig, PerceptionLMConfig,  # noqa: E402
                          TimmWrapperConfig)
from transformers.models.perception_lm.video_processing_perception_lm import PerceptionLMVideoProcessor  # noqa: E402

# --------------------------------------------------------------------------------------------------------------
# Model shapes
# --------------------------------------------------------------------------------------------------------------
# model_args the real configs carry (GAR-SPEC 2.3: HF conversion script + plm yaml); everything else comes from
# the timm registry function of the architecture.
REAL_VISION = {
    "1b": ("vit_pe_core_large_patch14_336", dict(embed_dim=1024, depth=23)),
    "8b": ("vit_pe_core_gigantic_patch14_448", dict(embed_dim=1536, depth=47)),
}
COMMON_VISION_ARGS = dict(img_size=(448, 448), global_pool="", use_post_transformer_norm=False, init_values=0.1,
                          ref_feat_shape=(32, 32))
LLAMA3_ROPE_1B = {"factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                  "original_max_position_embeddings": 8192, "rope_type": "llama3"}
# GAR-8B's rope scaling is UNVERIFIED (GAR-SPEC 2.5); Llama-3.1's own values are used for the 8B forms so the two
# tiny checkpoints also differ here (the Swift side must read it from config.json).
LLAMA3_ROPE_8B = dict(LLAMA3_ROPE_1B, factor=8.0)

SPECS = {
    # name: vision (arch, model_args), text config, tie, cls, max_num_tiles
    "tiny": dict(form="1b", vision_args=dict(embed_dim=32, depth=2, num_heads=2),
                 text=dict(hidden_size=64, intermediate_size=128, num_attention_heads=4, num_key_value_heads=2,
                           num_hidden_layers=2, rope_scaling=LLAMA3_ROPE_1B, max_position_embeddings=11520),
                 tie=True, max_num_tiles=4, out="gar-tiny"),
    "tiny-8bform": dict(form="8b", vision_args=dict(embed_dim=36, depth=2, num_heads=3),
                        text=dict(hidden_size=64, intermediate_size=128, num_attention_heads=4,
                                  num_key_value_heads=2, num_hidden_layers=2, rope_scaling=LLAMA3_ROPE_8B,
                                  max_position_embeddings=131072),
                        tie=False, max_num_tiles=8, out="gar-tiny-8bform"),
    "full": dict(form="1b", vision_args=dict(embed_dim=1024, depth=23),
                 text=dict(hidden_size=2048, intermediate_size=8192, num_attention_heads=32, num_key_value_heads=8,
                           num_hidden_layers=16, rope_scaling=LLAMA3_ROPE_1B, max_position_embeddings=11520),
                 tie=True, max_num_tiles=16, vocab_size=128262),
    "full-8b": dict(form="8b", vision_args=dict(embed_dim=1536, depth=47),
                    text=dict(hidden_size=4096, intermediate_size=14336, num_attention_heads=32, num_key_value_heads=8,
                              num_hidden_layers=32, rope_scaling=LLAMA3_ROPE_8B, max_position_embeddings=131072),
                    tie=False, max_num_tiles=8, vocab_size=128262),
}


def vision_config(form, extra_args):
    """TimmWrapperConfig as the PLM converter builds it: TimmWrapperConfig.from_pretrained("timm/<arch>.fb",
    model_args=...). The hub config.json of that timm repo is rebuilt from timm's own pretrained_cfg registry
    (architecture, num_classes, num_features, global_pool, pretrained_cfg), since nothing may be downloaded."""
    from timm.models import get_pretrained_cfg
    arch, real = REAL_VISION[form]
    pcfg = get_pretrained_cfg(arch + ".fb").to_dict()
    model_args = dict(real, **COMMON_VISION_ARGS)
    model_args.update(extra_args)
    hub = {"architecture": arch, "num_classes": pcfg["num_classes"], "num_features": model_args["embed_dim"],
           "global_pool": "map", "pretrained_cfg": {k: v for k, v in pcfg.items() if k != "architecture"}}
    return TimmWrapperConfig.from_dict(hub, model_args=model_args)


def build_config(spec, tokenizer):
    """GARConfig exactly as convert_to_hf.py builds it from the PLM base config (saved and re-read as the hub
    config would be)."""
    eos = [tokenizer.convert_tokens_to_ids("<|end_of_text|>"), tokenizer.eos_token_id]
    vocab = spec.get("vocab_size", len(tokenizer))
    text = LlamaConfig(rms_norm_eps=1e-5, vocab_size=vocab, rope_theta=500000.0, bos_token_id=tokenizer.bos_token_id,
                       eos_token_id=eos, tie_word_embeddings=spec["tie"], **spec["text"])
    plm = PerceptionLMConfig(text_config=text.to_dict(), vision_config=vision_config(spec["form"], spec["vision_args"]).to_dict(),
                             projector_pooling_ratio=2, vision_use_cls_token=spec["form"] == "1b",
                             image_token_id=tokenizer.image_token_id, video_token_id=tokenizer.video_token_id)
    with tempfile.TemporaryDirectory() as d:
        plm.save_pretrained(d)
        base = AutoConfig.from_pretrained(d)
    base._name_or_path = "facebook/Perception-LM-1B" if spec["form"] == "1b" else "facebook/Perception-LM-8B"
    base.text_config.vocab_size = vocab
    crop = [tokenizer.convert_tokens_to_ids(f"<|reserved_special_token_{k + 2}|>") for k in range(5)]
    return ref.GARConfig(mllm_config=base.to_dict(), prompt_numbers=5, crop_tokens_ids=crop,
                         auto_map={"AutoConfig": "configuration_gar.GARConfig", "AutoModel": "modeling_gar.GARModel",
                                   "AutoModelForCausalLM": "modeling_gar.GARModel"})


# --------------------------------------------------------------------------------------------------------------
# Weights
# --------------------------------------------------------------------------------------------------------------
ROW_SCALE_SIGMA = 0.5


def init_weights(model, seed, tiny):
    """Deterministic init (parameters visited in sorted-name order from one generator).

    tiny=True is shaped for testing: activations O(1) everywhere, LayerScale gammas ~0.5-1 so the blocks matter,
    embeddings N(0,1), o_proj/down_proj scaled up (6/sqrt(fan_in)) so the layers, not the residual copy of
    the input token, dominate the next-token choice (else a tied head just repeats the input token), q/k scaled
    up (3/sqrt(fan_in)) so attention is sharp enough for context and position to matter, and a final RMSNorm weight of ~4 so logits are large (std ~30) and greedy
    steps have clear top-1/top-2 gaps. tiny=False (the 1B-shaped benchmark checkpoint) uses small std-0.02
    weights; only its shapes matter."""
    g = torch.Generator().manual_seed(seed)

    def normal(p, std, mean=0.0):
        with torch.no_grad():
            p.copy_((torch.randn(p.shape, generator=g, dtype=torch.float32) * std + mean).to(p.dtype))

    def fan_in(p):
        return p[0].numel() if p.dim() > 1 else p.numel()

    for name, p in sorted(model.named_parameters(), key=lambda kv: kv[0]):
        if not tiny:
            if name.endswith("norm.weight") or "norm1.weight" in name or "norm2.weight" in name or \
                    name.endswith("layernorm.weight") or "norm_pre.weight" in name:
                normal(p, 0.0, 1.0)
            elif "gamma_" in name:
                normal(p, 0.0, 0.1)
            elif name.endswith(".bias"):
                normal(p, 0.0)
            else:
                normal(p, 0.02)
            continue
        last = name.rsplit(".", 1)[-1]
        if "gamma_" in name:
            with torch.no_grad():
                p.copy_((0.5 + 0.5 * torch.rand(p.shape, generator=g)).to(p.dtype))
        elif name.endswith("language_model.norm.weight"):
            normal(p, 0.4, 4.0)
        elif "norm" in name and last == "weight":
            normal(p, 0.1, 1.0)
        elif last == "bias":
            normal(p, 0.1)
        elif "cls_token" in name:
            normal(p, 1.0)
        elif "pos_embed" in name:
            normal(p, 0.5)
        elif "embed_tokens" in name:
            normal(p, 1.0)
        elif "lm_head" in name:
            # untied head: N(0,1) rows scaled by log-normal factors; heavier-tailed logits give wider top-1/top-2
            # gaps (not done for tied embeddings: large-norm input rows make the model repeat its input token)
            normal(p, 1.0)
            with torch.no_grad():
                scale = torch.exp(ROW_SCALE_SIGMA * torch.randn(p.shape[0], 1, generator=g))
                p.copy_((p.to(torch.float32) * scale).to(p.dtype))
        elif "o_proj" in name or "down_proj" in name:
            normal(p, 6.0 / math.sqrt(fan_in(p)))
        elif "q_proj" in name or "k_proj" in name:  # sharper attention: context and position matter
            normal(p, 3.0 / math.sqrt(fan_in(p)))
        else:  # convs, qkv, proj, fc1/fc2, projector, q/k/v, gate/up
            normal(p, 1.0 / math.sqrt(fan_in(p)))


def build_model(config, seed, tiny, dtype):
    """GARModel built and initialised in `dtype` (bf16 for the full-size checkpoint to halve memory)."""
    prev = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        model = ref.GARModel(config, use_flash_attn=False)
    finally:
        torch.set_default_dtype(prev)
    init_weights(model, seed, tiny)
    return model.eval()


# --------------------------------------------------------------------------------------------------------------
# Checkpoint directory
# --------------------------------------------------------------------------------------------------------------
def write_checkpoint(out_dir, model, tokenizer, spec):
    """The files of a GAR hub checkpoint: config.json + model.safetensors (GARModel.save_pretrained, bf16),
    tokenizer files (copied from Tests/Fixtures/tokenizer), preprocessor/processor/video configs and chat template
    (PerceptionLMProcessor.save_pretrained), generation_config.json (as the PLM converter writes it)."""
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    os.makedirs(out_dir)
    # convert_to_hf.py saves with use_flash_attn=True; the flags are config data only (not used by our reference).
    cfg = model.config
    cfg.mllm_config.use_flash_attn = True
    cfg.mllm_config.text_config.use_flash_attn = True
    model.to(torch.bfloat16).save_pretrained(out_dir)
    image_processor = ref.GARImageProcessorFast(
        vision_input_type="thumb+tile", tile_size=448, max_num_tiles=spec["max_num_tiles"], resample=3,
        image_mean=[0.5, 0.5, 0.5], image_std=[0.5, 0.5, 0.5], size={"height": 448, "width": 448})
    chat_template = open(os.path.join(FIXTURES, "tokenizer", "chat_template.jinja")).read()
    processor = ref.GARProcessor(image_processor, PerceptionLMVideoProcessor(), tokenizer, patch_size=14,
                                 pooling_ratio=2, chat_template=chat_template)
    with tempfile.TemporaryDirectory() as d:
        processor.plm.save_pretrained(d)
        for f in sorted(os.listdir(d)):
            if f in ("preprocessor_config.json", "processor_config.json", "video_preprocessor_config.json"):
                shutil.copy(os.path.join(d, f), os.path.join(out_dir, f))
    # GAR's hub preprocessor_config.json (seen for GAR-8B, GAR-SPEC 8) points at its own processor classes and
    # carries max_frame_tiles; the stock class names are replaced accordingly.
    pp_path = os.path.join(out_dir, "preprocessor_config.json")
    pp = json.load(open(pp_path))
    pp["image_processor_type"] = "PerceptionLMImageProcessorFast"
    pp["processor_class"] = "GARPerceptionLMProcessor"
    pp["auto_map"] = {"AutoImageProcessor": "image_processing_perception_lm_fast.PerceptionLMImageProcessorFast",
                      "AutoProcessor": "processing_gar.GARPerceptionLMProcessor"}
    pp["max_frame_tiles"] = 1
    json.dump(dict(sorted(pp.items())), open(pp_path, "w"), indent=2)
    proc_path = os.path.join(out_dir, "processor_config.json")
    proc = json.load(open(proc_path))
    proc["processor_class"] = "GARPerceptionLMProcessor"
    proc["auto_map"] = {"AutoProcessor": "processing_gar.GARPerceptionLMProcessor"}
    json.dump(dict(sorted(proc.items())), open(proc_path, "w"), indent=2)
    vp_path = os.path.join(out_dir, "video_preprocessor_config.json")
    vp = json.load(open(vp_path))
    vp["processor_class"] = "GARPerceptionLMProcessor"
    json.dump(dict(sorted(vp.items())), open(vp_path, "w"), indent=2)
    for f in sorted(os.listdir(os.path.join(FIXTURES, "tokenizer"))):
        shutil.copy(os.path.join(FIXTURES, "tokenizer", f), os.path.join(out_dir, f))
    text = cfg.mllm_config.text_config
    gen = {"bos_token_id": text.bos_token_id, "do_sample": False, "eos_token_id": text.eos_token_id,
           "transformers_version": PINNED["transformers"]}
    json.dump(gen, open(os.path.join(out_dir, "generation_config.json"), "w"), indent=2)


def load_reference(ckpt_dir):
    """The reference as the eval path loads it, but fp32 (weights upcast from bf16) and eager attention."""
    model = ref.GARModel.from_pretrained(ckpt_dir, use_flash_attn=False, dtype=torch.float32).eval()
    if model.config.mllm_config.text_config.tie_word_embeddings:
        assert model.mllm.lm_head.weight.data_ptr() == model.get_input_embeddings().weight.data_ptr()
    tokenizer = AutoTokenizer.from_pretrained(ckpt_dir)
    image_processor = ref.GARImageProcessorFast.from_pretrained(ckpt_dir)
    assert image_processor.resample == 3 and image_processor.vision_input_type == "thumb+tile"
    chat_template = open(os.path.join(ckpt_dir, "chat_template.jinja")).read()
    processor = ref.GARProcessor(image_processor, PerceptionLMVideoProcessor(), tokenizer, patch_size=14,
                                 pooling_ratio=2, chat_template=chat_template)
    return model, processor


# --------------------------------------------------------------------------------------------------------------
# Synthetic images
# --------------------------------------------------------------------------------------------------------------
def synth_image(width, height, seed, shapes=6, noise_patches=2):
    """Natural-ish RGB uint8 image: smooth 2-D colour gradients, filled ellipses/rectangles/polygons, thin stripes
    and a few small noise patches (so resampling sees edges, smooth areas and high frequencies)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.zeros((height, width, 3), np.float32)
    for c in range(3):
        a, b, ph = rng.uniform(0.5, 3.0), rng.uniform(0.5, 3.0), rng.uniform(0, 6.28)
        img[..., c] = 128 + 90 * np.sin(a * x / width * 3.14 + ph) * np.cos(b * y / height * 3.14)
    im = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(im)
    for _ in range(shapes):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        w, h = int(rng.integers(width // 10, width // 3 + 2)), int(rng.integers(height // 10, height // 3 + 2))
        color = tuple(int(v) for v in rng.integers(0, 256, 3))
        kind = rng.integers(0, 3)
        if kind == 0:
            d.ellipse([x0, y0, x0 + w, y0 + h], fill=color)
        elif kind == 1:
            d.rectangle([x0, y0, x0 + w, y0 + h], fill=color)
        else:
            d.polygon([(x0, y0), (x0 + w, y0 + h // 3), (x0 + w // 2, y0 + h)], fill=color)
    for i in range(0, width, max(width // 12, 4)):
        d.line([(i, 0), (i + height // 3, height // 4)], fill=(20, 20, 20), width=1)
    arr = np.array(im)
    for _ in range(noise_patches):
        pw, ph = min(max(width // 16, 4), 40), min(max(height // 16, 4), 40)
        px, py = int(rng.integers(0, width - pw)), int(rng.integers(0, height - ph))
        arr[py:py + ph, px:px + pw] = rng.integers(0, 256, (ph, pw, 3), dtype=np.uint8)
    return arr


def synth_mask(width, height, seed, kind="ellipse", box=None):
    """Binary mask (uint8 0/255, mode L) with one blob; `box` = (x0, y0, x1, y1) fractions."""
    rng = np.random.default_rng(seed)
    if box is None:
        box = (rng.uniform(0.1, 0.5), rng.uniform(0.1, 0.5), rng.uniform(0.55, 0.9), rng.uniform(0.55, 0.9))
    x0, y0, x1, y1 = box[0] * width, box[1] * height, box[2] * width, box[3] * height
    im = Image.new("L", (width, height), 0)
    d = ImageDraw.Draw(im)
    if kind == "ellipse":
        d.ellipse([x0, y0, x1, y1], fill=255)
    elif kind == "rect":
        d.rectangle([x0, y0, x1, y1], fill=255)
    else:
        d.polygon([(x0, y1), ((x0 + x1) / 2, y0), (x1, y1), ((x0 + x1) / 2, (y0 + y1) / 2)], fill=255)
    return im


def save_png(im, rel):
    path = os.path.join(FIXTURES, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    im.save(path, optimize=True)
    return rel


def load_mask(rel):
    """As the demos read a mask: np.array(Image.open(path).convert("L")).astype(bool)."""
    return np.array(Image.open(os.path.join(FIXTURES, rel)).convert("L")).astype(bool)


def make_images():
    """Writes Tests/Fixtures/images/*; returns the relative paths per case."""
    out = {}
    # a) ordinary RGB, 640x320 -> 2x1 grid with max_num_tiles 4 (T = 3; its uint8 tiles are stored in full)
    out["a"] = dict(image=save_png(Image.fromarray(synth_image(640, 320, 1)), "images/a_rgb_640x320.png"),
                    masks=[save_png(synth_mask(640, 320, 11, "ellipse", (0.55, 0.2, 0.8, 0.75)), "images/a_mask.png")])
    # b) RGBA 1850x480: no arrangement of <= 4 tiles fits, the fallback rule picks 3x1 (downsampling resize)
    rgba = np.concatenate([synth_image(1850, 480, 2, shapes=10, noise_patches=1),
                           np.linspace(0, 255, 1850, dtype=np.float32)[None, :, None].repeat(480, 0).astype(np.uint8)], 2)
    out["b"] = dict(image=save_png(Image.fromarray(rgba, "RGBA"), "images/b_rgba_1850x480.png"),
                    masks=[save_png(synth_mask(1850, 480, 12, "rect", (0.1, 0.3, 0.35, 0.9)), "images/b_mask.png")])
    # c) palette (mode P) PNG 300x400 (portrait) -> converted to RGB through the palette
    pal = Image.fromarray(synth_image(300, 400, 3)).quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=0)
    assert pal.mode == "P"
    out["c"] = dict(image=save_png(pal, "images/c_palette_300x400.png"),
                    masks=[save_png(synth_mask(300, 400, 13, "poly", (0.2, 0.15, 0.7, 0.6)), "images/c_mask.png")])
    # d) RGB 256x192, three overlapping masks for the multi-region prompt
    out["d"] = dict(image=save_png(Image.fromarray(synth_image(256, 192, 4)), "images/d_rgb_256x192.png"),
                    masks=[save_png(synth_mask(256, 192, 14, "ellipse", (0.1, 0.1, 0.55, 0.6)), "images/d_mask0.png"),
                           save_png(synth_mask(256, 192, 15, "rect", (0.4, 0.35, 0.85, 0.9)), "images/d_mask1.png"),
                           save_png(synth_mask(256, 192, 16, "poly", (0.3, 0.05, 0.95, 0.5)), "images/d_mask2.png")])
    # e) RGB 900x500 for the 8B-form checkpoint (max_num_tiles 8)
    out["e"] = dict(image=save_png(Image.fromarray(synth_image(900, 500, 5)), "images/e_rgb_900x500.png"),
                    masks=[save_png(synth_mask(900, 500, 17, "ellipse", (0.05, 0.5, 0.4, 0.95)), "images/e_mask.png")])
    # f) video: 4 frames 160x120 with an object moving right and a second one leaving in frame 2
    frames, m0, m1 = [], [], []
    for f in range(4):
        arr = synth_image(160, 120, 100, shapes=3, noise_patches=1)
        fr = Image.fromarray(arr)
        d = ImageDraw.Draw(fr)
        cx = 30 + 25 * f
        d.ellipse([cx - 15, 50, cx + 15, 85], fill=(230, 60, 40))
        if f != 2:
            d.rectangle([100 - 5 * f, 10, 140 - 5 * f, 40], fill=(40, 70, 220))
        frames.append(save_png(fr, f"images/f_video/frames/frame_{f:03d}.png"))
        a = Image.new("L", (160, 120), 0)
        ImageDraw.Draw(a).ellipse([cx - 15, 50, cx + 15, 85], fill=255)
        m0.append(save_png(a, f"images/f_video/masks/region0_frame_{f:03d}.png"))
        if f != 2:
            b = Image.new("L", (160, 120), 0)
            ImageDraw.Draw(b).rectangle([100 - 5 * f, 10, 140 - 5 * f, 40], fill=255)
            m1.append(save_png(b, f"images/f_video/masks/region1_frame_{f:03d}.png"))
        else:
            m1.append(None)
    out["f"] = dict(frames=frames, masks=[m0, m1])
    out["f"]["annotation"] = write_rle_annotation([m0, m1], "images/f_video/annotation.json")
    return out


def write_rle_annotation(region_mask_paths, rel):
    """VideoRefer-Bench-style annotation: one dict per region (<Prompt0>, <Prompt1>, ...) mapping frame index
    (string) -> {"segmentation": COCO RLE (pycocotools, counts as utf-8 string)}; missing key = not visible."""
    from pycocotools import mask as mask_utils
    ann = []
    for paths in region_mask_paths:
        region = {}
        for f, p in enumerate(paths):
            if p is None:
                continue
            m = np.asfortranarray(load_mask(p).astype(np.uint8))
            rle = mask_utils.encode(m)
            region[str(f)] = {"segmentation": {"size": [int(s) for s in rle["size"]],
                                               "counts": rle["counts"].decode("utf-8")}}
        ann.append(region)
    path = os.path.join(FIXTURES, rel)
    json.dump(ann, open(path, "w"), indent=1)
    # round-trip check: decoding the RLE gives the PNG masks back
    for paths, region in zip(region_mask_paths, json.load(open(path))):
        for f, p in enumerate(paths):
            if p is not None:
                dec = mask_utils.decode({"size": region[str(f)]["segmentation"]["size"],
                                         "counts": region[str(f)]["segmentation"]["counts"].encode()})
                assert np.array_equal(dec.astype(bool), load_mask(p))
    return rel


# --------------------------------------------------------------------------------------------------------------
# Golden writing helpers
# --------------------------------------------------------------------------------------------------------------
ROW_STEP = 31  # strided row subsample of [tiles, tokens, D] tensors: token rows 0, 31, 62, ... (31 is prime,
               # so the rows visit every column of the 32 x 32 patch grid)
PIX_STEP = 16  # strided pixel subsample of 448 x 448 tiles: pixels (0, 16, 32, ...)^2 -> 28 x 28


def sha256(t):
    return hashlib.sha256(t.contiguous().numpy().tobytes()).hexdigest()


def f32(t):
    return t.detach().to(torch.float32).contiguous().clone()


def row_stats(tensors, name, x, full_tiles=()):
    """[T, N, D] tensor -> name.row_sums [T, N] (sum over D in float64, stored float32), name.rows
    [T, ceil(N/31), D] (token rows 0, 31, 62, ...), and name.tileK [N, D] in full for each K in full_tiles."""
    x = x.detach().to(torch.float64)
    tensors[f"{name}.row_sums"] = f32(x.sum(-1))
    tensors[f"{name}.rows"] = f32(x[:, ::ROW_STEP, :])
    for k in full_tiles:
        tensors[f"{name}.tile{k}"] = f32(x[k])


def run_lengths(ids):
    """[[id, count], ...] with consecutive equal ids merged (input_ids have runs of 256 image / crop tokens)."""
    out = []
    for i in ids:
        if out and out[-1][0] == i:
            out[-1][1] += 1
        else:
            out.append([i, 1])
    return out


def greedy_margins(step_logits, generated):
    """Per greedy step: the chosen id is the argmax, and the top-1/top-2 gap relative to max|logit|."""
    rows = []
    for s, logits in enumerate(step_logits):
        top2 = torch.topk(logits, 2)
        assert int(top2.indices[0]) == int(generated[s]), f"step {s}: argmax {int(top2.indices[0])} != {int(generated[s])}"
        gap = float(top2.values[0] - top2.values[1])
        rows.append(dict(step=s, token=int(generated[s]), top1=float(top2.values[0]), top2=float(top2.values[1]),
                         gap=gap, gap_over_max_abs=gap / float(logits.abs().max())))
    return rows


def abbreviate(text, tokens=("<|image|>",) + tuple(f"<|reserved_special_token_{k}|>" for k in range(2, 7))):
    """The chat-template output (apply_chat_template(..., tokenize=False)) with every run of N > 1 copies of a
    crop token (or <|image|>) written as `⟪TOKEN×N⟫` (U+27EA, U+00D7, U+27EB). Expanding the runs gives the exact
    text; the processor then replaces each single <|image|> by 256 per tile and tokenises."""
    original = text
    for t in tokens:
        out, i = [], 0
        while True:
            j = text.find(t, i)
            if j < 0:
                out.append(text[i:])
                break
            n = 0
            while text.startswith(t, j + n * len(t)):
                n += 1
            out.append(text[i:j] + (f"\u27ea{t}\u00d7{n}\u27eb" if n > 1 else t))
            i = j + n * len(t)
        text = "".join(out)
    assert expand_abbreviated(text) == original
    return text


def expand_abbreviated(text):
    return re.sub("\u27ea(.+?)\u00d7(\\d+)\u27eb", lambda m: m.group(1) * int(m.group(2)), text)


# Greedy steps whose full logits are stored (besides step 0); the last generated step is added.
LOGIT_STEPS = [1, 4, 16]
MAX_NEW_TOKENS = 32
MIN_GAP_RATIO = 1e-3
MAX_SEED_ATTEMPTS = 40
SEED_OFFSETS = {"tiny": 0, "tiny-8bform": 1000}


class Capture:
    """Forward hooks on the vision tower: its output (last_hidden_state, CLS included) and, optionally, the
    per-block intermediates of tile 0. Hooks return None, so they never change the forward pass."""

    def __init__(self, model, per_block):
        self.out, self.blocks, self.hooks = {}, {}, []
        tower = model.mllm.model.vision_tower
        self.hooks.append(tower.register_forward_hook(self._tower))
        if per_block:
            timm_model = tower.timm_model
            self.hooks.append(timm_model.norm_pre.register_forward_hook(self._norm_pre))
            for bi, blk in enumerate(timm_model.blocks[:-1]):  # the last block's output is vision_out itself
                self.hooks.append(blk.register_forward_hook(self._block(bi)))

    def _tower(self, module, inputs, output):
        self.out["vision_out"] = output.last_hidden_state.detach().clone()

    def _norm_pre(self, module, inputs, output):
        self.blocks["pos_embedded"] = inputs[0].detach().clone()  # patch + mask embeds, CLS, pos embed
        self.blocks["norm_pre"] = output.detach().clone()

    def _block(self, index):
        def hook(module, inputs, output):
            self.blocks[f"block{index}"] = output.detach().clone()
        return hook

    def remove(self):
        for h in self.hooks:
            h.remove()


def legacy_nearest(id_map, out_h, out_w):
    """GAR-SPEC 15.6: torch's legacy nearest resize, src = min(floor(dst * float32(in / out)), in - 1)."""
    in_h, in_w = id_map.shape
    ys = np.minimum(np.floor(np.arange(out_h, dtype=np.float32) * np.float32(in_h / out_h)).astype(np.int64), in_h - 1)
    xs = np.minimum(np.floor(np.arange(out_w, dtype=np.float32) * np.float32(in_w / out_w)).astype(np.int64), in_w - 1)
    return id_map[ys][:, xs]


def check_mask_tiles(binary_tiles, id_map, grid):
    """The reference's mask tiles equal the spec's shortcut: nearest-resize the id map (thumbnail 448^2 and, for
    thumb+tile, the nch*448 x ncw*448 canvas), split row-major, binary = id != 5 (<NO_Prompt>)."""
    tiles = [legacy_nearest(id_map, 448, 448)]
    if grid is not None:
        ncw, nch = grid
        canvas = legacy_nearest(id_map, nch * 448, ncw * 448)
        tiles += [canvas[r * 448:(r + 1) * 448, c * 448:(c + 1) * 448] for r in range(nch) for c in range(ncw)]
    want = torch.from_numpy(np.stack([(t != 5) for t in tiles]).astype(np.uint8))
    assert torch.equal(want, binary_tiles.to(torch.uint8)), "mask tiles differ from the nearest-resize shortcut"


def naive_roi_align(feature_map, roi, spatial_scale, out=16, sampling=2):
    """GAR-SPEC 6.3 written out (torchvision roi_align, aligned=True) in float64: an independent check of the
    replay vectors. feature_map [C, H, W], roi [5] -> [out*out, C] in bin order ph*out + pw."""
    fm = feature_map.double().numpy()
    C, H, W = fm.shape
    scale = float(np.float32(spatial_scale))
    x1, y1, x2, y2 = [float(v) * scale - 0.5 for v in roi[1:]]
    bw, bh = (x2 - x1) / out, (y2 - y1) / out
    res = np.zeros((out * out, C))
    for ph in range(out):
        for pw in range(out):
            acc = np.zeros(C)
            for iy in range(sampling):
                for ix in range(sampling):
                    y = y1 + ph * bh + (iy + 0.5) * bh / sampling
                    x = x1 + pw * bw + (ix + 0.5) * bw / sampling
                    if y < -1.0 or y > H or x < -1.0 or x > W:
                        continue
                    y, x = max(y, 0.0), max(x, 0.0)
                    yl, xl = int(y), int(x)
                    if yl >= H - 1:
                        yl = yh = H - 1
                        y = float(yl)
                    else:
                        yh = yl + 1
                    if xl >= W - 1:
                        xl = xh = W - 1
                        x = float(xl)
                    else:
                        xh = xl + 1
                    ly, lx = y - yl, x - xl
                    acc += ((1 - ly) * (1 - lx) * fm[:, yl, xl] + (1 - ly) * lx * fm[:, yl, xh]
                            + ly * (1 - lx) * fm[:, yh, xl] + ly * lx * fm[:, yh, xh])
            res[ph * out + pw] = acc / (sampling * sampling)
    return torch.from_numpy(res)


def check_replay(feature_map, replay, only_top_left_tile):
    """The torchvision replay equals the written-out kernel; in image mode (max_num_tiles <= 16) it also only
    reads the top-left grid tile (tile 1) of the merged map (GAR-SPEC 6.3)."""
    fm = feature_map[0]
    spatial_scale = 1.0 / 28.0  # feat_w / (feat_w * 28), as the reference computes it
    want = naive_roi_align(fm, replay["roi"], spatial_scale)
    assert (want - replay["features"].double()).abs().max() <= 1e-5 * max(1.0, want.abs().max().item())
    if only_top_left_tile:
        masked = torch.zeros_like(fm)
        masked[:, :16, :16] = fm[:, :16, :16]
        assert torch.equal(naive_roi_align(masked, replay["roi"], spatial_scale), want), "replay reads beyond tile 1"


def stage_tensors(tok, trace, capture, ids, tiles_u8, generated, *, full_pixels=None, vision_full_tiles=(),
                  mask_full_tiles=(), feature_full_tiles=(1,)):
    """The named golden tensors common to image and video cases (README.md documents each key)."""
    T = tiles_u8.shape[0]
    tensors = {"input_ids": ids.clone(), "generated_ids": generated.clone()}
    if full_pixels is not None:
        tensors["pixel_u8.thumbnail"], tensors["pixel_u8.canvas"] = full_pixels
    tensors["pixel_u8.sub"] = tiles_u8[:, :, ::PIX_STEP, ::PIX_STEP].contiguous()
    tensors["pixel_u8.tile_channel_sums"] = tiles_u8.to(torch.int64).sum((2, 3))
    binary = trace["mask_binary"][:, 0].to(torch.uint8)  # the 3 channels are identical (checked)
    assert torch.equal(trace["mask_binary"][:, 0], trace["mask_binary"][:, 1])
    assert torch.equal(trace["mask_binary"][:, 0], trace["mask_binary"][:, 2])
    tensors["mask_binary.sub"] = binary[:, ::PIX_STEP, ::PIX_STEP].contiguous()
    tensors["mask_binary.patch_counts"] = binary.view(T, 32, 14, 32, 14).sum((2, 4), dtype=torch.int64).to(torch.uint8)
    row_stats(tensors, "mask_embeds", trace["mask_embeds"], mask_full_tiles)
    row_stats(tensors, "vision_out", capture.out["vision_out"], vision_full_tiles)
    for k, v in capture.blocks.items():
        tensors[f"vision_block.{k}.tile0"] = f32(v[0])
    row_stats(tensors, "image_features", trace["image_features"], feature_full_tiles)
    for i, r in enumerate(trace["replays"]):
        tensors[f"replay.{i}.roi"] = f32(r["roi"])
        row_stats(tensors, f"replay.{i}.features", r["features"].unsqueeze(0))
        tensors[f"replay.{i}.features.row_sums"] = tensors[f"replay.{i}.features.row_sums"][0]
        tensors[f"replay.{i}.features.rows"] = tensors[f"replay.{i}.features.rows"][0]
        if i == 0:
            tensors["replay.0.features"] = f32(r["features"])
    emb = trace["inputs_embeds"]
    tensors["inputs_embeds.row_sums"] = f32(emb.to(torch.float64).sum(-1))
    tensors["inputs_embeds.rows"] = f32(emb[::ROW_STEP])
    step_logits = trace["step_logits"]
    steps = sorted(set([s for s in LOGIT_STEPS if s < len(step_logits)] + [len(step_logits) - 1]))
    tensors["logits.step0"] = f32(step_logits[0])
    tensors["logits.steps"] = torch.tensor(steps, dtype=torch.int64)
    tensors["logits.at_steps"] = f32(step_logits[steps])
    margins = greedy_margins(step_logits, generated)
    expected = dict(
        prompt_tokens=emb.shape[0], input_ids_rle=run_lengths(ids.tolist()), num_tiles=T,
        tile_sha256_u8=[sha256(t) for t in tiles_u8], mask_binary_sha256_u8=[sha256(b) for b in binary],
        generated_ids=generated.tolist(), text=ref.decode_text(tok, generated),
        stopped_on_eos=bool(generated[-1] == tok.eos_token_id), margins=margins,
        min_gap_over_max_abs=min(m["gap_over_max_abs"] for m in margins),
        distinct_generated_ids=len(set(generated.tolist())))
    return tensors, expected


def run_image_case(name, model, processor, ckpt_rel, inputs_desc, inputs, *, full_pixels=False, per_block=False,
                   vision_full_tiles=(), mask_full_tiles=(), feature_full_tiles=(1,)):
    """Runs one image-mode case through the reference with tracing and writes goldens/<name>/."""
    tok = processor.tokenizer
    trace = {}
    capture = Capture(model, per_block)
    out = model.generate(pixel_values=inputs["pixel_values"], global_mask_values=inputs["global_mask_values"],
                         aspect_ratios=inputs["aspect_ratios"], bboxes=inputs["bboxes"], input_ids=inputs["input_ids"],
                         attention_mask=inputs["attention_mask"],
                         generation_config=ref.greedy_config(tok, MAX_NEW_TOKENS), trace=trace)
    capture.remove()
    ids = inputs["input_ids"][0]
    ncw, nch = [int(v) for v in inputs["aspect_ratios"][0]]
    # preprocessing: the uint8 tiles; pixel_values = (u8 - 127.5) / 127.5 exactly (checked here)
    thumb, canvas = processor.canvases(inputs["image_pil"])
    tiles_u8 = torch.cat([thumb.unsqueeze(0), processor.image_processor._split(canvas.unsqueeze(0), ncw, nch)[0]])
    assert torch.equal((tiles_u8.to(torch.float32) - 127.5) / 127.5, inputs["pixel_values"]), "normalisation mismatch"
    check_mask_tiles(trace["mask_binary"][:, 0], inputs["id_map"], (ncw, nch))
    for r in trace["replays"]:
        check_replay(trace["merged_map"].unsqueeze(0), r, only_top_left_tile=True)
    tensors, expected = stage_tensors(tok, trace, capture, ids, tiles_u8, out.sequences[0],
                                      full_pixels=(thumb.clone(), canvas.clone()) if full_pixels else None,
                                      vision_full_tiles=vision_full_tiles, mask_full_tiles=mask_full_tiles,
                                      feature_full_tiles=feature_full_tiles)
    tensors["aspect_ratio"] = torch.tensor([ncw, nch], dtype=torch.int64)
    replays = []
    for i, r in enumerate(trace["replays"]):
        k = model.crop_tokens_ids.index(r["crop_token"])
        replays.append(dict(index=i, region=k, crop_token=r["crop_token"], start=r["start"],
                            bbox=list(inputs["bboxes"][0][str(r["crop_token"])])))
    expected.update(aspect_ratio=[ncw, nch], merged_map_shape=list(trace["merged_map"].shape), replays=replays,
                    raw_prompt_abbrev=abbreviate(inputs["raw_prompt"]))
    manifest = dict(case=name, mode="image", checkpoint=ckpt_rel, inputs=inputs_desc, max_new_tokens=MAX_NEW_TOKENS,
                    expected=expected, tensors=describe_tensors(tensors))
    write_case(name, manifest, tensors)
    return manifest


def run_video_case(name, model, processor, ckpt_rel, inputs_desc, inputs):
    """Runs the video-protocol case (one vanilla tile per frame, per-(region, frame) replay spans)."""
    tok = processor.tokenizer
    trace = {}
    capture = Capture(model, per_block=False)
    out = model.generate_video(pixel_values=inputs["pixel_values"], global_mask_values=inputs["global_mask_values"],
                               input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"],
                               spans=inputs["spans"], generation_config=ref.greedy_config(tok, MAX_NEW_TOKENS),
                               trace=trace)
    capture.remove()
    ids = inputs["input_ids"][0]
    tiles_u8 = torch.stack([processor.canvases(fr)[0] for fr in inputs["frames_pil"]])
    assert torch.equal((tiles_u8.to(torch.float32) - 127.5) / 127.5, inputs["pixel_values"]), "normalisation mismatch"
    F = tiles_u8.shape[0]
    for f in range(F):
        check_mask_tiles(trace["mask_binary"][f:f + 1, 0], inputs["id_maps"][f], None)
    frame_maps = trace["image_features"].view(F, 16, 16, -1).permute(0, 3, 1, 2)
    for r in trace["replays"]:
        check_replay(frame_maps[r["frame"]:r["frame"] + 1], r, only_top_left_tile=False)
    tensors, expected = stage_tensors(tok, trace, capture, ids, tiles_u8, out.sequences[0],
                                      feature_full_tiles=(0, 1))
    spans = [dict(index=i, region=r["region"], frame=r["frame"], start=r["start"], bbox=list(r["bbox"]))
             for i, r in enumerate(trace["replays"])]
    expected.update(visible=inputs["visible"], spans=spans, raw_prompt_abbrev=abbreviate(inputs["raw_prompt"]))
    manifest = dict(case=name, mode="video", checkpoint=ckpt_rel, inputs=inputs_desc, max_new_tokens=MAX_NEW_TOKENS,
                    expected=expected, tensors=describe_tensors(tensors))
    write_case(name, manifest, tensors)
    return manifest


def describe_tensors(tensors):
    return {k: dict(dtype=str(v.dtype).replace("torch.", ""), shape=list(v.shape)) for k, v in sorted(tensors.items())}


def write_case(name, manifest, tensors):
    d = os.path.join(FIXTURES, "goldens", name)
    os.makedirs(d, exist_ok=True)
    save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(d, "tensors.safetensors"),
              metadata={"source": f"Tests/Fixtures/generate/generate.py case {name}"})  # one key: the
    # safetensors writer orders metadata keys unpredictably, and the files must be byte-identical across runs
    with open(os.path.join(d, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=False)
        f.write("\n")
    m = manifest["expected"]
    print(f"  {name}: L={m['prompt_tokens']} tiles={m['num_tiles']} generated={len(m['generated_ids'])} "
          f"distinct={m['distinct_generated_ids']} min_gap/max|logit|={m['min_gap_over_max_abs']:.4f} "
          f"text={m['text'][:60]!r}")
    if m["min_gap_over_max_abs"] < MIN_GAP_RATIO:
        raise CaseRejected(f"case {name}: a greedy step has top-1/top-2 gap below {MIN_GAP_RATIO} of max|logit|")
    if len(m["generated_ids"]) < 24:
        raise CaseRejected(f"case {name}: fewer than 24 greedy steps")
    if m["distinct_generated_ids"] < len(m["generated_ids"]) // 3:
        raise CaseRejected(f"case {name}: generated ids barely vary")


# --------------------------------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------------------------------
class CaseRejected(Exception):
    """A case's greedy run is not a good golden (a near-tie step, too few steps, or barely varying ids)."""


def open_image(rel):
    return Image.open(os.path.join(FIXTURES, rel))  # not converted: the processor's convert_to_rgb does it


def run_single(case, rel, model, processor, desc, **kw):
    image = open_image(desc["image"])
    inputs = ref.single_region_inputs(processor, image, load_mask(desc["masks"][0]))
    inputs["image_pil"] = image
    d = dict(kind="describe", image=desc["image"], image_mode=image.mode, image_size=list(image.size),
             masks=desc["masks"], prompt_token="<Prompt1>", region_order=[1])
    return run_image_case(case, model, processor, rel, d, inputs, **kw)


MULTI_QUESTION = "Is <Prompt0> touching <Prompt2>? Décris aussi <Prompt1> — 猫と犬 🐕‍🦺 naïve café"
VIDEO_QUESTION = "What does <Prompt0> do while <Prompt1> disappears?"


def cases_tiny(rel, model, processor, images):
    """Cases a, b, c, d, f on gar-tiny."""
    manifests = [
        run_single("a_describe_rgb", rel, model, processor, images["a"], full_pixels=True, per_block=True,
                   vision_full_tiles=(0,), feature_full_tiles=(0, 1)),
        run_single("b_describe_fallback_rgba", rel, model, processor, images["b"]),
        run_single("c_describe_palette", rel, model, processor, images["c"]),
    ]
    # d) multi-region with a non-ASCII question naming <Prompt0>..<Prompt2>
    desc = images["d"]
    image = open_image(desc["image"])
    inputs = ref.multi_region_inputs(processor, image, [load_mask(p) for p in desc["masks"]], MULTI_QUESTION)
    inputs["image_pil"] = image
    d = dict(kind="ask", image=desc["image"], image_mode=image.mode, image_size=list(image.size), masks=desc["masks"],
             question=MULTI_QUESTION, region_order=inputs["region_order"])
    manifests.append(run_image_case("d_ask_multi_region", model, processor, rel, d, inputs))
    # the mask-id map golden (GAR-SPEC 3.5): H x W ids, first region wins, 5 = <NO_Prompt>
    save_file({"id_map": torch.from_numpy(inputs["id_map"].astype(np.uint8))},
              os.path.join(FIXTURES, "goldens", "d_ask_multi_region", "id_map.safetensors"))
    # f) video protocol v1: one vanilla tile per frame, through the same processors in "vanilla" mode
    vproc = ref.GARProcessor(ref.GARImageProcessorFast.from_pretrained(os.path.join(FIXTURES, rel),
                                                                       vision_input_type="vanilla"),
                             PerceptionLMVideoProcessor(), processor.tokenizer, patch_size=14, pooling_ratio=2,
                             chat_template=processor.plm.chat_template)
    vdesc = images["f"]
    frames = [open_image(p) for p in vdesc["frames"]]
    region_masks = [[load_mask(p) if p is not None else None for p in paths] for paths in vdesc["masks"]]
    vin = ref.video_inputs(vproc, frames, region_masks, VIDEO_QUESTION)
    vin["frames_pil"] = frames
    d = dict(kind="ask-video", frames=vdesc["frames"], frame_size=list(frames[0].size), masks=vdesc["masks"],
             annotation=vdesc["annotation"], question=VIDEO_QUESTION, region_order=[0, 1])
    manifests.append(run_video_case("f_video_two_regions", model, vproc, rel, d, vin))
    return manifests


def cases_8bform(rel, model, processor, images):
    """Case e on gar-tiny-8bform."""
    return [run_single("e_describe_8bform", rel, model, processor, images["e"], vision_full_tiles=(0,))]


# --------------------------------------------------------------------------------------------------------------
# Unit goldens
# --------------------------------------------------------------------------------------------------------------
SPEC_GRID_TABLE = [(100, 100), (448, 448), (640, 480), (480, 640), (1024, 770), (640, 427), (1280, 720),
                   (1920, 1080), (2048, 1365), (2000, 500), (4032, 3024), (896, 448)]
EXTRA_GRID_SIZES = [(1, 1), (447, 449), (449, 447), (896, 896), (897, 896), (1792, 448), (1793, 448),
                    (448, 1793), (3000, 100), (100, 3000), (1850, 480), (900, 500), (320, 160), (640, 320),
                    (300, 400), (256, 192), (160, 120), (2688, 1792), (5000, 5000), (1000, 950), (7, 900)]


def unit_goldens():
    d = os.path.join(FIXTURES, "goldens", "unit")
    os.makedirs(d, exist_ok=True)
    # 1) tile grids from the reference processor's own functions
    grids = []
    for M in (2, 4, 8, 16, 36):
        ip = ref.GARImageProcessorFast(max_num_tiles=M, tile_size=448)
        for (w, h) in SPEC_GRID_TABLE + EXTRA_GRID_SIZES:
            ncw, nch, fb = ip.tile_grid(w, h)
            grids.append(dict(width=w, height=h, max_num_tiles=M, ncw=ncw, nch=nch, fallback=fb))
    spec_table = {(100, 100): {8: (2, 2), 16: (4, 4), 36: (6, 6)}, (448, 448): {8: (2, 2), 16: (4, 4), 36: (6, 6)},
                  (640, 480): {8: (3, 2), 16: (4, 3), 36: (7, 5)},
                  (480, 640): {8: (2, 3), 16: (3, 4), 36: (5, 7)}, (1024, 770): {8: (3, 2), 16: (4, 4)},
                  (640, 427): {8: (3, 2), 16: (5, 3)}, (1280, 720): {8: (4, 2), 16: (5, 3), 36: (8, 4)},
                  (1920, 1080): {8: (3, 2), 16: (5, 3), 36: (8, 4)}, (2048, 1365): {8: (3, 2), 16: (3, 2)},
                  (2000, 500): {8: (4, 1), 16: (8, 2), 36: (12, 3)}, (4032, 3024): {8: (2, 2), 16: (4, 3), 36: (4, 3)},
                  (896, 448): {8: (4, 2), 16: (5, 3), 36: (8, 4)}}
    checked = 0
    for g in grids:
        want = spec_table.get((g["width"], g["height"]), {}).get(g["max_num_tiles"])
        if want is not None:
            assert (g["ncw"], g["nch"]) == want, f"GAR-SPEC 3.2 table disagrees with the reference: {g} vs {want}"
            checked += 1
    assert checked == sum(len(v) for v in spec_table.values()) == 33
    order16 = [list(x) for v in ref.GARImageProcessorFast(max_num_tiles=16)._find_supported_aspect_ratios().values()
               for x in v]
    json.dump({"tile_size": 448, "note": "ncw x nch = columns x rows; fallback = no arrangement fits without "
               "downsampling (_find_closest_aspect_ratio used)", "candidate_order_max16": order16, "cases": grids},
              open(os.path.join(d, "tile_grids.json"), "w"), indent=1)
    # 2) llama3 inv_freq
    from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS
    inv = {}
    for key, spec in (("gar_1b", SPECS["full"]), ("gar_tiny", SPECS["tiny"]), ("gar_tiny_8bform", SPECS["tiny-8bform"])):
        cfg = LlamaConfig(rope_theta=500000.0, vocab_size=16, **spec["text"])
        values, scaling = ROPE_INIT_FUNCTIONS["llama3"](cfg, "cpu")
        values = values.to(torch.float32)
        inv[key] = dict(head_dim=cfg.hidden_size // cfg.num_attention_heads, rope_theta=cfg.rope_theta,
                        rope_scaling=spec["text"]["rope_scaling"], attention_scaling=scaling,
                        inv_freq=[float(v) for v in values],
                        inv_freq_f32_bits=[int(b) for b in values.view(torch.int32).tolist()])
    spec_1b = [1.0, 6.636012793e-01, 4.403666258e-01, 2.922278345e-01, 1.939227581e-01, 1.286873817e-01,
               8.539710194e-02, 5.666961893e-02, 3.760603070e-02, 2.495540865e-02, 1.656044088e-02, 1.098952908e-02,
               7.292665076e-03, 4.839421250e-03, 3.211446106e-03, 1.290548011e-03, 4.295567051e-04, 9.708286234e-05,
               1.946163866e-05, 1.291476747e-05, 8.570255886e-06, 5.687232260e-06, 3.774054449e-06, 2.504467147e-06,
               1.661967417e-06, 1.102883630e-06, 7.318749340e-07, 4.856731266e-07, 3.222932889e-07, 2.138742303e-07,
               1.419272024e-07, 9.418306490e-08]
    got = inv["gar_1b"]["inv_freq"]
    # the spec prints 10 significant digits of each float32
    assert len(got) == 32 and all(abs(a - b) <= 1e-9 * abs(b) for a, b in zip(got, spec_1b)), \
        "GAR-SPEC 7.1 inv_freq table disagrees with transformers"
    json.dump(inv, open(os.path.join(d, "llama3_inv_freq.json"), "w"), indent=1)
    # 3) PE 2-D RoPE tables from timm's own module (real 1B/8B head dims, and the two tiny ones)
    import timm
    tensors, meta = {}, {}
    rows = [0, 1, 2, 31, 32, 33, 100, 511, 512, 1000, 1023]
    for key, form, extra in (("pe_1b", "1b", {}), ("pe_8b", "8b", {}),
                             ("pe_tiny", "1b", SPECS["tiny"]["vision_args"]),
                             ("pe_tiny_8bform", "8b", SPECS["tiny-8bform"]["vision_args"])):
        arch, real = REAL_VISION[form]
        args = dict(real, **COMMON_VISION_ARGS)
        args.update(extra)
        args["depth"] = 1  # the table does not depend on depth; keeps the instantiation cheap
        m = timm.create_model(arch, pretrained=False, num_classes=0, **args)
        table = m.rope.get_embed().to(torch.float32)  # [1024, 2*head_dim] = [sin | cos]
        hd = table.shape[1] // 2
        # GAR-SPEC 4.4, checked here: b_i = 10000^(-i/nb), nb = hd/4; angles [x*b | y*b] with x = col + offset,
        # y = row + offset, each repeated twice (interleaved pairs); columns [sin | cos].
        nb, off = hd // 4, float(m.rope.grid_offset)
        bands = 1.0 / (10000.0 ** (np.arange(nb) / nb))
        p = np.arange(1024)
        ang = np.repeat(np.concatenate([(p[:, None] % 32 + off) * bands, (p[:, None] // 32 + off) * bands], 1), 2, 1)
        formula = np.concatenate([np.sin(ang), np.cos(ang)], 1)
        assert np.abs(formula - table.double().numpy()).max() < 2e-6, "PE RoPE layout differs from GAR-SPEC 4.4"
        tensors[f"{key}.rows"] = table[rows].contiguous()
        tensors[f"{key}.row_sums"] = table.to(torch.float64).sum(-1).to(torch.float32)
        meta[key] = dict(architecture=arch, head_dim=hd, grid_offset=float(m.rope.grid_offset),
                         num_prefix_tokens=int(m.num_prefix_tokens), shape=list(table.shape),
                         sha256_f32=sha256(table),
                         layout="[1024, 2*head_dim]: row p = patch row*32+col; columns [sin | cos], head_dim each; "
                                "column 2j and 2j+1 hold angle j; angle j = (col+offset)*b_j for j < head_dim/4, "
                                "(row+offset)*b_(j-head_dim/4) after; b_i = 10000^(-i/(head_dim/4)); float32")
        del m
    tensors["rows"] = torch.tensor(rows, dtype=torch.int64)
    save_file(tensors, os.path.join(d, "pe_rope.safetensors"))
    json.dump(meta, open(os.path.join(d, "pe_rope.json"), "w"), indent=1)


# --------------------------------------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", choices=["tiny", "full", "full-8b"], default="tiny")
    ap.add_argument("--out", help="output directory for --size full / full-8b")
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args()
    versions = check_versions()
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    tokenizer = AutoTokenizer.from_pretrained(os.path.join(FIXTURES, "tokenizer"))
    print("versions:", versions)

    if args.size in ("full", "full-8b"):
        if not args.out:
            sys.exit("--out DIR is required for --size full / full-8b (never inside the repository)")
        spec = SPECS[args.size]
        config = build_config(spec, tokenizer)
        if args.size == "full-8b":  # config files only: 9.8 B parameters do not fit this machine's budget
            os.makedirs(args.out, exist_ok=True)
            config.save_pretrained(args.out)
            print(f"wrote {args.out}/config.json (GAR-8B shapes; no weights)")
            return
        model = build_model(config, args.seed, tiny=False, dtype=torch.bfloat16)
        write_checkpoint(args.out, model, tokenizer, spec)
        print(f"wrote {args.out}: {sum(p.numel() for p in model.parameters()):,} parameters (bf16)")
        return

    images = make_images()
    manifests, seeds = [], {}
    for key, run in (("tiny", cases_tiny), ("tiny-8bform", cases_8bform)):
        # Random weights give random logits: a seed is kept only when every golden greedy step of its cases has
        # a clear top-1/top-2 gap and the generated ids vary; otherwise the next seed is tried (deterministic).
        spec = SPECS[key]
        for attempt in range(MAX_SEED_ATTEMPTS):
            seed = args.seed + SEED_OFFSETS[key] + attempt
            model = build_model(build_config(spec, tokenizer), seed, tiny=True, dtype=torch.float32)
            write_checkpoint(os.path.join(FIXTURES, spec["out"]), model, tokenizer, spec)
            print(f"wrote {spec['out']} (seed {seed}): {sum(p.numel() for p in model.parameters()):,} parameters")
            model, processor = load_reference(os.path.join(FIXTURES, spec["out"]))
            try:
                manifests += run(spec["out"], model, processor, images)
                seeds[key] = seed
                break
            except CaseRejected as e:
                print(f"  rejected seed {seed}: {e}")
        else:
            sys.exit(f"no seed in {MAX_SEED_ATTEMPTS} attempts gives good goldens for {key}")
    unit_goldens()
    index = dict(versions=versions, base_seed=args.seed, checkpoint_seeds=seeds, cases=[m["case"] for m in manifests])
    json.dump(index, open(os.path.join(FIXTURES, "goldens", "index.json"), "w"), indent=1)
    print("done")


if __name__ == "__main__":
    main()
