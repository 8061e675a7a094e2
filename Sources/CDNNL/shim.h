// oneDNN (Debian libdnnl-dev 2.6; no pkg-config file, the header is in /usr/include/oneapi/dnnl).
// Used by Tensors/Kernels/DNNLMatmul.swift for the bf16 GEMM backend.
#ifndef GAR_CDNNL_SHIM_H
#define GAR_CDNNL_SHIM_H
#include <oneapi/dnnl/dnnl.h>
#endif
