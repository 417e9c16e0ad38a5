/*
** The CPU plugin's sparse kernels, SparseToDense and
** SparseTensorDenseMatMul, end to end through the public API. Sparse
** tensors travel as TensorFlow's (indices, values, dense_shape) triples,
** fed through placeholders of unknown shape so that every check reaches
** the kernel rather than graph-time shape inference. Values are checked
** against hand-computed results and naive loops over random inputs (fixed
** seed); every error by code, TensorFlow's message and the node's name.
*/
#include <complex.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#define KT_GRAPH_FIXTURE
#include "sessionutil.h"

/* Deterministic pseudo-random numbers for the reference tests. */
static uint32_t rng_state = 20240607;
static uint32_t rnd(void) {
  rng_state = rng_state * 1664525u + 1013904223u;
  return rng_state >> 8;
}

/* ------------------------------------------------------------ helpers */

static kiln_tensor *tensor(kiln_dtype t, const void *v, const int64_t *dims,
                           int nd) {
  kiln_status *ts = kiln_status_new();
  kiln_tensor *x = kiln_tensor_new(t, dims, nd, ts);
  assert_ok(ts);
  kiln_status_free(ts);
  if (v && kiln_tensor_num_elements(x) > 0)
    memcpy(kiln_tensor_data(x), v,
           (size_t)kiln_tensor_num_elements(x) * kiln_dtype_size(t));
  return x;
}

static kiln_tensor *strings(const char *const *v, const size_t *lens,
                            const int64_t *dims, int nd) {
  kiln_tensor *x = tensor(KILN_STRING, NULL, dims, nd);
  for (int64_t i = 0; i < kiln_tensor_num_elements(x); i++) {
    kiln_tensor_set_string(x, i, v[i], lens ? lens[i] : strlen(v[i]), s);
    assert_ok(s);
  }
  return x;
}

/* A placeholder of unknown shape. */
static kiln_output ph(kiln_dtype t, const char *name) {
  kiln_output o = kiln_placeholder(g, t, NULL, -1, name, s);
  assert_ok(s);
  return o;
}

/* Runs fetches with feeds; the feed values are freed. */
static void run(const kiln_output *feeds, kiln_tensor **fv, int nf,
                const kiln_output *fetches, kiln_tensor **out, int n) {
  kiln_session *sess = kiln_session_new(g, NULL, s);
  assert_ok(s);
  kiln_session_run(sess, NULL, feeds, fv, nf, fetches, out, n, NULL, 0, NULL, s);
  kiln_session_free(sess);
  for (int i = 0; i < nf; i++) kiln_tensor_free(fv[i]);
}

static kiln_tensor *eval(kiln_output o, const kiln_output *feeds,
                         kiln_tensor **fv, int nf) {
  kiln_tensor *out = NULL;
  run(feeds, fv, nf, &o, &out, 1);
  assert_ok(s);
  assert_non_null(out);
  return out;
}

/* Expects the node `node` to fail with code and a message containing
** `needle` (and the node's name). */
static void expect_error(kiln_output o, const kiln_output *feeds,
                         kiln_tensor **fv, int nf, kiln_code code,
                         const char *needle, const char *node) {
  kiln_tensor *out = (kiln_tensor *)1;
  run(feeds, fv, nf, &o, &out, 1);
  assert_status(s, code, needle);
  assert_null(out);
  if (!strstr(kiln_status_message(s), node))
    fail_msg("message \"%s\" lacks the node name \"%s\"",
             kiln_status_message(s), node);
  kiln_status_reset(s);
}

static void expect_shape(const kiln_tensor *t, kiln_dtype dt,
                         const int64_t *dims, int nd) {
  assert_non_null(t);
  assert_int_equal(kiln_tensor_dtype(t), dt);
  assert_int_equal(kiln_tensor_ndims(t), nd);
  for (int i = 0; i < nd; i++)
    if (kiln_tensor_dim(t, i) != dims[i])
      fail_msg("dim %d: got %lld, want %lld", i,
               (long long)kiln_tensor_dim(t, i), (long long)dims[i]);
}

/* Checks dtype, shape and every element's bytes, then frees t. */
static void expect_bytes(kiln_tensor *t, kiln_dtype dt, const int64_t *dims,
                         int nd, const void *want) {
  expect_shape(t, dt, dims, nd);
  size_t es = kiln_dtype_size(dt);
  const char *got = kiln_tensor_data(t);
  for (int64_t i = 0; i < kiln_tensor_num_elements(t); i++)
    if (memcmp(got + i * es, (const char *)want + i * es, es) != 0)
      fail_msg("element %lld differs", (long long)i);
  kiln_tensor_free(t);
}

static kiln_output sparse_to_dense(const char *name, kiln_output ix,
                                   kiln_output shape, kiln_output vals,
                                   kiln_output dflt, int validate) {
  kiln_op_desc *d = kiln_op_desc_new(g, "SparseToDense", name);
  kiln_op_desc_add_input(d, ix);
  kiln_op_desc_add_input(d, shape);
  kiln_op_desc_add_input(d, vals);
  kiln_op_desc_add_input(d, dflt);
  if (validate >= 0) kiln_op_desc_set_attr_bool(d, "validate_indices", validate);
  kiln_output o = {kiln_op_desc_finish(d, s), 0};
  assert_ok(s);
  return o;
}

static kiln_output spmm(const char *name, kiln_output ix, kiln_output vals,
                        kiln_output shape, kiln_output b, bool adj_a,
                        bool adj_b) {
  kiln_op_desc *d = kiln_op_desc_new(g, "SparseTensorDenseMatMul", name);
  kiln_op_desc_add_input(d, ix);
  kiln_op_desc_add_input(d, vals);
  kiln_op_desc_add_input(d, shape);
  kiln_op_desc_add_input(d, b);
  kiln_op_desc_set_attr_bool(d, "adjoint_a", adj_a);
  kiln_op_desc_set_attr_bool(d, "adjoint_b", adj_b);
  kiln_output o = {kiln_op_desc_finish(d, s), 0};
  assert_ok(s);
  return o;
}

/* A SparseToDense over four placeholders of dtypes ti (indices and shape)
** and tv (values and default), fed with the four tensors given. */
typedef struct s2d_graph {
  kiln_output in[4], out;
} s2d_graph;

static s2d_graph s2d_build(kiln_dtype ti, kiln_dtype tv, const char *name,
                           int validate) {
  s2d_graph q;
  char n[64];
  const char *parts[4] = {"ix", "shape", "vals", "dflt"};
  for (int i = 0; i < 4; i++) {
    snprintf(n, sizeof n, "%s_%s", name, parts[i]);
    q.in[i] = ph(i < 2 ? ti : tv, n);
  }
  q.out = sparse_to_dense(name, q.in[0], q.in[1], q.in[2], q.in[3], validate);
  return q;
}

static void s2d_error(kiln_tensor *ix, kiln_tensor *shape, kiln_tensor *vals,
                      kiln_tensor *dflt, int validate, kiln_code code,
                      const char *needle) {
  static int count;
  char name[32];
  snprintf(name, sizeof name, "s2d_bad%d", count++);
  s2d_graph q = s2d_build(kiln_tensor_dtype(ix), kiln_tensor_dtype(vals), name,
                          validate);
  kiln_tensor *fv[4] = {ix, shape, vals, dflt};
  expect_error(q.out, q.in, fv, 4, code, needle, name);
}

/* IEEE half and bfloat16 of small values that they represent exactly. */
static uint16_t to_half(float f) {
  if (f == 0) return signbit(f) ? 0x8000 : 0;
  int e;
  float m = frexpf(fabsf(f), &e); /* f = m * 2^e, m in [0.5, 1) */
  uint16_t man = (uint16_t)((m * 2 - 1) * 1024);
  return (uint16_t)((f < 0 ? 0x8000 : 0) | ((e - 1 + 15) << 10) | man);
}
static float from_half(uint16_t h) {
  int e = (h >> 10) & 0x1f;
  float v = e ? ldexpf(1 + (h & 0x3ff) / 1024.0f, e - 15)
              : ldexpf((h & 0x3ff) / 1024.0f, -14);
  return h & 0x8000 ? -v : v;
}
static uint16_t to_bf16(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return (uint16_t)(u >> 16);
}
static uint16_t round_bf16(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1)) >> 16);
}
static float from_bf16(uint16_t b) {
  uint32_t u = (uint32_t)b << 16;
  float f;
  memcpy(&f, &u, 4);
  return f;
}

static void t_cpu_loaded(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
}

/* ------------------------------------------------------- SparseToDense */

static void t_to_dense_basic(void **state) {
  (void)state;
  /* [[0,5,0],[0,0,6]] with default 0, from int64 indices. */
  int64_t ix[] = {0, 1, 1, 2}, shape[] = {2, 3};
  float vals[] = {5, 6}, dflt = 0;
  s2d_graph q = s2d_build(KILN_INT64, KILN_FLOAT, "s2d", -1);
  kiln_tensor *fv[4] = {tensor(KILN_INT64, ix, DIMS(2, 2)),
                        tensor(KILN_INT64, shape, DIMS(2)),
                        tensor(KILN_FLOAT, vals, DIMS(2)),
                        tensor(KILN_FLOAT, &dflt, SCALAR)};
  float want[] = {0, 5, 0, 0, 0, 6};
  expect_bytes(eval(q.out, q.in, fv, 4), KILN_FLOAT, DIMS(2, 3), want);

  /* int32 indices, a scalar value for every index, a default of -1. */
  int32_t ix32[] = {0, 0, 1, 1}, shape32[] = {2, 2};
  float one = 1, minus = -1;
  q = s2d_build(KILN_INT32, KILN_FLOAT, "s2d32", -1);
  kiln_tensor *fv2[4] = {tensor(KILN_INT32, ix32, DIMS(2, 2)),
                         tensor(KILN_INT32, shape32, DIMS(2)),
                         tensor(KILN_FLOAT, &one, SCALAR),
                         tensor(KILN_FLOAT, &minus, SCALAR)};
  float want2[] = {1, -1, -1, 1};
  expect_bytes(eval(q.out, q.in, fv2, 4), KILN_FLOAT, DIMS(2, 2), want2);

  /* Vector indices are one index each into a vector; a scalar index is
  ** one entry. */
  int64_t ixv[] = {1, 3}, shapev[] = {5}, ix0 = 2;
  int32_t iv[] = {7, 9}, idflt = 4;
  q = s2d_build(KILN_INT64, KILN_INT32, "s2dvec", -1);
  kiln_tensor *fv3[4] = {tensor(KILN_INT64, ixv, DIMS(2)),
                         tensor(KILN_INT64, shapev, DIMS(1)),
                         tensor(KILN_INT32, iv, DIMS(2)),
                         tensor(KILN_INT32, &idflt, SCALAR)};
  int32_t want3[] = {4, 7, 4, 9, 4};
  expect_bytes(eval(q.out, q.in, fv3, 4), KILN_INT32, DIMS(5), want3);
  q = s2d_build(KILN_INT64, KILN_INT32, "s2dscalar", -1);
  kiln_tensor *fv4[4] = {tensor(KILN_INT64, &ix0, SCALAR),
                         tensor(KILN_INT64, shapev, DIMS(1)),
                         tensor(KILN_INT32, iv, SCALAR),
                         tensor(KILN_INT32, &idflt, SCALAR)};
  int32_t want4[] = {4, 4, 7, 4, 4};
  expect_bytes(eval(q.out, q.in, fv4, 4), KILN_INT32, DIMS(5), want4);
}

/* The builders' Const path too: shape inference gives the static shape
** from a constant output_shape. */
static void t_to_dense_const_shape(void **state) {
  (void)state;
  int64_t ix[] = {0, 2, 1, 0}, shape[] = {2, 4};
  double vals[] = {1.5, -2.5}, dflt = 0.25;
  kiln_output o = sparse_to_dense(
      "s2dc", kiln_const_values(g, KILN_INT64, ix, DIMS(2, 2), NULL, s),
      kiln_const_values(g, KILN_INT64, shape, DIMS(2), NULL, s),
      kiln_const_values(g, KILN_DOUBLE, vals, DIMS(2), NULL, s),
      kiln_const_double(g, dflt, NULL, s), -1);
  int64_t dims[4];
  assert_int_equal(kiln_op_output_shape(o, dims, 4), 2);
  assert_int_equal(dims[0], 2);
  assert_int_equal(dims[1], 4);
  double want[] = {0.25, 0.25, 1.5, 0.25, -2.5, 0.25, 0.25, 0.25};
  expect_bytes(eval(o, NULL, NULL, 0), KILN_DOUBLE, DIMS(2, 4), want);
}

/* Every dtype TensorFlow registers: values move by their bytes. */
static void t_to_dense_dtypes(void **state) {
  (void)state;
  static const kiln_dtype types[] = {
      KILN_FLOAT, KILN_DOUBLE, KILN_INT32, KILN_UINT8, KILN_INT16,
      KILN_INT8, KILN_INT64, KILN_BFLOAT16, KILN_HALF, KILN_UINT16,
      KILN_UINT32, KILN_UINT64, KILN_BOOL};
  int64_t ix[] = {0, 2}, shape[] = {3};
  for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
    kiln_dtype dt = types[t];
    size_t es = kiln_dtype_size(dt);
    unsigned char vals[16], dflt[8], want[24];
    for (size_t b = 0; b < 2 * es; b++) vals[b] = (unsigned char)(0x11 * (b + 1));
    for (size_t b = 0; b < es; b++) dflt[b] = (unsigned char)(0xa0 + b);
    if (dt == KILN_BOOL) vals[0] = 1, vals[1] = 1, dflt[0] = 0;
    memcpy(want, vals, es);
    memcpy(want + es, dflt, es);
    memcpy(want + 2 * es, vals + es, es);
    char name[32];
    snprintf(name, sizeof name, "s2d_%s", kiln_dtype_name(dt));
    s2d_graph q = s2d_build(KILN_INT64, dt, name, -1);
    kiln_tensor *fv[4] = {tensor(KILN_INT64, ix, DIMS(2)),
                          tensor(KILN_INT64, shape, DIMS(1)),
                          tensor(dt, vals, DIMS(2)), tensor(dt, dflt, SCALAR)};
    expect_bytes(eval(q.out, q.in, fv, 4), dt, DIMS(3), want);
  }
}

/* Strings, with NUL bytes and empty ones, as values and default. */
static void t_to_dense_strings(void **state) {
  (void)state;
  int64_t ix[] = {0, 1, 1, 0}, shape[] = {2, 2};
  const char *vals[] = {"a\0b", ""};
  size_t lens[] = {3, 0};
  const char *dv[] = {"de\0f\xff"};
  size_t dl[] = {5};
  s2d_graph q = s2d_build(KILN_INT64, KILN_STRING, "s2ds", -1);
  kiln_tensor *fv[4] = {tensor(KILN_INT64, ix, DIMS(2, 2)),
                        tensor(KILN_INT64, shape, DIMS(2)),
                        strings(vals, lens, DIMS(2)),
                        strings(dv, dl, SCALAR)};
  kiln_tensor *t = eval(q.out, q.in, fv, 4);
  expect_shape(t, KILN_STRING, DIMS(2, 2));
  const char *want[] = {"de\0f\xff", "a\0b", "", "de\0f\xff"};
  size_t wl[] = {5, 3, 0, 5};
  for (int i = 0; i < 4; i++) {
    size_t len;
    const char *got = kiln_tensor_string(t, i, &len);
    assert_int_equal(len, wl[i]);
    assert_memory_equal(got, want[i], len);
  }
  kiln_tensor_free(t);
}

/* Random rank-3 tensors against a naive scatter, for each index dtype
** and both validate settings; with validation off, unsorted indices and
** repeats are accepted and the last value written wins. */
static void t_to_dense_reference(void **state) {
  (void)state;
  enum { D0 = 4, D1 = 5, D2 = 6, N = D0 * D1 * D2 };
  for (int variant = 0; variant < 4; variant++) {
    bool i32 = variant & 1, shuffled = variant & 2;
    int64_t ix[3 * 2 * N];
    float vals[2 * N], ref[N];
    int64_t nnz = 0;
    for (int p = 0; p < N; p++) ref[p] = -7;
    for (int p = 0; p < N; p++)
      if (rnd() % 10 < 3) {
        ix[3 * nnz] = p / (D1 * D2);
        ix[3 * nnz + 1] = p / D2 % D1;
        ix[3 * nnz + 2] = p % D2;
        vals[nnz] = (float)(rnd() % 1000) / 8;
        nnz++;
      }
    if (shuffled) {
      /* Shuffle, then repeat some entries with new values later on. */
      for (int64_t i = nnz - 1; i > 0; i--) {
        int64_t j = rnd() % (uint32_t)(i + 1);
        for (int d = 0; d < 3; d++) {
          int64_t x = ix[3 * i + d];
          ix[3 * i + d] = ix[3 * j + d];
          ix[3 * j + d] = x;
        }
        float v = vals[i];
        vals[i] = vals[j];
        vals[j] = v;
      }
      int64_t base = nnz;
      for (int64_t i = 0; i < base; i += 3) {
        memcpy(&ix[3 * nnz], &ix[3 * i], 3 * sizeof *ix);
        vals[nnz++] = (float)(rnd() % 1000);
      }
    }
    for (int64_t i = 0; i < nnz; i++)
      ref[(ix[3 * i] * D1 + ix[3 * i + 1]) * D2 + ix[3 * i + 2]] = vals[i];
    int64_t shape[] = {D0, D1, D2};
    kiln_dtype ti = i32 ? KILN_INT32 : KILN_INT64;
    kiln_tensor *tix = tensor(ti, NULL, DIMS(nnz, 3)),
                *tshape = tensor(ti, NULL, DIMS(3));
    for (int64_t i = 0; i < 3 * nnz; i++) {
      if (i32) ((int32_t *)kiln_tensor_data(tix))[i] = (int32_t)ix[i];
      else ((int64_t *)kiln_tensor_data(tix))[i] = ix[i];
    }
    for (int d = 0; d < 3; d++) {
      if (i32) ((int32_t *)kiln_tensor_data(tshape))[d] = (int32_t)shape[d];
      else ((int64_t *)kiln_tensor_data(tshape))[d] = shape[d];
    }
    float dflt = -7;
    char name[32];
    snprintf(name, sizeof name, "s2dref%d", variant);
    s2d_graph q = s2d_build(ti, KILN_FLOAT, name, shuffled ? 0 : 1);
    kiln_tensor *fv[4] = {tix, tshape, tensor(KILN_FLOAT, vals, DIMS(nnz)),
                          tensor(KILN_FLOAT, &dflt, SCALAR)};
    expect_bytes(eval(q.out, q.in, fv, 4), KILN_FLOAT, DIMS(D0, D1, D2), ref);
  }
}

static void t_to_dense_empty(void **state) {
  (void)state;
  /* No entries: all default. */
  int64_t shape[] = {2, 2};
  int32_t dflt = 3;
  s2d_graph q = s2d_build(KILN_INT64, KILN_INT32, "s2de", -1);
  kiln_tensor *fv[4] = {tensor(KILN_INT64, NULL, DIMS(0, 2)),
                        tensor(KILN_INT64, shape, DIMS(2)),
                        tensor(KILN_INT32, NULL, DIMS(0)),
                        tensor(KILN_INT32, &dflt, SCALAR)};
  int32_t want[] = {3, 3, 3, 3};
  expect_bytes(eval(q.out, q.in, fv, 4), KILN_INT32, DIMS(2, 2), want);
  /* An empty dense shape with no entries. */
  int64_t zero[] = {0, 4};
  q = s2d_build(KILN_INT64, KILN_INT32, "s2de0", -1);
  kiln_tensor *fv2[4] = {tensor(KILN_INT64, NULL, DIMS(0, 2)),
                         tensor(KILN_INT64, zero, DIMS(2)),
                         tensor(KILN_INT32, NULL, DIMS(0)),
                         tensor(KILN_INT32, &dflt, SCALAR)};
  expect_bytes(eval(q.out, q.in, fv2, 4), KILN_INT32, DIMS(0, 4), NULL);
}

/* validate_indices: TensorFlow's messages for the first bad entry. */
static void t_to_dense_invalid_indices(void **state) {
  (void)state;
  int64_t shape[] = {2, 3};
  float vals[] = {1, 2, 3}, dflt = 0;
#define S2D_BAD(ix_, validate_, needle_)                                     \
  s2d_error(tensor(KILN_INT64, ix_, DIMS(3, 2)),                            \
            tensor(KILN_INT64, shape, DIMS(2)),                             \
            tensor(KILN_FLOAT, vals, DIMS(3)),                              \
            tensor(KILN_FLOAT, &dflt, SCALAR), validate_,                   \
            KILN_INVALID_ARGUMENT, needle_)
  int64_t oob[] = {0, 0, 2, 1, 1, 2};
  S2D_BAD(oob, 1, "indices[1] = [2,1] is out of bounds: need 0 <= index < [2,3]");
  int64_t neg[] = {0, -1, 0, 1, 1, 2};
  S2D_BAD(neg, 1, "indices[0] = [0,-1] is out of bounds: need 0 <= index < [2,3]");
  int64_t rep[] = {0, 1, 1, 0, 1, 0};
  S2D_BAD(rep, 1, "indices[2] = [1,0] is repeated");
  int64_t unsorted[] = {0, 2, 0, 1, 1, 0};
  S2D_BAD(unsorted, 1,
          "indices[1] = [0,1] is out of order. Many sparse ops require sorted "
          "indices.\n    Use `tf.sparse.reorder` to create a correctly ordered "
          "copy.");
  /* The default is validate_indices = true. */
  S2D_BAD(rep, -1, "indices[2] = [1,0] is repeated");
  S2D_BAD(unsorted, -1, "indices[1] = [0,1] is out of order");
  /* Without validation, bounds are still checked. */
  S2D_BAD(oob, 0, "Indices are not valid (out of bounds).  Shape: [2,3]");
  S2D_BAD(neg, 0, "Indices are not valid (out of bounds).  Shape: [2,3]");
#undef S2D_BAD
  /* Vector indices in one dimension. */
  int64_t v[] = {3, 1}, vshape[] = {4};
  s2d_error(tensor(KILN_INT64, v, DIMS(2)), tensor(KILN_INT64, vshape, DIMS(1)),
            tensor(KILN_FLOAT, vals, DIMS(2)), tensor(KILN_FLOAT, &dflt, SCALAR),
            1, KILN_INVALID_ARGUMENT, "indices[1] = [1] is out of order");
  int32_t v32[] = {1, 4}, vshape32[] = {4};
  s2d_error(tensor(KILN_INT32, v32, DIMS(2)),
            tensor(KILN_INT32, vshape32, DIMS(1)),
            tensor(KILN_FLOAT, vals, DIMS(2)), tensor(KILN_FLOAT, &dflt, SCALAR),
            1, KILN_INVALID_ARGUMENT,
            "indices[1] = [4] is out of bounds: need 0 <= index < [4]");
}

static void t_to_dense_bad_shapes(void **state) {
  (void)state;
  int64_t ix[] = {0, 1, 1, 0}, shape2[] = {2, 2}, shape3[] = {2, 2, 2};
  int64_t neg[] = {2, -1};
  float vals[] = {1, 2, 3}, dflt = 0;
  s2d_error(tensor(KILN_INT64, ix, DIMS(1, 2, 2)),
            tensor(KILN_INT64, shape2, DIMS(2)), tensor(KILN_FLOAT, vals, DIMS(2)),
            tensor(KILN_FLOAT, &dflt, SCALAR), 1, KILN_INVALID_ARGUMENT,
            "sparse_indices should be a scalar, vector, or matrix, got shape "
            "[1,2,2]");
  s2d_error(tensor(KILN_INT64, ix, DIMS(2, 2)),
            tensor(KILN_INT64, shape2, DIMS(1, 2)),
            tensor(KILN_FLOAT, vals, DIMS(2)), tensor(KILN_FLOAT, &dflt, SCALAR),
            1, KILN_INVALID_ARGUMENT, "output_shape must be rank 1, got shape [1,2]");
  s2d_error(tensor(KILN_INT64, ix, DIMS(2, 2)),
            tensor(KILN_INT64, shape3, DIMS(3)), tensor(KILN_FLOAT, vals, DIMS(2)),
            tensor(KILN_FLOAT, &dflt, SCALAR), 1, KILN_INVALID_ARGUMENT,
            "output_shape has incorrect number of elements: 3 should be: 2");
  s2d_error(tensor(KILN_INT64, ix, DIMS(2, 2)),
            tensor(KILN_INT64, shape2, DIMS(2)), tensor(KILN_FLOAT, vals, DIMS(3)),
            tensor(KILN_FLOAT, &dflt, SCALAR), 1, KILN_INVALID_ARGUMENT,
            "sparse_values has incorrect shape [3], should be [] or [2]");
  s2d_error(tensor(KILN_INT64, ix, DIMS(2, 2)),
            tensor(KILN_INT64, shape2, DIMS(2)),
            tensor(KILN_FLOAT, vals, DIMS(1, 2)),
            tensor(KILN_FLOAT, &dflt, SCALAR), 1, KILN_INVALID_ARGUMENT,
            "sparse_values has incorrect shape [1,2], should be [] or [2]");
  s2d_error(tensor(KILN_INT64, ix, DIMS(2, 2)),
            tensor(KILN_INT64, shape2, DIMS(2)), tensor(KILN_FLOAT, vals, DIMS(2)),
            tensor(KILN_FLOAT, vals, DIMS(1)), 1, KILN_INVALID_ARGUMENT,
            "default_value should be a scalar.");
  s2d_error(tensor(KILN_INT64, ix, DIMS(2, 2)), tensor(KILN_INT64, neg, DIMS(2)),
            tensor(KILN_FLOAT, vals, DIMS(2)), tensor(KILN_FLOAT, &dflt, SCALAR),
            1, KILN_INVALID_ARGUMENT, "Dimension -1 must be >= 0");
  /* More dimensions than any tensor may have. */
  int64_t wide_ix[40] = {0}, wide_shape[40];
  for (int i = 0; i < 40; i++) wide_shape[i] = 1;
  s2d_error(tensor(KILN_INT64, wide_ix, DIMS(1, 40)),
            tensor(KILN_INT64, wide_shape, DIMS(40)),
            tensor(KILN_FLOAT, vals, DIMS(1)), tensor(KILN_FLOAT, &dflt, SCALAR),
            1, KILN_INVALID_ARGUMENT, "output_shape has 40 dimensions");
}

/* A sparse triple fed and fetched back unchanged in the same step as its
** dense form. */
static void t_sparse_triple_feed_fetch(void **state) {
  (void)state;
  int64_t ix[] = {0, 0, 1, 2, 2, 1}, shape[] = {3, 3};
  float vals[] = {1, 2, 3}, dflt = 0;
  s2d_graph q = s2d_build(KILN_INT64, KILN_FLOAT, "triple", -1);
  kiln_tensor *fv[4] = {tensor(KILN_INT64, ix, DIMS(3, 2)),
                        tensor(KILN_INT64, shape, DIMS(2)),
                        tensor(KILN_FLOAT, vals, DIMS(3)),
                        tensor(KILN_FLOAT, &dflt, SCALAR)};
  kiln_output fetch[4] = {q.in[0], q.in[1], q.in[2], q.out};
  kiln_tensor *out[4] = {NULL};
  run(q.in, fv, 4, fetch, out, 4);
  assert_ok(s);
  expect_bytes(out[0], KILN_INT64, DIMS(3, 2), ix);
  expect_bytes(out[1], KILN_INT64, DIMS(2), shape);
  expect_bytes(out[2], KILN_FLOAT, DIMS(3), vals);
  float want[] = {1, 0, 0, 0, 0, 2, 0, 3, 0};
  expect_bytes(out[3], KILN_FLOAT, DIMS(3, 3), want);
}

/* --------------------------------------------- SparseTensorDenseMatMul */

typedef struct mm_graph {
  kiln_output in[4], out;
} mm_graph;

static mm_graph mm_build(kiln_dtype ti, kiln_dtype tv, const char *name,
                         bool adj_a, bool adj_b) {
  mm_graph q;
  char n[64];
  const char *parts[4] = {"ix", "vals", "shape", "b"};
  for (int i = 0; i < 4; i++) {
    snprintf(n, sizeof n, "%s_%s", name, parts[i]);
    q.in[i] = ph(i == 0 ? ti : i == 2 ? KILN_INT64 : tv, n);
  }
  q.out = spmm(name, q.in[0], q.in[1], q.in[2], q.in[3], adj_a, adj_b);
  return q;
}

static void t_matmul_basic(void **state) {
  (void)state;
  /* A = [[1,0,2],[0,3,0]] (2x3), B = [[1,2],[3,4],[5,6]] (3x2):
  ** A*B = [[11,14],[9,12]]. */
  int64_t ix[] = {0, 0, 0, 2, 1, 1}, shape[] = {2, 3};
  float vals[] = {1, 2, 3}, b[] = {1, 2, 3, 4, 5, 6};
  mm_graph q = mm_build(KILN_INT64, KILN_FLOAT, "spmm", false, false);
  kiln_tensor *fv[4] = {tensor(KILN_INT64, ix, DIMS(3, 2)),
                        tensor(KILN_FLOAT, vals, DIMS(3)),
                        tensor(KILN_INT64, shape, DIMS(2)),
                        tensor(KILN_FLOAT, b, DIMS(3, 2))};
  float want[] = {11, 14, 9, 12};
  expect_bytes(eval(q.out, q.in, fv, 4), KILN_FLOAT, DIMS(2, 2), want);

  /* adjoint_a: A' (3x2) times C (2x2) = [[1,2],[3,4]]:
  ** A' = [[1,0],[0,3],[2,0]] -> [[1,2],[9,12],[2,4]]. int32 indices. */
  int32_t ix32[] = {0, 0, 0, 2, 1, 1};
  float c[] = {1, 2, 3, 4};
  q = mm_build(KILN_INT32, KILN_FLOAT, "spmm_adj_a", true, false);
  kiln_tensor *fv2[4] = {tensor(KILN_INT32, ix32, DIMS(3, 2)),
                         tensor(KILN_FLOAT, vals, DIMS(3)),
                         tensor(KILN_INT64, shape, DIMS(2)),
                         tensor(KILN_FLOAT, c, DIMS(2, 2))};
  float want2[] = {1, 2, 9, 12, 2, 4};
  expect_bytes(eval(q.out, q.in, fv2, 4), KILN_FLOAT, DIMS(3, 2), want2);

  /* adjoint_b: A (2x3) times B'' where B'' is given as [2,3] = B'. */
  float bt[] = {1, 3, 5, 2, 4, 6};
  q = mm_build(KILN_INT64, KILN_FLOAT, "spmm_adj_b", false, true);
  kiln_tensor *fv3[4] = {tensor(KILN_INT64, ix, DIMS(3, 2)),
                         tensor(KILN_FLOAT, vals, DIMS(3)),
                         tensor(KILN_INT64, shape, DIMS(2)),
                         tensor(KILN_FLOAT, bt, DIMS(2, 3))};
  expect_bytes(eval(q.out, q.in, fv3, 4), KILN_FLOAT, DIMS(2, 2), want);

  /* Repeated indices add up, in any order. */
  int64_t rix[] = {1, 1, 0, 0, 1, 1};
  float rv[] = {1, 2, 10};
  q = mm_build(KILN_INT64, KILN_FLOAT, "spmm_rep", false, false);
  kiln_tensor *fv4[4] = {tensor(KILN_INT64, rix, DIMS(3, 2)),
                         tensor(KILN_FLOAT, rv, DIMS(3)),
                         tensor(KILN_INT64, shape, DIMS(2)),
                         tensor(KILN_FLOAT, b, DIMS(3, 2))};
  float want4[] = {2, 4, 33, 44};
  expect_bytes(eval(q.out, q.in, fv4, 4), KILN_FLOAT, DIMS(2, 2), want4);
}

/* Random sparse A and dense B against a naive dense product, for every
** dtype, both index dtypes and the four adjoint combinations; sizes from
** tiny to ones that the intra-op threads split by columns. */
typedef struct mm_case {
  int64_t rows, inner, cols, nnz;
} mm_case;

static double complex elem_c(kiln_dtype t, const void *p, int64_t i) {
  switch (t) {
  case KILN_FLOAT: return ((const float *)p)[i];
  case KILN_DOUBLE: return ((const double *)p)[i];
  case KILN_INT32: return ((const int32_t *)p)[i];
  case KILN_HALF: return from_half(((const uint16_t *)p)[i]);
  case KILN_BFLOAT16: return from_bf16(((const uint16_t *)p)[i]);
  case KILN_COMPLEX64:
    return CMPLX(((const float *)p)[2 * i], ((const float *)p)[2 * i + 1]);
  default:
    return CMPLX(((const double *)p)[2 * i], ((const double *)p)[2 * i + 1]);
  }
}

/* Small integers (or Gaussian-free pairs of them for complex) that every
** dtype holds exactly, so integer-valued sums are exact everywhere. */
static void put_elem(kiln_dtype t, void *p, int64_t i, int re, int im) {
  switch (t) {
  case KILN_FLOAT: ((float *)p)[i] = (float)re; break;
  case KILN_DOUBLE: ((double *)p)[i] = re + 0.5; break;
  case KILN_INT32: ((int32_t *)p)[i] = re; break;
  case KILN_HALF: ((uint16_t *)p)[i] = to_half((float)re); break;
  case KILN_BFLOAT16: ((uint16_t *)p)[i] = to_bf16((float)re); break;
  case KILN_COMPLEX64:
    ((float *)p)[2 * i] = (float)re;
    ((float *)p)[2 * i + 1] = (float)im;
    break;
  default:
    ((double *)p)[2 * i] = re;
    ((double *)p)[2 * i + 1] = im + 0.25;
    break;
  }
}

static void mm_reference_case(kiln_dtype tv, bool i32, bool adj_a, bool adj_b,
                              mm_case c, int id) {
  /* A is [ar, ac] as stored; op(A) is [rows, inner]. */
  int64_t ar = adj_a ? c.inner : c.rows, ac = adj_a ? c.rows : c.inner;
  int64_t br = adj_b ? c.cols : c.inner, bc = adj_b ? c.inner : c.cols;
  kiln_dtype ti = i32 ? KILN_INT32 : KILN_INT64;
  kiln_tensor *tix = tensor(ti, NULL, DIMS(c.nnz, 2));
  kiln_tensor *tv_ = tensor(tv, NULL, DIMS(c.nnz));
  kiln_tensor *tb = tensor(tv, NULL, DIMS(br, bc));
  int64_t shape[] = {ar, ac};
  int small = tv == KILN_HALF || tv == KILN_BFLOAT16 ? 4 : 9;
  for (int64_t i = 0; i < c.nnz; i++) {
    int64_t r = rnd() % (uint32_t)ar, k = rnd() % (uint32_t)ac;
    if (i32) {
      ((int32_t *)kiln_tensor_data(tix))[2 * i] = (int32_t)r;
      ((int32_t *)kiln_tensor_data(tix))[2 * i + 1] = (int32_t)k;
    } else {
      ((int64_t *)kiln_tensor_data(tix))[2 * i] = r;
      ((int64_t *)kiln_tensor_data(tix))[2 * i + 1] = k;
    }
    put_elem(tv, kiln_tensor_data(tv_), i, (int)(rnd() % (2 * small + 1)) - small,
             (int)(rnd() % 7) - 3);
  }
  for (int64_t i = 0; i < br * bc; i++)
    put_elem(tv, kiln_tensor_data(tb), i, (int)(rnd() % (2 * small + 1)) - small,
             (int)(rnd() % 7) - 3);

  /* The dense op(A) and the naive product in double complex. */
  double complex *da = calloc((size_t)(c.rows * c.inner) + 1, sizeof *da);
  double complex *ref = calloc((size_t)(c.rows * c.cols) + 1, sizeof *ref);
  assert_non_null(da);
  assert_non_null(ref);
  for (int64_t i = 0; i < c.nnz; i++) {
    int64_t r = i32 ? ((int32_t *)kiln_tensor_data(tix))[2 * i]
                    : ((int64_t *)kiln_tensor_data(tix))[2 * i];
    int64_t k = i32 ? ((int32_t *)kiln_tensor_data(tix))[2 * i + 1]
                    : ((int64_t *)kiln_tensor_data(tix))[2 * i + 1];
    double complex v = elem_c(tv, kiln_tensor_data(tv_), i);
    if (adj_a) da[k * c.inner + r] += conj(v);
    else da[r * c.inner + k] += v;
  }
  for (int64_t m = 0; m < c.rows; m++)
    for (int64_t n = 0; n < c.cols; n++) {
      double complex acc = 0;
      for (int64_t k = 0; k < c.inner; k++) {
        double complex bv = adj_b ? conj(elem_c(tv, kiln_tensor_data(tb), n * bc + k))
                                  : elem_c(tv, kiln_tensor_data(tb), k * bc + n);
        acc += da[m * c.inner + k] * bv;
      }
      ref[m * c.cols + n] = acc;
    }

  char name[48];
  snprintf(name, sizeof name, "mm%d", id);
  mm_graph q = mm_build(ti, tv, name, adj_a, adj_b);
  kiln_tensor *fv[4] = {tix, tv_, tensor(KILN_INT64, shape, DIMS(2)), tb};
  kiln_tensor *out = eval(q.out, q.in, fv, 4);
  expect_shape(out, tv, DIMS(c.rows, c.cols));
  for (int64_t i = 0; i < c.rows * c.cols; i++) {
    double complex got = elem_c(tv, kiln_tensor_data(out), i), want = ref[i];
    /* Integer-valued (or quarter-valued) operands: the sums are exact in
    ** every dtype whatever the order of addition, but for bfloat16's final
    ** rounding (to nearest even) of sums beyond 256. */
    if (tv == KILN_BFLOAT16) want = from_bf16(round_bf16((float)creal(want)));
    if (got != want)
      fail_msg("%s (%s, %s indices, adj %d/%d, [%lld,%lld]x[%lld,%lld] "
               "nnz %lld) element %lld: got %g%+gi, want %g%+gi",
               name, kiln_dtype_name(tv), i32 ? "int32" : "int64", adj_a,
               adj_b, (long long)c.rows, (long long)c.inner,
               (long long)c.inner, (long long)c.cols, (long long)c.nnz,
               (long long)i, creal(got), cimag(got), creal(want), cimag(want));
  }
  kiln_tensor_free(out);
  free(da);
  free(ref);
}

static void t_matmul_reference(void **state) {
  (void)state;
  static const kiln_dtype types[] = {KILN_FLOAT, KILN_DOUBLE, KILN_INT32,
                                     KILN_COMPLEX64, KILN_COMPLEX128,
                                     KILN_HALF, KILN_BFLOAT16};
  static const mm_case cases[] = {
      {1, 1, 1, 1}, {3, 4, 5, 6}, {7, 3, 40, 15}, {16, 33, 9, 100},
  };
  int id = 0;
  for (size_t t = 0; t < sizeof types / sizeof types[0]; t++)
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
      for (int adj = 0; adj < 4; adj++)
        mm_reference_case(types[t], (adj + c) & 1, adj & 1, adj & 2, cases[c],
                          id++);
}

/* Large enough for the intra-op threads to split the columns. */
static void t_matmul_large(void **state) {
  (void)state;
  mm_case big = {200, 150, 300, 3000};
  mm_reference_case(KILN_FLOAT, false, false, false, big, 9000);
  mm_reference_case(KILN_DOUBLE, true, true, true, big, 9001);
  mm_reference_case(KILN_COMPLEX64, false, true, true, big, 9002);
}

/* Empty operands: an empty product, or zeros when nothing is summed. */
static void t_matmul_empty(void **state) {
  (void)state;
  int64_t shape[] = {2, 3}, shape0[] = {2, 0}, shapez[] = {0, 3};
  float b[6] = {1, 2, 3, 4, 5, 6};
  mm_graph q = mm_build(KILN_INT64, KILN_FLOAT, "mm_nnz0", false, false);
  kiln_tensor *fv[4] = {tensor(KILN_INT64, NULL, DIMS(0, 2)),
                        tensor(KILN_FLOAT, NULL, DIMS(0)),
                        tensor(KILN_INT64, shape, DIMS(2)),
                        tensor(KILN_FLOAT, b, DIMS(3, 2))};
  float zeros[4] = {0};
  expect_bytes(eval(q.out, q.in, fv, 4), KILN_FLOAT, DIMS(2, 2), zeros);
  /* Inner dimension 0: A [2,0] times B [0,2] is [2,2] of zeros. */
  q = mm_build(KILN_INT64, KILN_FLOAT, "mm_inner0", false, false);
  kiln_tensor *fv2[4] = {tensor(KILN_INT64, NULL, DIMS(0, 2)),
                         tensor(KILN_FLOAT, NULL, DIMS(0)),
                         tensor(KILN_INT64, shape0, DIMS(2)),
                         tensor(KILN_FLOAT, NULL, DIMS(0, 2))};
  expect_bytes(eval(q.out, q.in, fv2, 4), KILN_FLOAT, DIMS(2, 2), zeros);
  /* No rows: [0,3] times [3,2] is [0,2]. */
  q = mm_build(KILN_INT64, KILN_FLOAT, "mm_rows0", false, false);
  kiln_tensor *fv3[4] = {tensor(KILN_INT64, NULL, DIMS(0, 2)),
                         tensor(KILN_FLOAT, NULL, DIMS(0)),
                         tensor(KILN_INT64, shapez, DIMS(2)),
                         tensor(KILN_FLOAT, b, DIMS(3, 2))};
  expect_bytes(eval(q.out, q.in, fv3, 4), KILN_FLOAT, DIMS(0, 2), NULL);
}

static void mm_error(kiln_dtype ti, kiln_tensor *ix, kiln_tensor *vals,
                     kiln_tensor *shape, kiln_tensor *b, bool adj_a,
                     bool adj_b, const char *needle) {
  static int count;
  char name[32];
  snprintf(name, sizeof name, "mm_bad%d", count++);
  mm_graph q = mm_build(ti, KILN_FLOAT, name, adj_a, adj_b);
  kiln_tensor *fv[4] = {ix, vals, shape, b};
  expect_error(q.out, q.in, fv, 4, KILN_INVALID_ARGUMENT, needle, name);
}

static void t_matmul_errors(void **state) {
  (void)state;
  int64_t ix[] = {0, 0, 1, 2}, shape[] = {2, 3}, shape3[] = {2, 3, 1};
  float v[] = {1, 2}, b[12] = {0};
#define IX(...) tensor(KILN_INT64, ix, DIMS(__VA_ARGS__))
#define V(...) tensor(KILN_FLOAT, v, DIMS(__VA_ARGS__))
#define SH(...) tensor(KILN_INT64, shape, DIMS(__VA_ARGS__))
#define B(...) tensor(KILN_FLOAT, b, DIMS(__VA_ARGS__))
  mm_error(KILN_INT64, IX(2, 2), V(2), SH(2), B(3, 2, 1), false, false,
           "Tensor 'b' is not a matrix");
  mm_error(KILN_INT64, IX(2, 2), V(2), SH(1, 2), B(3, 2), false, false,
           "Tensor 'a_shape' is not a vector");
  mm_error(KILN_INT64, IX(2, 2), V(2), tensor(KILN_INT64, shape3, DIMS(3)),
           B(3, 2), false, false, "Tensor 'a_shape' must have 2 elements");
  mm_error(KILN_INT64, IX(2, 2), V(1, 2), SH(2), B(3, 2), false, false,
           "Tensor 'a_values' is not a vector");
  mm_error(KILN_INT64, IX(4), V(2), SH(2), B(3, 2), false, false,
           "Tensor 'a_indices' is not a matrix");
  mm_error(KILN_INT64, IX(2, 2), V(1), SH(2), B(3, 2), false, false,
           "Number of rows of a_indices does not match number of entries in "
           "a_values");
  mm_error(KILN_INT64, IX(1, 4), V(1), SH(2), B(3, 2), false, false,
           "Number of columns of a_indices does not match number of entries "
           "in a_shape");
  mm_error(KILN_INT64, IX(2, 2), V(2), SH(2), B(2, 3), false, false,
           "Cannot multiply A and B because inner dimension does not match: 3 "
           "vs. 2.  Did you forget a transpose?  Dimensions of A: [2, 3).  "
           "Dimensions of B: [2,3]");
  mm_error(KILN_INT64, IX(2, 2), V(2), SH(2), B(3, 2), true, false,
           "inner dimension does not match: 2 vs. 3");
  mm_error(KILN_INT64, IX(2, 2), V(2), SH(2), B(3, 2), false, true,
           "inner dimension does not match: 3 vs. 2");
  int64_t negshape[] = {-1, 3};
  mm_error(KILN_INT64, IX(2, 2), V(2), tensor(KILN_INT64, negshape, DIMS(2)),
           B(3, 2), false, false, "Dimension -1 must be >= 0");
  /* Indices out of bounds: k (the inner index) is checked first. */
  int64_t badk[] = {0, 0, 1, 3};
  mm_error(KILN_INT64, tensor(KILN_INT64, badk, DIMS(2, 2)), V(2), SH(2),
           B(3, 2), false, false, "k (3) from index[1,1] out of bounds (>=3)");
  int64_t badm[] = {0, 0, 2, 1};
  mm_error(KILN_INT64, tensor(KILN_INT64, badm, DIMS(2, 2)), V(2), SH(2),
           B(3, 2), false, false, "m (2) from index[1,0] out of bounds (>=2)");
  int32_t negm[] = {-1, 0, 0, 0};
  mm_error(KILN_INT32, tensor(KILN_INT32, negm, DIMS(2, 2)), V(2), SH(2),
           B(3, 2), false, false, "m (-1) from index[0,0] out of bounds (>=2)");
  /* With adjoint_a, the roles of the index columns swap. */
  int64_t adjk[] = {2, 0, 0, 1};
  mm_error(KILN_INT64, tensor(KILN_INT64, adjk, DIMS(2, 2)), V(2), SH(2),
           B(2, 2), true, false, "k (2) from index[0,0] out of bounds (>=2)");
#undef IX
#undef V
#undef SH
#undef B
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(t_cpu_loaded),
      cmocka_unit_test_setup_teardown(t_to_dense_basic, setup, teardown),
      cmocka_unit_test_setup_teardown(t_to_dense_const_shape, setup, teardown),
      cmocka_unit_test_setup_teardown(t_to_dense_dtypes, setup, teardown),
      cmocka_unit_test_setup_teardown(t_to_dense_strings, setup, teardown),
      cmocka_unit_test_setup_teardown(t_to_dense_reference, setup, teardown),
      cmocka_unit_test_setup_teardown(t_to_dense_empty, setup, teardown),
      cmocka_unit_test_setup_teardown(t_to_dense_invalid_indices, setup, teardown),
      cmocka_unit_test_setup_teardown(t_to_dense_bad_shapes, setup, teardown),
      cmocka_unit_test_setup_teardown(t_sparse_triple_feed_fetch, setup, teardown),
      cmocka_unit_test_setup_teardown(t_matmul_basic, setup, teardown),
      cmocka_unit_test_setup_teardown(t_matmul_reference, setup, teardown),
      cmocka_unit_test_setup_teardown(t_matmul_large, setup, teardown),
      cmocka_unit_test_setup_teardown(t_matmul_empty, setup, teardown),
      cmocka_unit_test_setup_teardown(t_matmul_errors, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
