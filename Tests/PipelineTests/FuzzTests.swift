// A seeded mutation fuzzer for the parsers of user files, run in-process: pipeline specs (YAML and
// --set values), annotation JSON, COCO RLE, scribble files, region strings, mask images and batch
// lists. Valid seeds (pipelines/, samples/, Tests/Fixtures/) are mutated — bit flips, random
// bytes, truncation, duplicated and deleted regions, huge numbers, deep nesting — and each input
// must either parse or throw an error whose description is one line. A trap or a stack overflow
// kills the test runner: that is the failure signal. The input being parsed is written first to
// $TMPDIR/gar-fuzz-<target>.last, so a crash leaves it behind to reproduce.
//
// Bounded: per target at most GAR_FUZZ_CASES inputs (default 3000) and GAR_FUZZ_SECONDS seconds
// (default 2.5). Seed GAR_FUZZ_SEED (default fixed). A longer local run:
//     GAR_FUZZ_SECONDS=120 GAR_FUZZ_CASES=100000000 GAR_FUZZ_SEED=$RANDOM swift test --filter FuzzTests
import Basics
import Foundation
import Testing
@testable import Pipeline
import Tracking
import Video

enum Fuzz {
    static let env = ProcessInfo.processInfo.environment
    static let seed = env["GAR_FUZZ_SEED"].flatMap { UInt64($0) } ?? 20_261_206
    static let seconds = env["GAR_FUZZ_SECONDS"].flatMap { Double($0) } ?? 2.5
    static let maxCases = env["GAR_FUZZ_CASES"].flatMap { Int($0) } ?? 3000

    /// Numbers that broke parsers before: overflow edges, huge and odd values.
    static let hostileNumbers = ["9223372036854775807", "-9223372036854775808", "9223372036854775807", "-9223372036854775808",
                                 "99999999999999999999999", "4294967296", "3037000500",
                                 "1e308", "-1", "0", "65536", "1000001", "NaN", "-0", "0x7fffffff"]
    /// Openers that nest when repeated.
    static let nesters = ["[", "{\"a\":", "{a: ", "- ", "  ", "&a [*a, ", "[[", "(((", "\r- "]

    static func mutate(_ seed: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var b = seed
        for _ in 0 ..< Int.random(in: 1 ... 3, using: &rng) {
            let at = b.isEmpty ? 0 : Int.random(in: 0 ..< b.count, using: &rng)
            switch Int.random(in: 0 ..< 8, using: &rng) {
            case 0 where !b.isEmpty:   // flip a bit
                b[at] ^= UInt8(1) << UInt8.random(in: 0 ..< 8, using: &rng)
            case 1 where !b.isEmpty:   // a random byte
                b[at] = UInt8.random(in: 0 ... 255, using: &rng)
            case 2:                    // truncate
                b.removeSubrange(at...)
            case 3 where !b.isEmpty:   // duplicate a region
                let n = Int.random(in: 1 ... min(b.count - at, 4096), using: &rng)
                let copies = Int.random(in: 1 ... 8, using: &rng)
                b.insert(contentsOf: Array(repeating: Array(b[at ..< at + n]), count: copies).joined(),
                         at: Int.random(in: 0 ... b.count, using: &rng))
            case 4 where !b.isEmpty:   // delete a region
                b.removeSubrange(at ..< at + Int.random(in: 1 ... min(b.count - at, 64), using: &rng))
            case 5:                    // a huge number, replacing one of the numbers when there is one
                let isDigit = { (i: Int) in (UInt8(ascii: "0") ... UInt8(ascii: "9")).contains(b[i]) }
                let starts = b.indices.filter { isDigit($0) && ($0 == 0 || !isDigit($0 - 1)) }
                let start = starts.randomElement(using: &rng) ?? at
                var end = start
                while end < b.count, isDigit(end) { end += 1 }
                b.replaceSubrange(start ..< end, with: Array(hostileNumbers.randomElement(using: &rng)!.utf8))
            case 6:                    // deep nesting
                let n = [10, 70, 200, 1000, 5000, 100_000].randomElement(using: &rng)!
                b.insert(contentsOf: Array(String(repeating: nesters.randomElement(using: &rng)!, count: n).utf8), at: at)
            default:                   // random bytes
                b.insert(contentsOf: (0 ..< Int.random(in: 1 ... 16, using: &rng)).map { _ in UInt8.random(in: 0 ... 255, using: &rng) }, at: at)
            }
        }
        return b
    }

    /// Feeds mutations of `seeds` to `parse` within the case and time budget. The seeds
    /// themselves must parse. Returns how many mutated inputs parsed.
    @discardableResult
    static func run(_ target: String, seeds: [[UInt8]], sourceLocation: SourceLocation = #_sourceLocation,
                    _ parse: ([UInt8]) throws -> Void) throws -> Int {
        try #require(!seeds.isEmpty, "no seeds for \(target)", sourceLocation: sourceLocation)
        for s in seeds {
            #expect(throws: Never.self, "a seed of \(target) does not parse", sourceLocation: sourceLocation) { try parse(s) }
        }
        var rng = SplitMix64(seed: seed ^ UInt64(VideoRegionJob.fnv1a(Array(target.utf8)), radix: 16)!)
        let last = FileManager.default.temporaryDirectory.appendingPathComponent("gar-fuzz-\(target).last")
        let deadline = Date().addingTimeInterval(seconds)
        var cases = 0, parsed = 0
        while cases < maxCases && Date() < deadline {
            let input = mutate(seeds.randomElement(using: &rng)!, &rng)
            try Data(input).write(to: last)
            cases += 1
            do {
                try parse(input)
                parsed += 1
            } catch {
                let message = "\(error)"
                #expect(!message.isEmpty && !message.contains("\n"), "\(target): not a one-line error: \(message.prefix(300))",
                        sourceLocation: sourceLocation)
            }
        }
        try? FileManager.default.removeItem(at: last)
        print("fuzz \(target): \(cases) inputs, \(parsed) parsed (seed \(seed))")
        #expect(cases > 0, sourceLocation: sourceLocation)
        return parsed
    }

    static func bytes(_ relative: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: Repo.path(relative)))) }

    static func text(_ b: [UInt8]) throws -> String {
        guard let s = String(validating: b, as: UTF8.self) else { throw PipelineError.invalidInput(what: "fuzz", reason: "not UTF-8") }
        return s
    }
}

@Suite struct FuzzTests {
    @Test func pipelineSpecs() throws {
        let seeds = try ["caption-tracked-object", "temporal-qa", "videorefer-bench-q"].map { try Fuzz.bytes("pipelines/\($0).yaml") }
        let valid = try Fuzz.text(seeds[1])
        try Fuzz.run("spec", seeds: seeds) { b in
            _ = try PipelineSpec.parse(try Fuzz.text(b), source: "fuzz.yaml")
        }
        // --set values are YAML too.
        try Fuzz.run("spec-set", seeds: [Array("frames.count=16".utf8), Array("questions=[\"What is <Prompt0>?\", b]".utf8)]) { b in
            _ = try PipelineSpec.parse(valid, source: "fuzz.yaml", overrides: [try Fuzz.text(b)])
        }
    }

    @Test func annotations() throws {
        try Fuzz.run("annotation", seeds: [try Fuzz.bytes("Tests/Fixtures/images/f_video/annotation.json")]) { b in
            let a = try RegionAnnotation.parse(try JSONSerialization.jsonObject(with: Data(b)), source: "fuzz.json")
            try a.validate(width: 160, height: 120, frameCount: 4)
            for k in a.regions.indices {
                for f in a.annotatedFrames { _ = a.mask(region: k, frame: f) }
            }
        }
    }

    /// "H W COUNTS": COUNTS the compressed string, or "[a,b,...]" runs. A decoded RLE must
    /// survive a round trip through its compressed string.
    @Test func rle() throws {
        let vectors = try #require(try JSONSerialization.jsonObject(with: Data(Fuzz.bytes("Tests/Fixtures/tracking/rle_vectors.json"))) as? [String: Any])
        let cases = try #require(vectors["cases"] as? [[String: Any]])
        var seeds: [[UInt8]] = []
        for c in cases {
            let h = try #require(c["height"] as? Int), w = try #require(c["width"] as? Int)
            seeds.append(Array("\(h) \(w) \(try #require(c["counts"] as? String))".utf8))
            seeds.append(Array("\(h) \(w) [\(try #require(c["runs"] as? [Int]).map(String.init).joined(separator: ","))]".utf8))
        }
        try #require(seeds.count > 5)
        try Fuzz.run("rle", seeds: seeds) { b in
            let f = try Fuzz.text(b).split(separator: " ", maxSplits: 2)
            guard f.count == 3, let h = Int(f[0]), let w = Int(f[1]) else { throw TrackingError.badRLE("not H W COUNTS") }
            let r: RLE
            if f[2].hasPrefix("[") && f[2].hasSuffix("]") {
                let runs = try f[2].dropFirst().dropLast().split(separator: ",").map { s -> Int in
                    guard let v = Int(s) else { throw TrackingError.badRLE("bad run") }
                    return v
                }
                r = try RLE(height: h, width: w, counts: runs)
            } else {
                r = try RLE(height: h, width: w, compressed: String(f[2]))
            }
            #expect(try RLE(height: h, width: w, compressed: r.compressedString) == r)
            if h * w <= 1 << 20 { #expect(RLE(r.mask()).area == r.area) }
        }
    }

    @Test func scribbles() throws {
        // A small frame (a red square on a gradient): GrabCut runs on every input that parses.
        let frame = RGBImage(width: 32, height: 24, pixels: (0 ..< 32 * 24).flatMap { i -> [UInt8] in
            let x = i % 32, y = i / 32
            return (8 ..< 20).contains(x) && (6 ..< 18).contains(y) ? [220, 40, 40] : [30, 90, UInt8(y * 8)]
        })
        let seeds = ["# the square\npos 5 10,10 15,12 18,15\nneg 3 1,1 30,1\n", "pos 1 15,10\n", "neg 9 1,1 31,23\npos 4 12,8 12,15\n"]
        try Fuzz.run("scribble", seeds: seeds.map { Array($0.utf8) }) { b in
            let strokes = try ScribbleFile.parse(try Fuzz.text(b), path: "fuzz.txt")
            _ = try PromptSegmenter.mask(for: RegionPrompt(strokes: strokes), on: frame, what: "fuzz")
        }
    }

    @Test func regionStrings() throws {
        let seeds = ["box=10,10,40,30", "point=5,5 point=20,20,neg frame=2", "mask=a.png frame=1", "scribble=s.txt box=1,2,3,4", "m.png"]
        try Fuzz.run("region", seeds: seeds.map { Array($0.utf8) }) { b in
            _ = try RegionInputs.parseRegion(try Fuzz.text(b), index: 0)
        }
    }

    /// Mask and image decoding (PNG of every mode, JPEG) through FFmpeg.
    @Test func maskImages() throws {
        let names = ["bw_1bit", "gray", "gray16", "gray_alpha16", "labels16", "palette", "palette_4bit", "rgb16", "rgba"]
        let seeds = try names.map { try Fuzz.bytes("samples/images/\($0).png") }
            + [try Fuzz.bytes("Tests/Fixtures/images/d_mask1.png"), try Fuzz.bytes("samples/frames/jpg_seq/img_1.jpg")]
        let dir = Repo.tempDir("fuzz-images")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("image").path
        try Fuzz.run("image", seeds: seeds) { b in
            try Data(b).write(to: URL(fileURLWithPath: path))
            let m = try ImageIO.readMask(path)
            #expect(m.pixels.count == m.width * m.height)
            _ = try? ImageIO.readLabels(path)   // 16-bit labels above 255 are refused, as they should be
            let rgb = try ImageIO.readRGB(path)
            #expect(rgb.pixels.count == rgb.width * rgb.height * 3)
        }
    }

    @Test func batchLists() throws {
        let dir = Repo.tempDir("fuzz-lists")
        defer { try? FileManager.default.removeItem(at: dir) }
        let seed = """
            {"id": "a", "video": "clips/a.mp4", "regions": ["mask=m/a.png frame=3", "box=1,2,3,4"]}
            # comment
            {"video": "/abs/b.mp4", "annotation": "b.json", "questions": ["Q?"]}

            """
        let path = dir.appendingPathComponent("items.jsonl").path
        try Fuzz.run("items", seeds: [Array(seed.utf8)]) { b in
            try Data(b).write(to: URL(fileURLWithPath: path))
            _ = try BatchItems.discover(path)
        }
    }
}
