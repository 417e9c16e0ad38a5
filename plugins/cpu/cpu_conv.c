/*
** Windowed kernels: Conv2D, DepthwiseConv2dNative, MaxPool and AvgPool.
**
** Every kernel computes in NHWC. NCHW inputs are transposed into a
** scratch NHWC copy and the result transposed back; half and bfloat16 are
** widened to float the same way. Conv2D lowers each group to a GEMM on
** CBLAS: im2col rows (a chunk of output positions at a time, so that the
** scratch stays bounded) times the filter seen as a [KH*KW*Cin, Cout]
** matrix, written straight into the NHWC output; a 1x1 convolution with
** unit strides and no padding is one GEMM on the input itself.
**
** Attrs are checked once when the kernel is created, with TensorFlow's
** messages; sizes are computed from the actual input shapes at each run.
*/
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cpu.h"

static void win_destroy(void *s) { free(s); }

static ks_window *win_new(kiln_kernel_construct *kc) {
  ks_window *s = calloc(1, sizeof *s);
  if (!s)
    cpu_api->construct_fail(kc, KILN_RESOURCE_EXHAUSTED,
                            "out of memory creating a windowed kernel");
  return s;
}

/* ------------------------------------------------- layouts and staging */

/* NCHW <-> NHWC of elements of `esz` bytes; d is [N, C, H*W]. */
#define DEFINE_TRANSPOSE(name, T)                                          \
  static void name(const void *src, void *dst, const int64_t d[3],         \
                   bool to_nhwc) {                                          \
    const T *s = src;                                                       \
    T *o = dst;                                                             \
    int64_t c = d[1], hw = d[2];                                            \
    for (int64_t n = 0; n < d[0]; n++)                                      \
      for (int64_t ch = 0; ch < c; ch++)                                    \
        for (int64_t p = 0; p < hw; p++) {                                  \
          int64_t a = (n * c + ch) * hw + p, b = (n * hw + p) * c + ch;     \
          if (to_nhwc)                                                      \
            o[b] = s[a];                                                    \
          else                                                              \
            o[a] = s[b];                                                    \
        }                                                                   \
  }

DEFINE_TRANSPOSE(transpose1, uint8_t)
DEFINE_TRANSPOSE(transpose2, uint16_t)
DEFINE_TRANSPOSE(transpose4, uint32_t)
DEFINE_TRANSPOSE(transpose8, uint64_t)

static void transpose(size_t esz, const void *src, void *dst,
                      const int64_t d[3], bool to_nhwc) {
  switch (esz) {
    case 1: transpose1(src, dst, d, to_nhwc); break;
    case 2: transpose2(src, dst, d, to_nhwc); break;
    case 4: transpose4(src, dst, d, to_nhwc); break;
    default: transpose8(src, dst, d, to_nhwc); break;
  }
}

static bool is_half(kiln_dtype t) {
  return t == KILN_HALF || t == KILN_BFLOAT16;
}

/* A kernel's NHWC view of its input and output: the tensors themselves
** when they are NHWC and not 16-bit floats, else scratch copies. Every
** buffer is allocated up front so that finishing cannot fail. */
typedef struct stage {
  kiln_dtype dt;      /* the dtype computed in */
  const void *in;     /* NHWC input */
  void *out;          /* NHWC output */
  void *fin;          /* NCHW float result before narrowing */
  void *buf[6];
  int nbuf;
} stage;

static void *stage_alloc(kiln_kernel_context *ctx, stage *st, int64_t n,
                         size_t esz) {
  void *p = malloc(n > 0 ? (size_t)n * esz : 1);
  if (!p) {
    cpu_fail(ctx, KILN_RESOURCE_EXHAUSTED,
             "out of memory for a %lld-element scratch tensor", (long long)n);
    return NULL;
  }
  st->buf[st->nbuf++] = p;
  return p;
}

static void stage_free(stage *st) {
  for (int i = 0; i < st->nbuf; i++) free(st->buf[i]);
  st->nbuf = 0;
}

/* [N, C, H*W] of a 4-D tensor with c channels (0 sizes when empty). */
static void nc_hw(const kiln_tensor_view *t, int64_t c, int64_t d[3]) {
  d[0] = t->dims[0];
  d[1] = c;
  d[2] = t->num_elements > 0 ? t->num_elements / (d[0] * c) : 0;
}

/* in and out are [N, C, H, W] when nchw; c_in and c_out their channels.
** False, with the step failed, when scratch memory cannot be had. */
static bool stage_begin(kiln_kernel_context *ctx, stage *st, bool nchw,
                        const kiln_tensor_view *in, int64_t c_in,
                        const kiln_tensor_view *out) {
  bool half = is_half(in->dtype);
  memset(st, 0, sizeof *st);
  st->dt = half ? KILN_FLOAT : in->dtype;
  size_t esz = cpu_dtype_size(st->dt);
  const void *src = in->data;
  if (half) {
    float *w = stage_alloc(ctx, st, in->num_elements, sizeof(float));
    if (!w) goto fail;
    cpu_widen_f32(in->dtype, src, w, in->num_elements);
    src = w;
  }
  if (nchw) {
    void *t = stage_alloc(ctx, st, in->num_elements, esz);
    int64_t d[3];
    if (!t) goto fail;
    nc_hw(in, c_in, d);
    if (in->num_elements > 0) transpose(esz, src, t, d, true);
    src = t;
  }
  st->in = src;
  st->out = out->data;
  if ((nchw || half) &&
      !(st->out = stage_alloc(ctx, st, out->num_elements, esz)))
    goto fail;
  if (nchw && half && !(st->fin = stage_alloc(ctx, st, out->num_elements, esz)))
    goto fail;
  return true;
fail:
  stage_free(st);
  return false;
}

/* Moves the NHWC result into the output and frees the scratch. */
static void stage_end(stage *st, bool nchw, const kiln_tensor_view *out,
                      int64_t c_out) {
  void *res = st->out;
  if (nchw) {
    void *dst = st->fin ? st->fin : out->data;
    int64_t d[3];
    nc_hw(out, c_out, d);
    if (out->num_elements > 0)
      transpose(cpu_dtype_size(st->dt), res, dst, d, false);
    res = dst;
  }
  if (is_half(out->dtype))
    cpu_narrow_f32(out->dtype, res, out->data, out->num_elements);
  stage_free(st);
}

/* ------------------------------------------------------------- Conv2D */

typedef struct conv_geom {
  int64_t n, h, w, c;        /* input, NHWC */
  int64_t kh, kw, cg, oc;    /* filter [kh, kw, cg, oc] */
  int64_t groups, ocg;       /* c / cg groups of ocg output channels */
  int64_t oh, ow;
  int64_t sh, sw, dh, dw;    /* strides, dilations */
  int64_t pt, pl;            /* leading padding: top, left */
} conv_geom;

static void *conv_create(kiln_kernel_construct *kc) {
  return ks_conv2d_attrs_new(cpu_api, kc, "CPU");
}

/* im2col: row r of the scratch holds the window of output position
** m0 + r, for the channels of one group; K = kh * kw * cg per row. The
** copy only depends on the element size. */
typedef struct im2col_job {
  const conv_geom *g;
  const void *in;
  void *buf;
  int64_t m0, grp;
} im2col_job;

#define DEFINE_IM2COL(name, T)                                               \
  static void name(const im2col_job *j, int64_t r0, int64_t r1) {            \
    const conv_geom *g = j->g;                                               \
    const T *in = j->in;                                                     \
    int64_t k = g->kh * g->kw * g->cg, plane = g->oh * g->ow;                \
    for (int64_t r = r0; r < r1; r++) {                                      \
      int64_t m = j->m0 + r, n = m / plane, p = m % plane;                   \
      int64_t oy = p / g->ow, ox = p % g->ow;                                \
      T *dst = (T *)j->buf + r * k;                                          \
      for (int64_t ky = 0; ky < g->kh; ky++) {                               \
        int64_t iy = oy * g->sh - g->pt + ky * g->dh;                        \
        for (int64_t kx = 0; kx < g->kw; kx++, dst += g->cg) {               \
          int64_t ix = ox * g->sw - g->pl + kx * g->dw;                      \
          if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w) {                \
            for (int64_t c = 0; c < g->cg; c++) dst[c] = 0;                  \
          } else {                                                           \
            const T *src =                                                   \
                in + ((n * g->h + iy) * g->w + ix) * g->c + j->grp * g->cg;  \
            for (int64_t c = 0; c < g->cg; c++) dst[c] = src[c];             \
          }                                                                  \
        }                                                                    \
      }                                                                      \
    }                                                                        \
  }

DEFINE_IM2COL(im2col4, uint32_t)
DEFINE_IM2COL(im2col8, uint64_t)

static void im2col4_range(int64_t r0, int64_t r1, void *arg) {
  im2col4(arg, r0, r1);
}

static void im2col8_range(int64_t r0, int64_t r1, void *arg) {
  im2col8(arg, r0, r1);
}

/* int32 GEMM, C = A * B row-major, in wrapping unsigned arithmetic. */
typedef struct igemm_job {
  int64_t n, k, lda, ldb, ldc;
  const int32_t *a, *b;
  int32_t *c;
} igemm_job;

static void igemm_rows(int64_t i0, int64_t i1, void *arg) {
  const igemm_job *j = arg;
  for (int64_t i = i0; i < i1; i++) {
    int32_t *ci = j->c + i * j->ldc;
    for (int64_t x = 0; x < j->n; x++) ci[x] = 0;
    for (int64_t p = 0; p < j->k; p++) {
      uint32_t av = (uint32_t)j->a[i * j->lda + p];
      const int32_t *bp = j->b + p * j->ldb;
      for (int64_t x = 0; x < j->n; x++)
        ci[x] = (int32_t)((uint32_t)ci[x] + av * (uint32_t)bp[x]);
    }
  }
}

/* C[m,n] = A[m,k] * B[k,n] for the conv's dtype; offsets in elements. */
static void conv_gemm(kiln_kernel_context *ctx, kiln_dtype dt, int64_t m,
                      int64_t n, int64_t k, const void *a, int64_t lda,
                      const void *b, int64_t boff, int64_t ldb, void *c,
                      int64_t coff, int64_t ldc) {
  if (dt == KILN_FLOAT) {
    cpu_gemm_f32(false, false, m, n, k, a, lda, (const float *)b + boff, ldb,
                 (float *)c + coff, ldc);
  } else if (dt == KILN_DOUBLE) {
    cpu_gemm_f64(false, false, m, n, k, a, lda, (const double *)b + boff, ldb,
                 (double *)c + coff, ldc);
  } else {
    igemm_job j = {n, k, lda, ldb, ldc, a, (const int32_t *)b + boff,
                   (int32_t *)c + coff};
    int64_t work = n * k > 0 ? n * k : 1;
    cpu_parallel_for(ctx, m, work >= 16384 ? 1 : 16384 / work, igemm_rows, &j);
  }
}

/* Scratch rows of im2col per chunk: about 4M elements. */
#define IM2COL_ELEMENTS ((int64_t)1 << 22)

static bool conv_run(kiln_kernel_context *ctx, const conv_geom *g,
                     kiln_dtype dt, const void *in, const void *f,
                     void *out) {
  size_t esz = cpu_dtype_size(dt);
  int64_t m = g->n * g->oh * g->ow, k = g->kh * g->kw * g->cg;
  if (k == 0) {
    memset(out, 0, (size_t)(m * g->oc) * esz);
    return true;
  }
  if (dt != KILN_INT32) cpu_blas_threads(ctx);
  if (g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pt == 0 &&
      g->pl == 0 && g->groups == 1 && g->oh == g->h && g->ow == g->w) {
    /* 1x1: the NHWC input already is the [m, c] matrix. */
    conv_gemm(ctx, dt, m, g->oc, g->c, in, g->c, f, 0, g->oc, out, 0, g->oc);
    return true;
  }
  int64_t chunk = IM2COL_ELEMENTS / k;
  if (chunk < 1) chunk = 1;
  if (chunk > m) chunk = m;
  void *buf = malloc((size_t)(chunk * k) * esz);
  if (!buf) {
    cpu_fail(ctx, KILN_RESOURCE_EXHAUSTED,
             "out of memory for a %lld x %lld im2col buffer",
             (long long)chunk, (long long)k);
    return false;
  }
  im2col_job j = {.g = g, .in = in, .buf = buf};
  int64_t grain = k >= 4096 ? 1 : 4096 / k;
  for (j.m0 = 0; j.m0 < m; j.m0 += chunk) {
    int64_t rows = m - j.m0 < chunk ? m - j.m0 : chunk;
    for (j.grp = 0; j.grp < g->groups; j.grp++) {
      cpu_parallel_for(ctx, rows, grain,
                       esz == 8 ? im2col8_range : im2col4_range, &j);
      conv_gemm(ctx, dt, rows, g->ocg, k, buf, k, f, j.grp * g->ocg, g->oc,
                out, j.m0 * g->oc + j.grp * g->ocg, g->oc);
    }
  }
  free(buf);
  return true;
}

/* Input [N, H, W, C] or [N, C, H, W]: fills the size fields of g. */
static void geom_input(conv_geom *g, const kiln_tensor_view *in, bool nchw) {
  g->n = in->dims[0];
  g->h = in->dims[nchw ? 2 : 1];
  g->w = in->dims[nchw ? 3 : 2];
  g->c = in->dims[nchw ? 1 : 3];
}

static const kiln_tensor_view *alloc_4d(kiln_kernel_context *ctx, bool nchw,
                                        int64_t n, int64_t h, int64_t w,
                                        int64_t c) {
  int64_t d[4] = {n, h, w, c};
  if (nchw) d[1] = c, d[2] = h, d[3] = w;
  return cpu_api->allocate_output(ctx, 0, d, 4);
}

/* The filter in the dtype computed in: widened when 16-bit. */
static const void *stage_filter(kiln_kernel_context *ctx, stage *st,
                                const kiln_tensor_view *f) {
  if (!is_half(f->dtype)) return f->data;
  float *w = stage_alloc(ctx, st, f->num_elements, sizeof(float));
  if (w) cpu_widen_f32(f->dtype, f->data, w, f->num_elements);
  return w;
}

static bool check_4d(kiln_kernel_context *ctx, const kiln_tensor_view *t,
                     const char *what, const char *sep) {
  char sh[256];
  if (t->ndims == 4) return true;
  cpu_fail(ctx, KILN_INVALID_ARGUMENT, "%s must be 4-dimensional%s%s", what,
           sep, ks_dims_str(t->dims, t->ndims, sh, sizeof sh));
  return false;
}

static void conv_compute(void *state, kiln_kernel_context *ctx) {
  const ks_window *s = state;
  const kiln_tensor_view *in = cpu_api->input(ctx, 0);
  const kiln_tensor_view *f = cpu_api->input(ctx, 1);
  conv_geom g;
  if (!check_4d(ctx, in, "input", "") || !check_4d(ctx, f, "filter", ": "))
    return;
  geom_input(&g, in, s->nchw);
  g.kh = f->dims[0], g.kw = f->dims[1], g.cg = f->dims[2], g.oc = f->dims[3];
  if (g.cg <= 0) {
    cpu_fail(ctx, KILN_INVALID_ARGUMENT,
             "filter depth must be stricly positive, got %lld",
             (long long)g.cg);
    return;
  }
  if (g.c % g.cg != 0) {
    cpu_fail(ctx, KILN_INVALID_ARGUMENT,
             "input depth must be evenly divisible by filter depth: %lld vs "
             "%lld",
             (long long)g.c, (long long)g.cg);
    return;
  }
  g.groups = g.c / g.cg;
  if (g.groups > 1 && (g.oc % g.groups != 0 || g.oc < g.groups)) {
    cpu_fail(ctx, KILN_INVALID_ARGUMENT,
             "output depth must be evenly divisible by number of groups: "
             "%lld vs %lld",
             (long long)g.oc, (long long)g.groups);
    return;
  }
  g.ocg = g.groups > 0 ? g.oc / g.groups : g.oc;
  g.sh = s->strides[1], g.sw = s->strides[2];
  g.dh = s->dilations[1], g.dw = s->dilations[2];
  if (!ks_window_size(cpu_api, ctx, s, g.h, g.kh, g.dh, g.sh, 0, &g.oh,
                      &g.pt) ||
      !ks_window_size(cpu_api, ctx, s, g.w, g.kw, g.dw, g.sw, 1, &g.ow,
                      &g.pl))
    return;
  const kiln_tensor_view *out = alloc_4d(ctx, s->nchw, g.n, g.oh, g.ow, g.oc);
  if (!out || out->num_elements == 0) return;
  if (in->num_elements == 0) {
    /* No input channels: every output is an empty sum. */
    memset(out->data, 0, out->nbytes);
    return;
  }
  stage st;
  if (!stage_begin(ctx, &st, s->nchw, in, g.c, out)) return;
  const void *fw = stage_filter(ctx, &st, f);
  if (!fw || !conv_run(ctx, &g, st.dt, st.in, fw, st.out)) {
    stage_free(&st);
    return;
  }
  stage_end(&st, s->nchw, out, g.oc);
}

/* ------------------------------------------------ DepthwiseConv2dNative */

static void *dw_create(kiln_kernel_construct *kc) {
  static const int64_t ones[4] = {1, 1, 1, 1};
  ks_window *s = win_new(kc);
  const char *msg = NULL;
  if (!s) return NULL;
  if (!ks_read_format(cpu_api, kc, s, "CPU") ||
      !ks_read_four(cpu_api, kc, s, "strides", NULL, "strides", s->strides) ||
      !ks_read_four(cpu_api, kc, s, "dilations", ones, "dilations",
                    s->dilations))
    goto fail;
  if (s->strides[1] != s->strides[2])
    msg = "Current implementation only supports equal length strides in the "
          "row and column dimensions.";
  else if (s->strides[0] != 1 || s->strides[3] != 1)
    msg = "Current implementation does not yet support strides in the batch "
          "and depth dimensions.";
  else if (s->dilations[0] != 1 || s->dilations[3] != 1)
    msg = "Current implementation does not yet support dilations in the "
          "batch and depth dimensions.";
  else if (s->dilations[1] <= 0 || s->dilations[2] <= 0)
    msg = "Dilated rates should be larger than 0.";
  if (msg) {
    cpu_api->construct_fail(kc, KILN_INVALID_ARGUMENT, msg);
    goto fail;
  }
  if (!ks_read_padding(cpu_api, kc, s)) goto fail;
  return s;
fail:
  free(s);
  return NULL;
}

typedef struct dw_job {
  const conv_geom *g; /* cg is the depth multiplier here */
  kiln_dtype dt;
  const void *in, *f;
  void *out;
} dw_job;

/* Rows are (n, oy) pairs; output channel c * mult + q reads input channel
** c through filter [ky, kx, c, q]. */
#define DEFINE_DW(name, T)                                                   \
  static void name(const dw_job *j, int64_t r0, int64_t r1) {                \
    const conv_geom *g = j->g;                                               \
    const T *in = j->in, *f = j->f;                                          \
    int64_t mult = g->cg, oc = g->oc;                                        \
    for (int64_t r = r0; r < r1; r++) {                                      \
      int64_t n = r / g->oh, oy = r % g->oh;                                 \
      for (int64_t ox = 0; ox < g->ow; ox++) {                               \
        T *o = (T *)j->out + ((n * g->oh + oy) * g->ow + ox) * oc;           \
        for (int64_t c = 0; c < oc; c++) o[c] = 0;                           \
        for (int64_t ky = 0; ky < g->kh; ky++) {                             \
          int64_t iy = oy * g->sh - g->pt + ky * g->dh;                      \
          if (iy < 0 || iy >= g->h) continue;                                \
          for (int64_t kx = 0; kx < g->kw; kx++) {                           \
            int64_t ix = ox * g->sw - g->pl + kx * g->dw;                    \
            if (ix < 0 || ix >= g->w) continue;                              \
            const T *ip = in + ((n * g->h + iy) * g->w + ix) * g->c;         \
            const T *fp = f + (ky * g->kw + kx) * oc;                        \
            if (mult == 1) {                                                 \
              for (int64_t c = 0; c < oc; c++) o[c] += ip[c] * fp[c];        \
            } else {                                                         \
              for (int64_t c = 0; c < g->c; c++)                             \
                for (int64_t q = 0; q < mult; q++)                           \
                  o[c * mult + q] += ip[c] * fp[c * mult + q];               \
            }                                                                \
          }                                                                  \
        }                                                                    \
      }                                                                      \
    }                                                                        \
  }

DEFINE_DW(dw_f32, float)
DEFINE_DW(dw_f64, double)

static void dw_range(int64_t r0, int64_t r1, void *arg) {
  const dw_job *j = arg;
  if (j->dt == KILN_DOUBLE)
    dw_f64(j, r0, r1);
  else
    dw_f32(j, r0, r1);
}

static void dw_compute(void *state, kiln_kernel_context *ctx) {
  const ks_window *s = state;
  const kiln_tensor_view *in = cpu_api->input(ctx, 0);
  const kiln_tensor_view *f = cpu_api->input(ctx, 1);
  conv_geom g;
  if (!check_4d(ctx, in, "input", "") || !check_4d(ctx, f, "filter", ": "))
    return;
  geom_input(&g, in, s->nchw);
  if (g.c != f->dims[2]) {
    cpu_fail(ctx, KILN_INVALID_ARGUMENT,
             "input and filter must have the same depth: %lld vs %lld",
             (long long)g.c, (long long)f->dims[2]);
    return;
  }
  g.kh = f->dims[0], g.kw = f->dims[1], g.cg = f->dims[3];
  g.oc = g.c * g.cg;
  g.groups = g.c, g.ocg = g.cg;
  g.sh = s->strides[1], g.sw = s->strides[2];
  g.dh = s->dilations[1], g.dw = s->dilations[2];
  if (!ks_window_size(cpu_api, ctx, s, g.h, g.kh, g.dh, g.sh, 0, &g.oh,
                      &g.pt) ||
      !ks_window_size(cpu_api, ctx, s, g.w, g.kw, g.dw, g.sw, 1, &g.ow,
                      &g.pl))
    return;
  const kiln_tensor_view *out = alloc_4d(ctx, s->nchw, g.n, g.oh, g.ow, g.oc);
  if (!out || out->num_elements == 0) return;
  stage st;
  if (!stage_begin(ctx, &st, s->nchw, in, g.c, out)) return;
  dw_job j = {.g = &g, .dt = st.dt, .in = st.in, .out = st.out};
  if (!(j.f = stage_filter(ctx, &st, f))) {
    stage_free(&st);
    return;
  }
  int64_t work = g.ow * g.oc * g.kh * g.kw;
  cpu_parallel_for(ctx, g.n * g.oh, work >= 16384 ? 1 : 16384 / (work + 1) + 1,
                   dw_range, &j);
  stage_end(&st, s->nchw, out, g.oc);
}

/* ------------------------------------------------------------- pooling */

static void *pool_create(kiln_kernel_construct *kc) {
  ks_window *s = win_new(kc);
  if (!s) return NULL;
  if (!ks_read_format(cpu_api, kc, s, "CPU") ||
      !ks_read_four(cpu_api, kc, s, "ksize", NULL, "ksize", s->ksize) ||
      !ks_read_four(cpu_api, kc, s, "strides", NULL, "stride", s->strides) ||
      !ks_read_padding(cpu_api, kc, s))
    goto fail;
  if (s->ksize[0] != 1 || s->strides[0] != 1) {
    cpu_api->construct_fail(kc, KILN_UNIMPLEMENTED,
                            "Pooling is not yet supported on the batch "
                            "dimension.");
    goto fail;
  }
  for (int i = 0; i < 4; i++)
    if (s->ksize[i] <= 0) {
      char msg[96];
      snprintf(msg, sizeof msg, "ksize must be a positive int32 value, got:%lld",
               (long long)s->ksize[i]);
      cpu_api->construct_fail(kc, KILN_INVALID_ARGUMENT, msg);
      goto fail;
    }
  return s;
fail:
  free(s);
  return NULL;
}

typedef struct pool_job {
  const conv_geom *g; /* kh, kw: window; cg: depth window */
  bool avg;
  const void *in;
  void *out;
  kiln_dtype dt;
} pool_job;

/* Spatial max pooling over rows (n, oy): the window is clipped to the
** input, so padding never wins (TensorFlow's SAME); NaN propagates. */
#define DEFINE_MAXPOOL(name, T, LOWEST, ISNAN)                               \
  static void name(const pool_job *j, int64_t r0, int64_t r1) {              \
    const conv_geom *g = j->g;                                               \
    int64_t c = g->c;                                                        \
    for (int64_t r = r0; r < r1; r++) {                                      \
      int64_t n = r / g->oh, oy = r % g->oh;                                 \
      int64_t y0 = oy * g->sh - g->pt, y1 = y0 + g->kh;                      \
      if (y0 < 0) y0 = 0;                                                    \
      if (y1 > g->h) y1 = g->h;                                              \
      for (int64_t ox = 0; ox < g->ow; ox++) {                               \
        int64_t x0 = ox * g->sw - g->pl, x1 = x0 + g->kw;                    \
        if (x0 < 0) x0 = 0;                                                  \
        if (x1 > g->w) x1 = g->w;                                            \
        T *o = (T *)j->out + ((n * g->oh + oy) * g->ow + ox) * c;            \
        for (int64_t k = 0; k < c; k++) o[k] = LOWEST;                       \
        for (int64_t y = y0; y < y1; y++)                                    \
          for (int64_t x = x0; x < x1; x++) {                                \
            const T *ip = (const T *)j->in + ((n * g->h + y) * g->w + x) * c; \
            for (int64_t k = 0; k < c; k++) {                                \
              T v = ip[k], m = o[k];                                         \
              o[k] = v > m || ISNAN(v) ? v : m;                              \
            }                                                                \
          }                                                                  \
      }                                                                      \
    }                                                                        \
  }

/* Max over groups of cg consecutive channels, rows (n, y). */
#define DEFINE_DEPTHPOOL(name, T, ISNAN)                                     \
  static void name(const pool_job *j, int64_t r0, int64_t r1) {              \
    const conv_geom *g = j->g;                                               \
    int64_t dwin = g->cg, oc = g->c / dwin;                                  \
    for (int64_t p = r0 * g->w; p < r1 * g->w; p++) {                        \
      const T *ip = (const T *)j->in + p * g->c;                             \
      T *o = (T *)j->out + p * oc;                                           \
      for (int64_t k = 0; k < oc; k++) {                                     \
        T m = ip[k * dwin];                                                  \
        for (int64_t q = 1; q < dwin; q++) {                                 \
          T v = ip[k * dwin + q];                                            \
          if (v > m || ISNAN(v)) m = v;                                      \
        }                                                                    \
        o[k] = m;                                                            \
      }                                                                      \
    }                                                                        \
  }

#define NO_NAN(v) 0
#define FLOAT_NAN(v) isnan(v)

DEFINE_MAXPOOL(maxpool_f32, float, -FLT_MAX, FLOAT_NAN)
DEFINE_MAXPOOL(maxpool_f64, double, -DBL_MAX, FLOAT_NAN)
DEFINE_MAXPOOL(maxpool_i8, int8_t, INT8_MIN, NO_NAN)
DEFINE_MAXPOOL(maxpool_i16, int16_t, INT16_MIN, NO_NAN)
DEFINE_MAXPOOL(maxpool_i32, int32_t, INT32_MIN, NO_NAN)
DEFINE_MAXPOOL(maxpool_i64, int64_t, INT64_MIN, NO_NAN)
DEFINE_MAXPOOL(maxpool_u8, uint8_t, 0, NO_NAN)
DEFINE_MAXPOOL(maxpool_u16, uint16_t, 0, NO_NAN)
DEFINE_DEPTHPOOL(depthpool_f32, float, FLOAT_NAN)
DEFINE_DEPTHPOOL(depthpool_f64, double, FLOAT_NAN)
DEFINE_DEPTHPOOL(depthpool_i8, int8_t, NO_NAN)
DEFINE_DEPTHPOOL(depthpool_i16, int16_t, NO_NAN)
DEFINE_DEPTHPOOL(depthpool_i32, int32_t, NO_NAN)
DEFINE_DEPTHPOOL(depthpool_i64, int64_t, NO_NAN)
DEFINE_DEPTHPOOL(depthpool_u8, uint8_t, NO_NAN)
DEFINE_DEPTHPOOL(depthpool_u16, uint16_t, NO_NAN)

/* Average over the part of the window inside the input: SAME padding
** divides by the count of real elements, as TensorFlow does. */
#define DEFINE_AVGPOOL(name, T)                                              \
  static void name(const pool_job *j, int64_t r0, int64_t r1) {              \
    const conv_geom *g = j->g;                                               \
    int64_t c = g->c;                                                        \
    for (int64_t r = r0; r < r1; r++) {                                      \
      int64_t n = r / g->oh, oy = r % g->oh;                                 \
      int64_t y0 = oy * g->sh - g->pt, y1 = y0 + g->kh;                      \
      if (y0 < 0) y0 = 0;                                                    \
      if (y1 > g->h) y1 = g->h;                                              \
      for (int64_t ox = 0; ox < g->ow; ox++) {                               \
        int64_t x0 = ox * g->sw - g->pl, x1 = x0 + g->kw;                    \
        if (x0 < 0) x0 = 0;                                                  \
        if (x1 > g->w) x1 = g->w;                                            \
        T *o = (T *)j->out + ((n * g->oh + oy) * g->ow + ox) * c;            \
        for (int64_t k = 0; k < c; k++) o[k] = 0;                            \
        for (int64_t y = y0; y < y1; y++)                                    \
          for (int64_t x = x0; x < x1; x++) {                                \
            const T *ip = (const T *)j->in + ((n * g->h + y) * g->w + x) * c; \
            for (int64_t k = 0; k < c; k++) o[k] += ip[k];                   \
          }                                                                  \
        int64_t count = (y1 > y0 ? y1 - y0 : 0) * (x1 > x0 ? x1 - x0 : 0);   \
        T inv = count > 0 ? (T)1 / (T)count : (T)0;                          \
        for (int64_t k = 0; k < c; k++) o[k] *= inv;                         \
      }                                                                      \
    }                                                                        \
  }

DEFINE_AVGPOOL(avgpool_f32, float)
DEFINE_AVGPOOL(avgpool_f64, double)

static void pool_range(int64_t r0, int64_t r1, void *arg) {
  const pool_job *j = arg;
  bool depth = j->g->cg != 1;
  if (j->avg) {
    if (j->dt == KILN_DOUBLE)
      avgpool_f64(j, r0, r1);
    else
      avgpool_f32(j, r0, r1);
    return;
  }
#define POOL_CASE(code, sfx)                      \
  case code:                                      \
    if (depth)                                    \
      depthpool_##sfx(j, r0, r1);                 \
    else                                          \
      maxpool_##sfx(j, r0, r1);                   \
    break;
  switch (j->dt) {
    POOL_CASE(KILN_FLOAT, f32)
    POOL_CASE(KILN_DOUBLE, f64)
    POOL_CASE(KILN_INT8, i8)
    POOL_CASE(KILN_INT16, i16)
    POOL_CASE(KILN_INT32, i32)
    POOL_CASE(KILN_INT64, i64)
    POOL_CASE(KILN_UINT8, u8)
    POOL_CASE(KILN_UINT16, u16)
    default: break;
  }
#undef POOL_CASE
}

static void pool_compute(const ks_window *s, kiln_kernel_context *ctx,
                         bool avg) {
  const kiln_tensor_view *in = cpu_api->input(ctx, 0);
  conv_geom g;
  if (in->ndims != 4) {
    cpu_fail(ctx, KILN_INVALID_ARGUMENT, "tensor_in must be 4-dimensional");
    return;
  }
  memset(&g, 0, sizeof g);
  geom_input(&g, in, s->nchw);
  g.kh = s->ksize[1], g.kw = s->ksize[2], g.cg = s->ksize[3];
  g.sh = s->strides[1], g.sw = s->strides[2];
  int64_t oc = g.c;
  if (g.cg != 1 && (g.kh != 1 || g.kw != 1)) {
    cpu_fail(ctx, KILN_UNIMPLEMENTED,
             "MaxPooling supports exactly one of pooling across depth or "
             "pooling across width/height.");
    return;
  }
  if (g.cg == 1) {
    if (!ks_window_size(cpu_api, ctx, s, g.h, g.kh, 1, g.sh, 0, &g.oh, &g.pt) ||
        !ks_window_size(cpu_api, ctx, s, g.w, g.kw, 1, g.sw, 1, &g.ow, &g.pl))
      return;
  } else {
    if (g.c % g.cg != 0) {
      cpu_fail(ctx, KILN_UNIMPLEMENTED,
               "Depthwise max pooling requires the depth window to evenly "
               "divide the input depth");
      return;
    }
    if (s->strides[3] != g.cg) {
      cpu_fail(ctx, KILN_UNIMPLEMENTED,
               "Depthwise max pooling requires the depth window to equal the "
               "depth stride");
      return;
    }
    g.oh = g.h, g.ow = g.w;
    oc = g.c / g.cg;
  }
  if (avg && g.cg != 1) {
    cpu_fail(ctx, KILN_UNIMPLEMENTED,
             "Non-spatial pooling is not yet supported. Volunteers? :)");
    return;
  }
  const kiln_tensor_view *out = alloc_4d(ctx, s->nchw, g.n, g.oh, g.ow, oc);
  if (!out || out->num_elements == 0) return;
  stage st;
  if (!stage_begin(ctx, &st, s->nchw, in, g.c, out)) return;
  pool_job j = {.g = &g, .avg = avg, .in = st.in, .out = st.out, .dt = st.dt};
  int64_t rows = g.n * g.oh;
  int64_t work = g.ow * g.c * (g.cg == 1 ? g.kh * g.kw : 1);
  cpu_parallel_for(ctx, rows, work >= 16384 ? 1 : 16384 / (work + 1) + 1,
                   pool_range, &j);
  stage_end(&st, s->nchw, out, oc);
}

static void maxpool_compute(void *state, kiln_kernel_context *ctx) {
  pool_compute(state, ctx, false);
}

static void avgpool_compute(void *state, kiln_kernel_context *ctx) {
  pool_compute(state, ctx, true);
}

/* ---------------------------------------------------------------- table */

#define FLOATS "float,double,half,bfloat16"

static const kiln_kernel_def defs[] = {
    CPU_KERNEL("Conv2D", "T=" FLOATS ",int32", conv_compute,
               .create = conv_create, .destroy = win_destroy),
    CPU_KERNEL("DepthwiseConv2dNative", "T=" FLOATS, dw_compute,
               .create = dw_create, .destroy = win_destroy),
    CPU_KERNEL("MaxPool", "T=" FLOATS ",int8,int16,int32,int64,uint8,uint16",
               maxpool_compute, .create = pool_create,
               .destroy = win_destroy),
    CPU_KERNEL("AvgPool", "T=" FLOATS, avgpool_compute,
               .create = pool_create, .destroy = win_destroy),
};

const cpu_kernel_table cpu_conv_kernels = {defs, sizeof defs / sizeof defs[0]};
