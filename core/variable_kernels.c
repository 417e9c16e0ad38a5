/*
** Variables and the kernels that make and assign them: VariableV2 (and
** the pre-V2 Variable), Assign, AssignAdd, AssignSub, IsVariableInitialized.
**
** A variable's value is a tensor marked read-only: fetching it copies, and
** no kernel reuses its buffer for an output. Kernels that update it in
** place (AssignAdd, the Apply* of plugins) write through a ref input.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "attr.h"
#include "core_kernels.h"
#include "graph_internal.h"
#include "kernel_context.h"
#include "session_internal.h"
#include "status_internal.h"
#include "tensor_internal.h"
#include "variable.h"

static void variable_destroy(kn_resource *r) {
  kn_variable *v = (kn_variable *)r;
  kiln_tensor_free(v->value);
  pthread_mutex_destroy(&v->mu);
  free(v);
}

const kn_resource_kind kn_variable_kind = {"variable", variable_destroy};

kn_variable *kn_ref_variable(const kiln_tensor *t) {
  kn_resource *r = t && t->is_ref ? kn_tensor_resource(t) : NULL;
  return r && r->kind == &kn_variable_kind ? (kn_variable *)r : NULL;
}

kiln_tensor *kn_variable_read(kn_variable *v, kiln_status *st) {
  if (!v) {
    kn_errorf(st, KILN_INTERNAL, "a reference input has no variable behind it");
    return NULL;
  }
  pthread_mutex_lock(&v->mu);
  kiln_tensor *t = kiln_tensor_ref(v->value);
  pthread_mutex_unlock(&v->mu);
  if (!t)
    kn_errorf(st, KILN_FAILED_PRECONDITION,
              "Attempting to use uninitialized value %s", v->res.name);
  return t;
}

/* ------------------------------------------------------------ VariableV2 */

typedef struct var_kernel {
  kiln_dtype dtype;
  kn_shape shape;
  char *container, *name;
} var_kernel;

static const kn_attr_map *attrs_of(kiln_kernel_construct *c) {
  return (const kn_attr_map *)kn_kcc_attrs(c);
}

static char *attr_str(const kn_attr_map *a, const char *name) {
  const kn_attr_value *v = kn_attr_map_get(a, name);
  if (!v || v->type != KILN_ATTR_STRING || !v->v.s.len) return strdup("");
  return strndup(v->v.s.data, v->v.s.len);
}

/* Container and name of a resource op: shared_name, else the node's. */
bool kn_resource_names(kiln_kernel_construct *c, char **container, char **name) {
  const kn_attr_map *a = attrs_of(c);
  *container = attr_str(a, "container");
  *name = attr_str(a, "shared_name");
  if (*name && !**name) {
    free(*name);
    *name = strdup(kn_kcc_node_name(c));
  }
  if (*container && *name) return true;
  free(*container);
  free(*name);
  kn_kcc_fail(c, KILN_RESOURCE_EXHAUSTED, "out of memory");
  return false;
}

static void *var_create(kiln_kernel_construct *c) {
  var_kernel *k = calloc(1, sizeof *k);
  if (!k) {
    kn_kcc_fail(c, KILN_RESOURCE_EXHAUSTED, "out of memory");
    return NULL;
  }
  const kn_attr_map *a = attrs_of(c);
  const kn_attr_value *dt = kn_attr_map_get(a, "dtype"), *sh = kn_attr_map_get(a, "shape");
  k->dtype = dt ? dt->v.t : KILN_INVALID_DTYPE;
  k->shape = sh && sh->v.shape ? *sh->v.shape : kn_shape_unknown();
  if (!kn_resource_names(c, &k->container, &k->name)) {
    free(k);
    return NULL;
  }
  return k;
}

static void var_destroy(void *p) {
  var_kernel *k = p;
  free(k->container);
  free(k->name);
  free(k);
}

static kn_resource *var_new(void *arg, kiln_status *st) {
  var_kernel *k = arg;
  kn_variable *v = calloc(1, sizeof *v);
  if (!v) {
    KN_OOM(st);
    return NULL;
  }
  pthread_mutex_init(&v->mu, NULL);
  v->dtype = k->dtype;
  v->shape = k->shape;
  return &v->res;
}

/* Another node (or session, for a shared container) made it: the two
** must agree, as TensorFlow's VariableOp checks. */
static kiln_code var_check(kn_resource *r, void *arg, kiln_status *st) {
  const kn_variable *v = (const kn_variable *)r;
  const var_kernel *k = arg;
  char a[KN_SHAPE_STR_MAX], b[KN_SHAPE_STR_MAX];
  if (v->dtype != k->dtype)
    return kn_errorf(st, KILN_INVALID_ARGUMENT,
                     "Trying to share variable %s, but specified dtype %s and "
                     "found dtype %s", k->name, kiln_dtype_name(k->dtype),
                     kiln_dtype_name(v->dtype));
  if (!kn_shape_equal(&v->shape, &k->shape))
    return kn_errorf(st, KILN_INVALID_ARGUMENT,
                     "Trying to share variable %s, but specified shape %s and "
                     "found shape %s", k->name, kn_shape_str(&k->shape, a, sizeof a),
                     kn_shape_str(&v->shape, b, sizeof b));
  return KILN_OK;
}

static void var_compute(void *p, kiln_kernel_context *c) {
  var_kernel *k = p;
  kn_kc_output_resource(c, k->container, k->name, &kn_variable_kind, var_new,
                        var_check, k, k->dtype, true);
}

/* ---------------------------------------------------------------- Assign */

typedef struct assign_kernel {
  bool validate_shape;
  int op;                     /* 0 assign, 1 add, -1 sub */
} assign_kernel;

static void *assign_create_op(kiln_kernel_construct *c, int op) {
  assign_kernel *k = calloc(1, sizeof *k);
  if (!k) {
    kn_kcc_fail(c, KILN_RESOURCE_EXHAUSTED, "out of memory");
    return NULL;
  }
  const kn_attr_value *vs = kn_attr_map_get(attrs_of(c), "validate_shape");
  k->validate_shape = !vs || vs->v.b;
  k->op = op;
  return k;
}
static void *assign_create(kiln_kernel_construct *c) { return assign_create_op(c, 0); }
static void *assign_add_create(kiln_kernel_construct *c) { return assign_create_op(c, 1); }
static void *assign_sub_create(kiln_kernel_construct *c) { return assign_create_op(c, -1); }

#define ADD_LOOP(T)                                                          \
  do {                                                                       \
    T *d = dst->data;                                                        \
    const T *s = src->data;                                                  \
    if (sign > 0)                                                            \
      for (int64_t i = 0; i < n; i++) d[i] += s[i];                          \
    else                                                                     \
      for (int64_t i = 0; i < n; i++) d[i] -= s[i];                          \
  } while (0)

/* dst += sign * src, elementwise; false for a dtype without arithmetic. */
static bool add_into(kiln_tensor *dst, const kiln_tensor *src, int sign) {
  int64_t n = dst->nelems;
  switch (dst->dtype) {
  case KILN_FLOAT: ADD_LOOP(float); return true;
  case KILN_DOUBLE: ADD_LOOP(double); return true;
  case KILN_INT32: ADD_LOOP(int32_t); return true;
  case KILN_INT64: ADD_LOOP(int64_t); return true;
  case KILN_INT16: ADD_LOOP(int16_t); return true;
  case KILN_INT8: ADD_LOOP(int8_t); return true;
  case KILN_UINT8: ADD_LOOP(uint8_t); return true;
  case KILN_UINT16: ADD_LOOP(uint16_t); return true;
  case KILN_UINT32: ADD_LOOP(uint32_t); return true;
  case KILN_UINT64: ADD_LOOP(uint64_t); return true;
  default: return false;
  }
}

static void assign_compute(void *p, kiln_kernel_context *c) {
  assign_kernel *k = p;
  kn_variable *v = kn_ref_variable(kn_kc_input_tensor(c, 0));
  kiln_tensor *value = kn_kc_input_tensor(c, 1);
  if (!v) {
    kn_kc_fail(c, KILN_INTERNAL, "input 0 is not a variable's reference");
    return;
  }
  char a[KN_SHAPE_STR_MAX], b[KN_SHAPE_STR_MAX];
  kiln_status *st = kiln_status_new();
  if (!st) {
    kn_kc_fail(c, KILN_RESOURCE_EXHAUSTED, "out of memory");
    return;
  }
  pthread_mutex_lock(&v->mu);
  kiln_tensor *old = v->value;
  bool same = old && old->ndims == value->ndims &&
              memcmp(old->dims, value->dims, (size_t)value->ndims * sizeof *value->dims) == 0;
  if (k->op == 0) {
    kn_shape given = kn_shape_make(value->dims, value->ndims);
    if (k->validate_shape && old && !same)
      kn_kc_failf(c, KILN_INVALID_ARGUMENT,
              "Assign requires shapes of both tensors to match. lhs shape= %s "
              "rhs shape= %s", kn_dims_str(old->dims, old->ndims, a, sizeof a),
              kn_dims_str(value->dims, value->ndims, b, sizeof b));
    else if (k->validate_shape && !kn_shape_compatible(&v->shape, &given))
      kn_kc_failf(c, KILN_INVALID_ARGUMENT,
              "Assign requires shapes of both tensors to match. lhs shape= %s "
              "rhs shape= %s", kn_shape_str(&v->shape, a, sizeof a),
              kn_dims_str(value->dims, value->ndims, b, sizeof b));
    else if (same && atomic_load(&old->refs) == 1 && value->dtype != KILN_STRING) {
      /* Nobody else holds the old value: overwrite it in place. */
      memcpy(old->data, value->data, value->nbytes);
    } else {
      kiln_tensor *t = kn_tensor_copy(value, st);
      if (t) {
        atomic_store(&t->readonly, true);
        v->value = t;
        kiln_tensor_free(old);
      }
    }
  } else if (!old) {
    kn_kc_failf(c, KILN_FAILED_PRECONDITION, "Attempting to use uninitialized value %s",
            v->res.name);
  } else if (!same) {
    kn_kc_failf(c, KILN_INVALID_ARGUMENT,
            "Must have the same shape: var shape %s, value shape %s",
            kn_dims_str(old->dims, old->ndims, a, sizeof a),
            kn_dims_str(value->dims, value->ndims, b, sizeof b));
  } else if (!add_into(old, value, k->op)) {
    kn_kc_failf(c, KILN_INVALID_ARGUMENT, "%s has no arithmetic for %s",
            kn_kc_op(c)->type, kiln_dtype_name(old->dtype));
  }
  pthread_mutex_unlock(&v->mu);
  if (!kn_ok(st)) kn_kc_fail(c, kiln_status_code(st), kiln_status_message(st));
  kiln_status_free(st);
  if (!kn_kc_failed(c))
    kn_kc_set_output_tensor(c, 0, kiln_tensor_ref(kn_kc_input_tensor(c, 0)));
}

static void is_init_compute(void *p, kiln_kernel_context *c) {
  (void)p;
  kn_variable *v = kn_ref_variable(kn_kc_input_tensor(c, 0));
  kiln_status *st = kiln_status_new();
  kiln_tensor *out = st ? kn_tensor_alloc(KILN_BOOL, NULL, 0, st) : NULL;
  if (!out) {
    kn_kc_fail(c, KILN_RESOURCE_EXHAUSTED, "out of memory");
  } else {
    pthread_mutex_lock(&v->mu);
    *(bool *)out->data = v->value != NULL;
    pthread_mutex_unlock(&v->mu);
    kn_kc_set_output_tensor(c, 0, out);
  }
  kiln_status_free(st);
}

const kn_core_kernel kn_variable_kernels[] = {
    {"VariableV2", var_create, var_compute, var_destroy, 0},
    {"Variable", var_create, var_compute, var_destroy, 0},
    {"Assign", assign_create, assign_compute, free, KN_KERNEL_RAW_REFS},
    {"AssignAdd", assign_add_create, assign_compute, free, KN_KERNEL_RAW_REFS},
    {"AssignSub", assign_sub_create, assign_compute, free, KN_KERNEL_RAW_REFS},
    {"IsVariableInitialized", NULL, is_init_compute, NULL, KN_KERNEL_RAW_REFS},
};
const size_t kn_variable_kernels_count =
    sizeof kn_variable_kernels / sizeof kn_variable_kernels[0];
