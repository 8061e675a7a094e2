// One server for the suite: in-process on a free loopback port (port 0), the tiny checkpoint,
// a media root holding copies of two sample clips (and a symlink leading out of it), a 1 MiB
// upload limit and a token.
import Foundation
import Models
import Pipeline
@testable import Server

struct LiveServer: Sendable {
    let port: Int
    let service: GARService
    let root: URL
    static let token = "test-token"
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The suite's server, started once.
    static let shared = Task { try await LiveServer.start() }

    static func start() async throws -> LiveServer {
        let fm = FileManager.default
        let root = fm.temporaryDirectory.appendingPathComponent("gar-serve-tests-\(getpid())")
        try? fm.removeItem(at: root)
        try fm.createDirectory(at: root.appendingPathComponent("clips"), withIntermediateDirectories: true)
        for clip in ["ball.mp4", "two_objects.mp4"] {
            try fm.copyItem(at: repo.appendingPathComponent("samples/clips/\(clip)"), to: root.appendingPathComponent("clips/\(clip)"))
        }
        try fm.createSymbolicLink(at: root.appendingPathComponent("escape.mp4"), withDestinationURL: repo.appendingPathComponent("samples/clips/ball.mp4"))
        try Data("not a video".utf8).write(to: root.appendingPathComponent("notes.mp4"))
        let engine = try VideoRegionEngine(modelDirectory: repo.appendingPathComponent("Tests/Fixtures/gar-tiny").path)
        var limits = ServerLimits()
        limits.maxUploadBytes = 1 << 20
        limits.modelQueue = 2
        let service = try GARService(engine: engine, modelName: "gar-tiny", root: try MediaRoot(root.path), limits: limits)
        var options = ServerOptions()
        options.port = 0
        options.token = token
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = GARServer.application(service, options: options) { continuation.yield($0) }
        Task {
            do { try await app.run() } catch { print("gar serve (tests): the server stopped: \(error)") }
            continuation.finish()
        }
        for await port in ports { return LiveServer(port: port, service: service, root: root) }
        throw TestHTTPError("the server did not start")
    }

    func get(_ path: String, token: String? = LiveServer.token) async throws -> HTTPReply {
        try await HTTP.request(port, "GET", path, token: token)
    }

    func post(_ path: String, _ json: Any, token: String? = LiveServer.token) async throws -> HTTPReply {
        try await HTTP.request(port, "POST", path, token: token, json: json)
    }

    /// Opens a clip of the media root; its facts.
    func open(_ path: String = "clips/ball.mp4") async throws -> [String: Any] {
        let r = try await post("/v1/videos", ["path": path])
        guard r.status == 201 else { throw TestHTTPError("open \(path): \(r.status) \(r.text)") }
        return try r.json()
    }
}
