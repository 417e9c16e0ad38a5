/*
** Readers end to end through the public API: WholeFileReaderV2 and
** TFRecordReaderV2 with ReaderReadV2, ReaderReadUpToV2, the counters and
** ReaderResetV2, over a FIFOQueueV2 of file names.
**
** Every error is raised by its real situation in a private temporary
** directory: a missing file, a directory, a file the user may not read
** (as the user "nobody" when the suite runs as root: the effective uid of
** the whole process is switched around the one step), a file that shrinks
** between the size check and the read (held there by a write lease), a
** drained and closed queue, and queues of the wrong kind. A read on an
** empty queue waits, without a thread, until another step enqueues a name
** or the session closes.
**
** TFRecord files are written here, their checksums by a bitwise CRC-32C
** independent of the reader's table (and checked against the standard
** check value), then cut short or altered byte by byte.
*/
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "sessionutil.h"
#include "fileutil.h"

static kiln_graph *g;
static kiln_status *s;
static char tmp[1024];

static int setup(void **state) {
  (void)state;
  if (!kt_tmpdir_make(tmp, sizeof tmp, "readers")) return -1;
  g = kiln_graph_new();
  s = kiln_status_new();
  return g && s ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  kt_tmpdir_remove(tmp);
  kiln_graph_free(g);
  kiln_status_free(s);
  return 0;
}

/* ------------------------------------------------------------ helpers */

static const char *path_in(const char *name) {
  static char buf[8][1536];
  static int next;
  char *p = buf[next++ % 8];
  snprintf(p, sizeof buf[0], "%s/%.500s", tmp, name);
  return p;
}

static void put_file(const char *path, const void *data, size_t len) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, len, f), len);
  assert_int_equal(fclose(f), 0);
}

/* A string vector Const of the given names. */
static kiln_output names_const(const char *const *v, int n) {
  int64_t dim = n;
  kiln_tensor *t = kiln_tensor_new(KILN_STRING, &dim, 1, s);
  assert_ok(s);
  for (int i = 0; i < n; i++) {
    kiln_tensor_set_string(t, i, v[i], strlen(v[i]), s);
    assert_ok(s);
  }
  kiln_output o = kiln_const(g, t, NULL, s);
  assert_ok(s);
  kiln_tensor_free(t);
  return o;
}

static kiln_tensor *scalar_string(const char *v) {
  kiln_tensor *t = kiln_tensor_new(KILN_STRING, NULL, 0, s);
  assert_ok(s);
  kiln_tensor_set_string(t, 0, v, strlen(v), s);
  assert_ok(s);
  return t;
}

/* FIFOQueueV2 of the given component types (one shape [] each when
** `scalar_shapes`). */
static kiln_output fifo(const char *name, const kiln_dtype *types, int n,
                        bool scalar_shapes, const char *shared_name) {
  kiln_op_desc *d = kiln_op_desc_new(g, "FIFOQueueV2", name);
  kiln_op_desc_set_attr_type_list(d, "component_types", types, n);
  if (scalar_shapes) {
    const int64_t *dims[4] = {NULL, NULL, NULL, NULL};
    int nd[4] = {0, 0, 0, 0};
    kiln_op_desc_set_attr_shape_list(d, "shapes", dims, nd, n);
  }
  if (shared_name) kiln_op_desc_set_attr_string(d, "shared_name", shared_name,
                                                strlen(shared_name));
  kiln_output o = {kiln_op_desc_finish(d, s), 0};
  assert_ok(s);
  return o;
}

static kiln_output string_queue(const char *name) {
  const kiln_dtype t = KILN_STRING;
  return fifo(name, &t, 1, true, NULL);
}

static kiln_op *queue_op(const char *type, const char *name, kiln_output q,
                         const kiln_output *in, int n) {
  kiln_op_desc *d = kiln_op_desc_new(g, type, name);
  kiln_op_desc_add_input(d, q);
  if (n) kiln_op_desc_add_input_list(d, in, n);
  kiln_op *op = kiln_op_desc_finish(d, s);
  assert_ok(s);
  return op;
}

static kiln_op *enqueue_many(const char *name, kiln_output q, kiln_output names) {
  return queue_op("QueueEnqueueManyV2", name, q, &names, 1);
}

static kiln_op *close_queue(const char *name, kiln_output q) {
  return queue_op("QueueCloseV2", name, q, NULL, 0);
}

static kiln_output whole_file_reader(const char *name, const char *shared_name) {
  kiln_op_desc *d = kiln_op_desc_new(g, "WholeFileReaderV2", name);
  if (shared_name) kiln_op_desc_set_attr_string(d, "shared_name", shared_name,
                                                strlen(shared_name));
  kiln_output o = {kiln_op_desc_finish(d, s), 0};
  assert_ok(s);
  return o;
}

/* ReaderReadV2; its op (outputs 0 key and 1 value). */
static kiln_op *reader_read(const char *name, kiln_output reader, kiln_output q) {
  kiln_op_desc *d = kiln_op_desc_new(g, "ReaderReadV2", name);
  kiln_op_desc_add_input(d, reader);
  kiln_op_desc_add_input(d, q);
  kiln_op *op = kiln_op_desc_finish(d, s);
  assert_ok(s);
  return op;
}

static void run_targets(kiln_session *sess, kiln_op *const *ops, int n) {
  kiln_session_run(sess, NULL, NULL, NULL, 0, NULL, NULL, 0, ops, n, NULL, s);
  assert_ok(s);
}

/* Asserts t is a scalar string of exactly data[0..len); frees t. */
static void expect_scalar_string(kiln_tensor *t, const char *data, size_t len) {
  assert_non_null(t);
  assert_int_equal(kiln_tensor_dtype(t), KILN_STRING);
  assert_int_equal(kiln_tensor_ndims(t), 0);
  size_t got_len = 0;
  const char *got = kiln_tensor_string(t, 0, &got_len);
  assert_non_null(got);
  if (got_len != len || (len && memcmp(got, data, len) != 0))
    fail_msg("got %zu bytes \"%.*s\", want %zu \"%.*s\"", got_len,
             (int)(got_len < 60 ? got_len : 60), got, len,
             (int)(len < 60 ? len : 60), data);
  kiln_tensor_free(t);
}

/* One read: asserts it yields (path, data[0..len)). */
static void expect_read(kiln_session *sess, kiln_op *read, const char *path,
                        const char *data, size_t len) {
  kiln_output fetch[2] = {{read, 0}, {read, 1}};
  kiln_tensor *out[2] = {NULL, NULL};
  kiln_session_run(sess, NULL, NULL, NULL, 0, fetch, out, 2, NULL, 0, NULL, s);
  assert_ok(s);
  expect_scalar_string(out[0], path, strlen(path));
  expect_scalar_string(out[1], data, len);
}

/* One read: asserts it fails with code, a message holding `needle` and
** the node's name; resets s. */
static void expect_read_error(kiln_session *sess, kiln_op *read, kiln_code code,
                              const char *needle) {
  kiln_output fetch[2] = {{read, 0}, {read, 1}};
  kiln_tensor *out[2] = {(kiln_tensor *)1, (kiln_tensor *)1};
  kiln_session_run(sess, NULL, NULL, NULL, 0, fetch, out, 2, NULL, 0, NULL, s);
  assert_null(out[0]);
  assert_null(out[1]);
  assert_status(s, code, needle);
  if (!strstr(kiln_status_message(s), kiln_op_name(read)))
    fail_msg("message \"%s\" lacks the node name \"%s\"", kiln_status_message(s),
             kiln_op_name(read));
  kiln_status_reset(s);
}

/* A session with the names enqueued (and the queue closed when asked). */
static kiln_session *session_with(kiln_output q, const char *const *names, int n,
                                  bool close) {
  kiln_session *sess = kiln_session_new(g, NULL, s);
  assert_ok(s);
  kiln_op *enq = enqueue_many(NULL, q, names_const(names, n));
  run_targets(sess, &enq, 1);
  if (close) {
    kiln_op *cl = close_queue(NULL, q);
    run_targets(sess, &cl, 1);
  }
  return sess;
}

/* -------------------------------------------------------------- tests */

static void t_cpu_loaded(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
}

/* Names enqueued and the queue closed: each read gives the next file's
** name and contents (binary, empty, large), then OUT_OF_RANGE. */
static void t_read_files(void **state) {
  (void)state;
  enum { BIG = 200003 };
  char *big = malloc(BIG);
  assert_non_null(big);
  for (int i = 0; i < BIG; i++) big[i] = (char)(i * 13);
  static const char bin[] = {'a', '\0', '\n', '\xff'};
  const char *a = path_in("a.bin"), *e = path_in("empty"), *b = path_in("big");
  put_file(a, bin, sizeof bin);
  put_file(e, "", 0);
  put_file(b, big, BIG);
  kiln_output q = string_queue("names");
  kiln_op *read = reader_read("read", whole_file_reader("reader", NULL), q);
  const char *names[3] = {a, e, b};
  kiln_session *sess = session_with(q, names, 3, true);
  expect_read(sess, read, a, bin, sizeof bin);
  expect_read(sess, read, e, "", 0);
  expect_read(sess, read, b, big, BIG);
  expect_read_error(sess, read, KILN_OUT_OF_RANGE,
                    "FIFOQueue 'names' is closed and has insufficient elements "
                    "(requested 1, current size 0)");
  /* Still so on the next read. */
  expect_read_error(sess, read, KILN_OUT_OF_RANGE, "is closed");
  kiln_session_free(sess);
  free(big);
}

/* Two read nodes in one step share the reader: each takes one name. */
static void t_two_reads_one_step(void **state) {
  (void)state;
  const char *a = path_in("one"), *b = path_in("two");
  put_file(a, "1", 1);
  put_file(b, "22", 2);
  kiln_output q = string_queue("q");
  kiln_output r = whole_file_reader("reader", NULL);
  kiln_op *r1 = reader_read("read1", r, q), *r2 = reader_read("read2", r, q);
  const char *names[2] = {a, b};
  kiln_session *sess = session_with(q, names, 2, true);
  kiln_output fetch[4] = {{r1, 0}, {r1, 1}, {r2, 0}, {r2, 1}};
  kiln_tensor *out[4] = {NULL};
  kiln_session_run(sess, NULL, NULL, NULL, 0, fetch, out, 4, NULL, 0, NULL, s);
  assert_ok(s);
  size_t l1, l2;
  const char *k1 = kiln_tensor_string(out[0], 0, &l1);
  const char *k2 = kiln_tensor_string(out[2], 0, &l2);
  bool first_a = l1 == strlen(a) && memcmp(k1, a, l1) == 0;
  const char *other = first_a ? b : a;
  if (!first_a) expect_scalar_string(out[0], b, strlen(b));
  else expect_scalar_string(out[0], a, strlen(a));
  assert_true(l2 == strlen(other) && memcmp(k2, other, l2) == 0);
  expect_scalar_string(out[2], other, strlen(other));
  expect_scalar_string(out[1], first_a ? "1" : "22", first_a ? 1 : 2);
  expect_scalar_string(out[3], first_a ? "22" : "1", first_a ? 2 : 1);
  kiln_session_free(sess);
}

/* A missing file is NOT_FOUND naming it. As in TensorFlow, it stays the
** reader's work: the next read tries it again, and succeeds once the
** file exists, before the queue's next name. */
static void t_missing_file(void **state) {
  (void)state;
  const char *m = path_in("missing.txt"), *b = path_in("b.txt");
  put_file(b, "bee", 3);
  kiln_output q = string_queue("q");
  kiln_op *read = reader_read("read", whole_file_reader("reader", NULL), q);
  const char *names[2] = {m, b};
  kiln_session *sess = session_with(q, names, 2, true);
  char want[1600];
  snprintf(want, sizeof want, "%s; No such file or directory", m);
  expect_read_error(sess, read, KILN_NOT_FOUND, want);
  expect_read_error(sess, read, KILN_NOT_FOUND, want);
  put_file(m, "now here", 8);
  expect_read(sess, read, m, "now here", 8);
  expect_read(sess, read, b, "bee", 3);
  expect_read_error(sess, read, KILN_OUT_OF_RANGE, "is closed");
  kiln_session_free(sess);
}

/* A directory is FAILED_PRECONDITION naming it. */
static void t_directory(void **state) {
  (void)state;
  const char *d = path_in("adir");
  assert_int_equal(mkdir(d, 0755), 0);
  kiln_output q = string_queue("q");
  kiln_op *read = reader_read("read", whole_file_reader("reader", NULL), q);
  kiln_session *sess = session_with(q, &d, 1, true);
  char want[1600];
  snprintf(want, sizeof want, "%s; Is a directory", d);
  expect_read_error(sess, read, KILN_FAILED_PRECONDITION, want);
  kiln_session_free(sess);
}

/* A path below a regular file (ENOTDIR) is FAILED_PRECONDITION, as in
** TensorFlow's errno mapping; a name with a NUL byte INVALID_ARGUMENT. */
static void t_bad_paths(void **state) {
  (void)state;
  const char *f = path_in("plain");
  put_file(f, "x", 1);
  char below[1600];
  snprintf(below, sizeof below, "%s/inside", f);
  kiln_output q = string_queue("q");
  kiln_op *read = reader_read("read", whole_file_reader("reader", NULL), q);
  const char *names[1] = {below};
  kiln_session *sess = session_with(q, names, 1, false);
  char want[1700];
  snprintf(want, sizeof want, "%s; Not a directory", below);
  expect_read_error(sess, read, KILN_FAILED_PRECONDITION, want);
  kiln_session_free(sess);

  /* A name holding NUL, fed to a fresh queue. */
  kiln_graph_free(g);
  g = kiln_graph_new();
  q = string_queue("q");
  read = reader_read("read", whole_file_reader("reader", NULL), q);
  kiln_output x = kiln_placeholder(g, KILN_STRING, NULL, 0, "x", s);
  assert_ok(s);
  kiln_op *enq = queue_op("QueueEnqueueV2", "enq", q, &x, 1);
  sess = kiln_session_new(g, NULL, s);
  assert_ok(s);
  kiln_tensor *name = kiln_tensor_new(KILN_STRING, NULL, 0, s);
  kiln_tensor_set_string(name, 0, "ab\0c", 4, s);
  assert_ok(s);
  kiln_session_run(sess, NULL, &x, &name, 1, NULL, NULL, 0, &enq, 1, NULL, s);
  assert_ok(s);
  kiln_tensor_free(name);
  expect_read_error(sess, read, KILN_INVALID_ARGUMENT,
                    "File name contains a NUL byte at offset 2: 'ab\\0...'");
  kiln_session_free(sess);
}

/* A file the user may not read is PERMISSION_DENIED naming it. */
static void t_permission_denied(void **state) {
  (void)state;
  const char *p = path_in("secret");
  put_file(p, "hidden", 6);
  assert_int_equal(chmod(p, 0), 0);
  kiln_output q = string_queue("q");
  kiln_op *read = reader_read("read", whole_file_reader("reader", NULL), q);
  kiln_session *sess = session_with(q, &p, 1, true);
  if (!kt_unprivileged_begin()) {
    kiln_session_free(sess);
    skip();
    return;
  }
  kiln_output fetch[2] = {{read, 0}, {read, 1}};
  kiln_tensor *out[2] = {NULL, NULL};
  kiln_session_run(sess, NULL, NULL, NULL, 0, fetch, out, 2, NULL, 0, NULL, s);
  kt_unprivileged_end();
  assert_null(out[0]);
  char want[1600];
  snprintf(want, sizeof want, "%s; Permission denied", p);
  assert_status(s, KILN_PERMISSION_DENIED, want);
  assert_non_null(strstr(kiln_status_message(s), "read"));
  kiln_status_reset(s);
  kiln_session_free(sess);
}

/* Queues that do not hold single file names. */
static void t_wrong_queues(void **state) {
  (void)state;
  const kiln_dtype ints = KILN_INT32, two[2] = {KILN_STRING, KILN_STRING};
  kiln_output r = whole_file_reader("reader", NULL);
  kiln_output qi = fifo("ints", &ints, 1, true, NULL);
  kiln_output q2 = fifo("pairs", two, 2, true, NULL);
  kiln_output qv = string_queue("vectors");   /* no shapes: any element */
  const kiln_dtype st = KILN_STRING;
  kiln_output qu = fifo("unshaped", &st, 1, false, NULL);
  kiln_op *ri = reader_read("read_ints", r, qi);
  kiln_op *r2 = reader_read("read_pairs", r, q2);
  kiln_op *ru = reader_read("read_unshaped", r, qu);
  kiln_session *sess = kiln_session_new(g, NULL, s);
  assert_ok(s);
  expect_read_error(sess, ri, KILN_INVALID_ARGUMENT,
                    "Expected queue with single string component: queue 'ints' "
                    "holds int32");
  expect_read_error(sess, r2, KILN_INVALID_ARGUMENT,
                    "Expected single component queue: queue 'pairs' has 2 "
                    "components");
  /* A queue without shapes may hold a vector of names. */
  const char *two_names[2] = {"x", "y"};
  kiln_output v = names_const(two_names, 2);
  kiln_op *enq = queue_op("QueueEnqueueV2", "enq", qu, &v, 1);
  run_targets(sess, &enq, 1);
  expect_read_error(sess, ru, KILN_INVALID_ARGUMENT,
                    "Expected to dequeue a one-element string tensor");
  /* Handles of the wrong kind. */
  kiln_op *swapped = reader_read("swapped", qv, qv);
  expect_read_error(sess, swapped, KILN_INVALID_ARGUMENT,
                    "reader_handle is a handle to a resource that is not a reader");
  kiln_op *rr = reader_read("reader_twice", r, r);
  expect_read_error(sess, rr, KILN_INVALID_ARGUMENT,
                    "queue_handle is a handle to a resource that is not a queue");
  kiln_session_free(sess);
}

/* A reader sharing its name with a queue of the session is an error; two
** reader nodes of one shared_name are one reader (a failed file left by
** one is retried by the other). */
static void t_shared_names(void **state) {
  (void)state;
  kiln_output q = string_queue("q");
  kiln_op *bad = reader_read("bad", whole_file_reader("clash", "q"), q);
  const char *m = path_in("nope");
  kiln_output r1 = whole_file_reader("r1", "files"), r2 = whole_file_reader("r2", "files");
  kiln_op *read1 = reader_read("read1", r1, q), *read2 = reader_read("read2", r2, q);
  kiln_session *sess = session_with(q, &m, 1, true);
  kiln_output fetch = {bad, 0};
  kiln_tensor *out = NULL;
  kiln_session_run(sess, NULL, NULL, NULL, 0, &fetch, &out, 1, NULL, 0, NULL, s);
  assert_status(s, KILN_INVALID_ARGUMENT, "Resource localhost/q is a queue, not a reader");
  kiln_status_reset(s);
  char want[1600];
  snprintf(want, sizeof want, "%s; No such file or directory", m);
  expect_read_error(sess, read1, KILN_NOT_FOUND, want);
  expect_read_error(sess, read2, KILN_NOT_FOUND, want);
  kiln_session_free(sess);
}

/* The reader of a step waiting on an empty queue, in its own thread. */
typedef struct read_job {
  kiln_session *sess;
  kiln_op *read;
  kiln_tensor *out[2];
  kiln_status *st;
  atomic_bool done;
} read_job;

static void *read_thread(void *arg) {
  read_job *j = arg;
  kiln_output fetch[2] = {{j->read, 0}, {j->read, 1}};
  kiln_session_run(j->sess, NULL, NULL, NULL, 0, fetch, j->out, 2, NULL, 0,
                   NULL, j->st);
  atomic_store(&j->done, true);
  return NULL;
}

static void nap_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* A read on an empty queue waits; a name enqueued by another step, in
** another thread, completes it. */
static void t_read_waits_for_name(void **state) {
  (void)state;
  const char *p = path_in("late");
  put_file(p, "arrived", 7);
  kiln_output q = string_queue("q");
  kiln_op *read = reader_read("read", whole_file_reader("reader", NULL), q);
  kiln_output x = kiln_placeholder(g, KILN_STRING, NULL, 0, "x", s);
  assert_ok(s);
  kiln_op *enq = queue_op("QueueEnqueueV2", "enq", q, &x, 1);
  kiln_session *sess = kiln_session_new(g, NULL, s);
  assert_ok(s);
  read_job job = {.sess = sess, .read = read, .st = kiln_status_new()};
  atomic_init(&job.done, false);
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, read_thread, &job), 0);
  nap_ms(200);
  assert_false(atomic_load(&job.done));   /* still waiting for a name */
  kiln_tensor *name = scalar_string(p);
  kiln_session_run(sess, NULL, &x, &name, 1, NULL, NULL, 0, &enq, 1, NULL, s);
  kiln_tensor_free(name);
  assert_ok(s);
  pthread_join(th, NULL);
  if (kiln_status_code(job.st) != KILN_OK)
    fail_msg("read failed: %s", kiln_status_message(job.st));
  kiln_status_free(job.st);
  expect_scalar_string(job.out[0], p, strlen(p));
  expect_scalar_string(job.out[1], "arrived", 7);
  kiln_session_free(sess);
}

/* Closing the queue ends a waiting read with OUT_OF_RANGE; closing the
** session ends one with CANCELLED, promptly. */
static void t_waiting_read_ends(void **state) {
  (void)state;
  kiln_output q = string_queue("q");
  kiln_op *read = reader_read("read", whole_file_reader("reader", NULL), q);
  kiln_op *cl = close_queue("close", q);
  for (int round = 0; round < 2; round++) {
    kiln_session *sess = kiln_session_new(g, NULL, s);
    assert_ok(s);
    read_job job = {.sess = sess, .read = read, .st = kiln_status_new()};
    atomic_init(&job.done, false);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, read_thread, &job), 0);
    nap_ms(100);
    assert_false(atomic_load(&job.done));
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (round == 0) run_targets(sess, &cl, 1);
    else kiln_session_close(sess, s);
    pthread_join(th, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(secs < 1.0);
    assert_null(job.out[0]);
    if (round == 0)
      assert_status(job.st, KILN_OUT_OF_RANGE,
                    "FIFOQueue 'q' is closed and has insufficient elements");
    else
      assert_status(job.st, KILN_CANCELLED, "Step was cancelled");
    kiln_status_free(job.st);
    kiln_session_free(sess);
  }
}

/* A file that shrinks between the size check and the read is DATA_LOSS.
** As in test_cpu_io, a write lease holds the reader's open() until the
** test has truncated the file. */
static void t_read_truncated(void **state) {
  (void)state;
  enum { SIZE = 65536 };
  char *body = malloc(SIZE);
  assert_non_null(body);
  memset(body, 'x', SIZE);
  const char *p = path_in("shrinking.dat");
  put_file(p, body, SIZE);
  free(body);
  kiln_output q = string_queue("q");
  kiln_op *read = reader_read("read", whole_file_reader("reader", NULL), q);
  kiln_session *sess = session_with(q, &p, 1, true);

  struct sigaction ign = {.sa_handler = SIG_IGN}, old;
  sigemptyset(&ign.sa_mask);
  sigaction(SIGIO, &ign, &old);
  int fd = open(p, O_RDWR);
  assert_true(fd >= 0);
  if (fcntl(fd, F_SETLEASE, F_WRLCK) != 0) {
    fprintf(stderr, "# SKIP: a write lease on %s fails (%s): cannot hold the "
                    "reader between its size check and its read\n",
            p, strerror(errno));
    close(fd);
    sigaction(SIGIO, &old, NULL);
    kiln_session_free(sess);
    skip();
    return;
  }
  read_job job = {.sess = sess, .read = read, .st = kiln_status_new()};
  atomic_init(&job.done, false);
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, read_thread, &job), 0);
  struct timespec nap = {0, 2000000};
  int lease = F_WRLCK;
  for (int i = 0; i < 30000 && (lease = fcntl(fd, F_GETLEASE)) == F_WRLCK; i++)
    nanosleep(&nap, NULL);
  bool broken = lease != F_WRLCK;
  if (broken) assert_int_equal(ftruncate(fd, 10), 0);
  fcntl(fd, F_SETLEASE, F_UNLCK);
  close(fd);
  pthread_join(th, NULL);
  sigaction(SIGIO, &old, NULL);
  kiln_session_free(sess);
  if (!broken) fail_msg("the reader never opened %s", p);
  assert_null(job.out[0]);
  char want[1700];
  snprintf(want, sizeof want, "Truncated read of '%s' expected %d got 10", p, SIZE);
  assert_status(job.st, KILN_DATA_LOSS, want);
  assert_non_null(strstr(kiln_status_message(job.st), "read"));
  kiln_status_free(job.st);
}

/* Readers of the default container go with the session: a new session
** has a fresh reader (no failed file carried over). */
static void t_reader_per_session(void **state) {
  (void)state;
  const char *m = path_in("gone"), *b = path_in("fine");
  put_file(b, "ok", 2);
  kiln_output q = string_queue("q");
  kiln_op *read = reader_read("read", whole_file_reader("reader", NULL), q);
  kiln_session *s1 = session_with(q, &m, 1, true);
  expect_read_error(s1, read, KILN_NOT_FOUND, m);
  kiln_session_free(s1);
  kiln_session *s2 = session_with(q, &b, 1, true);
  expect_read(s2, read, b, "ok", 2);
  kiln_session_free(s2);
}

/* ------------------------------------------------------------- TFRecord */

/* CRC-32C bit by bit: independent of the reader's table-driven one. */
static uint32_t crc32c_bits(const unsigned char *p, size_t n) {
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1)));
  }
  return ~c;
}

static uint32_t mask_crc(const unsigned char *p, size_t n) {
  uint32_t c = crc32c_bits(p, n);
  return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

typedef struct rec {
  const char *data;
  size_t len;
} rec;

#define REC(str) {str, sizeof str - 1}

/* Writes records r[0..n) as a TFRecord file; offsets[i] (when given) is
** where record i starts. Returns the file's size. */
static long put_records(const char *path, const rec *r, int n, long *offsets) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  long at = 0;
  for (int i = 0; i < n; i++) {
    unsigned char h[12];
    uint64_t len = r[i].len;
    for (int b = 0; b < 8; b++) h[b] = (unsigned char)(len >> (8 * b));
    uint32_t hc = mask_crc(h, 8), dc = mask_crc((const unsigned char *)r[i].data, r[i].len);
    for (int b = 0; b < 4; b++) h[8 + b] = (unsigned char)(hc >> (8 * b));
    unsigned char foot[4];
    for (int b = 0; b < 4; b++) foot[b] = (unsigned char)(dc >> (8 * b));
    if (offsets) offsets[i] = at;
    assert_int_equal(fwrite(h, 1, 12, f), 12);
    if (r[i].len) assert_int_equal(fwrite(r[i].data, 1, r[i].len, f), r[i].len);
    assert_int_equal(fwrite(foot, 1, 4, f), 4);
    at += 16 + (long)r[i].len;
  }
  assert_int_equal(fclose(f), 0);
  return at;
}

/* Flips the bits of the byte at `at` of path. */
static void flip_byte(const char *path, long at) {
  FILE *f = fopen(path, "r+b");
  assert_non_null(f);
  assert_int_equal(fseek(f, at, SEEK_SET), 0);
  int ch = fgetc(f);
  assert_true(ch != EOF);
  assert_int_equal(fseek(f, at, SEEK_SET), 0);
  assert_int_equal(fputc(ch ^ 0xff, f), ch ^ 0xff);
  assert_int_equal(fclose(f), 0);
}

static kiln_output tfrecord_reader(const char *name, const char *shared_name,
                                   const char *compression) {
  kiln_op_desc *d = kiln_op_desc_new(g, "TFRecordReaderV2", name);
  if (shared_name) kiln_op_desc_set_attr_string(d, "shared_name", shared_name,
                                                strlen(shared_name));
  if (compression) kiln_op_desc_set_attr_string(d, "compression_type", compression,
                                                strlen(compression));
  kiln_output o = {kiln_op_desc_finish(d, s), 0};
  assert_ok(s);
  return o;
}

/* A reader verb of one input: the counters and ReaderResetV2. */
static kiln_op *reader_verb(const char *type, const char *name, kiln_output reader) {
  kiln_op_desc *d = kiln_op_desc_new(g, type, name);
  kiln_op_desc_add_input(d, reader);
  kiln_op *op = kiln_op_desc_finish(d, s);
  assert_ok(s);
  return op;
}

/* ReaderReadUpToV2 with num_records the placeholder *n (made here). */
static kiln_op *read_up_to(const char *name, kiln_output reader, kiln_output q,
                           kiln_output *n) {
  char pname[64];
  snprintf(pname, sizeof pname, "%s_n", name);
  *n = kiln_placeholder(g, KILN_INT64, NULL, 0, pname, s);
  assert_ok(s);
  kiln_op_desc *d = kiln_op_desc_new(g, "ReaderReadUpToV2", name);
  kiln_op_desc_add_input(d, reader);
  kiln_op_desc_add_input(d, q);
  kiln_op_desc_add_input(d, *n);
  kiln_op *op = kiln_op_desc_finish(d, s);
  assert_ok(s);
  return op;
}

/* The key TensorFlow gives the record at `offset` of path. */
static const char *key_of(const char *path, long offset) {
  static char buf[4][1600];
  static int next;
  char *p = buf[next++ % 4];
  snprintf(p, sizeof buf[0], "%s:%ld", path, offset);
  return p;
}

static int64_t fetch_int64(kiln_session *sess, kiln_op *op) {
  kiln_output f = {op, 0};
  kiln_tensor *t = NULL;
  kiln_session_run(sess, NULL, NULL, NULL, 0, &f, &t, 1, NULL, 0, NULL, s);
  assert_ok(s);
  assert_non_null(t);
  assert_int_equal(kiln_tensor_dtype(t), KILN_INT64);
  assert_int_equal(kiln_tensor_ndims(t), 0);
  int64_t v = *(const int64_t *)kiln_tensor_data(t);
  kiln_tensor_free(t);
  return v;
}

/* Asserts the reader's counters. */
static void expect_counters(kiln_session *sess, kiln_op *produced,
                            kiln_op *completed, int64_t records, int64_t units) {
  assert_int_equal(fetch_int64(sess, produced), records);
  assert_int_equal(fetch_int64(sess, completed), units);
}

/* One ReadUpTo of n: asserts it yields keys[i], values r[i] for i < count. */
static void expect_up_to(kiln_session *sess, kiln_op *op, kiln_output nph,
                         int64_t n, const char *const *keys, const rec *r,
                         int count) {
  kiln_output fetch[2] = {{op, 0}, {op, 1}};
  kiln_tensor *out[2] = {NULL, NULL};
  kiln_tensor *nt = kiln_tensor_new(KILN_INT64, NULL, 0, s);
  assert_ok(s);
  *(int64_t *)kiln_tensor_data(nt) = n;
  kiln_session_run(sess, NULL, &nph, &nt, 1, fetch, out, 2, NULL, 0, NULL, s);
  kiln_tensor_free(nt);
  assert_ok(s);
  for (int j = 0; j < 2; j++) {
    assert_int_equal(kiln_tensor_dtype(out[j]), KILN_STRING);
    assert_int_equal(kiln_tensor_ndims(out[j]), 1);
    assert_int_equal(kiln_tensor_dim(out[j], 0), count);
  }
  for (int i = 0; i < count; i++) {
    size_t kl = 0, vl = 0;
    const char *k = kiln_tensor_string(out[0], i, &kl);
    const char *v = kiln_tensor_string(out[1], i, &vl);
    if (kl != strlen(keys[i]) || memcmp(k, keys[i], kl) != 0)
      fail_msg("key %d: got \"%.*s\", want \"%s\"", i, (int)kl, k, keys[i]);
    if (vl != r[i].len || (vl && memcmp(v, r[i].data, vl) != 0))
      fail_msg("value %d: got %zu bytes \"%.*s\", want %zu", i, vl, (int)vl, v,
               r[i].len);
  }
  kiln_tensor_free(out[0]);
  kiln_tensor_free(out[1]);
}

/* One ReadUpTo of n that fails with code and a message holding needle. */
static void expect_up_to_error(kiln_session *sess, kiln_op *op, kiln_output nph,
                               int64_t n, kiln_code code, const char *needle) {
  kiln_output fetch[2] = {{op, 0}, {op, 1}};
  kiln_tensor *out[2] = {NULL, NULL};
  kiln_tensor *nt = kiln_tensor_new(KILN_INT64, NULL, 0, s);
  assert_ok(s);
  *(int64_t *)kiln_tensor_data(nt) = n;
  kiln_session_run(sess, NULL, &nph, &nt, 1, fetch, out, 2, NULL, 0, NULL, s);
  kiln_tensor_free(nt);
  assert_null(out[0]);
  assert_status(s, code, needle);
  kiln_status_reset(s);
}

/* The test's CRC agrees with the standard check value of CRC-32C. */
static void t_crc32c_check_value(void **state) {
  (void)state;
  assert_int_equal(crc32c_bits((const unsigned char *)"123456789", 9), 0xe3069283u);
  assert_int_equal(crc32c_bits(NULL, 0), 0);
}

/* Records of two files, in order, keyed "<file>:<offset>", binary and
** empty ones included; the counters as TensorFlow keeps them (a file is
** complete when the read after its last record finds its end). */
static void t_tfrecord_two_files(void **state) {
  (void)state;
  enum { BIG = 100000 };
  char *big = malloc(BIG);
  assert_non_null(big);
  for (int i = 0; i < BIG; i++) big[i] = (char)(i * 7 + 1);
  const rec ra[3] = {REC("alpha"), REC(""), {big, BIG}};
  const rec rb[1] = {{"b\0\xff", 3}};
  long oa[3], ob[1];
  const char *a = path_in("a.tfrecord"), *b = path_in("b.tfrecord");
  put_records(a, ra, 3, oa);
  put_records(b, rb, 1, ob);
  assert_int_equal(oa[1], 21);
  assert_int_equal(oa[2], 37);
  kiln_output q = string_queue("files");
  kiln_output r = tfrecord_reader("reader", NULL, NULL);
  kiln_op *read = reader_read("read", r, q);
  kiln_op *produced = reader_verb("ReaderNumRecordsProducedV2", "produced", r);
  kiln_op *completed = reader_verb("ReaderNumWorkUnitsCompletedV2", "completed", r);
  const char *names[2] = {a, b};
  kiln_session *sess = session_with(q, names, 2, true);
  expect_counters(sess, produced, completed, 0, 0);
  expect_read(sess, read, key_of(a, 0), "alpha", 5);
  expect_read(sess, read, key_of(a, 21), "", 0);
  expect_read(sess, read, key_of(a, 37), big, BIG);
  expect_counters(sess, produced, completed, 3, 0);
  expect_read(sess, read, key_of(b, 0), rb[0].data, 3);
  expect_counters(sess, produced, completed, 4, 1);
  expect_read_error(sess, read, KILN_OUT_OF_RANGE,
                    "FIFOQueue 'files' is closed and has insufficient elements");
  expect_counters(sess, produced, completed, 4, 2);
  kiln_session_free(sess);
  free(big);
}

/* Files cut short: in a header, right after a header, inside the data.
** Each is DATA_LOSS at TensorFlow's offset (the record's, or its data's
** when some data is there), naming the file; the file stays the reader's
** work, so the next read fails alike until a reset drops it. */
static void t_tfrecord_truncated(void **state) {
  (void)state;
  const rec r[2] = {REC("first"), REC("second record")};
  long off[2];
  const char *in_header = path_in("in_header"), *no_data = path_in("no_data"),
             *in_data = path_in("in_data");
  long size = put_records(in_header, r, 2, off);
  assert_int_equal(truncate(in_header, off[1] + 5), 0);
  put_records(no_data, r, 2, NULL);
  assert_int_equal(truncate(no_data, off[1] + 12), 0);
  put_records(in_data, r, 2, NULL);
  assert_int_equal(truncate(in_data, size - 6), 0);

  kiln_output q = string_queue("q");
  kiln_output rd = tfrecord_reader("reader", NULL, NULL);
  kiln_op *read = reader_read("read", rd, q);
  kiln_op *reset = reader_verb("ReaderResetV2", "reset", rd);
  kiln_op *produced = reader_verb("ReaderNumRecordsProducedV2", "produced", rd);
  kiln_op *completed = reader_verb("ReaderNumWorkUnitsCompletedV2", "completed", rd);
  const char *names[3] = {in_header, no_data, in_data};
  kiln_session *sess = session_with(q, names, 3, true);
  char want[1700];

  expect_read(sess, read, key_of(in_header, 0), "first", 5);
  snprintf(want, sizeof want, "truncated record at %ld in '%s'", off[1], in_header);
  expect_read_error(sess, read, KILN_DATA_LOSS, want);
  expect_read_error(sess, read, KILN_DATA_LOSS, "the file ends 5 bytes into the "
                    "record's 12-byte header");
  expect_counters(sess, produced, completed, 1, 0);
  run_targets(sess, &reset, 1);
  expect_counters(sess, produced, completed, 0, 0);

  expect_read(sess, read, key_of(no_data, 0), "first", 5);
  snprintf(want, sizeof want, "truncated record at %ld in '%s'", off[1], no_data);
  expect_read_error(sess, read, KILN_DATA_LOSS, want);
  expect_read_error(sess, read, KILN_DATA_LOSS, "the record holds 13 bytes of "
                    "data and a 4-byte checksum, the file has 0 left");
  run_targets(sess, &reset, 1);

  expect_read(sess, read, key_of(in_data, 0), "first", 5);
  snprintf(want, sizeof want, "truncated record at %ld in '%s'", off[1] + 12, in_data);
  expect_read_error(sess, read, KILN_DATA_LOSS, want);
  expect_read_error(sess, read, KILN_DATA_LOSS, "the file has 11 left");
  run_targets(sess, &reset, 1);
  expect_read_error(sess, read, KILN_OUT_OF_RANGE, "is closed");
  kiln_session_free(sess);
}

/* A flipped byte in a record's data, or in its length, fails its
** checksum: DATA_LOSS "corrupted record at" the part's offset, naming the
** file. */
static void t_tfrecord_corrupted(void **state) {
  (void)state;
  const rec r[2] = {REC("good"), REC("to be damaged")};
  long off[2];
  const char *data = path_in("bad_data"), *len = path_in("bad_length");
  put_records(data, r, 2, off);
  flip_byte(data, off[1] + 12 + 3);
  put_records(len, r, 1, NULL);
  flip_byte(len, 1);
  kiln_output q = string_queue("q");
  kiln_output rd = tfrecord_reader("reader", NULL, NULL);
  kiln_op *read = reader_read("read", rd, q);
  kiln_op *reset = reader_verb("ReaderResetV2", "reset", rd);
  const char *names[2] = {data, len};
  kiln_session *sess = session_with(q, names, 2, true);
  char want[1700];
  expect_read(sess, read, key_of(data, 0), "good", 4);
  snprintf(want, sizeof want, "corrupted record at %ld in '%s': the checksum of "
           "its 13 bytes of data does not match", off[1] + 12, data);
  expect_read_error(sess, read, KILN_DATA_LOSS, want);
  expect_read_error(sess, read, KILN_DATA_LOSS, want);
  run_targets(sess, &reset, 1);
  snprintf(want, sizeof want, "corrupted record at 0 in '%s': the checksum of "
           "its length does not match", len);
  expect_read_error(sess, read, KILN_DATA_LOSS, want);
  kiln_session_free(sess);
}

/* ReadUpTo: at most num_records, fewer when a file ends (never two files
** in one call), an empty file passed over, 0 asks for nothing; then the
** closed queue's OUT_OF_RANGE. A negative count is INVALID_ARGUMENT. */
static void t_tfrecord_read_up_to(void **state) {
  (void)state;
  const rec ra[5] = {REC("a0"), REC("a1"), REC("a2"), REC("a3"), REC("a4")};
  const rec rb[2] = {REC("b0"), REC("b1")};
  const rec rc[1] = {REC("c0")};
  long oa[5], ob[2];
  const char *a = path_in("a"), *e = path_in("empty"), *b = path_in("b"),
             *cc = path_in("c");
  put_records(a, ra, 5, oa);
  put_records(b, rb, 2, ob);
  put_records(cc, rc, 1, NULL);
  put_file(e, "", 0);
  kiln_output q = string_queue("q");
  kiln_output rd = tfrecord_reader("reader", NULL, "");
  kiln_output n;
  kiln_op *up = read_up_to("up_to", rd, q, &n);
  kiln_op *produced = reader_verb("ReaderNumRecordsProducedV2", "produced", rd);
  kiln_op *completed = reader_verb("ReaderNumWorkUnitsCompletedV2", "completed", rd);
  const char *names[4] = {a, e, b, cc};
  kiln_session *sess = session_with(q, names, 4, true);

  const char *k1[3] = {key_of(a, oa[0]), key_of(a, oa[1]), key_of(a, oa[2])};
  expect_up_to(sess, up, n, 3, k1, ra, 3);
  const char *k2[2] = {key_of(a, oa[3]), key_of(a, oa[4])};
  expect_up_to(sess, up, n, 3, k2, ra + 3, 2);
  expect_counters(sess, produced, completed, 5, 1);
  expect_up_to(sess, up, n, 0, NULL, NULL, 0);
  const char *k3[2] = {key_of(b, ob[0]), key_of(b, ob[1])};
  expect_up_to(sess, up, n, 3, k3, rb, 2);
  expect_counters(sess, produced, completed, 7, 3);
  expect_up_to_error(sess, up, n, -1, KILN_INVALID_ARGUMENT,
                     "num_records must be >= 0, got -1");
  const char *k4[1] = {key_of(cc, 0)};
  expect_up_to(sess, up, n, 10, k4, rc, 1);
  expect_up_to_error(sess, up, n, 2, KILN_OUT_OF_RANGE,
                     "FIFOQueue 'q' is closed and has insufficient elements");
  expect_counters(sess, produced, completed, 8, 4);
  kiln_session_free(sess);
}

/* Reset mid-file: the counters go to zero and the rest of the file with
** them; the next read takes the next name. */
static void t_tfrecord_reset(void **state) {
  (void)state;
  const rec ra[3] = {REC("x"), REC("y"), REC("z")};
  const rec rb[1] = {REC("next")};
  const char *a = path_in("a"), *b = path_in("b");
  put_records(a, ra, 3, NULL);
  put_records(b, rb, 1, NULL);
  kiln_output q = string_queue("q");
  kiln_output rd = tfrecord_reader("reader", NULL, NULL);
  kiln_op *read = reader_read("read", rd, q);
  kiln_op *reset = reader_verb("ReaderResetV2", "reset", rd);
  kiln_op *produced = reader_verb("ReaderNumRecordsProducedV2", "produced", rd);
  kiln_op *completed = reader_verb("ReaderNumWorkUnitsCompletedV2", "completed", rd);
  const char *names[2] = {a, b};
  kiln_session *sess = session_with(q, names, 2, true);
  expect_read(sess, read, key_of(a, 0), "x", 1);
  expect_counters(sess, produced, completed, 1, 0);
  run_targets(sess, &reset, 1);
  expect_counters(sess, produced, completed, 0, 0);
  expect_read(sess, read, key_of(b, 0), "next", 4);
  expect_read_error(sess, read, KILN_OUT_OF_RANGE, "is closed");
  expect_counters(sess, produced, completed, 1, 1);
  kiln_session_free(sess);
}

/* A TFRecord file that cannot be opened fails the read naming it and, as
** TensorFlow's reader (the work never started), is not retried: the next
** read takes the next name. */
static void t_tfrecord_missing_file(void **state) {
  (void)state;
  const rec rb[1] = {REC("here")};
  const char *m = path_in("missing.tfrecord"), *b = path_in("b"), *d = path_in("dir");
  put_records(b, rb, 1, NULL);
  assert_int_equal(mkdir(d, 0755), 0);
  kiln_output q = string_queue("q");
  kiln_output rd = tfrecord_reader("reader", NULL, NULL);
  kiln_op *read = reader_read("read", rd, q);
  kiln_op *completed = reader_verb("ReaderNumWorkUnitsCompletedV2", "completed", rd);
  const char *names[3] = {m, d, b};
  kiln_session *sess = session_with(q, names, 3, true);
  char want[1600];
  snprintf(want, sizeof want, "%s; No such file or directory", m);
  expect_read_error(sess, read, KILN_NOT_FOUND, want);
  snprintf(want, sizeof want, "%s; Is a directory", d);
  expect_read_error(sess, read, KILN_FAILED_PRECONDITION, want);
  expect_read(sess, read, key_of(b, 0), "here", 4);
  assert_int_equal(fetch_int64(sess, completed), 0);
  kiln_session_free(sess);
}

/* Only uncompressed files: GZIP (and any other compression_type) is
** UNIMPLEMENTED naming the value and the node. */
static void t_tfrecord_compression(void **state) {
  (void)state;
  kiln_output q = string_queue("q");
  kiln_op *read = reader_read("read", tfrecord_reader("gz", NULL, "GZIP"), q);
  kiln_session *sess = kiln_session_new(g, NULL, s);
  assert_ok(s);
  kiln_output fetch[2] = {{read, 0}, {read, 1}};
  kiln_tensor *out[2] = {NULL, NULL};
  kiln_session_run(sess, NULL, NULL, NULL, 0, fetch, out, 2, NULL, 0, NULL, s);
  assert_null(out[0]);
  assert_status(s, KILN_UNIMPLEMENTED, "compression_type 'GZIP' is not supported");
  assert_status(s, KILN_UNIMPLEMENTED, "ZLIB and GZIP are not supported");
  assert_status(s, KILN_UNIMPLEMENTED, "node 'gz' (TFRecordReaderV2)");
  kiln_status_reset(s);
  kiln_session_free(sess);
}

/* The whole-file reader through the same verbs: ReadUpTo gives one file
** per call whatever num_records, counters count files, reset drops a
** failed file kept for retry. */
static void t_whole_file_verbs(void **state) {
  (void)state;
  const char *a = path_in("a"), *m = path_in("missing"), *b = path_in("b");
  put_file(a, "AAA", 3);
  put_file(b, "BB", 2);
  kiln_output q = string_queue("q");
  kiln_output rd = whole_file_reader("reader", NULL);
  kiln_output n;
  kiln_op *up = read_up_to("up_to", rd, q, &n);
  kiln_op *reset = reader_verb("ReaderResetV2", "reset", rd);
  kiln_op *produced = reader_verb("ReaderNumRecordsProducedV2", "produced", rd);
  kiln_op *completed = reader_verb("ReaderNumWorkUnitsCompletedV2", "completed", rd);
  const char *names[3] = {a, m, b};
  kiln_session *sess = session_with(q, names, 3, true);
  const rec va[1] = {REC("AAA")}, vb[1] = {REC("BB")};
  expect_up_to(sess, up, n, 5, &a, va, 1);
  expect_counters(sess, produced, completed, 1, 1);
  expect_up_to_error(sess, up, n, 5, KILN_NOT_FOUND, m);
  expect_up_to_error(sess, up, n, 5, KILN_NOT_FOUND, m);   /* kept, retried */
  run_targets(sess, &reset, 1);
  expect_counters(sess, produced, completed, 0, 0);
  expect_up_to(sess, up, n, 5, &b, vb, 1);
  expect_counters(sess, produced, completed, 1, 1);
  expect_up_to_error(sess, up, n, 1, KILN_OUT_OF_RANGE, "is closed");
  kiln_session_free(sess);
}

/* The verbs refuse a handle that is no reader; a reader's name taken by
** the other kind of reader is an error. */
static void t_verbs_wrong_handles(void **state) {
  (void)state;
  kiln_output q = string_queue("q");
  kiln_op *cnt = reader_verb("ReaderNumRecordsProducedV2", "count", q);
  kiln_op *reset = reader_verb("ReaderResetV2", "reset", q);
  kiln_output w = whole_file_reader("whole", "files");
  kiln_output t = tfrecord_reader("records", "files", NULL);
  kiln_op *rw = reader_read("read_whole", w, q), *rt = reader_read("read_records", t, q);
  kiln_session *sess = kiln_session_new(g, NULL, s);
  assert_ok(s);
  kiln_output f = {cnt, 0};
  kiln_tensor *out = NULL;
  kiln_session_run(sess, NULL, NULL, NULL, 0, &f, &out, 1, NULL, 0, NULL, s);
  assert_null(out);
  assert_status(s, KILN_INVALID_ARGUMENT,
                "reader_handle is a handle to a resource that is not a reader");
  kiln_status_reset(s);
  kiln_session_run(sess, NULL, NULL, NULL, 0, NULL, NULL, 0, &reset, 1, NULL, s);
  assert_status(s, KILN_INVALID_ARGUMENT, "not a reader");
  kiln_status_reset(s);
  /* The first made owns the name. */
  const char *none = path_in("none");
  kiln_op *enq = enqueue_many(NULL, q, names_const(&none, 1));
  run_targets(sess, &enq, 1);
  char want[1600];
  snprintf(want, sizeof want, "%s; No such file or directory", none);
  expect_read_error(sess, rw, KILN_NOT_FOUND, want);
  kiln_output fetch = {rt, 0};
  kiln_session_run(sess, NULL, NULL, NULL, 0, &fetch, &out, 1, NULL, 0, NULL, s);
  assert_status(s, KILN_INVALID_ARGUMENT,
                "Resource localhost/files is a reader, not a TFRecord reader");
  kiln_status_reset(s);
  kiln_session_free(sess);
}

/* A TFRecord read waiting on an empty queue completes when a name comes.
** A waiting read that is given a file with no records waits again, for
** the next name. */
static void t_tfrecord_waiting_read(void **state) {
  (void)state;
  const rec ra[1] = {REC("late record")};
  const rec rb[1] = {REC("after the empty one")};
  const char *a = path_in("a"), *e = path_in("empty"), *b = path_in("b");
  put_records(a, ra, 1, NULL);
  put_records(b, rb, 1, NULL);
  put_file(e, "", 0);
  kiln_output q = string_queue("q");
  kiln_op *read = reader_read("read", tfrecord_reader("reader", NULL, NULL), q);
  kiln_output x = kiln_placeholder(g, KILN_STRING, NULL, 0, "x", s);
  assert_ok(s);
  kiln_op *enq = queue_op("QueueEnqueueV2", "enq", q, &x, 1);
  kiln_session *sess = kiln_session_new(g, NULL, s);
  assert_ok(s);
  const char *feeds[2] = {a, e};
  for (int round = 0; round < 2; round++) {
    read_job job = {.sess = sess, .read = read, .st = kiln_status_new()};
    atomic_init(&job.done, false);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, read_thread, &job), 0);
    /* Round 0 finds no work; round 1 first finds a's end. Both wait. */
    nap_ms(150);
    assert_false(atomic_load(&job.done));
    kiln_tensor *name = scalar_string(feeds[round]);
    kiln_session_run(sess, NULL, &x, &name, 1, NULL, NULL, 0, &enq, 1, NULL, s);
    kiln_tensor_free(name);
    assert_ok(s);
    if (round == 0) {
      pthread_join(th, NULL);
      if (kiln_status_code(job.st) != KILN_OK)
        fail_msg("read failed: %s", kiln_status_message(job.st));
      expect_scalar_string(job.out[0], key_of(a, 0), strlen(key_of(a, 0)));
      expect_scalar_string(job.out[1], "late record", 11);
    } else {
      /* The empty file gave nothing: the read waits again, for b. */
      nap_ms(150);
      assert_false(atomic_load(&job.done));
      kiln_tensor *next = scalar_string(b);
      kiln_session_run(sess, NULL, &x, &next, 1, NULL, NULL, 0, &enq, 1, NULL, s);
      kiln_tensor_free(next);
      assert_ok(s);
      pthread_join(th, NULL);
      if (kiln_status_code(job.st) != KILN_OK)
        fail_msg("read failed: %s", kiln_status_message(job.st));
      expect_scalar_string(job.out[0], key_of(b, 0), strlen(key_of(b, 0)));
      expect_scalar_string(job.out[1], rb[0].data, rb[0].len);
    }
    kiln_status_free(job.st);
  }
  kiln_session_free(sess);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(t_cpu_loaded),
      cmocka_unit_test_setup_teardown(t_read_files, setup, teardown),
      cmocka_unit_test_setup_teardown(t_two_reads_one_step, setup, teardown),
      cmocka_unit_test_setup_teardown(t_missing_file, setup, teardown),
      cmocka_unit_test_setup_teardown(t_directory, setup, teardown),
      cmocka_unit_test_setup_teardown(t_bad_paths, setup, teardown),
      cmocka_unit_test_setup_teardown(t_permission_denied, setup, teardown),
      cmocka_unit_test_setup_teardown(t_wrong_queues, setup, teardown),
      cmocka_unit_test_setup_teardown(t_shared_names, setup, teardown),
      cmocka_unit_test_setup_teardown(t_read_waits_for_name, setup, teardown),
      cmocka_unit_test_setup_teardown(t_waiting_read_ends, setup, teardown),
      cmocka_unit_test_setup_teardown(t_read_truncated, setup, teardown),
      cmocka_unit_test_setup_teardown(t_reader_per_session, setup, teardown),
      cmocka_unit_test(t_crc32c_check_value),
      cmocka_unit_test_setup_teardown(t_tfrecord_two_files, setup, teardown),
      cmocka_unit_test_setup_teardown(t_tfrecord_truncated, setup, teardown),
      cmocka_unit_test_setup_teardown(t_tfrecord_corrupted, setup, teardown),
      cmocka_unit_test_setup_teardown(t_tfrecord_read_up_to, setup, teardown),
      cmocka_unit_test_setup_teardown(t_tfrecord_reset, setup, teardown),
      cmocka_unit_test_setup_teardown(t_tfrecord_missing_file, setup, teardown),
      cmocka_unit_test_setup_teardown(t_tfrecord_compression, setup, teardown),
      cmocka_unit_test_setup_teardown(t_whole_file_verbs, setup, teardown),
      cmocka_unit_test_setup_teardown(t_verbs_wrong_handles, setup, teardown),
      cmocka_unit_test_setup_teardown(t_tfrecord_waiting_read, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
