/*
** Sparse tensors in the public API (<kiln/sparse.h>): the checked value
** triple and every way a triple can be wrong, tf.sparse_placeholder's
** ops, names and shapes, a sparse value fed through the placeholder into
** SparseToDense and SparseTensorDenseMatMul on the CPU plugin, a sparse
** triple fetched and reassembled, and bad feeds named by the session.
*/
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#define KT_GRAPH_FIXTURE
#include "sessionutil.h"

#define I64(...) (const int64_t[]){__VA_ARGS__}
#define F32(...) (const float[]){__VA_ARGS__}

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

/* A sparse value from C arrays: n values of a rank-r tensor of shape
** dims, indices row-major. */
static kiln_sparse_tensor *sparse(kiln_dtype vt, const int64_t *ix,
                                  const void *vals, int64_t n,
                                  const int64_t *dims, int r) {
  kiln_tensor *t[3] = {tensor(KILN_INT64, ix, I64(n, r), 2),
                       tensor(vt, vals, I64(n), 1),
                       tensor(KILN_INT64, dims, I64(r), 1)};
  kiln_sparse_tensor *sp = kiln_sparse_tensor_adopt(t, s);
  assert_ok(s);
  assert_non_null(sp);
  return sp;
}

/* Expects kiln_sparse_tensor_new(ix, vals, shape) to fail with
** INVALID_ARGUMENT and `needle`; the three tensors are freed after. */
static void bad_triple(kiln_tensor *ix, kiln_tensor *vals, kiln_tensor *shape,
                       const char *needle) {
  kiln_sparse_tensor *sp = kiln_sparse_tensor_new(ix, vals, shape, s);
  assert_null(sp);
  assert_status(s, KILN_INVALID_ARGUMENT, needle);
  kiln_status_reset(s);
  /* The adopting form reports the same, and frees what it took. */
  kiln_tensor *t[3] = {kiln_tensor_ref(ix), kiln_tensor_ref(vals),
                       kiln_tensor_ref(shape)};
  assert_null(kiln_sparse_tensor_adopt(t, s));
  assert_status(s, KILN_INVALID_ARGUMENT, needle);
  assert_null(t[0]);
  assert_null(t[1]);
  assert_null(t[2]);
  kiln_status_reset(s);
  kiln_tensor_free(ix);
  kiln_tensor_free(vals);
  kiln_tensor_free(shape);
}

static void expect_int64s(const kiln_tensor *t, const int64_t *dims, int nd,
                          const int64_t *want) {
  assert_non_null(t);
  assert_int_equal(kiln_tensor_dtype(t), KILN_INT64);
  assert_int_equal(kiln_tensor_ndims(t), nd);
  for (int i = 0; i < nd; i++) assert_int_equal(kiln_tensor_dim(t, i), dims[i]);
  const int64_t *got = kiln_tensor_data(t);
  for (int64_t i = 0; i < kiln_tensor_num_elements(t); i++)
    if (got[i] != want[i])
      fail_msg("element %lld: got %lld, want %lld", (long long)i,
               (long long)got[i], (long long)want[i]);
}

/* The static shape of an output as "[?,2]". */
static const char *static_shape(kiln_output o, char *buf, size_t cap) {
  int64_t dims[KILN_MAX_DIMS];
  int nd = kiln_op_output_shape(o, dims, KILN_MAX_DIMS);
  if (nd < 0) return snprintf(buf, cap, "<unknown>"), buf;
  size_t at = (size_t)snprintf(buf, cap, "[");
  for (int i = 0; i < nd && at < cap; i++)
    at += (size_t)snprintf(buf + at, cap - at, dims[i] < 0 ? "%s?" : "%s%lld",
                           i ? "," : "", (long long)dims[i]);
  if (at < cap) snprintf(buf + at, cap - at, "]");
  return buf;
}

static void expect_op(kiln_output o, const char *name, const char *type,
                      kiln_dtype dt, const char *shape) {
  char buf[128];
  assert_non_null(o.op);
  assert_int_equal(o.index, 0);
  assert_string_equal(kiln_op_name(o.op), name);
  assert_string_equal(kiln_op_type(o.op), type);
  assert_int_equal(kiln_op_output_dtype(o), dt);
  assert_string_equal(static_shape(o, buf, sizeof buf), shape);
}

/* Runs fetches[0..n) feeding the sparse value `v` into `ph` (when v) and
** extra feeds; returns the status code; out[] set on success. */
static kiln_code run_sparse(kiln_sparse_output ph, const kiln_sparse_tensor *v,
                            const kiln_output *fetches, kiln_tensor **out,
                            int n) {
  kiln_output feeds[4];
  kiln_tensor *fv[4];
  int nf = 0;
  if (v) {
    nf = kiln_sparse_feed_append(ph, v, feeds, fv, nf, 4, s);
    assert_ok(s);
    assert_int_equal(nf, 3);
  }
  kiln_session *sess = kiln_session_new(g, NULL, s);
  assert_ok(s);
  kiln_session_run(sess, NULL, feeds, fv, nf, fetches, out, n, NULL, 0, NULL, s);
  kiln_session_free(sess);
  return kiln_status_code(s);
}

/* ------------------------------------------------------------ values */

static void t_value_new(void **state) {
  (void)state;
  kiln_tensor *ix = tensor(KILN_INT64, I64(0, 1, 2, 3, 3, 4), DIMS(3, 2));
  kiln_tensor *vals = tensor(KILN_FLOAT, F32(1, 2, 3), DIMS(3));
  kiln_tensor *shape = tensor(KILN_INT64, I64(4, 5), DIMS(2));
  kiln_sparse_tensor *sp = kiln_sparse_tensor_new(ix, vals, shape, s);
  assert_ok(s);
  assert_non_null(sp);
  /* The value holds its own references: the caller's may go first. */
  kiln_tensor_free(ix);
  kiln_tensor_free(vals);
  kiln_tensor_free(shape);
  assert_int_equal(kiln_sparse_tensor_dtype(sp), KILN_FLOAT);
  assert_int_equal(kiln_sparse_tensor_rank(sp), 2);
  assert_int_equal(kiln_sparse_tensor_nnz(sp), 3);
  const int64_t *d = kiln_sparse_tensor_dims(sp);
  assert_int_equal(d[0], 4);
  assert_int_equal(d[1], 5);
  expect_int64s(kiln_sparse_tensor_indices(sp), DIMS(3, 2), I64(0, 1, 2, 3, 3, 4));
  kt_assert_floats(kiln_sparse_tensor_values(sp), F32(1, 2, 3), DIMS(3));
  expect_int64s(kiln_sparse_tensor_dense_shape(sp), DIMS(2), I64(4, 5));
  kiln_sparse_tensor_free(sp);
  kiln_sparse_tensor_free(NULL);
}

/* No values (N = 0), a scalar (R = 0), an empty dense shape, unsorted
** and repeated indices (TensorFlow's SparseTensor allows them), strings. */
static void t_value_edge_cases(void **state) {
  (void)state;
  kiln_sparse_tensor *sp = sparse(KILN_FLOAT, NULL, NULL, 0, I64(3, 3), 2);
  assert_int_equal(kiln_sparse_tensor_nnz(sp), 0);
  kiln_sparse_tensor_free(sp);

  sp = sparse(KILN_INT32, NULL, (const int32_t[]){7}, 1, NULL, 0);
  assert_int_equal(kiln_sparse_tensor_rank(sp), 0);
  assert_int_equal(kiln_sparse_tensor_nnz(sp), 1);
  assert_null(kiln_sparse_tensor_dims(sp));
  kiln_sparse_tensor_free(sp);

  sp = sparse(KILN_FLOAT, NULL, NULL, 0, I64(0, 4), 2);
  kiln_sparse_tensor_free(sp);

  sp = sparse(KILN_FLOAT, I64(2, 1, 0, 0, 2, 1), F32(1, 2, 3), 3, I64(3, 2), 2);
  kiln_sparse_tensor_free(sp);

  kiln_tensor *t[3] = {tensor(KILN_INT64, I64(1), DIMS(1, 1)),
                       tensor(KILN_STRING, NULL, DIMS(1)),
                       tensor(KILN_INT64, I64(2), DIMS(1))};
  kiln_tensor_set_string(t[1], 0, "two", 3, s);
  assert_ok(s);
  sp = kiln_sparse_tensor_adopt(t, s);
  assert_ok(s);
  assert_null(t[0]);
  assert_int_equal(kiln_sparse_tensor_dtype(sp), KILN_STRING);
  kiln_sparse_tensor_free(sp);
}

static void t_value_bad_triples(void **state) {
  (void)state;
#define IX(...) tensor(KILN_INT64, __VA_ARGS__)
  bad_triple(NULL, tensor(KILN_FLOAT, NULL, DIMS(1)), IX(I64(2), DIMS(1)),
             "sparse tensor given no indices tensor");
  bad_triple(IX(I64(0), DIMS(1, 1)), NULL, IX(I64(2), DIMS(1)),
             "sparse tensor given no values tensor");
  bad_triple(IX(I64(0), DIMS(1, 1)), tensor(KILN_FLOAT, NULL, DIMS(1)), NULL,
             "sparse tensor given no dense_shape tensor");
  bad_triple(tensor(KILN_INT32, NULL, DIMS(1, 1)),
             tensor(KILN_FLOAT, NULL, DIMS(1)), IX(I64(2), DIMS(1)),
             "sparse tensor indices must be int64, got int32");
  bad_triple(IX(I64(0, 1, 2), DIMS(3)), tensor(KILN_FLOAT, NULL, DIMS(3)),
             IX(I64(4), DIMS(1)),
             "sparse tensor indices must be a matrix [N, R], got shape [3]");
  bad_triple(IX(NULL, DIMS(2, 1, 1)), tensor(KILN_FLOAT, NULL, DIMS(2)),
             IX(I64(4), DIMS(1)),
             "sparse tensor indices must be a matrix [N, R], got shape [2,1,1]");
  bad_triple(IX(I64(0, 1), DIMS(2, 1)), tensor(KILN_FLOAT, NULL, DIMS(2, 1)),
             IX(I64(4), DIMS(1)),
             "sparse tensor values must be a vector [N], got shape [2,1]");
  bad_triple(IX(I64(0, 1), DIMS(2, 1)), tensor(KILN_FLOAT, NULL, NULL, 0),
             IX(I64(4), DIMS(1)),
             "sparse tensor values must be a vector [N], got shape []");
  bad_triple(IX(I64(0, 1), DIMS(2, 1)), tensor(KILN_FLOAT, NULL, DIMS(2)),
             tensor(KILN_INT32, (const int32_t[]){4}, DIMS(1)),
             "sparse tensor dense_shape must be int64, got int32");
  bad_triple(IX(I64(0, 1), DIMS(2, 1)), tensor(KILN_FLOAT, NULL, DIMS(2)),
             IX(I64(4), DIMS(1, 1)),
             "sparse tensor dense_shape must be a vector [R], got shape [1,1]");
  bad_triple(IX(I64(0, 0, 1, 1, 2, 2), DIMS(3, 2)),
             tensor(KILN_FLOAT, NULL, DIMS(2)), IX(I64(4, 4), DIMS(2)),
             "sparse tensor indices of shape [3,2] and values of shape [2] "
             "disagree on the number of values N (3 vs 2)");
  bad_triple(IX(I64(0, 0, 1, 1), DIMS(2, 2)),
             tensor(KILN_FLOAT, NULL, DIMS(2)), IX(I64(4, 4, 4), DIMS(3)),
             "sparse tensor indices of shape [2,2] and dense_shape of shape "
             "[3] disagree on the rank R (2 vs 3)");
  int64_t big[KILN_MAX_DIMS + 1];
  for (int i = 0; i <= KILN_MAX_DIMS; i++) big[i] = 1;
  bad_triple(IX(NULL, DIMS(0, KILN_MAX_DIMS + 1)),
             tensor(KILN_FLOAT, NULL, DIMS(0)),
             IX(big, DIMS(KILN_MAX_DIMS + 1)),
             "sparse tensor dense_shape has 33 dimensions; Kiln handles at "
             "most 32");
  bad_triple(IX(I64(0, 0), DIMS(1, 2)), tensor(KILN_FLOAT, NULL, DIMS(1)),
             IX(I64(4, -1), DIMS(2)),
             "sparse tensor dense_shape [4,-1] has a negative dimension: "
             "dense_shape[1] = -1");
  bad_triple(IX(I64(0, 0, 1, 1, 3, 4, 2, 7), DIMS(4, 2)),
             tensor(KILN_FLOAT, NULL, DIMS(4)), IX(I64(4, 5), DIMS(2)),
             "indices[3] = [2,7] is out of bounds: need 0 <= index < [4,5]");
  bad_triple(IX(I64(-1, 0), DIMS(1, 2)), tensor(KILN_FLOAT, NULL, DIMS(1)),
             IX(I64(4, 5), DIMS(2)),
             "indices[0] = [-1,0] is out of bounds: need 0 <= index < [4,5]");
  bad_triple(IX(I64(0), DIMS(1, 1)), tensor(KILN_FLOAT, NULL, DIMS(1)),
             IX(I64(0), DIMS(1)),
             "indices[0] = [0] is out of bounds: need 0 <= index < [0]");
#undef IX
  assert_null(kiln_sparse_tensor_adopt(NULL, s));
  assert_status(s, KILN_INVALID_ARGUMENT, "NULL triple");
}

/* ------------------------------------------------------- placeholders */

static void t_placeholder_known_shape(void **state) {
  (void)state;
  size_t before = kiln_graph_num_ops(g);
  kiln_sparse_output sp =
      kiln_sparse_placeholder(g, KILN_FLOAT, DIMS(4, 5), "sp", s);
  assert_ok(s);
  assert_int_equal(kiln_graph_num_ops(g), before + 4);
  expect_op(sp.values, "sp/values", "Placeholder", KILN_FLOAT, "[?]");
  expect_op(sp.indices, "sp/indices", "Placeholder", KILN_INT64, "[?,2]");
  expect_op(sp.dense_shape, "sp/shape", "PlaceholderWithDefault", KILN_INT64,
            "[2]");
  /* The default is the shape given, fed by a Const. */
  kiln_op *c = kiln_graph_op(g, "sp/shape_default");
  assert_non_null(c);
  assert_string_equal(kiln_op_type(c), "Const");
  kiln_output in = kiln_op_input(sp.dense_shape.op, 0);
  assert_ptr_equal(in.op, c);
  kiln_tensor *v = kiln_op_attr_tensor(c, "value", s);
  assert_ok(s);
  expect_int64s(v, DIMS(2), I64(4, 5));
  kiln_tensor_free(v);
  int64_t dims[2];
  assert_int_equal(kiln_op_attr_shape(sp.values.op, "shape", dims, 2, s), 1);
  assert_int_equal(dims[0], -1);
  assert_int_equal(kiln_op_attr_type(sp.indices.op, "dtype", s), KILN_INT64);

  /* The same name again: TensorFlow's unique names. */
  kiln_sparse_output sp2 =
      kiln_sparse_placeholder(g, KILN_FLOAT, DIMS(4, 5), "sp", s);
  assert_ok(s);
  assert_string_equal(kiln_op_name(sp2.values.op), "sp/values_1");
  assert_string_equal(kiln_op_name(sp2.indices.op), "sp/indices_1");
  assert_string_equal(kiln_op_name(sp2.dense_shape.op), "sp/shape_1");
  assert_non_null(kiln_graph_op(g, "sp/shape_default_1"));
}

static void t_placeholder_partial_and_unknown(void **state) {
  (void)state;
  /* Unknown shape: three plain placeholders, rank unknown. */
  kiln_sparse_output u = kiln_sparse_placeholder(g, KILN_INT32, NULL, -1, "u", s);
  assert_ok(s);
  assert_int_equal(kiln_graph_num_ops(g), 3);
  expect_op(u.values, "u/values", "Placeholder", KILN_INT32, "[?]");
  expect_op(u.indices, "u/indices", "Placeholder", KILN_INT64, "[?,?]");
  expect_op(u.dense_shape, "u/shape", "Placeholder", KILN_INT64, "[?]");
  assert_null(kiln_graph_op(g, "u/shape_default"));

  /* Partly known: -1 in the default. */
  kiln_sparse_output p =
      kiln_sparse_placeholder(g, KILN_DOUBLE, DIMS(-1, 7, -1), "p", s);
  assert_ok(s);
  expect_op(p.indices, "p/indices", "Placeholder", KILN_INT64, "[?,3]");
  expect_op(p.dense_shape, "p/shape", "PlaceholderWithDefault", KILN_INT64, "[3]");
  kiln_tensor *v = kiln_op_attr_tensor(kiln_graph_op(g, "p/shape_default"), "value", s);
  assert_ok(s);
  expect_int64s(v, DIMS(3), I64(-1, 7, -1));
  kiln_tensor_free(v);

  /* Rank only. */
  kiln_sparse_output r = kiln_sparse_placeholder(g, KILN_BOOL, NULL, 2, "r", s);
  assert_ok(s);
  expect_op(r.indices, "r/indices", "Placeholder", KILN_INT64, "[?,2]");
  v = kiln_op_attr_tensor(kiln_graph_op(g, "r/shape_default"), "value", s);
  expect_int64s(v, DIMS(2), I64(-1, -1));
  kiln_tensor_free(v);

  /* A scalar sparse tensor (rank 0): an empty default shape. */
  kiln_sparse_output z = kiln_sparse_placeholder(g, KILN_FLOAT, NULL, 0, "z", s);
  assert_ok(s);
  expect_op(z.indices, "z/indices", "Placeholder", KILN_INT64, "[?,0]");
  expect_op(z.dense_shape, "z/shape", "PlaceholderWithDefault", KILN_INT64, "[0]");
}

/* name NULL: TensorFlow's name=None, each op its default name; and name
** scopes apply. */
static void t_placeholder_names(void **state) {
  (void)state;
  kiln_sparse_output a = kiln_sparse_placeholder(g, KILN_FLOAT, NULL, -1, NULL, s);
  assert_ok(s);
  assert_string_equal(kiln_op_name(a.dense_shape.op), "Placeholder");
  assert_string_equal(kiln_op_name(a.values.op), "Placeholder_1");
  assert_string_equal(kiln_op_name(a.indices.op), "Placeholder_2");
  kiln_sparse_output b = kiln_sparse_placeholder(g, KILN_FLOAT, DIMS(2), "", s);
  assert_ok(s);
  assert_string_equal(kiln_op_name(b.dense_shape.op), "PlaceholderWithDefault");
  assert_non_null(kiln_graph_op(g, "Const"));
  assert_string_equal(kiln_op_name(b.values.op), "Placeholder_3");
  assert_string_equal(kiln_op_name(b.indices.op), "Placeholder_4");

  kiln_graph_push_name_scope(g, "outer", s);
  assert_ok(s);
  kiln_sparse_output c = kiln_sparse_placeholder(g, KILN_FLOAT, DIMS(3), "x", s);
  assert_ok(s);
  kiln_graph_pop_name_scope(g);
  assert_string_equal(kiln_op_name(c.indices.op), "outer/x/indices");
  assert_string_equal(kiln_op_name(c.values.op), "outer/x/values");
  assert_string_equal(kiln_op_name(c.dense_shape.op), "outer/x/shape");
  assert_non_null(kiln_graph_op(g, "outer/x/shape_default"));
}

static void expect_no_placeholder(kiln_graph *gr, kiln_dtype dt,
                                  const int64_t *dims, int nd, const char *name,
                                  const char *needle) {
  size_t before = gr ? kiln_graph_num_ops(gr) : 0;
  kiln_sparse_output o = kiln_sparse_placeholder(gr, dt, dims, nd, name, s);
  assert_status(s, KILN_INVALID_ARGUMENT, needle);
  kiln_status_reset(s);
  assert_null(o.indices.op);
  assert_null(o.values.op);
  assert_null(o.dense_shape.op);
  assert_int_equal(o.indices.index, -1);
  if (gr) assert_int_equal(kiln_graph_num_ops(gr), before);
}

static void t_placeholder_errors(void **state) {
  (void)state;
  expect_no_placeholder(NULL, KILN_FLOAT, NULL, -1, "x",
                        "kiln_sparse_placeholder: graph is NULL");
  expect_no_placeholder(g, KILN_INVALID_DTYPE, NULL, -1, "x",
                        "kiln_sparse_placeholder: 0 is no value dtype (invalid)");
  expect_no_placeholder(g, (kiln_dtype)(KILN_FLOAT + KILN_REF_OFFSET), NULL, -1,
                        "x", "101 is no value dtype (float_ref)");
  expect_no_placeholder(g, (kiln_dtype)77, NULL, -1, "x",
                        "77 is no value dtype (invalid)");
  expect_no_placeholder(g, KILN_FLOAT, NULL, -2, "x",
                        "kiln_sparse_placeholder: rank -2 is outside -1..32");
  expect_no_placeholder(g, KILN_FLOAT, NULL, KILN_MAX_DIMS + 1, "x",
                        "rank 33 is outside -1..32");
  expect_no_placeholder(g, KILN_FLOAT, DIMS(3, -2), "x",
                        "dimension 1 of shape [3,?] is -2; sizes must be >= -1");
  expect_no_placeholder(g, KILN_FLOAT, DIMS(3), "bad name!",
                        "'bad name!' is not a valid op name");
  expect_no_placeholder(g, KILN_FLOAT, DIMS(3), "/x",
                        "'/x' is not a valid op name");
  /* A failed call reserves no name: "x" is still free. */
  kiln_sparse_output o = kiln_sparse_placeholder(g, KILN_FLOAT, DIMS(3), "x", s);
  assert_ok(s);
  assert_string_equal(kiln_op_name(o.values.op), "x/values");
}

/* ------------------------------------------------------- feeding, CPU */

static void t_feed_to_dense(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  kiln_sparse_output ph = kiln_sparse_placeholder(g, KILN_FLOAT, NULL, -1, "sp", s);
  assert_ok(s);
  kiln_output zero = kiln_const_float(g, -1, "zero", s);
  kiln_output dense = kiln_sparse_to_dense(g, ph, zero, true, "dense", s);
  assert_ok(s);
  assert_string_equal(kiln_op_name(dense.op), "dense");
  assert_string_equal(kiln_op_type(dense.op), "SparseToDense");
  assert_true(kiln_op_attr_bool(dense.op, "validate_indices", s));

  kiln_sparse_tensor *v =
      sparse(KILN_FLOAT, I64(0, 1, 1, 3, 2, 0), F32(1.5f, 2, 3), 3, I64(3, 4), 2);
  kiln_tensor *out = NULL;
  assert_int_equal(run_sparse(ph, v, &dense, &out, 1), KILN_OK);
  kt_assert_floats(out, F32(-1, 1.5f, -1, -1, -1, -1, -1, 2, 3, -1, -1, -1),
                   DIMS(3, 4));
  kiln_tensor_free(out);
  kiln_sparse_tensor_free(v);

  /* The same graph takes another rank. */
  v = sparse(KILN_FLOAT, I64(0, 1, 1, 1, 0, 0), F32(5, 6), 2, I64(2, 2, 2), 3);
  assert_int_equal(run_sparse(ph, v, &dense, &out, 1), KILN_OK);
  kt_assert_floats(out, F32(-1, -1, -1, 5, 6, -1, -1, -1), DIMS(2, 2, 2));
  kiln_tensor_free(out);
  kiln_sparse_tensor_free(v);

  /* Unsorted indices make a valid value but fail validate_indices in the
  ** kernel, with TensorFlow's message naming the node. */
  v = sparse(KILN_FLOAT, I64(1, 0, 0, 0), F32(1, 2), 2, I64(2, 2), 2);
  out = (kiln_tensor *)1;
  assert_int_equal(run_sparse(ph, v, &dense, &out, 1), KILN_INVALID_ARGUMENT);
  assert_status(s, KILN_INVALID_ARGUMENT, "indices[1] = [0,0] is out of order");
  assert_string_equal(kiln_status_op_name(s), "dense");
  assert_null(out);
  kiln_sparse_tensor_free(v);
}

/* With the shape known, the dense shape has a default: feeding indices
** and values alone is enough (TensorFlow 1.15's placeholder_with_default). */
static void t_feed_default_shape(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  kiln_sparse_output ph = kiln_sparse_placeholder(g, KILN_INT32, DIMS(2, 3), "sp", s);
  assert_ok(s);
  kiln_output dflt = kiln_const_int32(g, 0, "zero", s);
  kiln_output dense = kiln_sparse_to_dense(g, ph, dflt, false, NULL, s);
  assert_ok(s);
  assert_string_equal(kiln_op_name(dense.op), "SparseToDense");
  kiln_tensor *ix = tensor(KILN_INT64, I64(0, 2, 1, 0), DIMS(2, 2));
  kiln_tensor *vals = kt_int32s((const int32_t[]){7, 8}, DIMS(2));
  kiln_output feeds[2] = {ph.indices, ph.values};
  kiln_tensor *fv[2] = {ix, vals};
  kiln_tensor *out = NULL;
  kiln_session *sess = kiln_session_new(g, NULL, s);
  kiln_session_run(sess, NULL, feeds, fv, 2, &dense, &out, 1, NULL, 0, NULL, s);
  assert_ok(s);
  kiln_session_free(sess);
  assert_int_equal(kiln_tensor_ndims(out), 2);
  assert_int_equal(kiln_tensor_dim(out, 0), 2);
  assert_int_equal(kiln_tensor_dim(out, 1), 3);
  const int32_t *d = kiln_tensor_data(out);
  const int32_t want[6] = {0, 0, 7, 8, 0, 0};
  for (int i = 0; i < 6; i++) assert_int_equal(d[i], want[i]);
  kiln_tensor_free(out);
  kiln_tensor_free(ix);
  kiln_tensor_free(vals);
}

static void t_feed_dense_matmul(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  kiln_sparse_output ph = kiln_sparse_placeholder(g, KILN_FLOAT, DIMS(2, 3), "a", s);
  assert_ok(s);
  /* b = [[1,2],[3,4],[5,6]] */
  kiln_output b = kiln_const_floats(g, F32(1, 2, 3, 4, 5, 6), DIMS(3, 2), "b", s);
  kiln_output prod = kiln_sparse_dense_matmul(g, ph, b, false, false, "mm", s);
  assert_ok(s);
  assert_string_equal(kiln_op_type(prod.op), "SparseTensorDenseMatMul");
  /* The dense shape may be fed, so inference cannot read its default
  ** (TensorFlow's does not either): the rows are unknown. */
  char buf[64];
  assert_string_equal(static_shape(prod, buf, sizeof buf), "[?,2]");
  /* a = [[0,2,0],[1,0,3]] as a sparse value; bT = [[1,3,5],[2,4,6]] */
  kiln_output bt = kiln_const_floats(g, F32(1, 3, 5, 2, 4, 6), DIMS(2, 3), "bt", s);
  kiln_output prod_t = kiln_sparse_dense_matmul(g, ph, bt, false, true, "mm_t", s);
  assert_ok(s);
  assert_true(kiln_op_attr_bool(prod_t.op, "adjoint_b", s));
  kiln_sparse_tensor *v =
      sparse(KILN_FLOAT, I64(0, 1, 1, 0, 1, 2), F32(2, 1, 3), 3, I64(2, 3), 2);
  kiln_output fetches[2] = {prod, prod_t};
  kiln_tensor *out[2] = {NULL, NULL};
  assert_int_equal(run_sparse(ph, v, fetches, out, 2), KILN_OK);
  /* [[0*1+2*3+0*5, 0*2+2*4+0*6], [1*1+0+3*5, 1*2+0+3*6]] */
  kt_assert_floats(out[0], F32(6, 8, 16, 20), DIMS(2, 2));
  kt_assert_floats(out[1], F32(6, 8, 16, 20), DIMS(2, 2));
  kiln_tensor_free(out[0]);
  kiln_tensor_free(out[1]);
  kiln_sparse_tensor_free(v);

  /* adjoint_a: the sparse operand transposed, [3,2] x [2,2]. */
  kiln_sparse_output ph2 = kiln_sparse_placeholder(g, KILN_FLOAT, NULL, 2, "a2", s);
  kiln_output b2 = kiln_const_floats(g, F32(1, 2, 3, 4), DIMS(2, 2), "b2", s);
  kiln_output prod2 = kiln_sparse_dense_matmul(g, ph2, b2, true, false, NULL, s);
  assert_ok(s);
  v = sparse(KILN_FLOAT, I64(0, 1, 1, 0, 1, 2), F32(2, 1, 3), 3, I64(2, 3), 2);
  kiln_tensor *o2 = NULL;
  assert_int_equal(run_sparse(ph2, v, &prod2, &o2, 1), KILN_OK);
  /* aT = [[0,1],[2,0],[0,3]] times [[1,2],[3,4]] */
  kt_assert_floats(o2, F32(3, 4, 2, 4, 9, 12), DIMS(3, 2));
  kiln_tensor_free(o2);
  kiln_sparse_tensor_free(v);
}

/* Sparse strings through SparseToDense. */
static void t_feed_strings(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  kiln_sparse_output ph = kiln_sparse_placeholder(g, KILN_STRING, DIMS(3), "w", s);
  kiln_output dflt = kiln_const_string(g, "-", 1, "dash", s);
  kiln_output dense = kiln_sparse_to_dense(g, ph, dflt, true, "d", s);
  assert_ok(s);
  kiln_tensor *t[3] = {tensor(KILN_INT64, I64(0, 2), DIMS(2, 1)),
                       tensor(KILN_STRING, NULL, DIMS(2)),
                       tensor(KILN_INT64, I64(3), DIMS(1))};
  kiln_tensor_set_string(t[1], 0, "a\0b", 3, s);
  kiln_tensor_set_string(t[1], 1, "", 0, s);
  kiln_sparse_tensor *v = kiln_sparse_tensor_adopt(t, s);
  assert_ok(s);
  kiln_tensor *out = NULL;
  assert_int_equal(run_sparse(ph, v, &dense, &out, 1), KILN_OK);
  size_t len;
  assert_memory_equal(kiln_tensor_string(out, 0, &len), "a\0b", 3);
  assert_int_equal(len, 3);
  assert_string_equal(kiln_tensor_string(out, 1, &len), "-");
  kiln_tensor_string(out, 2, &len);
  assert_int_equal(len, 0);
  kiln_tensor_free(out);
  kiln_sparse_tensor_free(v);
}

/* ----------------------------------------------------------- fetching */

static void t_fetch_round_trip(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  kiln_sparse_output ph = kiln_sparse_placeholder(g, KILN_DOUBLE, NULL, -1, "sp", s);
  assert_ok(s);
  kiln_sparse_output id = {kiln_identity(g, ph.indices, "id_ix", s),
                           kiln_identity(g, ph.values, "id_vals", s),
                           kiln_identity(g, ph.dense_shape, "id_shape", s)};
  assert_ok(s);
  kiln_output fetches[7];
  int n = kiln_sparse_fetch_append(id, fetches, 0, 7, s);
  assert_ok(s);
  assert_int_equal(n, 3);
  /* The fed tensors themselves, fetched back as TensorFlow allows. */
  n = kiln_sparse_fetch_append(ph, fetches, n, 7, s);
  assert_int_equal(n, 6);
  assert_ptr_equal(fetches[0].op, id.indices.op);
  assert_ptr_equal(fetches[4].op, ph.values.op);
  fetches[n++] = ph.values;
  const double vals[3] = {0.5, -2, 1e300};
  kiln_sparse_tensor *v =
      sparse(KILN_DOUBLE, I64(0, 0, 1, 4, 2, 2), vals, 3, I64(3, 5), 2);
  kiln_tensor *out[7] = {NULL};
  assert_int_equal(run_sparse(ph, v, fetches, out, n), KILN_OK);
  for (int k = 0; k < 2; k++) {
    kiln_sparse_tensor *got = kiln_sparse_tensor_adopt(out + 3 * k, s);
    assert_ok(s);
    assert_null(out[3 * k]);
    assert_null(out[3 * k + 2]);
    assert_int_equal(kiln_sparse_tensor_dtype(got), KILN_DOUBLE);
    assert_int_equal(kiln_sparse_tensor_rank(got), 2);
    assert_int_equal(kiln_sparse_tensor_nnz(got), 3);
    expect_int64s(kiln_sparse_tensor_indices(got), DIMS(3, 2), I64(0, 0, 1, 4, 2, 2));
    expect_int64s(kiln_sparse_tensor_dense_shape(got), DIMS(2), I64(3, 5));
    assert_memory_equal(kiln_tensor_data(kiln_sparse_tensor_values(got)), vals,
                        sizeof vals);
    kiln_sparse_tensor_free(got);
  }
  /* What was not adopted stays the caller's; a loop over all is safe. */
  for (int i = 0; i < n; i++) kiln_tensor_free(out[i]);
  kiln_sparse_tensor_free(v);
}

/* A fetched triple that is no valid sparse tensor: the error, and the
** three tensors freed (valgrind checks). */
static void t_fetch_invalid_triple(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  kiln_sparse_output c = {
      kiln_const_int64s(g, I64(0, 9), DIMS(1, 2), "ix", s),
      kiln_const_floats(g, F32(1), DIMS(1), "vals", s),
      kiln_const_int64s(g, I64(2, 3), DIMS(2), "shape", s)};
  assert_ok(s);
  kiln_output fetches[3];
  assert_int_equal(kiln_sparse_fetch_append(c, fetches, 0, 3, s), 3);
  kiln_tensor *out[3] = {NULL};
  assert_int_equal(run_sparse(c, NULL, fetches, out, 3), KILN_OK);
  assert_null(kiln_sparse_tensor_adopt(out, s));
  assert_status(s, KILN_INVALID_ARGUMENT,
                "indices[0] = [0,9] is out of bounds: need 0 <= index < [2,3]");
  assert_null(out[0]);
  assert_null(out[1]);
  assert_null(out[2]);
}

/* ---------------------------------------------------------- bad feeds */

static void expect_feed_error(kiln_sparse_output ph, kiln_output fetch,
                              kiln_sparse_tensor *v, const char *needle) {
  kiln_tensor *out = (kiln_tensor *)1;
  assert_int_equal(run_sparse(ph, v, &fetch, &out, 1), KILN_INVALID_ARGUMENT);
  assert_status(s, KILN_INVALID_ARGUMENT, needle);
  assert_null(out);
  kiln_status_reset(s);
  kiln_sparse_tensor_free(v);
}

static void t_bad_feeds(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  kiln_sparse_output ph = kiln_sparse_placeholder(g, KILN_FLOAT, DIMS(3, 4), "sp", s);
  kiln_output dense =
      kiln_sparse_to_dense(g, ph, kiln_const_float(g, 0, "z", s), true, "d", s);
  assert_ok(s);
  /* Values of the wrong dtype. */
  expect_feed_error(ph, dense,
                    sparse(KILN_INT32, I64(0, 0), (const int32_t[]){1}, 1,
                           I64(3, 4), 2),
                    "Cannot feed value of dtype int32 for Tensor 'sp/values:0', "
                    "which has dtype float");
  /* A rank-3 value for a rank-2 placeholder: indices first. */
  expect_feed_error(ph, dense,
                    sparse(KILN_FLOAT, I64(0, 0, 0), F32(1), 1, I64(3, 4, 5), 3),
                    "Cannot feed value of shape [1,3] for Tensor "
                    "'sp/indices:0', which has shape [?,2]");
  /* The right rank, but a dense shape other than the placeholder's is
  ** still of shape [2]: TensorFlow accepts it too (only its length is
  ** static). */
  kiln_sparse_tensor *v = sparse(KILN_FLOAT, I64(0, 0), F32(1), 1, I64(1, 1), 2);
  kiln_tensor *out = NULL;
  assert_int_equal(run_sparse(ph, v, &dense, &out, 1), KILN_OK);
  kt_assert_floats(out, F32(1), DIMS(1, 1));
  kiln_tensor_free(out);
  kiln_sparse_tensor_free(v);

  /* The unknown-shape placeholder checks only dtypes. */
  kiln_sparse_output u = kiln_sparse_placeholder(g, KILN_FLOAT, NULL, -1, "u", s);
  kiln_output ud =
      kiln_sparse_to_dense(g, u, kiln_const_float(g, 0, "z2", s), true, "ud", s);
  assert_ok(s);
  expect_feed_error(u, ud,
                    sparse(KILN_DOUBLE, I64(0), (const double[]){1}, 1, I64(2), 1),
                    "Cannot feed value of dtype double for Tensor 'u/values:0', "
                    "which has dtype float");
}

/* The append helpers' own argument checks; the arrays stay untouched. */
static void t_append_errors(void **state) {
  (void)state;
  kiln_sparse_output ph = kiln_sparse_placeholder(g, KILN_FLOAT, NULL, -1, "sp", s);
  assert_ok(s);
  kiln_sparse_tensor *v = sparse(KILN_FLOAT, I64(0), F32(1), 1, I64(1), 1);
  kiln_output feeds[4] = {{NULL, 7}, {NULL, 7}, {NULL, 7}, {NULL, 7}};
  kiln_tensor *fv[4] = {NULL};

  assert_int_equal(kiln_sparse_feed_append(ph, v, feeds, fv, 2, 4, s), -1);
  assert_status(s, KILN_INVALID_ARGUMENT,
                "kiln_sparse_feed_append: a sparse tensor needs 3 feeds but the "
                "array of 4 has 2 left after 2");
  assert_int_equal(kiln_sparse_feed_append(ph, v, feeds, fv, -1, 4, s), -1);
  assert_status(s, KILN_INVALID_ARGUMENT, "-1 feeds are outside an array of 4");
  assert_int_equal(kiln_sparse_feed_append(ph, v, feeds, fv, 5, 4, s), -1);
  assert_status(s, KILN_INVALID_ARGUMENT, "5 feeds are outside an array of 4");
  assert_int_equal(kiln_sparse_feed_append(ph, v, NULL, fv, 0, 4, s), -1);
  assert_status(s, KILN_INVALID_ARGUMENT, "the feeds array is NULL");
  assert_int_equal(kiln_sparse_feed_append(ph, v, feeds, NULL, 0, 4, s), -1);
  assert_status(s, KILN_INVALID_ARGUMENT, "the feed values array is NULL");
  assert_int_equal(kiln_sparse_feed_append(ph, NULL, feeds, fv, 0, 4, s), -1);
  assert_status(s, KILN_INVALID_ARGUMENT,
                "kiln_sparse_feed_append: no sparse value given for "
                "'sp/values:0'");
  kiln_sparse_output broken = ph;
  broken.dense_shape.op = NULL;
  assert_int_equal(kiln_sparse_feed_append(broken, v, feeds, fv, 0, 4, s), -1);
  assert_status(s, KILN_INVALID_ARGUMENT,
                "the sparse tensor's dense_shape output has no op");
  for (int i = 0; i < 4; i++) {
    assert_null(feeds[i].op);
    assert_int_equal(feeds[i].index, 7);
    assert_null(fv[i]);
  }
  /* After a plain feed, the sparse one goes at 1..3. */
  assert_int_equal(kiln_sparse_feed_append(ph, v, feeds, fv, 1, 4, s), 4);
  assert_ok(s);
  assert_ptr_equal(feeds[1].op, ph.indices.op);
  assert_ptr_equal(fv[2], kiln_sparse_tensor_values(v));
  assert_ptr_equal(fv[3], kiln_sparse_tensor_dense_shape(v));

  kiln_output fetches[2];
  assert_int_equal(kiln_sparse_fetch_append(ph, fetches, 0, 2, s), -1);
  assert_status(s, KILN_INVALID_ARGUMENT,
                "kiln_sparse_fetch_append: a sparse tensor needs 3 fetches");
  assert_int_equal(kiln_sparse_fetch_append(ph, NULL, 0, 3, s), -1);
  assert_status(s, KILN_INVALID_ARGUMENT, "the fetches array is NULL");
  broken = ph;
  broken.indices.op = NULL;
  kiln_output f3[3];
  assert_int_equal(kiln_sparse_fetch_append(broken, f3, 0, 3, s), -1);
  assert_status(s, KILN_INVALID_ARGUMENT,
                "the sparse tensor's indices output has no op");
  kiln_sparse_tensor_free(v);
}

/* The builders over a triple check their inputs as <kiln/ops.h> does. */
static void t_builder_errors(void **state) {
  (void)state;
  kiln_sparse_output ph = kiln_sparse_placeholder(g, KILN_FLOAT, DIMS(2, 2), "sp", s);
  assert_ok(s);
  size_t before = kiln_graph_num_ops(g);
  kiln_output o = kiln_sparse_to_dense(g, ph, kiln_const_int32(g, 0, "i", s),
                                       true, "d", s);
  assert_null(o.op);
  assert_int_equal(kiln_status_code(s), KILN_INVALID_ARGUMENT);
  assert_non_null(strstr(kiln_status_message(s), "d"));
  kiln_status_reset(s);
  kiln_sparse_output broken = ph;
  broken.values.op = NULL;
  o = kiln_sparse_dense_matmul(g, broken, ph.values, false, false, "mm", s);
  assert_null(o.op);
  assert_status(s, KILN_INVALID_ARGUMENT, "kiln_sparse_dense_matmul");
  kiln_status_reset(s);
  /* b must be a matrix: the shape function says so. */
  o = kiln_sparse_dense_matmul(g, ph, ph.values, false, false, "mm", s);
  assert_null(o.op);
  assert_int_equal(kiln_status_code(s), KILN_INVALID_ARGUMENT);
  kiln_status_reset(s);
  /* Only the int32 Const was added. */
  assert_int_equal(kiln_graph_num_ops(g), before + 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(t_value_new, setup, teardown),
      cmocka_unit_test_setup_teardown(t_value_edge_cases, setup, teardown),
      cmocka_unit_test_setup_teardown(t_value_bad_triples, setup, teardown),
      cmocka_unit_test_setup_teardown(t_placeholder_known_shape, setup, teardown),
      cmocka_unit_test_setup_teardown(t_placeholder_partial_and_unknown, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(t_placeholder_names, setup, teardown),
      cmocka_unit_test_setup_teardown(t_placeholder_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(t_feed_to_dense, setup, teardown),
      cmocka_unit_test_setup_teardown(t_feed_default_shape, setup, teardown),
      cmocka_unit_test_setup_teardown(t_feed_dense_matmul, setup, teardown),
      cmocka_unit_test_setup_teardown(t_feed_strings, setup, teardown),
      cmocka_unit_test_setup_teardown(t_fetch_round_trip, setup, teardown),
      cmocka_unit_test_setup_teardown(t_fetch_invalid_triple, setup, teardown),
      cmocka_unit_test_setup_teardown(t_bad_feeds, setup, teardown),
      cmocka_unit_test_setup_teardown(t_append_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(t_builder_errors, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
