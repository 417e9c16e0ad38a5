/* Conversions between Kiln's objects and TensorFlow's protobuf messages
** (AttrValue, TensorProto, NodeDef; proto_convert.c), and the import
** options and results objects (import_options.c) that GraphDef import
** (graph_def.c, public as kiln_graph_import/export) reads and fills. */
#ifndef KN_GRAPH_DEF_H
#define KN_GRAPH_DEF_H

#include <kiln/buffer.h>
#include <kiln/graph.h>
#include "attr.h"

/* ------------------------------------------------------------------------
** Import options and results. The setters never fail loudly: running out
** of memory sets `oom`, which kiln_graph_import reports.
*/

/* Inputs reading "name:index" in the GraphDef read `dst` instead. */
typedef struct kn_input_map {
  char *name;
  int index;
  kiln_output dst;
} kn_input_map;

/* Control inputs on "^name" in the GraphDef are on `dst` instead. */
typedef struct kn_control_map {
  char *name;
  kiln_op *dst;
} kn_control_map;

/* "name:index", a requested return output. */
typedef struct kn_tensor_ref {
  char *name;
  int index;
} kn_tensor_ref;

struct kiln_import_options {
  char *prefix;               /* NULL: none */
  char *device;               /* NULL: none */
  kn_input_map *maps;
  int nmaps, maps_cap;
  kn_control_map *cmaps;
  int ncmaps, cmaps_cap;
  kiln_op **deps;
  int ndeps, deps_cap;
  kn_tensor_ref *rets;
  int nrets, rets_cap;
  char **ret_ops;
  int nret_ops, ret_ops_cap;
  bool oom;                   /* a setter ran out of memory */
};

/* Every array is malloc'd (or NULL when empty) and freed by
** kiln_import_results_free. */
struct kiln_import_results {
  kiln_output *outputs;
  int noutputs;
  kiln_op **ops;
  int nops;
  char **unused;              /* "name:index" of unused input mappings */
  int nunused;
};

/* ------------------------------------------------------------------------
** Serialized messages.
*/

/* Parses a serialized AttrValue into *out. INVALID_ARGUMENT when the bytes
** do not parse or the tensor inside is malformed. */
kiln_code kn_attr_value_parse(const void *data, size_t len, kn_attr_value *out,
                              kiln_status *s);
kiln_buffer *kn_attr_value_serialize(const kn_attr_value *v, kiln_status *s);

/* A serialized TensorProto to a new tensor (TensorFlow's rules: typed
** value fields or tensor_content; fewer values than elements repeat the
** last). INVALID_ARGUMENT when content and shape disagree. */
kiln_tensor *kn_tensor_parse_proto(const void *data, size_t len,
                                   kiln_status *s);
kiln_buffer *kn_tensor_serialize_proto(const kiln_tensor *t, kiln_status *s);

/* The op as a serialized NodeDef. */
kiln_buffer *kn_node_def_serialize(const kiln_op *op, kiln_status *s);

/* ------------------------------------------------------------------------
** The same conversions on protobuf-c messages (the generated types of
** core/proto, declared here incomplete so that this header does not need
** them), for graph_def.c and for tests.
*/
struct Tensorflow__AttrValue;
struct Tensorflow__TensorProto;
struct Tensorflow__TensorShapeProto;
struct Tensorflow__NodeDef;

/* A bump allocator for building messages that are packed once and thrown
** away: every block is freed at once, so message fields may also point at
** memory the arena does not own (tensor buffers, op names). */
typedef struct kn_arena kn_arena;
kn_arena *kn_arena_new(void);
void kn_arena_free(kn_arena *a);
/* Zeroed, suitably aligned; NULL when out of memory. */
void *kn_arena_alloc(kn_arena *a, size_t n);
char *kn_arena_strdup(kn_arena *a, const char *str);
/* Frees all but one block and empties it, for an arena reused as scratch. */
void kn_arena_reset(kn_arena *a);
/* A protobuf-c allocator over the arena, for unpacking into it. */
struct ProtobufCAllocator;
void kn_arena_allocator(kn_arena *a, struct ProtobufCAllocator *out);

/* Unpacks `len` bytes as a message of `desc` (a ProtobufCMessageDescriptor)
** with malloc, so that the message is freed with a NULL allocator. NULL
** with RESOURCE_EXHAUSTED, or INVALID_ARGUMENT naming the message when the
** bytes do not parse. */
struct ProtobufCMessageDescriptor;
void *kn_proto_unpack(const struct ProtobufCMessageDescriptor *desc,
                      const void *data, size_t len, kiln_status *s);
/* The same into an arena: nothing to free but the arena, and no malloc
** per field (a GraphDef of a million nodes has tens of millions). */
void *kn_proto_unpack_arena(const struct ProtobufCMessageDescriptor *desc,
                            const void *data, size_t len, kn_arena *a,
                            kiln_status *s);

/* Reading. `p` is never modified. Errors are INVALID_ARGUMENT (or
** RESOURCE_EXHAUSTED) with a message naming what is wrong. */
kiln_code kn_attr_from_proto(const struct Tensorflow__AttrValue *p,
                             kn_attr_value *out, kiln_status *s);
kiln_tensor *kn_tensor_from_proto(const struct Tensorflow__TensorProto *p,
                                  kiln_status *s);
/* A shape attr (dims of -1 unknown, unknown_rank). NULL is a scalar. */
kiln_code kn_shape_from_proto(const struct Tensorflow__TensorShapeProto *p,
                              kn_shape *out, kiln_status *s);

/* Writing into an arena. The result may point into `v`, `t` or `op`,
** which must outlive it. NULL with RESOURCE_EXHAUSTED when out of memory. */
struct Tensorflow__AttrValue *kn_attr_to_proto(kn_arena *a,
                                               const kn_attr_value *v,
                                               kiln_status *s);
struct Tensorflow__TensorProto *kn_tensor_to_proto(kn_arena *a,
                                                   const kiln_tensor *t,
                                                   kiln_status *s);
struct Tensorflow__NodeDef *kn_node_def_to_proto(kn_arena *a,
                                                 const kiln_op *op,
                                                 kiln_status *s);

/* Packs a built message into a new buffer (caller frees). */
kiln_buffer *kn_proto_pack(const void *message, kiln_status *s);

/* Merges `add` into the library bytes old[0..old_len) (graph_def_library.c)
** as TensorFlow adds a GraphDef's library to a graph: functions and gradients new by name are
** added, equal ones are kept once, and a different definition under a
** taken name is an error (strict) or kept as it was (!strict). On success
** *out is the new library's bytes (malloc'd), or NULL when nothing
** changes. */
struct Tensorflow__FunctionDefLibrary;
kiln_code kn_merge_library(const void *old, size_t old_len,
                           const struct Tensorflow__FunctionDefLibrary *add,
                           bool strict, void **out, size_t *out_len,
                           kiln_status *s);

#endif
