/*
** The CPU plugin's array, slicing and random kernels, end to end through
** the public API: graphs built with the builders (or op descriptions for
** ops without one), run in sessions on the real plugin. Values are checked
** against hand-computed results and naive loops; every kernel error is
** checked by code, message and node name. Inputs whose values or shapes
** should reach the kernel unchecked are fed through placeholders, so that
** graph-time shape inference does not catch them first.
*/
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#define KT_GRAPH_FIXTURE
#include "sessionutil.h"

/* dims as a compound literal and its length: DIMS(2, 3). */
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

static kiln_tensor *strings(const char *const *v, const int64_t *dims, int nd) {
  kiln_tensor *x = tensor(KILN_STRING, NULL, dims, nd);
  for (int64_t i = 0; i < kiln_tensor_num_elements(x); i++) {
    kiln_tensor_set_string(x, i, v[i], strlen(v[i]), s);
    assert_ok(s);
  }
  return x;
}

static kiln_output konst(kiln_dtype t, const void *v, const int64_t *dims,
                         int nd) {
  kiln_output o = kiln_const_values(g, t, v, dims, nd, NULL, s);
  assert_ok(s);
  return o;
}

static kiln_output kstrings(const char *const *v, const int64_t *dims, int nd) {
  kiln_tensor *x = strings(v, dims, nd);
  kiln_output o = kiln_const(g, x, NULL, s);
  assert_ok(s);
  kiln_tensor_free(x);
  return o;
}

/* A placeholder of unknown shape. */
static kiln_output ph(kiln_dtype t, const char *name) {
  kiln_output o = kiln_placeholder(g, t, NULL, -1, name, s);
  assert_ok(s);
  return o;
}

static void run(const kiln_output *feeds, kiln_tensor *const *fv, int nf,
                const kiln_output *fetches, kiln_tensor **out, int n) {
  kiln_session *sess = kiln_session_new(g, NULL, s);
  assert_ok(s);
  kiln_session_run(sess, NULL, feeds, fv, nf, fetches, out, n, NULL, 0, NULL, s);
  kiln_session_free(sess);
}

/* Runs `o` with one optional feed (whose value it frees); OK expected. */
static kiln_tensor *eval_fed(kiln_output o, kiln_output feed, kiln_tensor *v) {
  kiln_tensor *out = NULL;
  run(&feed, &v, v ? 1 : 0, &o, &out, 1);
  assert_ok(s);
  kiln_tensor_free(v);
  return out;
}

static kiln_tensor *eval(kiln_output o) {
  return eval_fed(o, (kiln_output){NULL, -1}, NULL);
}

/* Runs `o` with feeds (values freed) and expects the kernel of node
** `node` to fail with `code` and a message containing `needle`. */
static void expect_error_feeds(kiln_output o, const kiln_output *feeds,
                               kiln_tensor **fv, int nf, kiln_code code,
                               const char *needle, const char *node) {
  kiln_tensor *out = (kiln_tensor *)1;
  run(feeds, fv, nf, &o, &out, 1);
  assert_status(s, code, needle);
  assert_null(out);
  if (!strstr(kiln_status_message(s), node))
    fail_msg("message \"%s\" lacks the node name \"%s\"", kiln_status_message(s),
             node);
  for (int i = 0; i < nf; i++) kiln_tensor_free(fv[i]);
  kiln_status_reset(s);
}

static void expect_error(kiln_output o, kiln_output feed, kiln_tensor *v,
                         kiln_code code, const char *needle, const char *node) {
  expect_error_feeds(o, &feed, &v, v ? 1 : 0, code, needle, node);
}

static void expect_shape(const kiln_tensor *t, kiln_dtype dt,
                         const int64_t *dims, int nd) {
  assert_non_null(t);
  assert_int_equal(kiln_tensor_dtype(t), dt);
  assert_int_equal(kiln_tensor_ndims(t), nd);
  for (int i = 0; i < nd; i++)
    if (kiln_tensor_dim(t, i) != dims[i])
      fail_msg("dim %d: got %lld, want %lld", i, (long long)kiln_tensor_dim(t, i),
               (long long)dims[i]);
}

/* Checks dtype, shape and every element's bytes, then frees t. */
static void expect_t(kiln_tensor *t, kiln_dtype dt, const int64_t *dims,
                     int nd, const void *want) {
  expect_shape(t, dt, dims, nd);
  size_t es = kiln_dtype_size(dt);
  const char *got = kiln_tensor_data(t);
  for (int64_t i = 0; i < kiln_tensor_num_elements(t); i++)
    if (memcmp(got + i * es, (const char *)want + i * es, es) != 0) {
      double gv = 0, wv = 0;
      if (dt == KILN_FLOAT) gv = ((const float *)got)[i], wv = ((const float *)want)[i];
      if (dt == KILN_INT32) gv = ((const int32_t *)got)[i], wv = ((const int32_t *)want)[i];
      if (dt == KILN_INT64) gv = (double)((const int64_t *)got)[i], wv = (double)((const int64_t *)want)[i];
      fail_msg("element %lld differs (got %g, want %g)", (long long)i, gv, wv);
    }
  kiln_tensor_free(t);
}

static void expect_strings(kiln_tensor *t, const int64_t *dims, int nd,
                           const char *const *want) {
  expect_shape(t, KILN_STRING, dims, nd);
  for (int64_t i = 0; i < kiln_tensor_num_elements(t); i++) {
    size_t len;
    const char *got = kiln_tensor_string(t, i, &len);
    assert_non_null(got);
    if (len != strlen(want[i]) || memcmp(got, want[i], len) != 0)
      fail_msg("element %lld: got \"%.*s\", want \"%s\"", (long long)i,
               (int)len, got, want[i]);
  }
  kiln_tensor_free(t);
}

static int32_t iota24[24] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                             12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23};

/* Deterministic pseudo-random bytes for reference tests. */
static uint32_t rng_state = 12345;
static uint32_t rnd(void) {
  rng_state = rng_state * 1664525u + 1013904223u;
  return rng_state >> 8;
}

/* -------------------------------------------------- Const and identities */

/* Everything below runs on the real plugin: say so plainly when it is
** missing rather than failing each test with "no kernel". */
static void t_cpu_loaded(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
}

static void t_const(void **state) {
  (void)state;
  double d[3] = {1.5, -2.25, 1e300};
  uint8_t b[4] = {1, 0, 1, 1};
  uint16_t h[2] = {0x3c00, 0xc000};
  float c64[4] = {1, 2, -3, 4};
  int64_t i64[2] = {INT64_MAX, INT64_MIN};
  const char *words[3] = {"", "kiln", "a\0b"};
  kiln_output od = konst(KILN_DOUBLE, d, DIMS(3));
  kiln_output ob = konst(KILN_BOOL, b, DIMS(2, 2));
  kiln_output oh = konst(KILN_HALF, h, DIMS(2));
  kiln_output oc = konst(KILN_COMPLEX64, c64, DIMS(2));
  kiln_output oi = konst(KILN_INT64, i64, DIMS(2, 1));
  kiln_output os = kstrings(words, DIMS(3));
  kiln_output oe = konst(KILN_FLOAT, NULL, DIMS(0, 3));
  kiln_output f[7] = {od, ob, oh, oc, oi, os, oe};
  kiln_tensor *out[7];
  run(NULL, NULL, 0, f, out, 7);
  assert_ok(s);
  expect_t(out[0], KILN_DOUBLE, DIMS(3), d);
  expect_t(out[1], KILN_BOOL, DIMS(2, 2), b);
  expect_t(out[2], KILN_HALF, DIMS(2), h);
  expect_t(out[3], KILN_COMPLEX64, DIMS(2), c64);
  expect_t(out[4], KILN_INT64, DIMS(2, 1), i64);
  expect_strings(out[5], DIMS(3), words);
  expect_t(out[6], KILN_FLOAT, DIMS(0, 3), NULL);
  /* A scalar, twice from one session: the attr is copied each run. */
  kiln_output sc = kiln_const_int32(g, 7, "seven", s);
  assert_ok(s);
  kiln_session *sess = kiln_session_new(g, NULL, s);
  for (int r = 0; r < 2; r++) {
    kiln_tensor *t = NULL;
    kiln_session_run(sess, NULL, NULL, NULL, 0, &sc, &t, 1, NULL, 0, NULL, s);
    assert_ok(s);
    expect_t(t, KILN_INT32, SCALAR, (int32_t[]){7});
  }
  kiln_session_free(sess);
}

static void t_noop_and_identities(void **state) {
  (void)state;
  float v[3] = {1, 2, 3};
  kiln_output x = konst(KILN_FLOAT, v, DIMS(3));
  kiln_output n = kiln_const_int64(g, 9, NULL, s);
  kiln_op *noop = kiln_no_op(g, &x.op, 1, "group", s);
  assert_ok(s);
  kiln_output id = kiln_identity(g, x, NULL, s);
  kiln_output sg = kiln_stop_gradient(g, id, NULL, s);
  kiln_output ins[2] = {x, n}, outs[2];
  kiln_identity_n(g, ins, 2, outs, "idn", s);
  assert_ok(s);
  kiln_op_desc *d = kiln_op_desc_new(g, "Snapshot", "snap");
  kiln_op_desc_add_input(d, x);
  kiln_output snap = {kiln_op_desc_finish(d, s), 0};
  assert_ok(s);
  d = kiln_op_desc_new(g, "PreventGradient", "pg");
  kiln_op_desc_add_input(d, x);
  kiln_output pg = {kiln_op_desc_finish(d, s), 0};
  assert_ok(s);
  kiln_output f[5] = {sg, outs[0], outs[1], snap, pg};
  kiln_tensor *out[5];
  kiln_session *sess = kiln_session_new(g, NULL, s);
  kiln_session_run(sess, NULL, NULL, NULL, 0, f, out, 5, &noop, 1, NULL, s);
  assert_ok(s);
  kiln_session_free(sess);
  expect_t(out[0], KILN_FLOAT, DIMS(3), v);
  expect_t(out[1], KILN_FLOAT, DIMS(3), v);
  expect_t(out[2], KILN_INT64, SCALAR, (int64_t[]){9});
  expect_t(out[3], KILN_FLOAT, DIMS(3), v);
  expect_t(out[4], KILN_FLOAT, DIMS(3), v);

  /* PlaceholderWithDefault: the default, or the feed. */
  kiln_output pwd = kiln_placeholder_with_default(g, x, DIMS(-1), "pwd", s);
  assert_ok(s);
  kiln_output twice = kiln_identity(g, pwd, NULL, s);
  expect_t(eval(twice), KILN_FLOAT, DIMS(3), v);
  float w[2] = {8, 9};
  expect_t(eval_fed(twice, pwd, tensor(KILN_FLOAT, w, DIMS(2))), KILN_FLOAT,
           DIMS(2), w);
  /* Identity of strings. */
  const char *words[2] = {"x", "yz"};
  expect_strings(eval(kiln_identity(g, kstrings(words, DIMS(2)), NULL, s)),
                 DIMS(2), words);
}

/* ------------------------------------------------------- shape kernels */

static void t_reshape(void **state) {
  (void)state;
  kiln_output x = konst(KILN_INT32, iota24, DIMS(2, 3, 4));
  expect_t(eval(kiln_reshape_dims(g, x, DIMS(4, -1), NULL, s)), KILN_INT32,
           DIMS(4, 6), iota24);
  expect_t(eval(kiln_reshape_dims(g, x, DIMS(24), NULL, s)), KILN_INT32,
           DIMS(24), iota24);
  kiln_output sh64 = konst(KILN_INT64, (int64_t[]){-1, 2, 2}, DIMS(3));
  expect_t(eval(kiln_reshape(g, x, sh64, NULL, s)), KILN_INT32, DIMS(6, 2, 2),
           iota24);
  /* A one-element tensor to a scalar, an empty one to [0, 5]. */
  kiln_output one = konst(KILN_FLOAT, (float[]){4}, DIMS(1, 1));
  expect_t(eval(kiln_reshape_dims(g, one, NULL, 0, NULL, s)), KILN_FLOAT,
           SCALAR, (float[]){4});
  kiln_output empty = konst(KILN_FLOAT, NULL, DIMS(0, 2));
  expect_t(eval(kiln_reshape_dims(g, empty, DIMS(0, 5), NULL, s)), KILN_FLOAT,
           DIMS(0, 5), NULL);
  const char *w[4] = {"a", "b", "c", "d"};
  expect_strings(eval(kiln_reshape_dims(g, kstrings(w, DIMS(4)), DIMS(2, 2),
                                        NULL, s)),
                 DIMS(2, 2), w);

  /* Errors, with the data's shape unknown until run time. */
  kiln_output p = ph(KILN_FLOAT, "p");
  float six[6] = {0};
  kiln_output r1 = kiln_reshape_dims(g, p, DIMS(2, 2), "r1", s);
  assert_ok(s);
  expect_error(r1, p, tensor(KILN_FLOAT, six, DIMS(2, 3)), KILN_INVALID_ARGUMENT,
               "Input to reshape is a tensor with 6 values, but the requested "
               "shape has 4",
               "r1");
  kiln_output r2 = kiln_reshape_dims(g, p, DIMS(-1, 4), "r2", s);
  expect_error(r2, p, tensor(KILN_FLOAT, six, DIMS(6)), KILN_INVALID_ARGUMENT,
               "Input to reshape is a tensor with 6 values, but the requested "
               "shape requires a multiple of 4",
               "r2");
  kiln_output r3 = kiln_reshape_dims(g, p, DIMS(0, -1), "r3", s);
  expect_error(r3, p, tensor(KILN_FLOAT, NULL, DIMS(0)), KILN_INVALID_ARGUMENT,
               "Reshape cannot infer the missing input size for an empty "
               "tensor unless all specified input sizes are non-zero",
               "r3");
  kiln_output shp = ph(KILN_INT32, "shp");
  kiln_output r4 = kiln_reshape(g, konst(KILN_FLOAT, six, DIMS(6)), shp, "r4", s);
  assert_ok(s);
  expect_error(r4, shp, tensor(KILN_INT32, (int32_t[]){-1, -1}, DIMS(2)),
               KILN_INVALID_ARGUMENT,
               "Only one input size may be -1, not both 0 and 1", "r4");
  expect_error(r4, shp, tensor(KILN_INT32, (int32_t[]){-2, -3}, DIMS(2)),
               KILN_INVALID_ARGUMENT, "Size 0 must be non-negative, not -2",
               "r4");
  expect_error(r4, shp, tensor(KILN_INT32, (int32_t[]){6}, DIMS(1, 1)),
               KILN_INVALID_ARGUMENT, "sizes input must be 1-D, not [1,1]", "r4");
}

static void t_squeeze_expand_dims(void **state) {
  (void)state;
  float v[6] = {1, 2, 3, 4, 5, 6};
  kiln_output x = konst(KILN_FLOAT, v, DIMS(1, 2, 1, 3, 1));
  expect_t(eval(kiln_squeeze(g, x, NULL, 0, NULL, s)), KILN_FLOAT, DIMS(2, 3), v);
  expect_t(eval(kiln_squeeze(g, x, DIMS(0, -1), NULL, s)), KILN_FLOAT,
           DIMS(2, 1, 3), v);
  kiln_output sc = konst(KILN_FLOAT, v, DIMS(1, 1));
  expect_t(eval(kiln_squeeze(g, sc, NULL, 0, NULL, s)), KILN_FLOAT, SCALAR, v);

  kiln_output y = konst(KILN_FLOAT, v, DIMS(2, 3));
  expect_t(eval(kiln_expand_dims_axis(g, y, 0, NULL, s)), KILN_FLOAT,
           DIMS(1, 2, 3), v);
  expect_t(eval(kiln_expand_dims_axis(g, y, 2, NULL, s)), KILN_FLOAT,
           DIMS(2, 3, 1), v);
  expect_t(eval(kiln_expand_dims_axis(g, y, -1, NULL, s)), KILN_FLOAT,
           DIMS(2, 3, 1), v);
  expect_t(eval(kiln_expand_dims_axis(g, y, -3, NULL, s)), KILN_FLOAT,
           DIMS(1, 2, 3), v);
  kiln_output k = kiln_const_float(g, 5, NULL, s);
  expect_t(eval(kiln_expand_dims_axis(g, k, 0, NULL, s)), KILN_FLOAT, DIMS(1),
           (float[]){5});

  kiln_output p = ph(KILN_FLOAT, "p");
  kiln_output q1 = kiln_squeeze(g, p, DIMS(1), "q1", s);
  assert_ok(s);
  expect_error(q1, p, tensor(KILN_FLOAT, v, DIMS(2, 3)), KILN_INVALID_ARGUMENT,
               "Can not squeeze dim[1], expected a dimension of 1, got 3", "q1");
  kiln_output q2 = kiln_squeeze(g, p, DIMS(-3), "q2", s);
  expect_error(q2, p, tensor(KILN_FLOAT, v, DIMS(6)), KILN_INVALID_ARGUMENT,
               "Tried to squeeze dim index -3 for tensor with 1 dimensions.",
               "q2");
  kiln_output e1 = kiln_expand_dims_axis(g, p, 3, "e1", s);
  assert_ok(s);
  expect_error(e1, p, tensor(KILN_FLOAT, v, DIMS(6)), KILN_INVALID_ARGUMENT,
               "Tried to expand dim index 3 for tensor with 1 dimensions.", "e1");
  kiln_output dim = ph(KILN_INT32, "dim");
  kiln_output e2 = kiln_expand_dims(g, y, dim, "e2", s);
  assert_ok(s);
  expect_error(e2, dim, tensor(KILN_INT32, (int32_t[]){0, 1}, DIMS(2)),
               KILN_INVALID_ARGUMENT,
               "'dim' must be a tensor with a single value", "e2");
}

static void t_shape_size_rank(void **state) {
  (void)state;
  kiln_output x = konst(KILN_INT32, iota24, DIMS(2, 3, 4));
  kiln_output e = konst(KILN_FLOAT, NULL, DIMS(5, 0));
  kiln_output k = kiln_const_bool(g, true, NULL, s);
  kiln_output f[7] = {
      kiln_shape(g, x, KILN_INT32, NULL, s), kiln_shape(g, e, KILN_INT64, NULL, s),
      kiln_shape(g, k, KILN_INVALID_DTYPE, NULL, s),
      kiln_size(g, x, KILN_INT64, NULL, s), kiln_size(g, e, KILN_INT32, NULL, s),
      kiln_rank(g, x, NULL, s), kiln_rank(g, k, NULL, s)};
  assert_ok(s);
  kiln_tensor *out[7];
  run(NULL, NULL, 0, f, out, 7);
  assert_ok(s);
  expect_t(out[0], KILN_INT32, DIMS(3), (int32_t[]){2, 3, 4});
  expect_t(out[1], KILN_INT64, DIMS(2), (int64_t[]){5, 0});
  expect_t(out[2], KILN_INT32, DIMS(0), NULL);
  expect_t(out[3], KILN_INT64, SCALAR, (int64_t[]){24});
  expect_t(out[4], KILN_INT32, SCALAR, (int32_t[]){0});
  expect_t(out[5], KILN_INT32, SCALAR, (int32_t[]){3});
  expect_t(out[6], KILN_INT32, SCALAR, (int32_t[]){0});

  /* ShapeN over two inputs, with the shapes known only at run time. */
  kiln_output p = ph(KILN_FLOAT, "p");
  kiln_op_desc *d = kiln_op_desc_new(g, "ShapeN", "shapes");
  kiln_output ins[2] = {p, kiln_cast(g, x, KILN_FLOAT, NULL, s)};
  kiln_op_desc_add_input_list(d, ins, 2);
  kiln_op_desc_set_attr_type(d, "out_type", KILN_INT64);
  kiln_op *sn = kiln_op_desc_finish(d, s);
  assert_ok(s);
  kiln_output fo[2] = {{sn, 0}, {sn, 1}};
  kiln_tensor *pv = tensor(KILN_FLOAT, NULL, DIMS(7, 1)), *so[2];
  run(&p, &pv, 1, fo, so, 2);
  assert_ok(s);
  kiln_tensor_free(pv);
  expect_t(so[0], KILN_INT64, DIMS(2), (int64_t[]){7, 1});
  expect_t(so[1], KILN_INT64, DIMS(3), (int64_t[]){2, 3, 4});
}

static void t_fill(void **state) {
  (void)state;
  kiln_output v = kiln_const_float(g, 2.5f, NULL, s);
  expect_t(eval(kiln_fill_dims(g, DIMS(2, 3), v, NULL, s)), KILN_FLOAT,
           DIMS(2, 3), (float[]){2.5f, 2.5f, 2.5f, 2.5f, 2.5f, 2.5f});
  kiln_output vi = kiln_const_int64(g, -4, NULL, s);
  expect_t(eval(kiln_fill_dims(g, DIMS(3), vi, NULL, s)), KILN_INT64, DIMS(3),
           (int64_t[]){-4, -4, -4});
  kiln_output vb = kiln_const_bool(g, true, NULL, s);
  expect_t(eval(kiln_fill_dims(g, DIMS(2, 0), vb, NULL, s)), KILN_BOOL,
           DIMS(2, 0), NULL);
  expect_t(eval(kiln_fill_dims(g, NULL, 0, vb, NULL, s)), KILN_BOOL, SCALAR,
           (uint8_t[]){1});
  kiln_output vh = konst(KILN_HALF, (uint16_t[]){0x3555}, SCALAR);
  expect_t(eval(kiln_fill_dims(g, DIMS(5), vh, NULL, s)), KILN_HALF, DIMS(5),
           (uint16_t[]){0x3555, 0x3555, 0x3555, 0x3555, 0x3555});
  kiln_output vs = kiln_const_string(g, "ab", 2, NULL, s);
  expect_strings(eval(kiln_fill_dims(g, DIMS(2), vs, NULL, s)), DIMS(2),
                 (const char *[]){"ab", "ab"});

  kiln_output dims = ph(KILN_INT32, "dims"), val = ph(KILN_FLOAT, "val");
  kiln_output f = kiln_fill(g, dims, val, "fill", s);
  assert_ok(s);
  kiln_output feeds[2] = {dims, val};
  kiln_tensor *fv[2] = {tensor(KILN_INT32, (int32_t[]){2, -1}, DIMS(2)),
                        tensor(KILN_FLOAT, (float[]){1}, SCALAR)};
  expect_error_feeds(f, feeds, fv, 2, KILN_INVALID_ARGUMENT,
                     "Dimension -1 must be >= 0", "fill");
  fv[0] = tensor(KILN_INT32, (int32_t[]){2}, DIMS(1));
  fv[1] = tensor(KILN_FLOAT, (float[]){1, 2}, DIMS(2));
  expect_error_feeds(f, feeds, fv, 2, KILN_INVALID_ARGUMENT,
                     "value must be a scalar, got shape [2]", "fill");
}

static kiln_output broadcast_to(kiln_output x, kiln_output shape,
                                const char *name) {
  kiln_op_desc *d = kiln_op_desc_new(g, "BroadcastTo", name);
  kiln_op_desc_add_input(d, x);
  kiln_op_desc_add_input(d, shape);
  kiln_output o = {kiln_op_desc_finish(d, s), 0};
  assert_ok(s);
  return o;
}

static void t_broadcast_to(void **state) {
  (void)state;
  kiln_output row = konst(KILN_INT32, (int32_t[]){1, 2, 3}, DIMS(3));
  kiln_output col = konst(KILN_INT32, (int32_t[]){1, 2}, DIMS(2, 1));
  kiln_output s23 = konst(KILN_INT32, (int32_t[]){2, 3}, DIMS(2));
  expect_t(eval(broadcast_to(row, s23, NULL)), KILN_INT32, DIMS(2, 3),
           (int32_t[]){1, 2, 3, 1, 2, 3});
  expect_t(eval(broadcast_to(col, s23, NULL)), KILN_INT32, DIMS(2, 3),
           (int32_t[]){1, 1, 1, 2, 2, 2});
  kiln_output big = konst(KILN_INT64, (int64_t[]){2, 2, 3}, DIMS(3));
  expect_t(eval(broadcast_to(col, big, NULL)), KILN_INT32, DIMS(2, 2, 3),
           (int32_t[]){1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2});
  expect_t(eval(broadcast_to(row, konst(KILN_INT32, (int32_t[]){3}, DIMS(1)), NULL)),
           KILN_INT32, DIMS(3), (int32_t[]){1, 2, 3});

  kiln_output shape = ph(KILN_INT32, "shape");
  kiln_output b = broadcast_to(row, shape, "bt");
  expect_error(b, shape, tensor(KILN_INT32, (int32_t[]){2, 4}, DIMS(2)),
               KILN_INVALID_ARGUMENT, "Incompatible shapes: [3] vs. [2,4]", "bt");
  expect_error(b, shape, tensor(KILN_INT32, (int32_t[]){1}, DIMS(1)),
               KILN_INVALID_ARGUMENT,
               "Unable to broadcast tensor of shape [3] to tensor of shape [1]",
               "bt");
  expect_error(b, shape, tensor(KILN_INT32, NULL, DIMS(0)), KILN_INVALID_ARGUMENT,
               "Rank of input (1) must be no greater than rank of output shape "
               "(0).",
               "bt");
}

/* ----------------------------------------------------------- Transpose */

/* out[i] = in[perm-mapped i], element bytes es. */
static void naive_transpose(const char *in, char *out, const int64_t *dims,
                            int nd, const int64_t *perm, size_t es) {
  int64_t n = 1, st[8], od[8], idx[8] = {0};
  for (int k = nd - 1; k >= 0; k--) st[k] = n, n *= dims[k];
  for (int k = 0; k < nd; k++) od[k] = dims[perm[k]];
  for (int64_t o = 0; o < n; o++) {
    int64_t r = o, src = 0;
    for (int k = nd - 1; k >= 0; k--) idx[k] = r % od[k], r /= od[k];
    for (int k = 0; k < nd; k++) src += idx[k] * st[perm[k]];
    memcpy(out + o * (int64_t)es, in + src * (int64_t)es, es);
  }
}

static void check_transpose(kiln_dtype dt, const int64_t *dims, int nd,
                            const int64_t *perm, int np) {
  assert_int_equal(np, nd);
  size_t es = kiln_dtype_size(dt);
  int64_t n = 1, od[8];
  for (int k = 0; k < nd; k++) n *= dims[k], od[k] = dims[perm[k]];
  char *in = malloc((size_t)n * es + 1), *want = malloc((size_t)n * es + 1);
  for (int64_t i = 0; i < n * (int64_t)es; i++) in[i] = (char)rnd();
  if (dt == KILN_FLOAT) /* no NaN payloads to compare */
    for (int64_t i = 0; i < n; i++) ((float *)(void *)in)[i] = (float)(rnd() % 1000);
  naive_transpose(in, want, dims, nd, perm, es);
  kiln_output x = konst(dt, in, dims, nd);
  expect_t(eval(kiln_transpose_perm(g, x, perm, nd, NULL, s)), dt, od, nd, want);
  free(in);
  free(want);
}

static void t_transpose(void **state) {
  (void)state;
  kiln_output x = konst(KILN_INT32, iota24, DIMS(2, 3, 4));
  expect_t(eval(kiln_transpose_perm(g, x, DIMS(2, 0, 1), NULL, s)), KILN_INT32,
           DIMS(4, 2, 3),
           (int32_t[]){0, 4, 8, 12, 16, 20, 1, 5, 9, 13, 17, 21,
                       2, 6, 10, 14, 18, 22, 3, 7, 11, 15, 19, 23});
  expect_t(eval(kiln_transpose_perm(g, x, DIMS(0, 1, 2), NULL, s)), KILN_INT32,
           DIMS(2, 3, 4), iota24);
  /* Only a size-1 dimension moves: the same bytes. */
  kiln_output y = konst(KILN_INT32, iota24, DIMS(1, 24));
  expect_t(eval(kiln_transpose_perm(g, y, DIMS(1, 0), NULL, s)), KILN_INT32,
           DIMS(24, 1), iota24);
  /* Large 2-D (the tiled path), every element size, higher ranks. */
  check_transpose(KILN_FLOAT, DIMS(67, 131), DIMS(1, 0));
  check_transpose(KILN_DOUBLE, DIMS(300, 45), DIMS(1, 0));
  check_transpose(KILN_INT8, DIMS(130, 70), DIMS(1, 0));
  check_transpose(KILN_HALF, DIMS(33, 64), DIMS(1, 0));
  check_transpose(KILN_COMPLEX128, DIMS(40, 41), DIMS(1, 0));
  check_transpose(KILN_FLOAT, DIMS(2, 3, 4, 5), DIMS(3, 1, 0, 2));
  check_transpose(KILN_FLOAT, DIMS(4, 50, 60), DIMS(0, 2, 1));
  check_transpose(KILN_INT16, DIMS(3, 1, 5, 2, 4), DIMS(4, 2, 0, 3, 1));
  check_transpose(KILN_INT64, DIMS(6, 7, 8), DIMS(1, 2, 0));
  check_transpose(KILN_BOOL, DIMS(9, 0, 3), DIMS(2, 1, 0));
  const char *w[6] = {"a", "b", "c", "d", "e", "f"};
  expect_strings(eval(kiln_transpose_perm(g, kstrings(w, DIMS(2, 3)), DIMS(1, 0),
                                          NULL, s)),
                 DIMS(3, 2), (const char *[]){"a", "d", "b", "e", "c", "f"});

  kiln_output perm = ph(KILN_INT32, "perm");
  kiln_output t = kiln_transpose(g, x, perm, "tr", s);
  assert_ok(s);
  expect_error(t, perm, tensor(KILN_INT32, (int32_t[]){1, 0}, DIMS(2)),
               KILN_INVALID_ARGUMENT,
               "transpose expects a vector of size 3. But input(1) is a vector "
               "of size 2",
               "tr");
  expect_error(t, perm, tensor(KILN_INT32, (int32_t[]){0, 3, 1}, DIMS(3)),
               KILN_INVALID_ARGUMENT, "3 is out of range [0 .. 3)", "tr");
  expect_error(t, perm, tensor(KILN_INT32, (int32_t[]){1, 1, 0}, DIMS(3)),
               KILN_INVALID_ARGUMENT, "2 is missing from {1,1,0}.", "tr");
}

/* -------------------------------------------- Concat, Pack and Unpack */

static void t_concat(void **state) {
  (void)state;
  kiln_output a = konst(KILN_INT32, (int32_t[]){1, 2, 3, 4}, DIMS(2, 2));
  kiln_output b = konst(KILN_INT32, (int32_t[]){5, 6}, DIMS(2, 1));
  kiln_output c = konst(KILN_INT32, (int32_t[]){7, 8, 9, 10, 11, 12}, DIMS(2, 3));
  kiln_output v1[3] = {a, b, c};
  expect_t(eval(kiln_concat_axis(g, v1, 3, 1, NULL, s)), KILN_INT32, DIMS(2, 6),
           (int32_t[]){1, 2, 5, 7, 8, 9, 3, 4, 6, 10, 11, 12});
  expect_t(eval(kiln_concat_axis(g, v1, 3, -1, NULL, s)), KILN_INT32, DIMS(2, 6),
           (int32_t[]){1, 2, 5, 7, 8, 9, 3, 4, 6, 10, 11, 12});
  kiln_output e = konst(KILN_INT32, NULL, DIMS(0, 2));
  kiln_output v0[3] = {a, e, a};
  expect_t(eval(kiln_concat_axis(g, v0, 3, 0, NULL, s)), KILN_INT32, DIMS(4, 2),
           (int32_t[]){1, 2, 3, 4, 1, 2, 3, 4});
  kiln_output ax64 = kiln_const_int64(g, 0, NULL, s);
  kiln_output vv[2] = {a, a};
  expect_t(eval(kiln_concat(g, vv, 2, ax64, NULL, s)), KILN_INT32, DIMS(4, 2),
           (int32_t[]){1, 2, 3, 4, 1, 2, 3, 4});
  const char *w1[2] = {"a", "b"}, *w2[1] = {"c"};
  kiln_output sv[2] = {kstrings(w1, DIMS(2)), kstrings(w2, DIMS(1))};
  expect_strings(eval(kiln_concat_axis(g, sv, 2, 0, NULL, s)), DIMS(3),
                 (const char *[]){"a", "b", "c"});
  /* The older Concat, axis first. */
  kiln_op_desc *d = kiln_op_desc_new(g, "Concat", "concat_v1");
  kiln_op_desc_add_input(d, kiln_const_int32(g, 1, NULL, s));
  kiln_op_desc_add_input_list(d, vv, 2);
  kiln_output cv1 = {kiln_op_desc_finish(d, s), 0};
  assert_ok(s);
  expect_t(eval(cv1), KILN_INT32, DIMS(2, 4), (int32_t[]){1, 2, 1, 2, 3, 4, 3, 4});

  kiln_output p = ph(KILN_INT32, "p");
  kiln_output pv[2] = {a, p};
  kiln_output cc = kiln_concat_axis(g, pv, 2, 1, "cc", s);
  assert_ok(s);
  expect_error(cc, p, tensor(KILN_INT32, (int32_t[]){1, 2, 3}, DIMS(3)),
               KILN_INVALID_ARGUMENT,
               "ConcatOp : Ranks of all input tensors should match: shape[0] = "
               "[2,2] vs. shape[1] = [3]",
               "cc");
  expect_error(cc, p, tensor(KILN_INT32, (int32_t[]){1, 2, 3}, DIMS(3, 1)),
               KILN_INVALID_ARGUMENT,
               "ConcatOp : Dimension 0 in both shapes must be equal: shape[0] = "
               "[2,2] vs. shape[1] = [3,1]",
               "cc");
  kiln_output axis = ph(KILN_INT32, "axis");
  kiln_output ca = kiln_concat(g, vv, 2, axis, "ca", s);
  assert_ok(s);
  expect_error(ca, axis, tensor(KILN_INT32, (int32_t[]){2}, SCALAR),
               KILN_INVALID_ARGUMENT,
               "ConcatOp : Expected concatenating dimensions in the range [-2, "
               "2), but got 2",
               "ca");
}

static void t_pack_unpack(void **state) {
  (void)state;
  kiln_output a = konst(KILN_FLOAT, (float[]){1, 2, 3}, DIMS(3));
  kiln_output b = konst(KILN_FLOAT, (float[]){4, 5, 6}, DIMS(3));
  kiln_output ab[2] = {a, b};
  expect_t(eval(kiln_pack(g, ab, 2, 0, NULL, s)), KILN_FLOAT, DIMS(2, 3),
           (float[]){1, 2, 3, 4, 5, 6});
  expect_t(eval(kiln_pack(g, ab, 2, 1, NULL, s)), KILN_FLOAT, DIMS(3, 2),
           (float[]){1, 4, 2, 5, 3, 6});
  expect_t(eval(kiln_pack(g, ab, 2, -1, NULL, s)), KILN_FLOAT, DIMS(3, 2),
           (float[]){1, 4, 2, 5, 3, 6});
  expect_t(eval(kiln_pack(g, ab, 1, 0, NULL, s)), KILN_FLOAT, DIMS(1, 3),
           (float[]){1, 2, 3});
  kiln_output k[3] = {kiln_const_int64(g, 1, NULL, s), kiln_const_int64(g, 2, NULL, s),
                      kiln_const_int64(g, 3, NULL, s)};
  expect_t(eval(kiln_pack(g, k, 3, 0, NULL, s)), KILN_INT64, DIMS(3),
           (int64_t[]){1, 2, 3});
  kiln_output sw[2] = {kiln_const_string(g, "p", 1, NULL, s),
                       kiln_const_string(g, "q", 1, NULL, s)};
  expect_strings(eval(kiln_pack(g, sw, 2, 0, NULL, s)), DIMS(2),
                 (const char *[]){"p", "q"});

  kiln_output x = konst(KILN_INT32, iota24, DIMS(2, 3, 4));
  kiln_output outs[4];
  kiln_tensor *got[4];
  kiln_unpack(g, x, 3, 1, outs, NULL, s);
  assert_ok(s);
  run(NULL, NULL, 0, outs, got, 3);
  assert_ok(s);
  expect_t(got[0], KILN_INT32, DIMS(2, 4), (int32_t[]){0, 1, 2, 3, 12, 13, 14, 15});
  expect_t(got[1], KILN_INT32, DIMS(2, 4), (int32_t[]){4, 5, 6, 7, 16, 17, 18, 19});
  expect_t(got[2], KILN_INT32, DIMS(2, 4), (int32_t[]){8, 9, 10, 11, 20, 21, 22, 23});
  kiln_unpack(g, x, 4, -1, outs, NULL, s);
  assert_ok(s);
  run(NULL, NULL, 0, outs, got, 4);
  assert_ok(s);
  expect_t(got[3], KILN_INT32, DIMS(2, 3), (int32_t[]){3, 7, 11, 15, 19, 23});
  for (int i = 0; i < 3; i++) kiln_tensor_free(got[i]);
  kiln_unpack(g, konst(KILN_INT32, iota24, DIMS(1, 2, 3)), 1, 0, outs, NULL, s);
  assert_ok(s);
  expect_t(eval(outs[0]), KILN_INT32, DIMS(2, 3), iota24);
  kiln_unpack(g, a, 1, 0, NULL, NULL, s); /* num 1 needs size 1 */
  assert_int_equal(kiln_status_code(s), KILN_INVALID_ARGUMENT);
  kiln_status_reset(s);

  kiln_output p = ph(KILN_FLOAT, "p");
  kiln_output ap[2] = {a, p};
  kiln_output pk = kiln_pack(g, ap, 2, 0, "pk", s);
  assert_ok(s);
  expect_error(pk, p, tensor(KILN_FLOAT, (float[]){1, 2}, DIMS(2)),
               KILN_INVALID_ARGUMENT,
               "Shapes of all inputs must match: values[0].shape = [3] != "
               "values[1].shape = [2]",
               "pk");
  kiln_op *up = kiln_unpack(g, p, 2, 0, outs, "up", s);
  assert_ok(s);
  assert_non_null(up);
  expect_error(outs[0], p, tensor(KILN_FLOAT, (float[]){1, 2, 3}, DIMS(3)),
               KILN_INVALID_ARGUMENT, "Input shape axis 0 must equal 2, got shape [3]",
               "up");
}

/* --------------------------------------------------------------- Slice */

static void t_slice(void **state) {
  (void)state;
  kiln_output x = konst(KILN_INT32, iota24, DIMS(2, 3, 4));
  expect_t(eval(kiln_slice_dims(g, x, (int64_t[]){1, 0, 2}, (int64_t[]){1, 2, -1},
                                3, NULL, s)),
           KILN_INT32, DIMS(1, 2, 2), (int32_t[]){14, 15, 18, 19});
  expect_t(eval(kiln_slice_dims(g, x, (int64_t[]){0, 0, 0}, (int64_t[]){-1, -1, -1},
                                3, NULL, s)),
           KILN_INT32, DIMS(2, 3, 4), iota24);
  expect_t(eval(kiln_slice_dims(g, x, (int64_t[]){0, 3, 0}, (int64_t[]){2, 0, 4},
                                3, NULL, s)),
           KILN_INT32, DIMS(2, 0, 4), NULL);
  const char *w[4] = {"a", "b", "c", "d"};
  expect_strings(eval(kiln_slice_dims(g, kstrings(w, DIMS(2, 2)), (int64_t[]){0, 1},
                                      (int64_t[]){2, 1}, 2, NULL, s)),
                 DIMS(2, 1), (const char *[]){"b", "d"});

  kiln_output begin = ph(KILN_INT32, "begin");
  kiln_output size = ph(KILN_INT32, "size");
  kiln_output sl = kiln_slice(g, x, begin, size, "sl", s);
  assert_ok(s);
  kiln_output f[2] = {begin, size};
  kiln_tensor *fv[2] = {tensor(KILN_INT32, (int32_t[]){0, 4, 0}, DIMS(3)),
                        tensor(KILN_INT32, (int32_t[]){1, 1, 1}, DIMS(3))};
  expect_error_feeds(sl, f, fv, 2, KILN_INVALID_ARGUMENT,
                     "Expected begin[1] in [0, 3], but got 4", "sl");
  fv[0] = tensor(KILN_INT32, (int32_t[]){0, 1, 0}, DIMS(3));
  fv[1] = tensor(KILN_INT32, (int32_t[]){1, 3, 1}, DIMS(3));
  expect_error_feeds(sl, f, fv, 2, KILN_INVALID_ARGUMENT,
                     "Expected size[1] in [0, 2], but got 3", "sl");
  fv[0] = tensor(KILN_INT32, (int32_t[]){0, 1}, DIMS(2));
  fv[1] = tensor(KILN_INT32, (int32_t[]){1, 3, 1}, DIMS(3));
  expect_error_feeds(sl, f, fv, 2, KILN_INVALID_ARGUMENT,
                     "Expected begin and size arguments to be 1-D tensors of size "
                     "3, but got shapes [2] and [3] instead.",
                     "sl");
}

typedef struct ss_case {
  int n;
  int64_t begin[5], end[5], strides[5];
  kiln_strided_slice_masks m;
  int nd;
  int64_t dims[4];
  int32_t want[24];
} ss_case;

static void t_strided_slice(void **state) {
  (void)state;
  static const ss_case cases[] = {
      /* x[1, :, ::2] */
      {3, {1, 0, 0}, {2, 0, 0}, {1, 1, 2}, {.begin_mask = 6, .end_mask = 6,
       .shrink_axis_mask = 1}, 2, {3, 2}, {12, 14, 16, 18, 20, 22}},
      /* x[..., -1] */
      {2, {0, -1}, {0, 0}, {1, 1}, {.ellipsis_mask = 1, .shrink_axis_mask = 2},
       2, {2, 3}, {3, 7, 11, 15, 19, 23}},
      /* x[::-1, 2:0:-1, 1] */
      {3, {0, 2, 1}, {0, 0, 2}, {-1, -1, 1}, {.begin_mask = 1, .end_mask = 1,
       .shrink_axis_mask = 4}, 2, {2, 2}, {21, 17, 9, 5}},
      /* x[tf.newaxis, 0, 1:3] */
      {3, {0, 0, 1}, {0, 1, 3}, {1, 1, 1}, {.new_axis_mask = 1,
       .shrink_axis_mask = 2}, 3, {1, 2, 4}, {4, 5, 6, 7, 8, 9, 10, 11}},
      /* x[:, -10:10, 3:100:2]: clamped */
      {3, {0, -10, 3}, {0, 10, 100}, {1, 1, 2}, {.begin_mask = 1, .end_mask = 1},
       3, {2, 3, 1}, {3, 7, 11, 15, 19, 23}},
      /* x[:, 2:1] */
      {2, {0, 2}, {0, 1}, {1, 1}, {.begin_mask = 1, .end_mask = 1}, 3, {2, 0, 4},
       {0}},
      /* x[0, 0, ::-3] */
      {3, {0, 0, 0}, {0, 0, 0}, {1, 1, -3}, {.begin_mask = 4, .end_mask = 4,
       .shrink_axis_mask = 3}, 1, {2}, {3, 0}},
      /* x[1, ..., tf.newaxis, 2] */
      {4, {1, 0, 0, 2}, {2, 0, 0, 3}, {1, 1, 1, 1}, {.ellipsis_mask = 2,
       .new_axis_mask = 4, .shrink_axis_mask = 9}, 2, {3, 1}, {14, 18, 22}},
      /* x[-1:-3:-1, -1] */
      {2, {-1, -1}, {-3, 0}, {-1, 1}, {.shrink_axis_mask = 2}, 2, {2, 4},
       {20, 21, 22, 23, 8, 9, 10, 11}},
      /* x[:] */
      {1, {0}, {0}, {1}, {.begin_mask = 1, .end_mask = 1}, 3, {2, 3, 4},
       {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
        21, 22, 23}},
  };
  kiln_output x = konst(KILN_INT32, iota24, DIMS(2, 3, 4));
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const ss_case *c = &cases[i];
    kiln_output o = kiln_strided_slice_dims(g, x, c->begin, c->end, c->strides,
                                            c->n, &c->m, NULL, s);
    if (kiln_status_code(s) != KILN_OK) fail_msg("case %zu: %s", i, kiln_status_message(s));
    kiln_tensor *t = eval(o);
    expect_t(t, KILN_INT32, c->dims, c->nd, c->want);
  }
  /* Strings and int64 indices. */
  const char *w[3] = {"a", "b", "c"};
  kiln_output b64 = konst(KILN_INT64, (int64_t[]){2}, DIMS(1));
  kiln_output e64 = konst(KILN_INT64, (int64_t[]){0}, DIMS(1));
  kiln_output s64 = konst(KILN_INT64, (int64_t[]){-2}, DIMS(1));
  expect_strings(eval(kiln_strided_slice(g, kstrings(w, DIMS(3)), b64, e64, s64,
                                         &(kiln_strided_slice_masks){.end_mask = 1},
                                         NULL, s)),
                 DIMS(2), (const char *[]){"c", "a"});

  /* Errors, with begin/end/strides known only at run time. */
  kiln_output pb = ph(KILN_INT32, "pb"), pe = ph(KILN_INT32, "pe"),
              ps = ph(KILN_INT32, "ps");
  kiln_output ss = kiln_strided_slice(
      g, x, pb, pe, ps, &(kiln_strided_slice_masks){.shrink_axis_mask = 1},
      "ss", s);
  assert_ok(s);
  kiln_output f[3] = {pb, pe, ps};
  kiln_tensor *fv[3] = {tensor(KILN_INT32, (int32_t[]){5}, DIMS(1)),
                        tensor(KILN_INT32, (int32_t[]){6}, DIMS(1)),
                        tensor(KILN_INT32, (int32_t[]){1}, DIMS(1))};
  expect_error_feeds(ss, f, fv, 3, KILN_INVALID_ARGUMENT,
                     "slice index 5 of dimension 0 out of bounds.", "ss");
  fv[0] = tensor(KILN_INT32, (int32_t[]){0, 0}, DIMS(2));
  fv[1] = tensor(KILN_INT32, (int32_t[]){1, 1}, DIMS(2));
  fv[2] = tensor(KILN_INT32, (int32_t[]){1, 0}, DIMS(2));
  expect_error_feeds(ss, f, fv, 3, KILN_INVALID_ARGUMENT,
                     "strides[1] must be non-zero", "ss");
  fv[0] = tensor(KILN_INT32, (int32_t[]){0, 0}, DIMS(2));
  fv[1] = tensor(KILN_INT32, (int32_t[]){1}, DIMS(1));
  fv[2] = tensor(KILN_INT32, (int32_t[]){1, 1}, DIMS(2));
  expect_error_feeds(ss, f, fv, 3, KILN_INVALID_ARGUMENT,
                     "Expected begin, end, and strides to be 1D equal size "
                     "tensors, but got shapes [2], [1], and [2] instead.",
                     "ss");
  fv[0] = tensor(KILN_INT32, (int32_t[]){0, 0, 0, 0}, DIMS(4));
  fv[1] = tensor(KILN_INT32, (int32_t[]){1, 1, 1, 1}, DIMS(4));
  fv[2] = tensor(KILN_INT32, (int32_t[]){1, 1, 1, 1}, DIMS(4));
  expect_error_feeds(ss, f, fv, 3, KILN_INVALID_ARGUMENT,
                     "Index out of range using input dim 3; input has only 3 dims",
                     "ss");
  fv[0] = tensor(KILN_INT32, (int32_t[]){0}, DIMS(1));
  fv[1] = tensor(KILN_INT32, (int32_t[]){1}, DIMS(1));
  fv[2] = tensor(KILN_INT32, (int32_t[]){-1}, DIMS(1));
  expect_error_feeds(ss, f, fv, 3, KILN_INVALID_ARGUMENT,
                     "only stride 1 allowed on non-range indexing.", "ss");
}

/* --------------------------------------------------------------- Split */

static void t_split(void **state) {
  (void)state;
  kiln_output x = konst(KILN_INT32, iota24, DIMS(2, 3, 4));
  kiln_output outs[4];
  kiln_tensor *got[4];
  kiln_split_axis(g, x, 2, 2, outs, NULL, s);
  assert_ok(s);
  run(NULL, NULL, 0, outs, got, 2);
  assert_ok(s);
  expect_t(got[0], KILN_INT32, DIMS(2, 3, 2),
           (int32_t[]){0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21});
  expect_t(got[1], KILN_INT32, DIMS(2, 3, 2),
           (int32_t[]){2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23});
  kiln_split_axis(g, x, -3, 2, outs, NULL, s);
  run(NULL, NULL, 0, outs, got, 2);
  assert_ok(s);
  expect_t(got[0], KILN_INT32, DIMS(1, 3, 4), iota24);
  expect_t(got[1], KILN_INT32, DIMS(1, 3, 4), iota24 + 12);
  kiln_split_axis(g, x, 1, 1, outs, NULL, s);
  expect_t(eval(outs[0]), KILN_INT32, DIMS(2, 3, 4), iota24);

  kiln_split_v_sizes(g, x, DIMS(1, -1, 1), 2, outs, NULL, s);
  assert_ok(s);
  run(NULL, NULL, 0, outs, got, 3);
  assert_ok(s);
  expect_t(got[0], KILN_INT32, DIMS(2, 3, 1), (int32_t[]){0, 4, 8, 12, 16, 20});
  expect_t(got[1], KILN_INT32, DIMS(2, 3, 2),
           (int32_t[]){1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22});
  expect_t(got[2], KILN_INT32, DIMS(2, 3, 1), (int32_t[]){3, 7, 11, 15, 19, 23});
  kiln_split_v_sizes(g, x, DIMS(0, 3), 1, outs, NULL, s);
  run(NULL, NULL, 0, outs, got, 2);
  assert_ok(s);
  expect_t(got[0], KILN_INT32, DIMS(2, 0, 4), NULL);
  expect_t(got[1], KILN_INT32, DIMS(2, 3, 4), iota24);
  const char *w[4] = {"a", "b", "c", "d"};
  kiln_split_axis(g, kstrings(w, DIMS(4)), 0, 2, outs, NULL, s);
  run(NULL, NULL, 0, outs, got, 2);
  assert_ok(s);
  expect_strings(got[0], DIMS(2), w);
  expect_strings(got[1], DIMS(2), w + 2);

  kiln_output p = ph(KILN_INT32, "p"), axis = ph(KILN_INT32, "axis");
  kiln_split(g, p, axis, 2, outs, "sp", s);
  assert_ok(s);
  kiln_output f[2] = {p, axis};
  kiln_tensor *fv[2] = {tensor(KILN_INT32, iota24, DIMS(3, 8)),
                        tensor(KILN_INT32, (int32_t[]){0}, SCALAR)};
  expect_error_feeds(outs[0], f, fv, 2, KILN_INVALID_ARGUMENT,
                     "Number of ways to split should evenly divide the split "
                     "dimension, but got split_dim 0 (size = 3) and num_split 2",
                     "sp");
  fv[0] = tensor(KILN_INT32, iota24, DIMS(24));
  fv[1] = tensor(KILN_INT32, (int32_t[]){1}, SCALAR);
  expect_error_feeds(outs[0], f, fv, 2, KILN_INVALID_ARGUMENT,
                     "-input rank(-1) <= split_dim < input rank (1), but got 1",
                     "sp");
  kiln_output sizes = ph(KILN_INT64, "sizes");
  kiln_split_v(g, x, sizes, kiln_const_int32(g, 2, NULL, s), 2, outs, "sv", s);
  assert_ok(s);
  expect_error(outs[0], sizes, tensor(KILN_INT64, (int64_t[]){-1, -1}, DIMS(2)),
               KILN_INVALID_ARGUMENT, "There can only be one -1 in the input.",
               "sv");
  expect_error(outs[0], sizes, tensor(KILN_INT64, (int64_t[]){1, 2}, DIMS(2)),
               KILN_INVALID_ARGUMENT,
               "Determined shape must either match input shape along split_dim "
               "exactly if fully specified, or be less than the size of the "
               "input along split_dim if not fully specified.  Got: 3",
               "sv");
  expect_error(outs[0], sizes, tensor(KILN_INT64, (int64_t[]){1, 2, 1}, DIMS(3)),
               KILN_INVALID_ARGUMENT,
               "size of the split_tensor must be 1-D and have the same elements "
               "as outputs got 1 -D and 3 elements",
               "sv");
}

/* -------------------------------------------------------------- Gather */

static kiln_output gather_bd(kiln_output params, kiln_output indices,
                             int64_t axis, int64_t batch_dims, const char *name) {
  kiln_op_desc *d = kiln_op_desc_new(g, "GatherV2", name);
  kiln_op_desc_add_input(d, params);
  kiln_op_desc_add_input(d, indices);
  kiln_op_desc_add_input(d, kiln_const_int32(g, (int32_t)axis, NULL, s));
  kiln_op_desc_set_attr_int(d, "batch_dims", batch_dims);
  kiln_output o = {kiln_op_desc_finish(d, s), 0};
  assert_ok(s);
  return o;
}

static void t_gather(void **state) {
  (void)state;
  kiln_output x = konst(KILN_INT32, iota24, DIMS(2, 3, 4));
  kiln_output i2 = konst(KILN_INT32, (int32_t[]){2, 0, 2}, DIMS(3));
  expect_t(eval(kiln_gather_axis(g, x, i2, 1, NULL, s)), KILN_INT32, DIMS(2, 3, 4),
           (int32_t[]){8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11,
                       20, 21, 22, 23, 12, 13, 14, 15, 20, 21, 22, 23});
  kiln_output i64 = konst(KILN_INT64, (int64_t[]){3, 1, 0, 0}, DIMS(2, 2));
  expect_t(eval(kiln_gather_axis(g, x, i64, -1, NULL, s)), KILN_INT32,
           DIMS(2, 3, 2, 2),
           (int32_t[]){3, 1, 0, 0, 7, 5, 4, 4, 11, 9, 8, 8,
                       15, 13, 12, 12, 19, 17, 16, 16, 23, 21, 20, 20});
  kiln_output sc = kiln_const_int32(g, 1, NULL, s);
  expect_t(eval(kiln_gather_axis(g, x, sc, 0, NULL, s)), KILN_INT32, DIMS(3, 4),
           iota24 + 12);
  kiln_output none = konst(KILN_INT32, NULL, DIMS(0));
  expect_t(eval(kiln_gather_axis(g, x, none, 2, NULL, s)), KILN_INT32,
           DIMS(2, 3, 0), NULL);
  /* batch_dims 1: row b picks its own indices. */
  kiln_output bi = konst(KILN_INT32, (int32_t[]){2, 0, 1, 1}, DIMS(2, 2));
  expect_t(eval(gather_bd(x, bi, 1, 1, NULL)), KILN_INT32, DIMS(2, 2, 4),
           (int32_t[]){8, 9, 10, 11, 0, 1, 2, 3, 16, 17, 18, 19, 16, 17, 18, 19});
  expect_t(eval(gather_bd(x, bi, 2, -1, NULL)), KILN_INT32, DIMS(2, 3, 2),
           (int32_t[]){2, 0, 6, 4, 10, 8, 13, 13, 17, 17, 21, 21});
  /* The older Gather and string params. */
  const char *w[3] = {"x", "y", "z"};
  kiln_op_desc *d = kiln_op_desc_new(g, "Gather", "gather_v1");
  kiln_op_desc_add_input(d, kstrings(w, DIMS(3)));
  kiln_op_desc_add_input(d, konst(KILN_INT64, (int64_t[]){2, 2, 0}, DIMS(3)));
  kiln_output gv1 = {kiln_op_desc_finish(d, s), 0};
  assert_ok(s);
  expect_strings(eval(gv1), DIMS(3), (const char *[]){"z", "z", "x"});
  /* Large, for the threaded path, against a naive loop. */
  enum { ROWS = 1000, COLS = 70, NIDX = 3000 };
  float *params = malloc(sizeof(float) * ROWS * COLS);
  int32_t *idx = malloc(sizeof(int32_t) * NIDX);
  float *want = malloc(sizeof(float) * NIDX * COLS);
  for (int i = 0; i < ROWS * COLS; i++) params[i] = (float)i;
  for (int i = 0; i < NIDX; i++) {
    idx[i] = (int32_t)(rnd() % ROWS);
    memcpy(want + i * COLS, params + idx[i] * COLS, sizeof(float) * COLS);
  }
  kiln_output big = kiln_gather_axis(g, konst(KILN_FLOAT, params, DIMS(ROWS, COLS)),
                                     konst(KILN_INT32, idx, DIMS(NIDX)), 0, NULL, s);
  expect_t(eval(big), KILN_FLOAT, DIMS(NIDX, COLS), want);
  free(params);
  free(idx);
  free(want);

  kiln_output p = konst(KILN_FLOAT, (float[]){0, 1, 2, 3, 4}, DIMS(5));
  kiln_output pi = ph(KILN_INT32, "pi");
  kiln_output ga = kiln_gather_axis(g, p, pi, 0, "ga", s);
  assert_ok(s);
  expect_error(ga, pi, tensor(KILN_INT32, (int32_t[]){0, 1, 2, 7}, DIMS(4)),
               KILN_INVALID_ARGUMENT, "indices[3] = 7 is not in [0, 5)", "ga");
  expect_error(ga, pi, tensor(KILN_INT32, (int32_t[]){0, 1, -1, 0}, DIMS(2, 2)),
               KILN_INVALID_ARGUMENT, "indices[1,0] = -1 is not in [0, 5)", "ga");
  kiln_output pa = ph(KILN_INT32, "pa");
  kiln_output gb = kiln_gather(g, x, i2, pa, "gb", s);
  assert_ok(s);
  expect_error(gb, pa, tensor(KILN_INT32, (int32_t[]){3}, SCALAR),
               KILN_INVALID_ARGUMENT,
               "Expected axis in the range [-3, 3), but got 3", "gb");
  kiln_output gc = gather_bd(x, pi, 1, 1, "gc");
  expect_error(gc, pi, tensor(KILN_INT32, (int32_t[]){0, 0, 0}, DIMS(3, 1)),
               KILN_INVALID_ARGUMENT,
               "params.shape[0]: 2 should be equal to indices.shape[0]: 3", "gc");
}

/* ----------------------------------------------------------- Pad, Tile */

static void t_pad(void **state) {
  (void)state;
  kiln_output x = konst(KILN_INT32, (int32_t[]){1, 2, 3, 4}, DIMS(2, 2));
  expect_t(eval(kiln_pad_dims(g, x, (int64_t[]){1, 0, 0, 2}, 2, NULL, s)),
           KILN_INT32, DIMS(3, 4),
           (int32_t[]){0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0});
  expect_t(eval(kiln_pad_dims(g, x, (int64_t[]){0, 0, 0, 0}, 2, NULL, s)),
           KILN_INT32, DIMS(2, 2), (int32_t[]){1, 2, 3, 4});
  kiln_output f = konst(KILN_DOUBLE, (double[]){1.5}, DIMS(1));
  expect_t(eval(kiln_pad_dims(g, f, (int64_t[]){2, 1}, 1, NULL, s)), KILN_DOUBLE,
           DIMS(4), (double[]){0, 0, 1.5, 0});
  const char *w[1] = {"m"};
  expect_strings(eval(kiln_pad_dims(g, kstrings(w, DIMS(1)), (int64_t[]){1, 1}, 1,
                                    NULL, s)),
                 DIMS(3), (const char *[]){"", "m", ""});
  /* PadV2 with a constant. */
  kiln_op_desc *d = kiln_op_desc_new(g, "PadV2", "padv2");
  kiln_op_desc_add_input(d, x);
  kiln_op_desc_add_input(d, konst(KILN_INT64, (int64_t[]){0, 1, 1, 0}, DIMS(2, 2)));
  kiln_op_desc_add_input(d, kiln_const_int32(g, -7, NULL, s));
  kiln_output pv2 = {kiln_op_desc_finish(d, s), 0};
  assert_ok(s);
  expect_t(eval(pv2), KILN_INT32, DIMS(3, 3),
           (int32_t[]){-7, 1, 2, -7, 3, 4, -7, -7, -7});

  /* MirrorPad in both modes. */
  kiln_output seq = konst(KILN_INT32, (int32_t[]){1, 2, 3, 4, 5, 6}, DIMS(2, 3));
  kiln_output mp = konst(KILN_INT32, (int32_t[]){1, 1, 2, 2}, DIMS(2, 2));
  static const char *const modes[2] = {"REFLECT", "SYMMETRIC"};
  static const int32_t want_m[2][28] = {
      {6, 5, 4, 5, 6, 5, 4, 3, 2, 1, 2, 3, 2, 1, 6, 5, 4, 5, 6, 5, 4,
       3, 2, 1, 2, 3, 2, 1},
      {2, 1, 1, 2, 3, 3, 2, 2, 1, 1, 2, 3, 3, 2, 5, 4, 4, 5, 6, 6, 5,
       5, 4, 4, 5, 6, 6, 5}};
  kiln_output mps[2];
  for (int m = 0; m < 2; m++) {
    d = kiln_op_desc_new(g, "MirrorPad", m ? "mirror_sym" : "mirror_ref");
    kiln_op_desc_add_input(d, seq);
    kiln_op_desc_add_input(d, mp);
    kiln_op_desc_set_attr_string(d, "mode", modes[m], strlen(modes[m]));
    mps[m] = (kiln_output){kiln_op_desc_finish(d, s), 0};
    assert_ok(s);
    expect_t(eval(mps[m]), KILN_INT32, DIMS(4, 7), want_m[m]);
  }
  kiln_output mpp = ph(KILN_INT32, "mpp");
  d = kiln_op_desc_new(g, "MirrorPad", "mirror_bad");
  kiln_op_desc_add_input(d, seq);
  kiln_op_desc_add_input(d, mpp);
  kiln_op_desc_set_attr_string(d, "mode", "REFLECT", 7);
  kiln_output mbad = {kiln_op_desc_finish(d, s), 0};
  assert_ok(s);
  expect_error(mbad, mpp, tensor(KILN_INT32, (int32_t[]){0, 0, 3, 0}, DIMS(2, 2)),
               KILN_INVALID_ARGUMENT,
               "paddings must be less than the dimension size: 3, 0 not less "
               "than 3",
               "mirror_bad");

  kiln_output pads = ph(KILN_INT32, "pads");
  kiln_output pd = kiln_pad(g, x, pads, "pd", s);
  assert_ok(s);
  expect_error(pd, pads, tensor(KILN_INT32, (int32_t[]){0, -1, 0, 0}, DIMS(2, 2)),
               KILN_INVALID_ARGUMENT, "Paddings must be non-negative: 0 -1", "pd");
  expect_error(pd, pads, tensor(KILN_INT32, (int32_t[]){0, 1, 0}, DIMS(1, 3)),
               KILN_INVALID_ARGUMENT, "paddings must be a matrix with 2 columns: [1,3]",
               "pd");
  expect_error(pd, pads, tensor(KILN_INT32, (int32_t[]){0, 1}, DIMS(1, 2)),
               KILN_INVALID_ARGUMENT,
               "The first dimension of paddings must be the rank of inputs[1,2] "
               "[2,2]",
               "pd");
}

static void t_tile(void **state) {
  (void)state;
  kiln_output x = konst(KILN_INT32, (int32_t[]){1, 2, 3, 4, 5, 6}, DIMS(2, 3));
  expect_t(eval(kiln_tile_dims(g, x, DIMS(2, 2), NULL, s)), KILN_INT32, DIMS(4, 6),
           (int32_t[]){1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6,
                       1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6});
  expect_t(eval(kiln_tile_dims(g, x, DIMS(1, 2), NULL, s)), KILN_INT32, DIMS(2, 6),
           (int32_t[]){1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6});
  expect_t(eval(kiln_tile_dims(g, x, DIMS(3, 1), NULL, s)), KILN_INT32, DIMS(6, 3),
           (int32_t[]){1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6});
  expect_t(eval(kiln_tile_dims(g, x, DIMS(1, 1), NULL, s)), KILN_INT32, DIMS(2, 3),
           (int32_t[]){1, 2, 3, 4, 5, 6});
  expect_t(eval(kiln_tile_dims(g, x, DIMS(0, 2), NULL, s)), KILN_INT32, DIMS(0, 6),
           NULL);
  const char *w[2] = {"u", "v"};
  expect_strings(eval(kiln_tile_dims(g, kstrings(w, DIMS(2)), DIMS(2), NULL, s)),
                 DIMS(4), (const char *[]){"u", "v", "u", "v"});

  kiln_output m = ph(KILN_INT32, "m");
  kiln_output t = kiln_tile(g, x, m, "tile", s);
  assert_ok(s);
  expect_error(t, m, tensor(KILN_INT32, (int32_t[]){1, -2}, DIMS(2)),
               KILN_INVALID_ARGUMENT, "Expected multiples[1] >= 0, but got -2",
               "tile");
  expect_error(t, m, tensor(KILN_INT32, (int32_t[]){2}, DIMS(1)),
               KILN_INVALID_ARGUMENT,
               "Expected multiples argument to be a vector of length 2 but got "
               "length 1",
               "tile");
}

/* ------------------------------------------------------- Range, OneHot */

static void t_range(void **state) {
  (void)state;
  expect_t(eval(kiln_range_ints(g, 0, 5, 1, NULL, s)), KILN_INT32, DIMS(5),
           (int32_t[]){0, 1, 2, 3, 4});
  expect_t(eval(kiln_range_ints(g, 10, 1, -3, NULL, s)), KILN_INT32, DIMS(3),
           (int32_t[]){10, 7, 4});
  expect_t(eval(kiln_range_ints(g, 3, 3, 1, NULL, s)), KILN_INT32, DIMS(0), NULL);
  expect_t(eval(kiln_range_ints(g, (int64_t)1 << 40, ((int64_t)1 << 40) + 5, 2,
                                NULL, s)),
           KILN_INT64, DIMS(3),
           (int64_t[]){(int64_t)1 << 40, ((int64_t)1 << 40) + 2,
                       ((int64_t)1 << 40) + 4});
  /* One more step would pass INT32_MAX: the kernel must not take it. */
  expect_t(eval(kiln_range_ints(g, 0, INT32_MAX, 1 << 30, NULL, s)), KILN_INT32,
           DIMS(2), (int32_t[]){0, 1 << 30});
  expect_t(eval(kiln_range_ints(g, INT64_MAX, INT64_MAX - 5, -4, NULL, s)),
           KILN_INT64, DIMS(2), (int64_t[]){INT64_MAX, INT64_MAX - 4});
  kiln_output fs = kiln_const_float(g, 0.5f, NULL, s);
  kiln_output fl = kiln_const_float(g, 2.0f, NULL, s);
  kiln_output fd = kiln_const_float(g, 0.5f, NULL, s);
  expect_t(eval(kiln_range(g, fs, fl, fd, NULL, s)), KILN_FLOAT, DIMS(3),
           (float[]){0.5f, 1.0f, 1.5f});
  kiln_output ds = kiln_const_double(g, 1, NULL, s);
  kiln_output dl = kiln_const_double(g, 0, NULL, s);
  kiln_output dd = kiln_const_double(g, -0.25, NULL, s);
  expect_t(eval(kiln_range(g, ds, dl, dd, NULL, s)), KILN_DOUBLE, DIMS(4),
           (double[]){1, 0.75, 0.5, 0.25});
  /* Floats accumulate: 0.1 added ten times, not i * 0.1. */
  kiln_output t0 = kiln_const_float(g, 0, NULL, s);
  kiln_output t1 = kiln_const_float(g, 1.05f, NULL, s);
  kiln_output tt = kiln_const_float(g, 0.1f, NULL, s);
  kiln_tensor *acc = eval(kiln_range(g, t0, t1, tt, NULL, s));
  float v = 0, want[11];
  for (int i = 0; i < 11; i++, v += 0.1f) want[i] = v;
  expect_t(acc, KILN_FLOAT, DIMS(11), want);

  kiln_output st = ph(KILN_INT32, "st"), li = ph(KILN_INT32, "li"),
              de = ph(KILN_INT32, "de");
  kiln_output r = kiln_range(g, st, li, de, "rg", s);
  assert_ok(s);
  kiln_output f[3] = {st, li, de};
  kiln_tensor *fv[3] = {tensor(KILN_INT32, (int32_t[]){0}, SCALAR),
                        tensor(KILN_INT32, (int32_t[]){5}, SCALAR),
                        tensor(KILN_INT32, (int32_t[]){0}, SCALAR)};
  expect_error_feeds(r, f, fv, 3, KILN_INVALID_ARGUMENT, "Requires delta != 0: 0",
                     "rg");
  fv[0] = tensor(KILN_INT32, (int32_t[]){5}, SCALAR);
  fv[1] = tensor(KILN_INT32, (int32_t[]){1}, SCALAR);
  fv[2] = tensor(KILN_INT32, (int32_t[]){1}, SCALAR);
  expect_error_feeds(r, f, fv, 3, KILN_INVALID_ARGUMENT,
                     "Requires start <= limit when delta > 0: 5/1", "rg");
  fv[0] = tensor(KILN_INT32, (int32_t[]){1}, SCALAR);
  fv[1] = tensor(KILN_INT32, (int32_t[]){5}, SCALAR);
  fv[2] = tensor(KILN_INT32, (int32_t[]){-1}, SCALAR);
  expect_error_feeds(r, f, fv, 3, KILN_INVALID_ARGUMENT,
                     "Requires start >= limit when delta < 0: 1/5", "rg");
  fv[0] = tensor(KILN_INT32, (int32_t[]){1, 2}, DIMS(2));
  fv[1] = tensor(KILN_INT32, (int32_t[]){5}, SCALAR);
  fv[2] = tensor(KILN_INT32, (int32_t[]){1}, SCALAR);
  expect_error_feeds(r, f, fv, 3, KILN_INVALID_ARGUMENT,
                     "start must be a scalar, not shape [2]", "rg");
}

static void t_one_hot(void **state) {
  (void)state;
  kiln_output idx = konst(KILN_INT32, (int32_t[]){0, 2, -1, 5}, DIMS(4));
  expect_t(eval(kiln_one_hot_depth(g, idx, 3, 1, 0, -1, NULL, s)), KILN_FLOAT,
           DIMS(4, 3), (float[]){1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0});
  expect_t(eval(kiln_one_hot_depth(g, idx, 3, 5, -1, 0, NULL, s)), KILN_FLOAT,
           DIMS(3, 4), (float[]){5, -1, -1, -1, -1, -1, -1, -1, -1, 5, -1, -1});
  kiln_output i2 = konst(KILN_INT64, (int64_t[]){1, 0, 0, 1}, DIMS(2, 2));
  kiln_output on = kiln_const_int32(g, 7, NULL, s), off = kiln_const_int32(g, 0, NULL, s);
  kiln_output d2 = kiln_const_int32(g, 2, NULL, s);
  expect_t(eval(kiln_one_hot(g, i2, d2, on, off, 1, NULL, s)), KILN_INT32,
           DIMS(2, 2, 2), (int32_t[]){0, 7, 7, 0, 7, 0, 0, 7});
  kiln_output u8 = konst(KILN_UINT8, (uint8_t[]){1}, DIMS(1));
  kiln_output son = kiln_const_string(g, "on", 2, NULL, s);
  kiln_output soff = kiln_const_string(g, "off", 3, NULL, s);
  expect_strings(eval(kiln_one_hot(g, u8, d2, son, soff, -1, NULL, s)),
                 DIMS(1, 2), (const char *[]){"off", "on"});

  kiln_output depth = ph(KILN_INT32, "depth");
  kiln_output oh = kiln_one_hot(g, idx, depth, on, off, -1, "oh", s);
  assert_ok(s);
  expect_error(oh, depth, tensor(KILN_INT32, (int32_t[]){-1}, SCALAR),
               KILN_INVALID_ARGUMENT, "depth must be non-negative, got: -1", "oh");
  expect_error(oh, depth, tensor(KILN_INT32, (int32_t[]){1, 2}, DIMS(2)),
               KILN_INVALID_ARGUMENT, "depth must be a scalar, but got: [2]", "oh");
}

/* -------------------------------------------------------------- random */

/* An independent Philox4x32-10 for checking the kernel bit for bit. */
static void ref_philox(const uint32_t ctr_in[4], const uint32_t key_in[2],
                       uint32_t out[4]) {
  uint32_t c[4] = {ctr_in[0], ctr_in[1], ctr_in[2], ctr_in[3]};
  uint32_t k[2] = {key_in[0], key_in[1]};
  for (int r = 0; r < 10; r++) {
    uint64_t a = (uint64_t)0xD2511F53u * c[0], b = (uint64_t)0xCD9E8D57u * c[2];
    uint32_t n[4] = {(uint32_t)(b >> 32) ^ c[1] ^ k[0], (uint32_t)b,
                     (uint32_t)(a >> 32) ^ c[3] ^ k[1], (uint32_t)a};
    memcpy(c, n, sizeof c);
    k[0] += 0x9E3779B9u;
    k[1] += 0xBB67AE85u;
  }
  memcpy(out, c, sizeof c);
}

static kiln_output random_op(const char *type, kiln_dtype dt, const int64_t *dims,
                             int nd, int64_t seed, int64_t seed2,
                             const char *name) {
  kiln_op_desc *d = kiln_op_desc_new(g, type, name);
  kiln_op_desc_add_input(d, konst(KILN_INT64, dims, DIMS(nd)));
  kiln_op_desc_set_attr_type(d, "dtype", dt);
  kiln_op_desc_set_attr_int(d, "seed", seed);
  kiln_op_desc_set_attr_int(d, "seed2", seed2);
  kiln_output o = {kiln_op_desc_finish(d, s), 0};
  assert_ok(s);
  return o;
}

static void t_philox_matches_reference(void **state) {
  (void)state;
  /* The reference against Random123's known answers. */
  uint32_t out[4];
  ref_philox((uint32_t[]){0, 0, 0, 0}, (uint32_t[]){0, 0}, out);
  assert_int_equal(out[0], 0x6627e8d5u);
  assert_int_equal(out[3], 0x9b00dbd8u);
  ref_philox((uint32_t[]){0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu},
             (uint32_t[]){0xffffffffu, 0xffffffffu}, out);
  assert_int_equal(out[0], 0x408f276du);
  assert_int_equal(out[3], 0x6d5451fdu);

  /* RandomUniform float: element i is word i % 4 of block i / 4 of the
  ** stream keyed by seed, its counter's high half seed2; the second run
  ** starts 256 blocks per element further on. */
  const int64_t seed = 0x123456789ll, seed2 = 77;
  kiln_output u = random_op("RandomUniform", KILN_FLOAT, (int64_t[]){10}, 1, seed,
                            seed2, "u");
  kiln_session *sess = kiln_session_new(g, NULL, s);
  for (int runno = 0; runno < 2; runno++) {
    kiln_tensor *t = NULL;
    kiln_session_run(sess, NULL, NULL, NULL, 0, &u, &t, 1, NULL, 0, NULL, s);
    assert_ok(s);
    float want[10];
    for (int i = 0; i < 10; i++) {
      uint32_t ctr[4] = {(uint32_t)(runno * 2560 + i / 4), 0, (uint32_t)seed2, 0};
      ref_philox(ctr, (uint32_t[]){(uint32_t)seed, (uint32_t)(seed >> 32)}, out);
      uint32_t bits = 0x3f800000u | (out[i % 4] & 0x7fffffu);
      memcpy(&want[i], &bits, 4);
      want[i] -= 1.0f;
    }
    expect_t(t, KILN_FLOAT, DIMS(10), want);
  }
  kiln_session_free(sess);
}

static kiln_tensor *run_fresh_graph(int which, int64_t graph_seed, int64_t op_seed) {
  kiln_graph *saved = g;
  g = kiln_graph_new();
  if (graph_seed != KILN_NO_SEED) kiln_graph_set_random_seed(g, graph_seed);
  kiln_output o;
  if (which == 0)
    o = kiln_random_uniform_dims(g, DIMS(100), KILN_FLOAT, op_seed, NULL, s);
  else if (which == 1)
    o = kiln_random_normal_dims(g, DIMS(3, 33), KILN_DOUBLE, op_seed, NULL, s);
  else
    o = kiln_truncated_normal_dims(g, DIMS(101), KILN_FLOAT, op_seed, NULL, s);
  assert_ok(s);
  kiln_tensor *t = eval(o);
  kiln_graph_free(g);
  g = saved;
  return t;
}

static void t_random_reproducible(void **state) {
  (void)state;
  for (int which = 0; which < 3; which++) {
    kiln_tensor *a = run_fresh_graph(which, 42, 7), *b = run_fresh_graph(which, 42, 7);
    kiln_tensor *c = run_fresh_graph(which, 42, 8);
    kiln_tensor *d = run_fresh_graph(which, KILN_NO_SEED, 7);
    kiln_tensor *e = run_fresh_graph(which, KILN_NO_SEED, 7);
    kiln_tensor *n1 = run_fresh_graph(which, KILN_NO_SEED, KILN_NO_SEED);
    kiln_tensor *n2 = run_fresh_graph(which, KILN_NO_SEED, KILN_NO_SEED);
    size_t bytes = kiln_tensor_byte_size(a);
    assert_memory_equal(kiln_tensor_data(a), kiln_tensor_data(b), bytes);
    assert_memory_equal(kiln_tensor_data(d), kiln_tensor_data(e), bytes);
    assert_memory_not_equal(kiln_tensor_data(a), kiln_tensor_data(c), bytes);
    assert_memory_not_equal(kiln_tensor_data(n1), kiln_tensor_data(n2), bytes);
    kiln_tensor *all[7] = {a, b, c, d, e, n1, n2};
    for (int i = 0; i < 7; i++) kiln_tensor_free(all[i]);
  }
  /* One node run twice in a session draws fresh numbers. */
  kiln_output r = random_op("TruncatedNormal", KILN_FLOAT, (int64_t[]){64}, 1, 1, 2,
                            "tn");
  kiln_session *sess = kiln_session_new(g, NULL, s);
  kiln_tensor *t1 = NULL, *t2 = NULL;
  kiln_session_run(sess, NULL, NULL, NULL, 0, &r, &t1, 1, NULL, 0, NULL, s);
  kiln_session_run(sess, NULL, NULL, NULL, 0, &r, &t2, 1, NULL, 0, NULL, s);
  assert_ok(s);
  assert_memory_not_equal(kiln_tensor_data(t1), kiln_tensor_data(t2), 64 * 4);
  kiln_tensor_free(t1);
  kiln_tensor_free(t2);
  kiln_session_free(sess);
}

/* Mean and standard deviation of n values of dtype dt. */
static void moments(const kiln_tensor *t, double *mean, double *sd,
                    double *lo, double *hi) {
  int64_t n = kiln_tensor_num_elements(t);
  kiln_dtype dt = kiln_tensor_dtype(t);
  const void *p = kiln_tensor_data(t);
  double sum = 0, sq = 0;
  *lo = INFINITY;
  *hi = -INFINITY;
  for (int64_t i = 0; i < n; i++) {
    double v;
    if (dt == KILN_DOUBLE) v = ((const double *)p)[i];
    else if (dt == KILN_FLOAT) v = ((const float *)p)[i];
    else if (dt == KILN_BFLOAT16) {
      uint32_t bits = (uint32_t)((const uint16_t *)p)[i] << 16;
      float f;
      memcpy(&f, &bits, 4);
      v = f;
    } else { /* half */
      uint16_t h = ((const uint16_t *)p)[i];
      int e = (h >> 10) & 0x1f, m = h & 0x3ff;
      v = e ? ldexp(1.0 + m / 1024.0, e - 15) : ldexp(m / 1024.0, -14);
      if (h & 0x8000) v = -v;
    }
    sum += v;
    sq += v * v;
    if (v < *lo) *lo = v;
    if (v > *hi) *hi = v;
  }
  *mean = sum / (double)n;
  *sd = sqrt(sq / (double)n - *mean * *mean);
}

static void t_random_distributions(void **state) {
  (void)state;
  static const struct {
    const char *op;
    kiln_dtype dt;
    double mean, sd, lo, hi, tol;
  } cases[] = {
      {"RandomUniform", KILN_FLOAT, 0.5, 0.288675, 0, 1, 0.01},
      {"RandomUniform", KILN_DOUBLE, 0.5, 0.288675, 0, 1, 0.01},
      {"RandomUniform", KILN_HALF, 0.5, 0.288675, 0, 1, 0.01},
      {"RandomUniform", KILN_BFLOAT16, 0.5, 0.288675, 0, 1, 0.01},
      {"RandomStandardNormal", KILN_FLOAT, 0, 1, -7, 7, 0.015},
      {"RandomStandardNormal", KILN_DOUBLE, 0, 1, -9, 9, 0.015},
      {"RandomStandardNormal", KILN_HALF, 0, 1, -7, 7, 0.015},
      {"TruncatedNormal", KILN_FLOAT, 0, 0.879626, -2, 2, 0.015},
      {"TruncatedNormal", KILN_DOUBLE, 0, 0.879626, -2, 2, 0.015},
      {"TruncatedNormal", KILN_HALF, 0, 0.879626, -2, 2, 0.015},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    kiln_output o = random_op(cases[i].op, cases[i].dt, (int64_t[]){100, 1001}, 2,
                              (int64_t)i + 1, 99, NULL);
    kiln_tensor *t = eval(o);
    expect_shape(t, cases[i].dt, DIMS(100, 1001));
    double mean, sd, lo, hi;
    moments(t, &mean, &sd, &lo, &hi);
    if (fabs(mean - cases[i].mean) > cases[i].tol ||
        fabs(sd - cases[i].sd) > cases[i].tol || lo < cases[i].lo ||
        hi >= cases[i].hi + (cases[i].hi == 1 ? 0 : 1e-9))
      fail_msg("%s %s: mean %g sd %g range [%g, %g]", cases[i].op,
               kiln_dtype_name(cases[i].dt), mean, sd, lo, hi);
    kiln_tensor_free(t);
  }
  /* Empty and scalar shapes. */
  expect_t(eval(random_op("RandomUniform", KILN_FLOAT, (int64_t[]){0, 3}, 2, 1, 1,
                          NULL)),
           KILN_FLOAT, DIMS(0, 3), NULL);
  kiln_tensor *one = eval(random_op("RandomStandardNormal", KILN_DOUBLE, NULL, 0, 1,
                                    1, NULL));
  expect_shape(one, KILN_DOUBLE, SCALAR);
  kiln_tensor_free(one);

  kiln_output shape = ph(KILN_INT32, "shape");
  kiln_output bad = kiln_random_uniform(g, shape, KILN_FLOAT, 3, "ru", s);
  assert_ok(s);
  expect_error(bad, shape, tensor(KILN_INT32, (int32_t[]){2, -3}, DIMS(2)),
               KILN_INVALID_ARGUMENT, "Dimension -3 must be >= 0", "ru");
  expect_error(bad, shape, tensor(KILN_INT32, (int32_t[]){2}, SCALAR),
               KILN_INVALID_ARGUMENT,
               "shape must be a vector of {int32,int64}, got shape []", "ru");
}

/* Concurrent runs of one random node reserve disjoint parts of its
** stream: no two runs draw the same numbers. */
typedef struct rand_thread {
  kiln_session *sess;
  kiln_output out;
  kiln_tensor *got[8];
  kiln_code code;
} rand_thread;

static void *rand_worker(void *arg) {
  rand_thread *r = arg;
  kiln_status *ts = kiln_status_new();
  for (int i = 0; i < 8; i++) {
    kiln_session_run(r->sess, NULL, NULL, NULL, 0, &r->out, &r->got[i], 1, NULL,
                     0, NULL, ts);
    if (kiln_status_code(ts) != KILN_OK) r->code = kiln_status_code(ts);
  }
  kiln_status_free(ts);
  return NULL;
}

static void t_random_concurrent(void **state) {
  (void)state;
  kiln_output o = random_op("RandomUniform", KILN_FLOAT, (int64_t[]){256}, 1, 5, 6,
                            "conc");
  kiln_session *sess = kiln_session_new(g, NULL, s);
  assert_ok(s);
  rand_thread th[4];
  pthread_t tid[4];
  for (int i = 0; i < 4; i++) {
    th[i] = (rand_thread){.sess = sess, .out = o};
    assert_int_equal(pthread_create(&tid[i], NULL, rand_worker, &th[i]), 0);
  }
  for (int i = 0; i < 4; i++) pthread_join(tid[i], NULL);
  kiln_session_free(sess);
  kiln_tensor *all[32];
  for (int i = 0; i < 4; i++) {
    assert_int_equal(th[i].code, KILN_OK);
    for (int j = 0; j < 8; j++) all[i * 8 + j] = th[i].got[j];
  }
  for (int i = 0; i < 32; i++)
    for (int j = i + 1; j < 32; j++)
      assert_memory_not_equal(kiln_tensor_data(all[i]), kiln_tensor_data(all[j]),
                              256 * sizeof(float));
  for (int i = 0; i < 32; i++) kiln_tensor_free(all[i]);
}

int main(void) {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
  const struct CMUnitTest tests[] = {
      T(t_cpu_loaded),
      T(t_const),
      T(t_noop_and_identities),
      T(t_reshape),
      T(t_squeeze_expand_dims),
      T(t_shape_size_rank),
      T(t_fill),
      T(t_broadcast_to),
      T(t_transpose),
      T(t_concat),
      T(t_pack_unpack),
      T(t_slice),
      T(t_strided_slice),
      T(t_split),
      T(t_gather),
      T(t_pad),
      T(t_tile),
      T(t_range),
      T(t_one_hot),
      T(t_philox_matches_reference),
      T(t_random_reproducible),
      T(t_random_distributions),
      T(t_random_concurrent),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
