// VideoRefer-Bench-Q runner: `gar bench videorefer --questions Q.json --videos ROOT --model DIR`.
//
// The benchmark (DAMO-NLP-SG/VideoRefer-Bench on the Hugging Face hub; format and scripts in
// alibaba-damo-academy/PixelRefer VideoRefer/benchmark/README.md and
// VideoRefer/videorefer/eval/{inference_videorefer_q_bench,eval_videorefer_bench_q}.py): a JSON
// list of 1,000 questions
//
//     {"id": 0, "video": "DAVIS/JPEGImages/480p/aerobatics",        (a folder of frames, or a file)
//      "Question": "What is <object3><region> not wearing?", "type": "Basic Questions",
//      "options": ["(A) A helmet", "(B) A hat", ...], "Answer": "(A) A helmet",
//      "frame_idx": "57",                                            (single-frame mode's frame)
//      "annotation": [{"0": {"segmentation": RLE}, "3": {...}, ...}, ...]}   (one dict per object)
//
// Objects: the i-th distinct `<objectN>` of the question (in order of first appearance) is the
// i-th annotation dict — how VideoRefer's own set-of-mark script pairs them — and becomes
// `<Prompti>` here; `<region>` markers are removed. The model is asked
// Question + " " + options + ". Answer with the option's letter from the given choices directly."
// and scored with the official letter rule (MultipleChoice). Types: Basic Questions, Sequential
// Questions, Relationship Questions, Reasoning Questions, Future Predictions; the average is the
// micro average over all questions (the official script's).
//
// Predictions JSONL (one line per question, also the resume ledger) keeps the official keys
// "Answer", "pred", "type" (so eval_videorefer_bench_q.py runs on the "ok" lines as they are),
// plus id, video, question sent, extracted letter, correct, frames, status / error.
import Foundation

public struct VideoReferItem: Sendable {
    public var id: String
    public var video: String
    public var question: String
    public var type: String
    public var options: [String]
    public var answer: String
    public var frameIndex: Int?
    public var annotation: RegionAnnotation
}

public struct VideoReferOptions: Sendable {
    public var questions: String
    public var videos: String
    public var out: String
    public var spec: PipelineSpec
    public var modelDirectory: String?
    public var limit: Int?
    public var resume = false
    public var threads: Int?
    public var quiet = false

    public init(questions: String, videos: String, out: String, spec: PipelineSpec) {
        self.questions = questions
        self.videos = videos
        self.out = out
        self.spec = spec
    }
}

/// Accuracy per question type and overall.
public struct VideoReferScores: Codable, Sendable, Equatable {
    public struct Row: Codable, Sendable, Equatable {
        public var type: String
        public var total: Int
        public var correct: Int
        public var accuracy: Double
    }
    /// In order of first appearance (as the official script prints them).
    public var types: [Row]
    /// Micro average over every question.
    public var average: Row
    /// Questions that could not be run (counted as wrong).
    public var errors: Int
    /// README "JSON outputs" (`bench videorefer --json`).
    public var schemaVersion = 1

    /// Markdown table.
    public var table: String {
        var s = "| type | questions | correct | accuracy |\n|---|---|---|---|\n"
        for r in types + [average] {
            s += "| \(r.type) | \(r.total) | \(r.correct) | \(String(format: "%.1f", 100 * r.accuracy)) |\n"
        }
        if errors > 0 { s += "\n\(errors) question(s) failed to run and count as wrong.\n" }
        return s
    }
}

/// One predictions line.
struct VideoReferRecord: Codable {
    var id: String
    var video: String
    var type: String
    var status: String
    var Question: String
    var options: [String]
    var Answer: String
    var question: String?
    var pred: String?
    var choice: String?
    var correct: Bool?
    var frames: [Int]?
    var promptTokens: Int?
    var error: String?
    /// Damaged data met while reading the video (the answer's warnings).
    var warnings: [String]?
    /// README "JSON outputs" (`bench videorefer predictions`).
    var schemaVersion = 2

    // The official keys ("Question", "Answer", "pred", "type") as VideoRefer's files spell them:
    // the only keys of gar's outputs that are not snake_case (the official scorer reads them).
    enum CodingKeys: String, CodingKey {
        case id, video, type, status, Question, options, Answer, question, pred, choice, correct, frames, error, warnings
        case promptTokens = "prompt_tokens", schemaVersion = "schema_version"
    }
}

public enum VideoReferBench {
    // MARK: questions

    public static func loadQuestions(_ path: String) throws -> [VideoReferItem] {
        try InputFile.check(path)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PipelineError.io(path: path, reason: FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such questions file")
        }
        guard let list = (try? JSONSerialization.jsonObject(with: data)) as? [Any] else {
            throw PipelineError.invalidInput(what: path, reason: "expected a JSON list of questions")
        }
        var items: [VideoReferItem] = []
        for (i, raw) in list.enumerated() {
            let what = "\(path) question \(i)"
            guard let d = raw as? [String: Any] else { throw PipelineError.invalidInput(what: what, reason: "not a JSON object") }
            let id: String
            if let n = d["id"] as? Int { id = String(n) } else if let s = d["id"] as? String { id = s } else { id = String(i) }
            func text(_ key: String) throws -> String {
                guard let s = d[key] as? String else { throw PipelineError.invalidInput(what: "\(path) question \(id)", reason: "needs \"\(key)\" (text)") }
                return s
            }
            guard let options = d["options"] as? [String] else {
                throw PipelineError.invalidInput(what: "\(path) question \(id)", reason: "needs \"options\" (a list of texts)")
            }
            var frameIndex: Int? = nil
            if let f = d["frame_idx"] as? Int { frameIndex = f } else if let s = d["frame_idx"] as? String { frameIndex = Int(s) }
            guard let ann = d["annotation"] else { throw PipelineError.invalidInput(what: "\(path) question \(id)", reason: "needs \"annotation\"") }
            items.append(VideoReferItem(id: id, video: try text("video"), question: try text("Question"), type: try text("type"),
                                        options: options, answer: try text("Answer"), frameIndex: frameIndex,
                                        annotation: try RegionAnnotation.parse(ann, source: "\(path) question \(id) annotation")))
        }
        return items
    }

    /// `<objectN>` (optionally followed by `<region>`) → `<Prompti>`, i = the object's rank of
    /// first appearance; other `<region>` markers removed. Returns the text and the object count.
    public static func mapObjects(_ question: String) -> (text: String, objects: [String]) {
        var objects: [String] = []
        var out = ""
        var rest = Substring(question)
        while let r = rest.range(of: "<object") {
            out += rest[..<r.lowerBound]
            let after = rest[r.upperBound...]
            let digits = after.prefix(while: { $0.isASCII && $0.isNumber })
            guard !digits.isEmpty, after.dropFirst(digits.count).first == ">" else {
                out += "<object"
                rest = after
                continue
            }
            let name = "<object\(digits)>"
            if !objects.contains(name) { objects.append(name) }
            out += "<Prompt\(objects.firstIndex(of: name)!)>"
            rest = after.dropFirst(digits.count + 1)
            if rest.hasPrefix("<region>") { rest = rest.dropFirst("<region>".count) }
        }
        out += rest
        return (out.replacingOccurrences(of: "<region>", with: ""), objects)
    }

    // MARK: running

    /// Runs (or resumes) the benchmark; returns the scores of the whole predictions file.
    public static func run(_ o: VideoReferOptions, engine given: VideoRegionEngine? = nil) throws -> VideoReferScores {
        var items = try loadQuestions(o.questions)
        if let limit = o.limit { items = Array(items.prefix(limit)) }
        let ledger = try JSONLLedger(path: o.out, resume: o.resume)
        var engine = given
        if engine == nil && items.contains(where: { !ledger.finished.contains($0.id) }) {
            guard let dir = o.modelDirectory ?? o.spec.model else {
                throw PipelineError.invalidInput(what: "--model", reason: "no model directory given")
            }
            engine = try VideoRegionEngine(modelDirectory: dir)
        }
        let progress = Progress("videorefer", total: items.count, quiet: o.quiet)
        let encoder = JSONEncoder()        // not JSONOutput's: the official keys keep their case
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var right = 0, done = 0
        for item in items {
            if ledger.finished.contains(item.id) { progress.advance(note: "\(item.id) (done before)"); continue }
            var record = VideoReferRecord(id: item.id, video: item.video, type: item.type, status: "ok", Question: item.question,
                                          options: item.options, Answer: item.answer)
            do {
                let answer = try ask(item, o, engine: engine!)
                let a = answer.answers[0]
                record.question = a.prompt
                record.pred = a.text
                record.choice = a.choice
                record.correct = MultipleChoice.isCorrect(prediction: a.text, answer: item.answer)
                record.frames = answer.frames.map(\.index)
                record.promptTokens = a.promptTokens
                record.warnings = answer.warnings
            } catch {
                record.status = "error"
                record.error = "\(error)"
            }
            try ledger.append(id: item.id, status: record.status, json: try encoder.encode(record))
            done += 1
            if record.correct == true { right += 1 }
            progress.advance(note: "\(item.id) \(record.status) (\(right)/\(done) right this run)")
        }
        progress.finish()
        // Scores over the questions of this run (limit applied), from the ledger's last lines.
        let ids = Set(items.map(\.id))
        return try score(path: o.out, only: ids)
    }

    /// One question through the video job (masks from its annotation, no tracking).
    static func ask(_ item: VideoReferItem, _ o: VideoReferOptions, engine: VideoRegionEngine) throws -> VideoAnswer {
        let (text, objects) = mapObjects(item.question)
        guard objects.count == item.annotation.regions.count else {
            throw PipelineError.invalidInput(what: "question \(item.id)",
                                             reason: "names \(objects.count) object(s) (\(objects.joined(separator: ", "))) but its annotation has \(item.annotation.regions.count) region(s)")
        }
        var annotation = item.annotation
        if o.spec.videorefer.maskMode == "single" {
            guard let f = item.frameIndex else {
                throw PipelineError.invalidInput(what: "question \(item.id)", reason: "single mask mode needs \"frame_idx\"")
            }
            annotation = annotation.keepingOnly(frame: f)
        }
        var r = RegionRequest(input: (o.videos as NSString).appendingPathComponent(item.video), spec: o.spec)
        r.annotation = annotation
        r.questions = [VideoQuestion(text, choices: item.options)]
        r.threads = o.threads
        r.quiet = true
        return try VideoRegionJob.run(r, engine: engine)
    }

    // MARK: scoring

    /// Scores a predictions file (ours, or the official format: lines with "Answer", "pred",
    /// "type"). The last line per id counts; lines with status "error" (no "pred") are wrong.
    /// `only`: restrict to these ids.
    public static func score(path: String, only: Set<String>? = nil) throws -> VideoReferScores {
        try InputFile.check(path)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PipelineError.io(path: path, reason: "no such predictions file")
        }
        var order: [String] = []
        var last: [String: [String: Any]] = [:]
        var n = 0
        for line in data.split(separator: 0x0A) {
            n += 1
            guard let obj = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any] else {
                // A partial last line (interrupted run) is not a prediction.
                if n == data.split(separator: 0x0A).count && data.last != 0x0A { continue }
                throw PipelineError.invalidInput(what: "\(path) line \(n)", reason: "not a JSON object")
            }
            let id = (obj["id"] as? String) ?? (obj["id"] as? Int).map(String.init) ?? "line \(n)"
            if let only, !only.contains(id) { continue }
            if last[id] == nil { order.append(id) }
            last[id] = obj
        }
        var predictions: [(type: String, answer: String, pred: String?)] = []
        for id in order {
            let obj = last[id]!
            guard let type = obj["type"] as? String, let answer = obj["Answer"] as? String else {
                throw PipelineError.invalidInput(what: "\(path) id \(id)", reason: "needs \"type\" and \"Answer\"")
            }
            predictions.append((type, answer, obj["pred"] as? String))
        }
        return score(predictions)
    }

    /// The official scoring of (type, Answer, pred) triples; a nil pred counts as an error.
    public static func score(_ predictions: [(type: String, answer: String, pred: String?)]) -> VideoReferScores {
        var types: [String] = []
        var total: [String: Int] = [:], correct: [String: Int] = [:]
        var errors = 0
        for p in predictions {
            if total[p.type] == nil { types.append(p.type); total[p.type] = 0; correct[p.type] = 0 }
            total[p.type]! += 1
            guard let pred = p.pred else { errors += 1; continue }
            if MultipleChoice.isCorrect(prediction: pred, answer: p.answer) { correct[p.type]! += 1 }
        }
        let rows = types.map { t in
            VideoReferScores.Row(type: t, total: total[t]!, correct: correct[t]!, accuracy: Double(correct[t]!) / Double(total[t]!))
        }
        let all = rows.reduce(0) { $0 + $1.total }, right = rows.reduce(0) { $0 + $1.correct }
        return VideoReferScores(types: rows,
                                average: .init(type: "average", total: all, correct: right, accuracy: all == 0 ? 0 : Double(right) / Double(all)),
                                errors: errors)
    }
}
