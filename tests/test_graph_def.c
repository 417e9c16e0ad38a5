/* GraphDef import and export: the real TensorFlow graphs of the test data,
** hand-built GraphDefs for every bad input (each failure leaves the graph
** as it was), import options and results, and concurrent imports. The
** TensorProto and AttrValue conversions have their own suite,
** test_tensor_proto.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <ctype.h>
#include <dirent.h>
#include <pthread.h>
#include "testutil.h"
#include "attr_value.pb-c.h"
#include "function.pb-c.h"
#include "graph.pb-c.h"
#include "graph_def.h"
#include "graph_internal.h"
#include "node_def.pb-c.h"
#include "status_internal.h"
#include "tensor.pb-c.h"
#include "tensor_internal.h"
#include "versions.pb-c.h"

/* ------------------------------------------------- GraphDef construction */

/* A GraphDef under construction; everything lives in the arena. */
typedef struct gdb {
  kn_arena *a;
  Tensorflow__GraphDef gd;
  Tensorflow__VersionDef v;
  Tensorflow__NodeDef *nodes[64];
} gdb;

static void gdb_init(gdb *b, int producer) {
  b->a = kn_arena_new();
  assert_non_null(b->a);
  tensorflow__graph_def__init(&b->gd);
  tensorflow__version_def__init(&b->v);
  b->v.producer = producer;
  b->gd.versions = &b->v;
  b->gd.node = b->nodes;
}

static void *gdb_alloc(gdb *b, size_t n) {
  void *p = kn_arena_alloc(b->a, n);
  assert_non_null(p);
  return p;
}

/* Adds a node; `inputs` is NULL-terminated (NULL for none). */
static Tensorflow__NodeDef *node(gdb *b, const char *name, const char *op,
                                 const char *const *inputs) {
  Tensorflow__NodeDef *n = gdb_alloc(b, sizeof *n);
  tensorflow__node_def__init(n);
  n->name = kn_arena_strdup(b->a, name);
  n->op = kn_arena_strdup(b->a, op);
  size_t k = 0;
  while (inputs && inputs[k]) k++;
  if (k) {
    n->input = gdb_alloc(b, k * sizeof *n->input);
    for (size_t i = 0; i < k; i++) n->input[i] = kn_arena_strdup(b->a, inputs[i]);
    n->n_input = k;
  }
  n->attr = gdb_alloc(b, 16 * sizeof *n->attr);
  assert_true(b->gd.n_node < 64);
  b->nodes[b->gd.n_node++] = n;
  return n;
}

static Tensorflow__AttrValue *attr(gdb *b, Tensorflow__NodeDef *n,
                                   const char *key) {
  Tensorflow__NodeDef__AttrEntry *e = gdb_alloc(b, sizeof *e);
  Tensorflow__AttrValue *v = gdb_alloc(b, sizeof *v);
  tensorflow__node_def__attr_entry__init(e);
  tensorflow__attr_value__init(v);
  e->key = kn_arena_strdup(b->a, key);
  e->value = v;
  assert_true(n->n_attr < 16);
  n->attr[n->n_attr++] = e;
  return v;
}

static void attr_type(gdb *b, Tensorflow__NodeDef *n, const char *key,
                      kiln_dtype t) {
  Tensorflow__AttrValue *v = attr(b, n, key);
  v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_TYPE;
  v->type = (Tensorflow__DataType)t;
}

static void attr_int(gdb *b, Tensorflow__NodeDef *n, const char *key,
                     int64_t i) {
  Tensorflow__AttrValue *v = attr(b, n, key);
  v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_I;
  v->i = i;
}

static Tensorflow__TensorShapeProto *shape_proto(gdb *b, const int64_t *dims,
                                                 int ndims) {
  Tensorflow__TensorShapeProto *s = gdb_alloc(b, sizeof *s);
  tensorflow__tensor_shape_proto__init(s);
  if (ndims < 0) {
    s->unknown_rank = 1;
    return s;
  }
  if (ndims > 0) s->dim = gdb_alloc(b, (size_t)ndims * sizeof *s->dim);
  for (int i = 0; i < ndims; i++) {
    s->dim[i] = gdb_alloc(b, sizeof *s->dim[i]);
    tensorflow__tensor_shape_proto__dim__init(s->dim[i]);
    s->dim[i]->size = dims[i];
  }
  s->n_dim = (size_t)(ndims > 0 ? ndims : 0);
  return s;
}

static void attr_shape(gdb *b, Tensorflow__NodeDef *n, const char *key,
                       const int64_t *dims, int ndims) {
  Tensorflow__AttrValue *v = attr(b, n, key);
  v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_SHAPE;
  v->shape = shape_proto(b, dims, ndims);
}

static Tensorflow__TensorProto *tensor_proto(gdb *b, kiln_dtype t,
                                             const int64_t *dims, int ndims) {
  Tensorflow__TensorProto *p = gdb_alloc(b, sizeof *p);
  tensorflow__tensor_proto__init(p);
  p->dtype = (Tensorflow__DataType)t;
  p->tensor_shape = shape_proto(b, dims, ndims);
  return p;
}

static void attr_tensor(gdb *b, Tensorflow__NodeDef *n, const char *key,
                        Tensorflow__TensorProto *t) {
  Tensorflow__AttrValue *v = attr(b, n, key);
  v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_TENSOR;
  v->tensor = t;
}

/* A float Const named `name` holding the scalar x. */
static Tensorflow__NodeDef *const_f(gdb *b, const char *name, float x) {
  Tensorflow__NodeDef *n = node(b, name, "Const", NULL);
  attr_type(b, n, "dtype", KILN_FLOAT);
  Tensorflow__TensorProto *t = tensor_proto(b, KILN_FLOAT, NULL, 0);
  t->float_val = gdb_alloc(b, sizeof(float));
  t->float_val[0] = x;
  t->n_float_val = 1;
  attr_tensor(b, n, "value", t);
  return n;
}

static Tensorflow__NodeDef *placeholder(gdb *b, const char *name, kiln_dtype t,
                                        const int64_t *dims, int ndims) {
  Tensorflow__NodeDef *n = node(b, name, "Placeholder", NULL);
  attr_type(b, n, "dtype", t);
  attr_shape(b, n, "shape", dims, ndims);
  return n;
}

static Tensorflow__NodeDef *unary(gdb *b, const char *name, const char *op,
                                  const char *const *inputs, kiln_dtype t) {
  Tensorflow__NodeDef *n = node(b, name, op, inputs);
  attr_type(b, n, "T", t);
  return n;
}

/* Packs the GraphDef (caller frees) and frees the builder. */
static kiln_buffer *gdb_pack(gdb *b) {
  kiln_status *s = kiln_status_new();
  kiln_buffer *buf = kn_proto_pack(&b->gd, s);
  assert_non_null(buf);
  kiln_status_free(s);
  kn_arena_free(b->a);
  return buf;
}

/* Imports and expects failure with `code` and `needle`, and the graph
** unchanged. */
static void import_fails(kiln_graph *g, const kiln_buffer *buf,
                         const kiln_import_options *o, kiln_code code,
                         const char *needle) {
  kiln_status *s = kiln_status_new();
  size_t before = kiln_graph_num_ops(g);
  kiln_import_results *r = kiln_graph_import(g, buf->data, buf->length, o, s);
  assert_null(r);
  assert_status(s, code, needle);
  assert_int_equal(kiln_graph_num_ops(g), before);
  kiln_status_free(s);
}

static kiln_import_results *import_ok(kiln_graph *g, const kiln_buffer *buf,
                                      const kiln_import_options *o) {
  kiln_status *s = kiln_status_new();
  kiln_import_results *r = kiln_graph_import(g, buf->data, buf->length, o, s);
  assert_ok(s);
  assert_non_null(r);
  kiln_status_free(s);
  return r;
}

static kiln_buffer *export_ok(kiln_graph *g) {
  kiln_status *s = kiln_status_new();
  kiln_buffer *b = kiln_graph_export(g, s);
  assert_ok(s);
  assert_non_null(b);
  kiln_status_free(s);
  return b;
}

/* export(import(export(g))) has export(g)'s bytes and as many ops. */
static void assert_round_trip(kiln_graph *g) {
  kiln_buffer *e1 = export_ok(g);
  kiln_graph *g2 = kiln_graph_new();
  kiln_import_results_free(import_ok(g2, e1, NULL));
  assert_int_equal(kiln_graph_num_ops(g2), kiln_graph_num_ops(g));
  kiln_buffer *e2 = export_ok(g2);
  assert_int_equal(e1->length, e2->length);
  assert_memory_equal(e1->data, e2->data, e1->length);
  kiln_buffer_free(e1);
  kiln_buffer_free(e2);
  kiln_graph_free(g2);
}

/* A small graph: x (Placeholder [2]), c (Const 2.0), m = Mul(x, c),
** out = Identity(m), init (NoOp) with control input ^m. */
static kiln_buffer *small_graph(int producer) {
  gdb b;
  gdb_init(&b, producer);
  int64_t dims[] = {2};
  placeholder(&b, "x", KILN_FLOAT, dims, 1);
  const_f(&b, "c", 2.0f);
  unary(&b, "m", "Mul", (const char *[]){"x", "c:0", NULL}, KILN_FLOAT);
  unary(&b, "out", "Identity", (const char *[]){"m", NULL}, KILN_FLOAT);
  node(&b, "init", "NoOp", (const char *[]){"^m", NULL});
  return gdb_pack(&b);
}

/* A graph that already holds ops (small_graph under "existing/"), so that
** failed imports are seen to leave existing content alone. */
static kiln_graph *existing_graph(void) {
  kiln_graph *g = kiln_graph_new();
  kiln_buffer *buf = small_graph(27);
  kiln_import_options *o = kiln_import_options_new();
  kiln_import_options_set_prefix(o, "existing");
  kiln_import_results_free(import_ok(g, buf, o));
  kiln_import_options_free(o);
  kiln_buffer_free(buf);
  assert_int_equal(kiln_graph_num_ops(g), 5);
  return g;
}

/* --------------------------------------------------------- tiny JSON reader */

typedef struct jr {
  const char *p;
} jr;

static void jws(jr *j) {
  while (isspace((unsigned char)*j->p)) j->p++;
}

/* Reads a string into buf (escapes kept minimal: \" \\ \/ and \uXXXX as
** '?'). */
static void jstring(jr *j, char *buf, size_t cap) {
  jws(j);
  assert_int_equal(*j->p, '"');
  j->p++;
  size_t n = 0;
  while (*j->p && *j->p != '"') {
    char c = *j->p++;
    if (c == '\\') {
      c = *j->p++;
      if (c == 'u') {
        j->p += 4;
        c = '?';
      } else if (c == 'n') {
        c = '\n';
      }
    }
    if (n + 1 < cap) buf[n++] = c;
  }
  assert_int_equal(*j->p, '"');
  j->p++;
  buf[n] = '\0';
}

static void jskip(jr *j) {
  jws(j);
  char c = *j->p;
  if (c == '"') {
    char tmp[8];
    jstring(j, tmp, sizeof tmp);
  } else if (c == '{' || c == '[') {
    char close = c == '{' ? '}' : ']';
    j->p++;
    jws(j);
    if (*j->p == close) {
      j->p++;
      return;
    }
    for (;;) {
      if (c == '{') {
        char key[8];
        jstring(j, key, sizeof key);
        jws(j);
        assert_int_equal(*j->p, ':');
        j->p++;
      }
      jskip(j);
      jws(j);
      if (*j->p == ',') {
        j->p++;
        continue;
      }
      assert_int_equal(*j->p, close);
      j->p++;
      return;
    }
  } else {
    while (*j->p && !strchr(",}] \t\r\n", *j->p)) j->p++;
  }
}

static long long jint(jr *j) {
  jws(j);
  char *end;
  long long v = strtoll(j->p, &end, 10);
  assert_true(end != j->p);
  j->p = end;
  return v;
}

/* Calls fn(key) for each member of the object at j; fn reads the value. */
#define JOBJECT(j, key, body)                                              \
  do {                                                                     \
    jws(j);                                                                \
    assert_int_equal(*(j)->p, '{');                                        \
    (j)->p++;                                                              \
    jws(j);                                                                \
    if (*(j)->p == '}') {                                                  \
      (j)->p++;                                                            \
      break;                                                               \
    }                                                                      \
    for (;;) {                                                             \
      char key[256];                                                       \
      jstring(j, key, sizeof key);                                         \
      jws(j);                                                              \
      assert_int_equal(*(j)->p, ':');                                      \
      (j)->p++;                                                            \
      body;                                                                \
      jws(j);                                                              \
      if (*(j)->p == ',') {                                                \
        (j)->p++;                                                          \
        continue;                                                          \
      }                                                                    \
      assert_int_equal(*(j)->p, '}');                                      \
      (j)->p++;                                                            \
      break;                                                               \
    }                                                                      \
  } while (0)

typedef struct summary {
  char graph_file[256];
  long long nodes, producer;
  int nops;
  struct { char op[64]; long long count; } ops[64];
  int nph;
  struct { char name[128], dtype[32], shape[64]; } ph[16];
} summary;

static void read_placeholders(jr *j, summary *sm) {
  jws(j);
  assert_int_equal(*j->p, '[');
  j->p++;
  jws(j);
  if (*j->p == ']') {
    j->p++;
    return;
  }
  for (;;) {
    assert_true(sm->nph < 16);
    int k = sm->nph++;
    JOBJECT(j, key, {
      if (strcmp(key, "name") == 0)
        jstring(j, sm->ph[k].name, sizeof sm->ph[k].name);
      else if (strcmp(key, "dtype") == 0)
        jstring(j, sm->ph[k].dtype, sizeof sm->ph[k].dtype);
      else if (strcmp(key, "shape") == 0)
        jstring(j, sm->ph[k].shape, sizeof sm->ph[k].shape);
      else
        jskip(j);
    });
    jws(j);
    if (*j->p == ',') {
      j->p++;
      continue;
    }
    assert_int_equal(*j->p, ']');
    j->p++;
    return;
  }
}

static void read_summary(const char *text, summary *sm) {
  memset(sm, 0, sizeof *sm);
  sm->producer = -1;
  jr j = {text};
  JOBJECT(&j, key, {
    if (strcmp(key, "graph_file") == 0) {
      jstring(&j, sm->graph_file, sizeof sm->graph_file);
    } else if (strcmp(key, "graphdef_summary") == 0) {
      JOBJECT(&j, k2, {
        if (strcmp(k2, "nodes") == 0) {
          sm->nodes = jint(&j);
        } else if (strcmp(k2, "versions_producer") == 0) {
          sm->producer = jint(&j);
        } else if (strcmp(k2, "op_counts") == 0) {
          JOBJECT(&j, op, {
            assert_true(sm->nops < 64);
            assert_true(strlen(op) < sizeof sm->ops[0].op);
            memcpy(sm->ops[sm->nops].op, op, strlen(op) + 1);
            sm->ops[sm->nops++].count = jint(&j);
          });
        } else if (strcmp(k2, "placeholders") == 0) {
          read_placeholders(&j, sm);
        } else {
          jskip(&j);
        }
      });
    } else {
      jskip(&j);
    }
  });
}

/* "[1,100]", "[-1,3]", "[]" or "?" into dims; returns the rank (-1: ?). */
static int parse_shape_text(const char *t, int64_t *dims) {
  if (strcmp(t, "?") == 0) return -1;
  assert_int_equal(t[0], '[');
  int n = 0;
  const char *p = t + 1;
  while (*p && *p != ']') {
    char *end;
    dims[n++] = strtoll(p, &end, 10);
    assert_true(end != p);
    p = end;
    if (*p == ',') p++;
  }
  return n;
}

/* ------------------------------------------------------- real graphs */

/* Problems found in the real graphs, reported together at the end so one
** missing schema does not hide the state of the others. */
static char problems[8192];

static void problem(const char *fmt, ...) KN_PRINTF(1, 2);
static void problem(const char *fmt, ...) {
  size_t n = strlen(problems);
  va_list ap;
  va_start(ap, fmt);
  if (n + 2 < sizeof problems) vsnprintf(problems + n, sizeof problems - n - 1, fmt, ap);
  va_end(ap);
  n = strlen(problems);
  if (n + 1 < sizeof problems) strcat(problems, "\n");
}

static void check_testdata_graph(const char *dir, const char *json_name) {
  char path[PATH_MAX];
  size_t len = 0;
  assert_true(snprintf(path, sizeof path, "%s/%s", dir, json_name) < (int)sizeof path);
  char *text = kt_read_file(path, &len);
  assert_non_null(text);
  char *z = realloc(text, len + 1);
  assert_non_null(z);
  text = z;
  text[len] = '\0';
  summary sm;
  read_summary(text, &sm);
  free(text);
  assert_true(sm.graph_file[0] != '\0');
  assert_true(sm.nodes > 0);

  assert_true(snprintf(path, sizeof path, "%s/%s", dir, sm.graph_file) < (int)sizeof path);
  void *pb = kt_read_file(path, &len);
  assert_non_null(pb);
  kiln_status *s = kiln_status_new();
  kiln_graph *g = kiln_graph_new();
  kiln_import_results *r = kiln_graph_import(g, pb, len, NULL, s);
  if (kiln_status_code(s) != KILN_OK) {
    problem("%s: %s: %s", sm.graph_file, kiln_code_str(kiln_status_code(s)),
            kiln_status_message(s));
    kiln_graph_free(g);
    kiln_status_free(s);
    free(pb);
    return;
  }
  kiln_import_results_free(r);

  /* Node count and op counts. */
  size_t n = kiln_graph_num_ops(g);
  if (n != (size_t)sm.nodes)
    problem("%s: %zu nodes, expected %lld", sm.graph_file, n, sm.nodes);
  long long total = 0;
  for (int k = 0; k < sm.nops; k++) {
    long long c = 0;
    for (size_t i = 0; i < n; i++)
      if (strcmp(kiln_op_type(kiln_graph_op_at(g, i)), sm.ops[k].op) == 0) c++;
    if (c != sm.ops[k].count)
      problem("%s: %lld %s ops, expected %lld", sm.graph_file, c, sm.ops[k].op,
              sm.ops[k].count);
    total += c;
  }
  assert_int_equal(total, sm.nodes);

  /* Placeholders: dtype and shape, with the old-producer rule. */
  for (int k = 0; k < sm.nph; k++) {
    kiln_op *op = kiln_graph_op(g, sm.ph[k].name);
    assert_non_null(op);
    kiln_dtype t = kiln_op_attr_type(op, "dtype", s);
    assert_ok(s);
    assert_int_equal(t, kiln_dtype_from_name(sm.ph[k].dtype));
    assert_int_equal(kiln_op_output_dtype((kiln_output){op, 0}), t);
    int64_t want[KILN_MAX_DIMS], got[KILN_MAX_DIMS];
    int rank = parse_shape_text(sm.ph[k].shape, want);
    if (strcmp(kiln_op_type(op), "Placeholder") == 0 && rank == 0 &&
        sm.producer < KN_PLACEHOLDER_SHAPE_PRODUCER)
      rank = -1;
    int grank = kiln_op_attr_shape(op, "shape", got, KILN_MAX_DIMS, s);
    assert_ok(s);
    if (grank != rank)
      fail_msg("%s: placeholder %s has rank %d, expected %d (shape %s, "
               "producer %lld)", sm.graph_file, sm.ph[k].name, grank, rank,
               sm.ph[k].shape, sm.producer);
    for (int d = 0; d < rank; d++) assert_int_equal(got[d], want[d]);
    if (strcmp(kiln_op_type(op), "Placeholder") == 0) {
      int orank = kiln_op_output_shape((kiln_output){op, 0}, got, KILN_MAX_DIMS);
      assert_int_equal(orank, rank);
      for (int d = 0; d < rank; d++) assert_int_equal(got[d], want[d]);
    }
  }

  assert_round_trip(g);

  /* Importing again clashes on every name and changes nothing; under a
  ** prefix it adds a second copy. */
  kiln_buffer buf = {pb, len};
  import_fails(g, &buf, NULL, KILN_INVALID_ARGUMENT, "");
  kiln_import_options *o = kiln_import_options_new();
  kiln_import_options_set_prefix(o, "copy");
  kiln_import_results_free(import_ok(g, &buf, o));
  kiln_import_options_free(o);
  assert_int_equal(kiln_graph_num_ops(g), 2 * n);
  print_message("# %s: %zu nodes, %d op types, %d placeholders, producer "
                "%lld: imported, checked, round-tripped\n", sm.graph_file, n,
                sm.nops, sm.nph, sm.producer);
  kiln_op *first = kiln_graph_op_at(g, 0);
  char copy[512];
  assert_true(snprintf(copy, sizeof copy, "copy/%s", kiln_op_name(first)) <
              (int)sizeof copy);
  assert_non_null(kiln_graph_op(g, copy));

  kiln_graph_free(g);
  kiln_status_free(s);
  free(pb);
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(a, b);
}

static void testdata_graphs_import(void **state) {
  (void)state;
  KT_REQUIRE_TESTDATA(dir);
  DIR *d = opendir(dir);
  assert_non_null(d);
  struct dirent *e;
  int count = 0;
  char names[64][256];
  while ((e = readdir(d)) != NULL) {
    size_t n = strlen(e->d_name);
    if (n > 5 && strcmp(e->d_name + n - 5, ".json") == 0 && count < 64)
      if (n < sizeof names[0]) memcpy(names[count++], e->d_name, n + 1);
  }
  closedir(d);
  assert_true(count > 0);
  qsort(names, (size_t)count, sizeof names[0], cmp_names);
  problems[0] = '\0';
  for (int i = 0; i < count; i++) check_testdata_graph(dir, names[i]);
  if (problems[0]) fail_msg("%s", problems);
}

static void testdata_while_loop_back_edge(void **state) {
  (void)state;
  KT_REQUIRE_TESTDATA(dir);
  char path[PATH_MAX];
  size_t len = 0;
  assert_true(snprintf(path, sizeof path, "%s/tf_graph_while_loop.pb", dir) <
              (int)sizeof path);
  void *pb = kt_read_file(path, &len);
  assert_non_null(pb);
  kiln_status *s = kiln_status_new();
  kiln_graph *g = kiln_graph_new();
  kiln_import_results_free(kiln_graph_import(g, pb, len, NULL, s));
  assert_ok(s);
  kiln_op *merge = kiln_graph_op(g, "while/Merge");
  kiln_op *next = kiln_graph_op(g, "while/NextIteration");
  assert_non_null(merge);
  assert_non_null(next);
  assert_int_equal(kiln_op_num_inputs(merge), 2);
  assert_ptr_equal(kiln_op_input(merge, 0).op, kiln_graph_op(g, "while/Enter"));
  assert_ptr_equal(kiln_op_input(merge, 1).op, next);
  assert_int_equal(kiln_op_input(merge, 1).index, 0);
  /* The Merge is built before its NextIteration. */
  assert_true(merge->id < next->id);
  kiln_graph_free(g);
  kiln_status_free(s);
  free(pb);
}

/* ------------------------------------------------------------ bad input */

/* NodeDefs are read field by field before the import builds them: the
** fields it skips are still checked, and bytes that do not parse are
** reported before a mistake elsewhere in the GraphDef. */
static void node_bytes_are_checked(void **state) {
  (void)state;
  kiln_graph *g = kiln_graph_new();
  kiln_status *s = kiln_status_new();
  /* Node 'a' reads a node that is not there; node 'b' has an attr whose
  ** AttrValue does not parse. */
  static const unsigned char bad_attr[] =
      "\x0a\x12" "\x0a\x01" "a" "\x12\x04" "NoOp" "\x1a\x07" "missing"
      "\x0a\x12" "\x0a\x01" "b" "\x12\x04" "NoOp"
      "\x2a\x07" "\x0a\x01" "x" "\x12\x02\xff\xff";
  kiln_buffer b1 = {(void *)bad_attr, sizeof bad_attr - 1};
  import_fails(g, &b1, NULL, KILN_INVALID_ARGUMENT,
               "Invalid GraphDef: 40 bytes do not parse");
  /* Without 'a', the attr is found when 'b' is built. */
  kiln_buffer b2 = {(void *)(bad_attr + 20), sizeof bad_attr - 21};
  import_fails(g, &b2, NULL, KILN_INVALID_ARGUMENT,
               "Invalid GraphDef: 20 bytes do not parse");
  /* A name as a varint is refused, as protobuf-c refuses it. */
  static const unsigned char varint_name[] =
      "\x0a\x08" "\x08\x01" "\x12\x04" "NoOp";
  kiln_buffer b3 = {(void *)varint_name, sizeof varint_name - 1};
  import_fails(g, &b3, NULL, KILN_INVALID_ARGUMENT,
               "Invalid GraphDef: 10 bytes do not parse");
  /* A NodeDef's length past the end is refused. */
  kiln_buffer b4 = {(void *)varint_name, sizeof varint_name - 2};
  import_fails(g, &b4, NULL, KILN_INVALID_ARGUMENT,
               "Invalid GraphDef: 9 bytes do not parse");
  /* The last name given wins, a string ends at a NUL, and unknown fields
  ** (9, a varint) are skipped. */
  static const unsigned char twice[] =
      "\x0a\x10" "\x0a\x01" "a" "\x0a\x03" "c\0d" "\x12\x04" "NoOp" "\x48\x01";
  kiln_import_results *r = kiln_graph_import(g, twice, sizeof twice - 1,
                                             NULL, s);
  assert_ok(s);
  kiln_import_results_free(r);
  assert_int_equal(kiln_graph_num_ops(g), 1);
  assert_non_null(kiln_graph_op(g, "c"));
  assert_null(kiln_graph_op(g, "a"));
  kiln_status_free(s);
  kiln_graph_free(g);
}

static void truncated_and_garbage_bytes(void **state) {
  (void)state;
  kiln_buffer *buf = small_graph(27);
  kiln_graph *g = existing_graph();
  kiln_buffer cut = {buf->data, buf->length - 1};
  import_fails(g, &cut, NULL, KILN_INVALID_ARGUMENT, "Invalid GraphDef");
  /* Every prefix either parses (it ends between fields) or is refused;
  ** nothing is ever half-imported. */
  kiln_status *s = kiln_status_new();
  int refused = 0;
  for (size_t n = 1; n < buf->length; n++) {
    kiln_graph *h = kiln_graph_new();
    kiln_import_results *r = kiln_graph_import(h, buf->data, n, NULL, s);
    if (r) {
      kiln_import_results_free(r);
    } else {
      refused++;
      assert_int_equal(kiln_graph_num_ops(h), 0);
    }
    kiln_graph_free(h);
  }
  assert_true(refused > 0);
  static const unsigned char garbage[] = {0xff, 0xff, 0xff, 0xff, 0xff,
                                          0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
  kiln_buffer gb = {(void *)garbage, sizeof garbage};
  import_fails(g, &gb, NULL, KILN_INVALID_ARGUMENT, "Invalid GraphDef");
  static const char text[] = "node { name: 'a' op: 'NoOp' }";
  kiln_buffer tb = {(void *)text, sizeof text - 1};
  import_fails(g, &tb, NULL, KILN_INVALID_ARGUMENT, "Invalid GraphDef");
  /* An empty buffer is an empty GraphDef. */
  kiln_import_results *r = kiln_graph_import(g, "", 0, NULL, s);
  assert_ok(s);
  assert_non_null(r);
  kiln_import_results_free(r);
  assert_int_equal(kiln_graph_num_ops(g), 5);
  /* It has no versions to lower the graph's producer with. */
  assert_int_equal(g->producer, 27);
  /* Fields Kiln does not declare (a newer producer's debug_info, field 5)
  ** are skipped. */
  unsigned char *more = malloc(buf->length + 4);
  assert_non_null(more);
  memcpy(more, buf->data, buf->length);
  memcpy(more + buf->length, "\x2a\x02\x0a\x00", 4);
  kiln_graph *h = kiln_graph_new();
  kiln_import_results_free(kiln_graph_import(h, more, buf->length + 4, NULL, s));
  assert_ok(s);
  assert_int_equal(kiln_graph_num_ops(h), 5);
  kiln_graph_free(h);
  free(more);
  kiln_status_free(s);
  kiln_graph_free(g);
  kiln_buffer_free(buf);
}

static void unknown_op_is_not_found(void **state) {
  (void)state;
  gdb b;
  gdb_init(&b, 27);
  const_f(&b, "c", 1.0f);
  node(&b, "weird", "NoSuchOpAnywhere", (const char *[]){"c", NULL});
  kiln_buffer *buf = gdb_pack(&b);
  kiln_graph *g = existing_graph();
  import_fails(g, buf, NULL, KILN_NOT_FOUND, "NoSuchOpAnywhere");
  import_fails(g, buf, NULL, KILN_NOT_FOUND, "'weird'");
  kiln_buffer_free(buf);
  kiln_graph_free(g);
}

static void dangling_inputs(void **state) {
  (void)state;
  gdb b;
  gdb_init(&b, 27);
  const_f(&b, "a", 1.0f);
  unary(&b, "b", "Identity", (const char *[]){"zz:0", NULL}, KILN_FLOAT);
  kiln_buffer *buf = gdb_pack(&b);
  kiln_graph *g = existing_graph();
  import_fails(g, buf, NULL, KILN_INVALID_ARGUMENT,
               "node 'b' has input 'zz:0' which is not in the GraphDef");
  kiln_buffer_free(buf);

  gdb_init(&b, 27);
  const_f(&b, "a", 1.0f);
  unary(&b, "b", "Identity", (const char *[]){"a", "^ghost", NULL}, KILN_FLOAT);
  buf = gdb_pack(&b);
  import_fails(g, buf, NULL, KILN_INVALID_ARGUMENT, "'^ghost'");
  kiln_buffer_free(buf);

  /* An output index past the producer's outputs. */
  gdb_init(&b, 27);
  const_f(&b, "a", 1.0f);
  unary(&b, "b", "Identity", (const char *[]){"a:3", NULL}, KILN_FLOAT);
  buf = gdb_pack(&b);
  import_fails(g, buf, NULL, KILN_INVALID_ARGUMENT, "'a:3'");
  kiln_buffer_free(buf);

  /* Data inputs after a control input. */
  gdb_init(&b, 27);
  const_f(&b, "a", 1.0f);
  unary(&b, "b", "Identity", (const char *[]){"^a", "a", NULL}, KILN_FLOAT);
  buf = gdb_pack(&b);
  import_fails(g, buf, NULL, KILN_INVALID_ARGUMENT, "control inputs must come after");
  kiln_buffer_free(buf);
  kiln_graph_free(g);
}

static void illegal_cycle_names_its_nodes(void **state) {
  (void)state;
  gdb b;
  gdb_init(&b, 27);
  const_f(&b, "c", 1.0f);
  unary(&b, "p", "Add", (const char *[]){"c", "r", NULL}, KILN_FLOAT);
  unary(&b, "q", "Identity", (const char *[]){"p", NULL}, KILN_FLOAT);
  unary(&b, "r", "Identity", (const char *[]){"q", NULL}, KILN_FLOAT);
  unary(&b, "after", "Identity", (const char *[]){"r", NULL}, KILN_FLOAT);
  kiln_buffer *buf = gdb_pack(&b);
  kiln_graph *g = existing_graph();
  import_fails(g, buf, NULL, KILN_INVALID_ARGUMENT, "cycle");
  import_fails(g, buf, NULL, KILN_INVALID_ARGUMENT, "'p' -> 'q' -> 'r' -> 'p'");
  kiln_buffer_free(buf);

  /* A Merge fed by something other than a NextIteration closes no loop. */
  gdb_init(&b, 27);
  const_f(&b, "c", 1.0f);
  Tensorflow__NodeDef *m =
      unary(&b, "m", "Merge", (const char *[]){"c", "i", NULL}, KILN_FLOAT);
  attr_int(&b, m, "N", 2);
  unary(&b, "i", "Identity", (const char *[]){"m", NULL}, KILN_FLOAT);
  buf = gdb_pack(&b);
  import_fails(g, buf, NULL, KILN_INVALID_ARGUMENT, "'m' -> 'i' -> 'm'");
  kiln_buffer_free(buf);

  /* A long cycle is named in part. */
  gdb_init(&b, 27);
  char names[20][8];
  for (int i = 0; i < 20; i++) snprintf(names[i], sizeof names[i], "n%02d", i);
  for (int i = 0; i < 20; i++)
    unary(&b, names[i], "Identity",
          (const char *[]){names[(i + 19) % 20], NULL}, KILN_FLOAT);
  buf = gdb_pack(&b);
  import_fails(g, buf, NULL, KILN_INVALID_ARGUMENT,
               "'n00' -> 'n01' -> 'n02' -> 'n03' -> 'n04' -> 'n05' -> 'n06' -> "
               "'n07' -> 'n08' -> 'n09' -> 'n10' -> 'n11' -> ... -> 'n19' -> "
               "'n00'");
  kiln_buffer_free(buf);

  /* A node that is its own control input. */
  gdb_init(&b, 27);
  node(&b, "self", "NoOp", (const char *[]){"^self", NULL});
  buf = gdb_pack(&b);
  import_fails(g, buf, NULL, KILN_INVALID_ARGUMENT, "'self' -> 'self'");
  kiln_buffer_free(buf);
  kiln_graph_free(g);
}

/* i = 0; while (i < 10) i = i + 1, as TensorFlow 1 writes it. */
static kiln_buffer *while_loop(kiln_dtype next_type) {
  gdb b;
  gdb_init(&b, 27);
  Tensorflow__NodeDef *c = node(&b, "Const", "Const", NULL);
  attr_type(&b, c, "dtype", KILN_INT32);
  Tensorflow__TensorProto *t = tensor_proto(&b, KILN_INT32, NULL, 0);
  t->int_val = gdb_alloc(&b, sizeof(int32_t));
  t->n_int_val = 1;
  attr_tensor(&b, c, "value", t);
  Tensorflow__NodeDef *enter =
      unary(&b, "w/Enter", "Enter", (const char *[]){"Const", NULL}, KILN_INT32);
  Tensorflow__AttrValue *fn = attr(&b, enter, "frame_name");
  fn->value_case = TENSORFLOW__ATTR_VALUE__VALUE_S;
  fn->s.data = (uint8_t *)kn_arena_strdup(b.a, "w/ctx");
  fn->s.len = 5;
  Tensorflow__NodeDef *m = unary(&b, "w/Merge", "Merge",
                                 (const char *[]){"w/Enter", "w/Next", NULL},
                                 KILN_INT32);
  attr_int(&b, m, "N", 2);
  Tensorflow__NodeDef *ten = node(&b, "w/ten", "Const", (const char *[]){"^w/Merge", NULL});
  attr_type(&b, ten, "dtype", KILN_INT32);
  t = tensor_proto(&b, KILN_INT32, NULL, 0);
  t->int_val = gdb_alloc(&b, sizeof(int32_t));
  t->int_val[0] = 10;
  t->n_int_val = 1;
  attr_tensor(&b, ten, "value", t);
  unary(&b, "w/Less", "Less", (const char *[]){"w/Merge", "w/ten", NULL}, KILN_INT32);
  node(&b, "w/LoopCond", "LoopCond", (const char *[]){"w/Less", NULL});
  unary(&b, "w/Switch", "Switch", (const char *[]){"w/Merge", "w/LoopCond", NULL},
        KILN_INT32);
  unary(&b, "w/Identity", "Identity", (const char *[]){"w/Switch:1", NULL},
        KILN_INT32);
  unary(&b, "w/Add", "Add", (const char *[]){"w/Identity", "w/Identity", NULL},
        KILN_INT32);
  Tensorflow__NodeDef *next =
      unary(&b, "w/Next", "NextIteration", (const char *[]){"w/Add", NULL}, next_type);
  (void)next;
  unary(&b, "w/Exit", "Exit", (const char *[]){"w/Switch", NULL}, KILN_INT32);
  return gdb_pack(&b);
}

static void legal_while_loop(void **state) {
  (void)state;
  kiln_buffer *buf = while_loop(KILN_INT32);
  kiln_graph *g = kiln_graph_new();
  kiln_import_results_free(import_ok(g, buf, NULL));
  assert_int_equal(kiln_graph_num_ops(g), 11);
  kiln_op *merge = kiln_graph_op(g, "w/Merge");
  kiln_op *next = kiln_graph_op(g, "w/Next");
  assert_ptr_equal(kiln_op_input(merge, 1).op, next);
  assert_int_equal(kiln_op_output_dtype((kiln_output){merge, 0}), KILN_INT32);
  /* Export keeps the GraphDef's order, so export then import is stable. */
  for (size_t i = 0; i < kiln_graph_num_ops(g); i++)
    assert_int_equal(kiln_graph_op_at(g, i)->id, i);
  assert_ptr_equal(kiln_graph_op_at(g, 2), merge);
  assert_round_trip(g);
  kiln_buffer_free(buf);

  /* A NextIteration whose own input disagrees with its T. */
  buf = while_loop(KILN_FLOAT);
  import_fails(g, buf, NULL, KILN_INVALID_ARGUMENT, "'w/Next'");
  kiln_buffer_free(buf);

  /* A back edge carrying another dtype than the Merge's is refused once
  ** the NextIteration exists; nothing is added. */
  gdb b;
  gdb_init(&b, 27);
  Tensorflow__NodeDef *ci = node(&b, "ci", "Const", NULL);
  attr_type(&b, ci, "dtype", KILN_INT32);
  Tensorflow__TensorProto *t = tensor_proto(&b, KILN_INT32, NULL, 0);
  attr_tensor(&b, ci, "value", t);
  const_f(&b, "cf", 1.0f);
  Tensorflow__NodeDef *m =
      unary(&b, "m", "Merge", (const char *[]){"ci", "n", NULL}, KILN_INT32);
  attr_int(&b, m, "N", 2);
  unary(&b, "n", "NextIteration", (const char *[]){"cf", NULL}, KILN_FLOAT);
  buf = gdb_pack(&b);
  import_fails(g, buf, NULL, KILN_INVALID_ARGUMENT,
               "node 'm' (Merge): loop input 1 from 'n:0' is float but the "
               "node expects int32");
  kiln_buffer_free(buf);

  /* A back edge from an output the NextIteration does not have. */
  gdb_init(&b, 27);
  ci = node(&b, "ci", "Const", NULL);
  attr_type(&b, ci, "dtype", KILN_INT32);
  attr_tensor(&b, ci, "value", tensor_proto(&b, KILN_INT32, NULL, 0));
  m = unary(&b, "m", "Merge", (const char *[]){"ci", "n:1", NULL}, KILN_INT32);
  attr_int(&b, m, "N", 2);
  unary(&b, "n", "NextIteration", (const char *[]){"ci", NULL}, KILN_INT32);
  buf = gdb_pack(&b);
  import_fails(g, buf, NULL, KILN_INVALID_ARGUMENT,
               "node 'm' has input 'n:1' but 'n' (op NextIteration) has 1 "
               "output");
  kiln_buffer_free(buf);
  kiln_graph_free(g);
}

static void attr_of_wrong_kind(void **state) {
  (void)state;
  gdb b;
  gdb_init(&b, 27);
  Tensorflow__NodeDef *p = node(&b, "p", "Placeholder", NULL);
  attr_int(&b, p, "dtype", 1);
  kiln_buffer *buf = gdb_pack(&b);
  kiln_graph *g = existing_graph();
  import_fails(g, buf, NULL, KILN_INVALID_ARGUMENT, "dtype");
  import_fails(g, buf, NULL, KILN_INVALID_ARGUMENT, "'p'");
  kiln_buffer_free(buf);

  /* An AttrValue with no value at all. */
  gdb_init(&b, 27);
  p = node(&b, "p", "Placeholder", NULL);
  attr_type(&b, p, "dtype", KILN_FLOAT);
  attr(&b, p, "shape");
  buf = gdb_pack(&b);
  import_fails(g, buf, NULL, KILN_INVALID_ARGUMENT, "attr 'shape'");
  kiln_buffer_free(buf);

  /* A type attr holding no valid DataType. */
  gdb_init(&b, 27);
  p = node(&b, "p", "Placeholder", NULL);
  attr_type(&b, p, "dtype", (kiln_dtype)77);
  buf = gdb_pack(&b);
  import_fails(g, buf, NULL, KILN_INVALID_ARGUMENT, "DataType 77");
  kiln_buffer_free(buf);
  kiln_graph_free(g);
}

static void tensor_content_must_match_shape(void **state) {
  (void)state;
  int64_t dims[] = {2, 3};
  kiln_graph *g = existing_graph();
  for (int variant = 0; variant < 3; variant++) {
    gdb b;
    gdb_init(&b, 27);
    Tensorflow__NodeDef *c = node(&b, "c", "Const", NULL);
    attr_type(&b, c, "dtype", KILN_FLOAT);
    Tensorflow__TensorProto *t = tensor_proto(&b, KILN_FLOAT, dims, 2);
    const char *needle = NULL;
    if (variant == 0) {
      t->tensor_content.data = gdb_alloc(&b, 20);
      t->tensor_content.len = 20;
      needle = "shape [2,3] has 20 bytes of tensor_content";
    } else if (variant == 1) {
      t->float_val = gdb_alloc(&b, 7 * sizeof(float));
      t->n_float_val = 7;
      needle = "shape [2,3] has 7 values in float_val";
    } else {
      t->int_val = gdb_alloc(&b, sizeof(int32_t));
      t->n_int_val = 1;
      needle = "values belong in float_val";
    }
    attr_tensor(&b, c, "value", t);
    kiln_buffer *buf = gdb_pack(&b);
    import_fails(g, buf, NULL, KILN_INVALID_ARGUMENT, needle);
    import_fails(g, buf, NULL, KILN_INVALID_ARGUMENT, "node 'c'");
    kiln_buffer_free(buf);
  }
  /* Negative and overflowing shapes. */
  int64_t neg[] = {2, -1}, huge[] = {INT64_MAX / 2, 4};
  const int64_t *shapes[] = {neg, huge};
  const char *needles[] = {"dimension 1 is negative", "overflows"};
  for (int k = 0; k < 2; k++) {
    gdb b;
    gdb_init(&b, 27);
    Tensorflow__NodeDef *c = node(&b, "c", "Const", NULL);
    attr_type(&b, c, "dtype", KILN_FLOAT);
    attr_tensor(&b, c, "value", tensor_proto(&b, KILN_FLOAT, shapes[k], 2));
    kiln_buffer *buf = gdb_pack(&b);
    import_fails(g, buf, NULL, KILN_INVALID_ARGUMENT, needles[k]);
    kiln_buffer_free(buf);
  }
  kiln_graph_free(g);
}

static void duplicate_names_and_clashes(void **state) {
  (void)state;
  gdb b;
  gdb_init(&b, 27);
  const_f(&b, "a", 1.0f);
  const_f(&b, "b", 1.0f);
  const_f(&b, "a", 2.0f);
  kiln_buffer *buf = gdb_pack(&b);
  kiln_graph *g = kiln_graph_new();
  import_fails(g, buf, NULL, KILN_INVALID_ARGUMENT, "Node 'a' is not unique");
  kiln_buffer_free(buf);

  gdb_init(&b, 27);
  node(&b, "bad name!", "NoOp", NULL);
  buf = gdb_pack(&b);
  import_fails(g, buf, NULL, KILN_INVALID_ARGUMENT, "invalid name 'bad name!'");
  kiln_buffer_free(buf);

  buf = small_graph(27);
  kiln_import_results_free(import_ok(g, buf, NULL));
  assert_int_equal(kiln_graph_num_ops(g), 5);
  /* Every name clashes now: nothing is added. */
  import_fails(g, buf, NULL, KILN_INVALID_ARGUMENT, "");
  kiln_buffer_free(buf);
  /* One name clashes: still nothing is added. */
  gdb_init(&b, 27);
  const_f(&b, "fresh", 1.0f);
  const_f(&b, "out", 1.0f);
  buf = gdb_pack(&b);
  import_fails(g, buf, NULL, KILN_INVALID_ARGUMENT, "out");
  assert_null(kiln_graph_op(g, "fresh"));
  kiln_buffer_free(buf);
  kiln_graph_free(g);
}

static void return_outputs_and_ops(void **state) {
  (void)state;
  kiln_buffer *buf = small_graph(27);
  kiln_graph *g = kiln_graph_new();
  kiln_import_options *o = kiln_import_options_new();
  kiln_import_options_set_prefix(o, "imp");
  kiln_import_options_add_return_output(o, "m", 0);
  kiln_import_options_add_return_output(o, "x", 0);
  kiln_import_options_add_return_op(o, "init");
  kiln_import_results *r = import_ok(g, buf, o);
  assert_int_equal(kiln_import_results_num_outputs(r), 2);
  kiln_output m = kiln_import_results_output(r, 0);
  assert_string_equal(kiln_op_name(m.op), "imp/m");
  assert_int_equal(m.index, 0);
  assert_string_equal(kiln_op_name(kiln_import_results_output(r, 1).op), "imp/x");
  assert_null(kiln_import_results_output(r, 2).op);
  assert_int_equal(kiln_import_results_num_ops(r), 1);
  assert_string_equal(kiln_op_name(kiln_import_results_op(r, 0)), "imp/init");
  assert_null(kiln_import_results_op(r, 1));
  assert_int_equal(kiln_import_results_num_unused_mappings(r), 0);
  kiln_op *init = kiln_import_results_op(r, 0);
  assert_int_equal(kiln_op_num_control_inputs(init), 1);
  assert_ptr_equal(kiln_op_control_input(init, 0), m.op);
  kiln_import_results_free(r);
  kiln_import_options_free(o);

  /* A return output that names nothing, or past the node's outputs. */
  o = kiln_import_options_new();
  kiln_import_options_set_prefix(o, "two");
  kiln_import_options_add_return_output(o, "nope", 0);
  import_fails(g, buf, o, KILN_INVALID_ARGUMENT,
               "requested return output 'nope:0' is not in the GraphDef");
  kiln_import_options_free(o);
  o = kiln_import_options_new();
  kiln_import_options_set_prefix(o, "two");
  kiln_import_options_add_return_output(o, "m", 1);
  import_fails(g, buf, o, KILN_INVALID_ARGUMENT, "'m:1' is out of range");
  kiln_import_options_free(o);
  o = kiln_import_options_new();
  kiln_import_options_set_prefix(o, "two");
  kiln_import_options_add_return_op(o, "ghost");
  import_fails(g, buf, o, KILN_INVALID_ARGUMENT, "'ghost' is not in the GraphDef");
  kiln_import_options_free(o);
  kiln_buffer_free(buf);
  kiln_graph_free(g);
}

static void input_mappings(void **state) {
  (void)state;
  kiln_graph *g = kiln_graph_new();
  kiln_buffer *base = small_graph(27);
  kiln_import_results_free(import_ok(g, base, NULL));
  kiln_buffer_free(base);
  kiln_op *x = kiln_graph_op(g, "x"), *c = kiln_graph_op(g, "c");
  kiln_op *init = kiln_graph_op(g, "init");

  gdb b;
  gdb_init(&b, 27);
  int64_t dims[] = {2};
  placeholder(&b, "in", KILN_FLOAT, dims, 1);
  unary(&b, "sq", "Mul", (const char *[]){"in", "in:0", NULL}, KILN_FLOAT);
  node(&b, "dep", "NoOp", (const char *[]){"^gate", NULL});
  const_f(&b, "lonely", 3.0f);
  kiln_buffer *buf = gdb_pack(&b);

  kiln_import_options *o = kiln_import_options_new();
  kiln_import_options_set_prefix(o, "sub/");
  kiln_import_options_add_input_mapping(o, "in", 0, (kiln_output){x, 0});
  kiln_import_options_add_input_mapping(o, "unused", 2, (kiln_output){c, 0});
  kiln_import_options_remap_control(o, "gate", init);
  kiln_import_options_add_control_dependency(o, c);
  kiln_import_options_set_default_device(o, "/device:CPU:0");
  kiln_import_options_add_return_output(o, "in", 0);
  kiln_import_results *r = import_ok(g, buf, o);
  assert_int_equal(kiln_import_results_num_unused_mappings(r), 1);
  assert_string_equal(kiln_import_results_unused_mapping(r, 0), "unused:2");
  assert_null(kiln_import_results_unused_mapping(r, 1));
  /* A return output that was mapped returns the mapped tensor. */
  assert_ptr_equal(kiln_import_results_output(r, 0).op, x);
  kiln_import_results_free(r);

  kiln_op *sq = kiln_graph_op(g, "sub/sq");
  assert_non_null(sq);
  assert_ptr_equal(kiln_op_input(sq, 0).op, x);
  assert_ptr_equal(kiln_op_input(sq, 1).op, x);
  assert_string_equal(kiln_op_device(sq), "/device:CPU:0");
  /* sq reads only mapped inputs, so it takes the extra dependency. */
  assert_int_equal(kiln_op_num_control_inputs(sq), 1);
  assert_ptr_equal(kiln_op_control_input(sq, 0), c);
  kiln_op *dep = kiln_graph_op(g, "sub/dep");
  assert_int_equal(kiln_op_num_control_inputs(dep), 2);
  assert_ptr_equal(kiln_op_control_input(dep, 0), init);
  assert_ptr_equal(kiln_op_control_input(dep, 1), c);
  kiln_op *lonely = kiln_graph_op(g, "sub/lonely");
  assert_int_equal(kiln_op_num_control_inputs(lonely), 1);
  /* The unmapped placeholder is still imported. */
  kiln_op *in = kiln_graph_op(g, "sub/in");
  assert_non_null(in);
  assert_int_equal(kiln_op_num_control_inputs(in), 1);
  kiln_import_options_free(o);

  /* A mapping onto nothing is refused. */
  o = kiln_import_options_new();
  kiln_import_options_set_prefix(o, "again");
  kiln_import_options_add_input_mapping(o, "in", 0, (kiln_output){x, 5});
  import_fails(g, buf, o, KILN_INVALID_ARGUMENT, "input mapping of 'in:0'");
  kiln_import_options_free(o);
  o = kiln_import_options_new();
  kiln_import_options_set_prefix(o, "again");
  kiln_import_options_add_input_mapping(o, "in", 0, (kiln_output){NULL, 0});
  import_fails(g, buf, o, KILN_INVALID_ARGUMENT, "names no output");
  kiln_import_options_free(o);
  /* An op of another graph is refused too. */
  kiln_graph *other = kiln_graph_new();
  kiln_buffer *sb = small_graph(27);
  kiln_import_results_free(import_ok(other, sb, NULL));
  kiln_buffer_free(sb);
  o = kiln_import_options_new();
  kiln_import_options_set_prefix(o, "again");
  kiln_import_options_add_input_mapping(o, "in", 0,
                                        (kiln_output){kiln_graph_op(other, "x"), 0});
  import_fails(g, buf, o, KILN_INVALID_ARGUMENT, "destination graph");
  kiln_import_options_free(o);
  kiln_graph_free(other);

  kiln_buffer_free(buf);
  assert_round_trip(g);
  kiln_graph_free(g);
}

static void devices_and_colocation_under_prefix(void **state) {
  (void)state;
  gdb b;
  gdb_init(&b, 27);
  Tensorflow__NodeDef *a = const_f(&b, "a", 1.0f);
  a->device = kn_arena_strdup(b.a, "/device:CPU:0");
  Tensorflow__NodeDef *i =
      unary(&b, "i", "Identity", (const char *[]){"a", NULL}, KILN_FLOAT);
  Tensorflow__AttrValue *cls = attr(&b, i, "_class");
  cls->value_case = TENSORFLOW__ATTR_VALUE__VALUE_LIST;
  cls->list = gdb_alloc(&b, sizeof *cls->list);
  tensorflow__attr_value__list_value__init(cls->list);
  cls->list->s = gdb_alloc(&b, sizeof *cls->list->s);
  cls->list->s[0].data = (uint8_t *)kn_arena_strdup(b.a, "loc:@a");
  cls->list->s[0].len = 6;
  cls->list->n_s = 1;
  kiln_buffer *buf = gdb_pack(&b);
  kiln_graph *g = kiln_graph_new();
  kiln_import_options *o = kiln_import_options_new();
  kiln_import_options_set_prefix(o, "p");
  kiln_import_options_set_default_device(o, "/device:GPU:0");
  kiln_import_results_free(import_ok(g, buf, o));
  kiln_import_options_free(o);
  assert_string_equal(kiln_op_device(kiln_graph_op(g, "p/a")), "/device:CPU:0");
  kiln_op *pi = kiln_graph_op(g, "p/i");
  assert_string_equal(kiln_op_device(pi), "/device:GPU:0");
  kiln_status *s = kiln_status_new();
  kiln_buffer *v = kiln_op_attr_value_proto(pi, "_class", s);
  assert_ok(s);
  Tensorflow__AttrValue *pv = tensorflow__attr_value__unpack(NULL, v->length, v->data);
  assert_non_null(pv);
  assert_int_equal(pv->list->n_s, 1);
  assert_int_equal(pv->list->s[0].len, 8);
  assert_memory_equal(pv->list->s[0].data, "loc:@p/a", 8);
  tensorflow__attr_value__free_unpacked(pv, NULL);
  kiln_buffer_free(v);
  kiln_status_free(s);
  assert_round_trip(g);
  kiln_buffer_free(buf);
  kiln_graph_free(g);
}

static void old_producer_placeholder_shapes(void **state) {
  (void)state;
  for (int producer = 21; producer <= 22; producer++) {
    gdb b;
    gdb_init(&b, producer);
    placeholder(&b, "p", KILN_FLOAT, NULL, 0);
    Tensorflow__NodeDef *d =
        node(&b, "d", "PlaceholderWithDefault", (const char *[]){"k", NULL});
    attr_type(&b, d, "dtype", KILN_FLOAT);
    attr_shape(&b, d, "shape", NULL, 0);
    const_f(&b, "k", 0.5f);
    kiln_buffer *buf = gdb_pack(&b);
    kiln_graph *g = kiln_graph_new();
    kiln_import_results_free(import_ok(g, buf, NULL));
    kiln_status *s = kiln_status_new();
    int64_t dims[4];
    kiln_op *p = kiln_graph_op(g, "p");
    int want = producer < 22 ? -1 : 0;
    assert_int_equal(kiln_op_attr_shape(p, "shape", dims, 4, s), want);
    assert_ok(s);
    assert_int_equal(kiln_op_output_shape((kiln_output){p, 0}, dims, 4), want);
    /* Only Placeholder has the legacy meaning. */
    assert_int_equal(kiln_op_attr_shape(kiln_graph_op(g, "d"), "shape", dims, 4, s), 0);
    /* The graph keeps its producer, so the meaning survives export. */
    assert_int_equal(g->producer, producer);
    assert_round_trip(g);
    kiln_status_free(s);
    kiln_buffer_free(buf);
    kiln_graph_free(g);
  }
}

static void versions_and_library_are_kept(void **state) {
  (void)state;
  gdb b;
  gdb_init(&b, 24);
  b.v.min_consumer = 3;
  int32_t bad[] = {5, 7};
  b.v.bad_consumers = bad;
  b.v.n_bad_consumers = 2;
  const_f(&b, "a", 1.0f);
  Tensorflow__FunctionDefLibrary lib;
  tensorflow__function_def_library__init(&lib);
  Tensorflow__FunctionDef fn;
  tensorflow__function_def__init(&fn);
  Tensorflow__OpDef sig;
  tensorflow__op_def__init(&sig);
  sig.name = (char *)"my_fn";
  fn.signature = &sig;
  Tensorflow__FunctionDef *fns[] = {&fn};
  lib.function = fns;
  lib.n_function = 1;
  Tensorflow__GradientDef grad;
  tensorflow__gradient_def__init(&grad);
  grad.function_name = (char *)"my_fn";
  grad.gradient_func = (char *)"my_fn_grad";
  Tensorflow__GradientDef *grads[] = {&grad};
  lib.gradient = grads;
  lib.n_gradient = 1;
  b.gd.library = &lib;
  kiln_buffer *buf = gdb_pack(&b);

  kiln_graph *g = kiln_graph_new();
  kiln_import_results_free(import_ok(g, buf, NULL));
  kiln_buffer *e = export_ok(g);
  Tensorflow__GraphDef *gd = tensorflow__graph_def__unpack(NULL, e->length, e->data);
  assert_non_null(gd);
  assert_int_equal(gd->versions->producer, 24);
  assert_int_equal(gd->versions->min_consumer, 3);
  assert_int_equal(gd->versions->n_bad_consumers, 2);
  assert_int_equal(gd->versions->bad_consumers[1], 7);
  assert_non_null(gd->library);
  assert_int_equal(gd->library->n_function, 1);
  assert_string_equal(gd->library->function[0]->signature->name, "my_fn");
  assert_int_equal(gd->library->n_gradient, 1);
  tensorflow__graph_def__free_unpacked(gd, NULL);
  kiln_buffer_free(e);
  assert_round_trip(g);

  /* A second import: the lower producer stays; the same function again is
  ** fine, a different one under its name is refused. */
  kiln_import_options *o = kiln_import_options_new();
  kiln_import_options_set_prefix(o, "second");
  kiln_import_results_free(import_ok(g, buf, o));
  kiln_import_options_free(o);
  e = export_ok(g);
  gd = tensorflow__graph_def__unpack(NULL, e->length, e->data);
  assert_non_null(gd);
  assert_int_equal(gd->library->n_function, 1);
  assert_int_equal(gd->library->n_gradient, 1);
  tensorflow__graph_def__free_unpacked(gd, NULL);
  kiln_buffer_free(e);
  kiln_buffer *newer = small_graph(27);
  o = kiln_import_options_new();
  kiln_import_options_set_prefix(o, "third");
  kiln_import_results_free(import_ok(g, newer, o));
  kiln_import_options_free(o);
  assert_int_equal(g->producer, 24);
  kiln_buffer_free(newer);

  gdb_init(&b, 27);
  const_f(&b, "z", 1.0f);
  Tensorflow__OpDef sig2;
  tensorflow__op_def__init(&sig2);
  sig2.name = (char *)"my_fn";
  sig2.is_stateful = 1;
  Tensorflow__FunctionDef fn2;
  tensorflow__function_def__init(&fn2);
  fn2.signature = &sig2;
  Tensorflow__FunctionDef *fns2[] = {&fn2};
  Tensorflow__FunctionDefLibrary lib2;
  tensorflow__function_def_library__init(&lib2);
  lib2.function = fns2;
  lib2.n_function = 1;
  b.gd.library = &lib2;
  kiln_buffer *clash = gdb_pack(&b);
  import_fails(g, clash, NULL, KILN_INVALID_ARGUMENT,
               "library function 'my_fn' differs");
  kiln_buffer_free(clash);

  /* Another gradient for my_fn is refused too. */
  gdb_init(&b, 27);
  const_f(&b, "z", 1.0f);
  Tensorflow__GradientDef grad2;
  tensorflow__gradient_def__init(&grad2);
  grad2.function_name = (char *)"my_fn";
  grad2.gradient_func = (char *)"other_grad";
  Tensorflow__GradientDef *grads2[] = {&grad2};
  tensorflow__function_def_library__init(&lib2);
  lib2.gradient = grads2;
  lib2.n_gradient = 1;
  b.gd.library = &lib2;
  clash = gdb_pack(&b);
  import_fails(g, clash, NULL, KILN_INVALID_ARGUMENT,
               "gives function 'my_fn' the gradient 'other_grad' but the "
               "graph has 'my_fn_grad'");
  kiln_buffer_free(clash);

  /* A function new by name is added; equal registered gradients are kept
  ** once. */
  gdb_init(&b, 27);
  const_f(&b, "w", 1.0f);
  sig2.name = (char *)"other_fn";
  Tensorflow__RegisteredGradient rg;
  tensorflow__registered_gradient__init(&rg);
  rg.gradient_func = (char *)"g";
  rg.registered_op_type = (char *)"T";
  Tensorflow__RegisteredGradient *rgs[] = {&rg, &rg};
  tensorflow__function_def_library__init(&lib2);
  lib2.function = fns2;
  lib2.n_function = 1;
  lib2.registered_gradients = rgs;
  lib2.n_registered_gradients = 2;
  b.gd.library = &lib2;
  kiln_buffer *more = gdb_pack(&b);
  kiln_import_results_free(import_ok(g, more, NULL));
  kiln_buffer_free(more);
  e = export_ok(g);
  gd = tensorflow__graph_def__unpack(NULL, e->length, e->data);
  assert_non_null(gd);
  assert_int_equal(gd->library->n_function, 2);
  assert_string_equal(gd->library->function[0]->signature->name, "my_fn");
  assert_string_equal(gd->library->function[1]->signature->name, "other_fn");
  assert_int_equal(gd->library->n_gradient, 1);
  assert_int_equal(gd->library->n_registered_gradients, 1);
  tensorflow__graph_def__free_unpacked(gd, NULL);
  kiln_buffer_free(e);

  /* A consumer version the graph refuses. */
  gdb_init(&b, 27);
  b.v.min_consumer = 100000;
  const_f(&b, "y", 1.0f);
  kiln_buffer *future = gdb_pack(&b);
  import_fails(g, future, NULL, KILN_INVALID_ARGUMENT, "min consumer version 100000");
  kiln_buffer_free(future);

  /* A node whose op names a library function. */
  gdb_init(&b, 27);
  node(&b, "call", "my_fn", NULL);
  b.gd.library = &lib;
  kiln_buffer *call = gdb_pack(&b);
  import_fails(g, call, NULL, KILN_NOT_FOUND, "library");
  kiln_buffer_free(call);
  kiln_buffer_free(buf);
  kiln_graph_free(g);
}

static void export_is_sorted_and_exact(void **state) {
  (void)state;
  kiln_buffer *buf = small_graph(27);
  kiln_graph *g = kiln_graph_new();
  kiln_import_results_free(import_ok(g, buf, NULL));
  kiln_buffer_free(buf);
  kiln_buffer *e = export_ok(g);
  Tensorflow__GraphDef *gd = tensorflow__graph_def__unpack(NULL, e->length, e->data);
  assert_non_null(gd);
  assert_int_equal(gd->n_node, 5);
  assert_string_equal(gd->node[0]->name, "x");
  const Tensorflow__NodeDef *m = gd->node[2];
  assert_string_equal(m->op, "Mul");
  assert_int_equal(m->n_input, 2);
  assert_string_equal(m->input[0], "x");
  assert_string_equal(m->input[1], "c");
  const Tensorflow__NodeDef *init = gd->node[4];
  assert_int_equal(init->n_input, 1);
  assert_string_equal(init->input[0], "^m");
  for (size_t i = 0; i < gd->n_node; i++)
    for (size_t k = 1; k < gd->node[i]->n_attr; k++)
      assert_true(strcmp(gd->node[i]->attr[k - 1]->key, gd->node[i]->attr[k]->key) < 0);
  /* The Placeholder's shape attr is written as [2]. */
  const Tensorflow__NodeDef *x = gd->node[0];
  bool seen = false;
  for (size_t k = 0; k < x->n_attr; k++)
    if (strcmp(x->attr[k]->key, "shape") == 0) {
      seen = true;
      assert_int_equal(x->attr[k]->value->shape->n_dim, 1);
      assert_int_equal(x->attr[k]->value->shape->dim[0]->size, 2);
    }
  assert_true(seen);
  assert_int_equal(gd->versions->producer, 27);
  tensorflow__graph_def__free_unpacked(gd, NULL);
  kiln_buffer_free(e);

  /* An op's NodeDef says the same. */
  kiln_status *s = kiln_status_new();
  kiln_buffer *nd = kn_node_def_serialize(kiln_graph_op(g, "m"), s);
  assert_non_null(nd);
  Tensorflow__NodeDef *n = tensorflow__node_def__unpack(NULL, nd->length, nd->data);
  assert_non_null(n);
  assert_string_equal(n->name, "m");
  assert_string_equal(n->input[0], "x");
  tensorflow__node_def__free_unpacked(n, NULL);
  kiln_buffer_free(nd);
  /* A second output index is written "name:i". */
  kiln_status_free(s);
  kiln_graph_free(g);
}

static void output_index_written_with_colon(void **state) {
  (void)state;
  kiln_buffer *buf = while_loop(KILN_INT32);
  kiln_graph *g = kiln_graph_new();
  kiln_import_results_free(import_ok(g, buf, NULL));
  kiln_buffer_free(buf);
  kiln_status *s = kiln_status_new();
  kiln_buffer *nd = kn_node_def_serialize(kiln_graph_op(g, "w/Identity"), s);
  assert_non_null(nd);
  Tensorflow__NodeDef *n = tensorflow__node_def__unpack(NULL, nd->length, nd->data);
  assert_non_null(n);
  assert_string_equal(n->input[0], "w/Switch:1");
  tensorflow__node_def__free_unpacked(n, NULL);
  kiln_buffer_free(nd);
  kiln_status_free(s);
  kiln_graph_free(g);
}

/* ------------------------------------------------------------ threads */

typedef struct import_job {
  kiln_graph *g;
  const kiln_buffer *buf;
  int id, failures;
} import_job;

static void *import_many(void *arg) {
  import_job *j = arg;
  kiln_status *s = kiln_status_new();
  for (int k = 0; k < 25; k++) {
    char prefix[32];
    snprintf(prefix, sizeof prefix, "t%d_%d", j->id, k);
    kiln_import_options *o = kiln_import_options_new();
    kiln_import_options_set_prefix(o, prefix);
    kiln_import_results *r = kiln_graph_import(j->g, j->buf->data, j->buf->length, o, s);
    if (!r) j->failures++;
    kiln_import_results_free(r);
    kiln_import_options_free(o);
    kiln_buffer *e = kiln_graph_export(j->g, s);
    if (!e) j->failures++;
    kiln_buffer_free(e);
  }
  kiln_status_free(s);
  return NULL;
}

/* Imports and exports from several threads into one graph. */
static void concurrent_imports(void **state) {
  (void)state;
  kiln_buffer *buf = small_graph(27);
  kiln_graph *g = kiln_graph_new();
  pthread_t th[4];
  import_job jobs[4];
  for (int i = 0; i < 4; i++) {
    jobs[i] = (import_job){g, buf, i, 0};
    assert_int_equal(pthread_create(&th[i], NULL, import_many, &jobs[i]), 0);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(th[i], NULL);
    assert_int_equal(jobs[i].failures, 0);
  }
  assert_int_equal(kiln_graph_num_ops(g), 4 * 25 * 5);
  assert_non_null(kiln_graph_op(g, "t3_24/init"));
  assert_round_trip(g);
  kiln_buffer_free(buf);
  kiln_graph_free(g);
}

/* ---------------------------------------------------------- NULL handling */

static void options_free_null_and_results_null(void **state) {
  (void)state;
  kiln_import_options_free(NULL);
  kiln_import_results_free(NULL);
  assert_int_equal(kiln_import_results_num_outputs(NULL), 0);
  assert_int_equal(kiln_import_results_num_ops(NULL), 0);
  assert_int_equal(kiln_import_results_num_unused_mappings(NULL), 0);
  kiln_status *s = kiln_status_new();
  assert_null(kiln_graph_import(NULL, "", 0, NULL, s));
  assert_status(s, KILN_INVALID_ARGUMENT, "no graph");
  kiln_status_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(testdata_graphs_import),
    cmocka_unit_test(testdata_while_loop_back_edge),
    cmocka_unit_test(truncated_and_garbage_bytes),
    cmocka_unit_test(node_bytes_are_checked),
    cmocka_unit_test(unknown_op_is_not_found),
    cmocka_unit_test(dangling_inputs),
    cmocka_unit_test(illegal_cycle_names_its_nodes),
    cmocka_unit_test(legal_while_loop),
    cmocka_unit_test(attr_of_wrong_kind),
    cmocka_unit_test(tensor_content_must_match_shape),
    cmocka_unit_test(duplicate_names_and_clashes),
    cmocka_unit_test(return_outputs_and_ops),
    cmocka_unit_test(input_mappings),
    cmocka_unit_test(devices_and_colocation_under_prefix),
    cmocka_unit_test(old_producer_placeholder_shapes),
    cmocka_unit_test(versions_and_library_are_kept),
    cmocka_unit_test(export_is_sorted_and_exact),
    cmocka_unit_test(output_index_written_with_colon),
    cmocka_unit_test(concurrent_imports),
    cmocka_unit_test(options_free_null_and_results_null),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
