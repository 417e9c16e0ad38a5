/* The kernel conformance suite: every kernel of every loaded plugin, one
** test each, run on random inputs across the dtypes its constraints allow
** and a few shapes, and compared, within the tolerance the table states,
** with a naive reference (ct_reference.c) and, for a kernel of another
** device type, with the CPU plugin's kernel for the same case.
**
** Each case is one graph: placeholders (or constants for axes and
** permutations) feeding the op, placed with "/device:TYPE:0" and no soft
** placement, run in a session with a full trace that proves where it ran.
** A kernel whose op has no table entry is reported as not covered (a
** skipped test, and counted), never passed, unless ct_table.c lists the
** suite that tests it instead (checked to name the op), or it is one of
** the core's resource kernels, which have suites of their own. Set KILN_CONFORMANCE_SEED to
** draw other inputs; every failure names the op, dtypes, case and seed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include "../testutil.h"
#include "conformance.h"
#include "device.h"
#include "kernel_registry.h"
#include "plugin_loader.h"

/* Failure lines printed per kernel before the rest are only counted. */
#define MAX_REPORTED 12

static uint64_t seed_base = 1;
static int n_kernels, n_covered, n_uncovered, n_no_device, n_failed_kernels;
static long n_cases, n_case_failures, n_constraint_skips;
static char uncovered[8192];
static char selftest_error[512];

/* What one kernel's test accumulates while its cases run. */
typedef struct run_ctx {
  const kn_kernel *k;
  const char *dev_type;       /* the kernel's */
  const char *dev_name;       /* its device 0's full name */
  const char *cpu_name;       /* CPU:0's full name when compared too, or NULL */
  kiln_dtype dt, dt2;
  uint64_t seed;
  long cases, failures, skipped;  /* failures: cases with any problem */
  long printed;
  bool case_failed;
  bool quiet;                 /* the planted fault: count, do not print */
} run_ctx;

/* ------------------------------------------------------- constraints */

static const kn_type_constraint *constraint(const kn_kernel *k, const char *attr) {
  for (int i = 0; attr && i < k->ncons; i++)
    if (strcmp(k->cons[i].attr, attr) == 0) return &k->cons[i];
  return NULL;
}

static bool allows(const kn_kernel *k, const char *attr, kiln_dtype t) {
  const kn_type_constraint *c = constraint(k, attr);
  if (!c) return true;
  for (int i = 0; i < c->ntypes; i++)
    if (c->types[i] == t) return true;
  return false;
}

/* Every dtype the suite can make, in enum order. */
static const kiln_dtype all_dtypes[] = {
    KILN_FLOAT, KILN_DOUBLE, KILN_INT32, KILN_UINT8, KILN_INT16, KILN_INT8,
    KILN_INT64, KILN_BOOL, KILN_BFLOAT16, KILN_UINT16, KILN_HALF, KILN_UINT32,
    KILN_UINT64,
};
#define N_ALL (sizeof all_dtypes / sizeof all_dtypes[0])

/* The dtypes to run for `attr`: those the kernel allows and the reference
** handles. Writes the allowed ones it cannot handle into `missing`. */
static int dtypes_for(const kn_kernel *k, const char *attr, unsigned classes,
                      kiln_dtype *out, char *missing, size_t cap) {
  int n = 0;
  if (!attr) {
    out[n++] = KILN_BOOL;
    return n;
  }
  const kn_type_constraint *c = constraint(k, attr);
  if (!c) {
    for (size_t i = 0; i < N_ALL; i++)
      if (ct_dtype_class(all_dtypes[i]) & classes) out[n++] = all_dtypes[i];
    return n;
  }
  for (int i = 0; i < c->ntypes; i++) {
    if (ct_dtype_class(c->types[i]) & classes) {
      out[n++] = c->types[i];
    } else {
      size_t at = strlen(missing);
      snprintf(missing + at, cap - at, "%s%s=%s", at ? ", " : "", attr,
               kiln_dtype_name(c->types[i]));
    }
  }
  return n;
}

/* True when the CPU plugin has a kernel for this op and these dtypes. */
static bool cpu_has_kernel(const ct_entry *e, kiln_dtype dt, kiln_dtype dt2) {
  for (size_t i = 0; i < kn_kernel_count(); i++) {
    const kn_kernel *k = kn_kernel_at(i);
    if (strcmp(k->op, e->op) == 0 && strcasecmp(k->device_type, "CPU") == 0 &&
        (!e->type_attr || allows(k, e->type_attr, dt)) &&
        (!e->type_attr2 || allows(k, e->type_attr2, dt2)))
      return true;
  }
  return false;
}

/* ------------------------------------------------------------ failures */

static void report(run_ctx *r, const ct_case *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void report(run_ctx *r, const ct_case *c, const char *fmt, ...) {
  if (!r->case_failed) {
    r->failures++;
    if (!r->quiet) n_case_failures++;
  }
  r->case_failed = true;
  if (r->quiet || r->printed++ >= MAX_REPORTED) return;
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  char types[64];
  snprintf(types, sizeof types, "%s", kiln_dtype_name(r->dt));
  if (r->dt2 != KILN_INVALID_DTYPE)
    snprintf(types + strlen(types), sizeof types - strlen(types), "->%s",
             kiln_dtype_name(r->dt2));
  printf("# FAIL %s@%s [%s] %s: %s (seed %llu)\n", r->k->op, r->dev_type, types,
         c->label, msg, (unsigned long long)r->seed);
}

/* --------------------------------------------------------------- graphs */

static kiln_tensor *to_tensor(const ct_array *a, kiln_status *s) {
  kiln_tensor *t = kiln_tensor_new(a->dtype, a->dims, a->ndims, s);
  if (!t) return NULL;
  void *d = kiln_tensor_data(t);
  for (int64_t i = 0; i < a->n; i++) ct_store(a->dtype, d, i, a->v[i]);
  return t;
}

static bool set_attr(kiln_op_desc *d, const ct_case *c, const ct_attr *a,
                     kiln_status *s) {
  kiln_tensor *t;
  switch (a->kind) {
  case CT_ATTR_INT: kiln_op_desc_set_attr_int(d, a->name, a->i); break;
  case CT_ATTR_BOOL: kiln_op_desc_set_attr_bool(d, a->name, a->i != 0); break;
  case CT_ATTR_FLOAT: kiln_op_desc_set_attr_float(d, a->name, (float)a->f); break;
  case CT_ATTR_TYPE: kiln_op_desc_set_attr_type(d, a->name, a->t); break;
  case CT_ATTR_STRING:
    kiln_op_desc_set_attr_string(d, a->name, a->s, strlen(a->s));
    break;
  case CT_ATTR_INTS:
    kiln_op_desc_set_attr_int_list(d, a->name, a->ints, a->nints);
    break;
  case CT_ATTR_SHAPE:
    kiln_op_desc_set_attr_shape(d, a->name, a->ints, a->nints);
    break;
  case CT_ATTR_TENSOR:
    t = to_tensor(&c->attr_value, s);
    if (!t) return false;
    kiln_op_desc_set_attr_tensor(d, a->name, t);
    kiln_tensor_free(t);
    break;
  }
  return true;
}

/* The op under test placed on `dev` ("/device:CPU:0"), named `name`. */
static kiln_op *add_op(kiln_graph *g, const ct_entry *e, const ct_case *c,
                       const kiln_output *in, const char *name, const char *dev,
                       kiln_status *s) {
  kiln_op_desc *d = kiln_op_desc_new(g, e->op, name);
  if (!d) {
    kiln_status_set(s, KILN_RESOURCE_EXHAUSTED, "out of memory");
    return NULL;
  }
  if (c->nargs == 0) {
    for (int i = 0; i < c->ninputs; i++) kiln_op_desc_add_input(d, in[i]);
  } else {
    for (int a = 0, i = 0; a < c->nargs; a++) {
      if (c->arg_len[a] == 0) {
        kiln_op_desc_add_input(d, in[i++]);
      } else {
        kiln_op_desc_add_input_list(d, in + i, c->arg_len[a]);
        i += c->arg_len[a];
      }
    }
  }
  for (int i = 0; i < c->nattrs; i++)
    if (!set_attr(d, c, &c->attrs[i], s)) {
      kiln_op_desc_free(d);
      return NULL;
    }
  kiln_op_desc_set_device(d, dev);
  return kiln_op_desc_finish(d, s);
}

/* |got - want| <= atol + rtol*|want|, NaN matching NaN. */
static bool close_enough(double got, double want, double rtol, double atol) {
  if (isnan(want)) return isnan(got);
  if (isinf(want)) return got == want;
  return fabs(got - want) <= atol + rtol * fabs(want);
}

/* Compares a fetched tensor with the values of `want`. */
static void compare(run_ctx *r, const ct_entry *e, const ct_case *c,
                    const kiln_tensor *got, const ct_array *want,
                    const char *what, double scale) {
  char a[128], b[128];
  if (kiln_tensor_dtype(got) != want->dtype) {
    report(r, c, "%s: dtype %s, expected %s", what,
           kiln_dtype_name(kiln_tensor_dtype(got)), kiln_dtype_name(want->dtype));
    return;
  }
  int nd = kiln_tensor_ndims(got);
  bool same = nd == want->ndims;
  for (int i = 0; same && i < nd; i++) same = kiln_tensor_dim(got, i) == want->dims[i];
  if (!same) {
    report(r, c, "%s: shape %s, expected %s", what,
           ct_dims_str(kiln_tensor_dims(got), nd, a, sizeof a),
           ct_dims_str(want->dims, want->ndims, b, sizeof b));
    return;
  }
  double eps = ct_eps(want->dtype);
  double rtol = scale * e->rtol_ulps * eps, atol = scale * e->atol_ulps * eps;
  const void *data = kiln_tensor_data(got);
  int64_t bad = 0, first = -1;
  double fg = 0, fw = 0;
  for (int64_t i = 0; i < want->n; i++) {
    double g = ct_load(want->dtype, data, i);
    if (!close_enough(g, want->v[i], rtol, atol) && bad++ == 0) {
      first = i;
      fg = g;
      fw = want->v[i];
    }
  }
  if (bad)
    report(r, c, "%s: %lld of %lld values differ; first at flat index %lld: got "
                 "%.9g, want %.9g (rtol %.3g, atol %.3g)",
           what, (long long)bad, (long long)want->n, (long long)first, fg, fw,
           rtol, atol);
}

/* Checks output 0's dtype and shape, then its values' properties. */
static void check(run_ctx *r, const ct_entry *e, const ct_case *c,
                  const kiln_tensor *got, const char *what) {
  const ct_array *want = &c->want[0];
  char a[128], b[128], why[256];
  int nd = kiln_tensor_ndims(got);
  bool same = kiln_tensor_dtype(got) == want->dtype && nd == want->ndims;
  for (int i = 0; same && i < nd; i++) same = kiln_tensor_dim(got, i) == want->dims[i];
  if (!same) {
    report(r, c, "%s: %s%s, expected %s%s", what,
           kiln_dtype_name(kiln_tensor_dtype(got)),
           ct_dims_str(kiln_tensor_dims(got), nd, a, sizeof a),
           kiln_dtype_name(want->dtype), ct_dims_str(want->dims, want->ndims, b, sizeof b));
    return;
  }
  ct_array vals;
  if (!ct_array_init(&vals, want->dtype, want->dims, want->ndims)) {
    report(r, c, "%s: out of memory", what);
    return;
  }
  for (int64_t i = 0; i < vals.n; i++)
    vals.v[i] = ct_load(vals.dtype, kiln_tensor_data(got), i);
  const char *bad = e->check(vals.v, vals.n, why, sizeof why);
  if (bad) report(r, c, "%s: %s", what, bad);
  ct_array_free(&vals);
}

/* The device a traced node ran on, or NULL. */
static const char *ran_on(const kiln_run_metadata *m, const char *node) {
  for (int i = 0; i < kiln_run_metadata_num_nodes(m); i++)
    if (strcmp(kiln_run_metadata_node_name(m, i), node) == 0)
      return kiln_run_metadata_node_device(m, i);
  return NULL;
}

/* ct_emit_fn: builds, runs and checks one case. */
static bool run_case(void *vctx, const ct_entry *e, ct_case *c) {
  run_ctx *r = vctx;
  /* A case may pin a type attr (Tidx=int64) the kernel does not take. */
  for (int i = 0; i < c->nattrs; i++)
    if (c->attrs[i].kind == CT_ATTR_TYPE && !allows(r->k, c->attrs[i].name, c->attrs[i].t)) {
      r->skipped++;
      n_constraint_skips++;
      return true;
    }
  r->cases++;
  r->case_failed = false;
  n_cases++;
  kiln_status *s = kiln_status_new();
  kiln_graph *g = kiln_graph_new();
  kiln_config *cfg = kiln_config_new();
  kiln_session_options *so = kiln_session_options_new();
  kiln_run_options *ro = kiln_run_options_new();
  kiln_run_metadata *md = kiln_run_metadata_new();
  kiln_session *sess = NULL;
  kiln_output in[CT_MAX_INPUTS], feeds[CT_MAX_INPUTS], fetch[2 * CT_MAX_OUTPUTS];
  kiln_tensor *vals[CT_MAX_INPUTS] = {0}, *outs[2 * CT_MAX_OUTPUTS] = {0};
  int nfeeds = 0, nfetch = 0;
  bool ok = s && g && cfg && so && ro && md;
  if (!ok) goto done;

  for (int i = 0; i < c->ninputs; i++) {
    char name[16];
    snprintf(name, sizeof name, "in%d", i);
    kiln_op_desc *d = kiln_op_desc_new(g, c->in_const[i] ? "Const" : "Placeholder", name);
    if (!d) {
      ok = false;
      goto done;
    }
    kiln_op_desc_set_attr_type(d, "dtype", c->in[i].dtype);
    kiln_tensor *t = to_tensor(&c->in[i], s);
    if (!t) {
      kiln_op_desc_free(d);
      report(r, c, "input %d: %s", i, kiln_status_message(s));
      goto done;
    }
    if (c->in_const[i]) {
      kiln_op_desc_set_attr_tensor(d, "value", t);
      kiln_tensor_free(t);
    } else {
      kiln_op_desc_set_attr_shape(d, "shape", c->in[i].dims, c->in[i].ndims);
      vals[nfeeds] = t;
    }
    kiln_op *op = kiln_op_desc_finish(d, s);
    if (!op) {
      report(r, c, "building input %d: %s", i, kiln_status_message(s));
      goto done;
    }
    in[i] = (kiln_output){op, 0};
    if (!c->in_const[i]) feeds[nfeeds++] = in[i];
  }

  /* The op on the kernel's device and, for another plugin's kernel, on CPU. */
  const char *devs[2] = {r->dev_type, r->cpu_name ? "CPU" : NULL};
  const char *full[2] = {r->dev_name, r->cpu_name};
  kiln_op *ops[2] = {NULL, NULL};
  char names[2][32];
  for (int j = 0; j < 2 && devs[j]; j++) {
    char dev[64];
    snprintf(dev, sizeof dev, "/device:%s:0", devs[j]);
    snprintf(names[j], sizeof names[j], "op_%s", devs[j]);
    ops[j] = add_op(g, e, c, in, names[j], dev, s);
    if (!ops[j]) {
      report(r, c, "building %s on %s: %s: %s", e->op, dev,
             kiln_code_str(kiln_status_code(s)), kiln_status_message(s));
      goto done;
    }
    for (int o = 0; o < c->noutputs; o++) fetch[nfetch++] = (kiln_output){ops[j], o};
  }

  kiln_config_set_allow_soft_placement(cfg, false);
  kiln_session_options_set_config(so, cfg);
  sess = kiln_session_new(g, so, s);
  if (!sess) {
    report(r, c, "session: %s", kiln_status_message(s));
    goto done;
  }
  kiln_run_options_set_trace_level(ro, KILN_TRACE_FULL);
  /* An op without outputs to compare (NoOp) runs as a target. */
  int ntargets = c->noutputs ? 0 : (devs[1] ? 2 : 1);
  kiln_session_run(sess, ro, feeds, vals, nfeeds, fetch, outs, nfetch, ops,
                   ntargets, md, s);
  if (kiln_status_code(s) != KILN_OK) {
    report(r, c, "run: %s: %s", kiln_code_str(kiln_status_code(s)),
           kiln_status_message(s));
    goto done;
  }
  for (int j = 0; j < 2 && devs[j]; j++) {
    const char *where = ran_on(md, names[j]);
    if (!where || strcmp(where, full[j]) != 0) {
      report(r, c, "%s ran on %s, not on %s", names[j], where ? where : "(not traced)",
             full[j]);
      continue;
    }
    for (int o = 0; o < c->noutputs; o++) {
      char what[96];
      snprintf(what, sizeof what, "%s output %d vs reference", names[j], o);
      if (e->check && o == 0) check(r, e, c, outs[j * c->noutputs], what);
      else compare(r, e, c, outs[j * c->noutputs + o], &c->want[o], what, 1);
    }
  }
  /* Backend against CPU: both rounded, so twice the tolerance. Random
  ** streams differ between backends by design. */
  if (devs[1] && !e->check) {
    for (int o = 0; o < c->noutputs; o++) {
      ct_array cpu = {0};
      const kiln_tensor *t = outs[c->noutputs + o];
      if (!ct_array_init(&cpu, kiln_tensor_dtype(t), kiln_tensor_dims(t),
                         kiln_tensor_ndims(t))) {
        ok = false;
        break;
      }
      for (int64_t i = 0; i < cpu.n; i++)
        cpu.v[i] = ct_load(cpu.dtype, kiln_tensor_data(t), i);
      char what[96];
      snprintf(what, sizeof what, "%s output %d vs op_CPU", names[0], o);
      compare(r, e, c, outs[o], &cpu, what, 2);
      ct_array_free(&cpu);
    }
  }
done:
  for (int i = 0; i < nfetch; i++) kiln_tensor_free(outs[i]);
  for (int i = 0; i < nfeeds; i++) kiln_tensor_free(vals[i]);
  /* A placeholder's tensor not yet counted as a feed (its finish failed). */
  if (nfeeds < CT_MAX_INPUTS) kiln_tensor_free(vals[nfeeds]);
  kiln_session_free(sess);
  kiln_run_metadata_free(md);
  kiln_run_options_free(ro);
  kiln_session_options_free(so);
  kiln_config_free(cfg);
  kiln_graph_free(g);
  kiln_status_free(s);
  if (!ok) report(r, c, "out of memory");
  return ok;
}

/* ----------------------------------------------------------------- tests */

static void test_kernel(void **state) {
  const kn_kernel *k = kn_kernel_at((size_t)(uintptr_t)*state);
  const ct_entry *e = ct_find(k->op);
  const char *plugin = k->plugin ? k->plugin->name : "?";
  n_kernels++;
  if (!e) {
    n_uncovered++;
    size_t at = strlen(uncovered);
    snprintf(uncovered + at, sizeof uncovered - at, "%s%s@%s", at ? " " : "",
             k->op, k->device_type);
    printf("# not covered: %s on %s (plugin %s): no table entry in "
           "tests/conformance/ct_table.c\n", k->op, k->device_type, plugin);
    skip();
    return;
  }
  const kn_device *dev = kn_device_find(k->device_type, 0);
  const kn_device *cpu = kn_device_find("CPU", 0);
  if (!dev) {
    n_no_device++;
    printf("# not run: %s on %s (plugin %s): no %s device is present\n", k->op,
           k->device_type, plugin, k->device_type);
    skip();
    return;
  }
  n_covered++;
  /* Counted as failing until the end is reached: a kernel that crashes
  ** (cmocka catches the signal) stays counted. */
  n_failed_kernels++;
  bool is_cpu = strcasecmp(k->device_type, "CPU") == 0;
  char missing[512] = "";
  kiln_dtype t1[32], t2[32] = {KILN_INVALID_DTYPE};
  int n1 = dtypes_for(k, e->type_attr, e->classes, t1, missing, sizeof missing);
  int n2 = 1;
  if (e->type_attr2)
    n2 = dtypes_for(k, e->type_attr2, e->classes2, t2, missing, sizeof missing);
  if (missing[0])
    printf("# %s@%s: dtypes not covered (the reference cannot make them): %s\n",
           k->op, k->device_type, missing);
  bool planted = ct_selftest_planted(k);
  run_ctx r = {.k = k, .dev_type = k->device_type, .dev_name = dev->name,
               .quiet = planted};
  for (int i = 0; i < n1; i++)
    for (int j = 0; j < n2; j++) {
      r.dt = t1[i];
      r.dt2 = t2[j];
      r.cpu_name = !is_cpu && cpu && cpu_has_kernel(e, r.dt, r.dt2) ? cpu->name : NULL;
      uint64_t h = ct_hash(0, k->op);
      h = ct_hash(h, kiln_dtype_name(r.dt));
      if (r.dt2 != KILN_INVALID_DTYPE) h = ct_hash(h, kiln_dtype_name(r.dt2));
      r.seed = h ^ seed_base;
      ct_rng rng;
      ct_rng_seed(&rng, r.seed);
      if (!e->gen(e, r.dt, r.dt2, &rng, run_case, &r)) {
        fail_msg("%s@%s: the %s cases could not be made (out of memory)", k->op,
                 k->device_type, kiln_dtype_name(r.dt));
      }
    }
  if (planted) {
    if (r.failures == 0)
      fail_msg("self-test: the planted wrong kernel %s@%s passed %ld cases: the "
               "suite no longer catches a wrong backend kernel", k->op,
               k->device_type, r.cases);
    printf("# self-test: the planted wrong kernel %s@%s was caught in %ld of "
           "%ld cases\n", k->op, k->device_type, r.failures, r.cases);
    n_failed_kernels--;
    return;
  }
  printf("# %s@%s (plugin %s) vs %s: %ld cases over %d dtype%s%s", k->op,
         k->device_type, plugin,
         e->check ? "distribution checks"
                  : is_cpu ? "naive reference" : "reference and CPU",
         r.cases, n1 * n2, n1 * n2 == 1 ? "" : "s", r.skipped ? "" : "\n");
  if (r.skipped)
    printf(", %ld skipped (a type attr outside the kernel's constraints)\n",
           r.skipped);
  if (r.cases == 0) {
    fail_msg("%s@%s: no case could run (constraints %s)", k->op, k->device_type,
             k->constraints);
  }
  if (r.failures == 0) n_failed_kernels--;
  if (r.failures) {
    fail_msg("%s@%s: %ld of %ld cases failed%s", k->op, k->device_type,
             r.failures, r.cases,
             r.printed > MAX_REPORTED ? " (the first problems are listed above)" : "");
  }
}

/* The self-test plugin registered (its kernels then run as tests). */
static void selftest_registered(void **state) {
  (void)state;
  if (selftest_error[0])
    fail_msg("the self-test plugin did not register: %s", selftest_error);
  assert_non_null(kn_device_find("CTSELF", 0));
}

/* The table names only ops that exist. */
static void table_is_sorted_and_known(void **state) {
  (void)state;
  for (size_t i = 0; i < ct_table_size(); i++) {
    const ct_entry *e = ct_table_at(i);
    if (i && strcmp(ct_table_at(i - 1)->op, e->op) >= 0)
      fail_msg("table out of order at %s", e->op);
    if (!kiln_op_type_registered(e->op))
      fail_msg("table entry %s names no registered op", e->op);
    if (ct_find(e->op) != e) fail_msg("ct_find(%s) misses its entry", e->op);
  }
}

/* The reference's rounding: spot checks of ct_round and the stores. */
static void dtype_rounding(void **state) {
  (void)state;
  assert_true(ct_round(KILN_HALF, 1.0 + 0x1p-11) == 1.0);   /* tie to even */
  assert_true(ct_round(KILN_HALF, 1.0 + 0x1p-10) == 1.0 + 0x1p-10);
  assert_true(ct_round(KILN_HALF, 70000.0) == INFINITY);
  assert_true(ct_round(KILN_HALF, 0x1p-24) == 0x1p-24);     /* subnormal */
  assert_true(ct_round(KILN_BFLOAT16, 1.0 + 0x1p-8) == 1.0);
  assert_true(ct_round(KILN_INT8, 130) == -126);
  assert_true(ct_round(KILN_UINT8, -4) == 252);
  assert_true(ct_round(KILN_INT32, -2.7) == -2);
  assert_true(ct_round(KILN_BOOL, -3) == 1);
  uint16_t h[3];
  ct_store(KILN_HALF, h, 0, -2.5);
  ct_store(KILN_HALF, h, 1, 0x1p-20);
  ct_store(KILN_BFLOAT16, h, 2, 3.0);
  assert_int_equal(h[0], 0xc100);
  assert_true(ct_load(KILN_HALF, h, 1) == 0x1p-20);
  assert_int_equal(h[2], 0x4040);
  assert_true(ct_load(KILN_BFLOAT16, h, 2) == 3.0);
}

/* KILN_CONFORMANCE_OPS="Add,MatMul" runs only those ops' kernels,
** "-All,-Any" all but those; KILN_CONFORMANCE_DEVICE=VULKAN only the
** kernels of that device type (a backend author's loop). */
static bool in_list(const char *list, const char *op, bool *excluded) {
  bool any_include = false, hit = false;
  *excluded = false;
  for (const char *p = list; p && *p;) {
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    bool neg = len && *p == '-';
    if (!neg) any_include = true;
    const char *name = neg ? p + 1 : p;
    size_t nlen = neg ? len - 1 : len;
    if (nlen == strlen(op) && strncmp(name, op, nlen) == 0) {
      if (neg) *excluded = true;
      else hit = true;
    }
    p = end ? end + 1 : p + len;
  }
  return !*excluded && (hit || !any_include);
}

/* Every op the table sends elsewhere is named, quoted, by that suite. */
static void elsewhere_suites_test_their_ops(void **state) {
  (void)state;
  const char *src = getenv("KILN_SRCDIR");
  if (!src || !*src) {
    printf("# KILN_SRCDIR is not set: cannot read the other suites\n");
    skip();
  }
  for (size_t i = 0; i < ct_elsewhere_size(); i++) {
    const ct_elsewhere *e = ct_elsewhere_at(i);
    char path[4096], quoted[128];
    snprintf(path, sizeof path, "%s/%s", src, e->suite);
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("%s: the suite %s for op %s cannot be read", path, e->suite, e->op);
    static char text[1 << 20];
    size_t len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[len] = 0;
    snprintf(quoted, sizeof quoted, "\"%s\"", e->op);
    if (!strstr(text, quoted))
      fail_msg("%s is listed as tested by %s, which never names it", e->op, e->suite);
  }
}

static bool selected(const kn_kernel *k) {
  const char *ops = getenv("KILN_CONFORMANCE_OPS");
  const char *dev = getenv("KILN_CONFORMANCE_DEVICE");
  bool excluded;
  if (ops && *ops && !in_list(ops, k->op, &excluded)) return false;
  return !(dev && *dev && strcasecmp(dev, k->device_type) != 0);
}

int main(void) {
  const char *env = getenv("KILN_CONFORMANCE_SEED");
  if (env && *env) seed_base = strtoull(env, NULL, 0);
  kiln_status *s = kiln_status_new();
  kiln_plugins_load(s);
  if (ct_selftest_register(s) != KILN_OK)
    snprintf(selftest_error, sizeof selftest_error, "%s", kiln_status_message(s));
  kiln_status_free(s);
  size_t nk = kn_kernel_count();
  struct CMUnitTest *tests = calloc(nk + 4, sizeof *tests);
  char **names = calloc(nk + 4, sizeof *names);
  if (!tests || !names) {
    fprintf(stderr, "out of memory\n");
    return 1;
  }
  size_t n = 0;
  tests[n++] = (struct CMUnitTest)cmocka_unit_test(table_is_sorted_and_known);
  tests[n++] = (struct CMUnitTest)cmocka_unit_test(dtype_rounding);
  tests[n++] = (struct CMUnitTest)cmocka_unit_test(selftest_registered);
  size_t nfiltered = 0;
  tests[n++] = (struct CMUnitTest)cmocka_unit_test(elsewhere_suites_test_their_ops);
  for (size_t i = 0; i < nk; i++) {
    const kn_kernel *k = kn_kernel_at(i);
    if (!selected(k)) {
      nfiltered++;
      continue;
    }
    /* The core's resource kernels and ops listed as tested elsewhere have
    ** suites of their own. */
    const ct_elsewhere *el = ct_find_elsewhere(k->op);
    bool core = k->plugin && strcmp(k->plugin->name, "core") == 0;
    if (core || el) {
      printf("# tested elsewhere: %s on %s (%s)\n", k->op, k->device_type,
             el ? el->suite : "the core's resource kernel: tests/test_variables.c, "
                              "test_queues.c, test_readers.c, test_session_handles.c");
      continue;
    }
    size_t len = strlen(k->op) + strlen(k->device_type) + strlen(k->constraints) + 8;
    names[n] = malloc(len);
    if (!names[n]) {
      fprintf(stderr, "out of memory\n");
      return 1;
    }
    snprintf(names[n], len, "%s@%s%s%s%s", k->op, k->device_type,
             k->constraints[0] ? "[" : "", k->constraints,
             k->constraints[0] ? "]" : "");
    tests[n] = (struct CMUnitTest){.name = names[n], .test_func = test_kernel,
                                   .initial_state = (void *)(uintptr_t)i};
    n++;
  }
  size_t nreal = 0;
  for (size_t i = 0; i < nk; i++) {
    const kn_kernel *k = kn_kernel_at(i);
    if (!k->plugin || strcmp(k->plugin->name, "ctself") != 0) nreal++;
  }
  if (nreal == 0) {
    kiln_plugin_list *pl = kiln_plugins_list();
    for (int i = 0; pl && i < kiln_plugin_list_size(pl); i++)
      printf("# plugin %s: %s\n", kiln_plugin_list_path(pl, i),
             kiln_plugin_list_message(pl, i));
    kiln_plugin_list_free(pl);
    printf("# no kernel is registered: no plugin loaded\n");
  }
  printf("# conformance seed %llu (KILN_CONFORMANCE_SEED)\n",
         (unsigned long long)seed_base);
  if (nfiltered)
    printf("# %zu kernels left out by KILN_CONFORMANCE_OPS / KILN_CONFORMANCE_DEVICE\n",
           nfiltered);
  int rc = _cmocka_run_group_tests("conformance", tests, n, NULL, NULL);
  printf("# conformance: %d kernels: %d checked (%ld cases, %ld failed, %ld "
         "skipped by constraints; %d kernels failing), %d not covered, %d without "
         "a device\n", n_kernels, n_covered, n_cases, n_case_failures,
         n_constraint_skips, n_failed_kernels, n_uncovered, n_no_device);
  if (n_uncovered) printf("# not covered: %s\n", uncovered);
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names);
  free(tests);
  /* No kernel at all is a failure: the suite would check nothing. */
  return nreal == 0 ? 1 : rc;
}
