// The API through a real socket (issue 14): every route, every documented error, streaming order,
// /healthz during a long ask, 429 with Retry-After, a client that leaves stops its generation.
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Pipeline
@testable import Server
import Testing

@Suite(.serialized) struct ServerAPITests {
    /// Around the ball on frame 0 of ball.mp4 (640x360).
    static let ballBox = [36, 136, 127, 227]

    func server() async throws -> LiveServer { try await LiveServer.shared.value }

    @Test func healthAndPageAndOpenAPINeedNoToken() async throws {
        let s = try await server()
        let h = try await s.get("/healthz", token: nil)
        #expect(h.status == 200)
        #expect(try h.json()["status"] as? String == "ok")
        #expect(try h.json()["model"] as? String == "gar-tiny")
        let page = try await s.get("/", token: nil)
        #expect(page.status == 200)
        #expect(page.headers["content-type"]?.hasPrefix("text/html") == true)
        #expect(page.text.contains("<canvas") && !page.text.contains("http://") && !page.text.contains("https://"))   // no CDN
        let doc = try await s.get("/openapi.json", token: nil)
        let paths = try #require(try doc.json()["paths"] as? [String: Any])
        for p in ["/healthz", "/v1/media", "/v1/videos", "/v1/videos/{id}", "/v1/videos/{id}/frames/{k}", "/v1/videos/{id}/segment",
                  "/v1/videos/{id}/tracks", "/v1/jobs/{id}", "/v1/videos/{id}/ask", "/v1/chat/completions"] {
            #expect(paths[p] != nil, "\(p) missing from /openapi.json")
        }
    }

    @Test func v1RoutesWantTheToken() async throws {
        let s = try await server()
        for (token, message) in [(nil, "missing bearer token"), ("nope", "wrong bearer token")] as [(String?, String)] {
            let r = try await s.get("/v1/media", token: token)
            #expect(r.status == 401)
            #expect(r.error.hasPrefix(message))
            #expect(r.headers["www-authenticate"] == "Bearer")
        }
        let ok = try await s.get("/v1/media")
        #expect(ok.status == 200)
        #expect(try ok.json()["videos"] as? [String] == ["clips/ball.mp4", "clips/two_objects.mp4", "escape.mp4", "notes.mp4"].filter { $0 != "escape.mp4" })
    }

    @Test func openAVideoAndItsFrames() async throws {
        let s = try await server()
        let v = try await s.open()
        #expect(v["width"] as? Int == 640 && v["height"] as? Int == 360 && v["frame_count"] as? Int == 100)
        #expect((v["fps"] as? Double ?? 0) > 0 && (v["duration"] as? Double ?? 0) > 0)
        let id = try #require(v["id"] as? String)
        #expect(try await s.get("/v1/videos/\(id)").json()["frame_count"] as? Int == 100)
        let full = try await s.get("/v1/videos/\(id)/frames/99")
        #expect(full.status == 200 && full.headers["content-type"] == "image/jpeg")
        #expect(full.body.prefix(2) == Data([0xFF, 0xD8]))
        let small = try await s.get("/v1/videos/\(id)/frames/0?max_side=64")
        #expect(small.status == 200 && small.body.count < full.body.count)
        #expect(try await s.get("/v1/videos/\(id)/frames/100").status == 404)
        #expect(try await s.get("/v1/videos/\(id)/frames/-1").status == 404)
        #expect(try await s.get("/v1/videos/\(id)/frames/0?max_side=abc").status == 400)
        let unknown = try await s.get("/v1/videos/0123/frames/0")
        #expect(unknown.status == 404 && unknown.error.contains("unknown id"))
    }

    @Test func pathsStayInTheMediaRoot() async throws {
        let s = try await server()
        for (path, status, words) in [("../ball.mp4", 400, "'..'"), ("/etc/passwd", 400, "absolute"), ("clips/../../x.mp4", 400, "'..'"),
                                      ("escape.mp4", 400, "symlink"), ("clips/missing.mp4", 404, "no such file"),
                                      ("notes.mp4", 400, "notes.mp4"), ("", 400, "empty")] {
            let r = try await s.post("/v1/videos", ["path": path])
            #expect(r.status == status, "\(path): \(r.text)")
            #expect(r.error.contains(words), "\(path): \(r.error)")
            #expect(!r.error.contains(s.root.path), "the server's own paths are not shown: \(r.error)")
        }
    }

    @Test func badBodiesAre400WithOneLine() async throws {
        let s = try await server()
        let id = try #require(try await s.open()["id"] as? String)
        let raw = try await HTTP.request(s.port, "POST", "/v1/videos/\(id)/segment", token: LiveServer.token,
                                         headers: ["Content-Type": "application/json"], body: Data("{\"frame\": 0,".utf8))
        #expect(raw.status == 400 && raw.error.hasPrefix("bad JSON"))
        let cases: [([String: Any], String)] = [
            (["frame": "zero", "prompt": ["box": [1, 1, 5, 5]]], "frame: expected a number"),
            (["prompt": ["box": [1, 1, 5, 5]]], "frame: missing"),
            (["frame": 100, "prompt": ["box": [1, 1, 5, 5]]], "out of range"),
            (["frame": 0, "prompt": ["box": [1, 1, 5]]], "expected [x1, y1, x2, y2]"),
            (["frame": 0, "prompt": ["box": [1, 1, 900, 5]]], "outside the 640x360 frame"),
            (["frame": 0, "prompt": [:] as [String: Any]], "exactly one of"),
            (["frame": 0, "prompt": ["points": [[5, 5, 0]]]], "positive"),
            (["frame": 0, "prompt": ["points": [[5, 5, 7]]]], "label"),
            (["frame": 0, "prompt": ["mask": ["size": [360, 640], "counts": [230400]]]], "empty"),
            (["frame": 0, "prompt": ["mask": ["size": [10, 10], "counts": [100]]]], "does not match"),
            (["frame": 0, "prompt": ["mask": ["size": [360, 640], "counts": "!!"]]], "COCO RLE"),
            (["frame": 0, "prompt": ["mask": ["size": [1 << 40, 1 << 40], "counts": [5]]]], "COCO RLE"),
        ]
        for (body, words) in cases {
            let r = try await s.post("/v1/videos/\(id)/segment", body)
            #expect(r.status == 400, "\(body): \(r.status) \(r.text)")
            #expect(r.error.contains(words), "\(body): \(r.error)")
            #expect(!r.error.contains("\n"))
        }
        let big = try await HTTP.request(s.port, "POST", "/v1/videos/\(id)/segment", token: LiveServer.token,
                                         headers: ["Content-Type": "application/json"], body: Data(repeating: 0x20, count: 5 << 20))
        #expect(big.status == 413)
        #expect(try await s.post("/v1/nothing", [:] as [String: Any]).status == 404)
    }

    @Test func segmentABoxAndClicks() async throws {
        let s = try await server()
        let id = try #require(try await s.open()["id"] as? String)
        let r = try await s.post("/v1/videos/\(id)/segment", ["frame": 0, "prompt": ["box": Self.ballBox]])
        #expect(r.status == 200, "\(r.text)")
        let j = try r.json()
        let mask = try #require(j["mask"] as? [String: Any])
        #expect(mask["size"] as? [Int] == [360, 640])
        let area = try #require(j["area"] as? Int)
        #expect(area > 2000 && area < 92 * 92, "the ball, inside its box: \(area)")
        #expect(j.keys.contains("score") && j["score"] is NSNull)
        let p = try await s.post("/v1/videos/\(id)/segment", ["frame": 5, "prompt": ["points": [[320, 190, 1], [10, 10, 0]]]])
        #expect(p.status == 200, "\(p.text)")
        #expect((try p.json()["area"] as? Int ?? 0) > 0)
        // A mask prompt comes back as itself.
        let counts = try #require(mask["counts"] as? String)
        let m = try await s.post("/v1/videos/\(id)/segment", ["frame": 3, "prompt": ["mask": ["size": [360, 640], "counts": counts]]])
        #expect((try m.json()["mask"] as? [String: Any])?["counts"] as? String == counts)
    }

    /// Polls a job until it ends.
    func finished(_ s: LiveServer, _ job: String) async throws -> [String: Any] {
        for _ in 0 ..< 600 {
            let j = try await s.get("/v1/jobs/\(job)").json()
            if let state = j["state"] as? String, state == "done" || state == "failed" { return j }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        throw TestHTTPError("job \(job) did not finish")
    }

    @Test func trackThenAskAboutTheTrack() async throws {
        let s = try await server()
        let id = try #require(try await s.open()["id"] as? String)
        let r = try await s.post("/v1/videos/\(id)/tracks", ["regions": [["frame": 0, "prompt": ["box": Self.ballBox]]], "frames": 10])
        #expect(r.status == 202, "\(r.text)")
        #expect(r.headers["location"]?.hasPrefix("/v1/jobs/") == true)
        let job = try #require(try r.json()["id"] as? String)
        let j = try await finished(s, job)
        #expect(j["state"] as? String == "done", "\(j)")
        let progress = try #require(j["progress"] as? [String: Int])
        #expect(progress["done"] == progress["total"] && (progress["total"] ?? 0) > 0)
        let result = try #require(j["result"] as? [String: Any])
        let frames = try #require(result["frames"] as? [[String: Any]])
        #expect((10 ... 11).contains(frames.count) && frames.first?["index"] as? Int == 0)   // 10 uniform + the prompted frame
        #expect(frames.map { $0["time"] as? Double ?? -1 } == frames.map { $0["time"] as? Double ?? -1 }.sorted())
        let regions = try #require(result["regions"] as? [[String: Any]])
        let first = try #require((regions.first?["frames"] as? [[String: Any]])?.first)
        #expect(first["visible"] as? Bool == true && (first["rle"] as? [String: Any])?["size"] as? [Int] == [360, 640])
        #expect(try await s.get("/v1/jobs/nope").status == 404)
        // Ask about the tracked masks (no tracking again).
        let a = try await s.post("/v1/videos/\(id)/ask", ["track": job, "question": "What is <Prompt0>?", "max_new_tokens": 4])
        #expect(a.status == 200, "\(a.text)")
        #expect(try a.json()["mask_source"] as? String == "annotation")
        let both = try await s.post("/v1/videos/\(id)/ask", ["track": job, "regions": [] as [Any], "question": "q"])
        #expect(both.status == 400 && both.error.contains("not both"))
        let other = try await s.open("clips/two_objects.mp4")
        let wrong = try await s.post("/v1/videos/\(other["id"] as! String)/ask", ["track": job, "question": "q"])
        #expect(wrong.status == 400 && wrong.error.contains("another video"))
    }

    @Test func askGivesTheCLIAnswer() async throws {
        let s = try await server()
        let id = try #require(try await s.open()["id"] as? String)
        let r = try await s.post("/v1/videos/\(id)/ask", ["regions": [["frame": 0, "prompt": ["box": Self.ballBox]]],
                                                          "question": "What is <Prompt0> doing?", "max_new_tokens": 5])
        #expect(r.status == 200, "\(r.text)")
        let j = try r.json()
        #expect(j["schema_version"] as? Int == VideoAnswer.schemaVersion && j["text"] is String && (j["token_ids"] as? [Int])?.count ?? 0 <= 5)
        #expect((j["regions"] as? [[String: Any]])?.count == 1)
        let empty = try await s.post("/v1/videos/\(id)/ask", ["regions": [["frame": 0, "prompt": ["box": Self.ballBox]]], "question": "  "])
        #expect(empty.status == 400 && empty.error.contains("question"))
        let none = try await s.post("/v1/videos/\(id)/ask", ["question": "What?"])
        #expect(none.status == 400)
        let tooMany = try await s.post("/v1/videos/\(id)/ask", ["regions": [["frame": 0, "prompt": ["box": Self.ballBox]]], "question": "q",
                                                                "max_new_tokens": 0])
        #expect(tooMany.status == 400 && tooMany.error.contains("max_new_tokens"))
    }

    /// Reads a streamed ask: the status, then every event until the end of the stream.
    static func streamedAsk(_ port: Int, _ id: String, maxNewTokens: Int,
                            during: (@Sendable () async throws -> Void)? = nil) async throws -> (Int, [(String, String)]) {
        let body = try JSONSerialization.data(withJSONObject: [
            "regions": [["frame": 0, "prompt": ["box": ballBox]]], "question": "Describe <Prompt0>.", "max_new_tokens": maxNewTokens, "stream": true])
        return try await offThread {
            let c = try HTTPConnection(port: port)
            try c.send("POST", "/v1/videos/\(id)/ask", headers: ["Authorization": "Bearer \(LiveServer.token)", "Content-Type": "application/json"], body: body)
            let (status, headers) = try c.readHead()
            guard status == 200 else { return (status, [("error", String(decoding: try c.readBody(headers), as: UTF8.self))]) }
            let reader = EventReader(c)
            var events: [(String, String)] = []
            while let e = try reader.next() { events.append(e) }
            return (status, events)
        }
    }

    @Test func streamedAskSendsTokensThenTheAnswer() async throws {
        let s = try await server()
        let id = try #require(try await s.open()["id"] as? String)
        let (status, events) = try await Self.streamedAsk(s.port, id, maxNewTokens: 8)
        #expect(status == 200)
        let names = events.map(\.0)
        #expect(names.last == "answer", "\(names)")
        #expect(names.dropLast().allSatisfy { $0 == "token" } && names.count >= 2)
        let pieces = try events.dropLast().map { try #require(try JSONSerialization.jsonObject(with: Data($0.1.utf8)) as? [String: String])["text"] ?? "" }
        let answer = try #require(try JSONSerialization.jsonObject(with: Data(events.last!.1.utf8)) as? [String: Any])
        #expect(pieces.joined() == answer["text"] as? String)
    }

    /// A streamed ask of `tokens` greedy tokens (the tiny model never stops early on this clip).
    static func longAskBody(_ tokens: Int) throws -> Data {
        try JSONSerialization.data(withJSONObject: [
            "regions": [["frame": 0, "prompt": ["box": ballBox]]], "question": "Describe <Prompt0>.", "max_new_tokens": tokens, "stream": true])
    }

    @Test func healthAnswersWhileALongAskRuns() async throws {
        let s = try await server()
        let id = try #require(try await s.open()["id"] as? String)
        let port = s.port, body = try Self.longAskBody(1000), before = s.service.tokensGenerated
        let (modelPending, healthSeconds, tokensAfter) = try await offThread { () -> (Int, Double, Int) in
            let c = try HTTPConnection(port: port)
            try c.send("POST", "/v1/videos/\(id)/ask", headers: ["Authorization": "Bearer \(LiveServer.token)", "Content-Type": "application/json"], body: body)
            let (status, _) = try c.readHead()
            guard status == 200 else { throw TestHTTPError("ask: status \(status)") }
            let reader = EventReader(c)
            _ = try reader.next()   // the first token: the generation is running
            let t0 = Date()
            let h = try HTTPConnection(port: port)
            try h.send("GET", "/healthz")
            let (_, hh) = try h.readHead()
            let health = try JSONSerialization.jsonObject(with: try h.readBody(hh)) as? [String: Any]
            let seconds = Date().timeIntervalSince(t0)
            let queues = health?["queues"] as? [[String: Any]] ?? []
            let pending = queues.first { $0["name"] as? String == "model" }?["pending"] as? Int ?? 0
            var n = 0
            while let e = try reader.next(), e.0 == "token" { n += 1 }
            return (pending, seconds, n)
        }
        #expect(modelPending == 1, "/healthz answered while the ask held the model queue")
        #expect(healthSeconds < 2)
        #expect(tokensAfter > 100, "the ask went on after /healthz answered")
        #expect(s.service.tokensGenerated - before == 1000, "a client that stays gets all 1000 tokens")
    }

    @Test func aFullQueueAnswers429() async throws {
        let s = try await server()
        let id = try #require(try await s.open()["id"] as? String)
        for _ in 0 ..< s.service.model.capacity { try s.service.model.reserve() }
        defer { for _ in 0 ..< s.service.model.capacity { s.service.model.release() } }
        let r = try await s.post("/v1/videos/\(id)/ask", ["regions": [["frame": 0, "prompt": ["box": Self.ballBox]]], "question": "q"])
        #expect(r.status == 429)
        #expect(r.headers["retry-after"] == "5")
        #expect(r.error.contains("busy"))
    }

    @Test func aClientThatLeavesStopsItsGeneration() async throws {
        let s = try await server()
        let id = try #require(try await s.open()["id"] as? String)
        let port = s.port, service = s.service, body = try Self.longAskBody(1000)
        let before = service.tokensGenerated
        try await offThread {
            let c = try HTTPConnection(port: port)
            try c.send("POST", "/v1/videos/\(id)/ask", headers: ["Authorization": "Bearer \(LiveServer.token)", "Content-Type": "application/json"], body: body)
            let (status, _) = try c.readHead()
            guard status == 200 else { throw TestHTTPError("ask: status \(status)") }
            _ = try EventReader(c).next()
            shutdown(c.fd, Int32(SHUT_RDWR))   // the client is gone after the first token
            let t0 = Date()
            while service.model.pending > 0 && Date().timeIntervalSince(t0) < 60 { usleep(5000) }
        }
        let generated = service.tokensGenerated - before
        // Greedy, the tiny model generates all 1000 when nobody stops it (healthAnswersWhileALongAskRuns).
        #expect(generated >= 1 && generated < 500, "\(generated) of 1000 tokens generated after the client left")
    }

    @Test func uploads() async throws {
        let s = try await server()
        let clip = try Data(contentsOf: LiveServer.repo.appendingPathComponent("samples/clips/ball.mp4"))
        let boundary = "gar-test-boundary"
        var form = Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n".utf8)
        form.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"my ball.mp4\"\r\nContent-Type: video/mp4\r\n\r\n".utf8))
        form.append(clip)
        form.append(Data("\r\n--\(boundary)--\r\n".utf8))
        let r = try await HTTP.request(s.port, "POST", "/v1/videos", token: LiveServer.token,
                                       headers: ["Content-Type": "multipart/form-data; boundary=\(boundary)"], body: form)
        #expect(r.status == 201, "\(r.text)")
        #expect(try r.json()["frame_count"] as? Int == 100 && r.json()["name"] as? String == "my ball.mp4")
        let rawUpload = try await HTTP.request(s.port, "POST", "/v1/videos", token: LiveServer.token, headers: ["Content-Type": "video/mp4"], body: clip)
        #expect(rawUpload.status == 201)
        let before = try FileManager.default.contentsOfDirectory(atPath: s.service.uploads.path).count
        let big = try await HTTP.request(s.port, "POST", "/v1/videos", token: LiveServer.token, headers: ["Content-Type": "video/mp4"],
                                         body: Data(repeating: 7, count: 3 << 20))
        #expect(big.status == 413, "\(big.text)")
        let junk = try await HTTP.request(s.port, "POST", "/v1/videos", token: LiveServer.token, headers: ["Content-Type": "video/mp4"],
                                          body: Data(repeating: 7, count: 1000))
        #expect(junk.status == 400)
        #expect(try FileManager.default.contentsOfDirectory(atPath: s.service.uploads.path).count == before, "nothing kept of refused uploads")
        #expect(try FileManager.default.contentsOfDirectory(atPath: s.root.path).sorted() == ["clips", "escape.mp4", "notes.mp4"], "uploads never land in the media root")
    }

    @Test func chatCompletions() async throws {
        let s = try await server()
        let id = try #require(try await s.open()["id"] as? String)
        let body: [String: Any] = ["model": "gar", "max_tokens": 4,
                                   "messages": [["role": "user", "content": [["type": "text", "text": "What is <Prompt0>?"]]]],
                                   "gar": ["video": id, "regions": [["frame": 0, "prompt": ["box": Self.ballBox]]]]]
        let r = try await s.post("/v1/chat/completions", body)
        #expect(r.status == 200, "\(r.text)")
        let j = try r.json()
        #expect(j["object"] as? String == "chat.completion")
        let choice = try #require((j["choices"] as? [[String: Any]])?.first)
        #expect((choice["message"] as? [String: Any])?["role"] as? String == "assistant")
        #expect((j["usage"] as? [String: Int])?["completion_tokens"] ?? 0 <= 4)
        var streamed = body
        streamed["stream"] = true
        let st = try await s.post("/v1/chat/completions", streamed)
        #expect(st.status == 200 && st.headers["content-type"] == "text/event-stream")
        let datas = st.text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
        #expect(datas.last == "data: [DONE]")
        #expect(datas.dropLast().allSatisfy { $0.hasPrefix("data: {") && $0.contains("chat.completion.chunk") })
        let noExt = try await s.post("/v1/chat/completions", ["messages": [["role": "user", "content": "hi"]]])
        #expect(noExt.status == 400 && noExt.error.hasPrefix("gar: missing"))
    }
}
