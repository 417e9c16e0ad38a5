/*
** The CPU plugin's shared definitions. Kernels live in files by family
** (cpu_math.c, cpu_nn.c, ...); each family exports a table of kernel
** definitions that cpu_plugin.c registers.
**
** Everything here uses only <kiln/plugin.h>: the plugin never links libkiln
** and reaches the core through `cpu_api`.
*/
#ifndef KILN_CPU_H
#define KILN_CPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <kiln/plugin.h>
#include "kernel_shapes.h"

/* The core's table, set once by kiln_plugin_init. */
extern const kiln_plugin_api *cpu_api;

/* A family's kernels. */
typedef struct cpu_kernel_table {
  const kiln_kernel_def *defs;
  size_t count;
} cpu_kernel_table;

#define CPU_DECLARE_KERNELS(family) extern const cpu_kernel_table cpu_##family##_kernels

CPU_DECLARE_KERNELS(math);    /* elementwise unary/binary, compare, logical, select, cast, AddN */
CPU_DECLARE_KERNELS(reduce);  /* Sum, Mean, Max, Min, Prod, ArgMax, ArgMin */
CPU_DECLARE_KERNELS(matmul);  /* MatMul, BatchMatMul(V2) on CBLAS */
CPU_DECLARE_KERNELS(nn);      /* activations, Softmax, LogSoftmax, BiasAdd, FusedBatchNorm */
CPU_DECLARE_KERNELS(conv);    /* Conv2D, DepthwiseConv2dNative, MaxPool, AvgPool */
CPU_DECLARE_KERNELS(array);   /* Const, Identity, Reshape, Transpose, Concat, Pack, Shape... */
CPU_DECLARE_KERNELS(slice);   /* Slice, StridedSlice, Split, Gather, Pad, Tile, Range, OneHot */
CPU_DECLARE_KERNELS(random);  /* RandomUniform, RandomStandardNormal, TruncatedNormal */
CPU_DECLARE_KERNELS(io);      /* ReadFile, WriteFile, StringJoin */
CPU_DECLARE_KERNELS(sparse);  /* SparseToDense, SparseTensorDenseMatMul */
CPU_DECLARE_KERNELS(training); /* Apply*, BroadcastGradientArgs, DynamicStitch... */

/* A kernel definition for the CPU device with the common fields set. */
#define CPU_KERNEL(op_, cons_, compute_, ...)                                  \
  {.struct_size = sizeof(kiln_kernel_def), .op = (op_), .device_type = "CPU", \
   .constraints = (cons_), .compute = (compute_), __VA_ARGS__}

/* Fails the step with a printf-formatted message. */
void cpu_fail(kiln_kernel_context *ctx, kiln_code code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Every dtype with a fixed size, and string: what TensorFlow registers its
** data-movement kernels for (its TF_CALL_ALL_TYPES plus the quantized). */
#define CPU_ALL_TYPES                                                       \
  "float,double,int32,uint8,int16,int8,string,complex64,int64,bool,qint8," \
  "quint8,qint32,bfloat16,qint16,quint16,uint16,complex128,half,uint32,"   \
  "uint64"

/* Below this many elements a copy runs on the calling thread. */
#define CPU_COPY_GRAIN 16384

/* Room for any shape's printed form, and printing a view's shape. */
#define CPU_DIMS_CAP (KILN_MAX_DIMS * 21 + 3)
#define CPU_DIMS(t, buf) ks_dims_str((t)->dims, (t)->ndims, buf, sizeof buf)

/* Bytes per element; 0 for string. */
size_t cpu_dtype_size(kiln_dtype t);
const char *cpu_dtype_name(kiln_dtype t);

/* numpy broadcasting of two shapes: out dims, and for each input the
** strides (in elements) to step it along the output's dims (0 where it is
** broadcast). Returns false (shapes incompatible) otherwise. */
typedef struct cpu_broadcast {
  int ndims;
  int64_t dims[KILN_MAX_DIMS];
  int64_t strides[2][KILN_MAX_DIMS];
  int64_t num_elements;
} cpu_broadcast;
bool cpu_broadcast_make(const kiln_tensor_view *a, const kiln_tensor_view *b,
                        cpu_broadcast *out);
/* cpu_broadcast_make, failing the step with INVALID_ARGUMENT
** "Incompatible shapes: [2,3] vs. [4]" when the shapes do not broadcast.
** num_elements is -1 when the output's element count overflows int64 (the
** core's allocate_output then refuses the dims). */
bool cpu_broadcast_or_fail(kiln_kernel_context *ctx,
                           const kiln_tensor_view *a,
                           const kiln_tensor_view *b, cpu_broadcast *out);

/* Work split over the session's intra-op threads: fn(begin, end, arg)
** over [0, n), in chunks of at least `grain`; inline when small. */
void cpu_parallel_for(kiln_kernel_context *ctx, int64_t n, int64_t grain,
                      void (*fn)(int64_t begin, int64_t end, void *arg),
                      void *arg);

/* IEEE half and bfloat16 conversions. */
float cpu_half_to_float(uint16_t h);
uint16_t cpu_float_to_half(float f);
float cpu_bfloat16_to_float(uint16_t b);
uint16_t cpu_float_to_bfloat16(float f);
/* The same over arrays (round to nearest even; NaN stays NaN). */
void cpu_half_to_float_n(const uint16_t *src, float *dst, int64_t n);
void cpu_float_to_half_n(const float *src, uint16_t *dst, int64_t n);
void cpu_bfloat16_to_float_n(const uint16_t *src, float *dst, int64_t n);
void cpu_float_to_bfloat16_n(const float *src, uint16_t *dst, int64_t n);

/* Reads element i of an int32/int64 tensor as int64. */
static inline int64_t cpu_int_at(const kiln_tensor_view *t, int64_t i) {
  return t->dtype == KILN_INT64 ? ((const int64_t *)t->data)[i]
                                : ((const int32_t *)t->data)[i];
}

/* Dense linear algebra shared by MatMul and the convolutions (defined in
** cpu_matmul.c). cpu_blas_threads matches OpenBLAS's thread count to the
** session's intra-op threads before a BLAS call. cpu_gemm_f32/f64 compute
** C[m,n] = op(A) * op(B) on row-major matrices, op transposing when ta/tb
** (A is [m,k], or [k,m] when ta); leading dimensions in elements. */
void cpu_blas_threads(kiln_kernel_context *ctx);
void cpu_gemm_f32(bool ta, bool tb, int64_t m, int64_t n, int64_t k,
                  const float *a, int64_t lda, const float *b, int64_t ldb,
                  float *c, int64_t ldc);
void cpu_gemm_f64(bool ta, bool tb, int64_t m, int64_t n, int64_t k,
                  const double *a, int64_t lda, const double *b, int64_t ldb,
                  double *c, int64_t ldc);

/* Half and bfloat16 arrays to float and back (float itself is copied);
** kernels without a 16-bit path compute on the float copy. */
void cpu_widen_f32(kiln_dtype t, const void *src, float *dst, int64_t n);
void cpu_narrow_f32(kiln_dtype t, const float *src, void *dst, int64_t n);

/* Data movement shared by the array and slice kernels (cpu_array.c).
** Offsets and strides count elements. Strings (element size 0) are copied
** one at a time with api->string_get / string_set; every other dtype by
** its bytes. Each returns false with the step failed (out of memory). */

/* Row-major strides of dims[0..ndims). */
void cpu_row_strides(const int64_t *dims, int ndims, int64_t *strides);

/* An n-d copy: for every index i below dims,
**   dst[dst_off + sum i[k] * dst_strides[k]] =
**   src[src_off + sum i[k] * src_strides[k]];
** strides may be 0 (broadcast) or negative. Tile views each dimension as
** two, hence twice KILN_MAX_DIMS. */
#define CPU_COPY_MAX_DIMS (2 * KILN_MAX_DIMS)
typedef struct cpu_copy_plan {
  int ndims;
  int64_t dims[CPU_COPY_MAX_DIMS];
  int64_t dst_strides[CPU_COPY_MAX_DIMS], src_strides[CPU_COPY_MAX_DIMS];
  int64_t dst_off, src_off;
} cpu_copy_plan;
/* Runs `plan` (simplified in place first) over the intra-op threads; dst
** and src have one dtype. */
bool cpu_copy_strided(kiln_kernel_context *ctx, const kiln_tensor_view *dst,
                      const kiln_tensor_view *src, cpu_copy_plan *plan);
/* dst[di..di+n) = src[si..si+n). */
bool cpu_copy_elems(kiln_kernel_context *ctx, const kiln_tensor_view *dst,
                    int64_t di, const kiln_tensor_view *src, int64_t si,
                    int64_t n);
/* dst[at..at+n) = value[vi]. */
bool cpu_fill_elems(kiln_kernel_context *ctx, const kiln_tensor_view *dst,
                    int64_t at, int64_t n, const kiln_tensor_view *value,
                    int64_t vi);

#endif
