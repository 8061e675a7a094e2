// Prompt flags of `gar track`, parsed in command-line order so several objects can be given:
//
//   [--object NAME] [--frame K] PROMPT... [--object NAME [--frame K] PROMPT...]...
//   PROMPT := --mask PNG | --box x1,y1,x2,y2 | --point x,y[,neg] | --scribble FILE
//
// `--object NAME` starts a new object (flags before the first one belong to "object1").
// `--frame K` sets the frame of the prompt that follows (default 0); a second `--frame` for the
// same object starts a re-prompt of it on that frame (it overrides the tracking from there on).
// Without `--object`, a second `--mask` or `--box` starts a new object (so
// `--mask a.png --mask b.png` tracks two objects). Points and strokes accumulate on the current
// prompt; a box and points combine (GrabCut inside the box with the clicks as hard labels).
import Foundation
import Tracking

/// One prompt of one object as given on the command line (files not read yet).
public struct PromptSpec: Sendable, Equatable {
    public var frame = 0
    public var maskPath: String?
    /// A mask given in memory (the server's RLE prompts) instead of a file.
    public var mask: Mask?
    public var box: PixelBox?
    public var points: [PromptPoint] = []
    public var scribblePath: String?
    public var isEmpty: Bool { maskPath == nil && mask == nil && box == nil && points.isEmpty && scribblePath == nil }
}

extension PromptSpec {
    /// A prompt built in code (the server): no files.
    public init(frame: Int, mask: Mask? = nil, box: PixelBox? = nil, points: [PromptPoint] = []) {
        self.init(frame: frame, maskPath: nil, mask: mask, box: box, points: points, scribblePath: nil)
    }
}

public struct ObjectSpec: Sendable, Equatable {
    public var name: String
    public var prompts: [PromptSpec]

    public init(name: String, prompts: [PromptSpec]) {
        self.name = name
        self.prompts = prompts
    }
}

public enum TrackArguments {
    public static let flags: Set<String> = ["--object", "--frame", "--mask", "--box", "--point", "--scribble"]

    /// Parses the prompt flags of `gar track` (command-line order, see the top of this file).
    public static func parse(_ args: [String]) throws -> [ObjectSpec] {
        var b = PromptListBuilder()
        var i = 0
        while i < args.count {
            let flag = args[i]
            guard flags.contains(flag) else {
                throw PipelineError.invalidInput(what: flag, reason: "unknown option (prompt options: --object, --frame, --mask, --box, --point, --scribble)")
            }
            guard i + 1 < args.count else { throw PipelineError.invalidInput(what: flag, reason: "missing value") }
            let v = args[i + 1]
            i += 2
            switch flag {
            case "--object": try b.object(v)
            case "--frame": try b.frame(v)
            case "--mask": try b.mask(v)
            case "--box": try b.box(v)
            case "--point": try b.point(v)
            default: try b.scribble(v)
            }
        }
        return try b.finish()
    }

    /// `x1,y1,x2,y2`, inclusive pixel corners.
    public static func parseBox(_ s: String) throws -> PixelBox {
        let p = s.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard p.count == 4, let x1 = p[0], let y1 = p[1], let x2 = p[2], let y2 = p[3] else {
            throw PipelineError.invalidInput(what: "--box \(s)", reason: "expected x1,y1,x2,y2 (integers, inclusive corners)")
        }
        try checkCoordinates([x1, y1, x2, y2], what: "--box \(s)")
        guard x2 >= x1 && y2 >= y1 else {
            throw PipelineError.invalidInput(what: "--box \(s)", reason: "x2 must be >= x1 and y2 >= y1")
        }
        return PixelBox(x: x1, y: y1, width: x2 - x1 + 1, height: y2 - y1 + 1)
    }

    /// Pixel coordinates are bounded (PromptPoint.maxCoordinate), so box arithmetic cannot overflow.
    static func checkCoordinates(_ values: [Int], what: String) throws {
        let limit = PromptPoint.maxCoordinate
        if let bad = values.first(where: { !(-limit ... limit).contains($0) }) {
            throw PipelineError.invalidInput(what: what, reason: "coordinate \(bad) is out of range (pixels, at most \(limit))")
        }
    }

    /// `x,y` (positive) or `x,y,neg` (negative; `pos` also accepted).
    public static func parsePoint(_ s: String) throws -> PromptPoint {
        let p = s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard (2...3).contains(p.count), let x = Int(p[0]), let y = Int(p[1]) else {
            throw PipelineError.invalidInput(what: "--point \(s)", reason: "expected x,y or x,y,neg")
        }
        try checkCoordinates([x, y], what: "--point \(s)")
        var positive = true
        if p.count == 3 {
            switch p[2] { case "neg", "-", "0": positive = false
            case "pos", "+", "1": positive = true
            default: throw PipelineError.invalidInput(what: "--point \(s)", reason: "the third field must be 'neg' or 'pos'") }
        }
        return PromptPoint(x: x, y: y, positive: positive)
    }
}

/// Builds the objects from prompt items in order — the one place of the ordering rules (an item
/// applies to the prompt it starts or joins; `frame` applies to the prompt that follows, as an
/// ffmpeg option applies to the next file). Used by `gar track`'s flags, `--region` strings and
/// `gar caption`'s options alike; values are the user's text (parsed and checked here).
public struct PromptListBuilder {
    private var objects: [ObjectSpec] = []
    private var cur = ObjectSpec(name: "", prompts: [PromptSpec()])
    private var named = false
    private var danglingFrame: String? = nil   // a frame no prompt has followed yet

    public init() {}

    private func bad(_ what: String, _ why: String) -> PipelineError { .invalidInput(what: what, reason: why) }

    private mutating func finishObject() {
        cur.prompts.removeAll { $0.isEmpty }
        if !cur.prompts.isEmpty {
            if cur.name.isEmpty { cur.name = "object\(objects.count + 1)" }
            objects.append(cur)
        }
    }

    private func refuseDanglingFrame() throws {
        if let k = danglingFrame {
            throw bad("--frame \(k)", "no prompt follows it (put --frame K before the --mask/--box/--point/--scribble it applies to)")
        }
    }

    private var last: PromptSpec {
        get { cur.prompts[cur.prompts.count - 1] }
        set { cur.prompts[cur.prompts.count - 1] = newValue }
    }

    /// Starts a new object named `name`.
    public mutating func object(_ name: String) throws {
        try refuseDanglingFrame()
        finishObject()
        guard !name.isEmpty, !name.hasPrefix("--") else { throw bad("--object", "needs a name") }
        if objects.contains(where: { $0.name == name }) { throw bad("--object \(name)", "this name is used twice") }
        cur = ObjectSpec(name: name, prompts: [PromptSpec()]); named = true
    }

    /// The frame of the prompt that follows (a second one for an object is a re-prompt).
    public mutating func frame(_ v: String) throws {
        guard let k = Int(v), k >= 0 else { throw bad("--frame \(v)", "expected a frame index >= 0") }
        try frame(k, label: v)
    }

    public mutating func frame(_ k: Int) throws {
        guard k >= 0 else { throw bad("--frame \(k)", "expected a frame index >= 0") }
        try frame(k, label: String(k))
    }

    private mutating func frame(_ k: Int, label: String) throws {
        if let first = danglingFrame {   // only the last would apply
            throw bad("--frame \(label)", "follows --frame \(first) with no prompt between them (give one --frame per prompt)")
        }
        if !last.isEmpty { cur.prompts.append(PromptSpec()) }
        last.frame = k
        danglingFrame = label
    }

    public mutating func mask(_ path: String) throws {
        try startRegionPrompt("--mask", path)
        last.maskPath = path
        danglingFrame = nil
    }

    /// `x1,y1,x2,y2`, inclusive pixel corners.
    public mutating func box(_ v: String) throws {
        try startRegionPrompt("--box", v)
        last.box = try TrackArguments.parseBox(v)
        danglingFrame = nil
    }

    /// `x,y[,neg]`.
    public mutating func point(_ v: String) throws {
        last.points.append(try TrackArguments.parsePoint(v))
        danglingFrame = nil
    }

    public mutating func scribble(_ path: String) throws {
        if last.scribblePath != nil {
            throw bad("--scribble \(path)", "one scribble file per prompt (put all strokes in one file)")
        }
        last.scribblePath = path
        danglingFrame = nil
    }

    /// A mask or box: without --object, a second one starts another object.
    private mutating func startRegionPrompt(_ flag: String, _ v: String) throws {
        guard last.maskPath != nil || last.box != nil else { return }
        if !named {
            let frame = last.frame
            finishObject(); cur = ObjectSpec(name: "", prompts: [PromptSpec()])
            last.frame = frame
        } else {
            throw bad("\(flag) \(v)", "object '\(cur.name)' already has a mask or box on frame \(last.frame) (use --frame K for a re-prompt, or --object NAME for another object)")
        }
    }

    /// The objects (at least one).
    public mutating func finish() throws -> [ObjectSpec] {
        try refuseDanglingFrame()
        finishObject()
        if objects.isEmpty { throw bad("prompt", "give at least one of --mask PNG, --box x1,y1,x2,y2, --point x,y[,neg], --scribble FILE") }
        return objects
    }
}
