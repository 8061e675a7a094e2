// The weight-free default tracker (TRACKING.md §2.1 "Tier A", measured and changed where
// measurements said so: Sources/Tracking/README.md). Per frame pair (t−1 → t), shared by all objects:
//   * DIS flow on grey levels, backward: Fb = flow(t → t−1) (`forwardFlow` adds Ff = flow(t−1 → t)),
//     computed only on a region of interest around the objects (`Options.flowROI`);
//   * reliability: |I_t(x) − I_t−1(x + Fb(x))| < 10 (with Ff: the forward–backward check);
//   * 16³-bin colour index of every pixel.
// Per object:
//   1. pull-warp prior  Pw(x) = prev(x + Fb(x)) (bilinear, 0 outside the frame);
//   2. similarity prior Pa = prev warped by a RANSAC similarity fitted to the flow on the eroded
//      mask; P = ½ Pw + ½ Pa;
//   3. Q = P where the flow is reliable, λ·Pc + (1−λ)·P elsewhere (Pc = colour posterior of the
//      prompt frame's model), and 0 farther than `nearRadius` from P > 0.1;
//   4. guided filter of Q with the frame as guide (r 8, ε 1e-2), mask = Q_gf > ½;
//   5. confidence and "lost": see `Options`.
// Objects that are lost are looked for again each frame by colour (re-acquisition).
// Objects are independent: masks may overlap or nest (GAR regions do), and a prompt never takes
// pixels from another object; only the flow of a frame pair is shared.
import Basics
import Video

public final class FlowPropagator: MaskPropagator {
    public struct Options: Sendable {
        public var flow = DISParameters.medium
        /// Weight of the colour posterior on flow-unreliable pixels (TRACKING.md: 1.0 best).
        public var lambda: Float = 1.0
        /// Fusion posterior: TRACKING.md's +1-smoothed histograms (true) or the balanced ones.
        public var fusionPlusOne = false
        /// Rate of the running colour-model update on good frames (0 = prompt model only).
        public var colorUpdate: Float = 0
        /// Weight of the pull-warp prior against the similarity prior.
        public var pullWeight: Float = 0.5
        public var useSimilarity = true
        public var useReliability = true
        /// Compute the forward flow Ff too (FB reliability check and similarity fit on Ff, as
        /// TRACKING.md Tier A). When false, only Fb is computed: the similarity is fitted to
        /// (x + Fb(x) → x) and a pixel is reliable when |I_t(x) − I_t−1(x + Fb(x))| < `photometricTolerance`.
        public var forwardFlow = false
        public var photometricTolerance: Float = 10
        public var useColor = true
        public var useGuidedFilter = true
        public var ringRadius = 40, nearRadius = 15, erodeRadius = 3
        public var guidedRadius = 8
        public var guidedEps: Float = 1e-2
        /// A frame is "bad" when the mask is under `lostAreaRatio` × the area of the last good
        /// frame (a collapse, not a gradual shrink), or fewer than `lostReliable` of its pixels
        /// have reliable flow. After `lostFrames` bad
        /// frames in a row the object is declared lost (empty mask, `lost` = true).
        public var lostAreaRatio: Float = 0.2
        public var lostReliable: Float = 0.1
        public var lostFrames = 3
        /// Re-acquisition of a lost object: colour-posterior components of plausible size whose
        /// colour histogram matches the prompt's (Bhattacharyya coefficient ≥ `reacquireMatch`).
        public var reacquire = true
        public var reacquirePosterior: Float = 0.7
        public var reacquireMatch: Float = 0.7
        /// Compute the flow only on a region of interest around the tracked objects: their
        /// previous boxes grown by the expected motion (twice the object motion of the previous
        /// frame pair, at least `minMotionMargin`) plus `nearRadius` + 2. Object motion = the
        /// 99th percentile of |Fb| over the previous boxes (the largest vector is often a wild
        /// one). When the measured motion outgrows the margin, the flow is recomputed on a
        /// larger region.
        public var flowROI = true
        public var minMotionMargin: Float = 24
        public init() {}
    }

    struct FrameData {
        let rgb: RGBImage
        let pyramid: FlowPyramid
        let colors: [UInt16]
    }

    struct ObjectState {
        var prev: Mask
        var model: ColorModel          // the prompt's (re-acquisition)
        var tracked: ColorModel        // fusion model (updated when `colorUpdate` > 0)
        var promptArea: Int
        var lastGoodArea: Int
        var badRun = 0
        var lost = false
    }

    public let options: Options
    let dis: DISFlow
    var previous: FrameData?
    var objects: [Int: ObjectState] = [:]
    /// Object motion of the previous frame pair (ROI margin prediction; see `flowROI`).
    var lastMotion: Float = 0

    public init(options: Options = Options()) {
        self.options = options
        dis = DISFlow(options.flow)
    }

    public func reset() { previous = nil; objects = [:]; lastMotion = 0 }

    public func step(frame: RGBImage, prompts: [Int: Mask]) -> [Int: PropagationResult] {
        let w = frame.width, h = frame.height
        let gray = Plane(grayFromRGB: frame.pixels, width: w, height: h)
        let levels = FlowPyramid.levelCount(width: w, height: h, patchSize: options.flow.patchSize)
        let cur = FrameData(rgb: frame, pyramid: FlowPyramid(gray, levels: levels, gradientsFrom: options.flow.finestScale),
                            colors: ColorModel.indices(frame.pixels, count: w * h))
        if let p = previous, p.rgb.width != w || p.rgb.height != h { reset() }

        var results: [Int: PropagationResult] = [:]
        let tracked = objects.keys.filter { prompts[$0] == nil }.sorted()
        let needFlow = tracked.contains { !objects[$0]!.lost }
        var motion: PairMotion? = nil
        if needFlow, let prev = previous {
            let boxes = tracked.compactMap { objects[$0]!.lost ? nil : objects[$0]!.prev.boundingBox }
            func motionOn(_ margin: Float) -> PairMotion {
                // (No box: the objects' masks are empty and nothing reads the flow; a 1-pixel roi.)
                let roi = options.flowROI ? Self.region(boxes, grownBy: Int(margin.rounded(.up)), width: w, height: h)
                    ?? PixelBox(x: 0, y: 0, width: 1, height: 1) : nil
                return PairMotion(prev: prev, cur: cur, dis: dis, forward: options.forwardFlow,
                                  tolerance: options.photometricTolerance, roi: roi)
            }
            // Margin: the expected object motion plus the fusion neighbourhood (`propagate`
            // reads the flow up to the motion + 2 + nearRadius around the previous box; pixels
            // outside the roi have no flow, so they cannot be pulled into the mask either).
            let extra = Float(options.nearRadius + 2)
            let margin = max(options.minMotionMargin, 2 * lastMotion) + extra
            var m = motionOn(margin)
            let core = Self.region(boxes, grownBy: 0, width: w, height: h)
            var objectMotion = core.map { m.motionQuantile(0.99, in: $0) } ?? 0
            if options.flowROI && objectMotion + extra > margin {
                m = motionOn(2 * objectMotion + extra)
                objectMotion = core.map { m.motionQuantile(0.99, in: $0) } ?? 0
            }
            lastMotion = objectMotion
            motion = m
        }

        for id in tracked {
            var st = objects[id]!
            if st.lost {
                if options.reacquire, let found = reacquire(st, cur) {
                    st.prev = found; st.lost = false; st.badRun = 0
                    results[id] = PropagationResult(mask: found, confidence: 0.5, lost: false)
                } else {
                    results[id] = PropagationResult(mask: Mask(width: w, height: h), confidence: 0, lost: true)
                }
                objects[id] = st
                continue
            }
            guard let motion else { continue }
            let (mask, confidence, reliableFraction) = propagate(st, motion, cur)
            let bad = Float(mask.area) < options.lostAreaRatio * Float(st.lastGoodArea) || reliableFraction < options.lostReliable
            st.badRun = bad ? st.badRun + 1 : 0
            if st.badRun >= options.lostFrames {
                st.lost = true
                st.prev = Mask(width: w, height: h)
                results[id] = PropagationResult(mask: st.prev, confidence: 0, lost: true)
            } else {
                st.prev = mask
                if !bad {
                    st.lastGoodArea = mask.area
                    if options.colorUpdate > 0 {
                        let now = ColorModel(indices: cur.colors, mask: mask, ringRadius: options.ringRadius)
                        st.tracked = st.tracked.blended(with: now, rate: options.colorUpdate)
                    }
                }
                results[id] = PropagationResult(mask: mask, confidence: confidence, lost: false)
            }
            objects[id] = st
        }
        for (id, m) in prompts {
            let model = ColorModel(indices: cur.colors, mask: m, ringRadius: options.ringRadius)
            objects[id] = ObjectState(prev: m, model: model, tracked: model, promptArea: max(1, m.area), lastGoodArea: max(1, m.area))
            results[id] = PropagationResult(mask: m, confidence: 1, lost: false)
        }
        previous = cur
        return results
    }

    /// Motion between the previous and the current frame, shared by all objects.
    struct PairMotion {
        let fb: FlowField          // current → previous
        let ff: FlowField?         // previous → current (nil in single-flow mode)
        let reliable: [UInt8]      // per current pixel
        let maxBackward: Float     // largest |Fb| in the roi
        /// Where the flow was computed (the whole frame without a roi); outside it the flow is
        /// 0 and no pixel is reliable.
        let roi: PixelBox

        init(prev: FrameData, cur: FrameData, dis: DISFlow, forward: Bool, tolerance: Float, roi: PixelBox?) {
            let w = cur.rgb.width, h = cur.rgb.height
            let box = roi ?? PixelBox(x: 0, y: 0, width: w, height: h)
            self.roi = box
            fb = dis.flow(from: cur.pyramid, to: prev.pyramid, roi: box)
            ff = forward ? dis.flow(from: prev.pyramid, to: cur.pyramid, roi: box) : nil
            var rel = [UInt8](repeating: 0, count: w * h)
            let rows = box.y..<(box.y + box.height), cols = box.x..<(box.x + box.width)
            let fbu = fb.u, fbv = fb.v
            if let ff {
                // Forward–backward consistency (Sundaram et al. 2010).
                ff.u.withUnsafeBufferPointer { FU in ff.v.withUnsafeBufferPointer { FV in
                rel.withUnsafeMutableBufferPointer { R in
                    let fu = SendableConstPointer(FU.baseAddress!), fv = SendableConstPointer(FV.baseAddress!)
                    let r = SendablePointer(R.baseAddress!)
                    Parallel.forBands(rows.count) { band in
                        for y in band.lowerBound + rows.lowerBound..<band.upperBound + rows.lowerBound {
                            for x in cols {
                                let k = y * w + x
                                let bu = fbu[k], bv = fbv[k]
                                let px = Float(x) + bu, py = Float(y) + bv
                                let wu = bilinear(fu.p, w, h, px, py), wv = bilinear(fv.p, w, h, px, py)
                                let su = bu + wu, sv = bv + wv
                                let lhs = su * su + sv * sv
                                let rhs = 0.01 * (bu * bu + bv * bv + wu * wu + wv * wv) + 0.5
                                r[k] = lhs < rhs ? 1 : 0
                            }
                        }
                    }
                } } }
            } else {
                // Photometric consistency of the backward flow.
                let g0 = prev.pyramid.levels[0].data, g1 = cur.pyramid.levels[0].data
                g0.withUnsafeBufferPointer { G0 in rel.withUnsafeMutableBufferPointer { R in
                    let p0 = SendableConstPointer(G0.baseAddress!), r = SendablePointer(R.baseAddress!)
                    Parallel.forBands(rows.count) { band in
                        for y in band.lowerBound + rows.lowerBound..<band.upperBound + rows.lowerBound {
                            for x in cols {
                                let k = y * w + x
                                let px = Float(x) + fbu[k], py = Float(y) + fbv[k]
                                guard px >= 0 && py >= 0 && px <= Float(w - 1) && py <= Float(h - 1) else { r[k] = 0; continue }
                                // Bilinear I_t−1(x + Fb(x)) (inside, so no clamping).
                                let x0 = min(Int(px), w - 2), y0 = min(Int(py), h - 2)
                                let ax = px - Float(x0), ay = py - Float(y0), o = y0 * w + x0
                                let top = p0[o] + (p0[o + 1] - p0[o]) * ax, bot = p0[o + w] + (p0[o + w + 1] - p0[o + w]) * ax
                                r[k] = abs(top + (bot - top) * ay - g1[k]) < tolerance ? 1 : 0
                            }
                        }
                    }
                } }
            }
            reliable = rel
            var mx: Float = 0
            for y in rows { for x in cols { let k = y * w + x; mx = max(mx, fbu[k] * fbu[k] + fbv[k] * fbv[k]) } }
            maxBackward = mx.squareRoot()
        }

        /// The q-quantile of |Fb| over the pixels of `box` (histogram of ½-pixel bins up to 1024 px).
        func motionQuantile(_ q: Float, in box: PixelBox) -> Float {
            let bins = 2048, w = fb.width
            var hist = [Int](repeating: 0, count: bins)
            for y in box.y...box.y2 { for x in box.x...box.x2 {
                let k = y * w + x
                let m = (fb.u[k] * fb.u[k] + fb.v[k] * fb.v[k]).squareRoot()
                hist[min(bins - 1, Int(2 * m))] += 1
            } }
            let target = min(box.area - 1, max(0, Int(q * Float(box.area))))
            var seen = 0
            for b in 0..<bins { seen += hist[b]; if seen > target { return Float(b + 1) / 2 } }
            return Float(bins) / 2
        }
    }

    /// The union of `boxes` each grown by `g` pixels, clamped to the frame (nil: no box).
    static func region(_ boxes: [PixelBox], grownBy g: Int, width w: Int, height h: Int) -> PixelBox? {
        guard !boxes.isEmpty else { return nil }
        let x0 = max(0, boxes.map(\.x).min()! - g), y0 = max(0, boxes.map(\.y).min()! - g)
        let x1 = min(w - 1, boxes.map(\.x2).max()! + g), y1 = min(h - 1, boxes.map(\.y2).max()! + g)
        return PixelBox(x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1)
    }

    /// Steps 1–4 for one object: (mask, confidence, fraction of reliable mask pixels).
    /// Every loop runs over a region of interest: the previous box and its similarity image,
    /// grown by the largest backward flow vector and the near/guided-filter radii.
    func propagate(_ st: ObjectState, _ m: PairMotion, _ cur: FrameData) -> (Mask, Float, Float) {
        let w = m.fb.width, h = m.fb.height, n = w * h
        let o = options
        var mask = Mask(width: w, height: h)
        var P = [Float](repeating: 0, count: n)
        guard let pb = st.prev.boundingBox else { return (mask, 0, 0) }
        let sim = o.useSimilarity ? fitSimilarity(st.prev, m) : nil
        let inv = sim?.inverse
        // Region where P can be nonzero.
        var bx0 = Float(pb.x), by0 = Float(pb.y), bx1 = Float(pb.x2), by1 = Float(pb.y2)
        if let sim {
            for (cx, cy) in [(bx0, by0), (bx1, by0), (bx0, by1), (bx1, by1)] {
                let (tx, ty) = sim.apply(cx, cy)
                bx0 = min(bx0, tx); by0 = min(by0, ty); bx1 = max(bx1, tx); by1 = max(by1, ty)
            }
        }
        let grow = m.maxBackward + 2
        let rx0 = max(m.roi.x, Int(bx0 - grow)), ry0 = max(m.roi.y, Int(by0 - grow))
        let rx1 = min(m.roi.x2, Int(bx1 + grow)), ry1 = min(m.roi.y2, Int(by1 + grow))
        guard rx0 <= rx1 && ry0 <= ry1 else { return (mask, 0, 0) }
        // 1–2. Pull-warp prior mixed with the similarity prior.
        let pw = inv == nil ? 1 : o.pullWeight
        st.prev.bits.withUnsafeBufferPointer { prevBits in
            for y in ry0...ry1 {
                for x in rx0...rx1 {
                    let k = y * w + x
                    let px = Float(x) + m.fb.u[k], py = Float(y) + m.fb.v[k]
                    var pull: Float = 0
                    if px >= 0 && py >= 0 && px <= Float(w - 1) && py <= Float(h - 1) {
                        let x0 = min(Int(px), w - 2), y0 = min(Int(py), h - 2)
                        let ax = px - Float(x0), ay = py - Float(y0)
                        let q = y0 * w + x0
                        let a = Float(prevBits[q]), b = Float(prevBits[q + 1])
                        let c = Float(prevBits[q + w]), d = Float(prevBits[q + w + 1])
                        pull = (a + (b - a) * ax) * (1 - ay) + (c + (d - c) * ax) * ay
                    }
                    var pa: Float = 0
                    if let inv {
                        let (sx, sy) = inv.apply(Float(x), Float(y))
                        let ix = Int((sx + 0.5).rounded(.down)), iy = Int((sy + 0.5).rounded(.down))
                        if ix >= 0 && ix < w && iy >= 0 && iy < h { pa = Float(prevBits[iy * w + ix]) }
                    }
                    P[k] = pw * pull + (1 - pw) * pa
                }
            }
        }
        // 3. Fusion with colour where the flow is unreliable, limited to the neighbourhood of P.
        var seed = Mask(width: w, height: h)
        for y in ry0...ry1 { for x in rx0...rx1 where P[y * w + x] > 0.1 { seed.bits[y * w + x] = 1 } }
        let near = Morphology.dilate(seed, radius: o.nearRadius)
        guard let box = near.boundingBox else { return (mask, 0, 0) }
        var Q = [Float](repeating: 0, count: n)
        let post = o.fusionPlusOne ? st.tracked.posteriorPlusOne : st.tracked.posterior
        for y in box.y...box.y2 {
            for x in box.x...box.x2 {
                let i = y * w + x
                guard near.bits[i] != 0 else { continue }
                let reliable = !o.useReliability || m.reliable[i] != 0
                Q[i] = reliable || !o.useColor ? P[i] : o.lambda * post[Int(cur.colors[i])] + (1 - o.lambda) * P[i]
            }
        }
        // 4. Edge-aware refinement on the neighbourhood's box.
        if o.useGuidedFilter {
            let r = o.guidedRadius
            let roi = PixelBox(x: box.x - r, y: box.y - r, width: box.width + 2 * r, height: box.height + 2 * r)
            Q = GuidedFilter.filter(p: Q, rgb: cur.rgb.pixels, width: w, height: h, roi: roi, radius: r, eps: o.guidedEps)
        }
        var area = 0, reliableIn = 0, priorBin = 0, inter = 0
        let ux0 = min(box.x, rx0), uy0 = min(box.y, ry0), ux1 = max(box.x2, rx1), uy1 = max(box.y2, ry1)
        for y in uy0...uy1 {
            for x in ux0...ux1 {
                let i = y * w + x
                let inM = Q[i] > 0.5 && near.bits[i] != 0
                let inP = P[i] > 0.5
                if inM { mask.bits[i] = 1; area += 1; reliableIn += Int(m.reliable[i]); if inP { inter += 1 } }
                if inP { priorBin += 1 }
            }
        }
        let union = area + priorBin - inter
        let iouPrior: Float = union > 0 ? Float(inter) / Float(union) : 0
        let relFrac: Float = area > 0 ? Float(reliableIn) / Float(area) : 0
        return (mask, 0.5 * (iouPrior + relFrac), relFrac)
    }

    /// RANSAC similarity from ≤ 2000 pixels of the eroded previous mask to where Ff moves them
    /// (single-flow mode: from x + Fb(x) to x for current pixels x that Fb sends into it).
    func fitSimilarity(_ prev: Mask, _ m: PairMotion) -> Similarity? {
        var core = Morphology.erode(prev, radius: options.erodeRadius)
        if core.area < 30 { core = prev }
        let w = prev.width, h = prev.height
        var src: [(Float, Float)] = [], dst: [(Float, Float)] = []
        if let ff = m.ff {
            for i in 0..<core.bits.count where core.bits[i] != 0 {
                let x = Float(i % w), y = Float(i / w)
                src.append((x, y)); dst.append((x + ff.u[i], y + ff.v[i]))
            }
        } else {
            guard let b = core.boundingBox else { return nil }
            let g = Int(m.maxBackward) + 1
            for y in max(0, b.y - g)...min(h - 1, b.y2 + g) {
                for x in max(0, b.x - g)...min(w - 1, b.x2 + g) {
                    let k = y * w + x
                    let px = Int((Float(x) + m.fb.u[k]).rounded()), py = Int((Float(y) + m.fb.v[k]).rounded())
                    guard px >= 0 && py >= 0 && px < w && py < h, core.bits[py * w + px] != 0 else { continue }
                    src.append((Float(x) + m.fb.u[k], Float(y) + m.fb.v[k])); dst.append((Float(x), Float(y)))
                }
            }
        }
        guard src.count >= 3 else { return nil }
        if src.count > 2000 {
            var rng = SplitMix64(seed: 12345)
            for i in 0..<2000 {
                let j = i + Int(rng.next() % UInt64(src.count - i))
                src.swapAt(i, j); dst.swapAt(i, j)
            }
            src.removeLast(src.count - 2000); dst.removeLast(dst.count - 2000)
        }
        return Similarity.ransac(src, dst, threshold: 2, iterations: 100)?.0
    }

    /// Looks for a lost object: connected components of {Pc > threshold} with an area within
    /// [0.3, 3] × the last good area, best colour-histogram match with the prompt.
    func reacquire(_ st: ObjectState, _ cur: FrameData) -> Mask? {
        let w = cur.rgb.width, h = cur.rgb.height
        // Candidate pixels: the colour posterior averaged over a 9×9 window (so textured
        // objects form one blob), above the threshold.
        let post = st.model.posterior
        var pc = [Float](repeating: 0, count: w * h), smooth = pc, tmp = pc
        for i in 0..<(w * h) { pc[i] = post[Int(cur.colors[i])] }
        pc.withUnsafeBufferPointer { s in smooth.withUnsafeMutableBufferPointer { d in tmp.withUnsafeMutableBufferPointer { t in
            GuidedFilter.boxMean(s.baseAddress!, d.baseAddress!, w, h, 4, t.baseAddress!)
        } } }
        var cand = Mask(width: w, height: h)
        for i in 0..<(w * h) where smooth[i] > options.reacquirePosterior { cand.bits[i] = 1 }
        let (labels, sizes) = Morphology.components(cand)
        let lo = Int(0.3 * Float(st.lastGoodArea)), hi = Int(3 * Float(st.lastGoodArea))
        var bestId = 0, bestScore: Float = options.reacquireMatch
        for c in 1..<sizes.count where sizes[c] >= max(lo, 20) && sizes[c] <= hi {
            var hist = [Float](repeating: 0, count: 4096)
            for i in 0..<(w * h) where labels[i] == Int32(c) { hist[Int(cur.colors[i])] += 1 }
            let s = Float(sizes[c])
            for k in 0..<4096 { hist[k] /= s }
            let bc = st.model.bhattacharyya(hist)
            if bc > bestScore { bestScore = bc; bestId = c }
        }
        guard bestId > 0 else { return nil }
        var m = Mask(width: w, height: h)
        for i in 0..<(w * h) where labels[i] == Int32(bestId) { m.bits[i] = 1 }
        return m
    }
}
