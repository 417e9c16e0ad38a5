/*
** vk_matmul: MatMul, BatchMatMul and BatchMatMulV2 for float, on the tiled
** shared-memory shader matmul.comp.
**
** The batch dims of BatchMatMulV2 broadcast as numpy's; they are collapsed
** like a binary op's (dims of 1 dropped, neighbours broadcasting alike
** merged) and the shader walks up to VK_MM_BATCH_DIMS of them with
** per-input strides; more are split into dispatches over the outer ones.
** Checks and messages follow TensorFlow's kernels (and the CPU plugin's).
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vk.h"

#define WPT 2  /* outputs per invocation along each side of a tile */

typedef struct mm_push {
  uint32_t M, N, K, batches, nb, a_off, b_off, c_off;
  uint32_t bdims[VK_MM_BATCH_DIMS];
  uint32_t as[VK_MM_BATCH_DIMS];
  uint32_t bs[VK_MM_BATCH_DIMS];
} mm_push;

typedef ks_mm_attrs mm_attrs;

static void *matmul_create(kiln_kernel_construct *kc) {
  return ks_mm_attrs_new(vk_api, kc, "transpose_a", "transpose_b");
}

static void *bmm_create(kiln_kernel_construct *kc) {
  return ks_mm_attrs_new(vk_api, kc, "adj_x", "adj_y");
}

/* Products of [M, K] x [K, N] matrices (before transposition); batch dims
** cd[0..nb) with matrix strides xs, ys in elements (0: broadcast). */
static void mm_run(kiln_kernel_context *ctx, const mm_attrs *at,
                   const kiln_tensor_view *x, const kiln_tensor_view *y,
                   const kiln_tensor_view *out, int64_t M, int64_t N,
                   int64_t K, int nb, const int64_t *cd, const int64_t *xs,
                   const int64_t *ys) {
  vk_device *d = vk_dev(ctx);
  if (K == 0) {
    vk_fill(ctx, vk_buf_of(out), out->nbytes, 0);
    return;
  }
  int outer = nb > VK_MM_BATCH_DIMS ? nb - VK_MM_BATCH_DIMS : 0;
  mm_push push = {.M = (uint32_t)M, .N = (uint32_t)N, .K = (uint32_t)K,
                  .nb = (uint32_t)(nb - outer)};
  int64_t inner_n = 1, outer_n = 1;
  for (int k = outer; k < nb; k++) {
    push.bdims[k - outer] = (uint32_t)cd[k];
    push.as[k - outer] = (uint32_t)xs[k];
    push.bs[k - outer] = (uint32_t)ys[k];
    inner_n *= cd[k];
  }
  for (int k = 0; k < outer; k++) outer_n *= cd[k];
  push.batches = (uint32_t)inner_n;
  uint32_t bm = d->tile * WPT;
  uint32_t cap = 65535;
  uint64_t gx = ((uint64_t)N + bm - 1) / bm, gy = ((uint64_t)M + bm - 1) / bm;
  vk_dispatch ds = {
      .shader = VK_SH_MATMUL,
      .spec = {d->tile, WPT, at->ta, at->tb},
      .nspec = 4,
      .buf = {vk_buf_of(x), vk_buf_of(y), vk_buf_of(out)},
      .access = {VK_READ, VK_READ, VK_WRITE_SHARED},
      .nbuf = 3,
      .push = &push,
      .push_size = sizeof push,
      .groups = {gx > cap ? cap : (uint32_t)gx, gy > cap ? cap : (uint32_t)gy,
                 inner_n > cap ? cap : (uint32_t)inner_n},
  };
  for (int64_t i = 0; i < outer_n; i++) {
    int64_t rem = i, ao = 0, bo = 0;
    for (int k = outer - 1; k >= 0; k--) {
      int64_t c = rem % cd[k];
      rem /= cd[k];
      ao += c * xs[k];
      bo += c * ys[k];
    }
    push.a_off = (uint32_t)ao;
    push.b_off = (uint32_t)bo;
    push.c_off = (uint32_t)(i * inner_n * M * N);
    if (!vk_run(ctx, &ds)) return;
  }
}

/* ---------------------------------------------------------------- MatMul */

static void matmul_compute(void *state, kiln_kernel_context *ctx) {
  const mm_attrs *at = state;
  const kiln_tensor_view *a = vk_api->input(ctx, 0);
  const kiln_tensor_view *b = vk_api->input(ctx, 1);
  char s0[VK_DIMS_CAP], s1[VK_DIMS_CAP];
  if (a->ndims != 2) {
    vk_fail(ctx, KILN_INVALID_ARGUMENT,
            "In[0] is not a matrix. Instead it has shape %s", VK_DIMS(a, s0));
    return;
  }
  if (b->ndims != 2) {
    vk_fail(ctx, KILN_INVALID_ARGUMENT,
            "In[1] is not a matrix. Instead it has shape %s", VK_DIMS(b, s1));
    return;
  }
  int64_t m = at->ta ? a->dims[1] : a->dims[0];
  int64_t k = at->ta ? a->dims[0] : a->dims[1];
  int64_t k2 = at->tb ? b->dims[1] : b->dims[0];
  int64_t n = at->tb ? b->dims[0] : b->dims[1];
  if (k != k2) {
    vk_fail(ctx, KILN_INVALID_ARGUMENT,
            "Matrix size-incompatible: In[0]: %s, In[1]: %s", VK_DIMS(a, s0),
            VK_DIMS(b, s1));
    return;
  }
  int64_t dims[2] = {m, n};
  const kiln_tensor_view *out = vk_api->allocate_output(ctx, 0, dims, 2);
  if (!out || out->num_elements == 0) return;
  mm_run(ctx, at, a, b, out, m, n, k, 0, NULL, NULL, NULL);
}

/* ------------------------------------------------------- BatchMatMul(V2) */

static void bmm_compute(const mm_attrs *at, kiln_kernel_context *ctx,
                        bool broadcast) {
  const kiln_tensor_view *x = vk_api->input(ctx, 0);
  const kiln_tensor_view *y = vk_api->input(ctx, 1);
  char s0[VK_DIMS_CAP], s1[VK_DIMS_CAP];
  VK_DIMS(x, s0);
  VK_DIMS(y, s1);
  if (!ks_batch_matmul_check(vk_api, ctx, x, y, broadcast)) return;
  int nx = x->ndims - 2, ny = y->ndims - 2, nb = nx > ny ? nx : ny;
  int64_t dims[KILN_MAX_DIMS];
  bool xb[KILN_MAX_DIMS], yb[KILN_MAX_DIMS];
  for (int i = 0; i < nb; i++) {
    int xi = i - (nb - nx), yi = i - (nb - ny);
    int64_t xd = xi >= 0 ? x->dims[xi] : 1, yd = yi >= 0 ? y->dims[yi] : 1;
    if (xd != yd && xd != 1 && yd != 1) {
      vk_fail(ctx, KILN_INVALID_ARGUMENT,
              "In[0] and In[1] must have compatible batch dimensions: %s vs. "
              "%s",
              s0, s1);
      return;
    }
    dims[i] = xd == 1 ? yd : xd;
    xb[i] = xd != dims[i];
    yb[i] = yd != dims[i];
  }
  int64_t d0 = x->dims[nx], d1 = x->dims[nx + 1];
  int64_t d2 = y->dims[ny], d3 = y->dims[ny + 1];
  int64_t m = at->ta ? d1 : d0, k = at->ta ? d0 : d1;
  int64_t k2 = at->tb ? d3 : d2, n = at->tb ? d2 : d3;
  if (k != k2) {
    vk_fail(ctx, KILN_INVALID_ARGUMENT,
            "Matrix size-incompatible: In[0]: %s, In[1]: %s", s0, s1);
    return;
  }
  dims[nb] = m;
  dims[nb + 1] = n;
  const kiln_tensor_view *out = vk_api->allocate_output(ctx, 0, dims, nb + 2);
  if (!out || out->num_elements == 0) return;
  /* Collapse the batch dims, then give each input its matrix strides. */
  int64_t cd[KILN_MAX_DIMS], xs[KILN_MAX_DIMS], ys[KILN_MAX_DIMS];
  bool cx[KILN_MAX_DIMS], cy[KILN_MAX_DIMS];
  int r = 0;
  for (int i = 0; i < nb; i++) {
    if (dims[i] == 1) continue;
    if (r > 0 && cx[r - 1] == xb[i] && cy[r - 1] == yb[i]) {
      cd[r - 1] *= dims[i];
    } else {
      cd[r] = dims[i];
      cx[r] = xb[i];
      cy[r] = yb[i];
      r++;
    }
  }
  int64_t sx = d0 * d1, sy = d2 * d3;
  for (int i = r - 1; i >= 0; i--) {
    xs[i] = cx[i] ? 0 : sx;
    ys[i] = cy[i] ? 0 : sy;
    if (!cx[i]) sx *= cd[i];
    if (!cy[i]) sy *= cd[i];
  }
  mm_run(ctx, at, x, y, out, m, n, k, r, cd, xs, ys);
}

static void bmm_v1_compute(void *state, kiln_kernel_context *ctx) {
  bmm_compute(state, ctx, false);
}

static void bmm_v2_compute(void *state, kiln_kernel_context *ctx) {
  bmm_compute(state, ctx, true);
}

static const kiln_kernel_def defs[] = {
    VK_KERNEL("MatMul", "T=float", matmul_compute, .create = matmul_create,
              .destroy = free),
    VK_KERNEL("BatchMatMul", "T=float", bmm_v1_compute, .create = bmm_create,
              .destroy = free),
    VK_KERNEL("BatchMatMulV2", "T=float", bmm_v2_compute,
              .create = bmm_create, .destroy = free),
};

const vk_kernel_table vk_matmul_kernels = {defs, sizeof defs / sizeof defs[0]};
