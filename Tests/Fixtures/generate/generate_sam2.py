#!/usr/bin/env python3
"""SAM 2.1 image-mode goldens (issue 13, phase 1) from the pinned transformers reference.

Writes, for a TINY config (committed) or the real hiera-tiny shape (`--size hiera-tiny`, not committed):

  <out>/sam2-tiny/config.json, model.safetensors   `Sam2Model.save_pretrained` of seeded random weights
  <out>/goldens/sam2/<case>/manifest.json + tensors.safetensors

Cases (one synthetic image, the processor's preprocessing, `Sam2Model.forward`, `post_process_masks`):
  box          a box prompt, multimask_output=True
  clicks       a positive and a negative click, multimask_output=True
  click_single one positive click, multimask_output=False (the stability-based single-mask selection)
  box_click    a box and a click together (the points are not padded then), multimask_output=True
  mask         a mask prompt alone (low-res logits of the box case, [1,1,4E,4E]), multimask_output=False

Every case stores the named intermediates (pixel values, Hiera block and stage outputs, FPN levels,
image embeddings, sparse/dense prompt embeddings, decoder outputs, upscaled binary masks) so the
Swift side can find the first divergence. Deterministic: fixed seeds, deterministic algorithms,
one thread. Nothing is downloaded.

    /work/venv/ref/bin/python Tests/Fixtures/generate/generate_sam2.py            # tiny, into Tests/Fixtures
    /work/venv/ref/bin/python Tests/Fixtures/generate/generate_sam2.py --size hiera-tiny --out /tmp/sam2-hiera-tiny
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import transformers
from safetensors.numpy import save_file
from transformers import Sam2Config, Sam2ImageProcessorFast, Sam2Model, Sam2Processor

PINNED = {"transformers": "4.56.2", "numpy": "1.26.4"}
SEED = 20261206

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.dirname(HERE)


def tiny_config():
    """Small dims, few blocks, 128² input; every code path of hiera-tiny is still taken
    (q-pool stages, windowed attention with padding, a global block, FPN top-down)."""
    backbone = dict(
        hidden_size=8, num_attention_heads=1, image_size=[128, 128],
        blocks_per_stage=[1, 1, 3, 1], embed_dim_per_stage=[8, 16, 32, 64],
        num_attention_heads_per_stage=[1, 1, 2, 4], window_size_per_stage=[8, 4, 6, 3],
        global_attention_blocks=[3], window_positional_embedding_background_size=[7, 7],
    )
    vision = dict(backbone_config=backbone, backbone_channel_list=[64, 32, 16, 8],
                  backbone_feature_sizes=[[32, 32], [16, 16], [8, 8]], fpn_hidden_size=32)
    prompt = dict(hidden_size=32, image_size=128, patch_size=16, mask_input_channels=16)
    # Stability threshold 0.786 (real: 0.98): mask (mask-0 stability 0.789) keeps mask 0, click_single (0.783)
    # switches to the best multimask output, so both branches of the rule are checked.
    decoder = dict(hidden_size=32, mlp_dim=64, num_hidden_layers=2, num_attention_heads=2, iou_head_hidden_dim=32,
                   dynamic_multimask_stability_thresh=0.786)
    return Sam2Config(vision_config=vision, prompt_encoder_config=prompt, mask_decoder_config=decoder)


def randomize(model, gen):
    """Seeded random values for every parameter and buffer (the default init zeroes biases,
    position embeddings and the no-memory embedding, which would hide bugs)."""
    with torch.no_grad():
        for mname, module in model.named_modules():
            for pname, p in module.named_parameters(recurse=False):
                if pname == "bias":
                    p.copy_(0.1 * torch.randn(p.shape, generator=gen))
                elif isinstance(module, torch.nn.LayerNorm):
                    p.copy_(1 + 0.1 * torch.randn(p.shape, generator=gen))
                elif isinstance(module, (torch.nn.Linear, torch.nn.Conv2d)):
                    p.copy_(torch.randn(p.shape, generator=gen) / p[0].numel() ** 0.5)
                elif isinstance(module, torch.nn.ConvTranspose2d):  # [in, out, k, k]
                    p.copy_(torch.randn(p.shape, generator=gen) / p.shape[0] ** 0.5)
                else:  # embeddings, position embeddings, the no-memory embedding
                    p.copy_(0.5 * torch.randn(p.shape, generator=gen))
        pe = torch.randn(model.shared_image_embedding.positional_embedding.shape, generator=gen)
        model.shared_image_embedding.positional_embedding.copy_(pe)
        model.prompt_encoder.shared_embedding.positional_embedding.copy_(pe)


def synthetic_image(h, w, rng):
    """A smooth RGB scene: gradient background, a bright ellipse and a dark rectangle, light noise."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.stack([60 + 80 * x / w, 90 + 60 * y / h, 120 + 40 * (x + y) / (w + h)], axis=-1)
    ell = ((x - 0.62 * w) / (0.2 * w)) ** 2 + ((y - 0.45 * h) / (0.25 * h)) ** 2 < 1
    img[ell] = [230, 200, 60]
    img[int(0.6 * h):int(0.85 * h), int(0.1 * w):int(0.35 * w)] = [30, 40, 90]
    img += rng.normal(0, 6, img.shape)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def f32(t):
    return np.ascontiguousarray(t.detach().to(torch.float32).cpu().numpy())


def channels_last(t):
    """[1, C, H, W] → [H·W, C] (the Swift layout: tokens are rows)."""
    t = t[0]
    return f32(t.permute(1, 2, 0).reshape(-1, t.shape[0]))


def write_golden(out, name, tensors, manifest):
    case_dir = os.path.join(out, "goldens", "sam2", name)
    os.makedirs(case_dir, exist_ok=True)
    save_file(tensors, os.path.join(case_dir, "tensors.safetensors"), metadata={"format": "np"})
    with open(os.path.join(case_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")


def pinned_deterministic_torch():
    """Exits unless the pinned versions are installed; seeds torch and makes it deterministic, one thread (every
    SAM 2 generator starts with this)."""
    for mod, want in PINNED.items():
        have = sys.modules[mod].__version__ if mod in sys.modules else __import__(mod).__version__
        if have != want:
            sys.exit(f"error: {mod} {have} is not the pinned {want} (Tests/Fixtures/README.md)")
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", choices=["tiny", "hiera-tiny"], default="tiny")
    ap.add_argument("--out", default=FIXTURES)
    args = ap.parse_args()
    pinned_deterministic_torch()
    gen = torch.Generator().manual_seed(SEED)
    rng = np.random.default_rng(SEED)

    if args.size == "tiny":
        config, ckpt_name, image_hw = tiny_config(), "sam2-tiny", (100, 160)
    else:
        config, ckpt_name, image_hw = Sam2Config(), "sam2-hiera-tiny", (540, 720)
    config._attn_implementation = "eager"
    model = Sam2Model(config).eval()
    randomize(model, gen)
    ckpt_dir = os.path.join(args.out, ckpt_name)
    model.save_pretrained(ckpt_dir, safe_serialization=True)
    # Reload: the goldens come from the checkpoint as written (ties and ignored keys applied).
    model = Sam2Model.from_pretrained(ckpt_dir, attn_implementation="eager").eval()

    side = config.prompt_encoder_config.image_size
    processor = Sam2Processor(image_processor=Sam2ImageProcessorFast(size={"height": side, "width": side},
                                                                    mask_size={"height": side // 4, "width": side // 4}))
    image = synthetic_image(*image_hw, rng)
    H, W = image_hw
    box = [0.45 * W, 0.2 * H, 0.85 * W, 0.72 * H]
    box = [round(v, 1) for v in box]
    clicks = [[round(0.62 * W, 1), round(0.45 * H, 1)], [round(0.2 * W, 1), round(0.7 * H, 1)]]

    # Image-level intermediates (shared by all cases).
    enc = processor(images=image, return_tensors="pt")
    pixel_values = enc["pixel_values"]
    common = {"image_u8": np.ascontiguousarray(image), "pixel_values": f32(pixel_values[0])}
    block_outputs = []
    hooks = [blk.register_forward_hook(lambda m, i, o: block_outputs.append(o)) for blk in model.vision_encoder.backbone.blocks]
    with torch.no_grad():
        backbone = model.vision_encoder.backbone(pixel_values)
        vision = model.vision_encoder(pixel_values)
        image_embeddings = model.get_image_embeddings(pixel_values)
        image_pe = model.get_image_wide_positional_embeddings()
    for h in hooks:
        h.remove()
    nblocks = len(model.vision_encoder.backbone.blocks)
    for i, o in enumerate(block_outputs[:nblocks]):
        common[f"hiera.block{i}"] = f32(o[0].reshape(-1, o.shape[-1]))
    for i, o in enumerate(backbone.intermediate_hidden_states):
        common[f"hiera.stage{i}"] = f32(o[0].reshape(-1, o.shape[-1]))
    for i, o in enumerate(vision.fpn_hidden_states):
        common[f"fpn.level{i}"] = channels_last(o)
    for i, o in enumerate(image_embeddings):
        common[f"image_embeddings.{i}"] = channels_last(o)
    common["image_positional_embeddings"] = channels_last(image_pe)
    write_golden(args.out, "image", common, {
        "case": "image", "checkpoint": ckpt_name, "seed": SEED,
        "inputs": {"image_height": H, "image_width": W},
        "expected": {"num_blocks": len(model.vision_encoder.backbone.blocks)},
        "versions": {"transformers": transformers.__version__, "torch": torch.__version__, "numpy": np.__version__},
    })

    def run_case(name, points=None, labels=None, boxes=None, masks=None, multimask=True, keep_logits=False):
        kwargs = {}
        if points is not None:
            kwargs["input_points"] = [[points]]
            kwargs["input_labels"] = [[labels]]
        if boxes is not None:
            kwargs["input_boxes"] = [[boxes]]
        inputs = processor(images=image, return_tensors="pt", **kwargs)
        assert torch.equal(inputs["pixel_values"], pixel_values)
        ip, il, ib = inputs.get("input_points"), inputs.get("input_labels"), inputs.get("input_boxes")
        with torch.no_grad():
            out = model(pixel_values=pixel_values, input_points=ip, input_labels=il, input_boxes=ib,
                        input_masks=masks, multimask_output=multimask)
            # The prompt encoder as forward() calls it (a point-less, box-less prompt gets one
            # not-a-point token, label -1).
            pp, pl = ip, il
            if pp is None and ib is None:
                pp, pl = torch.zeros(1, 1, 1, 2), -torch.ones(1, 1, 1, dtype=torch.int32)
            sparse, dense = model.prompt_encoder(input_points=pp, input_labels=pl, input_boxes=ib, input_masks=masks)
            # All four mask tokens before the multimask selection: token 0 (single-mask output with
            # the stability rule switched off) and tokens 1-3 (multimask output).
            decoder_args = dict(image_embeddings=image_embeddings[-1], image_positional_embeddings=image_pe,
                                sparse_prompt_embeddings=sparse, dense_prompt_embeddings=dense,
                                high_resolution_features=image_embeddings[:-1])
            model.mask_decoder.dynamic_multimask_via_stability = False
            mask0, iou0, _, _ = model.mask_decoder(multimask_output=False, **decoder_args)
            model.mask_decoder.dynamic_multimask_via_stability = config.mask_decoder_config.dynamic_multimask_via_stability
            masks123, iou123, _, _ = model.mask_decoder(multimask_output=True, **decoder_args)
            all_masks, all_iou = torch.cat([mask0, masks123], dim=2), torch.cat([iou0, iou123], dim=2)
            d = config.mask_decoder_config
            area_i = (mask0 > d.dynamic_multimask_stability_delta).sum().item()
            area_u = (mask0 > -d.dynamic_multimask_stability_delta).sum().item()
            stability = area_i / area_u if area_u > 0 else 1.0
        upscaled = processor.post_process_masks(out.pred_masks, inputs["original_sizes"], binarize=False)[0]
        binary = processor.post_process_masks(out.pred_masks, inputs["original_sizes"])[0]
        tensors = {
            "sparse_embeddings": f32(sparse[0, 0]),
            "dense_embeddings": channels_last(dense),
            "pred_masks": f32(out.pred_masks[0, 0]),
            "iou_scores": f32(out.iou_scores[0, 0]),
            "object_score_logits": f32(out.object_score_logits[0, 0]),
            "multimask_decoder_masks": f32(all_masks[0, 0]),
            "multimask_decoder_iou": f32(all_iou[0, 0]),
            "binary_masks": np.ascontiguousarray(binary[0].numpy().astype(np.uint8)),
        }
        if keep_logits:  # the upscaled float logits, once (size budget)
            tensors["upscaled_logits"] = f32(upscaled[0])
        if masks is not None:
            tensors["input_masks"] = f32(masks[0, 0])
        manifest = {
            "case": name, "checkpoint": ckpt_name, "seed": SEED, "image_golden": "image",
            "inputs": {
                "image_height": H, "image_width": W,
                "points": points, "labels": labels, "box": boxes, "mask_prompt": masks is not None,
                "multimask_output": multimask,
                "normalized_points": None if ip is None else ip[0, 0].tolist(),
                "normalized_box": None if ib is None else ib[0, 0].tolist(),
            },
            "expected": {
                "iou_scores": out.iou_scores[0, 0].tolist(),
                "object_score_logits": out.object_score_logits[0, 0].tolist(),
                "mask_pixels": [int(m.sum()) for m in binary[0]],
                "min_abs_upscaled_logit": float(upscaled[0].abs().min()),
                "mask0_stability": stability,
            },
            "versions": {"transformers": transformers.__version__, "torch": torch.__version__, "numpy": np.__version__},
        }
        write_golden(args.out, name, tensors, manifest)
        print(f"{name}: iou {manifest['expected']['iou_scores']} pixels {manifest['expected']['mask_pixels']}")
        return out

    box_out = run_case("box", boxes=box, keep_logits=True)
    run_case("clicks", points=clicks, labels=[1, 0])
    run_case("click_single", points=clicks[:1], labels=[1], multimask=False)
    run_case("box_click", points=clicks[1:], labels=[1], boxes=box)
    best = int(box_out.iou_scores[0, 0].argmax())
    run_case("mask", masks=box_out.pred_masks[:, 0, best:best + 1].clone(), multimask=False)


if __name__ == "__main__":
    main()
