/*
** Step plans: the part of the graph one (feeds, fetches, targets)
** signature needs, in topological order, placed, with kernels made, and
** every input resolved to a value slot. Built once per signature and
** cached on the session; a callable holds its plan directly.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "op_registry.h"
#include "session_internal.h"
#include "status_internal.h"
#include "tensor_internal.h"
#include "kernel_context.h"

/* Cached plans per session; past this the cache starts over. */
#define KN_PLAN_CACHE_MAX 256

/* Kernel creation context (see kernel_context.h). */
struct kiln_kernel_construct {
  kn_node *node;
  kiln_status *st;
};

const kiln_attrs *kn_kcc_attrs(kiln_kernel_construct *c) {
  return (const kiln_attrs *)&c->node->op->attrs;
}
int kn_kcc_num_inputs(kiln_kernel_construct *c) { return c->node->op->ninputs; }
int kn_kcc_num_outputs(kiln_kernel_construct *c) { return c->node->op->noutputs; }
kiln_dtype kn_kcc_input_dtype(kiln_kernel_construct *c, int i) {
  return kiln_op_input_dtype(c->node->op, i);
}
kiln_dtype kn_kcc_output_dtype(kiln_kernel_construct *c, int i) {
  return kiln_op_output_dtype((kiln_output){c->node->op, i});
}
const char *kn_kcc_node_name(kiln_kernel_construct *c) { return c->node->op->name; }
void kn_kcc_fail(kiln_kernel_construct *c, kiln_code code, const char *msg) {
  if (kn_ok(c->st))
    kn_errorf(c->st, code == KILN_OK ? KILN_INTERNAL : code,
              "node '%s' (%s) on %s: %s", c->node->op->name, c->node->op->type,
              c->node->device->name, msg ? msg : "kernel creation failed");
}

/* A stateful op's kernel, shared by all plans of a session. */
typedef struct kn_shared_kernel {
  const kn_kernel *kernel;
  void *kstate;
} kn_shared_kernel;

/* Makes (or finds) the kernel state of node nd; shared per session for
** stateful ops. */
static void make_kernel(kiln_session *s, kn_node *nd, kiln_status *st) {
  kiln_kernel_construct c = {nd, st};
  if (!(nd->op->def->flags & KN_OP_STATEFUL)) {
    nd->kstate = nd->kernel->def.create(&c);
    return;
  }
  char key[64];
  snprintf(key, sizeof key, "%zu@%p", nd->op->id, (void *)nd->device);
  pthread_mutex_lock(&s->mu);
  kn_shared_kernel *sk = kn_strmap_get(&s->stateful_kernels, key);
  if (!sk) {
    sk = calloc(1, sizeof *sk);
    if (sk) {
      sk->kernel = nd->kernel;
      sk->kstate = nd->kernel->def.create(&c);
      if (!kn_ok(st) || !kn_strmap_put(&s->stateful_kernels, key, sk)) {
        if (kn_ok(st)) KN_OOM(st);
        if (sk->kstate && nd->kernel->def.destroy) nd->kernel->def.destroy(sk->kstate);
        free(sk);
        sk = NULL;
      }
    } else {
      KN_OOM(st);
    }
  }
  pthread_mutex_unlock(&s->mu);
  if (sk) {
    nd->kstate = sk->kstate;
    nd->shared_kstate = true;
  }
}

void kn_session_free_stateful_kernels(kiln_session *s) {
  for (size_t i = 0; i < s->stateful_kernels.cap; i++) {
    kn_shared_kernel *sk = s->stateful_kernels.slots[i].key
                               ? s->stateful_kernels.slots[i].value : NULL;
    if (!sk) continue;
    if (sk->kstate && sk->kernel->def.destroy) sk->kernel->def.destroy(sk->kstate);
    free(sk);
  }
  kn_strmap_clear(&s->stateful_kernels);
}

static void plan_free(kn_plan *p) {
  for (int i = 0; i < p->nnodes; i++) {
    kn_node *n = &p->nodes[i];
    if (n->kernel && n->kernel->def.destroy && n->kstate && !n->shared_kstate)
      n->kernel->def.destroy(n->kstate);
    /* Nodes placed alike share one account, in a run (placer.c). */
    if (i == 0 || n->placement != p->nodes[i - 1].placement) free(n->placement);
  }
  /* Each node's in_slot, in_copy and succ are slices of plan-wide
  ** arrays, which node 0's slices start. */
  if (p->nodes && p->nnodes > 0) {
    free(p->nodes[0].in_slot);
    free(p->nodes[0].in_copy);
    free(p->nodes[0].succ);
  }
  while (p->free_frames) {
    kn_frame *f = p->free_frames;
    p->free_frames = f->next_free;
    kn_frame_free(f);
  }
  if (p->frame_slots) {
    for (int i = 0; i < KN_FRAME_SLOTS; i++)
      kn_frame_free(atomic_load(&p->frame_slots[i].frame));
    kn_aligned_free(p->frame_slots);
  }
  pthread_mutex_destroy(&p->frames_mu);
  free(p->nodes);
  free(p->slot_readers);
  free(p->slot_producer);
  free(p->feed_slot);
  free(p->feeds);
  free(p->feed_shapes);
  free(p->feed_dtypes);
  free(p->fetch_slot);
  free(p->fetches);
  free(p->roots);
  free(p);
}

void kn_plan_unref(kn_plan *p) {
  if (p && atomic_fetch_sub(&p->refs, 1) == 1) plan_free(p);
}

/* Checks that every output and op named belongs to the session's graph. */
static kiln_code check_args(kiln_session *s, const kiln_output *feeds,
                            int nfeeds, const kiln_output *fetches,
                            int nfetches, kiln_op *const *targets,
                            int ntargets, kiln_status *st) {
  if (nfeeds < 0 || nfetches < 0 || ntargets < 0 ||
      (nfeeds && !feeds) || (nfetches && !fetches) || (ntargets && !targets))
    return kn_errorf(st, KILN_INVALID_ARGUMENT,
                     "negative count or NULL array among feeds, fetches and targets");
  for (int k = 0; k < 2; k++) {
    const kiln_output *outs = k ? fetches : feeds;
    int n = k ? nfetches : nfeeds;
    const char *what = k ? "fetch" : "feed";
    for (int i = 0; i < n; i++) {
      const kiln_op *op = outs[i].op;
      if (!op)
        return kn_errorf(st, KILN_INVALID_ARGUMENT, "%s %d is NULL", what, i);
      if (op->graph != s->graph)
        return kn_errorf(st, KILN_INVALID_ARGUMENT,
                         "%s '%s' is from another graph than the session's",
                         what, op->name);
      if (outs[i].index >= op->noutputs || outs[i].index < (k ? -1 : 0))
        return kn_errorf(st, KILN_INVALID_ARGUMENT,
                         "%s '%s:%d' does not exist: op '%s' has %d outputs",
                         what, op->name, outs[i].index, op->name, op->noutputs);
    }
  }
  for (int i = 0; i < ntargets; i++) {
    if (!targets[i])
      return kn_errorf(st, KILN_INVALID_ARGUMENT, "target %d is NULL", i);
    if (targets[i]->graph != s->graph)
      return kn_errorf(st, KILN_INVALID_ARGUMENT,
                       "target '%s' is from another graph than the session's",
                       targets[i]->name);
  }
  return KILN_OK;
}

/* The cache key: op ids and indexes, in order (order gives the meaning of
** feed values and fetch results): "id:index,...|id:index,...|id,...".
** Written by hand rather than with snprintf: every kiln_session_run
** builds one. */
#define KEY_ITEM_MAX 44 /* a 64-bit id, ':', a 32-bit index, ',' */

static size_t plan_key_size(int nfeeds, int nfetches, int ntargets) {
  return 4 + (size_t)(nfeeds + nfetches + ntargets) * KEY_ITEM_MAX;
}

static char *put_num(char *p, int64_t v) {
  char tmp[24];
  int n = 0;
  uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  do tmp[n++] = (char)('0' + u % 10); while (u /= 10);
  if (v < 0) *p++ = '-';
  while (n > 0) *p++ = tmp[--n];
  return p;
}

/* Writes the key into key[0..plan_key_size()). */
static void plan_key(char *key, const kiln_output *feeds, int nfeeds,
                     const kiln_output *fetches, int nfetches,
                     kiln_op *const *targets, int ntargets) {
  char *p = key;
  for (int i = 0; i < nfeeds; i++) {
    p = put_num(p, (int64_t)feeds[i].op->id);
    *p++ = ':';
    p = put_num(p, feeds[i].index);
    *p++ = ',';
  }
  *p++ = '|';
  for (int i = 0; i < nfetches; i++) {
    p = put_num(p, (int64_t)fetches[i].op->id);
    *p++ = ':';
    p = put_num(p, fetches[i].index);
    *p++ = ',';
  }
  *p++ = '|';
  for (int i = 0; i < ntargets; i++) {
    p = put_num(p, (int64_t)targets[i]->id);
    *p++ = ',';
  }
  *p = '\0';
}

/* Index of the feed for (op, index), or -1; feeds are few, op marks make
** the common miss O(1). */
static int find_feed(const kiln_output *feeds, int nfeeds, const int *first_feed,
                     const kiln_op *op, int index) {
  for (int i = first_feed[op->id]; i >= 0 && i < nfeeds; i++)
    if (feeds[i].op == op && feeds[i].index == index) return i;
  return -1;
}

static kiln_code unfed_placeholder(const kiln_op *op, kiln_status *st) {
  char shape[KN_SHAPE_STR_MAX];
  const kn_attr_value *dt = kn_attr_map_get(&op->attrs, "dtype");
  const char *dname = dt ? kiln_dtype_name(dt->v.t) : "?";
  kn_shape out = kn_op_output_shape(op, 0);
  kn_shape_str(&out, shape, sizeof shape);
  if (out.ndims < 0)
    return kn_errorf(st, KILN_INVALID_ARGUMENT,
                     "You must feed a value for placeholder tensor '%s' with "
                     "dtype %s", op->name, dname);
  return kn_errorf(st, KILN_INVALID_ARGUMENT,
                   "You must feed a value for placeholder tensor '%s' with "
                   "dtype %s and shape %s", op->name, dname, shape);
}

/* A binary min-heap of set indexes ordered by op id, so that ready ops run
** in graph order and plans are deterministic. Items carry the id: when a
** million ops are ready at once (a wide fan-out), reading it through each
** op would cost a cache miss per comparison. It grows with the ready set,
** which a chain keeps at one op. */
typedef struct heap_item {
  size_t id;
  int k;
} heap_item;

typedef struct heap {
  heap_item *items;
  int n, cap;
} heap;

/* False when out of memory. */
static bool heap_push(heap *h, int k, size_t id) {
  if (h->n == h->cap) {
    int cap = h->cap ? h->cap * 2 : 64;
    heap_item *p = realloc(h->items, (size_t)cap * sizeof *p);
    if (!p) return false;
    h->items = p;
    h->cap = cap;
  }
  int i = h->n++;
  while (i > 0) {
    int parent = (i - 1) / 2;
    if (h->items[parent].id <= id) break;
    h->items[i] = h->items[parent];
    i = parent;
  }
  h->items[i] = (heap_item){id, k};
  return true;
}

static int heap_pop(heap *h) {
  int top = h->items[0].k, i = 0;
  heap_item last = h->items[--h->n];
  for (;;) {
    int c = 2 * i + 1;
    if (c >= h->n) break;
    if (c + 1 < h->n && h->items[c + 1].id < h->items[c].id) c++;
    if (last.id <= h->items[c].id) break;
    h->items[i] = h->items[c];
    i = c;
  }
  if (h->n > 0) h->items[i] = last;
  return top;
}

/* An input of a pruned op: from set member src (output index), from feed
** -(src + 1), or a control input (index -1) of member src. */
typedef struct edge {
  int src, index;
} edge;

/* What later passes need of a pruned op, read from it once while pruning:
** a pass over a million ops reads them from memory each time, and the
** passes after pruning then stream through these small arrays instead. */
typedef struct member {
  size_t id;
  int noutputs, ninputs;
  int edges;             /* its inputs: edges[edges .. + ninputs + ncontrol) */
} member;

/* Work space of one plan build. */
typedef struct builder {
  const kiln_output *feeds;
  int nfeeds;
  int *first_feed;       /* op id -> first feed on it, -1 */
  int *in_set;           /* op id -> set index, -1 */
  kiln_op **set;         /* pruned ops */
  member *mem;           /* per set member, filled as pruning reaches it */
  int nset, capset;
  edge *edges;           /* data inputs, then control inputs, per member */
  int nedges, capedges;
} builder;

static int feed_of(const builder *b, const kiln_op *op, int index) {
  return find_feed(b->feeds, b->nfeeds, b->first_feed, op, index);
}

static bool add_to_set(builder *b, kiln_op *op) {
  if (b->in_set[op->id] >= 0) return true;
  if (b->nset == b->capset) {
    int cap = b->capset ? b->capset * 2 : 64;
    kiln_op **ns = realloc(b->set, (size_t)cap * sizeof *ns);
    if (ns) b->set = ns;
    member *nm = ns ? realloc(b->mem, (size_t)cap * sizeof *nm) : NULL;
    if (!nm) return false;
    b->mem = nm;
    b->capset = cap;
  }
  b->in_set[op->id] = b->nset;
  b->set[b->nset++] = op;
  return true;
}

static bool add_edge(builder *b, int src, int index) {
  if (b->nedges == b->capedges) {
    int cap = b->capedges ? b->capedges * 2 : 64;
    edge *ne = realloc(b->edges, (size_t)cap * sizeof *ne);
    if (!ne) return false;
    b->edges = ne;
    b->capedges = cap;
  }
  b->edges[b->nedges++] = (edge){src, index};
  return true;
}

/* Set member k's producers inside the set: data inputs not fed, and
** control inputs; runs BODY_ with K_ the producer's set index. */
#define FOR_EACH_PRODUCER(B_, K, K_, BODY_)                                \
  do {                                                                     \
    const member *m_ = &(B_)->mem[K];                                      \
    const edge *e_ = (B_)->edges + m_->edges;                              \
    const edge *end_ = (B_)->edges + ((K) + 1 < (B_)->nset                 \
                                          ? (B_)->mem[(K) + 1].edges       \
                                          : (B_)->nedges);                 \
    for (; e_ < end_; e_++) {                                              \
      if (e_->src < 0) continue;                                           \
      int K_ = e_->src;                                                    \
      BODY_;                                                               \
    }                                                                      \
  } while (0)

/* The value a Const outputs, when steps may share it by reference: a host
** tensor of the op's dtype. Marked read-only for good: nothing may write
** a graph's constant, and fetches copy it. */
static kiln_tensor *const_value(const kiln_op *op) {
  /* The schema's name is the op's type, and read from one shared place. */
  if (strcmp(op->def->name, "Const") != 0 || op->noutputs != 1) return NULL;
  const kn_attr_value *v = kn_attr_map_get(&op->attrs, "value");
  kiln_tensor *t = v && !v->is_list && v->type == KILN_ATTR_TENSOR ? v->v.tensor : NULL;
  if (!t || t->device || t->base || t->dtype != op->output_types[0]) return NULL;
  atomic_store_explicit(&t->readonly, true, memory_order_relaxed);
  return t;
}

/* Worth the inter-op pool: two nodes that do work could run at once.
** Nodes without inputs (Const, and ops fed nothing) cost next to nothing
** and only feed others, so they count neither as roots nor as branches:
** the weights of an MLP make many roots, yet its layers form a chain that
** runs best inline. Wide is: two "first" working nodes (all of whose
** producers are input-less), or a working node with two working
** consumers. */
static bool plan_is_wide(const kn_plan *p, const int *ninputs) {
  int first = 0;
  for (int i = 0; i < p->nnodes; i++) {
    const kn_node *nd = &p->nodes[i];
    if (ninputs[i] == 0) continue;
    bool after_work = false;
    for (int j = 0; j < ninputs[i] && !after_work; j++) {
      int prod = p->slot_producer[nd->in_slot[j]];
      after_work = prod >= 0 && ninputs[prod] > 0;
    }
    if (!after_work && ++first > 1) return true;
    int working = 0;
    for (int e = 0; e < nd->nsucc; e++)
      if (ninputs[nd->succ[e]] > 0 && ++working > 1) return true;
  }
  return false;
}

static kn_plan *build(kiln_session *s, const kiln_output *feeds, int nfeeds,
                      const kiln_output *fetches, int nfetches,
                      kiln_op *const *targets, int ntargets, kiln_status *st) {
  size_t nops = kiln_graph_num_ops(s->graph);
  builder b = {.feeds = feeds, .nfeeds = nfeeds};
  int *indeg = NULL, *topo = NULL, *pos = NULL, *succ_start = NULL, *succ = NULL;
  heap h = {0};
  kn_plan *p = calloc(1, sizeof *p);
  b.first_feed = malloc((nops + 1) * sizeof *b.first_feed);
  b.in_set = malloc((nops + 1) * sizeof *b.in_set);
  if (!p || !b.first_feed || !b.in_set) goto oom;
  atomic_init(&p->refs, 1);
  pthread_mutex_init(&p->frames_mu, NULL);
  p->session = s;
  if (!(p->frame_slots = kn_aligned_alloc(KN_FRAME_SLOTS * sizeof *p->frame_slots)))
    goto oom;
  for (int i = 0; i < KN_FRAME_SLOTS; i++) atomic_init(&p->frame_slots[i].frame, NULL);
  for (size_t i = 0; i < nops; i++) b.first_feed[i] = b.in_set[i] = -1;

  for (int i = 0; i < nfeeds; i++) {
    const kiln_op *op = feeds[i].op;
    if (find_feed(feeds, i, b.first_feed, op, feeds[i].index) >= 0) {
      kn_errorf(st, KILN_INVALID_ARGUMENT, "tensor '%s:%d' is fed more than once",
                op->name, feeds[i].index);
      goto fail;
    }
    if (b.first_feed[op->id] < 0) b.first_feed[op->id] = i;
  }

  /* Prune: the set grows as a work list, walking back from fetches and
  ** targets and stopping at fed tensors. */
  for (int i = 0; i < nfetches; i++)
    if (fetches[i].index < 0 || feed_of(&b, fetches[i].op, fetches[i].index) < 0)
      if (!add_to_set(&b, fetches[i].op)) goto oom;
  for (int i = 0; i < ntargets; i++)
    if (!add_to_set(&b, targets[i])) goto oom;
  size_t ninputs = 0;
  for (int k = 0; k < b.nset; k++) {
    kiln_op *op = b.set[k];
    if (strcmp(op->def->name, "Placeholder") == 0) {
      unfed_placeholder(op, st);
      goto fail;
    }
    b.mem[k] = (member){op->id, op->noutputs, op->ninputs, b.nedges};
    ninputs += (size_t)op->ninputs;
    for (int i = 0; i < op->ninputs; i++) {
      kiln_output in = op->inputs[i];
      int f = feed_of(&b, in.op, in.index);
      if (f < 0 && !add_to_set(&b, in.op)) goto oom;
      if (!add_edge(&b, f >= 0 ? -(f + 1) : b.in_set[in.op->id], in.index)) goto oom;
    }
    for (int i = 0; i < op->ncontrol; i++)
      if (!add_to_set(&b, op->control[i]) ||
          !add_edge(&b, b.in_set[op->control[i]->id], -1))
        goto oom;
  }
  int n = b.nset;

  /* Consumer lists (CSR) and in-degrees within the set. */
  indeg = calloc((size_t)n + 1, sizeof *indeg);
  succ_start = calloc((size_t)n + 2, sizeof *succ_start);
  if (!indeg || !succ_start) goto oom;
  int nedges = 0;
  for (int k = 0; k < n; k++)
    FOR_EACH_PRODUCER(&b, k, j, { indeg[k]++; succ_start[j + 1]++; nedges++; });
  for (int k = 0; k < n; k++) succ_start[k + 1] += succ_start[k];
  succ = malloc(((size_t)nedges + 1) * sizeof *succ);
  int *fill = calloc((size_t)n + 1, sizeof *fill);
  if (!succ || !fill) {
    free(fill);
    goto oom;
  }
  for (int k = 0; k < n; k++)
    FOR_EACH_PRODUCER(&b, k, j, { succ[succ_start[j] + fill[j]++] = k; });
  free(fill);

  /* Kahn's algorithm, lowest op id first among ready ops. */
  topo = malloc(((size_t)n + 1) * sizeof *topo);
  pos = malloc(((size_t)n + 1) * sizeof *pos);
  if (!topo || !pos) goto oom;
  int *left = malloc(((size_t)n + 1) * sizeof *left);
  if (!left) goto oom;
  memcpy(left, indeg, (size_t)n * sizeof *left);
  for (int k = 0; k < n; k++)
    if (left[k] == 0 && !heap_push(&h, k, b.mem[k].id)) {
      free(left);
      goto oom;
    }
  int ordered = 0;
  while (h.n > 0) {
    int k = heap_pop(&h);
    pos[k] = ordered;
    topo[ordered++] = k;
    for (int e = succ_start[k]; e < succ_start[k + 1]; e++)
      if (--left[succ[e]] == 0 && !heap_push(&h, succ[e], b.mem[succ[e]].id)) {
        free(left);
        goto oom;
      }
  }
  free(left);
  if (ordered < n) {
    for (int k = 0; k < n; k++)
      if (indeg[k] > 0 && (strcmp(b.set[k]->type, "Merge") == 0 ||
                           strcmp(b.set[k]->type, "Enter") == 0)) {
        kn_errorf(st, KILN_UNIMPLEMENTED,
                  "node '%s' (%s) is part of a TensorFlow 1.x while loop; Kiln's "
                  "executor does not run loops (NextIteration/Merge back edges) yet",
                  b.set[k]->name, b.set[k]->type);
        goto fail;
      }
    kn_errorf(st, KILN_INVALID_ARGUMENT, "the graph has a cycle among the ops to run");
    goto fail;
  }

  /* Nodes and slots: feeds first, then each node's outputs. */
  p->nnodes = n;
  p->nodes = calloc((size_t)n + 1, sizeof *p->nodes);
  if (!p->nodes) goto oom;
  int nslots = nfeeds;
  for (int i = 0; i < n; i++) {
    kn_node *nd = &p->nodes[i];
    nd->op = b.set[topo[i]];
    nd->out_slot = nslots;
    nslots += b.mem[topo[i]].noutputs;
  }
  p->nslots = nslots;
  p->slot_readers = calloc((size_t)nslots + 1, sizeof *p->slot_readers);
  p->slot_producer = malloc(((size_t)nslots + 1) * sizeof *p->slot_producer);
  p->nfeeds = nfeeds;
  p->feed_slot = malloc(((size_t)nfeeds + 1) * sizeof *p->feed_slot);
  p->feeds = malloc(((size_t)nfeeds + 1) * sizeof *p->feeds);
  p->feed_shapes = malloc(((size_t)nfeeds + 1) * sizeof *p->feed_shapes);
  p->feed_dtypes = malloc(((size_t)nfeeds + 1) * sizeof *p->feed_dtypes);
  p->nfetches = nfetches;
  p->fetch_slot = malloc(((size_t)nfetches + 1) * sizeof *p->fetch_slot);
  p->fetches = malloc(((size_t)nfetches + 1) * sizeof *p->fetches);
  p->roots = malloc(((size_t)n + 1) * sizeof *p->roots);
  if (!p->slot_readers || !p->slot_producer || !p->feed_slot || !p->feeds ||
      !p->feed_shapes || !p->feed_dtypes || !p->fetch_slot || !p->fetches ||
      !p->roots)
    goto oom;
  for (int i = 0; i < nfeeds; i++) {
    const kiln_op *op = feeds[i].op;
    kiln_dtype t = op->output_types[feeds[i].index];
    p->feed_slot[i] = i;
    p->feeds[i] = feeds[i];
    p->feed_dtypes[i] = (int)t > KILN_REF_OFFSET ? (kiln_dtype)(t - KILN_REF_OFFSET) : t;
    p->feed_shapes[i] = kn_op_output_shape(op, feeds[i].index);
    p->slot_readers[i] = 1; /* the caller's: never freed or reused by a step */
    p->slot_producer[i] = -1;
  }
  /* Input slots, copy flags and successors of all nodes in three arrays
  ** (see plan_free), not three small allocations per node. */
  int *in_slots = NULL, *succs = NULL;
  bool *in_copies = NULL;
  if (n > 0) {
    p->nodes[0].in_slot = in_slots = malloc((ninputs + 1) * sizeof *in_slots);
    p->nodes[0].in_copy = in_copies = calloc(ninputs + 1, sizeof *in_copies);
    p->nodes[0].succ = succs = malloc(((size_t)nedges + 1) * sizeof *succs);
    if (!in_slots || !in_copies || !succs) goto oom;
  }
  size_t in_at = 0, succ_at = 0;
  for (int i = 0; i < n; i++) {
    kn_node *nd = &p->nodes[i];
    int k = topo[i];
    const member *m = &b.mem[k];
    for (int o = 0; o < m->noutputs; o++) p->slot_producer[nd->out_slot + o] = i;
    nd->in_slot = in_slots + in_at;
    nd->in_copy = in_copies + in_at;
    in_at += (size_t)m->ninputs;
    nd->nsucc = succ_start[k + 1] - succ_start[k];
    nd->succ = succs + succ_at;
    succ_at += nd->nsucc;
    for (int e = 0; e < nd->nsucc; e++) nd->succ[e] = pos[succ[succ_start[k] + e]];
    nd->npending = indeg[k];
    if (nd->npending == 0) p->roots[p->nroots++] = i;
    for (int j = 0; j < m->ninputs; j++) {
      edge in = b.edges[m->edges + j];
      int slot = in.src < 0 ? p->feed_slot[-(in.src + 1)]
                            : p->nodes[pos[in.src]].out_slot + in.index;
      nd->in_slot[j] = slot;
      p->slot_readers[slot]++;
    }
  }
  for (int i = 0; i < nfetches; i++) {
    p->fetches[i] = fetches[i];
    if (fetches[i].index < 0) {
      p->fetch_slot[i] = -1;
      continue;
    }
    int f = feed_of(&b, fetches[i].op, fetches[i].index);
    int slot = f >= 0 ? p->feed_slot[f]
                      : p->nodes[pos[b.in_set[fetches[i].op->id]]].out_slot +
                            fetches[i].index;
    p->fetch_slot[i] = slot;
    p->slot_readers[slot]++; /* held until handed to the caller */
  }

  if (kn_place(s, p, st) != KILN_OK) goto fail;
  if (n >= 4) {
    /* Inputs per plan node, for plan_is_wide (topo no longer needed). */
    for (int i = 0; i < n; i++) topo[i] = b.mem[topo[i]].ninputs;
    p->wide = plan_is_wide(p, topo);
  }

  /* Kernels, made once per node; inputs that cross memory spaces copy. */
  for (int i = 0; i < n; i++) {
    kn_node *nd = &p->nodes[i];
    if (nd->kernel && nd->kernel->def.create) {
      make_kernel(s, nd, st);
      if (!kn_ok(st)) goto fail;
    }
    bool node_host = nd->device->type->def.host_memory;
    if (node_host) nd->value = const_value(nd->op);
    for (int j = 0; j < nd->op->ninputs; j++) {
      int prod = p->slot_producer[nd->in_slot[j]];
      kn_device *from = prod >= 0 ? p->nodes[prod].device : NULL;
      bool from_host = !from || from->type->def.host_memory;
      const char *arg_hm = nd->kernel ? nd->kernel->host_memory_args : "";
      bool want_host = node_host;
      if (!want_host && *arg_hm) {
        /* Which schema argument input j belongs to. */
        const kn_op_def *def = nd->op->def;
        for (int a = 0; a < def->ninputs; a++)
          if (j >= nd->op->in_arg_start[a] && j < nd->op->in_arg_start[a + 1]) {
            size_t len = strlen(def->inputs[a].name);
            for (const char *q = arg_hm; (q = strstr(q, def->inputs[a].name)); q += len)
              if ((q == arg_hm || q[-1] == ',') && (q[len] == ',' || q[len] == '\0'))
                want_host = true;
          }
      }
      nd->in_copy[j] = want_host ? !from_host : (from_host || from != nd->device);
    }
  }
  kiln_status_reset(st);
  goto done;
oom:
  KN_OOM(st);
fail:
  if (p) plan_free(p);
  p = NULL;
done:
  free(b.first_feed);
  free(b.in_set);
  free(b.set);
  free(b.mem);
  free(b.edges);
  free(indeg);
  free(topo);
  free(pos);
  free(succ_start);
  free(succ);
  free(h.items);
  return p;
}

kn_plan *kn_plan_get(kiln_session *s, const kiln_output *feeds, int nfeeds,
                     const kiln_output *fetches, int nfetches,
                     kiln_op *const *targets, int ntargets, bool cache,
                     kiln_status *st) {
  /* Callees test the status for errors: start from a clean one. */
  kiln_status_reset(st);
  if (check_args(s, feeds, nfeeds, fetches, nfetches, targets, ntargets, st) != KILN_OK)
    return NULL;
  /* Small keys live on the stack: a cache hit allocates nothing. */
  char small[512], *key = NULL;
  if (cache) {
    size_t need = plan_key_size(nfeeds, nfetches, ntargets);
    if (!(key = need <= sizeof small ? small : malloc(need))) {
      KN_OOM(st);
      return NULL;
    }
    plan_key(key, feeds, nfeeds, fetches, nfetches, targets, ntargets);
    pthread_mutex_lock(&s->mu);
    kn_plan *p = kn_strmap_get(&s->plans, key);
    if (p) atomic_fetch_add(&p->refs, 1);
    pthread_mutex_unlock(&s->mu);
    if (p) {
      if (key != small) free(key);
      kiln_status_reset(st);
      return p;
    }
    /* A miss: the cache keeps the key, so it needs its own copy. */
    if (key == small && !(key = strdup(small))) {
      KN_OOM(st);
      return NULL;
    }
  }
  kn_plan *p = build(s, feeds, nfeeds, fetches, nfetches, targets, ntargets, st);
  if (p) atomic_fetch_add(&s->plans_built, 1);
  if (!p || !cache) {
    free(key);
    return p;
  }
  pthread_mutex_lock(&s->mu);
  if (atomic_load(&s->closed)) {
    /* Closed meanwhile: its cache is gone; this plan serves one step. */
    pthread_mutex_unlock(&s->mu);
    free(key);
    return p;
  }
  kn_plan *other = kn_strmap_get(&s->plans, key);
  if (other) {
    /* Another thread built it meanwhile: use theirs. */
    atomic_fetch_add(&other->refs, 1);
    pthread_mutex_unlock(&s->mu);
    kn_plan_unref(p);
    free(key);
    return other;
  }
  if (s->nplan_keys >= KN_PLAN_CACHE_MAX) {
    /* Start over: a session cycling through this many signatures gains
    ** little from a cache, and plans in use keep their own reference. */
    for (int i = 0; i < s->nplan_keys; i++) {
      kn_plan_unref(kn_strmap_get(&s->plans, s->plan_keys[i]));
      free(s->plan_keys[i]);
    }
    kn_strmap_clear(&s->plans);
    s->nplan_keys = 0;
  }
  char **keys = s->nplan_keys % 16 == 0
      ? realloc(s->plan_keys, ((size_t)s->nplan_keys + 16) * sizeof *keys)
      : s->plan_keys;
  if (keys && kn_strmap_put(&s->plans, key, p)) {
    s->plan_keys = keys;
    s->plan_keys[s->nplan_keys++] = key;
    atomic_fetch_add(&p->refs, 1); /* the cache's */
  } else {
    if (keys) s->plan_keys = keys;
    free(key); /* uncached, still usable */
  }
  pthread_mutex_unlock(&s->mu);
  return p;
}
