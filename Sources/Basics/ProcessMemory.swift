// The process's resident memory (RSS): the one place gar reads it, for `gar bench ops
// --checkpoint` and `gar bench model`.
import Foundation

public enum ProcessMemory {
    /// Peak resident memory of this process so far, in bytes (getrusage `ru_maxrss`: KiB on
    /// Linux, bytes on macOS).
    public static func peakResidentBytes() -> Int {
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Int(usage.ru_maxrss) * 1024
        #else
        getrusage(RUSAGE_SELF, &usage)
        return Int(usage.ru_maxrss)
        #endif
    }

    /// Resident memory right now, in bytes (the `VmRSS` line of /proc/self/status; nil where
    /// there is no /proc).
    public static func residentBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            if let kb = line.split(separator: " ").compactMap({ Int($0) }).first { return kb * 1024 }
        }
        return nil
    }
}
