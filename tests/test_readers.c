/*
** Readers end to end through the public API: WholeFileReaderV2 and
** ReaderReadV2 over a FIFOQueueV2 of file names.
**
** Every error is raised by its real situation in a private temporary
** directory: a missing file, a directory, a file the user may not read
** (as the user "nobody" when the suite runs as root: the effective uid of
** the whole process is switched around the one step), a file that shrinks
** between the size check and the read (held there by a write lease), a
** drained and closed queue, and queues of the wrong kind. A read on an
** empty queue waits, without a thread, until another step enqueues a name
** or the session closes.
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

static kiln_graph *g;
static kiln_status *s;
static char tmp[1024];

static int unlink_one(const char *p, const struct stat *sb, int flag,
                      struct FTW *f) {
  (void)sb;
  (void)f;
  if (flag == FTW_DP || flag == FTW_D) rmdir(p);
  else unlink(p);
  return 0;
}

static int setup(void **state) {
  (void)state;
  const char *base = getenv("TMPDIR");
  snprintf(tmp, sizeof tmp, "%s/kiln-readers-XXXXXX", base && *base ? base : "/tmp");
  if (!mkdtemp(tmp)) return -1;
  /* Searchable by everyone: an unprivileged step must reach the files. */
  chmod(tmp, 0755);
  g = kiln_graph_new();
  s = kiln_status_new();
  return g && s ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  nftw(tmp, unlink_one, 16, FTW_PHYS | FTW_DEPTH);
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

/* As in test_cpu_io: the whole process's effective ids become nobody's
** when running as root; false, with the reason printed, when impossible. */
static bool unprivileged_begin(void) {
  if (geteuid() != 0) return true;
  struct passwd *pw = getpwnam("nobody");
  uid_t uid = pw ? pw->pw_uid : 65534;
  gid_t gid = pw ? pw->pw_gid : 65534;
  if (setegid(gid) != 0) {
    fprintf(stderr, "# SKIP: running as root and setegid(%u) fails (%s): "
                    "cannot test as an unprivileged user\n",
            (unsigned)gid, strerror(errno));
    return false;
  }
  if (seteuid(uid) != 0) {
    fprintf(stderr, "# SKIP: running as root and seteuid(%u) fails (%s): "
                    "cannot test as an unprivileged user\n",
            (unsigned)uid, strerror(errno));
    if (setegid(0) != 0) fail_msg("cannot restore egid 0");
    return false;
  }
  return true;
}

static void unprivileged_end(void) {
  if (getuid() != 0) return;
  if (seteuid(0) != 0 || setegid(0) != 0)
    fail_msg("cannot restore root's effective ids: %s", strerror(errno));
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
  if (!unprivileged_begin()) {
    kiln_session_free(sess);
    skip();
    return;
  }
  kiln_output fetch[2] = {{read, 0}, {read, 1}};
  kiln_tensor *out[2] = {NULL, NULL};
  kiln_session_run(sess, NULL, NULL, NULL, 0, fetch, out, 2, NULL, 0, NULL, s);
  unprivileged_end();
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
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
