// SAM 2.1 in bf16 precision (plain bf16 GEMMs and bf16-product attention for long key sequences)
// against the fp32 reference's goldens: the error the README states. Masks are what SAM 2 is used
// for, so every mask token's binarised low-res logits are held to an IoU; the logit error is
// bounded loosely; the selected (multimask / stability rule) masks at full size must agree too,
// except where the reference sits on the rule's threshold.
// Runs on the tiny goldens, and on the hiera-tiny-shaped ones when GAR_SAM2_HIERA_TINY=DIR is set.
import Foundation
@testable import SAM2
import Tensors
import Testing

@Suite(.serialized) struct SAM2PrecisionTests {
    /// IoU of two binary masks (1 when both are empty).
    static func iou(_ a: [UInt8], _ b: [UInt8]) -> Double {
        let inter = zip(a, b).filter { $0 == 1 && $1 == 1 }.count, union = zip(a, b).filter { $0 == 1 || $1 == 1 }.count
        return union == 0 ? 1 : Double(inter) / Double(union)
    }

    @Test(arguments: GoldenSet.all) func bf16MasksAgreeWithReference(_ set: GoldenSet) throws {
        let model = try set.model(precision: .bf16)
        #expect(model.precision == .bf16)
        let (_, imageTensors) = try set.golden("image")
        let features = model.encode(try imageTensors.view("pixel_values").tensor())
        var report: [String] = []
        let embeddingRef = try imageTensors.view("image_embeddings.2").tensor().storage
        let (embErr, embScale) = maxError(features.embedding.storage, embeddingRef)
        report.append("image embedding: max |Δ| \(embErr) (max |ref| \(embScale))")
        #expect(embErr > 0, "bf16 image embedding equals fp32's exactly: bf16 was not used")
        var ious: [Double] = []
        var worstLogit: Float = 0, worstScale: Float = 0
        var selectionsDiffer: [String] = []
        for name in ["box", "clicks", "click_single", "box_click", "mask"] {
            let (points, box, maskPrompt, multimask, W, H, tensors) = try goldenPrompt(set, name, imageSize: model.config.imageSize)
            let prediction = try model.predict(features, points: points, box: box, maskPrompt: maskPrompt, multimaskOutput: multimask)
            // Every mask token's low-res logits (before the multimask / stability selection).
            let all = prediction.decoder.masks.storage, ref = try tensors.view("multimask_decoder_masks").tensor().storage
            let (logitErr, scale) = maxError(all, ref)
            worstLogit = max(worstLogit, logitErr)
            worstScale = max(worstScale, scale)
            let n = prediction.decoder.masks.rowLength
            let caseIoUs = (0 ..< all.count / n).map { k in
                Self.iou(all[k * n ..< (k + 1) * n].map { $0 > 0 ? 1 : 0 }, ref[k * n ..< (k + 1) * n].map { $0 > 0 ? 1 : 0 })
            }
            ious += caseIoUs
            // The selected masks at the original size.
            let binary = SAM2Processing.binarize(SAM2Processing.upscale(prediction.lowResMasks, width: W, height: H)).flatMap { $0 }
            let refBinary = try tensors.view("binary_masks").uint8Values()
            let selectedIoU = Self.iou(binary, refBinary)
            if selectedIoU < 0.9 { selectionsDiffer.append(name) }
            report.append("\(name): low-res logits max |Δ| \(logitErr) (max |ref| \(scale)), mask-token IoU "
                + caseIoUs.map { String(format: "%.4f", $0) }.joined(separator: " ") + String(format: "; selected masks at full size IoU %.4f", selectedIoU))
        }
        let mean = ious.reduce(0, +) / Double(ious.count)
        report.append(String(format: "mask tokens: mean IoU %.4f, min %.4f over %d masks; worst logit |Δ| %.3g of %.3g", mean, ious.min()!, ious.count,
                             worstLogit, worstScale) + "; selection differs: \(selectionsDiffer)")
        print("[\(set) bf16 vs fp32 reference]\n" + report.joined(separator: "\n"))
        #expect(mean >= 0.97, "bf16 masks: mean IoU \(mean)")
        #expect(ious.min()! >= 0.9, "bf16 masks: min IoU \(ious.min()!)")
        #expect(worstLogit <= 0.05 * worstScale, "bf16 logits: max |Δ| \(worstLogit) of \(worstScale)")
        // Only the tiny click_single case may select another mask: its stability threshold was set
        // 0.003 above mask 0's stability on purpose (generate_sam2.py) so both branches are tested.
        #expect(selectionsDiffer.allSatisfy { $0 == "click_single" && set.checkpointName == "sam2-tiny" }, "selection differs: \(selectionsDiffer)")
    }
}
