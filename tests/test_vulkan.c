/*
** The Vulkan backend end to end, through the public API, on whatever
** Vulkan device the machine has (Mesa's lavapipe in CI).
**
** Every kernel runs beside the CPU plugin's on the same random inputs (a
** fixed seed) and the two results are compared within the tolerance
** stated per case; the trace proves where each ran. Then: an MLP placed
** wholly on /device:VULKAN:0, a graph whose unsupported op soft-places to
** the CPU, device listing, errors with TensorFlow's messages, long chains
** (deferred frees, several submissions in one step) and concurrent steps.
**
** The first tests fork children before this process loads any plugin
** (plugins load once per process): KILN_PLUGINS=cpu hides the Vulkan
** device; without a Vulkan driver the plugin loads and registers nothing;
** the config file's device filter applies; read from the debug log, a step
** records into one command buffer submitted once while pipelines,
** descriptor sets and command buffers are reused from step to step; and
** KILN_VULKAN_STAGING=1 takes the staging path of GPUs whose memory the
** host cannot map.
**
** Without a Vulkan device each test skips, saying why (the plugin's own
** record). The suite runs under the Khronos validation layer
** (KILN_VULKAN_VALIDATION=1, unless set to something else): any error it
** reports fails the step that follows.
*/
#include <dlfcn.h>
#include <link.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "sessionutil.h"

#define VK_DEV "/device:VULKAN:0"
#define CPU_DEV "/device:CPU:0"
#define VK_FULL "/job:localhost/replica:0/task:0/device:VULKAN:0"
#define CPU_FULL "/job:localhost/replica:0/task:0/device:CPU:0"

static kiln_status *S;
static bool loaded; /* this process has loaded plugins: no more forks */
static bool child_mode; /* in a forked child: fail by exiting, not cmocka */
static char why_none[1024];
static int filter_keep_rc = -1; /* config_device_filter's "devices = 0" child */

/* Fails the test, or in a child exits 1 with the message on stderr. */
#define CHECK(cond, ...)                                                   \
  do {                                                                     \
    if (!(cond)) {                                                         \
      if (!child_mode) fail_msg(__VA_ARGS__);                              \
      fprintf(stderr, "# child: %s:%d: ", __FILE__, __LINE__);             \
      fprintf(stderr, __VA_ARGS__);                                        \
      fputc('\n', stderr);                                                 \
      exit(1);                                                             \
    }                                                                      \
  } while (0)
#define CHECK_OK(s) \
  CHECK(kiln_status_code(s) == KILN_OK, "status: %s", kiln_status_message(s))

/* The Vulkan loader unloads the driver (libvulkan_*.so) when the
** plugin destroys its instance at exit, and memory the driver still holds
** in its globals then looks leaked to LeakSanitizer (--enable-sanitizers).
** Keeping the driver mapped until the process ends lets it see them. */
static int pin_driver(struct dl_phdr_info *info, size_t size, void *arg) {
  const char *base = strrchr(info->dlpi_name, '/');
  (void)size;
  (void)arg;
  if (base && strncmp(base + 1, "libvulkan_", 10) == 0)
    dlopen(info->dlpi_name, RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);
  return 0;
}

/* Number of devices of `type` (plugins load first). */
static int count_type(const char *type) {
  kiln_status *s = kiln_status_new();
  kiln_device_list *l = kiln_devices_list(s);
  int n = 0;
  for (int i = 0; l && i < kiln_device_list_size(l); i++)
    n += strcmp(kiln_device_list_type(l, i), type) == 0;
  kiln_device_list_free(l);
  kiln_status_free(s);
  dl_iterate_phdr(pin_driver, NULL);
  return n;
}

/* Number of VULKAN devices; when none, why_none says what the plugin
** reported. */
static int vulkan_devices(void) {
  loaded = true;
  int n = count_type("VULKAN");
  if (n == 0) {
    kiln_plugin_list *pl = kiln_plugins_list();
    snprintf(why_none, sizeof why_none, "the vulkan plugin was not found");
    for (int i = 0; pl && i < kiln_plugin_list_size(pl); i++)
      if (strcmp(kiln_plugin_list_name(pl, i), "vulkan") == 0)
        snprintf(why_none, sizeof why_none, "plugin %s %s%s%s",
                 kiln_plugin_list_path(pl, i),
                 kiln_plugin_list_code(pl, i) == KILN_OK
                     ? "loaded but found no device (KILN_LOG=info says why)"
                     : "did not load",
                 *kiln_plugin_list_message(pl, i) ? ": " : "",
                 kiln_plugin_list_message(pl, i));
    kiln_plugin_list_free(pl);
  }
  return n;
}

#define REQUIRE_VULKAN()                                                   \
  do {                                                                     \
    KT_REQUIRE_CPU();                                                      \
    if (vulkan_devices() == 0) {                                           \
      fprintf(stderr, "# SKIP: no VULKAN device: %s\n", why_none);         \
      skip();                                                              \
      return;                                                              \
    }                                                                      \
  } while (0)

/* ------------------------------------------------------------- helpers */

static uint64_t rng = 88172645463325252ull;

static void seed(const char *s, int k) {
  rng = 88172645463325252ull ^ (uint64_t)k * 0x9e3779b97f4a7c15ull;
  for (; *s; s++) rng = (rng ^ (uint8_t)*s) * 0x100000001b3ull;
  if (!rng) rng = 1;
}

static double uniform(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (double)(rng >> 11) / 9007199254740992.0;
}

/* Attrs from "name=value;...": [1,2] an int list, true/false a bool, a
** number with a '.' a float, other numbers ints, the rest strings. */
static void set_attrs(kiln_op_desc *d, const char *spec) {
  char buf[256], *save = NULL;
  if (!spec) return;
  snprintf(buf, sizeof buf, "%s", spec);
  for (char *kv = strtok_r(buf, ";", &save); kv; kv = strtok_r(NULL, ";", &save)) {
    char *v = strchr(kv, '=');
    CHECK(v != NULL, "attr spec '%s' lacks '='", kv);
    *v++ = '\0';
    if (*v == '[') {
      int64_t list[16];
      int n = 0;
      for (char *p = v + 1; *p && *p != ']' && n < 16;) {
        list[n++] = strtoll(p, &p, 10);
        if (*p == ',') p++;
      }
      kiln_op_desc_set_attr_int_list(d, kv, list, n);
    } else if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0) {
      kiln_op_desc_set_attr_bool(d, kv, strcmp(v, "true") == 0);
    } else if ((*v == '-' || (*v >= '0' && *v <= '9')) && strchr(v, '.')) {
      kiln_op_desc_set_attr_float(d, kv, strtof(v, NULL));
    } else if (*v == '-' || (*v >= '0' && *v <= '9')) {
      kiln_op_desc_set_attr_int(d, kv, strtoll(v, NULL, 10));
    } else {
      kiln_op_desc_set_attr_string(d, kv, v, strlen(v));
    }
  }
}

/* A float tensor holding v. */
static kiln_tensor *floats(const float *v, const int64_t *dims, int nd) {
  kiln_tensor *t = kiln_tensor_new(KILN_FLOAT, dims, nd, S);
  CHECK_OK(S);
  if (kiln_tensor_num_elements(t))
    memcpy(kiln_tensor_data(t), v,
           (size_t)kiln_tensor_num_elements(t) * sizeof(float));
  return t;
}

/* An op of `type` on `dev` over inputs in[0..n) (a list argument first
** when list > 0: that many inputs). */
static kiln_op *node(kiln_graph *g, const char *type, const char *name,
                     const char *dev, const kiln_output *in, int n, int list,
                     const char *attrs) {
  kiln_op_desc *d = kiln_op_desc_new(g, type, name);
  int i = 0;
  if (list > 0) {
    kiln_op_desc_add_input_list(d, in, list);
    i = list;
  }
  for (; i < n; i++) kiln_op_desc_add_input(d, in[i]);
  if (dev) kiln_op_desc_set_device(d, dev);
  set_attrs(d, attrs);
  return kiln_op_desc_finish(d, S);
}

/* A fresh session on g with trace-level run options. */
typedef struct runner {
  kiln_config *cfg;
  kiln_session_options *opts;
  kiln_session *sess;
  kiln_run_options *ro;
  kiln_run_metadata *md;
} runner;

static void runner_open(runner *r, kiln_graph *g, bool soft, bool log) {
  r->cfg = kiln_config_new();
  kiln_config_set_allow_soft_placement(r->cfg, soft);
  kiln_config_set_log_device_placement(r->cfg, log);
  r->opts = kiln_session_options_new();
  kiln_session_options_set_config(r->opts, r->cfg);
  r->sess = kiln_session_new(g, r->opts, S);
  assert_ok(S);
  r->ro = kiln_run_options_new();
  kiln_run_options_set_trace_level(r->ro, KILN_TRACE_FULL);
  r->md = kiln_run_metadata_new();
}

static void runner_close(runner *r) {
  kiln_run_metadata_free(r->md);
  kiln_run_options_free(r->ro);
  kiln_session_free(r->sess);
  kiln_session_options_free(r->opts);
  kiln_config_free(r->cfg);
}

/* The device node `name` ran on in the last traced step ("" if absent). */
static const char *ran_on(const runner *r, const char *name) {
  for (int i = 0; i < kiln_run_metadata_num_nodes(r->md); i++)
    if (strcmp(kiln_run_metadata_node_name(r->md, i), name) == 0)
      return kiln_run_metadata_node_device(r->md, i);
  return "";
}

/* Asserts got matches want within atol + rtol * |want|, NaN matching NaN
** and infinities matching exactly; other dtypes must be equal bytes. */
static void assert_close(const kiln_tensor *got, const kiln_tensor *want,
                         double atol, double rtol, const char *what) {
  assert_non_null(got);
  assert_non_null(want);
  assert_int_equal(kiln_tensor_dtype(got), kiln_tensor_dtype(want));
  if (kiln_tensor_ndims(got) != kiln_tensor_ndims(want))
    fail_msg("%s: rank %d, want %d", what, kiln_tensor_ndims(got),
             kiln_tensor_ndims(want));
  for (int i = 0; i < kiln_tensor_ndims(want); i++)
    if (kiln_tensor_dim(got, i) != kiln_tensor_dim(want, i))
      fail_msg("%s: dim %d is %lld, want %lld", what, i,
               (long long)kiln_tensor_dim(got, i),
               (long long)kiln_tensor_dim(want, i));
  int64_t n = kiln_tensor_num_elements(want);
  if (kiln_tensor_dtype(want) != KILN_FLOAT) {
    if (n && memcmp(kiln_tensor_data(got), kiln_tensor_data(want),
                    kiln_tensor_byte_size(want)) != 0)
      fail_msg("%s: the bytes differ", what);
    return;
  }
  const float *g = kiln_tensor_data(got), *w = kiln_tensor_data(want);
  for (int64_t i = 0; i < n; i++) {
    double a = g[i], b = w[i];
    bool ok = (isnan(a) && isnan(b)) || a == b ||
              (isfinite(a) && isfinite(b) && fabs(a - b) <= atol + rtol * fabs(b));
    if (!ok)
      fail_msg("%s: element %lld is %.9g, want %.9g (tolerance %g + %g*|want|)",
               what, (long long)i, a, b, atol, rtol);
  }
}

/* -------------------------------------------- kernels against the CPU's */

/* One input of a case: random values of dt in [lo, hi), or (cst) an int32
** Const of the values iv, a vector of d[0] values or a scalar (nd 0). */
typedef struct vin {
  kiln_dtype dt;
  int nd;
  int64_t d[10];
  float lo, hi;
  bool cst;
  int64_t iv[10];
} vin;

typedef struct vcase {
  const char *op;
  const char *attrs;
  int nin;
  vin in[4];
  int list;          /* the first `list` inputs form one list argument */
  double atol, rtol;
} vcase;

#define NDIMS(...) (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t))
#define IN(lo_, hi_, ...) \
  {.dt = KILN_FLOAT, .lo = lo_, .hi = hi_, .nd = NDIMS(__VA_ARGS__), .d = {__VA_ARGS__}}
#define IN0(lo_, hi_) {.dt = KILN_FLOAT, .lo = lo_, .hi = hi_, .nd = 0}
#define TYPED(dt_, ...) \
  {.dt = dt_, .lo = -1000, .hi = 1000, .nd = NDIMS(__VA_ARGS__), .d = {__VA_ARGS__}}
#define INTS(...) \
  {.dt = KILN_INT32, .cst = true, .nd = 1, .d = {NDIMS(__VA_ARGS__)}, .iv = {__VA_ARGS__}}
#define INT(v) {.dt = KILN_INT32, .cst = true, .nd = 0, .iv = {v}}

static kiln_tensor *random_tensor(const vin *v) {
  kiln_tensor *t = kiln_tensor_new(v->dt, v->d, v->nd, S);
  assert_ok(S);
  int64_t n = kiln_tensor_num_elements(t);
  void *p = kiln_tensor_data(t);
  for (int64_t i = 0; i < n; i++) {
    double x = v->lo + (v->hi - v->lo) * uniform();
    switch (v->dt) {
      case KILN_FLOAT: ((float *)p)[i] = (float)x; break;
      case KILN_DOUBLE: ((double *)p)[i] = x; break;
      case KILN_INT32: ((int32_t *)p)[i] = (int32_t)x; break;
      case KILN_INT64: ((int64_t *)p)[i] = (int64_t)x * 100003; break;
      default: fail_msg("no random values of dtype %d", (int)v->dt);
    }
  }
  return t;
}

/* Runs case c on CPU:0 and VULKAN:0 from the same inputs; compares. */
static void check_case(const vcase *c, int k) {
  char what[160];
  snprintf(what, sizeof what, "%s case %d (%s)", c->op, k,
           c->attrs ? c->attrs : "no attrs");
  seed(c->op, k);
  kiln_graph *g = kiln_graph_new();
  kiln_output in[4], feeds[4];
  kiln_tensor *vals[4];
  int nfeeds = 0;
  for (int i = 0; i < c->nin; i++) {
    const vin *v = &c->in[i];
    char name[16];
    snprintf(name, sizeof name, "in%d", i);
    if (v->cst) {
      int32_t iv[10];
      for (int j = 0; j < (v->nd ? v->d[0] : 1); j++) iv[j] = (int32_t)v->iv[j];
      in[i] = kiln_const_values(g, KILN_INT32, iv, v->d, v->nd, name, S);
    } else {
      in[i] = kiln_placeholder(g, v->dt, v->d, v->nd, name, S);
      feeds[nfeeds] = in[i];
      vals[nfeeds++] = random_tensor(v);
    }
    assert_ok(S);
  }
  kiln_op *on_cpu = node(g, c->op, "cpu", CPU_DEV, in, c->nin, c->list, c->attrs);
  if (!on_cpu) fail_msg("%s: %s", what, kiln_status_message(S));
  kiln_op *on_vk = node(g, c->op, "vk", VK_DEV, in, c->nin, c->list, c->attrs);
  assert_ok(S);
  runner r;
  runner_open(&r, g, false, false);
  kiln_output fetch[2] = {{on_cpu, 0}, {on_vk, 0}};
  kiln_tensor *out[2] = {NULL, NULL};
  kiln_session_run(r.sess, r.ro, feeds, vals, nfeeds, fetch, out, 2, NULL, 0,
                   r.md, S);
  if (kiln_status_code(S) != KILN_OK)
    fail_msg("%s: %s", what, kiln_status_message(S));
  assert_string_equal(ran_on(&r, "vk"), VK_FULL);
  assert_string_equal(ran_on(&r, "cpu"), CPU_FULL);
  assert_close(out[1], out[0], c->atol, c->rtol, what);
  for (int i = 0; i < 2; i++) kiln_tensor_free(out[i]);
  for (int i = 0; i < nfeeds; i++) kiln_tensor_free(vals[i]);
  runner_close(&r);
  kiln_graph_free(g);
}

static void check_cases(const vcase *cases, size_t n) {
  for (size_t i = 0; i < n; i++) check_case(&cases[i], (int)i);
}

/* Tolerances: exact IEEE operations (+, -, *, comparisons, rounding) must
** match bit for bit; division and square roots within a few ulps
** (Vulkan allows 2.5 ulp); exp, log and what is built on them within 1e-5
** relative; sin and cos within 5e-4 absolute, Vulkan's bound; sums of
** many terms within 1e-5 (their order differs). */
#define EXACT 0, 0
#define ULPS 1e-7, 1e-6
#define TRANSC 1e-6, 1e-5
#define TRIG 5e-4, 0
#define SUMS 1e-5, 1e-5

static void unary_kernels(void **state) {
  (void)state;
  REQUIRE_VULKAN();
  static const vcase cases[] = {
      {"Neg", NULL, 1, {IN(-3, 3, 3, 5, 7)}, 0, EXACT},
      {"Abs", NULL, 1, {IN(-3, 3, 3, 5, 7)}, 0, EXACT},
      {"Square", NULL, 1, {IN(-3, 3, 105)}, 0, EXACT},
      {"Reciprocal", NULL, 1, {IN(0.5, 3, 4, 9)}, 0, ULPS},
      {"Inv", NULL, 1, {IN(-3, -0.5, 4, 9)}, 0, ULPS},
      {"Round", NULL, 1, {IN(-4, 4, 300)}, 0, EXACT},
      {"Rint", NULL, 1, {IN(-4, 4, 300)}, 0, EXACT},
      {"Sign", NULL, 1, {IN(-2, 2, 3, 5, 7)}, 0, EXACT},
      {"Floor", NULL, 1, {IN(-4, 4, 300)}, 0, EXACT},
      {"Ceil", NULL, 1, {IN(-4, 4, 300)}, 0, EXACT},
      {"Exp", NULL, 1, {IN(-5, 5, 3, 5, 7)}, 0, TRANSC},
      {"Expm1", NULL, 1, {IN(-2, 2, 3, 5, 7)}, 0, TRANSC},
      {"Expm1", NULL, 1, {IN(-1e-3, 1e-3, 64)}, 0, TRANSC},
      {"Log", NULL, 1, {IN(0.01, 10, 3, 5, 7)}, 0, TRANSC},
      {"Log1p", NULL, 1, {IN(-0.5, 3, 3, 5, 7)}, 0, TRANSC},
      {"Log1p", NULL, 1, {IN(-1e-3, 1e-3, 64)}, 0, TRANSC},
      {"Sqrt", NULL, 1, {IN(0, 10, 3, 5, 7)}, 0, ULPS},
      {"Rsqrt", NULL, 1, {IN(0.01, 10, 3, 5, 7)}, 0, ULPS},
      {"Tanh", NULL, 1, {IN(-12, 12, 3, 5, 7)}, 0, TRANSC},
      {"Tanh", NULL, 1, {IN(-0.01, 0.01, 64)}, 0, TRANSC},
      {"Sigmoid", NULL, 1, {IN(-12, 12, 3, 5, 7)}, 0, TRANSC},
      {"Sin", NULL, 1, {IN(-3.14, 3.14, 3, 5, 7)}, 0, TRIG},
      {"Cos", NULL, 1, {IN(-3.14, 3.14, 3, 5, 7)}, 0, TRIG},
      {"Relu", NULL, 1, {IN(-3, 3, 3, 5, 7)}, 0, EXACT},
      {"Relu6", NULL, 1, {IN(-3, 9, 3, 5, 7)}, 0, EXACT},
      {"Elu", NULL, 1, {IN(-3, 3, 3, 5, 7)}, 0, TRANSC},
      {"Selu", NULL, 1, {IN(-3, 3, 3, 5, 7)}, 0, TRANSC},
      {"Softplus", NULL, 1, {IN(-20, 20, 3, 5, 7)}, 0, TRANSC},
      {"Softsign", NULL, 1, {IN(-3, 3, 3, 5, 7)}, 0, ULPS},
      {"LeakyRelu", NULL, 1, {IN(-3, 3, 3, 5, 7)}, 0, EXACT},
      {"LeakyRelu", "alpha=0.3", 1, {IN(-3, 3, 3, 5, 7)}, 0, EXACT},
      {"Neg", NULL, 1, {IN0(-3, 3)}, 0, EXACT},
      {"Exp", NULL, 1, {IN(-1, 1, 0, 3)}, 0, EXACT},
  };
  check_cases(cases, sizeof cases / sizeof cases[0]);
}

static void binary_kernels(void **state) {
  (void)state;
  REQUIRE_VULKAN();
  static const vcase cases[] = {
      {"Add", NULL, 2, {IN(-2, 2, 2, 3, 4), IN(-2, 2, 2, 3, 4)}, 0, EXACT},
      {"Add", NULL, 2, {IN(-2, 2, 2, 3, 4), IN(-2, 2, 4)}, 0, EXACT},
      {"Add", NULL, 2, {IN(-2, 2, 2, 1, 4), IN(-2, 2, 3, 1)}, 0, EXACT},
      {"Add", NULL, 2, {IN0(-2, 2), IN(-2, 2, 2, 3)}, 0, EXACT},
      {"Add", NULL, 2, {IN(-2, 2, 2, 3), IN0(-2, 2)}, 0, EXACT},
      {"Add", NULL, 2, {IN(-2, 2, 1, 3, 1, 5), IN(-2, 2, 2, 1, 4, 1)}, 0, EXACT},
      {"Add", NULL, 2, {IN(-2, 2, 0, 3), IN(-2, 2, 3)}, 0, EXACT},
      /* Ten alternating broadcast dims: more than one dispatch walks. */
      {"Add", NULL, 2,
       {IN(-2, 2, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1),
        IN(-2, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2)}, 0, EXACT},
      {"AddV2", NULL, 2, {IN(-2, 2, 5, 6), IN(-2, 2, 5, 1)}, 0, EXACT},
      {"Sub", NULL, 2, {IN(-2, 2, 5, 6), IN(-2, 2, 6)}, 0, EXACT},
      {"Mul", NULL, 2, {IN(-2, 2, 3, 1, 6), IN(-2, 2, 4, 1)}, 0, EXACT},
      {"Div", NULL, 2, {IN(-2, 2, 5, 6), IN(0.5, 2, 6)}, 0, ULPS},
      {"RealDiv", NULL, 2, {IN(-2, 2, 5, 6), IN(-2, -0.5, 5, 6)}, 0, ULPS},
      {"Maximum", NULL, 2, {IN(-2, 2, 5, 6), IN(-2, 2, 1, 6)}, 0, EXACT},
      {"Minimum", NULL, 2, {IN(-2, 2, 5, 6), IN(-2, 2, 5, 1)}, 0, EXACT},
      {"Pow", NULL, 2, {IN(0.5, 2, 5, 6), IN(-2, 2, 5, 6)}, 0, 1e-6, 2e-5},
      {"SquaredDifference", NULL, 2, {IN(-2, 2, 5, 6), IN(-2, 2, 6)}, 0, EXACT},
      {"DivNoNan", NULL, 2, {IN(-2, 2, 5, 6), IN(-1, 1, 5, 6)}, 0, ULPS},
      {"SigmoidGrad", NULL, 2, {IN(0, 1, 4, 5), IN(-2, 2, 4, 5)}, 0, ULPS},
      {"TanhGrad", NULL, 2, {IN(-1, 1, 4, 5), IN(-2, 2, 4, 5)}, 0, ULPS},
      {"RsqrtGrad", NULL, 2, {IN(0.5, 2, 4, 5), IN(-2, 2, 4, 5)}, 0, ULPS},
      {"SqrtGrad", NULL, 2, {IN(0.5, 2, 4, 5), IN(-2, 2, 4, 5)}, 0, ULPS},
      {"ReciprocalGrad", NULL, 2, {IN(-2, 2, 4, 5), IN(-2, 2, 4, 5)}, 0, ULPS},
      {"InvGrad", NULL, 2, {IN(-2, 2, 4, 5), IN(-2, 2, 4, 5)}, 0, ULPS},
  };
  check_cases(cases, sizeof cases / sizeof cases[0]);
}

static void nn_kernels(void **state) {
  (void)state;
  REQUIRE_VULKAN();
  static const vcase cases[] = {
      {"BiasAdd", NULL, 2, {IN(-2, 2, 2, 3, 4), IN(-2, 2, 4)}, 0, EXACT},
      {"BiasAdd", "data_format=NCHW", 2, {IN(-2, 2, 2, 3, 4, 5), IN(-2, 2, 3)},
       0, EXACT},
      {"BiasAddV1", NULL, 2, {IN(-2, 2, 6, 4), IN(-2, 2, 4)}, 0, EXACT},
      {"Softmax", NULL, 1, {IN(-5, 5, 4, 10)}, 0, TRANSC},
      {"Softmax", NULL, 1, {IN(-5, 5, 3, 700)}, 0, TRANSC},
      {"Softmax", NULL, 1, {IN(-5, 5, 7)}, 0, TRANSC},
      {"LogSoftmax", NULL, 1, {IN(-5, 5, 4, 10)}, 0, TRANSC},
      {"LogSoftmax", NULL, 1, {IN(-5, 5, 2, 3, 300)}, 0, TRANSC},
  };
  check_cases(cases, sizeof cases / sizeof cases[0]);
}

static void reduce_kernels(void **state) {
  (void)state;
  REQUIRE_VULKAN();
  static const vcase cases[] = {
      {"Sum", NULL, 2, {IN(-2, 2, 3, 4, 5), INTS(0)}, 0, SUMS},
      {"Sum", NULL, 2, {IN(-2, 2, 3, 4, 5), INTS(1)}, 0, SUMS},
      {"Sum", NULL, 2, {IN(-2, 2, 3, 4, 5), INTS(2)}, 0, SUMS},
      {"Sum", NULL, 2, {IN(-2, 2, 3, 4, 5), INTS(0, 2)}, 0, SUMS},
      {"Sum", NULL, 2, {IN(-2, 2, 3, 4, 5), INTS(2, 0, 1)}, 0, SUMS},
      {"Sum", "keep_dims=true", 2, {IN(-2, 2, 3, 4, 5), INTS(-1, 1)}, 0, SUMS},
      {"Sum", NULL, 2, {IN(-2, 2, 3, 4, 5), INT(-2)}, 0, SUMS},
      {"Sum", NULL, 2, {IN(-1, 1, 20000), INTS(0)}, 0, 1e-4, 1e-5},
      {"Sum", NULL, 2, {IN(-1, 1, 3, 9000), INTS(1)}, 0, 1e-4, 1e-5},
      {"Sum", NULL, 2, {IN(-2, 2, 2, 1, 3), INTS(1)}, 0, EXACT},
      {"Sum", NULL, 2, {IN(-2, 2, 0, 3), INTS(0)}, 0, EXACT},
      {"Sum", NULL, 2, {IN(-2, 2, 2, 3), INTS(0, 1)}, 0, SUMS},
      {"Mean", NULL, 2, {IN(-2, 2, 3, 4, 5), INTS(1)}, 0, SUMS},
      {"Mean", NULL, 2, {IN(-2, 2, 3, 4, 5), INTS(0, 2)}, 0, SUMS},
      {"Mean", "keep_dims=true", 2, {IN(-2, 2, 3, 4, 5), INTS(0, 1, 2)}, 0, SUMS},
      {"Mean", NULL, 2, {IN(-1, 1, 2, 10000), INTS(1)}, 0, SUMS},
      {"Mean", NULL, 2, {IN(-2, 2, 0, 3), INTS(0)}, 0, EXACT},
      {"Max", NULL, 2, {IN(-2, 2, 3, 4, 5), INTS(0)}, 0, EXACT},
      {"Max", NULL, 2, {IN(-2, 2, 3, 4, 5), INTS(1, 2)}, 0, EXACT},
      {"Max", NULL, 2, {IN(-2, 2, 3, 4, 5), INTS(0, 1, 2)}, 0, EXACT},
      {"Max", NULL, 2, {IN(-2, 2, 20000), INTS(0)}, 0, EXACT},
      {"Max", NULL, 2, {IN(-2, 2, 0, 3), INTS(0)}, 0, EXACT},
  };
  check_cases(cases, sizeof cases / sizeof cases[0]);
}

static void matmul_kernels(void **state) {
  (void)state;
  REQUIRE_VULKAN();
  static const vcase cases[] = {
      {"MatMul", NULL, 2, {IN(-1, 1, 5, 7), IN(-1, 1, 7, 3)}, 0, SUMS},
      {"MatMul", "transpose_a=true", 2, {IN(-1, 1, 7, 5), IN(-1, 1, 7, 3)}, 0, SUMS},
      {"MatMul", "transpose_b=true", 2, {IN(-1, 1, 5, 7), IN(-1, 1, 3, 7)}, 0, SUMS},
      {"MatMul", "transpose_a=true;transpose_b=true", 2,
       {IN(-1, 1, 7, 5), IN(-1, 1, 3, 7)}, 0, SUMS},
      {"MatMul", NULL, 2, {IN(-1, 1, 33, 65), IN(-1, 1, 65, 70)}, 0, SUMS},
      {"MatMul", NULL, 2, {IN(-1, 1, 1, 1), IN(-1, 1, 1, 1)}, 0, SUMS},
      {"MatMul", NULL, 2, {IN(-1, 1, 4, 0), IN(-1, 1, 0, 3)}, 0, EXACT},
      {"BatchMatMul", NULL, 2, {IN(-1, 1, 2, 3, 4), IN(-1, 1, 2, 4, 5)}, 0, SUMS},
      {"BatchMatMul", "adj_x=true;adj_y=true", 2,
       {IN(-1, 1, 3, 4, 3), IN(-1, 1, 3, 5, 4)}, 0, SUMS},
      {"BatchMatMulV2", NULL, 2, {IN(-1, 1, 2, 1, 3, 4), IN(-1, 1, 3, 4, 2)}, 0, SUMS},
      {"BatchMatMulV2", "adj_y=true", 2, {IN(-1, 1, 3, 4), IN(-1, 1, 2, 5, 4)}, 0, SUMS},
      /* Six alternating batch dims: more than one dispatch walks. */
      {"BatchMatMulV2", NULL, 2,
       {IN(-1, 1, 2, 1, 2, 1, 2, 1, 3, 4), IN(-1, 1, 1, 2, 1, 2, 1, 2, 4, 2)},
       0, SUMS},
  };
  check_cases(cases, sizeof cases / sizeof cases[0]);
}

static void conv_kernels(void **state) {
  (void)state;
  REQUIRE_VULKAN();
  static const vcase cases[] = {
      {"Conv2D", "strides=[1,1,1,1];padding=SAME", 2,
       {IN(-1, 1, 2, 7, 7, 3), IN(-1, 1, 3, 3, 3, 4)}, 0, SUMS},
      {"Conv2D", "strides=[1,2,2,1];padding=VALID", 2,
       {IN(-1, 1, 2, 9, 8, 3), IN(-1, 1, 3, 2, 3, 5)}, 0, SUMS},
      {"Conv2D", "strides=[1,1,1,1];padding=SAME;dilations=[1,2,2,1]", 2,
       {IN(-1, 1, 1, 8, 8, 2), IN(-1, 1, 3, 3, 2, 3)}, 0, SUMS},
      {"Conv2D", "strides=[1,1,2,2];padding=SAME;data_format=NCHW", 2,
       {IN(-1, 1, 2, 3, 6, 7), IN(-1, 1, 3, 3, 3, 4)}, 0, SUMS},
      {"Conv2D", "strides=[1,1,1,1];padding=VALID", 2,
       {IN(-1, 1, 1, 5, 5, 4), IN(-1, 1, 2, 2, 2, 6)}, 0, SUMS},
      {"Conv2D", "strides=[1,1,1,1];padding=EXPLICIT;"
                 "explicit_paddings=[0,0,1,2,2,0,0,0]", 2,
       {IN(-1, 1, 1, 5, 6, 2), IN(-1, 1, 3, 3, 2, 2)}, 0, SUMS},
      {"Conv2D", "strides=[1,1,1,1];padding=SAME", 2,
       {IN(-1, 1, 1, 20, 20, 8), IN(-1, 1, 1, 1, 8, 40)}, 0, SUMS},
      /* Two groups of two input channels. */
      {"Conv2D", "strides=[1,1,1,1];padding=SAME", 2,
       {IN(-1, 1, 1, 5, 5, 4), IN(-1, 1, 3, 3, 2, 6)}, 0, SUMS},
      {"MaxPool", "ksize=[1,2,2,1];strides=[1,2,2,1];padding=VALID", 1,
       {IN(-2, 2, 2, 6, 6, 3)}, 0, EXACT},
      {"MaxPool", "ksize=[1,3,3,1];strides=[1,2,2,1];padding=SAME", 1,
       {IN(-2, 2, 2, 7, 6, 3)}, 0, EXACT},
      {"MaxPool", "ksize=[1,1,2,2];strides=[1,1,1,2];padding=SAME;"
                  "data_format=NCHW", 1,
       {IN(-2, 2, 1, 3, 5, 6)}, 0, EXACT},
      {"MaxPool", "ksize=[1,1,1,3];strides=[1,1,1,3];padding=VALID", 1,
       {IN(-2, 2, 2, 3, 4, 6)}, 0, EXACT},
      {"AvgPool", "ksize=[1,2,2,1];strides=[1,2,2,1];padding=VALID", 1,
       {IN(-2, 2, 2, 6, 6, 3)}, 0, ULPS},
      {"AvgPool", "ksize=[1,3,3,1];strides=[1,2,2,1];padding=SAME", 1,
       {IN(-2, 2, 2, 7, 6, 3)}, 0, ULPS},
      {"AvgPool", "ksize=[1,1,3,3];strides=[1,1,1,1];padding=SAME;"
                  "data_format=NCHW", 1,
       {IN(-2, 2, 1, 2, 5, 5)}, 0, ULPS},
  };
  check_cases(cases, sizeof cases / sizeof cases[0]);
}

static void array_kernels(void **state) {
  (void)state;
  REQUIRE_VULKAN();
  static const vcase cases[] = {
      {"Transpose", NULL, 2, {IN(-2, 2, 2, 3, 4), INTS(2, 0, 1)}, 0, EXACT},
      {"Transpose", NULL, 2, {IN(-2, 2, 17, 33), INTS(1, 0)}, 0, EXACT},
      {"Transpose", NULL, 2, {TYPED(KILN_INT32, 3, 4, 5), INTS(1, 2, 0)}, 0, EXACT},
      {"Transpose", NULL, 2, {TYPED(KILN_DOUBLE, 3, 4, 5), INTS(2, 1, 0)}, 0, EXACT},
      {"Transpose", NULL, 2, {TYPED(KILN_INT64, 2, 3), INTS(1, 0)}, 0, EXACT},
      {"Transpose", NULL, 2, {IN(-2, 2, 1, 3, 1, 4), INTS(2, 1, 0, 3)}, 0, EXACT},
      /* Reversing nine dims: more than one dispatch walks. */
      {"Transpose", NULL, 2,
       {IN(-2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2), INTS(8, 7, 6, 5, 4, 3, 2, 1, 0)},
       0, EXACT},
      {"ConcatV2", NULL, 4,
       {IN(-2, 2, 2, 3), IN(-2, 2, 2, 1), IN(-2, 2, 2, 4), INT(1)}, 3, EXACT},
      {"ConcatV2", NULL, 3, {IN(-2, 2, 2, 3), IN(-2, 2, 4, 3), INT(0)}, 2, EXACT},
      {"ConcatV2", NULL, 3, {IN(-2, 2, 2, 3, 2), IN(-2, 2, 2, 3, 5), INT(-1)}, 2,
       EXACT},
      {"ConcatV2", NULL, 3,
       {TYPED(KILN_INT32, 3, 2), TYPED(KILN_INT32, 3, 0), INT(1)}, 2, EXACT},
      {"ConcatV2", NULL, 3,
       {TYPED(KILN_DOUBLE, 1, 2), TYPED(KILN_DOUBLE, 3, 2), INT(0)}, 2, EXACT},
      {"Reshape", NULL, 2, {IN(-2, 2, 2, 3, 4), INTS(4, -1)}, 0, EXACT},
      {"Reshape", NULL, 2, {TYPED(KILN_INT32, 6), INTS(3, 2)}, 0, EXACT},
      {"Identity", NULL, 1, {IN(-2, 2, 2, 3)}, 0, EXACT},
      {"StopGradient", NULL, 1, {TYPED(KILN_DOUBLE, 5)}, 0, EXACT},
      {"PreventGradient", NULL, 1, {TYPED(KILN_INT64, 2, 2)}, 0, EXACT},
      {"IdentityN", NULL, 2, {IN(-2, 2, 3), TYPED(KILN_INT32, 2)}, 2, EXACT},
      {"Squeeze", NULL, 1, {IN(-2, 2, 1, 3, 1, 2)}, 0, EXACT},
      {"Squeeze", "squeeze_dims=[2]", 1, {IN(-2, 2, 1, 3, 1, 2)}, 0, EXACT},
      {"ExpandDims", NULL, 2, {IN(-2, 2, 3, 2), INT(-1)}, 0, EXACT},
  };
  check_cases(cases, sizeof cases / sizeof cases[0]);
}

/* Const pinned to the device uploads its value, whatever the dtype. */
static void const_kernel(void **state) {
  (void)state;
  REQUIRE_VULKAN();
  static const kiln_dtype types[] = {KILN_FLOAT, KILN_DOUBLE, KILN_INT32,
                                     KILN_INT64, KILN_UINT8, KILN_BOOL,
                                     KILN_HALF, KILN_INT16};
  int64_t dims[3][3] = {{2, 3, 5}, {0, 4, 1}, {1, 1, 1}};
  int nds[3] = {3, 2, 0};
  for (size_t t = 0; t < sizeof types / sizeof types[0]; t++)
    for (int k = 0; k < 3; k++) {
      kiln_tensor *v = kiln_tensor_new(types[t], dims[k], nds[k], S);
      assert_ok(S);
      uint8_t *p = kiln_tensor_data(v);
      for (size_t i = 0; i < kiln_tensor_byte_size(v); i++)
        p[i] = types[t] == KILN_BOOL ? (uint8_t)(i % 2) : (uint8_t)(i * 37 + t);
      kiln_graph *g = kiln_graph_new();
      kiln_op_desc *d = kiln_op_desc_new(g, "Const", "c");
      kiln_op_desc_set_attr_tensor(d, "value", v);
      kiln_op_desc_set_attr_type(d, "dtype", types[t]);
      kiln_op_desc_set_device(d, VK_DEV);
      kiln_output c = {kiln_op_desc_finish(d, S), 0};
      assert_ok(S);
      runner r;
      runner_open(&r, g, false, false);
      kiln_tensor *out = NULL;
      kiln_session_run(r.sess, r.ro, NULL, NULL, 0, &c, &out, 1, NULL, 0,
                       r.md, S);
      assert_ok(S);
      assert_string_equal(ran_on(&r, "c"), VK_FULL);
      assert_int_equal(kiln_tensor_dtype(out), types[t]);
      assert_int_equal(kiln_tensor_ndims(out), nds[k]);
      assert_int_equal(kiln_tensor_byte_size(out), kiln_tensor_byte_size(v));
      if (kiln_tensor_byte_size(v) &&
          memcmp(kiln_tensor_data(out), p, kiln_tensor_byte_size(v)) != 0)
        fail_msg("Const of %s: the bytes differ", kiln_dtype_name(types[t]));
      kiln_tensor_free(out);
      kiln_tensor_free(v);
      runner_close(&r);
      kiln_graph_free(g);
    }
}

/* A variable lives on the CPU (resources are the core's, in host memory);
** a Vulkan node reads its current value, copied to the device each step,
** and sees AssignAdd's updates. */
static void variable_read_on_vulkan(void **state) {
  (void)state;
  REQUIRE_VULKAN();
  kiln_graph *g = kiln_graph_new();
  const int64_t d2[] = {2};
  kiln_output w = kiln_variable(g, KILN_FLOAT, d2, 1, "w", S);
  kiln_output init = kiln_assign(g, w, kiln_const_floats(g, (const float[]){1, 2}, d2, 1, "v", S), "init", S);
  kiln_output add = kiln_assign_add(g, w, kiln_const_floats(g, (const float[]){10, 10}, d2, 1, "d", S), "add", S);
  kiln_op_desc *d = kiln_op_desc_new(g, "Mul", "sq");
  kiln_op_desc_add_input(d, w);
  kiln_op_desc_add_input(d, w);
  kiln_op_desc_set_attr_type(d, "T", KILN_FLOAT);
  kiln_op_desc_set_device(d, VK_DEV);
  kiln_output sq = {kiln_op_desc_finish(d, S), 0};
  assert_ok(S);
  runner r;
  runner_open(&r, g, false, false);
  kiln_session_run(r.sess, NULL, NULL, NULL, 0, NULL, NULL, 0, &init.op, 1, NULL, S);
  assert_ok(S);
  kiln_tensor *out = NULL;
  kiln_session_run(r.sess, r.ro, NULL, NULL, 0, &sq, &out, 1, NULL, 0, r.md, S);
  assert_ok(S);
  assert_string_equal(ran_on(&r, "sq"), VK_FULL);
  assert_string_equal(ran_on(&r, "w"), CPU_FULL);
  assert_true(((float *)kiln_tensor_data(out))[1] == 4.0f);
  kiln_tensor_free(out);
  kiln_session_run(r.sess, NULL, NULL, NULL, 0, NULL, NULL, 0, &add.op, 1, NULL, S);
  assert_ok(S);
  kiln_session_run(r.sess, r.ro, NULL, NULL, 0, &sq, &out, 1, NULL, 0, r.md, S);
  assert_ok(S);
  assert_true(((float *)kiln_tensor_data(out))[0] == 121.0f);
  assert_true(((float *)kiln_tensor_data(out))[1] == 144.0f);
  kiln_tensor_free(out);
  runner_close(&r);
  kiln_graph_free(g);
}

/* NaN and infinities go through the elementwise kernels and reductions
** as on the CPU. */
static void special_values(void **state) {
  (void)state;
  REQUIRE_VULKAN();
  static const char *const unary[] = {
      "Neg", "Abs", "Sign", "Relu", "Relu6", "Tanh", "Sigmoid", "Exp",
      "Expm1", "Log1p", "Floor", "Softplus", "Elu", "Sqrt", "Square"};
  static const char *const binary[] = {"Add", "Mul", "Maximum", "Minimum",
                                       "Pow", "Div", "DivNoNan"};
  static const char *const reduce[] = {"Sum", "Max", "Mean"};
  float v[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 1.0f, -1.0f, 2.5f,
               -2.5f, 100.0f, -100.0f, 3.0f};
  float w[] = {2.0f, NAN, 0.0f, -INFINITY, 0.5f, NAN, INFINITY, -3.0f,
               2.0f, 0.0f, -0.0f, -1.0f};
  int64_t dims[1] = {12};
  kiln_graph *g = kiln_graph_new();
  kiln_output x = kiln_const_floats(g, v, dims, 1, "x", S);
  kiln_output y = kiln_const_floats(g, w, dims, 1, "y", S);
  int32_t zero = 0;
  kiln_output ax = kiln_const_values(g, KILN_INT32, &zero, NULL, 0, "axis", S);
  assert_ok(S);
  int nu = (int)(sizeof unary / sizeof unary[0]);
  int nb = (int)(sizeof binary / sizeof binary[0]);
  int nr = (int)(sizeof reduce / sizeof reduce[0]);
  kiln_output fetch[2 * 32];
  int nf = 0;
  char name[64];
  for (int i = 0; i < nu + nb + nr; i++) {
    for (int on_vk = 0; on_vk < 2; on_vk++) {
      const char *dev = on_vk ? VK_DEV : CPU_DEV;
      kiln_output in[2] = {x, i < nu ? x : i < nu + nb ? y : ax};
      const char *op = i < nu ? unary[i] : i < nu + nb ? binary[i - nu]
                                                       : reduce[i - nu - nb];
      snprintf(name, sizeof name, "%s_%s", op, on_vk ? "vk" : "cpu");
      kiln_op *o = node(g, op, name, dev, in, i < nu ? 1 : 2, 0, NULL);
      assert_ok(S);
      fetch[nf++] = (kiln_output){o, 0};
    }
  }
  runner r;
  runner_open(&r, g, false, false);
  kiln_tensor *out[2 * 32] = {NULL};
  kiln_session_run(r.sess, r.ro, NULL, NULL, 0, fetch, out, nf, NULL, 0, r.md, S);
  assert_ok(S);
  for (int i = 0; i < nf; i += 2) {
    snprintf(name, sizeof name, "%s on special values",
             kiln_op_type(fetch[i].op));
    assert_close(out[i + 1], out[i], 1e-6, 1e-5, name);
  }
  for (int i = 0; i < nf; i++) kiln_tensor_free(out[i]);
  runner_close(&r);
  kiln_graph_free(g);
}

/* ---------------------------------------------------------------- errors */

/* Runs one VULKAN op over float inputs a (and b) fed to placeholders of
** unknown shape, so that the kernel, not shape inference, sees the
** shapes, and an int32 Const iv when given; returns the status code. */
static kiln_code run_bad(const char *op, const char *attrs, const float *a,
                         const int64_t *ad, int an, const float *b,
                         const int64_t *bd, int bn, const int32_t *iv,
                         int ni) {
  kiln_graph *g = kiln_graph_new();
  kiln_output in[3], feeds[2];
  kiln_tensor *vals[2];
  int n = 0, nf = 0;
  feeds[nf] = in[n++] = kiln_placeholder(g, KILN_FLOAT, NULL, -1, "a", S);
  vals[nf++] = floats(a, ad, an);
  if (b) {
    feeds[nf] = in[n++] = kiln_placeholder(g, KILN_FLOAT, NULL, -1, "b", S);
    vals[nf++] = floats(b, bd, bn);
  }
  if (iv) {
    int64_t d = ni;
    in[n++] = kiln_const_values(g, KILN_INT32, iv, &d, 1, "i", S);
  }
  assert_ok(S);
  kiln_op *o = node(g, op, "bad", VK_DEV, in, n, 0, attrs);
  assert_ok(S);
  runner r;
  runner_open(&r, g, false, false);
  kiln_output f = {o, 0};
  kiln_tensor *out = NULL;
  kiln_session_run(r.sess, NULL, feeds, vals, nf, &f, &out, 1, NULL, 0, NULL, S);
  kiln_code code = kiln_status_code(S);
  assert_null(out);
  for (int i = 0; i < nf; i++) kiln_tensor_free(vals[i]);
  runner_close(&r);
  kiln_graph_free(g);
  return code;
}

static void kernel_errors(void **state) {
  (void)state;
  REQUIRE_VULKAN();
  float f[24] = {0};
  int64_t d23[2] = {2, 3}, d4[1] = {4}, d234[3] = {2, 3, 4}, d6[1] = {6};
  assert_int_equal(run_bad("Add", NULL, f, d23, 2, f, d4, 1, NULL, 0),
                   KILN_INVALID_ARGUMENT);
  assert_status(S, KILN_INVALID_ARGUMENT, "Incompatible shapes: [2,3] vs. [4]");
  assert_non_null(strstr(kiln_status_message(S), "bad"));
  assert_int_equal(run_bad("MatMul", NULL, f, d234, 3, f, d23, 2, NULL, 0),
                   KILN_INVALID_ARGUMENT);
  assert_status(S, KILN_INVALID_ARGUMENT,
                "In[0] is not a matrix. Instead it has shape [2,3,4]");
  assert_int_equal(run_bad("MatMul", NULL, f, d23, 2, f, d23, 2, NULL, 0),
                   KILN_INVALID_ARGUMENT);
  assert_status(S, KILN_INVALID_ARGUMENT,
                "Matrix size-incompatible: In[0]: [2,3], In[1]: [2,3]");
  assert_int_equal(run_bad("BiasAdd", NULL, f, d23, 2, f, d4, 1, NULL, 0),
                   KILN_INVALID_ARGUMENT);
  assert_status(S, KILN_INVALID_ARGUMENT,
                "Must provide as many biases as the last dimension of the "
                "input tensor: [4] vs. [2,3]");
  assert_int_equal(run_bad("Softmax", NULL, f, NULL, 0, NULL, NULL, 0, NULL, 0),
                   KILN_INVALID_ARGUMENT);
  assert_status(S, KILN_INVALID_ARGUMENT, "logits must have >= 1 dimension, got []");
  int32_t ax5 = 5;
  assert_int_equal(run_bad("Sum", NULL, f, d234, 3, NULL, NULL, 0, &ax5, 1),
                   KILN_INVALID_ARGUMENT);
  assert_status(S, KILN_INVALID_ARGUMENT,
                "Invalid reduction dimension (5 for input with 3 dimension(s)");
  int32_t dup[2] = {1, -2};
  assert_int_equal(run_bad("Max", NULL, f, d234, 3, NULL, NULL, 0, dup, 2),
                   KILN_INVALID_ARGUMENT);
  assert_status(S, KILN_INVALID_ARGUMENT, "Axes contains duplicate dimension: 1");
  int32_t shape[2] = {4, 4};
  assert_int_equal(run_bad("Reshape", NULL, f, d23, 2, NULL, NULL, 0, shape, 2),
                   KILN_INVALID_ARGUMENT);
  assert_status(S, KILN_INVALID_ARGUMENT,
                "Input to reshape is a tensor with 6 values, but the requested "
                "shape has 16");
  int32_t perm[2] = {1, 1};
  assert_int_equal(run_bad("Transpose", NULL, f, d23, 2, NULL, NULL, 0, perm, 2),
                   KILN_INVALID_ARGUMENT);
  assert_status(S, KILN_INVALID_ARGUMENT, "0 is missing from {1,1}.");
  assert_int_equal(run_bad("MaxPool", "ksize=[2,2,2,1];strides=[1,1,1,1];"
                           "padding=VALID", f, d234, 3, NULL, NULL, 0, NULL, 0),
                   KILN_UNIMPLEMENTED);
  assert_status(S, KILN_UNIMPLEMENTED,
                "Pooling is not yet supported on the batch dimension.");
  assert_int_equal(run_bad("Conv2D", "strides=[1,1,1,1];padding=SAME", f, d234,
                           3, f, d234, 3, NULL, 0),
                   KILN_INVALID_ARGUMENT);
  assert_status(S, KILN_INVALID_ARGUMENT, "input must be 4-dimensional[2,3,4]");
  assert_int_equal(run_bad("SigmoidGrad", NULL, f, d23, 2, f, d4, 1, NULL, 0),
                   KILN_INVALID_ARGUMENT);
  assert_status(S, KILN_INVALID_ARGUMENT,
                "The two arguments to a cwise op must have same number of "
                "elements, got 6 and 4");
  /* More than one buffer can address: refused when allocated. */
  int64_t tall[2] = {12000, 1}, wide[2] = {1, 12000};
  float *big = calloc(12000, sizeof *big);
  assert_non_null(big);
  assert_int_equal(run_bad("MatMul", NULL, big, tall, 2, big, wide, 2, NULL, 0),
                   KILN_RESOURCE_EXHAUSTED);
  assert_status(S, KILN_RESOURCE_EXHAUSTED, "576000000 bytes");
  free(big);
  /* The device is still good afterwards. */
  assert_int_equal(run_bad("Add", NULL, f, d6, 1, f, d4, 1, NULL, 0),
                   KILN_INVALID_ARGUMENT);
  static const vcase ok = {"Add", NULL, 2, {IN(-1, 1, 6), IN(-1, 1, 6)}, 0, EXACT};
  check_case(&ok, 0);
}

/* --------------------------------------------------------------- graphs */

static void list_devices(void **state) {
  (void)state;
  REQUIRE_VULKAN();
  /* With a device here, "devices = 0" kept it in config_device_filter. */
  if (filter_keep_rc != -1) assert_int_equal(filter_keep_rc, 0);
  kiln_device_list *l = kiln_devices_list(S);
  assert_ok(S);
  int cpu = -1, vk = -1;
  for (int i = 0; i < kiln_device_list_size(l); i++) {
    if (strcmp(kiln_device_list_name(l, i), CPU_FULL) == 0) cpu = i;
    if (strcmp(kiln_device_list_name(l, i), VK_FULL) == 0) vk = i;
  }
  assert_true(cpu >= 0);
  assert_true(vk >= 0);
  assert_string_equal(kiln_device_list_type(l, vk), "VULKAN");
  assert_string_equal(kiln_device_list_plugin(l, vk), "vulkan");
  assert_string_equal(kiln_device_list_plugin(l, cpu), "cpu");
  assert_true(kiln_device_list_memory_limit(l, vk) > 0);
  assert_true(strlen(kiln_device_list_description(l, vk)) > 0);
  assert_non_null(strstr(kiln_device_list_description(l, vk), "Vulkan "));
  assert_true(strlen(kiln_device_list_vendor(l, vk)) > 0);
  const char *id = kiln_device_list_stable_id(l, vk);
  assert_true(strncmp(id, "pci:", 4) == 0 || strncmp(id, "uuid:", 5) == 0 ||
              strcmp(id, "") == 0);
  kiln_device_list_free(l);
  /* A session lists both too. */
  kiln_graph *g = kiln_graph_new();
  kiln_session *sess = kiln_session_new(g, NULL, S);
  assert_ok(S);
  l = kiln_session_list_devices(sess, S);
  assert_ok(S);
  bool seen_cpu = false, seen_vk = false;
  for (int i = 0; i < kiln_device_list_size(l); i++) {
    seen_cpu |= strcmp(kiln_device_list_type(l, i), "CPU") == 0;
    seen_vk |= strcmp(kiln_device_list_type(l, i), "VULKAN") == 0;
  }
  assert_true(seen_cpu && seen_vk);
  kiln_device_list_free(l);
  kiln_session_free(sess);
  kiln_graph_free(g);
}

/* An MLP x[4,8] -> 16 (relu) -> 3 (softmax), weights as Consts, every op
** on VULKAN:0. */
typedef struct mlp {
  kiln_graph *g;
  kiln_output x, y;
  float w1[8 * 16], b1[16], w2[16 * 3], b2[3];
} mlp;

static void mlp_build(mlp *m, const char *dev) {
  int64_t dw1[2] = {8, 16}, db1[1] = {16}, dw2[2] = {16, 3}, db2[1] = {3};
  int64_t dx[2] = {-1, 8};
  seed("mlp", 0);
  for (int i = 0; i < 8 * 16; i++) m->w1[i] = (float)(uniform() - 0.5);
  for (int i = 0; i < 16; i++) m->b1[i] = (float)(uniform() - 0.5);
  for (int i = 0; i < 16 * 3; i++) m->w2[i] = (float)(uniform() - 0.5);
  for (int i = 0; i < 3; i++) m->b2[i] = (float)(uniform() - 0.5);
  kiln_graph *g = m->g = kiln_graph_new();
  m->x = kiln_placeholder(g, KILN_FLOAT, dx, 2, "x", S);
  kiln_tensor *tw1 = floats(m->w1, dw1, 2), *tb1 = floats(m->b1, db1, 1);
  kiln_tensor *tw2 = floats(m->w2, dw2, 2), *tb2 = floats(m->b2, db2, 1);
  kiln_tensor *consts[4] = {tw1, tb1, tw2, tb2};
  const char *names[4] = {"w1", "b1", "w2", "b2"};
  kiln_output c[4];
  for (int i = 0; i < 4; i++) {
    kiln_op_desc *d = kiln_op_desc_new(g, "Const", names[i]);
    kiln_op_desc_set_attr_tensor(d, "value", consts[i]);
    kiln_op_desc_set_attr_type(d, "dtype", KILN_FLOAT);
    kiln_op_desc_set_device(d, dev);
    c[i] = (kiln_output){kiln_op_desc_finish(d, S), 0};
    CHECK_OK(S);
    kiln_tensor_free(consts[i]);
  }
  kiln_output in[2] = {m->x, c[0]};
  kiln_output h = {node(g, "MatMul", "mm1", dev, in, 2, 0, NULL), 0};
  in[0] = h, in[1] = c[1];
  h = (kiln_output){node(g, "BiasAdd", "bias1", dev, in, 2, 0, NULL), 0};
  h = (kiln_output){node(g, "Relu", "relu", dev, &h, 1, 0, NULL), 0};
  in[0] = h, in[1] = c[2];
  h = (kiln_output){node(g, "MatMul", "mm2", dev, in, 2, 0, NULL), 0};
  in[0] = h, in[1] = c[3];
  h = (kiln_output){node(g, "BiasAdd", "bias2", dev, in, 2, 0, NULL), 0};
  m->y = (kiln_output){node(g, "Softmax", "probs", dev, &h, 1, 0, NULL), 0};
  CHECK_OK(S);
}

/* The MLP computed on the host in double. */
static void mlp_reference(const mlp *m, const float *x, int rows, float *y) {
  for (int r = 0; r < rows; r++) {
    double h[16], o[3], mx = -INFINITY, sum = 0;
    for (int j = 0; j < 16; j++) {
      double s = m->b1[j];
      for (int k = 0; k < 8; k++) s += (double)x[r * 8 + k] * m->w1[k * 16 + j];
      h[j] = s > 0 ? s : 0;
    }
    for (int j = 0; j < 3; j++) {
      double s = m->b2[j];
      for (int k = 0; k < 16; k++) s += h[k] * m->w2[k * 3 + j];
      o[j] = s;
      if (s > mx) mx = s;
    }
    for (int j = 0; j < 3; j++) sum += exp(o[j] - mx);
    for (int j = 0; j < 3; j++) y[r * 3 + j] = (float)(exp(o[j] - mx) / sum);
  }
}

static void mlp_check(const mlp *m, kiln_session *sess, kiln_run_options *ro,
                      kiln_run_metadata *md, int rows, int salt) {
  float x[64 * 8], want[64 * 3];
  int64_t dx[2] = {rows, 8};
  for (int i = 0; i < rows * 8; i++)
    x[i] = (float)sin(0.37 * i + salt) * 2.0f;
  mlp_reference(m, x, rows, want);
  kiln_tensor *feed = floats(x, dx, 2), *out = NULL;
  kiln_session_run(sess, ro, &m->x, &feed, 1, &m->y, &out, 1, NULL, 0, md, S);
  CHECK_OK(S);
  CHECK(kiln_tensor_dim(out, 0) == rows && kiln_tensor_dim(out, 1) == 3,
        "MLP output of shape [%lld,%lld]", (long long)kiln_tensor_dim(out, 0),
        (long long)kiln_tensor_dim(out, 1));
  const float *got = kiln_tensor_data(out);
  for (int i = 0; i < rows * 3; i++)
    CHECK(fabs(got[i] - want[i]) <= 1e-5 + 1e-4 * fabs(want[i]),
          "MLP on VULKAN:0, element %d: %.9g, want %.9g", i, (double)got[i],
          (double)want[i]);
  kiln_tensor_free(out);
  kiln_tensor_free(feed);
}

static void mlp_on_vulkan(void **state) {
  (void)state;
  REQUIRE_VULKAN();
  mlp m;
  mlp_build(&m, VK_DEV);
  runner r;
  runner_open(&r, m.g, false, false);
  for (int step = 0; step < 3; step++) mlp_check(&m, r.sess, r.ro, r.md, 4, step);
  mlp_check(&m, r.sess, r.ro, r.md, 1, 7);
  mlp_check(&m, r.sess, r.ro, r.md, 64, 9);
  /* Every node of the step ran on the Vulkan device. */
  int n = kiln_run_metadata_num_nodes(r.md);
  assert_true(n >= 10);
  for (int i = 0; i < n; i++)
    if (strcmp(kiln_run_metadata_node_device(r.md, i), VK_FULL) != 0)
      fail_msg("node %s (%s) ran on %s", kiln_run_metadata_node_name(r.md, i),
               kiln_run_metadata_node_op(r.md, i),
               kiln_run_metadata_node_device(r.md, i));
  runner_close(&r);
  kiln_graph_free(m.g);
}

/* Tanh and Square on VULKAN:0 around an Erf the Vulkan plugin has no kernel
** for: with soft placement Erf runs on the CPU, the placement log shows
** both devices, and the values are right. Without it, a clear error. */
static void mixed_graph_soft_placement(void **state) {
  (void)state;
  REQUIRE_VULKAN();
  float xv[6] = {-1.5f, -0.5f, 0.0f, 0.25f, 1.0f, 2.0f};
  int64_t d[1] = {6};
  kiln_graph *g = kiln_graph_new();
  kiln_output x = kiln_placeholder(g, KILN_FLOAT, d, 1, "x", S);
  kiln_output t = {node(g, "Tanh", "t", VK_DEV, &x, 1, 0, NULL), 0};
  kiln_output e = {node(g, "Erf", "e", VK_DEV, &t, 1, 0, NULL), 0};
  kiln_output s = {node(g, "Square", "s", VK_DEV, &e, 1, 0, NULL), 0};
  assert_ok(S);

  char path[] = "/tmp/kiln-vulkan-placement-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  fflush(stderr);
  int saved = dup(2);
  dup2(fd, 2);
  runner r;
  runner_open(&r, g, true, true);
  kiln_tensor *feed = kt_floats(xv, d, 1), *out = NULL;
  kiln_session_run(r.sess, r.ro, &x, &feed, 1, &s, &out, 1, NULL, 0, r.md, S);
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  assert_ok(S);
  size_t len = 0;
  char *text = kt_read_file(path, &len);
  close(fd);
  unlink(path);
  assert_non_null(text);
  text = realloc(text, len + 1);
  text[len] = '\0';
  assert_non_null(strstr(text, "t: (Tanh): " VK_FULL "\n"));
  assert_non_null(strstr(text, "e: (Erf): " CPU_FULL "\n"));
  assert_non_null(strstr(text, "s: (Square): " VK_FULL "\n"));
  free(text);
  for (int i = 0; i < 6; i++) {
    float want = (float)(erf(tanh(xv[i])) * erf(tanh(xv[i])));
    float got = ((const float *)kiln_tensor_data(out))[i];
    if (fabsf(got - want) > 1e-5f)
      fail_msg("element %d is %g, want %g", i, (double)got, (double)want);
  }
  assert_string_equal(ran_on(&r, "e"), CPU_FULL);
  assert_string_equal(ran_on(&r, "t"), VK_FULL);
  for (int i = 0; i < kiln_run_metadata_num_nodes(r.md); i++)
    if (strcmp(kiln_run_metadata_node_name(r.md, i), "e") == 0)
      assert_non_null(strstr(kiln_run_metadata_node_placement(r.md, i),
                             "moved by soft placement"));
  kiln_tensor_free(out);
  kiln_tensor_free(feed);
  runner_close(&r);

  /* No soft placement: the request cannot be met. */
  kiln_session *sess = kiln_session_new(g, NULL, S);
  assert_ok(S);
  feed = kt_floats(xv, d, 1);
  out = NULL;
  kiln_session_run(sess, NULL, &x, &feed, 1, &s, &out, 1, NULL, 0, NULL, S);
  assert_status(S, KILN_INVALID_ARGUMENT,
                "Could not satisfy explicit device specification "
                "'/device:VULKAN:0' because no supported kernel for VULKAN "
                "devices is available");
  assert_null(out);
  kiln_tensor_free(feed);
  kiln_session_free(sess);
  kiln_graph_free(g);
}

/* A chain of `len` ops on the device: intermediates are freed while the
** commands using them are only recorded (their buffers come back once the
** batch completes), and more dispatches than one batch holds are
** submitted on the way. */
static void long_chains(void **state) {
  (void)state;
  REQUIRE_VULKAN();
  enum { LEN = 600 };
  float xv[5] = {0.5f, -1.0f, 2.0f, 0.0f, 3.0f};
  int64_t d[1] = {5};
  kiln_graph *g = kiln_graph_new();
  kiln_output x = kiln_placeholder(g, KILN_FLOAT, d, 1, "x", S);
  kiln_output half = kiln_const_float(g, 0.5f, "half", S);
  kiln_output h = x;
  char name[32];
  for (int i = 0; i < LEN; i++) {
    kiln_output in[2] = {h, half};
    snprintf(name, sizeof name, "op%d", i);
    h = (kiln_output){node(g, i % 2 ? "Add" : "Neg", name, VK_DEV, in,
                           i % 2 ? 2 : 1, 0, NULL), 0};
  }
  /* A second fetch keeps an early value alive across the batches. */
  kiln_output fetch[2] = {h, {kiln_graph_op(g, "op10"), 0}};
  assert_ok(S);
  runner r;
  runner_open(&r, g, false, false);
  for (int step = 0; step < 2; step++) {
    kiln_tensor *feed = kt_floats(xv, d, 1), *out[2] = {NULL, NULL};
    kiln_session_run(r.sess, NULL, &x, &feed, 1, fetch, out, 2, NULL, 0, NULL, S);
    assert_ok(S);
    for (int j = 0; j < 5; j++) {
      double v = xv[j], v10 = 0;
      for (int i = 0; i < LEN; i++) {
        v = i % 2 ? v + 0.5 : -v;
        if (i == 10) v10 = v;
      }
      assert_true(fabs(((float *)kiln_tensor_data(out[0]))[j] - v) < 1e-4);
      assert_true(fabs(((float *)kiln_tensor_data(out[1]))[j] - v10) < 1e-6);
    }
    kiln_tensor_free(out[0]);
    kiln_tensor_free(out[1]);
    kiln_tensor_free(feed);
  }
  runner_close(&r);
  kiln_graph_free(g);
}

/* Steps running at once on one session, and on two sessions. */
typedef struct worker {
  mlp *m;
  kiln_session *sess;
  int id;
  int failures;
  char msg[256];
} worker;

static void *work(void *arg) {
  worker *w = arg;
  kiln_status *st = kiln_status_new();
  for (int step = 0; step < 6; step++) {
    int rows = 3 + (w->id + step) % 5;
    float x[8 * 8], want[8 * 3];
    int64_t dx[2] = {rows, 8};
    for (int i = 0; i < rows * 8; i++)
      x[i] = (float)cos(0.11 * i + w->id * 7 + step);
    mlp_reference(w->m, x, rows, want);
    kiln_tensor *feed = kiln_tensor_new(KILN_FLOAT, dx, 2, st), *out = NULL;
    memcpy(kiln_tensor_data(feed), x, sizeof(float) * (size_t)rows * 8);
    kiln_session_run(w->sess, NULL, &w->m->x, &feed, 1, &w->m->y, &out, 1,
                     NULL, 0, NULL, st);
    if (kiln_status_code(st) != KILN_OK) {
      w->failures++;
      snprintf(w->msg, sizeof w->msg, "%s", kiln_status_message(st));
    } else {
      const float *got = kiln_tensor_data(out);
      for (int i = 0; i < rows * 3; i++)
        if (fabsf(got[i] - want[i]) > 1e-4f) {
          w->failures++;
          snprintf(w->msg, sizeof w->msg, "thread %d step %d element %d: %g, "
                   "want %g", w->id, step, i, (double)got[i], (double)want[i]);
          break;
        }
    }
    kiln_tensor_free(out);
    kiln_tensor_free(feed);
  }
  kiln_status_free(st);
  return NULL;
}

static void concurrent_steps(void **state) {
  (void)state;
  REQUIRE_VULKAN();
  enum { THREADS = 4 };
  mlp m;
  mlp_build(&m, VK_DEV);
  kiln_session *s1 = kiln_session_new(m.g, NULL, S);
  kiln_session *s2 = kiln_session_new(m.g, NULL, S);
  assert_ok(S);
  pthread_t th[THREADS];
  worker w[THREADS];
  for (int i = 0; i < THREADS; i++) {
    w[i] = (worker){.m = &m, .sess = i % 2 ? s2 : s1, .id = i};
    assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
  }
  for (int i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
  for (int i = 0; i < THREADS; i++)
    if (w[i].failures) fail_msg("%d failures, the last: %s", w[i].failures, w[i].msg);
  kiln_session_free(s1);
  kiln_session_free(s2);
  kiln_graph_free(m.g);
}

/* --------------------------------- children forked before plugins load */

/* Runs fn in a child with env ("NAME=value", NULL-terminated) set and
** stderr going to log (when given); the child's exit code. */
static int in_child(void (*fn)(void), const char *const *env, const char *log) {
  if (loaded) fail_msg("this test must run before the suite loads plugins");
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    /* A crash ends the child (cmocka's handlers would go on testing). */
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
      signal(sigs[i], SIG_DFL);
    child_mode = true;
    for (int i = 0; env && env[i]; i++) putenv((char *)env[i]);
    if (log && !freopen(log, "w", stderr)) _exit(3);
    setvbuf(stderr, NULL, _IONBF, 0);
    fn();
    exit(0);
  }
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  if (!WIFEXITED(status)) {
    char *text = log ? kt_read_file(log, &(size_t){0}) : NULL;
    fail_msg("child died of signal %d%s%.4000s", WTERMSIG(status),
             text ? "; its log:\n" : "", text ? text : "");
  }
  return WEXITSTATUS(status);
}

#define CHILD_CHECK(cond) CHECK(cond, "%s", #cond)

static void child_cpu_only(void) {
  CHILD_CHECK(count_type("CPU") == 1);
  CHILD_CHECK(count_type("VULKAN") == 0);
  kiln_plugin_list *pl = kiln_plugins_list();
  CHILD_CHECK(kiln_plugin_list_size(pl) == 1);
  CHILD_CHECK(strcmp(kiln_plugin_list_name(pl, 0), "cpu") == 0);
  kiln_plugin_list_free(pl);
}

static void plugins_env_hides_vulkan(void **state) {
  (void)state;
  static const char *const env[] = {"KILN_PLUGINS=cpu", NULL};
  assert_int_equal(in_child(child_cpu_only, env, NULL), 0);
}

static void child_no_driver(void) {
  CHILD_CHECK(count_type("CPU") == 1);
  CHILD_CHECK(count_type("VULKAN") == 0);
  kiln_plugin_list *pl = kiln_plugins_list();
  int found = -1;
  for (int i = 0; i < kiln_plugin_list_size(pl); i++)
    if (strcmp(kiln_plugin_list_name(pl, i), "vulkan") == 0) found = i;
  CHILD_CHECK(found >= 0);
  CHILD_CHECK(kiln_plugin_list_code(pl, found) == KILN_OK);
  CHILD_CHECK(kiln_plugin_list_num_devices(pl, found) == 0);
  kiln_plugin_list_free(pl);
  /* Ops requested there move to the CPU with soft placement. */
  kiln_status *s = kiln_status_new();
  kiln_graph *g = kiln_graph_new();
  kiln_output a = kiln_const_float(g, 2.0f, "a", s);
  kiln_op_desc *d = kiln_op_desc_new(g, "Neg", "n");
  kiln_op_desc_add_input(d, a);
  kiln_op_desc_set_device(d, VK_DEV);
  kiln_output n = {kiln_op_desc_finish(d, s), 0};
  kiln_config *cfg = kiln_config_new();
  kiln_config_set_allow_soft_placement(cfg, true);
  kiln_session_options *o = kiln_session_options_new();
  kiln_session_options_set_config(o, cfg);
  kiln_session *sess = kiln_session_new(g, o, s);
  kiln_tensor *out = NULL;
  kiln_session_run(sess, NULL, NULL, NULL, 0, &n, &out, 1, NULL, 0, NULL, s);
  CHILD_CHECK(kiln_status_code(s) == KILN_OK);
  CHILD_CHECK(*(float *)kiln_tensor_data(out) == -2.0f);
  kiln_tensor_free(out);
  kiln_session_free(sess);
  kiln_session_options_free(o);
  kiln_config_free(cfg);
  kiln_graph_free(g);
  kiln_status_free(s);
}

/* Fails the test when a child failed, quoting (and freeing) its log. */
static void fail_child(int rc, char *log) {
  static char quoted[4096];
  if (rc == 0) return;
  snprintf(quoted, sizeof quoted, "%s", log);
  free(log);
  fail_msg("child failed (%d); its log:\n%s", rc, quoted);
}

static char *read_log(const char *path) {
  size_t len = 0;
  char *text = kt_read_file(path, &len);
  assert_non_null(text);
  text = realloc(text, len + 1);
  assert_non_null(text);
  text[len] = '\0';
  return text;
}

static void no_driver_registers_nothing(void **state) {
  (void)state;
  char log[] = "/tmp/kiln-vulkan-nodriver-XXXXXX";
  int fd = mkstemp(log);
  assert_true(fd >= 0);
  close(fd);
  static const char *const env[] = {
      "VK_ICD_FILENAMES=/nonexistent/kiln-no-icd.json",
      "VK_DRIVER_FILES=/nonexistent/kiln-no-icd.json", "KILN_LOG=info", NULL};
  int rc = in_child(child_no_driver, env, log);
  char *text = read_log(log);
  unlink(log);
  fail_child(rc, text);
  assert_non_null(strstr(text, "vulkan: no Vulkan device"));
  assert_null(strstr(text, "[error]"));
  free(text);
}

/* The config file's [plugin.vulkan] devices filter applies: "devices ="
** hides every device, "devices = 0" keeps the first. */
static int want_vulkan;

static void child_filter(void) {
  CHILD_CHECK(count_type("CPU") == 1);
  CHILD_CHECK(count_type("VULKAN") == want_vulkan);
  kiln_plugin_list *pl = kiln_plugins_list();
  bool loaded_ok = false;
  for (int i = 0; i < kiln_plugin_list_size(pl); i++)
    if (strcmp(kiln_plugin_list_name(pl, i), "vulkan") == 0)
      loaded_ok = kiln_plugin_list_code(pl, i) == KILN_OK;
  kiln_plugin_list_free(pl);
  CHILD_CHECK(loaded_ok);
}

static void config_device_filter(void **state) {
  (void)state;
  char conf[] = "/tmp/kiln-vulkan-conf-XXXXXX";
  static char env_conf[64];
  static const char *env[] = {env_conf, NULL};
  int fd = mkstemp(conf);
  assert_true(fd >= 0);
  snprintf(env_conf, sizeof env_conf, "KILN_CONFIG=%s", conf);
  const char *hide = "[plugin.vulkan]\ndevices =\n";
  assert_int_equal(write(fd, hide, strlen(hide)), (ssize_t)strlen(hide));
  close(fd);
  want_vulkan = 0;
  int rc = in_child(child_filter, env, NULL);
  /* Keeping device 0 shows it (when the machine has one). */
  FILE *f = fopen(conf, "w");
  assert_non_null(f);
  fputs("[plugin.vulkan]\ndevices = 0\n", f);
  fclose(f);
  want_vulkan = 1;
  filter_keep_rc = in_child(child_filter, env, NULL);
  unlink(conf);
  assert_int_equal(rc, 0);
  /* Without a Vulkan device that child fails too: list_devices, which
  ** knows whether there is one, judges its result. */
}

/* Runs the MLP for `steps` steps with the debug log on, marking each step
** in the log; then a chain of reshapes. Exit 77: no Vulkan device. */
enum { REUSE_STEPS = 6 };

static void child_reuse(void) {
  kiln_status *s = S;
  if (count_type("VULKAN") == 0) exit(77);
  mlp m;
  mlp_build(&m, VK_DEV);
  /* One inter-op thread: the ops run in the same order every step, so
  ** they get the same buffers (with more, the Consts may run in any order
  ** and the cache only settles once it has met every pairing). */
  kiln_config *cfg = kiln_config_new();
  kiln_config_set_inter_op_threads(cfg, 1);
  kiln_session_options *o = kiln_session_options_new();
  kiln_session_options_set_config(o, cfg);
  kiln_session *sess = kiln_session_new(m.g, o, s);
  kiln_session_options_free(o);
  kiln_config_free(cfg);
  CHILD_CHECK(kiln_status_code(s) == KILN_OK);
  for (int step = 1; step <= REUSE_STEPS; step++) {
    fprintf(stderr, "# step %d\n", step);
    fflush(stderr);
    mlp_check(&m, sess, NULL, NULL, 4, step);
  }
  kiln_session_free(sess);
  kiln_graph_free(m.g);
  /* Reshape, Identity and Squeeze share the buffer: no dispatch. */
  fprintf(stderr, "# aliases\n");
  fflush(stderr);
  float v[6] = {1, 2, 3, 4, 5, 6};
  int64_t d[2] = {2, 3};
  kiln_graph *g = kiln_graph_new();
  kiln_output x = kiln_placeholder(g, KILN_FLOAT, d, 2, "x", s);
  int32_t shape[3] = {3, 1, 2};
  int64_t sd = 3;
  kiln_output in[2] = {x, kiln_const_values(g, KILN_INT32, shape, &sd, 1,
                                            "shape", s)};
  kiln_output h = {node(g, "Reshape", "r", VK_DEV, in, 2, 0, NULL), 0};
  h = (kiln_output){node(g, "Identity", "i", VK_DEV, &h, 1, 0, NULL), 0};
  h = (kiln_output){node(g, "Squeeze", "q", VK_DEV, &h, 1, 0, NULL), 0};
  sess = kiln_session_new(g, NULL, s);
  kiln_tensor *feed = floats(v, d, 2), *out = NULL;
  kiln_session_run(sess, NULL, &x, &feed, 1, &h, &out, 1, NULL, 0, NULL, s);
  CHILD_CHECK(kiln_status_code(s) == KILN_OK);
  CHILD_CHECK(kiln_tensor_ndims(out) == 2 && kiln_tensor_dim(out, 0) == 3);
  CHILD_CHECK(memcmp(kiln_tensor_data(out), v, sizeof v) == 0);
  fprintf(stderr, "# end\n");
  kiln_tensor_free(out);
  kiln_tensor_free(feed);
  kiln_session_free(sess);
  kiln_graph_free(g);
}

/* KILN_VULKAN_STAGING=1: feeds, Consts and fetches go through staging
** buffers and recorded copies, as on a GPU whose memory the host cannot
** map; results are the same. */
static void child_staging(void) {
  if (count_type("VULKAN") == 0) exit(77);
  mlp m;
  mlp_build(&m, VK_DEV);
  kiln_session *sess = kiln_session_new(m.g, NULL, S);
  CHILD_CHECK(kiln_status_code(S) == KILN_OK);
  for (int step = 0; step < 3; step++) mlp_check(&m, sess, NULL, NULL, 5, step);
  kiln_session_free(sess);
  kiln_graph_free(m.g);
}

static int count_in(const char *from, const char *to, const char *needle);

static void staging_copies(void **state) {
  (void)state;
  char log[] = "/tmp/kiln-vulkan-staging-XXXXXX";
  int fd = mkstemp(log);
  assert_true(fd >= 0);
  close(fd);
  static const char *const env[] = {"KILN_VULKAN_STAGING=1", "KILN_LOG=debug",
                                    NULL};
  int rc = in_child(child_staging, env, log);
  char *text = read_log(log);
  unlink(log);
  if (rc == 77) {
    free(text);
    fprintf(stderr, "# SKIP: no VULKAN device (KILN_LOG=info says why)\n");
    skip();
    return;
  }
  fail_child(rc, text);
  assert_non_null(strstr(text, "copies go through staging buffers"));
  /* Each step: the kernels with the uploads of x and the four Consts,
  ** then the copy of the result out. */
  assert_int_equal(count_in(text, NULL, "6 dispatches, 5 copies"), 3);
  assert_int_equal(count_in(text, NULL, "0 dispatches, 1 copies"), 3);
  free(text);
}

static int count_in(const char *from, const char *to, const char *needle) {
  int n = 0;
  for (const char *p = from; (p = strstr(p, needle)) && (!to || p < to); p++) n++;
  return n;
}

static void one_submission_per_step_and_reuse(void **state) {
  (void)state;
  char log[] = "/tmp/kiln-vulkan-debug-XXXXXX";
  int fd = mkstemp(log);
  assert_true(fd >= 0);
  close(fd);
  static const char *const env[] = {"KILN_LOG=debug", NULL};
  int rc = in_child(child_reuse, env, log);
  char *text = read_log(log);
  unlink(log);
  if (rc == 77) {
    free(text);
    fprintf(stderr, "# SKIP: no VULKAN device (KILN_LOG=info says why)\n");
    skip();
    return;
  }
  fail_child(rc, text);
  char mark[32];
  for (int step = 1; step <= REUSE_STEPS; step++) {
    snprintf(mark, sizeof mark, "# step %d\n", step);
    const char *from = strstr(text, mark);
    assert_non_null(from);
    snprintf(mark, sizeof mark, step < REUSE_STEPS ? "# step %d\n" : "# aliases\n",
             step + 1);
    const char *to = strstr(from, mark);
    assert_non_null(to);
    /* The whole step is one command buffer, submitted once, when the
    ** result is fetched. */
    int submits = count_in(from, to, "submitted batch");
    if (submits != 1)
      fail_msg("step %d submitted %d batches; the log:\n%.*s", step, submits,
               (int)(to - from), from);
    assert_int_equal(count_in(from, to, "dispatches, 0 copies"), 1);
    /* After warming up, nothing is made again: pipelines, descriptor sets
    ** and command buffers are all reused. */
    if (step == 1) assert_true(count_in(from, to, "created pipeline") > 0);
    if (step >= 3) {
      assert_int_equal(count_in(from, to, "created pipeline"), 0);
      assert_int_equal(count_in(from, to, "wrote descriptor set"), 0);
      assert_int_equal(count_in(from, to, "new command buffer"), 0);
    }
  }
  const char *from = strstr(text, "# aliases\n"), *to = strstr(text, "# end\n");
  assert_non_null(from);
  assert_non_null(to);
  /* Any batch submitted for the aliases ran no dispatch. */
  assert_int_equal(count_in(from, to, "submitted batch") -
                       count_in(from, to, ": 0 dispatches"),
                   0);
  free(text);
}

/* ------------------------------------------------------------------ main */

/* Under KILN_VULKAN_VALIDATION=1, an error the validation layer reported
** anywhere above fails every later step: one more proves there was none. */
static void validation_clean(void **state) {
  (void)state;
  REQUIRE_VULKAN();
  static const vcase c = {"Mul", NULL, 2, {IN(-1, 1, 3), IN(-1, 1, 3)}, 0, EXACT};
  check_case(&c, 0);
}

static int setup(void **st) {
  (void)st;
  S = kiln_status_new();
  return 0;
}

static int teardown(void **st) {
  (void)st;
  kiln_status_free(S);
  return 0;
}

int main(void) {
  /* Both plugins from the build tree; the CPU first, so it is preferred
  ** for ops that request no device. */
  setenv("KILN_PLUGIN_PATH", KT_CPU_PLUGIN_DIR ":" KT_VULKAN_PLUGIN_DIR, 1);
  /* Under the validation layer unless told otherwise (without the layer
  ** installed the plugin says so and goes on). */
  setenv("KILN_VULKAN_VALIDATION", "1", 0);
  const struct CMUnitTest tests[] = {
      /* These fork before this process loads plugins: keep them first. */
      cmocka_unit_test(plugins_env_hides_vulkan),
      cmocka_unit_test(no_driver_registers_nothing),
      cmocka_unit_test(config_device_filter),
      cmocka_unit_test(one_submission_per_step_and_reuse),
      cmocka_unit_test(staging_copies),
      cmocka_unit_test(list_devices),
      cmocka_unit_test(unary_kernels),
      cmocka_unit_test(binary_kernels),
      cmocka_unit_test(nn_kernels),
      cmocka_unit_test(reduce_kernels),
      cmocka_unit_test(matmul_kernels),
      cmocka_unit_test(conv_kernels),
      cmocka_unit_test(array_kernels),
      cmocka_unit_test(const_kernel),
      cmocka_unit_test(special_values),
      cmocka_unit_test(kernel_errors),
      cmocka_unit_test(mlp_on_vulkan),
      cmocka_unit_test(variable_read_on_vulkan),
      cmocka_unit_test(mixed_graph_soft_placement),
      cmocka_unit_test(long_chains),
      cmocka_unit_test(concurrent_steps),
      cmocka_unit_test(validation_clean),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
