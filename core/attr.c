/*
** Attribute values and attr maps. Values own everything they point to;
** copies are deep except for tensors, which are immutable once in an attr
** and so are shared by reference.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "attr.h"
#include "tensor_internal.h"

static void string_clear(kn_string *s) {
  free(s->data);
  s->data = NULL;
  s->len = 0;
}

static bool string_copy(kn_string *dst, const void *data, size_t len) {
  char *p = malloc(len + 1);
  if (!p) return false;
  if (len) memcpy(p, data, len);
  p[len] = '\0';
  dst->data = p;
  dst->len = len;
  return true;
}

static void func_clear(kn_func *f) {
  free(f->name);
  free(f->proto);
  memset(f, 0, sizeof *f);
}

static bool func_copy(kn_func *dst, const kn_func *src) {
  memset(dst, 0, sizeof *dst);
  if (!(dst->name = strdup(src->name ? src->name : ""))) return false;
  if (src->proto_len) {
    if (!(dst->proto = malloc(src->proto_len))) {
      func_clear(dst);
      return false;
    }
    memcpy(dst->proto, src->proto, src->proto_len);
    dst->proto_len = src->proto_len;
  }
  return true;
}

/* Bytes one list element of `type` takes in the list's array. */
static size_t elem_size(kiln_attr_type type) {
  switch (type) {
  case KILN_ATTR_STRING: case KILN_ATTR_PLACEHOLDER: return sizeof(kn_string);
  case KILN_ATTR_INT: return sizeof(int64_t);
  case KILN_ATTR_FLOAT: return sizeof(float);
  case KILN_ATTR_BOOL: return sizeof(bool);
  case KILN_ATTR_TYPE: return sizeof(kiln_dtype);
  case KILN_ATTR_SHAPE: return sizeof(kn_shape);
  case KILN_ATTR_TENSOR: return sizeof(kiln_tensor *);
  case KILN_ATTR_FUNC: return sizeof(kn_func);
  }
  return 1;
}

void kn_attr_value_clear(kn_attr_value *v) {
  if (!v) return;
  if (v->is_list) {
    for (int i = 0; i < v->list.n; i++) {
      switch (v->type) {
      case KILN_ATTR_STRING: case KILN_ATTR_PLACEHOLDER:
        string_clear(&v->list.v.s[i]); break;
      case KILN_ATTR_TENSOR: kiln_tensor_free(v->list.v.tensor[i]); break;
      case KILN_ATTR_FUNC: func_clear(&v->list.v.func[i]); break;
      default: break;
      }
    }
    free(v->list.v.i); /* every member of the union is the same pointer */
  } else {
    switch (v->type) {
    case KILN_ATTR_STRING: case KILN_ATTR_PLACEHOLDER:
      string_clear(&v->v.s); break;
    case KILN_ATTR_SHAPE: free(v->v.shape); break;
    case KILN_ATTR_TENSOR: kiln_tensor_free(v->v.tensor); break;
    case KILN_ATTR_FUNC: func_clear(&v->v.func); break;
    default: break;
    }
  }
  memset(v, 0, sizeof *v);
}

/* Copies scalar element `src` (of `type`) into `dst`, both raw slots. */
static bool elem_copy(kiln_attr_type type, void *dst, const void *src) {
  switch (type) {
  case KILN_ATTR_STRING: case KILN_ATTR_PLACEHOLDER: {
    const kn_string *s = src;
    return string_copy(dst, s->data, s->len);
  }
  case KILN_ATTR_TENSOR:
    *(kiln_tensor **)dst = kiln_tensor_ref(*(kiln_tensor *const *)src);
    return true;
  case KILN_ATTR_FUNC:
    return func_copy(dst, src);
  default:
    memcpy(dst, src, elem_size(type));
    return true;
  }
}

/* Address of a scalar value's payload, as a list element would hold it. */
static const void *scalar_slot(const kn_attr_value *v) {
  switch (v->type) {
  case KILN_ATTR_STRING: case KILN_ATTR_PLACEHOLDER: return &v->v.s;
  case KILN_ATTR_INT: return &v->v.i;
  case KILN_ATTR_FLOAT: return &v->v.f;
  case KILN_ATTR_BOOL: return &v->v.b;
  case KILN_ATTR_TYPE: return &v->v.t;
  case KILN_ATTR_SHAPE: return v->v.shape;
  case KILN_ATTR_TENSOR: return &v->v.tensor;
  case KILN_ATTR_FUNC: return &v->v.func;
  }
  return NULL;
}

bool kn_attr_value_copy(kn_attr_value *dst, const kn_attr_value *src) {
  memset(dst, 0, sizeof *dst);
  dst->type = src->type;
  dst->is_list = src->is_list;
  dst->list_type_unknown = src->list_type_unknown;
  if (src->is_list) {
    if (src->list.n == 0) return true;
    size_t es = elem_size(src->type);
    /* Room for kn_attr_list_push, which grows at powers of two only. */
    size_t cap = 1;
    while (cap < (size_t)src->list.n) cap *= 2;
    char *items = calloc(cap, es);
    if (!items) return false;
    dst->list.v.i = (int64_t *)(void *)items;
    const char *from = (const char *)src->list.v.i;
    for (int i = 0; i < src->list.n; i++) {
      if (!elem_copy(src->type, items + i * es, from + i * es)) {
        kn_attr_value_clear(dst);
        return false;
      }
      dst->list.n = i + 1;
    }
    return true;
  }
  if (src->type == KILN_ATTR_SHAPE) return kn_attr_set_shape(dst, src->v.shape);
  if (!elem_copy(src->type, (void *)scalar_slot(dst), scalar_slot(src))) {
    memset(dst, 0, sizeof *dst);
    return false;
  }
  return true;
}

static bool elem_equal(kiln_attr_type type, const void *a, const void *b) {
  switch (type) {
  case KILN_ATTR_STRING: case KILN_ATTR_PLACEHOLDER: {
    const kn_string *x = a, *y = b;
    return x->len == y->len && (x->len == 0 || memcmp(x->data, y->data, x->len) == 0);
  }
  case KILN_ATTR_INT: return *(const int64_t *)a == *(const int64_t *)b;
  case KILN_ATTR_FLOAT: return memcmp(a, b, sizeof(float)) == 0;
  case KILN_ATTR_BOOL: return *(const bool *)a == *(const bool *)b;
  case KILN_ATTR_TYPE: return *(const kiln_dtype *)a == *(const kiln_dtype *)b;
  case KILN_ATTR_SHAPE: return kn_shape_equal(a, b);
  case KILN_ATTR_TENSOR:
    return kn_tensor_equal(*(kiln_tensor *const *)a, *(kiln_tensor *const *)b);
  case KILN_ATTR_FUNC: {
    const kn_func *x = a, *y = b;
    return strcmp(x->name, y->name) == 0 && x->proto_len == y->proto_len &&
           (x->proto_len == 0 || memcmp(x->proto, y->proto, x->proto_len) == 0);
  }
  }
  return false;
}

bool kn_attr_value_equal(const kn_attr_value *a, const kn_attr_value *b) {
  if (a->is_list != b->is_list) return false;
  if (a->is_list) {
    if (a->list.n != b->list.n) return false;
    if (a->list.n == 0) return true; /* empty lists match whatever their type */
    if (a->type != b->type) return false;
    size_t es = elem_size(a->type);
    for (int i = 0; i < a->list.n; i++)
      if (!elem_equal(a->type, (const char *)a->list.v.i + i * es,
                      (const char *)b->list.v.i + i * es))
        return false;
    return true;
  }
  return a->type == b->type && elem_equal(a->type, scalar_slot(a), scalar_slot(b));
}

const char *kn_attr_kind_name(kiln_attr_type type, bool is_list) {
  static const char *const names[][2] = {
    [KILN_ATTR_STRING] = {"string", "list(string)"},
    [KILN_ATTR_INT] = {"int", "list(int)"},
    [KILN_ATTR_FLOAT] = {"float", "list(float)"},
    [KILN_ATTR_BOOL] = {"bool", "list(bool)"},
    [KILN_ATTR_TYPE] = {"type", "list(type)"},
    [KILN_ATTR_SHAPE] = {"shape", "list(shape)"},
    [KILN_ATTR_TENSOR] = {"tensor", "list(tensor)"},
    [KILN_ATTR_PLACEHOLDER] = {"placeholder", "list(placeholder)"},
    [KILN_ATTR_FUNC] = {"func", "list(func)"},
  };
  if ((unsigned)type >= sizeof names / sizeof names[0]) return "?";
  return names[type][is_list ? 1 : 0];
}

/* Appends the printable form of one element to buf at *pos. */
static void elem_str(kiln_attr_type type, const void *e, char *buf, size_t cap,
                     size_t *pos) {
  char tmp[KN_SHAPE_STR_MAX];
  const char *name;
  int n = 0;
  size_t room = *pos < cap ? cap - *pos : 0;
  char *out = buf + (*pos < cap ? *pos : cap);
  switch (type) {
  case KILN_ATTR_STRING: case KILN_ATTR_PLACEHOLDER: {
    const kn_string *s = e;
    n = snprintf(out, room, "'%.*s'", s->len > 64 ? 64 : (int)s->len,
                 s->data ? s->data : "");
    break;
  }
  case KILN_ATTR_INT: n = snprintf(out, room, "%lld", (long long)*(const int64_t *)e); break;
  case KILN_ATTR_FLOAT: n = snprintf(out, room, "%g", (double)*(const float *)e); break;
  case KILN_ATTR_BOOL: n = snprintf(out, room, "%s", *(const bool *)e ? "true" : "false"); break;
  case KILN_ATTR_TYPE:
    name = kiln_dtype_name(*(const kiln_dtype *)e);
    n = snprintf(out, room, "%s", name ? name : "<invalid type>");
    break;
  case KILN_ATTR_SHAPE: n = snprintf(out, room, "%s", kn_shape_str(e, tmp, sizeof tmp)); break;
  case KILN_ATTR_TENSOR: {
    const kiln_tensor *t = *(kiln_tensor *const *)e;
    n = snprintf(out, room, "<%s tensor %s>", kiln_dtype_name(t->dtype),
                 kn_dims_str(t->dims, t->ndims, tmp, sizeof tmp));
    break;
  }
  case KILN_ATTR_FUNC: n = snprintf(out, room, "%s", ((const kn_func *)e)->name); break;
  }
  if (n > 0) *pos += (size_t)n;
}

char *kn_attr_value_str(const kn_attr_value *v, char *buf, size_t cap) {
  size_t pos = 0;
  if (cap == 0) return buf;
  buf[0] = '\0';
  if (!v->is_list) {
    elem_str(v->type, scalar_slot(v), buf, cap, &pos);
    return buf;
  }
  size_t es = elem_size(v->type);
  pos += (size_t)snprintf(buf, cap, "[");
  for (int i = 0; i < v->list.n && pos < cap; i++) {
    if (i) pos += (size_t)snprintf(buf + pos, cap - pos, ", ");
    if (pos < cap) elem_str(v->type, (const char *)v->list.v.i + i * es, buf, cap, &pos);
  }
  if (pos < cap) snprintf(buf + pos, cap - pos, "]");
  return buf;
}

bool kn_attr_set_string(kn_attr_value *v, const void *data, size_t len) {
  memset(v, 0, sizeof *v);
  v->type = KILN_ATTR_STRING;
  return string_copy(&v->v.s, data, len);
}

void kn_attr_set_int(kn_attr_value *v, int64_t i) {
  memset(v, 0, sizeof *v);
  v->type = KILN_ATTR_INT;
  v->v.i = i;
}

void kn_attr_set_float(kn_attr_value *v, float f) {
  memset(v, 0, sizeof *v);
  v->type = KILN_ATTR_FLOAT;
  v->v.f = f;
}

void kn_attr_set_bool(kn_attr_value *v, bool b) {
  memset(v, 0, sizeof *v);
  v->type = KILN_ATTR_BOOL;
  v->v.b = b;
}

void kn_attr_set_type(kn_attr_value *v, kiln_dtype t) {
  memset(v, 0, sizeof *v);
  v->type = KILN_ATTR_TYPE;
  v->v.t = t;
}

bool kn_attr_set_shape(kn_attr_value *v, const kn_shape *s) {
  memset(v, 0, sizeof *v);
  v->type = KILN_ATTR_SHAPE;
  if (!(v->v.shape = malloc(sizeof *s))) return false;
  *v->v.shape = *s;
  return true;
}

void kn_attr_set_tensor(kn_attr_value *v, kiln_tensor *t) {
  memset(v, 0, sizeof *v);
  v->type = KILN_ATTR_TENSOR;
  v->v.tensor = kiln_tensor_ref(t);
}

void kn_attr_set_list(kn_attr_value *v, kiln_attr_type type) {
  memset(v, 0, sizeof *v);
  v->type = type;
  v->is_list = true;
}

bool kn_attr_list_push(kn_attr_value *v, const kn_attr_value *elem) {
  size_t es = elem_size(v->type);
  /* Every list's array holds the power of two at or above its length
  ** (kn_attr_value_copy allocates so too), so it grows only when the
  ** length reaches a power of two. */
  int n = v->list.n;
  if ((n & (n - 1)) == 0) {
    size_t cap = n ? (size_t)n * 2 : 1;
    void *p = realloc(v->list.v.i, cap * es);
    if (!p) return false;
    v->list.v.i = p;
  }
  if (!elem_copy(v->type, (char *)v->list.v.i + (size_t)n * es, scalar_slot(elem)))
    return false;
  v->list.n = n + 1;
  return true;
}

/* ---------------------------------------------------------------- maps */

static int find_index(const kn_attr_map *m, const char *name, bool *found) {
  int lo = 0, hi = m->n;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    int c = strcmp(m->items[mid].name, name);
    if (c == 0) {
      *found = true;
      return mid;
    }
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  *found = false;
  return lo;
}

const kn_attr_value *kn_attr_map_get(const kn_attr_map *m, const char *name) {
  bool found;
  int i = find_index(m, name, &found);
  return found ? &m->items[i].value : NULL;
}

/* Gives a packed map items and names of its own again. */
static bool unpack(kn_attr_map *m) {
  if (m->cap >= m->n) return true;
  kn_attr *items = malloc((size_t)m->n * sizeof *items);
  if (!items) return false;
  for (int i = 0; i < m->n; i++) {
    items[i] = m->items[i];
    if (!(items[i].name = strdup(m->items[i].name))) {
      while (i-- > 0) free(items[i].name);
      free(items);
      return false;
    }
  }
  m->items = items;
  m->cap = m->n;
  return true;
}

bool kn_attr_map_put(kn_attr_map *m, const char *name, kn_attr_value *v) {
  bool found;
  if (!unpack(m)) goto oom;
  int i = find_index(m, name, &found);
  if (found) {
    kn_attr_value_clear(&m->items[i].value);
    m->items[i].value = *v;
    memset(v, 0, sizeof *v);
    return true;
  }
  char *key = strdup(name);
  if (!key) goto oom;
  if (m->n == m->cap) {
    /* Most ops have one to three attrs; every op keeps its map. */
    int cap = m->cap ? m->cap * 2 : 2;
    kn_attr *items = realloc(m->items, (size_t)cap * sizeof *items);
    if (!items) {
      free(key);
      goto oom;
    }
    m->items = items;
    m->cap = cap;
  }
  memmove(&m->items[i + 1], &m->items[i], (size_t)(m->n - i) * sizeof *m->items);
  m->items[i].name = key;
  m->items[i].value = *v;
  memset(v, 0, sizeof *v);
  m->n++;
  return true;
oom:
  kn_attr_value_clear(v);
  return false;
}

bool kn_attr_map_copy(kn_attr_map *dst, const kn_attr_map *src) {
  memset(dst, 0, sizeof *dst);
  if (src->n == 0) return true;
  if (!(dst->items = calloc((size_t)src->n, sizeof *dst->items))) return false;
  dst->cap = src->n;
  for (int i = 0; i < src->n; i++) {
    dst->items[i].name = strdup(src->items[i].name);
    if (!dst->items[i].name ||
        !kn_attr_value_copy(&dst->items[i].value, &src->items[i].value)) {
      free(dst->items[i].name);
      kn_attr_map_clear(dst);
      return false;
    }
    dst->n = i + 1;
  }
  return true;
}

void kn_attr_map_clear(kn_attr_map *m) {
  bool owned = m->cap >= m->n;
  for (int i = 0; i < m->n; i++) {
    if (owned) free(m->items[i].name);
    kn_attr_value_clear(&m->items[i].value);
  }
  if (owned) free(m->items);
  memset(m, 0, sizeof *m);
}

size_t kn_attr_map_packed_size(const kn_attr_map *m) {
  size_t n = (size_t)m->n * sizeof(kn_attr);
  for (int i = 0; i < m->n; i++) n += strlen(m->items[i].name) + 1;
  return n;
}

void kn_attr_map_pack(kn_attr_map *m, void *mem) {
  if (m->n == 0) {
    kn_attr_map_clear(m);
    return;
  }
  kn_attr *items = mem;
  char *names = (char *)(items + m->n);
  bool owned = m->cap >= m->n;
  for (int i = 0; i < m->n; i++) {
    size_t len = strlen(m->items[i].name) + 1;
    items[i].value = m->items[i].value;
    items[i].name = memcpy(names, m->items[i].name, len);
    names += len;
    if (owned) free(m->items[i].name);
  }
  if (owned) free(m->items);
  m->items = items;
  m->cap = 0;
}
