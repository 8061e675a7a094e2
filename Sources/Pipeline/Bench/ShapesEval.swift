// `gar eval shapes`: a model's accuracy on a held-out set of the synthetic shapes world
// (tools/shapes/world.py writes the sets; models/gar-shapes-demo is trained on that world) through
// the FULL chain of `gar caption`: the clip is decoded, the object's box on frame 0 is segmented and
// tracked by the weight-free tracker, and the model answers over the sampled frames (built-in
// caption spec, as many frames as the set was made for).
//
// Every object of every clip is asked, as <Prompt0>, its caption and the multiple-choice questions
// (colour, shape, direction, speed) under three conditions:
//   region      the object's own box (the real task)
//   swapped     the OTHER object's box, scored against this object's answers: a model that reads
//               the region scores near 0 on attributes the two objects never share
//   full_frame  the mask replaced by the whole frame on every sampled frame (annotation, no
//               tracking): the model cannot tell which object is meant, ≈ chance
// A failing item (bad clip, tracker error) is recorded with its error and counts as wrong; it
// never stops the run.
import Foundation
import Tensors
import Tracking

/// A held-out set (`set.json` beside the clips), as world.py writes it.
public struct ShapesSet: Decodable, Sendable {
    public struct Object: Decodable, Sendable {
        public var colour: String, shape: String, direction: String, speed: String
        /// Inclusive pixel box on frame 0: x1, y1, x2, y2.
        public var box: [Int]
    }
    public struct Question: Decodable, Sendable {
        /// caption, colour, shape, direction or speed.
        public var kind: String
        /// The question (options apart) and its options ("(A) red", ...); none for the caption.
        public var text: String
        public var choices: [String]
        /// A caption's reference text, or the right letter.
        public var answer: String
    }
    public struct Clip: Decodable, Sendable {
        public var file: String
        public var objects: [Object]
        /// Per object, its questions (the object is <Prompt0>).
        public var questions: [[Question]]
    }
    public var schemaVersion: Int
    public var size: [Int]
    public var frames: Int
    public var sampledFrames: [Int]
    public var clips: [Clip]

    /// Reads `DIR/set.json`.
    public static func load(directory: String) throws -> ShapesSet {
        let path = (directory as NSString).appendingPathComponent("set.json")
        try InputFile.check(path, maxBytes: 64 << 20, what: "a shapes set")
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PipelineError.io(path: path, reason: "no such file (a shapes set folder holds set.json and its clips)")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let set: ShapesSet
        do {
            set = try decoder.decode(ShapesSet.self, from: data)
        } catch {
            throw PipelineError.invalidInput(what: path, reason: "not a shapes set (\(ShapesEval.describe(error)))")
        }
        guard set.schemaVersion == 1 else {
            throw PipelineError.invalidInput(what: path, reason: "schema_version \(set.schemaVersion) is not supported (expected 1)")
        }
        guard set.size.count == 2, set.size.allSatisfy({ $0 > 0 }), set.frames > 0, !set.sampledFrames.isEmpty else {
            throw PipelineError.invalidInput(what: path, reason: "size, frames and sampled_frames must be given and positive")
        }
        for c in set.clips {
            guard c.objects.count >= 2, c.questions.count == c.objects.count, c.objects.allSatisfy({ $0.box.count == 4 }) else {
                throw PipelineError.invalidInput(what: "\(path) clip \(c.file)",
                                                 reason: "needs at least two objects (the swap control), each with a 4-number box and its questions")
            }
        }
        return set
    }
}

public enum ShapesCondition: String, CaseIterable, Codable, Sendable {
    case region, swapped
    case fullFrame = "full_frame"
}

public struct ShapesEvalOptions: Sendable {
    public var directory: String
    public var modelDirectory: String
    public var conditions: [ShapesCondition] = ShapesCondition.allCases
    /// Only the first N clips.
    public var limit: Int?
    public var threads: Int?
    public var precision: Precision = .f32
    public var quiet = false

    public init(directory: String, modelDirectory: String) {
        self.directory = directory
        self.modelDirectory = modelDirectory
    }
}

/// Scores of one condition, in percent (nil when no item was asked).
public struct ShapesScores: Codable, Sendable, Equatable {
    public var condition: ShapesCondition
    /// Regions asked (object × clip) and how many failed to run (counted wrong).
    public var items: Int
    public var errors: Int
    /// Multiple choice: every question, then per kind (colour, shape, direction, speed).
    public var multipleChoice: Double?
    public var multipleChoiceByKind: [String: Double]
    /// Captions naming the right word, per attribute, and the three of colour, shape, direction.
    public var caption: [String: Double]
    public var captionColourShapeDirection: Double?
}

public struct ShapesEvalReport: Codable, Sendable {
    public struct Item: Codable, Sendable {
        public var clip: String
        public var object: Int
        public var condition: ShapesCondition
        public var status: String
        public var error: String?
        public var caption: String?
        /// Per multiple-choice kind: the letter read from the answer and the right one.
        public var choices: [String: [String]]
    }
    public var model: String
    public var set: String
    public var clips: Int
    public var frames: Int
    /// Chance level of a blind guess per multiple-choice kind (percent).
    public var chance: [String: Double]
    public var scores: [ShapesScores]
    public var items: [Item]
    /// README "JSON outputs" (`eval shapes --json`).
    public var schemaVersion = 1

    public func scores(_ c: ShapesCondition) -> ShapesScores? { scores.first { $0.condition == c } }

    /// Markdown table: one row per condition.
    public var table: String {
        func pct(_ v: Double?) -> String { v.map { String(format: "%.1f", $0) } ?? "-" }
        let kinds = ShapesEval.choiceKinds
        var s = "| condition | regions | multiple choice | " + kinds.joined(separator: " | ")
            + " | caption colour+shape+direction | caption " + ShapesEval.attributes.joined(separator: " | caption ") + " |\n"
        s += "|---|---|---|" + String(repeating: "---|", count: kinds.count + 1 + ShapesEval.attributes.count) + "\n"
        for r in scores {
            s += "| \(r.condition.rawValue) | \(r.items) | \(pct(r.multipleChoice)) | "
                + kinds.map { pct(r.multipleChoiceByKind[$0]) }.joined(separator: " | ")
                + " | \(pct(r.captionColourShapeDirection)) | "
                + ShapesEval.attributes.map { pct(r.caption[$0]) }.joined(separator: " | ") + " |\n"
        }
        s += "\nchance (multiple choice): " + kinds.map { "\($0) \(pct(chance[$0]))" }.joined(separator: ", ") + "\n"
        let errors = scores.reduce(0) { $0 + $1.errors }
        if errors > 0 { s += "\(errors) region(s) failed to run and count as wrong (see --json).\n" }
        return s
    }
}

public enum ShapesEval {
    static let attributes = ["colour", "shape", "direction", "speed"]
    static let choiceKinds = ["colour", "shape", "direction", "speed"]

    /// The words of the world, per attribute (a caption is right on an attribute when it names the
    /// object's word and no other word of that attribute).
    static let vocabulary: [String: [String]] = [
        "colour": ["red", "green", "blue", "yellow"],
        "shape": ["circle", "square", "triangle", "star"],
        "direction": ["left", "right", "up", "down"],
        "speed": ["slowly", "quickly"],
    ]

    public static func run(_ o: ShapesEvalOptions, engine given: VideoRegionEngine? = nil) throws -> ShapesEvalReport {
        let set = try ShapesSet.load(directory: o.directory)
        let clips = o.limit.map { Array(set.clips.prefix($0)) } ?? set.clips
        let engine = try given ?? VideoRegionEngine(modelDirectory: o.modelDirectory, precision: o.precision)
        var spec = PipelineSpec.builtIn(.captionTrackedObject)
        spec.frames.count = set.sampledFrames.count
        spec.generation.maxNewTokens = 32
        let total = clips.reduce(0) { $0 + $1.objects.count } * o.conditions.count
        let progress = Progress("eval shapes", total: total, quiet: o.quiet)
        var items: [ShapesEvalReport.Item] = []
        for clip in clips {
            let video = (o.directory as NSString).appendingPathComponent(clip.file)
            for (k, questions) in clip.questions.enumerated() {
                for condition in o.conditions {
                    var item = ShapesEvalReport.Item(clip: clip.file, object: k, condition: condition, status: "ok", choices: [:])
                    do {
                        var r = RegionRequest(input: video, spec: spec)
                        r.threads = o.threads
                        r.precision = o.precision
                        r.questions = questions.map { VideoQuestion($0.text, choices: $0.choices) }
                        switch condition {
                        case .region: r.regions = [try boxRegion(clip.objects[k].box)]
                        case .swapped: r.regions = [try boxRegion(clip.objects[(k + 1) % clip.objects.count].box)]
                        case .fullFrame: r.annotation = try fullFrame(width: set.size[0], height: set.size[1], frames: set.frames, source: video)
                        }
                        let answer = try VideoRegionJob.run(r, engine: engine)
                        for (q, a) in zip(questions, answer.answers) {
                            if q.kind == "caption" {
                                item.caption = a.text
                            } else {
                                item.choices[q.kind] = [a.choice ?? "", q.answer]
                            }
                        }
                    } catch {
                        item.status = "error"
                        item.error = "\(error)"
                    }
                    items.append(item)
                    progress.advance(note: "\(clip.file) object \(k) \(condition.rawValue) \(item.status)")
                }
            }
        }
        progress.finish()
        let truth = Dictionary(uniqueKeysWithValues: clips.map { ($0.file, $0.objects) })
        let scores = o.conditions.map { c in score(items.filter { $0.condition == c }, condition: c, truth: truth) }
        var chance: [String: Double] = [:]
        for kind in choiceKinds { chance[kind] = 100.0 / Double(min(4, vocabulary[kind]!.count)) }
        return ShapesEvalReport(model: engine.directory, set: o.directory, clips: clips.count, frames: set.sampledFrames.count,
                                chance: chance, scores: scores, items: items)
    }

    /// The attribute words a caption names (lowercased words; an attribute with none or with two
    /// different words is missing).
    public static func captionWords(_ text: String) -> [String: String] {
        let words = Set(text.lowercased().split(whereSeparator: { !$0.isLetter }).map(String.init))
        var out: [String: String] = [:]
        for (attribute, vocab) in vocabulary {
            let found = vocab.filter { words.contains($0) }
            if found.count == 1 { out[attribute] = found[0] }
        }
        return out
    }

    static func score(_ items: [ShapesEvalReport.Item], condition: ShapesCondition,
                      truth: [String: [ShapesSet.Object]]) -> ShapesScores {
        func pct(_ right: Int, _ n: Int) -> Double? { n == 0 ? nil : 100.0 * Double(right) / Double(n) }
        var mcRight = 0, mcTotal = 0
        var byKind: [String: Double] = [:]
        for kind in choiceKinds {
            let asked = items.filter { $0.status == "error" || $0.choices[kind] != nil }
            let right = asked.filter { ($0.choices[kind]).map { $0[0] == $0[1] } ?? false }.count
            mcRight += right; mcTotal += asked.count
            byKind[kind] = pct(right, asked.count)
        }
        var caption: [String: Double] = [:]
        var allThree = 0
        for attribute in attributes {
            let right = items.filter { item in
                guard let text = item.caption, let object = truth[item.clip]?[item.object] else { return false }
                return captionWords(text)[attribute] == value(object, attribute)
            }.count
            caption[attribute] = pct(right, items.count)
        }
        for item in items {
            guard let text = item.caption, let object = truth[item.clip]?[item.object] else { continue }
            let words = captionWords(text)
            if ["colour", "shape", "direction"].allSatisfy({ words[$0] == value(object, $0) }) { allThree += 1 }
        }
        return ShapesScores(condition: condition, items: items.count, errors: items.filter { $0.status == "error" }.count,
                            multipleChoice: pct(mcRight, mcTotal), multipleChoiceByKind: byKind, caption: caption,
                            captionColourShapeDirection: pct(allThree, items.count))
    }

    static func value(_ o: ShapesSet.Object, _ attribute: String) -> String {
        switch attribute {
        case "colour": return o.colour
        case "shape": return o.shape
        case "direction": return o.direction
        default: return o.speed
        }
    }

    /// `<Prompt0>` = a box on frame 0.
    static func boxRegion(_ box: [Int]) throws -> ObjectSpec {
        var b = PromptListBuilder()
        try b.object("<Prompt0>")
        try b.frame(0)
        try b.box(box.map(String.init).joined(separator: ","))
        return try b.finish()[0]
    }

    /// One region covering the whole frame on every frame.
    static func fullFrame(width: Int, height: Int, frames: Int, source: String) throws -> RegionAnnotation {
        let whole = try RLE(height: height, width: width, counts: [0, width * height])
        var masks: [Int: RLE?] = [:]
        for f in 0 ..< frames { masks[f] = whole }
        return RegionAnnotation(regions: [masks], source: "\(source) (full-frame control)")
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "missing key \(key.stringValue)"
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c), DecodingError.dataCorrupted(let c):
            return c.codingPath.map(\.stringValue).joined(separator: ".") + ": " + c.debugDescription
        default: return "\(error)"
        }
    }
}
