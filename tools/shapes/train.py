"""Trains the shapes demo model (issue 15): GAR's exact architecture and checkpoint layout, tiny, on the synthetic
shapes world (world.py), with the video protocol gar implements (ARCHITECTURE.md 4) — the inputs are built by
`gar_reference.video_inputs`, so training sees what `gar caption/ask --frames 4` feeds at inference: the same
4 frames (PerceptionLM's uniform rule over the 32 frames of a clip), the same prompt text and the same per-frame
RoI replay with the region's own box — with the corrected box scaling (CORRECTED_BOX_SCALING below; recorded in
config.json and honoured by gar's video commands).

Design for a 2-core CPU:
* the vision tower's absolute position embedding holds a smooth 2-D code of the patch's column and row
  (`position_code`; `--add-position-code` adds it to a loaded checkpoint's): motion needs the region's position,
  and with the code even the frozen random tower lets a linear probe read the box centre from the replayed tokens
  (probe.py, R^2 0.98; MODEL_CARD.md "Diagnosis");
* `--freeze-tower` (the shipped recipe) trains the projector and the Llama decoder only (no backward through the
  tower and mask embedding: ~0.5 s a step on an idle 2-core machine); without it the whole model is trained
  (~8 CPU-s a step). Loss on the answer tokens and the closing <|eot_id|> only, the motion questions weighted up
  (QUESTION_WEIGHTS); masks dilated or eroded by a pixel at random;
* the clips are rendered, encoded to mp4 and decoded again (ffmpeg), as gar reads them;
* every (clip, region) example carries 5 questions (caption; colour, shape, direction, speed multiple choice)
  that share its frames: their shared prefix runs once, the questions as one batch on its KV cache;
* every step renders fresh clips (FastExamples); the held-out examples go through mp4 and the processor;
* `--events FRACTION` (default 0: none, the shipped recipe) makes that fraction of the steps an event clip
  (world.make_event_clip: occlusion, leaving the view, overtaking, growing, shrinking, turning; every kind in turn)
  with its one- and two-region questions (world.event_questions). A region out of view on a frame has no span
  there, so the prompt changes from clip to clip: those examples are built by `ref.video_inputs` itself
  (EventExamples; slower than FastExamples' fixed spans), one per region list (<Prompt0>, or <Prompt0> and
  <Prompt1>), and measured apart on held-out event clips (`events_*` in the log).

    /work/venv/ref/bin/python tools/shapes/train.py --out /tmp/shapes --init models/gar-shapes-demo \
        --add-position-code --freeze-tower --minutes 65 --lr 1.5e-3 --warmup 20
    (the shipped checkpoint's runs, with their exact command lines: models/gar-shapes-demo/MODEL_CARD.md)

Needs the pinned reference stack (Tests/Fixtures/README.md) and ffmpeg. Seeded; the printed log ends with the
held-out accuracy of the PyTorch model (bf16 weights, greedy), written to OUT/training_log.json.
"""
import argparse
import json
import math
import os
import signal
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "Tests", "Fixtures", "generate"))
sys.path.insert(0, HERE)
import generate as gen  # noqa: E402
import gar_reference as ref  # noqa: E402
import world  # noqa: E402
from transformers import AutoTokenizer, DynamicCache  # noqa: E402
from transformers.models.perception_lm.video_processing_perception_lm import PerceptionLMVideoProcessor  # noqa: E402

# Replay with the corrected box scaling (gar's `replay.corrected_box_scaling: true`, GAR-SPEC 6.3): the RoI is the
# region's box on the 16x16 map. The reference's double 1/28 scaling samples the map's top-left corner whatever
# the box, so the replayed tokens carry nothing about the region (the released GAR weights live with that; a
# tiny model trained from scratch does not learn the task through it: a first run stayed at chance). Recorded in
# config.json as "replay": {"corrected_box_scaling": true}; gar needs --set replay.corrected_box_scaling=true.
CORRECTED_BOX_SCALING = True
_reference_roi_box = ref.roi_box


def roi_box_corrected(bbox, feat_h, feat_w):
    roi, _ = _reference_roi_box(bbox, feat_h, feat_w)
    return roi, 1.0


if CORRECTED_BOX_SCALING:
    ref.roi_box = roi_box_corrected   # used by embeds_for below and by ref.GARModel.generate_video (parity.py)

SPEC = dict(form="1b", vision_args=dict(embed_dim=32, depth=2, num_heads=2),
            text=dict(hidden_size=128, intermediate_size=384, num_attention_heads=4, num_key_value_heads=2,
                      num_hidden_layers=2, rope_scaling=gen.LLAMA3_ROPE_1B, max_position_embeddings=11520),
            tie=True, max_num_tiles=4)


def video_processor(tokenizer):
    """The reference processors in "vanilla" mode: one squashed 448 tile per frame (video protocol v1)."""
    ip = ref.GARImageProcessorFast(vision_input_type="vanilla", tile_size=448, max_num_tiles=1, resample=3,
                                   image_mean=[0.5, 0.5, 0.5], image_std=[0.5, 0.5, 0.5],
                                   size={"height": 448, "width": 448})
    chat = open(os.path.join(gen.FIXTURES, "tokenizer", "chat_template.jinja")).read()
    return ref.GARProcessor(ip, PerceptionLMVideoProcessor(), tokenizer, patch_size=14, pooling_ratio=2,
                            chat_template=chat)


def build(seed, tokenizer):
    """GARModel with generate.py's config and tiny init, every part re-initialised for training (the whole model is
    trained); every weight rounded to bf16 (what the checkpoint holds). The vision tower starts close to its input
    (LayerScale gammas 0.1) and its absolute position embedding starts as a smooth 2-D sin/cos code of the patch's
    column and row: motion (direction, speed) is the region's position across frames, and a random position
    embedding (generate.py's N(0, 0.5) per patch) is not a smooth function of position that the projector can read
    (MODEL_CARD.md, "Diagnosis")."""
    config = gen.build_config(SPEC, tokenizer)
    if ROPE_THETA:   # --rope-theta: plain RoPE of that base, no llama3 scaling (SPEC's rope_scaling is None then)
        config.mllm_config.text_config.rope_theta = ROPE_THETA
    model = gen.build_model(config, seed, tiny=True, dtype=torch.float32)
    g = torch.Generator().manual_seed(seed + 1)
    for name, p in model.named_parameters():
        with torch.no_grad():
            if name.endswith("pos_embed"):
                p.copy_(position_code(p.shape[-1], g))
            elif "gamma_" in name:
                p.fill_(0.1)
            elif name.startswith("mllm.model.language_model") or name.startswith("mllm.model.multi_modal_projector"):
                if name.endswith("norm.weight") or "layernorm" in name:
                    p.fill_(1.0)
                elif name.endswith(".bias"):
                    p.zero_()
                else:
                    std = 0.02 if "embed_tokens" in name else 1.0 / math.sqrt(p.shape[-1])
                    p.copy_(torch.randn(p.shape, generator=g) * std)
            p.copy_(p.to(torch.bfloat16).to(torch.float32))
    return model


def position_code(width, g, grid=32):
    """[1, 1 + grid*grid, width]: the CLS row random; each patch row a sin/cos code of its column and row at a few
    low frequencies in the first half of the channels, small random values in the rest."""
    out = torch.randn(1, 1 + grid * grid, width, generator=g) * 0.1
    out[0, 0] = torch.randn(width, generator=g) * 0.5
    yy, xx = torch.meshgrid(torch.arange(grid, dtype=torch.float32), torch.arange(grid, dtype=torch.float32),
                            indexing="ij")
    chans = []
    for coord in (xx.flatten(), yy.flatten()):
        for k in range(width // 8):
            angle = coord / grid * math.pi * (k + 1) / 2
            chans += [torch.sin(angle), torch.cos(angle)]
    code = torch.stack(chans, dim=1)
    out[0, 1:, :code.shape[1]] = code
    return out


def tower_features(model, ex):
    """Vision tower output (CLS dropped) for the example's frames and mask tiles: [F, 1024, width]. A held-out
    example holds the processor's normalised id-map tiles (`global_mask_values`), a fresh one the binary masks."""
    if "global_mask_values" in ex:
        mask_embeds = model.mask_embeddings(ex["global_mask_values"])
    else:
        mask_embeds = model.mask_patch_embedding(ex["binary"])
    hidden = model.mllm.model.vision_tower(ex["pixel_values"], mask_embeds=mask_embeds).last_hidden_state
    return hidden[:, 1:, :]


def prompt_ids(tokenizer, raw_prompt):
    """input ids of a raw chat prompt as PerceptionLMProcessor makes them (<|image|> x 256 per frame, BOS added
    by the tokenizer in front of the template's: the double BOS of the eval path)."""
    text = raw_prompt.replace("<|image|>", "<|image|>" * ref.TILE_TOKENS)
    return tokenizer(text, add_special_tokens=True)["input_ids"]


def examples_of_clip(clip, processor, tokenizer, check=False):
    """One example per object (it is <Prompt0>): the processor's tiles, the replay spans and 5 (ids, labels)."""
    frames_idx = world.sampled_frames()
    pil = [Image.fromarray(clip["frames"][t]) for t in frames_idx]
    out = []
    for o in clip["objects"]:
        masks = [[o["masks"][t] for t in frames_idx]]
        qs = world.questions(o)
        vin = ref.video_inputs(processor, pil, masks, qs[0]["question"])
        head = vin["raw_prompt"]
        seqs = []
        for q in qs:
            raw = head.replace(qs[0]["question"], q["question"])
            ids = prompt_ids(tokenizer, raw)
            if check and q is qs[0]:
                assert ids == vin["input_ids"][0].tolist(), "prompt ids differ from the processor's"
            ans = tokenizer(q["answer"], add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
            seqs.append((ids, ans))
        spans = [(s["frame"], s["start"], s["bbox"]) for s in vin["spans"]]
        out.append(dict(pixel_values=vin["pixel_values"], global_mask_values=vin["global_mask_values"], spans=spans,
                        seqs=seqs, object=o, questions=qs))
    return out


def augment_masks(masks, change):
    """[F, H, W] bool masks dilated (change > 0) or eroded (< 0) by a pixel (3x3); an erosion that would empty a
    frame's mask keeps that frame's mask as it is (visibility must not change)."""
    m = torch.from_numpy(masks.astype(np.float32)).unsqueeze(1)
    if change > 0:
        m = F.max_pool2d(m, 3, stride=1, padding=1)
    elif change < 0:
        m = -F.max_pool2d(-m, 3, stride=1, padding=1)
    out = m[:, 0].numpy() > 0.5
    for f in range(len(out)):
        if masks[f].any() and not out[f].any():
            out[f] = masks[f]
    return out


# Loss weight of an event example's questions, per kind (the kinds of world.questions as QUESTION_WEIGHTS).
EVENT_WEIGHTS = dict(caption=1.0, colour=0.5, shape=1.0, direction=2.0, speed=1.5)


def event_examples(clip, processor, tokenizer, rng=None):
    """One example per region list of an event clip's questions (world.event_questions: [k] or [k, j]), built by
    `ref.video_inputs` from the sampled frames and those regions' masks (a region out of view on a frame has no span
    there). With `rng`, each region's masks are dilated or eroded by a pixel at random (as FastExamples)."""
    frames_idx = world.sampled_frames()
    pil = [Image.fromarray(clip["frames"][t]) for t in frames_idx]
    groups = {}
    for q in world.event_questions(clip):
        groups.setdefault(tuple(q["regions"]), []).append(q)
    out = []
    for regions, qs in groups.items():
        masks = []
        for k in regions:
            m = clip["objects"][k]["masks"][frames_idx]
            masks.append(list(augment_masks(m, int(rng.integers(-1, 2))) if rng is not None else m))
        vin = ref.video_inputs(processor, pil, masks, qs[0]["question"])
        seqs = []
        for q in qs:
            ids = prompt_ids(tokenizer, vin["raw_prompt"].replace(qs[0]["question"], q["question"]))
            ans = tokenizer(q["answer"], add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
            seqs.append((ids, ans))
        out.append(dict(pixel_values=vin["pixel_values"], global_mask_values=vin["global_mask_values"],
                        spans=[(sp["frame"], sp["start"], sp["bbox"]) for sp in vin["spans"]], seqs=seqs,
                        questions=qs, regions=list(regions),
                        weights=torch.tensor([EVENT_WEIGHTS.get(q["kind"], 1.0) for q in qs])))
    return out


class EventExamples:
    """Fresh event-clip training examples: the kinds in turn (world.EVENT_KINDS), rendered in memory (no mp4 round
    trip, as FastExamples), built by event_examples with mask augmentation."""

    def __init__(self, processor, tokenizer, rng):
        self.processor, self.tokenizer, self.rng, self.count = processor, tokenizer, rng, 0

    def next(self):
        kind = world.EVENT_KINDS[self.count % len(world.EVENT_KINDS)]
        self.count += 1
        clip = world.make_event_clip(self.rng, kind)
        return event_examples(clip, self.processor, self.tokenizer, self.rng)


class FastExamples:
    """Fresh training examples without the mp4 round trip and the processor's per-call overhead: frames are
    squashed to 448 by torch's bicubic+antialias resize (the processor's resize), masks by nearest; the prompt ids
    and span positions are those of the processor's (every object is visible on every sampled frame, so they do
    not change; checked against `video_inputs` on the first example). Only the boxes and the tiles change.
    Augmentation: each region's masks are dilated or eroded by a pixel at random (gar's masks come from a box
    prompt and the tracker, not the ground truth)."""

    def __init__(self, processor, tokenizer, rng):
        self.tokenizer, self.rng = tokenizer, rng
        clip = world.make_clip(rng)
        self.template = examples_of_clip(clip, processor, tokenizer, check=True)[0]
        ex = self.template
        self.starts = [(f, start) for f, start, _ in ex["spans"]]
        self.head = ex["seqs"][0][0][:common_prefix(ex["seqs"])]
        self.processor = processor

    def tiles(self, frames):
        x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float()
        x = F.interpolate(x, size=(448, 448), mode="bicubic", antialias=True, align_corners=False)
        return (x.round().clamp(0, 255) / 255.0 - 0.5) / 0.5

    def next(self):
        speeds = [str(self.rng.choice(list(world.SPEEDS))) for _ in range(2)] if BALANCE_SPEEDS else None
        clip = world.make_clip(self.rng, speeds=speeds)
        idx = world.sampled_frames()
        pixels = self.tiles(clip["frames"][idx])
        out = []
        for o in clip["objects"]:
            m = torch.from_numpy(o["masks"][idx].astype(np.float32)).unsqueeze(1)
            change = self.rng.integers(-1, 2)   # erode, keep, dilate (3x3)
            if change > 0:
                m = F.max_pool2d(m, 3, stride=1, padding=1)
            elif change < 0:
                m = -F.max_pool2d(-m, 3, stride=1, padding=1)
            binary = F.interpolate(m, size=(448, 448), mode="nearest").expand(-1, 3, -1, -1)
            masks = m[:, 0].numpy() > 0.5
            spans = [(f, start, ref._bbox(masks[f].astype(np.uint8), world.SIZE, world.SIZE))
                     for f, start in self.starts]
            seqs = []
            for q in world.questions(o) + (position_questions(o, idx) if AUX_POSITION else []):
                ids = self.head + self.tokenizer(q["question"] + TAIL, add_special_tokens=False)["input_ids"]
                ans = self.tokenizer(q["answer"], add_special_tokens=False)["input_ids"] + [self.tokenizer.eos_token_id]
                seqs.append((ids, ans))
            out.append(dict(pixel_values=pixels, binary=binary, spans=spans, seqs=seqs, object=o))
        return out


TAIL = "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"


def frame_maps(model, ex):
    """Tower and projector output per frame as [F, C, 16, 16] maps."""
    x = model.mllm.model.multi_modal_projector(tower_features(model, ex))
    return x.view(x.shape[0], 16, 16, -1).permute(0, 3, 1, 2)


def embeds_for(model, ex, maps, ids):
    """Token embeddings with <|image|> rows replaced by the frames' features and the crop spans by the replay."""
    lm = model.mllm.model.language_model
    t = torch.tensor(ids)
    emb = lm.embed_tokens(t)
    img = maps.permute(0, 2, 3, 1).reshape(-1, maps.shape[1])
    pos = (t == model.mllm.config.image_token_id).nonzero().flatten()
    emb = emb.index_put((pos,), img.to(emb.dtype))
    for f, start, bbox in ex["spans"]:
        roi, scale = ref.roi_box(bbox, 16, 16)
        r = torchvision.ops.roi_align(maps[f:f + 1], roi.unsqueeze(0), output_size=(16, 16), spatial_scale=scale,
                                      sampling_ratio=2, aligned=True)
        feats = r.permute(0, 2, 3, 1).reshape(256, -1)
        emb = torch.cat([emb[:start], feats.to(emb.dtype), emb[start + 256:]])
    return emb


def common_prefix(seqs):
    """Length of the token prefix every question of an example shares (the frames, crops and template head)."""
    first = seqs[0][0]
    n = min(len(ids) for ids, _ in seqs)
    for ids, _ in seqs:
        n = next((i for i in range(n) if ids[i] != first[i]), n)
    return n


def loss_of(model, ex):
    """Mean over the example's questions of the mean answer-token cross-entropy. The shared prefix (frames and
    replay, ~2.1k tokens) runs once; the questions run as one right-padded batch on its KV cache."""
    maps = frame_maps(model, ex)
    n = common_prefix(ex["seqs"])
    lm = model.mllm.model.language_model
    prefix = embeds_for(model, ex, maps, ex["seqs"][0][0][:n])
    cache = lm(inputs_embeds=prefix.unsqueeze(0), use_cache=True).past_key_values
    batch = len(ex["seqs"])
    shared = DynamicCache()
    for i, layer in enumerate(cache.layers):
        shared.update(layer.keys.expand(batch, -1, -1, -1), layer.values.expand(batch, -1, -1, -1), i)
    tails = [ids[n:] + ans for ids, ans in ex["seqs"]]
    length = max(len(t) for t in tails)
    pad = model.config.mllm_config.text_config.eos_token_id[0]
    x = lm.embed_tokens(torch.tensor([t + [pad] * (length - len(t)) for t in tails]))
    labels = []
    for ids, ans in ex["seqs"]:
        q = len(ids) - n
        labels.append(([-100] * (q - 1) + ans + [-100] * length)[:length])
    h = lm(inputs_embeds=x, past_key_values=shared, use_cache=True).last_hidden_state
    lab = torch.tensor(labels)
    keep = lab != -100
    per_tok = F.cross_entropy(model.mllm.lm_head(h[keep]), lab[keep], reduction="none")
    tok_w = torch.ones(batch, length)
    if MOTION_WORD_WEIGHT != 1.0 and "weights" not in ex:   # default world: the caption's motion words weighted up
        ans = ex["seqs"][0][1]
        q = len(ex["seqs"][0][0]) - n
        tok_w[0, q - 1:q - 1 + len(ans)] = motion_word_weights(model._shapes_tokenizer, ans)
    w = tok_w[keep]
    per_seq = (torch.zeros(batch).index_add(0, keep.nonzero()[:, 0], per_tok * w) /
               torch.zeros(batch).index_add(0, keep.nonzero()[:, 0], w))
    weights = ex["weights"] if "weights" in ex else \
        torch.cat([QUESTION_WEIGHTS, torch.full((batch - len(QUESTION_WEIGHTS),), AUX_POSITION)])
    return (per_seq * weights).sum() / weights.sum()


# Loss weight of each question of an example (world.questions order: caption, colour, shape, direction, speed):
# colour is learnt first and easily; the motion questions need the most training.
QUESTION_WEIGHTS = torch.tensor([1.0, 0.5, 1.0, 2.0, 1.5])
# Loss weight of the caption's tokens after "moving" (direction and speed words; --motion-word-weight): the
# caption's mean token loss otherwise gives the one speed word ~1/10 of the caption's weight.
MOTION_WORD_WEIGHT = 1.0
# --balance-speeds: training clips draw each object's speed uniformly (world.make_clip's free draws give ~3 slow
# objects to 1 quick, and a model trained on them answers "slowly" almost always).
BALANCE_SPEEDS = False
# --aux-position W: two training-only questions per region with loss weight W, "Where is <Prompt0> at the start?" /
# "... at the end?" (its quadrant on the first / last sampled frame). Direction and speed are the change of the
# region's position between frames, which the decoder can only tell apart by their distance in the sequence; these
# questions supervise reading one given frame's position directly. Not in world.questions (held-out sets unchanged).
AUX_POSITION = 0.0
# --rope-theta T: the decoder's RoPE base T without llama3 scaling (default: GAR-1B's 500000 + llama3). With
# head_dim 32, GAR-1B's RoPE leaves one frequency pair that tells the 4 frames' replay blocks (256 tokens each,
# back to back) apart by their distance; a base of 10000 gives several.
ROPE_THETA = None
QUADRANTS = ["top left", "top right", "bottom left", "bottom right"]


def position_questions(o, idx):
    out = []
    for when, t in (("start", idx[0]), ("end", idx[-1])):
        cx, cy = o["centres"][t]
        quadrant = QUADRANTS[2 * int(cy >= world.SIZE / 2) + int(cx >= world.SIZE / 2)]
        prompt, options, letter = world.multiple_choice(f"Where is <Prompt0> at the {when}?", quadrant, QUADRANTS)
        out.append(dict(kind="position_" + when, question=prompt, text=prompt, choices=options, answer=letter))
    return out
_motion_cache = {}


def motion_word_weights(tokenizer, ans):
    """Per-token weights of a caption answer: MOTION_WORD_WEIGHT for the tokens that end after "moving"."""
    key = tuple(ans)
    if key not in _motion_cache:
        text = tokenizer.decode(ans)
        start = text.find("moving") + len("moving")
        _motion_cache[key] = torch.tensor([MOTION_WORD_WEIGHT if len(tokenizer.decode(ans[:j + 1])) > start and
                                           start >= len("moving") else 1.0 for j in range(len(ans))])
    return _motion_cache[key]


@torch.no_grad()
def answer(model, ex, maps, q_index, max_new=24):
    """Greedy answer of question q_index (KV cache via HF generate on the embeddings); maps: frame_maps(ex)."""
    ids = ex["seqs"][q_index][0]
    emb = embeds_for(model, ex, maps, ids).unsqueeze(0)
    tok = model._shapes_tokenizer
    out = model.mllm.generate(inputs_embeds=emb, attention_mask=torch.ones(1, emb.shape[1]),
                              generation_config=ref.greedy_config(tok, max_new), use_cache=True)
    return out[0].tolist()


def caption_words(text):
    words = set(text.lower().replace(".", " ").split())
    return {k: next((w for w in words if w in vocab), None)
            for k, vocab in (("colour", world.COLOURS), ("shape", world.SHAPES), ("direction", world.DIRECTIONS),
                             ("speed", world.SPEEDS))}


def evaluate(model, examples, tokenizer, limit=None):
    """Multiple-choice accuracy per kind and caption attribute accuracy (greedy, like gar)."""
    model.eval()
    right = {}
    for ex in examples[:limit]:
        if "object" not in ex:
            evaluate_event_example(model, ex, tokenizer, right)
            continue
        o = ex["object"]
        with torch.no_grad():
            maps = frame_maps(model, ex)
        for qi, q in enumerate(ex["questions"]):
            text = tokenizer.decode(answer(model, ex, maps, qi), skip_special_tokens=True).strip()
            if q["kind"] == "caption":
                got = caption_words(text)
                for k in ("colour", "shape", "direction", "speed"):
                    right.setdefault("caption_" + k, []).append(got[k] == o[k])
                right.setdefault("caption_all3", []).append(all(got[k] == o[k] for k in ("colour", "shape", "direction")))
            else:
                right.setdefault(q["kind"], []).append(text[:1] == q["answer"])
    model.train()
    return {k: round(100.0 * sum(v) / len(v), 1) for k, v in right.items()}


def evaluate_event_example(model, ex, tokenizer, right):
    """Adds an event example's results to `right` (keys events_<kind>): multiple choice by letter; a caption by the
    colour, shape, direction and speed words before its comma and by its event clause (the text after the comma,
    or none) against the reference caption."""
    with torch.no_grad():
        maps = frame_maps(model, ex)
    for qi, q in enumerate(ex["questions"]):
        text = tokenizer.decode(answer(model, ex, maps, qi), skip_special_tokens=True).strip()
        if q["kind"] == "caption":
            head, _, clause = text.partition(",")
            want_head, _, want_clause = q["answer"].partition(",")
            got, want = caption_words(head), caption_words(want_head)
            for k in ("colour", "shape", "direction", "speed"):
                right.setdefault("events_caption_" + k, []).append(got[k] == want[k])
            right.setdefault("events_caption_event", []).append(clause.strip() == want_clause.strip())
        else:
            right.setdefault("events_" + q["kind"], []).append(text[:1] == q["answer"])


def make_event_examples(seed, clips, processor, tokenizer):
    """Held-out event examples: every kind in turn, through the mp4 round trip and video_inputs (no augmentation)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(clips):
        c = world.make_event_clip(rng, world.EVENT_KINDS[i % len(world.EVENT_KINDS)])
        path = f"/tmp/shapes_train_{os.getpid()}.mp4"
        world.encode_mp4(c["frames"], path)
        c["frames"] = world.decode_mp4(path)
        out += event_examples(c, processor, tokenizer)
    return out


def make_examples(seed, clips, processor, tokenizer, label):
    rng = np.random.default_rng(seed)
    out, t0 = [], time.time()
    for i in range(clips):
        c = world.make_clip(rng)
        path = f"/tmp/shapes_train_{os.getpid()}.mp4"
        world.encode_mp4(c["frames"], path)
        c["frames"] = world.decode_mp4(path)   # what gar decodes (yuv420p round trip)
        out += examples_of_clip(c, processor, tokenizer, check=(i == 0))
        if (i + 1) % 50 == 0:
            print(f"  {label}: {i + 1}/{clips} clips ({time.time() - t0:.0f} s)", flush=True)
    return out


def main():
    global QUESTION_WEIGHTS, MOTION_WORD_WEIGHT, BALANCE_SPEEDS, AUX_POSITION, ROPE_THETA
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(ROOT, "models", "gar-shapes-demo"))
    ap.add_argument("--seed", type=int, default=20251206)
    ap.add_argument("--val-clips", type=int, default=20)
    ap.add_argument("--minutes", type=float, default=40.0, help="training wall-time budget")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--init", help="continue from this checkpoint's weights (a previous run's output)")
    ap.add_argument("--eval-every", type=int, default=300)
    ap.add_argument("--eval-limit", type=int, default=12, help="held-out examples measured during training")
    ap.add_argument("--warmup", type=int, default=100, help="steps of linear learning-rate warm-up")
    ap.add_argument("--freeze-tower", action="store_true",
                    help="train the projector and decoder only: the vision tower and mask embedding keep their "
                         "weights (no backward through them; many more steps per minute)")
    ap.add_argument("--events", type=float, default=0.0,
                    help="fraction of the steps on an event clip (occlusion, leaving, overtaking, size change, "
                         "turning; one- and two-region questions); 0 (default): none")
    ap.add_argument("--add-position-code", action="store_true",
                    help="with --init: add position_code to the loaded tower's position embedding (first half of "
                         "the channels), for a checkpoint trained with the random one")
    ap.add_argument("--question-weights", type=float, nargs=5, default=QUESTION_WEIGHTS.tolist(),
                    help="loss weight of caption, colour, shape, direction, speed")
    ap.add_argument("--motion-word-weight", type=float, default=MOTION_WORD_WEIGHT,
                    help="loss weight of the caption's direction and speed tokens (the others: 1)")
    ap.add_argument("--balance-speeds", action="store_true",
                    help="training clips draw each object's speed uniformly (free draws are ~3 slow : 1 quick)")
    ap.add_argument("--aux-position", type=float, default=0.0, metavar="W",
                    help="add two training-only questions per region (its quadrant on the first / last sampled "
                         "frame) with loss weight W (0: none)")
    ap.add_argument("--layers", type=int, default=2,
                    help="Llama decoder layers; with --init from a shallower checkpoint the new layers start as "
                         "the identity (zero output projections)")
    ap.add_argument("--rope-theta", type=float, default=None,
                    help="the decoder's RoPE base, plain RoPE without llama3 scaling (default: GAR-1B's)")
    a = ap.parse_args()
    if not 0.0 <= a.events <= 1.0:
        ap.error(f"--events must be a fraction between 0 and 1, got {a.events}")
    BALANCE_SPEEDS = a.balance_speeds
    AUX_POSITION = a.aux_position
    QUESTION_WEIGHTS = torch.tensor(a.question_weights)
    MOTION_WORD_WEIGHT = a.motion_word_weight
    gen.check_versions()
    SPEC["text"]["num_hidden_layers"] = a.layers
    if a.rope_theta:
        ROPE_THETA = a.rope_theta
        SPEC["text"]["rope_scaling"] = None
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    tokenizer = AutoTokenizer.from_pretrained(os.path.join(gen.FIXTURES, "tokenizer"))
    processor = video_processor(tokenizer)
    model = build(a.seed, tokenizer)
    if a.init:
        loaded = ref.GARModel.from_pretrained(a.init, use_flash_attn=False, dtype=torch.float32)
        missing, unexpected = model.load_state_dict(loaded.state_dict(), strict=False)
        grown = sorted({int(k.split(".layers.")[1].split(".")[0]) for k in missing})
        assert not unexpected and all(".language_model.layers." in k for k in missing) and \
            all(i >= len(loaded.mllm.model.language_model.layers) for i in grown), (missing, unexpected)
        with torch.no_grad():   # --layers above the loaded count: the new layers start as the identity
            for i in grown:
                layer = model.mllm.model.language_model.layers[i]
                layer.self_attn.o_proj.weight.zero_()
                layer.mlp.down_proj.weight.zero_()
        if grown:
            print("new decoder layers (identity at start):", grown, flush=True)
        print("continuing from", a.init, flush=True)
        if a.add_position_code:
            pos = model.mllm.model.vision_tower.timm_model.pos_embed
            code = position_code(pos.shape[-1], torch.Generator().manual_seed(a.seed))
            half = pos.shape[-1] // 2
            with torch.no_grad():
                pos[:, 1:, :half] += code[:, 1:, :half]
                pos.copy_(pos.to(torch.bfloat16).to(torch.float32))
    model._shapes_tokenizer = tokenizer
    model.mllm.model.language_model.config._attn_implementation = "sdpa"   # eager is ~20x slower here
    n_all = sum(p.numel() for p in model.parameters())
    if a.freeze_tower:
        for name, p in model.named_parameters():
            p.requires_grad_(name.startswith("mllm.model.language_model") or
                             name.startswith("mllm.model.multi_modal_projector") or name.startswith("mllm.lm_head"))
    params = [p for p in model.parameters() if p.requires_grad]
    print(f"{n_all:,} parameters, {sum(p.numel() for p in params):,} trained", flush=True)

    val = make_examples(a.seed + 2, a.val_clips, processor, tokenizer, "val")
    fresh = FastExamples(processor, tokenizer, np.random.default_rng(a.seed + 1))
    for ex in val[:4]:   # the fast path builds the processor's ids
        for ids, _ in ex["seqs"]:
            assert ids[:len(fresh.head)] == fresh.head
            tail = tokenizer.decode(ids[len(fresh.head):])
            assert tokenizer(tail, add_special_tokens=False)["input_ids"] == ids[len(fresh.head):], tail
    print(f"{len(val)} held-out examples; training on fresh clips", flush=True)
    events = None
    if a.events > 0:   # own random streams: the default examples and held-out set stay those of --events 0
        events = EventExamples(processor, tokenizer, np.random.default_rng(a.seed + 3))
        mix = np.random.default_rng(a.seed + 4)
        val += make_event_examples(a.seed + 5, max(1, round(a.val_clips * a.events)), processor, tokenizer)
        print(f"{len(val)} held-out examples with the event clips; {a.events:.0%} of the steps on event clips",
              flush=True)

    opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=0.01, betas=(0.9, 0.98))
    budget = a.minutes * 60
    stop = []   # SIGUSR1 ends training early (the checkpoint is still measured and written)
    signal.signal(signal.SIGUSR1, lambda *_: stop.append(True))
    t0 = time.time()
    step, log, seen, event_steps = 0, [], 0, 0
    model.train()
    while time.time() - t0 < budget and not stop:
        frac = (time.time() - t0) / budget
        lr = a.lr * min(1.0, (step + 1) / a.warmup) * (0.5 * (1 + math.cos(math.pi * min(frac, 1.0))) * 0.95 + 0.05)
        for grp in opt.param_groups:
            grp["lr"] = lr
        on_events = events is not None and mix.random() < a.events
        batch = events.next() if on_events else fresh.next()
        event_steps += on_events
        seen += len(batch)
        loss = sum(loss_of(model, ex) for ex in batch) / len(batch)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        if step % 25 == 0:
            print(f"step {step} loss {loss.item():.4f} lr {lr:.5f} {time.time() - t0:.0f} s", flush=True)
        if step % a.eval_every == 0:
            acc = evaluate(model, val, tokenizer, limit=a.eval_limit)
            print(f"step {step} held-out ({a.eval_limit} examples) {acc}", flush=True)
            log.append(dict(step=step, seconds=round(time.time() - t0), accuracy=acc))
    # ship bf16 weights; measure the shipped (rounded) model
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.to(torch.bfloat16).to(torch.float32))
    final = evaluate(model, val, tokenizer)
    print(f"final ({step} steps, {event_steps} on event clips, {time.time() - t0:.0f} s) held-out {len(val)} examples: {final}", flush=True)
    del model._shapes_tokenizer
    gen.write_checkpoint(a.out, model, tokenizer, SPEC)
    cfg_path = os.path.join(a.out, "config.json")
    cfg = json.load(open(cfg_path))
    cfg["replay"] = {"corrected_box_scaling": CORRECTED_BOX_SCALING}
    json.dump(cfg, open(cfg_path, "w"), indent=2, sort_keys=True)
    json.dump(dict(seed=a.seed, init=a.init, args=vars(a), train_examples=seen, steps=step, event_steps=event_steps,
                   seconds=round(time.time() - t0), lr=a.lr, threads=a.threads, parameters=n_all,
                   held_out_pytorch=final, held_out_examples=len(val), log=log),
              open(os.path.join(a.out, "training_log.json"), "w"), indent=1)
    print("wrote", a.out)


if __name__ == "__main__":
    main()
