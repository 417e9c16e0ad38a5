/*
** Session tensor handles through the public API: GetSessionHandle[V2]
** keeps a tensor in the session and names it; GetSessionTensor gives it
** back in later runs; DeleteSessionTensor lets it go. Handles are
** TensorFlow's strings "<node>;<id>;<device>", distinct per session, and
** vanish with the session.
*/
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#define KT_GRAPH_FIXTURE
#include "sessionutil.h"

#define CPU0 "/job:localhost/replica:0/task:0/device:CPU:0"

/* ------------------------------------------------------------ helpers */

static kiln_output get_handle(const char *type, const char *name, kiln_output v) {
  kiln_op_desc *d = kiln_op_desc_new(g, type, name);
  kiln_op_desc_add_input(d, v);
  kiln_output o = {kiln_op_desc_finish(d, s), 0};
  assert_ok(s);
  return o;
}

static kiln_output get_tensor(const char *name, kiln_output h, kiln_dtype dtype) {
  kiln_op_desc *d = kiln_op_desc_new(g, "GetSessionTensor", name);
  kiln_op_desc_add_input(d, h);
  kiln_op_desc_set_attr_type(d, "dtype", dtype);
  kiln_output o = {kiln_op_desc_finish(d, s), 0};
  assert_ok(s);
  return o;
}

static kiln_op *delete_tensor(const char *name, kiln_output h) {
  kiln_op_desc *d = kiln_op_desc_new(g, "DeleteSessionTensor", name);
  kiln_op_desc_add_input(d, h);
  kiln_op *op = kiln_op_desc_finish(d, s);
  assert_ok(s);
  return op;
}

static kiln_tensor *scalar_string(const char *v) {
  kiln_tensor *t = kiln_tensor_new(KILN_STRING, NULL, 0, s);
  assert_ok(s);
  kiln_tensor_set_string(t, 0, v, strlen(v), s);
  assert_ok(s);
  return t;
}

/* Fetches one handle (new string, the caller frees); fv, if any, is fed
** to *feed and freed. */
static char *fetch_handle(kiln_session *sess, kiln_output h,
                          const kiln_output *feed, kiln_tensor *fv) {
  kiln_tensor *out = NULL;
  kiln_session_run(sess, NULL, feed, fv ? &fv : NULL, fv ? 1 : 0, &h, &out, 1,
                   NULL, 0, NULL, s);
  kiln_tensor_free(fv);
  assert_ok(s);
  assert_non_null(out);
  assert_int_equal(kiln_tensor_dtype(out), KILN_STRING);
  assert_int_equal(kiln_tensor_ndims(out), 0);
  size_t len = 0;
  const char *v = kiln_tensor_string(out, 0, &len);
  char *copy = strndup(v, len);
  assert_non_null(copy);
  kiln_tensor_free(out);
  return copy;
}

/* Runs `fetch` with handle string `handle` fed to placeholder `h`;
** returns the fetched value (NULL on error, status in s). */
static kiln_tensor *with_handle(kiln_session *sess, kiln_output h,
                                const char *handle, kiln_output fetch) {
  kiln_tensor *fv = scalar_string(handle), *out = NULL;
  kiln_session_run(sess, NULL, &h, &fv, 1, &fetch, &out, 1, NULL, 0, NULL, s);
  kiln_tensor_free(fv);
  return out;
}

static void delete_handle(kiln_session *sess, kiln_output h, kiln_op *del,
                          const char *handle) {
  kiln_tensor *fv = scalar_string(handle);
  kiln_session_run(sess, NULL, &h, &fv, 1, NULL, NULL, 0, &del, 1, NULL, s);
  kiln_tensor_free(fv);
}

static kiln_output handle_ph(void) {
  kiln_output h = kiln_placeholder(g, KILN_STRING, NULL, 0, "h", s);
  assert_ok(s);
  return h;
}

/* -------------------------------------------------------------- tests */

static void t_cpu_loaded(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
}

/* A handle fetched in one run is fed back in later runs and computed
** with; the tensor stays until deleted, after which both using and
** deleting the handle again are INVALID_ARGUMENT with TensorFlow's
** messages. */
static void t_round_trip(void **state) {
  (void)state;
  const float xv[3] = {1, 2, 3};
  const int64_t dims[1] = {3};
  kiln_output x = kiln_const_floats(g, xv, dims, 1, "x", s);
  assert_ok(s);
  kiln_output keep = get_handle("GetSessionHandle", "keep", x);
  kiln_output h = handle_ph();
  kiln_output got = get_tensor("get", h, KILN_FLOAT);
  kiln_output ten = kiln_const_float(g, 10, "ten", s);
  kiln_output y = kiln_mul(g, got, ten, "y", s);
  assert_ok(s);
  kiln_op *del = delete_tensor("del", h);
  kiln_session *sess = kiln_session_new(g, NULL, s);
  assert_ok(s);

  char *handle = fetch_handle(sess, keep, NULL, NULL);
  assert_string_equal(handle, "keep;0;" CPU0);
  const float want[3] = {10, 20, 30};
  for (int i = 0; i < 2; i++) {   /* the tensor stays across runs */
    kiln_tensor *out = with_handle(sess, h, handle, y);
    assert_ok(s);
    kt_assert_floats(out, want, dims, 1);
    kiln_tensor_free(out);
  }
  kiln_tensor *raw = with_handle(sess, h, handle, got);
  assert_ok(s);
  kt_assert_floats(raw, xv, dims, 1);
  kiln_tensor_free(raw);

  delete_handle(sess, h, del, handle);
  assert_ok(s);
  kiln_tensor *out = with_handle(sess, h, handle, y);
  assert_null(out);
  assert_status(s, KILN_INVALID_ARGUMENT,
                "The tensor with handle 'keep;0;" CPU0 "' is not in the session store.");
  assert_non_null(strstr(kiln_status_message(s), "get"));
  kiln_status_reset(s);
  delete_handle(sess, h, del, handle);
  assert_status(s, KILN_INVALID_ARGUMENT,
                "Failed to delete a tensor with handle 'keep;0;" CPU0
                "' in the session store.");
  assert_non_null(strstr(kiln_status_message(s), "del"));
  kiln_status_reset(s);
  /* A handle that never was. */
  out = with_handle(sess, h, "keep;7;" CPU0, got);
  assert_null(out);
  assert_status(s, KILN_INVALID_ARGUMENT,
                "The tensor with handle 'keep;7;" CPU0 "' is not in the session store.");
  kiln_status_reset(s);
  free(handle);
  kiln_session_free(sess);
}

/* Each run of a handle node makes a new handle for its own value. */
static void t_distinct_handles(void **state) {
  (void)state;
  kiln_output x = kiln_placeholder(g, KILN_FLOAT, NULL, 0, "x", s);
  assert_ok(s);
  kiln_output keep = get_handle("GetSessionHandle", "keep", x);
  kiln_output keep2 = get_handle("GetSessionHandle", "other", x);
  kiln_output h = handle_ph();
  kiln_output got = get_tensor("get", h, KILN_FLOAT);
  kiln_session *sess = kiln_session_new(g, NULL, s);
  assert_ok(s);
  char *h0 = fetch_handle(sess, keep, &x, kt_scalar(5));
  char *h1 = fetch_handle(sess, keep, &x, kt_scalar(7));
  char *h2 = fetch_handle(sess, keep2, &x, kt_scalar(9));
  assert_string_equal(h0, "keep;0;" CPU0);
  assert_string_equal(h1, "keep;1;" CPU0);
  assert_string_equal(h2, "other;2;" CPU0);
  const char *hs[3] = {h0, h1, h2};
  const float want[3] = {5, 7, 9};
  for (int i = 0; i < 3; i++) {
    kiln_tensor *out = with_handle(sess, h, hs[i], got);
    assert_ok(s);
    assert_true(kt_scalar_of(out) == want[i]);
    kiln_tensor_free(out);
  }
  for (int i = 0; i < 3; i++) free((char *)hs[i]);
  kiln_session_free(sess);
}

/* The session keeps its own copy: a fed tensor written after the run, or
** a variable updated in place, does not change the kept value. */
static void t_value_is_kept(void **state) {
  (void)state;
  kiln_output x = kiln_placeholder(g, KILN_FLOAT, NULL, 0, "x", s);
  kiln_output v = kiln_variable(g, KILN_FLOAT, NULL, 0, "v", s);
  kiln_output init = kiln_assign(g, v, kiln_const_float(g, 1, NULL, s), "init", s);
  kiln_output bump = kiln_assign_add(g, v, kiln_const_float(g, 100, NULL, s), "bump", s);
  assert_ok(s);
  kiln_output keep_x = get_handle("GetSessionHandle", "keep_x", x);
  kiln_output keep_v = get_handle("GetSessionHandle", "keep_v", v);
  kiln_output h = handle_ph();
  kiln_output got = get_tensor("get", h, KILN_FLOAT);
  kiln_session *sess = kiln_session_new(g, NULL, s);
  assert_ok(s);

  kiln_tensor *fed = kt_scalar(3);
  kiln_tensor *out = NULL;
  kiln_session_run(sess, NULL, &x, &fed, 1, &keep_x, &out, 1, NULL, 0, NULL, s);
  assert_ok(s);
  size_t len;
  const char *hs = kiln_tensor_string(out, 0, &len);
  char *hx = strndup(hs, len);
  kiln_tensor_free(out);
  *(float *)kiln_tensor_data(fed) = -1;
  kiln_tensor_free(fed);

  kiln_op *init_op = init.op, *bump_op = bump.op;
  kiln_session_run(sess, NULL, NULL, NULL, 0, NULL, NULL, 0, &init_op, 1, NULL, s);
  assert_ok(s);
  char *hv = fetch_handle(sess, keep_v, NULL, NULL);
  kiln_session_run(sess, NULL, NULL, NULL, 0, NULL, NULL, 0, &bump_op, 1, NULL, s);
  assert_ok(s);

  out = with_handle(sess, h, hx, got);
  assert_ok(s);
  assert_true(kt_scalar_of(out) == 3);
  kiln_tensor_free(out);
  out = with_handle(sess, h, hv, got);
  assert_ok(s);
  assert_true(kt_scalar_of(out) == 1);
  kiln_tensor_free(out);
  free(hx);
  free(hv);
  kiln_session_free(sess);
}

/* Handles belong to their session: after close another session does not
** know them, and the first refuses to run. */
static void t_handles_vanish_on_close(void **state) {
  (void)state;
  kiln_output x = kiln_const_float(g, 4, "x", s);
  assert_ok(s);
  kiln_output keep = get_handle("GetSessionHandle", "keep", x);
  kiln_output h = handle_ph();
  kiln_output got = get_tensor("get", h, KILN_FLOAT);
  kiln_session *s1 = kiln_session_new(g, NULL, s);
  assert_ok(s);
  char *handle = fetch_handle(s1, keep, NULL, NULL);
  kiln_session_close(s1, s);
  assert_ok(s);
  kiln_tensor *out = with_handle(s1, h, handle, got);
  assert_null(out);
  assert_status(s, KILN_FAILED_PRECONDITION, "closed Session");
  kiln_status_reset(s);
  kiln_session_free(s1);

  kiln_session *s2 = kiln_session_new(g, NULL, s);
  assert_ok(s);
  out = with_handle(s2, h, handle, got);
  assert_null(out);
  assert_status(s, KILN_INVALID_ARGUMENT,
                "The tensor with handle 'keep;0;" CPU0 "' is not in the session store.");
  kiln_status_reset(s);
  /* Ids start again in a new session. */
  char *again = fetch_handle(s2, keep, NULL, NULL);
  assert_string_equal(again, handle);
  free(again);
  free(handle);
  kiln_session_free(s2);   /* frees the handle still kept */
}

/* GetSessionTensor's dtype must be the kept tensor's; a handle must be a
** scalar. */
static void t_bad_requests(void **state) {
  (void)state;
  kiln_output x = kiln_const_float(g, 4, "x", s);
  assert_ok(s);
  kiln_output keep = get_handle("GetSessionHandle", "keep", x);
  kiln_output h = handle_ph();
  kiln_output as_int = get_tensor("as_int", h, KILN_INT32);
  kiln_output hv = kiln_placeholder(g, KILN_STRING, NULL, -1, "hv", s);
  assert_ok(s);
  kiln_output by_vec = get_tensor("by_vec", hv, KILN_FLOAT);
  kiln_op *del_vec = delete_tensor("del_vec", hv);
  kiln_session *sess = kiln_session_new(g, NULL, s);
  assert_ok(s);
  char *handle = fetch_handle(sess, keep, NULL, NULL);
  kiln_tensor *out = with_handle(sess, h, handle, as_int);
  assert_null(out);
  assert_status(s, KILN_INVALID_ARGUMENT,
                "The tensor with handle 'keep;0;" CPU0 "' is a float tensor, but "
                "as_int asks for dtype int32");
  kiln_status_reset(s);

  int64_t two = 2;
  kiln_tensor *vec = kiln_tensor_new(KILN_STRING, &two, 1, s);
  for (int i = 0; i < 2; i++) kiln_tensor_set_string(vec, i, handle, strlen(handle), s);
  assert_ok(s);
  kiln_session_run(sess, NULL, &hv, &vec, 1, &by_vec, &out, 1, NULL, 0, NULL, s);
  assert_null(out);
  assert_status(s, KILN_INVALID_ARGUMENT, "handle must be scalar, but had rank 1");
  assert_non_null(strstr(kiln_status_message(s), "by_vec"));
  kiln_status_reset(s);
  kiln_session_run(sess, NULL, &hv, &vec, 1, NULL, NULL, 0, &del_vec, 1, NULL, s);
  assert_status(s, KILN_INVALID_ARGUMENT, "handle must be scalar, but had rank 1");
  kiln_status_reset(s);
  kiln_tensor_free(vec);
  /* The tensor is still there, whole. */
  kiln_output got = get_tensor("get", h, KILN_FLOAT);
  out = with_handle(sess, h, handle, got);
  assert_ok(s);
  assert_true(kt_scalar_of(out) == 4);
  kiln_tensor_free(out);
  free(handle);
  kiln_session_free(sess);
}

/* GetSessionHandleV2 outputs a DT_RESOURCE handle; the tensor is kept
** under the same string a V1 handle would have, for GetSessionTensor. */
static void t_handle_v2(void **state) {
  (void)state;
  const int32_t xv[2] = {6, 8};
  const int64_t dims[1] = {2};
  kiln_output x = kiln_const_int32s(g, xv, dims, 1, "x", s);
  assert_ok(s);
  kiln_output keep = get_handle("GetSessionHandleV2", "keep2", x);
  kiln_output h = handle_ph();
  kiln_output got = get_tensor("get", h, KILN_INT32);
  kiln_op *del = delete_tensor("del", h);
  kiln_session *sess = kiln_session_new(g, NULL, s);
  assert_ok(s);
  kiln_tensor *res = NULL;
  kiln_session_run(sess, NULL, NULL, NULL, 0, &keep, &res, 1, NULL, 0, NULL, s);
  assert_ok(s);
  assert_non_null(res);
  assert_int_equal(kiln_tensor_dtype(res), KILN_RESOURCE);
  assert_int_equal(kiln_tensor_ndims(res), 0);
  kiln_tensor *out = with_handle(sess, h, "keep2;0;" CPU0, got);
  assert_ok(s);
  assert_int_equal(kiln_tensor_dtype(out), KILN_INT32);
  assert_memory_equal(kiln_tensor_data(out), xv, sizeof xv);
  kiln_tensor_free(out);
  delete_handle(sess, h, del, "keep2;0;" CPU0);
  assert_ok(s);
  kiln_session_free(sess);
  kiln_tensor_free(res);   /* outlives its session harmlessly */
}

/* A handle made and used in the same step, and string tensors kept. */
static void t_same_step_and_strings(void **state) {
  (void)state;
  kiln_output x = kiln_const_string(g, "a\0b", 3, "x", s);
  assert_ok(s);
  kiln_output keep = get_handle("GetSessionHandle", "keep", x);
  kiln_output got = get_tensor("get", keep, KILN_STRING);
  kiln_session *sess = kiln_session_new(g, NULL, s);
  assert_ok(s);
  kiln_output fetch[2] = {keep, got};
  kiln_tensor *out[2] = {NULL, NULL};
  kiln_session_run(sess, NULL, NULL, NULL, 0, fetch, out, 2, NULL, 0, NULL, s);
  assert_ok(s);
  size_t len;
  const char *hs = kiln_tensor_string(out[0], 0, &len);
  assert_int_equal(len, strlen("keep;0;" CPU0));
  assert_memory_equal(hs, "keep;0;" CPU0, len);
  const char *v = kiln_tensor_string(out[1], 0, &len);
  assert_int_equal(len, 3);
  assert_memory_equal(v, "a\0b", 3);
  kiln_tensor_free(out[0]);
  kiln_tensor_free(out[1]);
  kiln_session_free(sess);
}

/* As TensorFlow, only a fetched handle keeps its tensor: one made in a
** step that does not fetch it (run as a target, or only read in the same
** step) is gone when the step ends. */
static void t_unfetched_handle_is_dropped(void **state) {
  (void)state;
  kiln_output x = kiln_const_float(g, 2.5f, "x", s);
  kiln_output keep = get_handle("GetSessionHandle", "keep", x);
  kiln_output h = handle_ph();
  kiln_output got = get_tensor("got", h, KILN_FLOAT);
  kiln_output same = get_tensor("same", keep, KILN_FLOAT);
  kiln_session *sess = kiln_session_new(g, NULL, s);
  assert_ok(s);
  kiln_session_run(sess, NULL, NULL, NULL, 0, NULL, NULL, 0, &keep.op, 1, NULL, s);
  assert_ok(s);
  kiln_tensor *out = NULL;
  kiln_session_run(sess, NULL, NULL, NULL, 0, &same, &out, 1, NULL, 0, NULL, s);
  assert_ok(s);
  assert_true(kt_scalar_of(out) == 2.5f);
  kiln_tensor_free(out);
  assert_null(with_handle(sess, h, "keep;0;" CPU0, got));
  assert_status(s, KILN_INVALID_ARGUMENT, "is not in the session store");
  assert_null(with_handle(sess, h, "keep;1;" CPU0, got));
  assert_status(s, KILN_INVALID_ARGUMENT, "is not in the session store");
  char *kept = fetch_handle(sess, keep, NULL, NULL);
  assert_string_equal(kept, "keep;2;" CPU0);
  out = with_handle(sess, h, kept, got);
  assert_ok(s);
  assert_true(kt_scalar_of(out) == 2.5f);
  kiln_tensor_free(out);
  free(kept);
  kiln_session_free(sess);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(t_cpu_loaded),
      cmocka_unit_test_setup_teardown(t_round_trip, setup, teardown),
      cmocka_unit_test_setup_teardown(t_distinct_handles, setup, teardown),
      cmocka_unit_test_setup_teardown(t_value_is_kept, setup, teardown),
      cmocka_unit_test_setup_teardown(t_handles_vanish_on_close, setup, teardown),
      cmocka_unit_test_setup_teardown(t_bad_requests, setup, teardown),
      cmocka_unit_test_setup_teardown(t_handle_v2, setup, teardown),
      cmocka_unit_test_setup_teardown(t_same_step_and_strings, setup, teardown),
      cmocka_unit_test_setup_teardown(t_unfetched_handle_is_dropped, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
