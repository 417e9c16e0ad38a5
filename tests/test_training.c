/*
** Training by gradient descent, end to end through the public API: the
** TensorFlow 1 "getting started" model y = W*x + b fitted to
** y = 0.1*x + 0.3. The graph is what tf.gradients and
** GradientDescentOptimizer.minimize emit for it, op for op: the mean's
** gradient through reduced_shape (Size, Range, FloorMod, DynamicStitch,
** Fill), _safe_shape_div (Maximum, FloorDiv) and Prod of the shapes; the
** broadcasting gradients of Add, Sub and Mul through BroadcastGradientArgs,
** Sum and Reshape; the tuple/control_dependency Identities; and one
** ApplyGradientDescent per variable under a NoOp.
*/
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#define KT_GRAPH_FIXTURE
#include "sessionutil.h"

#define N 100

/* Every builder call is checked at once, so that a failure names it. */
#define OK(expr) ok_((expr), #expr)
static kiln_output ok_(kiln_output o, const char *what) {
  if (kiln_status_code(s) != KILN_OK)
    fail_msg("%s: %s", what, kiln_status_message(s));
  return o;
}

/* `base` made unique inside the current name scope, as TensorFlow names
** ops (explicit names are used verbatim by the builders). */
static const char *nm(const char *base) {
  static char bufs[4][256];
  static int next;
  char *b = bufs[next++ % 4];
  int n = kiln_graph_unique_name(g, base, b, sizeof bufs[0], s);
  assert_ok(s);
  assert_true(n > 0 && (size_t)n < sizeof bufs[0]);
  return b;
}

static kiln_op *fin(kiln_op_desc *d) {
  kiln_op *o = kiln_op_desc_finish(d, s);
  assert_ok(s);
  return o;
}

static kiln_output node2(const char *type, const char *name, kiln_output a,
                         kiln_output b) {
  kiln_op_desc *d = kiln_op_desc_new(g, type, nm(name));
  kiln_op_desc_add_input(d, a);
  kiln_op_desc_add_input(d, b);
  return (kiln_output){fin(d), 0};
}

static kiln_output ci32(int32_t v, const char *name) {
  return OK(kiln_const_int32(g, v, nm(name), s));
}

static kiln_output ci32s(const int32_t *v, int64_t n, const char *name) {
  return OK(kiln_const_int32s(g, v, &n, 1, nm(name), s));
}

/* x // maximum(y, 1), TensorFlow's _safe_shape_div. */
static kiln_output safe_shape_div(kiln_output x, kiln_output y) {
  kiln_output one = ci32(1, "Maximum/y");
  kiln_output m = OK(kiln_maximum(g, y, one, nm("Maximum"), s));
  return node2("FloorDiv", "floordiv", x, m);
}

/* math_ops.reduced_shape(input_shape, axes): the shape with the reduced
** axes set to 1. */
static kiln_output reduced_shape(kiln_output input_shape, kiln_output axes) {
  kiln_output rank = OK(kiln_size(g, input_shape, KILN_INT32, nm("Size"), s));
  kiln_output a = OK(kiln_add(g, axes, rank, nm("add"), s));
  a = node2("FloorMod", "mod", a, rank);
  kiln_output axes_shape = OK(kiln_shape(g, a, KILN_INT32, nm("Shape_1"), s));
  kiln_output range = OK(kiln_range(g, ci32(0, "range/start"), rank,
                                    ci32(1, "range/delta"), nm("range"), s));
  kiln_output ones = OK(kiln_fill(g, axes_shape, ci32(1, "Fill/value"),
                                  nm("Fill"), s));
  kiln_op_desc *d = kiln_op_desc_new(g, "DynamicStitch", nm("DynamicStitch"));
  kiln_output ix[2] = {range, a}, data[2] = {input_shape, ones};
  kiln_op_desc_add_input_list(d, ix, 2);
  kiln_op_desc_add_input_list(d, data, 2);
  return (kiln_output){fin(d), 0};
}

/* _SumGrad's general form: reshape grad to the kept-dims shape, tile it
** back to the input's shape. */
static kiln_output sum_grad(kiln_output input, kiln_output axes,
                            kiln_output grad) {
  kiln_output input_shape =
      OK(kiln_shape(g, input, KILN_INT32, nm("Shape"), s));
  kiln_output kept = reduced_shape(input_shape, axes);
  kiln_output scaling = safe_shape_div(input_shape, kept);
  kiln_output r = OK(kiln_reshape(g, grad, kept, nm("Reshape"), s));
  return OK(kiln_tile(g, r, scaling, nm("Tile"), s));
}

/* The gradients of a broadcasting binary op for its two inputs, as
** _AddGrad/_SubGrad/_MulGrad build them, joined by tuple(): each is an
** Identity that waits for both. gx and gy are the unreduced gradients. */
static void broadcast_grads(kiln_output x, kiln_output y, kiln_output gx,
                            kiln_output gy, bool negate_y, kiln_output *dx,
                            kiln_output *dy) {
  kiln_output sx = OK(kiln_shape(g, x, KILN_INT32, nm("Shape"), s));
  kiln_output sy = OK(kiln_shape(g, y, KILN_INT32, nm("Shape_1"), s));
  kiln_op_desc *d = kiln_op_desc_new(g, "BroadcastGradientArgs",
                                     nm("BroadcastGradientArgs"));
  kiln_op_desc_add_input(d, sx);
  kiln_op_desc_add_input(d, sy);
  kiln_op *bga = fin(d);
  kiln_output rx = {bga, 0}, ry = {bga, 1};
  kiln_output a = OK(kiln_reduce_sum(g, gx, rx, false, nm("Sum"), s));
  a = OK(kiln_reshape(g, a, sx, nm("Reshape"), s));
  kiln_output b = OK(kiln_reduce_sum(g, gy, ry, false, nm("Sum_1"), s));
  if (negate_y) b = OK(kiln_neg(g, b, nm("Neg"), s));
  b = OK(kiln_reshape(g, b, sy, nm("Reshape_1"), s));
  kiln_op *deps[2] = {a.op, b.op};
  kiln_graph_push_name_scope(g, nm("tuple"), s);
  assert_ok(s);
  kiln_op *group = kiln_no_op(g, deps, 2, nm("group_deps"), s);
  assert_ok(s);
  kiln_output both[2] = {a, b}, *res[2] = {dx, dy};
  for (int i = 0; i < 2; i++) {
    d = kiln_op_desc_new(g, "Identity", nm("control_dependency"));
    kiln_op_desc_add_input(d, both[i]);
    kiln_op_desc_add_control_input(d, group);
    *res[i] = (kiln_output){fin(d), 0};
  }
  kiln_graph_pop_name_scope(g);
}

typedef struct model {
  kiln_output w, b, loss;
  kiln_op *init[2];
  kiln_op *train;
} model;

static kiln_output variable(const char *name) {
  kiln_op_desc *d = kiln_op_desc_new(g, "VariableV2", nm(name));
  int64_t one = 1;
  kiln_op_desc_set_attr_type(d, "dtype", KILN_FLOAT);
  kiln_op_desc_set_attr_shape(d, "shape", &one, 1);
  return (kiln_output){fin(d), 0};
}

static kiln_op *assign(kiln_output ref, kiln_output value, const char *name) {
  kiln_op_desc *d = kiln_op_desc_new(g, "Assign", nm(name));
  kiln_op_desc_add_input(d, ref);
  kiln_op_desc_add_input(d, value);
  return fin(d);
}

static void build(model *m) {
  float xs[N], ys[N];
  int64_t n = N, one = 1;
  for (int i = 0; i < N; i++) {
    xs[i] = (float)i / N;
    ys[i] = xs[i] * 0.1f + 0.3f;
  }
  kiln_graph_set_random_seed(g, 1234);
  kiln_output x = OK(kiln_const_floats(g, xs, &n, 1, nm("x_data"), s));
  kiln_output y = OK(kiln_const_floats(g, ys, &n, 1, nm("y_data"), s));

  /* W = tf.Variable(tf.random_uniform([1], -1.0, 1.0)); b = zeros. */
  m->w = variable("W");
  kiln_graph_push_name_scope(g, nm("random_uniform"), s);
  kiln_output r = OK(kiln_random_uniform_dims(g, &one, 1, KILN_FLOAT, 0,
                                              nm("RandomUniform"), s));
  kiln_output span = OK(kiln_const_float(g, 2, nm("sub"), s));
  r = OK(kiln_mul(g, r, span, nm("mul"), s));
  r = OK(kiln_add(g, r, OK(kiln_const_float(g, -1, nm("min"), s)), NULL, s));
  kiln_graph_pop_name_scope(g);
  m->init[0] = assign(m->w, r, "W/Assign");
  m->b = variable("b");
  const float zero = 0;
  kiln_output zeros = OK(kiln_const_floats(g, &zero, &one, 1, nm("zeros"), s));
  m->init[1] = assign(m->b, zeros, "b/Assign");

  /* y = W * x_data + b; loss = tf.reduce_mean(tf.square(y - y_data)). */
  kiln_output mul = OK(kiln_mul(g, m->w, x, nm("mul"), s));
  kiln_output add = OK(kiln_add(g, mul, m->b, nm("add"), s));
  kiln_output sub = OK(kiln_sub(g, add, y, nm("sub"), s));
  kiln_output sq = OK(kiln_square(g, sub, nm("Square"), s));
  const int32_t zero_axis = 0;
  kiln_output axes = ci32s(&zero_axis, 1, "Const");
  m->loss = OK(kiln_reduce_mean(g, sq, axes, false, nm("Mean"), s));

  kiln_graph_push_name_scope(g, nm("gradients"), s);
  kiln_output shape = OK(kiln_shape(g, m->loss, KILN_INT32, nm("Shape"), s));
  kiln_output ys0 = OK(kiln_const_float(g, 1, nm("grad_ys_0"), s));
  kiln_output grad = OK(kiln_fill(g, shape, ys0, nm("Fill"), s));

  /* _MeanGrad: the sum's gradient over the element count. */
  kiln_graph_push_name_scope(g, nm("Mean_grad"), s);
  kiln_output sg = sum_grad(sq, axes, grad);
  kiln_output in_shape = OK(kiln_shape(g, sq, KILN_INT32, nm("Shape"), s));
  kiln_output out_shape =
      OK(kiln_shape(g, m->loss, KILN_INT32, nm("Shape"), s));
  kiln_output c0 = ci32s(&zero_axis, 1, "Const");
  kiln_output c1 = ci32s(&zero_axis, 1, "Const");
  kiln_output p0 = OK(kiln_reduce_prod(g, in_shape, c0, false, nm("Prod"), s));
  kiln_output p1 = OK(kiln_reduce_prod(g, out_shape, c1, false, nm("Prod"), s));
  kiln_output y1 = ci32(1, "Maximum_1/y");
  kiln_output pm = OK(kiln_maximum(g, p1, y1, nm("Maximum"), s));
  kiln_output factor = node2("FloorDiv", "floordiv", p0, pm);
  factor = OK(kiln_cast(g, factor, KILN_FLOAT, nm("Cast"), s));
  grad = OK(kiln_real_div(g, sg, factor, nm("truediv"), s));
  kiln_graph_pop_name_scope(g);

  /* _SquareGrad: grad * (2 * x), after grad. */
  kiln_graph_push_name_scope(g, nm("Square_grad"), s);
  kiln_output two = OK(kiln_const_float(g, 2, nm("mul/x"), s));
  kiln_op_desc *d = kiln_op_desc_new(g, "Mul", nm("mul"));
  kiln_op_desc_add_input(d, two);
  kiln_op_desc_add_input(d, sub);
  kiln_op_desc_add_control_input(d, grad.op);
  kiln_output twice = {fin(d), 0};
  grad = OK(kiln_mul(g, grad, twice, nm("mul_1"), s));
  kiln_graph_pop_name_scope(g);

  kiln_output d_add, d_y, d_mul, d_b, d_w, d_x;
  kiln_graph_push_name_scope(g, nm("sub_grad"), s);
  broadcast_grads(add, y, grad, grad, true, &d_add, &d_y);
  kiln_graph_pop_name_scope(g);
  kiln_graph_push_name_scope(g, nm("add_grad"), s);
  broadcast_grads(mul, m->b, d_add, d_add, false, &d_mul, &d_b);
  kiln_graph_pop_name_scope(g);
  kiln_graph_push_name_scope(g, nm("mul_grad"), s);
  kiln_output gw = OK(kiln_mul(g, d_mul, x, nm("mul"), s));
  kiln_output gx = OK(kiln_mul(g, m->w, d_mul, nm("mul_1"), s));
  broadcast_grads(m->w, x, gw, gx, false, &d_w, &d_x);
  kiln_graph_pop_name_scope(g);
  kiln_graph_pop_name_scope(g); /* gradients */
  (void)d_y;
  (void)d_x;

  /* GradientDescentOptimizer(0.5).minimize(loss). */
  kiln_graph_push_name_scope(g, nm("GradientDescent"), s);
  kiln_output lr = OK(kiln_const_float(g, 0.5f, nm("learning_rate"), s));
  kiln_op *upd[2];
  kiln_output vars[2] = {m->w, m->b}, grads[2] = {d_w, d_b};
  for (int i = 0; i < 2; i++) {
    d = kiln_op_desc_new(g, "ApplyGradientDescent",
                         nm(i ? "update_b/ApplyGradientDescent"
                              : "update_W/ApplyGradientDescent"));
    kiln_op_desc_add_input(d, vars[i]);
    kiln_op_desc_add_input(d, lr);
    kiln_op_desc_add_input(d, grads[i]);
    kiln_op_desc_set_attr_bool(d, "use_locking", false);
    upd[i] = fin(d);
  }
  kiln_graph_pop_name_scope(g);
  m->train = kiln_no_op(g, upd, 2, nm("GradientDescent"), s);
  assert_ok(s);
}

static float fetch1(kiln_session *ss, kiln_output o) {
  kiln_tensor *t = NULL;
  kiln_session_run(ss, NULL, NULL, NULL, 0, &o, &t, 1, NULL, 0, NULL, s);
  assert_ok(s);
  assert_int_equal(kiln_tensor_num_elements(t), 1);
  float v = *(const float *)kiln_tensor_data(t);
  kiln_tensor_free(t);
  return v;
}

static void test_fit_line(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  model m;
  build(&m);
  kiln_session *ss = kiln_session_new(g, NULL, s);
  assert_ok(s);
  kiln_session_run(ss, NULL, NULL, NULL, 0, NULL, NULL, 0, m.init, 2, NULL, s);
  assert_ok(s);
  float w0 = fetch1(ss, m.w), b0 = fetch1(ss, m.b);
  assert_true(w0 >= -1 && w0 < 1);
  assert_true(b0 == 0);

  float loss[201];
  loss[0] = fetch1(ss, m.loss);
  for (int step = 1; step <= 200; step++) {
    kiln_session_run(ss, NULL, NULL, NULL, 0, NULL, NULL, 0, &m.train, 1, NULL,
                     s);
    assert_ok(s);
    loss[step] = fetch1(ss, m.loss);
    /* Both modes of this quadratic shrink every step (lr * eigenvalue < 2), so the
    ** loss falls until float rounding. */
    if (step <= 100 && !(loss[step] < loss[step - 1]))
      fail_msg("loss rose at step %d: %g after %g", step,
               (double)loss[step], (double)loss[step - 1]);
  }
  float w = fetch1(ss, m.w), b = fetch1(ss, m.b);
  if (fabsf(w - 0.1f) > 1e-3f || fabsf(b - 0.3f) > 1e-3f)
    fail_msg("W = %g, b = %g after 200 steps from W = %g", (double)w,
             (double)b, (double)w0);
  assert_true(loss[200] < loss[0] * 1e-6f);
  fprintf(stderr, "# W = %.7f, b = %.7f; loss %g -> %g\n", (double)w,
          (double)b, (double)loss[0], (double)loss[200]);
  kiln_session_free(ss);
}

/* One step by hand: the gradients the graph computes are those of the
** mean squared error, 2/N sum (W x + b - y) x and 2/N sum (W x + b - y). */
static void test_first_step(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  model m;
  build(&m);
  kiln_session *ss = kiln_session_new(g, NULL, s);
  assert_ok(s);
  kiln_session_run(ss, NULL, NULL, NULL, 0, NULL, NULL, 0, m.init, 2, NULL, s);
  assert_ok(s);
  double w0 = fetch1(ss, m.w), gw = 0, gb = 0, loss = 0;
  for (int i = 0; i < N; i++) {
    double x = (double)((float)i / N), y = (double)((float)x * 0.1f + 0.3f);
    double e = w0 * x - y;
    loss += e * e / N;
    gw += 2 * e * x / N;
    gb += 2 * e / N;
  }
  assert_true(fabs(fetch1(ss, m.loss) - loss) < 1e-5 * fmax(1, loss));
  kiln_session_run(ss, NULL, NULL, NULL, 0, NULL, NULL, 0, &m.train, 1, NULL,
                   s);
  assert_ok(s);
  assert_true(fabs(fetch1(ss, m.w) - (w0 - 0.5 * gw)) < 1e-5);
  assert_true(fabs(fetch1(ss, m.b) - (0 - 0.5 * gb)) < 1e-5);
  kiln_session_free(ss);
}

/* Only b is initialised, so that W is the one uninitialised variable the
** step can meet first, whichever branch runs first. */
static void test_train_before_init(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  model m;
  build(&m);
  kiln_session *ss = kiln_session_new(g, NULL, s);
  assert_ok(s);
  kiln_session_run(ss, NULL, NULL, NULL, 0, NULL, NULL, 0, &m.init[1], 1, NULL,
                   s);
  assert_ok(s);
  kiln_session_run(ss, NULL, NULL, NULL, 0, NULL, NULL, 0, &m.train, 1, NULL,
                   s);
  assert_status(s, KILN_FAILED_PRECONDITION,
                "Attempting to use uninitialized value W");
  kiln_status_reset(s);
  kiln_session_free(ss);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_fit_line, setup, teardown),
      cmocka_unit_test_setup_teardown(test_first_step, setup, teardown),
      cmocka_unit_test_setup_teardown(test_train_before_init, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
