// Running the built `gar` binary from the repository root (so the README's relative paths work)
// for the end-to-end tests of the video commands.
import Foundation
import TestSupport
import Testing

enum E2E {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The binary next to the test bundle (swift test builds it), else under .build/.
    static let gar: String? = {
        var candidates: [String] = []
        if let exe = CommandLine.arguments.first {
            var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
            while dir.path.contains(".xctest") { dir = dir.deletingLastPathComponent() }
            candidates.append(dir.appendingPathComponent("gar").path)
        }
        var dir = Bundle.main.bundleURL
        for _ in 0 ..< 4 {
            candidates.append(dir.appendingPathComponent("gar").path)
            dir = dir.deletingLastPathComponent()
        }
        for c in ["debug", "release"] { candidates.append(root.appendingPathComponent(".build/\(c)/gar").path) }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        /// Killed by a signal (a crash), not an exit.
        var signaled = false

        /// stdout as one JSON object.
        func json() throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any], "stdout is not a JSON object: \(stdout.prefix(300)) / \(stderr)")
        }

        /// The last stderr line (the error of a failed run).
        var lastErrorLine: String { stderr.split(separator: "\n").last.map(String.init) ?? "" }
    }

    /// Runs gar with the repository root as working directory; stdout and stderr are drained
    /// concurrently (a full pipe must never block the child).
    /// GAR_PRECISION is pinned to f32 (the exact path the goldens were made with) unless a test
    /// sets it in `environment`; a test that wants another precision passes --precision.
    static func run(_ args: [String], environment: [String: String] = [:]) throws -> Result {
        let exe = try #require(gar, "gar binary not found next to the tests or in .build/")
        var env = ProcessInfo.processInfo.environment
        env["GAR_PRECISION"] = "f32"
        env["GAR_SAM2"] = nil   // the weight-free tracker unless a test names a SAM 2.1 checkpoint
        for (k, v) in environment { env[k] = v }
        let r = try ChildProcess.run(exe, args, directory: root, environment: env)
        return Result(status: r.status, stdout: String(decoding: r.stdout, as: UTF8.self), stderr: r.stderr, signaled: r.signaled)
    }

    /// Runs a command that must fail: non-zero exit and exactly one line on stderr, returned.
    static func failure(_ args: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let r = try run(args)
        #expect(!r.signaled, "killed by signal \(r.status): \(r.stderr.suffix(500))", sourceLocation: sourceLocation)
        #expect(r.status != 0, "expected a failure: \(r.stdout.prefix(200))", sourceLocation: sourceLocation)
        #expect(r.stderr.split(separator: "\n").count == 1, "one line expected: \(r.stderr)", sourceLocation: sourceLocation)
        return r.lastErrorLine
    }

    static func tempDir(_ tag: String) -> URL {
        TestTemp.directory("gar-e2e-\(tag)")
    }

    /// The JSON with every "timings" object removed (what must be identical between two runs).
    static func withoutTimings(_ v: Any) -> Any {
        if let d = v as? [String: Any] {
            var out: [String: Any] = [:]
            for (k, x) in d where k != "timings" { out[k] = withoutTimings(x) }
            return out
        }
        if let a = v as? [Any] { return a.map(withoutTimings) }
        return v
    }

    static func canonical(_ v: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: withoutTimings(v), options: [.sortedKeys]), as: UTF8.self)
    }
}
