/* FIFO queues: order, tuples, the many-forms; waiting dequeues and
** enqueues that hold no thread; close (OUT_OF_RANGE, ABORTED, CANCELLED),
** session close while a step waits, and deadlines. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "sessionutil.h"

static kiln_status *S;
static int setup(void **st) { (void)st; S = kiln_status_new(); return 0; }
static int teardown(void **st) { (void)st; kiln_status_free(S); return 0; }

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A queue of float components, each of shape `dims` (ndims -1: no shapes). */
static kiln_output fifo(kiln_graph *g, const char *name, int ncomp,
                        const int64_t *dims, int ndims, int64_t capacity) {
  kiln_op_desc *d = kiln_op_desc_new(g, "FIFOQueueV2", name);
  kiln_dtype types[4] = {KILN_FLOAT, KILN_FLOAT, KILN_FLOAT, KILN_FLOAT};
  kiln_op_desc_set_attr_type_list(d, "component_types", types, ncomp);
  if (ndims >= 0) {
    const int64_t *dl[4] = {dims, dims, dims, dims};
    int nd[4] = {ndims, ndims, ndims, ndims};
    kiln_op_desc_set_attr_shape_list(d, "shapes", dl, nd, ncomp);
  }
  kiln_op_desc_set_attr_int(d, "capacity", capacity);
  kiln_output q = {kiln_op_desc_finish(d, S), 0};
  assert_ok(S);
  return q;
}

static kiln_op *enqueue(kiln_graph *g, const char *type, const char *name,
                        kiln_output q, const kiln_output *comps, int n) {
  kiln_op_desc *d = kiln_op_desc_new(g, type, name);
  kiln_op_desc_add_input(d, q);
  kiln_op_desc_add_input_list(d, comps, n);
  kiln_op *op = kiln_op_desc_finish(d, S);
  assert_ok(S);
  return op;
}

static kiln_op *dequeue(kiln_graph *g, const char *name, kiln_output q, int ncomp,
                        const kiln_output *n) {
  kiln_op_desc *d = kiln_op_desc_new(g, n ? "QueueDequeueManyV2" : "QueueDequeueV2", name);
  kiln_op_desc_add_input(d, q);
  if (n) kiln_op_desc_add_input(d, *n);
  kiln_dtype types[4] = {KILN_FLOAT, KILN_FLOAT, KILN_FLOAT, KILN_FLOAT};
  kiln_op_desc_set_attr_type_list(d, "component_types", types, ncomp);
  kiln_op *op = kiln_op_desc_finish(d, S);
  assert_ok(S);
  return op;
}

static kiln_op *unary_q(kiln_graph *g, const char *type, const char *name,
                        kiln_output q, bool cancel) {
  kiln_op_desc *d = kiln_op_desc_new(g, type, name);
  kiln_op_desc_add_input(d, q);
  if (cancel) kiln_op_desc_set_attr_bool(d, "cancel_pending_enqueues", true);
  kiln_op *op = kiln_op_desc_finish(d, S);
  assert_ok(S);
  return op;
}

/* The graph most tests use: queue q of scalar floats (capacity cap),
** enqueue of placeholder x, dequeue, close, size. */
typedef struct qg {
  kiln_graph *g;
  kiln_output q, x, deq, size;
  kiln_op *enq, *close, *close_cancel;
} qg;

static qg make_qg(int64_t cap) {
  qg r;
  r.g = kiln_graph_new();
  r.q = fifo(r.g, "q", 1, NULL, 0, cap);
  r.x = kiln_placeholder(r.g, KILN_FLOAT, NULL, 0, "x", S);
  r.enq = enqueue(r.g, "QueueEnqueueV2", "enq", r.q, &r.x, 1);
  r.deq = (kiln_output){dequeue(r.g, "deq", r.q, 1, NULL), 0};
  r.close = unary_q(r.g, "QueueCloseV2", "close", r.q, false);
  r.close_cancel = unary_q(r.g, "QueueCloseV2", "close_cancel", r.q, true);
  r.size = (kiln_output){unary_q(r.g, "QueueSizeV2", "size", r.q, false), 0};
  return r;
}

static void put(kiln_session *s, qg *r, float v, kiln_status *st) {
  kiln_tensor *t = kt_scalar(v);
  kiln_session_run(s, NULL, &r->x, &t, 1, NULL, NULL, 0, &r->enq, 1, NULL, st);
  kiln_tensor_free(t);
}

static float take(kiln_session *s, qg *r) {
  kiln_tensor *t = NULL;
  kiln_session_run(s, NULL, NULL, NULL, 0, &r->deq, &t, 1, NULL, 0, NULL, S);
  assert_ok(S);
  float v = kt_scalar_of(t);
  kiln_tensor_free(t);
  return v;
}

static int32_t size_of(kiln_session *s, qg *r) {
  kiln_tensor *t = NULL;
  kiln_session_run(s, NULL, NULL, NULL, 0, &r->size, &t, 1, NULL, 0, NULL, S);
  assert_ok(S);
  int32_t n = *(int32_t *)kiln_tensor_data(t);
  kiln_tensor_free(t);
  return n;
}

static void fifo_order_and_size(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  qg r = make_qg(-1);
  kiln_session *s = kiln_session_new(r.g, NULL, S);
  assert_int_equal(size_of(s, &r), 0);
  for (int i = 0; i < 5; i++) {
    put(s, &r, (float)i, S);
    assert_ok(S);
  }
  assert_int_equal(size_of(s, &r), 5);
  for (int i = 0; i < 5; i++) assert_true(take(s, &r) == (float)i);
  assert_int_equal(size_of(s, &r), 0);
  kiln_session_free(s);
  kiln_graph_free(r.g);
}

static void many_forms_and_tuples(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  kiln_graph *g = kiln_graph_new();
  const int64_t d2[] = {2};
  kiln_output q = fifo(g, "q", 2, d2, 1, -1);
  const int64_t d32[] = {3, 2};
  kiln_output a = kiln_const_floats(g, (const float[]){1, 2, 3, 4, 5, 6}, d32, 2, "a", S);
  kiln_output b = kiln_const_floats(g, (const float[]){10, 20, 30, 40, 50, 60}, d32, 2, "b", S);
  kiln_op *enq = enqueue(g, "QueueEnqueueManyV2", "enq", q, (kiln_output[]){a, b}, 2);
  kiln_output two = kiln_const_int32(g, 2, "two", S);
  kiln_output zero = kiln_const_int32(g, 0, "zero", S);
  /* A constant negative count is refused when the graph is built... */
  kiln_output minus = kiln_const_int32(g, -1, "minus", S);
  kiln_op_desc *bd = kiln_op_desc_new(g, "QueueDequeueManyV2", "bad");
  kiln_op_desc_add_input(bd, q);
  kiln_op_desc_add_input(bd, minus);
  kiln_op_desc_set_attr_type_list(bd, "component_types", (kiln_dtype[]){KILN_FLOAT, KILN_FLOAT}, 2);
  assert_null(kiln_op_desc_finish(bd, S));
  assert_status(S, KILN_INVALID_ARGUMENT, "Dequeue count n must be >= 0, but is -1");
  /* ... a fed one when the step runs. */
  kiln_output nfeed = kiln_placeholder(g, KILN_INT32, NULL, 0, "n", S);
  kiln_op *deq2 = dequeue(g, "deq2", q, 2, &two);
  kiln_op *deq0 = dequeue(g, "deq0", q, 2, &zero);
  kiln_op *deqm = dequeue(g, "deqm", q, 2, &nfeed);
  kiln_op *deq1 = dequeue(g, "deq1", q, 2, NULL);
  assert_ok(S);
  kiln_session *s = kiln_session_new(g, NULL, S);
  kiln_session_run(s, NULL, NULL, NULL, 0, NULL, NULL, 0, &enq, 1, NULL, S);
  assert_ok(S);
  kiln_output f2[] = {{deq2, 0}, {deq2, 1}};
  kiln_tensor *out[2] = {NULL, NULL};
  kiln_session_run(s, NULL, NULL, NULL, 0, f2, out, 2, NULL, 0, NULL, S);
  assert_ok(S);
  const int64_t d22[] = {2, 2};
  kt_assert_floats(out[0], (const float[]){1, 2, 3, 4}, d22, 2);
  kt_assert_floats(out[1], (const float[]){10, 20, 30, 40}, d22, 2);
  kiln_tensor_free(out[0]);
  kiln_tensor_free(out[1]);
  kiln_output f0[] = {{deq0, 0}, {deq0, 1}};
  kiln_session_run(s, NULL, NULL, NULL, 0, f0, out, 2, NULL, 0, NULL, S);
  assert_ok(S);
  assert_int_equal(kiln_tensor_dim(out[0], 0), 0);
  assert_int_equal(kiln_tensor_dim(out[0], 1), 2);
  kiln_tensor_free(out[0]);
  kiln_tensor_free(out[1]);
  kiln_output fm = {deqm, 0};
  kiln_tensor *m1 = kt_int32s((const int32_t[]){-1}, NULL, 0);
  kiln_session_run(s, NULL, &nfeed, &m1, 1, &fm, out, 1, NULL, 0, NULL, S);
  assert_status(S, KILN_INVALID_ARGUMENT, "requested -1 < 0 elements");
  kiln_tensor_free(m1);
  kiln_output f1[] = {{deq1, 0}, {deq1, 1}};
  kiln_session_run(s, NULL, NULL, NULL, 0, f1, out, 2, NULL, 0, NULL, S);
  assert_ok(S);
  kt_assert_floats(out[0], (const float[]){5, 6}, d2, 1);
  kt_assert_floats(out[1], (const float[]){50, 60}, d2, 1);
  kiln_tensor_free(out[0]);
  kiln_tensor_free(out[1]);
  kiln_session_free(s);
  kiln_graph_free(g);
}

static void bad_elements(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  kiln_graph *g = kiln_graph_new();
  const int64_t d2[] = {2};
  kiln_output q = fifo(g, "q", 1, d2, 1, -1);
  kiln_output loose = fifo(g, "loose", 1, NULL, -1, -1);
  kiln_output three = kiln_const_floats(g, (const float[]){1, 2, 3}, (const int64_t[]){3}, 1, "three", S);
  kiln_output i = kiln_const_int32(g, 1, "i", S);
  kiln_op *wrong_shape = enqueue(g, "QueueEnqueueV2", "ws", q, &three, 1);
  kiln_op *wrong_type = enqueue(g, "QueueEnqueueV2", "wt", q, &i, 1);
  kiln_op *scalar_many = enqueue(g, "QueueEnqueueManyV2", "sm", q,
                                 (kiln_output[]){kiln_const_float(g, 1, "one", S)}, 1);
  kiln_output two = kiln_const_int32(g, 2, "two", S);
  kiln_output many_loose = {dequeue(g, "ml", loose, 1, &two), 0};
  assert_ok(S);
  kiln_session *s = kiln_session_new(g, NULL, S);
  kiln_session_run(s, NULL, NULL, NULL, 0, NULL, NULL, 0, &wrong_shape, 1, NULL, S);
  assert_status(S, KILN_INVALID_ARGUMENT,
                "Shape mismatch in tuple component 0. Expected [2], got [3]");
  kiln_session_run(s, NULL, NULL, NULL, 0, NULL, NULL, 0, &wrong_type, 1, NULL, S);
  assert_status(S, KILN_INVALID_ARGUMENT,
                "Type mismatch in tuple component 0. Expected float, got int32");
  kiln_session_run(s, NULL, NULL, NULL, 0, NULL, NULL, 0, &scalar_many, 1, NULL, S);
  assert_status(S, KILN_INVALID_ARGUMENT, "rank at least 1");
  kiln_tensor *out = NULL;
  kiln_session_run(s, NULL, NULL, NULL, 0, &many_loose, &out, 1, NULL, 0, NULL, S);
  assert_status(S, KILN_INVALID_ARGUMENT, "require the components to have specified shapes");
  assert_null(out);
  kiln_session_free(s);
  kiln_graph_free(g);
}

typedef struct taker {
  kiln_session *s;
  qg *r;
  kiln_code code;
  char msg[512];
  float got;
  double seconds;
} taker;

static void *take_thread(void *arg) {
  taker *t = arg;
  kiln_status *st = kiln_status_new();
  kiln_tensor *out = NULL;
  double t0 = now_s();
  kiln_session_run(t->s, NULL, NULL, NULL, 0, &t->r->deq, &out, 1, NULL, 0, NULL, st);
  t->seconds = now_s() - t0;
  t->code = kiln_status_code(st);
  snprintf(t->msg, sizeof t->msg, "%s", kiln_status_message(st));
  if (out) t->got = *(float *)kiln_tensor_data(out);
  kiln_tensor_free(out);
  kiln_status_free(st);
  return NULL;
}

static kiln_session *one_thread_session(kiln_graph *g) {
  kiln_config *c = kiln_config_new();
  kiln_config_set_inter_op_threads(c, 1);
  kiln_session_options *o = kiln_session_options_new();
  kiln_session_options_set_config(o, c);
  kiln_session *s = kiln_session_new(g, o, S);
  assert_ok(S);
  kiln_session_options_free(o);
  kiln_config_free(c);
  return s;
}

static void waiting_dequeue_is_served(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  qg r = make_qg(-1);
  /* One inter-op thread: a waiting dequeue must not take it. */
  kiln_session *s = one_thread_session(r.g);
  taker t = {s, &r, KILN_OK, "", 0, 0};
  pthread_t th;
  pthread_create(&th, NULL, take_thread, &t);
  usleep(100 * 1000);
  assert_int_equal(size_of(s, &r), 0);
  put(s, &r, 42, S);
  assert_ok(S);
  pthread_join(th, NULL);
  assert_int_equal(t.code, KILN_OK);
  assert_true(t.got == 42.0f);
  kiln_session_free(s);
  kiln_graph_free(r.g);
}

static void one_step_dequeues_and_enqueues(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  /* Both in one step: whichever runs first, the dequeue parks and the
  ** enqueue of the same step serves it. */
  qg r = make_qg(-1);
  kiln_session *s = one_thread_session(r.g);
  kiln_tensor *v = kt_scalar(7), *out = NULL;
  kiln_session_run(s, NULL, &r.x, &v, 1, &r.deq, &out, 1, &r.enq, 1, NULL, S);
  assert_ok(S);
  assert_true(kt_scalar_of(out) == 7.0f);
  kiln_tensor_free(out);
  kiln_tensor_free(v);
  kiln_session_free(s);
  kiln_graph_free(r.g);
}

static void partial_run_with_queue(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  qg r = make_qg(-1);
  kiln_session *s = one_thread_session(r.g);
  kiln_output fetches[] = {r.size, r.deq};
  const char *h = kiln_session_prun_setup(s, &r.x, 1, fetches, 2, &r.enq, 1, S);
  assert_ok(S);
  kiln_tensor *v = kt_scalar(8), *out = NULL;
  kiln_session_prun(s, h, &r.x, &v, 1, &r.size, &out, 1, S);
  assert_ok(S);
  assert_int_equal(*(int32_t *)kiln_tensor_data(out), 0);
  kiln_tensor_free(out);
  /* The last call runs the rest: the dequeue waits for the enqueue. */
  kiln_session_prun(s, h, NULL, NULL, 0, &r.deq, &out, 1, S);
  assert_ok(S);
  assert_true(kt_scalar_of(out) == 8.0f);
  kiln_tensor_free(out);
  kiln_tensor_free(v);
  kiln_session_prun_release(s, h);
  kiln_session_free(s);
  kiln_graph_free(r.g);
}

static void close_ends_waiting_and_later_dequeues(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  qg r = make_qg(-1);
  kiln_session *s = kiln_session_new(r.g, NULL, S);
  put(s, &r, 1, S);
  taker t = {s, &r, KILN_OK, "", 0, 0};
  assert_true(take(s, &r) == 1.0f);
  pthread_t th;
  pthread_create(&th, NULL, take_thread, &t);
  usleep(100 * 1000);
  kiln_session_run(s, NULL, NULL, NULL, 0, NULL, NULL, 0, &r.close, 1, NULL, S);
  assert_ok(S);
  pthread_join(th, NULL);
  assert_int_equal(t.code, KILN_OUT_OF_RANGE);
  assert_non_null(strstr(t.msg, "FIFOQueue 'q' is closed and has insufficient elements "
                                "(requested 1, current size 0)"));
  kiln_tensor *out = NULL;
  kiln_session_run(s, NULL, NULL, NULL, 0, &r.deq, &out, 1, NULL, 0, NULL, S);
  assert_status(S, KILN_OUT_OF_RANGE, "is closed and has insufficient elements");
  put(s, &r, 2, S);
  assert_status(S, KILN_ABORTED, "FIFOQueue 'q' is closed.");
  kiln_session_free(s);
  kiln_graph_free(r.g);
}

typedef struct putter {
  kiln_session *s;
  qg *r;
  kiln_code code;
  char msg[512];
} putter;

static void *put_thread(void *arg) {
  putter *p = arg;
  kiln_status *st = kiln_status_new();
  put(p->s, p->r, 9, st);
  p->code = kiln_status_code(st);
  snprintf(p->msg, sizeof p->msg, "%s", kiln_status_message(st));
  kiln_status_free(st);
  return NULL;
}

static void full_queue_and_cancelled_enqueue(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  qg r = make_qg(1);
  kiln_session *s = kiln_session_new(r.g, NULL, S);
  put(s, &r, 1, S);
  assert_ok(S);
  /* Full: the next enqueue waits until a dequeue makes room. */
  putter p = {s, &r, KILN_UNKNOWN, ""};
  pthread_t th;
  pthread_create(&th, NULL, put_thread, &p);
  usleep(100 * 1000);
  assert_int_equal(size_of(s, &r), 1);
  assert_true(take(s, &r) == 1.0f);
  pthread_join(th, NULL);
  assert_int_equal(p.code, KILN_OK);
  assert_int_equal(size_of(s, &r), 1);
  /* Another waits; closing with cancel_pending_enqueues cancels it. */
  p.code = KILN_UNKNOWN;
  pthread_create(&th, NULL, put_thread, &p);
  usleep(100 * 1000);
  kiln_session_run(s, NULL, NULL, NULL, 0, NULL, NULL, 0, &r.close_cancel, 1, NULL, S);
  assert_ok(S);
  pthread_join(th, NULL);
  assert_int_equal(p.code, KILN_CANCELLED);
  assert_non_null(strstr(p.msg, "Enqueue operation was cancelled"));
  /* What was in the queue before close can still be dequeued. */
  assert_true(take(s, &r) == 9.0f);
  kiln_session_free(s);
  kiln_graph_free(r.g);
}

static void session_close_cancels_waiting_step(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  qg r = make_qg(-1);
  kiln_session *s = kiln_session_new(r.g, NULL, S);
  taker t = {s, &r, KILN_OK, "", 0, 0};
  pthread_t th;
  pthread_create(&th, NULL, take_thread, &t);
  usleep(200 * 1000);
  double t0 = now_s();
  kiln_session_close(s, S);
  assert_ok(S);
  pthread_join(th, NULL);
  double waited = now_s() - t0;
  assert_int_equal(t.code, KILN_CANCELLED);
  assert_non_null(strstr(t.msg, "the session was closed"));
  if (waited >= 1.0) fail_msg("the cancelled step took %.3f s to end", waited);
  kiln_session_free(s);
  kiln_graph_free(r.g);
}

static void deadlines(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  qg r = make_qg(-1);
  kiln_session *s = kiln_session_new(r.g, NULL, S);
  kiln_run_options *o = kiln_run_options_new();
  kiln_run_options_set_timeout_ms(o, 100);
  kiln_tensor *out = NULL;
  double t0 = now_s();
  kiln_session_run(s, o, NULL, NULL, 0, &r.deq, &out, 1, NULL, 0, NULL, S);
  double waited = now_s() - t0;
  assert_status(S, KILN_DEADLINE_EXCEEDED, "Timed out after 100 ms waiting for node 'deq'");
  assert_null(out);
  assert_true(waited >= 0.09 && waited < 2.0);
  kiln_run_options_free(o);
  /* The step left nothing behind: the queue still works. */
  put(s, &r, 3, S);
  assert_true(take(s, &r) == 3.0f);
  kiln_session_free(s);
  /* The session's operation_timeout_in_ms does the same. */
  kiln_config *c = kiln_config_new();
  kiln_config_set_operation_timeout_ms(c, 50);
  kiln_session_options *so = kiln_session_options_new();
  kiln_session_options_set_config(so, c);
  s = kiln_session_new(r.g, so, S);
  kiln_session_run(s, NULL, NULL, NULL, 0, &r.deq, &out, 1, NULL, 0, NULL, S);
  assert_status(S, KILN_DEADLINE_EXCEEDED, "Timed out after 50 ms");
  kiln_session_free(s);
  kiln_session_options_free(so);
  kiln_config_free(c);
  kiln_graph_free(r.g);
}

/* Two dequeues of one step on one queue holding one element, with either
** created first: the DequeueMany(2) waits (and the single one took the
** element, or waits behind it); the deadline withdraws whatever waits,
** nothing hangs, and the queue goes on working. */
static void deadline_with_two_waiters(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  kiln_graph *g = kiln_graph_new();
  kiln_output q = fifo(g, "q", 1, NULL, 0, -1);
  kiln_output one = kiln_const_float(g, 1, "one", S);
  kiln_op *enq = enqueue(g, "QueueEnqueueV2", "enq", q, &one, 1);
  kiln_output two = kiln_const_int32(g, 2, "two", S);
  /* Both orders of the two in the plan. */
  kiln_output fetch[4];
  fetch[0] = (kiln_output){dequeue(g, "many", q, 1, &two), 0};
  fetch[1] = (kiln_output){dequeue(g, "single", q, 1, NULL), 0};
  fetch[3] = (kiln_output){dequeue(g, "single2", q, 1, NULL), 0};
  fetch[2] = (kiln_output){dequeue(g, "many2", q, 1, &two), 0};
  kiln_output size = {unary_q(g, "QueueSizeV2", "size", q, false), 0};
  kiln_session *s = kiln_session_new(g, NULL, S);
  kiln_run_options *o = kiln_run_options_new();
  kiln_run_options_set_timeout_ms(o, 150);
  for (int round = 0; round < 4; round++) {
    kiln_session_run(s, NULL, NULL, NULL, 0, NULL, NULL, 0, &enq, 1, NULL, S);
    assert_ok(S);
    kiln_tensor *out[2] = {NULL, NULL};
    kiln_session_run(s, o, NULL, NULL, 0, fetch + 2 * (round % 2), out, 2, NULL, 0, NULL, S);
    assert_status(S, KILN_DEADLINE_EXCEEDED, "Timed out after 150 ms");
    assert_null(out[0]);
    assert_null(out[1]);
    kiln_tensor *n = NULL;
    kiln_session_run(s, NULL, NULL, NULL, 0, &size, &n, 1, NULL, 0, NULL, S);
    assert_ok(S);
    int32_t left = *(int32_t *)kiln_tensor_data(n);
    kiln_tensor_free(n);
    assert_true(left == 0 || left == 1);
    for (; left > 0; left--) {
      kiln_session_run(s, NULL, NULL, NULL, 0, &fetch[1], &n, 1, NULL, 0, NULL, S);
      assert_ok(S);
      kiln_tensor_free(n);
    }
  }
  kiln_run_options_free(o);
  kiln_session_free(s);
  kiln_graph_free(g);
}

/* A handle fed to a queue op must be a queue's: a reader's handle is
** refused, and a tensor of another dtype cannot be fed for one. */
static void handle_of_another_kind(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  kiln_graph *g = kiln_graph_new();
  kiln_op_desc *d = kiln_op_desc_new(g, "WholeFileReaderV2", "reader");
  kiln_output reader = {kiln_op_desc_finish(d, S), 0};
  kiln_output h = kiln_placeholder(g, KILN_RESOURCE, NULL, 0, "h", S);
  kiln_output size = {unary_q(g, "QueueSizeV2", "size", h, false), 0};
  assert_ok(S);
  kiln_session *s = kiln_session_new(g, NULL, S);
  kiln_tensor *rh = NULL, *out = NULL;
  kiln_session_run(s, NULL, NULL, NULL, 0, &reader, &rh, 1, NULL, 0, NULL, S);
  assert_ok(S);
  assert_int_equal(kiln_tensor_dtype(rh), KILN_RESOURCE);
  kiln_session_run(s, NULL, &h, &rh, 1, &size, &out, 1, NULL, 0, NULL, S);
  assert_status(S, KILN_INVALID_ARGUMENT, "input 0 is a handle to a resource that is not a queue");
  assert_null(out);
  kiln_tensor *f = kt_scalar(1);
  kiln_session_run(s, NULL, &h, &f, 1, &size, &out, 1, NULL, 0, NULL, S);
  assert_status(S, KILN_INVALID_ARGUMENT, "Cannot feed value of dtype float");
  kiln_tensor_free(f);
  kiln_tensor_free(rh);
  kiln_session_free(s);
  kiln_graph_free(g);
}

static void shared_queue_between_sessions(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  kiln_graph *g = kiln_graph_new();
  kiln_op_desc *d = kiln_op_desc_new(g, "FIFOQueueV2", "q");
  kiln_dtype f = KILN_FLOAT;
  kiln_op_desc_set_attr_type_list(d, "component_types", &f, 1);
  kiln_op_desc_set_attr_string(d, "container", "jobs", 4);
  kiln_op_desc_set_attr_string(d, "shared_name", "work", 4);
  kiln_output q = {kiln_op_desc_finish(d, S), 0};
  d = kiln_op_desc_new(g, "FIFOQueueV2", "q2");
  kiln_op_desc_set_attr_type_list(d, "component_types", &f, 1);
  kiln_op_desc_set_attr_int(d, "capacity", 3);
  kiln_op_desc_set_attr_string(d, "container", "jobs", 4);
  kiln_op_desc_set_attr_string(d, "shared_name", "work", 4);
  kiln_output q2 = {kiln_op_desc_finish(d, S), 0};
  assert_ok(S);
  kiln_output one = kiln_const_float(g, 5, "five", S);
  kiln_op *enq = enqueue(g, "QueueEnqueueV2", "enq", q, &one, 1);
  kiln_output deq = {dequeue(g, "deq", q, 1, NULL), 0};
  kiln_output size2 = {unary_q(g, "QueueSizeV2", "size2", q2, false), 0};
  kiln_session *a = kiln_session_new(g, NULL, S);
  kiln_session *b = kiln_session_new(g, NULL, S);
  kiln_session_run(a, NULL, NULL, NULL, 0, NULL, NULL, 0, &enq, 1, NULL, S);
  assert_ok(S);
  kiln_tensor *out = NULL;
  kiln_session_run(b, NULL, NULL, NULL, 0, &deq, &out, 1, NULL, 0, NULL, S);
  assert_ok(S);
  assert_true(kt_scalar_of(out) == 5.0f);
  kiln_tensor_free(out);
  kiln_session_run(b, NULL, NULL, NULL, 0, &size2, &out, 1, NULL, 0, NULL, S);
  assert_status(S, KILN_INVALID_ARGUMENT, "Shared queue 'work' has capacity -1 but "
                                          "requested capacity was 3");
  kiln_session_free(a);
  kiln_session_free(b);
  kiln_session_reset("", NULL, 0, NULL, S);
  kiln_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(fifo_order_and_size),
      cmocka_unit_test(many_forms_and_tuples),
      cmocka_unit_test(bad_elements),
      cmocka_unit_test(waiting_dequeue_is_served),
      cmocka_unit_test(one_step_dequeues_and_enqueues),
      cmocka_unit_test(partial_run_with_queue),
      cmocka_unit_test(close_ends_waiting_and_later_dequeues),
      cmocka_unit_test(full_queue_and_cancelled_enqueue),
      cmocka_unit_test(session_close_cancels_waiting_step),
      cmocka_unit_test(deadlines),
      cmocka_unit_test(deadline_with_two_waiters),
      cmocka_unit_test(handle_of_another_kind),
      cmocka_unit_test(shared_queue_between_sessions),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
