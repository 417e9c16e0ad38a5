/*
** Turning an op description into an operation: the schema decides how the
** inputs split into arguments, which dtypes they must have, which attrs
** are inferred or defaulted, what the outputs are and their shapes. All
** errors name the node and its op type.
*/
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "graph_internal.h"
#include "status_internal.h"
#include "tensor_internal.h"

/* Work space of one kn_op_create call. */
typedef struct build {
  kiln_op_desc *d;
  const kn_op_def *def;
  kiln_status *s;
  kn_attr_map attrs;      /* the description's, plus inferred and defaults */
  int *in_start;          /* def->ninputs + 1 */
  int *out_start;         /* def->noutputs + 1 */
  kiln_dtype *in_types;   /* d->ninputs, as the schema expects them */
  kiln_dtype *out_types;
  int noutputs;
} build;

static kiln_code fail(build *b, kiln_code code, const char *fmt, ...)
    KN_PRINTF(3, 4);
static kiln_code fail(build *b, kiln_code code, const char *fmt, ...) {
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return kn_errorf(b->s, code, "node '%s' (%s): %s", b->d->name, b->d->type, msg);
}

static bool is_list_arg(const kn_arg_def *a) {
  return a->number_attr || a->type_list_attr;
}

static kiln_dtype base_type(kiln_dtype t) {
  return (int)t > KILN_REF_OFFSET ? (kiln_dtype)((int)t - KILN_REF_OFFSET) : t;
}

static const char *tname(kiln_dtype t) {
  const char *n = kiln_dtype_name(t);
  return n ? n : "invalid";
}

/* The dtype an input actually carries (0 for an unpatched back edge). */
static kiln_dtype given_type(const kiln_output *in) {
  if (in->op == KN_BACK_EDGE_OP) return KILN_INVALID_DTYPE;
  return in->op->output_types[in->index];
}

/* Counts of a flat input list per argument: lengths come from the N and
** type-list attrs; at most one unknown length is solved from the total. */
static kiln_code split_flat(build *b, int *counts) {
  const kn_op_def *def = b->def;
  int known = 0, unknown = -1;
  for (int a = 0; a < def->ninputs; a++) {
    const kn_arg_def *arg = &def->inputs[a];
    const kn_attr_value *v = NULL;
    counts[a] = 1;
    if (arg->number_attr) {
      v = kn_attr_map_get(&b->attrs, arg->number_attr);
      if (v && !v->is_list && v->type == KILN_ATTR_INT) {
        if (v->v.i < 0)
          return fail(b, KILN_INVALID_ARGUMENT, "attr '%s' is negative (%lld)",
                      arg->number_attr, (long long)v->v.i);
        if (v->v.i > b->d->ninputs)
          return fail(b, KILN_INVALID_ARGUMENT,
                      "attr '%s' is %lld but the node has only %d inputs",
                      arg->number_attr, (long long)v->v.i, b->d->ninputs);
        counts[a] = (int)v->v.i;
      } else {
        v = NULL;
      }
    } else if (arg->type_list_attr) {
      v = kn_attr_map_get(&b->attrs, arg->type_list_attr);
      if (v && v->is_list) counts[a] = v->list.n;
      else v = NULL;
    }
    if (is_list_arg(arg) && !v) {
      if (unknown >= 0)
        return fail(b, KILN_INVALID_ARGUMENT,
                    "cannot tell how the %d inputs split between list "
                    "arguments '%s' and '%s': set attr '%s'",
                    b->d->ninputs, def->inputs[unknown].name, arg->name,
                    arg->number_attr ? arg->number_attr : arg->type_list_attr);
      unknown = a;
      continue;
    }
    known += counts[a];
  }
  if (unknown >= 0) counts[unknown] = b->d->ninputs - known;
  if ((unknown >= 0 && counts[unknown] < 0) ||
      (unknown < 0 && known != b->d->ninputs))
    return fail(b, KILN_INVALID_ARGUMENT, "expected %s%d inputs, got %d",
                unknown >= 0 ? "at least " : "", known, b->d->ninputs);
  return KILN_OK;
}

/* Counts from the builder API's groups: one group per argument. */
static kiln_code split_groups(build *b, int *counts) {
  const kn_op_def *def = b->def;
  if (b->d->ngroups != def->ninputs) {
    char names[256] = "";
    size_t pos = 0;
    for (int a = 0; a < def->ninputs && pos < sizeof names; a++)
      pos += (size_t)snprintf(names + pos, sizeof names - pos, "%s%s",
                              a ? ", " : "", def->inputs[a].name);
    return fail(b, KILN_INVALID_ARGUMENT,
                "expected %d input argument%s (%s), got %d", def->ninputs,
                def->ninputs == 1 ? "" : "s", names, b->d->ngroups);
  }
  for (int a = 0; a < def->ninputs; a++) {
    const kn_arg_def *arg = &def->inputs[a];
    if (b->d->groups[a].is_list != is_list_arg(arg))
      return fail(b, KILN_INVALID_ARGUMENT,
                  is_list_arg(arg)
                      ? "input '%s' is a list: add it with kiln_op_desc_add_input_list"
                      : "input '%s' is a single tensor, not a list",
                  arg->name);
    counts[a] = b->d->groups[a].count;
  }
  return KILN_OK;
}

static kiln_code put(build *b, const char *name, kn_attr_value *v, bool ok) {
  if (!ok || !kn_attr_map_put(&b->attrs, name, v)) return KN_OOM(b->s);
  return KILN_OK;
}

/* Checks each input against its argument's type, inferring T, N and type
** lists from the inputs when the description did not set them. */
static kiln_code check_inputs(build *b) {
  const kn_op_def *def = b->def;
  kiln_op_desc *d = b->d;
  for (int a = 0; a < def->ninputs; a++) {
    const kn_arg_def *arg = &def->inputs[a];
    int start = b->in_start[a], count = b->in_start[a + 1] - start;
    kn_attr_value v;
    if (arg->number_attr) {
      const kn_attr_value *n = kn_attr_map_get(&b->attrs, arg->number_attr);
      if (!n) {
        kn_attr_set_int(&v, count);
        if (put(b, arg->number_attr, &v, true) != KILN_OK) return KILN_RESOURCE_EXHAUSTED;
      } else if (!n->is_list && n->type == KILN_ATTR_INT && n->v.i != count) {
        return fail(b, KILN_INVALID_ARGUMENT,
                    "input list '%s' has %d tensors but attr '%s' is %lld",
                    arg->name, count, arg->number_attr, (long long)n->v.i);
      }
    }
    if (arg->type_list_attr) {
      const kn_attr_value *tl = kn_attr_map_get(&b->attrs, arg->type_list_attr);
      if (!tl) {
        kn_attr_set_list(&v, KILN_ATTR_TYPE);
        bool ok = true;
        for (int i = 0; ok && i < count; i++) {
          kn_attr_value e;
          kn_attr_set_type(&e, base_type(given_type(&d->inputs[start + i])));
          ok = kn_attr_list_push(&v, &e);
        }
        if (put(b, arg->type_list_attr, &v, ok) != KILN_OK) return KILN_RESOURCE_EXHAUSTED;
        tl = kn_attr_map_get(&b->attrs, arg->type_list_attr);
      }
      if (!tl->is_list || (tl->list.n > 0 && tl->type != KILN_ATTR_TYPE))
        return fail(b, KILN_INVALID_ARGUMENT, "attr '%s' must be a list(type)",
                    arg->type_list_attr);
      if (tl->list.n != count)
        return fail(b, KILN_INVALID_ARGUMENT,
                    "input list '%s' has %d tensors but attr '%s' lists %d types",
                    arg->name, count, arg->type_list_attr, tl->list.n);
    }
    for (int i = 0; i < count; i++) {
      const kiln_output *in = &d->inputs[start + i];
      kiln_dtype given = given_type(in), want = arg->type;
      if (arg->type_attr) {
        const kn_attr_value *t = kn_attr_map_get(&b->attrs, arg->type_attr);
        if (!t && given != KILN_INVALID_DTYPE) {
          kn_attr_set_type(&v, base_type(given));
          if (put(b, arg->type_attr, &v, true) != KILN_OK) return KILN_RESOURCE_EXHAUSTED;
          t = kn_attr_map_get(&b->attrs, arg->type_attr);
        }
        if (t && (t->is_list || t->type != KILN_ATTR_TYPE))
          return fail(b, KILN_INVALID_ARGUMENT, "attr '%s' must be a type",
                      arg->type_attr);
        want = t ? t->v.t : KILN_INVALID_DTYPE;
      } else if (arg->type_list_attr) {
        want = kn_attr_map_get(&b->attrs, arg->type_list_attr)->list.v.t[i];
      }
      b->in_types[start + i] =
          arg->is_ref && want ? (kiln_dtype)(want + KILN_REF_OFFSET) : want;
      if (given == KILN_INVALID_DTYPE || want == KILN_INVALID_DTYPE) continue;
      bool given_ref = (int)given > KILN_REF_OFFSET;
      if (base_type(given) != want || (arg->is_ref && !given_ref))
        return fail(b, KILN_INVALID_ARGUMENT,
                    "input %d ('%s') was passed %s from '%s:%d' incompatible "
                    "with expected %s", start + i, arg->name, tname(given),
                    in->op->name, in->index, tname(b->in_types[start + i]));
    }
  }
  return KILN_OK;
}

/* True when `v` is among the allowed values of `ad`. */
static bool allowed(const kn_attr_def *ad, kiln_attr_type type, const void *elem) {
  const kn_attr_value *al = &ad->allowed;
  for (int i = 0; i < al->list.n; i++) {
    if (type == KILN_ATTR_TYPE && al->list.v.t[i] == *(const kiln_dtype *)elem)
      return true;
    if (type == KILN_ATTR_STRING) {
      const kn_string *x = &al->list.v.s[i], *y = elem;
      if (x->len == y->len && memcmp(x->data, y->data, x->len) == 0) return true;
    }
  }
  return false;
}

/* Fills defaults and checks every attr against the schema. */
static kiln_code check_attrs(build *b) {
  const kn_op_def *def = b->def;
  char buf[512], buf2[512];
  for (int i = 0; i < def->nattrs; i++) {
    const kn_attr_def *ad = &def->attrs[i];
    kn_attr_value *v = (kn_attr_value *)kn_attr_map_get(&b->attrs, ad->name);
    if (!v) {
      if (!ad->has_default)
        return fail(b, KILN_INVALID_ARGUMENT, "missing attr '%s' (%s)",
                    ad->name, kn_attr_kind_name(ad->type, ad->is_list));
      kn_attr_value dv;
      if (put(b, ad->name, &dv, kn_attr_value_copy(&dv, &ad->default_value)) != KILN_OK)
        return KILN_RESOURCE_EXHAUSTED;
      continue;
    }
    if (v->is_list && v->list.n == 0 && ad->is_list) v->type = ad->type;
    v->list_type_unknown = false;
    if (v->is_list != ad->is_list || v->type != ad->type)
      return fail(b, KILN_INVALID_ARGUMENT,
                  "attr '%s' has kind %s, but the schema wants %s", ad->name,
                  kn_attr_kind_name(v->type, v->is_list),
                  kn_attr_kind_name(ad->type, ad->is_list));
    /* As TensorFlow's AttrValueHasType: a type value must be a real,
    ** non-reference data type. */
    if (ad->type == KILN_ATTR_TYPE) {
      int n = v->is_list ? v->list.n : 1;
      for (int k = 0; k < n; k++) {
        kiln_dtype t = v->is_list ? v->list.v.t[k] : v->v.t;
        if (!kiln_dtype_name(t) || t == KILN_INVALID_DTYPE)
          return fail(b, KILN_INVALID_ARGUMENT,
                      "attr '%s' has an invalid DataType enum: %d", ad->name, (int)t);
        if ((int)t > KILN_REF_OFFSET)
          return fail(b, KILN_INVALID_ARGUMENT,
                      "attr '%s' must not have reference type value of %s",
                      ad->name, kiln_dtype_name(t));
      }
    }
    if (ad->has_allowed) {
      int n = v->is_list ? v->list.n : 1;
      for (int k = 0; k < n; k++) {
        const void *e = v->is_list
            ? (ad->type == KILN_ATTR_TYPE ? (const void *)&v->list.v.t[k]
                                          : (const void *)&v->list.v.s[k])
            : (ad->type == KILN_ATTR_TYPE ? (const void *)&v->v.t
                                          : (const void *)&v->v.s);
        if (!allowed(ad, ad->type, e)) {
          kn_attr_value one;
          memset(&one, 0, sizeof one);
          one.type = ad->type;
          if (ad->type == KILN_ATTR_TYPE) one.v.t = *(const kiln_dtype *)e;
          else one.v.s = *(const kn_string *)e;
          return fail(b, KILN_INVALID_ARGUMENT,
                      "value %s for attr '%s' is not in the list of allowed "
                      "values: %s", kn_attr_value_str(&one, buf, sizeof buf),
                      ad->name, kn_attr_value_str(&ad->allowed, buf2, sizeof buf2));
        }
      }
    }
    if (ad->has_minimum) {
      int64_t got = v->is_list ? v->list.n : v->v.i;
      if (got < ad->minimum)
        return fail(b, KILN_INVALID_ARGUMENT,
                    "attr '%s' %s %lld, less than the minimum %lld", ad->name,
                    v->is_list ? "has length" : "is", (long long)got,
                    (long long)ad->minimum);
    }
  }
  for (int i = 0; i < b->attrs.n; i++) {
    const char *name = b->attrs.items[i].name;
    if (name[0] != '_' && !kn_op_def_attr(def, name))
      return fail(b, KILN_INVALID_ARGUMENT,
                  "attr '%s' is not in the schema of %s", name, def->name);
  }
  return KILN_OK;
}

/* Output dtypes from the schema and the (now complete) attrs. */
static kiln_code resolve_outputs(build *b) {
  const kn_op_def *def = b->def;
  int n = 0;
  for (int pass = 0; pass < 2; pass++) {
    n = 0;
    for (int a = 0; a < def->noutputs; a++) {
      const kn_arg_def *arg = &def->outputs[a];
      const kn_attr_value *tl = arg->type_list_attr
          ? kn_attr_map_get(&b->attrs, arg->type_list_attr) : NULL;
      const kn_attr_value *t = arg->type_attr
          ? kn_attr_map_get(&b->attrs, arg->type_attr) : NULL;
      int64_t count = tl ? tl->list.n : 1;
      if (arg->number_attr)
        count = kn_attr_map_get(&b->attrs, arg->number_attr)->v.i;
      /* The schema's minimum keeps count >= 0; the total must fit an int. */
      if (pass == 0 && count > INT_MAX - n)
        return fail(b, KILN_INVALID_ARGUMENT,
                    "attr '%s' is %lld: output list '%s' would be too long",
                    arg->number_attr ? arg->number_attr : arg->type_list_attr,
                    (long long)count, arg->name);
      if (pass == 0) b->out_start[a] = n;
      for (int i = 0; pass == 1 && i < count; i++) {
        kiln_dtype dt = tl ? tl->list.v.t[i] : t ? t->v.t : arg->type;
        b->out_types[n + i] = arg->is_ref ? (kiln_dtype)(dt + KILN_REF_OFFSET) : dt;
      }
      n += (int)count;
    }
    if (pass == 0) {
      b->out_start[def->noutputs] = n;
      b->noutputs = n;
      if (n > 0 && !(b->out_types = calloc((size_t)n, sizeof *b->out_types)))
        return KN_OOM(b->s);
    }
  }
  return KILN_OK;
}

/* Runs the schema's shape function over the inputs' static shapes,
** writing b->noutputs shapes to out. */
static kiln_code infer_shapes(build *b, kn_shape *out) {
  const kn_op_def *def = b->def;
  kiln_op_desc *d = b->d;
  int n = d->ninputs;
  /* Most ops have a few inputs: their shapes fit on the stack. */
  kn_shape in_small[4];
  const kiln_tensor *vals_small[4] = {0};
  kn_shape *in = n <= 4 ? in_small : malloc((size_t)n * sizeof *in);
  const kiln_tensor **vals = n <= 4 ? vals_small : calloc((size_t)n, sizeof *vals);
  if (!in || !vals) {
    if (in != in_small) free(in);
    if (vals != vals_small) free(vals);
    return KN_OOM(b->s);
  }
  for (int i = 0; i < n; i++) {
    const kiln_output *x = &d->inputs[i];
    if (x->op == KN_BACK_EDGE_OP) {
      in[i] = kn_shape_unknown();
      continue;
    }
    in[i] = kn_op_output_shape(x->op, x->index);
    if (strcmp(x->op->type, "Const") == 0) {
      const kn_attr_value *v = kn_attr_map_get(&x->op->attrs, "value");
      if (v && !v->is_list && v->type == KILN_ATTR_TENSOR) vals[i] = v->v.tensor;
    }
  }
  for (int i = 0; i < b->noutputs; i++) out[i] = kn_shape_unknown();
  kiln_code code = KILN_OK;
  if (def->shape_fn) {
    kn_shape_ctx ctx = {
      .def = def, .node = d->name, .attrs = &b->attrs,
      .ninputs = n, .in = in, .in_types = b->in_types, .in_values = vals,
      .in_arg_start = b->in_start, .noutputs = b->noutputs,
      .out = out, .out_types = b->out_types,
      .out_arg_start = b->out_start, .status = b->s,
    };
    code = def->shape_fn(&ctx);
    if (code != KILN_OK) {
      char shapes[1024] = "", one[KN_SHAPE_STR_MAX];
      size_t pos = 0;
      for (int i = 0; i < n && pos < sizeof shapes; i++)
        pos += (size_t)snprintf(shapes + pos, sizeof shapes - pos, "%s%s",
                                i ? ", " : "", kn_shape_str(&in[i], one, sizeof one));
      char *msg = strdup(kiln_status_message(b->s));
      kn_errorf(b->s, code, "%s for node '%s' (op: '%s') with input shapes: %s",
                msg ? msg : kiln_status_message(b->s), d->name, d->type, shapes);
      free(msg);
    }
    for (int i = 0; code == KILN_OK && i < b->noutputs; i++)
      if (out[i].ndims > KILN_MAX_DIMS)
        code = fail(b, KILN_INTERNAL, "shape function gave output %d rank %d", i,
                    out[i].ndims);
  }
  if (in != in_small) free(in);
  if (vals != vals_small) free(vals);
  return code;
}

/* Reserves n elements of `size` bytes at *off, aligned to `align`. */
static size_t place(size_t *off, size_t n, size_t size, size_t align) {
  size_t at = (*off + align - 1) / align * align;
  *off = at + n * size;
  return at;
}

/* The operation with all its arrays, strings and attr items in one
** allocation (kn_op_free frees it whole), from the description's slab when
** it has one: a graph of a million ops would otherwise make and free ten
** million small blocks. Filled from b and the output shapes; takes b's
** attrs. */
static kiln_op *op_alloc(build *b, const kn_shape *shapes) {
  const kiln_op_desc *d = b->d;
  const kn_op_def *def = b->def;
  size_t nin = (size_t)d->ninputs, nctl = (size_t)d->ncontrol;
  size_t nout = (size_t)b->noutputs;
  size_t nin_args = (size_t)def->ninputs + 1, nout_args = (size_t)def->noutputs + 1;
  size_t lname = strlen(d->name) + 1, ltype = strlen(d->type) + 1;
  size_t ldev = strlen(d->device) + 1;
  size_t off = sizeof(kiln_op);
  size_t o_in = place(&off, nin, sizeof(kiln_output), _Alignof(kiln_output));
  size_t o_ctl = place(&off, nctl, sizeof(kiln_op *), _Alignof(kiln_op *));
  size_t ndims = 0;
  for (size_t i = 0; i < nout; i++) ndims += shapes[i].ndims > 0 ? (size_t)shapes[i].ndims : 0;
  size_t o_dims = place(&off, ndims, sizeof(int64_t), _Alignof(int64_t));
  size_t o_rank = place(&off, nout, sizeof(int32_t), _Alignof(int32_t));
  size_t o_at = place(&off, nout, sizeof(int32_t), _Alignof(int32_t));
  size_t o_it = place(&off, nin, sizeof(kiln_dtype), _Alignof(kiln_dtype));
  size_t o_ot = place(&off, nout, sizeof(kiln_dtype), _Alignof(kiln_dtype));
  size_t o_ia = place(&off, nin_args, sizeof(int), _Alignof(int));
  size_t o_oa = place(&off, nout_args, sizeof(int), _Alignof(int));
  size_t o_name = place(&off, lname, 1, 1);
  size_t o_type = place(&off, ltype, 1, 1);
  size_t o_dev = place(&off, ldev, 1, 1);
  size_t o_attrs = place(&off, 1, kn_attr_map_packed_size(&b->attrs),
                         _Alignof(kn_attr));
  char *mem = d->slab ? kn_op_slab_alloc(d->slab, off, d->slab_hint)
                      : calloc(1, off);
  if (!mem) return NULL;
  kiln_op *op = (kiln_op *)(void *)mem;
  op->in_slab = d->slab != NULL;
  kn_attr_map_pack(&b->attrs, mem + o_attrs);
  op->attrs = b->attrs;
  memset(&b->attrs, 0, sizeof b->attrs);
  op->graph = d->graph;
  op->def = def;
  op->ninputs = d->ninputs;
  op->inputs = (kiln_output *)(void *)(mem + o_in);
  op->ncontrol = d->ncontrol;
  op->control = (kiln_op **)(void *)(mem + o_ctl);
  op->noutputs = b->noutputs;
  op->out_dims = (int64_t *)(void *)(mem + o_dims);
  op->out_rank = (int32_t *)(void *)(mem + o_rank);
  op->out_at = (int32_t *)(void *)(mem + o_at);
  for (size_t i = 0, at = 0; i < nout; i++) {
    op->out_rank[i] = shapes[i].ndims;
    op->out_at[i] = (int32_t)at;
    for (int k = 0; k < shapes[i].ndims; k++) op->out_dims[at++] = shapes[i].dims[k];
  }
  op->input_types = (kiln_dtype *)(void *)(mem + o_it);
  op->output_types = (kiln_dtype *)(void *)(mem + o_ot);
  op->in_arg_start = (int *)(void *)(mem + o_ia);
  op->out_arg_start = (int *)(void *)(mem + o_oa);
  op->name = memcpy(mem + o_name, d->name, lname);
  op->type = memcpy(mem + o_type, d->type, ltype);
  op->device = memcpy(mem + o_dev, d->device, ldev);
  if (nin) {
    memcpy(op->inputs, d->inputs, nin * sizeof *op->inputs);
    memcpy(op->input_types, b->in_types, nin * sizeof *op->input_types);
  }
  if (nctl) memcpy(op->control, d->control, nctl * sizeof *op->control);
  if (nout) memcpy(op->output_types, b->out_types, nout * sizeof *op->output_types);
  memcpy(op->in_arg_start, b->in_start, nin_args * sizeof(int));
  memcpy(op->out_arg_start, b->out_start, nout_args * sizeof(int));
  return op;
}

kiln_op *kn_op_create(kiln_op_desc *d, kiln_status *s) {
  build b = {.d = d, .s = s};
  kiln_op *op = NULL;
  if (d->error != KILN_OK) {
    kn_errorf(s, d->error, "node '%s' (%s): %s", d->name, d->type,
              d->error_msg ? d->error_msg : "out of memory");
    return NULL;
  }
  if (!d->graph) {
    kn_errorf(s, KILN_INVALID_ARGUMENT, "node '%s' (%s): no graph", d->name, d->type);
    return NULL;
  }
  if (!kn_valid_node_name(d->name)) {
    kn_errorf(s, KILN_INVALID_ARGUMENT,
              "node name '%s' (%s) is not valid: names match "
              "[A-Za-z0-9.][A-Za-z0-9_.\\-/>]*", d->name, d->type);
    return NULL;
  }
  if (!(b.def = d->def ? d->def : kn_op_lookup(d->type))) {
    kn_errorf(s, KILN_NOT_FOUND,
              "Op type not registered '%s' (node '%s'): neither the core nor "
              "a loaded plugin defines it", d->type, d->name);
    return NULL;
  }
  const kn_op_def *def = b.def;
  for (int i = 0; i < d->ninputs; i++) {
    const kiln_output *in = &d->inputs[i];
    if (!in->op) {
      fail(&b, KILN_INVALID_ARGUMENT, "input %d is NULL", i);
      return NULL;
    }
    if (in->op == KN_BACK_EDGE_OP) continue;
    if (in->op->graph != d->graph) {
      fail(&b, KILN_INVALID_ARGUMENT, "input %d ('%s') comes from another graph",
           i, in->op->name);
      return NULL;
    }
    if (in->index < 0 || in->index >= in->op->noutputs) {
      fail(&b, KILN_OUT_OF_RANGE, "input %d asks for output %d of '%s', which "
           "has %d outputs", i, in->index, in->op->name, in->op->noutputs);
      return NULL;
    }
  }
  for (int i = 0; i < d->ncontrol; i++)
    if (d->control[i]->graph != d->graph) {
      fail(&b, KILN_INVALID_ARGUMENT,
           "control input '%s' comes from another graph", d->control[i]->name);
      return NULL;
    }

  /* Work space in one block: argument counts and starts, input dtypes. */
  _Static_assert(sizeof(kiln_dtype) == sizeof(int), "dtypes share the int block");
  size_t nin_args = (size_t)def->ninputs + 1, nout_args = (size_t)def->noutputs + 1;
  int *work = calloc(2 * nin_args + nout_args + (size_t)d->ninputs + 1, sizeof *work);
  if (!work) {
    KN_OOM(s);
    return NULL;
  }
  int *counts = work;
  b.in_start = counts + nin_args;
  b.out_start = b.in_start + nin_args;
  b.in_types = (kiln_dtype *)(b.out_start + nout_args);
  /* The attrs move into the op: every caller frees d next, and copying
  ** each attr's name and value cost a dozen small allocations per op. */
  b.attrs = d->attrs;
  memset(&d->attrs, 0, sizeof d->attrs);
  if ((d->ngroups ? split_groups(&b, counts) : split_flat(&b, counts)) != KILN_OK)
    goto done;
  for (int a = 0; a < def->ninputs; a++) b.in_start[a + 1] = b.in_start[a] + counts[a];
  if (check_inputs(&b) != KILN_OK || check_attrs(&b) != KILN_OK ||
      resolve_outputs(&b) != KILN_OK)
    goto done;
  /* Inputs whose type attr was only known from defaults get it now. */
  for (int a = 0; a < def->ninputs; a++) {
    const kn_arg_def *arg = &def->inputs[a];
    if (!arg->type_attr) continue;
    kiln_dtype t = kn_attr_map_get(&b.attrs, arg->type_attr)->v.t;
    for (int i = b.in_start[a]; i < b.in_start[a + 1]; i++)
      b.in_types[i] = arg->is_ref ? (kiln_dtype)(t + KILN_REF_OFFSET) : t;
  }
  /* Most ops have an output or two: their shapes fit on the stack. */
  kn_shape out_small[2];
  kn_shape *out = b.noutputs <= 2 ? out_small : malloc((size_t)b.noutputs * sizeof *out);
  if (!out) {
    KN_OOM(s);
    goto done;
  }
  if (infer_shapes(&b, out) == KILN_OK && !(op = op_alloc(&b, out))) KN_OOM(s);
  if (out != out_small) free(out);
  if (!op) goto done;
  kiln_status_reset(s);
done:
  free(work);
  free(b.out_types);
  kn_attr_map_clear(&b.attrs);
  return op;
}
