// The JSON answer of `gar caption --json`, `gar ask VIDEO --json`, `gar run` and one line of
// `gar batch` (schema "gar-video-answer-1", `schema_version` 1; keys snake_case and sorted, so the
// same run gives the same bytes apart from the "timings" objects). Documented in pipelines/README.md.
import Foundation

public struct VideoAnswer: Codable, Sendable {
    public static let schemaName = "gar-video-answer-1"
    /// 2 (issue 13): `tracker`, `sam2_model`, and `status` per region frame.
    public static let schemaVersion = 2

    public struct Source: Codable, Sendable {
        /// "video" or "frames" (a folder of images).
        public var kind: String
        public var frameCount: Int
        /// Frames per second (nil for a folder without a given rate).
        public var fps: Double?
        public var width: Int
        public var height: Int

        public func encode(to encoder: Encoder) throws {   // nil written as null: a fixed schema
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(kind, forKey: .kind)
            try c.encode(frameCount, forKey: .frameCount)
            try c.encode(fps, forKey: .fps)
            try c.encode(width, forKey: .width)
            try c.encode(height, forKey: .height)
        }
    }

    /// A frame the model saw.
    public struct SampledFrame: Codable, Sendable, Equatable {
        /// Frame index in the input (decode order; a folder: position in name order).
        public var index: Int
        /// Seconds since frame 0 (nil for a folder of frames without a frame rate).
        public var pts: Double?

        public func encode(to encoder: Encoder) throws {   // nil written as null: a fixed schema
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(index, forKey: .index)
            try c.encode(pts, forKey: .pts)
        }
    }

    /// COCO RLE as pycocotools writes it.
    public struct RLEJSON: Codable, Sendable, Equatable {
        /// [height, width]
        public var size: [Int]
        public var counts: String
    }

    /// One region on one sampled frame.
    public struct RegionFrame: Codable, Sendable {
        public var index: Int
        /// The region has a non-empty mask here (and a replay span in the prompt).
        public var visible: Bool
        /// Tracking confidence 0…1 (1 on prompted frames and for given masks).
        public var confidence: Double
        /// The tracker gave up on the region here (mask withheld) instead of inventing one.
        public var lost: Bool
        /// `visible`, `not_visible` (out of view: SAM 2's object score says it is not there, the
        /// weight-free tracker's mask became empty, or the annotation has no mask) or `lost` (the
        /// weight-free tracker gave up) — `FrameStatus`.
        public var status: String
        /// COCO box [x, y, w, h] of the mask.
        public var bbox: [Int]?
        /// The mask at the frame's size (nil when not visible).
        public var rle: RLEJSON?

        public func encode(to encoder: Encoder) throws {   // nil written as null: a fixed schema
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(index, forKey: .index)
            try c.encode(visible, forKey: .visible)
            try c.encode(confidence, forKey: .confidence)
            try c.encode(lost, forKey: .lost)
            try c.encode(status, forKey: .status)
            try c.encode(bbox, forKey: .bbox)
            try c.encode(rle, forKey: .rle)
        }
    }

    public struct Region: Codable, Sendable {
        /// `<Promptk>`.
        public var name: String
        /// How it was given: the prompt text (tracking) or "annotation".
        public var prompt: String
        public var frames: [RegionFrame]
    }

    /// Seconds per model stage of one answer.
    public struct ModelTimings: Codable, Sendable {
        public var preprocess: Double
        public var vision: Double
        public var replay: Double
        public var prefill: Double
        public var generate: Double
        public var tokensPerSecond: Double
    }

    public struct Answer: Codable, Sendable {
        /// The question as given (a caption: the pipeline's describe question).
        public var question: String
        /// Multiple-choice options, when given.
        public var choices: [String]?
        /// What the model was asked (question, options and the letter instruction).
        public var prompt: String
        public var text: String
        public var tokenIds: [Int]
        /// Multiple choice: the letter read from the text by VideoRefer's official rule.
        public var choice: String?
        public var promptTokens: Int
        public var stoppedOnEos: Bool
        /// Frames run through the vision tower for this answer (0 when all came from the cache).
        public var framesEncoded: Int
        public var timings: ModelTimings
        /// The logits of the first generated token (`--emit-logits`); omitted otherwise.
        public var firstStepLogits: [Float]? = nil

        public func encode(to encoder: Encoder) throws {   // nil written as null: a fixed schema
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(question, forKey: .question)
            try c.encode(choices, forKey: .choices)
            try c.encode(prompt, forKey: .prompt)
            try c.encode(text, forKey: .text)
            try c.encode(tokenIds, forKey: .tokenIds)
            try c.encode(choice, forKey: .choice)
            try c.encode(promptTokens, forKey: .promptTokens)
            try c.encode(stoppedOnEos, forKey: .stoppedOnEos)
            try c.encode(framesEncoded, forKey: .framesEncoded)
            try c.encode(timings, forKey: .timings)
            try c.encodeIfPresent(firstStepLogits, forKey: .firstStepLogits)
        }
    }

    /// Seconds per stage for the whole request.
    public struct Timings: Codable, Sendable {
        /// Model loading (0 when a loaded model was reused).
        public var load: Double
        /// Video decoding (tracking frames and model frames).
        public var decode: Double
        public var track: Double
        public var preprocess: Double
        public var vision: Double
        public var replay: Double
        public var prefill: Double
        public var generate: Double
        public var total: Double
    }

    public var schema = VideoAnswer.schemaName
    public var input: String
    public var source: Source
    public var model: String
    public var pipeline: String
    /// "tracker" or "annotation".
    public var maskSource: String
    /// The tracker used: "flow" or "sam2" (nil with an annotation).
    public var tracker: String?
    /// The SAM 2.1 checkpoint directory with `tracker` "sam2" (else nil).
    public var sam2Model: String?
    /// The frames the model saw, in prompt order.
    public var frames: [SampledFrame]
    /// Frames asked for (more than `frames.count` when the context could not hold them all).
    public var framesRequested: Int
    /// Frames the tracker ran on (0 with an annotation).
    public var trackedFrames: Int
    public var regions: [Region]
    public var answers: [Answer]
    /// The first answer's text, ids, letter and prompt length (the only one for caption/ask).
    public var text: String
    public var tokenIds: [Int]
    public var choice: String?
    public var promptTokens: Int
    /// Damaged data met while reading the input (undecodable packets, frames the header lists
    /// but the file lacks, frames skipped) and changes to the request (fewer frames, sparser
    /// tracking): one line each.
    public var warnings: [String]
    public var timings: Timings

    public func encode(to encoder: Encoder) throws {   // nil written as null: a fixed schema
        try encoder.encodeSchemaVersion(VideoAnswer.schemaVersion)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(schema, forKey: .schema)
        try c.encode(input, forKey: .input)
        try c.encode(source, forKey: .source)
        try c.encode(model, forKey: .model)
        try c.encode(pipeline, forKey: .pipeline)
        try c.encode(maskSource, forKey: .maskSource)
        try c.encode(tracker, forKey: .tracker)
        try c.encode(sam2Model, forKey: .sam2Model)
        try c.encode(frames, forKey: .frames)
        try c.encode(framesRequested, forKey: .framesRequested)
        try c.encode(trackedFrames, forKey: .trackedFrames)
        try c.encode(regions, forKey: .regions)
        try c.encode(answers, forKey: .answers)
        try c.encode(text, forKey: .text)
        try c.encode(tokenIds, forKey: .tokenIds)
        try c.encode(choice, forKey: .choice)
        try c.encode(promptTokens, forKey: .promptTokens)
        try c.encode(warnings, forKey: .warnings)
        try c.encode(timings, forKey: .timings)
    }

    /// One JSON object, sorted keys, snake_case.
    public func json(pretty: Bool = false) throws -> String {
        try JSONOutput.string(self, pretty: pretty)
    }
}

/// What a tracked (or annotated) mask says about its object on one frame: the `status` of the
/// JSON outputs (masks.json, the video answer's region frames).
public enum FrameStatus: String, Sendable {
    /// A non-empty mask.
    case visible
    /// No mask, and the tracker did not give up: out of view (SAM 2.1's object score ≤ 0), the
    /// weight-free tracker's mask became empty, an annotation without a mask there, or a frame the
    /// tracker never reached.
    case notVisible = "not_visible"
    /// The weight-free tracker gave up here rather than invent a mask.
    case lost

    public init(hasMask: Bool, lost: Bool) {
        self = lost ? .lost : hasMask ? .visible : .notVisible
    }
}
