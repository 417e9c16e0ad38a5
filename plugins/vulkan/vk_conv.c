/*
** vk_conv: Conv2D (grouped too), MaxPool and AvgPool for float.
**
** Conv2D is an implicit GEMM (conv2d.comp): output pixels times output
** channels, the window gathered from the input as the tiles load, one
** group per workgroup layer. Pooling is an invocation per output. Both
** address input and output by per-dim strides, so NHWC and NCHW need no
** transposition. Attrs are checked when the kernel is made and shapes
** when it runs, with TensorFlow's messages (those of the CPU plugin).
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vk.h"

#define WPT 2

/* Strides, in NHWC dim order, of a tensor [n, h, w, c] stored in the
** data format. */
static void nhwc_strides(bool nchw, int64_t h, int64_t w, int64_t c,
                         uint32_t s[4]) {
  if (nchw) {
    s[0] = (uint32_t)(c * h * w), s[1] = (uint32_t)w, s[2] = 1;
    s[3] = (uint32_t)(h * w);
  } else {
    s[0] = (uint32_t)(h * w * c), s[1] = (uint32_t)(w * c);
    s[2] = (uint32_t)c, s[3] = 1;
  }
}

static const kiln_tensor_view *alloc_4d(kiln_kernel_context *ctx, bool nchw,
                                        int64_t n, int64_t h, int64_t w,
                                        int64_t c) {
  int64_t dims[4] = {n, h, w, c};
  if (nchw) dims[1] = c, dims[2] = h, dims[3] = w;
  return vk_api->allocate_output(ctx, 0, dims, 4);
}

static bool check_4d(kiln_kernel_context *ctx, const kiln_tensor_view *t,
                     const char *what, const char *sep) {
  char sh[VK_DIMS_CAP];
  if (t->ndims == 4) return true;
  vk_fail(ctx, KILN_INVALID_ARGUMENT, "%s must be 4-dimensional%s%s", what,
          sep, VK_DIMS(t, sh));
  return false;
}

/* ------------------------------------------------------------- Conv2D */

typedef struct conv_push {
  uint32_t N, H, W, OH, OW, KH, KW, CG, OC, OCG, G;
  uint32_t SH, SW, DH, DW;
  int32_t PT, PL;
  uint32_t is[4];
  uint32_t os[4];
} conv_push;

static void *conv_create(kiln_kernel_construct *kc) {
  return ks_conv2d_attrs_new(vk_api, kc, "Vulkan");
}

static void conv_compute(void *state, kiln_kernel_context *ctx) {
  vk_device *d = vk_dev(ctx);
  const ks_window *s = state;
  const kiln_tensor_view *in = vk_api->input(ctx, 0);
  const kiln_tensor_view *f = vk_api->input(ctx, 1);
  if (!check_4d(ctx, in, "input", "") || !check_4d(ctx, f, "filter", ": "))
    return;
  int64_t n = in->dims[0], h = in->dims[s->nchw ? 2 : 1];
  int64_t w = in->dims[s->nchw ? 3 : 2], c = in->dims[s->nchw ? 1 : 3];
  int64_t kh = f->dims[0], kw = f->dims[1], cg = f->dims[2], oc = f->dims[3];
  if (cg <= 0) {
    vk_fail(ctx, KILN_INVALID_ARGUMENT,
            "filter depth must be stricly positive, got %lld", (long long)cg);
    return;
  }
  if (c % cg != 0) {
    vk_fail(ctx, KILN_INVALID_ARGUMENT,
            "input depth must be evenly divisible by filter depth: %lld vs "
            "%lld",
            (long long)c, (long long)cg);
    return;
  }
  int64_t groups = c / cg;
  if (groups > 1 && (oc % groups != 0 || oc < groups)) {
    vk_fail(ctx, KILN_INVALID_ARGUMENT,
            "output depth must be evenly divisible by number of groups: "
            "%lld vs %lld",
            (long long)oc, (long long)groups);
    return;
  }
  int64_t oh, ow, pt, pl;
  if (!ks_window_size(vk_api, ctx, s, h, kh, s->dilations[1], s->strides[1],
                      0, &oh, &pt) ||
      !ks_window_size(vk_api, ctx, s, w, kw, s->dilations[2], s->strides[2],
                      1, &ow, &pl))
    return;
  const kiln_tensor_view *out = alloc_4d(ctx, s->nchw, n, oh, ow, oc);
  if (!out || out->num_elements == 0) return;
  if (in->num_elements == 0 || kh * kw == 0) {
    /* No input channels or an empty window: every output is an empty sum. */
    vk_fill(ctx, vk_buf_of(out), out->nbytes, 0);
    return;
  }
  conv_push push = {
      .N = (uint32_t)n, .H = (uint32_t)h, .W = (uint32_t)w,
      .OH = (uint32_t)oh, .OW = (uint32_t)ow, .KH = (uint32_t)kh,
      .KW = (uint32_t)kw, .CG = (uint32_t)cg, .OC = (uint32_t)oc,
      .OCG = (uint32_t)(oc / groups), .G = (uint32_t)groups,
      .SH = (uint32_t)s->strides[1], .SW = (uint32_t)s->strides[2],
      .DH = (uint32_t)s->dilations[1], .DW = (uint32_t)s->dilations[2],
      .PT = (int32_t)pt, .PL = (int32_t)pl,
  };
  nhwc_strides(s->nchw, h, w, c, push.is);
  nhwc_strides(s->nchw, oh, ow, oc, push.os);
  uint64_t bm = (uint64_t)d->tile * WPT, m = (uint64_t)(n * oh * ow);
  uint64_t gx = (push.OCG + bm - 1) / bm, gy = (m + bm - 1) / bm;
  vk_dispatch ds = {
      .shader = VK_SH_CONV2D,
      .spec = {d->tile, WPT},
      .nspec = 2,
      .buf = {vk_buf_of(in), vk_buf_of(f), vk_buf_of(out)},
      .access = {VK_READ, VK_READ, VK_WRITE},
      .nbuf = 3,
      .push = &push,
      .push_size = sizeof push,
      .groups = {gx > 65535 ? 65535 : (uint32_t)gx,
                 gy > 65535 ? 65535 : (uint32_t)gy,
                 groups > 65535 ? 65535 : (uint32_t)groups},
  };
  vk_run(ctx, &ds);
}

/* ------------------------------------------------------------- pooling */

typedef struct pool_push {
  uint32_t N, H, W, OH, OW, OC;
  uint32_t KH, KW, KC, SH, SW, SC;
  int32_t PT, PL;
  uint32_t is[4];
  uint32_t os[4];
} pool_push;

static void *pool_create(kiln_kernel_construct *kc) {
  ks_window *s = calloc(1, sizeof *s);
  if (!s) {
    vk_api->construct_fail(kc, KILN_RESOURCE_EXHAUSTED,
                           "out of memory creating a pooling kernel");
    return NULL;
  }
  if (!ks_read_format(vk_api, kc, s, "Vulkan") ||
      !ks_read_four(vk_api, kc, s, "ksize", NULL, "ksize", s->ksize) ||
      !ks_read_four(vk_api, kc, s, "strides", NULL, "stride", s->strides) ||
      !ks_read_padding(vk_api, kc, s))
    goto fail;
  if (s->ksize[0] != 1 || s->strides[0] != 1) {
    vk_api->construct_fail(kc, KILN_UNIMPLEMENTED,
                           "Pooling is not yet supported on the batch "
                           "dimension.");
    goto fail;
  }
  for (int i = 0; i < 4; i++)
    if (s->ksize[i] <= 0) {
      char msg[96];
      snprintf(msg, sizeof msg,
               "ksize must be a positive int32 value, got:%lld",
               (long long)s->ksize[i]);
      vk_api->construct_fail(kc, KILN_INVALID_ARGUMENT, msg);
      goto fail;
    }
  return s;
fail:
  free(s);
  return NULL;
}

static void pool_compute(const ks_window *s, kiln_kernel_context *ctx,
                         bool avg) {
  vk_device *d = vk_dev(ctx);
  const kiln_tensor_view *in = vk_api->input(ctx, 0);
  if (in->ndims != 4) {
    vk_fail(ctx, KILN_INVALID_ARGUMENT, "tensor_in must be 4-dimensional");
    return;
  }
  int64_t n = in->dims[0], h = in->dims[s->nchw ? 2 : 1];
  int64_t w = in->dims[s->nchw ? 3 : 2], c = in->dims[s->nchw ? 1 : 3];
  int64_t kh = s->ksize[1], kw = s->ksize[2], kc = s->ksize[3];
  int64_t oh = h, ow = w, oc = c, pt = 0, pl = 0;
  if (kc != 1 && (kh != 1 || kw != 1)) {
    vk_fail(ctx, KILN_UNIMPLEMENTED,
            "MaxPooling supports exactly one of pooling across depth or "
            "pooling across width/height.");
    return;
  }
  if (kc == 1) {
    if (!ks_window_size(vk_api, ctx, s, h, kh, 1, s->strides[1], 0, &oh, &pt) ||
        !ks_window_size(vk_api, ctx, s, w, kw, 1, s->strides[2], 1, &ow, &pl))
      return;
  } else {
    if (c % kc != 0) {
      vk_fail(ctx, KILN_UNIMPLEMENTED,
              "Depthwise max pooling requires the depth window to evenly "
              "divide the input depth");
      return;
    }
    if (s->strides[3] != kc) {
      vk_fail(ctx, KILN_UNIMPLEMENTED,
              "Depthwise max pooling requires the depth window to equal the "
              "depth stride");
      return;
    }
    oc = c / kc;
  }
  if (avg && kc != 1) {
    vk_fail(ctx, KILN_UNIMPLEMENTED,
            "Non-spatial pooling is not yet supported. Volunteers? :)");
    return;
  }
  const kiln_tensor_view *out = alloc_4d(ctx, s->nchw, n, oh, ow, oc);
  if (!out || out->num_elements == 0) return;
  pool_push push = {
      .N = (uint32_t)n, .H = (uint32_t)h, .W = (uint32_t)w,
      .OH = (uint32_t)oh, .OW = (uint32_t)ow, .OC = (uint32_t)oc,
      .KH = (uint32_t)kh, .KW = (uint32_t)kw, .KC = (uint32_t)kc,
      .SH = kc == 1 ? (uint32_t)s->strides[1] : 1,
      .SW = kc == 1 ? (uint32_t)s->strides[2] : 1,
      .SC = kc == 1 ? 1 : (uint32_t)kc,
      .PT = (int32_t)pt, .PL = (int32_t)pl,
  };
  nhwc_strides(s->nchw, h, w, c, push.is);
  nhwc_strides(s->nchw, oh, ow, oc, push.os);
  vk_dispatch ds = {
      .shader = VK_SH_POOL,
      .spec = {d->local_size, avg},
      .nspec = 2,
      .buf = {vk_buf_of(in), vk_buf_of(out)},
      .access = {VK_READ, VK_WRITE},
      .nbuf = 2,
      .push = &push,
      .push_size = sizeof push,
      .groups = {vk_groups(d, (uint64_t)out->num_elements, d->local_size), 1,
                 1},
  };
  vk_run(ctx, &ds);
}

static void maxpool_compute(void *state, kiln_kernel_context *ctx) {
  pool_compute(state, ctx, false);
}

static void avgpool_compute(void *state, kiln_kernel_context *ctx) {
  pool_compute(state, ctx, true);
}

static const kiln_kernel_def defs[] = {
    VK_KERNEL("Conv2D", "T=float", conv_compute, .create = conv_create,
              .destroy = free),
    VK_KERNEL("MaxPool", "T=float", maxpool_compute, .create = pool_create,
              .destroy = free),
    VK_KERNEL("AvgPool", "T=float", avgpool_compute, .create = pool_create,
              .destroy = free),
};

const vk_kernel_table vk_conv_kernels = {defs, sizeof defs / sizeof defs[0]};
