// Where the regions of a video request come from:
//
//  * prompts to track — `--region` strings of `gar ask` (and the --mask/--box/--point/--scribble
//    flags of `gar caption`), one region per string, region k = `<Promptk>`:
//
//        mask=PATH | box=x1,y1,x2,y2 | point=x,y[,neg] | scribble=PATH | frame=K
//
//    space-separated, combinable as in `gar track` (a box plus clicks = GrabCut in the box with
//    the clicks as hard labels). `frame=K` is the frame the prompt is drawn on (default 0); a bare
//    word without `=` is a mask path. Several `frame=` in one string are re-prompts of the region
//    (each applies to the prompt items after it), as `gar track --frame K` does.
//
//  * an annotation file (VideoRefer-Bench style): a JSON list with one dict per region, in
//    `<Prompt0>`, `<Prompt1>`, … order, mapping a frame index (string) to {"segmentation": COCO RLE}.
//    A missing key, a null segmentation or an empty mask = not visible on that frame.
import Foundation
import Tracking
import Video

public enum RegionInputs {
    /// Parses one `--region` string into the tracker's object spec (named `<Promptk>`).
    public static func parseRegion(_ text: String, index k: Int) throws -> ObjectSpec {
        let what = "--region '\(text)'"
        var tokens = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == ";" }).map(String.init)
        guard !tokens.isEmpty else { throw PipelineError.invalidInput(what: what, reason: "empty region (give mask=PATH, box=x1,y1,x2,y2, point=x,y or scribble=PATH)") }
        // One frame= applies to the whole region wherever it is written.
        let frameTokens = tokens.filter { $0.hasPrefix("frame=") }
        if frameTokens.count == 1 {
            tokens.removeAll { $0.hasPrefix("frame=") }
            tokens.insert(frameTokens[0], at: 0)
        }
        // Every item is checked before any is applied (the first bad item is the error).
        var items: [(key: String, value: String)] = []
        for t in tokens {
            guard let eq = t.firstIndex(of: "=") else { items.append(("mask", t)); continue }
            let key = String(t[..<eq]), value = String(t[t.index(after: eq)...])
            guard ["mask", "box", "point", "scribble", "frame"].contains(key) else {
                throw PipelineError.invalidInput(what: what, reason: "unknown item '\(key)=' (expected mask=, box=, point=, scribble=, frame=)")
            }
            guard !value.isEmpty else { throw PipelineError.invalidInput(what: what, reason: "'\(key)=' has no value") }
            items.append((key, value))
        }
        var builder = PromptListBuilder()
        try builder.object("<Prompt\(k)>")
        for (key, value) in items {
            switch key {
            case "mask": try builder.mask(value)
            case "box": try builder.box(value)
            case "point": try builder.point(value)
            case "scribble": try builder.scribble(value)
            default: try builder.frame(value)
            }
        }
        let objects = try builder.finish()
        guard objects.count == 1, let object = objects.first else {
            throw PipelineError.invalidInput(what: what, reason: "one region per --region (give the next region its own --region)")
        }
        return object
    }

    /// A region as one `--region` string (the inverse of `parseRegion`; recorded in the JSON when
    /// the request carries no original string).
    public static func text(of o: ObjectSpec) -> String {
        o.prompts.map { p in
            var items = ["frame=\(p.frame)"]
            if let m = p.maskPath { items.append("mask=\(m)") } else if p.mask != nil { items.append("mask=(given)") }
            if let b = p.box { items.append("box=\(b.x),\(b.y),\(b.x2),\(b.y2)") }
            for q in p.points { items.append("point=\(q.x),\(q.y)\(q.positive ? "" : ",neg")") }
            if let s = p.scribblePath { items.append("scribble=\(s)") }
            return items.joined(separator: " ")
        }.joined(separator: " ")
    }

    /// Largest scribble file read (a hand-drawn one is a few KB).
    static let maxScribbleBytes = 64 << 20

    /// The strokes of a scribble file (format: Tracking's ScribbleFile).
    static func readScribble(_ path: String) throws -> [Stroke] {
        try InputFile.check(path, maxBytes: maxScribbleBytes, what: "a scribble file")
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw PipelineError.io(path: path, reason: "cannot read the scribble file")
        }
        return try ScribbleFile.parse(text, path: path)
    }

    /// Reads the prompt files of a region and checks it against the frame size (in the frames'
    /// own pixel coordinates): the one check of the prompts, before the model loads. Returns one
    /// checked prompt per prompt of the object (the tracker does not check them again).
    static func loadPrompts(_ object: ObjectSpec, width: Int, height: Int) throws -> [(frame: Int, prompt: CheckedPrompt)] {
        var out: [(Int, CheckedPrompt)] = []
        for p in object.prompts {
            var rp = RegionPrompt(mask: p.mask, box: p.box, points: p.points)
            if let path = p.maskPath {
                let bits = try ImageIO.readMask(path)
                guard bits.width == width, bits.height == height else {
                    throw PipelineError.invalidInput(what: "mask \(path) (\(object.name))",
                                                     reason: "\(bits.width)×\(bits.height) does not match the video frames (\(width)×\(height))")
                }
                let mask = Mask(width: bits.width, height: bits.height, bits: bits.pixels)
                guard !mask.isEmpty else {
                    throw PipelineError.invalidInput(what: "mask \(path) (\(object.name))", reason: "the mask is empty (no nonzero pixel)")
                }
                rp.mask = mask
            }
            if let path = p.scribblePath { rp.strokes = try readScribble(path) }
            out.append((p.frame, try PromptSegmenter.validate(rp, width: width, height: height, what: "\(object.name) on frame \(p.frame)")))
        }
        return out
    }
}

/// Masks given per region and frame (VideoRefer-Bench style annotation).
public struct RegionAnnotation: Sendable {
    /// `regions[k][f]`: region k's RLE on frame f; nil value = key present but null segmentation.
    public var regions: [[Int: RLE?]]
    /// Where it was read from (for errors).
    public var source: String

    public init(regions: [[Int: RLE?]], source: String) {
        self.regions = regions
        self.source = source
    }

    /// Reads an annotation file.
    /// Largest annotation file read (VideoRefer's are a few MB per clip).
    public static let maxFileBytes = 256 << 20

    public static func load(_ path: String) throws -> RegionAnnotation {
        try InputFile.check(path, maxBytes: maxFileBytes, what: "an annotation")
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PipelineError.io(path: path, reason: FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such annotation file")
        }
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw PipelineError.invalidInput(what: path, reason: "not valid JSON")
        }
        return try parse(json, source: path)
    }

    /// Parses the decoded JSON of an annotation (a list of {frame: {"segmentation": RLE}}).
    public static func parse(_ json: Any, source: String) throws -> RegionAnnotation {
        guard let list = json as? [Any] else {
            throw PipelineError.invalidInput(what: source, reason: "expected a list with one {frame: {\"segmentation\": RLE}} dict per region")
        }
        guard !list.isEmpty else { throw PipelineError.invalidInput(what: source, reason: "the annotation has no region") }
        var regions: [[Int: RLE?]] = []
        for (k, item) in list.enumerated() {
            guard let dict = item as? [String: Any] else {
                throw PipelineError.invalidInput(what: "\(source) region \(k)", reason: "expected a dict mapping frame indices to {\"segmentation\": RLE}")
            }
            var frames: [Int: RLE?] = [:]
            for (key, value) in dict {
                guard let f = Int(key), f >= 0 else {
                    throw PipelineError.invalidInput(what: "\(source) region \(k)", reason: "key '\(key)' is not a frame index")
                }
                let what = "\(source) region \(k) frame \(f)"
                guard let entry = value as? [String: Any] else {
                    throw PipelineError.invalidInput(what: what, reason: "expected {\"segmentation\": RLE}")
                }
                guard let seg = entry["segmentation"] else {
                    throw PipelineError.invalidInput(what: what, reason: "no \"segmentation\" key")
                }
                if seg is NSNull { frames[f] = .some(nil); continue }
                frames[f] = try rle(seg, what: what)
            }
            regions.append(frames)
        }
        return RegionAnnotation(regions: regions, source: source)
    }

    /// Largest side of an annotation mask (FFmpeg's decoders stop at 16384).
    static let maxRLESide = 65_536

    /// A COCO RLE from JSON: {"size": [h, w], "counts": "compressed" | [runs]}.
    static func rle(_ seg: Any, what: String) throws -> RLE {
        if seg is [Any] {
            throw PipelineError.invalidInput(what: what, reason: "polygon segmentations are not supported (give COCO RLE)")
        }
        guard let d = seg as? [String: Any], let size = d["size"] as? [Int], size.count == 2 else {
            throw PipelineError.invalidInput(what: what, reason: "expected a COCO RLE {\"size\": [h, w], \"counts\": ...}")
        }
        // Bounds first, so that height * width and the sum of the runs cannot overflow (a trap).
        guard size.allSatisfy({ (0 ... maxRLESide).contains($0) }) else {
            throw PipelineError.invalidInput(what: what, reason: "RLE size [\(size[0]), \(size[1])] is not a picture size (each side 0...\(maxRLESide))")
        }
        if let c = d["counts"] as? [Int], let bad = c.first(where: { $0 > size[0] * size[1] }) {
            throw PipelineError.invalidInput(what: what, reason: "bad RLE: run length \(bad) is more than the \(size[0])x\(size[1]) mask's pixels")
        }
        do {
            if let s = d["counts"] as? String { return try RLE(height: size[0], width: size[1], compressed: s) }
            if let c = d["counts"] as? [Int] { return try RLE(height: size[0], width: size[1], counts: c) }
        } catch {
            throw PipelineError.invalidInput(what: what, reason: "bad RLE: \(error)")
        }
        throw PipelineError.invalidInput(what: what, reason: "RLE \"counts\" must be a string or a list of integers")
    }

    /// Frame indices with a key in any region, ascending.
    public var annotatedFrames: [Int] {
        Array(Set(regions.flatMap { $0.keys })).sorted()
    }

    /// Region k's mask on frame f, nil when not visible (no key, null, or empty).
    public func mask(region k: Int, frame f: Int) -> Mask? {
        guard let entry = regions[k][f], let rle = entry, rle.area > 0 else { return nil }
        return rle.mask()
    }

    /// Only the masks of one frame (VideoRefer's single-frame mode).
    public func keepingOnly(frame f: Int) -> RegionAnnotation {
        RegionAnnotation(regions: regions.map { r in r[f].map { [f: $0] } ?? [:] }, source: source)
    }

    /// Checks every RLE against the frame size and the frame count.
    func validate(width: Int, height: Int, frameCount: Int) throws {
        for (k, r) in regions.enumerated() {
            for (f, entry) in r.sorted(by: { $0.key < $1.key }) {
                if f >= frameCount {
                    throw PipelineError.invalidInput(what: "\(source) region \(k)", reason: "frame \(f) is past the end (the input has \(frameCount) frames)")
                }
                if let rle = entry ?? nil, rle.width != width || rle.height != height {
                    throw PipelineError.invalidInput(what: "\(source) region \(k) frame \(f)",
                                                     reason: "mask is \(rle.width)×\(rle.height) but the frames are \(width)×\(height)")
                }
            }
        }
    }
}
