// `gar track`: prompts on some frames of a video or frame folder → a mask per object per frame.
// Decodes the frames at the tracking size (long side ≤ 854), converts the prompts (given in the
// frames' own pixel coordinates) to that size, runs `Tracker.track` (streaming: the weight-free
// tracker keeps no frames; SAM 2.1 with --sam2 keeps its prompted frames and decodes the frames
// again for its loop), decodes the frames a second time for
// the overlay and contact sheet, and writes into OUT
// (AtomicOutput.directory: created when missing, files replaced only when all are complete,
// nothing else in OUT touched):
//
//   OUT/masks/<index>.png   one palette PNG per tracked frame at the original size: value k is
//                           object k (1-based, in the order the objects were given), 0 background;
//                           where objects overlap, the pixel has the earlier object's value
//   OUT/masks.json          COCO RLE of each object's whole mask per frame (overlaps kept), with frame index, pts, confidence,
//                           lost flag, status and box; the prompts with SAM 2.1's scores (schema in Sources/Tracking/README.md)
//   OUT/overlay.mp4         the tracked frames with the masks blended in
//   OUT/contact_sheet.png   up to 12 evenly spaced overlay frames in a grid
import Foundation
import Tracking
import Video

public struct TrackJobOptions: Sendable {
    public var input: String
    public var objects: [ObjectSpec]
    public var sampling: SamplingPolicy = .all
    public var out: URL
    public var maxSide = 854
    public var overlay = true
    public var contactSheet = true
    public var quiet = false
    /// The tracker (the CLI resolves --tracker/--sam2 > GAR_SAM2: `TrackerChoice.resolve`).
    public var tracker: TrackerChoice = .flow
    public init(input: String, objects: [ObjectSpec], out: URL) { self.input = input; self.objects = objects; self.out = out }
}

/// What `gar track --json` prints (schema `track` version 2, README "JSON outputs").
public struct TrackJobSummary: Sendable, Codable {
    public struct Object: Sendable, Codable, Equatable {
        public var name: String
        /// Frames where it has a mask / where the tracker gave up on it.
        public var visibleFrames: Int
        public var lostFrames: Int
    }
    /// One prompt and the segmenter's scores of its mask (SAM 2.1 made it: its predicted IoU and
    /// object score; null for the weight-free segmenter, a mask prompt, or a fallback).
    public struct Prompt: Sendable, Codable, Equatable {
        public var name: String
        /// The prompted frame's index in the input.
        public var frame: Int
        public var score: Double?
        public var objectScore: Double?

        public func encode(to encoder: Encoder) throws {   // nil written as null: a fixed schema
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(frame, forKey: .frame)
            try c.encode(score, forKey: .score)
            try c.encode(objectScore, forKey: .objectScore)
        }

        /// masks.json's entry (object `id` is 1-based, as in its frames).
        var json: [String: Any] { ["name": name, "frame": frame, "score": score ?? NSNull(), "object_score": objectScore ?? NSNull()] }
    }
    public var frames: Int
    /// In the order given (names are values, never keys: they are the user's text).
    public var objects: [Object]
    /// In the order given.
    public var prompts: [Prompt]
    /// Wall time per tracked frame, decoding included (decoding and tracking interleave).
    public var msPerFrame: Double
    public var out: String
    /// Damaged data met while reading the input (one line each; empty when clean).
    public var warnings: [String]
    /// The tracker used: "flow" or "sam2", and the SAM 2.1 checkpoint (nil for flow).
    public var tracker: String
    public var sam2Model: String?
    /// 3 (issue 13): `tracker`, `sam2_model`; 4: `prompts` (with SAM 2.1's scores).
    public var schemaVersion = 4

    public func encode(to encoder: Encoder) throws {   // nil written as null: a fixed schema
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(frames, forKey: .frames)
        try c.encode(objects, forKey: .objects)
        try c.encode(prompts, forKey: .prompts)
        try c.encode(msPerFrame, forKey: .msPerFrame)
        try c.encode(out, forKey: .out)
        try c.encode(warnings, forKey: .warnings)
        try c.encode(tracker, forKey: .tracker)
        try c.encode(sam2Model, forKey: .sam2Model)
        try c.encode(schemaVersion, forKey: .schemaVersion)
    }
}

public enum TrackJob {
    public static func run(_ o: TrackJobOptions) throws -> TrackJobSummary {
        try AtomicOutput.checkDirectoryDestination(o.out)   // before decoding and tracking, not after
        let source = try FrameSources.open(o.input)
        let sam2 = try o.tracker.sam2Model.map(SAM2Tracking.load)
        let (W, H) = source.frameSize
        // Prompts: read the files; coordinates stay in the source's frame size.
        var prompts: [ObjectPrompt] = []
        for obj in o.objects {
            for p in obj.prompts {
                var rp = RegionPrompt(box: p.box, points: p.points)
                if let path = p.maskPath { rp.mask = try readMask(path) }
                if let path = p.scribblePath { rp.strokes = try RegionInputs.readScribble(path) }
                prompts.append(ObjectPrompt(name: obj.name, frame: p.frame, prompt: rp))
            }
        }
        let decodeProgress = Progress("decode", quiet: o.quiet)
        let trackProgress = Progress("track", total: nil, quiet: o.quiet)
        var options = Tracker.Options(); options.maxSide = o.maxSide
        let t0 = Date()
        let onDecode: (Int, Int?) -> Void = { done, _ in decodeProgress.advance(note: "frame \(done)") }
        let onTrack: (Int, Int) -> Void = { done, total in trackProgress.advance(note: "\(done)/\(total) frame steps") }
        let result = try sam2.map { try $0.track(source: source, sampling: o.sampling, prompts: prompts, maxSide: o.maxSide,
                                                 decodeProgress: onDecode, progress: onTrack) }
            ?? Tracker.track(source: source, sampling: o.sampling, prompts: prompts, options: options, decodeProgress: onDecode, progress: onTrack)
        let tracks = result.tracks
        // Decoding and tracking interleave (streaming): the time per frame is both.
        let ms = Date().timeIntervalSince(t0) * 1000 / Double(max(1, result.frames.count))
        decodeProgress.finish()
        trackProgress.finish(note: String(format: "%.1f ms/frame (decode + track)", ms))
        let decoded = result.frames
        let w = tracks.width, h = tracks.height
        let promptScores = prompts.map { p in
            let score = tracks.objects.firstIndex { $0.name == p.name }.flatMap { tracks.promptScore(object: $0, frame: p.frame) }
            return TrackJobSummary.Prompt(name: p.name, frame: decoded[p.frame].index, score: score.map { Double($0.iou) },
                                          objectScore: score.map { Double($0.objectScore) })
        }
        // The overlay and contact sheet come from a second decode of the same frames (the tracker
        // kept none).
        let images = o.overlay || o.contactSheet ? try source.frames(o.sampling, window: nil, size: .maxSide(o.maxSide), progress: nil) : nil
        func image(_ t: Int) throws -> RGBImage {
            while let f = try images?.next() {
                if f.index == decoded[t].index { return f.image }
                if f.index > decoded[t].index { break }
            }
            throw PipelineError.invalidInput(what: o.input, reason: "frame \(decoded[t].index) could not be decoded again for the overlay")
        }
        let writeProgress = Progress("write", total: decoded.count, quiet: o.quiet)
        try AtomicOutput.directory(at: o.out) { dir in
            let maskDir = dir.appendingPathComponent("masks")
            try FileManager.default.createDirectory(at: maskDir, withIntermediateDirectories: true)
            var writer: VideoWriter? = nil
            if o.overlay {
                writer = try VideoWriter(path: dir.appendingPathComponent("overlay.mp4").path, width: w, height: h,
                                         fps: source.frameRate ?? 10)
            }
            var frameEntries: [[String: Any]] = []
            var sheetFrames: [RGBImage] = []
            let sheetPicks = Set(sheetIndices(count: decoded.count, max: 12))
            for (t, f) in decoded.enumerated() {
                let labels = tracks.labelMap(at: t)
                // Each object's whole mask at the original size (objects may overlap); the palette
                // PNG draws the earlier object where they do.
                let masks = tracks.objects.map { $0.frames[t].mask.map { $0.width == W && $0.height == H ? $0 : $0.resized(width: W, height: H) } }
                let full = LabelMap(width: W, height: H, masks: masks)
                try ImageIO.writePalettePNG(GrayImage(width: W, height: H, pixels: full.labels), palette: ImageIO.davisPalette,
                                            to: maskDir.appendingPathComponent(String(format: "%05d.png", f.index)).path)
                var objs: [[String: Any]] = []
                for (k, track) in tracks.objects.enumerated() {
                    let m = masks[k] ?? Mask(width: W, height: H)
                    var e: [String: Any] = ["id": k + 1, "name": track.name, "visible": !m.isEmpty,
                                            "lost": track.frames[t].lost, "confidence": Double(track.frames[t].confidence),
                                            "status": FrameStatus(hasMask: !m.isEmpty, lost: track.frames[t].lost).rawValue,
                                            "rle": ["size": [H, W], "counts": RLE(m).compressedString]]
                    if let b = m.boundingBox { e["bbox"] = [b.x, b.y, b.width, b.height] }
                    objs.append(e)
                }
                frameEntries.append(["index": f.index, "pts": f.pts, "objects": objs])
                if writer != nil || (o.contactSheet && sheetPicks.contains(t)) {
                    let ov = overlay(try image(t), labels)
                    try writer?.append(ov)
                    if sheetPicks.contains(t) { sheetFrames.append(ov) }
                }
                writeProgress.advance()
            }
            try writer?.finish()
            let doc: [String: Any] = [
                "format": "gar-masks-2", "schema_version": 4, "warnings": result.warnings,
                "tracker": o.tracker.name, "sam2_model": o.tracker.sam2Model ?? NSNull(),
                "input": o.input, "width": W, "height": H,
                "tracking_size": [w, h], "sampling": "\(o.sampling)",
                "objects": tracks.objects.enumerated().map { ["id": $0.offset + 1, "name": $0.element.name] },
                "prompts": promptScores.map(\.json),
                "frames": frameEntries,
            ]
            try Data(JSONOutput.string(object: doc, pretty: true).utf8).write(to: dir.appendingPathComponent("masks.json"))
            if o.contactSheet, !sheetFrames.isEmpty {
                try ImageIO.writePNG(contactSheet(sheetFrames), to: dir.appendingPathComponent("contact_sheet.png").path)
            }
        }
        writeProgress.finish(note: o.out.path)
        if !o.quiet { for w in result.warnings { printErr("warning: \(o.input): \(w)") } }
        let objects = tracks.objects.map { t in
            TrackJobSummary.Object(name: t.name, visibleFrames: t.frames.filter(\.hasMask).count,
                                   lostFrames: t.frames.filter(\.lost).count)
        }
        return TrackJobSummary(frames: decoded.count, objects: objects, prompts: promptScores, msPerFrame: ms, out: o.out.path, warnings: result.warnings,
                               tracker: o.tracker.name, sam2Model: o.tracker.sam2Model)
    }

    /// Whether gar track may write `relativePath` in its output folder.
    public static func writes(_ relativePath: String) -> Bool {
        ["masks.json", "overlay.mp4", "contact_sheet.png"].contains(relativePath) || relativePath.hasPrefix("masks/")
    }

    /// A mask file: any PNG mode, nonzero = inside (through Video's label reader).
    static func readMask(_ path: String) throws -> Mask {
        let g = try ImageIO.readLabels(path)
        return Mask(width: g.width, height: g.height, bits: g.pixels)
    }

    /// Frames blended 50 % with their object colours (DAVIS palette), object borders opaque.
    public static func overlay(_ img: RGBImage, _ labels: LabelMap) -> RGBImage {
        var out = img
        let w = img.width, h = img.height
        let pal = ImageIO.davisPalette
        for y in 0..<h {
            for x in 0..<w {
                let l = Int(labels.labels[y * w + x])
                guard l > 0 else { continue }
                let c = pal[l % 256]
                let edge = (x > 0 && Int(labels.labels[y * w + x - 1]) != l) || (x + 1 < w && Int(labels.labels[y * w + x + 1]) != l)
                    || (y > 0 && Int(labels.labels[(y - 1) * w + x]) != l) || (y + 1 < h && Int(labels.labels[(y + 1) * w + x]) != l)
                let k = 3 * (y * w + x)
                if edge {
                    out.pixels[k] = c.0; out.pixels[k + 1] = c.1; out.pixels[k + 2] = c.2
                } else {
                    out.pixels[k] = UInt8((Int(img.pixels[k]) + Int(c.0)) / 2)
                    out.pixels[k + 1] = UInt8((Int(img.pixels[k + 1]) + Int(c.1)) / 2)
                    out.pixels[k + 2] = UInt8((Int(img.pixels[k + 2]) + Int(c.2)) / 2)
                }
            }
        }
        return out
    }

    static func sheetIndices(count n: Int, max m: Int) -> [Int] {
        if n <= m { return Array(0..<n) }
        return (0..<m).map { Int((Double($0) * Double(n - 1) / Double(m - 1)).rounded()) }
    }

    /// Grid of thumbnails (4 columns, each 320 px wide).
    static func contactSheet(_ frames: [RGBImage]) -> RGBImage {
        let tw = 320, th = max(1, frames[0].height * tw / max(1, frames[0].width))
        let cols = min(4, frames.count), rows = (frames.count + cols - 1) / cols
        let pad = 4
        var sheet = RGBImage(width: cols * (tw + pad) + pad, height: rows * (th + pad) + pad)
        for (i, f) in frames.enumerated() {
            let t = Tracker.resizeRGB(f, width: tw, height: th)
            let ox = pad + (i % cols) * (tw + pad), oy = pad + (i / cols) * (th + pad)
            for y in 0..<th { for x in 0..<tw {
                let s = 3 * (y * tw + x), d = 3 * ((oy + y) * sheet.width + ox + x)
                sheet.pixels[d] = t.pixels[s]; sheet.pixels[d + 1] = t.pixels[s + 1]; sheet.pixels[d + 2] = t.pixels[s + 2]
            } }
        }
        return sheet
    }
}
