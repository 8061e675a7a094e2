// `gar bench e2e` and the llama.cpp side of `gar bench model` (issue 12 point 7) through the built
// binary on the tiny checkpoint, without Python: the arguments, the JSON shape and the table. The
// llama.cpp helper is replaced by a shell script that answers as bench_llamacpp.py does, so the
// parsing and the first-step logit comparison are checked on known values. Speed is never
// asserted (benchmarks show it).
import Foundation
import Testing

@Suite(.serialized) struct BenchE2ECLITests {
    static let model = "Tests/Fixtures/gar-tiny"

    func number(_ d: [String: Any], _ key: String) throws -> Double {
        try #require(d[key] as? Double ?? (d[key] as? Int).map(Double.init), "\(key) missing or not a number in \(d)")
    }

    @Test func jsonHasEveryStageAndTheSecondQuestion() throws {
        let r = try E2E.run(["bench", "e2e", "--model", Self.model, "--frames", "3", "--max-new-tokens", "4", "--threads", "1",
                             "--second-question", "What colour is <Prompt0>?", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let j = try r.json()
        #expect(j["schema_version"] as? Int == 1)
        #expect((j["clip"] as? String)?.hasSuffix("samples/clips/ball.mp4") == true)
        #expect((j["region"] as? String)?.hasSuffix("samples/masks/ball_f0.png") == true)
        #expect(j["question"] as? String == "Describe this masked region in detail.")
        #expect(j["precision"] as? String == "f32")   // E2E.run pins GAR_PRECISION=f32
        #expect(j["frames"] as? Int == 3 && j["frames_requested"] as? Int == 3 && j["tiles_encoded"] as? Int == 3)
        #expect(j["clip_width"] as? Int == 640 && j["clip_height"] as? Int == 360 && j["clip_frames"] as? Int == 100)
        #expect(j["max_new_tokens"] as? Int == 4)
        let generated = try #require(j["generated_tokens"] as? Int)
        #expect((1 ... 4).contains(generated))
        #expect(try number(j, "prompt_tokens") > 0 && number(j, "tracked_frames") > 3)
        #expect(try number(j, "peak_rss_mb") > 0 && number(j, "checkpoint_mb") > 0)

        let gar = try #require(j["gar"] as? [String: Any])
        let stages = ["load", "decode", "track", "preprocess", "vision", "replay", "prefill", "generate", "model_stages", "end_to_end", "end_to_end_with_load"]
        #expect(Set(gar.keys) == Set(stages))
        for s in stages { #expect(try number(gar, s) >= 0, "\(s)") }
        let modelStages = try number(gar, "vision") + number(gar, "prefill") + number(gar, "generate")
        #expect(try abs(number(gar, "model_stages") - modelStages) < 1e-9)
        #expect(try number(gar, "end_to_end") >= number(gar, "track") + modelStages)
        #expect(try abs(number(gar, "end_to_end_with_load") - number(gar, "end_to_end") - number(gar, "load")) < 1e-9)

        // The second question reuses the frames' features: no tile is encoded again.
        let second = try #require(j["second_question"] as? [String: Any])
        #expect(second["question"] as? String == "What colour is <Prompt0>?")
        #expect(second["frames_encoded"] as? Int == 0)
        #expect(try number(second, "prompt_tokens") > 0 && number(second, "seconds") > 0)
        let percent = try number(second, "percent_of_first")
        #expect(try abs(percent - 100 * number(second, "seconds") / number(gar, "end_to_end")) < 1e-6)

        // No --python: the PyTorch side is skipped and says why; no ratios.
        #expect(j["pytorch"] == nil && j["ratios"] == nil)
        #expect((j["pytorch_skipped"] as? String)?.contains("--python") == true)
    }

    @Test func tableWithAClipAndABox() throws {
        let r = try E2E.run(["bench", "e2e", "--model", Self.model, "--clip", "samples/clips/two_objects.mp4", "--box", "20,20,120,120",
                             "--frames", "2", "--max-new-tokens", "2", "--threads", "1"])
        #expect(r.status == 0, "\(r.stderr)")
        for needle in ["gar bench e2e — samples/clips/two_objects.mp4 (640×360", "region box=20,20,120,120", "vision (2 tiles)",
                       "end to end (no load)", "peak RSS MB", "pytorch: skipped"] {
            #expect(r.stdout.contains(needle), "\(needle) not in:\n\(r.stdout)")
        }
        #expect(!r.stdout.contains("second question"))
    }

    @Test(arguments: [
        ["--frames", "0"],
        ["--max-new-tokens", "0"],
        ["--threads", "0"],
        ["--frame", "-1"],
        ["--clip", "samples/clips/ball.mp4"],                                   // a clip needs its region
        ["--mask", "samples/masks/ball_f0.png", "--box", "1,1,9,9"],
        ["--second-question", "  "],
        ["--precision", "f16"],
        ["--box", "1,2,3"],
    ])
    func usageErrorsExit64(_ extra: [String]) throws {
        let r = try E2E.run(["bench", "e2e", "--model", Self.model] + extra)
        #expect(r.status == 64, "\(extra): \(r.status) \(r.stderr)")
        #expect(r.stderr.hasPrefix("error: ") && r.stderr.split(separator: "\n").count == 1, "\(extra): \(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    @Test func runtimeErrorsExit1NamingTheInput() throws {
        let clip = try E2E.run(["bench", "e2e", "--model", Self.model, "--clip", "/nonexistent/clip.mp4", "--box", "1,1,9,9"])
        #expect(clip.status == 1 && clip.stderr.hasPrefix("error: ") && clip.stderr.contains("/nonexistent/clip.mp4"), "\(clip.status) \(clip.stderr)")
        #expect(clip.stderr.split(separator: "\n").count == 1, "\(clip.stderr)")
        let model = try E2E.run(["bench", "e2e", "--model", "/nonexistent/model"])
        #expect(model.status == 1 && model.stderr.contains("/nonexistent/model"), "\(model.status) \(model.stderr)")
    }

    /// A stand-in for bench_llamacpp.py's interpreter: writes all-zero check logits of the tiny
    /// model's vocabulary and prints the helper's JSON.
    func fakeLlamaCpp(vocab: Int) throws -> URL {
        let dir = E2E.tempDir("fake-llamacpp")
        let script = dir.appendingPathComponent("python")
        let text = """
        #!/bin/bash
        while [ $# -gt 0 ]; do
          case "$1" in --out-dir) out="$2"; shift;; --check-ids) ids="$2"; shift;; --prefill) prefill="$2"; shift;; esac
          shift
        done
        head -c \(vocab * 4) /dev/zero > "$out/check-logits-bf16.f32"
        echo "$ids" > "\(dir.path)/ids"
        echo "$prefill" > "\(dir.path)/prefill"
        cat <<EOF
        {"results": [{"type": "BF16", "gguf_mb": 2.5, "load_s": 0.1, "decode_tokens_per_s": 20.0, "check_logits": "$out/check-logits-bf16.f32",
          "prefill": [{"tokens": 8, "tokens_per_s": 50.0}, {"tokens": 512, "tokens_per_s": 100.0}, {"tokens": 1024, "tokens_per_s": 90.0}]}]}
        EOF
        """
        try text.write(to: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        return dir
    }

    @Test func benchModelComparesWithLlamaCpp() throws {
        let config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: E2E.root.appendingPathComponent("\(Self.model)/config.json"))) as? [String: Any])
        let vocab = try #require(((config["mllm_config"] as? [String: Any])?["text_config"] as? [String: Any])?["vocab_size"] as? Int)
        let dir = try fakeLlamaCpp(vocab: vocab)
        let args = ["bench", "model", "--model", Self.model, "--tiles", "1", "--prefill-len", "8", "--decode-steps", "1", "--threads", "1",
                    "--llama-cpp", dir.appendingPathComponent("python").path, "--gguf-dir", dir.appendingPathComponent("gguf").path]
        let r = try E2E.run(args + ["--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let j = try r.json()
        #expect(j["schema_version"] as? Int == 2)
        #expect(j["llama_cpp_skipped"] == nil)
        let ids = try #require(j["llama_cpp_check_ids"] as? [Int])
        #expect(ids.count == 8)   // gar's warm-up prompt: the first min(64, prefill-len) ids
        let sent = try String(contentsOf: dir.appendingPathComponent("ids"), encoding: .utf8)
        #expect(sent.trimmingCharacters(in: .whitespacesAndNewlines) == ids.map(String.init).joined(separator: ","))
        #expect(try String(contentsOf: dir.appendingPathComponent("prefill"), encoding: .utf8) == "8,512,1024\n")
        let llama = try #require((j["llama_cpp"] as? [[String: Any]])?.first)
        #expect(llama["type"] as? String == "BF16")
        #expect(try number(llama, "decode_tokens_per_second") == 20)
        // All-zero logits against gar's: max |0 − gar| / max |gar| = 1 exactly.
        #expect(try number(llama, "first_step_logits_max_relative_difference") == 1)
        let garPrefill = try #require(j["gar_prefill"] as? [[String: Any]])
        #expect(garPrefill.compactMap { $0["tokens"] as? Int } == [8, 512, 1024])

        let t = try E2E.run(args)
        #expect(t.status == 0, "\(t.stderr)")
        for needle in ["LLM part vs llama.cpp", "prefill 512 tokens/s", "llama BF16", "gar/BF16", "logits max rel. Δ vs gar", "1.00e+00"] {
            #expect(t.stdout.contains(needle), "\(needle) not in:\n\(t.stdout)")
        }
    }

    /// Sizes below 1 are usage errors (64) naming the option, before the model loads.
    @Test(arguments: ["--tiles", "--prefill-len", "--prefill-chunk", "--decode-steps"])
    func benchModelSizesMustBePositive(option: String) throws {
        let r = try E2E.run(["bench", "model", "--model", Self.model, option, "0"])
        #expect(r.status == 64, "\(r.status) \(r.stderr)")
        #expect(r.stderr.contains("\(option) must be at least 1, got 0"), "\(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    /// --prefill-chunk reaches the prefill and the report (chunked = unchunked results: `SessionTests`).
    @Test func benchModelPrefillChunkIsReported() throws {
        let args = ["bench", "model", "--model", Self.model, "--tiles", "1", "--prefill-len", "40", "--decode-steps", "1", "--threads", "1", "--json"]
        let whole = try E2E.run(args)
        let chunked = try E2E.run(args + ["--prefill-chunk", "16"])
        #expect(whole.status == 0 && chunked.status == 0, "\(whole.stderr) \(chunked.stderr)")
        #expect(try whole.json()["prefill_chunk"] as? Int == 2048)
        #expect(try chunked.json()["prefill_chunk"] as? Int == 16)
    }

    @Test func benchModelWithoutLlamaCppInterpreter() throws {
        let tmp = E2E.tempDir("bench-tmp")
        let r = try E2E.run(["bench", "model", "--model", Self.model, "--tiles", "1", "--prefill-len", "8", "--decode-steps", "1", "--threads", "1",
                             "--llama-cpp", "/nonexistent/python", "--json"], environment: ["TMPDIR": tmp.path])
        #expect(r.status == 0, "\(r.stderr)")
        // The folder made for llama.cpp's logits is removed when the interpreter cannot even start.
        let left = try FileManager.default.contentsOfDirectory(atPath: tmp.path).filter { $0.hasPrefix("gar-bench-llamacpp") }
        #expect(left.isEmpty, "left in TMPDIR: \(left)")
        let j = try r.json()
        #expect(j["llama_cpp"] == nil && j["gar_prefill"] == nil)
        #expect((j["llama_cpp_skipped"] as? String)?.contains("/nonexistent/python") == true, "\(j["llama_cpp_skipped"] ?? "nil")")
        let plain = try E2E.run(["bench", "model", "--model", Self.model, "--tiles", "1", "--prefill-len", "8", "--decode-steps", "1", "--threads", "1", "--json"])
        #expect(try plain.json()["llama_cpp_skipped"] == nil)
    }
}
