/* Real TensorFlow 1.x graphs, replayed: every reference run in
** ../shared/testdata/tf1/<stem>.json is imported and run through the public API
** (one session per graph, steps in order, feeds, fetches, targets, repeat)
** and every fetched value is checked within the file's tolerance, every
** expected error by its class. One test per graph.
**
** Graphs that need what a later issue brings are listed below as expected
** failures: they still run, their symptom is printed and counted, and the
** test fails loudly the day one of them starts to pass, so the list cannot
** go stale. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <strings.h>
#include <unistd.h>
#include "testutil.h"

/* Set by tests/conformance/local.mk when configure found jansson. */
#ifdef KT_WITH_JANSSON
#include <jansson.h>
#define KT_HAVE_JANSSON 1
#endif

/* Graphs known to fail until a later issue lands, with why. */
static const struct {
  const char *stem;
  const char *reason;
} kt_expected_failures[] = {
    {"rust_addition",
     "step 0 feeds [1]-shaped values to scalar placeholders; TensorFlow's C "
     "API lets that through, but Kiln checks feeds against the placeholder's "
     "shape as tf.Session does (the session issue requires it)"},
    {"tf_graph_while_loop",
     "needs the TF1 while loop: Enter/Merge/Switch/NextIteration/Exit/"
     "LoopCond (control flow, a later issue)"},
};

/* Graphs their origin documents as run from several threads at once on one
** session: after the steps ran in order, `threads` threads each replay all
** steps `rounds` times concurrently. Only stateless graphs belong here. */
static const struct {
  const char *stem;
  int threads;
  int rounds;
} kt_concurrent[] = {
    {"ngraph_test_axpy", 2, 25},
};

#define KT_NELEMS(a) (sizeof(a) / sizeof((a)[0]))

static inline const char *expected_failure(const char *stem) {
  for (size_t i = 0; i < KT_NELEMS(kt_expected_failures); i++)
    if (strcmp(kt_expected_failures[i].stem, stem) == 0)
      return kt_expected_failures[i].reason;
  return NULL;
}

/* Counted over the run, printed at the end. */
static int n_graphs, n_passed, n_xfail, n_failed;

#ifdef KT_HAVE_JANSSON

/* The first problem met while replaying, with where it happened. */
typedef struct kt_err {
  char msg[2048];
} kt_err;

static bool err(kt_err *e, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static bool err(kt_err *e, const char *fmt, ...) {
  if (e->msg[0] == '\0') {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
  }
  return false;
}

/* ---------------------------------------------------------- JSON values */

/* A JSON number (or "nan"/"inf"/"-inf", which JSON cannot spell) as a
** double; false when v is neither. */
static bool json_double(const json_t *v, double *out) {
  if (json_is_number(v)) {
    *out = json_number_value(v);
    return true;
  }
  if (json_is_boolean(v)) {
    *out = json_is_true(v) ? 1.0 : 0.0;
    return true;
  }
  if (json_is_string(v)) {
    const char *s = json_string_value(v);
    if (strcasecmp(s, "nan") == 0) *out = NAN;
    else if (strcasecmp(s, "inf") == 0 || strcasecmp(s, "infinity") == 0) *out = INFINITY;
    else if (strcasecmp(s, "-inf") == 0 || strcasecmp(s, "-infinity") == 0) *out = -INFINITY;
    else return false;
    return true;
  }
  return false;
}

/* Reads {dtype, shape, values}: dtype, rank and dims; the values array. */
static bool json_tensor_header(const json_t *spec, const char *what,
                               kiln_dtype *dtype, int64_t *dims, int *ndims,
                               int64_t *count, const json_t **values,
                               kt_err *e) {
  const json_t *jd = json_object_get(spec, "dtype");
  const json_t *js = json_object_get(spec, "shape");
  const json_t *jv = json_object_get(spec, "values");
  if (!json_is_object(spec) || !json_is_string(jd) || !json_is_array(js) ||
      !json_is_array(jv))
    return err(e, "%s: not an object with a string dtype and arrays shape "
                  "and values", what);
  *dtype = kiln_dtype_from_name(json_string_value(jd));
  if (*dtype == KILN_INVALID_DTYPE)
    return err(e, "%s: unknown dtype '%s'", what, json_string_value(jd));
  if (json_array_size(js) > KILN_MAX_DIMS)
    return err(e, "%s: rank %zu exceeds %d", what, json_array_size(js),
               KILN_MAX_DIMS);
  *ndims = (int)json_array_size(js);
  *count = 1;
  for (int i = 0; i < *ndims; i++) {
    const json_t *d = json_array_get(js, (size_t)i);
    if (!json_is_integer(d) || json_integer_value(d) < 0)
      return err(e, "%s: shape[%d] is not a non-negative integer", what, i);
    dims[i] = json_integer_value(d);
    *count *= dims[i];
  }
  if ((int64_t)json_array_size(jv) != *count)
    return err(e, "%s: %zu values for a shape of %lld elements", what,
               json_array_size(jv), (long long)*count);
  *values = jv;
  return true;
}

/* A tensor from {dtype, shape, values}; NULL with e set. */
static kiln_tensor *json_to_tensor(const json_t *spec, const char *what,
                                   kt_err *e) {
  kiln_dtype dt;
  int64_t dims[KILN_MAX_DIMS], n;
  int nd;
  const json_t *vals;
  if (!json_tensor_header(spec, what, &dt, dims, &nd, &n, &vals, e)) return NULL;
  kiln_status *s = kiln_status_new();
  if (!s) {
    err(e, "%s: out of memory", what);
    return NULL;
  }
  kiln_tensor *t = kiln_tensor_new(dt, dims, nd, s);
  if (!t) {
    err(e, "%s: %s", what, kiln_status_message(s));
    kiln_status_free(s);
    return NULL;
  }
  void *data = kiln_tensor_data(t);
  for (int64_t i = 0; i < n; i++) {
    const json_t *v = json_array_get(vals, (size_t)i);
    double d = 0;
    if (dt == KILN_STRING) {
      if (!json_is_string(v)) {
        err(e, "%s: value %lld is not a string", what, (long long)i);
        goto fail;
      }
      kiln_tensor_set_string(t, i, json_string_value(v), json_string_length(v), s);
      if (kiln_status_code(s) != KILN_OK) {
        err(e, "%s: %s", what, kiln_status_message(s));
        goto fail;
      }
      continue;
    }
    bool is_int = json_is_integer(v);
    json_int_t iv = is_int ? json_integer_value(v) : 0;
    if (!json_double(v, &d)) {
      err(e, "%s: value %lld is not a number", what, (long long)i);
      goto fail;
    }
    switch (dt) {
    case KILN_FLOAT: ((float *)data)[i] = (float)d; break;
    case KILN_DOUBLE: ((double *)data)[i] = d; break;
    case KILN_INT8: ((int8_t *)data)[i] = (int8_t)(is_int ? iv : (json_int_t)d); break;
    case KILN_INT16: ((int16_t *)data)[i] = (int16_t)(is_int ? iv : (json_int_t)d); break;
    case KILN_INT32: ((int32_t *)data)[i] = (int32_t)(is_int ? iv : (json_int_t)d); break;
    case KILN_INT64: ((int64_t *)data)[i] = (int64_t)(is_int ? iv : (json_int_t)d); break;
    case KILN_UINT8: ((uint8_t *)data)[i] = (uint8_t)(is_int ? iv : (json_int_t)d); break;
    case KILN_UINT16: ((uint16_t *)data)[i] = (uint16_t)(is_int ? iv : (json_int_t)d); break;
    case KILN_UINT32: ((uint32_t *)data)[i] = (uint32_t)(is_int ? iv : (json_int_t)d); break;
    case KILN_UINT64: ((uint64_t *)data)[i] = (uint64_t)(is_int ? iv : (json_int_t)d); break;
    case KILN_BOOL: ((uint8_t *)data)[i] = d != 0; break;
    default:
      err(e, "%s: dtype %s is not supported by the replay", what,
          kiln_dtype_name(dt));
      goto fail;
    }
  }
  kiln_status_free(s);
  return t;
fail:
  kiln_tensor_free(t);
  kiln_status_free(s);
  return NULL;
}

/* Element i of a numeric tensor as a double. */
static bool tensor_double(const kiln_tensor *t, int64_t i, double *out) {
  const void *p = kiln_tensor_data(t);
  switch (kiln_tensor_dtype(t)) {
  case KILN_FLOAT: *out = ((const float *)p)[i]; return true;
  case KILN_DOUBLE: *out = ((const double *)p)[i]; return true;
  case KILN_INT8: *out = ((const int8_t *)p)[i]; return true;
  case KILN_INT16: *out = ((const int16_t *)p)[i]; return true;
  case KILN_INT32: *out = ((const int32_t *)p)[i]; return true;
  case KILN_INT64: *out = (double)((const int64_t *)p)[i]; return true;
  case KILN_UINT8: *out = ((const uint8_t *)p)[i]; return true;
  case KILN_UINT16: *out = ((const uint16_t *)p)[i]; return true;
  case KILN_UINT32: *out = ((const uint32_t *)p)[i]; return true;
  case KILN_UINT64: *out = (double)((const uint64_t *)p)[i]; return true;
  case KILN_BOOL: *out = ((const uint8_t *)p)[i] ? 1.0 : 0.0; return true;
  default: return false;
  }
}

static const char *dims_str(const int64_t *dims, int nd, char *buf, size_t cap) {
  size_t at = 0;
  at += (size_t)snprintf(buf + at, cap - at, "[");
  for (int i = 0; i < nd && at < cap; i++)
    at += (size_t)snprintf(buf + at, cap - at, "%s%lld", i ? "," : "",
                           (long long)dims[i]);
  if (at < cap) snprintf(buf + at, cap - at, "]");
  return buf;
}

/* Checks `got` against {dtype, shape, values}: same dtype and shape, and
** |got - want| <= atol + rtol * |want| for every value (NaN matches NaN,
** an infinity only itself). */
static bool check_tensor(const kiln_tensor *got, const json_t *spec,
                         const char *what, double rtol, double atol,
                         kt_err *e) {
  kiln_dtype dt;
  int64_t dims[KILN_MAX_DIMS], n;
  int nd;
  const json_t *vals;
  char a[256], b[256];
  if (!json_tensor_header(spec, what, &dt, dims, &nd, &n, &vals, e)) return false;
  if (!got) return err(e, "%s: no tensor fetched", what);
  if (kiln_tensor_dtype(got) != dt)
    return err(e, "%s: dtype %s, expected %s", what,
               kiln_dtype_name(kiln_tensor_dtype(got)), kiln_dtype_name(dt));
  int gnd = kiln_tensor_ndims(got);
  const int64_t *gd = kiln_tensor_dims(got);
  bool same = gnd == nd;
  for (int i = 0; same && i < nd; i++) same = gd[i] == dims[i];
  if (!same)
    return err(e, "%s: shape %s, expected %s", what, dims_str(gd, gnd, a, sizeof a),
               dims_str(dims, nd, b, sizeof b));
  if (dt == KILN_STRING) {
    for (int64_t i = 0; i < n; i++) {
      const json_t *v = json_array_get(vals, (size_t)i);
      size_t len;
      const char *g = kiln_tensor_string(got, i, &len);
      if (!json_is_string(v) || !g || len != json_string_length(v) ||
          memcmp(g, json_string_value(v), len) != 0)
        return err(e, "%s: string %lld differs", what, (long long)i);
    }
    return true;
  }
  int64_t bad = 0, first = -1;
  double first_got = 0, first_want = 0;
  for (int64_t i = 0; i < n; i++) {
    double want, have;
    if (!json_double(json_array_get(vals, (size_t)i), &want))
      return err(e, "%s: expected value %lld is not a number", what, (long long)i);
    if (!tensor_double(got, i, &have))
      return err(e, "%s: dtype %s cannot be compared", what, kiln_dtype_name(dt));
    bool ok;
    if (isnan(want)) ok = isnan(have);
    else if (isinf(want)) ok = have == want;
    else ok = fabs(have - want) <= atol + rtol * fabs(want);
    if (!ok && bad++ == 0) {
      first = i;
      first_got = have;
      first_want = want;
    }
  }
  if (bad)
    return err(e, "%s: %lld of %lld values outside |got - want| <= %g + %g*|want|;"
                  " first at flat index %lld: got %.9g, want %.9g",
               what, (long long)bad, (long long)n, atol, rtol, (long long)first,
               first_got, first_want);
  return true;
}

/* ---------------------------------------------------------------- steps */

/* The leading upper-case token of "FAILED_PRECONDITION (why)". */
static void error_class(const char *text, char *buf, size_t cap) {
  size_t i = 0;
  while (text[i] && (text[i] == '_' || (text[i] >= 'A' && text[i] <= 'Z')) &&
         i + 1 < cap) {
    buf[i] = text[i];
    i++;
  }
  buf[i] = '\0';
}

static bool known_code(const char *name) {
  for (int c = KILN_OK; c <= KILN_UNAUTHENTICATED; c++)
    if (strcmp(kiln_code_str((kiln_code)c), name) == 0) return true;
  return false;
}

/* Names from a JSON array of strings, borrowed from the JSON. */
static bool json_names(const json_t *arr, const char *what, const char ***out,
                       int *n, kt_err *e) {
  *out = NULL;
  *n = 0;
  if (arr == NULL) return true;
  if (!json_is_array(arr)) return err(e, "%s is not an array", what);
  *n = (int)json_array_size(arr);
  *out = calloc((size_t)*n + 1, sizeof **out);
  if (!*out) return err(e, "%s: out of memory", what);
  for (int i = 0; i < *n; i++) {
    const json_t *v = json_array_get(arr, (size_t)i);
    if (!json_is_string(v)) return err(e, "%s[%d] is not a string", what, i);
    (*out)[i] = json_string_value(v);
  }
  return true;
}

/* Runs step `si` (all its repeats) in `sess`. */
static bool run_step(kiln_session *sess, const json_t *step, size_t si,
                     double rtol, double atol, kt_err *e) {
  char what[512];
  const json_t *feeds = json_object_get(step, "feeds");
  const json_t *expected = json_object_get(step, "expected");
  const json_t *documented = json_object_get(step, "documented_expected");
  const json_t *xerr = json_object_get(step, "expected_error");
  const json_t *rep = json_object_get(step, "repeat");
  const char **fetches = NULL, **targets = NULL, **feed_names = NULL;
  kiln_tensor **feed_vals = NULL, **out = NULL;
  int nfetch = 0, ntarget = 0, nfeed = 0;
  kiln_status *s = kiln_status_new();
  bool ok = false;

  if (!s) return err(e, "step %zu: out of memory", si);
  if (!json_is_object(step)) {
    err(e, "step %zu is not an object", si);
    goto done;
  }
  if (feeds && !json_is_object(feeds)) {
    err(e, "step %zu: feeds is not an object", si);
    goto done;
  }
  if ((expected == NULL) == (xerr == NULL) || (xerr && !json_is_string(xerr)) ||
      (expected && !json_is_object(expected))) {
    err(e, "step %zu: needs either an expected object or an expected_error "
           "string", si);
    goto done;
  }
  json_int_t repeat = 1;
  if (rep) {
    if (!json_is_integer(rep) || json_integer_value(rep) < 1) {
      err(e, "step %zu: repeat is not a positive integer", si);
      goto done;
    }
    repeat = json_integer_value(rep);
  }
  snprintf(what, sizeof what, "step %zu fetches", si);
  if (!json_names(json_object_get(step, "fetches"), what, &fetches, &nfetch, e))
    goto done;
  snprintf(what, sizeof what, "step %zu targets", si);
  if (!json_names(json_object_get(step, "targets"), what, &targets, &ntarget, e))
    goto done;
  nfeed = feeds ? (int)json_object_size(feeds) : 0;
  feed_names = calloc((size_t)nfeed + 1, sizeof *feed_names);
  feed_vals = calloc((size_t)nfeed + 1, sizeof *feed_vals);
  out = calloc((size_t)nfetch + 1, sizeof *out);
  if (!feed_names || !feed_vals || !out) {
    err(e, "step %zu: out of memory", si);
    goto done;
  }
  if (feeds) {
    const char *key;
    json_t *spec;
    int i = 0;
    json_object_foreach((json_t *)feeds, key, spec) {
      snprintf(what, sizeof what, "step %zu feed '%s'", si, key);
      feed_names[i] = key;
      feed_vals[i] = json_to_tensor(spec, what, e);
      if (!feed_vals[i++]) goto done;
    }
  }
  char want_class[64] = "";
  if (xerr) {
    error_class(json_string_value(xerr), want_class, sizeof want_class);
    if (!known_code(want_class)) {
      err(e, "step %zu: expected_error \"%s\" does not start with a TensorFlow "
             "code name", si, json_string_value(xerr));
      goto done;
    }
  }
  for (json_int_t r = 0; r < repeat; r++) {
    kiln_session_run_names(sess, NULL, feed_names, feed_vals, nfeed, fetches,
                           out, nfetch, targets, ntarget, NULL, s);
    kiln_code code = kiln_status_code(s);
    char rs[64] = "";
    if (repeat > 1) snprintf(rs, sizeof rs, " (repeat %lld)", (long long)r);
    if (xerr) {
      if (code == KILN_OK) {
        err(e, "step %zu%s: succeeded, expected %s", si, rs,
            json_string_value(xerr));
        goto done;
      }
      if (strcmp(kiln_code_str(code), want_class) != 0) {
        err(e, "step %zu%s: failed with %s (%s), expected %s", si, rs,
            kiln_code_str(code), kiln_status_message(s), json_string_value(xerr));
        goto done;
      }
      for (int i = 0; i < nfetch; i++)
        if (out[i]) {
          err(e, "step %zu%s: failed but returned a value for '%s'", si, rs,
              fetches[i]);
          goto done;
        }
      continue;
    }
    if (code != KILN_OK) {
      err(e, "step %zu%s: %s: %s", si, rs, kiln_code_str(code),
          kiln_status_message(s));
      goto done;
    }
    for (int i = 0; i < nfetch; i++) {
      const json_t *want = json_object_get(expected, fetches[i]);
      snprintf(what, sizeof what, "step %zu%s fetch '%s'", si, rs, fetches[i]);
      if (!want) {
        err(e, "%s: no expected value in the reference", what);
        goto done;
      }
      if (!check_tensor(out[i], want, what, rtol, atol, e)) goto done;
      const json_t *doc = documented ? json_object_get(documented, fetches[i]) : NULL;
      snprintf(what, sizeof what, "step %zu%s fetch '%s' (documented by origin)",
               si, rs, fetches[i]);
      if (doc && !check_tensor(out[i], doc, what, rtol, atol, e)) goto done;
    }
    if ((int)json_object_size(expected) != nfetch) {
      err(e, "step %zu: %zu expected values for %d fetches", si,
          json_object_size(expected), nfetch);
      goto done;
    }
    for (int i = 0; i < nfetch; i++) {
      kiln_tensor_free(out[i]);
      out[i] = NULL;
    }
  }
  ok = true;
done:
  for (int i = 0; out && i < nfetch; i++) kiln_tensor_free(out[i]);
  for (int i = 0; feed_vals && i < nfeed; i++) kiln_tensor_free(feed_vals[i]);
  free(out);
  free(feed_vals);
  free(feed_names);
  free(fetches);
  free(targets);
  kiln_status_free(s);
  return ok;
}

/* ------------------------------------------------------------- a graph */

typedef struct kt_thread {
  pthread_t tid;
  kiln_session *sess;
  const json_t *steps;
  double rtol, atol;
  int rounds;
  kt_err e;
  bool ok;
} kt_thread;

static void *thread_main(void *arg) {
  kt_thread *t = arg;
  t->ok = true;
  for (int r = 0; r < t->rounds && t->ok; r++)
    for (size_t i = 0; i < json_array_size(t->steps) && t->ok; i++)
      t->ok = run_step(t->sess, json_array_get(t->steps, i), i, t->rtol, t->atol,
                       &t->e);
  return NULL;
}

/* Replays `threads` copies of the steps at once on one session. */
static bool run_concurrently(kiln_session *sess, const json_t *steps,
                             double rtol, double atol, int threads, int rounds,
                             kt_err *e) {
  kt_thread *t = calloc((size_t)threads, sizeof *t);
  if (!t) return err(e, "out of memory");
  int started = 0;
  for (; started < threads; started++) {
    t[started] = (kt_thread){.sess = sess, .steps = steps, .rtol = rtol,
                             .atol = atol, .rounds = rounds};
    if (pthread_create(&t[started].tid, NULL, thread_main, &t[started]) != 0) {
      err(e, "cannot start thread %d", started);
      break;
    }
  }
  bool ok = started == threads;
  for (int i = 0; i < started; i++) {
    pthread_join(t[i].tid, NULL);
    if (!t[i].ok) ok = err(e, "thread %d of %d: %s", i, threads, t[i].e.msg);
  }
  free(t);
  return ok;
}

/* Imports <dir>/<stem>.json's graph and runs its steps in one session. */
static bool replay(const char *dir, const char *stem, kt_err *e) {
  char path[PATH_MAX];
  json_error_t jerr;
  kiln_graph *g = NULL;
  kiln_session *sess = NULL;
  kiln_import_results *res = NULL;
  void *pb = NULL;
  size_t pblen = 0;
  bool ok = false;
  kiln_status *s = kiln_status_new();

  json_t *root = NULL;
  if ((size_t)snprintf(path, sizeof path, "%s/%s.json", dir, stem) >= sizeof path) {
    err(e, "%s/%s.json: path too long", dir, stem);
    goto done;
  }
  root = json_load_file(path, 0, &jerr);
  if (!s || !root) {
    err(e, "%s: %s (line %d)", path, s ? jerr.text : "out of memory", jerr.line);
    goto done;
  }
  const json_t *gf = json_object_get(root, "graph_file");
  const json_t *steps = json_object_get(root, "steps");
  const json_t *tol = json_object_get(root, "tolerance");
  double rtol, atol;
  if (!json_is_string(gf) || !json_is_array(steps) || !json_is_object(tol) ||
      !json_double(json_object_get(tol, "rtol"), &rtol) ||
      !json_double(json_object_get(tol, "atol"), &atol)) {
    err(e, "%s: needs graph_file, steps and tolerance {rtol, atol}", path);
    goto done;
  }
  if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, json_string_value(gf)) >=
      sizeof path) {
    err(e, "%s/%s: path too long", dir, json_string_value(gf));
    goto done;
  }
  pb = kt_read_file(path, &pblen);
  if (!pb) {
    err(e, "%s: cannot be read", path);
    goto done;
  }
  g = kiln_graph_new();
  if (!g) {
    err(e, "out of memory");
    goto done;
  }
  res = kiln_graph_import(g, pb, pblen, NULL, s);
  if (!res) {
    err(e, "import of %s: %s: %s", json_string_value(gf),
        kiln_code_str(kiln_status_code(s)), kiln_status_message(s));
    goto done;
  }
  sess = kiln_session_new(g, NULL, s);
  if (!sess) {
    err(e, "session: %s: %s", kiln_code_str(kiln_status_code(s)),
        kiln_status_message(s));
    goto done;
  }
  for (size_t i = 0; i < json_array_size(steps); i++)
    if (!run_step(sess, json_array_get(steps, i), i, rtol, atol, e)) goto done;
  for (size_t i = 0; i < KT_NELEMS(kt_concurrent); i++) {
    if (strcmp(kt_concurrent[i].stem, stem) != 0) continue;
    if (!run_concurrently(sess, steps, rtol, atol, kt_concurrent[i].threads,
                          kt_concurrent[i].rounds, e))
      goto done;
    printf("# %s: %d threads, each replaying its %zu steps %d times, on one "
           "session: all values right\n", stem, kt_concurrent[i].threads,
           json_array_size(steps), kt_concurrent[i].rounds);
  }
  ok = true;
done:
  kiln_session_free(sess);
  kiln_import_results_free(res);
  kiln_graph_free(g);
  free(pb);
  json_decref(root);
  kiln_status_free(s);
  return ok;
}

#endif /* KT_HAVE_JANSSON */

/* --------------------------------------------------------------- tests */

static void test_graph(void **state) {
  const char *stem = *state;
  KT_REQUIRE_TESTDATA(dir);
#ifdef KT_HAVE_JANSSON
  kt_err e = {{0}};
  bool ok = replay(dir, stem, &e);
  const char *reason = expected_failure(stem);
  n_graphs++;
  if (reason) {
    if (ok) {
      n_failed++;
      fail_msg("%s PASSES but is listed as an expected failure (%s): remove it "
               "from kt_expected_failures in tests/test_tf1_graphs.c", stem,
               reason);
    }
    n_xfail++;
    printf("# expected failure: %s: %s\n#   symptom: %s\n", stem, reason, e.msg);
    return;
  }
  if (!ok) {
    n_failed++;
    fail_msg("%s: %s", stem, e.msg);
  }
  n_passed++;
#else
  (void)dir;
  (void)stem;
  printf("# SKIP: jansson was not found at configure time; install "
         "libjansson-dev to replay the TensorFlow graphs\n");
  skip();
#endif
}

/* Every listed expected failure still has its reference file. */
static void expected_failures_exist(void **state) {
  (void)state;
  KT_REQUIRE_TESTDATA(dir);
  char path[PATH_MAX];
  struct stat st;
  for (size_t i = 0; i < KT_NELEMS(kt_expected_failures); i++) {
    if ((size_t)snprintf(path, sizeof path, "%s/%s.json", dir,
                         kt_expected_failures[i].stem) >= sizeof path ||
        stat(path, &st) != 0)
      fail_msg("expected failure '%s' has no reference %s: remove it from the "
               "list", kt_expected_failures[i].stem, path);
  }
  for (size_t i = 0; i < KT_NELEMS(kt_concurrent); i++) {
    if ((size_t)snprintf(path, sizeof path, "%s/%s.json", dir,
                         kt_concurrent[i].stem) >= sizeof path ||
        stat(path, &st) != 0)
      fail_msg("concurrent graph '%s' has no reference %s",
               kt_concurrent[i].stem, path);
  }
}

#ifdef KT_HAVE_JANSSON
/* The replay itself, on references made here around a small graph
** (c = a * b over float [2]): a checker that cannot fail proves nothing. */
static const struct {
  const char *name;
  const char *steps;       /* the JSON steps array */
  const char *needle;      /* NULL: must pass; else in the failure */
} self_cases[] = {
    {"right, repeated",
     "[{\"feeds\": {\"a\": {\"dtype\": \"float32\", \"shape\": [2], \"values\": [1.5, 2]},"
     " \"b:0\": {\"dtype\": \"float32\", \"shape\": [2], \"values\": [2, -3]}},"
     " \"fetches\": [\"c:0\"], \"targets\": [], \"repeat\": 3,"
     " \"expected\": {\"c:0\": {\"dtype\": \"float32\", \"shape\": [2], \"values\": [3, -6.00001]}}}]",
     NULL},
    {"wrong value",
     "[{\"feeds\": {\"a\": {\"dtype\": \"float32\", \"shape\": [2], \"values\": [1.5, 2]},"
     " \"b\": {\"dtype\": \"float32\", \"shape\": [2], \"values\": [2, -3]}},"
     " \"fetches\": [\"c:0\"], \"targets\": [],"
     " \"expected\": {\"c:0\": {\"dtype\": \"float32\", \"shape\": [2], \"values\": [3, -6.1]}}}]",
     "1 of 2 values outside"},
    {"wrong shape",
     "[{\"feeds\": {\"a\": {\"dtype\": \"float32\", \"shape\": [2], \"values\": [1, 2]},"
     " \"b\": {\"dtype\": \"float32\", \"shape\": [2], \"values\": [2, 3]}},"
     " \"fetches\": [\"c:0\"], \"targets\": [],"
     " \"expected\": {\"c:0\": {\"dtype\": \"float32\", \"shape\": [1, 2], \"values\": [2, 6]}}}]",
     "shape [2], expected [1,2]"},
    {"expected error met",
     "[{\"feeds\": {\"a\": {\"dtype\": \"int32\", \"shape\": [2], \"values\": [1, 2]},"
     " \"b\": {\"dtype\": \"float32\", \"shape\": [2], \"values\": [2, 3]}},"
     " \"fetches\": [\"c:0\"], \"targets\": [],"
     " \"expected_error\": \"INVALID_ARGUMENT (int32 fed to a float placeholder)\"}]",
     NULL},
    {"expected error of another class",
     "[{\"feeds\": {\"a\": {\"dtype\": \"int32\", \"shape\": [2], \"values\": [1, 2]},"
     " \"b\": {\"dtype\": \"float32\", \"shape\": [2], \"values\": [2, 3]}},"
     " \"fetches\": [\"c:0\"], \"targets\": [], \"expected_error\": \"NOT_FOUND\"}]",
     "failed with INVALID_ARGUMENT"},
    {"expected error missing",
     "[{\"feeds\": {\"a\": {\"dtype\": \"float32\", \"shape\": [2], \"values\": [1, 2]},"
     " \"b\": {\"dtype\": \"float32\", \"shape\": [2], \"values\": [2, 3]}},"
     " \"fetches\": [\"c:0\"], \"targets\": [],"
     " \"expected_error\": \"FAILED_PRECONDITION (x)\"}]",
     "succeeded, expected FAILED_PRECONDITION"},
    {"unknown error class",
     "[{\"fetches\": [], \"targets\": [\"c\"], \"expected_error\": \"Oops\"}]",
     "does not start with a TensorFlow code name"},
    {"values short of the shape",
     "[{\"feeds\": {\"a\": {\"dtype\": \"float32\", \"shape\": [3], \"values\": [1, 2]}},"
     " \"fetches\": [], \"targets\": [], \"expected\": {}}]",
     "2 values for a shape of 3 elements"},
    {"a fetch without expected value",
     "[{\"feeds\": {\"a\": {\"dtype\": \"float32\", \"shape\": [2], \"values\": [1, 2]},"
     " \"b\": {\"dtype\": \"float32\", \"shape\": [2], \"values\": [2, 3]}},"
     " \"fetches\": [\"c:0\"], \"targets\": [], \"expected\": {}}]",
     "no expected value"},
    {"a target by name", "[{\"fetches\": [], \"targets\": [\"nop\"], \"expected\": {}}]",
     NULL},
};

static bool write_file(const char *path, const void *data, size_t len) {
  FILE *f = fopen(path, "wb");
  if (!f) return false;
  bool ok = fwrite(data, 1, len, f) == len;
  return fclose(f) == 0 && ok;
}
#endif

static void replay_checks_itself(void **state) {
  (void)state;
#ifdef KT_HAVE_JANSSON
  kiln_status *s = kiln_status_new();
  kiln_graph *g = kiln_graph_new();
  int64_t d[] = {2};
  kiln_output a = kiln_placeholder(g, KILN_FLOAT, d, 1, "a", s);
  kiln_output b = kiln_placeholder(g, KILN_FLOAT, d, 1, "b", s);
  kiln_mul(g, a, b, "c", s);
  kiln_op_desc_finish(kiln_op_desc_new(g, "NoOp", "nop"), s);
  assert_ok(s);
  kiln_buffer *pb = kiln_graph_export(g, s);
  assert_ok(s);
  char dir[] = "/tmp/kiln-tf1-selftestXXXXXX", path[PATH_MAX];
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/self.pb", dir);
  assert_true(write_file(path, pb->data, pb->length));
  kiln_buffer_free(pb);
  kiln_graph_free(g);
  kiln_status_free(s);
  char failures[4096] = "";
  for (size_t i = 0; i < KT_NELEMS(self_cases); i++) {
    char json[4096];
    int n = snprintf(json, sizeof json,
                     "{\"graph_file\": \"self.pb\", \"tolerance\": {\"rtol\": 0.0001, "
                     "\"atol\": 1e-05}, \"steps\": %s}", self_cases[i].steps);
    snprintf(path, sizeof path, "%s/self.json", dir);
    assert_true(n > 0 && (size_t)n < sizeof json && write_file(path, json, (size_t)n));
    kt_err e = {{0}};
    bool ok = replay(dir, "self", &e);
    const char *needle = self_cases[i].needle;
    size_t at = strlen(failures);
    if (!needle && !ok)
      snprintf(failures + at, sizeof failures - at, "\n  '%s' failed: %s",
               self_cases[i].name, e.msg);
    else if (needle && ok)
      snprintf(failures + at, sizeof failures - at, "\n  '%s' passed", self_cases[i].name);
    else if (needle && !strstr(e.msg, needle))
      snprintf(failures + at, sizeof failures - at, "\n  '%s': \"%s\" lacks \"%s\"",
               self_cases[i].name, e.msg, needle);
  }
  /* A malformed reference is a failure too, not a crash. */
  snprintf(path, sizeof path, "%s/self.json", dir);
  assert_true(write_file(path, "{\"steps\": [", 12));
  kt_err e = {{0}};
  bool malformed_ok = replay(dir, "self", &e);
  unlink(path);
  snprintf(path, sizeof path, "%s/self.pb", dir);
  unlink(path);
  rmdir(dir);
  if (malformed_ok) fail_msg("a malformed reference was accepted");
  if (failures[0]) fail_msg("the replay misjudged:%s", failures);
#else
  printf("# SKIP: jansson was not found at configure time\n");
  skip();
#endif
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The stems of the .json files in dir, sorted; caller frees each and the array. */
static char **list_stems(const char *dir, size_t *n) {
  *n = 0;
  DIR *d = opendir(dir);
  if (!d) return NULL;
  size_t cap = 0;
  char **v = NULL;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    size_t len = strlen(de->d_name);
    if (len <= 5 || strcmp(de->d_name + len - 5, ".json") != 0) continue;
    if (*n == cap) {
      size_t nc = cap ? 2 * cap : 16;
      char **nv = realloc(v, nc * sizeof *nv);
      if (!nv) break;
      v = nv;
      cap = nc;
    }
    v[*n] = strndup(de->d_name, len - 5);
    if (v[*n]) (*n)++;
  }
  closedir(d);
  if (*n) qsort(v, *n, sizeof *v, by_name);
  return v;
}

int main(void) {
  const char *dir = kt_testdata_dir();
  size_t n = 0;
  char **stems = dir ? list_stems(dir, &n) : NULL;
  /* Without the data one test remains, and it says why it skips. */
  static char none[] = "testdata";
  size_t ntests = (n ? n : 1) + 2;
  struct CMUnitTest *tests = calloc(ntests, sizeof *tests);
  char **names = calloc(ntests, sizeof *names);
  if (!tests || !names) {
    fprintf(stderr, "out of memory\n");
    return 1;
  }
  size_t k = 0;
  tests[k++] = (struct CMUnitTest)cmocka_unit_test(replay_checks_itself);
  tests[k++] = (struct CMUnitTest)cmocka_unit_test(expected_failures_exist);
  for (size_t i = 0; i < (n ? n : 1); i++) {
    const char *stem = n ? stems[i] : none;
    size_t len = strlen(stem) + 5;
    names[k] = malloc(len);
    if (!names[k]) {
      fprintf(stderr, "out of memory\n");
      return 1;
    }
    snprintf(names[k], len, "tf1_%s", stem);
    tests[k] = (struct CMUnitTest){.name = names[k], .test_func = test_graph,
                                   .initial_state = (void *)stem};
    k++;
  }
  int rc = _cmocka_run_group_tests("tf1_graphs", tests, k, NULL, NULL);
  printf("# tf1 replay: %d graphs run: %d passed, %d expected failures, %d "
         "failed\n", n_graphs, n_passed, n_xfail, n_failed);
  for (size_t i = 0; i < k; i++) free(names[i]);
  for (size_t i = 0; i < n; i++) free(stems[i]);
  free(stems);
  free(names);
  free(tests);
  return rc;
}
