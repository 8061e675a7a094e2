// The HTTP layer: routes, the bearer-token check, errors as `{"error": …}`, request bodies read
// with their size limits, event streams. The work is in GARService, run on its WorkQueues.
//
//   GET  /                      the web page                 GET /openapi.json   the API document
//   GET  /healthz               {"status": "ok", "model", "queues"} (no token, never queued)
//   GET  /v1/media              video files under the media root (for the page's picker)
//   POST /v1/videos             {"path"} or an upload (multipart or raw) → the video's facts
//   GET  /v1/videos/{id}        the facts again
//   GET  /v1/videos/{id}/frames/{k}?max_side=N   frame k as JPEG
//   POST /v1/videos/{id}/segment                 prompt → mask (RLE)
//   POST /v1/videos/{id}/tracks                  → a job;  GET /v1/jobs/{id}  its state / masks
//   POST /v1/videos/{id}/ask                     the `gar ask --json` answer, or an event stream
//   POST /v1/chat/completions                    OpenAI-compatible (video and regions in "gar")
import Foundation
import Hummingbird
import NIOCore
import Pipeline
import Tracking
import Video

public struct ServerOptions: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var token: String?
    public init() {}
}

public enum GARServer {
    public typealias App = Application<RouterResponder<BasicRequestContext>>

    /// The application: routes on `service`. `onRunning` receives the bound port (port 0 = any).
    public static func application(_ service: GARService, options: ServerOptions,
                                   onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> App {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: ErrorMiddleware(hiding: service.hiddenPrefixes))
        let routes = Routes(service: service)
        router.get("/") { _, _ in Response.bytes(Data(WebPage.html.utf8), type: "text/html; charset=utf-8") }
        router.get("/openapi.json") { _, _ in Response.bytes(Data(OpenAPI.document.utf8), type: "application/json") }
        router.get("/healthz") { _, _ in try routes.health() }
        let v1 = router.group("v1").add(middleware: TokenMiddleware(token: options.token))
        v1.get("media") { _, _ in try Response.json(["videos": service.root.listVideos()]) }
        v1.post("videos") { req, _ in try await routes.addVideo(req) }
        v1.get("videos/:id") { _, ctx in try Response.json(service.video(try ctx.parameters.require("id"))) }
        v1.get("videos/:id/frames/:k") { req, ctx in try await routes.frame(req, ctx) }
        v1.post("videos/:id/segment") { req, ctx in try await routes.segment(req, ctx) }
        v1.post("videos/:id/tracks") { req, ctx in try await routes.track(req, ctx) }
        v1.get("jobs/:id") { _, ctx in try Response.json(service.job(try ctx.parameters.require("id"))) }
        v1.post("videos/:id/ask") { req, ctx in try await routes.ask(req, ctx) }
        v1.post("chat/completions") { req, _ in try await routes.chat(req) }
        return Application(router: router, configuration: .init(address: .hostname(options.host, port: options.port), serverName: "gar"),
                           onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? options.port) })
    }
}

// MARK: middleware

/// Any error → `{"error": "one line"}` with its status (APIError.from), Retry-After on 429.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let hiding: [String]
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do { return try await next(request, context) } catch {
            return Response.error(APIError.from(error, hiding: hiding))
        }
    }
}

/// `Authorization: Bearer TOKEN` on every /v1 route when the server has a token.
struct TokenMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let token: String?
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let token {
            let given = request.headers[.authorization] ?? ""
            guard given.hasPrefix("Bearer "), constantTimeEqual(Array(given.dropFirst(7).utf8), Array(token.utf8)) else {
                var r = Response.error(APIError(.unauthorized, given.isEmpty ? "missing bearer token (Authorization: Bearer TOKEN)" : "wrong bearer token"))
                r.headers[.wwwAuthenticate] = "Bearer"
                return r
            }
        }
        return try await next(request, context)
    }

    func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt8(a.count == b.count ? 0 : 1)
        for i in 0 ..< min(a.count, b.count) { diff |= a[i] ^ b[i] }
        return diff == 0
    }
}

extension Response {
    static func bytes(_ data: Data, type: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        bytes(Data(try JSONOutput.string(value).utf8), type: "application/json", status: status)
    }

    static func error(_ e: APIError) -> Response {
        var r = bytes(Data(e.body.utf8), type: "application/json", status: e.status)
        if let s = e.retryAfter { r.headers[.retryAfter] = String(s) }
        return r
    }

    /// A text/event-stream whose events come from `events` (each already formatted).
    static func eventStream(_ events: AsyncStream<String>, cancel: CancelFlag) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            do {
                for await event in events { try await writer.write(ByteBuffer(string: event)) }
                try await writer.finish(nil)
            } catch {
                cancel.set()   // the client went away: stop the generation
                throw error
            }
        })
    }
}

/// Set when a streaming client disconnects; the generation asks it between tokens.
final class CancelFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}

// MARK: routes

struct Routes: Sendable {
    let service: GARService

    func health() throws -> Response {
        try Response.json(Health(status: "ok", model: service.modelName, tokensGenerated: service.tokensGenerated,
                                 queues: [service.model, service.media].map { .init(name: $0.name, pending: $0.pending, capacity: $0.capacity) }))
    }

    struct Health: Encodable {
        struct Queue: Encodable { var name: String; var pending: Int; var capacity: Int }
        var status: String
        var model: String
        var tokensGenerated: Int
        var queues: [Queue]
    }

    /// The JSON body, at most the JSON limit.
    func body<T: Decodable>(_ req: Request, as type: T.Type) async throws -> T {
        if let n = req.headers[.contentLength].flatMap(Int.init), n > service.limits.maxJSONBytes { throw tooLarge(service.limits.maxJSONBytes) }
        var buffer: ByteBuffer
        do { buffer = try await req.body.collect(upTo: service.limits.maxJSONBytes) } catch let e as HTTPError where e.status == .contentTooLarge {
            throw tooLarge(service.limits.maxJSONBytes)
        }
        return try JSONBody.decode(type, Data(buffer.readBytes(length: buffer.readableBytes) ?? []))
    }

    func tooLarge(_ limit: Int) -> APIError { APIError(.contentTooLarge, "the request body is over the limit of \(limit) bytes") }

    func videoID(_ ctx: BasicRequestContext) throws -> VideoEntry { try service.video(try ctx.parameters.require("id")) }

    // POST /v1/videos
    func addVideo(_ req: Request) async throws -> Response {
        let type = req.headers[.contentType]?.lowercased() ?? ""
        let isUpload = ["multipart/form-data", "video/", "application/octet-stream"].contains { type.hasPrefix($0) }
        if !isUpload {   // JSON (also as curl -d sends it: form-urlencoded)
            let b = try await body(req, as: AddVideoBody.self)
            let path = try service.root.resolve(b.path)
            let entry = try await service.media.submit { [service] in try service.addVideo(path: path, name: b.path, uploaded: false) }
            return try Response.json(entry, status: .created)
        }
        let file = try await receiveUpload(req, contentType: type)
        do {
            let entry = try await service.media.submit { [service] in try service.addVideo(path: file.path, name: file.name, uploaded: true) }
            return try Response.json(entry, status: .created)
        } catch {
            try? FileManager.default.removeItem(atPath: file.path)
            throw error
        }
    }

    /// The uploaded video written into the private upload folder (never the media root): a
    /// multipart form's first file part, or the raw body. Over the limit: 413, nothing kept.
    func receiveUpload(_ req: Request, contentType: String) async throws -> (path: String, name: String) {
        let limit = service.limits.maxUploadBytes
        if let n = req.headers[.contentLength].flatMap(Int.init), n > limit + 64 << 10 { throw tooLarge(limit) }
        let id = GARService.newID()
        let raw = service.uploads.appendingPathComponent("\(id).part")
        guard FileManager.default.createFile(atPath: raw.path, contents: nil, attributes: [.posixPermissions: 0o600]),
              let handle = FileHandle(forWritingAtPath: raw.path) else { throw APIError(.internalServerError, "cannot create the upload file") }
        defer { try? FileManager.default.removeItem(at: raw) }
        var total = 0
        do {
            defer { try? handle.close() }
            for try await buffer in req.body {
                total += buffer.readableBytes
                guard total <= limit + 64 << 10 else { throw tooLarge(limit) }
                try handle.write(contentsOf: buffer.readableBytesView)
            }
        }
        var name = "upload"
        var content = raw
        if contentType.hasPrefix("multipart/form-data") {
            let part = try Multipart.firstFile(in: raw, contentType: contentType)
            name = part.filename
            content = part.file
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: content.path)[.size] as? Int) ?? 0
        guard size <= limit else {
            try? FileManager.default.removeItem(at: content)
            throw tooLarge(limit)
        }
        guard size > 0 else { throw APIError.badRequest("upload: the file is empty") }
        let ext = URL(fileURLWithPath: name).pathExtension.lowercased().filter { $0.isLetter || $0.isNumber }.prefix(8)
        let final = service.uploads.appendingPathComponent(ext.isEmpty ? id : "\(id).\(ext)")
        try FileManager.default.moveItem(at: content, to: final)
        return (final.path, name)
    }

    // GET /v1/videos/{id}/frames/{k}
    func frame(_ req: Request, _ ctx: BasicRequestContext) async throws -> Response {
        let v = try videoID(ctx)
        let text = try ctx.parameters.require("k")
        guard let k = Int(text), k >= 0, k < v.frameCount else {
            throw APIError.notFound("frame \(text): out of range (the video has \(v.frameCount) frames, 0...\(v.frameCount - 1))")
        }
        let maxSide = try req.uri.queryParameters.get("max_side").map { s in
            guard let n = Int(s), n >= 16, n <= 16384 else { throw APIError.badRequest("max_side: expected a whole number in 16...16384, got '\(s)'") }
            return n
        }
        let data = try await service.media.submit { [service] in try service.frameJPEG(v, k, maxSide: maxSide) }
        var r = Response.bytes(data, type: "image/jpeg")
        r.headers[.cacheControl] = "private, max-age=3600"
        return r
    }

    // POST /v1/videos/{id}/segment
    func segment(_ req: Request, _ ctx: BasicRequestContext) async throws -> Response {
        let v = try videoID(ctx)
        let b = try await body(req, as: SegmentBody.self)
        try service.checkFrame(b.frame, of: v)
        _ = try service.objectPrompts([RegionJSON(frame: b.frame, prompt: b.prompt)], v)   // 400 before queueing
        let (mask, warnings, score) = try await service.media.submit { [service] in try service.segment(v, b) }
        return try Response.json(SegmentAnswer(frame: b.frame, mask: mask, score: score.map { Double($0.iou) },
                                               objectScore: score.map { Double($0.objectScore) }, area: mask.area, warnings: warnings))
    }

    struct SegmentAnswer: Encodable {
        var frame: Int
        var mask: RLE
        /// The segmenter's confidence in the mask: SAM 2.1's predicted IoU of the chosen mask; null
        /// for the weight-free segmenter (GrabCut has none), a mask prompt, or a fallback (the
        /// prompt's own area, with a warning).
        var score: Double?
        /// SAM 2.1's object score logit (> 0: it sees an object); null when `score` is.
        var objectScore: Double?
        var area: Int
        var warnings: [String]
        func encode(to encoder: Encoder) throws {
            enum K: String, CodingKey { case frame, mask, score, objectScore = "object_score", area, warnings }
            var c = encoder.container(keyedBy: K.self)
            try c.encode(frame, forKey: .frame)
            try c.encode(mask, forKey: .mask)
            try c.encode(score, forKey: .score)   // null, not left out
            try c.encode(objectScore, forKey: .objectScore)
            try c.encode(area, forKey: .area)
            try c.encode(warnings, forKey: .warnings)
        }
    }

    // POST /v1/videos/{id}/tracks
    func track(_ req: Request, _ ctx: BasicRequestContext) async throws -> Response {
        let v = try videoID(ctx)
        let b = try await body(req, as: TrackBody.self)
        let (job, prompts, indices) = try service.newTrackJob(v, b)
        do { try service.media.reserve() } catch {
            service.dropJob(job.id)
            throw error
        }
        service.media.start { [service] in service.runTrack(job.id, v, prompts: prompts, indices: indices) }
        var r = try Response.json(job, status: .accepted)
        r.headers[.location] = "/v1/jobs/\(job.id)"
        return r
    }

    // POST /v1/videos/{id}/ask
    func ask(_ req: Request, _ ctx: BasicRequestContext) async throws -> Response {
        let v = try videoID(ctx)
        let b = try await body(req, as: AskBody.self)
        var r = try service.regionRequest(v, regions: b.regions, track: b.track, question: b.question, choices: b.choices,
                                          maxNewTokens: b.maxNewTokens, temperature: b.temperature, seed: b.seed)
        try service.model.reserve()
        guard b.stream == true else {
            let request = r
            let answer = try await service.model.run { [service] in try service.ask(request, onText: nil) }
            return Response.bytes(Data(try answer.json().utf8), type: "application/json")
        }
        let cancel = CancelFlag()
        r.shouldStop = { cancel.isSet }
        let (events, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .unbounded)
        continuation.onTermination = { _ in cancel.set() }
        let request = r, hiding = service.hiddenPrefixes
        Task { [service] in
            do {
                let answer = try await service.model.run {
                    try service.ask(request, onText: { piece in
                        continuation.yield(Routes.event("token", (try? JSONOutput.string(object: ["text": piece])) ?? "{}"))
                    })
                }
                continuation.yield(Routes.event("answer", try answer.json()))
            } catch {
                continuation.yield(Routes.event("error", APIError.from(error, hiding: hiding).body))
            }
            continuation.finish()
        }
        return Response.eventStream(events, cancel: cancel)
    }

    static func event(_ name: String, _ data: String) -> String { "event: \(name)\ndata: \(data)\n\n" }

    // POST /v1/chat/completions
    func chat(_ req: Request) async throws -> Response {
        let b = try await body(req, as: ChatBody.self)
        guard let ext = b.gar else { throw APIError.badRequest("gar: missing (the video id and regions: {\"gar\": {\"video\": ID, \"regions\": [...]}})") }
        let v = try service.video(ext.video)
        guard let question = b.messages.last(where: { $0.role == "user" })?.content?.text else {
            throw APIError.badRequest("messages: no user message with text")
        }
        var r = try service.regionRequest(v, regions: ext.regions, track: ext.track, question: question, choices: ext.choices,
                                          maxNewTokens: b.maxTokens, temperature: b.temperature, seed: b.seed)
        try service.model.reserve()
        let id = "chatcmpl-\(GARService.newID())", created = Int(Date().timeIntervalSince1970), model = b.model ?? service.modelName
        guard b.stream == true else {
            let request = r
            let answer = try await service.model.run { [service] in try service.ask(request, onText: nil) }
            let completion = max(answer.tokenIds.count, 0)
            return try Response.json(ChatCompletion(
                id: id, object: "chat.completion", created: created, model: model,
                choices: [.init(index: 0, message: .init(role: "assistant", content: answer.text), delta: nil,
                                finishReason: answer.answers.first?.stoppedOnEos == false ? "length" : "stop")],
                usage: .init(promptTokens: answer.promptTokens, completionTokens: completion, totalTokens: answer.promptTokens + completion)))
        }
        let cancel = CancelFlag()
        r.shouldStop = { cancel.isSet }
        let (events, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .unbounded)
        continuation.onTermination = { _ in cancel.set() }
        let request = r, hiding = service.hiddenPrefixes
        @Sendable func chunk(_ delta: ChatCompletion.Message, _ finish: String?) -> String {
            let c = ChatCompletion(id: id, object: "chat.completion.chunk", created: created, model: model,
                                   choices: [.init(index: 0, message: nil, delta: delta, finishReason: finish)], usage: nil)
            return "data: \((try? JSONOutput.string(c)) ?? "{}")\n\n"
        }
        Task { [service] in
            continuation.yield(chunk(.init(role: "assistant", content: ""), nil))
            do {
                let answer = try await service.model.run {
                    try service.ask(request, onText: { continuation.yield(chunk(.init(role: nil, content: $0), nil)) })
                }
                continuation.yield(chunk(.init(role: nil, content: nil), answer.answers.first?.stoppedOnEos == false ? "length" : "stop"))
            } catch {
                continuation.yield("data: \(APIError.from(error, hiding: hiding).body)\n\n")
            }
            continuation.yield("data: [DONE]\n\n")
            continuation.finish()
        }
        return Response.eventStream(events, cancel: cancel)
    }

    /// OpenAI's chat.completion / chat.completion.chunk object.
    struct ChatCompletion: Encodable {
        struct Message: Encodable, Sendable { var role: String?; var content: String? }
        struct Choice: Encodable {
            var index: Int
            var message: Message?
            var delta: Message?
            var finishReason: String?
            func encode(to encoder: Encoder) throws {
                enum K: String, CodingKey { case index, message, delta, finishReason = "finish_reason" }
                var c = encoder.container(keyedBy: K.self)
                try c.encode(index, forKey: .index)
                try c.encodeIfPresent(message, forKey: .message)
                try c.encodeIfPresent(delta, forKey: .delta)
                try c.encode(finishReason, forKey: .finishReason)   // null while streaming
            }
        }
        struct Usage: Encodable { var promptTokens: Int; var completionTokens: Int; var totalTokens: Int }
        var id: String
        var object: String
        var created: Int
        var model: String
        var choices: [Choice]
        var usage: Usage?
    }
}
