// What a user gives on one frame to say which object to track, and its conversion to a mask.
//
// A prompt is a mask, or any combination of a box, clicks and scribble strokes. Without a
// learned segmenter, box / clicks / strokes become a mask through GrabCut (GrabCut.swift) on
// the box + margin, then an edge-aware clean-up (guided filter, keep the component(s) the
// positive clicks/strokes touch, or the largest). Measured accuracy: Sources/Tracking/README.md.
import Video

/// A click: `positive` clicks are on the object, negative ones on the background.
public struct PromptPoint: Sendable, Equatable, Codable {
    /// Largest coordinate (and stroke width) a prompt may carry: far beyond any frame (FFmpeg
    /// decodes at most 16384 pixels a side), small enough that no arithmetic on prompt numbers
    /// can overflow. Parsers reject larger numbers with a one-line error.
    public static let maxCoordinate = 1_000_000

    public var x: Int, y: Int
    public var positive: Bool
    public init(x: Int, y: Int, positive: Bool = true) { self.x = x; self.y = y; self.positive = positive }
}

/// A scribble stroke: a polyline of `width` pixels, on the object (`positive`) or not.
public struct Stroke: Sendable, Equatable, Codable {
    public var points: [PromptPoint]          // vertices; their `positive` flag is ignored
    public var width: Int
    public var positive: Bool
    public init(points: [PromptPoint], width: Int, positive: Bool) {
        self.points = points; self.width = width; self.positive = positive
    }
}

/// The prompt of one object on one frame.
public struct RegionPrompt: Sendable, Equatable {
    public var mask: Mask?
    public var box: PixelBox?
    public var points: [PromptPoint]
    public var strokes: [Stroke]

    public init(mask: Mask? = nil, box: PixelBox? = nil, points: [PromptPoint] = [], strokes: [Stroke] = []) {
        self.mask = mask; self.box = box; self.points = points; self.strokes = strokes
    }

    public static func mask(_ m: Mask) -> RegionPrompt { RegionPrompt(mask: m) }
    public static func box(_ b: PixelBox) -> RegionPrompt { RegionPrompt(box: b) }

    public var isEmpty: Bool { mask == nil && box == nil && points.isEmpty && strokes.isEmpty }
}

/// A prompt checked against a frame size: made only by `PromptSegmenter.validate` (and by the
/// tracker when it scales a checked prompt to its frames), so code that takes one does not check
/// it again.
public struct CheckedPrompt: Sendable, Equatable {
    public let prompt: RegionPrompt
    /// The frame size it was checked against.
    public let width: Int, height: Int
    init(unchecked prompt: RegionPrompt, width: Int, height: Int) { self.prompt = prompt; self.width = width; self.height = height }
}

/// Converts prompts to masks on their frame.
/// A segmenter of box / click / scribble prompts other than GrabCut (the pipeline plugs in SAM 2.1's
/// image mode): the prompt (checked, at the frame's size, no mask) and the frame → the object's
/// mask at the frame's size (empty: nothing found).
public typealias PromptMaskSegmenter = (RegionPrompt, RGBImage) throws -> Mask

public enum PromptSegmenter {
    /// GrabCut iterations (OpenCV's measured setting in TRACKING.md §2.2).
    public static let iterations = 5
    /// Radius of the hard-label disk painted around each click.
    public static let clickRadius = 6

    /// Checks a prompt against the frame size; throws a one-line error naming the problem. The
    /// only check of a prompt: what it returns goes to the tracker and segmenter unchecked.
    @discardableResult
    public static func validate(_ p: RegionPrompt, width W: Int, height H: Int, what: String) throws -> CheckedPrompt {
        if p.isEmpty { throw TrackingError.badPrompt(what: what, reason: "no mask, box, point or scribble given") }
        if let m = p.mask {
            guard m.width == W && m.height == H else {
                throw TrackingError.sizeMismatch(what: "\(what) mask", got: (m.width, m.height), expected: (W, H))
            }
            if m.isEmpty { throw TrackingError.emptyMask(what: "\(what) mask") }
        }
        if let b = p.box {
            guard b.width > 0 && b.height > 0 else {
                throw TrackingError.badPrompt(what: "\(what) box \(b.x),\(b.y),\(b.x2),\(b.y2)", reason: "the box is empty (x2 < x1 or y2 < y1)")
            }
            guard b.x >= 0 && b.y >= 0 && b.x2 < W && b.y2 < H else {
                throw TrackingError.badPrompt(what: "\(what) box \(b.x),\(b.y),\(b.x2),\(b.y2)",
                                              reason: "is outside the \(W)x\(H) frame (valid x 0...\(W - 1), y 0...\(H - 1))")
            }
        }
        for pt in p.points + p.strokes.flatMap({ $0.points }) {
            guard pt.x >= 0 && pt.y >= 0 && pt.x < W && pt.y < H else {
                throw TrackingError.badPrompt(what: "\(what) point \(pt.x),\(pt.y)", reason: "is outside the \(W)x\(H) frame")
            }
        }
        for s in p.strokes where s.width < 1 || s.width > PromptPoint.maxCoordinate || s.points.isEmpty {
            throw TrackingError.badPrompt(what: "\(what) scribble",
                                          reason: "a stroke needs at least one point and a width in 1...\(PromptPoint.maxCoordinate), got width \(s.width)")
        }
        if p.mask == nil && p.box == nil && !p.points.contains(where: { $0.positive }) && !p.strokes.contains(where: { $0.positive }) {
            throw TrackingError.badPrompt(what: what, reason: "needs a box, a positive point or a positive stroke (negative ones alone do not say where the object is)")
        }
        return CheckedPrompt(unchecked: p, width: W, height: H)
    }

    /// Radius of the fallback disc around a positive click, as a fraction of the frame's short
    /// side (see `maskOrFallback`).
    public static let fallbackClickRadius = 0.1

    /// The object's mask on `frame`; never fails on a valid prompt. When the segmenter finds no
    /// object — an empty result, or nothing beyond the small click discs / strokes the prompt
    /// itself marks as certain — the prompt becomes the mask: the box; else a disc of
    /// `fallbackClickRadius` × the frame's short side (at least `clickRadius`) around each
    /// positive click, clipped to the frame, together with the positive strokes' area. Negative
    /// clicks/strokes are not subtracted. `warning` then says so (one line starting with `what`);
    /// it is nil when the segmenter succeeded (then the mask is the same as `mask(for:)`'s).
    public static func maskOrFallback(for p: RegionPrompt, on frame: RGBImage, what: String = "prompt") throws -> (mask: Mask, warning: String?) {
        maskOrFallback(for: try validate(p, width: frame.width, height: frame.height, what: what), on: frame, what: what)
    }

    /// `maskOrFallback` of a prompt already checked against `frame`'s size (not checked again).
    public static func maskOrFallback(for checked: CheckedPrompt, on frame: RGBImage, what: String = "prompt") -> (mask: Mask, warning: String?) {
        precondition(checked.width == frame.width && checked.height == frame.height, "prompt checked for another frame size")
        if let m = checked.prompt.mask { return (m, nil) }
        let (m, hard) = segmented(checked.prompt, on: frame, naiveGrabCut: false)
        return orFallback(m, hard: hard, for: checked.prompt, width: frame.width, height: frame.height, what: what)
    }

    /// `maskOrFallback` with another segmenter for box / click / scribble prompts (e.g. SAM 2.1's
    /// image mode, plugged in by the pipeline): a mask prompt is the mask; when `segmenter` returns an
    /// empty mask, the same fallback (the prompt's own area, with the warning) is used.
    public static func maskOrFallback(for checked: CheckedPrompt, on frame: RGBImage, what: String = "prompt",
                                      segmenter: PromptMaskSegmenter) throws -> (mask: Mask, warning: String?) {
        precondition(checked.width == frame.width && checked.height == frame.height, "prompt checked for another frame size")
        if let m = checked.prompt.mask { return (m, nil) }
        let m = try segmenter(checked.prompt, frame)
        guard m.width == frame.width && m.height == frame.height else {
            throw TrackingError.sizeMismatch(what: "\(what): the segmenter's mask", got: (m.width, m.height), expected: (frame.width, frame.height))
        }
        return orFallback(m, hard: Mask(width: m.width, height: m.height), for: checked.prompt, width: frame.width, height: frame.height, what: what)
    }

    /// The segmenter's mask `m`, or the prompt's own area when `m` has nothing beyond `hard`
    /// (the pixels the prompt itself marks as certain).
    static func orFallback(_ m: Mask, hard: Mask, for p: RegionPrompt, width W: Int, height H: Int, what: String) -> (mask: Mask, warning: String?) {
        // Nothing found, or nothing beyond the discs / strokes painted as certain object pixels.
        if m.bits.indices.contains(where: { m.bits[$0] != 0 && hard.bits[$0] == 0 }) { return (m, nil) }
        var fallback = Mask(width: W, height: H)
        // No coordinates in the warning: the tracker segments at its working size, not the user's.
        let found = "\(what): the segmenter found no object"
        if let b = p.box {
            for y in b.y...b.y2 { for x in b.x...b.x2 { fallback[x, y] = true } }
            return (fallback, "\(found) in the prompted box; the box itself is used as the mask")
        }
        let radius = max(clickRadius, Int(fallbackClickRadius * Double(min(W, H))))
        for pt in p.points where pt.positive { paintDisk(&fallback, pt.x, pt.y, radius) }
        for s in p.strokes where s.positive { paintPolyline(&fallback, s.points, radius: max(0, s.width / 2)) }
        let clicks = p.points.contains { $0.positive }, strokes = p.strokes.contains { $0.positive }
        let used = [clicks ? "a disc (radius \(Int(fallbackClickRadius * 100)) % of the frame's short side) around each positive click" : nil,
                    strokes ? "the positive strokes' area" : nil].compactMap { $0 }.joined(separator: " and ")
        return (fallback, "\(found) around the \(clicks ? "clicks" : "strokes")\(clicks && strokes ? " and strokes" : ""); \(used) is used as the mask")
    }

    /// The object's mask on `frame` as the segmenter finds it; throws when it finds nothing
    /// (`maskOrFallback` is the never-failing variant every command uses; this strict one is for
    /// measuring the segmenter). `naiveGrabCut` runs GrabCut's naive twin instead of the fast
    /// one (for benchmarks: `gar eval-track --prompts --naive-grabcut`).
    public static func mask(for p: RegionPrompt, on frame: RGBImage, what: String = "prompt", naiveGrabCut: Bool = false) throws -> Mask {
        try validate(p, width: frame.width, height: frame.height, what: what)
        if let m = p.mask { return m }
        let m = segmented(p, on: frame, naiveGrabCut: naiveGrabCut).mask
        if m.isEmpty {
            throw TrackingError.badPrompt(what: what, reason: "the segmenter found no object in the prompted region "
                + "(too small, or no colour contrast with its surroundings): draw the box around the whole object, "
                + "add a positive point on it, or give a mask")
        }
        return m
    }

    /// GrabCut + clean-up of a validated box/click/stroke prompt (empty: nothing found), and the
    /// pixels the prompt labels as certainly the object (click discs, positive strokes).
    static func segmented(_ p: RegionPrompt, on frame: RGBImage, naiveGrabCut: Bool) -> (mask: Mask, hard: Mask) {
        let W = frame.width, H = frame.height
        // Region that may contain the object.
        let region = objectRegion(p, width: W, height: H)
        var labels = [UInt8](repeating: GrabCut.Label.background.rawValue, count: W * H)
        for y in region.y...region.y2 { for x in region.x...region.x2 { labels[y * W + x] = GrabCut.Label.probablyForeground.rawValue } }
        var hard = Mask(width: W, height: H), hardNeg = Mask(width: W, height: H)
        for pt in p.points {
            if pt.positive { paintDisk(&hard, pt.x, pt.y, clickRadius) } else { paintDisk(&hardNeg, pt.x, pt.y, clickRadius) }
        }
        for s in p.strokes {
            if s.positive { paintPolyline(&hard, s.points, radius: max(0, s.width / 2)) }
            else { paintPolyline(&hardNeg, s.points, radius: max(0, s.width / 2)) }
        }
        for i in 0..<(W * H) {
            if hard.bits[i] != 0 { labels[i] = GrabCut.Label.foreground.rawValue }
            if hardNeg.bits[i] != 0 { labels[i] = GrabCut.Label.background.rawValue }
        }
        let margin = max(10, max(region.width, region.height) / 5)
        let crop = PixelBox(x: region.x - margin, y: region.y - margin, width: region.width + 2 * margin, height: region.height + 2 * margin)
        let out = naiveGrabCut
            ? GrabCut.segmentNaive(rgb: frame.pixels, width: W, height: H, labels: labels, crop: crop, iterations: iterations)
            : GrabCut.segment(rgb: frame.pixels, width: W, height: H, labels: labels, crop: crop, iterations: iterations)
        var m = Mask(width: W, height: H)
        for i in 0..<(W * H) where out[i] == GrabCut.Label.foreground.rawValue || out[i] == GrabCut.Label.probablyForeground.rawValue {
            m.bits[i] = 1
        }
        return (refine(m, frame: frame, crop: crop, keep: hard, exclude: hardNeg), hard)
    }

    /// The box the object is searched in: the given box; else the positive strokes' box grown
    /// by 30 %; else the positive clicks' box grown by 50 % (a single click: a square of 10 %
    /// of the frame area around it).
    static func objectRegion(_ p: RegionPrompt, width W: Int, height H: Int) -> PixelBox {
        func clamp(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int) -> PixelBox {
            let a = max(0, x0), b = max(0, y0), c = min(W - 1, x1), d = min(H - 1, y1)
            return PixelBox(x: a, y: b, width: max(1, c - a + 1), height: max(1, d - b + 1))
        }
        if let b = p.box { return b }
        let pos = p.strokes.filter { $0.positive }.flatMap { $0.points } + p.points.filter { $0.positive }
        let xs = pos.map { $0.x }, ys = pos.map { $0.y }
        let x0 = xs.min()!, x1 = xs.max()!, y0 = ys.min()!, y1 = ys.max()!
        let grow = p.strokes.contains { $0.positive } ? 0.3 : 0.5
        var gw = Int(Double(x1 - x0 + 1) * grow / 2), gh = Int(Double(y1 - y0 + 1) * grow / 2)
        let side = Int((0.1 * Double(W * H)).squareRoot())
        if x1 - x0 + 2 * gw < side / 2 && y1 - y0 + 2 * gh < side / 2 { gw = side / 2 - (x1 - x0) / 2; gh = side / 2 - (y1 - y0) / 2 }
        return clamp(x0 - gw, y0 - gh, x1 + gw, y1 + gh)
    }

    /// Edge-aware clean-up of the GrabCut mask: guided filter (r 4, ε 1e-2) and threshold,
    /// then keep the components touching the positive hard labels (or the largest one).
    static func refine(_ m: Mask, frame: RGBImage, crop: PixelBox, keep: Mask, exclude: Mask) -> Mask {
        let W = m.width, H = m.height
        let p = m.bits.map { Float($0) }
        let q = GuidedFilter.filter(p: p, rgb: frame.pixels, width: W, height: H, roi: crop, radius: 4, eps: 1e-2)
        var r = Mask(width: W, height: H)
        for i in 0..<(W * H) where (q[i] > 0.5 || keep.bits[i] != 0) && exclude.bits[i] == 0 { r.bits[i] = 1 }
        let (labels, sizes) = Morphology.components(r)
        guard sizes.count > 1 else { return r }
        var keepIds = Set<Int32>()
        for i in 0..<(W * H) where keep.bits[i] != 0 && labels[i] > 0 { keepIds.insert(labels[i]) }
        if keepIds.isEmpty, let largest = sizes.indices.dropFirst().max(by: { sizes[$0] < sizes[$1] }) { keepIds.insert(Int32(largest)) }
        var out = Mask(width: W, height: H)
        for i in 0..<(W * H) where keepIds.contains(labels[i]) { out.bits[i] = 1 }
        return out
    }

    static func paintDisk(_ m: inout Mask, _ cx: Int, _ cy: Int, _ r: Int) {
        for y in max(0, cy - r)...min(m.height - 1, cy + r) {
            for x in max(0, cx - r)...min(m.width - 1, cx + r) where (x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r {
                m[x, y] = true
            }
        }
    }

    static func paintPolyline(_ m: inout Mask, _ pts: [PromptPoint], radius r: Int) {
        guard let first = pts.first else { return }
        paintDisk(&m, first.x, first.y, r)
        for (a, b) in zip(pts, pts.dropFirst()) {
            let steps = max(abs(b.x - a.x), abs(b.y - a.y))
            for s in 0...max(1, steps) {
                let t = Double(s) / Double(max(1, steps))
                paintDisk(&m, a.x + Int((Double(b.x - a.x) * t).rounded()), a.y + Int((Double(b.y - a.y) * t).rounded()), r)
            }
        }
    }
}

/// Scribble files: one stroke per line,
///
///     pos|neg WIDTH x,y x,y ...
///
/// `pos` strokes are on the object, `neg` strokes on the background; WIDTH is the stroke width
/// in pixels; the vertices are pixel coordinates of the prompted frame joined by straight
/// segments. `#` starts a comment; blank lines are ignored. Example:
///
///     # the dog, avoiding its shadow
///     pos 9 120,200 140,215 180,230
///     neg 5 100,300 260,300
public enum ScribbleFile {
    /// Most vertices in one file (all strokes): a hand-drawn scribble has hundreds.
    public static let maxVertices = 1_000_000

    /// Text of the file as an error quotes it: line breaks of other kinds (vertical tab, U+2028, ...)
    /// escaped, so the error stays one line.
    static func shown(_ s: Substring) -> String {
        s.contains(where: \.isNewline) ? String(s.debugDescription.dropFirst().dropLast()) : String(s)
    }

    public static func parse(_ text: String, path: String) throws -> [Stroke] {
        var strokes: [Stroke] = []
        var vertices = 0
        for (n, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if f.isEmpty { continue }
            guard f[0] == "pos" || f[0] == "neg" else {
                throw TrackingError.badScribble(path: path, line: n + 1, reason: "expected 'pos' or 'neg', got '\(shown(f[0]))'")
            }
            let limit = PromptPoint.maxCoordinate
            guard f.count >= 3, let width = Int(f[1]), (1 ... limit).contains(width) else {
                throw TrackingError.badScribble(path: path, line: n + 1, reason: "expected '\(f[0]) WIDTH x,y [x,y ...]' with WIDTH in 1...\(limit)")
            }
            guard f.count - 2 <= maxVertices - vertices else {
                throw TrackingError.badScribble(path: path, line: n + 1, reason: "more than \(maxVertices) vertices in the file")
            }
            var pts: [PromptPoint] = []
            for v in f[2...] {
                let c = v.split(separator: ",")
                guard c.count == 2, let x = Int(c[0]), let y = Int(c[1]) else {
                    throw TrackingError.badScribble(path: path, line: n + 1, reason: "bad vertex '\(shown(v))' (expected x,y in pixels)")
                }
                guard (-limit ... limit).contains(x), (-limit ... limit).contains(y) else {
                    throw TrackingError.badScribble(path: path, line: n + 1, reason: "vertex '\(shown(v))' is out of range (coordinates are pixels, at most \(limit))")
                }
                pts.append(PromptPoint(x: x, y: y))
            }
            vertices += pts.count
            strokes.append(Stroke(points: pts, width: width, positive: f[0] == "pos"))
        }
        if strokes.isEmpty { throw TrackingError.badScribble(path: path, line: 1, reason: "no stroke in the file") }
        return strokes
    }
}
