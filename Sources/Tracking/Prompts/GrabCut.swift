// GrabCut-style foreground extraction (Rother, Kolmogorov, Blake 2004): colour GMMs for object
// and background, a graph cut with contrast-sensitive 8-neighbour smoothness, iterated.
// Runs on a crop (the prompt's box + margin) for speed; pixels outside the crop are background.
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
                let v = [z[i].0, z[i].1, z[i].2]
                n[c] += 1
                for a in 0..<3 { s[c][a] += v[a]; for b in 0..<3 { ss[c][3 * a + b] += v[a] * v[b] } }
            }
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

    /// Runs GrabCut on a crop of `image` (interleaved RGB, W×H). `labels` (row-major, W×H,
    /// `Label` raw values) covers the whole image; only the crop is solved, the rest is left
    /// as given. Returns the refined labels.
    public static func segment(rgb: [UInt8], width W: Int, height H: Int, labels: [UInt8], crop: PixelBox,
                               iterations: Int = 5) -> [UInt8] {
        var out = labels
        let x0 = max(0, crop.x), y0 = max(0, crop.y)
        let x1 = min(W, crop.x + crop.width), y1 = min(H, crop.y + crop.height)
        let w = x1 - x0, h = y1 - y0
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
