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
    public var box: PixelBox?
    public var points: [PromptPoint] = []
    public var scribblePath: String?
    public var isEmpty: Bool { maskPath == nil && box == nil && points.isEmpty && scribblePath == nil }
}

public struct ObjectSpec: Sendable, Equatable {
    public var name: String
    public var prompts: [PromptSpec]
}

public enum TrackArguments {
    public static let flags: Set<String> = ["--object", "--frame", "--mask", "--box", "--point", "--scribble"]

    public static func parse(_ args: [String]) throws -> [ObjectSpec] {
        var objects: [ObjectSpec] = []
        var cur = ObjectSpec(name: "", prompts: [PromptSpec()])
        var named = false
        func finishObject() {
            cur.prompts.removeAll { $0.isEmpty }
            if !cur.prompts.isEmpty {
                if cur.name.isEmpty { cur.name = "object\(objects.count + 1)" }
                objects.append(cur)
            }
        }
        func bad(_ what: String, _ why: String) -> PipelineError { .invalidInput(what: what, reason: why) }
        var danglingFrame: String? = nil   // a --frame no prompt has followed yet
        func refuseDanglingFrame() throws {
            if let k = danglingFrame {
                throw bad("--frame \(k)", "no prompt follows it (put --frame K before the --mask/--box/--point/--scribble it applies to)")
            }
        }
        var i = 0
        while i < args.count {
            let flag = args[i]
            guard flags.contains(flag) else {
                throw bad(flag, "unknown option (prompt options: --object, --frame, --mask, --box, --point, --scribble)")
            }
            guard i + 1 < args.count else { throw bad(flag, "missing value") }
            let v = args[i + 1]
            i += 2
            switch flag {
            case "--object":
                try refuseDanglingFrame()
                finishObject()
                guard !v.isEmpty, !v.hasPrefix("--") else { throw bad("--object", "needs a name") }
                if objects.contains(where: { $0.name == v }) { throw bad("--object \(v)", "this name is used twice") }
                cur = ObjectSpec(name: v, prompts: [PromptSpec()]); named = true
            case "--frame":
                guard let k = Int(v), k >= 0 else { throw bad("--frame \(v)", "expected a frame index >= 0") }
                if let first = danglingFrame {   // only the last would apply
                    throw bad("--frame \(v)", "follows --frame \(first) with no prompt between them (give one --frame per prompt)")
                }
                if !cur.prompts[cur.prompts.count - 1].isEmpty { cur.prompts.append(PromptSpec()) }
                cur.prompts[cur.prompts.count - 1].frame = k
                danglingFrame = v
                continue
            case "--mask", "--box":
                let last = cur.prompts[cur.prompts.count - 1]
                if !named && (last.maskPath != nil || last.box != nil) {
                    let frame = last.frame
                    finishObject(); cur = ObjectSpec(name: "", prompts: [PromptSpec()])
                    cur.prompts[0].frame = frame
                } else if last.maskPath != nil || last.box != nil {
                    throw bad("\(flag) \(v)", "object '\(cur.name)' already has a mask or box on frame \(last.frame) (use --frame K for a re-prompt, or --object NAME for another object)")
                }
                if flag == "--mask" { cur.prompts[cur.prompts.count - 1].maskPath = v }
                else { cur.prompts[cur.prompts.count - 1].box = try parseBox(v) }
            case "--point":
                cur.prompts[cur.prompts.count - 1].points.append(try parsePoint(v))
            default: // --scribble
                if cur.prompts[cur.prompts.count - 1].scribblePath != nil {
                    throw bad("--scribble \(v)", "one scribble file per prompt (put all strokes in one file)")
                }
                cur.prompts[cur.prompts.count - 1].scribblePath = v
            }
            danglingFrame = nil   // a prompt followed (the --frame case `continue`s past this)
        }
        try refuseDanglingFrame()
        finishObject()
        if objects.isEmpty { throw bad("prompt", "give at least one of --mask PNG, --box x1,y1,x2,y2, --point x,y[,neg], --scribble FILE") }
        return objects
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
