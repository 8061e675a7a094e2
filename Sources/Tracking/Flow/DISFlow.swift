// Dense Inverse Search optical flow (Kroeger, Timofte, Dai, Van Gool, ECCV 2016), written from
// the paper, with OpenCV's DISOpticalFlow presets as the parameter reference.
//
// For each pyramid level s from the coarsest to `finestScale`:
//   1. Patch inverse search: a grid of P×P patches of I0 (stride S); each patch finds its
//      displacement into I1 by inverse-compositional Gauss–Newton on the mean-normalised SSD,
//      starting from the previous level's dense flow at its centre, with spatial propagation
//      (a neighbour's displacement replaces the start when it matches better).
//   2. Densification: every pixel averages the displacements of the patches covering it,
//      weighted by 1 / max(1, |I1(x + u) − I0(x)|).
//   3. Variational refinement (VariationalRefinement.swift): a few fixed-point iterations of a
//      brightness + gradient constancy + smoothness energy, solved by SOR.
// The flow of the finest computed level is upsampled bilinearly to full size.
//
// Region of interest: given a `roi`, each level computes the flow only on a rectangle of it
// (`LevelRect`, the roi at that scale grown by `domainMargin` level pixels, or the whole level
// when that is nearly as large); I1 is still sampled on the whole level, so vectors may point
// outside the rectangle. The returned field is 0 outside the roi.
//
// Shapes: images are `Plane`s of grey levels in [0, 255]; flows are `FlowField`s with
// `I0(x) ≈ I1(x + F(x))`. Work is split over patch rows / pixel rows with `Parallel.forBands`.

public struct DISParameters: Sendable, Equatable {
    /// Patch side P in pixels.
    public var patchSize = 8
    /// Distance S between patch origins.
    public var patchStride = 3
    /// Gauss–Newton iterations per patch.
    public var gradientIterations = 25
    /// Fixed-point iterations of the variational refinement (0 = off), and SOR sweeps in each.
    public var variationalIterations = 5
    public var variationalSORIterations = 5
    /// Finest level computed (0 = full resolution, 1 = half, ...); finer output is upsampled.
    public var finestScale = 1
    /// Variational refinement weights: smoothness, brightness constancy, gradient constancy.
    public var alpha: Float = 20, delta: Float = 5, gamma: Float = 10
    public var spatialPropagation = true
    /// Patch rows per band of the patch search: bands are searched in parallel and spatial
    /// propagation stays inside a band (see `DISFlow.patchBands`).
    public var patchBandRows = 8

    public init() {}

    /// OpenCV's PRESET_MEDIUM (the TRACKING.md Tier A setting).
    public static let medium = DISParameters()
    /// OpenCV's PRESET_FAST: stride 4, 16 iterations, finest level 2.
    public static var fast: DISParameters {
        var p = DISParameters(); p.patchStride = 4; p.gradientIterations = 16; p.finestScale = 2; return p
    }
}

/// Grey-level pyramid of one frame with per-level gradients, built once and shared by both
/// flow directions.
public struct FlowPyramid: Sendable {
    public let levels: [Plane]
    public let gx: [Plane]
    public let gy: [Plane]
    /// Second derivatives (for the gradient-constancy term of the variational refinement).
    public let gxx: [Plane]
    public let gxy: [Plane]
    public let gyy: [Plane]

    /// Builds `count` levels (fewer if the image gets below 2 px). Derivative planes are made
    /// only for levels ≥ `gradientsFrom` (the flow never reads finer ones; they stay 0×0).
    public init(_ base: Plane, levels count: Int, gradientsFrom finest: Int = 0) {
        var lv = [base]
        while lv.count < count, lv.last!.width >= 2, lv.last!.height >= 2 { lv.append(lv.last!.halved()) }
        levels = lv
        let first = min(max(0, finest), lv.count - 1)
        let empty = Plane(width: 0, height: 0)
        var gxs: [Plane] = [], gys: [Plane] = [], gxxs: [Plane] = [], gxys: [Plane] = [], gyys: [Plane] = []
        for (s, l) in lv.enumerated() {
            guard s >= first else {
                gxs.append(empty); gys.append(empty); gxxs.append(empty); gxys.append(empty); gyys.append(empty)
                continue
            }
            let (a, b) = l.gradients()
            let (axx, axy) = a.gradients()
            let (_, byy) = b.gradients()
            gxs.append(a); gys.append(b); gxxs.append(axx); gxys.append(axy); gyys.append(byy)
        }
        gx = gxs; gy = gys; gxx = gxxs; gxy = gxys; gyy = gyys
    }

    /// Number of levels DIS uses for a W×H image: coarsest = round(log2(max(W,H) / 4P)),
    /// capped by log2(min(W,H) / P) (OpenCV's rule).
    public static func levelCount(width: Int, height: Int, patchSize p: Int) -> Int {
        let a = Int((log2f(Float(max(width, height)) / (4 * Float(p))) + 0.5).rounded(.down))
        let b = Int(log2f(Float(min(width, height)) / Float(p)).rounded(.down))
        return max(0, min(a, b)) + 1
    }
}

/// Unaligned load of 8 consecutive floats.
@inline(__always) func load8(_ p: UnsafePointer<Float>, _ at: Int) -> SIMD8<Float> {
    UnsafeRawPointer(p + at).loadUnaligned(as: SIMD8<Float>.self)
}

/// A rectangle of one pyramid level (level pixels): where a level's flow is computed.
struct LevelRect: Equatable, Sendable {
    var x0: Int, y0: Int, width: Int, height: Int
    static func full(_ p: Plane) -> LevelRect { LevelRect(x0: 0, y0: 0, width: p.width, height: p.height) }
}

public final class DISFlow: Sendable {
    public let params: DISParameters
    /// Level pixels added around the scaled roi on every level (patch coverage and smoothness
    /// near the roi's border).
    public let domainMargin = 8

    public init(_ params: DISParameters = .medium) { self.params = params }

    /// Convenience: flow between two planes (builds both pyramids).
    public func flow(from a: Plane, to b: Plane, roi: PixelBox? = nil) -> FlowField {
        let n = FlowPyramid.levelCount(width: a.width, height: a.height, patchSize: params.patchSize)
        return flow(from: FlowPyramid(a, levels: n), to: FlowPyramid(b, levels: n), roi: roi)
    }

    /// Flow from pyramid `p0` (I0) to `p1` (I1): I0(x) ≈ I1(x + F(x)), at I0's full size.
    /// With `roi` (pixels of the full-size image) the flow is computed for the roi only and is
    /// 0 elsewhere.
    public func flow(from p0: FlowPyramid, to p1: FlowPyramid, roi: PixelBox? = nil) -> FlowField {
        precondition(p0.levels[0].width == p1.levels[0].width && p0.levels[0].height == p1.levels[0].height)
        let coarsest = min(p0.levels.count, p1.levels.count) - 1
        let finest = min(params.finestScale, coarsest)
        let full = p0.levels[0]
        let box = Self.clamp(roi ?? PixelBox(x: 0, y: 0, width: full.width, height: full.height), full.width, full.height)
        var flow = FlowField(width: 0, height: 0)
        var rect = LevelRect(x0: 0, y0: 0, width: 0, height: 0)
        for s in stride(from: coarsest, through: finest, by: -1) {
            let i0 = p0.levels[s], i1 = p1.levels[s]
            let d = domain(box, level: s, plane: i0)
            flow = s == coarsest ? FlowField(width: d.width, height: d.height)
                                 : Self.upsample(flow, from: rect, factor: 2, to: d)
            rect = d
            if d.width >= params.patchSize && d.height >= params.patchSize {
                let sparse = patchSearch(i0: i0, gx: p0.gx[s], gy: p0.gy[s], i1: i1, initial: flow, domain: d)
                flow = densify(i0: i0, i1: i1, sparse: sparse, domain: d)
            }
            if params.variationalIterations > 0 {
                VariationalRefinement(alpha: params.alpha, delta: params.delta, gamma: params.gamma,
                                      iterations: params.variationalIterations, sorIterations: params.variationalSORIterations)
                    .refine(&flow, p0: p0, p1: p1, level: s, domain: d)
            }
        }
        let top = LevelRect(x0: box.x, y0: box.y, width: box.width, height: box.height)
        let inside = Self.upsample(flow, from: rect, factor: 1 << finest, to: top)
        if top == LevelRect.full(full) { return inside }
        var out = FlowField(width: full.width, height: full.height)
        for y in 0..<top.height {
            let o = (y + top.y0) * full.width + top.x0
            for x in 0..<top.width { out.u[o + x] = inside.u[y * top.width + x]; out.v[o + x] = inside.v[y * top.width + x] }
        }
        return out
    }

    static func clamp(_ b: PixelBox, _ w: Int, _ h: Int) -> PixelBox {
        let x0 = min(max(0, b.x), w - 1), y0 = min(max(0, b.y), h - 1)
        let x1 = max(x0, min(w - 1, b.x2)), y1 = max(y0, min(h - 1, b.y2))
        return PixelBox(x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1)
    }

    /// The rectangle of level s where the flow is computed for the full-size box `box`: the box at
    /// that scale grown by `domainMargin`, its origin on the patch grid (so patches sit where the
    /// full level's would), or the whole level when the rectangle covers 80 % of it.
    func domain(_ box: PixelBox, level s: Int, plane: Plane) -> LevelRect {
        let all = LevelRect.full(plane)
        let f = 1 << s, m = domainMargin, S = params.patchStride
        let minSide = 2 * params.patchSize
        guard plane.width > minSide && plane.height > minSide else { return all }
        // Grown box in level pixels (exclusive end), at least 2 patches wide and high.
        var x0 = max(0, box.x / f - m), y0 = max(0, box.y / f - m)
        var x1 = min(plane.width, (box.x2 + f) / f + m), y1 = min(plane.height, (box.y2 + f) / f + m)
        if x1 - x0 < minSide { x0 = max(0, min(x0, plane.width - minSide)); x1 = x0 + minSide }
        if y1 - y0 < minSide { y0 = max(0, min(y0, plane.height - minSide)); y1 = y0 + minSide }
        x0 = x0 / S * S; y0 = y0 / S * S
        let r = LevelRect(x0: x0, y0: y0, width: x1 - x0, height: y1 - y0)
        return r.width * r.height * 5 >= plane.width * plane.height * 4 ? all : r
    }

    /// Bilinear upsampling of a flow on rectangle `src` of a level to rectangle `dst` of the level
    /// `factor` times finer (pixel-centre aligned: X_fine + ½ = factor · (X_coarse + ½)); the
    /// vectors are scaled by `factor`. Samples outside `src` are clamped to its border.
    static func upsample(_ f: FlowField, from src: LevelRect, factor: Int, to dst: LevelRect) -> FlowField {
        var out = FlowField(width: dst.width, height: dst.height)
        let sw = f.width, sh = f.height, dw = dst.width
        let k = Float(factor), inv = 1 / Float(factor)
        f.u.withUnsafeBufferPointer { U in f.v.withUnsafeBufferPointer { V in
        out.u.withUnsafeMutableBufferPointer { OU in out.v.withUnsafeMutableBufferPointer { OV in
            let up = SendableConstPointer(U.baseAddress!), vp = SendableConstPointer(V.baseAddress!)
            let ou = SendablePointer(OU.baseAddress!), ov = SendablePointer(OV.baseAddress!)
            Parallel.forBands(dst.height, minBand: 16) { rows in
                for y in rows {
                    let fy = (Float(dst.y0 + y) + 0.5) * inv - 0.5 - Float(src.y0)
                    for x in 0..<dw {
                        let fx = (Float(dst.x0 + x) + 0.5) * inv - 0.5 - Float(src.x0)
                        let (a, b) = bilinear2(up.p, vp.p, sw, sh, fx, fy)
                        ou[y * dw + x] = k * a
                        ov[y * dw + x] = k * b
                    }
                }
            }
        } } } }
        return out
    }

    /// Patch origins along one axis: 0, S, 2S, ... and a last one flush with the border.
    static func patchOrigins(length: Int, patch: Int, stride: Int) -> [Int] {
        var o: [Int] = []
        var x = 0
        while x + patch <= length { o.append(x); x += stride }
        if let last = o.last, last + patch < length { o.append(length - patch) }
        return o
    }

    /// Patch-row bands searched independently (spatial propagation stays inside a band; bands
    /// run in parallel): `rows` patch rows each, on the level's absolute patch grid
    /// (`firstRow` = the domain's first patch row on it). So the flow does not depend on the
    /// thread count, and a roi's flow equals the whole level's away from the roi's border.
    static func patchBands(count: Int, firstRow: Int, rows: Int) -> [Range<Int>] {
        var bands: [Range<Int>] = []
        var lo = 0
        while lo < count {
            let hi = min(count, ((firstRow + lo) / rows + 1) * rows - firstRow)
            bands.append(lo..<hi); lo = hi
        }
        return bands
    }

    struct SparseFlow {
        var xs: [Int], ys: [Int]
        var u: [Float], v: [Float]   // per patch, row-major over (ys, xs)
    }

    /// The patches of size P over the domain D, each starting from the dense `initial` flow
    /// (over D) at its centre. Where both patch searches start.
    func initialSparseFlow(_ initial: FlowField, domain D: LevelRect, patch P: Int) -> SparseFlow {
        let xs = Self.patchOrigins(length: D.width, patch: P, stride: params.patchStride)
        let ys = Self.patchOrigins(length: D.height, patch: P, stride: params.patchStride)
        let nx = xs.count
        var u = [Float](repeating: 0, count: nx * ys.count), v = u
        for j in 0..<ys.count { for i in 0..<nx {
            let c = (ys[j] + P / 2) * D.width + xs[i] + P / 2
            u[j * nx + i] = initial.u[c]; v[j * nx + i] = initial.v[c]
        } }
        return SparseFlow(xs: xs, ys: ys, u: u, v: v)
    }

    /// Where the refinement of patch (pj, pi) starts, and the cost there: its current flow or,
    /// with spatial propagation, the flow of one of the two neighbours already visited in this
    /// sweep (left and up going forward, right and down going back; same band only) when that
    /// costs less. `cost(u, v)`: the patch's cost displaced by (u, v).
    @inline(__always)
    func startingFlow(_ pj: Int, _ pi: Int, forward: Bool, rows: Range<Int>, patchesPerRow nx: Int,
                      _ up: SendablePointer<Float>, _ vp: SendablePointer<Float>,
                      cost: (Float, Float) -> Float) -> (u: Float, v: Float, cost: Float) {
        let k = pj * nx + pi
        var u = up[k], v = vp[k]
        var best = cost(u, v)
        if params.spatialPropagation {
            let dq = forward ? -1 : 1
            for c in 0..<2 {
                let qj = c == 0 ? pj : pj + dq, qi = c == 0 ? pi + dq : pi
                guard qi >= 0 && qi < nx && rows.contains(qj) else { continue }
                let q = qj * nx + qi
                let cq = cost(up[q], vp[q])
                if cq < best { best = cq; u = up[q]; v = vp[q] }
            }
        }
        return (u, v, best)
    }

    /// The sweeps over one worker's bands of patch rows: forward (row-major) with the first half
    /// of the Gauss–Newton iterations, then backward with the rest. `solve(pj, pi, forward,
    /// iterations, rows)` refines patch (pj, pi); `rows` is its band (propagation stays inside).
    @inline(__always)
    static func sweepBands(_ group: Range<Int>, _ bands: [Range<Int>], patchesPerRow nx: Int, iterations: Int,
                           _ solve: (Int, Int, Bool, Int, Range<Int>) -> Void) {
        let half = max(1, iterations / 2)
        for b in group {
            let rows = bands[b]
            for pj in rows { for pi in 0..<nx { solve(pj, pi, true, half, rows) } }
            for pj in rows.reversed() { for pi in (0..<nx).reversed() { solve(pj, pi, false, iterations - half, rows) } }
        }
    }

    /// Step 1: inverse search for every patch. Fast path for 8×8 patches (SIMD8 rows, one set of
    /// bilinear weights per patch since the displacement is constant over it); other sizes use
    /// the naive twin.
    /// Patch origins are relative to the domain `D` (whose flow `initial` is); I0 and its gradients
    /// are read at D's offset in their level, I1 is sampled on the whole level.
    func patchSearch(i0: Plane, gx: Plane, gy: Plane, i1: Plane, initial: FlowField, domain D: LevelRect) -> SparseFlow {
        if params.patchSize == 8 { return patchSearch8(i0: i0, gx: gx, gy: gy, i1: i1, initial: initial, domain: D) }
        return patchSearchNaive(i0: i0, gx: gx, gy: gy, i1: i1, initial: initial, domain: D)
    }

    /// Naive twin of the patch search: any patch size, clamped bilinear per pixel.
    func patchSearchNaive(i0: Plane, gx: Plane, gy: Plane, i1: Plane, initial: FlowField, domain D: LevelRect) -> SparseFlow {
        let P = params.patchSize, n = P * P
        var sparse = initialSparseFlow(initial, domain: D, patch: P)
        let xs = sparse.xs, ys = sparse.ys, nx = xs.count, ny = ys.count
        // w, h: the level (I1's bounds); (ox, oy): the domain's offset.
        let w = i0.width, h = i0.height, ox = D.x0, oy = D.y0
        let iters = params.gradientIterations
        i0.data.withUnsafeBufferPointer { I0 in gx.data.withUnsafeBufferPointer { GX in
        gy.data.withUnsafeBufferPointer { GY in i1.data.withUnsafeBufferPointer { I1 in
        sparse.u.withUnsafeMutableBufferPointer { SU in sparse.v.withUnsafeMutableBufferPointer { SV in
            let i0p = SendableConstPointer(I0.baseAddress!), gxp = SendableConstPointer(GX.baseAddress!)
            let gyp = SendableConstPointer(GY.baseAddress!), i1p = SendableConstPointer(I1.baseAddress!)
            let up = SendablePointer(SU.baseAddress!), vp = SendablePointer(SV.baseAddress!)
            let bands = Self.patchBands(count: ny, firstRow: oy / params.patchStride, rows: max(1, params.patchBandRows))
            Parallel.forBands(bands.count, minBand: 1) { group in
                // Per-band scratch: template, centred gradients, warped patch.
                let tpl = UnsafeMutablePointer<Float>.allocate(capacity: 4 * n)
                defer { tpl.deallocate() }
                let gxc = tpl + n, gyc = tpl + 2 * n, warped = tpl + 3 * n

                /// Mean-normalised SSD of the patch at (px, py) displaced by (u, v).
                /// (px, py): the patch origin in level pixels.
                func cost(_ px: Int, _ py: Int, _ u: Float, _ v: Float) -> Float {
                    var sum: Float = 0, sq: Float = 0
                    for j in 0..<P {
                        let fy = Float(py + j) + v
                        for i in 0..<P {
                            let d = bilinear(i1p.p, w, h, Float(px + i) + u, fy) - tpl[j * P + i]
                            sum += d; sq += d * d
                        }
                    }
                    return sq - sum * sum / Float(n)
                }

                func solve(_ pj: Int, _ pi: Int, forward: Bool, iterations: Int, rows: Range<Int>) {
                    let px = ox + xs[pi], py = oy + ys[pj], k = pj * nx + pi
                    // Template and mean-centred gradients (the Jacobian of the mean-normalised SSD).
                    var mx: Float = 0, my: Float = 0
                    for j in 0..<P { for i in 0..<P {
                        let s = (py + j) * w + px + i
                        tpl[j * P + i] = i0p[s]; gxc[j * P + i] = gxp[s]; gyc[j * P + i] = gyp[s]
                        mx += gxp[s]; my += gyp[s]
                    } }
                    mx /= Float(n); my /= Float(n)
                    var hxx: Float = 0, hxy: Float = 0, hyy: Float = 0
                    for t in 0..<n {
                        gxc[t] -= mx; gyc[t] -= my
                        hxx += gxc[t] * gxc[t]; hxy += gxc[t] * gyc[t]; hyy += gyc[t] * gyc[t]
                    }
                    hxx += 1e-2; hyy += 1e-2
                    let det = hxx * hyy - hxy * hxy
                    let inv = det > 1e-6 ? 1 / det : 0
                    let start = startingFlow(pj, pi, forward: forward, rows: rows, patchesPerRow: nx, up, vp) {
                        cost(px, py, $0, $1)
                    }
                    var u = start.u, v = start.v
                    let best = start.cost
                    let u0 = u, v0 = v
                    for _ in 0..<iterations {
                        var bx: Float = 0, by: Float = 0
                        for j in 0..<P {
                            let fy = Float(py + j) + v
                            for i in 0..<P {
                                let t = j * P + i
                                let d = bilinear(i1p.p, w, h, Float(px + i) + u, fy) - tpl[t]
                                warped[t] = d
                                bx += gxc[t] * d; by += gyc[t] * d
                            }
                        }
                        let du = inv * (hyy * bx - hxy * by), dv = inv * (hxx * by - hxy * bx)
                        u -= du; v -= dv
                        if du * du + dv * dv < 1e-4 { break }
                    }
                    // Keep the result only if it did not run away or get worse.
                    let moved = (u - u0) * (u - u0) + (v - v0) * (v - v0)
                    if moved > Float(P * P) || !(cost(px, py, u, v) <= best) { u = u0; v = v0 }
                    up[k] = u; vp[k] = v
                }

                Self.sweepBands(group, bands, patchesPerRow: nx, iterations: iters) {
                    solve($0, $1, forward: $2, iterations: $3, rows: $4)
                }
            }
        } } } } } }
        return sparse
    }

    /// 8×8 patch search. Same algorithm as `patchSearchNaive`; a patch is one SIMD8 vector per row.
    func patchSearch8(i0: Plane, gx: Plane, gy: Plane, i1: Plane, initial: FlowField, domain D: LevelRect) -> SparseFlow {
        typealias V8 = SIMD8<Float>
        let P = 8
        var sparse = initialSparseFlow(initial, domain: D, patch: P)
        let xs = sparse.xs, ys = sparse.ys, nx = xs.count, ny = ys.count
        // w, h: the level (I1's bounds); (ox, oy): the domain's offset.
        let w = i0.width, h = i0.height, ox = D.x0, oy = D.y0
        let iters = params.gradientIterations
        i0.data.withUnsafeBufferPointer { I0 in gx.data.withUnsafeBufferPointer { GX in
        gy.data.withUnsafeBufferPointer { GY in i1.data.withUnsafeBufferPointer { I1 in
        sparse.u.withUnsafeMutableBufferPointer { SU in sparse.v.withUnsafeMutableBufferPointer { SV in
            let i0p = SendableConstPointer(I0.baseAddress!), gxp = SendableConstPointer(GX.baseAddress!)
            let gyp = SendableConstPointer(GY.baseAddress!), i1p = SendableConstPointer(I1.baseAddress!)
            let up = SendablePointer(SU.baseAddress!), vp = SendablePointer(SV.baseAddress!)
            let bands = Self.patchBands(count: ny, firstRow: oy / params.patchStride, rows: max(1, params.patchBandRows))
            Parallel.forBands(bands.count, minBand: 1) { group in
                // Per-band scratch rows (no Array in the per-patch loop).
                let scratch = UnsafeMutablePointer<V8>.allocate(capacity: 24)
                scratch.initialize(repeating: V8(), count: 24)
                defer { scratch.deallocate() }
                let tpl = scratch, gxc = scratch + 8, gyc = scratch + 16

                /// Lane sums over the patch at (px, py) displaced by (u, v) of d, d², gx·d and gy·d,
                /// d = I1(x + (u, v)) − template: what the cost and the Gauss–Newton step need
                /// (after inlining, a caller's unused sums are dropped).
                @inline(__always) func residualSums(_ px: Int, _ py: Int, _ u: Float, _ v: Float) -> (V8, V8, V8, V8) {
                    var s = V8(), q = V8(), bx = V8(), by = V8()
                    let X = Float(px) + u, Y = Float(py) + v
                    if X >= 0 && Y >= 0 && X < Float(w - P - 1) && Y < Float(h - P - 1) {
                        let x0 = Int(X), y0 = Int(Y)
                        let ax = V8(repeating: X - Float(x0)), ay = V8(repeating: Y - Float(y0))
                        // Horizontally interpolated rows; each is the bottom of one output row
                        // and the top of the next.
                        var o = y0 * w + x0
                        var l = load8(i1p.p, o)
                        var top = l + ax * (load8(i1p.p, o + 1) - l)
                        for j in 0..<8 {
                            o += w
                            l = load8(i1p.p, o)
                            let bot = l + ax * (load8(i1p.p, o + 1) - l)
                            let d = top + ay * (bot - top) - tpl[j]
                            s += d; q += d * d; bx += gxc[j] * d; by += gyc[j] * d
                            top = bot
                        }
                    } else {
                        for j in 0..<8 {
                            var row = V8()
                            let fy = Float(py + j) + v
                            for i in 0..<8 { row[i] = bilinear(i1p.p, w, h, Float(px + i) + u, fy) }
                            let d = row - tpl[j]
                            s += d; q += d * d; bx += gxc[j] * d; by += gyc[j] * d
                        }
                    }
                    return (s, q, bx, by)
                }

                /// Mean-normalised SSD of the patch at (px, py) displaced by (u, v).
                @inline(__always) func cost(_ px: Int, _ py: Int, _ u: Float, _ v: Float) -> Float {
                    let (s, q, _, _) = residualSums(px, py, u, v)
                    let sum = s.sum()
                    return q.sum() - sum * sum / 64
                }

                func solve(_ pj: Int, _ pi: Int, forward: Bool, iterations: Int, rows: Range<Int>) {
                    let px = ox + xs[pi], py = oy + ys[pj], k = pj * nx + pi
                    var mx = V8(), my = V8()
                    for j in 0..<8 {
                        let s = (py + j) * w + px
                        tpl[j] = load8(i0p.p, s); gxc[j] = load8(gxp.p, s); gyc[j] = load8(gyp.p, s)
                        mx += gxc[j]; my += gyc[j]
                    }
                    let mxs = mx.sum() / 64, mys = my.sum() / 64
                    var hxx = V8(), hxy = V8(), hyy = V8()
                    for j in 0..<8 {
                        gxc[j] -= mxs; gyc[j] -= mys
                        hxx += gxc[j] * gxc[j]; hxy += gxc[j] * gyc[j]; hyy += gyc[j] * gyc[j]
                    }
                    let Hxx = hxx.sum() + 1e-2, Hxy = hxy.sum(), Hyy = hyy.sum() + 1e-2
                    let det = Hxx * Hyy - Hxy * Hxy
                    let inv: Float = det > 1e-6 ? 1 / det : 0
                    let start = startingFlow(pj, pi, forward: forward, rows: rows, patchesPerRow: nx, up, vp) {
                        cost(px, py, $0, $1)
                    }
                    var u = start.u, v = start.v
                    let best = start.cost
                    let u0 = u, v0 = v
                    for _ in 0..<iterations {
                        let (_, _, bx, by) = residualSums(px, py, u, v)
                        let sbx = bx.sum(), sby = by.sum()
                        let du = inv * (Hyy * sbx - Hxy * sby), dv = inv * (Hxx * sby - Hxy * sbx)
                        u -= du; v -= dv
                        if du * du + dv * dv < 1e-4 { break }
                    }
                    let moved = (u - u0) * (u - u0) + (v - v0) * (v - v0)
                    if moved > Float(P * P) || !(cost(px, py, u, v) <= best) { u = u0; v = v0 }
                    up[k] = u; vp[k] = v
                }

                Self.sweepBands(group, bands, patchesPerRow: nx, iterations: iters) {
                    solve($0, $1, forward: $2, iterations: $3, rows: $4)
                }
            }
        } } } } } }
        return sparse
    }

    /// Step 2: dense flow as the photometric-error-weighted average of covering patches.
    /// Over the domain D (the sparse flow's patch origins are relative to it); I1 is sampled on
    /// the whole level.
    func densify(i0: Plane, i1: Plane, sparse: SparseFlow, domain D: LevelRect) -> FlowField {
        let lw = i0.width, lh = i0.height, w = D.width, h = D.height, ox = D.x0, oy = D.y0, P = params.patchSize
        let nx = sparse.xs.count
        // For each x (resp. y): the range of patch indices whose extent covers it.
        func cover(_ origins: [Int], _ length: Int) -> ([Int], [Int]) {
            var lo = [Int](repeating: 0, count: length), hi = lo
            var a = 0
            for x in 0..<length {
                while a < origins.count && origins[a] + P <= x { a += 1 }
                var b = a
                while b + 1 < origins.count && origins[b + 1] <= x { b += 1 }
                lo[x] = a; hi[x] = b
            }
            return (lo, hi)
        }
        let (xlo, xhi) = cover(sparse.xs, w), (ylo, yhi) = cover(sparse.ys, h)
        var out = FlowField(width: w, height: h)
        i0.data.withUnsafeBufferPointer { I0 in i1.data.withUnsafeBufferPointer { I1 in
        sparse.u.withUnsafeBufferPointer { SU in sparse.v.withUnsafeBufferPointer { SV in
        out.u.withUnsafeMutableBufferPointer { OU in out.v.withUnsafeMutableBufferPointer { OV in
            let i0p = SendableConstPointer(I0.baseAddress!), i1p = SendableConstPointer(I1.baseAddress!)
            let su = SendableConstPointer(SU.baseAddress!), sv = SendableConstPointer(SV.baseAddress!)
            let ou = SendablePointer(OU.baseAddress!), ov = SendablePointer(OV.baseAddress!)
            Parallel.forBands(h) { rows in
                for y in rows {
                    for x in 0..<w {
                        let base = i0p[(y + oy) * lw + x + ox]
                        var nu: Float = 0, nv: Float = 0, den: Float = 0
                        for pj in ylo[y]...yhi[y] {
                            for pi in xlo[x]...xhi[x] {
                                let k = pj * nx + pi
                                let u = su[k], v = sv[k]
                                let d = abs(bilinear(i1p.p, lw, lh, Float(x + ox) + u, Float(y + oy) + v) - base)
                                let wt = 1 / max(1, d)
                                nu += wt * u; nv += wt * v; den += wt
                            }
                        }
                        ou[y * w + x] = den > 0 ? nu / den : 0
                        ov[y * w + x] = den > 0 ? nv / den : 0
                    }
                }
            }
        } } } } } }
        return out
    }
}

import Foundation
