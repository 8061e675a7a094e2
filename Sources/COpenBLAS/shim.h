// OpenBLAS through pkg-config (Debian keeps cblas.h under .../openblas-pthread/).
#ifndef GAR_COPENBLAS_SHIM_H
#define GAR_COPENBLAS_SHIM_H
#include <cblas.h>
// openblas_set_num_threads / openblas_get_num_threads are declared in cblas.h
// of OpenBLAS builds; repeat the prototypes so other BLAS headers also work.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
#endif
