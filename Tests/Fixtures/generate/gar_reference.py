"""The GAR reference, assembled from the stock reference stack plus GAR's small glue.

Everything numeric comes from the pinned libraries: timm 1.0.19 `Eva` (the Perception Encoder tower, built
through transformers' `TimmWrapperModel`), transformers 4.56.2 `PerceptionLMForConditionalGeneration`
(projector, 2x2 pooling, Llama decoder, generation), transformers' `PerceptionLMImageProcessorFast` and
`PerceptionLMProcessor` (thumb+tile preprocessing, chat template, token expansion) and torchvision's
`roi_align`. What GAR adds on top is small and is re-written here from GAR's released code
(github.com/Haochen-Wang409/Grasp-Any-Region: hf_models/configuration_gar.py, hf_models/modeling_gar.py,
models/modeling/modeling_perception_lm.py, models/modeling/image_processing_perception_lm_fast.py,
evaluation/eval_dataset.py) and GAR-SPEC.md:

* `GARConfig`                 - the wrapper config (model_type "GAR", mllm_config, crop_tokens_ids, ...).
* `GARModel`                  - attributes `mllm` and `mask_patch_embedding` (so the checkpoint keys are the
                                real ones) and `generate` = mask ids -> mask embedding -> image features ->
                                placeholder scatter -> feature replay (RoI-Align, double 1/28 scaling) ->
                                `mllm.generate`.
* `patch_perception_lm`       - GAR's two changes to the PerceptionLM model: the timm `forward_features` that
                                adds the mask embedding right after `patch_embed`, and `get_image_features`
                                taking `mask_embeds`.
* `GARImageProcessorFast`     - GAR's two changes to the image processor: every resize uses the configured
                                `resample` and the output carries `aspect_ratio = [ncw, nch]`.
* `GARProcessor`              - what the hub `processing_gar.py` does (its body is not public; GAR-SPEC 15.6
                                verified the behaviour): the stock PerceptionLM processor for text + images, and
                                the same image processor with NEAREST resampling for the visual-prompt id map.
* `single_region_inputs`, `multi_region_inputs` - evaluation/eval_dataset.py (SingleRegionCaptionDataset,
                                MultiRegionDataset), quirks included (int16 id map, last-mask bbox).
* `video_inputs`, `GARModel.generate_video` - our video protocol v1 (ARCHITECTURE.md section 4), built from the
                                same components.

`GARModel.generate` and `generate_video` take an optional `trace` dict; when given, every intermediate stage is
stored in it (see README.md for the names). The math is unchanged by tracing.
"""
import copy
import re

import numpy as np
import torch
import torchvision
from PIL import Image
from torch import nn
from transformers import GenerationConfig, PerceptionLMConfig, PerceptionLMForConditionalGeneration
from transformers.configuration_utils import PretrainedConfig
from transformers.image_utils import PILImageResampling
from transformers.modeling_utils import PreTrainedModel
from transformers.models.perception_lm.image_processing_perception_lm_fast import PerceptionLMImageProcessorFast
from transformers.models.perception_lm.processing_perception_lm import PerceptionLMProcessor

VISUAL_PROMPT_TOKENS = [f"<Prompt{i}>" for i in range(5)] + ["<NO_Prompt>"]
TILE_TOKENS = 256  # (448 / 14 / 2)^2 tokens per tile after the 2x2 pooling


# --------------------------------------------------------------------------------------------------------------
# Config
# --------------------------------------------------------------------------------------------------------------
class GARConfig(PretrainedConfig):
    """GAR's wrapper config (hf_models/configuration_gar.py), same fields and the same derived values."""

    model_type = "GAR"
    is_composition = True

    def __init__(self, mllm_config=None, prompt_numbers=5,
                 crop_tokens_ids=(128004, 128005, 128008, 128010, 128011), use_flash_attn=True, **kwargs):
        super().__init__(**kwargs)
        self.mllm_config = PerceptionLMConfig(**(mllm_config or {}))
        self.prompt_numbers = prompt_numbers
        self.crop_tokens_ids = list(crop_tokens_ids)
        if len(self.crop_tokens_ids) != self.prompt_numbers:
            raise ValueError(f"crop_tokens_ids {self.crop_tokens_ids} must have {self.prompt_numbers} entries")
        # Mask-embedding conv kernel = img_size / ref_feat_shape (14); GAR falls back to 16 when absent.
        try:
            args = self.mllm_config.vision_config.model_args
            self.patch_size_h = args["img_size"][0] // args["ref_feat_shape"][0]
            self.patch_size_w = args["img_size"][1] // args["ref_feat_shape"][1]
        except (AttributeError, KeyError, TypeError):
            self.patch_size_h = self.patch_size_w = 16
        self.kernel_size = [self.patch_size_h, self.patch_size_w]
        # Mask-embedding width = vision num_features; GAR silently falls back to 1280 (GAR-SPEC 15.4).
        self.mask_path_embedding_out_channels = getattr(self.mllm_config.vision_config, "num_features", 1280)
        self.mllm_config.use_flash_attn = bool(use_flash_attn)
        self.mllm_config.text_config.use_flash_attn = bool(use_flash_attn)
        self.mllm_config.vision_config.use_flash_attn = False

    def to_dict(self):
        out = copy.deepcopy(self.__dict__)
        out["mllm_config"] = self.mllm_config.to_dict()
        out["model_type"] = self.__class__.model_type
        return out


# --------------------------------------------------------------------------------------------------------------
# GAR's changes to the PerceptionLM model (models/modeling/modeling_perception_lm.py)
# --------------------------------------------------------------------------------------------------------------
def _forward_features_with_mask(self, x, mask_embeds=None):
    """timm Eva.forward_features with GAR's mask term added to the patch tokens, before CLS and pos-embed."""
    x = self.patch_embed(x)
    if mask_embeds is not None:
        x = x + mask_embeds.flatten(2).transpose(1, 2)
    x, rot_pos_embed = self._pos_embed(x)
    x = self.norm_pre(x)
    for blk in self.blocks:
        x = blk(x, rope=rot_pos_embed)
    return self.norm(x)


def _get_image_features_with_mask(self, pixel_values, mask_embeds=None, **kwargs):
    """PerceptionLMModel.get_image_features that also takes GAR's mask embeddings ([tiles, 3, 448, 448] input)."""
    if pixel_values.dim() == 5:
        pixel_values = pixel_values.flatten(0, 1)
    hidden = self.vision_tower(pixel_values, mask_embeds=mask_embeds).last_hidden_state
    if self.config.vision_use_cls_token:
        hidden = hidden[:, 1:, :]
    return self.multi_modal_projector(hidden)


def patch_perception_lm(mllm):
    """Applies GAR's changes to a stock PerceptionLMForConditionalGeneration instance: the two monkey-patches, and
    the forwarders GAR's copy of the class has (get_image_features / get_placeholder_mask on the outer model)."""
    timm_model = mllm.model.vision_tower.timm_model
    timm_model.forward_features = _forward_features_with_mask.__get__(timm_model)
    mllm.model.get_image_features = _get_image_features_with_mask.__get__(mllm.model)
    mllm.get_image_features = mllm.model.get_image_features
    mllm.get_placeholder_mask = mllm.model.get_placeholder_mask
    return mllm


# --------------------------------------------------------------------------------------------------------------
# The GAR model
# --------------------------------------------------------------------------------------------------------------
def roi_box(bbox, feat_h, feat_w):
    """GAR's RoI box for a normalised (x1, y1, x2, y2) on a feat_h x feat_w map, with the reference's double
    scaling: the box is brought to feature units here, and roi_align scales it by 1/28 again.
    Returns (roi float32 [5] = [batch 0, x1, y1, x2, y2], spatial_scale python float)."""
    x1, y1, x2, y2 = bbox
    orig_h, orig_w = feat_h * 28, feat_w * 28
    spatial_scale = feat_w / orig_w
    coords = [x1 * orig_w * spatial_scale, y1 * orig_h * spatial_scale,
              x2 * orig_w * spatial_scale, y2 * orig_h * spatial_scale]
    return torch.tensor([0] + coords, dtype=torch.float32), spatial_scale


def replay_features(feature_map, bbox):
    """RoI-Align (torchvision, aligned=True, sampling_ratio=2, 16x16) of one box over a [1, C, h, w] map.
    Returns (roi [5], roi features [256, C] in row-major bin order)."""
    feat_h, feat_w = feature_map.shape[2:]
    roi, spatial_scale = roi_box(bbox, feat_h, feat_w)
    out = torchvision.ops.roi_align(input=feature_map.float(), boxes=roi.unsqueeze(0), output_size=(16, 16),
                                    spatial_scale=spatial_scale, sampling_ratio=2, aligned=True)
    return roi, out.permute(0, 2, 3, 1).flatten(1, 2).to(feature_map.dtype).squeeze(0)


class GARModel(PreTrainedModel):
    """GAR's model wrapper (hf_models/modeling_gar.py): same attribute names, so the same checkpoint keys."""

    config_class = GARConfig
    main_input_name = "pixel_values"
    base_model_prefix = "language_model"
    _no_split_modules = ["LlamaDecoderLayer"]
    _supports_flash_attn_2 = True
    supports_gradient_checkpointing = True

    def __init__(self, config, mllm=None, mask_patch_embedding=None, use_flash_attn=True):
        super().__init__(config)
        config.mllm_config.use_flash_attn = bool(use_flash_attn)
        config.mllm_config.text_config.use_flash_attn = bool(use_flash_attn)
        config.mllm_config.vision_config.use_flash_attn = False
        config.mllm_config._attn_implementation = "flash_attention_2" if use_flash_attn else "eager"
        config.mllm_config.vision_config._attn_implementation = "eager"
        self.prompt_numbers = config.prompt_numbers
        self.mllm = mllm if mllm is not None else PerceptionLMForConditionalGeneration(config.mllm_config)
        patch_perception_lm(self.mllm)
        self.mask_patch_embedding = mask_patch_embedding if mask_patch_embedding is not None else nn.Conv2d(
            3, config.mask_path_embedding_out_channels, kernel_size=config.kernel_size,
            stride=config.kernel_size, bias=False)
        self.crop_tokens_ids = config.crop_tokens_ids

    def get_input_embeddings(self):
        return self.mllm.model.language_model.get_input_embeddings()

    def get_output_embeddings(self):
        return self.mllm.model.language_model.get_output_embeddings()

    @staticmethod
    def _merge(tiles, ncw, nch):
        """[B, ncw*nch, C, 16, 16] tile maps (row-major grid) -> one [B, C, 16*nch, 16*ncw] map."""
        b, n, c, th, tw = tiles.size()
        assert n == ncw * nch, f"{ncw * nch} != {n}"
        tiles = tiles.view(b, nch, ncw, c, th, tw).permute(0, 3, 1, 4, 2, 5).contiguous()
        return tiles.view(b, c, nch * th, ncw * tw)

    def mask_embeddings(self, global_mask_values, trace=None):
        """Normalised id-map tiles -> integer prompt ids -> binary union mask -> bias-free conv (GAR-SPEC 3.5, 4.2)."""
        ids = torch.round((global_mask_values + 1.0) / 2.0 * 255.0).long()
        ids = torch.clamp(ids, min=0, max=self.prompt_numbers)
        binary = (ids != self.prompt_numbers).to(self.mllm.dtype)
        embeds = self.mask_patch_embedding(binary)
        if trace is not None:
            trace["mask_ids"] = ids
            trace["mask_binary"] = binary
            trace["mask_embeds"] = embeds.flatten(2).transpose(1, 2)  # [tiles, 1024, D] token order
        return embeds

    def image_embeddings(self, pixel_values, global_mask_values, input_ids, trace=None):
        """Token embeddings with the <|image|> rows replaced by the projected tile features."""
        pixel_values = pixel_values.to(self.device).to(self.mllm.dtype)
        mask_embeds = self.mask_embeddings(global_mask_values, trace) if global_mask_values is not None else None
        inputs_embeds = self.mllm.get_input_embeddings()(input_ids)
        image_features = self.mllm.get_image_features(pixel_values=pixel_values, mask_embeds=mask_embeds)
        image_features = image_features.to(inputs_embeds.device, dtype=inputs_embeds.dtype)
        special_image_mask, _ = self.mllm.get_placeholder_mask(input_ids, inputs_embeds=inputs_embeds,
                                                               image_features=image_features)
        inputs_embeds = inputs_embeds.masked_scatter(special_image_mask, image_features)
        if trace is not None:
            trace["image_features"] = image_features
            trace["inputs_embeds_before_replay"] = inputs_embeds[0].clone()
        return inputs_embeds, image_features

    def _generate_from_embeds(self, inputs_embeds, attention_mask, generation_config, trace):
        out = self.mllm.generate(inputs_embeds=inputs_embeds, attention_mask=attention_mask,
                                 generation_config=generation_config, use_cache=True,
                                 return_dict_in_generate=True, output_logits=trace is not None)
        if trace is not None:
            trace["inputs_embeds"] = inputs_embeds[0]
            trace["step_logits"] = torch.stack([l[0] for l in out.logits])  # [steps, vocab]
        return out

    @torch.no_grad()
    def generate(self, pixel_values=None, global_mask_values=None, aspect_ratios=None, bboxes=None,
                 input_ids=None, attention_mask=None, generation_config=None, trace=None, **kwargs):
        """Image mode, exactly GARModel.generate: replay over the merged non-thumbnail tiles."""
        inputs_embeds, image_features = self.image_embeddings(pixel_values, global_mask_values, input_ids, trace)
        # Feature replay: the thumbnail (tile 0) is excluded from the merged map.
        tiles = image_features[1:].unsqueeze(0)
        tiles = tiles.view(1, tiles.shape[1], 16, 16, tiles.shape[-1]).permute(0, 1, 4, 2, 3)
        ncw, nch = aspect_ratios[0][0], aspect_ratios[0][1]
        merged = self._merge(tiles, ncw, nch)
        embeds = inputs_embeds[0]
        replays = []
        for crop_token in self.crop_tokens_ids:
            if crop_token not in input_ids[0]:
                continue
            where = input_ids[0].eq(crop_token).nonzero().squeeze()
            head, tail = where.min().item(), where.max().item()
            roi, feats = replay_features(merged, bboxes[0][str(crop_token)])
            embeds = torch.cat([embeds[:head], feats, embeds[tail + 1:]])
            replays.append({"crop_token": crop_token, "start": head, "roi": roi, "features": feats})
        inputs_embeds = embeds.unsqueeze(0)
        if trace is not None:
            trace["merged_map"] = merged[0]
            trace["replays"] = replays
        return self._generate_from_embeds(inputs_embeds, attention_mask, generation_config, trace)

    @torch.no_grad()
    def generate_video(self, pixel_values, global_mask_values, input_ids, attention_mask, spans,
                       generation_config, trace=None):
        """Video protocol v1: one tile per frame; span (region k, frame f) replays RoI-Align over frame f's own
        16x16 map with region k's own box at frame f. `spans` = [{region, frame, start, bbox}]."""
        inputs_embeds, image_features = self.image_embeddings(pixel_values, global_mask_values, input_ids, trace)
        frames = image_features.view(image_features.shape[0], 16, 16, -1).permute(0, 3, 1, 2)  # [F, C, 16, 16]
        embeds = inputs_embeds[0]
        replays = []
        for span in spans:
            roi, feats = replay_features(frames[span["frame"]:span["frame"] + 1], span["bbox"])
            start = span["start"]
            embeds = torch.cat([embeds[:start], feats, embeds[start + TILE_TOKENS:]])
            replays.append(dict(span, roi=roi, features=feats))
        if trace is not None:
            trace["replays"] = replays
        return self._generate_from_embeds(embeds.unsqueeze(0), attention_mask, generation_config, trace)


# --------------------------------------------------------------------------------------------------------------
# Processing
# --------------------------------------------------------------------------------------------------------------
class GARImageProcessorFast(PerceptionLMImageProcessorFast):
    """The PerceptionLM fast image processor with GAR's two changes (GAR-SPEC 3): the configured `resample`
    is used by every resize (stock always resizes BICUBIC), and `aspect_ratio` = [ncw, nch] is returned."""

    def resize(self, image, tile_size, max_num_tiles, resample=None, input_data_format=None):
        image, aspect_ratio = super().resize(image, tile_size, max_num_tiles, resample=self.resample,
                                             input_data_format=input_data_format)
        if max_num_tiles > 1:
            self._aspect_ratio = [int(aspect_ratio[0]), int(aspect_ratio[1])]
        return image, aspect_ratio

    def _preprocess(self, images, **kwargs):
        self._aspect_ratio = [1, 1]
        out = super()._preprocess(images, **kwargs)
        out["aspect_ratio"] = torch.tensor(self._aspect_ratio)
        return out

    def tile_grid(self, width, height):
        """(ncw, nch, used_fallback) exactly as resize() chooses it for max_num_tiles > 1."""
        fit = self._fit_image_to_canvas(img_width=width, img_height=height, tile_size=self.tile_size)
        if fit is not None:
            return int(fit[0]), int(fit[1]), False
        near = self._find_closest_aspect_ratio(img_width=width, img_height=height, tile_size=self.tile_size)
        return int(near[0]), int(near[1]), True


class GARProcessor:
    """Text + image processing as GAR's processor does it: the stock PerceptionLM processor (chat template,
    <|image|> expansion to 256 per tile, tokenisation with add_special_tokens=True -> double BOS) and, for the
    visual-prompt id map, the same image processor with NEAREST resampling -> `mask_values`."""

    def __init__(self, image_processor, video_processor, tokenizer, patch_size=14, pooling_ratio=2,
                 chat_template=None):
        self.plm = PerceptionLMProcessor(video_processor=video_processor, image_processor=image_processor,
                                         tokenizer=tokenizer, patch_size=patch_size, pooling_ratio=pooling_ratio,
                                         chat_template=chat_template)
        self.tokenizer = tokenizer
        self.image_processor = image_processor
        self.mask_processor = copy.deepcopy(image_processor)
        self.mask_processor.resample = PILImageResampling.NEAREST

    def apply_chat_template(self, messages, **kwargs):
        return self.plm.apply_chat_template(messages, **kwargs)

    def __call__(self, text, images, visual_prompts, return_tensors="pt"):
        out = self.plm(text=text, images=images, return_tensors=return_tensors)
        out["mask_values"] = self.mask_processor(images=visual_prompts, return_tensors=return_tensors)["pixel_values"]
        return out

    def canvases(self, image):
        """The uint8 resized images before normalisation: (thumbnail [3,448,448], canvas [3,nch*448,ncw*448])
        for thumb+tile, or (tile [3,448,448], None) for vanilla. Same calls as _preprocess makes."""
        ip = self.image_processor
        t = torch.from_numpy(np.array(image.convert("RGB"))).permute(2, 0, 1).contiguous().unsqueeze(0)
        thumb, _ = ip.resize(t, ip.tile_size, max_num_tiles=1)
        if ip.vision_input_type != "thumb+tile":
            return thumb[0], None
        canvas, _ = ip.resize(t, ip.tile_size, max_num_tiles=ip.max_num_tiles)
        return thumb[0], canvas[0]


def prompt_ids(tokenizer):
    """eval_dataset.py's prompt-id table: token id - 128256 (only right for the real vocabulary; GAR-SPEC 15.3).
    With a small tokenizer the same expression must be written as id - id(<Prompt0>) to give 0..5."""
    base = tokenizer.convert_tokens_to_ids("<Prompt0>")
    return {tok: tokenizer.convert_tokens_to_ids(tok) - base for tok in VISUAL_PROMPT_TOKENS}


def _id_map_image(height, width, masks_in_fill_order, prompt_id_of, no_prompt_id):
    """The visual-prompt map: -1 * np.ones(uint8) (int16 under numpy 1.26), first region wins, rest NO_Prompt."""
    filled = -1 * np.ones((height, width), dtype=np.uint8)
    assert filled.dtype == np.int16, "numpy 1.26 value-based casting expected (GAR-SPEC 3.5)"
    for mask, pid in zip(masks_in_fill_order, prompt_id_of):
        filled[(filled == -1) & mask.astype(bool)] = pid
    filled[filled == -1] = no_prompt_id
    return filled


def _bbox(mask, width, height):
    ys_xs = np.argwhere(mask)
    y_min, x_min = ys_xs.min(axis=0)
    y_max, x_max = ys_xs.max(axis=0)
    return (x_min / width, y_min / height, x_max / width, y_max / height)


def _crop_token(tokenizer, k):
    return tokenizer.convert_tokens_to_ids(f"<|reserved_special_token_{k + 2}|>")


def single_region_inputs(processor, image, mask, prompt_token="<Prompt1>"):
    """evaluation/eval_dataset.py SingleRegionCaptionDataset: the describe prompt with <Prompt1>."""
    tok = processor.tokenizer
    pids = prompt_ids(tok)
    filled = _id_map_image(image.height, image.width, [mask.astype(np.uint8)], [pids[prompt_token]],
                           pids["<NO_Prompt>"])
    k = int(re.match(r"<Prompt(\d+)>", prompt_token).group(1))
    bboxes = {str(_crop_token(tok, k)): _bbox(mask.astype(np.uint8), image.width, image.height)}
    crop = f"<|reserved_special_token_{k + 2}|>"
    text = (f"There are some objects I am curious about: {prompt_token};\n{prompt_token}: {crop}"
            "Describe this masked region in detail.").replace(crop, crop * TILE_TOKENS)
    return _model_inputs(processor, image, filled, text, bboxes)


def multi_region_inputs(processor, image, masks, question):
    """evaluation/eval_dataset.py MultiRegionDataset with the set order fixed ascending (GAR-SPEC 5.2) and its
    bbox quirk: every region gets the bbox of the LAST mask (GAR-SPEC 6.5)."""
    tok = processor.tokenizer
    pids = prompt_ids(tok)
    masks_np = [np.array(m).astype(np.uint8) for m in masks]
    found = set(re.findall(r"<Prompt\d+>", question))
    assert len(found) == len(masks), "the question must name exactly <Prompt0>..<Prompt{R-1}>"
    order = sorted(found, key=lambda s: int(s[7:-1]))  # the reference iterates a set; we fix ascending order
    objects_desc = "There are some objects I am curious about: "
    sub = ""
    for p in order:
        k = int(p[7:-1])
        crop = f"<|reserved_special_token_{k + 2}|>"
        objects_desc += f"{p}; "
        sub += f"{p}: {crop * TILE_TOKENS}\n"
    text = objects_desc + "\n" + sub + "\n" + question
    last = len(masks) - 1  # `mask_id` leaks from the earlier loop in the reference
    fill_masks = [masks[int(p[7:-1])] for p in order]
    filled = _id_map_image(image.height, image.width, fill_masks, [pids[p] for p in order], pids["<NO_Prompt>"])
    bboxes = {str(_crop_token(tok, int(p[7:-1]))): _bbox(masks_np[last], image.width, image.height) for p in order}
    out = _model_inputs(processor, image, filled, text, bboxes)
    out["region_order"] = [int(p[7:-1]) for p in order]
    return out


def _model_inputs(processor, image, filled, text, bboxes):
    visual_prompt = Image.fromarray(filled)
    messages = [{"role": "user", "content": [{"type": "image", "image": image}, {"type": "text", "text": text}]}]
    raw_prompt = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    mi = processor(text=[raw_prompt], images=[image], visual_prompts=[visual_prompt], return_tensors="pt")
    return dict(
        input_ids=mi["input_ids"],
        attention_mask=mi["attention_mask"].to(torch.float32),
        pixel_values=mi["pixel_values"].to(torch.float32).flatten(0, 1),
        global_mask_values=mi["mask_values"].to(torch.float32).squeeze(),
        bboxes=[bboxes],
        aspect_ratios=mi["aspect_ratio"].unsqueeze(0),
        raw_prompt=raw_prompt,
        user_text=text,
        id_map=filled,
    )


def video_inputs(processor, frames, region_masks, question):
    """Video protocol v1 (ARCHITECTURE.md 4). frames: F PIL images; region_masks[k][f]: HxW bool array or None
    (not visible). The processor's image processors must be in "vanilla" mode (one squashed 448 tile)."""
    tok = processor.tokenizer
    pids = prompt_ids(tok)
    n_regions = len(region_masks)
    visible = [[m is not None and bool(np.any(m)) for m in region_masks[k]] for k in range(n_regions)]
    prompts = [f"<Prompt{k}>" for k in range(n_regions)]
    text = "There are some objects I am curious about: " + " ".join(f"{p};" for p in prompts) + "\n"
    for k in range(n_regions):
        crop = f"<|reserved_special_token_{k + 2}|>"
        text += f"{prompts[k]}: " + crop * (TILE_TOKENS * sum(visible[k])) + "\n"
    text += question
    id_maps = []
    for f, frame in enumerate(frames):
        vis = [k for k in range(n_regions) if visible[k][f]]
        id_maps.append(_id_map_image(frame.height, frame.width, [region_masks[k][f] for k in vis],
                                     [pids[prompts[k]] for k in vis], pids["<NO_Prompt>"]))
    content = [{"type": "image", "image": fr} for fr in frames] + [{"type": "text", "text": text}]
    raw_prompt = processor.apply_chat_template([{"role": "user", "content": content}], add_generation_prompt=True,
                                               tokenize=False)
    mi = processor(text=[raw_prompt], images=list(frames), visual_prompts=[Image.fromarray(m) for m in id_maps],
                   return_tensors="pt")
    ids = mi["input_ids"][0]
    spans = []
    for k in range(n_regions):
        where = ids.eq(_crop_token(tok, k)).nonzero().flatten().tolist()
        frames_k = [f for f in range(len(frames)) if visible[k][f]]
        assert len(where) == TILE_TOKENS * len(frames_k)
        for j, f in enumerate(frames_k):
            start = where[j * TILE_TOKENS]
            assert where[(j + 1) * TILE_TOKENS - 1] == start + TILE_TOKENS - 1, "spans must be contiguous"
            spans.append(dict(region=k, frame=f, start=start,
                              bbox=_bbox(region_masks[k][f].astype(np.uint8), frames[f].width, frames[f].height)))
    spans.sort(key=lambda s: s["start"])
    return dict(
        input_ids=mi["input_ids"],
        attention_mask=mi["attention_mask"].to(torch.float32),
        pixel_values=mi["pixel_values"].to(torch.float32).flatten(0, 1),
        global_mask_values=mi["mask_values"].to(torch.float32).flatten(0, 1),
        spans=spans,
        raw_prompt=raw_prompt,
        user_text=text,
        id_maps=id_maps,
        visible=visible,
    )


def greedy_config(tokenizer, max_new_tokens):
    """The generation config every GAR demo/eval script passes (GAR-SPEC 7.2)."""
    return GenerationConfig(max_new_tokens=max_new_tokens, do_sample=False, eos_token_id=tokenizer.eos_token_id,
                            pad_token_id=tokenizer.pad_token_id)


def decode_text(tokenizer, ids):
    """What the demos print (GAR-SPEC 15.2)."""
    return tokenizer.decode(ids, skip_special_tokens=True).strip()
