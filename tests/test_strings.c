/*
** DT_STRING end to end: string tensors made through the public API (empty
** strings, embedded NULs, a long string), fed to placeholders and fetched
** through Identity, Reshape and StringJoin; string Consts read from a
** GraphDef built here with protobuf-c in TensorFlow's layout (one
** string_val per element, fewer values repeating the last, and the
** tensor_content encoding of varint lengths then bytes); TensorProto
** serialization and parsing; the errors of the string tensor API and of
** string feeds.
*/
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "attr_value.pb-c.h"
#include "graph.pb-c.h"
#include "graph_def.h"
#include "node_def.pb-c.h"
#include "tensor.pb-c.h"
#include "tensor_internal.h"
#include "versions.pb-c.h"
#define KT_GRAPH_FIXTURE
#include "sessionutil.h"

/* A string with NULs inside and at both ends. */
static const char nul5[5] = {'\0', 'a', '\0', 'b', '\0'};

/* ------------------------------------------------------------ helpers */

static kiln_tensor *strings(const char *const *v, const size_t *lens,
                            const int64_t *dims, int nd) {
  kiln_tensor *t = kiln_tensor_new(KILN_STRING, dims, nd, s);
  assert_ok(s);
  for (int64_t i = 0; i < kiln_tensor_num_elements(t); i++) {
    kiln_tensor_set_string(t, i, v[i], lens ? lens[i] : strlen(v[i]), s);
    assert_ok(s);
  }
  return t;
}

/* Checks dtype, shape and every element's bytes. */
static void expect_strings(const kiln_tensor *t, const int64_t *dims, int nd,
                           const char *const *v, const size_t *lens) {
  assert_non_null(t);
  assert_int_equal(kiln_tensor_dtype(t), KILN_STRING);
  assert_int_equal(kiln_tensor_ndims(t), nd);
  for (int i = 0; i < nd; i++) assert_int_equal(kiln_tensor_dim(t, i), dims[i]);
  assert_null(kiln_tensor_data(t));
  size_t total = 0;
  for (int64_t i = 0; i < kiln_tensor_num_elements(t); i++) {
    size_t len = 7777, want = lens ? lens[i] : strlen(v[i]);
    const char *got = kiln_tensor_string(t, i, &len);
    assert_non_null(got);
    if (len != want)
      fail_msg("element %lld: length %zu, want %zu", (long long)i, len, want);
    if (memcmp(got, v[i], len) != 0)
      fail_msg("element %lld: bytes differ", (long long)i);
    /* Kiln keeps a NUL after the bytes. */
    assert_int_equal(got[len], '\0');
    total += len;
  }
  assert_int_equal(kiln_tensor_byte_size(t), total);
}

static kiln_output ph(kiln_dtype t, const int64_t *dims, int nd,
                      const char *name) {
  kiln_output o = kiln_placeholder(g, t, dims, nd, name, s);
  assert_ok(s);
  return o;
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

/* One step in a new session on g; the status is left in s. */
static void run(const kiln_output *feeds, kiln_tensor *const *fv, int nf,
                const kiln_output *fetches, kiln_tensor **out, int n) {
  kiln_session *sess = kiln_session_new(g, NULL, s);
  assert_ok(s);
  kiln_session_run(sess, NULL, feeds, fv, nf, fetches, out, n, NULL, 0, NULL, s);
  kiln_session_free(sess);
}

/* A long string of every byte value. */
static char *long_string(size_t n) {
  char *p = malloc(n);
  assert_non_null(p);
  for (size_t i = 0; i < n; i++) p[i] = (char)(i * 31 + (i >> 8));
  return p;
}

/* ------------------------------------------------ GraphDef by protobuf-c */

/* Nodes and their parts live in static pools: one GraphDef per test. */
typedef struct gd {
  Tensorflow__GraphDef def;
  Tensorflow__VersionDef versions;
  Tensorflow__NodeDef nodes[8], *node_ptrs[8];
  Tensorflow__NodeDef__AttrEntry attrs[8][4], *attr_ptrs[8][4];
  Tensorflow__AttrValue values[8][4];
  char *inputs[8][4];
} gd;

static void gd_init(gd *b) {
  memset(b, 0, sizeof *b);
  tensorflow__graph_def__init(&b->def);
  tensorflow__version_def__init(&b->versions);
  b->versions.producer = 27;
  b->def.versions = &b->versions;
  b->def.node = b->node_ptrs;
}

static Tensorflow__NodeDef *gd_node(gd *b, const char *name, const char *op) {
  size_t i = b->def.n_node++;
  assert_true(i < 8);
  Tensorflow__NodeDef *n = &b->nodes[i];
  tensorflow__node_def__init(n);
  n->name = (char *)name;
  n->op = (char *)op;
  n->input = b->inputs[i];
  n->attr = b->attr_ptrs[i];
  b->node_ptrs[i] = n;
  return n;
}

static Tensorflow__AttrValue *gd_attr(gd *b, Tensorflow__NodeDef *n,
                                      const char *key) {
  size_t ni = (size_t)(n - b->nodes), k = n->n_attr++;
  assert_true(k < 4);
  Tensorflow__NodeDef__AttrEntry *e = &b->attrs[ni][k];
  Tensorflow__AttrValue *v = &b->values[ni][k];
  tensorflow__node_def__attr_entry__init(e);
  tensorflow__attr_value__init(v);
  e->key = (char *)key;
  e->value = v;
  n->attr[k] = e;
  return v;
}

static void gd_input(Tensorflow__NodeDef *n, const char *in) {
  assert_true(n->n_input < 4);
  n->input[n->n_input++] = (char *)in;
}

static void gd_type(gd *b, Tensorflow__NodeDef *n, const char *key,
                    kiln_dtype t) {
  Tensorflow__AttrValue *v = gd_attr(b, n, key);
  v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_TYPE;
  v->type = (Tensorflow__DataType)t;
}

/* A string Const holding the TensorProto p. */
static void gd_const(gd *b, const char *name, Tensorflow__TensorProto *p) {
  Tensorflow__NodeDef *n = gd_node(b, name, "Const");
  gd_type(b, n, "dtype", (kiln_dtype)p->dtype);
  Tensorflow__AttrValue *v = gd_attr(b, n, "value");
  v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_TENSOR;
  v->tensor = p;
}

/* Packs the GraphDef and imports it into g; returns the status code. */
static kiln_code gd_import(gd *b) {
  size_t len = tensorflow__graph_def__get_packed_size(&b->def);
  uint8_t *buf = malloc(len ? len : 1);
  assert_non_null(buf);
  tensorflow__graph_def__pack(&b->def, buf);
  kiln_import_results *r = kiln_graph_import(g, buf, len, NULL, s);
  free(buf);
  kiln_import_results_free(r);
  return kiln_status_code(s);
}

/* A TensorProto of dtype string and the given shape over caller storage. */
typedef struct sproto {
  Tensorflow__TensorProto p;
  Tensorflow__TensorShapeProto shape;
  Tensorflow__TensorShapeProto__Dim dim[4], *dim_ptrs[4];
  ProtobufCBinaryData vals[8];
} sproto;

static Tensorflow__TensorProto *sproto_make(sproto *sp, kiln_dtype t,
                                            const int64_t *dims, int nd,
                                            const char *const *v,
                                            const size_t *lens, int nv) {
  memset(sp, 0, sizeof *sp);
  tensorflow__tensor_proto__init(&sp->p);
  tensorflow__tensor_shape_proto__init(&sp->shape);
  sp->p.dtype = (Tensorflow__DataType)t;
  sp->p.tensor_shape = &sp->shape;
  for (int i = 0; i < nd; i++) {
    tensorflow__tensor_shape_proto__dim__init(&sp->dim[i]);
    sp->dim[i].size = dims[i];
    sp->dim_ptrs[i] = &sp->dim[i];
  }
  sp->shape.dim = sp->dim_ptrs;
  sp->shape.n_dim = (size_t)nd;
  for (int i = 0; i < nv; i++) {
    sp->vals[i].data = (uint8_t *)v[i];
    sp->vals[i].len = lens ? lens[i] : strlen(v[i]);
  }
  sp->p.string_val = sp->vals;
  sp->p.n_string_val = (size_t)nv;
  return &sp->p;
}

/* --------------------------------------------------- the tensor API */

static void t_tensor_api(void **state) {
  (void)state;
  enum { LONG = 1 << 20 };
  char *big = long_string(LONG);
  kiln_tensor *t = kiln_tensor_new(KILN_STRING, DIMS(2, 2), s);
  assert_ok(s);
  /* New elements are empty strings, never NULL. */
  for (int i = 0; i < 4; i++) {
    size_t len = 9;
    const char *e = kiln_tensor_string(t, i, &len);
    assert_non_null(e);
    assert_int_equal(len, 0);
    assert_int_equal(e[0], '\0');
  }
  assert_int_equal(kiln_tensor_byte_size(t), 0);
  kiln_tensor_set_string(t, 0, "x", 1, s);
  assert_ok(s);
  kiln_tensor_set_string(t, 1, nul5, sizeof nul5, s);
  kiln_tensor_set_string(t, 2, big, LONG, s);
  kiln_tensor_set_string(t, 3, NULL, 0, s);
  assert_ok(s);
  /* Replacing an element frees the old bytes (valgrind checks). */
  kiln_tensor_set_string(t, 0, "", 0, s);
  assert_ok(s);
  const char *want[4] = {"", nul5, big, ""};
  size_t lens[4] = {0, sizeof nul5, LONG, 0};
  expect_strings(t, DIMS(2, 2), want, lens);

  /* Errors leave the element as it was. */
  kiln_tensor_set_string(t, 4, "y", 1, s);
  assert_status(s, KILN_INVALID_ARGUMENT,
                "string index 4 is out of range for a tensor of 4 elements");
  kiln_tensor_set_string(t, -1, "y", 1, s);
  assert_status(s, KILN_INVALID_ARGUMENT, "string index -1 is out of range");
  kiln_tensor_set_string(t, 1, NULL, 5, s);
  assert_status(s, KILN_INVALID_ARGUMENT, "string of 5 bytes given no data");
  expect_strings(t, DIMS(2, 2), want, lens);
  size_t len = 9;
  assert_null(kiln_tensor_string(t, 4, &len));
  assert_int_equal(len, 0);
  assert_null(kiln_tensor_string(t, -1, NULL));

  kiln_tensor *f = kiln_tensor_new(KILN_FLOAT, DIMS(2), s);
  kiln_tensor_set_string(f, 0, "y", 1, s);
  assert_status(s, KILN_INVALID_ARGUMENT,
                "kiln_tensor_set_string on a float tensor, not a string tensor");
  assert_null(kiln_tensor_string(f, 0, &len));
  kiln_tensor_free(f);
  char mem[16];
  assert_null(kiln_tensor_wrap(KILN_STRING, DIMS(1), mem, sizeof mem, NULL,
                               NULL, s));
  assert_status(s, KILN_INVALID_ARGUMENT,
                "string tensors cannot wrap caller memory");
  kiln_tensor_free(t);

  /* A scalar and empty string tensors. */
  t = kiln_tensor_new(KILN_STRING, SCALAR, s);
  assert_ok(s);
  assert_int_equal(kiln_tensor_num_elements(t), 1);
  kiln_tensor_free(t);
  t = kiln_tensor_new(KILN_STRING, DIMS(0), s);
  assert_ok(s);
  assert_int_equal(kiln_tensor_num_elements(t), 0);
  assert_null(kiln_tensor_string(t, 0, NULL));
  kiln_tensor_free(t);
  t = kiln_tensor_new(KILN_STRING, DIMS(4, 0, 2), s);
  assert_ok(s);
  kiln_tensor_free(t);
  free(big);
}

/* ------------------------------------------------- feeding and fetching */

static void t_feed_identity_join(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  enum { LONG = 300000 };
  char *big = long_string(LONG);
  kiln_output x = ph(KILN_STRING, DIMS(-1), "x");
  kiln_output id = kiln_identity(g, x, "id", s);
  kiln_output shaped = kiln_reshape_dims(g, x, DIMS(2, 2), "r", s);
  kiln_output tail = kiln_const_string(g, "!\0?", 3, "tail", s);
  assert_ok(s);
  kiln_output in2[2] = {x, tail};
  kiln_output joined = string_join("join", in2, 2, ", ", 2);
  kiln_output in3[3] = {x, x, tail};
  kiln_output nul_sep = string_join("join_nul", in3, 3, "\0", 1);
  kiln_output plain = string_join("join_plain", in2, 2, NULL, 0);

  const char *v[4] = {"", nul5, big, "abc"};
  size_t lens[4] = {0, sizeof nul5, LONG, 3};
  kiln_tensor *fv = strings(v, lens, DIMS(4));
  kiln_output fetch[6] = {x, id, shaped, joined, nul_sep, plain};
  kiln_tensor *out[6] = {NULL};
  run(&x, &fv, 1, fetch, out, 6);
  assert_ok(s);
  expect_strings(out[0], DIMS(4), v, lens);
  expect_strings(out[1], DIMS(4), v, lens);
  expect_strings(out[2], DIMS(2, 2), v, lens);
  /* The fed tensor is unchanged by the run. */
  expect_strings(fv, DIMS(4), v, lens);

  char *w[4], *n[4], *p[4];
  size_t wl[4], nl[4], pl[4];
  for (int i = 0; i < 4; i++) {
    w[i] = malloc(lens[i] + 5);
    n[i] = malloc(2 * lens[i] + 5);
    p[i] = malloc(lens[i] + 3);
    assert_true(w[i] && n[i] && p[i]);
    memcpy(w[i], v[i], lens[i]);
    memcpy(w[i] + lens[i], ", !\0?", 5);
    wl[i] = lens[i] + 5;
    memcpy(n[i], v[i], lens[i]);
    n[i][lens[i]] = '\0';
    memcpy(n[i] + lens[i] + 1, v[i], lens[i]);
    memcpy(n[i] + 2 * lens[i] + 1, "\0!\0?", 4);
    nl[i] = 2 * lens[i] + 5;
    memcpy(p[i], v[i], lens[i]);
    memcpy(p[i] + lens[i], "!\0?", 3);
    pl[i] = lens[i] + 3;
  }
  expect_strings(out[3], DIMS(4), (const char *const *)w, wl);
  expect_strings(out[4], DIMS(4), (const char *const *)n, nl);
  expect_strings(out[5], DIMS(4), (const char *const *)p, pl);
  for (int i = 0; i < 4; i++) {
    free(w[i]);
    free(n[i]);
    free(p[i]);
  }
  for (int i = 0; i < 6; i++) kiln_tensor_free(out[i]);

  /* A session reused: the same step again, then an empty feed. */
  kiln_session *sess = kiln_session_new(g, NULL, s);
  for (int k = 0; k < 3; k++) {
    kiln_tensor *o = NULL;
    kiln_session_run(sess, NULL, &x, &fv, 1, &joined, &o, 1, NULL, 0, NULL, s);
    assert_ok(s);
    assert_int_equal(kiln_tensor_num_elements(o), 4);
    kiln_tensor_free(o);
  }
  kiln_tensor *empty = kiln_tensor_new(KILN_STRING, DIMS(0), s);
  kiln_tensor *o = NULL;
  kiln_session_run(sess, NULL, &x, &empty, 1, &joined, &o, 1, NULL, 0, NULL, s);
  assert_ok(s);
  assert_int_equal(kiln_tensor_ndims(o), 1);
  assert_int_equal(kiln_tensor_num_elements(o), 0);
  kiln_tensor_free(o);
  kiln_tensor_free(empty);
  kiln_session_free(sess);
  kiln_tensor_free(fv);
  free(big);
}

/* ------------------------------------------------------ GraphDef import */

/* TensorFlow's layout: one string_val per element, and fewer values than
** elements repeat the last. Imported, run, joined. */
static void t_graph_def_string_const(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  gd b;
  gd_init(&b);
  sproto words, bang, none, one;
  const char *wv[3] = {"", "x\0y", "last"};
  size_t wl[3] = {0, 3, 4};
  gd_const(&b, "words", sproto_make(&words, KILN_STRING, DIMS(2, 3), wv, wl, 3));
  const char *bv[1] = {"!"};
  gd_const(&b, "bang", sproto_make(&bang, KILN_STRING, SCALAR, bv, NULL, 1));
  /* No values at all: every element empty. */
  gd_const(&b, "none", sproto_make(&none, KILN_STRING, DIMS(2), NULL, NULL, 0));
  /* One value for many elements. */
  const char *ov[1] = {"same"};
  gd_const(&b, "one", sproto_make(&one, KILN_STRING, DIMS(3), ov, NULL, 1));
  Tensorflow__NodeDef *j = gd_node(&b, "joined", "StringJoin");
  gd_input(j, "words");
  gd_input(j, "bang:0");
  Tensorflow__AttrValue *n = gd_attr(&b, j, "N");
  n->value_case = TENSORFLOW__ATTR_VALUE__VALUE_I;
  n->i = 2;
  Tensorflow__AttrValue *sep = gd_attr(&b, j, "separator");
  sep->value_case = TENSORFLOW__ATTR_VALUE__VALUE_S;
  sep->s.data = (uint8_t *)"+";
  sep->s.len = 1;
  assert_int_equal(gd_import(&b), KILN_OK);

  kiln_output fetch[4];
  const char *names[4] = {"words", "joined", "none", "one"};
  for (int i = 0; i < 4; i++) {
    fetch[i] = kiln_graph_output(g, names[i], s);
    assert_ok(s);
    assert_int_equal(kiln_op_output_dtype(fetch[i]), KILN_STRING);
  }
  kiln_tensor *out[4] = {NULL};
  run(NULL, NULL, 0, fetch, out, 4);
  assert_ok(s);
  const char *ww[6] = {"", "x\0y", "last", "last", "last", "last"};
  size_t wwl[6] = {0, 3, 4, 4, 4, 4};
  expect_strings(out[0], DIMS(2, 3), ww, wwl);
  const char *jw[6] = {"+!", "x\0y+!", "last+!", "last+!", "last+!", "last+!"};
  size_t jwl[6] = {2, 5, 6, 6, 6, 6};
  expect_strings(out[1], DIMS(2, 3), jw, jwl);
  const char *nw[2] = {"", ""};
  expect_strings(out[2], DIMS(2), nw, NULL);
  const char *sw[3] = {"same", "same", "same"};
  expect_strings(out[3], DIMS(3), sw, NULL);
  for (int i = 0; i < 4; i++) kiln_tensor_free(out[i]);

  /* Exported again, the GraphDef keeps one string_val per element. */
  kiln_buffer *exp = kiln_graph_export(g, s);
  assert_ok(s);
  Tensorflow__GraphDef *back =
      tensorflow__graph_def__unpack(NULL, exp->length, exp->data);
  assert_non_null(back);
  bool seen = false;
  for (size_t i = 0; i < back->n_node; i++) {
    if (strcmp(back->node[i]->name, "words") != 0) continue;
    for (size_t k = 0; k < back->node[i]->n_attr; k++) {
      if (strcmp(back->node[i]->attr[k]->key, "value") != 0) continue;
      Tensorflow__TensorProto *p = back->node[i]->attr[k]->value->tensor;
      assert_int_equal(p->dtype, KILN_STRING);
      assert_int_equal(p->n_string_val, 6);
      assert_int_equal(p->tensor_content.len, 0);
      for (int e = 0; e < 6; e++) {
        assert_int_equal(p->string_val[e].len, wwl[e]);
        assert_memory_equal(p->string_val[e].data, ww[e], wwl[e]);
      }
      seen = true;
    }
  }
  assert_true(seen);
  tensorflow__graph_def__free_unpacked(back, NULL);
  kiln_buffer_free(exp);
}

/* The other encoding TensorFlow reads: tensor_content holding each
** string's length as a varint, then all the bytes. Lengths of 300 and
** 20000 take two- and three-byte varints. */
static void t_graph_def_string_content(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  char *a = long_string(300), *c = long_string(20000);
  size_t clen = 2 + 3 + 1 + 300 + 20000 + 3;
  uint8_t *content = malloc(clen);
  assert_non_null(content);
  size_t at = 0;
  content[at++] = 0x80 | (300 & 0x7f), content[at++] = 300 >> 7;
  content[at++] = 0x80 | (20000 & 0x7f);
  content[at++] = 0x80 | ((20000 >> 7) & 0x7f);
  content[at++] = 20000 >> 14;
  content[at++] = 3;
  memcpy(content + at, a, 300), at += 300;
  memcpy(content + at, c, 20000), at += 20000;
  memcpy(content + at, "a\0b", 3), at += 3;
  assert_int_equal(at, clen);
  gd b;
  gd_init(&b);
  sproto p;
  Tensorflow__TensorProto *tp = sproto_make(&p, KILN_STRING, DIMS(3), NULL, NULL, 0);
  tp->tensor_content.data = content;
  tp->tensor_content.len = clen;
  gd_const(&b, "packed", tp);
  assert_int_equal(gd_import(&b), KILN_OK);
  kiln_output o = kiln_graph_output(g, "packed", s);
  kiln_tensor *out = NULL;
  run(NULL, NULL, 0, &o, &out, 1);
  assert_ok(s);
  const char *want[3] = {a, c, "a\0b"};
  size_t lens[3] = {300, 20000, 3};
  expect_strings(out, DIMS(3), want, lens);
  kiln_tensor_free(out);

  /* One byte short: the lengths promise more than there is. */
  kiln_graph_free(g);
  g = kiln_graph_new();
  gd_init(&b);
  tp = sproto_make(&p, KILN_STRING, DIMS(3), NULL, NULL, 0);
  tp->tensor_content.data = content;
  tp->tensor_content.len = clen - 1;
  gd_const(&b, "short", tp);
  assert_int_equal(gd_import(&b), KILN_INVALID_ARGUMENT);
  assert_status(s, KILN_INVALID_ARGUMENT,
                "does not hold the 3 strings its lengths describe");
  /* A length longer than the content. */
  kiln_status_reset(s);
  gd_init(&b);
  tp = sproto_make(&p, KILN_STRING, DIMS(3), NULL, NULL, 0);
  tp->tensor_content.data = content;
  tp->tensor_content.len = 3;
  gd_const(&b, "long", tp);
  assert_int_equal(gd_import(&b), KILN_INVALID_ARGUMENT);
  assert_status(s, KILN_INVALID_ARGUMENT,
                "string tensor_content of 3 bytes does not hold the 3 strings");
  /* Cut inside the second length: an empty string, then a varint's
  ** continuation byte. */
  kiln_status_reset(s);
  gd_init(&b);
  static const uint8_t cut[2] = {0x00, 0x80};
  tp = sproto_make(&p, KILN_STRING, DIMS(3), NULL, NULL, 0);
  tp->tensor_content.data = (uint8_t *)cut;
  tp->tensor_content.len = sizeof cut;
  gd_const(&b, "cut", tp);
  assert_int_equal(gd_import(&b), KILN_INVALID_ARGUMENT);
  assert_status(s, KILN_INVALID_ARGUMENT,
                "string tensor_content of 2 bytes ends inside the length of "
                "element 1 of 3");
  assert_int_equal(kiln_graph_num_ops(g), 0);
  free(content);
  free(a);
  free(c);
}

/* Malformed string Consts: import refuses them, naming the problem. */
static void t_graph_def_bad_strings(void **state) {
  (void)state;
  gd b;
  sproto p;
  const char *v[3] = {"a", "b", "c"};
  gd_init(&b);
  gd_const(&b, "many", sproto_make(&p, KILN_STRING, DIMS(2), v, NULL, 3));
  assert_int_equal(gd_import(&b), KILN_INVALID_ARGUMENT);
  assert_status(s, KILN_INVALID_ARGUMENT,
                "TensorProto of dtype string and shape [2] has 3 values in "
                "string_val, more than its 2 elements");
  kiln_status_reset(s);
  /* Strings in a float tensor. */
  gd_init(&b);
  gd_const(&b, "wrong", sproto_make(&p, KILN_FLOAT, DIMS(2), v, NULL, 2));
  assert_int_equal(gd_import(&b), KILN_INVALID_ARGUMENT);
  assert_status(s, KILN_INVALID_ARGUMENT,
                "TensorProto of dtype float and shape [2] has 2 values in "
                "string_val; its values belong in float_val");
  kiln_status_reset(s);
  /* Values for an empty tensor. */
  gd_init(&b);
  gd_const(&b, "empty", sproto_make(&p, KILN_STRING, DIMS(0), v, NULL, 1));
  assert_int_equal(gd_import(&b), KILN_INVALID_ARGUMENT);
  assert_status(s, KILN_INVALID_ARGUMENT, "more than its 0 elements");
  assert_int_equal(kiln_graph_num_ops(g), 0);
}

/* --------------------------------------------------------- TensorProto */

static void check_round_trip(const kiln_tensor *t, const int64_t *dims, int nd,
                             const char *const *v, const size_t *lens) {
  kiln_buffer *b = kn_tensor_serialize_proto(t, s);
  assert_ok(s);
  assert_non_null(b);
  Tensorflow__TensorProto *p = tensorflow__tensor_proto__unpack(NULL, b->length, b->data);
  assert_non_null(p);
  assert_int_equal(p->dtype, KILN_STRING);
  assert_int_equal(p->tensor_shape->n_dim, nd);
  for (int i = 0; i < nd; i++) assert_int_equal(p->tensor_shape->dim[i]->size, dims[i]);
  int64_t n = kiln_tensor_num_elements(t);
  assert_int_equal(p->n_string_val, n);
  for (int64_t i = 0; i < n; i++) {
    assert_int_equal(p->string_val[i].len, lens[i]);
    if (lens[i]) assert_memory_equal(p->string_val[i].data, v[i], lens[i]);
  }
  tensorflow__tensor_proto__free_unpacked(p, NULL);
  kiln_tensor *u = kn_tensor_parse_proto(b->data, b->length, s);
  assert_ok(s);
  expect_strings(u, dims, nd, v, lens);
  assert_true(kn_tensor_equal(t, u));
  kiln_tensor_free(u);
  kiln_buffer_free(b);
}

static void t_tensor_proto_round_trip(void **state) {
  (void)state;
  char *big = long_string(70000);
  const char *v[6] = {"", nul5, big, "\xff\xfe", "tail", ""};
  size_t lens[6] = {0, sizeof nul5, 70000, 2, 4, 0};
  kiln_tensor *t = strings(v, lens, DIMS(3, 2));
  check_round_trip(t, DIMS(3, 2), v, lens);
  kiln_tensor_free(t);
  t = strings(v + 1, lens + 1, SCALAR);
  check_round_trip(t, SCALAR, v + 1, lens + 1);
  kiln_tensor_free(t);
  t = strings(v, lens, DIMS(2, 0));
  check_round_trip(t, DIMS(2, 0), v, lens);
  kiln_tensor_free(t);
  /* All empty strings: string_val of empty entries, not of none. */
  const char *e[3] = {"", "", ""};
  size_t el[3] = {0, 0, 0};
  t = strings(e, el, DIMS(3));
  check_round_trip(t, DIMS(3), e, el);
  kiln_tensor_free(t);
  free(big);
}

/* A string Const made through the API, exported and imported into another
** graph, runs to the same strings. */
static void t_export_import_const(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  const char *v[3] = {nul5, "", "zz"};
  size_t lens[3] = {sizeof nul5, 0, 2};
  kiln_tensor *t = strings(v, lens, DIMS(3, 1));
  kiln_output c = kiln_const(g, t, "c", s);
  assert_ok(s);
  kiln_tensor_free(t);
  kiln_buffer *exp = kiln_graph_export(g, s);
  assert_ok(s);
  kiln_graph_free(g);
  g = kiln_graph_new();
  kiln_import_results *r = kiln_graph_import(g, exp->data, exp->length, NULL, s);
  assert_ok(s);
  kiln_import_results_free(r);
  kiln_buffer_free(exp);
  c = kiln_graph_output(g, "c", s);
  assert_ok(s);
  kiln_tensor *out = NULL;
  run(NULL, NULL, 0, &c, &out, 1);
  assert_ok(s);
  expect_strings(out, DIMS(3, 1), v, lens);
  kiln_tensor_free(out);
}

/* ------------------------------------------------------------ errors */

static void expect_feed_error(kiln_output x, kiln_output fetch, kiln_tensor *fv,
                              int nf, kiln_code code, const char *needle) {
  kiln_tensor *out = (kiln_tensor *)1;
  run(&x, &fv, nf, &fetch, &out, 1);
  assert_status(s, code, needle);
  assert_null(out);
  kiln_status_reset(s);
  kiln_tensor_free(fv);
}

static void t_feed_errors(void **state) {
  (void)state;
  KT_REQUIRE_CPU();
  kiln_output x = ph(KILN_STRING, DIMS(2), "x");
  kiln_output id = kiln_identity(g, x, "id", s);
  kiln_output f = ph(KILN_FLOAT, DIMS(2), "f");
  kiln_output fid = kiln_identity(g, f, "fid", s);
  assert_ok(s);
  expect_feed_error(x, id, kt_floats((const float[]){1, 2}, DIMS(2)), 1,
                    KILN_INVALID_ARGUMENT,
                    "Cannot feed value of dtype float for Tensor 'x:0', which "
                    "has dtype string");
  const char *v[3] = {"a", "b", "c"};
  expect_feed_error(f, fid, strings(v, NULL, DIMS(2)), 1,
                    KILN_INVALID_ARGUMENT,
                    "Cannot feed value of dtype string for Tensor 'f:0', which "
                    "has dtype float");
  expect_feed_error(x, id, strings(v, NULL, DIMS(3)), 1, KILN_INVALID_ARGUMENT,
                    "Cannot feed value of shape [3] for Tensor 'x:0', which "
                    "has shape [2]");
  expect_feed_error(x, id, NULL, 0, KILN_INVALID_ARGUMENT,
                    "You must feed a value for placeholder tensor 'x' with "
                    "dtype string and shape [2]");
  /* StringJoin of a float input is refused when built. */
  kiln_op_desc *d = kiln_op_desc_new(g, "StringJoin", "bad_join");
  kiln_output in[2] = {x, f};
  kiln_op_desc_add_input_list(d, in, 2);
  assert_null(kiln_op_desc_finish(d, s));
  assert_int_equal(kiln_status_code(s), KILN_INVALID_ARGUMENT);
  assert_non_null(strstr(kiln_status_message(s), "bad_join"));
  kiln_status_reset(s);
  /* Shapes that StringJoin cannot broadcast fail in the kernel. */
  kiln_output y = ph(KILN_STRING, DIMS(-1), "y");
  kiln_output in2[2] = {x, y};
  kiln_output j = string_join("join", in2, 2, NULL, 0);
  kiln_output feeds[2] = {x, y};
  kiln_tensor *fv[2] = {strings(v, NULL, DIMS(2)), strings(v, NULL, DIMS(3))};
  kiln_tensor *out = (kiln_tensor *)1;
  run(feeds, fv, 2, &j, &out, 1);
  assert_int_equal(kiln_status_code(s), KILN_INVALID_ARGUMENT);
  assert_string_equal(kiln_status_op_name(s), "join");
  assert_null(out);
  kiln_tensor_free(fv[0]);
  kiln_tensor_free(fv[1]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(t_tensor_api, setup, teardown),
      cmocka_unit_test_setup_teardown(t_feed_identity_join, setup, teardown),
      cmocka_unit_test_setup_teardown(t_graph_def_string_const, setup, teardown),
      cmocka_unit_test_setup_teardown(t_graph_def_string_content, setup, teardown),
      cmocka_unit_test_setup_teardown(t_graph_def_bad_strings, setup, teardown),
      cmocka_unit_test_setup_teardown(t_tensor_proto_round_trip, setup, teardown),
      cmocka_unit_test_setup_teardown(t_export_import_const, setup, teardown),
      cmocka_unit_test_setup_teardown(t_feed_errors, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
