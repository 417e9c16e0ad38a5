/*
** W6: graphs of 10^4, 10^5 and 10^6 nodes, as a chain (each op reads the
** one before) and as a wide fan-out (every op reads the placeholder and
** all are run as targets). For each: build through the op builders
** (automatic unique names, shape inference), export the GraphDef, import
** it into a fresh graph, plan it (make a callable: prune, sort, place,
** make kernels) and run it once. Per phase, seconds; for import + plan +
** run, nanoseconds per node, and the peak of live heap bytes above the
** start per node (from the malloc shim, in one more pass: tracking every
** block slows malloc, so timed passes run without it).
**
** The targets: the cost per node at 10^6 within 1.5x of that at 10^4 (no
** quadratic step), and 10^6 nodes imported and planned in under 5 s.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"

enum { CHAIN, FANOUT };
static const char *const shape_name[2] = {"chain", "fanout"};

enum { P_BUILD, P_EXPORT, P_IMPORT, P_PLAN, P_RUN, NPHASES };

/* Passes per size: a small graph's pass lasts milliseconds and its time
** varies by a fifth from pass to pass (the other process on the core, the
** heap's state), so it gets more of them; the growth compares medians. */
enum { MAX_REPS = 16 };
static const char *const phase_name[NPHASES] = {"build", "export", "import",
                                                "plan", "run"};

/* One pass over a graph of n nodes: seconds per phase, peak bytes. */
typedef struct pass {
  double s[NPHASES];
  double peak;
} pass;

static double secs_since(int64_t t0) { return (double)(bench_now_ns() - t0) / 1e9; }

static kiln_graph *build(int shape, int64_t n, kiln_status *st) {
  kiln_graph *g = kiln_graph_new();
  int64_t one[1] = {1};
  if (!g) return NULL;
  kiln_output x = kiln_placeholder(g, KILN_FLOAT, one, 1, "x", st);
  kiln_output y = x;
  for (int64_t i = 1; i < n && kiln_status_code(st) == KILN_OK; i++)
    y = kiln_identity(g, shape == CHAIN ? y : x, NULL, st);
  if (kiln_status_code(st) != KILN_OK) {
    kiln_graph_free(g);
    return NULL;
  }
  return g;
}

/* One pass; with `track`, the heap's peak is measured too (which slows
** malloc: timed passes run without it). */
static bool one_pass(bench_opts *o, int shape, int64_t n, bool track, pass *ps) {
  kiln_status *st = kiln_status_new();
  kiln_graph *g = NULL, *g2 = NULL;
  kiln_buffer *def = NULL;
  kiln_import_results *ir = NULL;
  kiln_session *s = NULL;
  kiln_callable *c = NULL;
  kiln_op **targets = NULL;
  kiln_tensor *xv = NULL, *out = NULL;
  int64_t one[1] = {1};
  bool ok = false;
  const char *what = "out of memory";
  if (!st) goto done;

  int64_t t0 = bench_now_ns();
  what = "building the graph failed";
  if (!(g = build(shape, n, st))) goto done;
  ps->s[P_BUILD] = secs_since(t0);

  t0 = bench_now_ns();
  what = "exporting the GraphDef failed";
  if (!(def = kiln_graph_export(g, st))) goto done;
  ps->s[P_EXPORT] = secs_since(t0);
  kiln_graph_free(g);
  g = NULL;

  /* What a program that loads a model pays: import, plan, run. */
  if (track) bench_alloc_track_start();
  t0 = bench_now_ns();
  what = "importing the GraphDef failed";
  if (!(g2 = kiln_graph_new()) ||
      !(ir = kiln_graph_import(g2, def->data, def->length, NULL, st)))
    goto done;
  ps->s[P_IMPORT] = secs_since(t0);

  t0 = bench_now_ns();
  what = "planning failed";
  if (!(s = bench_session(o, "W6", g2, 1, 0))) goto done;
  kiln_output x = kiln_graph_output(g2, "x", st);
  if ((size_t)n != kiln_graph_num_ops(g2)) goto done;
  if (shape == CHAIN) {
    kiln_output y = {kiln_graph_op_at(g2, (size_t)n - 1), 0};
    c = kiln_session_make_callable(s, &x, 1, &y, 1, NULL, 0, false, st);
  } else {
    if (!(targets = malloc((size_t)n * sizeof *targets))) goto done;
    for (int64_t i = 1; i < n; i++) targets[i - 1] = kiln_graph_op_at(g2, (size_t)i);
    c = kiln_session_make_callable(s, &x, 1, NULL, 0, targets, (int)(n - 1),
                                   false, st);
  }
  if (!c) goto done;
  ps->s[P_PLAN] = secs_since(t0);

  what = "running failed";
  if (!(xv = kiln_tensor_new(KILN_FLOAT, one, 1, st))) goto done;
  *(float *)kiln_tensor_data(xv) = 42.0f;
  t0 = bench_now_ns();
  kiln_callable_call(c, &xv, shape == CHAIN ? &out : NULL, st);
  if (kiln_status_code(st) != KILN_OK) goto done;
  ps->s[P_RUN] = secs_since(t0);
  what = "the chain's result is wrong";
  if (shape == CHAIN && *(float *)kiln_tensor_data(out) != 42.0f) goto done;
  ok = true;
done:
  if (track) ps->peak = (double)bench_alloc_track_stop();
  if (!ok) bench_fail(o, "W6", what, st);
  kiln_tensor_free(out);
  kiln_tensor_free(xv);
  kiln_callable_free(c);
  free(targets);
  kiln_session_free(s);
  kiln_import_results_free(ir);
  kiln_graph_free(g2);
  kiln_buffer_free(def);
  kiln_graph_free(g);
  kiln_status_free(st);
  return ok;
}

static void case_name(char *buf, size_t cap, int shape, int64_t n, const char *what) {
  int e = 0;
  for (int64_t k = n; k >= 10 && k % 10 == 0; k /= 10) e++;
  snprintf(buf, cap, "%s-1e%d/%s", shape_name[shape], e, what);
}

/* Runs the passes of one size; fills the median import+plan+run ns/node. */
static bool size_case(bench_opts *o, int shape, int64_t n, int reps,
                      double *ns_node, double *build_ns_node, double *ip_s,
                      pass *last) {
  pass ps[MAX_REPS], tracked;
  if (reps > MAX_REPS) reps = MAX_REPS;
  for (int r = 0; r < reps; r++) {
    memset(&ps[r], 0, sizeof ps[r]);
    if (!one_pass(o, shape, n, false, &ps[r])) return false;
  }
  *last = ps[reps - 1];
  bool have_peak = bench_alloc_available();
  memset(&tracked, 0, sizeof tracked);
  if (have_peak && !one_pass(o, shape, n, true, &tracked)) return false;
  char kase[64];
  double v[MAX_REPS];
  for (int p = 0; p < NPHASES; p++) {
    for (int r = 0; r < reps; r++) v[r] = ps[r].s[p];
    case_name(kase, sizeof kase, shape, n, phase_name[p]);
    bench_emit_values(o, "W6", kase, o->cpu, 1, "s", bench_stats_of(v, reps),
                      NULL, NULL, NULL, -1);
  }
  for (int r = 0; r < reps; r++) v[r] = ps[r].s[P_IMPORT] + ps[r].s[P_PLAN];
  bench_stats ip = bench_stats_of(v, reps);
  *ip_s = ip.median;
  case_name(kase, sizeof kase, shape, n, "import+plan");
  bool big = n >= 1000000;
  bench_emit_values(o, "W6", kase, o->cpu, 1, "s", ip, NULL, NULL,
                    big ? "< 5 s at 1e6 nodes" : NULL, big ? ip.median < 5 : -1);
  for (int r = 0; r < reps; r++)
    v[r] = (ps[r].s[P_IMPORT] + ps[r].s[P_PLAN] + ps[r].s[P_RUN]) * 1e9 / (double)n;
  bench_stats t = bench_stats_of(v, reps);
  *ns_node = t.median;
  case_name(kase, sizeof kase, shape, n, "import+plan+run");
  bench_emit_values(o, "W6", kase, o->cpu, 1, "ns/node", t, NULL, NULL, NULL, -1);
  for (int r = 0; r < reps; r++) v[r] = ps[r].s[P_BUILD] * 1e9 / (double)n;
  *build_ns_node = bench_stats_of(v, reps).median;
  if (have_peak) {
    double b = tracked.peak / (double)n;
    case_name(kase, sizeof kase, shape, n, "peak-heap");
    bench_emit_values(o, "W6", kase, o->cpu, 1, "bytes/node",
                      (bench_stats){b, b, b}, NULL, NULL, NULL, -1);
  }
  return true;
}

/* Seconds of a whole pass (every phase). */
static double pass_total(const pass *ps) {
  double t = 0;
  for (int p = 0; p < NPHASES; p++) t += ps->s[p];
  return t;
}

void bench_w6_scale(bench_opts *o) {
  static const int64_t full[3] = {10000, 100000, 1000000};
  static const int64_t tiny[2] = {1000, 10000};
  const int64_t *sizes = o->tiny ? tiny : full;
  int nsizes = o->tiny ? 2 : 3;
  while (nsizes > 0 && sizes[nsizes - 1] > o->max_nodes) nsizes--;
  for (int shape = CHAIN; shape <= FANOUT; shape++) {
    double per[3] = {0}, bper[3] = {0}, ip[3] = {0}, total[3] = {0};
    int done = 0;
    for (int k = 0; k < nsizes; k++) {
      if (k >= 2) {
        /* Project from the growth seen so far; a step worse than linear
        ** (a quadratic pass somewhere) could take hours at 10^6. */
        double e = log(total[k - 1] / total[k - 2]) /
                   log((double)sizes[k - 1] / (double)sizes[k - 2]);
        if (!(e > 1)) e = 1;
        double proj = total[k - 1] * pow((double)sizes[k] / (double)sizes[k - 1], e);
        if (proj > o->w6_budget_s) {
          char kase[64];
          case_name(kase, sizeof kase, shape, sizes[k], "pass");
          bench_note("W6: %s skipped: projected %.0f s (cost grows as n^%.2f), over "
                     "the budget of %.0f s (--w6-budget)", kase, proj, e, o->w6_budget_s);
          bench_emit_projected(o, "W6", kase, o->cpu, "s", proj, NULL);
          double ipp = ip[k - 1] * pow((double)sizes[k] / (double)sizes[k - 1], e);
          case_name(kase, sizeof kase, shape, sizes[k], "import+plan");
          bench_emit_projected(o, "W6", kase, o->cpu, "s", ipp,
                               sizes[k] >= 1000000 ? "< 5 s at 1e6 nodes" : NULL);
          per[k] = per[k - 1] * pow((double)sizes[k] / (double)sizes[k - 1], e - 1);
          done = -(k + 1); /* growth below comes from a projection */
          break;
        }
      }
      int reps = o->tiny ? 1 : sizes[k] >= 1000000 ? 3 : sizes[k] >= 100000 ? 5 : 15;
      pass last;
      if (!size_case(o, shape, sizes[k], reps, &per[k], &bper[k], &ip[k], &last)) break;
      total[k] = pass_total(&last);
      done = k + 1;
    }
    bool projected = done < 0;
    int last = projected ? -done - 1 : done - 1;
    if (last < 1) continue;
    /* Growth of the cost per node from the smallest size to the largest. */
    char kase[64];
    bool full_range = !o->tiny && sizes[last] >= 1000000;
    const char *tgt = full_range ? "<= 1.5 (ns/node at 1e6 over 1e4)" : NULL;
    double g = per[last] / per[0];
    snprintf(kase, sizeof kase, "%s/import+plan+run-growth", shape_name[shape]);
    if (projected) {
      bench_emit_projected(o, "W6", kase, o->cpu, "x", g, tgt);
    } else {
      bench_emit_values(o, "W6", kase, o->cpu, 1, "x", (bench_stats){g, g, g}, NULL,
                        NULL, tgt, full_range ? g <= 1.5 : -1);
      double gb = bper[last] / bper[0];
      snprintf(kase, sizeof kase, "%s/build-growth", shape_name[shape]);
      bench_emit_values(o, "W6", kase, o->cpu, 1, "x", (bench_stats){gb, gb, gb},
                        NULL, NULL, tgt, full_range ? gb <= 1.5 : -1);
    }
  }
}
