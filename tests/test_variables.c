/* Variables: VariableV2 and Variable, Assign/AssignAdd/AssignSub,
** IsVariableInitialized; values that last across runs and go with close
** and reset; named containers shared between sessions; the errors each
** misuse raises. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include "sessionutil.h"

static kiln_status *S;
static int setup(void **st) { (void)st; S = kiln_status_new(); return 0; }
static int teardown(void **st) { (void)st; kiln_status_free(S); return 0; }

/* Runs targets and fetches one output (NULL fetch: none). */
static kiln_tensor *run1(kiln_session *s, kiln_output *fetch, kiln_op *target) {
  kiln_tensor *out = NULL;
  kiln_session_run(s, NULL, NULL, NULL, 0, fetch, fetch ? &out : NULL,
                   fetch ? 1 : 0, target ? &target : NULL, target ? 1 : 0, NULL, S);
  return out;
}

static const int64_t D2[] = {2};

/* A [2] float variable "w" with an Assign from [1, 2] named "init". */
static kiln_graph *var_graph(kiln_output *w, kiln_output *init) {
  kiln_graph *g = kiln_graph_new();
  *w = kiln_variable(g, KILN_FLOAT, D2, 1, "w", S);
  assert_ok(S);
  kiln_output v = kiln_const_floats(g, (const float[]){1, 2}, D2, 1, "v", S);
  *init = kiln_assign(g, *w, v, "init", S);
  assert_ok(S);
  return g;
}

static void uninitialized_is_failed_precondition(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  kiln_output w, init;
  kiln_graph *g = var_graph(&w, &init);
  kiln_output read = kiln_identity(g, w, "read", S);
  kiln_output twice = kiln_add(g, read, w, "twice", S);
  assert_ok(S);
  kiln_session *s = kiln_session_new(g, NULL, S);
  assert_null(run1(s, &w, NULL));
  assert_status(S, KILN_FAILED_PRECONDITION, "Attempting to use uninitialized value w");
  assert_null(run1(s, &twice, NULL));
  assert_status(S, KILN_FAILED_PRECONDITION, "Attempting to use uninitialized value w");
  /* The message also names the node that read it. */
  assert_non_null(strstr(kiln_status_message(S), "read"));
  kiln_session_free(s);
  kiln_graph_free(g);
}

static void values_last_across_runs(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  kiln_output w, init;
  kiln_graph *g = var_graph(&w, &init);
  kiln_output one = kiln_const_floats(g, (const float[]){10, 20}, D2, 1, "d", S);
  kiln_output add = kiln_assign_add(g, w, one, "add", S);
  kiln_output sub = kiln_assign_sub(g, w, kiln_const_floats(g, (const float[]){1, 1}, D2, 1, "e", S), "sub", S);
  kiln_output doubled = kiln_add(g, w, w, "doubled", S);
  assert_ok(S);
  kiln_session *s = kiln_session_new(g, NULL, S);
  /* Fetching Assign's output reads the variable just assigned. */
  kiln_tensor *t = run1(s, &init, NULL);
  assert_ok(S);
  kt_assert_floats(t, (const float[]){1, 2}, D2, 1);
  kiln_tensor_free(t);
  run1(s, NULL, add.op);
  assert_ok(S);
  run1(s, NULL, add.op);
  assert_ok(S);
  t = run1(s, &w, NULL);
  kt_assert_floats(t, (const float[]){21, 42}, D2, 1);
  /* The fetched value is the caller's copy: writing it changes nothing. */
  ((float *)kiln_tensor_data(t))[0] = -1;
  kiln_tensor_free(t);
  t = run1(s, &sub, NULL);
  assert_ok(S);
  kt_assert_floats(t, (const float[]){20, 41}, D2, 1);
  kiln_tensor_free(t);
  t = run1(s, &doubled, NULL);
  kt_assert_floats(t, (const float[]){40, 82}, D2, 1);
  kiln_tensor_free(t);
  kiln_session_free(s);
  kiln_graph_free(g);
}

static void is_initialized_and_pre_v2_variable(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  kiln_graph *g = kiln_graph_new();
  kiln_op_desc *d = kiln_op_desc_new(g, "Variable", "old");
  kiln_op_desc_set_attr_type(d, "dtype", KILN_INT32);
  kiln_op_desc_set_attr_shape(d, "shape", NULL, 0);
  kiln_op *old = kiln_op_desc_finish(d, S);
  assert_ok(S);
  kiln_output ref = {old, 0};
  d = kiln_op_desc_new(g, "IsVariableInitialized", "is_init");
  kiln_op_desc_add_input(d, ref);
  kiln_op_desc_set_attr_type(d, "dtype", KILN_INT32);
  kiln_output is_init = {kiln_op_desc_finish(d, S), 0};
  assert_ok(S);
  kiln_output init = kiln_assign(g, ref, kiln_const_int32(g, 7, "seven", S), "init", S);
  assert_ok(S);
  kiln_session *s = kiln_session_new(g, NULL, S);
  kiln_tensor *t = run1(s, &is_init, NULL);
  assert_ok(S);
  assert_false(*(bool *)kiln_tensor_data(t));
  kiln_tensor_free(t);
  run1(s, NULL, init.op);
  assert_ok(S);
  t = run1(s, &is_init, NULL);
  assert_true(*(bool *)kiln_tensor_data(t));
  kiln_tensor_free(t);
  t = run1(s, &ref, NULL);
  assert_int_equal(kiln_tensor_dtype(t), KILN_INT32);
  assert_int_equal(*(int32_t *)kiln_tensor_data(t), 7);
  kiln_tensor_free(t);
  kiln_session_free(s);
  kiln_graph_free(g);
}

static void assign_errors(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  kiln_output w, init;
  kiln_graph *g = var_graph(&w, &init);
  kiln_output three = kiln_const_floats(g, (const float[]){1, 2, 3}, (const int64_t[]){3}, 1, "three", S);
  kiln_output p = kiln_placeholder(g, KILN_FLOAT, NULL, -1, "p", S);
  kiln_output bad = kiln_assign(g, w, p, "bad", S);
  kiln_output add = kiln_assign_add(g, w, p, "add", S);
  assert_ok(S);
  (void)three;
  kiln_session *s = kiln_session_new(g, NULL, S);
  kiln_tensor *v3 = kt_floats((const float[]){1, 2, 3}, (const int64_t[]){3}, 1);
  /* AssignAdd needs a value to add to. */
  kiln_op *t_add = add.op;
  kiln_session_run(s, NULL, &p, &v3, 1, NULL, NULL, 0, &t_add, 1, NULL, S);
  assert_status(S, KILN_FAILED_PRECONDITION, "Attempting to use uninitialized value w");
  /* The declared shape [2] refuses a [3] value even before initialisation. */
  kiln_op *t_bad = bad.op;
  kiln_session_run(s, NULL, &p, &v3, 1, NULL, NULL, 0, &t_bad, 1, NULL, S);
  assert_status(S, KILN_INVALID_ARGUMENT, "Assign requires shapes of both tensors to match");
  assert_non_null(strstr(kiln_status_message(S), "[3]"));
  run1(s, NULL, init.op);
  assert_ok(S);
  kiln_session_run(s, NULL, &p, &v3, 1, NULL, NULL, 0, &t_bad, 1, NULL, S);
  assert_status(S, KILN_INVALID_ARGUMENT, "lhs shape= [2] rhs shape= [3]");
  kiln_session_run(s, NULL, &p, &v3, 1, NULL, NULL, 0, &t_add, 1, NULL, S);
  assert_status(S, KILN_INVALID_ARGUMENT, "Must have the same shape");
  /* Nothing half-done: the variable still holds its value. */
  kiln_tensor *t = run1(s, &w, NULL);
  kt_assert_floats(t, (const float[]){1, 2}, D2, 1);
  kiln_tensor_free(t);
  /* A value fed where a reference is needed. */
  kiln_tensor *v2 = kt_floats((const float[]){5, 5}, D2, 1);
  kiln_op *t_init = init.op;
  kiln_session_run(s, NULL, &w, &v2, 1, NULL, NULL, 0, &t_init, 1, NULL, S);
  assert_status(S, KILN_INVALID_ARGUMENT, "must be a reference to a variable");
  kiln_tensor_free(v2);
  kiln_tensor_free(v3);
  kiln_session_free(s);
  kiln_graph_free(g);
}

static void close_forgets_variables(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  kiln_output w, init;
  kiln_graph *g = var_graph(&w, &init);
  kiln_session *s1 = kiln_session_new(g, NULL, S);
  kiln_session *s2 = kiln_session_new(g, NULL, S);
  run1(s1, NULL, init.op);
  assert_ok(S);
  /* Each session has its own default container. */
  assert_null(run1(s2, &w, NULL));
  assert_status(S, KILN_FAILED_PRECONDITION, "uninitialized value w");
  kiln_session_free(s1);
  kiln_session *s3 = kiln_session_new(g, NULL, S);
  assert_null(run1(s3, &w, NULL));
  assert_status(S, KILN_FAILED_PRECONDITION, "uninitialized value w");
  kiln_session_free(s2);
  kiln_session_free(s3);
  kiln_graph_free(g);
}

/* A VariableV2 in container `c` with shared_name `shared`. */
static kiln_output shared_var(kiln_graph *g, const char *name, kiln_dtype dt,
                              const char *c, const char *shared) {
  kiln_op_desc *d = kiln_op_desc_new(g, "VariableV2", name);
  kiln_op_desc_set_attr_type(d, "dtype", dt);
  kiln_op_desc_set_attr_shape(d, "shape", NULL, 0);
  if (c) kiln_op_desc_set_attr_string(d, "container", c, strlen(c));
  if (shared) kiln_op_desc_set_attr_string(d, "shared_name", shared, strlen(shared));
  kiln_output o = {kiln_op_desc_finish(d, S), 0};
  assert_ok(S);
  return o;
}

static void named_containers_and_reset(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  kiln_graph *g = kiln_graph_new();
  kiln_output a = shared_var(g, "a", KILN_FLOAT, "box", NULL);
  kiln_output b = shared_var(g, "b", KILN_FLOAT, "box", "a");   /* a again */
  kiln_output other = shared_var(g, "o", KILN_FLOAT, "crate", NULL);
  kiln_output init_a = kiln_assign(g, a, kiln_const_float(g, 3, "three", S), "init_a", S);
  kiln_output init_o = kiln_assign(g, other, kiln_const_float(g, 4, "four", S), "init_o", S);
  kiln_output clash = shared_var(g, "clash", KILN_INT32, "box", "a");
  assert_ok(S);
  kiln_session *s1 = kiln_session_new(g, NULL, S);
  run1(s1, NULL, init_a.op);
  run1(s1, NULL, init_o.op);
  assert_ok(S);
  /* Another session sees the shared containers; b is a by shared_name. */
  kiln_session *s2 = kiln_session_new(g, NULL, S);
  kiln_tensor *t = run1(s2, &b, NULL);
  assert_ok(S);
  assert_true(kt_scalar_of(t) == 3.0f);
  kiln_tensor_free(t);
  assert_null(run1(s2, &clash, NULL));
  assert_status(S, KILN_INVALID_ARGUMENT,
                "Trying to share variable a, but specified dtype int32 and found dtype float");
  /* Closing a session leaves the named containers alone. */
  kiln_session_free(s2);
  /* Reset of "box" closes the sessions and clears box, not crate. */
  const char *box[] = {"box"};
  kiln_session_reset("", box, 1, NULL, S);
  assert_ok(S);
  assert_null(run1(s1, &a, NULL));
  assert_status(S, KILN_FAILED_PRECONDITION, "Session has been closed");
  kiln_session *s3 = kiln_session_new(g, NULL, S);
  assert_null(run1(s3, &a, NULL));
  assert_status(S, KILN_FAILED_PRECONDITION, "Attempting to use uninitialized value a");
  t = run1(s3, &other, NULL);
  assert_ok(S);
  assert_true(kt_scalar_of(t) == 4.0f);
  kiln_tensor_free(t);
  /* Reset without containers clears them all. */
  kiln_session_reset("", NULL, 0, NULL, S);
  assert_ok(S);
  kiln_session *s4 = kiln_session_new(g, NULL, S);
  assert_null(run1(s4, &other, NULL));
  assert_status(S, KILN_FAILED_PRECONDITION, "Attempting to use uninitialized value o");
  kiln_session_free(s1);
  kiln_session_free(s3);
  kiln_session_free(s4);
  kiln_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(uninitialized_is_failed_precondition),
      cmocka_unit_test(values_last_across_runs),
      cmocka_unit_test(is_initialized_and_pre_v2_variable),
      cmocka_unit_test(assign_errors),
      cmocka_unit_test(close_forgets_variables),
      cmocka_unit_test(named_containers_and_reset),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
