import Basics
import Foundation
import Testing
@testable import Tracking

/// Fast kernels against their naive twins, and the flow against known motion.
@Suite struct KernelTests {
    /// A smooth random texture W×H (grey levels).
    static func texture(_ w: Int, _ h: Int, shiftX: Float = 0, shiftY: Float = 0) -> Plane {
        var p = Plane(width: w, height: h)
        for y in 0..<h { for x in 0..<w {
            let fx = Float(x) - shiftX, fy = Float(y) - shiftY
            p[x, y] = 128 + 60 * SyntheticClip.valueNoise(fx / 5, fy / 5, 3) + 40 * sinf(fx * 0.13) * cosf(fy * 0.11) - 30
        } }
        return p
    }

    @Test func disRecoversTranslation() {
        // I1 is I0 moved by (+3.5, −2.25): the flow from I0 to I1 is that vector everywhere.
        let a = Self.texture(160, 120), b = Self.texture(160, 120, shiftX: 3.5, shiftY: -2.25)
        let f = DISFlow(.medium).flow(from: a, to: b)
        var err: Float = 0, n: Float = 0
        for y in 16..<104 { for x in 16..<144 {
            let k = y * 160 + x
            err += ((f.u[k] - 3.5) * (f.u[k] - 3.5) + (f.v[k] + 2.25) * (f.v[k] + 2.25)).squareRoot(); n += 1
        } }
        // Mean endpoint error away from the borders; sub-pixel DIS on a smooth texture reaches
        // ~0.1 px, 0.25 leaves room for interpolation error of the finest-level upsampling.
        #expect(err / n < 0.25)
    }

    @Test func fastPatchSearchMatchesNaiveTwin() {
        let a = Self.texture(96, 64), b = Self.texture(96, 64, shiftX: 1.7, shiftY: 0.6)
        let dis = DISFlow(.medium)
        let (gx, gy) = a.gradients()
        let initial = FlowField(width: 96, height: 64)
        let fast = dis.patchSearch8(i0: a, gx: gx, gy: gy, i1: b, initial: initial, domain: .full(a))
        let naive = dis.patchSearchNaive(i0: a, gx: gx, gy: gy, i1: b, initial: initial, domain: .full(a))
        #expect(fast.u.count == naive.u.count)
        // Same algorithm, different summation order (SIMD lanes) and border sampling path:
        // patch displacements agree to well under a hundredth of a pixel on average.
        var d: Float = 0
        for i in 0..<fast.u.count { d += abs(fast.u[i] - naive.u[i]) + abs(fast.v[i] - naive.v[i]) }
        #expect(d / Float(fast.u.count) < 0.01)
    }

    /// The SIMD variational refinement against its scalar twin, on the whole level and on a
    /// rectangle of it (the roi path), from a noisy start so the robust weights vary.
    @Test(arguments: [false, true]) func variationalRefinementMatchesNaiveTwin(subDomain: Bool) {
        let a = Self.texture(61, 45), b = Self.texture(61, 45, shiftX: 1.3, shiftY: -0.7)
        let p0 = FlowPyramid(a, levels: 1), p1 = FlowPyramid(b, levels: 1)
        let d = subDomain ? LevelRect(x0: 9, y0: 6, width: 37, height: 29) : .full(a)
        var rng = SplitMix64(seed: 3)
        var start = FlowField(width: d.width, height: d.height)
        for k in 0..<start.u.count {
            start.u[k] = 1 + Float(rng.next() % 100) / 100; start.v[k] = -0.4 - Float(rng.next() % 100) / 200
        }
        let vr = VariationalRefinement(alpha: 20, delta: 5, gamma: 10, iterations: 5, sorIterations: 5)
        var fast = start, naive = start
        vr.refine(&fast, p0: p0, p1: p1, level: 0, domain: d)
        vr.refineNaive(&naive, p0: p0, p1: p1, level: 0, domain: d)
        var maxDiff: Float = 0, moved: Float = 0
        for k in 0..<start.u.count {
            maxDiff = max(maxDiff, abs(fast.u[k] - naive.u[k]), abs(fast.v[k] - naive.v[k]))
            moved = max(moved, abs(naive.u[k] - start.u[k]))
        }
        // Same equations, different summation order (the fast path folds the frozen flow's
        // smoothness into the right-hand side once per fixed-point iteration): 25 contractive SOR
        // sweeps keep float differences far below a thousandth of a pixel.
        print("variational fast vs naive: max diff \(maxDiff) px, largest change \(moved) px")
        #expect(maxDiff < 1e-3)
        #expect(moved > 0.05)                  // the refinement did change the flow
    }

    /// The flow on a roi agrees with the full-frame flow inside it (the roi path only restricts
    /// where the work is done; near its border patches and smoothness see less context).
    @Test func roiFlowMatchesFullFlowInside() {
        let a = Self.texture(192, 128), b = Self.texture(192, 128, shiftX: 2.5, shiftY: 1.25)
        let dis = DISFlow(.medium)
        let roi = PixelBox(x: 40, y: 30, width: 70, height: 50)
        let full = dis.flow(from: a, to: b), part = dis.flow(from: a, to: b, roi: roi)
        var err: Float = 0, n: Float = 0, outside: Float = 0
        for y in 0..<128 { for x in 0..<192 {
            let k = y * 192 + x
            if x >= roi.x && x <= roi.x2 && y >= roi.y && y <= roi.y2 {
                err += abs(full.u[k] - part.u[k]) + abs(full.v[k] - part.v[k]); n += 1
            } else {
                outside += abs(part.u[k]) + abs(part.v[k])
            }
        } }
        // Both recover the same translation to ~0.1 px; mean difference inside well under that.
        print("roi vs full flow: mean abs diff \(err / n) px")
        #expect(err / n < 0.1)
        #expect(outside == 0)
    }

    @Test func dilationMatchesNaiveTwin() {
        var rng = SplitMix64(seed: 9)
        for r in [1, 3, 7] {
            let m = Mask(width: 40, height: 30) { _, _ in rng.next() % 23 == 0 }
            #expect(Morphology.dilate(m, radius: r) == Morphology.dilateNaive(m, radius: r))
            // Erosion is the dual of dilation (with the border counting as inside).
            let inv = Mask(width: 40, height: 30, bits: m.bits.map { $0 ^ 1 })
            let e = Morphology.erode(inv, radius: r)
            #expect(e == Mask(width: 40, height: 30, bits: Morphology.dilateNaive(m, radius: r).bits.map { $0 ^ 1 }))
            #expect(e == Morphology.erodeNaive(inv, radius: r))
        }
        // Erosion of compact blobs (the tracker's case: it works on the blob's box only), one
        // touching the image border (the border does not erode).
        for (cx, cy, rad) in [(20, 15, 9), (3, 26, 8), (30, 4, 12)] {
            let blob = Mask(width: 40, height: 30) { x, y in
                (x - cx) * (x - cx) + 2 * (y - cy) * (y - cy) <= rad * rad && rng.next() % 13 != 0
            }
            for r in [1, 3, 5] { #expect(Morphology.erode(blob, radius: r) == Morphology.erodeNaive(blob, radius: r)) }
        }
    }

    /// Radius 3 (the four-row running sums' branch-free path) and 12 (window wider than the
    /// 23-pixel rows: the general path).
    @Test(arguments: [3, 12]) func guidedFilterMatchesNaiveTwin(radius: Int) {
        let w = 23, h = 17
        var rng = SplitMix64(seed: 4)
        let rgb = (0..<(3 * w * h)).map { _ in UInt8(rng.next() % 256) }
        let p = (0..<(w * h)).map { _ in Float(rng.next() % 1000) / 1000 }
        let fast = GuidedFilter.filter(p: p, rgb: rgb, width: w, height: h, roi: PixelBox(x: 0, y: 0, width: w, height: h), radius: radius, eps: 1e-2)
        let naive = GuidedFilter.filterNaive(p: p, rgb: rgb, width: w, height: h, radius: radius, eps: 1e-2)
        // Float running sums vs Double direct sums; outputs are O(1): 1e-3 absolute.
        for i in 0..<(w * h) { #expect(abs(fast[i] - naive[i]) < 1e-3) }
    }

    @Test func boundingBoxMatchesNaiveTwin() {
        var rng = SplitMix64(seed: 21)
        for (w, h) in [(1, 1), (7, 3), (37, 29), (64, 16)] {
            #expect(Mask(width: w, height: h).boundingBox == nil)
            for density in [2, 50, 400] {
                let m = Mask(width: w, height: h) { _, _ in rng.next() % UInt64(density) == 0 }
                #expect(m.boundingBox == m.boundingBoxNaive())
            }
        }
    }

    @Test(arguments: [1, 2, 3, 4]) func maxFlowMatchesNaiveTwin(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let n = 30
        let term = (0..<n).map { _ in (source: Float(rng.next() % 10), sink: Float(rng.next() % 10)) }
        var edges: [(Int, Int, Float, Float)] = []
        for i in 0..<n { for _ in 0..<3 {
            let j = Int(rng.next() % UInt64(n)); if j != i { edges.append((i, j, Float(rng.next() % 8), Float(rng.next() % 8))) }
        } }
        let g = MaxFlowGraph(nodeCount: n)
        for i in 0..<n { g.setTerminal(i, source: term[i].source, sink: term[i].sink) }
        for e in edges { g.addEdge(e.0, e.1, e.2, e.3) }
        let f = g.maxFlow()
        let (ref, _) = maxFlowNaive(nodeCount: n, terminals: term, edges: edges)
        #expect(abs(Double(f) - ref) < 1e-3)
        // The cut found has the max-flow capacity.
        var cut = 0.0
        for i in 0..<n {
            if g.inSourceSet(i) { cut += Double(term[i].sink) } else { cut += Double(term[i].source) }
        }
        for (i, j, c, rc) in edges {
            if g.inSourceSet(i) && !g.inSourceSet(j) { cut += Double(c) }
            if g.inSourceSet(j) && !g.inSourceSet(i) { cut += Double(rc) }
        }
        #expect(abs(cut - ref) < 1e-3)
        // A copy of an arcs-only template (how GrabCut reuses its n-links) solves the same
        // problem, twice from the same template, which the first solve must not have altered.
        let template = MaxFlowGraph(nodeCount: n)
        for e in edges { template.addEdge(e.0, e.1, e.2, e.3) }
        for _ in 0..<2 {
            let c = MaxFlowGraph(arcsOf: template)
            for i in 0..<n { c.setTerminal(i, source: term[i].source, sink: term[i].sink) }
            #expect(abs(Double(c.maxFlow()) - ref) < 1e-3)
            #expect((0..<n).allSatisfy { c.inSourceSet($0) == g.inSourceSet($0) })
        }
        // No arcs at all: each node goes where its larger terminal capacity pulls it.
        let bare = MaxFlowGraph(nodeCount: n)
        for i in 0..<n { bare.setTerminal(i, source: term[i].source, sink: term[i].sink) }
        bare.maxFlow()
        #expect((0..<n).allSatisfy { term[$0].source == term[$0].sink || bare.inSourceSet($0) == (term[$0].source > term[$0].sink) })
    }

    @Test func similarityRansacIgnoresOutliers() {
        let truth = Similarity(a: 1.05 * cosf(0.1), b: 1.05 * sinf(0.1), tx: 3, ty: -2)
        var rng = SplitMix64(seed: 1)
        var src: [(Float, Float)] = [], dst: [(Float, Float)] = []
        for i in 0..<200 {
            let p = (Float(rng.next() % 100), Float(rng.next() % 100))
            src.append(p)
            dst.append(i % 4 == 0 ? (Float(rng.next() % 100), Float(rng.next() % 100)) : truth.apply(p.0, p.1))
        }
        let (m, inliers) = Similarity.ransac(src, dst)!
        #expect(inliers >= 150)
        #expect(abs(m.a - truth.a) < 1e-3 && abs(m.b - truth.b) < 1e-3 && abs(m.tx - truth.tx) < 0.05 && abs(m.ty - truth.ty) < 0.05)
    }
}
