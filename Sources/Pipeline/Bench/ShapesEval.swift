// `gar eval shapes`: a model's accuracy on a held-out set of the synthetic shapes world
// (tools/shapes/world.py writes the sets; models/gar-shapes-demo is trained on that world) through
// the FULL chain of `gar caption`: the clip is decoded, each region's box on its prompt frame is
// segmented and tracked by the weight-free tracker, and the model answers over the sampled frames
// (built-in caption spec, as many frames as the set was made for).
//
// A set is schema v1 (the default world: per object, its caption and multiple-choice questions
// about colour, shape, direction, speed; the object is <Prompt0>, boxed on frame 0) or schema v2
// (event clips: one flat question list whose `regions` name the objects in prompt order — one
// region or two — each object boxed on its `prompt_frame`). Both are read into the same form: the
// questions of a clip are asked in groups of the same regions, one run of the chain per group and
// condition:
//   region      the regions' own boxes (the real task)
//   swapped     one region: the OTHER object's box; two regions: the two in reverse order; scored
//               against the group's answers: a model that reads the regions scores near 0 on
//               attributes the two objects never share
//   full_frame  every region's mask replaced by the whole frame on every sampled frame (annotation,
//               no tracking): the model cannot tell which object is meant, ≈ chance
// A failing item (bad clip, tracker error) is recorded with its error and counts as wrong; it
// never stops the run.
import Foundation
import Tensors
import Tracking

/// A held-out set (`set.json` beside the clips), as world.py writes it (v1 read into the v2 form).
public struct ShapesSet: Sendable {
    public struct Object: Decodable, Sendable {
        public var colour: String, shape: String, direction: String, speed: String
        /// Inclusive pixel box on `promptFrame`: x1, y1, x2, y2.
        public var box: [Int]
        /// The frame the box is on (v1: 0).
        public var promptFrame: Int
    }
    public struct Question: Decodable, Sendable {
        /// The objects asked about, in prompt order (the first is <Prompt0>, the second <Prompt1>).
        public var regions: [Int]
        /// caption, colour, shape, direction, speed; v2 also leave, size, turn, relation_start,
        /// relation_end, touch, overtake, leave_first, leave_last.
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
        public var questions: [Question]
    }
    public var schemaVersion: Int
    public var size: [Int]
    public var frames: Int
    public var sampledFrames: [Int]
    public var clips: [Clip]

    private struct Header: Decodable { var schemaVersion: Int }
    private struct Version2: Decodable {
        var size: [Int], frames: Int, sampledFrames: [Int], clips: [Clip]
    }
    private struct Version1: Decodable {
        struct Object: Decodable { var colour: String, shape: String, direction: String, speed: String, box: [Int] }
        struct Question: Decodable { var kind: String, text: String, choices: [String], answer: String }
        /// Per object, its questions (the object is <Prompt0>).
        struct Clip: Decodable { var file: String, objects: [Object], questions: [[Question]] }
        var size: [Int], frames: Int, sampledFrames: [Int], clips: [Clip]
    }

    /// Reads `DIR/set.json` (schema v1 or v2).
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
            let version = try decoder.decode(Header.self, from: data).schemaVersion
            switch version {
            case 1: set = try fromVersion1(decoder.decode(Version1.self, from: data), path: path)
            case 2:
                let v = try decoder.decode(Version2.self, from: data)
                set = ShapesSet(schemaVersion: 2, size: v.size, frames: v.frames, sampledFrames: v.sampledFrames, clips: v.clips)
            default:
                throw PipelineError.invalidInput(what: path, reason: "schema_version \(version) is not supported (expected 1 or 2)")
            }
        } catch let error as PipelineError {
            throw error
        } catch {
            throw PipelineError.invalidInput(what: path, reason: "not a shapes set (\(ShapesEval.describe(error)))")
        }
        try set.validate(path: path)
        return set
    }

    /// v1 in the v2 form: object k's questions are about regions [k], every box on frame 0.
    private static func fromVersion1(_ v: Version1, path: String) throws -> ShapesSet {
        let clips = try v.clips.map { c in
            guard c.questions.count == c.objects.count else {
                throw PipelineError.invalidInput(what: "\(path) clip \(c.file)", reason: "needs the questions of each of its \(c.objects.count) objects")
            }
            let objects = c.objects.map { Object(colour: $0.colour, shape: $0.shape, direction: $0.direction, speed: $0.speed, box: $0.box, promptFrame: 0) }
            let questions = c.questions.enumerated().flatMap { k, qs in
                qs.map { Question(regions: [k], kind: $0.kind, text: $0.text, choices: $0.choices, answer: $0.answer) }
            }
            return Clip(file: c.file, objects: objects, questions: questions)
        }
        return ShapesSet(schemaVersion: 1, size: v.size, frames: v.frames, sampledFrames: v.sampledFrames, clips: clips)
    }

    private func validate(path: String) throws {
        guard size.count == 2, size.allSatisfy({ $0 > 0 }), frames > 0, !sampledFrames.isEmpty else {
            throw PipelineError.invalidInput(what: path, reason: "size, frames and sampled_frames must be given and positive")
        }
        for c in clips {
            func bad(_ reason: String) -> PipelineError { .invalidInput(what: "\(path) clip \(c.file)", reason: reason) }
            guard c.objects.count >= 2, c.objects.allSatisfy({ $0.box.count == 4 }) else {
                throw bad("needs at least two objects (the swap control), each with a 4-number box")
            }
            for (k, o) in c.objects.enumerated() where !(0 ..< frames).contains(o.promptFrame) {
                throw bad("object \(k): prompt_frame \(o.promptFrame) is not a frame of the clip (0..\(frames - 1))")
            }
            var seen: Set<[String]> = []
            for (i, q) in c.questions.enumerated() {
                guard !q.regions.isEmpty, Set(q.regions).count == q.regions.count else {
                    throw bad("question \(i): regions must name one or more different objects, got \(q.regions)")
                }
                if let k = q.regions.first(where: { !(0 ..< c.objects.count).contains($0) }) {
                    throw bad("question \(i): region \(k) is out of range (the clip has \(c.objects.count) objects)")
                }
                guard seen.insert(q.regions.map(String.init) + [q.kind]).inserted else {
                    throw bad("question \(i): a second '\(q.kind)' question about regions \(q.regions)")
                }
            }
        }
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
    /// Items run (a clip's questions about the same regions) and how many failed to run (counted wrong).
    public var items: Int
    public var errors: Int
    /// Multiple choice: every question, then per kind (colour, shape, direction, speed; v2 sets add
    /// the event and two-region kinds).
    public var multipleChoice: Double?
    public var multipleChoiceByKind: [String: Double]
    /// Captions naming the right word (before the caption's first comma), per attribute; v2 sets add
    /// `event`: the event clause (after the comma, or none) equal to the reference's.
    public var caption: [String: Double]
    /// Captions with the right colour, shape and direction words.
    public var captionColourShapeDirection: Double?
    /// Captions with every attribute word right: colour, shape and both motion words (direction, speed).
    public var captionAllWords: Double?
}

public struct ShapesEvalReport: Codable, Sendable {
    public struct Item: Codable, Sendable {
        public var clip: String
        /// The object asked about (one-region items), as <Prompt0>.
        public var object: Int?
        /// The objects asked about, in prompt order, as the set names them (the swapped control
        /// prompts others: see the condition).
        public var regions: [Int]
        public var condition: ShapesCondition
        public var status: String
        public var error: String?
        public var caption: String?
        /// Per multiple-choice kind: the letter read from the answer and the right one.
        public var choices: [String: [String]]
    }
    public var model: String
    public var set: String
    /// The set's schema_version (1: the default world; 2: event clips).
    public var setSchemaVersion: Int
    public var clips: Int
    public var frames: Int
    /// The multiple-choice kinds of the set, in the order they first appear.
    public var kinds: [String]
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
        let captionKeys = ShapesEval.attributes + (setSchemaVersion >= 2 ? ["event"] : [])
        var s = "| condition | items | multiple choice | " + kinds.joined(separator: " | ")
            + " | caption colour+shape+direction | caption all four words | caption " + captionKeys.joined(separator: " | caption ") + " |\n"
        s += "|---|---|---|" + String(repeating: "---|", count: kinds.count + 2 + captionKeys.count) + "\n"
        for r in scores {
            s += "| \(r.condition.rawValue) | \(r.items) | \(pct(r.multipleChoice)) | "
                + kinds.map { pct(r.multipleChoiceByKind[$0]) }.joined(separator: " | ")
                + " | \(pct(r.captionColourShapeDirection)) | \(pct(r.captionAllWords)) | "
                + captionKeys.map { pct(r.caption[$0]) }.joined(separator: " | ") + " |\n"
        }
        s += "\nchance (multiple choice): " + kinds.map { "\($0) \(pct(chance[$0]))" }.joined(separator: ", ") + "\n"
        if setSchemaVersion >= 2 {
            s += "note: the shipped demo model (models/gar-shapes-demo) spent 30 % of its last run on event clips and two-region "
                + "questions; leave, size, turn and touch can often be answered from the kind of clip alone (the swapped and "
                + "full-frame rows show how much), colour, shape, direction, speed and the relations need the region.\n"
        }
        let errors = scores.reduce(0) { $0 + $1.errors }
        if errors > 0 { s += "\(errors) item(s) failed to run and count as wrong (see --json).\n" }
        return s
    }
}

public enum ShapesEval {
    static let attributes = ["colour", "shape", "direction", "speed"]

    /// The words of the world, per attribute (a caption is right on an attribute when it names the
    /// object's word and no other word of that attribute).
    static let vocabulary: [String: [String]] = [
        "colour": ["red", "green", "blue", "yellow"],
        "shape": ["circle", "square", "triangle", "star"],
        "direction": ["left", "right", "up", "down"],
        "speed": ["slowly", "quickly"],
    ]

    /// A clip's questions about the same regions (one run of the chain per condition).
    struct Group {
        var clip: ShapesSet.Clip
        var regions: [Int]
        var questions: [ShapesSet.Question]
    }

    /// The questions of a clip grouped by their regions, in the order the groups first appear.
    static func groups(_ clip: ShapesSet.Clip) -> [Group] {
        var out: [Group] = []
        for q in clip.questions {
            if let i = out.firstIndex(where: { $0.regions == q.regions }) {
                out[i].questions.append(q)
            } else {
                out.append(Group(clip: clip, regions: q.regions, questions: [q]))
            }
        }
        return out
    }

    public static func run(_ o: ShapesEvalOptions, engine given: VideoRegionEngine? = nil) throws -> ShapesEvalReport {
        let set = try ShapesSet.load(directory: o.directory)
        let clips = o.limit.map { Array(set.clips.prefix($0)) } ?? set.clips
        let engine = try given ?? VideoRegionEngine(modelDirectory: o.modelDirectory, precision: o.precision)
        var spec = PipelineSpec.builtIn(.captionTrackedObject)
        spec.frames.count = set.sampledFrames.count
        spec.generation.maxNewTokens = 32
        let groups = clips.flatMap(groups)
        let progress = Progress("eval shapes", total: groups.count * o.conditions.count, quiet: o.quiet)
        var asked: [(item: ShapesEvalReport.Item, questions: [ShapesSet.Question])] = []
        for group in groups {
            let video = (o.directory as NSString).appendingPathComponent(group.clip.file)
            for condition in o.conditions {
                var item = ShapesEvalReport.Item(clip: group.clip.file, object: group.regions.count == 1 ? group.regions[0] : nil,
                                                 regions: group.regions, condition: condition, status: "ok", choices: [:])
                do {
                    var r = RegionRequest(input: video, spec: spec)
                    r.threads = o.threads
                    r.precision = o.precision
                    r.questions = group.questions.map { VideoQuestion($0.text, choices: $0.choices) }
                    switch condition {
                    case .region: r.regions = try boxRegions(group.regions.map { group.clip.objects[$0] })
                    case .swapped: r.regions = try boxRegions(swapped(group.regions, objects: group.clip.objects.count).map { group.clip.objects[$0] })
                    case .fullFrame:
                        r.annotation = try fullFrame(regions: group.regions.count, width: set.size[0], height: set.size[1],
                                                     frames: set.frames, source: video)
                    }
                    let answer = try VideoRegionJob.run(r, engine: engine)
                    for (q, a) in zip(group.questions, answer.answers) {
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
                asked.append((item, group.questions))
                let who = group.regions.count == 1 ? "object \(group.regions[0])" : "objects \(group.regions.map(String.init).joined(separator: ","))"
                progress.advance(note: "\(group.clip.file) \(who) \(condition.rawValue) \(item.status)")
            }
        }
        progress.finish()
        var kinds: [String] = []
        var chance: [String: Double] = [:]
        for q in clips.flatMap(\.questions) where !q.choices.isEmpty && !kinds.contains(q.kind) {
            kinds.append(q.kind)
            chance[q.kind] = 100.0 / Double(q.choices.count)
        }
        let scores = o.conditions.map { c in
            score(asked.filter { $0.item.condition == c }, condition: c, kinds: kinds, events: set.schemaVersion >= 2)
        }
        return ShapesEvalReport(model: engine.directory, set: o.directory, setSchemaVersion: set.schemaVersion, clips: clips.count,
                                frames: set.sampledFrames.count, kinds: kinds, chance: chance, scores: scores, items: asked.map(\.item))
    }

    /// The swapped control's regions: one region → the next object; several → the same in reverse order.
    static func swapped(_ regions: [Int], objects: Int) -> [Int] {
        regions.count == 1 ? [(regions[0] + 1) % objects] : regions.reversed()
    }

    /// The attribute words a caption names before its first comma (lowercased words; an attribute
    /// with none or with two different words is missing). After the comma comes the event clause,
    /// which may name another object.
    public static func captionWords(_ text: String) -> [String: String] {
        let head = text.split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let words = Set(head.lowercased().split(whereSeparator: { !$0.isLetter }).map(String.init))
        var out: [String: String] = [:]
        for (attribute, vocab) in vocabulary {
            let found = vocab.filter { words.contains($0) }
            if found.count == 1 { out[attribute] = found[0] }
        }
        return out
    }

    /// A caption's event clause: the text after its first comma, trimmed and lowercased (nil: none).
    public static func eventClause(_ text: String) -> String? {
        guard let comma = text.firstIndex(of: ",") else { return nil }
        return text[text.index(after: comma)...].trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    static func score(_ asked: [(item: ShapesEvalReport.Item, questions: [ShapesSet.Question])], condition: ShapesCondition,
                      kinds: [String], events: Bool) -> ShapesScores {
        func pct(_ right: Int, _ n: Int) -> Double? { n == 0 ? nil : 100.0 * Double(right) / Double(n) }
        var mcRight = 0, mcTotal = 0
        var byKind: [String: Double] = [:]
        for kind in kinds {
            let relevant = asked.filter { $0.questions.contains { $0.kind == kind } }
            let right = relevant.filter { ($0.item.choices[kind]).map { $0[0] == $0[1] } ?? false }.count
            mcRight += right; mcTotal += relevant.count
            byKind[kind] = pct(right, relevant.count)
        }
        // (the model's caption, the reference) of every item with a caption question (nil: it failed)
        let captions = asked.compactMap { a in a.questions.first { $0.kind == "caption" }.map { (a.item.caption, $0.answer) } }
        func captionRate(_ right: (String, String) -> Bool) -> Double? {
            pct(captions.filter { got, want in got.map { right($0, want) } ?? false }.count, captions.count)
        }
        var caption: [String: Double] = [:]
        for attribute in attributes {
            caption[attribute] = captionRate { got, want in
                let g = captionWords(got)[attribute]
                return g != nil && g == captionWords(want)[attribute]
            }
        }
        if events { caption["event"] = captionRate { eventClause($0) == eventClause($1) } }
        func wordsRight(_ names: [String]) -> Double? {
            captionRate { got, want in
                let (g, w) = (captionWords(got), captionWords(want))
                return names.allSatisfy { g[$0] != nil && g[$0] == w[$0] }
            }
        }
        return ShapesScores(condition: condition, items: asked.count, errors: asked.filter { $0.item.status == "error" }.count,
                            multipleChoice: pct(mcRight, mcTotal), multipleChoiceByKind: byKind, caption: caption,
                            captionColourShapeDirection: wordsRight(["colour", "shape", "direction"]),
                            captionAllWords: wordsRight(attributes))
    }

    /// `<Prompt0>`, `<Prompt1>`, … = each object's box on its prompt frame.
    static func boxRegions(_ objects: [ShapesSet.Object]) throws -> [ObjectSpec] {
        var b = PromptListBuilder()
        for (k, o) in objects.enumerated() {
            try b.object("<Prompt\(k)>")
            try b.frame(o.promptFrame)
            try b.box(o.box.map(String.init).joined(separator: ","))
        }
        return try b.finish()
    }

    /// `regions` regions, each covering the whole frame on every frame.
    static func fullFrame(regions: Int, width: Int, height: Int, frames: Int, source: String) throws -> RegionAnnotation {
        let whole = try RLE(height: height, width: width, counts: [0, width * height])
        var masks: [Int: RLE?] = [:]
        for f in 0 ..< frames { masks[f] = whole }
        return RegionAnnotation(regions: Array(repeating: masks, count: regions), source: "\(source) (full-frame control)")
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let c):
            return "missing key \(jsonName(key))" + (c.codingPath.isEmpty ? "" : " in " + jsonPath(c.codingPath))
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c), DecodingError.dataCorrupted(let c):
            return jsonPath(c.codingPath) + ": " + c.debugDescription
        default: return "\(error)"
        }
    }

    /// A decoding path as the JSON spells it: clips[0].objects[1].
    static func jsonPath(_ path: [any CodingKey]) -> String {
        let joined = path.map { $0.intValue.map { "[\($0)]" } ?? "." + jsonName($0) }.joined()
        return String(joined.drop(while: { $0 == "." }))
    }

    /// A key's JSON name (the decoder converts snake_case keys to camelCase).
    static func jsonName(_ key: any CodingKey) -> String {
        key.stringValue.reduce(into: "") { s, c in s += c.isUppercase ? "_" + c.lowercased() : String(c) }
    }
}
