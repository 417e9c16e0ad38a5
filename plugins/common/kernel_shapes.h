/*
** kernel_shapes: the device-independent shape and attribute logic that
** every backend plugin needs in the same form (conv/pool geometry, reshape,
** reduction axes, batch-matmul checks), with TensorFlow's messages.
**
** Plugins never link libkiln, so this file is compiled into each plugin
** module that uses it. It sees only <kiln/plugin.h> and libc; each call
** takes the plugin's api table, through which it reads attrs and fails the
** kernel or the step.
*/
#ifndef KILN_PLUGINS_KERNEL_SHAPES_H
#define KILN_PLUGINS_KERNEL_SHAPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <kiln/plugin.h>

/* Fails the step with a printf-style message. */
void ks_fail(const kiln_plugin_api *api, kiln_kernel_context *ctx,
             kiln_code code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* "[d0,d1,...]" into buf (truncated to cap); returns buf. */
const char *ks_dims_str(const int64_t *dims, int ndims, char *buf, size_t cap);
#define KS_DIMS_CAP (KILN_MAX_DIMS * 21 + 3)

/* Element i of an int32/int64 host tensor. */
static inline int64_t ks_int_at(const kiln_tensor_view *t, int64_t i) {
  return t->dtype == KILN_INT64 ? ((const int64_t *)t->data)[i]
                                : ((const int32_t *)t->data)[i];
}

/* ------------------------------------------------------ windowed kernels */

enum { KS_PAD_SAME, KS_PAD_VALID, KS_PAD_EXPLICIT };

/* What every windowed kernel (convolutions, pools) reads from its attrs.
** Sizes are in NHWC order whatever the data_format: [N, H, W, C]. */
typedef struct ks_window {
  bool nchw;
  int pad;
  int64_t ksize[4];     /* pools */
  int64_t strides[4];
  int64_t dilations[4];
  int64_t pads[4];      /* EXPLICIT: top, bottom, left, right */
} ks_window;

/* Index in the data_format's order of NHWC dimension i. */
static inline int ks_fmt_index(bool nchw, int i) {
  static const int from_nhwc[4] = {0, 2, 3, 1};
  return nchw ? from_nhwc[i] : i;
}

/* data_format: NHWC (also when absent) or NCHW; `device` names the
** plugin's kernels ("CPU", "Vulkan") in the NCHW_VECT_C refusal. */
bool ks_read_format(const kiln_plugin_api *api, kiln_kernel_construct *kc,
                    ks_window *s, const char *device);

/* A list(int) attr of four values in data_format order, stored in NHWC
** order; `dflt` when the attr is absent (NULL: required). `what` names it
** in the message. */
bool ks_read_four(const kiln_plugin_api *api, kiln_kernel_construct *kc,
                  const ks_window *s, const char *attr, const int64_t *dflt,
                  const char *what, int64_t out[4]);

/* padding, and explicit_paddings checked as TensorFlow's
** CheckValidPadding does. */
bool ks_read_padding(const kiln_plugin_api *api, kiln_kernel_construct *kc,
                     ks_window *s);

/* Conv2D's attrs read and checked as TensorFlow's Conv2DOp does: the
** data format (`backend` names the plugin in its message), strides and
** dilations (only in H and W, positive), the padding. A new state (freed
** with free()), or NULL with creation failed. */
ks_window *ks_conv2d_attrs_new(const kiln_plugin_api *api,
                               kiln_kernel_construct *kc, const char *backend);

/* Output size and leading padding of one windowed dimension (side 0: H,
** 1: W), as TensorFlow's GetWindowedOutputSizeVerbose. */
bool ks_window_size(const kiln_plugin_api *api, kiln_kernel_context *ctx,
                    const ks_window *s, int64_t in, int64_t k, int64_t dil,
                    int64_t stride, int side, int64_t *out, int64_t *before);

/* ---------------------------------------------------------------- shapes */

/* Reshape's output dims (at most KILN_MAX_DIMS) from input `in` and the
** 1-D `shape` tensor, resolving one -1. */
bool ks_reshape_dims(const kiln_plugin_api *api, kiln_kernel_context *ctx,
                     const kiln_tensor_view *in, const kiln_tensor_view *shape,
                     int64_t dims[KILN_MAX_DIMS], int *ndims);

/* Squeeze's output dims: `axes` (n of them, negative from the end) must
** name dims of 1; with none, every dim of 1 goes. */
bool ks_squeeze_dims(const kiln_plugin_api *api, kiln_kernel_context *ctx,
                     const kiln_tensor_view *in, const int64_t *axes, int n,
                     int64_t dims[KILN_MAX_DIMS], int *ndims);

/* ExpandDims's output dims (in's rank + 1) for the scalar `dim_t`. */
bool ks_expand_dims(const kiln_plugin_api *api, kiln_kernel_context *ctx,
                    const kiln_tensor_view *in, const kiln_tensor_view *dim_t,
                    int64_t dims[KILN_MAX_DIMS]);

/* A reduction of x over the axes in the int tensor ax: mask[d] is set for
** each reduced dim, od/ond the output dims (reduced dims kept as 1 when
** keep), count the elements combined into each output and out_n the
** output's elements. */
bool ks_reduce_axes(const kiln_plugin_api *api, kiln_kernel_context *ctx,
                    const kiln_tensor_view *x, const kiln_tensor_view *ax,
                    bool keep, bool mask[KILN_MAX_DIMS],
                    int64_t od[KILN_MAX_DIMS], int *ond, int64_t *count,
                    int64_t *out_n);

/* A matrix product's transposition attrs (MatMul's transpose_a and
** transpose_b, BatchMatMul's adj_x and adj_y), read once at creation. */
typedef struct ks_mm_attrs {
  bool ta, tb;
} ks_mm_attrs;

/* A kernel state with attrs xa and ya read (false when absent); NULL,
** with creation failed RESOURCE_EXHAUSTED, when out of memory. Freed
** with free(). */
ks_mm_attrs *ks_mm_attrs_new(const kiln_plugin_api *api,
                             kiln_kernel_construct *kc, const char *xa,
                             const char *ya);

/* BatchMatMul's rank checks (equal ranks and batch dims unless
** `broadcast`, as BatchMatMulV2). */
bool ks_batch_matmul_check(const kiln_plugin_api *api,
                           kiln_kernel_context *ctx, const kiln_tensor_view *x,
                           const kiln_tensor_view *y, bool broadcast);

/* Transpose's perm input checked against an input of `rank` (TF's
** messages), filling perm[] and the output dims; *moves is false when only
** dimensions of size 1 change place (the bytes stay where they are, so the
** output may alias the input). False, with the step failed, otherwise. */
bool ks_transpose_perm(const kiln_plugin_api *api, kiln_kernel_context *ctx,
                       const kiln_tensor_view *in,
                       const kiln_tensor_view *perm_t, int64_t *perm,
                       int64_t *dims, bool *moves);

#endif
