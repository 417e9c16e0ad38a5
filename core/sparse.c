/*
** Sparse tensors (include/kiln/sparse.h): the checked value triple, the
** sparse placeholder, builders over a triple, and the feed and fetch
** helpers.
**
** A value is checked once when made, so code holding one can index the
** dense shape with its indices without checking again. The placeholder's
** ops are created uncommitted and enter the graph in one commit, as the
** op builders' Consts do: a failure leaves no orphan placeholder.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <kiln/sparse.h>
#include "graph_internal.h"
#include "op_builders.h"
#include "shape.h"
#include "status_internal.h"

struct kiln_sparse_tensor {
  kiln_tensor *indices, *values, *dense_shape;
};

static const char *const part_names[3] = {"indices", "values", "dense_shape"};

/* ------------------------------------------------------------- values */

static char *shape_of(const kiln_tensor *t, char *buf, size_t cap) {
  return kn_dims_str(kiln_tensor_dims(t), kiln_tensor_ndims(t), buf, cap);
}

/* "[4,-1]": values as they are (kn_dims_str would print -1 as "?"). */
static char *ints_str(const int64_t *v, int64_t n, char *buf, size_t cap) {
  size_t at = 0;
  buf[0] = '\0';
  for (int64_t i = 0; i <= n && at < cap; i++) {
    int w = i == n ? snprintf(buf + at, cap - at, "%s]", n ? "" : "[")
                   : snprintf(buf + at, cap - at, "%s%lld", i ? "," : "[",
                              (long long)v[i]);
    if (w < 0) break;
    at += (size_t)w;
  }
  return buf;
}

/* TensorFlow's conditions on a SparseTensor triple, each failure naming
** the tensor and the shapes. */
static kiln_code check_triple(kiln_tensor *const t[3], kiln_status *s) {
  char a[KN_SHAPE_STR_MAX], b[KN_SHAPE_STR_MAX];
  for (int i = 0; i < 3; i++)
    if (!t[i])
      return kn_errorf(s, KILN_INVALID_ARGUMENT,
                       "sparse tensor given no %s tensor", part_names[i]);
  kiln_tensor *ix = t[0], *vals = t[1], *shape = t[2];
  if (kiln_tensor_dtype(ix) != KILN_INT64)
    return kn_errorf(s, KILN_INVALID_ARGUMENT,
                     "sparse tensor indices must be int64, got %s",
                     kiln_dtype_name(kiln_tensor_dtype(ix)));
  if (kiln_tensor_ndims(ix) != 2)
    return kn_errorf(s, KILN_INVALID_ARGUMENT,
                     "sparse tensor indices must be a matrix [N, R], got "
                     "shape %s", shape_of(ix, a, sizeof a));
  if (kiln_tensor_ndims(vals) != 1)
    return kn_errorf(s, KILN_INVALID_ARGUMENT,
                     "sparse tensor values must be a vector [N], got shape %s",
                     shape_of(vals, a, sizeof a));
  if (kiln_tensor_dtype(shape) != KILN_INT64)
    return kn_errorf(s, KILN_INVALID_ARGUMENT,
                     "sparse tensor dense_shape must be int64, got %s",
                     kiln_dtype_name(kiln_tensor_dtype(shape)));
  if (kiln_tensor_ndims(shape) != 1)
    return kn_errorf(s, KILN_INVALID_ARGUMENT,
                     "sparse tensor dense_shape must be a vector [R], got "
                     "shape %s", shape_of(shape, a, sizeof a));
  int64_t n = kiln_tensor_dim(ix, 0), rank = kiln_tensor_dim(ix, 1);
  if (kiln_tensor_dim(vals, 0) != n)
    return kn_errorf(s, KILN_INVALID_ARGUMENT,
                     "sparse tensor indices of shape %s and values of shape "
                     "%s disagree on the number of values N (%lld vs %lld)",
                     shape_of(ix, a, sizeof a), shape_of(vals, b, sizeof b),
                     (long long)n, (long long)kiln_tensor_dim(vals, 0));
  if (kiln_tensor_dim(shape, 0) != rank)
    return kn_errorf(s, KILN_INVALID_ARGUMENT,
                     "sparse tensor indices of shape %s and dense_shape of "
                     "shape %s disagree on the rank R (%lld vs %lld)",
                     shape_of(ix, a, sizeof a), shape_of(shape, b, sizeof b),
                     (long long)rank, (long long)kiln_tensor_dim(shape, 0));
  if (rank > KILN_MAX_DIMS)
    return kn_errorf(s, KILN_INVALID_ARGUMENT,
                     "sparse tensor dense_shape has %lld dimensions; Kiln "
                     "handles at most %d", (long long)rank, KILN_MAX_DIMS);
  const int64_t *dims = kiln_tensor_data(shape);
  for (int64_t d = 0; d < rank; d++)
    if (dims[d] < 0)
      return kn_errorf(s, KILN_INVALID_ARGUMENT,
                       "sparse tensor dense_shape %s has a negative "
                       "dimension: dense_shape[%lld] = %lld",
                       ints_str(dims, rank, a, sizeof a), (long long)d,
                       (long long)dims[d]);
  const int64_t *idx = kiln_tensor_data(ix);
  for (int64_t i = 0; i < n; i++)
    for (int64_t d = 0; d < rank; d++) {
      int64_t v = idx[i * rank + d];
      if (v >= 0 && v < dims[d]) continue;
      return kn_errorf(s, KILN_INVALID_ARGUMENT,
                       "indices[%lld] = %s is out of bounds: need 0 <= index "
                       "< %s", (long long)i,
                       ints_str(idx + i * rank, rank, b, sizeof b),
                       ints_str(dims, rank, a, sizeof a));
    }
  return KILN_OK;
}

/* Makes the value of t[0..3), whose references it takes over. */
static kiln_sparse_tensor *make(kiln_tensor *const t[3], kiln_status *s) {
  kiln_sparse_tensor *sp = NULL;
  if (check_triple(t, s) == KILN_OK && !(sp = malloc(sizeof *sp))) KN_OOM(s);
  if (!sp) {
    for (int i = 0; i < 3; i++) kiln_tensor_free(t[i]);
    return NULL;
  }
  sp->indices = t[0];
  sp->values = t[1];
  sp->dense_shape = t[2];
  kiln_status_reset(s);
  return sp;
}

KILN_API kiln_sparse_tensor *kiln_sparse_tensor_new(kiln_tensor *indices,
                                                    kiln_tensor *values,
                                                    kiln_tensor *dense_shape,
                                                    kiln_status *status) {
  kiln_tensor *t[3] = {kiln_tensor_ref(indices), kiln_tensor_ref(values),
                       kiln_tensor_ref(dense_shape)};
  return make(t, status);
}

KILN_API kiln_sparse_tensor *kiln_sparse_tensor_adopt(kiln_tensor **triple,
                                                      kiln_status *status) {
  if (!triple) {
    kn_errorf(status, KILN_INVALID_ARGUMENT,
              "kiln_sparse_tensor_adopt given no tensors (NULL triple)");
    return NULL;
  }
  kiln_tensor *t[3] = {triple[0], triple[1], triple[2]};
  triple[0] = triple[1] = triple[2] = NULL;
  return make(t, status);
}

KILN_API void kiln_sparse_tensor_free(kiln_sparse_tensor *sp) {
  if (!sp) return;
  kiln_tensor_free(sp->indices);
  kiln_tensor_free(sp->values);
  kiln_tensor_free(sp->dense_shape);
  free(sp);
}

KILN_API kiln_tensor *kiln_sparse_tensor_indices(const kiln_sparse_tensor *sp) {
  return sp->indices;
}
KILN_API kiln_tensor *kiln_sparse_tensor_values(const kiln_sparse_tensor *sp) {
  return sp->values;
}
KILN_API kiln_tensor *kiln_sparse_tensor_dense_shape(
    const kiln_sparse_tensor *sp) {
  return sp->dense_shape;
}
KILN_API kiln_dtype kiln_sparse_tensor_dtype(const kiln_sparse_tensor *sp) {
  return kiln_tensor_dtype(sp->values);
}
KILN_API int kiln_sparse_tensor_rank(const kiln_sparse_tensor *sp) {
  return (int)kiln_tensor_dim(sp->dense_shape, 0);
}
KILN_API int64_t kiln_sparse_tensor_nnz(const kiln_sparse_tensor *sp) {
  return kiln_tensor_dim(sp->values, 0);
}
KILN_API const int64_t *kiln_sparse_tensor_dims(const kiln_sparse_tensor *sp) {
  return kiln_sparse_tensor_rank(sp) ? kiln_tensor_data(sp->dense_shape) : NULL;
}

/* ---------------------------------------------------------- placeholder */

#define FN "kiln_sparse_placeholder"
#define NO_SPARSE                                                      \
  ((kiln_sparse_output){{NULL, -1}, {NULL, -1}, {NULL, -1}})

/* Reserves "<name>/<part>", or the op type's default name when name is
** NULL or "", in the graph's current scope. */
static char *reserve(kiln_graph *g, const char *name, const char *part,
                     const char *type) {
  if (!name || !*name) return kn_graph_unique_name_dup(g, type);
  size_t len = strlen(name) + strlen(part) + 2;
  char *base = malloc(len);
  if (!base) return NULL;
  snprintf(base, len, "%s/%s", name, part);
  char *u = kn_graph_unique_name_dup(g, base);
  free(base);
  return u;
}

/* One uncommitted op: a Placeholder (input NULL) or a PlaceholderWithDefault
** over input, of dtype and shape; or a Const holding value. */
static kiln_op *create(kiln_graph *g, const char *type, const char *opname,
                       kiln_dtype dtype, const int64_t *dims, int ndims,
                       kiln_op *input, kiln_tensor *value, kiln_status *s) {
  kiln_op_desc *d = kiln_op_desc_new(g, type, opname);
  if (!d) {
    KN_OOM(s);
    return NULL;
  }
  kiln_op_desc_set_attr_type(d, "dtype", dtype);
  if (value) {
    kiln_op_desc_set_attr_tensor(d, "value", value);
  } else {
    kiln_op_desc_set_attr_shape(d, "shape", dims, ndims);
    if (input) kiln_op_desc_add_input(d, (kiln_output){input, 0});
  }
  kiln_op *op = kn_op_create(d, s);
  kiln_op_desc_free(d);
  return op;
}

KILN_API kiln_sparse_output kiln_sparse_placeholder(kiln_graph *g,
                                                    kiln_dtype dtype,
                                                    const int64_t *dims,
                                                    int ndims,
                                                    const char *name,
                                                    kiln_status *status) {
  if (!g) {
    kn_errorf(status, KILN_INVALID_ARGUMENT, FN ": graph is NULL");
    return NO_SPARSE;
  }
  if (dtype == KILN_INVALID_DTYPE || (int)dtype >= KILN_REF_OFFSET ||
      !kiln_dtype_name(dtype)) {
    kn_errorf(status, KILN_INVALID_ARGUMENT,
              FN ": %d is no value dtype (%s)", (int)dtype,
              kiln_dtype_name(dtype) ? kiln_dtype_name(dtype) : "invalid");
    return NO_SPARSE;
  }
  if (ndims < -1 || ndims > KILN_MAX_DIMS) {
    kn_errorf(status, KILN_INVALID_ARGUMENT,
              FN ": rank %d is outside -1..%d", ndims, KILN_MAX_DIMS);
    return NO_SPARSE;
  }
  int64_t known[KILN_MAX_DIMS];
  for (int i = 0; i < ndims; i++) {
    known[i] = dims ? dims[i] : -1;
    if (known[i] < -1) {
      char buf[KN_SHAPE_STR_MAX];
      kn_errorf(status, KILN_INVALID_ARGUMENT,
                FN ": dimension %d of shape %s is %lld; sizes must be >= -1 "
                "(-1: unknown)", i, kn_dims_str(dims, ndims, buf, sizeof buf),
                (long long)known[i]);
      return NO_SPARSE;
    }
  }
  if (name && *name && !kn_valid_node_name(name)) {
    kn_errorf(status, KILN_INVALID_ARGUMENT,
              FN ": '%s' is not a valid op name", name);
    return NO_SPARSE;
  }

  /* TensorFlow's order: the dense shape, values, indices. */
  enum { SHAPE_DEFAULT, SHAPE, VALUES, INDICES, NOPS };
  const char *types[NOPS] = {
      "Const", ndims < 0 ? "Placeholder" : "PlaceholderWithDefault",
      "Placeholder", "Placeholder"};
  const char *parts[NOPS] = {"shape_default", "shape", "values", "indices"};
  char *names[NOPS] = {NULL};
  kiln_op *ops[NOPS] = {NULL};
  kiln_tensor *dflt = NULL;
  int first = ndims < 0 ? SHAPE : SHAPE_DEFAULT;
  for (int i = first; i < NOPS; i++)
    if (!(names[i] = reserve(g, name, parts[i], types[i]))) {
      KN_OOM(status);
      goto done;
    }

  int64_t rank_dim[1] = {ndims < 0 ? 0 : ndims};
  if (ndims >= 0) {
    dflt = kiln_tensor_new(KILN_INT64, rank_dim, 1, status);
    if (!dflt) goto done;
    if (ndims > 0) memcpy(kiln_tensor_data(dflt), known, (size_t)ndims * sizeof *known);
    if (!(ops[SHAPE_DEFAULT] = create(g, "Const", names[SHAPE_DEFAULT],
                                      KILN_INT64, NULL, 0, NULL, dflt, status)))
      goto done;
  }
  int64_t any[1] = {-1};
  int64_t ix_dims[2] = {-1, ndims < 0 ? -1 : ndims};
  if (!(ops[SHAPE] = create(g, types[SHAPE], names[SHAPE], KILN_INT64,
                            ndims < 0 ? any : rank_dim, 1, ops[SHAPE_DEFAULT],
                            NULL, status)) ||
      !(ops[VALUES] = create(g, "Placeholder", names[VALUES], dtype, any, 1,
                             NULL, NULL, status)) ||
      !(ops[INDICES] = create(g, "Placeholder", names[INDICES], KILN_INT64,
                              ix_dims, 2, NULL, NULL, status)))
    goto done;
  if (kn_graph_commit(g, ops + first, (size_t)(NOPS - first), status) != KILN_OK)
    goto done;
  kiln_sparse_output out = {{ops[INDICES], 0}, {ops[VALUES], 0}, {ops[SHAPE], 0}};
  for (int i = 0; i < NOPS; i++) free(names[i]);
  kiln_tensor_free(dflt);
  kiln_status_reset(status);
  return out;
done:
  for (int i = 0; i < NOPS; i++) {
    kn_op_free(ops[i]);
    free(names[i]);
  }
  kiln_tensor_free(dflt);
  kn_status_prefix(status, FN ": ");
  return NO_SPARSE;
}
#undef FN

/* ------------------------------------------------------------- builders */

static const kn_opspec SPARSE_TO_DENSE = {
    "SparseToDense",
    {"sparse_indices", "output_shape", "sparse_values", "default_value"},
    {"T", "Tindices"},
    {2, 0}};
static const kn_opspec SPARSE_DENSE_MATMUL = {
    "SparseTensorDenseMatMul",
    {"a_indices", "a_values", "a_shape", "b"},
    {"T", "Tindices"},
    {1, 0}};

KILN_API kiln_output kiln_sparse_to_dense(kiln_graph *g, kiln_sparse_output sp,
                                          kiln_output default_value,
                                          bool validate_indices,
                                          const char *name,
                                          kiln_status *status) {
  kn_bld b;
  kiln_output in[4] = {sp.indices, sp.dense_shape, sp.values, default_value};
  if (!kn_spec_start(&b, __func__, g, status, &SPARSE_TO_DENSE, in, name))
    return KN_NO_OUTPUT;
  kn_bld_bool(&b, "validate_indices", validate_indices);
  return kn_bld_out(&b);
}

KILN_API kiln_output kiln_sparse_dense_matmul(kiln_graph *g,
                                              kiln_sparse_output sp,
                                              kiln_output b_in, bool adjoint_a,
                                              bool adjoint_b, const char *name,
                                              kiln_status *status) {
  kn_bld b;
  kiln_output in[4] = {sp.indices, sp.values, sp.dense_shape, b_in};
  if (!kn_spec_start(&b, __func__, g, status, &SPARSE_DENSE_MATMUL, in, name))
    return KN_NO_OUTPUT;
  kn_bld_bool(&b, "adjoint_a", adjoint_a);
  kn_bld_bool(&b, "adjoint_b", adjoint_b);
  return kn_bld_out(&b);
}

/* ----------------------------------------------------- feeds and fetches */

/* Room for three more entries in an array of cap holding n. */
static bool room(const char *fn, const void *array, const char *what, int n,
                 int cap, kiln_status *s) {
  if (!array) {
    kn_errorf(s, KILN_INVALID_ARGUMENT, "%s: the %s array is NULL", fn, what);
    return false;
  }
  if (n < 0 || n > cap) {
    kn_errorf(s, KILN_INVALID_ARGUMENT,
              "%s: %d %s are outside an array of %d", fn, n, what, cap);
    return false;
  }
  if (cap - n < 3) {
    kn_errorf(s, KILN_INVALID_ARGUMENT,
              "%s: a sparse tensor needs 3 %s but the array of %d has %d "
              "left after %d", fn, what, cap, cap - n, n);
    return false;
  }
  return true;
}

static bool outputs_given(const char *fn, kiln_sparse_output sp,
                          kiln_status *s) {
  const kiln_output o[3] = {sp.indices, sp.values, sp.dense_shape};
  for (int i = 0; i < 3; i++)
    if (!o[i].op) {
      kn_errorf(s, KILN_INVALID_ARGUMENT,
                "%s: the sparse tensor's %s output has no op", fn,
                part_names[i]);
      return false;
    }
  return true;
}

KILN_API int kiln_sparse_feed_append(kiln_sparse_output placeholder,
                                     const kiln_sparse_tensor *value,
                                     kiln_output *feeds,
                                     kiln_tensor **feed_values, int nfeeds,
                                     int cap, kiln_status *status) {
  static const char fn[] = "kiln_sparse_feed_append";
  if (!room(fn, feeds, "feeds", nfeeds, cap, status) ||
      !room(fn, feed_values, "feed values", nfeeds, cap, status) ||
      !outputs_given(fn, placeholder, status))
    return -1;
  if (!value) {
    kn_errorf(status, KILN_INVALID_ARGUMENT,
              "%s: no sparse value given for '%s:%d'", fn,
              kiln_op_name(placeholder.values.op), placeholder.values.index);
    return -1;
  }
  feeds[nfeeds] = placeholder.indices;
  feeds[nfeeds + 1] = placeholder.values;
  feeds[nfeeds + 2] = placeholder.dense_shape;
  feed_values[nfeeds] = value->indices;
  feed_values[nfeeds + 1] = value->values;
  feed_values[nfeeds + 2] = value->dense_shape;
  kiln_status_reset(status);
  return nfeeds + 3;
}

KILN_API int kiln_sparse_fetch_append(kiln_sparse_output sp,
                                      kiln_output *fetches, int nfetches,
                                      int cap, kiln_status *status) {
  static const char fn[] = "kiln_sparse_fetch_append";
  if (!room(fn, fetches, "fetches", nfetches, cap, status) ||
      !outputs_given(fn, sp, status))
    return -1;
  fetches[nfetches] = sp.indices;
  fetches[nfetches + 1] = sp.values;
  fetches[nfetches + 2] = sp.dense_shape;
  kiln_status_reset(status);
  return nfetches + 3;
}
