#!/usr/bin/env python3
"""SAM 2.1 video-mode goldens (issue 13, phase 2) from the pinned transformers `Sam2VideoModel`.

Writes, for a TINY config (committed) or the real hiera-tiny shape (`--size hiera-tiny`, not committed):

  <out>/sam2video-<size>/config.json, model.safetensors   `Sam2VideoModel.save_pretrained` of seeded
                                                           random weights (BF16-valued, stored as BF16)
  <out>/goldens/sam2/video[-hiera-tiny]/manifest.json + tensors.safetensors

Frames: 8 synthetic RGB frames (a yellow ellipse drifting right, a dark rectangle moving right and
leaving the view from frame 6 on), stored as uint8 (`frames`, [8, H, W, 3]). The object-score head's
output layer is rescaled and shifted (OBJECT_SCORE_SCALE / _SHIFT) so that tracked frames get
object scores on both sides of 0 and the occlusion branches (−1024 masks, no-object pointer,
occlusion embedding) run end to end.

Two propagation cases, each through the processor's inference session with this call sequence (the
one `SAM2VideoPredictor.track` reproduces): for each prompt by frame ascending,
`processor.add_inputs_to_inference_session(…)` then `model(session, frame_idx=f)`; then
`propagate_in_video_iterator(session, start_frame_idx=first)` and
`propagate_in_video_iterator(session, start_frame_idx=first − 1, reverse=True)`:

  case "a": object 1 by a box, object 2 by one click, both on the middle frame 4;
  case "b": object 1 by a mask on frame 2, object 2 by a box on frame 5 (forward tracking of
            object 2 before its prompt reads the prompted frame's memory).

Stored per case: the final low-res mask logits of every (frame, object) (`<case>.frame<t>.pred_masks`,
[objects, 4E, 4E]) and object-score logits (`<case>.object_score_logits`, [frames, objects]); for
case "a" also the named intermediates of the components (every memory-encoder call, every
memory-attention call, every object pointer) with the frame and object they belong to, so the
Swift side can test each component on the reference's own inputs (unprefixed names).
Reuses generate_sam2.py's helpers (seeds, randomisation, layout). Nothing is downloaded.

    /work/venv/ref/bin/python Tests/Fixtures/generate/generate_sam2_video.py
    /work/venv/ref/bin/python Tests/Fixtures/generate/generate_sam2_video.py --size hiera-tiny --out /tmp/sam2video-hiera-tiny
"""
import argparse
import json
import os
import shutil
import sys
import tempfile

import numpy as np
import torch
import transformers
from safetensors.numpy import save_file
from safetensors.torch import load_file, save_file as save_torch
from transformers import Sam2VideoConfig, Sam2VideoModel, Sam2VideoProcessor
from transformers.models.sam2.image_processing_sam2_fast import Sam2ImageProcessorFast
from transformers.models.sam2_video.video_processing_sam2_video import Sam2VideoVideoProcessor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from generate_sam2 import FIXTURES, SEED, f32, pinned_deterministic_torch, randomize, tiny_config  # noqa: E402

FRAMES = 8
# The object-score head's output layer is scaled by OBJECT_SCORE_SCALE and its bias raised by
# OBJECT_SCORE_SHIFT (BF16-representable): with random weights the score barely depends on the frame
# (prompted frames ≈ 0.1, tracked ones ≈ 0.45); after this, prompted frames are clearly visible and
# tracked frames fall on both sides of 0, so objects disappear and come back.
OBJECT_SCORE_SCALE, OBJECT_SCORE_SHIFT = -32.0, 14.0


def tiny_video_config():
    """The phase-1 tiny image config at width 128 with 64-wide memories: the reference's memory
    cross-attention takes 64-wide memories (`kv_in_dim=64` is fixed) and it only works when the
    object pointers are split into memory-wide tokens (width > 64), as in every SAM 2.1 config
    (256 / 64). Size budget (the whole checkpoint is committed, stored as BF16): Hiera with one
    block per stage but two in stage 2 (the second global, as in hiera-tiny), one two-way and one
    memory-attention layer, a one-layer 16-stride mask downsampler."""
    image = tiny_config()
    vision = image.vision_config.to_dict()
    vision["fpn_hidden_size"] = 128
    vision["backbone_config"].update(blocks_per_stage=[1, 1, 2, 1], global_attention_blocks=[3])
    prompt = image.prompt_encoder_config.to_dict()
    prompt["hidden_size"] = 128
    decoder = image.mask_decoder_config.to_dict()
    decoder.update(hidden_size=128, mlp_dim=32, num_hidden_layers=1, iou_head_hidden_dim=16)
    return Sam2VideoConfig(
        vision_config=vision, prompt_encoder_config=prompt, mask_decoder_config=decoder, image_size=128,
        num_maskmem=7, max_object_pointers_in_encoder=16,
        memory_attention_hidden_size=128, memory_attention_num_layers=1, memory_attention_num_attention_heads=1,
        memory_attention_downsample_rate=2,
        memory_attention_feed_forward_hidden_size=32, memory_attention_rope_feat_sizes=[8, 8],
        memory_encoder_hidden_size=128, memory_encoder_output_channels=64, mask_downsampler_embed_dim=128,
        mask_downsampler_kernel_size=3, mask_downsampler_stride=16, mask_downsampler_padding=1, mask_downsampler_total_stride=16,
        memory_fuser_embed_dim=128, memory_fuser_intermediate_dim=32, memory_fuser_layer_scale_init_value=0.5,
    )


def geometry(t, H, W):
    y, x = np.mgrid[0:H, 0:W].astype(np.float64)
    ell = ((x - (0.35 + 0.03 * t) * W) / (0.15 * W)) ** 2 + ((y - 0.45 * H) / (0.25 * H)) ** 2 < 1
    x0 = int((0.45 + 0.1 * t) * W)
    return y, x, ell, x0


def frame(t, rng, H, W):
    y, x, ell, x0 = geometry(t, H, W)
    img = np.stack([60 + 80 * x / W, 90 + 60 * y / H, 120 + 40 * (x + y) / (W + H)], axis=-1)
    img[ell] = [230, 200, 60]
    img[int(0.6 * H):int(0.85 * H), x0:x0 + int(0.2 * W)] = [30, 40, 90]
    img += rng.normal(0, 6, img.shape)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def prompts_for(case, H, W):
    """(frame, obj_id, kind, value) by frame ascending; pixel coordinates rounded to 0.1."""
    r = lambda v: [round(c, 1) for c in v]  # noqa: E731
    if case == "a":
        return [(4, 1, "box", r([0.22 * W, 0.2 * H, 0.73 * W, 0.72 * H])),
                (4, 2, "points", ([r([0.92 * W, 0.72 * H])], [1]))]
    return [(2, 1, "mask", geometry(2, H, W)[2]),
            (5, 2, "box", r([0.93 * W, 0.58 * H, 1.0 * W - 1, 0.87 * H]))]


def run_case(model, processor, video, prompts, H, W):
    """The call sequence of the module docstring. Returns the final pred_masks per frame
    [objects, 4E, 4E], object scores [frames][objects], and the processing order."""
    session = processor.init_video_session(video=video, inference_device="cpu", dtype=torch.float32)
    order = []
    with torch.no_grad():
        for f, obj, kind, value in prompts:
            if kind == "box":
                processor.add_inputs_to_inference_session(session, frame_idx=f, obj_ids=obj, input_boxes=[[value]])
            elif kind == "points":
                processor.add_inputs_to_inference_session(session, frame_idx=f, obj_ids=obj, input_points=[[value[0]]],
                                                          input_labels=[[value[1]]])
            else:
                processor.add_inputs_to_inference_session(session, frame_idx=f, obj_ids=obj, input_masks=value)
            model(inference_session=session, frame_idx=f)
            order.append(("prompt", f))
        first = min(p[0] for p in prompts)
        for o in model.propagate_in_video_iterator(session, start_frame_idx=first):
            order.append(("forward", o.frame_idx))
        if first > 0:
            for o in model.propagate_in_video_iterator(session, start_frame_idx=first - 1, reverse=True):
                order.append(("backward", o.frame_idx))
    n = session.get_obj_num()
    masks, scores = {}, np.zeros((len(video), n), dtype=np.float32)
    for obj_idx in range(n):
        for kind in ("cond_frame_outputs", "non_cond_frame_outputs"):
            for t, o in session.output_dict_per_obj[obj_idx][kind].items():
                masks.setdefault(t, [None] * n)[obj_idx] = f32(o["pred_masks"][0, 0])
                scores[t, obj_idx] = float(o["object_score_logits"].reshape(-1)[0])
    pred = {t: np.stack(masks[t]) for t in range(len(video))}
    return pred, scores, order, session, processor


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", choices=["tiny", "hiera-tiny"], default="tiny")
    ap.add_argument("--out", default=FIXTURES)
    args = ap.parse_args()
    out = args.out
    pinned_deterministic_torch()
    gen = torch.Generator().manual_seed(SEED + 1)
    rng = np.random.default_rng(SEED + 1)

    if args.size == "tiny":
        config, ckpt_name, golden_name, (H, W) = tiny_video_config(), "sam2video-tiny", "video", (72, 120)
    else:
        config, ckpt_name, golden_name, (H, W) = Sam2VideoConfig(), "sam2video-hiera-tiny", "video-hiera-tiny", (270, 480)
    config._attn_implementation = "eager"
    model = Sam2VideoModel(config).eval()
    randomize(model, gen)
    with torch.no_grad():  # positive layer scales keep the fuser's residual branch visible
        for layer in model.memory_encoder.memory_fuser.layers:
            layer.scale.copy_(0.5 + 0.1 * torch.randn(layer.scale.shape, generator=gen))
        head = model.mask_decoder.pred_obj_score_head.proj_out
        head.weight *= OBJECT_SCORE_SCALE
        head.bias.mul_(OBJECT_SCORE_SCALE).add_(OBJECT_SCORE_SHIFT)
        for p in model.parameters():  # bf16-representable values, stored as BF16 (size budget); fp32 compute
            p.copy_(p.to(torch.bfloat16).float())
    ckpt_dir = os.path.join(out, ckpt_name)
    os.makedirs(ckpt_dir, exist_ok=True)
    model.save_pretrained(ckpt_dir, safe_serialization=True)
    path = os.path.join(ckpt_dir, "model.safetensors")
    weights = load_file(path)
    save_torch({k: v.to(torch.bfloat16) for k, v in weights.items()}, path, metadata={"format": "pt"})
    stale = os.path.join(ckpt_dir, "video_weights.safetensors")  # the earlier video-keys-only file
    if os.path.exists(stale):
        os.remove(stale)
    model = Sam2VideoModel.from_pretrained(ckpt_dir, attn_implementation="eager", dtype=torch.float32).eval()
    assert all(p.dtype == torch.float32 for p in model.parameters())

    side = config.image_size
    processor = Sam2VideoProcessor(
        image_processor=Sam2ImageProcessorFast(size={"height": side, "width": side}, mask_size={"height": side // 4, "width": side // 4}),
        video_processor=Sam2VideoVideoProcessor(size={"height": side, "width": side}))
    video = [frame(t, rng, H, W) for t in range(FRAMES)]
    # The video processor's pixel values are the image processor's (the Swift side preprocesses
    # every frame with SAM2Processing.preprocess).
    session = processor.init_video_session(video=video, inference_device="cpu", dtype=torch.float32)
    for t in range(FRAMES):
        image_px = processor.image_processor(images=video[t], return_tensors="pt")["pixel_values"][0]
        assert torch.equal(image_px, session.processed_frames[t]), "video and image preprocessing differ"

    tensors = {"frames": np.stack(video)}
    cases = {}

    # Case a, recording the components' calls in order.
    calls = {"memory_encoder": [], "memory_attention": [], "pointer": [], "encode_new_memory": [], "conditioned": [], "frames": []}
    hooks = [model.memory_encoder.register_forward_hook(lambda m, a, o: calls["memory_encoder"].append((a, o))),
             model.memory_attention.register_forward_hook(lambda m, a, kw, o: calls["memory_attention"].append((kw, o)), with_kwargs=True),
             model.object_pointer_proj.register_forward_hook(lambda m, a, o: calls["pointer"].append((a[0], o)))]
    enc_new, prep = model._encode_new_memory, model._prepare_memory_conditioned_features

    def encode_new_memory(**kw):
        r = enc_new(**kw)
        calls["encode_new_memory"].append((kw, r))
        return r

    def prepare(**kw):
        calls["frames"].append(kw)  # (frame, object) of the memory encoding that follows
        r = prep(**kw)
        calls["conditioned"].append((kw, r))
        return r
    model._encode_new_memory, model._prepare_memory_conditioned_features = encode_new_memory, prepare

    for case in ("a", "b"):
        prompts = prompts_for(case, H, W)
        if case == "b":
            # Tracking object 2 on frames 2–4, before its prompt on frame 5: its bank holds only
            # the prompted frame's bf16 memory and no pointer, and 4.56.2's memory attention then
            # fails on the dtype (bf16 memory, fp32 weights); with pointers the concatenation is
            # promoted to fp32. Cast it to fp32 here as that promotion does (exact).
            attention_forward = model.memory_attention.forward
            model.memory_attention.forward = lambda **kw: attention_forward(**{**kw, "memory": kw["memory"].float()})
        pred, scores, order, session, _ = run_case(model, processor, video, prompts, H, W)
        if case == "a":
            for h in hooks:
                h.remove()
            model._encode_new_memory, model._prepare_memory_conditioned_features = enc_new, prep
            case_a_session = session
        pixels = []
        for t in range(FRAMES):
            tensors[f"{case}.frame{t}.pred_masks"] = pred[t]
            binary = processor.post_process_masks([torch.from_numpy(pred[t])[:, None]], original_sizes=[[H, W]], binarize=True)[0]
            pixels.append([int(binary[o, 0].sum()) for o in range(binary.shape[0])])
        tensors[f"{case}.object_score_logits"] = scores
        cases[case] = {
            "prompts": [{"frame": f, "obj_id": o, "kind": k, "value": (v if k != "mask" else "geometry(2).ellipse")} for f, o, k, v in prompts],
            "order": order, "object_score_logits": scores.tolist(), "mask_pixels": pixels,
        }
        if case == "b":
            tensors["b.prompt_mask"] = prompts[0][3].astype(np.uint8)

    # Case a's component calls: (order of calls) frame 4 obj 0, frame 4 obj 1 (conditioning), then
    # per propagated frame obj 0, obj 1. Keep the first propagated frame (5) of both objects and
    # the conditioning frame's memories.
    session = case_a_session
    memenc_frames = [[kw_["frame_idx"], kw_["obj_idx"]] for kw_ in calls["frames"]]
    for i, (kw, (feat, pos)) in enumerate(calls["encode_new_memory"]):
        if memenc_frames[i][1] == 0:  # object 0's memories (the banks of the recorded attention calls)
            tensors[f"memenc{i}.features"] = f32(feat[:, 0].float())
        if i not in (0, 2):  # frame 4 object 0 (binarised prompt mask), frame 5 object 0 (sigmoid)
            continue
        me_args, (me_feat, me_pos) = calls["memory_encoder"][i]
        tensors[f"memenc{i}.pix_feat"] = f32(kw["current_vision_feats"][:, 0])        # [E², C]
        tensors[f"memenc{i}.high_res_masks"] = f32(kw["pred_masks_high_res"][0, 0])   # [S, S]
        tensors[f"memenc{i}.object_score_logits"] = f32(kw["object_score_logits"].reshape(-1))
        tensors[f"memenc{i}.encoder_features"] = f32(me_feat[0].permute(1, 2, 0).reshape(-1, me_feat.shape[1]))
        tensors[f"memenc{i}.features"] = f32(feat[:, 0].float())   # after occlusion embedding and bf16
        tensors[f"memenc{i}.pos_enc"] = f32(pos[:, 0])
        tensors[f"memenc{i}.is_mask_from_pts"] = np.array([int(kw["is_mask_from_pts"])], dtype=np.int32)
    attn_frames = [[kw_["frame_idx"], kw_["obj_idx"], int(kw_["track_in_reverse_time"])] for kw_, _ in calls["conditioned"]
                   if not kw_["is_initial_conditioning_frame"]]
    for i, (kw, res) in enumerate(calls["memory_attention"]):
        if i not in (0, 2, 6):  # frame 5, frame 6 (forward), frame 3 (backward); object 0
            continue
        tensors[f"memattn{i}.current"] = f32(kw["current_vision_features"][:, 0])
        tensors[f"memattn{i}.current_pos"] = f32(kw["current_vision_position_embeddings"][:, 0])
        tensors[f"memattn{i}.memory"] = f32(kw["memory"][:, 0])
        tensors[f"memattn{i}.memory_pos"] = f32(kw["memory_posision_embeddings"][:, 0])
        tensors[f"memattn{i}.num_object_pointer_tokens"] = np.array([kw["num_object_pointer_tokens"]], dtype=np.int32)
        tensors[f"memattn{i}.output"] = f32(res[:, 0])
    for i, (tok, ptr) in enumerate(calls["pointer"][:6]):
        tensors[f"pointer{i}.token"] = f32(tok.reshape(-1))
        tensors[f"pointer{i}.projected"] = f32(ptr.reshape(-1))
    # The object pointers as stored (after the no-object mix) and their frames.
    for obj_idx in range(2):
        for kind in ("cond_frame_outputs", "non_cond_frame_outputs"):
            for t, o in sorted(session.output_dict_per_obj[obj_idx][kind].items()):
                tensors[f"stored_pointer.obj{obj_idx}.frame{t}"] = f32(o["object_pointer"].reshape(-1))
    tensors["object_score_logits"] = tensors["a.object_score_logits"]
    manifest = {
        "case": golden_name, "checkpoint": ckpt_name, "seed": SEED, "object_score_head": {"scale": OBJECT_SCORE_SCALE, "shift": OBJECT_SCORE_SHIFT},
        "inputs": {"frames": FRAMES, "height": H, "width": W},
        "cases": cases,
        "component_calls": {k: len(v) for k, v in calls.items()},
        "memenc_frames": memenc_frames, "memattn_frames": attn_frames,
        "versions": {"transformers": transformers.__version__, "torch": torch.__version__, "numpy": np.__version__},
    }
    case_dir = os.path.join(out, "goldens", "sam2", golden_name)
    os.makedirs(case_dir, exist_ok=True)
    save_file(tensors, os.path.join(case_dir, "tensors.safetensors"), metadata={"format": "np"})
    with open(os.path.join(case_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
    for case, c in cases.items():
        print(case, c["order"])
        print("  scores", np.round(np.array(c["object_score_logits"]), 2).tolist())
        print("  pixels", c["mask_pixels"])
    print(manifest["component_calls"])


if __name__ == "__main__":
    main()
