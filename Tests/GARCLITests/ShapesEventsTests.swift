// `gar eval shapes` on a schema v2 set (Tests/Fixtures/shapes-events: event clips of the shapes world
// with questions about one or two regions, tools/shapes/world.py --kinds) through the built binary
// with the shipped demo model. The model is not trained on event clips: no accuracy is asserted on
// the new kinds, only that every kind is run and reported and that the regions reach the model
// (colour, which it knows, against the swapped control).
import Foundation
import Testing

@Suite struct ShapesEventsTests {
    static let model = ShapesModelTests.model
    static let events = "Tests/Fixtures/shapes-events"

    /// The fixture's set.json.
    static func set() throws -> [String: Any] {
        let data = try Data(contentsOf: E2E.root.appendingPathComponent("\(events)/set.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Per clip, its distinct question region lists (one run of the chain each per condition).
    static func groups(_ clips: [[String: Any]]) throws -> [[[Int]]] {
        try clips.map { clip in
            var out: [[Int]] = []
            for q in try #require(clip["questions"] as? [[String: Any]]) {
                let regions = try #require(q["regions"] as? [Int])
                if !out.contains(regions) { out.append(regions) }
            }
            return out
        }
    }

    @Test func everyKindIsRunAndReported() throws {
        let set = try Self.set()
        let clips = try #require(set["clips"] as? [[String: Any]])
        var kinds: [String] = []
        for clip in clips {
            for q in try #require(clip["questions"] as? [[String: Any]]) where !((q["choices"] as? [String]) ?? []).isEmpty {
                let kind = try #require(q["kind"] as? String)
                if !kinds.contains(kind) { kinds.append(kind) }
            }
        }
        #expect(kinds.count >= 12, "the fixture should ask every kind: \(kinds)")
        let dir = E2E.tempDir("shapes-events")
        defer { try? FileManager.default.removeItem(at: dir) }
        let report = dir.appendingPathComponent("report.json")
        let r = try E2E.run(["eval", "shapes", Self.events, "--model", Self.model, "--quiet", "--output", report.path])
        #expect(r.status == 0, "\(r.stderr)")
        // the table: a column per kind and the note that the shipped model is not trained on them
        let header = try #require(r.stdout.split(separator: "\n").first)
        for kind in kinds { #expect(header.contains("| \(kind) |"), "\(kind) missing from \(header)") }
        #expect(header.contains("caption event"))
        #expect(r.stdout.contains("from the kind of clip alone"), "\(r.stdout)")
        let j = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: report)) as? [String: Any])
        #expect(j["set_schema_version"] as? Int == 2)
        #expect(j["kinds"] as? [String] == kinds)
        let chance = try #require(j["chance"] as? [String: Double])
        #expect(chance["size"] == 100.0 / 3 && chance["relation_start"] == 25 && chance["touch"] == 50)
        let scores = try ShapesModelTests.scores(j)
        let groups = try Self.groups(clips)
        let perCondition = groups.reduce(0) { $0 + $1.count }
        for condition in ["region", "swapped", "full_frame"] {
            let row = try #require(scores[condition])
            #expect(row["items"] as? Int == perCondition && row["errors"] as? Int == 0, "\(condition): \(row)")
            let byKind = try #require(row["multiple_choice_by_kind"] as? [String: Double])
            #expect(Set(byKind.keys) == Set(kinds), "\(condition): \(byKind.keys.sorted())")
            #expect((row["caption"] as? [String: Double])?["event"] != nil)
        }
        // items: every group under every condition, two-region ones with both regions
        let items = try #require(j["items"] as? [[String: Any]])
        #expect(items.count == 3 * perCondition)
        let pairs = items.filter { ($0["regions"] as? [Int])?.count == 2 }
        #expect(pairs.count == 3 * groups.flatMap { $0 }.filter { $0.count == 2 }.count && !pairs.isEmpty)
        #expect(pairs.allSatisfy { $0["object"] == nil && ($0["choices"] as? [String: Any])?.isEmpty == false })
        #expect(items.filter { ($0["regions"] as? [Int])?.count == 1 }.allSatisfy { $0["caption"] is String })
        // the regions reach the model at their prompt frames: colour (which the model knows) is read
        // from the prompted object, and the other object's box gives the other colour
        func colour(_ c: String) throws -> Double {
            try #require((scores[c]?["multiple_choice_by_kind"] as? [String: Double])?["colour"])
        }
        let (own, other) = (try colour("region"), try colour("swapped"))
        #expect(own >= 62.5, "region colour \(own) %")
        #expect(other <= 37.5, "swapped colour \(other) %")
        // the shipped model is trained on event clips too (MODEL_CARD.md round 7: 84.8 % of this
        // fixture's questions with their own regions, 48.5 % swapped): all kinds together, with a margin
        let (mine, swapped) = (try #require(scores["region"]?["multiple_choice"] as? Double),
                               try #require(scores["swapped"]?["multiple_choice"] as? Double))
        #expect(mine >= 70, "region multiple choice \(mine) %")
        #expect(swapped <= 60, "swapped multiple choice \(swapped) %")
    }

    @Test func badVersion2SetIsOneLineErrorNamingTheFile() throws {
        let dir = E2E.tempDir("shapes-events-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        func failure(_ edit: (inout [String: Any]) throws -> Void) throws -> String {
            var set = try Self.set()
            try edit(&set)
            try JSONSerialization.data(withJSONObject: set).write(to: dir.appendingPathComponent("set.json"))
            let r = try E2E.run(["eval", "shapes", dir.path, "--model", Self.model, "--quiet"])
            #expect(r.status == 1, "\(r.stderr)")
            return try E2E.failure(["eval", "shapes", dir.path, "--model", Self.model, "--quiet"])
        }
        func editClip(_ set: inout [String: Any], _ edit: (inout [String: Any]) throws -> Void) throws {
            var clips = try #require(set["clips"] as? [[String: Any]])
            try edit(&clips[1])
            set["clips"] = clips
        }
        let missing = try failure { set in
            try editClip(&set) { clip in
                var questions = try #require(clip["questions"] as? [[String: Any]])
                questions[2]["kind"] = nil
                clip["questions"] = questions
            }
        }
        #expect(missing.hasPrefix("error: ") && missing.contains("set.json") && missing.contains("missing key kind"), "\(missing)")
        let outOfRange = try failure { set in
            try editClip(&set) { clip in
                var questions = try #require(clip["questions"] as? [[String: Any]])
                questions[5]["regions"] = [1, 7]
                clip["questions"] = questions
            }
        }
        #expect(outOfRange.contains("set.json clip clip001.mp4") && outOfRange.contains("region 7 is out of range"), "\(outOfRange)")
    }

    /// A clip that cannot be decoded fails each of its items; the next clip still runs.
    @Test func aBadClipIsRecordedAndTheRunGoesOn() throws {
        let dir = E2E.tempDir("shapes-events-clip")
        defer { try? FileManager.default.removeItem(at: dir) }
        var set = try Self.set()
        let clips = Array(try #require(set["clips"] as? [[String: Any]]).prefix(2))
        set["clips"] = clips
        try JSONSerialization.data(withJSONObject: set).write(to: dir.appendingPathComponent("set.json"))
        let (bad, good) = (try #require(clips[0]["file"] as? String), try #require(clips[1]["file"] as? String))
        try Data("not a video".utf8).write(to: dir.appendingPathComponent(bad))
        try FileManager.default.copyItem(at: E2E.root.appendingPathComponent("\(Self.events)/\(good)"), to: dir.appendingPathComponent(good))
        let r = try E2E.run(["eval", "shapes", dir.path, "--model", Self.model, "--conditions", "region", "--json", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let items = try #require(try r.json()["items"] as? [[String: Any]])
        let groups = try Self.groups(clips)
        #expect(items.count == groups[0].count + groups[1].count)
        let failed = items.filter { $0["status"] as? String == "error" }
        #expect(failed.count == groups[0].count && failed.allSatisfy { $0["clip"] as? String == bad && $0["error"] is String })
        #expect(items.filter { $0["status"] as? String == "ok" }.allSatisfy { $0["clip"] as? String == good })
        #expect(try ShapesModelTests.scores(try r.json())["region"]?["errors"] as? Int == groups[0].count)
    }
}
