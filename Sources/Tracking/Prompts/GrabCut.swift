// GrabCut-style foreground extraction (Rother, Kolmogorov, Blake 2004): colour GMMs for object
// and background, a graph cut with contrast-sensitive 8-neighbour smoothness, iterated.
// Runs on a crop (the prompt's box + margin) for speed; pixels outside the crop are background.
//
// `segment` (fast) and its naive twin `segmentNaive` solve the same energy. The fast one
//   * puts only the undecided (probable) pixels in the graph: a hard-labelled neighbour's n-link
//     becomes a constant terminal capacity (exact: λ = 450 exceeds any pixel's total n-link
//     weight, 4·50 + 4·50/√2 ≈ 341, so hard pixels never change side);
//   * computes the n-links and builds the arcs once, copying them for each iteration's cut;
//   * fits the colour GMMs on every second pixel of every second row of grids of 40 000 pixels
//     or more (k-means and re-assignment included), evaluates the t-links in Float on both cores;
//   * stops when fewer than 0.1 % of the undecided pixels change label (the twin: none);
//   * solves large crops coarse to fine (see `segment`).
//
// Labels per pixel (`GrabCut.Label`): hard background / hard foreground (never change), and
// probable background / probable foreground (re-decided by each cut).
// Energy constants as OpenCV: γ = 50, λ = 9γ for hard labels, β = 1 / (2·mean |z_i − z_j|²).

public enum GrabCut {
    public enum Label: UInt8 { case background = 0, foreground = 1, probablyBackground = 2, probablyForeground = 3 }

    /// Gaussian mixture over RGB (K components, full covariance).
    struct GMM {
        static let K = 5
        var weight = [Double](repeating: 0, count: K)
        var mean = [[Double]](repeating: [0, 0, 0], count: K)
        var inv = [[Double]](repeating: [1, 0, 0, 0, 1, 0, 0, 0, 1], count: K)   // inverse covariance
        var logNorm = [Double](repeating: 0, count: K)                           // log(w / sqrt((2π)³|Σ|))

        /// Fits each component to the pixels assigned to it (`comp`), from colour samples `z`.
        mutating func learn(_ z: [(Double, Double, Double)], _ comp: [Int]) {
            var n = [Double](repeating: 0, count: Self.K)
            var s = [[Double]](repeating: [0, 0, 0], count: Self.K)
            var ss = [[Double]](repeating: [Double](repeating: 0, count: 9), count: Self.K)
            for (i, c) in comp.enumerated() {
                let (r, g, b) = z[i]
                n[c] += 1
                s[c][0] += r; s[c][1] += g; s[c][2] += b
                ss[c][0] += r * r; ss[c][1] += r * g; ss[c][2] += r * b
                ss[c][4] += g * g; ss[c][5] += g * b; ss[c][8] += b * b
            }
            for c in 0..<Self.K { ss[c][3] = ss[c][1]; ss[c][6] = ss[c][2]; ss[c][7] = ss[c][5] }
            let total = Double(comp.count)
            for c in 0..<Self.K {
                guard n[c] > 0 else { weight[c] = 0; logNorm[c] = -.infinity; continue }
                weight[c] = n[c] / total
                let m = s[c].map { $0 / n[c] }
                mean[c] = m
                var cov = [Double](repeating: 0, count: 9)
                for a in 0..<3 { for b in 0..<3 { cov[3 * a + b] = ss[c][3 * a + b] / n[c] - m[a] * m[b] } }
                for a in 0..<3 { cov[4 * a] += 0.01 }     // regularise (OpenCV adds 0.01 when singular)
                let det = cov[0] * (cov[4] * cov[8] - cov[5] * cov[7]) - cov[1] * (cov[3] * cov[8] - cov[5] * cov[6])
                    + cov[2] * (cov[3] * cov[7] - cov[4] * cov[6])
                let d = max(det, 1e-12)
                inv[c] = [
                    (cov[4] * cov[8] - cov[5] * cov[7]) / d, (cov[2] * cov[7] - cov[1] * cov[8]) / d, (cov[1] * cov[5] - cov[2] * cov[4]) / d,
                    (cov[5] * cov[6] - cov[3] * cov[8]) / d, (cov[0] * cov[8] - cov[2] * cov[6]) / d, (cov[2] * cov[3] - cov[0] * cov[5]) / d,
                    (cov[3] * cov[7] - cov[4] * cov[6]) / d, (cov[1] * cov[6] - cov[0] * cov[7]) / d, (cov[0] * cov[4] - cov[1] * cov[3]) / d,
                ]
                logNorm[c] = log(weight[c]) - 0.5 * log(d) - 1.5 * log(2 * Double.pi)
            }
        }

        /// log p(z | component c) + log w_c.
        func componentLog(_ c: Int, _ z: (Double, Double, Double)) -> Double {
            if logNorm[c] == -.infinity { return -.infinity }
            let d0 = z.0 - mean[c][0], d1 = z.1 - mean[c][1], d2 = z.2 - mean[c][2]
            let q = inv[c]
            let m = d0 * (q[0] * d0 + q[1] * d1 + q[2] * d2) + d1 * (q[3] * d0 + q[4] * d1 + q[5] * d2)
                + d2 * (q[6] * d0 + q[7] * d1 + q[8] * d2)
            return logNorm[c] - 0.5 * m
        }

        /// −log p(z) (the t-link cost).
        func negLog(_ z: (Double, Double, Double)) -> Double {
            // log-sum-exp over the K components (no per-pixel allocation).
            var best = -Double.infinity
            for c in 0..<Self.K { best = max(best, componentLog(c, z)) }
            guard best > -.infinity else { return 1e3 }
            var s = 0.0
            for c in 0..<Self.K { let t = componentLog(c, z); if t > -.infinity { s += exp(t - best) } }
            return -(best + log(s))
        }

        func mostLikely(_ z: (Double, Double, Double)) -> Int {
            var bc = 0, bv = -Double.infinity
            for c in 0..<Self.K { let v = componentLog(c, z); if v > bv { bv = v; bc = c } }
            return bc
        }

        /// Initial assignment by a few rounds of k-means from deterministic seeds.
        static func initialComponents(_ z: [(Double, Double, Double)]) -> [Int] {
            let n = z.count
            var comp = [Int](repeating: 0, count: n)
            guard n > 0 else { return comp }
            var centres: [(Double, Double, Double)] = (0..<K).map { z[($0 * 7919 + n / (2 * K)) % n] }
            for _ in 0..<8 {
                var sum = [(Double, Double, Double)](repeating: (0, 0, 0), count: K), cnt = [Double](repeating: 0, count: K)
                for i in 0..<n {
                    var bc = 0, bd = Double.infinity
                    for c in 0..<K {
                        let d0 = z[i].0 - centres[c].0, d1 = z[i].1 - centres[c].1, d2 = z[i].2 - centres[c].2
                        let d = d0 * d0 + d1 * d1 + d2 * d2
                        if d < bd { bd = d; bc = c }
                    }
                    comp[i] = bc
                    sum[bc].0 += z[i].0; sum[bc].1 += z[i].1; sum[bc].2 += z[i].2; cnt[bc] += 1
                }
                for c in 0..<K where cnt[c] > 0 { centres[c] = (sum[c].0 / cnt[c], sum[c].1 / cnt[c], sum[c].2 / cnt[c]) }
            }
            return comp
        }
    }

    /// A GMM's parameters in Float for per-pixel evaluation (same formulas as `GMM`).
    struct FastGMM {
        var mean: [SIMD3<Float>] = [], logNorm: [Float] = []
        /// Upper triangle of each inverse covariance: (i00, i01, i02, i11, i12, i22).
        var inv: [(Float, Float, Float, Float, Float, Float)] = []

        init(_ g: GMM) {
            for c in 0..<GMM.K {
                mean.append(SIMD3(Float(g.mean[c][0]), Float(g.mean[c][1]), Float(g.mean[c][2])))
                let q = g.inv[c]
                inv.append((Float(q[0]), Float(q[1] + q[3]) / 2, Float(q[2] + q[6]) / 2, Float(q[4]), Float(q[5] + q[7]) / 2, Float(q[8])))
                logNorm.append(g.logNorm[c] == -.infinity ? -.infinity : Float(g.logNorm[c]))
            }
        }

        @inline(__always) func componentLog(_ c: Int, _ z: SIMD3<Float>) -> Float {
            let d = z - mean[c], q = inv[c]
            let m = q.0 * d.x * d.x + q.3 * d.y * d.y + q.5 * d.z * d.z + 2 * (q.1 * d.x * d.y + q.2 * d.x * d.z + q.4 * d.y * d.z)
            return logNorm[c] - 0.5 * m
        }

        /// −log p(z) by log-sum-exp over the components (1e3 when no component is alive).
        @inline(__always) func negLog(_ z: SIMD3<Float>) -> Float {
            let l0 = componentLog(0, z), l1 = componentLog(1, z), l2 = componentLog(2, z)
            let l3 = componentLog(3, z), l4 = componentLog(4, z)
            let best = max(l0, l1, l2, l3, l4)
            guard best > -.infinity else { return 1e3 }
            let s = expf(l0 - best) + expf(l1 - best) + expf(l2 - best) + expf(l3 - best) + expf(l4 - best)
            return -(best + logf(s))
        }
    }

    /// Runs GrabCut on a crop of `image` (interleaved RGB, W×H). `labels` (row-major, W×H,
    /// `Label` raw values) covers the whole image; only the crop is solved, the rest is left
    /// as given. Returns the refined labels.
    ///
    /// Crops of more than `coarseAbove` pixels are solved coarse to fine (a banded graph cut,
    /// Lombaert et al. 2005): the iterations run on the crop at half resolution (2×2 means), then
    /// `fineIterations` more at full resolution with only the pixels within `band` pixels of the
    /// coarse boundary undecided (the others keep the coarse label as hard labels for that cut).
    public static func segment(rgb: [UInt8], width W: Int, height H: Int, labels: [UInt8], crop: PixelBox,
                               iterations: Int = 5, coarseAbove: Int = 40_000, band: Int = 3,
                               fineIterations: Int = 2) -> [UInt8] {
        var out = labels
        let inside = crop.clipped(width: W, height: H)
        let x0 = inside.x, y0 = inside.y, w = inside.width, h = inside.height
        guard w > 1 && h > 1 else { return out }
        let n = w * h
        var z = [SIMD3<Float>](repeating: .zero, count: n)
        var lab = [UInt8](repeating: 0, count: n)
        for y in 0..<h { for x in 0..<w {
            let s = (y + y0) * W + x + x0
            z[y * w + x] = SIMD3(Float(rgb[3 * s]), Float(rgb[3 * s + 1]), Float(rgb[3 * s + 2]))
            lab[y * w + x] = labels[s]
        } }
        if n > coarseAbove && w >= 4 && h >= 4 {
            // Half resolution: colour = 2×2 mean; a coarse pixel is hard foreground if any of its
            // pixels is, hard background if all are, else probable (foreground if any is).
            let w2 = (w + 1) / 2, h2 = (h + 1) / 2
            var z2 = [SIMD3<Float>](repeating: .zero, count: w2 * h2)
            var lab2 = [UInt8](repeating: 0, count: w2 * h2)
            for y in 0..<h2 { for x in 0..<w2 {
                var sum = SIMD3<Float>.zero, cnt: Float = 0
                var anyHardFg = false, allHardBg = true, anyFg = false
                for yy in (2 * y)..<min(h, 2 * y + 2) { for xx in (2 * x)..<min(w, 2 * x + 2) {
                    let i = yy * w + xx
                    sum += z[i]; cnt += 1
                    anyHardFg = anyHardFg || lab[i] == Label.foreground.rawValue
                    allHardBg = allHardBg && lab[i] == Label.background.rawValue
                    anyFg = anyFg || lab[i] == Label.probablyForeground.rawValue
                } }
                z2[y * w2 + x] = sum / cnt
                lab2[y * w2 + x] = anyHardFg ? Label.foreground.rawValue : allHardBg ? Label.background.rawValue
                    : anyFg ? Label.probablyForeground.rawValue : Label.probablyBackground.rawValue
            } }
            // Same energy as at full resolution: a coarse pixel stands for 4 pixels (data term
            // × 4), a coarse boundary edge for about 2 (smoothness × 2), contrast β of the full grid.
            let beta = contrastBeta(z, w, h)
            solve(z2, &lab2, w2, h2, iterations: iterations, dataWeight: 2, beta: beta)
            // Back to full resolution: undecided pixels take the coarse label; those farther than
            // `band` from a coarse label change are held (hard) for the fine cut.
            var coarseFg = Mask(width: w, height: h), edge = Mask(width: w, height: h)
            for y in 0..<h { for x in 0..<w {
                let l = lab2[(y / 2) * w2 + x / 2]
                if l == Label.foreground.rawValue || l == Label.probablyForeground.rawValue { coarseFg.bits[y * w + x] = 1 }
            } }
            for y in 0..<h { for x in 0..<w {
                let i = y * w + x, c = coarseFg.bits[i]
                if (x + 1 < w && coarseFg.bits[i + 1] != c) || (y + 1 < h && coarseFg.bits[i + w] != c) {
                    edge.bits[i] = 1
                    if x + 1 < w { edge.bits[i + 1] = 1 }
                    if y + 1 < h { edge.bits[i + w] = 1 }
                }
            } }
            let undecided = Morphology.dilate(edge, radius: band)
            var held = [Bool](repeating: false, count: n)
            for i in 0..<n where lab[i] >= 2 {
                let fg = coarseFg.bits[i] != 0
                if undecided.bits[i] != 0 {
                    lab[i] = fg ? Label.probablyForeground.rawValue : Label.probablyBackground.rawValue
                } else {
                    lab[i] = fg ? Label.foreground.rawValue : Label.background.rawValue
                    held[i] = true
                }
            }
            solve(z, &lab, w, h, iterations: fineIterations, beta: beta)
            for i in 0..<n where held[i] {
                lab[i] = lab[i] == Label.foreground.rawValue ? Label.probablyForeground.rawValue : Label.probablyBackground.rawValue
            }
        } else {
            solve(z, &lab, w, h, iterations: iterations)
        }
        for y in 0..<h { for x in 0..<w { out[(y + y0) * W + x + x0] = lab[y * w + x] } }
        return out
    }

    /// Fewest colour samples the GMMs are fitted on (see `solve`).
    static let minGMMSamples = 10_000

    /// β = 1 / (2 · mean ‖z_i − z_j‖²) over the 8-neighbour edges of a w×h grid.
    static func contrastBeta(_ z: [SIMD3<Float>], _ w: Int, _ h: Int) -> Float {
        var sumD = 0.0, cntD = 0.0
        for y in 0..<h { for x in 0..<w { for (dx, dy) in [(1, 0), (0, 1), (1, 1), (-1, 1)] {
            let xx = x + dx, yy = y + dy
            guard xx >= 0 && xx < w && yy < h else { continue }
            let d = z[y * w + x] - z[yy * w + xx]
            sumD += Double((d * d).sum()); cntD += 1
        } } }
        return Float(sumD > 0 ? 1 / (2 * sumD / cntD) : 0)
    }

    /// The GrabCut iterations on a w×h grid of colours `z`, labels updated in place (hard labels
    /// never change). `dataWeight` multiplies the t-links; `beta` defaults to the grid's own.
    /// See the file header for what makes it fast.
    static func solve(_ z: [SIMD3<Float>], _ lab: inout [UInt8], _ w: Int, _ h: Int, iterations: Int,
                      dataWeight: Float = 1, beta givenBeta: Float? = nil) {
        let n = w * h
        // Undecided pixels are the graph's nodes.
        var node = [Int32](repeating: -1, count: n), pixel: [Int] = []
        for i in 0..<n where lab[i] >= 2 { node[i] = Int32(pixel.count); pixel.append(i) }
        let m = pixel.count
        guard m > 0 else { return }
        // Smoothness: 8-neighbour contrast weights.
        let offsets = [(1, 0), (0, 1), (1, 1), (-1, 1)]
        let beta = givenBeta ?? contrastBeta(z, w, h)
        let gamma: Float = 50
        let template = MaxFlowGraph(nodeCount: m, edgeHint: 4 * m)
        var constSource = [Float](repeating: 0, count: m), constSink = constSource
        for y in 0..<h { for x in 0..<w { for (dx, dy) in offsets {
            let xx = x + dx, yy = y + dy
            guard xx >= 0 && xx < w && yy < h else { continue }
            let i = y * w + x, j = yy * w + xx
            let ni = node[i], nj = node[j]
            if ni < 0 && nj < 0 { continue }
            let d = z[i] - z[j]
            let wgt = gamma / (dx != 0 && dy != 0 ? Float(2).squareRoot() : 1) * expf(-beta * (d * d).sum())
            if ni >= 0 && nj >= 0 { template.addEdge(Int(ni), Int(nj), wgt, wgt); continue }
            // One end is hard: cutting the edge is paid when the other end takes the other side.
            let (u, hard) = ni >= 0 ? (Int(ni), lab[j]) : (Int(nj), lab[i])
            if hard == Label.foreground.rawValue { constSource[u] += wgt } else { constSink[u] += wgt }
        } } }
        // GMM samples: every second pixel of every second row when that still leaves at least
        // `minGMMSamples`, else all pixels. (On small crops of flat synthetic colours the quarter
        // sample fitted a near-singular component off the true colour and lost the object.)
        let step = n >= 4 * minGMMSamples ? 2 : 1
        var sample: [Int] = []
        for y in stride(from: 0, to: h, by: step) { for x in stride(from: 0, to: w, by: step) { sample.append(y * w + x) } }
        func isFg(_ l: UInt8) -> Bool { l == Label.foreground.rawValue || l == Label.probablyForeground.rawValue }
        var fg = GMM(), bg = GMM()
        var source = [Float](repeating: 0, count: m), sink = source
        for it in 0..<max(1, iterations) {
            var zf: [(Double, Double, Double)] = [], zb: [(Double, Double, Double)] = []
            for i in sample {
                let v = (Double(z[i].x), Double(z[i].y), Double(z[i].z))
                if isFg(lab[i]) { zf.append(v) } else { zb.append(v) }
            }
            guard !zf.isEmpty && !zb.isEmpty else { break }
            let fgComp = it == 0 ? GMM.initialComponents(zf) : zf.map { fg.mostLikely($0) }
            let bgComp = it == 0 ? GMM.initialComponents(zb) : zb.map { bg.mostLikely($0) }
            fg.learn(zf, fgComp); bg.learn(zb, bgComp)
            // t-links of the undecided pixels, on both cores.
            let ffg = FastGMM(fg), fbg = FastGMM(bg)
            z.withUnsafeBufferPointer { Z in pixel.withUnsafeBufferPointer { PX in
            source.withUnsafeMutableBufferPointer { SO in sink.withUnsafeMutableBufferPointer { SI in
                let zp = SendableConstPointer(Z.baseAddress!), pp = SendableConstPointer(PX.baseAddress!)
                let so = SendablePointer(SO.baseAddress!), si = SendablePointer(SI.baseAddress!)
                Parallel.forBands(m, minBand: 4096) { range in
                    for u in range {
                        let c = zp[pp[u]]
                        so[u] = dataWeight * fbg.negLog(c); si[u] = dataWeight * ffg.negLog(c)
                    }
                }
            } } } }
            let g = MaxFlowGraph(arcsOf: template)
            for u in 0..<m { g.setTerminal(u, source: source[u] + constSource[u], sink: sink[u] + constSink[u]) }
            g.maxFlow()
            var changed = 0
            for u in 0..<m {
                let i = pixel[u]
                let nl: UInt8 = g.inSourceSet(u) ? Label.probablyForeground.rawValue : Label.probablyBackground.rawValue
                if nl != lab[i] { changed += 1; lab[i] = nl }
            }
            if it > 0 && changed * 1000 < m { break }
        }
    }

    /// Naive twin of `segment`: every crop pixel is a graph node (hard labels as λ t-links), the
    /// GMMs are fitted on all pixels in Double, n-links and the graph rebuilt each iteration,
    /// iterations stop only when no label changes.
    static func segmentNaive(rgb: [UInt8], width W: Int, height H: Int, labels: [UInt8], crop: PixelBox,
                             iterations: Int = 5) -> [UInt8] {
        var out = labels
        let inside = crop.clipped(width: W, height: H)
        let x0 = inside.x, y0 = inside.y, w = inside.width, h = inside.height
        guard w > 1 && h > 1 else { return out }
        let n = w * h
        var z = [(Double, Double, Double)](repeating: (0, 0, 0), count: n)
        var lab = [UInt8](repeating: 0, count: n)
        for y in 0..<h { for x in 0..<w {
            let s = (y + y0) * W + x + x0
            z[y * w + x] = (Double(rgb[3 * s]), Double(rgb[3 * s + 1]), Double(rgb[3 * s + 2]))
            lab[y * w + x] = labels[s]
        } }
        func isFg(_ l: UInt8) -> Bool { l == Label.foreground.rawValue || l == Label.probablyForeground.rawValue }
        // Smoothness: 8-neighbour contrast weights.
        let offsets = [(1, 0), (0, 1), (1, 1), (-1, 1)]
        var sumD = 0.0, cntD = 0.0
        for y in 0..<h { for x in 0..<w { for (dx, dy) in offsets {
            let xx = x + dx, yy = y + dy
            guard xx >= 0 && xx < w && yy < h else { continue }
            let a = z[y * w + x], b = z[yy * w + xx]
            sumD += (a.0 - b.0) * (a.0 - b.0) + (a.1 - b.1) * (a.1 - b.1) + (a.2 - b.2) * (a.2 - b.2); cntD += 1
        } } }
        let beta = sumD > 0 ? 1 / (2 * sumD / cntD) : 0
        let gamma = 50.0, lambda = 9 * gamma
        var fgIdx: [Int] = [], bgIdx: [Int] = []
        var fgComp: [Int] = [], bgComp: [Int] = []
        var fg = GMM(), bg = GMM()
        for it in 0..<max(1, iterations) {
            fgIdx.removeAll(keepingCapacity: true); bgIdx.removeAll(keepingCapacity: true)
            for i in 0..<n { if isFg(lab[i]) { fgIdx.append(i) } else { bgIdx.append(i) } }
            guard !fgIdx.isEmpty && !bgIdx.isEmpty else { break }
            let zf = fgIdx.map { z[$0] }, zb = bgIdx.map { z[$0] }
            if it == 0 {
                fgComp = GMM.initialComponents(zf); bgComp = GMM.initialComponents(zb)
            } else {
                fgComp = zf.map { fg.mostLikely($0) }; bgComp = zb.map { bg.mostLikely($0) }
            }
            fg.learn(zf, fgComp); bg.learn(zb, bgComp)
            let g = MaxFlowGraph(nodeCount: n, edgeHint: 4 * n)
            for i in 0..<n {
                switch lab[i] {
                case Label.background.rawValue: g.setTerminal(i, source: 0, sink: Float(lambda))
                case Label.foreground.rawValue: g.setTerminal(i, source: Float(lambda), sink: 0)
                default: g.setTerminal(i, source: Float(bg.negLog(z[i])), sink: Float(fg.negLog(z[i])))
                }
            }
            for y in 0..<h { for x in 0..<w { for (dx, dy) in offsets {
                let xx = x + dx, yy = y + dy
                guard xx >= 0 && xx < w && yy < h else { continue }
                let i = y * w + x, j = yy * w + xx
                let a = z[i], b = z[j]
                let d2 = (a.0 - b.0) * (a.0 - b.0) + (a.1 - b.1) * (a.1 - b.1) + (a.2 - b.2) * (a.2 - b.2)
                let wgt = gamma / (dx != 0 && dy != 0 ? 2.0.squareRoot() : 1) * exp(-beta * d2)
                g.addEdge(i, j, Float(wgt), Float(wgt))
            } } }
            g.maxFlow()
            var changed = 0
            for i in 0..<n where lab[i] >= 2 {
                let nl: UInt8 = g.inSourceSet(i) ? Label.probablyForeground.rawValue : Label.probablyBackground.rawValue
                if nl != lab[i] { changed += 1; lab[i] = nl }
            }
            if it > 0 && changed == 0 { break }
        }
        for y in 0..<h { for x in 0..<w { out[(y + y0) * W + x + x0] = lab[y * w + x] } }
        return out
    }
}

import Foundation
