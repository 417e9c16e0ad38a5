/*
** Typed builders for the standard ops (include/kiln/ops.h): the machinery
** they share (op_builders.h), then constants, placeholders, elementwise
** math, linear algebra and NN ops. Array and shape ops, reductions and
** random ops are in op_builders_array.c.
**
** Every builder runs the same steps through a small kn_bld state: check
** the arguments (before anything is reserved, so a NULL input costs
** nothing), reserve the op's unique name, fill an op description, then
** finish it. Most ops are described by a kn_opspec (input names in the
** op's order, and which type attrs come from which input), so a builder is
** a few lines.
**
** Convenience variants make Consts for their int arguments. Those are
** created but not committed (kn_op_create) and enter the graph together
** with the op in one kn_graph_commit, as GraphDef import does, so a failing
** op leaves no orphan Const behind. That and the seed fields of the graph
** are the only internals used; the rest is the public graph API.
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "graph_internal.h"
#include "op_builders.h"

kiln_op kn_bld_made_op;

/* A NULL status cannot report anything: build nothing. */
bool kn_bld_init(kn_bld *b, const char *fn, kiln_graph *g, kiln_status *s) {
  memset(b, 0, sizeof *b);
  b->g = g;
  b->s = s;
  b->fn = fn;
  b->bad = true;
  if (s == NULL) return false;
  kiln_status_reset(s);
  if (g == NULL) {
    kn_errorf(s, KILN_INVALID_ARGUMENT, "%s: graph is NULL", fn);
    return false;
  }
  b->bad = false;
  return true;
}

bool kn_bld_fail(kn_bld *b, kiln_code code, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  kn_errorf(b->s, code, "%s: %s", b->fn, msg);
  b->bad = true;
  return false;
}

/* Input `arg` (element idx of a list when idx >= 0) must name an existing
** output of an op of this graph. */
static bool check_at(kn_bld *b, const char *arg, int idx, kiln_output x) {
  char what[64];
  if (idx >= 0)
    snprintf(what, sizeof what, "%s[%d]", arg, idx);
  else
    snprintf(what, sizeof what, "%s", arg);
  if (x.op == NULL)
    return kn_bld_fail(b, KILN_INVALID_ARGUMENT,
                       "input '%s' is NULL (an output with no operation)",
                       what);
  if (kiln_op_graph(x.op) != b->g)
    return kn_bld_fail(b, KILN_INVALID_ARGUMENT,
                       "input '%s' ('%s:%d') belongs to another graph", what,
                       kiln_op_name(x.op), x.index);
  if (x.index < 0 || x.index >= kiln_op_num_outputs(x.op))
    return kn_bld_fail(b, KILN_INVALID_ARGUMENT,
                       "input '%s' asks for output %d of '%s', which has %d "
                       "output(s)", what, x.index, kiln_op_name(x.op),
                       kiln_op_num_outputs(x.op));
  return true;
}

bool kn_bld_check(kn_bld *b, const char *arg, kiln_output x) {
  return check_at(b, arg, -1, x);
}

bool kn_bld_check_list(kn_bld *b, const char *arg, const kiln_output *xs,
                       int n, int min) {
  if (n < 0 || (n > 0 && xs == NULL))
    return kn_bld_fail(b, KILN_INVALID_ARGUMENT, "%s is %s with n %d", arg,
                       xs ? "given" : "NULL", n);
  for (int i = 0; i < n; i++)
    if (!check_at(b, arg, i, xs[i])) return false;
  if (n < min)
    return kn_bld_fail(b, KILN_INVALID_ARGUMENT,
                       "%s needs at least %d input(s), got %d", arg, min, n);
  return true;
}

/* An int array argument: n >= 0 values, not NULL unless empty. */
bool kn_bld_check_ints(kn_bld *b, const char *arg, const int64_t *v,
                       int64_t n) {
  if (n < 0)
    return kn_bld_fail(b, KILN_INVALID_ARGUMENT, "%s: negative length %lld",
                       arg, (long long)n);
  if (n > 0 && v == NULL)
    return kn_bld_fail(b, KILN_INVALID_ARGUMENT,
                       "%s is NULL but has length %lld", arg, (long long)n);
  return true;
}

bool kn_bld_check_int32(kn_bld *b, const char *arg, int64_t v) {
  if (v < INT32_MIN || v > INT32_MAX)
    return kn_bld_fail(b, KILN_INVALID_ARGUMENT, "%s %lld does not fit int32",
                       arg, (long long)v);
  return true;
}

/* A static shape as for Placeholder: ndims -1 is unknown rank. */
static bool check_shape(kn_bld *b, const int64_t *dims, int ndims) {
  if (ndims < -1 || ndims > KILN_MAX_DIMS)
    return kn_bld_fail(b, KILN_INVALID_ARGUMENT,
                       "ndims is %d; expected -1 (unknown rank) to %d", ndims,
                       KILN_MAX_DIMS);
  if (ndims > 0 && dims == NULL)
    return kn_bld_fail(b, KILN_INVALID_ARGUMENT,
                       "dims is NULL but ndims is %d", ndims);
  for (int i = 0; i < ndims; i++)
    if (dims[i] < -1)
      return kn_bld_fail(b, KILN_INVALID_ARGUMENT,
                         "dimension %d is %lld; sizes are >= 0, or -1 for "
                         "unknown", i, (long long)dims[i]);
  return true;
}

/* The buffer is sized for scope + base + "_<counter>" first, since a name
** reserved into too small a buffer could not be had again. */
bool kn_bld_begin(kn_bld *b, const char *type, const char *name) {
  const char *base = (name && *name) ? name : type;
  int scope = kiln_graph_name_scope(b->g, NULL, 0);
  size_t cap = (size_t)(scope > 0 ? scope : 0) + strlen(base) + 24;
  char *p = b->buf;
  if (cap > sizeof b->buf) p = malloc(cap);
  else cap = sizeof b->buf;
  for (;;) {
    if (p == NULL) {
      KN_OOM(b->s);
      b->bad = true;
      return false;
    }
    int n = kiln_graph_unique_name(b->g, base, p, cap, b->s);
    if (n < 0) {
      if (p != b->buf) free(p);
      kn_status_prefix(b->s, "%s: ", b->fn);
      b->bad = true;
      return false;
    }
    if ((size_t)n < cap) break;
    /* The scope grew meanwhile (scopes are per graph); retry with room. */
    if (p != b->buf) free(p);
    cap = (size_t)n + 1;
    p = malloc(cap);
  }
  b->d = kiln_op_desc_new(b->g, type, p);
  if (b->d == NULL) {
    if (p != b->buf) free(p);
    KN_OOM(b->s);
    b->bad = true;
    return false;
  }
  b->name = p;
  return true;
}

static kiln_dtype base_dtype(kiln_dtype t) {
  return (int)t > KILN_REF_OFFSET ? (kiln_dtype)(t - KILN_REF_OFFSET) : t;
}

void kn_bld_in(kn_bld *b, kiln_output x) {
  if (!b->bad) kiln_op_desc_add_input(b->d, x);
}

void kn_bld_in_list(kn_bld *b, const kiln_output *xs, int n) {
  if (b->bad) return;
  kiln_op_desc_add_input_list(b->d, xs, n);
  kiln_op_desc_set_attr_int(b->d, "N", n);
  kn_bld_type(b, "T", xs[0]);
}

void kn_bld_type(kn_bld *b, const char *attr, kiln_output x) {
  if (!b->bad) kn_bld_dtype(b, attr, base_dtype(kiln_op_output_dtype(x)));
}

void kn_bld_dtype(kn_bld *b, const char *attr, kiln_dtype t) {
  if (!b->bad) kiln_op_desc_set_attr_type(b->d, attr, t);
}

void kn_bld_str(kn_bld *b, const char *attr, const char *v) {
  if (!b->bad && v) kiln_op_desc_set_attr_string(b->d, attr, v, strlen(v));
}

void kn_bld_int(kn_bld *b, const char *attr, int64_t v) {
  if (!b->bad) kiln_op_desc_set_attr_int(b->d, attr, v);
}

void kn_bld_bool(kn_bld *b, const char *attr, bool v) {
  if (!b->bad) kiln_op_desc_set_attr_bool(b->d, attr, v);
}

/* Makes the uncommitted Const "<op name>/<arg>" holding t (consumes the
** caller's reference) and returns its output. */
kiln_output kn_bld_const(kn_bld *b, const char *arg, kiln_tensor *t) {
  kiln_output out = KN_NO_OUTPUT;
  if (b->bad || t == NULL) {
    b->bad = true;
    kiln_tensor_free(t);
    return out;
  }
  size_t len = strlen(b->name) + 1 + strlen(arg) + 1;
  char *cname = malloc(len);
  kiln_op_desc *cd = NULL;
  if (cname) {
    snprintf(cname, len, "%s/%s", b->name, arg);
    cd = kiln_op_desc_new(b->g, "Const", cname);
  }
  if (cd == NULL) {
    KN_OOM(b->s);
    b->bad = true;
  } else {
    kiln_op_desc_set_attr_tensor(cd, "value", t);
    kiln_op_desc_set_attr_type(cd, "dtype", kiln_tensor_dtype(t));
    kiln_op *op = kn_op_create(cd, b->s);
    kiln_op_desc_free(cd);
    if (op == NULL) {
      b->bad = true;
    } else {
      b->pending[b->npending++] = op;
      out = (kiln_output){op, 0};
    }
  }
  free(cname);
  kiln_tensor_free(t);
  return out;
}

kiln_dtype kn_ints_dtype(const int64_t *v, int64_t n) {
  for (int64_t i = 0; i < n; i++)
    if (v[i] < INT32_MIN || v[i] > INT32_MAX) return KILN_INT64;
  return KILN_INT32;
}

/* An int32 or int64 tensor of shape dims[0..ndims) holding v[0..]. */
kiln_tensor *kn_bld_ints_tensor(kn_bld *b, kiln_dtype dtype, const int64_t *v,
                                const int64_t *dims, int ndims) {
  if (b->bad) return NULL;
  kiln_tensor *t = kiln_tensor_new(dtype, dims, ndims, b->s);
  if (t == NULL) {
    b->bad = true;
    return NULL;
  }
  int64_t n = kiln_tensor_num_elements(t);
  void *data = kiln_tensor_data(t);
  for (int64_t i = 0; i < n; i++) {
    if (dtype == KILN_INT32)
      ((int32_t *)data)[i] = (int32_t)v[i];
    else
      ((int64_t *)data)[i] = v[i];
  }
  return t;
}

kiln_output kn_bld_ints_as(kn_bld *b, const char *arg, kiln_dtype t,
                           const int64_t *v, int64_t n) {
  int64_t dims[1] = {n};
  if (t == KILN_INVALID_DTYPE) t = kn_ints_dtype(v, n < 0 ? 1 : n);
  return kn_bld_const(b, arg,
                      kn_bld_ints_tensor(b, t, v, dims, n < 0 ? 0 : 1));
}

kiln_output kn_bld_ints(kn_bld *b, const char *arg, const int64_t *v,
                        int64_t n) {
  return kn_bld_ints_as(b, arg, KILN_INVALID_DTYPE, v, n);
}

kiln_output kn_bld_scalar(kn_bld *b, const char *arg, int64_t v) {
  return kn_bld_ints(b, arg, &v, -1);
}

/* A scalar of a fixed-size dtype holding the size bytes at v. */
static kiln_tensor *scalar_tensor(kiln_dtype dtype, const void *v,
                                  size_t size, kiln_status *s) {
  kiln_tensor *t = kiln_tensor_new(dtype, NULL, 0, s);
  if (t) memcpy(kiln_tensor_data(t), v, size);
  return t;
}

kiln_output kn_bld_value(kn_bld *b, const char *arg, kiln_dtype dtype,
                         const void *v, size_t size) {
  return kn_bld_const(b, arg,
                      b->bad ? NULL : scalar_tensor(dtype, v, size, b->s));
}

kiln_op *kn_bld_finish(kn_bld *b) {
  kiln_op *op = NULL;
  if (!b->bad && b->npending == 0) {
    op = kiln_op_desc_finish(b->d, b->s);
    b->d = NULL;
  } else if (!b->bad) {
    op = kn_op_create(b->d, b->s);
    if (op != NULL) {
      kiln_op *all[KN_BLD_MAX_PENDING + 1];
      memcpy(all, b->pending, (size_t)b->npending * sizeof *all);
      all[b->npending] = op;
      if (kn_graph_commit(b->g, all, (size_t)b->npending + 1, b->s) ==
          KILN_OK) {
        b->npending = 0;  /* the graph owns them now */
      } else {
        kn_status_prefix(b->s, "node '%s' (%s): ", kiln_op_name(op),
                         kiln_op_type(op));
        kn_op_free(op);
        op = NULL;
      }
    }
  }
  kiln_op_desc_free(b->d);
  for (int i = 0; i < b->npending; i++) kn_op_free(b->pending[i]);
  if (b->name != b->buf) free(b->name);
  return op;
}

kiln_output kn_bld_out(kn_bld *b) {
  kiln_op *op = kn_bld_finish(b);
  return op ? (kiln_output){op, 0} : KN_NO_OUTPUT;
}

kiln_op *kn_bld_outs(kn_bld *b, kiln_output *outputs) {
  kiln_op *op = kn_bld_finish(b);
  if (op && outputs) {
    int n = kiln_op_num_outputs(op);
    for (int i = 0; i < n; i++) outputs[i] = (kiln_output){op, i};
  }
  return op;
}

/* ----------------------------------------------------------- op specs */

/* Init and check the inputs of o, except those marked KN_MADE. */
bool kn_spec_check(kn_bld *b, const char *fn, kiln_graph *g, kiln_status *s,
                   const kn_opspec *o, const kiln_output *in) {
  if (!kn_bld_init(b, fn, g, s)) return false;
  for (int i = 0; o->in[i]; i++)
    if (!kn_is_made(in[i]) && !kn_bld_check(b, o->in[i], in[i])) return false;
  return true;
}

void kn_spec_wire(kn_bld *b, const kn_opspec *o, const kiln_output *in) {
  for (int i = 0; o->in[i]; i++) kn_bld_in(b, in[i]);
  for (int i = 0; o->tattr[i]; i++)
    kn_bld_type(b, o->tattr[i], in[o->tfrom[i]]);
}

static int spec_arity(const kn_opspec *o) {
  int n = 0;
  while (o->in[n]) n++;
  return n;
}

bool kn_spec_start(kn_bld *b, const char *fn, kiln_graph *g, kiln_status *s,
                   const kn_opspec *o, const kiln_output *in,
                   const char *name) {
  if (!kn_spec_check(b, fn, g, s, o, in) || !kn_bld_begin(b, o->type, name))
    return false;
  kn_spec_wire(b, o, in);
  return true;
}

kiln_output kn_spec_simple(const char *fn, kiln_graph *g, kiln_status *s,
                           const kn_opspec *o, const kiln_output *in,
                           const char *name) {
  kn_bld b;
  if (!kn_spec_start(&b, fn, g, s, o, in, name)) return KN_NO_OUTPUT;
  return kn_bld_out(&b);
}

/* -------------------------------------------------------------- constants */

static kiln_output const_build(const char *fn, kiln_graph *g,
                               kiln_tensor *value, const char *name,
                               kiln_status *s) {
  kn_bld b;
  if (!kn_bld_init(&b, fn, g, s)) return KN_NO_OUTPUT;
  if (value == NULL) {
    kn_bld_fail(&b, KILN_INVALID_ARGUMENT, "value is NULL");
    return KN_NO_OUTPUT;
  }
  if (!kn_bld_begin(&b, "Const", name)) return KN_NO_OUTPUT;
  kiln_op_desc_set_attr_tensor(b.d, "value", value);
  kiln_op_desc_set_attr_type(b.d, "dtype", kiln_tensor_dtype(value));
  return kn_bld_out(&b);
}

kiln_output kiln_const(kiln_graph *g, kiln_tensor *value, const char *name,
                       kiln_status *s) {
  return const_build(__func__, g, value, name, s);
}

/* A Const of a tensor made for it (consumed); t NULL means the tensor
** could not be made and the status already says why. */
static kiln_output const_owned(const char *fn, kiln_graph *g, kiln_tensor *t,
                               const char *name, kiln_status *s) {
  if (t == NULL) return KN_NO_OUTPUT;
  kiln_output out = const_build(fn, g, t, name, s);
  kiln_tensor_free(t);
  return out;
}

/* Checks graph and status as every builder does, for the Const helpers
** that make their tensor before building. */
static bool const_pre(const char *fn, kiln_graph *g, kiln_status *s) {
  kn_bld b;
  return kn_bld_init(&b, fn, g, s);
}

static kiln_output const_scalar(const char *fn, kiln_graph *g,
                                kiln_dtype dtype, const void *v, size_t size,
                                const char *name, kiln_status *s) {
  if (!const_pre(fn, g, s)) return KN_NO_OUTPUT;
  return const_owned(fn, g, scalar_tensor(dtype, v, size, s), name, s);
}

#define SCALAR_CONST(fn, ctype, dtype)                                      \
  kiln_output fn(kiln_graph *g, ctype value, const char *name,              \
                 kiln_status *s) {                                          \
    return const_scalar(#fn, g, dtype, &value, sizeof value, name, s);      \
  }

SCALAR_CONST(kiln_const_float, float, KILN_FLOAT)
SCALAR_CONST(kiln_const_double, double, KILN_DOUBLE)
SCALAR_CONST(kiln_const_int32, int32_t, KILN_INT32)
SCALAR_CONST(kiln_const_int64, int64_t, KILN_INT64)

kiln_output kiln_const_bool(kiln_graph *g, bool value, const char *name,
                            kiln_status *s) {
  unsigned char v = value ? 1 : 0;
  return const_scalar(__func__, g, KILN_BOOL, &v, 1, name, s);
}

kiln_output kiln_const_string(kiln_graph *g, const char *data, size_t len,
                              const char *name, kiln_status *s) {
  if (!const_pre(__func__, g, s)) return KN_NO_OUTPUT;
  if (data == NULL && len > 0) {
    kn_errorf(s, KILN_INVALID_ARGUMENT,
              "kiln_const_string: data is NULL but len is %zu", len);
    return KN_NO_OUTPUT;
  }
  kiln_tensor *t = kiln_tensor_new(KILN_STRING, NULL, 0, s);
  if (t) {
    kiln_tensor_set_string(t, 0, data ? data : "", len, s);
    if (!kn_ok(s)) {
      kiln_tensor_free(t);
      return KN_NO_OUTPUT;
    }
  }
  return const_owned(__func__, g, t, name, s);
}

static kiln_output const_array(const char *fn, kiln_graph *g,
                               kiln_dtype dtype, const void *values,
                               const int64_t *dims, int ndims,
                               const char *name, kiln_status *s) {
  if (!const_pre(fn, g, s)) return KN_NO_OUTPUT;
  if (kiln_dtype_size(dtype) == 0) {
    const char *tn = kiln_dtype_name(dtype);
    kn_errorf(s, KILN_INVALID_ARGUMENT,
              "%s: dtype %s (%d) has no fixed element size; use kiln_const",
              fn, tn ? tn : "invalid", (int)dtype);
    return KN_NO_OUTPUT;
  }
  if (ndims > 0 && dims == NULL) {
    kn_errorf(s, KILN_INVALID_ARGUMENT, "%s: dims is NULL but ndims is %d",
              fn, ndims);
    return KN_NO_OUTPUT;
  }
  kiln_tensor *t = kiln_tensor_new(dtype, dims, ndims, s);
  if (t == NULL) {
    kn_status_prefix(s, "%s: ", fn);
    return KN_NO_OUTPUT;
  }
  size_t nbytes = kiln_tensor_byte_size(t);
  if (nbytes > 0 && values == NULL) {
    kn_errorf(s, KILN_INVALID_ARGUMENT,
              "%s: values is NULL for a shape of %lld elements", fn,
              (long long)kiln_tensor_num_elements(t));
    kiln_tensor_free(t);
    return KN_NO_OUTPUT;
  }
  if (nbytes > 0) memcpy(kiln_tensor_data(t), values, nbytes);
  return const_owned(fn, g, t, name, s);
}

kiln_output kiln_const_values(kiln_graph *g, kiln_dtype dtype,
                              const void *values, const int64_t *dims,
                              int ndims, const char *name, kiln_status *s) {
  return const_array(__func__, g, dtype, values, dims, ndims, name, s);
}

kiln_output kiln_const_floats(kiln_graph *g, const float *values,
                              const int64_t *dims, int ndims,
                              const char *name, kiln_status *s) {
  return const_array(__func__, g, KILN_FLOAT, values, dims, ndims, name, s);
}

kiln_output kiln_const_int32s(kiln_graph *g, const int32_t *values,
                              const int64_t *dims, int ndims,
                              const char *name, kiln_status *s) {
  return const_array(__func__, g, KILN_INT32, values, dims, ndims, name, s);
}

kiln_output kiln_const_int64s(kiln_graph *g, const int64_t *values,
                              const int64_t *dims, int ndims,
                              const char *name, kiln_status *s) {
  return const_array(__func__, g, KILN_INT64, values, dims, ndims, name, s);
}

/* ------------------------------------------------ placeholders, identity */

kiln_output kiln_placeholder(kiln_graph *g, kiln_dtype dtype,
                             const int64_t *dims, int ndims, const char *name,
                             kiln_status *s) {
  kn_bld b;
  if (!kn_bld_init(&b, __func__, g, s) || !check_shape(&b, dims, ndims) ||
      !kn_bld_begin(&b, "Placeholder", name))
    return KN_NO_OUTPUT;
  kiln_op_desc_set_attr_type(b.d, "dtype", dtype);
  kiln_op_desc_set_attr_shape(b.d, "shape", dims, ndims);
  return kn_bld_out(&b);
}

/* ------------------------------------------------------------- variables */

kiln_output kiln_variable(kiln_graph *g, kiln_dtype dtype, const int64_t *dims,
                          int ndims, const char *name, kiln_status *s) {
  kn_bld b;
  if (!kn_bld_init(&b, __func__, g, s) || !check_shape(&b, dims, ndims) ||
      !kn_bld_begin(&b, "VariableV2", name))
    return KN_NO_OUTPUT;
  kiln_op_desc_set_attr_type(b.d, "dtype", dtype);
  kiln_op_desc_set_attr_shape(b.d, "shape", dims, ndims);
  return kn_bld_out(&b);
}

static const kn_opspec ASSIGN = {"Assign", {"ref", "value"}, {"T"}, {1}};
static const kn_opspec ASSIGN_ADD = {"AssignAdd", {"ref", "value"}, {"T"}, {1}};
static const kn_opspec ASSIGN_SUB = {"AssignSub", {"ref", "value"}, {"T"}, {1}};

kiln_output kiln_assign(kiln_graph *g, kiln_output ref, kiln_output value,
                        const char *name, kiln_status *s) {
  return kn_spec_simple(__func__, g, s, &ASSIGN, (kiln_output[]){ref, value}, name);
}

kiln_output kiln_assign_add(kiln_graph *g, kiln_output ref, kiln_output value,
                            const char *name, kiln_status *s) {
  return kn_spec_simple(__func__, g, s, &ASSIGN_ADD, (kiln_output[]){ref, value}, name);
}

kiln_output kiln_assign_sub(kiln_graph *g, kiln_output ref, kiln_output value,
                            const char *name, kiln_status *s) {
  return kn_spec_simple(__func__, g, s, &ASSIGN_SUB, (kiln_output[]){ref, value}, name);
}

static const kn_opspec PLACEHOLDER_WITH_DEFAULT = {
    "PlaceholderWithDefault", {"input"}, {"dtype"}, {0}};

kiln_output kiln_placeholder_with_default(kiln_graph *g, kiln_output input,
                                          const int64_t *dims, int ndims,
                                          const char *name, kiln_status *s) {
  kn_bld b;
  const kn_opspec *o = &PLACEHOLDER_WITH_DEFAULT;
  if (!kn_spec_check(&b, __func__, g, s, o, &input) ||
      !check_shape(&b, dims, ndims) || !kn_bld_begin(&b, o->type, name))
    return KN_NO_OUTPUT;
  kn_spec_wire(&b, o, &input);
  kiln_op_desc_set_attr_shape(b.d, "shape", dims, ndims);
  return kn_bld_out(&b);
}

kiln_op *kiln_identity_n(kiln_graph *g, const kiln_output *inputs, int n,
                         kiln_output *outputs, const char *name,
                         kiln_status *s) {
  kn_bld b;
  if (!kn_bld_init(&b, __func__, g, s) ||
      !kn_bld_check_list(&b, "inputs", inputs, n, 1))
    return NULL;
  kiln_dtype *types = malloc((size_t)n * sizeof *types);
  if (types == NULL) {
    KN_OOM(s);
    return NULL;
  }
  for (int i = 0; i < n; i++)
    types[i] = base_dtype(kiln_op_output_dtype(inputs[i]));
  if (kn_bld_begin(&b, "IdentityN", name)) {
    kiln_op_desc_add_input_list(b.d, inputs, n);
    kiln_op_desc_set_attr_type_list(b.d, "T", types, n);
  }
  free(types);
  return kn_bld_outs(&b, outputs);
}

kiln_op *kiln_no_op(kiln_graph *g, kiln_op *const *deps, int n,
                    const char *name, kiln_status *s) {
  kn_bld b;
  if (!kn_bld_init(&b, __func__, g, s)) return NULL;
  if (n < 0 || (n > 0 && deps == NULL)) {
    kn_bld_fail(&b, KILN_INVALID_ARGUMENT, "deps is %s with n %d",
                deps ? "given" : "NULL", n);
    return NULL;
  }
  for (int i = 0; i < n; i++) {
    if (deps[i] == NULL || kiln_op_graph(deps[i]) != g) {
      if (deps[i] == NULL)
        kn_bld_fail(&b, KILN_INVALID_ARGUMENT, "deps[%d] is NULL", i);
      else
        kn_bld_fail(&b, KILN_INVALID_ARGUMENT,
                    "deps[%d] ('%s') belongs to another graph", i,
                    kiln_op_name(deps[i]));
      return NULL;
    }
  }
  if (!kn_bld_begin(&b, "NoOp", name)) return NULL;
  for (int i = 0; i < n; i++) kiln_op_desc_add_control_input(b.d, deps[i]);
  return kn_bld_finish(&b);
}

/* ----------------------------------------------------------- elementwise */

static const kn_opspec UNARY_T = {NULL, {"x"}, {"T"}, {0}};
static const kn_opspec UNARY_BOOL = {NULL, {"x"}, {NULL}, {0}};
static const kn_opspec BINARY_T = {NULL, {"x", "y"}, {"T"}, {0}};
static const kn_opspec BINARY_BOOL = {NULL, {"x", "y"}, {NULL}, {0}};

/* A shape of spec `o` given the op type. */
static kiln_output typed(const char *fn, const char *type, const kn_opspec *o,
                         kiln_graph *g, const kiln_output *in,
                         const char *name, kiln_status *s) {
  kn_opspec t = *o;
  t.type = type;
  return kn_spec_simple(fn, g, s, &t, in, name);
}

#define UNARY(fn, type, spec)                                               \
  kiln_output fn(kiln_graph *g, kiln_output x, const char *name,            \
                 kiln_status *s) {                                          \
    return typed(#fn, type, &spec, g, &x, name, s);                         \
  }
#define BINARY(fn, type, spec)                                              \
  kiln_output fn(kiln_graph *g, kiln_output x, kiln_output y,               \
                 const char *name, kiln_status *s) {                        \
    const kiln_output in[2] = {x, y};                                       \
    return typed(#fn, type, &spec, g, in, name, s);                         \
  }

UNARY(kiln_identity, "Identity", UNARY_T)
UNARY(kiln_stop_gradient, "StopGradient", UNARY_T)
UNARY(kiln_neg, "Neg", UNARY_T)
UNARY(kiln_abs, "Abs", UNARY_T)
UNARY(kiln_exp, "Exp", UNARY_T)
UNARY(kiln_log, "Log", UNARY_T)
UNARY(kiln_sqrt, "Sqrt", UNARY_T)
UNARY(kiln_rsqrt, "Rsqrt", UNARY_T)
UNARY(kiln_square, "Square", UNARY_T)
UNARY(kiln_tanh, "Tanh", UNARY_T)
UNARY(kiln_sigmoid, "Sigmoid", UNARY_T)
UNARY(kiln_relu, "Relu", UNARY_T)
UNARY(kiln_relu6, "Relu6", UNARY_T)
UNARY(kiln_elu, "Elu", UNARY_T)
UNARY(kiln_softplus, "Softplus", UNARY_T)
UNARY(kiln_floor, "Floor", UNARY_T)
UNARY(kiln_ceil, "Ceil", UNARY_T)
UNARY(kiln_round, "Round", UNARY_T)
UNARY(kiln_sign, "Sign", UNARY_T)
UNARY(kiln_logical_not, "LogicalNot", UNARY_BOOL)
UNARY(kiln_softmax, "Softmax", UNARY_T)
UNARY(kiln_log_softmax, "LogSoftmax", UNARY_T)

BINARY(kiln_add, "Add", BINARY_T)
BINARY(kiln_add_v2, "AddV2", BINARY_T)
BINARY(kiln_sub, "Sub", BINARY_T)
BINARY(kiln_mul, "Mul", BINARY_T)
BINARY(kiln_real_div, "RealDiv", BINARY_T)
BINARY(kiln_div, "Div", BINARY_T)
BINARY(kiln_maximum, "Maximum", BINARY_T)
BINARY(kiln_minimum, "Minimum", BINARY_T)
BINARY(kiln_pow, "Pow", BINARY_T)
BINARY(kiln_squared_difference, "SquaredDifference", BINARY_T)
BINARY(kiln_equal, "Equal", BINARY_T)
BINARY(kiln_not_equal, "NotEqual", BINARY_T)
BINARY(kiln_less, "Less", BINARY_T)
BINARY(kiln_less_equal, "LessEqual", BINARY_T)
BINARY(kiln_greater, "Greater", BINARY_T)
BINARY(kiln_greater_equal, "GreaterEqual", BINARY_T)
BINARY(kiln_logical_and, "LogicalAnd", BINARY_BOOL)
BINARY(kiln_logical_or, "LogicalOr", BINARY_BOOL)

static const kn_opspec LEAKY_RELU = {"LeakyRelu", {"features"}, {"T"}, {0}};
static const kn_opspec SELECT = {
    "Select", {"condition", "t", "e"}, {"T"}, {1}};

kiln_output kiln_leaky_relu(kiln_graph *g, kiln_output features, float alpha,
                            const char *name, kiln_status *s) {
  kn_bld b;
  if (!kn_spec_start(&b, __func__, g, s, &LEAKY_RELU, &features, name))
    return KN_NO_OUTPUT;
  kiln_op_desc_set_attr_float(b.d, "alpha", alpha);
  return kn_bld_out(&b);
}

kiln_output kiln_select(kiln_graph *g, kiln_output condition, kiln_output t,
                        kiln_output e, const char *name, kiln_status *s) {
  const kiln_output in[3] = {condition, t, e};
  return kn_spec_simple(__func__, g, s, &SELECT, in, name);
}

/* -------------------------------------------------------- linear algebra */

static const kn_opspec MATMUL = {"MatMul", {"a", "b"}, {"T"}, {0}};
static const kn_opspec BATCH_MATMUL = {
    "BatchMatMulV2", {"x", "y"}, {"T"}, {0}};
static const kn_opspec BIAS_ADD = {"BiasAdd", {"value", "bias"}, {"T"}, {0}};

kiln_output kiln_matmul(kiln_graph *g, kiln_output a, kiln_output b_,
                        bool transpose_a, bool transpose_b, const char *name,
                        kiln_status *s) {
  kn_bld b;
  const kiln_output in[2] = {a, b_};
  if (!kn_spec_start(&b, __func__, g, s, &MATMUL, in, name))
    return KN_NO_OUTPUT;
  kiln_op_desc_set_attr_bool(b.d, "transpose_a", transpose_a);
  kiln_op_desc_set_attr_bool(b.d, "transpose_b", transpose_b);
  return kn_bld_out(&b);
}

kiln_output kiln_batch_matmul(kiln_graph *g, kiln_output x, kiln_output y,
                              bool adj_x, bool adj_y, const char *name,
                              kiln_status *s) {
  kn_bld b;
  const kiln_output in[2] = {x, y};
  if (!kn_spec_start(&b, __func__, g, s, &BATCH_MATMUL, in, name))
    return KN_NO_OUTPUT;
  kiln_op_desc_set_attr_bool(b.d, "adj_x", adj_x);
  kiln_op_desc_set_attr_bool(b.d, "adj_y", adj_y);
  return kn_bld_out(&b);
}

kiln_output kiln_bias_add(kiln_graph *g, kiln_output value, kiln_output bias,
                          const char *data_format, const char *name,
                          kiln_status *s) {
  kn_bld b;
  const kiln_output in[2] = {value, bias};
  if (!kn_spec_start(&b, __func__, g, s, &BIAS_ADD, in, name))
    return KN_NO_OUTPUT;
  kn_bld_str(&b, "data_format", data_format);
  return kn_bld_out(&b);
}

/* ------------------------------------------------ convolution and pooling */

static const kn_opspec CONV2D = {"Conv2D", {"input", "filter"}, {"T"}, {0}};
static const kn_opspec DEPTHWISE = {
    "DepthwiseConv2dNative", {"input", "filter"}, {"T"}, {0}};
static const kn_opspec MAX_POOL = {"MaxPool", {"input"}, {"T"}, {0}};
static const kn_opspec AVG_POOL = {"AvgPool", {"value"}, {"T"}, {0}};

/* Conv2D, DepthwiseConv2dNative and the pools (those have a ksize). */
static kiln_output windowed(const char *fn, const kn_opspec *o, kiln_graph *g,
                            const kiln_output *in, const int64_t *ksize,
                            const int64_t *strides, const char *padding,
                            const char *data_format, const char *name,
                            kiln_status *s) {
  kn_bld b;
  bool pool = spec_arity(o) == 1;
  if (!kn_spec_check(&b, fn, g, s, o, in)) return KN_NO_OUTPUT;
  if (strides == NULL || (pool && ksize == NULL)) {
    kn_bld_fail(&b, KILN_INVALID_ARGUMENT, "%s is NULL (4 values expected)",
                strides ? "ksize" : "strides");
    return KN_NO_OUTPUT;
  }
  if (padding == NULL) {
    kn_bld_fail(&b, KILN_INVALID_ARGUMENT,
                "padding is NULL (expected \"SAME\" or \"VALID\")");
    return KN_NO_OUTPUT;
  }
  if (!kn_bld_begin(&b, o->type, name)) return KN_NO_OUTPUT;
  kn_spec_wire(&b, o, in);
  if (pool) kiln_op_desc_set_attr_int_list(b.d, "ksize", ksize, 4);
  kiln_op_desc_set_attr_int_list(b.d, "strides", strides, 4);
  kn_bld_str(&b, "padding", padding);
  kn_bld_str(&b, "data_format", data_format);
  return kn_bld_out(&b);
}

kiln_output kiln_conv2d(kiln_graph *g, kiln_output input, kiln_output filter,
                        const int64_t strides[4], const char *padding,
                        const char *data_format, const char *name,
                        kiln_status *s) {
  const kiln_output in[2] = {input, filter};
  return windowed(__func__, &CONV2D, g, in, NULL, strides, padding,
                  data_format, name, s);
}

kiln_output kiln_depthwise_conv2d(kiln_graph *g, kiln_output input,
                                  kiln_output filter, const int64_t strides[4],
                                  const char *padding, const char *data_format,
                                  const char *name, kiln_status *s) {
  const kiln_output in[2] = {input, filter};
  return windowed(__func__, &DEPTHWISE, g, in, NULL, strides, padding,
                  data_format, name, s);
}

kiln_output kiln_max_pool(kiln_graph *g, kiln_output input,
                          const int64_t ksize[4], const int64_t strides[4],
                          const char *padding, const char *data_format,
                          const char *name, kiln_status *s) {
  return windowed(__func__, &MAX_POOL, g, &input, ksize, strides, padding,
                  data_format, name, s);
}

kiln_output kiln_avg_pool(kiln_graph *g, kiln_output value,
                          const int64_t ksize[4], const int64_t strides[4],
                          const char *padding, const char *data_format,
                          const char *name, kiln_status *s) {
  return windowed(__func__, &AVG_POOL, g, &value, ksize, strides, padding,
                  data_format, name, s);
}

static const kn_opspec FUSED_BN = {
    "FusedBatchNorm", {"x", "scale", "offset", "mean", "variance"}, {"T"},
    {0}};
static const kn_opspec FUSED_BN_V3 = {
    "FusedBatchNormV3", {"x", "scale", "offset", "mean", "variance"},
    {"T", "U"}, {0, 1}};

static kiln_op *fused_bn(const char *fn, const kn_opspec *o, kiln_graph *g,
                         const kiln_output *in, float epsilon,
                         const char *data_format, bool is_training,
                         const char *name, kiln_status *s) {
  kn_bld b;
  if (!kn_spec_start(&b, fn, g, s, o, in, name)) return NULL;
  kiln_op_desc_set_attr_float(b.d, "epsilon", epsilon);
  kn_bld_str(&b, "data_format", data_format);
  kiln_op_desc_set_attr_bool(b.d, "is_training", is_training);
  return kn_bld_finish(&b);
}

kiln_op *kiln_fused_batch_norm(kiln_graph *g, kiln_output x, kiln_output scale,
                               kiln_output offset, kiln_output mean,
                               kiln_output variance, float epsilon,
                               const char *data_format, bool is_training,
                               const char *name, kiln_status *s) {
  const kiln_output in[5] = {x, scale, offset, mean, variance};
  return fused_bn(__func__, &FUSED_BN, g, in, epsilon, data_format,
                  is_training, name, s);
}

kiln_op *kiln_fused_batch_norm_v3(kiln_graph *g, kiln_output x,
                                  kiln_output scale, kiln_output offset,
                                  kiln_output mean, kiln_output variance,
                                  float epsilon, const char *data_format,
                                  bool is_training, const char *name,
                                  kiln_status *s) {
  const kiln_output in[5] = {x, scale, offset, mean, variance};
  return fused_bn(__func__, &FUSED_BN_V3, g, in, epsilon, data_format,
                  is_training, name, s);
}

