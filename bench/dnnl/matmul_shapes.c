// GFLOP/s of the GEMMs of a GAR-1B bf16 vision tile (M = 1025 rows) and a 512-token prefill
// (M = 512), per backend: oneDNN bf16 matmul with weights packed once in its preferred layout
// (plain activations: M rows; split activations: 2M rows), oneDNN bf16 reading row-major
// weights as stored ("ba", what bf16-stored LLM weights used), oneDNN f32 matmul (packed
// weights, and reading row-major weights), and OpenBLAS sgemm. Best of N runs per case, wall time (GAR_BENCH_CPU=1: CPU time), threads = OMP_NUM_THREADS
// (oneDNN) and OPENBLAS_NUM_THREADS. Not part of the package. Build and run:
//   cc -O2 bench/dnnl/matmul_shapes.c -o /tmp/matmul_shapes -ldnnl -lopenblas && OMP_NUM_THREADS=2 /tmp/matmul_shapes [reps]
#include <cblas.h>
#include <oneapi/dnnl/dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHECK(x) do { dnnl_status_t s_ = (x); if (s_ != dnnl_success) { fprintf(stderr, "%s: %d\n", #x, s_); exit(1); } } while (0)

// Wall time, or with GAR_BENCH_CPU=1 the process CPU time (load-robust with one thread).
static double now(void) {
    struct timespec t;
    clock_gettime(getenv("GAR_BENCH_CPU") ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static dnnl_engine_t engine;
static dnnl_stream_t stream;

static dnnl_memory_desc_t md(int64_t a, int64_t b, dnnl_data_type_t t, dnnl_format_tag_t tag) {
    dnnl_memory_desc_t d;
    int64_t dims[DNNL_MAX_NDIMS] = {a, b};
    CHECK(dnnl_memory_desc_init_by_tag(&d, 2, dims, t, tag));
    return d;
}

// One oneDNN matmul case: [M, K] (type st) x [K, N] weights (type wt, tag wtag) -> [M, N] f32.
static double dnnl_case(int M, int K, int N, dnnl_data_type_t st, dnnl_format_tag_t wtag, int reps, const char **impl) {
    dnnl_memory_desc_t src = md(M, K, st, dnnl_ab), dst = md(M, N, dnnl_f32, dnnl_ab);
    dnnl_memory_desc_t wplain = md(K, N, st, dnnl_ba), wq = md(K, N, st, wtag);
    dnnl_matmul_desc_t op;
    CHECK(dnnl_matmul_desc_init(&op, &src, &wq, NULL, &dst));
    dnnl_primitive_desc_t pd;
    CHECK(dnnl_primitive_desc_create(&pd, &op, NULL, engine, NULL));
    CHECK(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, impl));
    const dnnl_memory_desc_t *wmd = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    size_t es = st == dnnl_f32 ? 4 : 2;
    void *x = aligned_alloc(64, (size_t)M * K * es), *wp = aligned_alloc(64, (size_t)K * N * es),
         *wk = aligned_alloc(64, dnnl_memory_desc_get_size(wmd) + 64), *y = aligned_alloc(64, (size_t)M * N * 4);
    memset(x, 0x3f, (size_t)M * K * es);
    memset(wp, 0x3c, (size_t)K * N * es);
    dnnl_memory_t mx, mwp, mwk, my;
    CHECK(dnnl_memory_create(&mx, &src, engine, x));
    CHECK(dnnl_memory_create(&mwp, &wplain, engine, wp));
    CHECK(dnnl_memory_create(&mwk, wmd, engine, wk));
    CHECK(dnnl_memory_create(&my, &dst, engine, y));
    dnnl_primitive_desc_t rpd;
    CHECK(dnnl_reorder_primitive_desc_create(&rpd, &wplain, engine, wmd, engine, NULL));
    dnnl_primitive_t r, p;
    CHECK(dnnl_primitive_create(&r, rpd));
    dnnl_exec_arg_t ra[2] = {{DNNL_ARG_FROM, mwp}, {DNNL_ARG_TO, mwk}};
    CHECK(dnnl_primitive_execute(r, stream, 2, ra));
    CHECK(dnnl_stream_wait(stream));
    CHECK(dnnl_primitive_create(&p, pd));
    dnnl_exec_arg_t a[3] = {{DNNL_ARG_SRC, mx}, {DNNL_ARG_WEIGHTS, mwk}, {DNNL_ARG_DST, my}};
    double best = 1e30;
    for (int i = 0; i <= reps; i++) {
        double t = now();
        CHECK(dnnl_primitive_execute(p, stream, 3, a));
        CHECK(dnnl_stream_wait(stream));
        t = now() - t;
        if (i > 0 && t < best) best = t;
    }
    free(x); free(wp); free(wk); free(y);
    return 2.0 * M * K * N / best * 1e-9;
}

static double blas_case(int M, int K, int N, int reps) {
    float *x = malloc((size_t)M * K * 4), *w = malloc((size_t)K * N * 4), *y = malloc((size_t)M * N * 4);
    for (size_t i = 0; i < (size_t)M * K; i++) x[i] = 1e-3f * (i & 255);
    for (size_t i = 0; i < (size_t)K * N; i++) w[i] = 1e-3f * (i & 127);
    double best = 1e30;
    for (int i = 0; i <= reps; i++) {
        double t = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1, x, K, w, K, 0, y, N);
        t = now() - t;
        if (i > 0 && t < best) best = t;
    }
    free(x); free(w); free(y);
    return 2.0 * M * K * N / best * 1e-9;
}

int main(int argc, char **argv) {
    int reps = argc > 1 ? atoi(argv[1]) : 3;
    CHECK(dnnl_engine_create(&engine, dnnl_cpu, 0));
    CHECK(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags));
    int shapes[][4] = {
        {1025, 1024, 3072}, {1025, 1024, 1024}, {1025, 1024, 4096}, {1025, 4096, 1024},   // vision qkv, proj, fc1, fc2
        {1024, 1024, 2048}, {1024, 2048, 2048},                                           // projector
        {512, 2048, 3072}, {512, 2048, 2048}, {512, 2048, 16384}, {512, 8192, 2048},     // llama qkv, o, gate|up, down
    };
    printf("%-18s %12s %12s %12s %12s %12s %12s   (GFLOP/s of the M-row product)\n", "M x K x N", "bf16 packed", "bf16 split", "bf16 ba",
           "f32 packed", "f32 ba", "f32 openblas");
    const char *impl = "", *implBA = "", *implF = "";
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int M = shapes[s][0], K = shapes[s][1], N = shapes[s][2];
        double packed = dnnl_case(M, K, N, dnnl_bf16, dnnl_format_tag_any, reps, &impl);
        double split = dnnl_case(2 * M, K, N, dnnl_bf16, dnnl_format_tag_any, reps, &impl) / 2;   // per useful flop
        double ba = dnnl_case(M, K, N, dnnl_bf16, dnnl_ba, reps, &implBA);
        double f = dnnl_case(M, K, N, dnnl_f32, dnnl_format_tag_any, reps, &implF);
        double fba = dnnl_case(M, K, N, dnnl_f32, dnnl_ba, reps, &implF);
        double blas = blas_case(M, K, N, reps);
        char name[32];
        snprintf(name, sizeof name, "%dx%dx%d", M, K, N);
        printf("%-18s %12.0f %12.0f %12.0f %12.0f %12.0f %12.0f\n", name, packed, split, ba, f, fba, blas);
    }
    printf("impl: bf16 %s, bf16 ba %s, f32 %s\n", impl, implBA, implF);
    return 0;
}
