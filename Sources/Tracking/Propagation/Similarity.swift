// 4-DoF similarity transforms (scale, rotation, translation) fitted with RANSAC, the
// object-level motion prior of the tracker (TRACKING.md §2.1 step 3; OpenCV
// estimateAffinePartial2D with a 2 px threshold).
//   x' = a·x − b·y + tx,   y' = b·x + a·y + ty
import Basics

public struct Similarity: Sendable, Equatable {
    public var a: Float, b: Float, tx: Float, ty: Float
    public static let identity = Similarity(a: 1, b: 0, tx: 0, ty: 0)

    @inline(__always) public func apply(_ x: Float, _ y: Float) -> (Float, Float) {
        (a * x - b * y + tx, b * x + a * y + ty)
    }

    public var inverse: Similarity? {
        let d = a * a + b * b
        guard d > 1e-12 else { return nil }
        let ia = a / d, ib = -b / d
        return Similarity(a: ia, b: ib, tx: -(ia * tx - ib * ty), ty: -(ib * tx + ia * ty))
    }

    /// Least-squares fit to point pairs (closed form).
    public static func fit(_ src: [(Float, Float)], _ dst: [(Float, Float)]) -> Similarity? {
        let n = Float(src.count)
        guard src.count >= 2 else { return nil }
        var sx: Float = 0, sy: Float = 0, dx: Float = 0, dy: Float = 0
        for i in 0..<src.count { sx += src[i].0; sy += src[i].1; dx += dst[i].0; dy += dst[i].1 }
        sx /= n; sy /= n; dx /= n; dy /= n
        var num1: Float = 0, num2: Float = 0, den: Float = 0
        for i in 0..<src.count {
            let px = src[i].0 - sx, py = src[i].1 - sy, qx = dst[i].0 - dx, qy = dst[i].1 - dy
            num1 += px * qx + py * qy; num2 += px * qy - py * qx; den += px * px + py * py
        }
        guard den > 1e-9 else { return nil }
        let a = num1 / den, b = num2 / den
        return Similarity(a: a, b: b, tx: dx - (a * sx - b * sy), ty: dy - (b * sx + a * sy))
    }

    /// RANSAC: 2-point hypotheses, inliers within `threshold` px, refit on the best inlier set.
    /// Deterministic for a given `seed`. Returns nil when fewer than 3 inliers support any model.
    public static func ransac(_ src: [(Float, Float)], _ dst: [(Float, Float)], threshold: Float = 2,
                              iterations: Int = 200, seed: UInt64 = 0x5EED) -> (Similarity, Int)? {
        let n = src.count
        guard n >= 3 else { return nil }
        var rng = SplitMix64(seed: seed)
        let t2 = threshold * threshold
        var best: Similarity? = nil, bestCount = 0
        func count(_ m: Similarity) -> Int {
            var c = 0
            for i in 0..<n {
                let (x, y) = m.apply(src[i].0, src[i].1)
                let ex = x - dst[i].0, ey = y - dst[i].1
                if ex * ex + ey * ey <= t2 { c += 1 }
            }
            return c
        }
        for _ in 0..<iterations {
            let i = Int(rng.next() % UInt64(n)), j = Int(rng.next() % UInt64(n))
            if i == j { continue }
            guard let m = fit([src[i], src[j]], [dst[i], dst[j]]) else { continue }
            let c = count(m)
            if c > bestCount { bestCount = c; best = m }
            if bestCount > n * 9 / 10 { break }
        }
        guard let b = best, bestCount >= 3 else { return nil }
        var s: [(Float, Float)] = [], d: [(Float, Float)] = []
        for i in 0..<n {
            let (x, y) = b.apply(src[i].0, src[i].1)
            let ex = x - dst[i].0, ey = y - dst[i].1
            if ex * ex + ey * ey <= t2 { s.append(src[i]); d.append(dst[i]) }
        }
        let refined = fit(s, d) ?? b
        return (refined, count(refined))
    }
}
