/*
** Training kernels: the optimizers that update TF1 reference variables in
** place (ApplyGradientDescent, ApplyMomentum, ApplyAdam, ApplyAdagrad,
** ApplyRMSProp), and the helpers tf.gradients puts in gradient graphs that
** no other family has: BroadcastGradientArgs, DynamicStitch, the
** activation gradients, BiasAddGrad, L2Loss, the softmax cross entropies,
** ConcatOffset and InvertPermutation.
**
** An Apply* kernel receives each Ref input as a view of the variable's own
** buffer: it checks shapes as TensorFlow does, updates the buffers, and
** hands the variable on as its ref output with set_output_alias. Locking
** (use_locking) and the uninitialised-variable check are the core's.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cpu.h"

#define GRAIN 16384

#define IN(i) cpu_api->input(ctx, (i))

/* ---------------------------------------------------------------- helpers */

static bool oom(kiln_kernel_context *ctx, const char *what) {
  cpu_fail(ctx, KILN_RESOURCE_EXHAUSTED, "out of memory for %s", what);
  return false;
}

static bool same_dims(const kiln_tensor_view *a, const kiln_tensor_view *b) {
  if (a->ndims != b->ndims) return false;
  for (int i = 0; i < a->ndims; i++)
    if (a->dims[i] != b->dims[i]) return false;
  return true;
}

/* Integers joined by `sep`, at most `limit` of them ("..." after), as
** TensorFlow's SummarizeValue and StrJoin print them. */
static const char *join_ints(const kiln_tensor_view *t, int64_t limit,
                             const char *sep, char *buf, size_t cap) {
  size_t at = 0;
  buf[0] = '\0';
  for (int64_t i = 0; i < t->num_elements && at + 1 < cap; i++) {
    if (i == limit) {
      snprintf(buf + at, cap - at, "...");
      return buf;
    }
    int w = snprintf(buf + at, cap - at, "%s%lld", i ? sep : "",
                     (long long)cpu_int_at(t, i));
    if (w < 0 || (size_t)w >= cap - at) break;
    at += (size_t)w;
  }
  return buf;
}

/* TensorFlow's IsScalar, or IsLegacyScalar (also [1]) where its kernel
** still accepts that. */
static bool scalar_or_fail(kiln_kernel_context *ctx, const kiln_tensor_view *t,
                           const char *what, bool legacy) {
  char s[CPU_DIMS_CAP];
  if (t->ndims == 0 || (legacy && t->ndims == 1 && t->dims[0] == 1))
    return true;
  cpu_fail(ctx, KILN_INVALID_ARGUMENT, "%s is not a scalar: %s", what,
           CPU_DIMS(t, s));
  return false;
}

static bool like_var_or_fail(kiln_kernel_context *ctx,
                             const kiln_tensor_view *var,
                             const kiln_tensor_view *t, const char *what) {
  char a[CPU_DIMS_CAP], b[CPU_DIMS_CAP];
  if (same_dims(var, t)) return true;
  cpu_fail(ctx, KILN_INVALID_ARGUMENT,
           "var and %s do not have the same shape%s %s", what,
           CPU_DIMS(var, a), CPU_DIMS(t, b));
  return false;
}

static void put_int(const kiln_tensor_view *t, int64_t i, int64_t v) {
  if (t->dtype == KILN_INT64) ((int64_t *)t->data)[i] = v;
  else ((int32_t *)t->data)[i] = (int32_t)v;
}

static double scalar_of(const kiln_tensor_view *t) {
  return t->dtype == KILN_DOUBLE ? *(const double *)t->data
                                 : (double)*(const float *)t->data;
}

/* Whole arrays between a floating dtype and double, one switch per array. */
static void to_double(kiln_dtype dt, const void *src, double *dst, int64_t n) {
  if (dt == KILN_DOUBLE) {
    if (n > 0) memcpy(dst, src, (size_t)n * sizeof *dst);
  } else if (dt == KILN_FLOAT) {
    const float *s = src;
    for (int64_t i = 0; i < n; i++) dst[i] = s[i];
  } else {
    const uint16_t *s = src;
    bool h = dt == KILN_HALF;
    for (int64_t i = 0; i < n; i++)
      dst[i] = h ? cpu_half_to_float(s[i]) : cpu_bfloat16_to_float(s[i]);
  }
}

static void from_double(kiln_dtype dt, const double *src, void *dst,
                        int64_t n) {
  if (dt == KILN_DOUBLE) {
    if (n > 0) memcpy(dst, src, (size_t)n * sizeof *src);
  } else if (dt == KILN_FLOAT) {
    float *d = dst;
    for (int64_t i = 0; i < n; i++) d[i] = (float)src[i];
  } else {
    uint16_t *d = dst;
    bool h = dt == KILN_HALF;
    for (int64_t i = 0; i < n; i++)
      d[i] = h ? cpu_float_to_half((float)src[i])
               : cpu_float_to_bfloat16((float)src[i]);
  }
}

/* A floating input as doubles: a fresh array the caller frees. */
static double *doubles_of(kiln_kernel_context *ctx, const kiln_tensor_view *t) {
  double *p = malloc(t->num_elements > 0 ? (size_t)t->num_elements * sizeof *p
                                         : 1);
  if (!p) {
    oom(ctx, "a double copy of an input");
    return NULL;
  }
  to_double(t->dtype, t->data, p, t->num_elements);
  return p;
}

/* ------------------------------------------------------------- optimizers */

typedef struct apply_job apply_job;
typedef void (*apply_fn)(const apply_job *j, int64_t b, int64_t e);
struct apply_job {
  apply_fn fn;
  void *var, *s1, *s2;  /* the variable and its slots (accum, m, v, ms, mom) */
  const void *grad;
  double h[6];          /* the scalar hyper-parameters, in input order */
  bool flag;            /* use_nesterov, or Adagrad's update_slots */
};

/* TensorFlow's update formulas, computed in T like its Eigen functors. */
#define DEFINE_APPLY(T, SQRT)                                                  \
  static void gd_##T(const apply_job *j, int64_t b, int64_t e) {              \
    T *var = j->var, lr = (T)j->h[0];                                          \
    const T *g = j->grad;                                                      \
    for (int64_t i = b; i < e; i++) var[i] -= g[i] * lr;                       \
  }                                                                            \
  static void momentum_##T(const apply_job *j, int64_t b, int64_t e) {        \
    T *var = j->var, *acc = j->s1, lr = (T)j->h[0], mom = (T)j->h[1];          \
    const T *g = j->grad;                                                      \
    if (j->flag) {                                                             \
      for (int64_t i = b; i < e; i++) {                                        \
        acc[i] = acc[i] * mom + g[i];                                          \
        var[i] -= g[i] * lr + acc[i] * mom * lr;                               \
      }                                                                        \
    } else {                                                                   \
      for (int64_t i = b; i < e; i++) {                                        \
        acc[i] = acc[i] * mom + g[i];                                          \
        var[i] -= acc[i] * lr;                                                 \
      }                                                                        \
    }                                                                          \
  }                                                                            \
  static void adam_##T(const apply_job *j, int64_t b, int64_t e) {            \
    T *var = j->var, *m = j->s1, *v = j->s2;                                   \
    const T *g = j->grad;                                                      \
    T b1p = (T)j->h[0], b2p = (T)j->h[1], lr = (T)j->h[2];                     \
    T b1 = (T)j->h[3], b2 = (T)j->h[4], eps = (T)j->h[5];                      \
    T lr_t = lr * SQRT((T)1 - b2p) / ((T)1 - b1p);                             \
    for (int64_t i = b; i < e; i++) {                                          \
      m[i] += (g[i] - m[i]) * ((T)1 - b1);                                     \
      v[i] += (g[i] * g[i] - v[i]) * ((T)1 - b2);                              \
      T step = j->flag ? (g[i] * ((T)1 - b1) + b1 * m[i]) * lr_t              \
                       : m[i] * lr_t;                                          \
      var[i] -= step / (eps + SQRT(v[i]));                                     \
    }                                                                          \
  }                                                                            \
  static void adagrad_##T(const apply_job *j, int64_t b, int64_t e) {         \
    T *var = j->var, *acc = j->s1, lr = (T)j->h[0];                            \
    const T *g = j->grad;                                                      \
    for (int64_t i = b; i < e; i++) {                                          \
      if (j->flag) acc[i] += g[i] * g[i];                                      \
      var[i] -= g[i] * lr / SQRT(acc[i]);                                      \
    }                                                                          \
  }                                                                            \
  static void rmsprop_##T(const apply_job *j, int64_t b, int64_t e) {         \
    T *var = j->var, *ms = j->s1, *mom = j->s2;                                \
    const T *g = j->grad;                                                      \
    T lr = (T)j->h[0], rho = (T)j->h[1], momentum = (T)j->h[2];                \
    T eps = (T)j->h[3];                                                        \
    for (int64_t i = b; i < e; i++) {                                          \
      ms[i] += (g[i] * g[i] - ms[i]) * ((T)1 - rho);                           \
      mom[i] = mom[i] * momentum + lr * g[i] / SQRT(ms[i] + eps);              \
      var[i] -= mom[i];                                                        \
    }                                                                          \
  }

DEFINE_APPLY(float, sqrtf)
DEFINE_APPLY(double, sqrt)

static void apply_chunk(int64_t b, int64_t e, void *arg) {
  const apply_job *j = arg;
  j->fn(j, b, e);
}

/* Runs the update and makes the variable the ref output. */
static void apply_run(kiln_kernel_context *ctx, apply_job *j,
                      const kiln_tensor_view *var, apply_fn f32,
                      apply_fn f64) {
  j->fn = var->dtype == KILN_DOUBLE ? f64 : f32;
  j->var = var->data;
  cpu_parallel_for(ctx, var->num_elements, GRAIN, apply_chunk, j);
  cpu_api->set_output_alias(ctx, 0, 0, var->dims, var->ndims);
}

/* The bool attr an optimizer reads once: use_nesterov or update_slots. */
typedef struct apply_state {
  bool flag;
} apply_state;

static void *apply_create(kiln_kernel_construct *kc, const char *attr,
                          bool dflt) {
  apply_state *s = malloc(sizeof *s);
  if (!s) {
    cpu_api->construct_fail(kc, KILN_RESOURCE_EXHAUSTED,
                            "out of memory creating an optimizer kernel");
    return NULL;
  }
  if (!cpu_api->attr_bool(cpu_api->construct_attrs(kc), attr, &s->flag))
    s->flag = dflt;
  return s;
}

static void *nesterov_create(kiln_kernel_construct *kc) {
  return apply_create(kc, "use_nesterov", false);
}

static void *update_slots_create(kiln_kernel_construct *kc) {
  return apply_create(kc, "update_slots", true);
}

static void gd_compute(void *st, kiln_kernel_context *ctx) {
  const kiln_tensor_view *var = IN(0), *alpha = IN(1), *delta = IN(2);
  (void)st;
  if (!scalar_or_fail(ctx, alpha, "alpha", true) ||
      !like_var_or_fail(ctx, var, delta, "delta"))
    return;
  apply_job j = {.grad = delta->data, .h = {scalar_of(alpha)}};
  apply_run(ctx, &j, var, gd_float, gd_double);
}

static void momentum_compute(void *st, kiln_kernel_context *ctx) {
  const kiln_tensor_view *var = IN(0), *accum = IN(1), *lr = IN(2),
                         *grad = IN(3), *momentum = IN(4);
  if (!scalar_or_fail(ctx, lr, "lr", false) ||
      !like_var_or_fail(ctx, var, accum, "accum") ||
      !like_var_or_fail(ctx, var, grad, "grad") ||
      !scalar_or_fail(ctx, momentum, "momentum", false))
    return;
  apply_job j = {.s1 = accum->data, .grad = grad->data,
                 .h = {scalar_of(lr), scalar_of(momentum)},
                 .flag = ((const apply_state *)st)->flag};
  apply_run(ctx, &j, var, momentum_float, momentum_double);
}

static void adam_compute(void *st, kiln_kernel_context *ctx) {
  static const char *const names[] = {"beta1_power", "beta2_power", "lr",
                                      "beta1", "beta2", "epsilon"};
  const kiln_tensor_view *var = IN(0), *m = IN(1), *v = IN(2), *grad = IN(9);
  apply_job j = {.s1 = m->data, .s2 = v->data, .grad = grad->data,
                 .flag = ((const apply_state *)st)->flag};
  for (int i = 0; i < 6; i++) {
    if (!scalar_or_fail(ctx, IN(3 + i), names[i], false)) return;
    j.h[i] = scalar_of(IN(3 + i));
  }
  if (!like_var_or_fail(ctx, var, m, "m") ||
      !like_var_or_fail(ctx, var, v, "v") ||
      !like_var_or_fail(ctx, var, grad, "grad"))
    return;
  apply_run(ctx, &j, var, adam_float, adam_double);
}

static void adagrad_compute(void *st, kiln_kernel_context *ctx) {
  const kiln_tensor_view *var = IN(0), *accum = IN(1), *lr = IN(2),
                         *grad = IN(3);
  if (!scalar_or_fail(ctx, lr, "lr", false) ||
      !like_var_or_fail(ctx, var, accum, "accum") ||
      !like_var_or_fail(ctx, var, grad, "grad"))
    return;
  apply_job j = {.s1 = accum->data, .grad = grad->data,
                 .h = {scalar_of(lr)},
                 .flag = ((const apply_state *)st)->flag};
  apply_run(ctx, &j, var, adagrad_float, adagrad_double);
}

static void rmsprop_compute(void *st, kiln_kernel_context *ctx) {
  static const char *const names[] = {"lr", "rho", "momentum", "epsilon"};
  const kiln_tensor_view *var = IN(0), *ms = IN(1), *mom = IN(2),
                         *grad = IN(7);
  apply_job j = {.s1 = ms->data, .s2 = mom->data, .grad = grad->data};
  (void)st;
  for (int i = 0; i < 4; i++) {
    if (!scalar_or_fail(ctx, IN(3 + i), names[i], false)) return;
    j.h[i] = scalar_of(IN(3 + i));
  }
  if (!like_var_or_fail(ctx, var, ms, "ms") ||
      !like_var_or_fail(ctx, var, mom, "mom") ||
      !like_var_or_fail(ctx, var, grad, "grad"))
    return;
  apply_run(ctx, &j, var, rmsprop_float, rmsprop_double);
}

/* ---------------------------------------------------- BroadcastGradientArgs */

static bool index_output(kiln_kernel_context *ctx, int i, const int64_t *v,
                         int64_t n) {
  const kiln_tensor_view *o = cpu_api->allocate_output(ctx, i, &n, 1);
  if (!o) return false;
  if (o->dtype == KILN_INT64) {
    if (n > 0) memcpy(o->data, v, (size_t)n * sizeof *v);
  } else {
    int32_t *d = o->data;
    for (int64_t k = 0; k < n; k++) d[k] = (int32_t)v[k];
  }
  return true;
}

/* The axes along which each side was broadcast, ascending: where its
** (1-extended) dim is 1 and the other's is not, and where both are 1.
** Identical shapes need no reduction at all. */
static void bga_compute(void *st, kiln_kernel_context *ctx) {
  const kiln_tensor_view *x = IN(0), *y = IN(1);
  char a[1024], b[1024];
  (void)st;
  for (int i = 0; i < 2; i++) {
    const kiln_tensor_view *t = IN(i);
    if (t->ndims != 1) {
      cpu_fail(ctx, KILN_INVALID_ARGUMENT, "In[%d] must be a vector.%s", i,
               CPU_DIMS(t, a));
      return;
    }
  }
  int64_t nx = x->num_elements, ny = y->num_elements;
  int64_t n = nx > ny ? nx : ny, cx = 0, cy = 0;
  int64_t *rx = malloc((size_t)(2 * n + 1) * sizeof *rx);
  if (!rx) {
    oom(ctx, "BroadcastGradientArgs's result");
    return;
  }
  int64_t *ry = rx + n;
  bool same = nx == ny;
  for (int64_t i = 0; same && i < nx; i++)
    same = cpu_int_at(x, i) == cpu_int_at(y, i);
  for (int64_t i = 0; !same && i < n; i++) {
    int64_t xi = i >= n - nx ? cpu_int_at(x, i - (n - nx)) : 1;
    int64_t yi = i >= n - ny ? cpu_int_at(y, i - (n - ny)) : 1;
    if (xi == yi) {
      if (xi == 1) rx[cx++] = ry[cy++] = i;
    } else if (xi == 1) {
      rx[cx++] = i;
    } else if (yi == 1) {
      ry[cy++] = i;
    } else {
      cpu_fail(ctx, KILN_INVALID_ARGUMENT, "Incompatible shapes: [%s] vs. [%s]",
               join_ints(x, -1, ",", a, sizeof a),
               join_ints(y, -1, ",", b, sizeof b));
      free(rx);
      return;
    }
  }
  if (index_output(ctx, 0, rx, cx)) index_output(ctx, 1, ry, cy);
  free(rx);
}

/* ---------------------------------------------------------- DynamicStitch */

/* merged[indices[i][j]] = data[i][j]: later pieces win over earlier ones.
** Rows no index names are zero (TensorFlow leaves them undefined). */
static void stitch_compute(void *st, kiln_kernel_context *ctx) {
  int n = cpu_api->num_inputs(ctx) / 2;
  const kiln_tensor_view *i0 = IN(0), *d0 = IN(n);
  char s[4][CPU_DIMS_CAP];
  int64_t max = -1;
  (void)st;
  for (int i = 0; i < n; i++) {
    const kiln_tensor_view *ix = IN(i), *d = IN(n + i);
    const int32_t *p = ix->data;
    for (int64_t k = 0; k < ix->num_elements; k++)
      if (p[k] > max) max = p[k];
    bool starts = d->ndims >= ix->ndims;
    for (int k = 0; starts && k < ix->ndims; k++)
      starts = d->dims[k] == ix->dims[k];
    if (!starts) {
      cpu_fail(ctx, KILN_INVALID_ARGUMENT,
               "data[%d].shape = %s does not start with indices[%d].shape = %s",
               i, CPU_DIMS(d, s[0]), i, CPU_DIMS(ix, s[1]));
      return;
    }
    bool extra = d->ndims - ix->ndims == d0->ndims - i0->ndims;
    for (int k = 0; extra && k < d->ndims - ix->ndims; k++)
      extra = d->dims[ix->ndims + k] == d0->dims[i0->ndims + k];
    if (!extra) {
      cpu_fail(ctx, KILN_INVALID_ARGUMENT,
               "Need data[0].shape[%d:] = data[%d].shape[%d:], got "
               "data[0].shape = %s, data[%d].shape = %s, indices[0].shape = "
               "%s, indices[%d].shape = %s",
               i0->ndims, i, ix->ndims, CPU_DIMS(d0, s[0]), i,
               CPU_DIMS(d, s[1]), CPU_DIMS(i0, s[2]), i, CPU_DIMS(ix, s[3]));
      return;
    }
  }
  for (int i = 0; i < n; i++) {
    const kiln_tensor_view *ix = IN(i);
    const int32_t *p = ix->data;
    for (int64_t k = 0; k < ix->num_elements; k++)
      if (p[k] < 0 || p[k] > max) {
        cpu_fail(ctx, KILN_INVALID_ARGUMENT, "indices[%lld] is out of range",
                 (long long)k);
        return;
      }
  }
  int ond = 1 + d0->ndims - i0->ndims;
  if (ond > KILN_MAX_DIMS) {
    cpu_fail(ctx, KILN_INVALID_ARGUMENT,
             "DynamicStitch's result would have rank %d, above the maximum %d",
             ond, KILN_MAX_DIMS);
    return;
  }
  int64_t od[KILN_MAX_DIMS], slice = 1;
  od[0] = max + 1;
  for (int k = 1; k < ond; k++) slice *= od[k] = d0->dims[i0->ndims + k - 1];
  const kiln_tensor_view *out = cpu_api->allocate_output(ctx, 0, od, ond);
  if (!out) return;
  size_t es = cpu_dtype_size(out->dtype);
  if (es > 0 && out->nbytes > 0) memset(out->data, 0, out->nbytes);
  for (int i = 0; i < n; i++) {
    const kiln_tensor_view *ix = IN(i), *d = IN(n + i);
    const int32_t *p = ix->data;
    for (int64_t k = 0; k < ix->num_elements; k++) {
      if (es > 0) {
        memcpy((char *)out->data + (size_t)(p[k] * slice) * es,
               (const char *)d->data + (size_t)(k * slice) * es,
               (size_t)slice * es);
      } else if (!cpu_copy_elems(ctx, out, p[k] * slice, d, k * slice,
                                 slice)) {
        return;
      }
    }
  }
}

/* ---------------------------------------------------- activation gradients */

enum grad_kind { G_RELU, G_RELU6, G_ELU, G_SELU, G_SOFTPLUS, G_LEAKY };

typedef struct grad_def {
  const char *op;
  int kind;
} grad_def;

#define SELU_SCALE 1.0507009873554804934193349852946
#define SELU_ALPHA 1.6732632423543772848170429916717

/* Selects rather than multiplies, so that a NaN gradient where the unit
** was off gives 0, as TensorFlow's current functors do. */
#define DEFINE_GRAD_FLOAT(T, EXP)                                              \
  static void grad_##T(int kind, double alpha, const T *g, const T *a, T *y,  \
                       int64_t n) {                                            \
    switch (kind) {                                                            \
    case G_RELU:                                                               \
      for (int64_t i = 0; i < n; i++) y[i] = a[i] > 0 ? g[i] : (T)0;           \
      break;                                                                   \
    case G_RELU6:                                                              \
      for (int64_t i = 0; i < n; i++)                                          \
        y[i] = a[i] > 0 && a[i] < 6 ? g[i] : (T)0;                             \
      break;                                                                   \
    case G_ELU:                                                                \
      for (int64_t i = 0; i < n; i++)                                          \
        y[i] = a[i] < 0 ? (a[i] + 1) * g[i] : g[i];                            \
      break;                                                                   \
    case G_SELU:                                                               \
      for (int64_t i = 0; i < n; i++)                                          \
        y[i] = a[i] < 0 ? g[i] * (a[i] + (T)(SELU_SCALE * SELU_ALPHA))         \
                        : g[i] * (T)SELU_SCALE;                                \
      break;                                                                   \
    case G_SOFTPLUS:                                                           \
      for (int64_t i = 0; i < n; i++) y[i] = g[i] / (EXP(-a[i]) + 1);          \
      break;                                                                   \
    default:                                                                   \
      for (int64_t i = 0; i < n; i++)                                          \
        y[i] = a[i] > 0 ? g[i] : g[i] * (T)alpha;                              \
      break;                                                                   \
    }                                                                          \
  }

DEFINE_GRAD_FLOAT(float, expf)
DEFINE_GRAD_FLOAT(double, exp)

/* Integers have only ReluGrad and Relu6Grad. */
#define DEFINE_GRAD_INT(name, T)                                               \
  static void name(int kind, const T *g, const T *a, T *y, int64_t n) {       \
    if (kind == G_RELU)                                                        \
      for (int64_t i = 0; i < n; i++) y[i] = a[i] > 0 ? g[i] : (T)0;           \
    else                                                                       \
      for (int64_t i = 0; i < n; i++)                                          \
        y[i] = a[i] > 0 && a[i] < 6 ? g[i] : (T)0;                             \
  }

DEFINE_GRAD_INT(grad_i8, int8_t)
DEFINE_GRAD_INT(grad_i16, int16_t)
DEFINE_GRAD_INT(grad_i32, int32_t)
DEFINE_GRAD_INT(grad_i64, int64_t)
DEFINE_GRAD_INT(grad_u8, uint8_t)
DEFINE_GRAD_INT(grad_u16, uint16_t)
DEFINE_GRAD_INT(grad_u32, uint32_t)
DEFINE_GRAD_INT(grad_u64, uint64_t)

typedef struct grad_job {
  int kind;
  double alpha;
  kiln_dtype dt;
  const void *g, *a;
  void *y;
} grad_job;

#define GRAD_INT_CASE(K, fn, T)                                                \
  case K:                                                                      \
    fn(j->kind, (const T *)j->g + b, (const T *)j->a + b, (T *)j->y + b, n);   \
    break;

static void grad_chunk(int64_t b, int64_t e, void *arg) {
  const grad_job *j = arg;
  int64_t n = e - b;
  switch (j->dt) {
  case KILN_FLOAT:
    grad_float(j->kind, j->alpha, (const float *)j->g + b,
               (const float *)j->a + b, (float *)j->y + b, n);
    break;
  case KILN_DOUBLE:
    grad_double(j->kind, j->alpha, (const double *)j->g + b,
                (const double *)j->a + b, (double *)j->y + b, n);
    break;
  GRAD_INT_CASE(KILN_INT8, grad_i8, int8_t)
  GRAD_INT_CASE(KILN_INT16, grad_i16, int16_t)
  GRAD_INT_CASE(KILN_INT32, grad_i32, int32_t)
  GRAD_INT_CASE(KILN_INT64, grad_i64, int64_t)
  GRAD_INT_CASE(KILN_UINT8, grad_u8, uint8_t)
  GRAD_INT_CASE(KILN_UINT16, grad_u16, uint16_t)
  GRAD_INT_CASE(KILN_UINT32, grad_u32, uint32_t)
  GRAD_INT_CASE(KILN_UINT64, grad_u64, uint64_t)
  default: { /* half, bfloat16: through float, a block at a time */
    float g[256], a[256], y[256];
    for (int64_t i = b; i < e; i += 256) {
      int64_t m = e - i < 256 ? e - i : 256;
      cpu_widen_f32(j->dt, (const uint16_t *)j->g + i, g, m);
      cpu_widen_f32(j->dt, (const uint16_t *)j->a + i, a, m);
      grad_float(j->kind, j->alpha, g, a, y, m);
      cpu_narrow_f32(j->dt, y, (uint16_t *)j->y + i, m);
    }
  }
  }
}

static void act_grad_compute(void *st, kiln_kernel_context *ctx) {
  const grad_def *def = cpu_api->kernel_user(ctx);
  const kiln_tensor_view *g = IN(0), *a = IN(1);
  char s1[CPU_DIMS_CAP], s2[CPU_DIMS_CAP];
  (void)st;
  if (!same_dims(g, a)) {
    cpu_fail(ctx, KILN_INVALID_ARGUMENT,
             "Inputs to operation %s of type %s must have the same size and "
             "shape.  Input 0: %s != input 1: %s",
             cpu_api->node_name(ctx), def->op, CPU_DIMS(g, s1),
             CPU_DIMS(a, s2));
    return;
  }
  grad_job j = {.kind = def->kind, .alpha = 0.2, .dt = g->dtype,
                .g = g->data, .a = a->data};
  if (def->kind == G_LEAKY) {
    float alpha;
    if (cpu_api->attr_float(cpu_api->kernel_attrs(ctx), "alpha", &alpha))
      j.alpha = alpha;
  }
  const kiln_tensor_view *out =
      cpu_api->forward_or_allocate(ctx, 0, 0, g->dims, g->ndims);
  if (!out) return;
  j.y = out->data;
  cpu_parallel_for(ctx, g->num_elements, GRAIN, grad_chunk, &j);
}

static const grad_def relu_grad = {"ReluGrad", G_RELU};
static const grad_def relu6_grad = {"Relu6Grad", G_RELU6};
static const grad_def elu_grad = {"EluGrad", G_ELU};
static const grad_def selu_grad = {"SeluGrad", G_SELU};
static const grad_def softplus_grad = {"SoftplusGrad", G_SOFTPLUS};
static const grad_def leaky_grad = {"LeakyReluGrad", G_LEAKY};

/* ------------------------------------------------------------ BiasAddGrad */

typedef struct format_state {
  bool channels_first;
} format_state;

static void *bias_grad_create(kiln_kernel_construct *kc) {
  const char *f = NULL;
  size_t len = 0;
  format_state *s = malloc(sizeof *s);
  if (!s) {
    cpu_api->construct_fail(kc, KILN_RESOURCE_EXHAUSTED,
                            "out of memory creating a BiasAddGrad kernel");
    return NULL;
  }
  s->channels_first = false;
  if (!cpu_api->attr_string(cpu_api->construct_attrs(kc), "data_format", &f,
                            &len) ||
      (len == 4 && memcmp(f, "NHWC", 4) == 0) ||
      (len == 5 && memcmp(f, "NDHWC", 5) == 0))
    return s;
  if ((len == 4 && memcmp(f, "NCHW", 4) == 0) ||
      (len == 5 && memcmp(f, "NCDHW", 5) == 0)) {
    s->channels_first = true;
    return s;
  }
  free(s);
  cpu_api->construct_fail(kc, KILN_INVALID_ARGUMENT, "Invalid data format");
  return NULL;
}

/* The sum of out_backprop over every dimension but the channels'. Floating
** types add in double, integers in uint64_t (wrapping like TensorFlow's). */
static void bias_grad_compute(void *st, kiln_kernel_context *ctx) {
  const kiln_tensor_view *x = IN(0);
  char s[CPU_DIMS_CAP];
  if (x->ndims < 2) {
    cpu_fail(ctx, KILN_INVALID_ARGUMENT,
             "Input tensor must be at least 2D: %s", CPU_DIMS(x, s));
    return;
  }
  int cd = ((const format_state *)st)->channels_first ? 1 : x->ndims - 1;
  int64_t c = x->dims[cd], outer = 1, inner = 1;
  for (int i = 0; i < cd; i++) outer *= x->dims[i];
  for (int i = cd + 1; i < x->ndims; i++) inner *= x->dims[i];
  const kiln_tensor_view *out = cpu_api->allocate_output(ctx, 0, &c, 1);
  if (!out) return;
  bool integer = x->dtype == KILN_INT32 || x->dtype == KILN_INT64;
  double *xd = NULL, *acc = calloc(c > 0 ? (size_t)c : 1, sizeof *acc);
  uint64_t *iacc = calloc(c > 0 ? (size_t)c : 1, sizeof *iacc);
  if (!acc || !iacc || (!integer && !(xd = doubles_of(ctx, x)))) {
    if (!acc || !iacc) oom(ctx, "BiasAddGrad's sums");
    goto done;
  }
  for (int64_t o = 0; o < outer; o++)
    for (int64_t k = 0; k < c; k++) {
      int64_t at = (o * c + k) * inner;
      if (x->dtype == KILN_INT32) {
        const int32_t *p = (const int32_t *)x->data + at;
        for (int64_t i = 0; i < inner; i++) iacc[k] += (uint64_t)p[i];
      } else if (x->dtype == KILN_INT64) {
        const int64_t *p = (const int64_t *)x->data + at;
        for (int64_t i = 0; i < inner; i++) iacc[k] += (uint64_t)p[i];
      } else {
        for (int64_t i = 0; i < inner; i++) acc[k] += xd[at + i];
      }
    }
  if (integer)
    for (int64_t k = 0; k < c; k++) put_int(out, k, (int64_t)iacc[k]);
  else
    from_double(x->dtype, acc, out->data, c);
done:
  free(xd);
  free(acc);
  free(iacc);
}

/* ----------------------------------------------------------------- L2Loss */

static void l2_loss_compute(void *st, kiln_kernel_context *ctx) {
  const kiln_tensor_view *t = IN(0);
  (void)st;
  const kiln_tensor_view *out = cpu_api->allocate_output(ctx, 0, NULL, 0);
  if (!out) return;
  double sum = 0, buf[256];
  for (int64_t i = 0; i < t->num_elements; i += 256) {
    int64_t m = t->num_elements - i < 256 ? t->num_elements - i : 256;
    to_double(t->dtype,
              (const char *)t->data + (size_t)i * cpu_dtype_size(t->dtype),
              buf, m);
    for (int64_t k = 0; k < m; k++) sum += buf[k] * buf[k];
  }
  sum /= 2;
  from_double(t->dtype, &sum, out->data, 1);
}

/* ------------------------------------------------- softmax cross entropy */

/* One row of logits f (stride fs) against labels: dense (l, stride ls) or
** one class `label`. Writes backprop row bp and returns the loss. */
static double xent_row(const double *f, int64_t fs, const double *l,
                       int64_t ls, int64_t label, int64_t c, double *bp) {
  double mx = -INFINITY, sum = 0, loss = 0;
  for (int64_t k = 0; k < c; k++)
    if (f[k * fs] > mx) mx = f[k * fs];
  for (int64_t k = 0; k < c; k++) sum += exp(f[k * fs] - mx);
  double lse = log(sum);
  for (int64_t k = 0; k < c; k++) {
    double z = f[k * fs] - mx;
    double lab = l ? l[k * ls] : (double)(k == label);
    if (lab != 0) loss += lab * (lse - z);
    bp[k] = exp(z) / sum - lab;
  }
  return loss;
}

/* Writes the loss and backprop outputs from doubles. */
static void xent_outputs(kiln_kernel_context *ctx, const double *loss,
                         const double *bp, int64_t b, int64_t c) {
  int64_t dims[2] = {b, c};
  const kiln_tensor_view *o0 = cpu_api->allocate_output(ctx, 0, dims, 1);
  if (!o0) return;
  const kiln_tensor_view *o1 = cpu_api->allocate_output(ctx, 1, dims, 2);
  if (!o1) return;
  from_double(o0->dtype, loss, o0->data, b);
  from_double(o1->dtype, bp, o1->data, b * c);
}

static void xent_compute(void *st, kiln_kernel_context *ctx) {
  const kiln_tensor_view *f = IN(0), *l = IN(1);
  char s1[CPU_DIMS_CAP], s2[CPU_DIMS_CAP];
  cpu_broadcast bc;
  (void)st;
  if (!cpu_broadcast_make(f, l, &bc)) {
    cpu_fail(ctx, KILN_INVALID_ARGUMENT,
             "logits and labels must be broadcastable: logits_size=%s "
             "labels_size=%s",
             CPU_DIMS(f, s1), CPU_DIMS(l, s2));
    return;
  }
  if (bc.ndims != 2) {
    cpu_fail(ctx, KILN_INVALID_ARGUMENT,
             "logits and labels must be either 2-dimensional, or broadcasted "
             "to be 2-dimensional");
    return;
  }
  int64_t b = bc.dims[0], c = bc.dims[1];
  double *fd = doubles_of(ctx, f), *ld = fd ? doubles_of(ctx, l) : NULL;
  double *loss = malloc(b > 0 ? (size_t)b * sizeof *loss : 1);
  double *bp = malloc(b * c > 0 ? (size_t)(b * c) * sizeof *bp : 1);
  if (!fd || !ld || !loss || !bp) {
    if (fd && ld) oom(ctx, "the softmax cross entropy");
    goto done;
  }
  for (int64_t r = 0; r < b; r++)
    loss[r] = xent_row(fd + r * bc.strides[0][0], bc.strides[0][1],
                       ld + r * bc.strides[1][0], bc.strides[1][1], -1, c,
                       bp + r * c);
  xent_outputs(ctx, loss, bp, b, c);
done:
  free(fd);
  free(ld);
  free(loss);
  free(bp);
}

static void sparse_xent_compute(void *st, kiln_kernel_context *ctx) {
  const kiln_tensor_view *f = IN(0), *l = IN(1);
  char s1[CPU_DIMS_CAP], s2[CPU_DIMS_CAP];
  (void)st;
  if (f->ndims != 2) {
    cpu_fail(ctx, KILN_INVALID_ARGUMENT, "logits must be 2-D, but got shape %s",
             CPU_DIMS(f, s1));
    return;
  }
  if (l->ndims != 1) {
    cpu_fail(ctx, KILN_INVALID_ARGUMENT, "labels must be 1-D, but got shape %s",
             CPU_DIMS(l, s1));
    return;
  }
  if (f->dims[0] != l->dims[0]) {
    cpu_fail(ctx, KILN_INVALID_ARGUMENT,
             "logits and labels must have the same first dimension, got "
             "logits shape %s and labels shape %s",
             CPU_DIMS(f, s1), CPU_DIMS(l, s2));
    return;
  }
  int64_t b = f->dims[0], c = f->dims[1];
  if (c <= 0) {
    cpu_fail(ctx, KILN_INVALID_ARGUMENT,
             "Must have at least one class, but got logits shape %s",
             CPU_DIMS(f, s1));
    return;
  }
  for (int64_t r = 0; r < b; r++) {
    int64_t v = cpu_int_at(l, r);
    if (v < 0 || v >= c) {
      char vals[1024];
      cpu_fail(ctx, KILN_INVALID_ARGUMENT,
               "Received a label value of %lld which is outside the valid "
               "range of [0, %lld).  Label values: %s",
               (long long)v, (long long)c,
               join_ints(l, -1, " ", vals, sizeof vals));
      return;
    }
  }
  double *fd = doubles_of(ctx, f);
  double *loss = malloc(b > 0 ? (size_t)b * sizeof *loss : 1);
  double *bp = malloc(b * c > 0 ? (size_t)(b * c) * sizeof *bp : 1);
  if (!fd || !loss || !bp) {
    if (fd) oom(ctx, "the sparse softmax cross entropy");
    goto done;
  }
  for (int64_t r = 0; r < b; r++)
    loss[r] = xent_row(fd + r * c, 1, NULL, 0, cpu_int_at(l, r), c,
                       bp + r * c);
  xent_outputs(ctx, loss, bp, b, c);
done:
  free(fd);
  free(loss);
  free(bp);
}

/* ---------------------------------------- ConcatOffset, InvertPermutation */

/* Where each input of a concatenation starts in the result: the running
** sum of sizes along the axis, zero elsewhere. */
static void concat_offset_compute(void *st, kiln_kernel_context *ctx) {
  const kiln_tensor_view *cdim = IN(0), *s0 = IN(1);
  int n = cpu_api->num_inputs(ctx) - 1;
  char a[CPU_DIMS_CAP], b[256];
  (void)st;
  if (cdim->ndims != 0) {
    cpu_fail(ctx, KILN_INVALID_ARGUMENT,
             "Concat dim tensor should be a scalar integer, but got shape %s",
             CPU_DIMS(cdim, a));
    return;
  }
  for (int i = 1; i <= n; i++)
    if (IN(i)->ndims != 1) {
      cpu_fail(ctx, KILN_INVALID_ARGUMENT,
               "input %d should be a vector, but got shape %s", i,
               CPU_DIMS(IN(i), a));
      return;
    }
  int64_t dims = s0->num_elements, c = cpu_int_at(cdim, 0);
  int64_t axis = c < 0 ? c + dims : c, offset = 0;
  if (axis < 0 || axis >= dims) {
    cpu_fail(ctx, KILN_INVALID_ARGUMENT,
             "Concat dim is out of range: %lld vs. %lld", (long long)c,
             (long long)dims);
    return;
  }
  for (int i = 0; i < n; i++) {
    const kiln_tensor_view *s = IN(1 + i);
    if (s->num_elements != dims) {
      cpu_fail(ctx, KILN_INVALID_ARGUMENT,
               "input %d should contain %lld elements, but got %lld", i,
               (long long)dims, (long long)s->num_elements);
      return;
    }
    for (int64_t k = 0; k < dims; k++)
      if (k != axis && cpu_int_at(s, k) != cpu_int_at(s0, k)) {
        char c0[256];
        cpu_fail(ctx, KILN_INVALID_ARGUMENT,
                 "All dimensions except %lld must match. Input %d has shape "
                 "[%s] and doesn't match input 0 with shape [%s].",
                 (long long)axis, i, join_ints(s, 10, " ", b, sizeof b),
                 join_ints(s0, 10, " ", c0, sizeof c0));
        return;
      }
    const kiln_tensor_view *o = cpu_api->allocate_output(ctx, i, &dims, 1);
    if (!o) return;
    for (int64_t k = 0; k < dims; k++) put_int(o, k, k == axis ? offset : 0);
    offset += cpu_int_at(s, axis);
  }
}

static void invert_permutation_compute(void *st, kiln_kernel_context *ctx) {
  const kiln_tensor_view *x = IN(0);
  (void)st;
  if (x->ndims != 1) {
    cpu_fail(ctx, KILN_INVALID_ARGUMENT,
             "invert_permutation expects a 1D vector.");
    return;
  }
  int64_t n = x->num_elements;
  if (n > INT32_MAX) {
    cpu_fail(ctx, KILN_INVALID_ARGUMENT,
             "permutation of nonnegative int32s must have <= int32 max "
             "elements");
    return;
  }
  const kiln_tensor_view *o = cpu_api->allocate_output(ctx, 0, x->dims, 1);
  if (!o) return;
  for (int64_t i = 0; i < n; i++) put_int(o, i, -1);
  for (int64_t i = 0; i < n; i++) {
    int64_t d = cpu_int_at(x, i);
    if (d < 0 || d >= n) {
      cpu_fail(ctx, KILN_INVALID_ARGUMENT, "%lld is not between 0 and %lld",
               (long long)d, (long long)n);
      return;
    }
    if (cpu_int_at(o, d) != -1) {
      cpu_fail(ctx, KILN_INVALID_ARGUMENT, "%lld is duplicated in the input.",
               (long long)d);
      return;
    }
    put_int(o, d, i);
  }
}

/* ------------------------------------------------------------- the table */

#define OPT_T "T=float,double"
#define FLOATS "half,bfloat16,float,double"
#define REALS FLOATS ",int8,int16,int32,int64,uint8,uint16,uint32,uint64"
#define ACT_GRAD(op_, def_, cons_)                                             \
  CPU_KERNEL(op_, "T=" cons_, act_grad_compute, .user = (void *)&def_)

static const kiln_kernel_def defs[] = {
    CPU_KERNEL("ApplyGradientDescent", OPT_T, gd_compute),
    CPU_KERNEL("ApplyMomentum", OPT_T, momentum_compute,
               .create = nesterov_create, .destroy = free),
    CPU_KERNEL("ApplyAdam", OPT_T, adam_compute, .create = nesterov_create,
               .destroy = free),
    CPU_KERNEL("ApplyAdagrad", OPT_T, adagrad_compute,
               .create = update_slots_create, .destroy = free),
    CPU_KERNEL("ApplyRMSProp", OPT_T, rmsprop_compute),
    CPU_KERNEL("BroadcastGradientArgs", "T=int32,int64", bga_compute),
    CPU_KERNEL("DynamicStitch", "T=" CPU_ALL_TYPES, stitch_compute),
    ACT_GRAD("ReluGrad", relu_grad, REALS),
    ACT_GRAD("Relu6Grad", relu6_grad, REALS),
    ACT_GRAD("EluGrad", elu_grad, FLOATS),
    ACT_GRAD("SeluGrad", selu_grad, FLOATS),
    ACT_GRAD("SoftplusGrad", softplus_grad, FLOATS),
    ACT_GRAD("LeakyReluGrad", leaky_grad, FLOATS),
    CPU_KERNEL("BiasAddGrad", "T=" FLOATS ",int32,int64", bias_grad_compute,
               .create = bias_grad_create, .destroy = free),
    CPU_KERNEL("L2Loss", "T=" FLOATS, l2_loss_compute),
    CPU_KERNEL("SoftmaxCrossEntropyWithLogits", "T=" FLOATS, xent_compute),
    CPU_KERNEL("SparseSoftmaxCrossEntropyWithLogits",
               "T=" FLOATS ";Tlabels=int32,int64", sparse_xent_compute),
    CPU_KERNEL("ConcatOffset", "shape_type=int32,int64", concat_offset_compute),
    CPU_KERNEL("InvertPermutation", "T=int32,int64",
               invert_permutation_compute),
};

const cpu_kernel_table cpu_training_kernels = {defs,
                                               sizeof defs / sizeof defs[0]};
