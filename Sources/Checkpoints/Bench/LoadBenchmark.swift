// Timing a full strict load of a GAR checkpoint into Float32 (what model loading costs), with
// the process's peak resident memory. Used by `gar bench ops --checkpoint DIR`.
import Basics
import Foundation
import Tensors

public enum LoadBenchmark {
    public struct Result: Sendable, Codable {
        public var tensors: Int
        public var storedBytes: Int
        public var float32Bytes: Int
        public var seconds: Double
        /// Peak resident memory of the process after the load, bytes.
        public var peakRSSBytes: Int?
        /// Resident memory before the load, bytes (nil where there is no /proc).
        public var startRSSBytes: Int?
    }

    /// Loads every tensor GARKeySchema expects (plus the tied/untied head) and keeps them alive
    /// until the end, as a model would.
    public static func run(directory: String) throws -> Result {
        let startRSS = ProcessMemory.residentBytes()
        let t0 = DispatchTime.now().uptimeNanoseconds
        let (_, spec) = try GARConfig.load(directory)
        let checkpoint = try Checkpoint(directory: directory)
        let loader = WeightLoader(checkpoint)
        let root = loader.scope("")
        var kept: [Tensor] = []
        var f32 = 0
        for entry in GARKeySchema(spec: spec).entries {
            let t = entry.optional ? try root.takeOptional(entry.name, shape: entry.shape) : try root.take(entry.name, shape: entry.shape)
            if let t {
                f32 += t.count * 4
                kept.append(t)
            }
        }
        try loader.finish()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        let result = Result(tensors: kept.count, storedBytes: checkpoint.dataBytes, float32Bytes: f32, seconds: seconds,
                            peakRSSBytes: ProcessMemory.peakResidentBytes(), startRSSBytes: startRSS)
        withExtendedLifetime(kept) {}
        return result
    }
}
