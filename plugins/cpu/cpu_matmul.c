/*
** Matrix products: MatMul, BatchMatMul and BatchMatMulV2.
**
** float and double go to OpenBLAS's CBLAS (one call per matrix of a
** batch); half and bfloat16 are widened to float around sgemm, as
** TensorFlow's CPU kernels do for bfloat16; int32 and int64 use plain
** loops in unsigned arithmetic, so that overflow wraps as in TensorFlow
** instead of being undefined. Output dims always come from the actual
** input shapes: the static shapes a graph carries may be unknown.
**
** This file also holds the GEMM and half/bfloat16 helpers that the
** convolutions share (declared in cpu.h).
*/
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cblas.h>
#include "cpu.h"

/* OpenBLAS's own entry point; its cblas.h declares it too, other CBLAS
** headers do not. */
void openblas_set_num_threads(int num_threads);

/* ------------------------------------------------------ shared helpers */

/* The thread count last given to OpenBLAS (0: never set). The setting is
** process-wide; it only changes when a session asks for another count. */
static atomic_int blas_threads_current;

void cpu_blas_threads(kiln_kernel_context *ctx) {
  int want = cpu_api->intra_op_threads(ctx);
  if (want <= 0) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    want = n > 0 ? (n > 256 ? 256 : (int)n) : 1;
  }
  if (atomic_exchange(&blas_threads_current, want) != want)
    openblas_set_num_threads(want);
}

/* Plain-loop GEMM over rows [i0, i1) of C, for the types CBLAS lacks and
** for sizes beyond CBLAS's int. U is the arithmetic type (unsigned for
** integers: wrapping, never undefined). */
#define DEFINE_GEMM_LOOP(name, T, U)                                          \
  static void name(bool ta, bool tb, int64_t n, int64_t k, const T *a,        \
                   int64_t lda, const T *b, int64_t ldb, T *c, int64_t ldc,   \
                   int64_t i0, int64_t i1) {                                  \
    int64_t sai = ta ? 1 : lda, sap = ta ? lda : 1;                           \
    for (int64_t i = i0; i < i1; i++) {                                       \
      T *ci = c + i * ldc;                                                    \
      const T *ai = a + i * sai;                                              \
      if (tb) {                                                               \
        /* B is [n,k]: each output is a dot product of two rows. */           \
        for (int64_t j = 0; j < n; j++) {                                     \
          const T *bj = b + j * ldb;                                          \
          U acc = 0;                                                          \
          for (int64_t p = 0; p < k; p++)                                     \
            acc = (U)(acc + (U)ai[p * sap] * (U)bj[p]);                       \
          ci[j] = (T)acc;                                                     \
        }                                                                     \
      } else {                                                                \
        for (int64_t j = 0; j < n; j++) ci[j] = 0;                            \
        for (int64_t p = 0; p < k; p++) {                                     \
          U av = (U)ai[p * sap];                                              \
          const T *bp = b + p * ldb;                                          \
          for (int64_t j = 0; j < n; j++)                                     \
            ci[j] = (T)((U)ci[j] + av * (U)bp[j]);                            \
        }                                                                     \
      }                                                                       \
    }                                                                         \
  }

DEFINE_GEMM_LOOP(gemm_loop_f32, float, float)
DEFINE_GEMM_LOOP(gemm_loop_f64, double, double)
DEFINE_GEMM_LOOP(gemm_loop_i32, int32_t, uint32_t)
DEFINE_GEMM_LOOP(gemm_loop_i64, int64_t, uint64_t)

static bool fits_int(int64_t m, int64_t n, int64_t k, int64_t lda,
                     int64_t ldb, int64_t ldc) {
  return m <= INT_MAX && n <= INT_MAX && k <= INT_MAX && lda <= INT_MAX &&
         ldb <= INT_MAX && ldc <= INT_MAX;
}

void cpu_gemm_f32(bool ta, bool tb, int64_t m, int64_t n, int64_t k,
                  const float *a, int64_t lda, const float *b, int64_t ldb,
                  float *c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  if (fits_int(m, n, k, lda, ldb, ldc))
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
                tb ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k, 1.0f,
                a, (int)(lda > 0 ? lda : 1), b, (int)(ldb > 0 ? ldb : 1), 0.0f,
                c, (int)ldc);
  else
    gemm_loop_f32(ta, tb, n, k, a, lda, b, ldb, c, ldc, 0, m);
}

void cpu_gemm_f64(bool ta, bool tb, int64_t m, int64_t n, int64_t k,
                  const double *a, int64_t lda, const double *b, int64_t ldb,
                  double *c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  if (fits_int(m, n, k, lda, ldb, ldc))
    cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
                tb ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k, 1.0,
                a, (int)(lda > 0 ? lda : 1), b, (int)(ldb > 0 ? ldb : 1), 0.0,
                c, (int)ldc);
  else
    gemm_loop_f64(ta, tb, n, k, a, lda, b, ldb, c, ldc, 0, m);
}

void cpu_widen_f32(kiln_dtype t, const void *src, float *dst, int64_t n) {
  if (t == KILN_HALF) {
    const uint16_t *s = src;
    for (int64_t i = 0; i < n; i++) dst[i] = cpu_half_to_float(s[i]);
  } else if (t == KILN_BFLOAT16) {
    const uint16_t *s = src;
    for (int64_t i = 0; i < n; i++) dst[i] = cpu_bfloat16_to_float(s[i]);
  } else if (n > 0) {
    memcpy(dst, src, (size_t)n * sizeof(float));
  }
}

void cpu_narrow_f32(kiln_dtype t, const float *src, void *dst, int64_t n) {
  if (t == KILN_HALF) {
    uint16_t *d = dst;
    for (int64_t i = 0; i < n; i++) d[i] = cpu_float_to_half(src[i]);
  } else if (t == KILN_BFLOAT16) {
    uint16_t *d = dst;
    for (int64_t i = 0; i < n; i++) d[i] = cpu_float_to_bfloat16(src[i]);
  } else if (n > 0) {
    memcpy(dst, src, (size_t)n * sizeof(float));
  }
}

/* ------------------------------------------------------- kernel state */

typedef ks_mm_attrs mm_attrs;

static void *matmul_create(kiln_kernel_construct *kc) {
  return ks_mm_attrs_new(cpu_api, kc, "transpose_a", "transpose_b");
}

static void *bmm_create(kiln_kernel_construct *kc) {
  return ks_mm_attrs_new(cpu_api, kc, "adj_x", "adj_y");
}

static void mm_destroy(void *state) { free(state); }

/* ------------------------------------------------------ batched GEMM */

/* One product of a batch: x [d0,d1] (or transposed), y [d2,d3]. */
typedef struct mm_job {
  kiln_dtype dt;
  bool ta, tb;
  int64_t m, n, k;               /* output [m,n], inner k */
  int64_t lda, ldb;              /* row lengths of the stored matrices */
  const void *a, *b;
  void *c;
  int64_t nbatch;                /* products in the batch */
  /* Which matrix of x and y product i reads: broadcasting of the batch
  ** dims, as out-dim coordinates times per-dim matrix strides. */
  int nb;
  const int64_t *bdims, *xs, *ys;
} mm_job;

static void mm_batch_index(const mm_job *j, int64_t i, int64_t *xi,
                           int64_t *yi) {
  int64_t x = 0, y = 0;
  for (int d = j->nb - 1; d >= 0; d--) {
    int64_t c = i % j->bdims[d];
    i /= j->bdims[d];
    x += c * j->xs[d];
    y += c * j->ys[d];
  }
  *xi = x;
  *yi = y;
}

/* Integer products, split over (batch, row) pairs. */
static void mm_int_rows(int64_t begin, int64_t end, void *arg) {
  const mm_job *j = arg;
  for (int64_t r = begin; r < end; r++) {
    int64_t bi = r / j->m, i = r % j->m, xi, yi;
    mm_batch_index(j, bi, &xi, &yi);
    if (j->dt == KILN_INT32) {
      const int32_t *a = (const int32_t *)j->a + xi * j->m * j->k;
      const int32_t *b = (const int32_t *)j->b + yi * j->k * j->n;
      int32_t *c = (int32_t *)j->c + bi * j->m * j->n;
      gemm_loop_i32(j->ta, j->tb, j->n, j->k, a, j->lda, b, j->ldb, c, j->n,
                    i, i + 1);
    } else {
      const int64_t *a = (const int64_t *)j->a + xi * j->m * j->k;
      const int64_t *b = (const int64_t *)j->b + yi * j->k * j->n;
      int64_t *c = (int64_t *)j->c + bi * j->m * j->n;
      gemm_loop_i64(j->ta, j->tb, j->n, j->k, a, j->lda, b, j->ldb, c, j->n,
                    i, i + 1);
    }
  }
}

static void *xmalloc_floats(kiln_kernel_context *ctx, int64_t n) {
  void *p = malloc(n > 0 ? (size_t)n * sizeof(float) : 1);
  if (!p)
    cpu_fail(ctx, KILN_RESOURCE_EXHAUSTED,
             "out of memory for a %lld-element float buffer", (long long)n);
  return p;
}

/* Runs every product of the job; x, y and the output hold na, nbel and
** nout elements. */
static void mm_run(kiln_kernel_context *ctx, mm_job *j, int64_t na,
                   int64_t nbel, int64_t nout) {
  int64_t sa = j->m * j->k, sb = j->k * j->n, sc = j->m * j->n;
  if (j->dt == KILN_INT32 || j->dt == KILN_INT64) {
    int64_t work = j->n * j->k > 0 ? j->n * j->k : 1;
    cpu_parallel_for(ctx, j->nbatch * j->m, work >= 16384 ? 1 : 16384 / work,
                     mm_int_rows, j);
    return;
  }
  cpu_blas_threads(ctx);
  if (j->dt == KILN_DOUBLE) {
    for (int64_t i = 0; i < j->nbatch; i++) {
      int64_t xi, yi;
      mm_batch_index(j, i, &xi, &yi);
      cpu_gemm_f64(j->ta, j->tb, j->m, j->n, j->k,
                   (const double *)j->a + xi * sa, j->lda,
                   (const double *)j->b + yi * sb, j->ldb,
                   (double *)j->c + i * sc, j->n);
    }
    return;
  }
  const float *a = j->a, *b = j->b;
  float *c = j->c, *wa = NULL, *wb = NULL, *wc = NULL;
  if (j->dt != KILN_FLOAT) {
    if (!(wa = xmalloc_floats(ctx, na)) || !(wb = xmalloc_floats(ctx, nbel)) ||
        !(wc = xmalloc_floats(ctx, nout)))
      goto done;
    cpu_widen_f32(j->dt, j->a, wa, na);
    cpu_widen_f32(j->dt, j->b, wb, nbel);
    a = wa, b = wb, c = wc;
  }
  for (int64_t i = 0; i < j->nbatch; i++) {
    int64_t xi, yi;
    mm_batch_index(j, i, &xi, &yi);
    cpu_gemm_f32(j->ta, j->tb, j->m, j->n, j->k, a + xi * sa, j->lda,
                 b + yi * sb, j->ldb, c + i * sc, j->n);
  }
  if (wc) cpu_narrow_f32(j->dt, wc, j->c, nout);
done:
  free(wa);
  free(wb);
  free(wc);
}

/* ---------------------------------------------------------------- MatMul */

static void matmul_compute(void *state, kiln_kernel_context *ctx) {
  const mm_attrs *at = state;
  const kiln_tensor_view *a = cpu_api->input(ctx, 0);
  const kiln_tensor_view *b = cpu_api->input(ctx, 1);
  char s0[256], s1[256];
  if (a->ndims != 2) {
    cpu_fail(ctx, KILN_INVALID_ARGUMENT,
             "In[0] is not a matrix. Instead it has shape %s",
             ks_dims_str(a->dims, a->ndims, s0, sizeof s0));
    return;
  }
  if (b->ndims != 2) {
    cpu_fail(ctx, KILN_INVALID_ARGUMENT,
             "In[1] is not a matrix. Instead it has shape %s",
             ks_dims_str(b->dims, b->ndims, s1, sizeof s1));
    return;
  }
  int64_t m = at->ta ? a->dims[1] : a->dims[0];
  int64_t k = at->ta ? a->dims[0] : a->dims[1];
  int64_t k2 = at->tb ? b->dims[1] : b->dims[0];
  int64_t n = at->tb ? b->dims[0] : b->dims[1];
  if (k != k2) {
    cpu_fail(ctx, KILN_INVALID_ARGUMENT,
             "Matrix size-incompatible: In[0]: %s, In[1]: %s",
             ks_dims_str(a->dims, 2, s0, sizeof s0),
             ks_dims_str(b->dims, 2, s1, sizeof s1));
    return;
  }
  int64_t dims[2] = {m, n};
  const kiln_tensor_view *out = cpu_api->allocate_output(ctx, 0, dims, 2);
  if (!out || out->num_elements == 0) return;
  if (k == 0) {
    memset(out->data, 0, out->nbytes);
    return;
  }
  if (a->dtype == KILN_FLOAT) {
    /* The common case, straight to sgemm. */
    cpu_blas_threads(ctx);
    cpu_gemm_f32(at->ta, at->tb, m, n, k, a->data, a->dims[1], b->data,
                 b->dims[1], out->data, n);
    return;
  }
  mm_job j = {.dt = a->dtype, .ta = at->ta, .tb = at->tb, .m = m, .n = n,
              .k = k, .lda = a->dims[1], .ldb = b->dims[1], .a = a->data,
              .b = b->data, .c = out->data, .nbatch = 1, .nb = 0};
  mm_run(ctx, &j, a->num_elements, b->num_elements, out->num_elements);
}

/* ------------------------------------------------------- BatchMatMul(V2) */

static void bmm_compute(const mm_attrs *at, kiln_kernel_context *ctx,
                        bool broadcast) {
  const kiln_tensor_view *x = cpu_api->input(ctx, 0);
  const kiln_tensor_view *y = cpu_api->input(ctx, 1);
  char s0[256], s1[256];
  ks_dims_str(x->dims, x->ndims, s0, sizeof s0);
  ks_dims_str(y->dims, y->ndims, s1, sizeof s1);
  if (!ks_batch_matmul_check(cpu_api, ctx, x, y, broadcast)) return;

  /* Batch dims, numpy-broadcast, with each input's matrix strides (0 where
  ** it is broadcast). */
  int nx = x->ndims - 2, ny = y->ndims - 2, nb = nx > ny ? nx : ny;
  int64_t dims[KILN_MAX_DIMS], xs[KILN_MAX_DIMS], ys[KILN_MAX_DIMS];
  int64_t nbatch = 1, xstride = 1, ystride = 1;
  for (int i = nb - 1; i >= 0; i--) {
    int xi = i - (nb - nx), yi = i - (nb - ny);
    int64_t xd = xi >= 0 ? x->dims[xi] : 1, yd = yi >= 0 ? y->dims[yi] : 1;
    if (xd != yd && xd != 1 && yd != 1) {
      cpu_fail(ctx, KILN_INVALID_ARGUMENT,
               "In[0] and In[1] must have compatible batch dimensions: %s vs. "
               "%s",
               s0, s1);
      return;
    }
    dims[i] = xd == 1 ? yd : xd;
    xs[i] = xd == 1 ? 0 : xstride;
    ys[i] = yd == 1 ? 0 : ystride;
    xstride *= xd;
    ystride *= yd;
    nbatch *= dims[i];
  }
  int64_t d0 = x->dims[nx], d1 = x->dims[nx + 1];
  int64_t d2 = y->dims[ny], d3 = y->dims[ny + 1];
  int64_t m = at->ta ? d1 : d0, k = at->ta ? d0 : d1;
  int64_t k2 = at->tb ? d3 : d2, n = at->tb ? d2 : d3;
  if (k != k2) {
    cpu_fail(ctx, KILN_INVALID_ARGUMENT,
             "Matrix size-incompatible: In[0]: %s, In[1]: %s", s0, s1);
    return;
  }
  dims[nb] = m;
  dims[nb + 1] = n;
  const kiln_tensor_view *out = cpu_api->allocate_output(ctx, 0, dims, nb + 2);
  if (!out || out->num_elements == 0) return;
  if (x->num_elements == 0 || y->num_elements == 0) {
    memset(out->data, 0, out->nbytes);
    return;
  }
  mm_job j = {.dt = x->dtype, .ta = at->ta, .tb = at->tb, .m = m, .n = n,
              .k = k, .lda = d1, .ldb = d3, .a = x->data, .b = y->data,
              .c = out->data, .nbatch = nbatch, .nb = nb, .bdims = dims,
              .xs = xs, .ys = ys};
  mm_run(ctx, &j, x->num_elements, y->num_elements, out->num_elements);
}

static void bmm_v1_compute(void *state, kiln_kernel_context *ctx) {
  bmm_compute(state, ctx, false);
}

static void bmm_v2_compute(void *state, kiln_kernel_context *ctx) {
  bmm_compute(state, ctx, true);
}

/* ---------------------------------------------------------------- table */

#define MM_TYPES "T=float,double,half,bfloat16,int32,int64"

static const kiln_kernel_def defs[] = {
    CPU_KERNEL("MatMul", MM_TYPES, matmul_compute, .create = matmul_create,
               .destroy = mm_destroy),
    CPU_KERNEL("BatchMatMul", MM_TYPES, bmm_v1_compute, .create = bmm_create,
               .destroy = mm_destroy),
    CPU_KERNEL("BatchMatMulV2", MM_TYPES, bmm_v2_compute,
               .create = bmm_create, .destroy = mm_destroy),
};

const cpu_kernel_table cpu_matmul_kernels = {defs, sizeof defs / sizeof defs[0]};
