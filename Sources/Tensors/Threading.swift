// The one place where gar runs work on several threads, and the thread policy towards OpenBLAS.
//
// Policy: OpenBLAS owns its threads for GEMM/GEMV called from ordinary (serial) code; it runs
// with `Threading.count` threads. Inside a `parallelFor` region our workers already occupy
// every core, so OpenBLAS is switched to 1 thread for the region's duration and restored after:
// the two pools never nest. A `parallelFor` called from inside another region runs serially on
// the calling worker.
import COpenBLAS
import Dispatch
import Foundation
import Synchronization

public enum Threading {
    /// Guards `configured` and the region flag.
    private static let state = Mutex<(count: Int, inRegion: Bool)>((Threading.defaultCount, false))

    /// Logical CPUs available to this process.
    public static var defaultCount: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// Number of threads used by `parallelFor` and by OpenBLAS outside parallel regions.
    public static var count: Int { state.withLock { $0.count } }

    /// Sets the thread count for our kernels and for OpenBLAS (values < 1 mean "all CPUs").
    public static func set(_ count: Int) {
        let n = count < 1 ? defaultCount : count
        state.withLock { $0.count = n }
        openblas_set_num_threads(Int32(n))
    }

    /// Applies the configured count to OpenBLAS once (OpenBLAS starts with its own default).
    static let applyOnce: Void = { openblas_set_num_threads(Int32(Threading.count)) }()

    /// Enters a parallel region: returns the worker count to use (1 = run serially because we
    /// are nested or single-threaded). OpenBLAS is switched to one thread while a region is open.
    fileprivate static func enterRegion() -> Int {
        _ = applyOnce
        let workers: Int = state.withLock { s in
            if s.inRegion || s.count <= 1 { return 1 }
            s.inRegion = true
            return s.count
        }
        if workers > 1 { openblas_set_num_threads(1) }
        return workers
    }

    fileprivate static func leaveRegion(workers: Int) {
        guard workers > 1 else { return }
        let n = state.withLock { s in
            s.inRegion = false
            return s.count
        }
        openblas_set_num_threads(Int32(n))
    }

    /// Makes sure OpenBLAS uses the configured thread count (call before timing GEMMs).
    public static func prepareBLAS() { _ = applyOnce }
}

/// Calls `body` with disjoint ranges covering `0..<count`, on up to `Threading.count` threads.
///
/// Ranges hold at least `grain` items (except possibly the last); they are handed out
/// dynamically, so uneven work balances. `body` must only write to memory that no other range
/// writes. Nested calls run serially. Allocate per-call scratch inside `body` (once per range,
/// not per item).
public func parallelFor(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
    guard count > 0 else { return }
    let workers = Threading.enterRegion()
    defer { Threading.leaveRegion(workers: workers) }
    let grain = max(1, grain)
    if workers == 1 || count <= grain {
        body(0 ..< count)
        return
    }
    // About 4 ranges per worker for balance, but never below the grain.
    let chunk = max(grain, (count + 4 * workers - 1) / (4 * workers))
    let chunks = (count + chunk - 1) / chunk
    let next = ChunkCounter()
    // Audited escape hatch (STYLE.md §8 #6): concurrentPerform wants a @Sendable closure, but
    // `body` captures raw pointers. This is safe because every range is processed by exactly one
    // worker (the atomic counter hands each chunk out once), callers write disjoint memory per
    // range, and concurrentPerform returns only after every worker has finished.
    nonisolated(unsafe) let work = body
    DispatchQueue.concurrentPerform(iterations: min(workers, chunks)) { _ in
        while true {
            let c = next.value.wrappingAdd(1, ordering: .relaxed).oldValue
            if c >= chunks { break }
            let lo = c * chunk
            work(lo ..< min(count, lo + chunk))
        }
    }
}

/// Hands out chunk numbers to the workers of one `parallelFor` call.
private final class ChunkCounter: Sendable {
    let value = Atomic<Int>(0)
}
