// Running a command from a test: exit status, stdout and stderr. Both pipes are drained
// concurrently so a child that fills one of them can never block (shared by VideoTests, which
// run the ffmpeg CLI, and GARCLITests, which run the built `gar`).
import Foundation

public enum ChildProcess {
    public struct Output: Sendable {
        public var status: Int32
        /// True when the child was killed by a signal (`status` is then the signal number): a
        /// crash (trap, segfault), never a clean error exit.
        public var signaled = false
        public var stdout: Data
        public var stderr: String
    }

    /// Runs `exe` with `args`; `directory`: its working directory (default: ours);
    /// `environment`: its whole environment (default: ours).
    public static func run(_ exe: String, _ args: [String], directory: URL? = nil,
                           environment: [String: String]? = nil) throws -> Output {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        if let directory { p.currentDirectoryURL = directory }
        if let environment { p.environment = environment }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        nonisolated(unsafe) var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        return Output(status: p.terminationStatus, signaled: p.terminationReason == .uncaughtSignal, stdout: outData,
                      stderr: String(decoding: errData, as: UTF8.self))
    }
}
