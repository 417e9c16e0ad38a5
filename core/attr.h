/* Attribute values (TensorFlow's AttrValue) and the sorted attr maps that
** op descriptions, operations and op schemas hold. */
#ifndef KN_ATTR_H
#define KN_ATTR_H

#include <stdbool.h>
#include <kiln/graph.h>
#include "shape.h"

/* Bytes with a NUL after them; data is never NULL once set. */
typedef struct kn_string {
  char *data;
  size_t len;
} kn_string;

/* A function reference (NameAttrList): its name, and the whole message
** serialized so that nested attrs survive a round trip. */
typedef struct kn_func {
  char *name;
  void *proto;
  size_t proto_len;
} kn_func;

typedef struct kn_attr_value {
  kiln_attr_type type;   /* of the value, or of the list's elements */
  bool is_list;
  /* An empty list read from a GraphDef has no element type yet; the
  ** schema gives it one. */
  bool list_type_unknown;
  union {
    kn_string s;           /* STRING, PLACEHOLDER */
    int64_t i;
    float f;
    bool b;
    kiln_dtype t;
    kn_shape *shape;
    kiln_tensor *tensor;   /* a reference */
    kn_func func;
  } v;
  struct {
    int n;
    union {
      kn_string *s;
      int64_t *i;
      float *f;
      bool *b;
      kiln_dtype *t;
      kn_shape *shape;
      kiln_tensor **tensor;
      kn_func *func;
    } v;
  } list;
} kn_attr_value;

void kn_attr_value_clear(kn_attr_value *v);
/* Deep copy into *dst; false when out of memory (dst then cleared). */
bool kn_attr_value_copy(kn_attr_value *dst, const kn_attr_value *src);
bool kn_attr_value_equal(const kn_attr_value *a, const kn_attr_value *b);
/* Human-readable value for messages ("[1,2]", "float", "'SAME'"). */
char *kn_attr_value_str(const kn_attr_value *v, char *buf, size_t cap);
/* "int", "list(type)", ... */
const char *kn_attr_kind_name(kiln_attr_type type, bool is_list);

/* Constructors: fill *v; false when out of memory. */
bool kn_attr_set_string(kn_attr_value *v, const void *data, size_t len);
void kn_attr_set_int(kn_attr_value *v, int64_t i);
void kn_attr_set_float(kn_attr_value *v, float f);
void kn_attr_set_bool(kn_attr_value *v, bool b);
void kn_attr_set_type(kn_attr_value *v, kiln_dtype t);
bool kn_attr_set_shape(kn_attr_value *v, const kn_shape *s);
void kn_attr_set_tensor(kn_attr_value *v, kiln_tensor *t); /* takes a ref */
/* An empty list of elements of `type`; append with kn_attr_list_push. */
void kn_attr_set_list(kn_attr_value *v, kiln_attr_type type);
/* Appends a copy of the scalar `elem` (of the list's type); false on OOM. */
bool kn_attr_list_push(kn_attr_value *v, const kn_attr_value *elem);

typedef struct kn_attr {
  char *name;
  kn_attr_value value;
} kn_attr;

/* Attrs sorted by name. Items and their names are the map's own (cap >=
** n), or, once packed, live in a block of their owner's (cap 0): an
** operation keeps its attrs in its own allocation. */
typedef struct kn_attr_map {
  kn_attr *items;
  int n, cap;
} kn_attr_map;

const kn_attr_value *kn_attr_map_get(const kn_attr_map *m, const char *name);
/* Inserts or replaces, taking ownership of *v (cleared on return either
** way); false when out of memory. */
bool kn_attr_map_put(kn_attr_map *m, const char *name, kn_attr_value *v);
bool kn_attr_map_copy(kn_attr_map *dst, const kn_attr_map *src);
/* Clears the values and frees what the map owns (not packed items). */
void kn_attr_map_clear(kn_attr_map *m);
/* Bytes kn_attr_map_pack needs for m's items and names. */
size_t kn_attr_map_packed_size(const kn_attr_map *m);
/* Moves m's items and names into mem (kn_attr_map_packed_size bytes,
** aligned for pointers), freeing the map's own copies; the values move
** as they are. Cannot fail. A later put copies them out again. */
void kn_attr_map_pack(kn_attr_map *m, void *mem);

#endif
