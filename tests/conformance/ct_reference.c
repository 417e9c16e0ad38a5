/* Case generators and their naive references: plain loops in double
** precision over the exact input values, rounded once to the output dtype.
** They are written for clarity, never for speed, so that a backend can be
** checked against something obviously right. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "conformance.h"

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

static const ct_range std_range = {-1, 1, -4, 4, 0};

const ct_range *ct_range_of(const ct_entry *e, int i) {
  const ct_range *r = &e->range[i];
  if (r->lo == 0 && r->hi == 0 && r->ilo == 0 && r->ihi == 0 && r->flags == 0)
    return &std_range;
  return r;
}

static kiln_dtype out_type(const ct_entry *e, kiln_dtype dt) {
  return e->out_dtype != KILN_INVALID_DTYPE ? e->out_dtype : dt;
}

/* Hands a finished case to emit, then clears it. */
bool ct_fire(const ct_entry *e, ct_case *c, ct_emit_fn emit, void *ctx) {
  bool ok = emit(ctx, e, c);
  ct_case_clear(c);
  return ok;
}

void ct_label(ct_case *c, const char *fmt, const int64_t *dims, int nd) {
  char buf[96];
  size_t at = strlen(c->label);
  snprintf(c->label + at, sizeof c->label - at, fmt,
           ct_dims_str(dims, nd, buf, sizeof buf));
}

/* The multi-index of flat position `flat` in dims. */
void ct_unflatten(int64_t flat, const int64_t *dims, int nd, int64_t *idx) {
  for (int d = nd - 1; d >= 0; d--) {
    idx[d] = dims[d] ? flat % dims[d] : 0;
    flat = dims[d] ? flat / dims[d] : 0;
  }
}

/* Flat index, in an array of dims in[0..rin), of the element that numpy
** broadcasting pairs with output multi-index idx (rank rout). */
static int64_t bcast_flat(const int64_t *idx, int rout, const int64_t *in, int rin) {
  int64_t f = 0;
  for (int d = 0; d < rin; d++) {
    int64_t i = in[d] == 1 ? 0 : idx[rout - rin + d];
    f = f * in[d] + i;
  }
  return f;
}

static bool bcast_dims(const int64_t *a, int ra, const int64_t *b, int rb,
                       int64_t *out, int *rout) {
  int r = ra > rb ? ra : rb;
  for (int d = 0; d < r; d++) {
    int64_t x = d - (r - ra) >= 0 ? a[d - (r - ra)] : 1;
    int64_t y = d - (r - rb) >= 0 ? b[d - (r - rb)] : 1;
    if (x != y && x != 1 && y != 1) return false;
    out[d] = x == 1 ? y : x;
  }
  *rout = r;
  return true;
}

/* ---------------------------------------------------------- elementwise */

static const ct_shape unary_shapes[] = {
    {0, {0}}, {1, {7}}, {2, {3, 4}}, {3, {2, 3, 4}}, {2, {0, 3}},
};

bool ct_gen_unary(const ct_entry *e, kiln_dtype dt, kiln_dtype dt2, ct_rng *rng,
                  ct_emit_fn emit, void *ctx) {
  (void)dt2;
  kiln_dtype ot = out_type(e, dt);
  for (size_t s = 0; s < NELEMS(unary_shapes); s++) {
    const ct_shape *sh = &unary_shapes[s];
    ct_case c = {0};
    ct_label(&c, "x%s", sh->d, sh->nd);
    if (!ct_case_input(&c, dt, sh->d, sh->nd, ct_range_of(e, 0), rng) ||
        !ct_case_output(&c, ot, sh->d, sh->nd)) {
      ct_case_clear(&c);
      return false;
    }
    for (int64_t i = 0; i < c.in[0].n; i++)
      c.want[0].v[i] = ct_round(ot, e->fn(&c.in[0].v[i], dt));
    if (!ct_fire(e, &c, emit, ctx)) return false;
  }
  return true;
}

/* Shape pairs for binary ops: equal shapes, scalars on either side, and
** broadcasting of several rank pairs, and an empty tensor. */
static const ct_shape binary_shapes[][2] = {
    {{0, {0}}, {0, {0}}},
    {{1, {7}}, {1, {7}}},
    {{2, {3, 4}}, {2, {3, 4}}},
    {{2, {3, 4}}, {0, {0}}},
    {{0, {0}}, {2, {3, 4}}},
    {{2, {3, 4}}, {1, {4}}},
    {{1, {4}}, {2, {3, 4}}},
    {{2, {3, 1}}, {2, {1, 4}}},
    {{3, {2, 3, 4}}, {2, {3, 1}}},
    {{3, {2, 1, 4}}, {2, {3, 1}}},
    {{4, {2, 3, 2, 5}}, {3, {3, 1, 5}}},
    {{2, {0, 3}}, {1, {3}}},
};

static bool binary_case(const ct_entry *e, kiln_dtype dt, const ct_shape *a,
                        const ct_shape *b, ct_rng *rng, ct_emit_fn emit, void *ctx) {
  kiln_dtype ot = out_type(e, dt);
  int64_t od[KILN_MAX_DIMS], idx[KILN_MAX_DIMS];
  int ond;
  if (!bcast_dims(a->d, a->nd, b->d, b->nd, od, &ond)) return false;
  ct_case c = {0};
  ct_label(&c, "x%s", a->d, a->nd);
  ct_label(&c, " y%s", b->d, b->nd);
  if (!ct_case_input(&c, dt, a->d, a->nd, ct_range_of(e, 0), rng) ||
      !ct_case_input(&c, dt, b->d, b->nd, ct_range_of(e, 1), rng) ||
      !ct_case_output(&c, ot, od, ond)) {
    ct_case_clear(&c);
    return false;
  }
  for (int64_t i = 0; i < c.want[0].n; i++) {
    ct_unflatten(i, od, ond, idx);
    double x[2] = {c.in[0].v[bcast_flat(idx, ond, a->d, a->nd)],
                   c.in[1].v[bcast_flat(idx, ond, b->d, b->nd)]};
    c.want[0].v[i] = ct_round(ot, e->fn(x, dt));
  }
  return ct_fire(e, &c, emit, ctx);
}

bool ct_gen_binary(const ct_entry *e, kiln_dtype dt, kiln_dtype dt2, ct_rng *rng,
                   ct_emit_fn emit, void *ctx) {
  (void)dt2;
  for (size_t s = 0; s < NELEMS(binary_shapes); s++)
    if (!binary_case(e, dt, &binary_shapes[s][0], &binary_shapes[s][1], rng,
                     emit, ctx))
      return false;
  return true;
}

/* Gradient helpers (SigmoidGrad, ...) take two tensors of one shape. */
bool ct_gen_binary_same(const ct_entry *e, kiln_dtype dt, kiln_dtype dt2,
                        ct_rng *rng, ct_emit_fn emit, void *ctx) {
  (void)dt2;
  for (size_t s = 0; s < NELEMS(unary_shapes); s++)
    if (!binary_case(e, dt, &unary_shapes[s], &unary_shapes[s], rng, emit, ctx))
      return false;
  return true;
}

bool ct_gen_addn(const ct_entry *e, kiln_dtype dt, kiln_dtype dt2, ct_rng *rng,
                 ct_emit_fn emit, void *ctx) {
  (void)dt2;
  static const struct {
    ct_shape s;
    int n;
  } cases[] = {{{2, {3, 4}}, 1}, {{2, {3, 4}}, 2}, {{2, {3, 4}}, 3},
               {{0, {0}}, 2}, {{3, {2, 3, 2}}, 4}, {{1, {0}}, 2}};
  for (size_t k = 0; k < NELEMS(cases); k++) {
    const ct_shape *sh = &cases[k].s;
    ct_case c = {0};
    snprintf(c.label, sizeof c.label, "N=%d ", cases[k].n);
    ct_label(&c, "x%s", sh->d, sh->nd);
    c.nargs = 1;
    c.arg_len[0] = cases[k].n;
    bool ok = true;
    for (int j = 0; j < cases[k].n && ok; j++)
      ok = ct_case_input(&c, dt, sh->d, sh->nd, ct_range_of(e, 0), rng);
    if (!ok || !ct_case_output(&c, dt, sh->d, sh->nd)) {
      ct_case_clear(&c);
      return false;
    }
    for (int64_t i = 0; i < c.want[0].n; i++) {
      double s = 0;
      for (int j = 0; j < cases[k].n; j++) s += c.in[j].v[i];
      c.want[0].v[i] = ct_round(dt, s);
    }
    if (!ct_fire(e, &c, emit, ctx)) return false;
  }
  return true;
}

/* ------------------------------------------------------------- MatMul */

/* c[b] = op(a[ba]) x op(b[bb]) for one pair of matrices at the offsets. */
static void matmul_ref(const double *a, const double *b, double *c, int64_t m,
                       int64_t k, int64_t n, bool ta, bool tb, kiln_dtype ot) {
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) {
      double s = 0;
      for (int64_t p = 0; p < k; p++)
        s += (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
      c[i * n + j] = ct_round(ot, s);
    }
}

bool ct_gen_matmul(const ct_entry *e, kiln_dtype dt, kiln_dtype dt2, ct_rng *rng,
                   ct_emit_fn emit, void *ctx) {
  (void)dt2;
  static const int64_t cases[][5] = {
      {2, 3, 4, 0, 0}, {2, 3, 4, 1, 0}, {2, 3, 4, 0, 1}, {2, 3, 4, 1, 1},
      {1, 1, 1, 0, 0}, {5, 7, 1, 0, 0}, {1, 8, 6, 0, 1}, {0, 3, 2, 0, 0},
      {2, 0, 3, 0, 0},
  };
  for (size_t s = 0; s < NELEMS(cases); s++) {
    int64_t m = cases[s][0], k = cases[s][1], n = cases[s][2];
    bool ta = cases[s][3], tb = cases[s][4];
    int64_t ad[2] = {ta ? k : m, ta ? m : k}, bd[2] = {tb ? n : k, tb ? k : n};
    int64_t cd[2] = {m, n};
    ct_case c = {0};
    ct_label(&c, "a%s", ad, 2);
    ct_label(&c, " b%s", bd, 2);
    size_t at = strlen(c.label);
    snprintf(c.label + at, sizeof c.label - at, " transpose_a=%d transpose_b=%d",
             ta, tb);
    ct_attr *x = ct_case_attr(&c, "transpose_a", CT_ATTR_BOOL);
    ct_attr *y = ct_case_attr(&c, "transpose_b", CT_ATTR_BOOL);
    if (!x || !y || !ct_case_input(&c, dt, ad, 2, ct_range_of(e, 0), rng) ||
        !ct_case_input(&c, dt, bd, 2, ct_range_of(e, 0), rng) ||
        !ct_case_output(&c, dt, cd, 2)) {
      ct_case_clear(&c);
      return false;
    }
    x->i = ta;
    y->i = tb;
    matmul_ref(c.in[0].v, c.in[1].v, c.want[0].v, m, k, n, ta, tb, dt);
    if (!ct_fire(e, &c, emit, ctx)) return false;
  }
  return true;
}

/* BatchMatMul (param "v1": equal batch dims) and BatchMatMulV2 (batch dims
** broadcast). */
bool ct_gen_batch_matmul(const ct_entry *e, kiln_dtype dt, kiln_dtype dt2,
                         ct_rng *rng, ct_emit_fn emit, void *ctx) {
  (void)dt2;
  static const struct {
    ct_shape a, b;
    bool adj_x, adj_y, v2_only;
  } cases[] = {
      {{3, {2, 2, 3}}, {3, {2, 3, 4}}, 0, 0, 0},
      {{3, {2, 3, 2}}, {3, {2, 3, 4}}, 1, 0, 0},
      {{3, {2, 2, 3}}, {3, {2, 4, 3}}, 0, 1, 0},
      {{4, {2, 3, 2, 1}}, {4, {2, 3, 4, 2}}, 1, 1, 0},
      {{2, {2, 3}}, {2, {3, 4}}, 0, 0, 0},
      {{3, {2, 2, 3}}, {2, {3, 4}}, 0, 0, 1},
      {{4, {2, 1, 2, 3}}, {3, {3, 3, 4}}, 0, 0, 1},
      {{3, {0, 2, 3}}, {3, {0, 3, 4}}, 0, 0, 0},
  };
  bool v1 = e->param && strcmp(e->param, "v1") == 0;
  for (size_t s = 0; s < NELEMS(cases); s++) {
    if (v1 && cases[s].v2_only) continue;
    const ct_shape *a = &cases[s].a, *b = &cases[s].b;
    bool ax = cases[s].adj_x, ay = cases[s].adj_y;
    int64_t m = ax ? a->d[a->nd - 1] : a->d[a->nd - 2];
    int64_t k = ax ? a->d[a->nd - 2] : a->d[a->nd - 1];
    int64_t n = ay ? b->d[b->nd - 2] : b->d[b->nd - 1];
    int64_t od[KILN_MAX_DIMS], idx[KILN_MAX_DIMS];
    int obn;
    if (!bcast_dims(a->d, a->nd - 2, b->d, b->nd - 2, od, &obn)) return false;
    od[obn] = m;
    od[obn + 1] = n;
    ct_case c = {0};
    ct_label(&c, "x%s", a->d, a->nd);
    ct_label(&c, " y%s", b->d, b->nd);
    size_t at = strlen(c.label);
    snprintf(c.label + at, sizeof c.label - at, " adj_x=%d adj_y=%d", ax, ay);
    ct_attr *x = ct_case_attr(&c, "adj_x", CT_ATTR_BOOL);
    ct_attr *y = ct_case_attr(&c, "adj_y", CT_ATTR_BOOL);
    if (!x || !y || !ct_case_input(&c, dt, a->d, a->nd, ct_range_of(e, 0), rng) ||
        !ct_case_input(&c, dt, b->d, b->nd, ct_range_of(e, 0), rng) ||
        !ct_case_output(&c, dt, od, obn + 2)) {
      ct_case_clear(&c);
      return false;
    }
    x->i = ax;
    y->i = ay;
    int64_t nb = 1;
    for (int d = 0; d < obn; d++) nb *= od[d];
    for (int64_t bi = 0; bi < nb; bi++) {
      ct_unflatten(bi, od, obn, idx);
      int64_t fa = bcast_flat(idx, obn, a->d, a->nd - 2);
      int64_t fb = bcast_flat(idx, obn, b->d, b->nd - 2);
      matmul_ref(c.in[0].v + fa * m * k, c.in[1].v + fb * k * n,
                 c.want[0].v + bi * m * n, m, k, n, ax, ay, dt);
    }
    if (!ct_fire(e, &c, emit, ctx)) return false;
  }
  return true;
}

/* --------------------------------------------------------- reductions */

typedef struct reduce_case {
  ct_shape s;
  int naxes;
  int64_t axes[3];
} reduce_case;

static const reduce_case reduce_cases[] = {
    {{2, {3, 4}}, 1, {0}},     {{2, {3, 4}}, 1, {1}},
    {{2, {3, 4}}, 2, {0, 1}},  {{3, {2, 3, 4}}, 1, {1}},
    {{3, {2, 3, 4}}, 1, {-1}}, {{3, {2, 3, 4}}, 2, {0, 2}},
    {{1, {5}}, 1, {0}},        {{2, {3, 4}}, 0, {0}},
    {{0, {0}}, 0, {0}},        {{3, {2, 3, 4}}, 3, {0, 1, 2}},
    {{3, {3, 1, 4}}, 1, {1}},  {{2, {1, 1}}, 2, {0, 1}},
    {{2, {0, 3}}, 1, {1}},     {{2, {2, 0}}, 1, {0}},
};

/* param: sum, mean, prod, max, min, all, any. */
bool ct_gen_reduce(const ct_entry *e, kiln_dtype dt, kiln_dtype dt2, ct_rng *rng,
                   ct_emit_fn emit, void *ctx) {
  (void)dt2;
  const char *how = e->param;
  for (size_t s = 0; s < 2 * NELEMS(reduce_cases); s++) {
    const reduce_case *rc = &reduce_cases[s / 2];
    bool keep = s % 2;
    /* Every other case takes its axes as int64. */
    kiln_dtype tidx = (s / 2) % 2 ? KILN_INT64 : KILN_INT32;
    int nd = rc->s.nd;
    bool red[KILN_MAX_DIMS] = {false};
    for (int j = 0; j < rc->naxes; j++)
      red[rc->axes[j] < 0 ? rc->axes[j] + nd : rc->axes[j]] = true;
    int64_t od[KILN_MAX_DIMS], idx[KILN_MAX_DIMS], oidx[KILN_MAX_DIMS];
    int ond = 0;
    for (int d = 0; d < nd; d++)
      if (!red[d]) od[ond++] = rc->s.d[d];
      else if (keep) od[ond++] = 1;
    ct_case c = {0};
    ct_label(&c, "x%s", rc->s.d, nd);
    ct_label(&c, " axes%s", rc->axes, rc->naxes);
    size_t at = strlen(c.label);
    snprintf(c.label + at, sizeof c.label - at, " keep_dims=%d Tidx=%s", keep,
             kiln_dtype_name(tidx));
    ct_attr *k = ct_case_attr(&c, "keep_dims", CT_ATTR_BOOL);
    ct_attr *ti = ct_case_attr(&c, "Tidx", CT_ATTR_TYPE);
    if (!k || !ti || !ct_case_input(&c, dt, rc->s.d, nd, ct_range_of(e, 0), rng) ||
        !ct_case_const_ints(&c, tidx, rc->axes, rc->naxes, 1) ||
        !ct_case_output(&c, dt, od, ond)) {
      ct_case_clear(&c);
      return false;
    }
    k->i = keep;
    ti->t = tidx;
    ct_array *w = &c.want[0];
    double init = 0;
    if (!strcmp(how, "prod") || !strcmp(how, "all")) init = 1;
    else if (!strcmp(how, "max")) init = -INFINITY;
    else if (!strcmp(how, "min")) init = INFINITY;
    for (int64_t i = 0; i < w->n; i++) w->v[i] = init;
    int64_t count = 1;
    for (int d = 0; d < nd; d++)
      if (red[d]) count *= rc->s.d[d];
    for (int64_t i = 0; i < c.in[0].n; i++) {
      ct_unflatten(i, rc->s.d, nd, idx);
      int o = 0;
      for (int d = 0; d < nd; d++)
        if (!red[d]) oidx[o++] = idx[d];
        else if (keep) oidx[o++] = 0;
      int64_t f = 0;
      for (int d = 0; d < ond; d++) f = f * od[d] + oidx[d];
      double x = c.in[0].v[i];
      if (!strcmp(how, "sum") || !strcmp(how, "mean")) w->v[f] += x;
      else if (!strcmp(how, "prod")) w->v[f] *= x;
      else if (!strcmp(how, "max")) w->v[f] = x > w->v[f] ? x : w->v[f];
      else if (!strcmp(how, "min")) w->v[f] = x < w->v[f] ? x : w->v[f];
      else if (!strcmp(how, "all")) w->v[f] = w->v[f] && x;
      else if (!strcmp(how, "any")) w->v[f] = w->v[f] || x;
    }
    for (int64_t i = 0; i < w->n; i++) {
      if (!strcmp(how, "mean")) w->v[i] /= (double)count;
      w->v[i] = ct_round(dt, w->v[i]);
    }
    if (!ct_fire(e, &c, emit, ctx)) return false;
  }
  return true;
}

/* ArgMax / ArgMin (param "max" / "min"): the first index of the extreme. */
bool ct_gen_argminmax(const ct_entry *e, kiln_dtype dt, kiln_dtype dt2,
                      ct_rng *rng, ct_emit_fn emit, void *ctx) {
  (void)dt2;
  static const struct {
    ct_shape s;
    int64_t axis;
    kiln_dtype out;
  } cases[] = {
      {{1, {7}}, 0, KILN_INT64},     {{2, {3, 4}}, 0, KILN_INT64},
      {{2, {3, 4}}, 1, KILN_INT32},  {{2, {3, 4}}, -1, KILN_INT64},
      {{3, {2, 3, 4}}, 1, KILN_INT32}, {{3, {2, 5, 3}}, 2, KILN_INT64},
  };
  bool max = strcmp(e->param, "max") == 0;
  for (size_t s = 0; s < NELEMS(cases); s++) {
    const ct_shape *sh = &cases[s].s;
    int ax = (int)(cases[s].axis < 0 ? cases[s].axis + sh->nd : cases[s].axis);
    int64_t od[KILN_MAX_DIMS], idx[KILN_MAX_DIMS];
    int ond = 0;
    for (int d = 0; d < sh->nd; d++)
      if (d != ax) od[ond++] = sh->d[d];
    ct_case c = {0};
    ct_label(&c, "x%s", sh->d, sh->nd);
    size_t at = strlen(c.label);
    snprintf(c.label + at, sizeof c.label - at, " axis=%lld output_type=%s",
             (long long)cases[s].axis, kiln_dtype_name(cases[s].out));
    ct_attr *ot = ct_case_attr(&c, "output_type", CT_ATTR_TYPE);
    ct_attr *ti = ct_case_attr(&c, "Tidx", CT_ATTR_TYPE);
    if (!ot || !ti || !ct_case_input(&c, dt, sh->d, sh->nd, ct_range_of(e, 0), rng) ||
        !ct_case_const_ints(&c, KILN_INT32, &cases[s].axis, 1, 0) ||
        !ct_case_output(&c, cases[s].out, od, ond)) {
      ct_case_clear(&c);
      return false;
    }
    ot->t = cases[s].out;
    ti->t = KILN_INT32;
    for (int64_t o = 0; o < c.want[0].n; o++) {
      int64_t oi[KILN_MAX_DIMS];
      ct_unflatten(o, od, ond, oi);
      int64_t best = 0;
      double bv = 0;
      for (int64_t j = 0; j < sh->d[ax]; j++) {
        for (int d = 0, q = 0; d < sh->nd; d++) idx[d] = d == ax ? j : oi[q++];
        int64_t f = 0;
        for (int d = 0; d < sh->nd; d++) f = f * sh->d[d] + idx[d];
        double x = c.in[0].v[f];
        if (j == 0 || (max ? x > bv : x < bv)) {
          best = j;
          bv = x;
        }
      }
      c.want[0].v[o] = (double)best;
    }
    if (!ct_fire(e, &c, emit, ctx)) return false;
  }
  return true;
}

/* ------------------------------------------------------------ softmax */

/* Softmax, or LogSoftmax when param is "log", over the last axis. */
bool ct_gen_softmax(const ct_entry *e, kiln_dtype dt, kiln_dtype dt2, ct_rng *rng,
                    ct_emit_fn emit, void *ctx) {
  (void)dt2;
  static const ct_shape shapes[] = {{1, {5}}, {2, {3, 4}}, {3, {2, 3, 4}},
                                 {2, {1, 1}}, {2, {2, 9}}};
  bool lg = e->param && strcmp(e->param, "log") == 0;
  for (size_t s = 0; s < NELEMS(shapes); s++) {
    const ct_shape *sh = &shapes[s];
    ct_case c = {0};
    ct_label(&c, "logits%s", sh->d, sh->nd);
    if (!ct_case_input(&c, dt, sh->d, sh->nd, ct_range_of(e, 0), rng) ||
        !ct_case_output(&c, dt, sh->d, sh->nd)) {
      ct_case_clear(&c);
      return false;
    }
    int64_t depth = sh->d[sh->nd - 1];
    for (int64_t r = 0; r < c.in[0].n / depth; r++) {
      const double *x = c.in[0].v + r * depth;
      double mx = -INFINITY, sum = 0;
      for (int64_t j = 0; j < depth; j++) mx = x[j] > mx ? x[j] : mx;
      for (int64_t j = 0; j < depth; j++) sum += exp(x[j] - mx);
      for (int64_t j = 0; j < depth; j++)
        c.want[0].v[r * depth + j] =
            ct_round(dt, lg ? x[j] - mx - log(sum) : exp(x[j] - mx) / sum);
    }
    if (!ct_fire(e, &c, emit, ctx)) return false;
  }
  return true;
}

/* ------------------------------------------------------------ BiasAdd */

/* BiasAdd, with an NCHW case unless param is "v1" (BiasAddV1 has no
** data_format). */
bool ct_gen_bias_add(const ct_entry *e, kiln_dtype dt, kiln_dtype dt2, ct_rng *rng,
                     ct_emit_fn emit, void *ctx) {
  (void)dt2;
  static const struct {
    ct_shape s;
    bool nchw;
  } cases[] = {{{2, {3, 4}}, 0}, {{3, {2, 3, 4}}, 0}, {{4, {2, 2, 2, 3}}, 0},
               {{4, {2, 3, 2, 2}}, 1}, {{2, {0, 4}}, 0}};
  bool v1 = e->param && strcmp(e->param, "v1") == 0;
  for (size_t s = 0; s < NELEMS(cases); s++) {
    if (v1 && cases[s].nchw) continue;
    const ct_shape *sh = &cases[s].s;
    int cdim = cases[s].nchw ? 1 : sh->nd - 1;
    int64_t cn = sh->d[cdim], idx[KILN_MAX_DIMS];
    ct_case c = {0};
    ct_label(&c, "value%s", sh->d, sh->nd);
    ct_label(&c, " bias%s", &cn, 1);
    if (cases[s].nchw) {
      strcat(c.label, " NCHW");
      ct_attr *f = ct_case_attr(&c, "data_format", CT_ATTR_STRING);
      if (!f) return false;
      f->s = "NCHW";
    }
    if (!ct_case_input(&c, dt, sh->d, sh->nd, ct_range_of(e, 0), rng) ||
        !ct_case_input(&c, dt, &cn, 1, ct_range_of(e, 0), rng) ||
        !ct_case_output(&c, dt, sh->d, sh->nd)) {
      ct_case_clear(&c);
      return false;
    }
    for (int64_t i = 0; i < c.in[0].n; i++) {
      ct_unflatten(i, sh->d, sh->nd, idx);
      c.want[0].v[i] = ct_round(dt, c.in[0].v[i] + c.in[1].v[idx[cdim]]);
    }
    if (!ct_fire(e, &c, emit, ctx)) return false;
  }
  return true;
}

/* ---------------------------------------------- convolution, pooling */

/* TensorFlow's output size and leading padding for one spatial dim. */
static int64_t out_size(int64_t in, int64_t k, int64_t stride, bool same,
                        int64_t *pad_before) {
  if (!same) {
    *pad_before = 0;
    return (in - k + stride) / stride;
  }
  int64_t out = (in + stride - 1) / stride;
  int64_t total = (out - 1) * stride + k - in;
  *pad_before = total > 0 ? total / 2 : 0;
  return out;
}

typedef struct conv_case {
  ct_shape in, filter;
  int64_t sh, sw;
  bool same;
} conv_case;

/* Conv2D (NHWC) when depthwise is false; DepthwiseConv2dNative else. */
static bool gen_conv(const ct_entry *e, kiln_dtype dt, const conv_case *cases,
                     size_t ncases, bool depthwise, ct_rng *rng, ct_emit_fn emit,
                     void *ctx) {
  for (size_t s = 0; s < ncases; s++) {
    const conv_case *cc = &cases[s];
    int64_t N = cc->in.d[0], H = cc->in.d[1], W = cc->in.d[2], C = cc->in.d[3];
    int64_t KH = cc->filter.d[0], KW = cc->filter.d[1], M = cc->filter.d[3];
    int64_t pt, pl;
    int64_t OH = out_size(H, KH, cc->sh, cc->same, &pt);
    int64_t OW = out_size(W, KW, cc->sw, cc->same, &pl);
    int64_t OC = depthwise ? C * M : M;
    int64_t od[4] = {N, OH, OW, OC};
    ct_case c = {0};
    ct_label(&c, "input%s", cc->in.d, 4);
    ct_label(&c, " filter%s", cc->filter.d, 4);
    size_t at = strlen(c.label);
    snprintf(c.label + at, sizeof c.label - at, " strides=[1,%lld,%lld,1] %s",
             (long long)cc->sh, (long long)cc->sw, cc->same ? "SAME" : "VALID");
    ct_attr *st = ct_case_attr(&c, "strides", CT_ATTR_INTS);
    ct_attr *pd = ct_case_attr(&c, "padding", CT_ATTR_STRING);
    if (!st || !pd || !ct_case_input(&c, dt, cc->in.d, 4, ct_range_of(e, 0), rng) ||
        !ct_case_input(&c, dt, cc->filter.d, 4, ct_range_of(e, 0), rng) ||
        !ct_case_output(&c, dt, od, 4)) {
      ct_case_clear(&c);
      return false;
    }
    st->nints = 4;
    st->ints[0] = st->ints[3] = 1;
    st->ints[1] = cc->sh;
    st->ints[2] = cc->sw;
    pd->s = cc->same ? "SAME" : "VALID";
    const double *x = c.in[0].v, *f = c.in[1].v;
    for (int64_t n = 0; n < N; n++)
      for (int64_t oh = 0; oh < OH; oh++)
        for (int64_t ow = 0; ow < OW; ow++)
          for (int64_t oc = 0; oc < OC; oc++) {
            double sum = 0;
            for (int64_t kh = 0; kh < KH; kh++)
              for (int64_t kw = 0; kw < KW; kw++) {
                int64_t ih = oh * cc->sh + kh - pt, iw = ow * cc->sw + kw - pl;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                const double *px = x + ((n * H + ih) * W + iw) * C;
                const double *pf = f + (kh * KW + kw) * C * M;
                if (depthwise) {
                  int64_t ci = oc / M, m = oc % M;
                  sum += px[ci] * pf[ci * M + m];
                } else {
                  for (int64_t ci = 0; ci < C; ci++) sum += px[ci] * pf[ci * M + oc];
                }
              }
            c.want[0].v[((n * OH + oh) * OW + ow) * OC + oc] = ct_round(dt, sum);
          }
    if (!ct_fire(e, &c, emit, ctx)) return false;
  }
  return true;
}

bool ct_gen_conv2d(const ct_entry *e, kiln_dtype dt, kiln_dtype dt2, ct_rng *rng,
                   ct_emit_fn emit, void *ctx) {
  (void)dt2;
  static const conv_case cases[] = {
      {{4, {1, 5, 5, 2}}, {4, {3, 3, 2, 3}}, 1, 1, true},
      {{4, {1, 5, 5, 2}}, {4, {3, 3, 2, 3}}, 2, 2, false},
      {{4, {2, 4, 4, 1}}, {4, {1, 1, 1, 2}}, 1, 1, false},
      {{4, {1, 6, 5, 3}}, {4, {2, 3, 3, 2}}, 2, 1, true},
      {{4, {1, 3, 3, 1}}, {4, {3, 3, 1, 1}}, 1, 1, false},
      {{4, {1, 4, 4, 2}}, {4, {2, 2, 2, 2}}, 2, 2, true},
  };
  return gen_conv(e, dt, cases, NELEMS(cases), false, rng, emit, ctx);
}

bool ct_gen_depthwise(const ct_entry *e, kiln_dtype dt, kiln_dtype dt2,
                      ct_rng *rng, ct_emit_fn emit, void *ctx) {
  (void)dt2;
  static const conv_case cases[] = {
      {{4, {1, 5, 5, 2}}, {4, {3, 3, 2, 2}}, 1, 1, true},
      {{4, {2, 4, 4, 3}}, {4, {2, 2, 3, 1}}, 2, 2, false},
      {{4, {1, 6, 5, 2}}, {4, {3, 3, 2, 1}}, 2, 2, true},
  };
  return gen_conv(e, dt, cases, NELEMS(cases), true, rng, emit, ctx);
}

/* MaxPool / AvgPool (param "max" / "avg"), NHWC; AvgPool divides by the
** window's elements inside the input, as TensorFlow does. */
bool ct_gen_pool(const ct_entry *e, kiln_dtype dt, kiln_dtype dt2, ct_rng *rng,
                 ct_emit_fn emit, void *ctx) {
  (void)dt2;
  static const struct {
    ct_shape in;
    int64_t kh, kw, sh, sw;
    bool same;
  } cases[] = {
      {{4, {1, 5, 5, 2}}, 2, 2, 2, 2, false},
      {{4, {1, 5, 5, 2}}, 3, 3, 1, 1, true},
      {{4, {2, 4, 5, 3}}, 3, 2, 2, 1, true},
      {{4, {1, 4, 4, 1}}, 2, 2, 2, 2, true},
      {{4, {1, 3, 3, 2}}, 3, 3, 1, 1, false},
  };
  bool max = strcmp(e->param, "max") == 0;
  for (size_t s = 0; s < NELEMS(cases); s++) {
    int64_t N = cases[s].in.d[0], H = cases[s].in.d[1], W = cases[s].in.d[2],
            C = cases[s].in.d[3];
    int64_t pt, pl;
    int64_t OH = out_size(H, cases[s].kh, cases[s].sh, cases[s].same, &pt);
    int64_t OW = out_size(W, cases[s].kw, cases[s].sw, cases[s].same, &pl);
    int64_t od[4] = {N, OH, OW, C};
    ct_case c = {0};
    ct_label(&c, "input%s", cases[s].in.d, 4);
    size_t at = strlen(c.label);
    snprintf(c.label + at, sizeof c.label - at,
             " ksize=[1,%lld,%lld,1] strides=[1,%lld,%lld,1] %s",
             (long long)cases[s].kh, (long long)cases[s].kw,
             (long long)cases[s].sh, (long long)cases[s].sw,
             cases[s].same ? "SAME" : "VALID");
    ct_attr *ks = ct_case_attr(&c, "ksize", CT_ATTR_INTS);
    ct_attr *st = ct_case_attr(&c, "strides", CT_ATTR_INTS);
    ct_attr *pd = ct_case_attr(&c, "padding", CT_ATTR_STRING);
    if (!ks || !st || !pd ||
        !ct_case_input(&c, dt, cases[s].in.d, 4, ct_range_of(e, 0), rng) ||
        !ct_case_output(&c, dt, od, 4)) {
      ct_case_clear(&c);
      return false;
    }
    ks->nints = st->nints = 4;
    ks->ints[0] = ks->ints[3] = st->ints[0] = st->ints[3] = 1;
    ks->ints[1] = cases[s].kh;
    ks->ints[2] = cases[s].kw;
    st->ints[1] = cases[s].sh;
    st->ints[2] = cases[s].sw;
    pd->s = cases[s].same ? "SAME" : "VALID";
    for (int64_t n = 0; n < N; n++)
      for (int64_t oh = 0; oh < OH; oh++)
        for (int64_t ow = 0; ow < OW; ow++)
          for (int64_t ch = 0; ch < C; ch++) {
            double acc = max ? -INFINITY : 0;
            int64_t cnt = 0;
            for (int64_t kh = 0; kh < cases[s].kh; kh++)
              for (int64_t kw = 0; kw < cases[s].kw; kw++) {
                int64_t ih = oh * cases[s].sh + kh - pt;
                int64_t iw = ow * cases[s].sw + kw - pl;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                double x = c.in[0].v[((n * H + ih) * W + iw) * C + ch];
                acc = max ? (x > acc ? x : acc) : acc + x;
                cnt++;
              }
            c.want[0].v[((n * OH + oh) * OW + ow) * C + ch] =
                ct_round(dt, max ? acc : acc / (double)cnt);
          }
    if (!ct_fire(e, &c, emit, ctx)) return false;
  }
  return true;
}

/* ---------------------------------------------------- data movement */

bool ct_gen_transpose(const ct_entry *e, kiln_dtype dt, kiln_dtype dt2,
                      ct_rng *rng, ct_emit_fn emit, void *ctx) {
  (void)dt2;
  static const struct {
    ct_shape s;
    int64_t perm[4];
  } cases[] = {
      {{2, {3, 4}}, {1, 0}},       {{3, {2, 3, 4}}, {2, 0, 1}},
      {{3, {2, 3, 4}}, {0, 1, 2}}, {{4, {2, 3, 4, 5}}, {3, 1, 2, 0}},
      {{1, {5}}, {0}},             {{0, {0}}, {0}},
      {{2, {0, 3}}, {1, 0}},       {{3, {1, 4, 1}}, {2, 1, 0}},
  };
  for (size_t s = 0; s < NELEMS(cases); s++) {
    const ct_shape *sh = &cases[s].s;
    int64_t od[KILN_MAX_DIMS], idx[KILN_MAX_DIMS];
    for (int d = 0; d < sh->nd; d++) od[d] = sh->d[cases[s].perm[d]];
    ct_case c = {0};
    ct_label(&c, "x%s", sh->d, sh->nd);
    ct_label(&c, " perm%s", cases[s].perm, sh->nd);
    ct_attr *tp = ct_case_attr(&c, "Tperm", CT_ATTR_TYPE);
    if (!tp || !ct_case_input(&c, dt, sh->d, sh->nd, ct_range_of(e, 0), rng) ||
        !ct_case_const_ints(&c, KILN_INT32, cases[s].perm, sh->nd, 1) ||
        !ct_case_output(&c, dt, od, sh->nd)) {
      ct_case_clear(&c);
      return false;
    }
    tp->t = KILN_INT32;
    for (int64_t o = 0; o < c.want[0].n; o++) {
      int64_t oi[KILN_MAX_DIMS];
      ct_unflatten(o, od, sh->nd, oi);
      for (int d = 0; d < sh->nd; d++) idx[cases[s].perm[d]] = oi[d];
      int64_t f = 0;
      for (int d = 0; d < sh->nd; d++) f = f * sh->d[d] + idx[d];
      c.want[0].v[o] = c.in[0].v[f];
    }
    if (!ct_fire(e, &c, emit, ctx)) return false;
  }
  return true;
}

typedef struct concat_case {
  int n;
  ct_shape s[3];
  int64_t axis;
} concat_case;

static const concat_case concat_cases[] = {
    {2, {{2, {2, 3}}, {2, {2, 4}}}, 1},
    {3, {{2, {1, 3}}, {2, {2, 3}}, {2, {3, 3}}}, 0},
    {2, {{3, {2, 2, 2}}, {3, {2, 2, 1}}}, -1},
    {3, {{1, {4}}, {1, {0}}, {1, {2}}}, 0},
    {2, {{3, {2, 1, 3}}, {3, {2, 2, 3}}}, 1},
};

/* Places input j of a concatenation or stack into the output. */
static void concat_ref(ct_case *c, int n, int axis, bool stack) {
  ct_array *w = &c->want[0];
  int64_t outer = 1, off = 0, inner_out = 1;
  for (int d = 0; d < axis; d++) outer *= w->dims[d];
  for (int d = axis; d < w->ndims; d++) inner_out *= w->dims[d];
  for (int j = 0; j < n; j++) {
    const ct_array *a = &c->in[c->in_const[0] ? j + 1 : j];
    int64_t inner = 1;
    for (int d = axis; d < a->ndims; d++) inner *= a->dims[d];
    if (stack && a->ndims == axis) inner = 1;
    for (int64_t o = 0; o < outer; o++)
      for (int64_t i = 0; i < inner; i++)
        w->v[o * inner_out + off + i] = a->v[o * inner + i];
    off += inner;
  }
}

/* ConcatV2 (values..., axis) or Concat (param "v1": axis, values...). */
bool ct_gen_concat(const ct_entry *e, kiln_dtype dt, kiln_dtype dt2, ct_rng *rng,
                   ct_emit_fn emit, void *ctx) {
  (void)dt2;
  bool v1 = e->param && strcmp(e->param, "v1") == 0;
  for (size_t s = 0; s < NELEMS(concat_cases); s++) {
    const concat_case *cc = &concat_cases[s];
    int nd = cc->s[0].nd;
    int axis = (int)(cc->axis < 0 ? cc->axis + nd : cc->axis);
    int64_t od[KILN_MAX_DIMS];
    memcpy(od, cc->s[0].d, sizeof(int64_t) * (size_t)nd);
    od[axis] = 0;
    ct_case c = {0};
    for (int j = 0; j < cc->n; j++) {
      od[axis] += cc->s[j].d[axis];
      ct_label(&c, j ? " %s" : "%s", cc->s[j].d, nd);
    }
    size_t at = strlen(c.label);
    snprintf(c.label + at, sizeof c.label - at, " axis=%lld", (long long)cc->axis);
    c.nargs = 2;
    c.arg_len[v1 ? 1 : 0] = cc->n;
    bool ok = !v1 || ct_case_const_ints(&c, KILN_INT32, &cc->axis, 1, 0);
    for (int j = 0; j < cc->n && ok; j++)
      ok = ct_case_input(&c, dt, cc->s[j].d, nd, ct_range_of(e, 0), rng);
    if (ok && !v1) {
      ok = ct_case_const_ints(&c, KILN_INT32, &cc->axis, 1, 0);
      ct_attr *ti = ok ? ct_case_attr(&c, "Tidx", CT_ATTR_TYPE) : NULL;
      if (ti) ti->t = KILN_INT32;
      ok = ti != NULL;
    }
    if (!ok || !ct_case_output(&c, dt, od, nd)) {
      ct_case_clear(&c);
      return false;
    }
    concat_ref(&c, cc->n, axis, false);
    if (!ct_fire(e, &c, emit, ctx)) return false;
  }
  return true;
}

/* Pack: N tensors of one shape stacked along a new axis. */
bool ct_gen_pack(const ct_entry *e, kiln_dtype dt, kiln_dtype dt2, ct_rng *rng,
                 ct_emit_fn emit, void *ctx) {
  (void)dt2;
  static const struct {
    int n;
    ct_shape s;
    int64_t axis;
  } cases[] = {{3, {2, {2, 3}}, 0}, {3, {2, {2, 3}}, 1}, {3, {2, {2, 3}}, 2},
               {2, {2, {2, 3}}, -1}, {2, {0, {0}}, 0}, {1, {1, {4}}, 0}};
  for (size_t s = 0; s < NELEMS(cases); s++) {
    const ct_shape *sh = &cases[s].s;
    int nd = sh->nd + 1;
    int axis = (int)(cases[s].axis < 0 ? cases[s].axis + nd : cases[s].axis);
    int64_t od[KILN_MAX_DIMS];
    for (int d = 0, q = 0; d < nd; d++) od[d] = d == axis ? cases[s].n : sh->d[q++];
    ct_case c = {0};
    snprintf(c.label, sizeof c.label, "N=%d ", cases[s].n);
    ct_label(&c, "x%s", sh->d, sh->nd);
    size_t at = strlen(c.label);
    snprintf(c.label + at, sizeof c.label - at, " axis=%lld",
             (long long)cases[s].axis);
    c.nargs = 1;
    c.arg_len[0] = cases[s].n;
    ct_attr *ax = ct_case_attr(&c, "axis", CT_ATTR_INT);
    bool ok = ax != NULL;
    for (int j = 0; j < cases[s].n && ok; j++)
      ok = ct_case_input(&c, dt, sh->d, sh->nd, ct_range_of(e, 0), rng);
    if (!ok || !ct_case_output(&c, dt, od, nd)) {
      ct_case_clear(&c);
      return false;
    }
    ax->i = cases[s].axis;
    concat_ref(&c, cases[s].n, axis, true);
    if (!ct_fire(e, &c, emit, ctx)) return false;
  }
  return true;
}

/* Select (param "v1": the condition matches t's shape or is a vector
** over its first dim) and SelectV2 (all three broadcast). Ranges: t, e. */
bool ct_gen_select(const ct_entry *e, kiln_dtype dt, kiln_dtype dt2, ct_rng *rng,
                   ct_emit_fn emit, void *ctx) {
  (void)dt2;
  /* only: 1 for Select alone, 2 for SelectV2 alone, 0 for both. */
  static const struct {
    ct_shape c, t, e;
    int only;
  } cases[] = {
      {{1, {7}}, {1, {7}}, {1, {7}}, 0},
      {{2, {3, 4}}, {2, {3, 4}}, {2, {3, 4}}, 0},
      {{1, {3}}, {2, {3, 4}}, {2, {3, 4}}, 1},
      {{0, {0}}, {2, {3, 4}}, {2, {3, 4}}, 0},
      {{2, {3, 1}}, {1, {4}}, {2, {3, 4}}, 2},
      {{1, {4}}, {2, {3, 4}}, {0, {0}}, 2},
  };
  static const ct_range cond_range = {0, 1, 0, 1, 0};
  bool v1 = e->param && strcmp(e->param, "v1") == 0;
  for (size_t s = 0; s < NELEMS(cases); s++) {
    /* Select's vector condition picks rows; SelectV2 aligns it right. */
    if (cases[s].only == (v1 ? 2 : 1)) continue;
    const ct_shape *cs = &cases[s].c, *ts = &cases[s].t, *es = &cases[s].e;
    int64_t od[KILN_MAX_DIMS], tmp[KILN_MAX_DIMS], idx[KILN_MAX_DIMS];
    int ond, tnd;
    if (v1) {
      memcpy(od, ts->d, sizeof ts->d);
      ond = ts->nd;
    } else if (!bcast_dims(ts->d, ts->nd, es->d, es->nd, tmp, &tnd) ||
               !bcast_dims(cs->d, cs->nd, tmp, tnd, od, &ond)) {
      return false;
    }
    ct_case c = {0};
    ct_label(&c, "cond%s", cs->d, cs->nd);
    ct_label(&c, " t%s", ts->d, ts->nd);
    ct_label(&c, " e%s", es->d, es->nd);
    if (!ct_case_input(&c, KILN_BOOL, cs->d, cs->nd, &cond_range, rng) ||
        !ct_case_input(&c, dt, ts->d, ts->nd, ct_range_of(e, 0), rng) ||
        !ct_case_input(&c, dt, es->d, es->nd, ct_range_of(e, 1), rng) ||
        !ct_case_output(&c, dt, od, ond)) {
      ct_case_clear(&c);
      return false;
    }
    for (int64_t i = 0; i < c.want[0].n; i++) {
      ct_unflatten(i, od, ond, idx);
      int64_t fc = v1 ? (cs->nd == ts->nd ? i : (cs->nd ? idx[0] : 0))
                      : bcast_flat(idx, ond, cs->d, cs->nd);
      bool pick = c.in[0].v[fc] != 0;
      c.want[0].v[i] = pick ? c.in[1].v[bcast_flat(idx, ond, ts->d, ts->nd)]
                            : c.in[2].v[bcast_flat(idx, ond, es->d, es->nd)];
    }
    if (!ct_fire(e, &c, emit, ctx)) return false;
  }
  return true;
}

/* FusedBatchNorm (V1: all T; V2/V3: x in T, the rest in U = dt2), NHWC.
** Outputs compared: y, and batch_mean in training mode. */
bool ct_gen_fused_batch_norm(const ct_entry *e, kiln_dtype dt, kiln_dtype dt2,
                             ct_rng *rng, ct_emit_fn emit, void *ctx) {
  static const struct {
    ct_shape x;
    bool training;
  } cases[] = {{{4, {2, 3, 3, 4}}, 0}, {{4, {2, 2, 2, 3}}, 1},
               {{4, {1, 1, 1, 2}}, 0}, {{4, {3, 2, 1, 2}}, 1}};
  static const ct_range var_range = {0.5, 2, 1, 2, 0};
  kiln_dtype ut = dt2 != KILN_INVALID_DTYPE ? dt2 : dt;
  const double eps = (double)0.001f;
  for (size_t s = 0; s < NELEMS(cases); s++) {
    const ct_shape *xs = &cases[s].x;
    bool tr = cases[s].training;
    int64_t C = xs->d[3], zero = 0;
    ct_case c = {0};
    ct_label(&c, "x%s", xs->d, 4);
    strcat(c.label, tr ? " is_training=1" : " is_training=0");
    ct_attr *it = ct_case_attr(&c, "is_training", CT_ATTR_BOOL);
    ct_attr *ep = ct_case_attr(&c, "epsilon", CT_ATTR_FLOAT);
    if (!it || !ep || !ct_case_input(&c, dt, xs->d, 4, ct_range_of(e, 0), rng) ||
        !ct_case_input(&c, ut, &C, 1, ct_range_of(e, 0), rng) ||
        !ct_case_input(&c, ut, &C, 1, ct_range_of(e, 0), rng) ||
        !ct_case_input(&c, ut, tr ? &zero : &C, 1, ct_range_of(e, 0), rng) ||
        !ct_case_input(&c, ut, tr ? &zero : &C, 1, &var_range, rng) ||
        !ct_case_output(&c, dt, xs->d, 4) ||
        (tr && !ct_case_output(&c, ut, &C, 1))) {
      ct_case_clear(&c);
      return false;
    }
    it->i = tr;
    ep->f = eps;
    int64_t per = c.in[0].n / C;
    for (int64_t ch = 0; ch < C; ch++) {
      double mean, var;
      if (tr) {
        double sum = 0, sq = 0;
        for (int64_t i = 0; i < per; i++) sum += c.in[0].v[i * C + ch];
        mean = sum / (double)per;
        for (int64_t i = 0; i < per; i++) {
          double d = c.in[0].v[i * C + ch] - mean;
          sq += d * d;
        }
        var = sq / (double)per;
        c.want[1].v[ch] = ct_round(ut, mean);
      } else {
        mean = c.in[3].v[ch];
        var = c.in[4].v[ch];
      }
      double inv = 1 / sqrt(var + eps);
      for (int64_t i = 0; i < per; i++)
        c.want[0].v[i * C + ch] = ct_round(
            dt, (c.in[0].v[i * C + ch] - mean) * inv * c.in[1].v[ch] + c.in[2].v[ch]);
    }
    if (!ct_fire(e, &c, emit, ctx)) return false;
  }
  return true;
}

/* Cast from dt (SrcT) to dt2 (DstT): C's conversions, as TensorFlow's. */
bool ct_gen_cast(const ct_entry *e, kiln_dtype dt, kiln_dtype dt2, ct_rng *rng,
                 ct_emit_fn emit, void *ctx) {
  static const ct_shape shapes[] = {{0, {0}}, {1, {7}}, {2, {3, 4}}, {1, {0}}};
  /* Negative values only where every conversion of them is defined. */
  bool nonneg = ct_dtype_class(dt2) == CT_U || ct_dtype_class(dt) == CT_U;
  ct_range r = {nonneg ? 0 : -4, 4, nonneg ? 0 : -4, 4, 0};
  (void)e;
  for (size_t s = 0; s < NELEMS(shapes); s++) {
    const ct_shape *sh = &shapes[s];
    ct_case c = {0};
    ct_label(&c, "x%s", sh->d, sh->nd);
    ct_attr *dst = ct_case_attr(&c, "DstT", CT_ATTR_TYPE);
    if (!dst || !ct_case_input(&c, dt, sh->d, sh->nd, &r, rng) ||
        !ct_case_output(&c, dt2, sh->d, sh->nd)) {
      ct_case_clear(&c);
      return false;
    }
    dst->t = dt2;
    for (int64_t i = 0; i < c.in[0].n; i++)
      c.want[0].v[i] = ct_round(dt2, c.in[0].v[i]);
    if (!ct_fire(e, &c, emit, ctx)) return false;
  }
  return true;
}

/* SparseTensorDenseMatMul: a sparse A (indices of Tindices and a_shape as
** Consts, values as an input) times a dense B, either side adjoint. The
** "mixed" cases give the indices out of order with one repeated, which
** the op sums (it needs no order). The reference densifies A. */
bool ct_gen_sparse_matmul(const ct_entry *e, kiln_dtype dt, kiln_dtype dt2,
                          ct_rng *rng, ct_emit_fn emit, void *ctx) {
  (void)dt2;
  static const struct {
    int64_t m, k, n, nnz;
    bool adj_a, adj_b, mixed;
  } cases[] = {
      {2, 3, 4, 3, 0, 0, 0}, {3, 2, 2, 4, 1, 0, 0}, {2, 3, 2, 2, 0, 1, 0},
      {3, 4, 2, 5, 1, 1, 0}, {4, 4, 3, 16, 0, 0, 0}, {2, 3, 4, 0, 0, 0, 0},
      {0, 3, 2, 0, 0, 0, 0}, {3, 5, 2, 6, 0, 0, 1}, {2, 2, 3, 3, 1, 0, 1},
  };
  for (size_t s = 0; s < NELEMS(cases); s++) {
    int64_t m = cases[s].m, k = cases[s].k, n = cases[s].n, nnz = cases[s].nnz;
    bool ta = cases[s].adj_a, tb = cases[s].adj_b, mixed = cases[s].mixed;
    /* A as stored: [m,k], or [k,m] when adjoint. */
    int64_t ad[2] = {ta ? k : m, ta ? m : k}, bd[2] = {tb ? n : k, tb ? k : n};
    int64_t cd[2] = {m, n}, total = m * k, stored = nnz + (mixed ? 1 : 0);
    int64_t pos[24];
    double ixv[48];
    ct_case c = {0};
    ct_label(&c, "a%s", ad, 2);
    ct_label(&c, " b%s", bd, 2);
    size_t at = strlen(c.label);
    snprintf(c.label + at, sizeof c.label - at,
             " nnz=%lld adjoint_a=%d adjoint_b=%d%s", (long long)stored, ta, tb,
             mixed ? " unordered, repeated" : "");
    /* Distinct ascending positions, then reversed and one repeated. */
    int64_t need = nnz;
    for (int64_t p = 0; p < total && need > 0; p++)
      if (ct_rng_unit(rng) * (double)(total - p) < (double)need)
        pos[nnz - need--] = p;
    if (mixed) {
      for (int64_t i = 0; i < nnz / 2; i++) {
        int64_t t = pos[i];
        pos[i] = pos[nnz - 1 - i];
        pos[nnz - 1 - i] = t;
      }
      pos[nnz] = pos[0];
    }
    for (int64_t i = 0; i < stored; i++) {
      ixv[2 * i] = (double)(pos[i] / ad[1]);
      ixv[2 * i + 1] = (double)(pos[i] % ad[1]);
    }
    kiln_dtype it = s % 2 ? KILN_INT64 : KILN_INT32;
    double shv[2] = {(double)ad[0], (double)ad[1]};
    int64_t ixd[2] = {stored, 2}, vd[1] = {stored}, rd[1] = {2};
    ct_attr *ti = ct_case_attr(&c, "Tindices", CT_ATTR_TYPE);
    ct_attr *x = ct_case_attr(&c, "adjoint_a", CT_ATTR_BOOL);
    ct_attr *y = ct_case_attr(&c, "adjoint_b", CT_ATTR_BOOL);
    double *dense = calloc((size_t)(total ? total : 1), sizeof *dense);
    if (!ti || !x || !y || !dense || !ct_case_const(&c, it, ixd, 2, ixv) ||
        !ct_case_input(&c, dt, vd, 1, ct_range_of(e, 0), rng) ||
        !ct_case_const(&c, KILN_INT64, rd, 1, shv) ||
        !ct_case_input(&c, dt, bd, 2, ct_range_of(e, 1), rng) ||
        !ct_case_output(&c, dt, cd, 2)) {
      free(dense);
      ct_case_clear(&c);
      return false;
    }
    ti->t = it;
    x->i = ta;
    y->i = tb;
    for (int64_t i = 0; i < stored; i++) dense[pos[i]] += c.in[1].v[i];
    matmul_ref(dense, c.in[3].v, c.want[0].v, m, k, n, ta, tb, dt);
    free(dense);
    if (!ct_fire(e, &c, emit, ctx)) return false;
  }
  return true;
}
