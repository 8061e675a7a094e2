// Runs a helper program (the Python baselines of the benchmarks) and collects its output.
// stdout and stderr are drained at the same time: a child that writes a lot to one of them
// while we wait on the other would otherwise block forever on a full pipe.
import Foundation

enum Subprocess {
    struct Result {
        var status: Int32
        var stdout: Data
        var stderr: Data

        /// The last line of stderr (what a failing Python script prints last: the exception).
        var lastErrorLine: String {
            String(decoding: stderr, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
        }
    }

    static func run(_ process: Process) throws -> Result {
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        nonisolated(unsafe) var errData = Data()
        let drained = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            drained.signal()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        drained.wait()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: outData, stderr: errData)
    }
}
