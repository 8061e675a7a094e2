// Choosing the compute precision of a model command: the command-line flag, else the pipeline
// spec's `model.precision`, else the environment variable GAR_PRECISION, else the CPU default
// (`Precision.cpuDefault`: bf16 on CPUs with AMX, else f32; see Precision.swift).
import Foundation
import Tensors

/// A precision name that is not one of the implemented modes.
public struct PrecisionNameError: Error, CustomStringConvertible, Equatable {
    public let description: String
}

extension Precision {
    /// The environment variable read when neither the flag nor the spec sets a precision.
    public static let environmentVariable = "GAR_PRECISION"

    /// Parses a precision name ("f32", "bf16", "int8").
    public static func parse(_ text: String) throws(PrecisionNameError) -> Precision {
        if let p = Precision(rawValue: text) { return p }
        throw PrecisionNameError(description: "unknown precision '\(text)' (expected one of: \(choices))")
    }

    /// The precision of a model command: `flag` if given, else the pipeline spec's `spec`, else
    /// GAR_PRECISION from `environment`, else the CPU default. A bad GAR_PRECISION is an error
    /// naming the variable. (Library calls that are given no precision use `.f32`.)
    public static func resolve(flag: Precision?, spec: Precision? = nil,
                               environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Precision {
        if let p = flag ?? spec { return p }
        if let value = environment[environmentVariable], !value.isEmpty {
            do { return try parse(value) } catch { throw PipelineError.invalidInput(what: environmentVariable, reason: error.description) }
        }
        return cpuDefault
    }

    /// One line naming the precision and the kernels it runs on, for `--verbose`.
    public var kernelSummary: String { products + "; \(KVStorage.default(for: self).rawValue) KV cache, CKernels decode attention" }

    /// The kernels of the weight products.
    private var products: String {
        switch self {
        case .f32:
            return "precision f32 (exact path): oneDNN f32 matmul, ISA \(CPUFeatures.dnnlISA) (OpenBLAS sgemv/sgemm below "
                + "\(LinearLayer.gemvRowLimit) rows); bf16-stored decoder weights widened (CKernels GEMV for decoding)"
        case .bf16:
            let probe = [UInt16](repeating: 0x3f80, count: 256 * 256)
            let impl = probe.withUnsafeBufferPointer { BF16Matrix(bf16: $0, rows: 256, cols: 256).implementation }
            return "precision bf16 (bf16 inputs, f32 accumulation): oneDNN matmul \(impl), ISA \(CPUFeatures.dnnlISA); "
                + "decoding rows of the bf16-stored decoder weights on the CKernels bf16 GEMV"
                + (!CPUFeatures.hasNativeBF16 ? " (this CPU has no native bf16: emulated, slow)"
                    : CPUFeatures.hasFastBF16 ? "" : " (no AMX: bf16 dot products at half the f32 FMA rate, f32 is faster here)")
        case .int8:
            let probe = [Float](repeating: 1, count: 256 * 256)
            let impl = probe.withUnsafeBufferPointer { Int8Matrix(quantizing: $0, rows: 256, cols: 256).implementation }
            return "precision int8 (int8 weights per output channel): CKernels int8 × int8 GEMV for decoding (activations "
                + "quantised per block of 32), oneDNN int8 matmul \(impl) (activations quantised per row as hi + lo), "
                + "ISA \(CPUFeatures.dnnlISA)"
        }
    }
}
