/*
** GraphDef import and export.
**
** Import is all or nothing. The GraphDef is parsed and checked as a whole
** (names, inputs, versions, cycles) before any operation is built, though
** each NodeDef is unpacked only when it is built (see importer); the
** operations are then built in topological order with kn_op_create, which
** validates each against the registry without touching the graph, and
** committed together with kn_graph_commit. Any failure frees what was
** built and leaves the graph as it was.
**
** Ordering uses Kahn's algorithm with the ready set kept as a min-heap of
** GraphDef positions, so a GraphDef that is already topologically sorted
** (every export is) is built in its own order, and export(import(x)) gives
** x's bytes back. An input of a Merge that comes from a NextIteration is a
** loop back edge (TensorFlow 1 while loops): it does not count towards the
** order, and the Merge is built with a KN_BACK_EDGE_OP placeholder input
** that is patched once the NextIteration exists. Any other cycle is an
** error naming the nodes on it.
*/
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <protobuf-c/protobuf-c.h>
#include "attr_value.pb-c.h"
#include "function.pb-c.h"
#include "graph.pb-c.h"
#include "graph_def.h"
#include "graph_internal.h"
#include "node_def.pb-c.h"
#include "status_internal.h"
#include "versions.pb-c.h"

/* -------------------------------------------------------------- import */

/* One data input of a node: from another node of the GraphDef (src >= 0),
** or from the destination graph through an input mapping (src -1). */
typedef struct data_in {
  int src;
  int index;
  kiln_output ext;
  bool back;          /* a NextIteration -> Merge loop edge */
} data_in;

typedef struct ctrl_in {
  int src;            /* -1: ext */
  kiln_op *ext;
} ctrl_in;

typedef struct node_info {
  size_t at, len;     /* the NodeDef's bytes in the GraphDef */
  char *type;         /* its op type, interned in the arena */
  char *name;         /* with the prefix; the bare name follows it */
  data_in *in;
  int nin;
  ctrl_in *ctrl;
  int nctrl;
  int indeg;
  bool done;
  bool resolved;      /* inputs resolved (in and ctrl filled) */
  kiln_op *op;
} node_info;

typedef struct importer {
  kiln_graph *g;
  const kiln_import_options *o;
  kiln_status *s;
  /* The GraphDef's bytes. Its NodeDefs are never unpacked all at once
  ** (a million take hundreds of megabytes of fresh memory): names, types
  ** and inputs are read from the bytes, and each NodeDef is unpacked into
  ** `scratch` only to be built. The rest of the GraphDef (library,
  ** versions) is unpacked as `gd`, without nodes, into `arena`, which
  ** also holds node names, op types and input lists, freed at once. */
  const uint8_t *bytes;
  size_t len;
  kn_arena *arena;
  kn_arena *scratch;
  Tensorflow__GraphDef *gd;
  int n;
  node_info *nodes;
  kn_strmap by_name;      /* GraphDef name -> index + 1 (borrowed keys) */
  kn_strmap maps;         /* "name:index" -> mapping index + 1 */
  kn_strmap cmaps;        /* name -> control mapping index + 1 */
  kn_strmap types;        /* op type -> schema, saving the registry's lock */
  kn_strmap ops;          /* op type -> its interned copy */
  char *last_type;        /* the last node's */
  const char *built_type; /* the last built node's, and its schema */
  const kn_op_def *built_def;
  bool *map_used;
  int producer;
  bool bad;               /* the GraphDef did not parse */
  bool scanned;           /* nodes[].at and .len are known */
  char *prefix;           /* "p/" or "" */
  size_t plen;
  int *order;             /* topological order */
  int norder;
  int *succ, *succ_start; /* successors, CSR */
  /* The description each node is built from in turn: its strings are
  ** borrowed, its arrays reused, its attrs taken by kn_op_create. */
  kiln_op_desc desc;
  kn_op_slab *slabs;      /* the built ops' memory, the graph's on commit */
} importer;

static bool is_merge(const char *op) {
  return strcmp(op, "Merge") == 0 || strcmp(op, "RefMerge") == 0;
}

static bool is_next_iteration(const char *op) {
  return strcmp(op, "NextIteration") == 0 ||
         strcmp(op, "RefNextIteration") == 0;
}

/* A node's name as the GraphDef gives it, without the import prefix. */
static const char *node_name(const importer *im, const node_info *ni) {
  return ni->name + im->plen;
}

static kiln_code bad_graph_def(importer *im) {
  im->bad = true;
  return kn_errorf(im->s, KILN_INVALID_ARGUMENT,
                   "Invalid GraphDef: %zu bytes do not parse (malformed or "
                   "truncated)", im->len);
}

/* The length of the field whose payload starts at p[0..rem), read as
** protobuf-c reads it (tag, then payload by wire type); 0 when it does not
** parse. *tag and *wire describe it, *hdr is the tag's (and length
** prefix's) size. */
static size_t field_len_slow(const uint8_t *p, size_t rem, uint32_t *tag,
                             unsigned *wire, size_t *hdr) {
  size_t max = rem < 5 ? rem : 5, t = 0, at;
  uint32_t v = (uint32_t)(p[0] & 0x7f) >> 3;
  unsigned shift = 4;
  *wire = p[0] & 7;
  if (p[0] & 0x80) {
    for (t = 1; t < max && (p[t] & 0x80); t++, shift += 7)
      v |= (uint32_t)(p[t] & 0x7f) << shift;
    if (t == max) return 0;
    v |= (uint32_t)p[t] << shift;
  }
  at = t + 1;
  *tag = v;
  *hdr = at;
  p += at;
  rem -= at;
  switch (*wire) {
  case 0: /* varint */
    for (size_t i = 0; i < rem && i < 10; i++)
      if (!(p[i] & 0x80)) return at + i + 1;
    return 0;
  case 1: /* 64-bit */
    return rem < 8 ? 0 : at + 8;
  case 2: { /* length-prefixed */
    size_t hmax = rem < 5 ? rem : 5, i;
    uint32_t n = 0;
    for (i = 0; i < hmax; i++) {
      n |= (uint32_t)(p[i] & 0x7f) << (7 * i);
      if (!(p[i] & 0x80)) break;
    }
    if (i == hmax || i + 1 + (size_t)n > rem) return 0;
    *hdr = at + i + 1;
    return at + i + 1 + n;
  }
  case 5: /* 32-bit */
    return rem < 4 ? 0 : at + 4;
  default:
    return 0;
  }
}

/* The common case first: a one-byte tag of a length-prefixed field under
** 128 bytes (names, op types, inputs, small attrs). */
static inline size_t field_len(const uint8_t *p, size_t rem, uint32_t *tag,
                               unsigned *wire, size_t *hdr) {
  if (rem >= 2 && (p[0] & 0x87) == 2 && p[1] < 0x80) {
    if ((size_t)p[1] + 2 > rem) return 0;
    *tag = p[0] >> 3;
    *wire = 2;
    *hdr = 2;
    return (size_t)p[1] + 2;
  }
  return field_len_slow(p, rem, tag, wire, hdr);
}

/* Walks the GraphDef's fields: field 1 (a NodeDef) is counted, or with
** `nodes` its payload's place recorded; every other field is counted in
** *rest_len, or with `rest` copied there as it is, to be unpacked as a
** GraphDef of no nodes. Failing here is failing to parse. */
static bool scan_graph_def(importer *im, node_info *nodes, uint8_t *rest,
                           size_t *n, size_t *rest_len) {
  const uint8_t *p = im->bytes;
  size_t pos = 0;
  *n = *rest_len = 0;
  while (pos < im->len) {
    uint32_t tag;
    unsigned wire;
    size_t hdr, flen = field_len(p + pos, im->len - pos, &tag, &wire, &hdr);
    if (flen == 0) return false;
    if (tag == 1) {
      if (wire != 2) return false;
      if (nodes) {
        nodes[*n].at = pos + hdr;
        nodes[*n].len = flen - hdr;
      }
      ++*n;
    } else {
      if (rest) memcpy(rest + *rest_len, p + pos, flen);
      *rest_len += flen;
    }
    pos += flen;
  }
  return true;
}

/* Unpacks node i into the scratch arena, emptied first with `reset`. */
static const Tensorflow__NodeDef *unpack_node(importer *im, int i, bool reset) {
  if (reset) kn_arena_reset(im->scratch);
  const node_info *ni = &im->nodes[i];
  Tensorflow__NodeDef *nd =
      kn_proto_unpack_arena(&tensorflow__node_def__descriptor,
                            im->bytes + ni->at, ni->len, im->scratch, im->s);
  if (!nd && kiln_status_code(im->s) == KILN_INVALID_ARGUMENT)
    bad_graph_def(im);
  return nd;
}

static int lookup(const kn_strmap *m, const char *key, size_t len) {
  void *v = kn_strmap_getn(m, key, len);
  return v ? (int)(intptr_t)v - 1 : -1;
}

/* "name[0..nlen):index" in `small` when it fits, else malloc'd (always
** with a NULL `small`); NULL when out of memory. */
static char *tensor_key(char *small, size_t cap, const char *name,
                        size_t nlen, int index) {
  size_t need = nlen + 16;
  char *key = need <= cap ? small : malloc(need);
  if (key) snprintf(key, need, "%.*s:%d", (int)nlen, name, index);
  return key;
}

/* The input mapping for "name[0..nlen):index", or -1 (and *oom when the
** key could not be made). */
static int find_mapping(const importer *im, const char *name, size_t nlen,
                        int index, bool *oom) {
  char small[128];
  char *key = tensor_key(small, sizeof small, name, nlen, index);
  *oom = key == NULL;
  if (!key) {
    KN_OOM(im->s);
    return -1;
  }
  int m = lookup(&im->maps, key, strlen(key));
  if (key != small) free(key);
  return m;
}

static char *cat3(const char *a, const char *b, const char *c) {
  size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
  char *p = malloc(la + lb + lc + 1);
  if (!p) return NULL;
  memcpy(p, a, la);
  memcpy(p + la, b, lb);
  memcpy(p + la + lb, c, lc + 1);
  return p;
}

/* Splits "name:17" (in[0..len)) into name and index; a name without a
** numeric suffix is output 0. False when the index does not fit an int. */
static bool split_input(const char *in, size_t len, size_t *nlen, int *index) {
  const char *colon = NULL;
  for (size_t k = len; k > 0 && !colon; k--)
    if (in[k - 1] == ':') colon = in + k - 1;
  *nlen = len;
  *index = 0;
  if (!colon || colon + 1 == in + len) return true;
  long long v = 0;
  for (const char *p = colon + 1; p < in + len; p++) {
    if (*p < '0' || *p > '9') return true;
    v = v * 10 + (*p - '0');
    if (v > INT_MAX) return false;
  }
  *nlen = (size_t)(colon - in);
  *index = (int)v;
  return true;
}

static kiln_code check_versions(importer *im) {
  const Tensorflow__VersionDef *v = im->gd->versions;
  if (!v) return KILN_OK;
  if (v->producer < 0)
    return kn_errorf(im->s, KILN_INVALID_ARGUMENT,
                     "GraphDef producer version %d is below the minimum 0",
                     v->producer);
  if (v->min_consumer > KN_GRAPH_DEF_VERSION)
    return kn_errorf(im->s, KILN_INVALID_ARGUMENT,
                     "GraphDef min consumer version %d is above Kiln's "
                     "GraphDef version %d; the graph needs a newer consumer",
                     v->min_consumer, KN_GRAPH_DEF_VERSION);
  for (size_t i = 0; i < v->n_bad_consumers; i++)
    if (v->bad_consumers[i] == KN_GRAPH_DEF_VERSION)
      return kn_errorf(im->s, KILN_INVALID_ARGUMENT,
                       "GraphDef disallows consumer version %d, Kiln's "
                       "GraphDef version", KN_GRAPH_DEF_VERSION);
  return KILN_OK;
}

/* ------------------------------------------------- reading NodeDefs */

/* Before building, the importer reads a NodeDef's name, op and inputs
** straight from its bytes, as protobuf-c would unpack them (the last name
** or op given wins; a string ends at its first NUL), and unpacks the
** whole NodeDef only to build it. The fields it skips (device, attrs,
** debug info, type) are checked when it is built, and, should the import
** fail before that, by check_parses. */

/* A NodeDef string field's text: up to its first NUL, as C sees it. */
static void field_text(const uint8_t *p, size_t hdr, size_t flen,
                       const char **str, size_t *len) {
  *str = (const char *)p + hdr;
  *len = strnlen(*str, flen - hdr);
}

/* Walks node i's fields. 0 when one does not parse or a known field has
** the wrong wire type (as protobuf-c refuses it), else 1. The name and op
** are returned; the number of inputs and of control inputs counted. */
typedef struct node_scan {
  const char *name, *op;
  size_t name_len, op_len;
  size_t nin, nctrl;
} node_scan;

static bool scan_node(const importer *im, int i, node_scan *ns) {
  const node_info *ni = &im->nodes[i];
  const uint8_t *p = im->bytes + ni->at;
  size_t pos = 0, len = ni->len;
  memset(ns, 0, sizeof *ns);
  ns->name = ns->op = "";
  while (pos < len) {
    uint32_t tag;
    unsigned wire;
    size_t hdr, flen = field_len(p + pos, len - pos, &tag, &wire, &hdr);
    if (flen == 0) return false;
    /* Fields 1 to 7 are strings and messages. */
    if (tag >= 1 && tag <= 7 && wire != 2) return false;
    if (tag == 1) {
      field_text(p + pos, hdr, flen, &ns->name, &ns->name_len);
    } else if (tag == 2) {
      field_text(p + pos, hdr, flen, &ns->op, &ns->op_len);
    } else if (tag == 3) {
      ns->nin++;
      ns->nctrl += flen > hdr && p[pos + hdr] == '^';
    }
    pos += flen;
  }
  return true;
}

/* The next input of node i from byte *pos of its NodeDef (which
** scan_node has walked), or false at the end. */
static bool next_input(const importer *im, int i, size_t *pos,
                       const char **in, size_t *len) {
  const node_info *ni = &im->nodes[i];
  const uint8_t *p = im->bytes + ni->at;
  while (*pos < ni->len) {
    uint32_t tag = 0;
    unsigned wire;
    size_t hdr, flen = field_len(p + *pos, ni->len - *pos, &tag, &wire, &hdr);
    size_t at = *pos;
    *pos += flen;
    if (tag == 3) {
      field_text(p + at, hdr, flen, in, len);
      return true;
    }
  }
  return false;
}

/* Resolves the input strings of node i (whose fields ns counts). With
** `early` (see index_names) nothing is reported: a node that cannot be
** resolved yet is left for resolve_inputs, which returns to it and names
** what is wrong. */
static kiln_code resolve_node(importer *im, int i, const node_scan *ns,
                              bool early) {
  kiln_status *s = im->s;
  node_info *ni = &im->nodes[i];
  const char *name = node_name(im, ni);
  size_t nin = ns->nin, nctrl = ns->nctrl;
  ni->nin = ni->nctrl = 0;
  if (nin > INT_MAX / 2) {
    if (early) return KILN_OK;
    return kn_errorf(s, KILN_INVALID_ARGUMENT, "node '%s' has %zu inputs",
                     name, nin);
  }
  if (nin && !ni->in && !ni->ctrl) {
    /* Most nodes have no control inputs: room only for what is there. */
    if (nin > nctrl &&
        !(ni->in = kn_arena_alloc(im->arena, (nin - nctrl) * sizeof *ni->in)))
      return KN_OOM(s);
    if (nctrl &&
        !(ni->ctrl = kn_arena_alloc(im->arena, nctrl * sizeof *ni->ctrl)))
      return KN_OOM(s);
  }
  bool merge = is_merge(ni->type);
#define UNRESOLVED(...) \
  (early ? (ni->nin = ni->nctrl = 0, KILN_OK) : kn_errorf(s, __VA_ARGS__))
  const char *in;
  size_t len, pos = 0;
  for (size_t j = 0; next_input(im, i, &pos, &in, &len); j++) {
    if (len > 0 && in[0] == '^') {
      ctrl_in *c = &ni->ctrl[ni->nctrl];
      int m = early ? -1 : lookup(&im->cmaps, in + 1, len - 1);
      if (m >= 0) {
        c->src = -1;
        c->ext = im->o->cmaps[m].dst;
      } else if ((c->src = lookup(&im->by_name, in + 1, len - 1)) < 0) {
        return UNRESOLVED(KILN_INVALID_ARGUMENT,
                          "node '%s' has control input '%.*s' which is not "
                          "in the GraphDef", name, (int)len, in);
      }
      ni->nctrl++;
      continue;
    }
    if (ni->nctrl > 0)
      return UNRESOLVED(KILN_INVALID_ARGUMENT,
                        "node '%s': input %zu '%.*s' follows a control input; "
                        "control inputs must come after data inputs",
                        name, j, (int)len, in);
    size_t nlen;
    int index;
    if (!len || !split_input(in, len, &nlen, &index) || nlen == 0)
      return UNRESOLVED(KILN_INVALID_ARGUMENT,
                        "node '%s' has malformed input %zu '%.*s'", name, j,
                        (int)len, in);
    data_in *d = &ni->in[ni->nin++];
    d->index = index;
    if (!early && im->o && im->o->nmaps > 0) {
      bool oom;
      int m = find_mapping(im, in, nlen, index, &oom);
      if (oom) return kiln_status_code(s);
      if (m >= 0) {
        d->src = -1;
        d->ext = im->o->maps[m].dst;
        im->map_used[m] = true;
        continue;
      }
    }
    if ((d->src = lookup(&im->by_name, in, nlen)) < 0)
      return UNRESOLVED(KILN_INVALID_ARGUMENT,
                        "node '%s' has input '%.*s:%d' which is not in the "
                        "GraphDef", name, (int)nlen, in, index);
    d->back = merge && is_next_iteration(im->nodes[d->src].type);
  }
#undef UNRESOLVED
  ni->resolved = true;
  return KILN_OK;
}

/* Node i's name (hashed to h) and op type, kept for the passes after;
** with `early`, its inputs resolved too. */
static kiln_code index_node(importer *im, int i, const node_scan *ns,
                            size_t h, bool early) {
  kiln_status *s = im->s;
  node_info *ni = &im->nodes[i];
  size_t l = ns->name_len;
  if (!(ni->name = kn_arena_alloc(im->arena, im->plen + l + 1)))
    return KN_OOM(s);
  memcpy(ni->name, im->prefix, im->plen);
  memcpy(ni->name + im->plen, ns->name, l);
  const char *name = node_name(im, ni);
  if (!kn_valid_node_name(name))
    return kn_errorf(s, KILN_INVALID_ARGUMENT,
                     "GraphDef node %d has an invalid name '%s'", i, name);
  if (ns->op_len == 0)
    return kn_errorf(s, KILN_INVALID_ARGUMENT,
                     "GraphDef node '%s' has no op", name);
  /* Reserved, borrowed: adding fails only on a clash. */
  if (kn_strmap_add_hashed(&im->by_name, name, l, h,
                           (void *)(intptr_t)(i + 1)) != 1)
    return kn_errorf(s, KILN_INVALID_ARGUMENT,
                     "Node '%s' is not unique: GraphDef nodes %d and %d "
                     "share the name", name,
                     lookup(&im->by_name, name, l), i);
  if (im->plen && !kn_valid_node_name(ni->name))
    return kn_errorf(s, KILN_INVALID_ARGUMENT,
                     "import prefix makes the invalid node name '%s'",
                     ni->name);
  /* A graph has few op types: each is kept once. Runs of one type are
  ** common (chains, layers), so the last is tried first. */
  char *type = im->last_type;
  if (!type || strncmp(type, ns->op, ns->op_len) != 0 ||
      type[ns->op_len] != '\0')
    type = kn_strmap_getn(&im->ops, ns->op, ns->op_len);
  if (!type) {
    if (!(type = kn_arena_alloc(im->arena, ns->op_len + 1)))
      return KN_OOM(s);
    memcpy(type, ns->op, ns->op_len);
    if (!kn_strmap_put(&im->ops, type, type)) return KN_OOM(s);
  }
  ni->type = im->last_type = type;
  return early ? resolve_node(im, i, ns, true) : KILN_OK;
}

/* Checks mappings and indexes names: the GraphDef's nodes, the input and
** control mappings. Without mappings, each node's inputs are resolved as
** soon as it is indexed: in a topologically sorted GraphDef (every export
** is one) they name nodes indexed just before, whose table entries are
** still in cache, where a separate pass over a million nodes would miss
** it on every input. */
static kiln_code index_names(importer *im) {
  const kiln_import_options *o = im->o;
  kiln_status *s = im->s;
  bool early = !o || (o->nmaps == 0 && o->ncmaps == 0);
  if (!kn_strmap_reserve(&im->by_name, (size_t)im->n)) return KN_OOM(s);
  /* A batch's names are hashed and their table positions prefetched
  ** before any is added (see kn_graph_commit). */
  enum { BATCH = 8 };
  node_scan ns[BATCH];
  size_t hash[BATCH];
  for (int b = 0; b < im->n; b += BATCH) {
    int m = im->n - b < BATCH ? im->n - b : BATCH;
    for (int k = 0; k < m; k++) {
      if (!scan_node(im, b + k, &ns[k])) return bad_graph_def(im);
      hash[k] = kn_strhash(ns[k].name, ns[k].name_len);
      kn_strmap_prefetch(&im->by_name, hash[k]);
    }
    for (int k = 0; k < m; k++)
      if (index_node(im, b + k, &ns[k], hash[k], early) != KILN_OK)
        return kiln_status_code(s);
  }
  for (int i = 0; o && i < o->nmaps; i++) {
    const kn_input_map *m = &o->maps[i];
    kiln_op *dst = m->dst.op;
    if (!dst || dst->graph != im->g || m->dst.index < 0 ||
        m->dst.index >= dst->noutputs)
      return kn_errorf(s, KILN_INVALID_ARGUMENT,
                       "input mapping of '%s:%d' names no output of the "
                       "destination graph (%s:%d)", m->name, m->index,
                       dst ? dst->name : "NULL", m->dst.index);
    char key[128];
    char *k = tensor_key(key, sizeof key, m->name, strlen(m->name), m->index);
    if (!k) return KN_OOM(s);
    bool ok = kn_strmap_put(&im->maps, k, (void *)(intptr_t)(i + 1));
    if (k != key) free(k);
    if (!ok) return KN_OOM(s);
  }
  for (int i = 0; o && i < o->ncmaps; i++) {
    const kn_control_map *c = &o->cmaps[i];
    if (!c->dst || c->dst->graph != im->g)
      return kn_errorf(s, KILN_INVALID_ARGUMENT,
                       "control mapping of '^%s' names no operation of the "
                       "destination graph", c->name);
    if (!kn_strmap_put(&im->cmaps, c->name, (void *)(intptr_t)(i + 1)))
      return KN_OOM(s);
  }
  for (int i = 0; o && i < o->ndeps; i++)
    if (!o->deps[i] || o->deps[i]->graph != im->g)
      return kn_errorf(s, KILN_INVALID_ARGUMENT,
                       "extra control dependency %d is no operation of the "
                       "destination graph", i);
  return KILN_OK;
}

/* Resolves the input strings of every node not resolved yet. */
static kiln_code resolve_inputs(importer *im) {
  for (int i = 0; i < im->n; i++) {
    node_scan ns;
    if (im->nodes[i].resolved) continue;
    if (!scan_node(im, i, &ns)) return bad_graph_def(im);
    if (resolve_node(im, i, &ns, false) != KILN_OK)
      return kiln_status_code(im->s);
  }
  return KILN_OK;
}

/* ---------------------------------------------------------- ordering */

static void heap_push(int *h, int *n, int v) {
  int i = (*n)++;
  while (i > 0) {
    int p = (i - 1) / 2;
    if (h[p] <= v) break;
    h[i] = h[p];
    i = p;
  }
  h[i] = v;
}

static int heap_pop(int *h, int *n) {
  int top = h[0], v = h[--(*n)], i = 0;
  for (;;) {
    int c = 2 * i + 1;
    if (c >= *n) break;
    if (c + 1 < *n && h[c + 1] < h[c]) c++;
    if (v <= h[c]) break;
    h[i] = h[c];
    i = c;
  }
  if (*n > 0) h[i] = v;
  return top;
}

/* Appends str to buf[0..cap), truncating. */
static void append(char *buf, size_t cap, size_t *len, const char *str) {
  size_t n = strlen(str);
  if (*len + 1 >= cap) return;
  if (n > cap - 1 - *len) n = cap - 1 - *len;
  memcpy(buf + *len, str, n);
  *len += n;
  buf[*len] = '\0';
}

/* The GraphDef node that input k of ni (data inputs, then control inputs)
** must be built after, or -1: mapped inputs and loop back edges wait for
** nothing. */
static int pred(const node_info *ni, int k) {
  if (k < ni->nin) return ni->in[k].back ? -1 : ni->in[k].src;
  return ni->ctrl[k - ni->nin].src;
}

/* Names the nodes of one cycle among those Kahn's algorithm left. Every
** such node waits on a predecessor that is also left, so walking
** predecessors from any of them must come back to a node seen before. */
static kiln_code report_cycle(importer *im) {
  int n = im->n, start = -1;
  for (int i = 0; i < n && start < 0; i++)
    if (!im->nodes[i].done) start = i;
  int *pos = malloc((size_t)n * sizeof *pos);
  int *path = malloc((size_t)(n + 1) * sizeof *path);
  if (!pos || !path) {
    free(pos);
    free(path);
    return KN_OOM(im->s);
  }
  for (int i = 0; i < n; i++) pos[i] = -1;
  int len = 0, cur = start;
  while (pos[cur] < 0) {
    pos[cur] = len;
    path[len++] = cur;
    const node_info *ni = &im->nodes[cur];
    int next = -1;
    for (int k = 0; k < ni->nin + ni->nctrl && next < 0; k++) {
      int p = pred(ni, k);
      if (p >= 0 && !im->nodes[p].done) next = p;
    }
    cur = next;
  }
  /* path[first..len) walks against the edges. It is printed along them,
  ** from path[first] (standing in for path[len]) back to it, at most a
  ** dozen names before the last. */
  char msg[1024];
  size_t m = 0;
  int first = pos[cur];
  for (int k = len, shown = 0; k >= first; k--, shown++) {
    if (shown == 12 && k > first + 1) {
      append(msg, sizeof msg, &m, " -> ...");
      k = first + 1;
    }
    append(msg, sizeof msg, &m, shown ? " -> '" : "'");
    append(msg, sizeof msg, &m,
           node_name(im, &im->nodes[path[k == len ? first : k]]));
    append(msg, sizeof msg, &m, "'");
  }
  kn_errorf(im->s, KILN_INVALID_ARGUMENT,
            "GraphDef has a cycle: %s; only a NextIteration -> Merge edge "
            "may close a cycle (a TensorFlow 1 while loop)", msg);
  free(pos);
  free(path);
  return KILN_INVALID_ARGUMENT;
}

static kiln_code sort_nodes(importer *im) {
  int n = im->n;
  kiln_status *s = im->s;
  im->succ_start = calloc((size_t)n + 1, sizeof *im->succ_start);
  im->order = malloc((size_t)(n ? n : 1) * sizeof *im->order);
  if (!im->succ_start || !im->order) return KN_OOM(s);
  size_t nedges = 0;
  for (int i = 0; i < n; i++) {
    node_info *ni = &im->nodes[i];
    for (int k = 0; k < ni->nin + ni->nctrl; k++) {
      int p = pred(ni, k);
      if (p < 0) continue;
      im->succ_start[p + 1]++;
      ni->indeg++;
    }
  }
  for (int i = 0; i < n; i++) {
    nedges += (size_t)im->succ_start[i + 1];
    im->succ_start[i + 1] += im->succ_start[i];
  }
  im->succ = malloc((nedges ? nedges : 1) * sizeof *im->succ);
  int *fill = malloc((size_t)(n ? n : 1) * sizeof *fill);
  int *heap = malloc((size_t)(n ? n : 1) * sizeof *heap);
  if (!im->succ || !fill || !heap) {
    free(fill);
    free(heap);
    return KN_OOM(s);
  }
  memcpy(fill, im->succ_start, (size_t)n * sizeof *fill);
  for (int i = 0; i < n; i++) {
    const node_info *ni = &im->nodes[i];
    for (int k = 0; k < ni->nin + ni->nctrl; k++) {
      int p = pred(ni, k);
      if (p >= 0) im->succ[fill[p]++] = i;
    }
  }
  int nh = 0;
  for (int i = 0; i < n; i++)
    if (im->nodes[i].indeg == 0) heap_push(heap, &nh, i);
  while (nh > 0) {
    int v = heap_pop(heap, &nh);
    im->nodes[v].done = true;
    im->order[im->norder++] = v;
    for (int e = im->succ_start[v]; e < im->succ_start[v + 1]; e++)
      if (--im->nodes[im->succ[e]].indeg == 0) heap_push(heap, &nh, im->succ[e]);
  }
  free(fill);
  free(heap);
  if (im->norder < n) return report_cycle(im);
  return KILN_OK;
}

/* ---------------------------------------------------------- building */

/* The dtype a back edge carries: the NextIteration's T (node `next`,
** unpacked here beside the Merge), else the Merge's. */
static kiln_code back_edge_dtype(importer *im, const Tensorflow__NodeDef *merge,
                                 int next, kiln_dtype *out) {
  const Tensorflow__NodeDef *defs[2] = {unpack_node(im, next, false), merge};
  if (!defs[0]) return kiln_status_code(im->s);
  for (int k = 0; k < 2; k++)
    for (size_t a = 0; a < defs[k]->n_attr; a++) {
      const Tensorflow__NodeDef__AttrEntry *e = defs[k]->attr[a];
      if (strcmp(e->key, "T") == 0 && e->value &&
          e->value->value_case == TENSORFLOW__ATTR_VALUE__VALUE_TYPE &&
          kiln_dtype_name((kiln_dtype)e->value->type)) {
        *out = (kiln_dtype)e->value->type;
        return KILN_OK;
      }
    }
  return kn_errorf(im->s, KILN_INVALID_ARGUMENT,
                   "node '%s': loop input from '%s' has no dtype: neither "
                   "node has a type attr 'T'", merge->name, defs[0]->name);
}

/* Prefixes "loc:@name" colocation entries of a _class attr. */
static kiln_code prefix_class(importer *im, kn_attr_value *v) {
  if (!v->is_list || v->type != KILN_ATTR_STRING || !*im->prefix)
    return KILN_OK;
  kn_attr_value out;
  memset(&out, 0, sizeof out);
  kn_attr_set_list(&out, KILN_ATTR_STRING);
  for (int i = 0; i < v->list.n; i++) {
    const kn_string *str = &v->list.v.s[i];
    kn_attr_value e;
    memset(&e, 0, sizeof e);
    bool ok;
    if (str->len > 5 && strncmp(str->data, "loc:@", 5) == 0) {
      char *c = cat3("loc:@", im->prefix, str->data + 5);
      ok = c && kn_attr_set_string(&e, c, strlen(c));
      free(c);
    } else {
      ok = kn_attr_set_string(&e, str->data, str->len);
    }
    ok = ok && kn_attr_list_push(&out, &e);
    kn_attr_value_clear(&e);
    if (!ok) {
      kn_attr_value_clear(&out);
      return KN_OOM(im->s);
    }
  }
  kn_attr_value_clear(v);
  *v = out;
  return KILN_OK;
}

static kiln_code add_attrs(importer *im, const Tensorflow__NodeDef *nd,
                           kiln_op_desc *d) {
  bool old_placeholder = im->producer < KN_PLACEHOLDER_SHAPE_PRODUCER &&
                         strcmp(nd->op, "Placeholder") == 0;
  for (size_t a = 0; a < nd->n_attr; a++) {
    const Tensorflow__NodeDef__AttrEntry *e = nd->attr[a];
    kn_attr_value v;
    if (!e->value)
      return kn_errorf(im->s, KILN_INVALID_ARGUMENT,
                       "node '%s': attr '%s' has no value", nd->name, e->key);
    if (kn_attr_from_proto(e->value, &v, im->s) != KILN_OK) {
      kn_status_prefix(im->s, "node '%s' (op %s): attr '%s': ", nd->name,
                       nd->op, e->key);
      return kiln_status_code(im->s);
    }
    /* Before GraphDef version 22 a Placeholder's rank-0 shape meant that
    ** the shape was not known. */
    if (old_placeholder && strcmp(e->key, "shape") == 0 && !v.is_list &&
        v.type == KILN_ATTR_SHAPE && v.v.shape && v.v.shape->ndims == 0)
      v.v.shape->ndims = KN_UNKNOWN;
    if (strcmp(e->key, "_class") == 0 && prefix_class(im, &v) != KILN_OK) {
      kn_attr_value_clear(&v);
      return kiln_status_code(im->s);
    }
    if (!kn_attr_map_put(&d->attrs, e->key, &v)) return KN_OOM(im->s);
  }
  return KILN_OK;
}

/* That the built source of `in` has the output `in` reads. */
static kiln_code check_output_index(importer *im, const node_info *ni,
                                    const data_in *in) {
  const node_info *src = &im->nodes[in->src];
  int n = src->op->noutputs;
  if (in->index < n) return KILN_OK;
  return kn_errorf(im->s, KILN_INVALID_ARGUMENT,
                   "node '%s' has input '%s:%d' but '%s' (op %s) has %d "
                   "output%s", node_name(im, ni), node_name(im, src), in->index,
                   node_name(im, src), src->type, n, n == 1 ? "" : "s");
}

/* Adds a control input once. Running out of memory is recorded in d and
** reported by kn_op_create. */
static void add_control(kiln_op_desc *d, kiln_op *op) {
  for (int i = 0; i < d->ncontrol; i++)
    if (d->control[i] == op) return;
  kiln_op_desc_add_control_input(d, op);
}

static kiln_code build_node(importer *im, int i) {
  node_info *ni = &im->nodes[i];
  kiln_status *s = im->s;
  const Tensorflow__NodeDef *nd = unpack_node(im, i, true);
  if (!nd) return kiln_status_code(s);
  /* Types are interned: the last one built is found without hashing. */
  const kn_op_def *def = ni->type == im->built_type
                             ? im->built_def
                             : kn_strmap_get(&im->types, ni->type);
  if (!def && (def = kn_op_lookup(ni->type)) &&
      !kn_strmap_put(&im->types, ni->type, (void *)def))
    return KN_OOM(s);
  im->built_type = def ? ni->type : NULL;
  im->built_def = def;
  if (!def) {
    bool fn = false;
    const Tensorflow__FunctionDefLibrary *lib = im->gd->library;
    for (size_t f = 0; lib && f < lib->n_function; f++)
      if (lib->function[f]->signature &&
          strcmp(lib->function[f]->signature->name, nd->op) == 0)
        fn = true;
    return kn_errorf(s, KILN_NOT_FOUND,
                     "Op type not registered '%s' (node '%s')%s", nd->op,
                     nd->name,
                     fn ? "; it names a function of the GraphDef's library, "
                          "and Kiln runs no library functions"
                        : "");
  }
  kiln_op_desc *d = &im->desc;
  kiln_code rc;
  if (ni->nin > d->inputs_cap) {
    kiln_output *p = realloc(d->inputs, (size_t)ni->nin * sizeof *p);
    if (!p) return KN_OOM(s);
    d->inputs = p;
    d->inputs_cap = ni->nin;
  }
  d->graph = im->g;
  d->type = ni->type;
  d->def = def;
  d->name = ni->name;
  d->ninputs = d->ncontrol = 0;
  bool inherits = false;
  for (int j = 0; j < ni->nin; j++) {
    data_in *in = &ni->in[j];
    kiln_output o;
    if (in->src < 0) {
      o = in->ext;
    } else if (im->nodes[in->src].op) {
      if ((rc = check_output_index(im, ni, in)) != KILN_OK) return rc;
      o = (kiln_output){im->nodes[in->src].op, in->index};
      inherits = true;
    } else {
      /* A loop back edge whose NextIteration is not built yet. */
      kiln_dtype t = KILN_INVALID_DTYPE;
      if ((rc = back_edge_dtype(im, nd, in->src, &t)) != KILN_OK)
        return rc;
      o = (kiln_output){KN_BACK_EDGE_OP, (int)t};
    }
    d->inputs[d->ninputs++] = o;
  }
  for (int j = 0; j < ni->nctrl; j++) {
    const ctrl_in *c = &ni->ctrl[j];
    if (c->src >= 0) inherits = true;
    add_control(d, c->src < 0 ? c->ext : im->nodes[c->src].op);
  }
  /* Extra dependencies go on nodes that do not inherit them from another
  ** imported node (mapped inputs and back edges do not count). */
  for (int j = 0; !inherits && im->o && j < im->o->ndeps; j++)
    add_control(d, im->o->deps[j]);
  static char no_device[] = "";
  d->device = nd->device && *nd->device ? nd->device
              : im->o && im->o->device ? im->o->device : no_device;
  if ((rc = add_attrs(im, nd, d)) != KILN_OK) return rc;
  ni->op = kn_op_create(d, s);
  return ni->op ? KILN_OK : kiln_status_code(s);
}

static kiln_dtype base_dtype(kiln_dtype t) {
  return (int)t > KILN_REF_OFFSET ? (kiln_dtype)((int)t - KILN_REF_OFFSET) : t;
}

/* Connects each Merge built with a back-edge placeholder to its
** NextIteration, now that it exists. */
static kiln_code patch_back_edges(importer *im) {
  for (int i = 0; i < im->n; i++) {
    node_info *ni = &im->nodes[i];
    for (int j = 0; j < ni->nin; j++) {
      data_in *in = &ni->in[j];
      if (!in->back || ni->op->inputs[j].op != KN_BACK_EDGE_OP) continue;
      kiln_code rc = check_output_index(im, ni, in);
      if (rc != KILN_OK) return rc;
      kiln_op *src = im->nodes[in->src].op;
      /* kn_op_create could not check the dtype of the placeholder. */
      kiln_dtype got = base_dtype(src->output_types[in->index]);
      kiln_dtype want = base_dtype(ni->op->input_types[j]);
      if (want != KILN_INVALID_DTYPE && got != want)
        return kn_errorf(im->s, KILN_INVALID_ARGUMENT,
                         "node '%s' (%s): loop input %d from '%s:%d' is %s but "
                         "the node expects %s", node_name(im, ni), ni->type, j,
                         node_name(im, &im->nodes[in->src]), in->index,
                         kiln_dtype_name(got), kiln_dtype_name(want));
      ni->op->inputs[j] = (kiln_output){src, in->index};
    }
  }
  return KILN_OK;
}

static kiln_import_results *make_results(importer *im) {
  const kiln_import_options *o = im->o;
  kiln_status *s = im->s;
  kiln_import_results *r = calloc(1, sizeof *r);
  if (!r) goto oom;
  if (!o) return r;
  if (o->nrets && !(r->outputs = calloc((size_t)o->nrets, sizeof *r->outputs)))
    goto oom;
  for (int i = 0; i < o->nrets; i++) {
    const kn_tensor_ref *t = &o->rets[i];
    bool oom;
    int m = find_mapping(im, t->name, strlen(t->name), t->index, &oom);
    if (oom) goto fail;
    if (m >= 0) {
      r->outputs[r->noutputs++] = o->maps[m].dst;
      continue;
    }
    int k = lookup(&im->by_name, t->name, strlen(t->name));
    if (k < 0) {
      kn_errorf(s, KILN_INVALID_ARGUMENT,
                "requested return output '%s:%d' is not in the GraphDef",
                t->name, t->index);
      goto fail;
    }
    kiln_op *op = im->nodes[k].op;
    if (t->index < 0 || t->index >= op->noutputs) {
      kn_errorf(s, KILN_INVALID_ARGUMENT,
                "requested return output '%s:%d' is out of range: node '%s' "
                "(op %s) has %d outputs", t->name, t->index, t->name, op->type,
                op->noutputs);
      goto fail;
    }
    r->outputs[r->noutputs++] = (kiln_output){op, t->index};
  }
  if (o->nret_ops && !(r->ops = calloc((size_t)o->nret_ops, sizeof *r->ops)))
    goto oom;
  for (int i = 0; i < o->nret_ops; i++) {
    int k = lookup(&im->by_name, o->ret_ops[i], strlen(o->ret_ops[i]));
    if (k < 0) {
      kn_errorf(s, KILN_INVALID_ARGUMENT,
                "requested return operation '%s' is not in the GraphDef",
                o->ret_ops[i]);
      goto fail;
    }
    r->ops[r->nops++] = im->nodes[k].op;
  }
  for (int i = 0; i < o->nmaps; i++) {
    if (im->map_used[i]) continue;
    if (!r->unused && !(r->unused = calloc((size_t)o->nmaps, sizeof *r->unused)))
      goto oom;
    const kn_input_map *m = &o->maps[i];
    char *key = tensor_key(NULL, 0, m->name, strlen(m->name), m->index);
    if (!key) goto oom;
    r->unused[r->nunused++] = key;
  }
  return r;
oom:
  KN_OOM(s);
fail:
  kiln_import_results_free(r);
  return NULL;
}

/* After a commit, under g->mu: versions as TensorFlow merges them (the
** lower producer, the higher min_consumer, the union of bad consumers),
** or the GraphDef's own when the graph was empty. A GraphDef without nodes
** brings nothing its versions describe and changes none. */
static void update_versions_locked(importer *im, bool was_empty) {
  kiln_graph *g = im->g;
  const Tensorflow__VersionDef *v = im->gd->versions;
  int producer = v ? v->producer : 0, min_consumer = v ? v->min_consumer : 0;
  if (im->n == 0) return;
  if (was_empty) {
    g->producer = producer;
    g->min_consumer = min_consumer;
    g->nbad_consumers = 0;
  } else {
    if (producer < g->producer) g->producer = producer;
    if (min_consumer > g->min_consumer) g->min_consumer = min_consumer;
  }
  for (size_t i = 0; v && i < v->n_bad_consumers; i++) {
    bool have = false;
    for (int k = 0; k < g->nbad_consumers && !have; k++)
      have = g->bad_consumers[k] == v->bad_consumers[i];
    if (have) continue;
    int *nb = realloc(g->bad_consumers,
                      (size_t)(g->nbad_consumers + 1) * sizeof *nb);
    /* Out of memory here loses a bad-consumer entry, never the import. */
    if (!nb) break;
    g->bad_consumers = nb;
    g->bad_consumers[g->nbad_consumers++] = v->bad_consumers[i];
  }
}

/* After a commit, under g->mu: installs the merged library `lib` (owned),
** made against `lib_base`. */
static void update_library_locked(importer *im, void *lib, size_t lib_len,
                                  const void *lib_base) {
  kiln_graph *g = im->g;
  if (g->library != lib_base) {
    /* Another import changed the library meanwhile: merge again, keeping
    ** the graph's definitions on conflict. */
    free(lib);
    lib = NULL;
    if (kn_merge_library(g->library, g->library_len, im->gd->library, false,
                      &lib, &lib_len, NULL) != KILN_OK)
      return;
  }
  if (lib) {
    free(g->library);
    g->library = lib;
    g->library_len = lib_len;
  }
}

/* ------------------------------------------------------------- driver */

/* On failure: bytes that do not parse are reported before anything else
** is, as when the whole GraphDef was unpacked first. Only parts of the
** NodeDefs not built yet may still be unchecked. */
static void check_parses(importer *im) {
  kiln_code c = kiln_status_code(im->s);
  if (im->bad || !im->scanned || c == KILN_RESOURCE_EXHAUSTED) return;
  for (int i = 0; i < im->n; i++)
    if (!im->nodes[i].op && !unpack_node(im, i, true)) return;
}

static void importer_free(importer *im) {
  free(im->desc.inputs);
  free(im->desc.control);
  kn_attr_map_clear(&im->desc.attrs);
  free(im->desc.error_msg);
  kn_op_slabs_free(im->slabs);
  free(im->nodes);
  kn_strmap_clear(&im->by_name);
  kn_strmap_clear(&im->maps);
  kn_strmap_clear(&im->cmaps);
  kn_strmap_clear(&im->types);
  kn_strmap_clear(&im->ops);
  free(im->map_used);
  free(im->prefix);
  free(im->order);
  free(im->succ);
  free(im->succ_start);
  kn_arena_free(im->arena);
  kn_arena_free(im->scratch);
}

KILN_API kiln_import_results *kiln_graph_import(kiln_graph *g,
                                                const void *graph_def,
                                                size_t len,
                                                const kiln_import_options *opts,
                                                kiln_status *status) {
  importer im;
  memset(&im, 0, sizeof im);
  im.g = g;
  im.o = opts;
  im.s = status;
  kiln_import_results *res = NULL;
  kiln_op **built = NULL;
  void *lib = NULL, *lib_base = NULL;
  size_t lib_len = 0;

  if (!g) {
    kn_errorf(status, KILN_INVALID_ARGUMENT, "kiln_graph_import: no graph");
    return NULL;
  }
  if (opts && opts->oom) {
    kn_errorf(status, KILN_RESOURCE_EXHAUSTED,
              "import options ran out of memory while being set");
    return NULL;
  }
  /* All three borrow strings in the arena. */
  im.by_name.borrow_keys = im.types.borrow_keys = im.ops.borrow_keys = true;
  im.bytes = graph_def;
  im.len = len;
  if (!graph_def && len > 0) {
    kn_errorf(status, KILN_INVALID_ARGUMENT,
              "Invalid GraphDef: NULL data of %zu bytes", len);
    return NULL;
  }
  if (!(im.arena = kn_arena_new()) || !(im.scratch = kn_arena_new())) {
    KN_OOM(status);
    goto fail;
  }
  size_t nnodes, rest_len;
  uint8_t *rest = NULL;
  if (!scan_graph_def(&im, NULL, NULL, &nnodes, &rest_len)) {
    bad_graph_def(&im);
    goto fail;
  }
  if (nnodes > INT_MAX / 4) {
    kn_errorf(status, KILN_INVALID_ARGUMENT, "GraphDef has %zu nodes", nnodes);
    goto fail;
  }
  im.n = (int)nnodes;
  im.nodes = calloc((size_t)im.n + 1, sizeof *im.nodes);
  if (!im.nodes || (rest_len && !(rest = malloc(rest_len)))) {
    KN_OOM(status);
    goto fail;
  }
  scan_graph_def(&im, im.nodes, rest, &nnodes, &rest_len);
  im.scanned = true;
  im.gd = kn_proto_unpack_arena(&tensorflow__graph_def__descriptor, rest,
                                rest_len, im.arena, status);
  free(rest);
  if (!im.gd) {
    if (kiln_status_code(status) == KILN_INVALID_ARGUMENT) bad_graph_def(&im);
    goto fail;
  }
  im.producer = im.gd->versions ? im.gd->versions->producer : 0;
  const char *p = opts && opts->prefix ? opts->prefix : "";
  size_t plen = strlen(p);
  im.prefix = cat3(p, plen && p[plen - 1] != '/' ? "/" : "", "");
  im.map_used = calloc(opts && opts->nmaps ? (size_t)opts->nmaps : 1, 1);
  if (!im.prefix || !im.map_used) {
    KN_OOM(status);
    goto fail;
  }
  im.plen = strlen(im.prefix);
  /* Ops are carved from slabs, in build order; a typical op (its arrays,
  ** strings and attrs) takes a few hundred bytes. */
  im.desc.slab = &im.slabs;
  im.desc.slab_hint = (size_t)im.n * 320;
  if (check_versions(&im) != KILN_OK || index_names(&im) != KILN_OK ||
      resolve_inputs(&im) != KILN_OK || sort_nodes(&im) != KILN_OK)
    goto fail;

  for (int k = 0; k < im.norder; k++)
    if (build_node(&im, im.order[k]) != KILN_OK) goto fail;
  if (patch_back_edges(&im) != KILN_OK) goto fail;
  if (!(res = make_results(&im))) goto fail;

  /* Check the library merges before committing anything. */
  pthread_mutex_lock(&g->mu);
  lib_base = g->library;
  kiln_code rc = kn_merge_library(g->library, g->library_len, im.gd->library,
                               true, &lib, &lib_len, status);
  pthread_mutex_unlock(&g->mu);
  if (rc != KILN_OK) goto fail;

  built = malloc((size_t)(im.n ? im.n : 1) * sizeof *built);
  if (!built) {
    KN_OOM(status);
    goto fail;
  }
  for (int k = 0; k < im.n; k++) built[k] = im.nodes[im.order[k]].op;
  size_t before = kiln_graph_num_ops(g);
  if (kn_graph_commit(g, built, (size_t)im.n, status) != KILN_OK) goto fail;
  /* The graph owns the ops now. */
  for (int k = 0; k < im.n; k++) im.nodes[k].op = NULL;
  pthread_mutex_lock(&g->mu);
  kn_graph_adopt_slabs_locked(g, im.slabs);
  im.slabs = NULL;
  update_versions_locked(&im, before == 0 &&
                                   atomic_load(&g->nops) == (size_t)im.n);
  update_library_locked(&im, lib, lib_len, lib_base);
  pthread_mutex_unlock(&g->mu);
  free(built);
  importer_free(&im);
  kiln_status_reset(status);
  return res;

fail:
  check_parses(&im);
  for (int k = 0; im.nodes && k < im.n; k++) kn_op_free(im.nodes[k].op);
  free(built);
  free(lib);
  kiln_import_results_free(res);
  importer_free(&im);
  return NULL;
}

/* -------------------------------------------------------------- export */

KILN_API kiln_buffer *kiln_graph_export(kiln_graph *g, kiln_status *status) {
  kn_arena *a = kn_arena_new();
  if (!a) {
    KN_OOM(status);
    return NULL;
  }
  kiln_buffer *out = NULL;
  Tensorflow__GraphDef *gd = kn_arena_alloc(a, sizeof *gd);
  Tensorflow__VersionDef *v = kn_arena_alloc(a, sizeof *v);
  if (!gd || !v) goto oom;
  tensorflow__graph_def__init(gd);
  tensorflow__version_def__init(v);
  size_t n = kiln_graph_num_ops(g);
  if (n) {
    if (n > SIZE_MAX / sizeof *gd->node) goto oom;
    if (!(gd->node = kn_arena_alloc(a, n * sizeof *gd->node))) goto oom;
    for (size_t i = 0; i < n; i++) {
      gd->node[i] = kn_node_def_to_proto(a, kiln_graph_op_at(g, i), status);
      if (!gd->node[i]) goto fail;
    }
    gd->n_node = n;
  }
  pthread_mutex_lock(&g->mu);
  v->producer = g->producer;
  v->min_consumer = g->min_consumer;
  bool ok = true;
  if (g->nbad_consumers > 0) {
    v->bad_consumers = kn_arena_alloc(a, (size_t)g->nbad_consumers * sizeof(int32_t));
    if (v->bad_consumers) {
      for (int i = 0; i < g->nbad_consumers; i++)
        v->bad_consumers[i] = g->bad_consumers[i];
      v->n_bad_consumers = (size_t)g->nbad_consumers;
    } else {
      ok = false;
    }
  }
  if (ok && g->library) {
    ProtobufCAllocator al;
    kn_arena_allocator(a, &al);
    gd->library = tensorflow__function_def_library__unpack(
        &al, g->library_len, g->library);
    ok = gd->library != NULL;
  }
  pthread_mutex_unlock(&g->mu);
  if (!ok) goto oom;
  gd->versions = v;
  out = kn_proto_pack(gd, status);
  if (out) kiln_status_reset(status);
  kn_arena_free(a);
  return out;
oom:
  KN_OOM(status);
fail:
  kn_arena_free(a);
  return NULL;
}
