#!/usr/bin/env python3
"""SAM 2.1 video-mode goldens (issue 13, phase 2) from the pinned transformers `Sam2VideoModel`.

Writes (tiny config, committed):

  <out>/sam2video-tiny/config.json, model.safetensors   `Sam2VideoModel.save_pretrained` of seeded random weights
  <out>/goldens/sam2/video/manifest.json + tensors.safetensors

The case: 8 synthetic 100×160 frames (a yellow ellipse drifting right, a dark rectangle moving right
and leaving the view from frame 6 on), one box per object on the middle frame 4, propagation forward
(4 → 7) and backward (4 → 0) through the processor's inference session. Stored: per-frame low-res
mask logits and object-score logits of both objects, and the named intermediates of the components
(every memory-encoder call, every memory-attention call, every object pointer) with the frame and
object they belong to, so the Swift side can test each component on the reference's own inputs.
Reuses generate_sam2.py's helpers (seeds, randomisation, layout). Nothing is downloaded.

    /work/venv/ref/bin/python Tests/Fixtures/generate/generate_sam2_video.py
"""
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
from generate_sam2 import FIXTURES, PINNED, SEED, f32, randomize, tiny_config  # noqa: E402

FRAMES, H, W, PROMPT_FRAME = 8, 100, 160, 4
# The keys Sam2VideoModel has on top of Sam2Model (SAM2Model.videoModePrefixes on the Swift side).
VIDEO_PREFIXES = ("memory_", "mask_downsample", "object_pointer_proj", "temporal_positional_encoding_projection_layer",
                  "no_memory_positional_encoding", "no_object_pointer", "occlusion_spatial_embedding_parameter")


def tiny_video_config():
    """The phase-1 tiny image config at width 128 with 64-wide memories: the reference's memory
    cross-attention takes 64-wide memories (`kv_in_dim=64` is fixed) and it only works when the
    object pointers are split into memory-wide tokens (width > 64), as in every SAM 2.1 config
    (256 / 64). One two-way and one memory-attention layer, a one-layer 16-stride mask downsampler
    (size budget: the checkpoint is stored as BF16)."""
    image = tiny_config()
    vision = image.vision_config.to_dict()
    vision["fpn_hidden_size"] = 128
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


def frame(t, rng):
    y, x = np.mgrid[0:H, 0:W].astype(np.float64)
    img = np.stack([60 + 80 * x / W, 90 + 60 * y / H, 120 + 40 * (x + y) / (W + H)], axis=-1)
    ell = ((x - (0.35 + 0.03 * t) * W) / (0.15 * W)) ** 2 + ((y - 0.45 * H) / (0.25 * H)) ** 2 < 1
    img[ell] = [230, 200, 60]
    x0 = int((0.45 + 0.1 * t) * W)
    img[int(0.6 * H):int(0.85 * H), x0:x0 + int(0.2 * W)] = [30, 40, 90]
    img += rng.normal(0, 6, img.shape)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else FIXTURES
    for mod, want in PINNED.items():
        have = __import__(mod).__version__
        if have != want:
            sys.exit(f"error: {mod} {have} is not the pinned {want} (Tests/Fixtures/README.md)")
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(SEED + 1)
    rng = np.random.default_rng(SEED + 1)

    config = tiny_video_config()
    config._attn_implementation = "eager"
    model = Sam2VideoModel(config).eval()
    randomize(model, gen)
    with torch.no_grad():  # positive layer scales keep the fuser's residual branch visible
        for layer in model.memory_encoder.memory_fuser.layers:
            layer.scale.copy_(0.5 + 0.1 * torch.randn(layer.scale.shape, generator=gen))
        for p in model.parameters():  # bf16-representable values, stored as BF16 (size budget); fp32 compute
            p.copy_(p.to(torch.bfloat16).float())
    # The full checkpoint goes to a temporary directory (1.4 MB even in BF16: over the fixture budget);
    # the committed one holds config.json and only the video-mode keys (the components the Swift
    # side tests on the reference's own inputs).
    full_dir = tempfile.mkdtemp()
    model.save_pretrained(full_dir, safe_serialization=True)
    path = os.path.join(full_dir, "model.safetensors")
    weights = load_file(path)
    save_torch({k: v.to(torch.bfloat16) for k, v in weights.items()}, path, metadata={"format": "pt"})
    model = Sam2VideoModel.from_pretrained(full_dir, attn_implementation="eager", dtype=torch.float32).eval()
    ckpt_dir = os.path.join(out, "sam2video-tiny")
    os.makedirs(ckpt_dir, exist_ok=True)
    shutil.copy(os.path.join(full_dir, "config.json"), ckpt_dir)
    video = {k: v.to(torch.bfloat16) for k, v in weights.items() if k.startswith(VIDEO_PREFIXES)}
    save_torch(video, os.path.join(ckpt_dir, "video_weights.safetensors"), metadata={"format": "pt"})
    assert all(p.dtype == torch.float32 for p in model.parameters())

    side = config.image_size
    processor = Sam2VideoProcessor(
        image_processor=Sam2ImageProcessorFast(size={"height": side, "width": side}, mask_size={"height": side // 4, "width": side // 4}),
        video_processor=Sam2VideoVideoProcessor(size={"height": side, "width": side}))
    video = [frame(t, rng) for t in range(FRAMES)]

    # Record the components' calls, in order.
    calls = {"memory_encoder": [], "memory_attention": [], "pointer": [], "encode_new_memory": [], "conditioned": [], "frames": []}
    model.memory_encoder.register_forward_hook(lambda m, a, o: calls["memory_encoder"].append((a, o)))
    model.memory_attention.register_forward_hook(lambda m, a, kw, o: calls["memory_attention"].append((kw, o)), with_kwargs=True)
    model.object_pointer_proj.register_forward_hook(lambda m, a, o: calls["pointer"].append((a[0], o)))
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

    session = processor.init_video_session(video=video, inference_device="cpu", dtype=torch.float32)
    boxes = [[0.22 * W, 0.2 * H, 0.73 * W, 0.72 * H], [0.82 * W, 0.58 * H, 1.0 * W - 1, 0.87 * H]]
    boxes = [[round(v, 1) for v in b] for b in boxes]
    tensors, order = {}, []
    with torch.no_grad():
        # One object at a time: the processor takes one box per call (several boxes in one call hit a
        # shape bug in 4.56.2) and each call replaces the session's "objects with new inputs".
        for obj_id, box in zip([1, 2], boxes):
            processor.add_inputs_to_inference_session(session, frame_idx=PROMPT_FRAME, obj_ids=obj_id, input_boxes=[[box]])
            first = model(inference_session=session, frame_idx=PROMPT_FRAME)
        results = {PROMPT_FRAME: first.pred_masks}
        order.append(("prompt", PROMPT_FRAME))
        for o in model.propagate_in_video_iterator(session, start_frame_idx=PROMPT_FRAME):
            results[o.frame_idx] = o.pred_masks
            order.append(("forward", o.frame_idx))
        for o in model.propagate_in_video_iterator(session, start_frame_idx=PROMPT_FRAME, reverse=True):
            results[o.frame_idx] = o.pred_masks
            order.append(("backward", o.frame_idx))
    pixels = []
    for t in range(FRAMES):
        tensors[f"frame{t}.pred_masks"] = f32(results[t][:, 0])  # [objects, 4E, 4E]
        binary = processor.post_process_masks([results[t]], original_sizes=[[H, W]], binarize=True)[0]
        pixels.append([int(binary[o, 0].sum()) for o in range(2)])
    scores = {}
    for obj_idx in range(2):
        for kind in ("cond_frame_outputs", "non_cond_frame_outputs"):
            for t, o in session.output_dict_per_obj[obj_idx][kind].items():
                scores[(obj_idx, t)] = float(o["object_score_logits"].reshape(-1)[0])
    tensors["object_score_logits"] = np.array([[scores[(o, t)] for o in range(2)] for t in range(FRAMES)], dtype=np.float32)

    # Component calls: (order of calls) frame 4 obj 0, frame 4 obj 1 (conditioning), then per
    # propagated frame obj 0, obj 1. Keep the first propagated frame (5) of both objects and the
    # conditioning frame's memories.
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
    cond = [(kw, r) for kw, r in calls["conditioned"]]
    for i, (tok, ptr) in enumerate(calls["pointer"][:6]):
        tensors[f"pointer{i}.token"] = f32(tok.reshape(-1))
        tensors[f"pointer{i}.projected"] = f32(ptr.reshape(-1))
    # The object pointers as stored (after the no-object mix) and their frames.
    ptrs = []
    for obj_idx in range(2):
        for kind in ("cond_frame_outputs", "non_cond_frame_outputs"):
            for t, o in sorted(session.output_dict_per_obj[obj_idx][kind].items()):
                tensors[f"stored_pointer.obj{obj_idx}.frame{t}"] = f32(o["object_pointer"].reshape(-1))
    manifest = {
        "case": "video", "checkpoint": "sam2video-tiny", "seed": SEED,
        "inputs": {"frames": FRAMES, "height": H, "width": W, "prompt_frame": PROMPT_FRAME, "boxes": boxes, "obj_ids": [1, 2]},
        "order": order,
        "component_calls": {k: len(v) for k, v in calls.items()},
        "memenc_frames": memenc_frames, "memattn_frames": attn_frames,
        "expected": {"object_score_logits": tensors["object_score_logits"].tolist(),
                     "mask_pixels": pixels},
        "versions": {"transformers": transformers.__version__, "torch": torch.__version__, "numpy": np.__version__},
    }
    case_dir = os.path.join(out, "goldens", "sam2", "video")
    os.makedirs(case_dir, exist_ok=True)
    save_file(tensors, os.path.join(case_dir, "tensors.safetensors"), metadata={"format": "np"})
    with open(os.path.join(case_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
    print(json.dumps(manifest["expected"]), manifest["component_calls"])


if __name__ == "__main__":
    main()
