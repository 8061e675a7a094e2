// The one audited parallelism helper of the Tracking module.
//
// Kernels split their output into disjoint row bands and call `parallelFor`; each band writes
// only its own rows. Swift 6 requires @Sendable closures for DispatchQueue.concurrentPerform,
// and raw pointers are not Sendable, so output buffers cross into the closure wrapped in
// `SendablePointer` — safe because the bands never overlap (STYLE.md §8 #6).
import Dispatch

/// A raw pointer that may be captured by the @Sendable closure of `parallelFor`. Only use it
/// for buffers whose regions written by different bands are disjoint.
public struct SendablePointer<T>: @unchecked Sendable {
    public let p: UnsafeMutablePointer<T>
    public init(_ p: UnsafeMutablePointer<T>) { self.p = p }
    @inline(__always) public subscript(i: Int) -> T {
        get { p[i] }
        nonmutating set { p[i] = newValue }
    }
}

/// Read-only twin of `SendablePointer`.
public struct SendableConstPointer<T>: @unchecked Sendable {
    public let p: UnsafePointer<T>
    public init(_ p: UnsafePointer<T>) { self.p = p }
    @inline(__always) public subscript(i: Int) -> T { p[i] }
}

public enum Parallel {
    /// Worker count (the machine's active cores; `GAR_THREADS` overrides, 1 = serial).
    nonisolated(unsafe) public static var workers: Int = {
        if let s = getenvString("GAR_THREADS"), let n = Int(s), n >= 1 { return n }
        return max(1, ProcessInfo_activeProcessorCount())
    }()

    /// Runs `body(range)` over `0..<count` split into contiguous bands, in parallel when
    /// `count` is large enough to be worth it. `body` must only write outputs of its own band.
    public static func forBands(_ count: Int, minBand: Int = 8, _ body: @Sendable (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let bands = min(workers * 4, max(1, count / max(1, minBand)))
        if bands <= 1 || workers == 1 { body(0..<count); return }
        DispatchQueue.concurrentPerform(iterations: bands) { b in
            let lo = b * count / bands, hi = (b + 1) * count / bands
            if lo < hi { body(lo..<hi) }
        }
    }

    /// `forBands` for in-place row stencils: row y reads rows y − 1 and y + 1, and its vector
    /// stores rewrite (unchanged) values those rows read (red-black SOR). Each band runs without
    /// its first row; the held-back first rows run after all bands have finished. So no row is
    /// read by one band while another band writes it: a band's rows only touch rows of the same
    /// band, and a held-back row's neighbours belong to bands that are done.
    public static func forBandsFirstRowsLast(_ count: Int, minBand: Int = 8, _ body: @Sendable (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let bands = min(workers * 4, max(1, count / max(2, minBand)))
        if bands <= 1 || workers == 1 { body(0..<count); return }
        DispatchQueue.concurrentPerform(iterations: bands) { b in
            let lo = b * count / bands, hi = (b + 1) * count / bands
            if lo + 1 < hi { body((lo + 1)..<hi) }
        }
        for b in 0..<bands {
            let lo = b * count / bands
            if lo < (b + 1) * count / bands { body(lo..<(lo + 1)) }
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

private func getenvString(_ name: String) -> String? { ProcessInfo.processInfo.environment[name] }
private func ProcessInfo_activeProcessorCount() -> Int { ProcessInfo.processInfo.activeProcessorCount }
