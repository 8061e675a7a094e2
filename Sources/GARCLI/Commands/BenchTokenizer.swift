import ArgumentParser
import Foundation
import Pipeline

struct BenchTokenizer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Benchmark: tokenizer encode/decode throughput (MB/s) on one core, vs the Python tokenizers library.")

    @Option(name: .long, help: "Model directory with tokenizer.json.")
    var model: String

    @Option(name: .long, help: "UTF-8 text file to encode line by line (default: 1 MB of built-in mixed text).")
    var file: String?

    @Option(name: .long, help: "Python executable with the `tokenizers` package, measured in the same run.")
    var python: String?

    @Option(name: .long, help: "Timed repetitions.")
    var repeats: Int = 5

    func validate() throws {
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
    }

    func run() async throws {
        let text = try file.map { try TokenizeJob.readText(path: $0) }
        let progress = Progress("tokenizer bench", total: repeats)
        let result = try TokenizerBench.run(modelDirectory: URL(fileURLWithPath: model), text: text, python: python,
                                            repetitions: repeats, progress: progress)
        progress.finish()
        let cores = ProcessInfo.processInfo.activeProcessorCount
        print(TokenizerBench.table(result, machine: "\(cores)-core \(machineName())"))
    }

    private func machineName() -> String {
        var u = utsname()
        uname(&u)
        return withUnsafePointer(to: &u.machine) { $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) } }
    }
}
