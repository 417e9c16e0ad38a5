/*
** The CPU plugin's file and string kernels (ReadFile, WriteFile,
** StringJoin) end to end through the public API, and DT_STRING tensors fed
** and fetched through sessions: binary bytes (NUL inside), empty strings
** and empty tensors, and their TensorFlow TensorProto layout.
**
** Each file error is raised by its real situation in a private temporary
** directory: a missing file, a directory, a file the user may not read
** (as the user "nobody" when the suite runs as root: the effective uid of
** the whole process is switched around the one step), and a file that
** shrinks between the size check and the read. The last is made
** deterministic with a write lease: the kernel's open() blocks on the
** lease break until the test has truncated the file.
*/
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "sessionutil.h"
#include "fileutil.h"
#include "graph_def.h" /* kn_tensor_serialize_proto, kn_tensor_parse_proto */

static kiln_graph *g;
static kiln_status *s;
static char tmp[1024]; /* this test's directory */

static int setup(void **state) {
  (void)state;
  if (!kt_tmpdir_make(tmp, sizeof tmp, "io")) return -1;
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

/* tmp/name (name may hold slashes). */
static const char *path_in(const char *name) {
  static char buf[4][1536];
  static int next;
  char *p = buf[next++ % 4];
  snprintf(p, sizeof buf[0], "%s/%.500s", tmp, name);
  return p;
}

static void put_file(const char *path, const void *data, size_t len) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, len, f), len);
  assert_int_equal(fclose(f), 0);
}

static kiln_tensor *string_tensor(const char *const *v, const size_t *lens,
                                  const int64_t *dims, int nd) {
  kiln_tensor *x = kiln_tensor_new(KILN_STRING, dims, nd, s);
  assert_ok(s);
  for (int64_t i = 0; i < kiln_tensor_num_elements(x); i++) {
    kiln_tensor_set_string(x, i, v[i], lens ? lens[i] : strlen(v[i]), s);
    assert_ok(s);
  }
  return x;
}

static kiln_tensor *scalar_string(const char *data, size_t len) {
  return string_tensor(&data, &len, NULL, 0);
}

static kiln_output ph(kiln_dtype t, const char *name) {
  kiln_output o = kiln_placeholder(g, t, NULL, -1, name, s);
  assert_ok(s);
  return o;
}

static kiln_output kstr(const char *data, size_t len) {
  kiln_output o = kiln_const_string(g, data, len, NULL, s);
  assert_ok(s);
  return o;
}

static kiln_output read_file(const char *name, kiln_output fname) {
  kiln_op_desc *d = kiln_op_desc_new(g, "ReadFile", name);
  kiln_op_desc_add_input(d, fname);
  kiln_output o = {kiln_op_desc_finish(d, s), 0};
  assert_ok(s);
  return o;
}

static kiln_op *write_file(const char *name, kiln_output fname,
                           kiln_output contents) {
  kiln_op_desc *d = kiln_op_desc_new(g, "WriteFile", name);
  kiln_op_desc_add_input(d, fname);
  kiln_op_desc_add_input(d, contents);
  kiln_op *op = kiln_op_desc_finish(d, s);
  assert_ok(s);
  return op;
}

static kiln_output string_join(const char *name, const kiln_output *in, int n,
                               const char *sep, size_t sep_len) {
  kiln_op_desc *d = kiln_op_desc_new(g, "StringJoin", name);
  kiln_op_desc_add_input_list(d, in, n);
  if (sep) kiln_op_desc_set_attr_string(d, "separator", sep, sep_len);
  kiln_output o = {kiln_op_desc_finish(d, s), 0};
  assert_ok(s);
  return o;
}

/* One step: feeds (values freed), fetches, targets; status in s. */
static void run(const kiln_output *feeds, kiln_tensor **fv, int nf,
                const kiln_output *fetches, kiln_tensor **out, int n,
                kiln_op *const *targets, int nt) {
  kiln_session *sess = kiln_session_new(g, NULL, s);
  assert_ok(s);
  kiln_session_run(sess, NULL, feeds, fv, nf, fetches, out, n, targets, nt,
                   NULL, s);
  kiln_session_free(sess);
  for (int i = 0; i < nf; i++) kiln_tensor_free(fv[i]);
}

static kiln_tensor *eval(kiln_output o) {
  kiln_tensor *out = NULL;
  run(NULL, NULL, 0, &o, &out, 1, NULL, 0);
  assert_ok(s);
  return out;
}

static void run_target(kiln_op *op) {
  run(NULL, NULL, 0, NULL, NULL, 0, &op, 1);
  assert_ok(s);
}

/* Asserts s failed with code, a message containing both `needle` and the
** node's name; resets s. */
static void expect_failed(kiln_code code, const char *needle, const char *node) {
  assert_status(s, code, needle);
  if (!strstr(kiln_status_message(s), node))
    fail_msg("message \"%s\" lacks the node name \"%s\"",
             kiln_status_message(s), node);
  kiln_status_reset(s);
}

static void expect_read_error(kiln_output o, kiln_code code,
                              const char *needle, const char *node) {
  kiln_tensor *out = (kiln_tensor *)1;
  run(NULL, NULL, 0, &o, &out, 1, NULL, 0);
  assert_null(out);
  expect_failed(code, needle, node);
}

static void expect_write_error(kiln_op *op, kiln_code code,
                               const char *needle, const char *node) {
  run(NULL, NULL, 0, NULL, NULL, 0, &op, 1);
  expect_failed(code, needle, node);
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
    fail_msg("got %zu bytes, want %zu (or the bytes differ)", got_len, len);
  kiln_tensor_free(t);
}

/* Asserts t is a string tensor of these dims and elements. */
static void expect_strings(const kiln_tensor *t, const int64_t *dims, int nd,
                           const char *const *want, const size_t *lens) {
  assert_non_null(t);
  assert_int_equal(kiln_tensor_dtype(t), KILN_STRING);
  assert_int_equal(kiln_tensor_ndims(t), nd);
  for (int i = 0; i < nd; i++) assert_int_equal(kiln_tensor_dim(t, i), dims[i]);
  for (int64_t i = 0; i < kiln_tensor_num_elements(t); i++) {
    size_t len = 0;
    const char *got = kiln_tensor_string(t, i, &len);
    assert_non_null(got);
    if (len != lens[i] || (len && memcmp(got, want[i], len) != 0))
      fail_msg("element %lld: %zu bytes, want %zu (or the bytes differ)",
               (long long)i, len, lens[i]);
  }
}

static void t_cpu_loaded(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
}

/* ---------------------------------------------------- strings, sessions */

static const char bin3[] = {'a', '\0', 'b'};
static const char bin5[] = {'\0', '\xff', '\n', '\0', '\x01'};

/* Binary strings fed and fetched: the fed tensor itself, through
** Identity, and through a kernel that makes new strings. */
static void t_string_feed_fetch(void **state) {
  (void)state;
  enum { BIG = 100003 };
  char *big = malloc(BIG);
  assert_non_null(big);
  for (int i = 0; i < BIG; i++) big[i] = (char)(i * 7);
  const char *v[4] = {bin3, "", bin5, big};
  size_t lens[4] = {3, 0, 5, BIG};
  kiln_output x = ph(KILN_STRING, "x");
  kiln_output id = kiln_identity(g, x, "id", s);
  assert_ok(s);
  kiln_output sep_in[2] = {x, kstr("|", 1)};
  kiln_output joined = string_join("join", sep_in, 2, NULL, 0);
  kiln_tensor *fv = string_tensor(v, lens, DIMS(2, 2));
  kiln_output fetch[3] = {x, id, joined};
  kiln_tensor *out[3] = {NULL};
  run(&x, &fv, 1, fetch, out, 3, NULL, 0);
  assert_ok(s);
  expect_strings(out[0], DIMS(2, 2), v, lens);
  expect_strings(out[1], DIMS(2, 2), v, lens);
  char *w[4];
  size_t wl[4];
  for (int i = 0; i < 4; i++) {
    w[i] = malloc(lens[i] + 1);
    assert_non_null(w[i]);
    memcpy(w[i], v[i], lens[i]);
    w[i][lens[i]] = '|';
    wl[i] = lens[i] + 1;
  }
  expect_strings(out[2], DIMS(2, 2), (const char *const *)w, wl);
  for (int i = 0; i < 4; i++) free(w[i]);
  for (int i = 0; i < 3; i++) kiln_tensor_free(out[i]);
  free(big);
}

/* Empty strings and empty string tensors, fed and fetched, and a Const
** holding NUL bytes. */
static void t_string_empty(void **state) {
  (void)state;
  kiln_output x = ph(KILN_STRING, "x");
  kiln_output id = kiln_identity(g, x, "id", s);
  kiln_output c = kstr(bin5, sizeof bin5);
  assert_ok(s);
  const int64_t shapes[3][2] = {{0, 0}, {3, 0}, {0, 2}};
  const int nds[3] = {0, 2, 1};
  for (int k = 0; k < 3; k++) {
    const char *none[1] = {""};
    size_t zero[1] = {0};
    kiln_tensor *fv = string_tensor(none, zero, shapes[k], nds[k]);
    kiln_output fetch[2] = {id, c};
    kiln_tensor *out[2] = {NULL};
    run(&x, &fv, 1, fetch, out, 2, NULL, 0);
    assert_ok(s);
    expect_strings(out[0], shapes[k], nds[k], none, zero);
    assert_int_equal(kiln_tensor_num_elements(out[0]), nds[k] == 0 ? 1 : 0);
    expect_scalar_string(out[1], bin5, sizeof bin5);
    kiln_tensor_free(out[0]);
  }
}

/* A minimal protobuf reader for checking TensorFlow's layout by hand. */
typedef struct pb {
  const uint8_t *p, *end;
} pb;

static uint64_t pb_varint(pb *r) {
  uint64_t v = 0;
  for (int shift = 0; r->p < r->end && shift < 64; shift += 7) {
    uint8_t b = *r->p++;
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  fail_msg("truncated varint");
  return 0;
}

/* Next field: its number, wire type, and for length-delimited fields the
** bytes. false at the end. */
static bool pb_next(pb *r, int *field, int *wt, pb *sub, uint64_t *value) {
  if (r->p >= r->end) return false;
  uint64_t key = pb_varint(r);
  *field = (int)(key >> 3);
  *wt = (int)(key & 7);
  if (*wt == 0) {
    *value = pb_varint(r);
  } else if (*wt == 2) {
    uint64_t len = pb_varint(r);
    assert_true(len <= (uint64_t)(r->end - r->p));
    sub->p = r->p;
    sub->end = r->p + len;
    r->p += len;
  } else {
    fail_msg("unexpected wire type %d", *wt);
  }
  return true;
}

/* The TensorProto of a string tensor: dtype 7 (field 1), the shape
** (field 2: dims in field 2, each with its size in field 1), and one
** string_val (field 8) per element, in order, bytes intact; no
** tensor_content (field 4). */
static void check_string_proto(const kiln_buffer *b, const int64_t *dims,
                               int nd, const char *const *v,
                               const size_t *lens, int64_t n) {
  pb r = {b->data, (const uint8_t *)b->data + b->length}, sub;
  int field, wt, ndims = 0;
  uint64_t value = 0;
  int64_t nstr = 0;
  bool dtype_seen = false;
  while (pb_next(&r, &field, &wt, &sub, &value)) {
    if (field == 1) {
      assert_int_equal(wt, 0);
      assert_int_equal(value, 7);
      dtype_seen = true;
    } else if (field == 2) {
      pb dim;
      int f2, w2;
      uint64_t v2;
      while (pb_next(&sub, &f2, &w2, &dim, &v2)) {
        assert_int_equal(f2, 2);
        pb d = dim, unused;
        int f3, w3;
        uint64_t size = 0;
        while (pb_next(&d, &f3, &w3, &unused, &v2))
          if (f3 == 1) size = v2;
        assert_true(ndims < nd);
        assert_int_equal(size, dims[ndims]);
        ndims++;
      }
    } else if (field == 8) {
      assert_int_equal(wt, 2);
      assert_true(nstr < n);
      assert_int_equal((size_t)(sub.end - sub.p), lens[nstr]);
      if (lens[nstr]) assert_memory_equal(sub.p, v[nstr], lens[nstr]);
      nstr++;
    } else if (field == 4) {
      fail_msg("a string tensor went out as tensor_content");
    }
  }
  assert_true(dtype_seen);
  assert_int_equal(ndims, nd);
  assert_int_equal(nstr, n);
}

/* A fetched string tensor serialized as TensorFlow lays it out, parsed
** back, fed again and fetched again unchanged; and TensorFlow's other
** encoding (tensor_content: varint lengths, then the bytes) fed too. */
static void t_string_tensor_proto(void **state) {
  (void)state;
  const char *v[3] = {bin3, "", bin5};
  size_t lens[3] = {3, 0, 5};
  kiln_output x = ph(KILN_STRING, "x");
  kiln_output id = kiln_identity(g, x, "id", s);
  assert_ok(s);
  kiln_tensor *fv = string_tensor(v, lens, DIMS(3, 1));
  kiln_tensor *out = NULL;
  run(&x, &fv, 1, &id, &out, 1, NULL, 0);
  assert_ok(s);
  kiln_buffer *b = kn_tensor_serialize_proto(out, s);
  assert_ok(s);
  assert_non_null(b);
  check_string_proto(b, DIMS(3, 1), v, lens, 3);
  kiln_tensor *back = kn_tensor_parse_proto(b->data, b->length, s);
  assert_ok(s);
  expect_strings(back, DIMS(3, 1), v, lens);
  kiln_buffer_free(b);
  kiln_tensor_free(out);
  out = NULL;
  run(&x, &back, 1, &id, &out, 1, NULL, 0);
  assert_ok(s);
  expect_strings(out, DIMS(3, 1), v, lens);
  kiln_tensor_free(out);

  /* dtype 7, shape [3], tensor_content = lengths 3,0,5 then the bytes. */
  uint8_t msg[64];
  size_t at = 0;
  msg[at++] = 0x08, msg[at++] = 7;                     /* dtype */
  msg[at++] = 0x12, msg[at++] = 4;                     /* tensor_shape */
  msg[at++] = 0x12, msg[at++] = 2, msg[at++] = 0x08, msg[at++] = 3;
  msg[at++] = 0x22, msg[at++] = 3 + 8;                 /* tensor_content */
  msg[at++] = 3, msg[at++] = 0, msg[at++] = 5;
  memcpy(msg + at, bin3, 3), at += 3;
  memcpy(msg + at, bin5, 5), at += 5;
  kiln_tensor *tc = kn_tensor_parse_proto(msg, at, s);
  assert_ok(s);
  out = NULL;
  run(&x, &tc, 1, &id, &out, 1, NULL, 0);
  assert_ok(s);
  expect_strings(out, DIMS(3), v, lens);
  /* Written back, it takes the string_val form. */
  b = kn_tensor_serialize_proto(out, s);
  assert_ok(s);
  check_string_proto(b, DIMS(3), v, lens, 3);
  kiln_buffer_free(b);
  kiln_tensor_free(out);
}

/* ------------------------------------------------------------ StringJoin */

static void t_string_join(void **state) {
  (void)state;
  /* Scalars with a separator. */
  kiln_output abc[3] = {kstr("a", 1), kstr("bb", 2), kstr("", 0)};
  expect_scalar_string(eval(string_join("j1", abc, 3, "--", 2)), "a--bb--", 7);
  /* A vector with scalars repeated along it; no separator. */
  const char *xy[2] = {"x", "yz"};
  kiln_tensor *vec = string_tensor(xy, NULL, DIMS(2));
  kiln_output vin[3] = {kstr("<", 1), kiln_const(g, vec, NULL, s), kstr(">", 1)};
  assert_ok(s);
  kiln_tensor_free(vec);
  kiln_tensor *t = eval(string_join("j2", vin, 3, NULL, 0));
  const char *want2[2] = {"<x>", "<yz>"};
  size_t wl2[2] = {3, 4};
  expect_strings(t, DIMS(2), want2, wl2);
  kiln_tensor_free(t);
  /* Binary strings and a separator holding a NUL: every byte is kept (the
  ** separator too; TensorFlow's kernel would cut it at the NUL, passing it
  ** on as a C string). */
  kiln_output bin[2] = {kstr(bin3, 3), kstr(bin5, 5)};
  char want3[3 + 2 + 5];
  memcpy(want3, bin3, 3);
  memcpy(want3 + 3, "\0|", 2);
  memcpy(want3 + 5, bin5, 5);
  expect_scalar_string(eval(string_join("j3", bin, 2, "\0|", 2)), want3, 10);
  /* One input: itself. */
  expect_scalar_string(eval(string_join("j4", bin, 1, ",", 1)), bin3, 3);
  /* No inputs at all (N = 0): one empty string. */
  expect_scalar_string(eval(string_join("j5", NULL, 0, ",", 1)), "", 0);
}

static void t_string_join_shapes(void **state) {
  (void)state;
  kiln_output a = ph(KILN_STRING, "a"), b = ph(KILN_STRING, "b");
  kiln_output in[3] = {a, kstr("-", 1), b};
  kiln_output j = string_join("join", in, 3, NULL, 0);
  const char *two[2] = {"p", "q"}, *three[3] = {"1", "2", "3"};
  /* Matching shapes, rank 2. */
  kiln_output feeds[2] = {a, b};
  kiln_tensor *fv[2] = {string_tensor(two, NULL, DIMS(2, 1)),
                        string_tensor(three, NULL, DIMS(2, 1))};
  kiln_tensor *out = NULL;
  run(feeds, fv, 2, &j, &out, 1, NULL, 0);
  assert_ok(s);
  const char *want[2] = {"p-1", "q-2"};
  size_t wl[2] = {3, 3};
  expect_strings(out, DIMS(2, 1), want, wl);
  kiln_tensor_free(out);
  /* Empty tensors join to an empty tensor. */
  const char *none[1] = {""};
  kiln_tensor *fe[2] = {string_tensor(none, NULL, DIMS(0, 3)),
                        string_tensor(none, NULL, DIMS(0, 3))};
  out = NULL;
  run(feeds, fe, 2, &j, &out, 1, NULL, 0);
  assert_ok(s);
  expect_strings(out, DIMS(0, 3), none, NULL);
  kiln_tensor_free(out);
  /* Shapes that differ: TensorFlow's message. */
  kiln_tensor *fb[2] = {string_tensor(two, NULL, DIMS(2)),
                        string_tensor(three, NULL, DIMS(3))};
  out = (kiln_tensor *)1;
  run(feeds, fb, 2, &j, &out, 1, NULL, 0);
  assert_null(out);
  expect_failed(KILN_INVALID_ARGUMENT, "Input shapes do not match: [2] vs. [3]",
                "join");
  kiln_tensor *fr[2] = {string_tensor(two, NULL, DIMS(2)),
                        string_tensor(two, NULL, DIMS(1, 2))};
  run(feeds, fr, 2, &j, &out, 1, NULL, 0);
  expect_failed(KILN_INVALID_ARGUMENT,
                "Input shapes do not match: [2] vs. [1,2]", "join");
}

/* Many elements of random lengths against a naive join. */
static void t_string_join_reference(void **state) {
  (void)state;
  enum { N = 1000 };
  uint32_t seed = 99;
  char *a[N], *b[N];
  size_t al[N], bl[N];
  for (int i = 0; i < N; i++) {
    seed = seed * 1664525u + 1013904223u;
    al[i] = (seed >> 8) % 40;
    seed = seed * 1664525u + 1013904223u;
    bl[i] = (seed >> 8) % 3;
    a[i] = malloc(al[i] + 1);
    b[i] = malloc(bl[i] + 1);
    assert_non_null(a[i]);
    assert_non_null(b[i]);
    for (size_t k = 0; k < al[i]; k++) a[i][k] = (char)(seed >> (k % 24));
    for (size_t k = 0; k < bl[i]; k++) b[i][k] = (char)k;
  }
  kiln_tensor *ta = string_tensor((const char *const *)a, al, DIMS(N));
  kiln_tensor *tb = string_tensor((const char *const *)b, bl, DIMS(N));
  kiln_output in[2] = {kiln_const(g, ta, NULL, s), kiln_const(g, tb, NULL, s)};
  assert_ok(s);
  kiln_tensor_free(ta);
  kiln_tensor_free(tb);
  kiln_tensor *out = eval(string_join("j", in, 2, "::", 2));
  assert_int_equal(kiln_tensor_num_elements(out), N);
  for (int i = 0; i < N; i++) {
    size_t len;
    const char *got = kiln_tensor_string(out, i, &len);
    assert_int_equal(len, al[i] + 2 + bl[i]);
    if (al[i]) assert_memory_equal(got, a[i], al[i]);
    assert_memory_equal(got + al[i], "::", 2);
    if (bl[i]) assert_memory_equal(got + al[i] + 2, b[i], bl[i]);
    free(a[i]);
    free(b[i]);
  }
  kiln_tensor_free(out);
}

/* --------------------------------------------------- ReadFile, WriteFile */

/* Contents with every byte value, written and read back in separate
** steps and in one step (the read ordered after the write). */
static void t_write_read_roundtrip(void **state) {
  (void)state;
  enum { LEN = (1 << 20) + 3 };
  char *data = malloc(LEN);
  assert_non_null(data);
  for (int i = 0; i < LEN; i++) data[i] = (char)(i * 131 + (i >> 9));
  const char *p = path_in("blob.bin");
  kiln_op *w = write_file("write", kstr(p, strlen(p)), kstr(data, LEN));
  run_target(w);
  size_t len = 0;
  char *disk = kt_read_file(p, &len);
  assert_non_null(disk);
  assert_int_equal(len, LEN);
  assert_memory_equal(disk, data, LEN);
  free(disk);
  expect_scalar_string(eval(read_file("read", kstr(p, strlen(p)))), data, LEN);

  /* In one step: a control edge orders the read after the write. */
  const char *q = path_in("same_step.txt");
  kiln_op *w2 = write_file("write2", kstr(q, strlen(q)), kstr(bin5, 5));
  kiln_op_desc *d = kiln_op_desc_new(g, "ReadFile", "read2");
  kiln_op_desc_add_input(d, kstr(q, strlen(q)));
  kiln_op_desc_add_control_input(d, w2);
  kiln_output r2 = {kiln_op_desc_finish(d, s), 0};
  assert_ok(s);
  expect_scalar_string(eval(r2), bin5, 5);

  /* Empty contents make an empty file, read back as "". */
  const char *e = path_in("empty");
  run_target(write_file("write3", kstr(e, strlen(e)), kstr("", 0)));
  struct stat st;
  assert_int_equal(stat(e, &st), 0);
  assert_int_equal(st.st_size, 0);
  expect_scalar_string(eval(read_file("read3", kstr(e, strlen(e)))), "", 0);
  free(data);
}

/* The file name fed at run time: one graph reads several files. */
static void t_read_fed_names(void **state) {
  (void)state;
  kiln_output name = ph(KILN_STRING, "name");
  kiln_output r = read_file("read", name);
  kiln_session *sess = kiln_session_new(g, NULL, s);
  assert_ok(s);
  for (int i = 0; i < 3; i++) {
    char fname[32], body[32];
    snprintf(fname, sizeof fname, "f%d.txt", i);
    int n = snprintf(body, sizeof body, "file %d\n", i * 1000);
    const char *p = path_in(fname);
    put_file(p, body, (size_t)n);
    kiln_tensor *fv = scalar_string(p, strlen(p)), *out = NULL;
    kiln_session_run(sess, NULL, &name, &fv, 1, &r, &out, 1, NULL, 0, NULL, s);
    assert_ok(s);
    expect_scalar_string(out, body, (size_t)n);
    kiln_tensor_free(fv);
  }
  kiln_session_free(sess);
}

/* A file whose size stat() only nominally gives (procfs says 0) is read
** to its end. */
static void t_read_proc_file(void **state) {
  (void)state;
  struct stat st;
  if (stat("/proc/self/status", &st) != 0) {
    fprintf(stderr, "# SKIP: no /proc/self/status to read\n");
    skip();
    return;
  }
  kiln_tensor *t = eval(read_file("read", kstr("/proc/self/status", 17)));
  size_t len = 0;
  const char *got = kiln_tensor_string(t, 0, &len);
  assert_true(len > 5);
  assert_memory_equal(got, "Name:", 5);
  kiln_tensor_free(t);
}

static void t_read_missing(void **state) {
  (void)state;
  const char *p = path_in("no/such/file.txt");
  char want[PATH_MAX + 64];
  snprintf(want, sizeof want, "%s; No such file or directory", p);
  expect_read_error(read_file("reader", kstr(p, strlen(p))), KILN_NOT_FOUND,
                    want, "reader");
  /* A missing file in an existing directory, and the empty name. */
  p = path_in("absent");
  snprintf(want, sizeof want, "%s; No such file or directory", p);
  expect_read_error(read_file("reader2", kstr(p, strlen(p))), KILN_NOT_FOUND,
                    want, "reader2");
  expect_read_error(read_file("reader3", kstr("", 0)), KILN_NOT_FOUND,
                    "; No such file or directory", "reader3");
}

/* TensorFlow's POSIX file reads a directory and fails with EISDIR. */
static void t_read_directory(void **state) {
  (void)state;
  char want[PATH_MAX + 64];
  snprintf(want, sizeof want, "%s; Is a directory", tmp);
  expect_read_error(read_file("reader", kstr(tmp, strlen(tmp))),
                    KILN_FAILED_PRECONDITION, want, "reader");
}

static void t_read_permission_denied(void **state) {
  (void)state;
  const char *p = path_in("secret.txt");
  put_file(p, "top secret", 10);
  assert_int_equal(chmod(p, 0000), 0);
  /* And one in a directory the user may not search. */
  const char *dir = path_in("locked");
  assert_int_equal(mkdir(dir, 0700), 0);
  const char *inner = path_in("locked/inner.txt");
  put_file(inner, "x", 1);
  assert_int_equal(chmod(dir, 0000), 0);
  kiln_output r1 = read_file("reader", kstr(p, strlen(p)));
  kiln_output r2 = read_file("reader2", kstr(inner, strlen(inner)));
  kiln_session *sess = kiln_session_new(g, NULL, s);
  assert_ok(s);
  if (!kt_unprivileged_begin()) {
    kiln_session_free(sess);
    skip();
    return;
  }
  kiln_status *s1 = kiln_status_new(), *s2 = kiln_status_new();
  kiln_tensor *o1 = NULL, *o2 = NULL;
  kiln_session_run(sess, NULL, NULL, NULL, 0, &r1, &o1, 1, NULL, 0, NULL, s1);
  kiln_session_run(sess, NULL, NULL, NULL, 0, &r2, &o2, 1, NULL, 0, NULL, s2);
  kt_unprivileged_end();
  kiln_session_free(sess);
  char want[PATH_MAX + 64];
  snprintf(want, sizeof want, "%s; Permission denied", p);
  kiln_status_set(s, kiln_status_code(s1), kiln_status_message(s1));
  kiln_status_free(s1);
  assert_null(o1);
  expect_failed(KILN_PERMISSION_DENIED, want, "reader");
  snprintf(want, sizeof want, "%s; Permission denied", inner);
  kiln_status_set(s, kiln_status_code(s2), kiln_status_message(s2));
  kiln_status_free(s2);
  assert_null(o2);
  expect_failed(KILN_PERMISSION_DENIED, want, "reader2");
}

/* The reader of ReadFile in its own thread. */
typedef struct read_job {
  kiln_session *sess;
  kiln_output out;
  kiln_tensor *value;
  kiln_status *st;
} read_job;

static void *read_thread(void *arg) {
  read_job *j = arg;
  kiln_session_run(j->sess, NULL, NULL, NULL, 0, &j->out, &j->value, 1, NULL,
                   0, NULL, j->st);
  return NULL;
}

/* A file that shrinks between the size check and the read is DATA_LOSS.
** The test holds a write lease on the file: the kernel's open() breaks it
** and waits, the test sees the break pending, truncates the file (it is
** the lease holder, so its own truncate does not wait) and lets go. */
static void t_read_truncated(void **state) {
  (void)state;
  enum { SIZE = 65536 };
  char *body = malloc(SIZE);
  assert_non_null(body);
  memset(body, 'x', SIZE);
  const char *p = path_in("shrinking.dat");
  put_file(p, body, SIZE);
  free(body);
  kiln_output r = read_file("reader", kstr(p, strlen(p)));
  kiln_session *sess = kiln_session_new(g, NULL, s);
  assert_ok(s);

  struct sigaction ign = {.sa_handler = SIG_IGN}, old;
  sigemptyset(&ign.sa_mask);
  sigaction(SIGIO, &ign, &old); /* the lease break signals its holder */
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
  read_job job = {.sess = sess, .out = r, .st = kiln_status_new()};
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, read_thread, &job), 0);
  /* Wait (up to a minute: valgrind is slow) for the open() to break the
  ** lease; the kernel has stat()ed the file by then. */
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
  kiln_status_set(s, kiln_status_code(job.st), kiln_status_message(job.st));
  kiln_status_free(job.st);
  if (!broken) fail_msg("the reader never opened %s", p);
  assert_null(job.value);
  char want[PATH_MAX + 64];
  snprintf(want, sizeof want, "Truncated read of '%s' expected %d got 10", p,
           SIZE);
  expect_failed(KILN_DATA_LOSS, want, "reader");
}

/* WriteFile makes the directories the path lacks, as TensorFlow's does. */
static void t_write_makes_dirs(void **state) {
  (void)state;
  const char *p = path_in("a/b//c/out.txt");
  run_target(write_file("write", kstr(p, strlen(p)), kstr("deep", 4)));
  struct stat st;
  assert_int_equal(stat(path_in("a/b/c"), &st), 0);
  assert_true(S_ISDIR(st.st_mode));
  size_t len;
  char *got = kt_read_file(path_in("a/b/c/out.txt"), &len);
  assert_non_null(got);
  assert_int_equal(len, 4);
  assert_memory_equal(got, "deep", 4);
  free(got);
  /* A relative path's directories are made under the working directory. */
  char cwd[PATH_MAX];
  assert_non_null(getcwd(cwd, sizeof cwd));
  assert_int_equal(chdir(tmp), 0);
  kiln_op *w = write_file("write_rel", kstr("rel/dir/x", 9), kstr("r", 1));
  run(NULL, NULL, 0, NULL, NULL, 0, &w, 1);
  assert_int_equal(chdir(cwd), 0);
  assert_ok(s);
  assert_int_equal(stat(path_in("rel/dir/x"), &st), 0);
  assert_int_equal(st.st_size, 1);
}

/* TensorFlow's WriteFile opens with fopen(path, "w"): no op or attr of it
** forbids an existing file, so there is no ALREADY_EXISTS to raise; the
** old contents are replaced whole (nothing of a longer old file stays). */
static void t_write_overwrites(void **state) {
  (void)state;
  const char *p = path_in("over.txt");
  put_file(p, "a much longer old content", 25);
  run_target(write_file("write", kstr(p, strlen(p)), kstr("new", 3)));
  size_t len;
  char *got = kt_read_file(p, &len);
  assert_non_null(got);
  assert_int_equal(len, 3);
  assert_memory_equal(got, "new", 3);
  free(got);
  /* Twice more through one session: still replaced each time. */
  kiln_output c = ph(KILN_STRING, "c");
  kiln_op *w = write_file("write2", kstr(p, strlen(p)), c);
  kiln_session *sess = kiln_session_new(g, NULL, s);
  assert_ok(s);
  const char *bodies[2] = {"second!", "3"};
  for (int i = 0; i < 2; i++) {
    kiln_tensor *fv = scalar_string(bodies[i], strlen(bodies[i]));
    kiln_session_run(sess, NULL, &c, &fv, 1, NULL, NULL, 0, &w, 1, NULL, s);
    kiln_tensor_free(fv);
    assert_ok(s);
    got = kt_read_file(p, &len);
    assert_non_null(got);
    assert_int_equal(len, strlen(bodies[i]));
    assert_memory_equal(got, bodies[i], len);
    free(got);
  }
  kiln_session_free(sess);
}

static void t_write_errors(void **state) {
  (void)state;
  char want[2 * PATH_MAX + 128];
  /* The path is a directory. */
  snprintf(want, sizeof want, "%s; Is a directory", tmp);
  expect_write_error(write_file("w_dir", kstr(tmp, strlen(tmp)), kstr("x", 1)),
                     KILN_FAILED_PRECONDITION, want, "w_dir");
  /* The parent is a file: opening below it fails. */
  const char *plain = path_in("plain");
  put_file(plain, "f", 1);
  const char *below = path_in("plain/out.txt");
  snprintf(want, sizeof want, "%s; Not a directory", below);
  expect_write_error(
      write_file("w_notdir", kstr(below, strlen(below)), kstr("x", 1)),
      KILN_FAILED_PRECONDITION, want, "w_notdir");
  /* A missing directory below a file cannot be made. */
  const char *deeper = path_in("plain/sub/out.txt");
  snprintf(want, sizeof want,
           "%s/plain/sub; Not a directory (making the directory of '%s')", tmp,
           deeper);
  expect_write_error(
      write_file("w_mkdir", kstr(deeper, strlen(deeper)), kstr("x", 1)),
      KILN_FAILED_PRECONDITION, want, "w_mkdir");
  size_t len;
  char *kept = kt_read_file(plain, &len);
  assert_non_null(kept);
  assert_int_equal(len, 1);
  free(kept);
}

static void t_write_permission_denied(void **state) {
  (void)state;
  const char *ro = path_in("readonly");
  assert_int_equal(mkdir(ro, 0755), 0);
  assert_int_equal(chmod(ro, 0555), 0);
  const char *p = path_in("readonly/new.txt");
  const char *deep = path_in("readonly/sub/new.txt");
  kiln_op *w1 = write_file("w_file", kstr(p, strlen(p)), kstr("x", 1));
  kiln_op *w2 = write_file("w_sub", kstr(deep, strlen(deep)), kstr("x", 1));
  kiln_session *sess = kiln_session_new(g, NULL, s);
  assert_ok(s);
  if (!kt_unprivileged_begin()) {
    kiln_session_free(sess);
    skip();
    return;
  }
  kiln_status *s1 = kiln_status_new(), *s2 = kiln_status_new();
  kiln_session_run(sess, NULL, NULL, NULL, 0, NULL, NULL, 0, &w1, 1, NULL, s1);
  kiln_session_run(sess, NULL, NULL, NULL, 0, NULL, NULL, 0, &w2, 1, NULL, s2);
  kt_unprivileged_end();
  kiln_session_free(sess);
  char want[2 * PATH_MAX + 128];
  snprintf(want, sizeof want, "%s; Permission denied", p);
  kiln_status_set(s, kiln_status_code(s1), kiln_status_message(s1));
  kiln_status_free(s1);
  expect_failed(KILN_PERMISSION_DENIED, want, "w_file");
  snprintf(want, sizeof want,
           "%s/readonly/sub; Permission denied (making the directory of '%s')",
           tmp, deep);
  kiln_status_set(s, kiln_status_code(s2), kiln_status_message(s2));
  kiln_status_free(s2);
  expect_failed(KILN_PERMISSION_DENIED, want, "w_sub");
  struct stat st;
  assert_int_not_equal(stat(p, &st), 0);
}

/* Names that are not scalars, or hold a NUL byte, reach the kernels
** through placeholders of unknown shape. */
static void t_bad_names(void **state) {
  (void)state;
  kiln_output name = ph(KILN_STRING, "name"), body = ph(KILN_STRING, "body");
  kiln_output r = read_file("reader", name);
  kiln_op *w = write_file("writer", name, body);
  const char *two[2] = {"a", "b"};
  kiln_tensor *fv = string_tensor(two, NULL, DIMS(2)), *out = (kiln_tensor *)1;
  run(&name, &fv, 1, &r, &out, 1, NULL, 0);
  assert_null(out);
  expect_failed(KILN_INVALID_ARGUMENT,
                "Input filename tensor must be scalar, but had shape: [2]",
                "reader");
  kiln_output feeds[2] = {name, body};
  const char *p = path_in("never");
  kiln_tensor *fw[2] = {string_tensor(two, NULL, DIMS(1, 2)),
                        scalar_string("x", 1)};
  run(feeds, fw, 2, NULL, NULL, 0, &w, 1);
  expect_failed(KILN_INVALID_ARGUMENT,
                "Input filename tensor must be scalar, but had shape: [1,2]",
                "writer");
  kiln_tensor *fc[2] = {scalar_string(p, strlen(p)),
                        string_tensor(two, NULL, DIMS(1))};
  run(feeds, fc, 2, NULL, NULL, 0, &w, 1);
  expect_failed(KILN_INVALID_ARGUMENT,
                "Contents tensor must be scalar, but had shape: [1]", "writer");
  struct stat st;
  assert_int_not_equal(stat(p, &st), 0);
  /* A NUL inside the name would make the OS see another path. */
  char nul_name[PATH_MAX + 8];
  int n = snprintf(nul_name, sizeof nul_name, "%s", p);
  memcpy(nul_name + n, "\0.txt", 5);
  fv = scalar_string(nul_name, (size_t)n + 5);
  out = (kiln_tensor *)1;
  run(&name, &fv, 1, &r, &out, 1, NULL, 0);
  assert_null(out);
  char want[PATH_MAX + 64];
  snprintf(want, sizeof want, "File name contains a NUL byte at offset %d: '%s",
           n, p);
  expect_failed(KILN_INVALID_ARGUMENT, want, "reader");
  kiln_tensor *fn[2] = {scalar_string(nul_name, (size_t)n + 5),
                        scalar_string("x", 1)};
  run(feeds, fn, 2, NULL, NULL, 0, &w, 1);
  expect_failed(KILN_INVALID_ARGUMENT, want, "writer");
  assert_int_not_equal(stat(p, &st), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(t_cpu_loaded),
      cmocka_unit_test_setup_teardown(t_string_feed_fetch, setup, teardown),
      cmocka_unit_test_setup_teardown(t_string_empty, setup, teardown),
      cmocka_unit_test_setup_teardown(t_string_tensor_proto, setup, teardown),
      cmocka_unit_test_setup_teardown(t_string_join, setup, teardown),
      cmocka_unit_test_setup_teardown(t_string_join_shapes, setup, teardown),
      cmocka_unit_test_setup_teardown(t_string_join_reference, setup, teardown),
      cmocka_unit_test_setup_teardown(t_write_read_roundtrip, setup, teardown),
      cmocka_unit_test_setup_teardown(t_read_fed_names, setup, teardown),
      cmocka_unit_test_setup_teardown(t_read_proc_file, setup, teardown),
      cmocka_unit_test_setup_teardown(t_read_missing, setup, teardown),
      cmocka_unit_test_setup_teardown(t_read_directory, setup, teardown),
      cmocka_unit_test_setup_teardown(t_read_permission_denied, setup, teardown),
      cmocka_unit_test_setup_teardown(t_read_truncated, setup, teardown),
      cmocka_unit_test_setup_teardown(t_write_makes_dirs, setup, teardown),
      cmocka_unit_test_setup_teardown(t_write_overwrites, setup, teardown),
      cmocka_unit_test_setup_teardown(t_write_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(t_write_permission_denied, setup, teardown),
      cmocka_unit_test_setup_teardown(t_bad_names, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
