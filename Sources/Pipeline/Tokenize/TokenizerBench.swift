// `gar bench tokenizer`: encode/decode throughput on one core, ours against the Python `tokenizers`
// library (Rust core) measured in the same run when a Python with it is given. Both sides encode the
// same lines (the text split at "\n") without special tokens; Python runs single-threaded
// (TOKENIZERS_PARALLELISM=false, RAYON_NUM_THREADS=1) through encode_batch, so its per-call
// overhead is amortised. A checksum of all ids shows both produced the same tokens.
import Basics
import Foundation
import Tokenizers

public struct TokenizerBenchResult: Sendable {
    public struct Row: Sendable {
        public var name: String
        /// Wall-clock seconds per repetition.
        public var seconds: [Double]
        /// CPU seconds of the measuring thread per repetition (robust on a shared machine).
        public var cpuSeconds: [Double]
        /// Bytes processed per repetition (input text for encode, output text for decode).
        public var bytes: Int

        public var meanCPUSeconds: Double { cpuSeconds.reduce(0, +) / Double(max(cpuSeconds.count, 1)) }
        public var cpuMBPerSecond: [Double] { cpuSeconds.map { Double(bytes) / $0 / 1e6 } }
        public var wallMBPerSecond: [Double] { seconds.map { Double(bytes) / $0 / 1e6 } }
    }

    public var textBytes: Int
    public var lines: Int
    public var tokens: Int
    public var checksum: UInt32
    public var rows: [Row]
    /// Python side: version string, token count and checksum (nil when not run).
    public var python: (version: String, tokens: Int, checksum: UInt32)?
    public var pythonNote: String?
}

public enum TokenizerBench {
    public static func run(modelDirectory: URL, text: String?, python: String?, repetitions: Int,
                           progress: Progress? = nil) throws -> TokenizerBenchResult {
        let tokenizer = try Tokenizer.load(directory: modelDirectory)
        let fullText = text ?? syntheticText(bytes: 1_000_000)
        let lines = splitLines(fullText)
        let textBytes = lines.reduce(0) { $0 + $1.utf8.count }

        // Warm-up (page in tables), then timed repetitions.
        for line in lines.prefix(200) { _ = tokenizer.encode(line, addSpecialTokens: false) }
        var encodeTimes: [(Double, Double)] = []
        var preTimes: [(Double, Double)] = []
        var decodeTimes: [(Double, Double)] = []
        var all: [[Int]] = []
        var decodedBytes = 0
        for _ in 0..<repetitions {
            var pieces = 0
            preTimes.append(timed { for line in lines { pieces += tokenizer.preTokenCount(line) } })
            var encoded: [[Int]] = []
            encoded.reserveCapacity(lines.count)
            encodeTimes.append(timed { for line in lines { encoded.append(tokenizer.encode(line, addSpecialTokens: false)) } })
            var outBytes = 0
            decodeTimes.append(timed { for ids in encoded { outBytes += tokenizer.decode(ids, cleanUp: false).utf8.count } })
            all = encoded
            decodedBytes = outBytes
            progress?.advance()
        }
        let tokens = all.reduce(0) { $0 + $1.count }
        var result = TokenizerBenchResult(
            textBytes: textBytes, lines: lines.count, tokens: tokens, checksum: checksum(all),
            rows: [row("gar encode (Swift)", encodeTimes, textBytes),
                   row("gar pre-tokenize only", preTimes, textBytes),
                   row("gar decode (Swift)", decodeTimes, decodedBytes)],
            python: nil, pythonNote: nil)

        if let python {
            do {
                let py = try runPython(python, tokenizerJSON: modelDirectory.appendingPathComponent("tokenizer.json"),
                                       lines: lines, repetitions: repetitions)
                result.rows.append(row("tokenizers \(py.version) encode (Python, Rust core)", py.encode, textBytes))
                result.rows.append(row("tokenizers \(py.version) decode (Python, Rust core)", py.decode, py.decodedBytes))
                result.python = (py.version, py.tokens, py.checksum)
            } catch {
                result.pythonNote = "Python reference not measured: \(error)"
            }
        } else {
            result.pythonNote = "Python reference not measured (pass --python /path/to/python with `tokenizers` installed)"
        }
        return result
    }

    static func row(_ name: String, _ times: [(Double, Double)], _ bytes: Int) -> TokenizerBenchResult.Row {
        TokenizerBenchResult.Row(name: name, seconds: times.map(\.0), cpuSeconds: times.map(\.1), bytes: bytes)
    }

    /// Markdown table; ratios are against the Python library's encode (or decode) in the same run.
    public static func table(_ r: TokenizerBenchResult, machine: String) -> String {
        func stats(_ xs: [Double]) -> (Double, Double) {
            let m = xs.reduce(0, +) / Double(xs.count)
            let v = xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(max(xs.count - 1, 1))
            return (m, v.squareRoot())
        }
        let pyEncode = r.rows.first { $0.name.hasPrefix("tokenizers") && $0.name.contains("encode") }
        let pyDecode = r.rows.first { $0.name.hasPrefix("tokenizers") && $0.name.contains("decode") }
        var out = "gar bench tokenizer — \(machine); one core; text \(String(format: "%.2f", Double(r.textBytes) / 1e6)) MB in \(r.lines) lines, \(r.tokens) tokens; \(r.rows.first?.seconds.count ?? 0) repetitions\n\n"
        out += "| what | MB/s by CPU time (mean ± sd) | MB/s by wall time | CPU ms per repetition | speed vs Python (CPU) |\n"
        out += "|---|---:|---:|---:|---:|\n"
        for row in r.rows {
            let (m, sd) = stats(row.cpuMBPerSecond)
            let (wall, _) = stats(row.wallMBPerSecond)
            let base = row.name.contains("decode") ? pyDecode : (row.name.contains("pre-tokenize") ? nil : pyEncode)
            let ratio = base.map { String(format: "%.2f×", $0.meanCPUSeconds / row.meanCPUSeconds) } ?? "—"
            out += "| \(row.name) | \(String(format: "%.1f ± %.1f", m, sd)) | \(String(format: "%.1f", wall)) | "
            out += "\(String(format: "%.1f", row.meanCPUSeconds * 1000)) | \(ratio) |\n"
        }
        if let py = r.python {
            let same = py.tokens == r.tokens && py.checksum == r.checksum
            out += "\nids identical to the Python library: \(same ? "yes" : "NO") (tokens \(r.tokens) vs \(py.tokens), checksum \(String(r.checksum, radix: 16)) vs \(String(py.checksum, radix: 16)))\n"
        }
        if let note = r.pythonNote { out += "\n\(note)\n" }
        return out
    }

    // MARK: - Helpers

    /// (wall seconds, CPU seconds of this thread) spent in `body`.
    static func timed(_ body: () -> Void) -> (Double, Double) {
        let start = DispatchTime.now().uptimeNanoseconds
        let cpuStart = threadCPUSeconds()
        body()
        return (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, threadCPUSeconds() - cpuStart)
    }

    static func threadCPUSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Lines split at LF bytes (not Characters: "\r\n" stays "...\r"), as Python's str.split("\n").
    static func splitLines(_ text: String) -> [String] {
        text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Checksum of every id in order: h = h·1000003 + id + 1 (mod 2^32), same in the Python script.
    static func checksum(_ all: [[Int]]) -> UInt32 {
        var h: UInt32 = 0
        for ids in all {
            for id in ids { h = h &* 1_000_003 &+ UInt32(truncatingIfNeeded: id) &+ 1 }
        }
        return h
    }

    static let pythonScript = #"""
import json, sys, time
import tokenizers
from tokenizers import Tokenizer
tok = Tokenizer.from_file(sys.argv[1])
with open(sys.argv[2], encoding="utf-8", newline="") as f:
    lines = f.read().split("\n")
reps = int(sys.argv[3])
tok.encode_batch(lines[:200], add_special_tokens=False)
enc_t, dec_t = [], []
for _ in range(reps):
    t0, c0 = time.perf_counter(), time.thread_time()
    enc = tok.encode_batch(lines, add_special_tokens=False)
    enc_t.append([time.perf_counter() - t0, time.thread_time() - c0])
    ids = [e.ids for e in enc]
    t0, c0 = time.perf_counter(), time.thread_time()
    out = tok.decode_batch(ids, skip_special_tokens=False)
    dec_t.append([time.perf_counter() - t0, time.thread_time() - c0])
h = 0
n = 0
for seq in ids:
    n += len(seq)
    for i in seq:
        h = (h * 1000003 + i + 1) & 0xFFFFFFFF
print(json.dumps({"version": tokenizers.__version__, "encode": enc_t, "decode": dec_t, "tokens": n,
                  "checksum": h, "decoded_bytes": sum(len(s.encode("utf-8")) for s in out)}))
"""#

    struct PythonResult {
        var version: String
        var encode: [(Double, Double)]
        var decode: [(Double, Double)]
        var tokens: Int
        var checksum: UInt32
        var decodedBytes: Int
    }

    static func runPython(_ python: String, tokenizerJSON: URL, lines: [String], repetitions: Int) throws -> PythonResult {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("gar-bench-tokenizer-\(getpid()).txt")
        try Data(lines.joined(separator: "\n").utf8).write(to: tmp)
        defer { try? FileManager.default.removeItem(at: tmp) }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", pythonScript, tokenizerJSON.path, tmp.path, String(repetitions)]
        var env = ProcessInfo.processInfo.environment
        env["TOKENIZERS_PARALLELISM"] = "false"
        env["RAYON_NUM_THREADS"] = "1"
        process.environment = env
        let result = try Subprocess.run(process)
        guard result.status == 0 else {
            throw PipelineError.invalidInput(what: python, reason: "exited with \(result.status): \(result.lastErrorLine)")
        }
        let stdout = result.stdout
        struct Payload: Decodable {
            let version: String
            let encode: [[Double]]
            let decode: [[Double]]
            let tokens: Int
            let checksum: UInt32
            let decoded_bytes: Int
        }
        let p = try JSONDecoder().decode(Payload.self, from: stdout)
        return PythonResult(version: p.version, encode: p.encode.map { ($0[0], $0[1]) },
                            decode: p.decode.map { ($0[0], $0[1]) }, tokens: p.tokens,
                            checksum: p.checksum, decodedBytes: p.decoded_bytes)
    }

    /// Deterministic mixed text for the benchmark when no file is given: mostly English prose with
    /// numbers, punctuation and contractions, some code-like lines, and a share of CJK, Cyrillic,
    /// accented Latin and emoji. About `bytes` bytes of UTF-8 in lines of 40–200 bytes.
    public static func syntheticText(bytes: Int) -> String {
        var rng = SplitMix64(seed: 0x5EED)
        let words = ["the", "a", "frog", "jumps", "over", "bright", "green", "slipper", "region", "object", "moves",
                     "behind", "table", "describe", "masked", "detail", "person", "holds", "small", "red", "ball",
                     "and", "then", "it", "is", "was", "in", "of", "with", "curious", "about", "window", "light",
                     "shadow", "water", "tree", "car", "road", "wheel", "shirt", "dog", "bird", "quickly", "slowly"]
        let rare = ["don't", "it's", "we'll", "they're", "I'm", "you've", "she'd", "naïve", "café", "Straße",
                    "日本語のテキスト", "中文文本", "한국어", "Привет", "мир", "😀", "👍🏽", "👨‍👩‍👧", "🇫🇷",
                    "x = f(a, b);", "{\"k\": [1, 2]}", "<Prompt0>", "<|image|>", "—", "…", "(see: §3.2)"]
        var out = ""
        out.reserveCapacity(bytes + 256)
        while out.utf8.count < bytes {
            var line = ""
            let target = 40 + Int(rng.next() % 160)
            var capital = true
            while line.utf8.count < target {
                let r = rng.next() % 100
                var w: String
                if r < 82 {
                    w = words[Int(rng.next() % UInt64(words.count))]
                } else if r < 90 {
                    w = String(rng.next() % (r < 86 ? 100 : 1_000_000))
                } else {
                    w = rare[Int(rng.next() % UInt64(rare.count))]
                }
                if capital { w = w.prefix(1).uppercased() + w.dropFirst(); capital = false }
                line += line.isEmpty ? w : " " + w
                let p = rng.next() % 100
                if p < 6 { line += "."; capital = true } else if p < 10 { line += "," } else if p < 11 { line += "?" }
            }
            out += line + (rng.next() % 8 == 0 ? "\n\n" : "\n")
        }
        return out
    }
}
