/* Graph, operation and op description objects, for the core's own use
** (GraphDef import, sessions, the placer). */
#ifndef KN_GRAPH_INTERNAL_H
#define KN_GRAPH_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <kiln/graph.h>
#include "attr.h"
#include "op_registry.h"
#include "shape.h"
#include "strmap.h"

/* One allocation holds the op, its arrays, its strings and its attrs'
** items and names (op_create.c); only attr values own memory of their
** own. The allocation is the op's own, or part of a slab its graph owns
** (ops of one GraphDef import, carved from a few large blocks). */
struct kiln_op {
  kiln_graph *graph;
  size_t id;                  /* position in graph->ops */
  char *name, *type, *device;
  const kn_op_def *def;
  int ninputs;
  bool in_slab;               /* memory is a slab's: kn_op_free keeps it */
  kiln_output *inputs;
  kiln_dtype *input_types;    /* as the schema expects (ref types for refs) */
  int ncontrol;
  kiln_op **control;
  int noutputs;
  kiln_dtype *output_types;
  /* Static output shapes, packed (a kn_shape is 264 bytes, most outputs
  ** need a few): output i has rank out_rank[i] (KN_UNKNOWN: unknown) and
  ** dims out_dims[out_at[i] ...]. Read them with kn_op_output_shape. */
  int32_t *out_rank, *out_at;
  int64_t *out_dims;
  kn_attr_map attrs;          /* complete: defaults filled in */
  int *in_arg_start;          /* def->ninputs + 1 entries */
  int *out_arg_start;         /* def->noutputs + 1 entries */
};

/* Output i's static shape. */
static inline kn_shape kn_op_output_shape(const kiln_op *op, int i) {
  kn_shape s;
  s.ndims = op->out_rank[i];
  for (int d = 0; d < s.ndims; d++) s.dims[d] = op->out_dims[op->out_at[i] + d];
  return s;
}

struct kiln_graph {
  atomic_int refs;
  pthread_mutex_t mu;         /* guards everything below */
  kiln_op **ops;
  atomic_size_t nops;
  size_t cap;
  kn_strmap by_name;          /* op name -> kiln_op */
  kn_strmap used_names;       /* unique_name counters (value: count as intptr) */
  size_t nmarked;             /* ops[0..nmarked) have their names in used_names */
  char **scopes;              /* full scope strings, "a/", "a/b/" */
  int nscopes, scopes_cap;
  /* GraphDef versions, kept for export. */
  int producer, min_consumer;
  int *bad_consumers;
  int nbad_consumers;
  /* The GraphDef's function library, kept as read so export keeps it. */
  void *library;
  size_t library_len;
  bool has_seed;
  int64_t seed;
  int64_t seed_counter;       /* TensorFlow's graph._last_id stand-in */
  struct kn_op_slab *slabs;   /* blocks of imported ops, freed with the graph */
};

/* A chain of blocks that operations are bump-allocated from: a million
** ops imported one malloc each would pay a chunk header, a free and a
** scattered address each; from a slab they lie in graph order. */
typedef struct kn_op_slab {
  struct kn_op_slab *next;
  size_t used, cap;
  _Alignas(16) char data[];
} kn_op_slab;

/* n zeroed bytes (16-byte aligned) from the chain *slabs, growing it by
** a block when the newest is full (size_hint: bytes the caller expects
** to need in all, to size the first block); NULL when out of memory. */
void *kn_op_slab_alloc(kn_op_slab **slabs, size_t n, size_t size_hint);
void kn_op_slabs_free(kn_op_slab *slabs);
/* The graph takes the chain (under g->mu): its ops are committed. */
void kn_graph_adopt_slabs_locked(kiln_graph *g, kn_op_slab *slabs);

/* The producer version Kiln writes, and below which a Placeholder's empty
** shape means unknown rank. */
#define KN_GRAPH_DEF_VERSION 27
#define KN_PLACEHOLDER_SHAPE_PRODUCER 22

/* Marks an input of an op description as a loop back edge whose producer
** does not exist yet (GraphDef import of NextIteration -> Merge): use
** {KN_BACK_EDGE_OP, dtype} and patch the op's input after creation. */
extern kiln_op kn_back_edge_op;
#define KN_BACK_EDGE_OP (&kn_back_edge_op)

struct kiln_op_desc {
  kiln_graph *graph;
  char *type, *name, *device;
  const kn_op_def *def;       /* type's schema if the caller has it, or NULL */
  kiln_output *inputs;
  int ninputs, inputs_cap;
  /* How inputs were added: one group per schema argument (single or
  ** list) through the builder API; none for import's flat list. */
  struct kn_input_group { int start, count; bool is_list; } *groups;
  int ngroups, groups_cap;
  kiln_op **control;
  int ncontrol, control_cap;
  kn_attr_map attrs;
  kiln_code error;            /* first setter error, reported by finish */
  char *error_msg;
  /* When set (import), kn_op_create carves the op from this chain, sized
  ** at first for slab_hint bytes; the caller frees the chain or gives it
  ** to the graph with the ops. */
  kn_op_slab **slab;
  size_t slab_hint;
};

/* Validates d and builds the operation without adding it to the graph:
** the op is not visible yet and its name is not checked for clashes.
** Does not free d, but takes its attrs (d's are left empty, success or
** not): callers free d next. Returns NULL with status set (messages name
** the node). */
kiln_op *kn_op_create(kiln_op_desc *d, kiln_status *s);

/* Adds ops[0..n) to their graph atomically: INVALID_ARGUMENT (nothing
** added) when a name clashes with the graph or within the batch. On
** success the graph owns the ops. */
kiln_code kn_graph_commit(kiln_graph *g, kiln_op **ops, size_t n,
                          kiln_status *s);

/* Frees an op that was never committed. */
void kn_op_free(kiln_op *op);

/* kiln_graph_unique_name without a length limit: the name (reserved) in
** a new string the caller frees, or NULL when out of memory. */
char *kn_graph_unique_name_dup(kiln_graph *g, const char *base);

/* Whether `name` is a valid node name (TensorFlow's
** [A-Za-z0-9.][A-Za-z0-9_.\-/>]*). */
bool kn_valid_node_name(const char *name);

/* Lookup without locking the graph's op array (caller holds g->mu or
** knows no writer runs). */
kiln_op *kn_graph_find_locked(kiln_graph *g, const char *name);

#endif
