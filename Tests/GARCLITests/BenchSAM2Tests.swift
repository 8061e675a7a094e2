// `gar bench track --sam2 DIR` through the binary: option conflicts are usage errors (64), a bad
// checkpoint is a runtime error (1), and a run on the committed tiny SAM 2.1 checkpoint prints
// the stage table as JSON (the reference is skipped without --python).
import Foundation
import Testing

@Suite struct BenchSAM2Tests {
    static let tiny = E2E.root.appendingPathComponent("Tests/Fixtures/sam2-tiny").path

    @Test(arguments: [
        ["bench", "track", "--python", "/usr/bin/python3"],
        ["bench", "track", "--precision", "bf16"],
        ["bench", "track", "--sam2", tiny, "--width", "100"],
        ["bench", "track", "--sam2", tiny, "--reps", "2"],
        ["bench", "track", "--sam2", tiny, "--frames", "0"],
        ["bench", "track", "--sam2", tiny, "--precision", "bf17"],
    ])
    func usageErrorsExit64(_ args: [String]) throws {
        let r = try E2E.run(args)
        #expect(r.status == 64, "\(args): status \(r.status), \(r.stderr)")
        #expect(r.stderr.hasPrefix("error: ") && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    @Test func missingCheckpointExits1() throws {
        let line = try E2E.failure(["bench", "track", "--sam2", "/nonexistent/sam2-checkpoint"])
        #expect(line.hasPrefix("error: ") && line.contains("/nonexistent/sam2-checkpoint"), "\(line)")
        #expect(try E2E.run(["bench", "track", "--sam2", "/nonexistent/sam2-checkpoint"]).status == 1)
    }

    @Test func tinyCheckpointTimesImageStages() throws {
        let r = try E2E.run(["bench", "track", "--sam2", Self.tiny, "--frames", "2", "--precision", "f32", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try r.json()
        #expect(json["schema_version"] as? Int == 1)
        #expect(json["precision"] as? String == "f32")
        #expect(json["image_size"] as? Int == 128)
        #expect(json["memory_keys"] as? Int == 0)   // an image-mode checkpoint: no video stages
        #expect(json["reference_skipped"] as? String == "no --python given")
        let stages = try #require(json["stages"] as? [[String: Any]])
        #expect(stages.count == 2)
        for stage in stages {
            let seconds = try #require(stage["gar_seconds"] as? [Double])
            #expect(seconds.count == 2 && seconds.allSatisfy { $0 > 0 }, "\(stage)")
            #expect((stage["gar_cpu_seconds"] as? [Double])?.count == 2)
            #expect(stage["reference_fp32_seconds"] == nil)
        }
    }
}
