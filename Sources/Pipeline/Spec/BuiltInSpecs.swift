// The shipped pipeline specs, built into the binary so `gar caption`, `gar ask VIDEO` and
// `gar bench videorefer` work from any folder. Each text is byte-identical to pipelines/NAME.yaml
// (PipelineSpecTests checks it); edit both together. The `model` key of a built-in spec is
// ignored (it is relative to the pipelines/ folder): those commands take --model.

extension PipelineSpec {
    /// A shipped spec by name (the file name without .yaml).
    public enum BuiltIn: String, CaseIterable, Sendable {
        case captionTrackedObject = "caption-tracked-object"
        case temporalQA = "temporal-qa"
        case videoReferBenchQ = "videorefer-bench-q"

        /// The YAML text, identical to pipelines/<rawValue>.yaml.
        public var text: String {
            switch self {
            case .captionTrackedObject: return BuiltInText.captionTrackedObject
            case .temporalQA: return BuiltInText.temporalQA
            case .videoReferBenchQ: return BuiltInText.videoReferBenchQ
            }
        }
    }

    /// A shipped spec (its model directory dropped: callers pass --model).
    public static func builtIn(_ b: BuiltIn) -> PipelineSpec {
        // The texts are tested to parse; a failure here is a build defect, not user input.
        var spec = (try? parse(b.text, source: "built-in \(b.rawValue)")) ?? PipelineSpec()
        spec.model = nil
        return spec
    }
}

enum BuiltInText {
    static let captionTrackedObject = #"""
# Caption one tracked object across a clip: the prompt (mask, box, clicks or scribble on one frame)
# is tracked through the video, then GAR describes the region over the sampled frames.
# `gar caption` runs this spec (built into the binary; a test keeps the two identical).
# Every key is described in pipelines/README.md.
version: 1
description: Track one region through the clip and describe it across the sampled frames.
# Model directory, relative to this file. The tiny test checkpoint: its words are random.
# Point it (or --model) at a real GAR-1B download for real captions.
model: ../Tests/Fixtures/gar-tiny
frames:
  # GAR-1B: each frame costs 256 image tokens plus 256 per region visible on it; 8 frames of one
  # region is a 4.1k-token prompt (16 would be 8.2k of the 11,520 positions and twice the time).
  count: 8
  rule: plm
  from_annotation: true
  fit_context: true
tracker:
  fps: 15
  max_side: 854
  max_frames: 1200
prompt:
  text: "There are some objects I am curious about: {regions}\n{region_lines}{question}"
  region_name: "<Prompt{k}>;"
  region_separator: " "
  region_line: "<Prompt{k}>: {crops}\n"
  multiple_choice_suffix: ". Answer with the option's letter from the given choices directly."
questions:
  - Describe this masked region in detail.
generation:
  max_new_tokens: 1024
  temperature: 0
  top_p: 1
  seed: 0
  double_bos: true
replay:
  corrected_box_scaling: false

"""#

    static let temporalQA = #"""
# Temporal and relational questions about one or more regions of a clip. Regions are <Prompt0>,
# <Prompt1>, ... in the order they are given (--region, or the annotation's order). `gar ask` on a
# video runs this spec (built into the binary) with its --question instead of the questions below.
# Several questions on one clip share the vision features (computed once per frame).
# Every key is described in pipelines/README.md.
version: 1
description: Answer temporal and relational questions about tracked regions.
model: ../Tests/Fixtures/gar-tiny
frames:
  # 8 frames hold up to 4 regions visible on every frame within GAR-1B's 11,520 positions
  # (8 x 256 x (1 + 4) = 10,240 image and region tokens); fit_context drops frames for 5.
  count: 8
  rule: plm
  from_annotation: true
  fit_context: true
tracker:
  fps: 15
  max_side: 854
  max_frames: 1200
prompt:
  text: "There are some objects I am curious about: {regions}\n{region_lines}{question}"
  region_name: "<Prompt{k}>;"
  region_separator: " "
  region_line: "<Prompt{k}>: {crops}\n"
  multiple_choice_suffix: ". Answer with the option's letter from the given choices directly."
questions:
  - What does <Prompt0> do from the beginning to the end of the video?
  - How does the position of <Prompt0> change over time?
generation:
  max_new_tokens: 256
  temperature: 0
  top_p: 1
  seed: 0
  double_bos: true
replay:
  corrected_box_scaling: false

"""#

    static let videoReferBenchQ = #"""
# VideoRefer-Bench-Q (1,000 multiple-choice questions on DAVIS and MeViS clips with per-object
# COCO RLE masks): `gar bench videorefer` runs this spec (built into the binary). Masks come from
# the benchmark's annotations, so nothing is tracked. Every key is described in pipelines/README.md.
version: 1
description: VideoRefer-Bench-Q multiple choice with the benchmark's masks.
model: ../Tests/Fixtures/gar-tiny
frames:
  # VideoRefer's own runner feeds 16 frames. With GAR-1B's 11,520 positions 16 frames hold one
  # region visible everywhere (16 x 512 = 8,192 tokens); fit_context uses fewer frames for more
  # regions (14 for two). Frames are picked among the annotated ones by VideoRefer's rule.
  count: 16
  rule: videorefer
  from_annotation: true
  fit_context: true
tracker:
  fps: 15
  max_side: 854
  max_frames: 1200
prompt:
  text: "There are some objects I am curious about: {regions}\n{region_lines}{question}"
  region_name: "<Prompt{k}>;"
  region_separator: " "
  region_line: "<Prompt{k}>: {crops}\n"
  # VideoRefer-Bench-Q's wording: Question + " " + options joined by " " + this suffix.
  multiple_choice_suffix: ". Answer with the option's letter from the given choices directly."
generation:
  # The answer is a letter (maybe with its option text); greedy stops at the eos.
  max_new_tokens: 64
  temperature: 0
  top_p: 1
  seed: 0
  double_bos: true
replay:
  corrected_box_scaling: false
videorefer:
  # multi: every annotated frame's mask; single: only the mask on the question's frame_idx.
  mask_mode: multi

"""#
}
