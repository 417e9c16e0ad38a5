/* Case generators for the ops that move values or describe shapes:
** identities, Const, Reshape, Squeeze, Tile, Pad, Slice, StridedSlice,
** Fill, BroadcastTo, Gather, Range, OneHot, Split, Unpack, Shape. Their
** references only copy values, so every comparison is exact. Index inputs
** alternate between int32 and int64 (the driver skips a case whose index
** type the kernel does not take). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "conformance.h"

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

static void label_fmt(ct_case *c, const char *fmt, long long v) {
  size_t at = strlen(c->label);
  snprintf(c->label + at, sizeof c->label - at, fmt, v);
}

static int64_t flat(const int64_t *idx, const int64_t *dims, int nd) {
  int64_t f = 0;
  for (int d = 0; d < nd; d++) f = f * dims[d] + idx[d];
  return f;
}

/* Sets type attr `name` and returns its dtype: int64 on odd cases. */
static kiln_dtype index_type(ct_case *c, const char *name, size_t s) {
  kiln_dtype t = s % 2 ? KILN_INT64 : KILN_INT32;
  ct_attr *a = ct_case_attr(c, name, CT_ATTR_TYPE);
  if (a) a->t = t;
  return t;
}

/* Clears a case whose making failed (out of memory). */
static bool fail(ct_case *c) {
  ct_case_clear(c);
  return false;
}

/* --------------------------------------------------- identities, Const */

static const ct_shape some_shapes[] = {
    {0, {0}}, {1, {7}}, {2, {3, 4}}, {3, {2, 3, 2}}, {2, {0, 3}},
};

/* Identity-like ops, by param: NULL copies, "zeros"/"ones" fill (ZerosLike,
** OnesLike), "pwd" is PlaceholderWithDefault (dtype and shape attrs),
** "n" is IdentityN over two inputs. */
bool ct_gen_identity(const ct_entry *e, kiln_dtype dt, kiln_dtype dt2,
                     ct_rng *rng, ct_emit_fn emit, void *ctx) {
  (void)dt2;
  const char *p = e->param ? e->param : "";
  int n = strcmp(p, "n") == 0 ? 2 : 1;
  for (size_t s = 0; s < NELEMS(some_shapes); s++) {
    const ct_shape *sh = &some_shapes[s];
    ct_case c = {0};
    ct_label(&c, "x%s", sh->d, sh->nd);
    if (n == 2) {
      c.nargs = 1;
      c.arg_len[0] = 2;
    }
    for (int j = 0; j < n; j++)
      if (!ct_case_input(&c, dt, sh->d, sh->nd, ct_range_of(e, 0), rng) ||
          !ct_case_output(&c, dt, sh->d, sh->nd))
        return fail(&c);
    if (strcmp(p, "pwd") == 0) {
      ct_attr *a = ct_case_attr(&c, "dtype", CT_ATTR_TYPE);
      ct_attr *b = ct_case_attr(&c, "shape", CT_ATTR_SHAPE);
      if (!a || !b) return fail(&c);
      a->t = dt;
      b->nints = sh->nd;
      memcpy(b->ints, sh->d, sizeof(int64_t) * (size_t)sh->nd);
    }
    for (int j = 0; j < n; j++)
      for (int64_t i = 0; i < c.in[j].n; i++)
        c.want[j].v[i] = !strcmp(p, "zeros") ? 0 : !strcmp(p, "ones") ? 1 : c.in[j].v[i];
    if (!ct_fire(e, &c, emit, ctx)) return false;
  }
  return true;
}

bool ct_gen_const(const ct_entry *e, kiln_dtype dt, kiln_dtype dt2, ct_rng *rng,
                  ct_emit_fn emit, void *ctx) {
  (void)dt2;
  for (size_t s = 0; s < NELEMS(some_shapes); s++) {
    const ct_shape *sh = &some_shapes[s];
    ct_case c = {0};
    ct_label(&c, "value%s", sh->d, sh->nd);
    ct_attr *v = ct_case_attr(&c, "value", CT_ATTR_TENSOR);
    ct_attr *t = ct_case_attr(&c, "dtype", CT_ATTR_TYPE);
    if (!v || !t || !ct_array_init(&c.attr_value, dt, sh->d, sh->nd) ||
        !ct_case_output(&c, dt, sh->d, sh->nd))
      return fail(&c);
    t->t = dt;
    ct_fill(&c.attr_value, ct_range_of(e, 0), rng);
    memcpy(c.want[0].v, c.attr_value.v, sizeof(double) * (size_t)c.attr_value.n);
    if (!ct_fire(e, &c, emit, ctx)) return false;
  }
  return true;
}

/* ------------------------------------------------ Reshape, ExpandDims */

/* Reshape (param NULL: the shape input, -1 inferred) and ExpandDims
** (param "expand": the dim input). The values never move. */
bool ct_gen_reshape(const ct_entry *e, kiln_dtype dt, kiln_dtype dt2,
                    ct_rng *rng, ct_emit_fn emit, void *ctx) {
  (void)dt2;
  static const struct {
    ct_shape in, to;
  } reshapes[] = {
      {{2, {3, 4}}, {2, {4, 3}}},  {{3, {2, 3, 4}}, {2, {6, -1}}},
      {{1, {12}}, {3, {2, 2, 3}}}, {{0, {0}}, {1, {1}}},
      {{1, {1}}, {0, {0}}},        {{2, {0, 3}}, {2, {3, 0}}},
      {{2, {2, 3}}, {1, {-1}}},
  };
  static const struct {
    ct_shape in;
    int64_t dim;
  } expands[] = {{{2, {3, 4}}, 0}, {{2, {3, 4}}, 2}, {{2, {3, 4}}, -1}, {{0, {0}}, 0},
                 {{3, {2, 1, 2}}, -3}};
  bool expand = e->param && strcmp(e->param, "expand") == 0;
  size_t n = expand ? NELEMS(expands) : NELEMS(reshapes);
  for (size_t s = 0; s < n; s++) {
    const ct_shape *in = expand ? &expands[s].in : &reshapes[s].in;
    int64_t od[KILN_MAX_DIMS];
    int ond;
    ct_case c = {0};
    ct_label(&c, "x%s", in->d, in->nd);
    if (expand) {
      int64_t d = expands[s].dim < 0 ? expands[s].dim + in->nd + 1 : expands[s].dim;
      ond = in->nd + 1;
      for (int i = 0, q = 0; i < ond; i++) od[i] = i == d ? 1 : in->d[q++];
      label_fmt(&c, " dim=%lld", (long long)expands[s].dim);
    } else {
      const ct_shape *to = &reshapes[s].to;
      int64_t known = 1, total = 1;
      ond = to->nd;
      for (int i = 0; i < in->nd; i++) total *= in->d[i];
      for (int i = 0; i < ond; i++)
        if (to->d[i] >= 0) known *= to->d[i];
      for (int i = 0; i < ond; i++)
        od[i] = to->d[i] >= 0 ? to->d[i] : (known ? total / known : 0);
      ct_label(&c, " shape%s", to->d, to->nd);
    }
    kiln_dtype it = index_type(&c, expand ? "Tdim" : "Tshape", s);
    if (!ct_case_input(&c, dt, in->d, in->nd, ct_range_of(e, 0), rng) ||
        !(expand ? ct_case_const_ints(&c, it, &expands[s].dim, 1, 0)
                 : ct_case_const_ints(&c, it, reshapes[s].to.d, reshapes[s].to.nd, 1)) ||
        !ct_case_output(&c, dt, od, ond))
      return fail(&c);
    memcpy(c.want[0].v, c.in[0].v, sizeof(double) * (size_t)c.in[0].n);
    if (!ct_fire(e, &c, emit, ctx)) return false;
  }
  return true;
}

bool ct_gen_squeeze(const ct_entry *e, kiln_dtype dt, kiln_dtype dt2,
                    ct_rng *rng, ct_emit_fn emit, void *ctx) {
  (void)dt2;
  static const struct {
    ct_shape in;
    int n;
    int64_t dims[2];
  } cases[] = {{{4, {1, 3, 1, 4}}, 0, {0}}, {{4, {1, 3, 1, 4}}, 1, {2}},
               {{4, {1, 3, 1, 4}}, 1, {-4}}, {{1, {1}}, 0, {0}},
               {{3, {2, 1, 1}}, 2, {1, -1}}};
  for (size_t s = 0; s < NELEMS(cases); s++) {
    const ct_shape *in = &cases[s].in;
    bool drop[KILN_MAX_DIMS] = {false};
    for (int i = 0; i < in->nd; i++) drop[i] = cases[s].n == 0 && in->d[i] == 1;
    for (int j = 0; j < cases[s].n; j++)
      drop[cases[s].dims[j] < 0 ? cases[s].dims[j] + in->nd : cases[s].dims[j]] = true;
    int64_t od[KILN_MAX_DIMS];
    int ond = 0;
    for (int i = 0; i < in->nd; i++)
      if (!drop[i]) od[ond++] = in->d[i];
    ct_case c = {0};
    ct_label(&c, "x%s", in->d, in->nd);
    ct_label(&c, " squeeze_dims%s", cases[s].dims, cases[s].n);
    ct_attr *a = ct_case_attr(&c, "squeeze_dims", CT_ATTR_INTS);
    if (!a || !ct_case_input(&c, dt, in->d, in->nd, ct_range_of(e, 0), rng) ||
        !ct_case_output(&c, dt, od, ond))
      return fail(&c);
    a->nints = cases[s].n;
    memcpy(a->ints, cases[s].dims, sizeof cases[s].dims);
    memcpy(c.want[0].v, c.in[0].v, sizeof(double) * (size_t)c.in[0].n);
    if (!ct_fire(e, &c, emit, ctx)) return false;
  }
  return true;
}

/* ------------------------------------------------ Tile, BroadcastTo */

bool ct_gen_tile(const ct_entry *e, kiln_dtype dt, kiln_dtype dt2, ct_rng *rng,
                 ct_emit_fn emit, void *ctx) {
  (void)dt2;
  static const struct {
    ct_shape in;
    int64_t mult[3];
  } cases[] = {{{2, {2, 3}}, {2, 1}}, {{2, {2, 3}}, {1, 3}}, {{1, {3}}, {4}},
               {{3, {2, 1, 2}}, {1, 3, 2}}, {{0, {0}}, {0}}, {{2, {2, 3}}, {0, 1}}};
  for (size_t s = 0; s < NELEMS(cases); s++) {
    const ct_shape *in = &cases[s].in;
    int64_t od[KILN_MAX_DIMS], idx[KILN_MAX_DIMS];
    for (int i = 0; i < in->nd; i++) od[i] = in->d[i] * cases[s].mult[i];
    ct_case c = {0};
    ct_label(&c, "x%s", in->d, in->nd);
    ct_label(&c, " multiples%s", cases[s].mult, in->nd);
    kiln_dtype it = index_type(&c, "Tmultiples", s);
    if (!ct_case_input(&c, dt, in->d, in->nd, ct_range_of(e, 0), rng) ||
        !ct_case_const_ints(&c, it, cases[s].mult, in->nd, 1) ||
        !ct_case_output(&c, dt, od, in->nd))
      return fail(&c);
    for (int64_t o = 0; o < c.want[0].n; o++) {
      ct_unflatten(o, od, in->nd, idx);
      for (int i = 0; i < in->nd; i++) idx[i] %= in->d[i];
      c.want[0].v[o] = c.in[0].v[flat(idx, in->d, in->nd)];
    }
    if (!ct_fire(e, &c, emit, ctx)) return false;
  }
  return true;
}

bool ct_gen_broadcast_to(const ct_entry *e, kiln_dtype dt, kiln_dtype dt2,
                         ct_rng *rng, ct_emit_fn emit, void *ctx) {
  (void)dt2;
  static const struct {
    ct_shape in, to;
  } cases[] = {{{1, {3}}, {2, {2, 3}}}, {{1, {1}}, {1, {4}}},
               {{2, {2, 1}}, {2, {2, 3}}}, {{0, {0}}, {2, {2, 2}}},
               {{2, {3, 1}}, {3, {2, 3, 4}}}, {{2, {2, 3}}, {2, {2, 3}}}};
  for (size_t s = 0; s < NELEMS(cases); s++) {
    const ct_shape *in = &cases[s].in, *to = &cases[s].to;
    int64_t idx[KILN_MAX_DIMS];
    ct_case c = {0};
    ct_label(&c, "x%s", in->d, in->nd);
    ct_label(&c, " shape%s", to->d, to->nd);
    kiln_dtype it = index_type(&c, "Tidx", s);
    if (!ct_case_input(&c, dt, in->d, in->nd, ct_range_of(e, 0), rng) ||
        !ct_case_const_ints(&c, it, to->d, to->nd, 1) ||
        !ct_case_output(&c, dt, to->d, to->nd))
      return fail(&c);
    for (int64_t o = 0; o < c.want[0].n; o++) {
      ct_unflatten(o, to->d, to->nd, idx);
      int64_t f = 0;
      for (int d = 0; d < in->nd; d++)
        f = f * in->d[d] + (in->d[d] == 1 ? 0 : idx[to->nd - in->nd + d]);
      c.want[0].v[o] = c.in[0].v[f];
    }
    if (!ct_fire(e, &c, emit, ctx)) return false;
  }
  return true;
}

/* -------------------------------------------------------------- Pad */

/* Pad (param NULL), PadV2 ("v2": a constant value input) and MirrorPad
** ("mirror": each case in REFLECT and in SYMMETRIC mode). */
static bool gen_pad(const ct_entry *e, kiln_dtype dt, const char *p,
                    ct_rng *rng, ct_emit_fn emit, void *ctx);

bool ct_gen_pad(const ct_entry *e, kiln_dtype dt, kiln_dtype dt2, ct_rng *rng,
                ct_emit_fn emit, void *ctx) {
  (void)dt2;
  const char *p = e->param ? e->param : "";
  if (strcmp(p, "mirror") != 0) return gen_pad(e, dt, p, rng, emit, ctx);
  return gen_pad(e, dt, "reflect", rng, emit, ctx) &&
         gen_pad(e, dt, "symmetric", rng, emit, ctx);
}

static bool gen_pad(const ct_entry *e, kiln_dtype dt, const char *p,
                    ct_rng *rng, ct_emit_fn emit, void *ctx) {
  static const struct {
    ct_shape in;
    int64_t pad[3][2];
    bool mirror_ok;
  } cases[] = {
      {{2, {2, 3}}, {{1, 0}, {2, 1}}, true},
      {{1, {3}}, {{2, 2}}, true},
      {{3, {2, 2, 3}}, {{0, 1}, {1, 1}, {0, 0}}, true},
      {{2, {3, 4}}, {{1, 2}, {2, 1}}, true},
      {{1, {5}}, {{0, 3}}, true},
      {{0, {0}}, {{0, 0}}, false},
      {{2, {0, 2}}, {{1, 1}, {0, 1}}, false},
  };
  bool v2 = !strcmp(p, "v2"), reflect = !strcmp(p, "reflect"),
       symmetric = !strcmp(p, "symmetric");
  for (size_t s = 0; s < NELEMS(cases); s++) {
    const ct_shape *in = &cases[s].in;
    int nd = in->nd;
    bool ok_case = true;
    int64_t od[KILN_MAX_DIMS], idx[KILN_MAX_DIMS], pads[6];
    for (int i = 0; i < nd; i++) {
      od[i] = in->d[i] + cases[s].pad[i][0] + cases[s].pad[i][1];
      pads[2 * i] = cases[s].pad[i][0];
      pads[2 * i + 1] = cases[s].pad[i][1];
      /* REFLECT needs paddings below the dim, SYMMETRIC at most the dim. */
      if ((reflect && (pads[2 * i] >= in->d[i] || pads[2 * i + 1] >= in->d[i])) ||
          (symmetric && (pads[2 * i] > in->d[i] || pads[2 * i + 1] > in->d[i])))
        ok_case = false;
    }
    if ((reflect || symmetric) && (!ok_case || !cases[s].mirror_ok)) continue;
    ct_case c = {0};
    ct_label(&c, "x%s", in->d, in->nd);
    ct_label(&c, " paddings%s", pads, 2 * nd);
    kiln_dtype it = index_type(&c, "Tpaddings", s);
    int64_t pd[2] = {nd, 2};
    double pv[6];
    for (int i = 0; i < 2 * nd; i++) pv[i] = (double)pads[i];
    double fill = 0;
    if (!ct_case_input(&c, dt, in->d, nd, ct_range_of(e, 0), rng) ||
        !ct_case_const(&c, it, pd, 2, pv) || !ct_case_output(&c, dt, od, nd))
      return fail(&c);
    if (v2) {
      if (!ct_case_input(&c, dt, NULL, 0, ct_range_of(e, 0), rng)) return fail(&c);
      fill = c.in[2].v[0];
    }
    if (reflect || symmetric) {
      ct_attr *m = ct_case_attr(&c, "mode", CT_ATTR_STRING);
      if (!m) return fail(&c);
      m->s = reflect ? "REFLECT" : "SYMMETRIC";
      label_fmt(&c, reflect ? " REFLECT" : " SYMMETRIC", 0);
    }
    for (int64_t o = 0; o < c.want[0].n; o++) {
      ct_unflatten(o, od, nd, idx);
      bool inside = true;
      for (int d = 0; d < nd; d++) {
        int64_t i = idx[d] - pads[2 * d], n = in->d[d];
        if (i < 0) i = reflect ? -i : symmetric ? -i - 1 : (inside = false, 0);
        else if (i >= n) i = reflect ? 2 * n - 2 - i : symmetric ? 2 * n - 1 - i
                                                                 : (inside = false, 0);
        idx[d] = i;
      }
      c.want[0].v[o] = inside ? c.in[0].v[flat(idx, in->d, nd)] : fill;
    }
    if (!ct_fire(e, &c, emit, ctx)) return false;
  }
  return true;
}

/* ------------------------------------------------ Slice, StridedSlice */

bool ct_gen_slice(const ct_entry *e, kiln_dtype dt, kiln_dtype dt2, ct_rng *rng,
                  ct_emit_fn emit, void *ctx) {
  (void)dt2;
  static const struct {
    ct_shape in;
    int64_t begin[3], size[3];
  } cases[] = {{{2, {3, 4}}, {1, 0}, {2, -1}},   {{1, {5}}, {2}, {3}},
               {{3, {2, 3, 4}}, {0, 1, 1}, {2, 2, 2}},
               {{2, {3, 4}}, {1, 1}, {0, 2}},     {{0, {0}}, {0}, {0}},
               {{2, {3, 4}}, {0, 0}, {-1, -1}}};
  for (size_t s = 0; s < NELEMS(cases); s++) {
    const ct_shape *in = &cases[s].in;
    int nd = in->nd;
    int64_t od[KILN_MAX_DIMS], idx[KILN_MAX_DIMS];
    for (int i = 0; i < nd; i++)
      od[i] = cases[s].size[i] < 0 ? in->d[i] - cases[s].begin[i] : cases[s].size[i];
    ct_case c = {0};
    ct_label(&c, "x%s", in->d, nd);
    ct_label(&c, " begin%s", cases[s].begin, nd);
    ct_label(&c, " size%s", cases[s].size, nd);
    kiln_dtype it = index_type(&c, "Index", s);
    if (!ct_case_input(&c, dt, in->d, nd, ct_range_of(e, 0), rng) ||
        !ct_case_const_ints(&c, it, cases[s].begin, nd, 1) ||
        !ct_case_const_ints(&c, it, cases[s].size, nd, 1) ||
        !ct_case_output(&c, dt, od, nd))
      return fail(&c);
    for (int64_t o = 0; o < c.want[0].n; o++) {
      ct_unflatten(o, od, nd, idx);
      for (int d = 0; d < nd; d++) idx[d] += cases[s].begin[d];
      c.want[0].v[o] = c.in[0].v[flat(idx, in->d, nd)];
    }
    if (!ct_fire(e, &c, emit, ctx)) return false;
  }
  return true;
}

/* StridedSlice with begin/end masks and shrink_axis_mask (no ellipsis, no
** new axes), by TensorFlow's rules: negative indices count from the end,
** then clamp to [0, n] for positive strides and [-1, n-1] for negative. */
bool ct_gen_strided_slice(const ct_entry *e, kiln_dtype dt, kiln_dtype dt2,
                          ct_rng *rng, ct_emit_fn emit, void *ctx) {
  (void)dt2;
  static const struct {
    ct_shape in;
    int n;
    int64_t b[3], en[3], st[3];
    int bmask, emask, shrink;
  } cases[] = {
      {{1, {5}}, 1, {1}, {4}, {1}, 0, 0, 0},
      {{1, {6}}, 1, {0}, {6}, {2}, 0, 0, 0},
      {{1, {5}}, 1, {4}, {0}, {-1}, 0, 0, 0},
      {{1, {5}}, 1, {0}, {0}, {-2}, 1, 1, 0},
      {{2, {3, 4}}, 2, {0, 1}, {3, 4}, {2, 1}, 0, 0, 0},
      {{2, {3, 4}}, 2, {1, 0}, {2, 4}, {1, 1}, 0, 0, 1},
      {{3, {2, 3, 4}}, 3, {0, 0, 0}, {0, 2, 0}, {1, 1, 2}, 5, 5, 0},
      {{2, {3, 4}}, 1, {-2}, {10}, {1}, 0, 0, 0},
      {{2, {3, 4}}, 2, {-1, -1}, {-10, 0}, {-1, 1}, 0, 0, 2},
      {{1, {4}}, 1, {3}, {1}, {1}, 0, 0, 0},
  };
  for (size_t s = 0; s < NELEMS(cases); s++) {
    const ct_shape *in = &cases[s].in;
    int nd = in->nd;
    int64_t beg[KILN_MAX_DIMS], len[KILN_MAX_DIMS], str[KILN_MAX_DIMS];
    int64_t od[KILN_MAX_DIMS], full[KILN_MAX_DIMS], idx[KILN_MAX_DIMS];
    int ond = 0;
    for (int d = 0; d < nd; d++) {
      int64_t n = in->d[d];
      if (d >= cases[s].n) {
        beg[d] = 0;
        str[d] = 1;
        len[d] = n;
        od[ond++] = n;
        continue;
      }
      int64_t st = cases[s].st[d], b = cases[s].b[d], en = cases[s].en[d];
      bool shrink = cases[s].shrink >> d & 1;
      str[d] = st;
      if (shrink) {
        beg[d] = b < 0 ? b + n : b;
        len[d] = 1;
        continue;
      }
      int64_t lo = st > 0 ? 0 : -1, hi = st > 0 ? n : n - 1;
      if (cases[s].bmask >> d & 1) b = st > 0 ? 0 : n - 1;
      else {
        if (b < 0) b += n;
        b = b < lo ? lo : b > hi ? hi : b;
      }
      if (cases[s].emask >> d & 1) en = st > 0 ? n : -1;
      else {
        if (en < 0) en += n;
        en = en < lo ? lo : en > hi ? hi : en;
      }
      int64_t l = st > 0 ? (en - b + st - 1) / st : (b - en - st - 1) / -st;
      beg[d] = b;
      len[d] = l > 0 ? l : 0;
      od[ond++] = len[d];
    }
    ct_case c = {0};
    ct_label(&c, "x%s", in->d, nd);
    ct_label(&c, " begin%s", cases[s].b, cases[s].n);
    ct_label(&c, " end%s", cases[s].en, cases[s].n);
    ct_label(&c, " strides%s", cases[s].st, cases[s].n);
    label_fmt(&c, " begin_mask=%lld", cases[s].bmask);
    label_fmt(&c, " end_mask=%lld", cases[s].emask);
    label_fmt(&c, " shrink_axis_mask=%lld", cases[s].shrink);
    kiln_dtype it = index_type(&c, "Index", s);
    ct_attr *bm = ct_case_attr(&c, "begin_mask", CT_ATTR_INT);
    ct_attr *em = ct_case_attr(&c, "end_mask", CT_ATTR_INT);
    ct_attr *sm = ct_case_attr(&c, "shrink_axis_mask", CT_ATTR_INT);
    if (!bm || !em || !sm ||
        !ct_case_input(&c, dt, in->d, nd, ct_range_of(e, 0), rng) ||
        !ct_case_const_ints(&c, it, cases[s].b, cases[s].n, 1) ||
        !ct_case_const_ints(&c, it, cases[s].en, cases[s].n, 1) ||
        !ct_case_const_ints(&c, it, cases[s].st, cases[s].n, 1) ||
        !ct_case_output(&c, dt, od, ond))
      return fail(&c);
    bm->i = cases[s].bmask;
    em->i = cases[s].emask;
    sm->i = cases[s].shrink;
    for (int64_t o = 0; o < c.want[0].n; o++) {
      ct_unflatten(o, len, nd, full);
      for (int d = 0; d < nd; d++) idx[d] = beg[d] + full[d] * str[d];
      c.want[0].v[o] = c.in[0].v[flat(idx, in->d, nd)];
    }
    if (!ct_fire(e, &c, emit, ctx)) return false;
  }
  return true;
}

/* ------------------------------------------------------- Fill, Range */

bool ct_gen_fill(const ct_entry *e, kiln_dtype dt, kiln_dtype dt2, ct_rng *rng,
                 ct_emit_fn emit, void *ctx) {
  (void)dt2;
  static const ct_shape shapes[] = {{2, {2, 3}}, {0, {0}}, {2, {0, 4}}, {1, {5}}};
  for (size_t s = 0; s < NELEMS(shapes); s++) {
    const ct_shape *sh = &shapes[s];
    ct_case c = {0};
    ct_label(&c, "dims%s", sh->d, sh->nd);
    kiln_dtype it = index_type(&c, "index_type", s);
    if (!ct_case_const_ints(&c, it, sh->d, sh->nd, 1) ||
        !ct_case_input(&c, dt, NULL, 0, ct_range_of(e, 0), rng) ||
        !ct_case_output(&c, dt, sh->d, sh->nd))
      return fail(&c);
    for (int64_t i = 0; i < c.want[0].n; i++) c.want[0].v[i] = c.in[1].v[0];
    if (!ct_fire(e, &c, emit, ctx)) return false;
  }
  return true;
}

/* Range: start, limit, delta fed as scalars of Tidx (dt). */
bool ct_gen_range(const ct_entry *e, kiln_dtype dt, kiln_dtype dt2, ct_rng *rng,
                  ct_emit_fn emit, void *ctx) {
  (void)dt2;
  static const double cases[][3] = {{0, 5, 1}, {2, 11, 3}, {5, 0, -2}, {1, 1, 1},
                                    {0.5, 3, 0.75}, {-3, 3, 2.5}, {3, -2, -1}};
  static const ct_range zero = {0, 0, 0, 0, 0};
  unsigned cls = ct_dtype_class(dt);
  for (size_t s = 0; s < NELEMS(cases); s++) {
    const double *v = cases[s];
    bool frac = v[0] != floor(v[0]) || v[2] != floor(v[2]);
    bool neg = v[0] < 0 || v[1] < 0 || v[2] < 0;
    if ((frac && cls != CT_F) || (neg && cls == CT_U)) continue;
    int64_t n = cls == CT_F ? (int64_t)ceil(fabs((v[1] - v[0]) / v[2]))
                            : (int64_t)((fabs(v[1] - v[0]) + fabs(v[2]) - 1) / fabs(v[2]));
    if ((v[1] - v[0]) * v[2] < 0) n = 0;
    ct_case c = {0};
    snprintf(c.label, sizeof c.label, "start=%g limit=%g delta=%g", v[0], v[1], v[2]);
    for (int j = 0; j < 3; j++) {
      if (!ct_case_input(&c, dt, NULL, 0, &zero, rng)) return fail(&c);
      c.in[j].v[0] = ct_round(dt, v[j]);
    }
    if (!ct_case_output(&c, dt, &n, 1)) return fail(&c);
    /* Each value is start + i * delta: TensorFlow accumulates in T; the
    ** table's tolerance covers the difference for floats. */
    for (int64_t i = 0; i < n; i++)
      c.want[0].v[i] = ct_round(dt, c.in[0].v[0] + (double)i * c.in[2].v[0]);
    if (!ct_fire(e, &c, emit, ctx)) return false;
  }
  (void)e;
  return true;
}

/* ---------------------------------------------------- Gather, OneHot */

/* GatherV2 (axis input) and Gather (param "v1": axis 0). */
bool ct_gen_gather(const ct_entry *e, kiln_dtype dt, kiln_dtype dt2, ct_rng *rng,
                   ct_emit_fn emit, void *ctx) {
  (void)dt2;
  static const struct {
    ct_shape params, indices;
    int64_t axis;
  } cases[] = {{{1, {5}}, {1, {3}}, 0},       {{2, {4, 3}}, {2, {2, 2}}, 0},
               {{2, {4, 3}}, {1, {5}}, 1},    {{3, {2, 3, 4}}, {0, {0}}, 1},
               {{2, {3, 2}}, {1, {0}}, 0},    {{2, {4, 3}}, {1, {2}}, -1}};
  bool v1 = e->param && strcmp(e->param, "v1") == 0;
  for (size_t s = 0; s < NELEMS(cases); s++) {
    if (v1 && cases[s].axis != 0) continue;
    const ct_shape *p = &cases[s].params, *q = &cases[s].indices;
    int ax = (int)(cases[s].axis < 0 ? cases[s].axis + p->nd : cases[s].axis);
    int64_t od[KILN_MAX_DIMS], idx[KILN_MAX_DIMS], pi[KILN_MAX_DIMS];
    int ond = 0;
    for (int d = 0; d < ax; d++) od[ond++] = p->d[d];
    for (int d = 0; d < q->nd; d++) od[ond++] = q->d[d];
    for (int d = ax + 1; d < p->nd; d++) od[ond++] = p->d[d];
    ct_case c = {0};
    ct_label(&c, "params%s", p->d, p->nd);
    ct_label(&c, " indices%s", q->d, q->nd);
    if (!v1) label_fmt(&c, " axis=%lld", (long long)cases[s].axis);
    kiln_dtype it = index_type(&c, "Tindices", s);
    ct_range ir = {0, 0, 0, (int)p->d[ax] - 1, 0};
    if (!ct_case_input(&c, dt, p->d, p->nd, ct_range_of(e, 0), rng) ||
        !ct_case_input(&c, it, q->d, q->nd, &ir, rng) ||
        (!v1 && !ct_case_const_ints(&c, KILN_INT32, &cases[s].axis, 1, 0)) ||
        !ct_case_output(&c, dt, od, ond))
      return fail(&c);
    if (!v1) {
      ct_attr *ta = ct_case_attr(&c, "Taxis", CT_ATTR_TYPE);
      if (!ta) return fail(&c);
      ta->t = KILN_INT32;
    }
    for (int64_t o = 0; o < c.want[0].n; o++) {
      ct_unflatten(o, od, ond, idx);
      int k = 0;
      for (int d = 0; d < ax; d++) pi[d] = idx[k++];
      int64_t qi = flat(idx + k, q->d, q->nd);
      k += q->nd;
      pi[ax] = (int64_t)c.in[1].v[qi];
      for (int d = ax + 1; d < p->nd; d++) pi[d] = idx[k++];
      c.want[0].v[o] = c.in[0].v[flat(pi, p->d, p->nd)];
    }
    if (!ct_fire(e, &c, emit, ctx)) return false;
  }
  return true;
}

bool ct_gen_one_hot(const ct_entry *e, kiln_dtype dt, kiln_dtype dt2,
                    ct_rng *rng, ct_emit_fn emit, void *ctx) {
  (void)dt2;
  static const struct {
    ct_shape idx;
    int64_t depth, axis;
  } cases[] = {{{1, {4}}, 3, -1}, {{2, {2, 3}}, 4, -1}, {{2, {2, 3}}, 2, 0},
               {{0, {0}}, 3, -1}, {{2, {2, 3}}, 3, 1}};
  /* Out-of-range indices (-1, depth) give all off values. */
  for (size_t s = 0; s < NELEMS(cases); s++) {
    const ct_shape *q = &cases[s].idx;
    int64_t depth = cases[s].depth;
    int ax = (int)(cases[s].axis < 0 ? q->nd : cases[s].axis);
    int64_t od[KILN_MAX_DIMS], idx[KILN_MAX_DIMS], qi[KILN_MAX_DIMS];
    int ond = q->nd + 1;
    for (int d = 0, k = 0; d < ond; d++) od[d] = d == ax ? depth : q->d[k++];
    ct_case c = {0};
    ct_label(&c, "indices%s", q->d, q->nd);
    label_fmt(&c, " depth=%lld", (long long)depth);
    label_fmt(&c, " axis=%lld", (long long)cases[s].axis);
    kiln_dtype it = index_type(&c, "TI", s);
    ct_range ir = {0, 0, -1, (int)depth, 0};
    ct_attr *a = ct_case_attr(&c, "axis", CT_ATTR_INT);
    double on = ct_dtype_class(dt) == CT_F ? 1.5 : 1, off = ct_dtype_class(dt) == CT_F ? -0.5 : 0;
    if (!a || !ct_case_input(&c, it, q->d, q->nd, &ir, rng) ||
        !ct_case_const_ints(&c, KILN_INT32, &depth, 1, 0) ||
        !ct_case_const(&c, dt, NULL, 0, &on) || !ct_case_const(&c, dt, NULL, 0, &off) ||
        !ct_case_output(&c, dt, od, ond))
      return fail(&c);
    a->i = cases[s].axis;
    for (int64_t o = 0; o < c.want[0].n; o++) {
      ct_unflatten(o, od, ond, idx);
      for (int d = 0, k = 0; d < ond; d++)
        if (d != ax) qi[k++] = idx[d];
      c.want[0].v[o] = c.in[0].v[flat(qi, q->d, q->nd)] == (double)idx[ax]
                           ? c.in[2].v[0] : c.in[3].v[0];
    }
    if (!ct_fire(e, &c, emit, ctx)) return false;
  }
  return true;
}

/* -------------------------------------------------- Split, Unpack */

/* Copies the slab [off, off + len) of `axis` of src into dst. */
static void take_slab(const ct_array *src, int axis, int64_t off, ct_array *dst) {
  int64_t idx[KILN_MAX_DIMS];
  for (int64_t o = 0; o < dst->n; o++) {
    ct_unflatten(o, dst->dims, dst->ndims, idx);
    idx[axis] += off;
    dst->v[o] = src->v[flat(idx, src->dims, src->ndims)];
  }
}

/* Split (split_dim, value; num_split) and SplitV (param "v": value,
** size_splits, split_dim). The first CT_MAX_OUTPUTS outputs are compared. */
bool ct_gen_split(const ct_entry *e, kiln_dtype dt, kiln_dtype dt2, ct_rng *rng,
                  ct_emit_fn emit, void *ctx) {
  (void)dt2;
  static const struct {
    ct_shape in;
    int64_t axis;
    int n;
    int64_t sizes[3];
  } cases[] = {{{2, {4, 6}}, 1, 2, {3, 3}},   {{1, {6}}, 0, 3, {2, 2, 2}},
               {{3, {2, 4, 2}}, -2, 2, {2, 2}}, {{2, {4, 6}}, 1, 2, {1, 5}},
               {{1, {6}}, 0, 3, {2, -1, 1}},  {{2, {3, 4}}, 0, 2, {3, 0}}};
  bool v = e->param && strcmp(e->param, "v") == 0;
  for (size_t s = 0; s < NELEMS(cases); s++) {
    const ct_shape *in = &cases[s].in;
    int n = cases[s].n;
    int ax = (int)(cases[s].axis < 0 ? cases[s].axis + in->nd : cases[s].axis);
    bool even = true;
    for (int j = 0; j < n; j++) even = even && cases[s].sizes[j] == in->d[ax] / n;
    if (!v && !even) continue;
    int64_t sizes[3], known = 0;
    for (int j = 0; j < n; j++) known += cases[s].sizes[j] > 0 ? cases[s].sizes[j] : 0;
    for (int j = 0; j < n; j++)
      sizes[j] = cases[s].sizes[j] >= 0 ? cases[s].sizes[j] : in->d[ax] - known;
    ct_case c = {0};
    ct_label(&c, "x%s", in->d, in->nd);
    label_fmt(&c, " axis=%lld", (long long)cases[s].axis);
    if (v) ct_label(&c, " size_splits%s", cases[s].sizes, n);
    else label_fmt(&c, " num_split=%lld", n);
    ct_attr *ns = ct_case_attr(&c, "num_split", CT_ATTR_INT);
    if (!ns) return fail(&c);
    ns->i = n;
    bool ok;
    if (v) {
      kiln_dtype it = index_type(&c, "Tlen", s);
      ok = ct_case_input(&c, dt, in->d, in->nd, ct_range_of(e, 0), rng) &&
           ct_case_const_ints(&c, it, cases[s].sizes, n, 1) &&
           ct_case_const_ints(&c, KILN_INT32, &cases[s].axis, 1, 0);
    } else {
      ok = ct_case_const_ints(&c, KILN_INT32, &cases[s].axis, 1, 0) &&
           ct_case_input(&c, dt, in->d, in->nd, ct_range_of(e, 0), rng);
    }
    const ct_array *x = &c.in[v ? 0 : 1];
    int64_t off = 0;
    for (int j = 0; ok && j < n && j < CT_MAX_OUTPUTS; j++) {
      int64_t od[KILN_MAX_DIMS];
      memcpy(od, in->d, sizeof in->d);
      od[ax] = sizes[j];
      ok = ct_case_output(&c, dt, od, in->nd);
      if (ok) take_slab(x, ax, off, &c.want[j]);
      off += sizes[j];
    }
    if (!ok) return fail(&c);
    if (!ct_fire(e, &c, emit, ctx)) return false;
  }
  return true;
}

bool ct_gen_unpack(const ct_entry *e, kiln_dtype dt, kiln_dtype dt2, ct_rng *rng,
                   ct_emit_fn emit, void *ctx) {
  (void)dt2;
  static const struct {
    ct_shape in;
    int64_t axis;
  } cases[] = {{{2, {3, 2}}, 0}, {{2, {2, 3}}, 1}, {{3, {2, 3, 2}}, -1},
               {{1, {4}}, 0}, {{2, {2, 0}}, 0}};
  for (size_t s = 0; s < NELEMS(cases); s++) {
    const ct_shape *in = &cases[s].in;
    int ax = (int)(cases[s].axis < 0 ? cases[s].axis + in->nd : cases[s].axis);
    int64_t num = in->d[ax];
    ct_case c = {0};
    ct_label(&c, "x%s", in->d, in->nd);
    label_fmt(&c, " axis=%lld", (long long)cases[s].axis);
    ct_attr *na = ct_case_attr(&c, "num", CT_ATTR_INT);
    ct_attr *aa = ct_case_attr(&c, "axis", CT_ATTR_INT);
    if (!na || !aa || !ct_case_input(&c, dt, in->d, in->nd, ct_range_of(e, 0), rng))
      return fail(&c);
    na->i = num;
    aa->i = cases[s].axis;
    for (int64_t j = 0; j < num && j < CT_MAX_OUTPUTS; j++) {
      int64_t od[KILN_MAX_DIMS], sd[KILN_MAX_DIMS];
      int ond = 0;
      for (int d = 0; d < in->nd; d++)
        if (d != ax) od[ond++] = in->d[d];
      memcpy(sd, in->d, sizeof in->d);
      sd[ax] = 1;
      ct_array slab;
      if (!ct_array_init(&slab, dt, sd, in->nd)) return fail(&c);
      take_slab(&c.in[0], ax, j, &slab);
      bool ok = ct_case_output(&c, dt, od, ond);
      if (ok) memcpy(c.want[j].v, slab.v, sizeof(double) * (size_t)slab.n);
      ct_array_free(&slab);
      if (!ok) return fail(&c);
    }
    if (!ct_fire(e, &c, emit, ctx)) return false;
  }
  return true;
}

/* -------------------------------------------- Shape, ShapeN, Size, Rank */

/* By param: "shape", "shape_n" (two inputs), "size", "rank". */
bool ct_gen_shape(const ct_entry *e, kiln_dtype dt, kiln_dtype dt2, ct_rng *rng,
                  ct_emit_fn emit, void *ctx) {
  (void)dt2;
  const char *p = e->param;
  bool shape_n = !strcmp(p, "shape_n");
  for (size_t s = 0; s < NELEMS(some_shapes); s++) {
    const ct_shape *sh[2] = {&some_shapes[s], &some_shapes[(s + 2) % NELEMS(some_shapes)]};
    int n = shape_n ? 2 : 1;
    ct_case c = {0};
    ct_label(&c, "x%s", sh[0]->d, sh[0]->nd);
    if (shape_n) {
      ct_label(&c, " %s", sh[1]->d, sh[1]->nd);
      c.nargs = 1;
      c.arg_len[0] = 2;
    }
    kiln_dtype ot = KILN_INT32;
    if (strcmp(p, "rank") != 0) ot = index_type(&c, "out_type", s);
    for (int j = 0; j < n; j++) {
      int64_t od = sh[j]->nd;
      bool scalar = strcmp(p, "size") == 0 || strcmp(p, "rank") == 0;
      if (!ct_case_input(&c, dt, sh[j]->d, sh[j]->nd, ct_range_of(e, 0), rng) ||
          !ct_case_output(&c, ot, &od, scalar ? 0 : 1))
        return fail(&c);
      if (!strcmp(p, "size")) c.want[j].v[0] = (double)c.in[j].n;
      else if (!strcmp(p, "rank")) c.want[j].v[0] = sh[j]->nd;
      else
        for (int d = 0; d < sh[j]->nd; d++) c.want[j].v[d] = (double)sh[j]->d[d];
    }
    if (!ct_fire(e, &c, emit, ctx)) return false;
  }
  return true;
}

/* ------------------------------------------------------------ sparse */

/* Writes nnz distinct flat positions below total into out, ascending
** (selection sampling), so the indices are in TensorFlow's order. */
static void sorted_positions(ct_rng *rng, int64_t total, int64_t nnz,
                             int64_t *out) {
  int64_t need = nnz;
  for (int64_t p = 0; p < total && need > 0; p++)
    if (ct_rng_unit(rng) * (double)(total - p) < (double)need)
      out[nnz - need--] = p;
}

/* SparseToDense: indices (Const, sorted and distinct, as validate_indices
** wants) and output_shape of Tindices, values (a vector, or a scalar for
** every index), the default as a scalar input. */
bool ct_gen_sparse_to_dense(const ct_entry *e, kiln_dtype dt, kiln_dtype dt2,
                            ct_rng *rng, ct_emit_fn emit, void *ctx) {
  (void)dt2;
  static const struct {
    ct_shape dense;
    int64_t nnz;
    bool scalar_values, validate;
  } cases[] = {{{1, {6}}, 3, 0, 1},     {{2, {3, 4}}, 5, 0, 1},
               {{3, {2, 3, 2}}, 4, 0, 0}, {{2, {3, 3}}, 4, 1, 1},
               {{2, {4, 2}}, 0, 0, 1},  {{2, {2, 2}}, 4, 0, 1},
               {{2, {0, 3}}, 0, 0, 1},  {{0, {0}}, 1, 0, 1}};
  for (size_t s = 0; s < NELEMS(cases); s++) {
    const ct_shape *d = &cases[s].dense;
    int64_t nnz = cases[s].nnz, total = 1, pos[16], idx[KILN_MAX_DIMS];
    for (int k = 0; k < d->nd; k++) total *= d->d[k];
    ct_case c = {0};
    ct_label(&c, "dense%s", d->d, d->nd);
    label_fmt(&c, " nnz=%lld", (long long)nnz);
    if (cases[s].scalar_values) {
      size_t at = strlen(c.label);
      snprintf(c.label + at, sizeof c.label - at, " scalar values");
    }
    label_fmt(&c, " validate_indices=%lld", (long long)cases[s].validate);
    kiln_dtype it = index_type(&c, "Tindices", s);
    ct_attr *va = ct_case_attr(&c, "validate_indices", CT_ATTR_BOOL);
    double ixv[16 * KILN_MAX_DIMS], shv[KILN_MAX_DIMS];
    sorted_positions(rng, total, nnz, pos);
    for (int64_t n = 0; n < nnz; n++) {
      ct_unflatten(pos[n], d->d, d->nd, idx);
      for (int k = 0; k < d->nd; k++) ixv[n * d->nd + k] = (double)idx[k];
    }
    for (int k = 0; k < d->nd; k++) shv[k] = (double)d->d[k];
    int64_t ixd[2] = {nnz, d->nd}, vd[1] = {nnz}, rd[1] = {d->nd};
    if (!va || !ct_case_const(&c, it, ixd, 2, ixv) ||
        !ct_case_const(&c, it, rd, 1, shv) ||
        !ct_case_input(&c, dt, vd, cases[s].scalar_values ? 0 : 1,
                       ct_range_of(e, 0), rng) ||
        !ct_case_input(&c, dt, NULL, 0, ct_range_of(e, 0), rng) ||
        !ct_case_output(&c, dt, d->d, d->nd))
      return fail(&c);
    va->i = cases[s].validate;
    for (int64_t o = 0; o < c.want[0].n; o++) c.want[0].v[o] = c.in[3].v[0];
    for (int64_t n = 0; n < nnz; n++)
      c.want[0].v[pos[n]] = c.in[2].v[cases[s].scalar_values ? 0 : n];
    if (!ct_fire(e, &c, emit, ctx)) return false;
  }
  return true;
}
