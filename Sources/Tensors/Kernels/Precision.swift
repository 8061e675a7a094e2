// The compute precision of the model's weight matrix products (the GEMM backend), chosen by the
// caller at load time (`GARModel.load(directory:precision:)`); model files never choose kernels.
import CKernels

public enum Precision: String, Sendable, CaseIterable, Codable {
    /// The exact path: f32 arithmetic (bf16-stored weights widened exactly). Parity with the
    /// PyTorch fp32 reference; what the golden tests run.
    case f32
    /// bf16 inputs, f32 accumulation (oneDNN matmul on weights packed at load).
    case bf16

    /// The default on the running CPU: bf16 where it has native bf16 dot products (AVX512_BF16),
    /// else f32 (oneDNN's bf16 emulation on older CPUs is not faster than sgemm).
    public static var cpuDefault: Precision { CPUFeatures.hasNativeBF16 ? .bf16 : .f32 }

    /// The accepted spellings, for error messages: "f32, bf16".
    public static var choices: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
