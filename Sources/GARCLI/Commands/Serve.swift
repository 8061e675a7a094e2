import ArgumentParser
import Foundation
import Pipeline
import Server
import Tensors

/// `gar serve`: the HTTP API and the web page (thin shell over the Server module).
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the HTTP API and the web page (the model loaded once).",
        discussion: """
        Open http://HOST:PORT/ in a browser, or call the API (GET /openapi.json describes it). Binds \
        127.0.0.1 unless --host says otherwise; another host needs --token (every /v1 route then \
        wants 'Authorization: Bearer TOKEN'). Paths given to the API are relative to --media-root \
        and may not leave it; uploads go to a private temporary folder removed when the server stops.
        """)

    @OptionGroup var modelOption: ModelDirectoryOption
    @OptionGroup var trackerOptions: TrackerOptions

    @Option(help: "Address to bind (a non-loopback address needs --token).")
    var host = "127.0.0.1"

    @Option(help: "Port (0 = any free port; the chosen one is printed).")
    var port = 8080

    @Option(name: .customLong("media-root"), help: ArgumentHelp("Folder the API's video paths are relative to.", valueName: "dir"))
    var mediaRoot = "."

    @Option(help: ArgumentHelp("Bearer token required on every /v1 route (default: $GAR_SERVE_TOKEN, else none).", valueName: "token"))
    var token: String?

    @Option(name: .customLong("max-upload-mb"), help: "Largest upload, in MiB.")
    var maxUploadMB = 512

    @Option(name: .customLong("queue"), help: "Model requests waiting or running at most (more get 429).")
    var queue = 4

    @Option(help: "Model threads (default: all CPUs).")
    var threads: Int?

    var resolvedToken: String? { token ?? ProcessInfo.processInfo.environment["GAR_SERVE_TOKEN"].flatMap { $0.isEmpty ? nil : $0 } }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    func validate() throws {
        guard (0 ... 65535).contains(port) else { throw ValidationError("--port must be in 0...65535, got \(port)") }
        if !Serve.isLoopback(host) && resolvedToken == nil {
            throw ValidationError("--host \(host) is not a loopback address: give --token (or GAR_SERVE_TOKEN) so that the API is not open to the network")
        }
        if let t = token, t.isEmpty { throw ValidationError("--token is empty") }
        guard maxUploadMB >= 1 && maxUploadMB <= 1 << 20 else { throw ValidationError("--max-upload-mb must be in 1...1048576, got \(maxUploadMB)") }
        guard queue >= 1 && queue <= 1000 else { throw ValidationError("--queue must be in 1...1000, got \(queue)") }
        try checkThreads(threads)
    }

    func run() async throws {
        let root: MediaRoot
        do { root = try MediaRoot(mediaRoot) } catch { throw ValidationError("\(error)") }
        if let threads { Threading.set(threads) }
        let precision = try modelOption.precision.resolve()
        // The tracker of segment, track and ask: SAM 2.1 when a checkpoint is given (--sam2, $GAR_SAM2), loaded once.
        let sam2: SAM2Tracking?
        switch try trackerOptions.resolve() {
        case .flow: sam2 = nil
        case let .sam2(model): sam2 = try SAM2Tracking.load(model)
        }
        let engine = try VideoRegionEngine(modelDirectory: modelOption.model, precision: precision)
        var limits = ServerLimits()
        limits.maxUploadBytes = maxUploadMB << 20
        limits.modelQueue = queue
        let service = try GARService(engine: engine, modelName: URL(fileURLWithPath: modelOption.model).lastPathComponent, root: root, limits: limits,
                                     sam2: sam2)
        defer { service.close() }
        var options = ServerOptions()
        options.host = host
        options.port = port
        options.token = resolvedToken
        let shownHost = host.contains(":") ? "[\(host)]" : host
        let app = GARServer.application(service, options: options) { port in
            printErr("gar serve: listening on http://\(shownHost):\(port)/ (media root \(root.path); Ctrl-C stops)")
        }
        try await app.runService()
    }
}
