/*
** Reading operations. A committed op never changes, so none of these
** lock.
*/
#include <stdlib.h>
#include <string.h>
#include "graph_def.h"
#include "graph_internal.h"
#include "status_internal.h"
#include "tensor_internal.h"

KILN_API const char *kiln_op_name(const kiln_op *op) { return op->name; }
KILN_API const char *kiln_op_type(const kiln_op *op) { return op->type; }
KILN_API const char *kiln_op_device(const kiln_op *op) { return op->device; }
KILN_API kiln_graph *kiln_op_graph(const kiln_op *op) { return op->graph; }
KILN_API int kiln_op_num_inputs(const kiln_op *op) { return op->ninputs; }
KILN_API int kiln_op_num_outputs(const kiln_op *op) { return op->noutputs; }
KILN_API int kiln_op_num_control_inputs(const kiln_op *op) { return op->ncontrol; }

KILN_API kiln_output kiln_op_input(const kiln_op *op, int i) {
  if (i < 0 || i >= op->ninputs) return (kiln_output){NULL, -1};
  return op->inputs[i];
}

KILN_API kiln_dtype kiln_op_input_dtype(const kiln_op *op, int i) {
  return i >= 0 && i < op->ninputs ? op->input_types[i] : KILN_INVALID_DTYPE;
}

KILN_API kiln_op *kiln_op_control_input(const kiln_op *op, int i) {
  return i >= 0 && i < op->ncontrol ? op->control[i] : NULL;
}

KILN_API kiln_dtype kiln_op_output_dtype(kiln_output out) {
  if (!out.op || out.index < 0 || out.index >= out.op->noutputs)
    return KILN_INVALID_DTYPE;
  return out.op->output_types[out.index];
}

KILN_API int kiln_op_output_shape(kiln_output out, int64_t *dims, int max_dims) {
  if (!out.op || out.index < 0 || out.index >= out.op->noutputs) return -1;
  const kiln_op *op = out.op;
  int rank = op->out_rank[out.index];
  for (int i = 0; i < rank && i < max_dims; i++)
    dims[i] = op->out_dims[op->out_at[out.index] + i];
  return rank;
}

static int list_length(const kiln_op *op, const char *arg, bool input,
                       kiln_status *status) {
  int a = input ? kn_op_def_input_index(op->def, arg)
                : kn_op_def_output_index(op->def, arg);
  if (a < 0) {
    kn_errorf(status, KILN_INVALID_ARGUMENT, "op '%s' (%s) has no %s argument '%s'",
              op->name, op->type, input ? "input" : "output", arg ? arg : "");
    return -1;
  }
  const int *start = input ? op->in_arg_start : op->out_arg_start;
  kiln_status_reset(status);
  return start[a + 1] - start[a];
}

KILN_API int kiln_op_input_list_length(const kiln_op *op, const char *arg,
                                       kiln_status *status) {
  return list_length(op, arg, true, status);
}

KILN_API int kiln_op_output_list_length(const kiln_op *op, const char *arg,
                                        kiln_status *status) {
  return list_length(op, arg, false, status);
}

/* The attr, or NULL with NOT_FOUND set when the op has none of that name. */
static const kn_attr_value *lookup(const kiln_op *op, const char *attr,
                                   kiln_status *status) {
  const kn_attr_value *v = attr ? kn_attr_map_get(&op->attrs, attr) : NULL;
  if (!v)
    kn_errorf(status, KILN_NOT_FOUND, "op '%s' (%s) has no attr named '%s'",
              op->name, op->type, attr ? attr : "(null)");
  return v;
}

/* The attr, or NULL with NOT_FOUND / INVALID_ARGUMENT set when it is
** absent or not of `type` (and list-ness). */
static const kn_attr_value *get(const kiln_op *op, const char *attr,
                                kiln_attr_type type, bool is_list,
                                kiln_status *status) {
  const kn_attr_value *v = lookup(op, attr, status);
  if (!v) return NULL;
  if (v->is_list != is_list || (v->type != type && !(is_list && v->list.n == 0))) {
    kn_errorf(status, KILN_INVALID_ARGUMENT,
              "attr '%s' of op '%s' is a %s, not a %s", attr, op->name,
              kn_attr_kind_name(v->type, v->is_list),
              kn_attr_kind_name(type, is_list));
    return NULL;
  }
  kiln_status_reset(status);
  return v;
}

KILN_API kiln_attr_meta kiln_op_attr_meta(const kiln_op *op, const char *attr,
                                          kiln_status *status) {
  kiln_attr_meta m = {false, -1, KILN_ATTR_STRING, -1};
  const kn_attr_value *v = lookup(op, attr, status);
  if (!v) return m;
  m.is_list = v->is_list;
  m.type = v->type;
  if (v->is_list) {
    m.list_size = v->list.n;
    if (v->type == KILN_ATTR_STRING) {
      m.total_size = 0;
      for (int i = 0; i < v->list.n; i++) m.total_size += (int64_t)v->list.v.s[i].len;
    } else if (v->type == KILN_ATTR_SHAPE) {
      m.total_size = 0;
      for (int i = 0; i < v->list.n; i++)
        if (v->list.v.shape[i].ndims > 0) m.total_size += v->list.v.shape[i].ndims;
    }
  } else if (v->type == KILN_ATTR_STRING) {
    m.total_size = (int64_t)v->v.s.len;
  } else if (v->type == KILN_ATTR_SHAPE) {
    m.total_size = v->v.shape->ndims;
  }
  kiln_status_reset(status);
  return m;
}

KILN_API int64_t kiln_op_attr_int(const kiln_op *op, const char *attr,
                                  kiln_status *status) {
  const kn_attr_value *v = get(op, attr, KILN_ATTR_INT, false, status);
  return v ? v->v.i : 0;
}

KILN_API float kiln_op_attr_float(const kiln_op *op, const char *attr,
                                  kiln_status *status) {
  const kn_attr_value *v = get(op, attr, KILN_ATTR_FLOAT, false, status);
  return v ? v->v.f : 0.0f;
}

KILN_API bool kiln_op_attr_bool(const kiln_op *op, const char *attr,
                                kiln_status *status) {
  const kn_attr_value *v = get(op, attr, KILN_ATTR_BOOL, false, status);
  return v ? v->v.b : false;
}

KILN_API kiln_dtype kiln_op_attr_type(const kiln_op *op, const char *attr,
                                      kiln_status *status) {
  const kn_attr_value *v = get(op, attr, KILN_ATTR_TYPE, false, status);
  return v ? v->v.t : KILN_INVALID_DTYPE;
}

KILN_API const char *kiln_op_attr_string(const kiln_op *op, const char *attr,
                                         size_t *len, kiln_status *status) {
  const kn_attr_value *v = get(op, attr, KILN_ATTR_STRING, false, status);
  if (len) *len = v ? v->v.s.len : 0;
  return v ? v->v.s.data : NULL;
}

KILN_API int kiln_op_attr_shape(const kiln_op *op, const char *attr,
                                int64_t *dims, int max_dims,
                                kiln_status *status) {
  const kn_attr_value *v = get(op, attr, KILN_ATTR_SHAPE, false, status);
  if (!v) return -1;
  for (int i = 0; i < v->v.shape->ndims && i < max_dims; i++)
    dims[i] = v->v.shape->dims[i];
  return v->v.shape->ndims;
}

KILN_API kiln_tensor *kiln_op_attr_tensor(const kiln_op *op, const char *attr,
                                          kiln_status *status) {
  const kn_attr_value *v = get(op, attr, KILN_ATTR_TENSOR, false, status);
  return v ? kiln_tensor_ref(v->v.tensor) : NULL;
}

KILN_API int kiln_op_attr_int_list(const kiln_op *op, const char *attr,
                                   int64_t *values, int max,
                                   kiln_status *status) {
  const kn_attr_value *v = get(op, attr, KILN_ATTR_INT, true, status);
  if (!v) return -1;
  for (int i = 0; i < v->list.n && i < max; i++) values[i] = v->list.v.i[i];
  return v->list.n;
}

KILN_API int kiln_op_attr_float_list(const kiln_op *op, const char *attr,
                                     float *values, int max,
                                     kiln_status *status) {
  const kn_attr_value *v = get(op, attr, KILN_ATTR_FLOAT, true, status);
  if (!v) return -1;
  for (int i = 0; i < v->list.n && i < max; i++) values[i] = v->list.v.f[i];
  return v->list.n;
}

KILN_API int kiln_op_attr_type_list(const kiln_op *op, const char *attr,
                                    kiln_dtype *values, int max,
                                    kiln_status *status) {
  const kn_attr_value *v = get(op, attr, KILN_ATTR_TYPE, true, status);
  if (!v) return -1;
  for (int i = 0; i < v->list.n && i < max; i++) values[i] = v->list.v.t[i];
  return v->list.n;
}

KILN_API kiln_buffer *kiln_op_attr_value_proto(const kiln_op *op,
                                               const char *attr,
                                               kiln_status *status) {
  const kn_attr_value *v = lookup(op, attr, status);
  return v ? kn_attr_value_serialize(v, status) : NULL;
}

KILN_API kiln_buffer *kiln_op_node_def(const kiln_op *op, kiln_status *status) {
  return kn_node_def_serialize(op, status);
}
