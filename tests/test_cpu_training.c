/*
** The CPU plugin's training kernels end to end through the public API:
** the optimizers (ApplyGradientDescent, ApplyMomentum, ApplyAdam,
** ApplyAdagrad, ApplyRMSProp) updating VariableV2 variables in place, and
** the gradient-graph helpers (BroadcastGradientArgs, DynamicStitch, the
** activation gradients, BiasAddGrad, L2Loss, the softmax cross entropies,
** ConcatOffset, InvertPermutation). Values are checked against TensorFlow's
** formulas computed here; every error by code, TensorFlow's message and
** the node's name. Inputs that must reach a kernel's own checks are fed
** through placeholders of unknown shape, past graph-time inference.
*/
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#define KT_GRAPH_FIXTURE
#include "sessionutil.h"

#define EMPTY (const int64_t[]){0}, 1

/* ------------------------------------------------------------ helpers */

static kiln_tensor *tensor(kiln_dtype t, const void *v, const int64_t *dims,
                           int nd) {
  kiln_status *ts = kiln_status_new();
  kiln_tensor *x = kiln_tensor_new(t, dims, nd, ts);
  assert_ok(ts);
  kiln_status_free(ts);
  if (v && kiln_tensor_num_elements(x) > 0)
    memcpy(kiln_tensor_data(x), v,
           (size_t)kiln_tensor_num_elements(x) * kiln_dtype_size(t));
  return x;
}

static kiln_output cst(kiln_dtype t, const void *v, const int64_t *dims,
                       int nd) {
  kiln_output o = kiln_const_values(g, t, v, dims, nd, NULL, s);
  assert_ok(s);
  return o;
}

static kiln_output ph(kiln_dtype t, const char *name) {
  kiln_output o = kiln_placeholder(g, t, NULL, -1, name, s);
  assert_ok(s);
  return o;
}

static kiln_op_desc *desc(const char *type, const char *name) {
  kiln_op_desc *d = kiln_op_desc_new(g, type, name);
  assert_non_null(d);
  return d;
}

static kiln_op *fin(kiln_op_desc *d) {
  kiln_op *o = kiln_op_desc_finish(d, s);
  assert_ok(s);
  return o;
}

static kiln_output out(kiln_op *o, int i) { return (kiln_output){o, i}; }

/* An op of `type` over inputs, output 0. */
static kiln_output node(const char *type, const char *name, int n, ...) {
  kiln_op_desc *d = desc(type, name);
  va_list ap;
  va_start(ap, n);
  for (int i = 0; i < n; i++)
    kiln_op_desc_add_input(d, va_arg(ap, kiln_output));
  va_end(ap);
  return out(fin(d), 0);
}

/* VariableV2 of dtype and shape (nd -1: unknown), and Assign to it. */
static kiln_output variable(const char *name, kiln_dtype dt,
                            const int64_t *dims, int nd) {
  kiln_op_desc *d = desc("VariableV2", name);
  kiln_op_desc_set_attr_type(d, "dtype", dt);
  kiln_op_desc_set_attr_shape(d, "shape", dims, nd);
  return out(fin(d), 0);
}

static kiln_op *assign(kiln_output ref, kiln_output value) {
  kiln_op_desc *d = desc("Assign", NULL);
  kiln_op_desc_add_input(d, ref);
  kiln_op_desc_add_input(d, value);
  kiln_op_desc_set_attr_bool(d, "validate_shape", false);
  return fin(d);
}

/* A variable holding `v` (shape dims) and the op that initialises it. The
** variable's own shape attr is `dims`, or unknown when `loose`. */
static kiln_output var_init(const char *name, kiln_dtype dt, const void *v,
                            const int64_t *dims, int nd, bool loose,
                            kiln_op **init) {
  kiln_output var = variable(name, dt, loose ? NULL : dims, loose ? -1 : nd);
  *init = assign(var, cst(dt, v, dims, nd));
  return var;
}

static kiln_session *session(kiln_op *const *inits, int n) {
  kiln_session *ss = kiln_session_new(g, NULL, s);
  assert_ok(s);
  if (n > 0) {
    kiln_session_run(ss, NULL, NULL, NULL, 0, NULL, NULL, 0, inits, n, NULL, s);
    assert_ok(s);
  }
  return ss;
}

/* Runs fetches (feed values are freed). */
static void run(kiln_session *ss, const kiln_output *feeds, kiln_tensor **fv,
                int nf, const kiln_output *fetches, kiln_tensor **vals, int n) {
  kiln_session_run(ss, NULL, feeds, fv, nf, fetches, vals, n, NULL, 0, NULL, s);
  for (int i = 0; i < nf; i++) kiln_tensor_free(fv[i]);
}

/* Evaluates o in a fresh session. */
static kiln_tensor *eval(kiln_output o, const kiln_output *feeds,
                         kiln_tensor **fv, int nf) {
  kiln_session *ss = session(NULL, 0);
  kiln_tensor *t = NULL;
  run(ss, feeds, fv, nf, &o, &t, 1);
  kiln_session_free(ss);
  assert_ok(s);
  assert_non_null(t);
  return t;
}

/* Expects running o to fail with code, a message containing needle, and
** the failing node's name. */
static void expect_error_in(kiln_session *ss, kiln_output o,
                            const kiln_output *feeds, kiln_tensor **fv, int nf,
                            kiln_code code, const char *needle,
                            const char *name) {
  kiln_tensor *t = NULL;
  run(ss, feeds, fv, nf, &o, &t, 1);
  assert_status(s, code, needle);
  assert_null(t);
  if (!strstr(kiln_status_message(s), name))
    fail_msg("message \"%s\" lacks the node name \"%s\"",
             kiln_status_message(s), name);
  kiln_status_reset(s);
}

static void expect_error(kiln_output o, const kiln_output *feeds,
                         kiln_tensor **fv, int nf, kiln_code code,
                         const char *needle, const char *name) {
  kiln_session *ss = session(NULL, 0);
  expect_error_in(ss, o, feeds, fv, nf, code, needle, name);
  kiln_session_free(ss);
}

static void expect_dims(const kiln_tensor *t, kiln_dtype dt,
                        const int64_t *dims, int nd) {
  assert_non_null(t);
  assert_int_equal(kiln_tensor_dtype(t), dt);
  assert_int_equal(kiln_tensor_ndims(t), nd);
  for (int i = 0; i < nd; i++)
    if (kiln_tensor_dim(t, i) != dims[i])
      fail_msg("dim %d: got %lld, want %lld", i,
               (long long)kiln_tensor_dim(t, i), (long long)dims[i]);
}

static double elem(const kiln_tensor *t, int64_t i) {
  const void *p = kiln_tensor_data(t);
  switch (kiln_tensor_dtype(t)) {
  case KILN_FLOAT: return ((const float *)p)[i];
  case KILN_DOUBLE: return ((const double *)p)[i];
  case KILN_INT32: return ((const int32_t *)p)[i];
  case KILN_INT64: return (double)((const int64_t *)p)[i];
  default: fail_msg("unexpected dtype %d", (int)kiln_tensor_dtype(t));
  }
  return 0;
}

/* Checks t's values (relative tolerance tol; 0 exact) and frees it. */
static void expect_values(kiln_tensor *t, kiln_dtype dt, const int64_t *dims,
                          int nd, const double *want, double tol) {
  expect_dims(t, dt, dims, nd);
  for (int64_t i = 0; i < kiln_tensor_num_elements(t); i++) {
    double got = elem(t, i);
    if (isnan(want[i]) ? !isnan(got)
                       : fabs(got - want[i]) > tol * fmax(1, fabs(want[i])))
      fail_msg("element %lld: got %.9g, want %.9g", (long long)i, got,
               want[i]);
  }
  kiln_tensor_free(t);
}

/* ------------------------------------------------------------ optimizers */

/* Applies `apply` (output 0 of an Apply op, whose input 0 is `var`) `steps`
** times, fetching both the op's ref output and the variable each time. */
static kiln_tensor *run_steps(kiln_session *ss, kiln_output apply,
                              kiln_output var, int steps) {
  kiln_output f[2] = {apply, var};
  kiln_tensor *t[2] = {NULL, NULL};
  for (int k = 0; k < steps; k++) {
    run(ss, NULL, NULL, 0, f, t, 2);
    assert_ok(s);
    assert_int_equal(kiln_tensor_num_elements(t[0]),
                     kiln_tensor_num_elements(t[1]));
    for (int64_t i = 0; i < kiln_tensor_num_elements(t[0]); i++)
      assert_true(elem(t[0], i) == elem(t[1], i));
    kiln_tensor_free(t[0]);
    if (k + 1 < steps) kiln_tensor_free(t[1]);
  }
  return t[1];
}

static kiln_output scalar_of(kiln_dtype dt, double v) {
  kiln_output o = dt == KILN_DOUBLE ? kiln_const_double(g, v, NULL, s)
                                    : kiln_const_float(g, (float)v, NULL, s);
  assert_ok(s);
  return o;
}

/* A [3] array of dtype dt from doubles. */
static kiln_output arr3(kiln_dtype dt, const double *v) {
  float f[3] = {(float)v[0], (float)v[1], (float)v[2]};
  return cst(dt, dt == KILN_DOUBLE ? (const void *)v : (const void *)f,
             DIMS(3));
}

static kiln_output var3(const char *name, kiln_dtype dt, const double *v,
                        kiln_op **init) {
  float f[3] = {(float)v[0], (float)v[1], (float)v[2]};
  const void *p = dt == KILN_DOUBLE ? (const void *)v : (const void *)f;
  return var_init(name, dt, p, DIMS(3), false, init);
}

/* Each case of a test builds its graph afresh. */
static void fresh_graph(void) {
  kiln_graph_free(g);
  g = kiln_graph_new();
  assert_non_null(g);
}

static void gradient_descent(kiln_dtype dt) {
  fresh_graph();
  double w[3] = {1, 2, 3};
  const double d[3] = {0.1, -0.2, 0.3}, alpha = 0.5;
  kiln_op *init;
  kiln_output var = var3("w", dt, w, &init);
  kiln_output apply = node("ApplyGradientDescent", "gd", 3, var,
                           scalar_of(dt, alpha), arr3(dt, d));
  kiln_session *ss = session(&init, 1);
  kiln_tensor *t = run_steps(ss, apply, var, 2);
  for (int i = 0; i < 3; i++) w[i] -= 2 * alpha * d[i];
  expect_values(t, dt, DIMS(3), w, dt == KILN_DOUBLE ? 1e-15 : 1e-6);
  kiln_session_free(ss);
}

static void test_gradient_descent(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  gradient_descent(KILN_FLOAT);
  gradient_descent(KILN_DOUBLE);
}

static void momentum(kiln_dtype dt, bool nesterov) {
  fresh_graph();
  double w[3] = {1, 2, 3}, acc[3] = {0.1, 0.2, 0.3};
  const double grad[3] = {0.5, -1, 0.25}, lr = 2, mom = 0.9;
  kiln_op *init[2];
  kiln_output var = var3("w", dt, w, &init[0]);
  kiln_output accum = var3("accum", dt, acc, &init[1]);
  kiln_op_desc *d = desc("ApplyMomentum", "mom");
  kiln_op_desc_add_input(d, var);
  kiln_op_desc_add_input(d, accum);
  kiln_op_desc_add_input(d, scalar_of(dt, lr));
  kiln_op_desc_add_input(d, arr3(dt, grad));
  kiln_op_desc_add_input(d, scalar_of(dt, mom));
  kiln_op_desc_set_attr_bool(d, "use_nesterov", nesterov);
  kiln_output apply = out(fin(d), 0);
  kiln_session *ss = session(init, 2);
  kiln_tensor *t = run_steps(ss, apply, var, 3);
  for (int k = 0; k < 3; k++)
    for (int i = 0; i < 3; i++) {
      acc[i] = acc[i] * mom + grad[i];
      w[i] -= nesterov ? grad[i] * lr + acc[i] * mom * lr : acc[i] * lr;
    }
  double tol = dt == KILN_DOUBLE ? 1e-14 : 1e-5;
  expect_values(t, dt, DIMS(3), w, tol);
  kiln_tensor *a = NULL;
  run(ss, NULL, NULL, 0, &accum, &a, 1);
  assert_ok(s);
  expect_values(a, dt, DIMS(3), acc, tol);
  kiln_session_free(ss);
}

static void test_momentum(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  momentum(KILN_FLOAT, false);
  momentum(KILN_FLOAT, true);
  momentum(KILN_DOUBLE, false);
  momentum(KILN_DOUBLE, true);
}

static void adam(kiln_dtype dt, bool nesterov) {
  fresh_graph();
  double w[3] = {1, 2, 3}, m[3] = {0, 0.1, 0}, v[3] = {0, 0.01, 0};
  const double grad[3] = {0.1, -0.2, 0.3};
  const double b1 = 0.9, b2 = 0.999, lr = 0.01, eps = 1e-8;
  double b1p = b1, b2p = b2;
  kiln_op *init[5];
  kiln_output var = var3("w", dt, w, &init[0]);
  kiln_output mv = var3("m", dt, m, &init[1]);
  kiln_output vv = var3("v", dt, v, &init[2]);
  /* beta1_power and beta2_power are variables too, updated by hand. */
  kiln_output p1 = variable("b1p", dt, SCALAR);
  kiln_output p2 = variable("b2p", dt, SCALAR);
  init[3] = assign(p1, scalar_of(dt, b1));
  init[4] = assign(p2, scalar_of(dt, b2));
  kiln_op_desc *d = desc("ApplyAdam", "adam");
  kiln_op_desc_add_input(d, var);
  kiln_op_desc_add_input(d, mv);
  kiln_op_desc_add_input(d, vv);
  kiln_op_desc_add_input(d, p1);
  kiln_op_desc_add_input(d, p2);
  kiln_op_desc_add_input(d, scalar_of(dt, lr));
  kiln_op_desc_add_input(d, scalar_of(dt, b1));
  kiln_op_desc_add_input(d, scalar_of(dt, b2));
  kiln_op_desc_add_input(d, scalar_of(dt, eps));
  kiln_op_desc_add_input(d, arr3(dt, grad));
  kiln_op_desc_set_attr_bool(d, "use_nesterov", nesterov);
  kiln_output apply = out(fin(d), 0);
  kiln_op *next[2] = {assign(p1, node("Mul", NULL, 2, p1, scalar_of(dt, b1))),
                      assign(p2, node("Mul", NULL, 2, p2, scalar_of(dt, b2)))};
  kiln_session *ss = session(init, 5);
  kiln_tensor *t = NULL;
  for (int k = 0; k < 3; k++) {
    if (t) kiln_tensor_free(t);
    t = run_steps(ss, apply, var, 1);
    kiln_session_run(ss, NULL, NULL, NULL, 0, NULL, NULL, 0, next, 2, NULL, s);
    assert_ok(s);
    double lr_t = lr * sqrt(1 - b2p) / (1 - b1p);
    for (int i = 0; i < 3; i++) {
      m[i] += (grad[i] - m[i]) * (1 - b1);
      v[i] += (grad[i] * grad[i] - v[i]) * (1 - b2);
      double step = nesterov ? (grad[i] * (1 - b1) + b1 * m[i]) * lr_t
                             : m[i] * lr_t;
      w[i] -= step / (eps + sqrt(v[i]));
    }
    b1p *= b1;
    b2p *= b2;
  }
  double tol = dt == KILN_DOUBLE ? 1e-12 : 1e-5;
  expect_values(t, dt, DIMS(3), w, tol);
  kiln_output f[2] = {mv, vv};
  kiln_tensor *mvt[2] = {NULL, NULL};
  run(ss, NULL, NULL, 0, f, mvt, 2);
  assert_ok(s);
  expect_values(mvt[0], dt, DIMS(3), m, tol);
  expect_values(mvt[1], dt, DIMS(3), v, tol);
  kiln_session_free(ss);
}

static void test_adam(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  adam(KILN_FLOAT, false);
  adam(KILN_FLOAT, true);
  adam(KILN_DOUBLE, false);
  adam(KILN_DOUBLE, true);
}

static void test_adagrad_rmsprop(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  double w[3] = {1, 2, 3}, acc[3] = {0.1, 0.1, 0.1};
  double w2[3] = {1, 2, 3}, ms[3] = {1, 1, 1}, mo[3] = {0, 0, 0};
  const double grad[3] = {0.1, -0.2, 0.3};
  const double lr = 0.5, rho = 0.9, mm = 0.5, eps = 1e-6;
  kiln_op *init[5];
  kiln_output var = var3("w", KILN_DOUBLE, w, &init[0]);
  kiln_output accum = var3("acc", KILN_DOUBLE, acc, &init[1]);
  kiln_output var2 = var3("w2", KILN_DOUBLE, w2, &init[2]);
  kiln_output msv = var3("ms", KILN_DOUBLE, ms, &init[3]);
  kiln_output mov = var3("mom", KILN_DOUBLE, mo, &init[4]);
  kiln_output ada = node("ApplyAdagrad", "ada", 4, var, accum,
                         scalar_of(KILN_DOUBLE, lr), arr3(KILN_DOUBLE, grad));
  kiln_op_desc *d = desc("ApplyRMSProp", "rms");
  kiln_output ins[8] = {var2, msv, mov, scalar_of(KILN_DOUBLE, lr),
                        scalar_of(KILN_DOUBLE, rho), scalar_of(KILN_DOUBLE, mm),
                        scalar_of(KILN_DOUBLE, eps), arr3(KILN_DOUBLE, grad)};
  for (int i = 0; i < 8; i++) kiln_op_desc_add_input(d, ins[i]);
  kiln_output rms = out(fin(d), 0);
  kiln_session *ss = session(init, 5);
  kiln_tensor *t = run_steps(ss, ada, var, 2);
  kiln_tensor *t2 = run_steps(ss, rms, var2, 2);
  for (int k = 0; k < 2; k++)
    for (int i = 0; i < 3; i++) {
      acc[i] += grad[i] * grad[i];
      w[i] -= grad[i] * lr / sqrt(acc[i]);
      ms[i] += (grad[i] * grad[i] - ms[i]) * (1 - rho);
      mo[i] = mo[i] * mm + lr * grad[i] / sqrt(ms[i] + eps);
      w2[i] -= mo[i];
    }
  expect_values(t, KILN_DOUBLE, DIMS(3), w, 1e-14);
  expect_values(t2, KILN_DOUBLE, DIMS(3), w2, 1e-14);
  kiln_session_free(ss);
}

/* A scalar hyper-parameter [1] passes ApplyGradientDescent (TensorFlow's
** legacy scalar), not the others. */
static void test_apply_scalar_errors(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  const double w[3] = {1, 2, 3};
  const float one[1] = {0.5f}, two[2] = {1, 2}, d3[3] = {1, 1, 1};
  kiln_op *init[3];
  kiln_output var = var3("w", KILN_FLOAT, w, &init[0]);
  kiln_output accum = var3("accum", KILN_FLOAT, w, &init[1]);
  kiln_output alpha = ph(KILN_FLOAT, "alpha");
  kiln_output gd = node("ApplyGradientDescent", "gd", 3, var, alpha,
                        cst(KILN_FLOAT, d3, DIMS(3)));
  kiln_session *ss = session(init, 2);
  kiln_tensor *fv = kt_floats(two, DIMS(2));
  expect_error_in(ss, gd, &alpha, &fv, 1, KILN_INVALID_ARGUMENT,
                  "alpha is not a scalar: [2]", "gd");
  fv = kt_floats(one, DIMS(1));
  kiln_tensor *t = NULL;
  run(ss, &alpha, &fv, 1, &gd, &t, 1);
  assert_ok(s);
  const double want[3] = {0.5, 1.5, 2.5};
  expect_values(t, KILN_FLOAT, DIMS(3), want, 1e-7);

  kiln_output lr = ph(KILN_FLOAT, "lr"), mom = ph(KILN_FLOAT, "m");
  kiln_output mo = node("ApplyMomentum", "mo", 5, var, accum, lr,
                        cst(KILN_FLOAT, d3, DIMS(3)), mom);
  kiln_output feeds[2] = {lr, mom};
  kiln_tensor *vals[2] = {kt_floats(one, DIMS(1)), kt_scalar(0.9f)};
  expect_error_in(ss, mo, feeds, vals, 2, KILN_INVALID_ARGUMENT,
                  "lr is not a scalar: [1]", "mo");
  vals[0] = kt_scalar(0.1f);
  vals[1] = kt_floats(two, DIMS(2));
  expect_error_in(ss, mo, feeds, vals, 2, KILN_INVALID_ARGUMENT,
                  "momentum is not a scalar: [2]", "mo");
  kiln_session_free(ss);

  /* Each of Adam's six scalars, in TensorFlow's order. */
  static const char *const names[6] = {"beta1_power", "beta2_power", "lr",
                                       "beta1", "beta2", "epsilon"};
  kiln_op *ainit[3];
  kiln_output av = var3("aw", KILN_FLOAT, w, &ainit[0]);
  kiln_output am = var3("am", KILN_FLOAT, w, &ainit[1]);
  kiln_output avv = var3("av", KILN_FLOAT, w, &ainit[2]);
  kiln_output hp[6];
  kiln_op_desc *d = desc("ApplyAdam", "adam");
  kiln_op_desc_add_input(d, av);
  kiln_op_desc_add_input(d, am);
  kiln_op_desc_add_input(d, avv);
  for (int i = 0; i < 6; i++) {
    hp[i] = ph(KILN_FLOAT, names[i]);
    kiln_op_desc_add_input(d, hp[i]);
  }
  kiln_op_desc_add_input(d, cst(KILN_FLOAT, d3, DIMS(3)));
  kiln_output adam_op = out(fin(d), 0);
  ss = session(ainit, 3);
  for (int bad = 0; bad < 6; bad++) {
    kiln_tensor *hv[6];
    char want_msg[64];
    for (int i = 0; i < 6; i++)
      hv[i] = i == bad ? kt_floats(one, DIMS(1)) : kt_scalar(0.5f);
    snprintf(want_msg, sizeof want_msg, "%s is not a scalar: [1]", names[bad]);
    expect_error_in(ss, adam_op, hp, hv, 6, KILN_INVALID_ARGUMENT, want_msg,
                    "adam");
  }
  kiln_session_free(ss);
}

/* Slots and gradients of another shape than the variable's. The slots are
** variables of unknown shape (Assign without validate_shape), so that only
** the kernel can see the mismatch. */
static void test_apply_shape_errors(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  const float w[3] = {1, 2, 3}, w2[2] = {1, 2};
  kiln_op *init[5];
  kiln_output var = var_init("w", KILN_FLOAT, w, DIMS(3), false, &init[0]);
  kiln_output acc = var_init("acc", KILN_FLOAT, w2, DIMS(2), true, &init[1]);
  kiln_output m = var_init("m", KILN_FLOAT, w, DIMS(3), true, &init[2]);
  kiln_output v = var_init("v", KILN_FLOAT, w2, DIMS(2), true, &init[3]);
  kiln_output m2 = var_init("m2", KILN_FLOAT, w2, DIMS(2), true, &init[4]);
  kiln_output grad = ph(KILN_FLOAT, "grad");
  kiln_output half = kiln_const_float(g, 0.5f, NULL, s);
  kiln_output gd = node("ApplyGradientDescent", "gd", 3, var, half, grad);
  kiln_output mo = node("ApplyMomentum", "mo", 5, var, acc, half, grad, half);
  kiln_output mo2 = node("ApplyMomentum", "mo2", 5, var, m, half, grad, half);
  kiln_output ad = node("ApplyAdam", "ad", 10, var, m, v, half, half, half,
                        half, half, half, grad);
  kiln_output ad2 = node("ApplyAdam", "ad2", 10, var, m2, v, half, half, half,
                         half, half, half, grad);
  kiln_output ada = node("ApplyAdagrad", "ada", 4, var, acc, half, grad);
  kiln_output rms = node("ApplyRMSProp", "rms", 8, var, m, acc, half, half,
                         half, half, grad);
  kiln_session *ss = session(init, 5);
  kiln_tensor *fv = kt_floats(w2, DIMS(2));
  expect_error_in(ss, gd, &grad, &fv, 1, KILN_INVALID_ARGUMENT,
                  "var and delta do not have the same shape[3] [2]", "gd");
  fv = kt_floats(w, DIMS(3));
  expect_error_in(ss, mo, &grad, &fv, 1, KILN_INVALID_ARGUMENT,
                  "var and accum do not have the same shape[3] [2]", "mo");
  fv = kt_floats(w2, DIMS(2));
  expect_error_in(ss, mo2, &grad, &fv, 1, KILN_INVALID_ARGUMENT,
                  "var and grad do not have the same shape[3] [2]", "mo2");
  fv = kt_floats(w, DIMS(3));
  expect_error_in(ss, ad2, &grad, &fv, 1, KILN_INVALID_ARGUMENT,
                  "var and m do not have the same shape[3] [2]", "ad2");
  fv = kt_floats(w, DIMS(3));
  expect_error_in(ss, ad, &grad, &fv, 1, KILN_INVALID_ARGUMENT,
                  "var and v do not have the same shape[3] [2]", "ad");
  fv = kt_scalar(1);
  expect_error_in(ss, node("ApplyAdam", "ad3", 10, var, m, m, half, half, half,
                           half, half, half, grad),
                  &grad, &fv, 1, KILN_INVALID_ARGUMENT,
                  "var and grad do not have the same shape[3] []", "ad3");
  fv = kt_floats(w, DIMS(3));
  expect_error_in(ss, ada, &grad, &fv, 1, KILN_INVALID_ARGUMENT,
                  "var and accum do not have the same shape[3] [2]", "ada");
  fv = kt_floats(w, DIMS(3));
  expect_error_in(ss, rms, &grad, &fv, 1, KILN_INVALID_ARGUMENT,
                  "var and mom do not have the same shape[3] [2]", "rms");
  kiln_session_free(ss);
}

static void test_apply_uninitialized(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  const float d3[3] = {1, 1, 1};
  kiln_output var = variable("w", KILN_FLOAT, DIMS(3));
  kiln_output gd = node("ApplyGradientDescent", "gd", 3, var,
                        kiln_const_float(g, 0.5f, NULL, s),
                        cst(KILN_FLOAT, d3, DIMS(3)));
  kiln_session *ss = session(NULL, 0);
  kiln_tensor *t = NULL;
  run(ss, NULL, NULL, 0, &gd, &t, 1);
  assert_status(s, KILN_FAILED_PRECONDITION,
                "Attempting to use uninitialized value w");
  assert_null(t);
  kiln_status_reset(s);
  kiln_session_free(ss);
}

/* --------------------------------------------------- BroadcastGradientArgs */

static void bga_case(kiln_dtype dt, const int64_t *x, int nx, const int64_t *y,
                     int ny, const double *r0, int n0, const double *r1,
                     int n1) {
  kiln_output a = ph(dt, NULL), b = ph(dt, NULL);
  kiln_op_desc *d = desc("BroadcastGradientArgs", NULL);
  kiln_op_desc_add_input(d, a);
  kiln_op_desc_add_input(d, b);
  kiln_op *op = fin(d);
  int32_t x32[8], y32[8];
  for (int i = 0; i < nx; i++) x32[i] = (int32_t)x[i];
  for (int i = 0; i < ny; i++) y32[i] = (int32_t)y[i];
  int64_t dx = nx, dy = ny;
  kiln_output feeds[2] = {a, b}, fetch[2] = {out(op, 0), out(op, 1)};
  bool i32 = dt == KILN_INT32;
  kiln_tensor *fv[2] = {
      tensor(dt, i32 ? (const void *)x32 : (const void *)x, &dx, 1),
      tensor(dt, i32 ? (const void *)y32 : (const void *)y, &dy, 1)};
  kiln_tensor *r[2] = {NULL, NULL};
  kiln_session *ss = session(NULL, 0);
  run(ss, feeds, fv, 2, fetch, r, 2);
  kiln_session_free(ss);
  assert_ok(s);
  int64_t d0 = n0, d1 = n1;
  expect_values(r[0], dt, &d0, 1, r0, 0);
  expect_values(r[1], dt, &d1, 1, r1, 0);
}

#define V(...) (const int64_t[]){__VA_ARGS__}, \
    (int)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t))
#define R(...) (const double[]){__VA_ARGS__}, \
    (int)(sizeof((const double[]){__VA_ARGS__}) / sizeof(double))
#define NONE NULL, 0

static void test_broadcast_gradient_args(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  for (int k = 0; k < 2; k++) {
    kiln_dtype dt = k ? KILN_INT64 : KILN_INT32;
    bga_case(dt, V(2, 3, 5), V(1), NONE, R(0, 1, 2));
    bga_case(dt, V(2, 3, 5), V(5), NONE, R(0, 1));
    bga_case(dt, V(2, 3, 5), V(3, 1), NONE, R(0, 2));
    bga_case(dt, V(2, 1, 5), V(3, 1), R(1), R(0, 2));
    bga_case(dt, V(3, 1), V(2, 1, 5), R(0, 2), R(1));
    bga_case(dt, V(2, 3), V(2, 3), NONE, NONE);
    bga_case(dt, V(1, 1), V(1, 1), NONE, NONE);   /* identical: nothing */
    bga_case(dt, V(1, 1), V(1), R(0, 1), R(0, 1)); /* both 1: both reduce */
    bga_case(dt, NULL, 0, V(2, 3), R(0, 1), NONE);
    bga_case(dt, V(4, 1, 1), V(1, 1, 2), R(1, 2), R(0, 1));
    bga_case(dt, V(1, 2, 1), V(1, 1, 1), R(0, 2), R(0, 1, 2));
  }
}

static void test_broadcast_gradient_args_errors(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  kiln_output a = ph(KILN_INT32, "a"), b = ph(KILN_INT32, "b");
  kiln_output bga = node("BroadcastGradientArgs", "bga", 2, a, b);
  kiln_output feeds[2] = {a, b};
  const int32_t x[2] = {2, 3}, y[1] = {4}, m[2] = {1, 2};
  kiln_tensor *fv[2] = {kt_int32s(x, DIMS(2)), kt_int32s(y, DIMS(1))};
  expect_error(bga, feeds, fv, 2, KILN_INVALID_ARGUMENT,
               "Incompatible shapes: [2,3] vs. [4]", "bga");
  fv[0] = kt_int32s(m, DIMS(1, 2));
  fv[1] = kt_int32s(y, DIMS(1));
  expect_error(bga, feeds, fv, 2, KILN_INVALID_ARGUMENT,
               "In[0] must be a vector.[1,2]", "bga");
  fv[0] = kt_int32s(y, DIMS(1));
  fv[1] = kt_int32s(y, SCALAR);
  expect_error(bga, feeds, fv, 2, KILN_INVALID_ARGUMENT,
               "In[1] must be a vector.[]", "bga");
}

/* ---------------------------------------------------------- DynamicStitch */

static kiln_output stitch(const char *name, const kiln_output *ix,
                          const kiln_output *data, int n) {
  kiln_op_desc *d = desc("DynamicStitch", name);
  kiln_op_desc_add_input_list(d, ix, n);
  kiln_op_desc_add_input_list(d, data, n);
  return out(fin(d), 0);
}

static void test_dynamic_stitch(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  /* TensorFlow's documented example. */
  const int32_t i0 = 6, i1[2] = {4, 1}, i2[4] = {5, 2, 0, 3};
  const float d0[2] = {61, 62}, d1[4] = {41, 42, 11, 12},
              d2[8] = {51, 52, 21, 22, 1, 2, 31, 32};
  kiln_output ix[3] = {cst(KILN_INT32, &i0, SCALAR),
                       cst(KILN_INT32, i1, DIMS(2)),
                       cst(KILN_INT32, i2, DIMS(2, 2))};
  kiln_output data[3] = {cst(KILN_FLOAT, d0, DIMS(2)),
                         cst(KILN_FLOAT, d1, DIMS(2, 2)),
                         cst(KILN_FLOAT, d2, DIMS(2, 2, 2))};
  const double want[14] = {1, 2, 11, 12, 21, 22, 31, 32,
                           41, 42, 51, 52, 61, 62};
  expect_values(eval(stitch("st", ix, data, 3), NULL, NULL, 0), KILN_FLOAT,
                DIMS(7, 2), want, 0);

  /* Later pieces win; rows nobody names are zero; int32 and double. */
  const int32_t j0[2] = {0, 1}, j1[2] = {1, 4};
  const int32_t v0[2] = {10, 11}, v1[2] = {20, 21};
  const double w0[2] = {0.5, 1.5}, w1[2] = {2.5, 3.5};
  kiln_output jx[2] = {cst(KILN_INT32, j0, DIMS(2)),
                       cst(KILN_INT32, j1, DIMS(2))};
  kiln_output vi[2] = {cst(KILN_INT32, v0, DIMS(2)),
                       cst(KILN_INT32, v1, DIMS(2))};
  kiln_output vd[2] = {cst(KILN_DOUBLE, w0, DIMS(2)),
                       cst(KILN_DOUBLE, w1, DIMS(2))};
  const double wi[5] = {10, 20, 0, 0, 21}, wd[5] = {0.5, 2.5, 0, 0, 3.5};
  expect_values(eval(stitch("sti", jx, vi, 2), NULL, NULL, 0), KILN_INT32,
                DIMS(5), wi, 0);
  expect_values(eval(stitch("std", jx, vd, 2), NULL, NULL, 0), KILN_DOUBLE,
                DIMS(5), wd, 0);

  /* Nothing to stitch: [0] + the element shape. */
  kiln_output ex = cst(KILN_INT32, NULL, EMPTY);
  kiln_output ed = cst(KILN_FLOAT, NULL, DIMS(0, 3));
  kiln_tensor *t = eval(stitch("ste", &ex, &ed, 1), NULL, NULL, 0);
  expect_dims(t, KILN_FLOAT, DIMS(0, 3));
  kiln_tensor_free(t);
}

static void test_dynamic_stitch_errors(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  kiln_output ix[2] = {ph(KILN_INT32, "i0"), ph(KILN_INT32, "i1")};
  kiln_output dx[2] = {ph(KILN_FLOAT, "d0"), ph(KILN_FLOAT, "d1")};
  kiln_output st = stitch("st", ix, dx, 2);
  kiln_output feeds[4] = {ix[0], ix[1], dx[0], dx[1]};
  const int32_t i2[2] = {0, 1}, neg[2] = {0, -1}, one = 2;
  const float f4[4] = {1, 2, 3, 4}, f3[3] = {1, 2, 3};
  kiln_tensor *fv[4] = {kt_int32s(i2, DIMS(2)), kt_int32s(neg, DIMS(2)),
                        kt_floats(f4, DIMS(2)), kt_floats(f4, DIMS(2))};
  expect_error(st, feeds, fv, 4, KILN_INVALID_ARGUMENT,
               "indices[1] is out of range", "st");
  fv[0] = kt_int32s(i2, DIMS(2));
  fv[1] = kt_int32s(i2, DIMS(2));
  fv[2] = kt_floats(f4, DIMS(2));
  fv[3] = kt_floats(f3, DIMS(3));
  expect_error(st, feeds, fv, 4, KILN_INVALID_ARGUMENT,
               "data[1].shape = [3] does not start with indices[1].shape = "
               "[2]",
               "st");
  fv[0] = kt_int32s(i2, DIMS(2));
  fv[1] = kt_int32s(&one, DIMS(1));
  fv[2] = kt_floats(f4, DIMS(2, 2));
  fv[3] = kt_floats(f3, DIMS(1, 3));
  expect_error(st, feeds, fv, 4, KILN_INVALID_ARGUMENT,
               "Need data[0].shape[1:] = data[1].shape[1:], got data[0].shape "
               "= [2,2], data[1].shape = [1,3], indices[0].shape = [2], "
               "indices[1].shape = [1]",
               "st");
}

/* --------------------------------------------------- activation gradients */

static kiln_output grad_op(const char *type, const char *name, kiln_output gr,
                           kiln_output x) {
  return node(type, name, 2, gr, x);
}

static void test_activation_grads(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  const float gv[6] = {1, 2, 3, 4, 5, NAN};
  const float xv[6] = {-1, 0, 0.5, 6, 7, -2};
  kiln_output gr = cst(KILN_FLOAT, gv, DIMS(2, 3));
  kiln_output x = cst(KILN_FLOAT, xv, DIMS(2, 3));
  const double relu[6] = {0, 0, 3, 4, 5, 0};
  const double relu6[6] = {0, 0, 3, 0, 0, 0};
  double elu[6], selu[6], soft[6], leaky[6];
  const double sc = 1.0507009873554804934193349852946;
  const double al = 1.6732632423543772848170429916717;
  for (int i = 0; i < 6; i++) {
    double gi = gv[i], xi = xv[i];
    elu[i] = xi < 0 ? (xi + 1) * gi : gi;
    selu[i] = xi < 0 ? gi * (xi + sc * al) : gi * sc;
    soft[i] = gi / (exp(-xi) + 1);
    leaky[i] = xi > 0 ? gi : gi * 0.3;
  }
  expect_values(eval(grad_op("ReluGrad", NULL, gr, x), NULL, NULL, 0),
                KILN_FLOAT, DIMS(2, 3), relu, 0);
  expect_values(eval(grad_op("Relu6Grad", NULL, gr, x), NULL, NULL, 0),
                KILN_FLOAT, DIMS(2, 3), relu6, 0);
  expect_values(eval(grad_op("EluGrad", NULL, gr, x), NULL, NULL, 0),
                KILN_FLOAT, DIMS(2, 3), elu, 1e-6);
  expect_values(eval(grad_op("SeluGrad", NULL, gr, x), NULL, NULL, 0),
                KILN_FLOAT, DIMS(2, 3), selu, 1e-6);
  expect_values(eval(grad_op("SoftplusGrad", NULL, gr, x), NULL, NULL, 0),
                KILN_FLOAT, DIMS(2, 3), soft, 1e-6);
  kiln_op_desc *d = desc("LeakyReluGrad", NULL);
  kiln_op_desc_add_input(d, gr);
  kiln_op_desc_add_input(d, x);
  kiln_op_desc_set_attr_float(d, "alpha", 0.3f);
  expect_values(eval(out(fin(d), 0), NULL, NULL, 0), KILN_FLOAT, DIMS(2, 3),
                leaky, 1e-6);

  /* double, int32 and half take the same paths. */
  const double gd[3] = {1, 2, 3}, xd[3] = {-0.5, 0.5, 2};
  const double elud[3] = {0.5, 2, 3};
  expect_values(eval(grad_op("EluGrad", NULL, cst(KILN_DOUBLE, gd, DIMS(3)),
                             cst(KILN_DOUBLE, xd, DIMS(3))),
                     NULL, NULL, 0),
                KILN_DOUBLE, DIMS(3), elud, 0);
  const int32_t gi[4] = {1, 2, 3, 4}, xi[4] = {-1, 0, 3, 9};
  const double relui[4] = {0, 0, 3, 4}, relu6i[4] = {0, 0, 3, 0};
  kiln_output g32 = cst(KILN_INT32, gi, DIMS(4));
  kiln_output x32 = cst(KILN_INT32, xi, DIMS(4));
  expect_values(eval(grad_op("ReluGrad", NULL, g32, x32), NULL, NULL, 0),
                KILN_INT32, DIMS(4), relui, 0);
  expect_values(eval(grad_op("Relu6Grad", NULL, g32, x32), NULL, NULL, 0),
                KILN_INT32, DIMS(4), relu6i, 0);
  kiln_output gh =
      kiln_cast(g, cst(KILN_FLOAT, gv, DIMS(6)), KILN_HALF, NULL, s);
  kiln_output xh =
      kiln_cast(g, cst(KILN_FLOAT, xv, DIMS(6)), KILN_HALF, NULL, s);
  assert_ok(s);
  kiln_output back = kiln_cast(g, grad_op("ReluGrad", NULL, gh, xh),
                               KILN_FLOAT, NULL, s);
  assert_ok(s);
  expect_values(eval(back, NULL, NULL, 0), KILN_FLOAT, DIMS(6), relu, 0);
}

static void test_activation_grad_errors(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  static const char *const ops[6] = {"ReluGrad", "Relu6Grad", "EluGrad",
                                     "SeluGrad", "SoftplusGrad",
                                     "LeakyReluGrad"};
  const float a[3] = {1, 2, 3};
  for (int i = 0; i < 6; i++) {
    char name[32], msg[256];
    kiln_output gr = ph(KILN_FLOAT, NULL), x = ph(KILN_FLOAT, NULL);
    snprintf(name, sizeof name, "bad_%d", i);
    kiln_output o = grad_op(ops[i], name, gr, x);
    snprintf(msg, sizeof msg,
             "Inputs to operation %s of type %s must have the same size and "
             "shape.  Input 0: [2] != input 1: [3]",
             name, ops[i]);
    kiln_output feeds[2] = {gr, x};
    kiln_tensor *fv[2] = {kt_floats(a, DIMS(2)), kt_floats(a, DIMS(3))};
    expect_error(o, feeds, fv, 2, KILN_INVALID_ARGUMENT, msg, name);
  }
}

/* ------------------------------------------------- BiasAddGrad and L2Loss */

static void test_bias_add_grad(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  const float x[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  kiln_output nhwc =
      node("BiasAddGrad", NULL, 1, cst(KILN_FLOAT, x, DIMS(4, 3)));
  const double w1[3] = {22, 26, 30};
  expect_values(eval(nhwc, NULL, NULL, 0), KILN_FLOAT, DIMS(3), w1, 0);
  kiln_op_desc *d = desc("BiasAddGrad", NULL);
  kiln_op_desc_add_input(d, cst(KILN_FLOAT, x, DIMS(2, 3, 2)));
  kiln_op_desc_set_attr_string(d, "data_format", "NCHW", 4);
  const double w2[3] = {1 + 2 + 7 + 8, 3 + 4 + 9 + 10, 5 + 6 + 11 + 12};
  expect_values(eval(out(fin(d), 0), NULL, NULL, 0), KILN_FLOAT, DIMS(3), w2,
                0);
  const int32_t xi[6] = {1, -2, 3, 4, 5, -6};
  const double wi[3] = {5, 3, -3};
  kiln_output bi = cst(KILN_INT32, xi, DIMS(2, 3));
  expect_values(eval(node("BiasAddGrad", NULL, 1, bi), NULL, NULL, 0),
                KILN_INT32, DIMS(3), wi, 0);
  const double xd[4] = {0.25, 0.5, 1, 2}, wd[2] = {1.25, 2.5};
  kiln_output bd = cst(KILN_DOUBLE, xd, DIMS(2, 1, 2));
  expect_values(eval(node("BiasAddGrad", NULL, 1, bd), NULL, NULL, 0),
                KILN_DOUBLE, DIMS(2), wd, 0);

  kiln_output p = ph(KILN_FLOAT, "p");
  kiln_output bad = node("BiasAddGrad", "bag", 1, p);
  kiln_tensor *fv = kt_floats(x, DIMS(3));
  expect_error(bad, &p, &fv, 1, KILN_INVALID_ARGUMENT,
               "Input tensor must be at least 2D: [3]", "bag");
}

static void test_l2_loss(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  const float x[3] = {1, 2, -3};
  const double want = 7, wd = 0.625, xd[2] = {0.5, -1};
  expect_values(eval(node("L2Loss", NULL, 1, cst(KILN_FLOAT, x, DIMS(3))),
                     NULL, NULL, 0),
                KILN_FLOAT, SCALAR, &want, 0);
  expect_values(eval(node("L2Loss", NULL, 1, cst(KILN_DOUBLE, xd, DIMS(1, 2))),
                     NULL, NULL, 0),
                KILN_DOUBLE, SCALAR, &wd, 0);
  const double zero = 0;
  expect_values(eval(node("L2Loss", NULL, 1, cst(KILN_FLOAT, NULL, EMPTY)),
                     NULL, NULL, 0),
                KILN_FLOAT, SCALAR, &zero, 0);
}

/* ------------------------------------------------- softmax cross entropy */

/* Loss and backprop of one row, the plain way. */
static double ref_xent(const float *f, const double *l, int c, double *bp) {
  double sum = 0, loss = 0;
  for (int k = 0; k < c; k++) sum += exp(f[k]);
  for (int k = 0; k < c; k++) {
    double p = exp(f[k]) / sum;
    loss -= l[k] * log(p);
    bp[k] = p - l[k];
  }
  return loss;
}

static void test_softmax_xent(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  const float f[6] = {1, 2, 3, 1, 1, 1};
  const float l[6] = {0, 0, 1, 0.5f, 0.5f, 0};
  const double ld[6] = {0, 0, 1, 0.5, 0.5, 0};
  double loss[2], bp[6];
  for (int r = 0; r < 2; r++)
    loss[r] = ref_xent(f + 3 * r, ld + 3 * r, 3, bp + 3 * r);
  kiln_op_desc *d = desc("SoftmaxCrossEntropyWithLogits", "xent");
  kiln_op_desc_add_input(d, cst(KILN_FLOAT, f, DIMS(2, 3)));
  kiln_op_desc_add_input(d, cst(KILN_FLOAT, l, DIMS(2, 3)));
  kiln_op *op = fin(d);
  kiln_output fetch[2] = {out(op, 0), out(op, 1)};
  kiln_tensor *t[2] = {NULL, NULL};
  kiln_session *ss = session(NULL, 0);
  run(ss, NULL, NULL, 0, fetch, t, 2);
  assert_ok(s);
  expect_values(t[0], KILN_FLOAT, DIMS(2), loss, 1e-6);
  expect_values(t[1], KILN_FLOAT, DIMS(2, 3), bp, 1e-6);

  /* Labels [1,3] broadcast against logits [2,3]. */
  kiln_output fp = ph(KILN_FLOAT, "f"), lp = ph(KILN_FLOAT, "l");
  d = desc("SoftmaxCrossEntropyWithLogits", "xb");
  kiln_op_desc_add_input(d, fp);
  kiln_op_desc_add_input(d, lp);
  op = fin(d);
  kiln_output feeds[2] = {fp, lp}, fb[2] = {out(op, 0), out(op, 1)};
  kiln_tensor *fv[2] = {kt_floats(f, DIMS(2, 3)), kt_floats(l, DIMS(1, 3))};
  for (int r = 0; r < 2; r++) loss[r] = ref_xent(f + 3 * r, ld, 3, bp + 3 * r);
  run(ss, feeds, fv, 2, fb, t, 2);
  assert_ok(s);
  expect_values(t[0], KILN_FLOAT, DIMS(2), loss, 1e-6);
  expect_values(t[1], KILN_FLOAT, DIMS(2, 3), bp, 1e-6);

  fv[0] = kt_floats(f, DIMS(2, 3));
  fv[1] = kt_floats(f, DIMS(3, 2));
  expect_error_in(ss, fb[0], feeds, fv, 2, KILN_INVALID_ARGUMENT,
                  "logits and labels must be broadcastable: logits_size=[2,3] "
                  "labels_size=[3,2]",
                  "xb");
  fv[0] = kt_floats(f, DIMS(6));
  fv[1] = kt_floats(f, DIMS(6));
  expect_error_in(ss, fb[0], feeds, fv, 2, KILN_INVALID_ARGUMENT,
                  "logits and labels must be either 2-dimensional, or "
                  "broadcasted to be 2-dimensional",
                  "xb");
  kiln_session_free(ss);
}

static void test_sparse_softmax_xent(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  const float f[6] = {1, 2, 3, 1, 1, 1};
  const int64_t lab[2] = {2, 0};
  const double oh[6] = {0, 0, 1, 1, 0, 0};
  double loss[2], bp[6];
  for (int r = 0; r < 2; r++)
    loss[r] = ref_xent(f + 3 * r, oh + 3 * r, 3, bp + 3 * r);
  kiln_output fp = ph(KILN_FLOAT, "f"), lp = ph(KILN_INT64, "l");
  kiln_op_desc *d = desc("SparseSoftmaxCrossEntropyWithLogits", "sx");
  kiln_op_desc_add_input(d, fp);
  kiln_op_desc_add_input(d, lp);
  kiln_op *op = fin(d);
  kiln_output feeds[2] = {fp, lp}, fetch[2] = {out(op, 0), out(op, 1)};
  kiln_tensor *fv[2] = {kt_floats(f, DIMS(2, 3)),
                        tensor(KILN_INT64, lab, DIMS(2))};
  kiln_tensor *t[2] = {NULL, NULL};
  kiln_session *ss = session(NULL, 0);
  run(ss, feeds, fv, 2, fetch, t, 2);
  assert_ok(s);
  expect_values(t[0], KILN_FLOAT, DIMS(2), loss, 1e-6);
  expect_values(t[1], KILN_FLOAT, DIMS(2, 3), bp, 1e-6);

  const int64_t bad[2] = {2, 3};
  fv[0] = kt_floats(f, DIMS(6));
  fv[1] = tensor(KILN_INT64, lab, DIMS(2));
  expect_error_in(ss, fetch[0], feeds, fv, 2, KILN_INVALID_ARGUMENT,
                  "logits must be 2-D, but got shape [6]", "sx");
  fv[0] = kt_floats(f, DIMS(2, 3));
  fv[1] = tensor(KILN_INT64, lab, DIMS(1, 2));
  expect_error_in(ss, fetch[0], feeds, fv, 2, KILN_INVALID_ARGUMENT,
                  "labels must be 1-D, but got shape [1,2]", "sx");
  fv[0] = kt_floats(f, DIMS(3, 2));
  fv[1] = tensor(KILN_INT64, lab, DIMS(2));
  expect_error_in(ss, fetch[0], feeds, fv, 2, KILN_INVALID_ARGUMENT,
                  "logits and labels must have the same first dimension, got "
                  "logits shape [3,2] and labels shape [2]",
                  "sx");
  fv[0] = kt_floats(f, DIMS(2, 0));
  fv[1] = tensor(KILN_INT64, lab, DIMS(2));
  expect_error_in(ss, fetch[0], feeds, fv, 2, KILN_INVALID_ARGUMENT,
                  "Must have at least one class, but got logits shape [2,0]",
                  "sx");
  fv[0] = kt_floats(f, DIMS(2, 3));
  fv[1] = tensor(KILN_INT64, bad, DIMS(2));
  expect_error_in(ss, fetch[0], feeds, fv, 2, KILN_INVALID_ARGUMENT,
                  "Received a label value of 3 which is outside the valid "
                  "range of [0, 3).  Label values: 2 3",
                  "sx");
  kiln_session_free(ss);
}

/* ---------------------------------------- ConcatOffset, InvertPermutation */

static kiln_op *concat_offset(const char *name, kiln_output axis,
                              const kiln_output *shapes, int n) {
  kiln_op_desc *d = desc("ConcatOffset", name);
  kiln_op_desc_add_input(d, axis);
  kiln_op_desc_add_input_list(d, shapes, n);
  return fin(d);
}

static void test_concat_offset(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  const int32_t a[3] = {2, 3, 5}, b[3] = {2, 7, 5}, c[3] = {2, 1, 5};
  kiln_output sh[3] = {cst(KILN_INT32, a, DIMS(3)), cst(KILN_INT32, b, DIMS(3)),
                       cst(KILN_INT32, c, DIMS(3))};
  const double want[3][3] = {{0, 0, 0}, {0, 3, 0}, {0, 10, 0}};
  for (int k = 0; k < 2; k++) {
    kiln_op *op = concat_offset(NULL, kiln_const_int32(g, k ? -2 : 1, NULL, s),
                                sh, 3);
    kiln_output f[3] = {out(op, 0), out(op, 1), out(op, 2)};
    kiln_tensor *t[3] = {NULL, NULL, NULL};
    kiln_session *ss = session(NULL, 0);
    run(ss, NULL, NULL, 0, f, t, 3);
    kiln_session_free(ss);
    assert_ok(s);
    for (int i = 0; i < 3; i++)
      expect_values(t[i], KILN_INT32, DIMS(3), want[i], 0);
  }
}

static void test_concat_offset_errors(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  kiln_output ax = ph(KILN_INT32, "ax");
  kiln_output sh[2] = {ph(KILN_INT32, "s0"), ph(KILN_INT32, "s1")};
  kiln_op *op = concat_offset("co", ax, sh, 2);
  kiln_output feeds[3] = {ax, sh[0], sh[1]};
  const int32_t a[3] = {2, 3, 5}, b[3] = {2, 7, 6}, one = 1, three = 3;
  kiln_tensor *fv[3] = {kt_int32s(&one, DIMS(1)), kt_int32s(a, DIMS(3)),
                        kt_int32s(a, DIMS(3))};
  expect_error(out(op, 0), feeds, fv, 3, KILN_INVALID_ARGUMENT,
               "Concat dim tensor should be a scalar integer, but got shape "
               "[1]",
               "co");
  fv[0] = kt_int32s(&one, SCALAR);
  fv[1] = kt_int32s(a, DIMS(3));
  fv[2] = kt_int32s(a, DIMS(1, 3));
  expect_error(out(op, 0), feeds, fv, 3, KILN_INVALID_ARGUMENT,
               "input 2 should be a vector, but got shape [1,3]", "co");
  fv[0] = kt_int32s(&three, SCALAR);
  fv[1] = kt_int32s(a, DIMS(3));
  fv[2] = kt_int32s(a, DIMS(3));
  expect_error(out(op, 0), feeds, fv, 3, KILN_INVALID_ARGUMENT,
               "Concat dim is out of range: 3 vs. 3", "co");
  fv[0] = kt_int32s(&one, SCALAR);
  fv[1] = kt_int32s(a, DIMS(3));
  fv[2] = kt_int32s(a, DIMS(2));
  expect_error(out(op, 0), feeds, fv, 3, KILN_INVALID_ARGUMENT,
               "input 1 should contain 3 elements, but got 2", "co");
  fv[0] = kt_int32s(&one, SCALAR);
  fv[1] = kt_int32s(a, DIMS(3));
  fv[2] = kt_int32s(b, DIMS(3));
  expect_error(out(op, 0), feeds, fv, 3, KILN_INVALID_ARGUMENT,
               "All dimensions except 1 must match. Input 1 has shape [2 7 6] "
               "and doesn't match input 0 with shape [2 3 5].",
               "co");
}

static void test_invert_permutation(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  const int32_t p[5] = {3, 4, 0, 2, 1};
  const int64_t p64[5] = {3, 4, 0, 2, 1};
  const double want[5] = {2, 4, 3, 0, 1};
  expect_values(eval(node("InvertPermutation", NULL, 1,
                          cst(KILN_INT32, p, DIMS(5))), NULL, NULL, 0),
                KILN_INT32, DIMS(5), want, 0);
  expect_values(eval(node("InvertPermutation", NULL, 1,
                          cst(KILN_INT64, p64, DIMS(5))), NULL, NULL, 0),
                KILN_INT64, DIMS(5), want, 0);

  kiln_output x = ph(KILN_INT32, "x");
  kiln_output inv = node("InvertPermutation", "inv", 1, x);
  const int32_t big[3] = {0, 3, 1}, dup[3] = {0, 1, 1};
  kiln_tensor *fv = kt_int32s(p, DIMS(1, 5));
  expect_error(inv, &x, &fv, 1, KILN_INVALID_ARGUMENT,
               "invert_permutation expects a 1D vector.", "inv");
  fv = kt_int32s(big, DIMS(3));
  expect_error(inv, &x, &fv, 1, KILN_INVALID_ARGUMENT,
               "3 is not between 0 and 3", "inv");
  fv = kt_int32s(dup, DIMS(3));
  expect_error(inv, &x, &fv, 1, KILN_INVALID_ARGUMENT,
               "1 is duplicated in the input.", "inv");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_gradient_descent, setup, teardown),
      cmocka_unit_test_setup_teardown(test_momentum, setup, teardown),
      cmocka_unit_test_setup_teardown(test_adam, setup, teardown),
      cmocka_unit_test_setup_teardown(test_adagrad_rmsprop, setup, teardown),
      cmocka_unit_test_setup_teardown(test_apply_scalar_errors, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_apply_shape_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_apply_uninitialized, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_broadcast_gradient_args, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_broadcast_gradient_args_errors,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_dynamic_stitch, setup, teardown),
      cmocka_unit_test_setup_teardown(test_dynamic_stitch_errors, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_activation_grads, setup, teardown),
      cmocka_unit_test_setup_teardown(test_activation_grad_errors, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_bias_add_grad, setup, teardown),
      cmocka_unit_test_setup_teardown(test_l2_loss, setup, teardown),
      cmocka_unit_test_setup_teardown(test_softmax_xent, setup, teardown),
      cmocka_unit_test_setup_teardown(test_sparse_softmax_xent, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_concat_offset, setup, teardown),
      cmocka_unit_test_setup_teardown(test_concat_offset_errors, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_invert_permutation, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
