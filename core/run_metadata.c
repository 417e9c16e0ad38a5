/* Run metadata: what a traced step recorded per node, as TensorFlow's
** RunMetadata and as Chrome trace JSON (chrome://tracing, Perfetto).
**
** The executor appends one kn_node_stats per node it ran; everything here
** reads that list. Times are kept as the executor measured them (wall
** clock start, duration in ns) and converted on the way out. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <protobuf-c/protobuf-c.h>

#include "graph_def.h"
#include "session_config.h"
#include "status_internal.h"
#include "config.pb-c.h"

/* ------------------------------------------------------------ records */

static void node_free(kn_node_stats *st) {
  free(st->node);
  free(st->op);
  free(st->device);
  free(st->output_bytes_each);
  free(st->requested_device);
  free(st->placement);
  free(st->output_dtype);
}

KILN_API kiln_run_metadata *kiln_run_metadata_new(void) {
  return calloc(1, sizeof(kiln_run_metadata));
}

void kn_run_metadata_reset(kiln_run_metadata *m) {
  if (!m) return;
  for (int i = 0; i < m->n; i++) node_free(&m->nodes[i]);
  m->n = 0;
  for (int i = 0; i < m->ngraphs; i++) free(m->graphs[i].data);
  m->ngraphs = 0;
  m->step_start_us = 0;
  m->step_duration_ns = 0;
}

KILN_API void kiln_run_metadata_free(kiln_run_metadata *m) {
  if (!m) return;
  kn_run_metadata_reset(m);
  free(m->nodes);
  free(m->graphs);
  free(m);
}

static char *dup_str(const char *s) {
  return strdup(s ? s : "");
}

static void *dup_array(const void *src, size_t n, size_t size) {
  if (!src || n == 0) return NULL;
  void *d = malloc(n * size);
  if (d) memcpy(d, src, n * size);
  return d;
}

bool kn_run_metadata_add(kiln_run_metadata *m, const kn_node_stats *st) {
  if (m->n == m->cap) {
    int cap = m->cap ? m->cap * 2 : 16;
    kn_node_stats *nodes = realloc(m->nodes, (size_t)cap * sizeof *nodes);
    if (!nodes) return false;
    m->nodes = nodes;
    m->cap = cap;
  }
  kn_node_stats d = *st;
  size_t nout = st->noutputs > 0 ? (size_t)st->noutputs : 0;
  d.noutputs = (int)nout;
  d.node = dup_str(st->node);
  d.op = dup_str(st->op);
  d.device = dup_str(st->device);
  d.requested_device = dup_str(st->requested_device);
  d.placement = dup_str(st->placement);
  d.output_bytes_each = dup_array(st->output_bytes_each, nout, sizeof(int64_t));
  d.output_dtype = dup_array(st->output_dtype, nout, sizeof(int));
  if (!d.node || !d.op || !d.device || !d.requested_device || !d.placement ||
      (st->output_bytes_each && nout && !d.output_bytes_each) ||
      (st->output_dtype && nout && !d.output_dtype)) {
    node_free(&d);
    return false;
  }
  m->nodes[m->n++] = d;
  return true;
}

bool kn_run_metadata_add_partition_graph(kiln_run_metadata *m,
                                         const void *graph_def, size_t len) {
  if (m->ngraphs == m->graphs_cap) {
    int cap = m->graphs_cap ? m->graphs_cap * 2 : 4;
    kn_partition_graph *g = realloc(m->graphs, (size_t)cap * sizeof *g);
    if (!g) return false;
    m->graphs = g;
    m->graphs_cap = cap;
  }
  void *data = malloc(len ? len : 1);
  if (!data) return false;
  if (len) memcpy(data, graph_def, len);
  m->graphs[m->ngraphs].data = data;
  m->graphs[m->ngraphs].len = len;
  m->ngraphs++;
  return true;
}

/* --------------------------------------------------------- accessors */

static const kn_node_stats *node_at(const kiln_run_metadata *m, int i) {
  return (m && i >= 0 && i < m->n) ? &m->nodes[i] : NULL;
}

KILN_API int kiln_run_metadata_num_nodes(const kiln_run_metadata *m) {
  return m ? m->n : 0;
}

KILN_API const char *kiln_run_metadata_node_name(const kiln_run_metadata *m,
                                                 int i) {
  const kn_node_stats *st = node_at(m, i);
  return st ? st->node : NULL;
}

KILN_API const char *kiln_run_metadata_node_op(const kiln_run_metadata *m,
                                               int i) {
  const kn_node_stats *st = node_at(m, i);
  return st ? st->op : NULL;
}

KILN_API const char *kiln_run_metadata_node_device(const kiln_run_metadata *m,
                                                   int i) {
  const kn_node_stats *st = node_at(m, i);
  return st ? st->device : NULL;
}

KILN_API int64_t kiln_run_metadata_node_start_us(const kiln_run_metadata *m,
                                                 int i) {
  const kn_node_stats *st = node_at(m, i);
  return st ? st->start_us : -1;
}

KILN_API int64_t kiln_run_metadata_node_duration_ns(const kiln_run_metadata *m,
                                                    int i) {
  const kn_node_stats *st = node_at(m, i);
  return st ? st->duration_ns : -1;
}

KILN_API int64_t kiln_run_metadata_node_output_bytes(const kiln_run_metadata *m,
                                                     int i) {
  const kn_node_stats *st = node_at(m, i);
  return st ? st->output_bytes : -1;
}

KILN_API const char *kiln_run_metadata_node_requested_device(
    const kiln_run_metadata *m, int i) {
  const kn_node_stats *st = node_at(m, i);
  return st ? st->requested_device : NULL;
}

KILN_API const char *kiln_run_metadata_node_placement(
    const kiln_run_metadata *m, int i) {
  const kn_node_stats *st = node_at(m, i);
  return st ? st->placement : NULL;
}

/* The start in ns since the epoch, from start_ns when the executor
** measured it, else from start_us. */
static int64_t start_ns(const kn_node_stats *st) {
  return st->start_ns ? st->start_ns : st->start_us * 1000;
}

/* Distinct devices in order of first appearance; dev[i] is the index of
** node i's device. NULL when out of memory. */
static const char **group_devices(const kiln_run_metadata *m, int *dev,
                                  int *ndev) {
  const char **names = malloc((size_t)(m->n ? m->n : 1) * sizeof *names);
  if (!names) return NULL;
  int k = 0;
  for (int i = 0; i < m->n; i++) {
    int j = 0;
    while (j < k && strcmp(names[j], m->nodes[i].device) != 0) j++;
    if (j == k) names[k++] = m->nodes[i].device;
    dev[i] = j;
  }
  *ndev = k;
  return names;
}

/* ---------------------------------------------------- RunMetadata */

static Tensorflow__NodeExecStats *node_to_proto(kn_arena *a,
                                                const kn_node_stats *st) {
  Tensorflow__NodeExecStats *p = kn_arena_alloc(a, sizeof *p);
  if (!p) return NULL;
  tensorflow__node_exec_stats__init(p);
  p->node_name = st->node;
  int64_t t0 = start_ns(st);
  p->all_start_nanos = t0;
  p->all_start_micros = t0 / 1000;
  p->op_start_rel_micros = p->op_start_rel_nanos = 0;
  p->op_end_rel_nanos = p->all_end_rel_nanos = st->duration_ns;
  p->op_end_rel_micros = p->all_end_rel_micros = st->duration_ns / 1000;
  p->thread_id = st->thread_id;
  /* TensorFlow's timeline reads the op type from "name = Op(inputs)". */
  size_t ln = strlen(st->node) + strlen(st->op) + 6;
  if (!(p->timeline_label = kn_arena_alloc(a, ln))) return NULL;
  snprintf(p->timeline_label, ln, "%s = %s()", st->node, st->op);

  /* Per-output sizes when the executor gave them; a single-output node's
  ** total is its output's size. */
  const int64_t *each = st->output_bytes_each;
  size_t nout = (size_t)st->noutputs;
  if (!each && nout == 1) each = &st->output_bytes;
  if (!each) nout = 0;
  if (nout == 0) return p;
  p->output = kn_arena_alloc(a, nout * sizeof *p->output);
  if (!p->output) return NULL;
  for (size_t k = 0; k < nout; k++) {
    Tensorflow__NodeOutput *o = kn_arena_alloc(a, sizeof *o);
    Tensorflow__TensorDescription *td = kn_arena_alloc(a, sizeof *td);
    Tensorflow__AllocationDescription *ad = kn_arena_alloc(a, sizeof *ad);
    if (!o || !td || !ad) return NULL;
    tensorflow__node_output__init(o);
    tensorflow__tensor_description__init(td);
    tensorflow__allocation_description__init(ad);
    o->slot = (int32_t)k;
    ad->requested_bytes = each[k];
    ad->allocated_bytes = each[k];
    td->allocation_description = ad;
    if (st->output_dtype) td->dtype = (Tensorflow__DataType)st->output_dtype[k];
    o->tensor_description = td;
    p->output[k] = o;
  }
  p->n_output = nout;
  return p;
}

static Tensorflow__StepStats *step_stats_to_proto(kn_arena *a,
                                                  const kiln_run_metadata *m) {
  Tensorflow__StepStats *ss = kn_arena_alloc(a, sizeof *ss);
  int *dev = kn_arena_alloc(a, (size_t)m->n * sizeof *dev);
  if (!ss || !dev) return NULL;
  tensorflow__step_stats__init(ss);
  int ndev = 0;
  const char **names = group_devices(m, dev, &ndev);
  if (!names) return NULL;
  Tensorflow__DeviceStepStats **ds = kn_arena_alloc(a, (size_t)ndev * sizeof *ds);
  size_t *count = kn_arena_alloc(a, (size_t)ndev * sizeof *count);
  bool ok = ds && count;
  for (int j = 0; ok && j < ndev; j++) {
    if (!(ds[j] = kn_arena_alloc(a, sizeof **ds))) ok = false;
    else {
      tensorflow__device_step_stats__init(ds[j]);
      ds[j]->device = (char *)names[j];
    }
  }
  free(names);
  if (!ok) return NULL;
  for (int i = 0; i < m->n; i++) count[dev[i]]++;
  for (int j = 0; j < ndev; j++)
    if (!(ds[j]->node_stats = kn_arena_alloc(a, count[j] * sizeof(void *))))
      return NULL;
  for (int i = 0; i < m->n; i++) {
    Tensorflow__DeviceStepStats *d = ds[dev[i]];
    if (!(d->node_stats[d->n_node_stats++] = node_to_proto(a, &m->nodes[i])))
      return NULL;
  }
  ss->dev_stats = ds;
  ss->n_dev_stats = (size_t)ndev;
  return ss;
}

/* Bytes of a varint. */
static size_t varint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

static uint8_t *put_varint(uint8_t *p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  *p++ = (uint8_t)v;
  return p;
}

KILN_API kiln_buffer *kiln_run_metadata_to_proto(const kiln_run_metadata *m,
                                                 kiln_status *status) {
  if (!m) {
    kn_errorf(status, KILN_INVALID_ARGUMENT,
              "kiln_run_metadata_to_proto: the run metadata is NULL");
    return NULL;
  }
  kn_arena *a = kn_arena_new();
  if (!a) {
    KN_OOM(status);
    return NULL;
  }
  Tensorflow__RunMetadata rm = TENSORFLOW__RUN_METADATA__INIT;
  if (m->n > 0 && !(rm.step_stats = step_stats_to_proto(a, m))) {
    kn_arena_free(a);
    KN_OOM(status);
    return NULL;
  }
  /* The partition graphs are already serialized GraphDefs: each goes on
  ** the wire as field 3, length-delimited, with no need to parse it. */
  size_t head = protobuf_c_message_get_packed_size(&rm.base);
  size_t total = head;
  for (int i = 0; i < m->ngraphs; i++)
    total += 1 + varint_size(m->graphs[i].len) + m->graphs[i].len;
  kiln_buffer *b = malloc(sizeof *b);
  uint8_t *data = malloc(total ? total : 1);
  if (!b || !data) {
    free(b);
    free(data);
    kn_arena_free(a);
    KN_OOM(status);
    return NULL;
  }
  uint8_t *p = data + protobuf_c_message_pack(&rm.base, data);
  for (int i = 0; i < m->ngraphs; i++) {
    *p++ = (3 << 3) | PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED;
    p = put_varint(p, m->graphs[i].len);
    if (m->graphs[i].len) memcpy(p, m->graphs[i].data, m->graphs[i].len);
    p += m->graphs[i].len;
  }
  b->data = data;
  b->length = (size_t)(p - data);
  kn_arena_free(a);
  kiln_status_reset(status);
  return b;
}

/* ------------------------------------------------------ Chrome trace */

/* A growing string; `oom` sticks once an append fails. */
typedef struct sbuf {
  char *p;
  size_t n, cap;
  bool oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n) {
  if (b->oom) return;
  if (b->n + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + n + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
      b->oom = true;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = '\0';
}

static void sb_puts(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

static void sb_printf(sbuf *b, const char *fmt, ...) KN_PRINTF(2, 3);
static void sb_printf(sbuf *b, const char *fmt, ...) {
  char tmp[128];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof tmp) {
    b->oom = true;   /* only short numeric fields are formatted here */
    return;
  }
  sb_put(b, tmp, (size_t)n);
}

/* Length of the valid UTF-8 sequence at s (at most `n` bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  size_t len;
  unsigned min;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) len = 2, min = 0x80;
  else if (c >= 0xe0 && c <= 0xef) len = 3, min = 0x800;
  else if (c >= 0xf0 && c <= 0xf4) len = 4, min = 0x10000;
  else return 0;
  if (len > n) return 0;
  unsigned cp = c & (0x7f >> len);
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}

/* A JSON string: quotes, backslashes and control characters escaped; a
** byte that is not valid UTF-8 becomes U+FFFD so the file always parses. */
static void sb_json_str(sbuf *b, const char *str) {
  const unsigned char *s = (const unsigned char *)str;
  size_t n = strlen(str);
  sb_put(b, "\"", 1);
  for (size_t i = 0; i < n;) {
    unsigned char c = s[i];
    if (c == '"' || c == '\\') {
      char e[2] = {'\\', (char)c};
      sb_put(b, e, 2);
      i++;
    } else if (c < 0x20) {
      switch (c) {
      case '\n': sb_puts(b, "\\n"); break;
      case '\r': sb_puts(b, "\\r"); break;
      case '\t': sb_puts(b, "\\t"); break;
      case '\b': sb_puts(b, "\\b"); break;
      case '\f': sb_puts(b, "\\f"); break;
      default: sb_printf(b, "\\u%04x", c); break;
      }
      i++;
    } else {
      size_t len = utf8_len(s + i, n - i);
      if (len == 0) {
        sb_puts(b, "\\ufffd");
        i++;
      } else {
        sb_put(b, (const char *)s + i, len);
        i += len;
      }
    }
  }
  sb_put(b, "\"", 1);
}

/* Nanoseconds as fractional microseconds, exactly ("12.345"). */
static void sb_micros(sbuf *b, int64_t ns) {
  uint64_t u = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
  sb_printf(b, "%s%" PRIu64 ".%03" PRIu64, ns < 0 ? "-" : "", u / 1000,
            u % 1000);
}

/* The trace as JSON into *b: one process per device, named by metadata
** events, and one complete event per node. Times are relative to the
** earliest node, so that they stay small enough to keep their
** nanoseconds once a viewer reads them as doubles. */
static void chrome_trace_json(const kiln_run_metadata *m, sbuf *b) {
  int *dev = malloc((size_t)m->n * sizeof *dev);
  int ndev = 0;
  const char **names = dev ? group_devices(m, dev, &ndev) : NULL;
  if (!names) {
    free(dev);
    b->oom = true;
    return;
  }
  int64_t t0 = start_ns(&m->nodes[0]);
  for (int i = 1; i < m->n; i++)
    if (start_ns(&m->nodes[i]) < t0) t0 = start_ns(&m->nodes[i]);

  sb_puts(b, "{\"traceEvents\": [\n");
  for (int j = 0; j < ndev; j++) {
    sb_printf(b, "  {\"name\": \"process_name\", \"ph\": \"M\", \"pid\": %d, "
                 "\"args\": {\"name\": ", j);
    sb_json_str(b, *names[j] ? names[j] : "(no device)");
    sb_puts(b, "}},\n");
    sb_printf(b, "  {\"name\": \"process_sort_index\", \"ph\": \"M\", "
                 "\"pid\": %d, \"args\": {\"sort_index\": %d}},\n", j, j);
  }
  for (int i = 0; i < m->n; i++) {
    const kn_node_stats *st = &m->nodes[i];
    sb_puts(b, "  {\"name\": ");
    sb_json_str(b, st->node);
    sb_printf(b, ", \"cat\": \"Op\", \"ph\": \"X\", \"pid\": %d, "
                 "\"tid\": %" PRIu32 ", \"ts\": ", dev[i], st->thread_id);
    sb_micros(b, start_ns(st) - t0);
    sb_puts(b, ", \"dur\": ");
    sb_micros(b, st->duration_ns);
    sb_puts(b, ", \"args\": {\"name\": ");
    sb_json_str(b, st->node);
    sb_puts(b, ", \"op\": ");
    sb_json_str(b, st->op);
    sb_printf(b, ", \"output_bytes\": %" PRId64 "}}%s\n", st->output_bytes,
              i + 1 < m->n ? "," : "");
  }
  sb_puts(b, "],\n\"displayTimeUnit\": \"ns\"}\n");
  free(names);
  free(dev);
}

KILN_API void kiln_run_metadata_write_chrome_trace(const kiln_run_metadata *m,
                                                   const char *path,
                                                   kiln_status *status) {
  if (!m || !path || !*path) {
    kn_errorf(status, KILN_INVALID_ARGUMENT,
              "kiln_run_metadata_write_chrome_trace: %s is %s",
              !m ? "the run metadata" : "the path", !m || !path ? "NULL" : "empty");
    return;
  }
  if (m->n == 0) {
    kn_errorf(status, KILN_FAILED_PRECONDITION,
              "Cannot write a Chrome trace to '%s': the run metadata holds "
              "no traced step (run with trace level FULL to record one)",
              path);
    return;
  }
  sbuf b = {0};
  chrome_trace_json(m, &b);
  if (b.oom) {
    free(b.p);
    KN_OOM(status);
    return;
  }
  FILE *f = fopen(path, "wb");
  if (!f) {
    int e = errno;
    free(b.p);
    kn_errorf(status, kn_errno_code(e), "Cannot write a Chrome trace to '%s': %s",
              path, strerror(e));
    return;
  }
  size_t w = fwrite(b.p, 1, b.n, f);
  int e = w == b.n ? 0 : errno;
  if (fclose(f) != 0 && e == 0) e = errno;
  if (w != b.n && e == 0) e = EIO;
  free(b.p);
  if (e != 0) {
    /* A half-written trace would only mislead a viewer. */
    unlink(path);
    kn_errorf(status, kn_errno_code(e), "Cannot write a Chrome trace to '%s': %s",
              path, strerror(e));
    return;
  }
  kiln_status_reset(status);
}
