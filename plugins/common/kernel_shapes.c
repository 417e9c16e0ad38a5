/*
** kernel_shapes: shape and attribute logic shared by the backend plugins.
** See kernel_shapes.h. Messages are TensorFlow's, byte for byte: the tests
** compare them and the backends must agree with one another.
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kernel_shapes.h"

void ks_fail(const kiln_plugin_api *api, kiln_kernel_context *ctx,
             kiln_code code, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  api->fail(ctx, code, msg);
}

const char *ks_dims_str(const int64_t *dims, int ndims, char *buf,
                        size_t cap) {
  size_t at = 0;
  if (cap == 0) return buf;
  buf[0] = '\0';
  if (at + 1 < cap) buf[at++] = '[';
  for (int i = 0; i < ndims && at + 1 < cap; i++) {
    int w = snprintf(buf + at, cap - at, i ? ",%lld" : "%lld",
                     (long long)dims[i]);
    if (w < 0 || (size_t)w >= cap - at) {
      at = cap - 1;
      break;
    }
    at += (size_t)w;
  }
  if (at + 1 < cap) buf[at++] = ']';
  buf[at < cap ? at : cap - 1] = '\0';
  return buf;
}

/* ------------------------------------------------------ windowed kernels */

static bool str_is(const char *s, size_t len, const char *lit) {
  return s && strlen(lit) == len && memcmp(s, lit, len) == 0;
}

bool ks_read_format(const kiln_plugin_api *api, kiln_kernel_construct *kc,
                    ks_window *s, const char *device) {
  const char *f = NULL;
  size_t len = 0;
  char msg[128];
  if (!api->attr_string(api->construct_attrs(kc), "data_format", &f, &len) ||
      str_is(f, len, "NHWC"))
    return true;
  if (str_is(f, len, "NCHW")) {
    s->nchw = true;
    return true;
  }
  if (str_is(f, len, "NCHW_VECT_C")) {
    snprintf(msg, sizeof msg, "The %s kernels support the NHWC and NCHW "
             "data formats, not NCHW_VECT_C", device);
    api->construct_fail(kc, KILN_UNIMPLEMENTED, msg);
    return false;
  }
  api->construct_fail(kc, KILN_INVALID_ARGUMENT, "Invalid data format");
  return false;
}

bool ks_read_four(const kiln_plugin_api *api, kiln_kernel_construct *kc,
                  const ks_window *s, const char *attr, const int64_t *dflt,
                  const char *what, int64_t out[4]) {
  const int64_t *v = NULL;
  int n = 0;
  if (!api->attr_int_list(api->construct_attrs(kc), attr, &v, &n)) {
    if (dflt) {
      memcpy(out, dflt, 4 * sizeof *out);
      return true;
    }
    n = 0;
  }
  if (n != 4) {
    char msg[128];
    snprintf(msg, sizeof msg, "Sliding window %s field must specify 4 "
             "dimensions", what);
    api->construct_fail(kc, KILN_INVALID_ARGUMENT, msg);
    return false;
  }
  for (int i = 0; i < 4; i++) out[i] = v[ks_fmt_index(s->nchw, i)];
  return true;
}

bool ks_read_padding(const kiln_plugin_api *api, kiln_kernel_construct *kc,
                     ks_window *s) {
  const kiln_attrs *a = api->construct_attrs(kc);
  const char *p = NULL;
  size_t len = 0;
  const int64_t *ep = NULL;
  int n = 0;
  char msg[160];
  api->attr_string(a, "padding", &p, &len);
  if (str_is(p, len, "SAME"))
    s->pad = KS_PAD_SAME;
  else if (str_is(p, len, "VALID"))
    s->pad = KS_PAD_VALID;
  else if (str_is(p, len, "EXPLICIT"))
    s->pad = KS_PAD_EXPLICIT;
  else {
    snprintf(msg, sizeof msg, "Invalid padding: '%.*s'; expected SAME, "
             "VALID or EXPLICIT", (int)(p ? len : 0), p ? p : "");
    api->construct_fail(kc, KILN_INVALID_ARGUMENT, msg);
    return false;
  }
  if (!api->attr_int_list(a, "explicit_paddings", &ep, &n)) n = 0;
  if (s->pad != KS_PAD_EXPLICIT) {
    if (n > 0) {
      api->construct_fail(kc, KILN_INVALID_ARGUMENT,
                          "explicit_paddings attribute must be empty if "
                          "the padding attribute is not EXPLICIT");
      return false;
    }
    return true;
  }
  if (n != 8) {
    snprintf(msg, sizeof msg, "explicit_paddings attribute must contain 8 "
             "values, but got: %d", n);
    api->construct_fail(kc, KILN_INVALID_ARGUMENT, msg);
    return false;
  }
  for (int i = 0; i < 8; i++)
    if (ep[i] < 0) {
      snprintf(msg, sizeof msg, "All elements of explicit_paddings must be "
               "nonnegative, but got %lld", (long long)ep[i]);
      api->construct_fail(kc, KILN_INVALID_ARGUMENT, msg);
      return false;
    }
  int bn = ks_fmt_index(s->nchw, 0), bc = ks_fmt_index(s->nchw, 3);
  if (ep[2 * bn] || ep[2 * bn + 1] || ep[2 * bc] || ep[2 * bc + 1]) {
    api->construct_fail(kc, KILN_INVALID_ARGUMENT,
                        "Nonzero explicit padding in the batch or depth "
                        "dimensions is not supported");
    return false;
  }
  int h = ks_fmt_index(s->nchw, 1), w = ks_fmt_index(s->nchw, 2);
  s->pads[0] = ep[2 * h];
  s->pads[1] = ep[2 * h + 1];
  s->pads[2] = ep[2 * w];
  s->pads[3] = ep[2 * w + 1];
  return true;
}

bool ks_window_size(const kiln_plugin_api *api, kiln_kernel_context *ctx,
                    const ks_window *s, int64_t in, int64_t k, int64_t dil,
                    int64_t stride, int side, int64_t *out, int64_t *before) {
  if (stride <= 0) {
    ks_fail(api, ctx, KILN_INVALID_ARGUMENT,
            "Stride must be > 0, but got %lld", (long long)stride);
    return false;
  }
  if (dil < 1) {
    ks_fail(api, ctx, KILN_INVALID_ARGUMENT,
            "Dilation rate must be >= 1, but got %lld", (long long)dil);
    return false;
  }
  int64_t eff = (k - 1) * dil + 1;
  switch (s->pad) {
    case KS_PAD_VALID:
      *out = (in - eff + stride) / stride;
      *before = 0;
      break;
    case KS_PAD_EXPLICIT:
      *before = s->pads[2 * side];
      *out = (in + s->pads[2 * side] + s->pads[2 * side + 1] - eff + stride) /
             stride;
      break;
    default: {
      *out = (in + stride - 1) / stride;
      int64_t need = (*out - 1) * stride + eff - in;
      *before = need > 0 ? need / 2 : 0;
      break;
    }
  }
  if (*out < 0) {
    ks_fail(api, ctx, KILN_INVALID_ARGUMENT,
            "Computed output size would be negative: %lld [input_size: %lld, "
            "effective_filter_size: %lld, stride: %lld]",
            (long long)*out, (long long)in, (long long)eff, (long long)stride);
    return false;
  }
  return true;
}

/* ---------------------------------------------------------------- shapes */

bool ks_reshape_dims(const kiln_plugin_api *api, kiln_kernel_context *ctx,
                     const kiln_tensor_view *in, const kiln_tensor_view *shape,
                     int64_t dims[KILN_MAX_DIMS], int *ndims) {
  int64_t product = 1;
  int unknown = -1;
  char b[KS_DIMS_CAP];
  if (shape->ndims != 1) {
    ks_fail(api, ctx, KILN_INVALID_ARGUMENT, "sizes input must be 1-D, not %s",
            ks_dims_str(shape->dims, shape->ndims, b, sizeof b));
    return false;
  }
  if (shape->num_elements > KILN_MAX_DIMS) {
    ks_fail(api, ctx, KILN_INVALID_ARGUMENT,
            "Reshape to %lld dimensions exceeds the maximum of %d",
            (long long)shape->num_elements, KILN_MAX_DIMS);
    return false;
  }
  int n = (int)shape->num_elements;
  for (int d = 0; d < n; d++) {
    int64_t size = ks_int_at(shape, d);
    if (size == -1) {
      if (unknown != -1) {
        ks_fail(api, ctx, KILN_INVALID_ARGUMENT,
                "Only one input size may be -1, not both %d and %d", unknown,
                d);
        return false;
      }
      unknown = d;
      dims[d] = 1;
    } else if (size < 0) {
      ks_fail(api, ctx, KILN_INVALID_ARGUMENT,
              "Size %d must be non-negative, not %lld", d, (long long)size);
      return false;
    } else {
      if (size != 0 && product > INT64_MAX / size) {
        ks_fail(api, ctx, KILN_INVALID_ARGUMENT,
                "Requested shape %s has too many elements",
                ks_dims_str(shape->dims, shape->ndims, b, sizeof b));
        return false;
      }
      dims[d] = size;
      product *= size;
    }
  }
  if (unknown != -1) {
    if (product == 0) {
      ks_fail(api, ctx, KILN_INVALID_ARGUMENT,
              "Reshape cannot infer the missing input size for an empty "
              "tensor unless all specified input sizes are non-zero");
      return false;
    }
    int64_t missing = in->num_elements / product;
    if (missing * product != in->num_elements) {
      ks_fail(api, ctx, KILN_INVALID_ARGUMENT,
              "Input to reshape is a tensor with %lld values, but the "
              "requested shape requires a multiple of %lld",
              (long long)in->num_elements, (long long)product);
      return false;
    }
    dims[unknown] = missing;
    product *= missing;
  }
  if (product != in->num_elements) {
    ks_fail(api, ctx, KILN_INVALID_ARGUMENT,
            "Input to reshape is a tensor with %lld values, but the "
            "requested shape has %lld",
            (long long)in->num_elements, (long long)product);
    return false;
  }
  *ndims = n;
  return true;
}

bool ks_squeeze_dims(const kiln_plugin_api *api, kiln_kernel_context *ctx,
                     const kiln_tensor_view *in, const int64_t *axes, int n,
                     int64_t dims[KILN_MAX_DIMS], int *ndims) {
  bool drop[KILN_MAX_DIMS] = {false};
  int rank = in->ndims, out = 0;
  for (int i = 0; i < n; i++) {
    int64_t a = axes[i] < 0 ? axes[i] + rank : axes[i];
    if (a < 0 || a >= rank) {
      ks_fail(api, ctx, KILN_INVALID_ARGUMENT,
              "Tried to squeeze dim index %lld for tensor with %d dimensions.",
              (long long)axes[i], rank);
      return false;
    }
    if (in->dims[a] != 1) {
      ks_fail(api, ctx, KILN_INVALID_ARGUMENT,
              "Can not squeeze dim[%lld], expected a dimension of 1, got %lld",
              (long long)a, (long long)in->dims[a]);
      return false;
    }
    drop[a] = true;
  }
  for (int d = 0; d < rank; d++)
    if (!(n == 0 ? in->dims[d] == 1 : drop[d])) dims[out++] = in->dims[d];
  *ndims = out;
  return true;
}

bool ks_expand_dims(const kiln_plugin_api *api, kiln_kernel_context *ctx,
                    const kiln_tensor_view *in, const kiln_tensor_view *dim_t,
                    int64_t dims[KILN_MAX_DIMS]) {
  int rank = in->ndims;
  if (dim_t->num_elements != 1) {
    ks_fail(api, ctx, KILN_INVALID_ARGUMENT,
            "'dim' must be a tensor with a single value");
    return false;
  }
  int64_t dim = ks_int_at(dim_t, 0);
  if (dim < -1 - rank || dim > rank) {
    ks_fail(api, ctx, KILN_INVALID_ARGUMENT,
            "Tried to expand dim index %lld for tensor with %d dimensions.",
            (long long)dim, rank);
    return false;
  }
  if (rank + 1 > KILN_MAX_DIMS) {
    ks_fail(api, ctx, KILN_INVALID_ARGUMENT,
            "ExpandDims of a tensor of rank %d exceeds the maximum rank %d",
            rank, KILN_MAX_DIMS);
    return false;
  }
  if (dim < 0) dim += rank + 1;
  for (int d = 0, o = 0; d <= rank; d++)
    dims[d] = d == dim ? 1 : in->dims[o++];
  return true;
}

bool ks_reduce_axes(const kiln_plugin_api *api, kiln_kernel_context *ctx,
                    const kiln_tensor_view *x, const kiln_tensor_view *ax,
                    bool keep, bool mask[KILN_MAX_DIMS],
                    int64_t od[KILN_MAX_DIMS], int *ond, int64_t *count,
                    int64_t *out_n) {
  int r = x->ndims, n = 0;
  int64_t c = 1, o = 1;
  for (int d = 0; d < KILN_MAX_DIMS; d++) mask[d] = false;
  for (int64_t i = 0; i < ax->num_elements; i++) {
    int64_t a = ks_int_at(ax, i);
    if (a < -r || a >= r) {
      ks_fail(api, ctx, KILN_INVALID_ARGUMENT,
              "Invalid reduction dimension (%lld for input with %d "
              "dimension(s)",
              (long long)a, r);
      return false;
    }
    if (a < 0) a += r;
    if (mask[a]) {
      ks_fail(api, ctx, KILN_INVALID_ARGUMENT,
              "Invalid reduction arguments: Axes contains duplicate "
              "dimension: %lld",
              (long long)a);
      return false;
    }
    mask[a] = true;
  }
  for (int d = 0; d < r; d++) {
    if (mask[d]) {
      c *= x->dims[d];
      if (keep) od[n++] = 1;
    } else {
      od[n++] = x->dims[d];
      o *= x->dims[d];
    }
  }
  *ond = n;
  *count = c;
  *out_n = o;
  return true;
}

bool ks_batch_matmul_check(const kiln_plugin_api *api,
                           kiln_kernel_context *ctx, const kiln_tensor_view *x,
                           const kiln_tensor_view *y, bool broadcast) {
  char s0[KS_DIMS_CAP], s1[KS_DIMS_CAP];
  if (broadcast) {
    if (x->ndims < 2) {
      ks_fail(api, ctx, KILN_INVALID_ARGUMENT, "In[0] ndims must be >= 2: %d",
              x->ndims);
      return false;
    }
    if (y->ndims < 2) {
      ks_fail(api, ctx, KILN_INVALID_ARGUMENT, "In[1] ndims must be >= 2: %d",
              y->ndims);
      return false;
    }
    return true;
  }
  ks_dims_str(x->dims, x->ndims, s0, sizeof s0);
  ks_dims_str(y->dims, y->ndims, s1, sizeof s1);
  if (x->ndims != y->ndims) {
    ks_fail(api, ctx, KILN_INVALID_ARGUMENT,
            "In[0] and In[1] has different ndims: %s vs. %s", s0, s1);
    return false;
  }
  if (x->ndims < 2) {
    ks_fail(api, ctx, KILN_INVALID_ARGUMENT,
            "In[0] and In[1] ndims must be >= 2: %d", x->ndims);
    return false;
  }
  for (int i = 0; i < x->ndims - 2; i++)
    if (x->dims[i] != y->dims[i]) {
      ks_fail(api, ctx, KILN_INVALID_ARGUMENT,
              "In[0].dim(%d) and In[1].dim(%d) must be the same: %s vs %s", i,
              i, s0, s1);
      return false;
    }
  return true;
}

bool ks_transpose_perm(const kiln_plugin_api *api, kiln_kernel_context *ctx,
                       const kiln_tensor_view *in,
                       const kiln_tensor_view *perm_t, int64_t *perm,
                       int64_t *dims, bool *moves) {
  int rank = in->ndims;
  bool seen[KILN_MAX_DIMS] = {false};
  char b[KS_DIMS_CAP];
  if (perm_t->ndims != 1) {
    ks_fail(api, ctx, KILN_INVALID_ARGUMENT, "perm must be a vector, not %s",
            ks_dims_str(perm_t->dims, perm_t->ndims, b, sizeof b));
    return false;
  }
  if (perm_t->num_elements != rank) {
    ks_fail(api, ctx, KILN_INVALID_ARGUMENT,
            "transpose expects a vector of size %d. But input(1) is a vector "
            "of size %lld",
            rank, (long long)perm_t->num_elements);
    return false;
  }
  for (int i = 0; i < rank; i++) {
    perm[i] = ks_int_at(perm_t, i);
    if (perm[i] < 0 || perm[i] >= rank) {
      ks_fail(api, ctx, KILN_INVALID_ARGUMENT, "%lld is out of range [0 .. %d)",
              (long long)perm[i], rank);
      return false;
    }
    seen[perm[i]] = true;
    dims[i] = in->dims[perm[i]];
  }
  for (int i = 0; i < rank; i++)
    if (!seen[i]) {
      /* "[1,1]" without its brackets */
      size_t len = strlen(ks_dims_str(perm, rank, b, sizeof b));
      b[len - 1] = '\0';
      ks_fail(api, ctx, KILN_INVALID_ARGUMENT, "%d is missing from {%s}.", i,
              b + 1);
      return false;
    }
  int64_t last = -1;
  *moves = false;
  for (int i = 0; i < rank && !*moves; i++) {
    if (dims[i] == 1) continue;
    *moves = perm[i] < last;
    last = perm[i];
  }
  return true;
}

ks_mm_attrs *ks_mm_attrs_new(const kiln_plugin_api *api,
                             kiln_kernel_construct *kc, const char *xa,
                             const char *ya) {
  ks_mm_attrs *s = calloc(1, sizeof *s);
  if (!s) {
    api->construct_fail(kc, KILN_RESOURCE_EXHAUSTED,
                        "out of memory creating a matrix product kernel");
    return NULL;
  }
  const kiln_attrs *attrs = api->construct_attrs(kc);
  api->attr_bool(attrs, xa, &s->ta);
  api->attr_bool(attrs, ya, &s->tb);
  return s;
}

ks_window *ks_conv2d_attrs_new(const kiln_plugin_api *api,
                               kiln_kernel_construct *kc, const char *backend) {
  static const int64_t ones[4] = {1, 1, 1, 1};
  ks_window *s = calloc(1, sizeof *s);
  const char *msg = NULL;
  kiln_code code = KILN_INVALID_ARGUMENT;
  if (!s) {
    api->construct_fail(kc, KILN_RESOURCE_EXHAUSTED,
                        "out of memory creating a Conv2D kernel");
    return NULL;
  }
  if (!ks_read_format(api, kc, s, backend) ||
      !ks_read_four(api, kc, s, "dilations", ones, "dilations", s->dilations) ||
      !ks_read_four(api, kc, s, "strides", NULL, "strides", s->strides))
    goto fail;
  if (s->strides[0] != 1 || s->strides[3] != 1) {
    code = KILN_UNIMPLEMENTED;
    msg = "Current implementation does not yet support strides in the batch "
          "and depth dimensions.";
  } else if (s->strides[1] <= 0 || s->strides[2] <= 0) {
    msg = "Row and column strides should be larger than 0.";
  } else if (s->dilations[0] != 1 || s->dilations[3] != 1) {
    code = KILN_UNIMPLEMENTED;
    msg = "Current implementation does not yet support dilations in the "
          "batch and depth dimensions.";
  } else if (s->dilations[1] <= 0 || s->dilations[2] <= 0) {
    msg = "Dilated rates should be larger than 0.";
  }
  if (msg) {
    api->construct_fail(kc, code, msg);
    goto fail;
  }
  if (ks_read_padding(api, kc, s)) return s;
fail:
  free(s);
  return NULL;
}
