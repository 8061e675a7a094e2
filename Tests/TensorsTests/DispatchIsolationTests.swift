// A SIMD level or thread count forced by one test is that test's alone (CKernels' dispatch state is
// per thread; Threading.withCount per task), and it travels to the workers of its parallelFor.
//
// Why: CI once saw int8 case b's first-step logits 70 % off (2026-12-06) while kernel tests flipped
// the process-wide level; the fused attention packs K/V for the lanes of the level it reads first
// and the kernel then dispatched on the level of that instant — another layout.
import CKernels
import Dispatch
import Foundation
import Synchronization
import Testing
@testable import Tensors

@Suite struct DispatchIsolationTests {
    /// `read()` evaluated on a fresh thread (outside this test's task).
    static func onAnotherThread(_ read: @escaping @Sendable () -> Int) -> Int {
        let seen = Mutex<Int>(-1)
        let done = DispatchSemaphore(value: 0)
        let t = Thread {
            let v = read()
            seen.withLock { $0 = v }
            done.signal()
        }
        t.start()
        done.wait()
        return seen.withLock { $0 }
    }

    @Test func aForcedLevelIsTheCallingThreadsAndItsWorkers() {
        let best = gk_set_simd_level(-1)
        #expect(gk_set_simd_level(Int32(GK_SIMD_BASE)) == Int32(GK_SIMD_BASE))
        defer { _ = gk_set_simd_level(-1) }
        #expect(gk_simd_level() == Int32(GK_SIMD_BASE))
        #expect(Self.onAnotherThread { Int(gk_simd_level()) } == Int(best), "another thread saw the forced level")
        let seen = Mutex<Set<Int32>>([])
        withThreads(2) {
            parallelFor(64) { _ in
                let l = gk_simd_level()
                seen.withLock { _ = $0.insert(l) }
            }
        }
        #expect(seen.withLock { $0 } == [Int32(GK_SIMD_BASE)], "workers of the region did not take the caller's level")
        _ = gk_set_simd_level(-1)
        #expect(gk_simd_level() == best)
    }

    @Test func aTaskThreadCountIsThatTasksAlone() {
        // 37: a count no other test sets process-wide (those may run meanwhile and set 1 or 2).
        Threading.withCount(37) {
            #expect(Threading.count == 37)
            #expect(Self.onAnotherThread { Threading.count } != 37, "another thread saw this task's count")
        }
        #expect(Threading.count != 37)
    }

    /// The fused attention gives the same bits while another thread keeps flipping ITS level (before
    /// the per-thread state, a flip between the packing and the kernel mixed two layouts).
    @Test func attentionIsUnmovedByAnotherThreadsLevel() {
        let T = 64, H = 2, D = 32
        var rng = SeededRandom(seed: 77)
        let qkv = rng.normals(T * 3 * H * D)
        func attend() -> [Float] {
            var out = [Float](repeating: 0, count: T * H * D)
            qkv.withUnsafeBufferPointer { qb in
                out.withUnsafeMutableBufferPointer { ob in
                    Kernels.attention(q: qb.baseAddress!, k: qb.baseAddress! + H * D, v: qb.baseAddress! + 2 * H * D,
                                      out: ob.baseAddress!, layout: .fusedQKV(heads: H, headDim: D), queries: T, keys: T,
                                      heads: H, kvHeads: H, headDim: D, scale: 0.2, causalOffset: 0)
                }
            }
            return out
        }
        let want = attend()
        let stop = Atomic<Bool>(false)
        let done = DispatchSemaphore(value: 0)
        let flipper = Thread {
            var level: Int32 = 0
            while !stop.load(ordering: .relaxed) {
                _ = gk_set_simd_level(level)
                level = level == 0 ? -1 : 0
            }
            _ = gk_set_simd_level(-1)
            done.signal()
        }
        flipper.start()
        var differing = 0
        for _ in 0 ..< 200 where attend() != want { differing += 1 }
        stop.store(true, ordering: .relaxed)
        done.wait()
        #expect(differing == 0, "\(differing) of 200 runs differed while another thread flipped its level")
    }
}
