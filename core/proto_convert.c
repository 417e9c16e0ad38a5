/*
** Conversions between Kiln's attr values, tensors and operations and
** TensorFlow's AttrValue, TensorProto and NodeDef messages.
**
** Reading follows TensorFlow's Tensor::FromProto: tensor_content holds the
** raw little-endian elements when it is not empty; otherwise the typed
** field of the dtype holds the values, and a field shorter than the shape
** is padded with its last value (an empty one with zeros). Kiln is
** stricter than TensorFlow in two places where TensorFlow silently drops
** data: more values than elements, and values in a field of another dtype.
**
** Writing builds messages in an arena and packs them once. Numeric tensors
** go out as tensor_content, strings as string_val, attrs in map order
** (sorted by name), so equal objects give equal bytes.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <protobuf-c/protobuf-c.h>
#include "attr_value.pb-c.h"
#include "graph_def.h"
#include "graph_internal.h"
#include "node_def.pb-c.h"
#include "status_internal.h"
#include "tensor.pb-c.h"
#include "tensor_internal.h"
#include "tensor_shape.pb-c.h"

/* ------------------------------------------------------------------ arena */

typedef struct kn_arena_block {
  struct kn_arena_block *next;
  size_t used, cap;
  max_align_t data[];
} kn_arena_block;

struct kn_arena {
  kn_arena_block *head;
  size_t step;           /* size of the next block */
};

/* Blocks double from ARENA_BLOCK to ARENA_BLOCK_MAX, so that a GraphDef
** of a million nodes is unpacked into a few hundred blocks, not tens of
** thousands. */
#define ARENA_BLOCK 16384
#define ARENA_BLOCK_MAX (1 << 22)

kn_arena *kn_arena_new(void) { return calloc(1, sizeof(kn_arena)); }

void kn_arena_free(kn_arena *a) {
  if (!a) return;
  kn_arena_block *b = a->head;
  while (b) {
    kn_arena_block *next = b->next;
    free(b);
    b = next;
  }
  free(a);
}

void *kn_arena_alloc(kn_arena *a, size_t n) {
  /* Less than 16 bytes needs no more than 8-byte alignment: the short
  ** strings of an unpacked GraphDef (names, keys, types) then take half
  ** the room. */
  const size_t align = n < 16 ? 8 : sizeof(max_align_t);
  if (n > SIZE_MAX - align) return NULL;
  n = (n + align - 1) / align * align;
  if (n == 0) n = align;
  kn_arena_block *b = a->head;
  size_t at = b ? (b->used + align - 1) / align * align : 0;
  if (!b || at > b->cap || b->cap - at < n) {
    /* Big requests get a block of their own behind the current one, so the
    ** space left in the current block is not wasted. */
    size_t step = a->step ? a->step : ARENA_BLOCK;
    size_t cap = n > step / 4 ? n : step;
    if (cap > SIZE_MAX - sizeof *b) return NULL;
    kn_arena_block *nb = calloc(1, sizeof *nb + cap);
    if (!nb) return NULL;
    nb->cap = cap;
    if (b && cap == n) {
      nb->next = b->next;
      b->next = nb;
    } else {
      nb->next = b;
      a->head = nb;
      if (cap == step && step < ARENA_BLOCK_MAX) a->step = step * 2;
    }
    b = nb;
    at = 0;
  }
  void *p = (char *)b->data + at;
  b->used = at + n;
  return p;
}

void kn_arena_reset(kn_arena *a) {
  kn_arena_block *b = a->head;
  if (!b) return;
  /* The newest block is kept (zeroed where used) unless it is one of the
  ** biggest; blocks of their own and older blocks are freed. */
  kn_arena_block *rest = b->next;
  if (b->cap > ARENA_BLOCK_MAX) {
    rest = b;
    a->head = NULL;
  } else {
    memset(b->data, 0, b->used);
    b->used = 0;
    b->next = NULL;
  }
  while (rest) {
    kn_arena_block *next = rest->next;
    free(rest);
    rest = next;
  }
}

char *kn_arena_strdup(kn_arena *a, const char *str) {
  size_t n = strlen(str) + 1;
  char *p = kn_arena_alloc(a, n);
  if (p) memcpy(p, str, n);
  return p;
}

static void *arena_pb_alloc(void *data, size_t size) {
  return kn_arena_alloc(data, size);
}
static void arena_pb_free(void *data, void *ptr) {
  (void)data;
  (void)ptr;
}

void kn_arena_allocator(kn_arena *a, ProtobufCAllocator *out) {
  out->alloc = arena_pb_alloc;
  out->free = arena_pb_free;
  out->allocator_data = a;
}

/* malloc, noting a failure so that a failed unpack can tell running out
** of memory from bad bytes. */
static void *track_alloc(void *data, size_t size) {
  void *p = malloc(size ? size : 1);
  if (!p) *(bool *)data = true;
  return p;
}
static void track_free(void *data, void *ptr) {
  (void)data;
  free(ptr);
}

void *kn_proto_unpack(const ProtobufCMessageDescriptor *desc,
                      const void *data, size_t len, kiln_status *s) {
  if (!data && len > 0) {
    kn_errorf(s, KILN_INVALID_ARGUMENT, "Invalid %s: NULL data of %zu bytes",
              desc->short_name, len);
    return NULL;
  }
  bool oom = false;
  ProtobufCAllocator al = {.alloc = track_alloc, .free = track_free,
                           .allocator_data = &oom};
  ProtobufCMessage *m = protobuf_c_message_unpack(desc, &al, len, data);
  if (!m) {
    if (oom)
      KN_OOM(s);
    else
      kn_errorf(s, KILN_INVALID_ARGUMENT,
                "Invalid %s: %zu bytes do not parse (malformed or "
                "truncated)", desc->short_name, len);
  }
  return m;
}

/* The arena allocator, noting a failure as track_alloc does. */
typedef struct arena_track {
  kn_arena *a;
  bool oom;
} arena_track;

static void *arena_track_alloc(void *data, size_t size) {
  arena_track *t = data;
  void *p = kn_arena_alloc(t->a, size);
  if (!p) t->oom = true;
  return p;
}

void *kn_proto_unpack_arena(const ProtobufCMessageDescriptor *desc,
                            const void *data, size_t len, kn_arena *a,
                            kiln_status *s) {
  if (!data && len > 0) {
    kn_errorf(s, KILN_INVALID_ARGUMENT, "Invalid %s: NULL data of %zu bytes",
              desc->short_name, len);
    return NULL;
  }
  arena_track t = {a, false};
  ProtobufCAllocator al = {.alloc = arena_track_alloc, .free = arena_pb_free,
                           .allocator_data = &t};
  ProtobufCMessage *m = protobuf_c_message_unpack(desc, &al, len, data);
  if (!m) {
    if (t.oom)
      KN_OOM(s);
    else
      kn_errorf(s, KILN_INVALID_ARGUMENT,
                "Invalid %s: %zu bytes do not parse (malformed or "
                "truncated)", desc->short_name, len);
  }
  return m;
}

/* Arena allocation of n elements of `size`, with overflow checked. */
static void *arena_array(kn_arena *a, size_t n, size_t size) {
  if (n == 0) return NULL;
  if (n > SIZE_MAX / size) return NULL;
  return kn_arena_alloc(a, n * size);
}

/* Packs the message built in `a`, or fails as building it did (message
** NULL, status set; `a` NULL: out of memory), and frees `a`. */
static kiln_buffer *pack_and_free(kn_arena *a, const void *message,
                                  kiln_status *s) {
  if (!a) {
    KN_OOM(s);
    return NULL;
  }
  kiln_buffer *b = message ? kn_proto_pack(message, s) : NULL;
  kn_arena_free(a);
  if (b) kiln_status_reset(s);
  return b;
}

kiln_buffer *kn_proto_pack(const void *message, kiln_status *s) {
  const ProtobufCMessage *m = message;
  size_t n = protobuf_c_message_get_packed_size(m);
  kiln_buffer *b = malloc(sizeof *b);
  void *data = malloc(n ? n : 1);
  if (!b || !data) {
    free(b);
    free(data);
    KN_OOM(s);
    return NULL;
  }
  b->length = protobuf_c_message_pack(m, data);
  b->data = data;
  return b;
}

/* --------------------------------------------------------- byte order */

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define KN_BIG_ENDIAN 1
#else
#define KN_BIG_ENDIAN 0
#endif

/* Copies n elements between host order and tensor_content's little-endian
** order; `word` is the size of one scalar (half a complex element). */
static void copy_le(void *dst, const void *src, size_t nbytes, size_t word) {
  if (!KN_BIG_ENDIAN || word == 1) {
    if (nbytes) memcpy(dst, src, nbytes);
    return;
  }
  const unsigned char *in = src;
  unsigned char *out = dst;
  for (size_t i = 0; i + word <= nbytes; i += word)
    for (size_t j = 0; j < word; j++) out[i + j] = in[i + word - 1 - j];
}

static size_t scalar_word(kiln_dtype t) {
  if (t == KILN_COMPLEX64) return 4;
  if (t == KILN_COMPLEX128) return 8;
  return kiln_dtype_size(t);
}

/* ------------------------------------------------------------- dtypes */

static bool valid_dtype(int t) {
  return t != KILN_INVALID_DTYPE && kiln_dtype_name((kiln_dtype)t) != NULL;
}

static const char *dtype_str(int t) {
  const char *n = kiln_dtype_name((kiln_dtype)t);
  return n ? n : "invalid";
}

/* ------------------------------------------------------------- shapes */

kiln_code kn_shape_from_proto(const Tensorflow__TensorShapeProto *p,
                              kn_shape *out, kiln_status *s) {
  if (!p) {
    *out = kn_shape_scalar();
    return KILN_OK;
  }
  if (p->unknown_rank) {
    if (p->n_dim > 0)
      return kn_errorf(s, KILN_INVALID_ARGUMENT,
                       "TensorShapeProto has unknown_rank set and %zu "
                       "dimensions", p->n_dim);
    *out = kn_shape_unknown();
    return KILN_OK;
  }
  if (p->n_dim > KILN_MAX_DIMS)
    return kn_errorf(s, KILN_INVALID_ARGUMENT,
                     "TensorShapeProto has %zu dimensions; Kiln handles at "
                     "most %d", p->n_dim, KILN_MAX_DIMS);
  out->ndims = (int)p->n_dim;
  for (size_t i = 0; i < p->n_dim; i++) {
    int64_t d = p->dim[i]->size;
    if (d < -1) {
      char buf[KN_SHAPE_STR_MAX];
      out->dims[i] = d;
      for (size_t j = i + 1; j < p->n_dim; j++) out->dims[j] = p->dim[j]->size;
      return kn_errorf(s, KILN_INVALID_ARGUMENT,
                       "TensorShapeProto dimension %zu is %lld in %s; sizes "
                       "must be >= -1 (-1: unknown)", i, (long long)d,
                       kn_dims_str(out->dims, out->ndims, buf, sizeof buf));
    }
    out->dims[i] = d;
  }
  return KILN_OK;
}

static Tensorflow__TensorShapeProto *shape_to_proto(kn_arena *a,
                                                    const int64_t *dims,
                                                    int ndims) {
  Tensorflow__TensorShapeProto *p = kn_arena_alloc(a, sizeof *p);
  if (!p) return NULL;
  tensorflow__tensor_shape_proto__init(p);
  if (ndims < 0) {
    p->unknown_rank = 1;
    return p;
  }
  if (ndims == 0) return p;
  p->dim = arena_array(a, (size_t)ndims, sizeof *p->dim);
  Tensorflow__TensorShapeProto__Dim *d =
      arena_array(a, (size_t)ndims, sizeof *d);
  if (!p->dim || !d) return NULL;
  for (int i = 0; i < ndims; i++) {
    tensorflow__tensor_shape_proto__dim__init(&d[i]);
    d[i].size = dims[i];
    p->dim[i] = &d[i];
  }
  p->n_dim = (size_t)ndims;
  return p;
}

/* ------------------------------------------------------------ tensors */

/* The typed value fields of a TensorProto, by name, with their counts. */
typedef struct value_field {
  const char *name;
  size_t n;
} value_field;

static void value_fields(const Tensorflow__TensorProto *p, value_field f[13]) {
  value_field all[13] = {
    {"half_val", p->n_half_val},         {"float_val", p->n_float_val},
    {"double_val", p->n_double_val},     {"int_val", p->n_int_val},
    {"string_val", p->n_string_val},     {"scomplex_val", p->n_scomplex_val},
    {"int64_val", p->n_int64_val},       {"bool_val", p->n_bool_val},
    {"dcomplex_val", p->n_dcomplex_val},
    {"resource_handle_val", p->n_resource_handle_val},
    {"variant_val", p->n_variant_val},   {"uint32_val", p->n_uint32_val},
    {"uint64_val", p->n_uint64_val},
  };
  memcpy(f, all, sizeof all);
}

/* The field that holds values of dtype t. */
static const char *field_for(kiln_dtype t) {
  switch (t) {
  case KILN_HALF: case KILN_BFLOAT16: return "half_val";
  case KILN_FLOAT: return "float_val";
  case KILN_DOUBLE: return "double_val";
  case KILN_INT32: case KILN_INT16: case KILN_INT8: case KILN_UINT8:
  case KILN_UINT16: case KILN_QINT8: case KILN_QUINT8: case KILN_QINT16:
  case KILN_QUINT16: case KILN_QINT32: return "int_val";
  case KILN_STRING: return "string_val";
  case KILN_COMPLEX64: return "scomplex_val";
  case KILN_INT64: return "int64_val";
  case KILN_BOOL: return "bool_val";
  case KILN_COMPLEX128: return "dcomplex_val";
  case KILN_RESOURCE: return "resource_handle_val";
  case KILN_VARIANT: return "variant_val";
  case KILN_UINT32: return "uint32_val";
  case KILN_UINT64: return "uint64_val";
  default: return NULL;
  }
}

/* In kn_tensor_from_proto: converts the first in_n values of a typed
** field into t's elements of type T; repeat_last fills in the rest. */
#define CONVERT(T, src, CONV)                                            \
  do {                                                                   \
    T *d_ = t->data;                                                     \
    for (size_t i_ = 0; i_ < in_n; i_++) d_[i_] = (T)CONV((src)[i_]);    \
  } while (0)
#define AS_IS(x) (x)
#define AS_BOOL(x) ((x) != 0)

/* Fills elements [have, n) of `data` with copies of element have - 1,
** doubling the copied run each time; 0 < have <= n. */
static void repeat_last(void *data, size_t have, size_t n, size_t size) {
  char *d = data;
  size_t start = have - 1;
  while (have < n) {
    size_t k = have - start < n - have ? have - start : n - have;
    memcpy(d + have * size, d + start * size, k * size);
    have += k;
  }
}

/* Decodes TensorFlow's string tensor_content: n varint lengths, then the
** bytes of all strings in order. */
static kiln_code decode_string_content(const Tensorflow__TensorProto *p,
                                       kiln_tensor *t, kiln_status *s) {
  const uint8_t *in = p->tensor_content.data;
  size_t len = p->tensor_content.len, pos = 0;
  int64_t n = t->nelems;
  uint64_t *lens = malloc((size_t)(n ? n : 1) * sizeof *lens);
  if (!lens) return KN_OOM(s);
  uint64_t total = 0;
  for (int64_t i = 0; i < n; i++) {
    uint64_t v = 0;
    int shift = 0;
    for (;;) {
      if (pos >= len || shift > 63) {
        free(lens);
        return kn_errorf(s, KILN_INVALID_ARGUMENT,
                         "string tensor_content of %zu bytes ends inside the "
                         "length of element %lld of %lld", len, (long long)i,
                         (long long)n);
      }
      uint8_t byte = in[pos++];
      v |= (uint64_t)(byte & 0x7f) << shift;
      shift += 7;
      if (!(byte & 0x80)) break;
    }
    lens[i] = v;
    total += v;
    if (v > len || total > len) break;
  }
  if (total != len - pos) {
    free(lens);
    return kn_errorf(s, KILN_INVALID_ARGUMENT,
                     "string tensor_content of %zu bytes does not hold the "
                     "%lld strings its lengths describe", len, (long long)n);
  }
  for (int64_t i = 0; i < n; i++) {
    kiln_tensor_set_string(t, i, (const char *)in + pos, (size_t)lens[i], s);
    if (!kn_ok(s)) {
      free(lens);
      return kiln_status_code(s);
    }
    pos += (size_t)lens[i];
  }
  free(lens);
  return KILN_OK;
}

kiln_tensor *kn_tensor_from_proto(const Tensorflow__TensorProto *p,
                                  kiln_status *s) {
  int dt = (int)p->dtype;
  if (!valid_dtype(dt) || dt > KILN_REF_OFFSET) {
    kn_errorf(s, KILN_INVALID_ARGUMENT, "TensorProto has %s dtype %d",
              dt == 0 ? "no" : "an invalid", dt);
    return NULL;
  }
  kiln_dtype dtype = (kiln_dtype)dt;
  kn_shape shape;
  if (kn_shape_from_proto(p->tensor_shape, &shape, s) != KILN_OK) return NULL;
  char sbuf[KN_SHAPE_STR_MAX];
  if (shape.ndims < 0) {
    kn_errorf(s, KILN_INVALID_ARGUMENT,
              "TensorProto of dtype %s has a shape of unknown rank",
              dtype_str(dt));
    return NULL;
  }
  for (int i = 0; i < shape.ndims; i++)
    if (shape.dims[i] < 0) {
      kn_errorf(s, KILN_INVALID_ARGUMENT,
                "TensorProto of dtype %s has shape %s: dimension %d is "
                "negative", dtype_str(dt),
                kn_dims_str(shape.dims, shape.ndims, sbuf, sizeof sbuf), i);
      return NULL;
    }
  kiln_tensor *t = kn_tensor_alloc(dtype, shape.dims, shape.ndims, s);
  if (!t) {
    kn_status_prefix(s, "TensorProto: ");
    return NULL;
  }
  int64_t n = t->nelems;
  kn_dims_str(shape.dims, shape.ndims, sbuf, sizeof sbuf);

  if (p->tensor_content.len > 0) {
    if (dtype == KILN_STRING) {
      if (decode_string_content(p, t, s) != KILN_OK) goto fail;
      return t;
    }
    if (p->tensor_content.len != t->nbytes) {
      kn_errorf(s, KILN_INVALID_ARGUMENT,
                "TensorProto of dtype %s and shape %s has %zu bytes of "
                "tensor_content; %lld elements need %zu", dtype_str(dt), sbuf,
                p->tensor_content.len, (long long)n, t->nbytes);
      goto fail;
    }
    copy_le(t->data, p->tensor_content.data, t->nbytes, scalar_word(dtype));
    return t;
  }

  /* Typed fields: only the dtype's own may hold values. */
  value_field f[13];
  value_fields(p, f);
  const char *own = field_for(dtype);
  size_t in_n = 0;
  for (int i = 0; i < 13; i++) {
    if (strcmp(f[i].name, own) == 0) {
      in_n = f[i].n;
    } else if (f[i].n > 0) {
      kn_errorf(s, KILN_INVALID_ARGUMENT,
                "TensorProto of dtype %s and shape %s has %zu values in %s; "
                "its values belong in %s", dtype_str(dt), sbuf, f[i].n,
                f[i].name, own);
      goto fail;
    }
  }
  if (dtype == KILN_COMPLEX64 || dtype == KILN_COMPLEX128) {
    if (in_n % 2) {
      kn_errorf(s, KILN_INVALID_ARGUMENT,
                "TensorProto of dtype %s and shape %s has an odd number of "
                "%s values (%zu): they are real, imaginary pairs",
                dtype_str(dt), sbuf, own, in_n);
      goto fail;
    }
    in_n /= 2;
  }
  if ((uint64_t)in_n > (uint64_t)n) {
    kn_errorf(s, KILN_INVALID_ARGUMENT,
              "TensorProto of dtype %s and shape %s has %zu values in %s, "
              "more than its %lld elements", dtype_str(dt), sbuf, in_n, own,
              (long long)n);
    goto fail;
  }
  if (in_n == 0) {
    /* No values: zeros, as TensorFlow fills with T(). */
    if (dtype != KILN_STRING && t->nbytes) memset(t->data, 0, t->nbytes);
    return t;
  }
  if (dtype == KILN_STRING) {
    for (int64_t i = 0; i < n; i++) {
      const ProtobufCBinaryData *e =
          &p->string_val[i < (int64_t)in_n ? i : (int64_t)in_n - 1];
      kiln_tensor_set_string(t, i, (const char *)e->data, e->len, s);
      if (!kn_ok(s)) goto fail;
    }
    return t;
  }
  switch (dtype) {
  case KILN_FLOAT: CONVERT(float, p->float_val, AS_IS); break;
  case KILN_DOUBLE: CONVERT(double, p->double_val, AS_IS); break;
  case KILN_INT32: case KILN_QINT32: CONVERT(int32_t, p->int_val, AS_IS); break;
  case KILN_INT16: case KILN_QINT16: CONVERT(int16_t, p->int_val, AS_IS); break;
  case KILN_UINT16: case KILN_QUINT16:
    CONVERT(uint16_t, p->int_val, AS_IS); break;
  case KILN_INT8: case KILN_QINT8: CONVERT(int8_t, p->int_val, AS_IS); break;
  case KILN_UINT8: case KILN_QUINT8: CONVERT(uint8_t, p->int_val, AS_IS); break;
  case KILN_HALF: case KILN_BFLOAT16:
    CONVERT(uint16_t, p->half_val, AS_IS); break;
  case KILN_INT64: CONVERT(int64_t, p->int64_val, AS_IS); break;
  case KILN_UINT32: CONVERT(uint32_t, p->uint32_val, AS_IS); break;
  case KILN_UINT64: CONVERT(uint64_t, p->uint64_val, AS_IS); break;
  case KILN_BOOL: CONVERT(uint8_t, p->bool_val, AS_BOOL); break;
  /* (real, imaginary) pairs, in_n of them. */
  case KILN_COMPLEX64:
    memcpy(t->data, p->scomplex_val, in_n * 2 * sizeof *p->scomplex_val);
    break;
  case KILN_COMPLEX128:
    memcpy(t->data, p->dcomplex_val, in_n * 2 * sizeof *p->dcomplex_val);
    break;
  default:
    /* kn_tensor_alloc refuses every other dtype. */
    kn_errorf(s, KILN_INVALID_ARGUMENT, "TensorProto of dtype %s: no values",
              dtype_str(dt));
    goto fail;
  }
  repeat_last(t->data, in_n, (size_t)n, kiln_dtype_size(dtype));
  return t;
fail:
  kiln_tensor_free(t);
  return NULL;
}

Tensorflow__TensorProto *kn_tensor_to_proto(kn_arena *a, const kiln_tensor *t,
                                            kiln_status *s) {
  Tensorflow__TensorProto *p = kn_arena_alloc(a, sizeof *p);
  if (!p) goto oom;
  tensorflow__tensor_proto__init(p);
  p->dtype = (Tensorflow__DataType)t->dtype;
  p->tensor_shape = shape_to_proto(a, t->dims, t->ndims);
  if (!p->tensor_shape) goto oom;
  if (t->nelems == 0) return p;
  if (t->dtype == KILN_STRING) {
    const kn_tstring *e = t->data;
    if ((uint64_t)t->nelems > SIZE_MAX / sizeof *p->string_val) goto oom;
    p->string_val = arena_array(a, (size_t)t->nelems, sizeof *p->string_val);
    if (!p->string_val) goto oom;
    for (int64_t i = 0; i < t->nelems; i++) {
      /* Points at the tensor's bytes; the message only lives to be packed. */
      p->string_val[i].data = (uint8_t *)(e[i].data ? e[i].data : "");
      p->string_val[i].len = e[i].len;
    }
    p->n_string_val = (size_t)t->nelems;
    return p;
  }
  if (KN_BIG_ENDIAN && scalar_word(t->dtype) > 1) {
    uint8_t *le = kn_arena_alloc(a, t->nbytes);
    if (!le) goto oom;
    copy_le(le, t->data, t->nbytes, scalar_word(t->dtype));
    p->tensor_content.data = le;
  } else {
    p->tensor_content.data = t->data;
  }
  p->tensor_content.len = t->nbytes;
  return p;
oom:
  KN_OOM(s);
  return NULL;
}

kiln_tensor *kn_tensor_parse_proto(const void *data, size_t len,
                                   kiln_status *s) {
  Tensorflow__TensorProto *p =
      kn_proto_unpack(&tensorflow__tensor_proto__descriptor, data, len, s);
  if (!p) return NULL;
  kiln_tensor *t = kn_tensor_from_proto(p, s);
  tensorflow__tensor_proto__free_unpacked(p, NULL);
  if (t) kiln_status_reset(s);
  return t;
}

kiln_buffer *kn_tensor_serialize_proto(const kiln_tensor *t, kiln_status *s) {
  kn_arena *a = kn_arena_new();
  return pack_and_free(a, a ? kn_tensor_to_proto(a, t, s) : NULL, s);
}

/* ------------------------------------------------------------- attrs */

static kiln_code attr_oom(kiln_status *s, kn_attr_value *v) {
  kn_attr_value_clear(v);
  return KN_OOM(s);
}

static kiln_code func_from_proto(const Tensorflow__NameAttrList *p,
                                 kn_func *out, kiln_status *s) {
  size_t n = protobuf_c_message_get_packed_size(&p->base);
  out->name = strdup(p->name ? p->name : "");
  out->proto = malloc(n ? n : 1);
  if (!out->name || !out->proto) {
    free(out->name);
    free(out->proto);
    out->name = NULL;
    out->proto = NULL;
    return KN_OOM(s);
  }
  out->proto_len = protobuf_c_message_pack(&p->base, out->proto);
  return KILN_OK;
}

static kiln_code type_from_proto(int t, kiln_dtype *out, kiln_status *s) {
  if (!valid_dtype(t))
    return kn_errorf(s, KILN_INVALID_ARGUMENT,
                     "AttrValue holds %s DataType %d",
                     t == 0 ? "the invalid" : "an unknown", t);
  *out = (kiln_dtype)t;
  return KILN_OK;
}

/* The one field of a ListValue that holds values: its kind and count.
** Several non-empty fields are an error. */
static kiln_code list_kind(const Tensorflow__AttrValue__ListValue *l,
                           kiln_attr_type *kind, size_t *count,
                           kiln_status *s) {
  struct { const char *name; size_t n; kiln_attr_type kind; } f[] = {
    {"s", l->n_s, KILN_ATTR_STRING},      {"i", l->n_i, KILN_ATTR_INT},
    {"f", l->n_f, KILN_ATTR_FLOAT},       {"b", l->n_b, KILN_ATTR_BOOL},
    {"type", l->n_type, KILN_ATTR_TYPE},  {"shape", l->n_shape, KILN_ATTR_SHAPE},
    {"tensor", l->n_tensor, KILN_ATTR_TENSOR},
    {"func", l->n_func, KILN_ATTR_FUNC},
  };
  int found = -1;
  for (int i = 0; i < (int)(sizeof f / sizeof f[0]); i++) {
    if (f[i].n == 0) continue;
    if (found >= 0)
      return kn_errorf(s, KILN_INVALID_ARGUMENT,
                       "AttrValue list holds values of two kinds: %zu in %s "
                       "and %zu in %s", f[found].n, f[found].name, f[i].n,
                       f[i].name);
    found = i;
  }
  *kind = found >= 0 ? f[found].kind : KILN_ATTR_STRING;
  *count = found >= 0 ? f[found].n : 0;
  return KILN_OK;
}

static kiln_code list_from_proto(const Tensorflow__AttrValue__ListValue *l,
                                 kn_attr_value *out, kiln_status *s) {
  kiln_attr_type kind = KILN_ATTR_STRING;
  size_t n = 0;
  if (list_kind(l, &kind, &n, s) != KILN_OK) return kiln_status_code(s);
  if (n > INT32_MAX)
    return kn_errorf(s, KILN_INVALID_ARGUMENT,
                     "AttrValue list of %zu values is too long", n);
  kn_attr_set_list(out, kind);
  out->list_type_unknown = (n == 0);
  for (size_t i = 0; i < n; i++) {
    kn_attr_value e;
    memset(&e, 0, sizeof e);
    kiln_code rc = KILN_OK;
    switch (kind) {
    case KILN_ATTR_STRING:
      if (!kn_attr_set_string(&e, l->s[i].data, l->s[i].len))
        return attr_oom(s, out);
      break;
    case KILN_ATTR_INT: kn_attr_set_int(&e, l->i[i]); break;
    case KILN_ATTR_FLOAT: kn_attr_set_float(&e, l->f[i]); break;
    case KILN_ATTR_BOOL: kn_attr_set_bool(&e, l->b[i] != 0); break;
    case KILN_ATTR_TYPE: {
      kiln_dtype t = KILN_INVALID_DTYPE;
      if ((rc = type_from_proto((int)l->type[i], &t, s)) != KILN_OK) break;
      kn_attr_set_type(&e, t);
      break;
    }
    case KILN_ATTR_SHAPE: {
      kn_shape sh;
      if ((rc = kn_shape_from_proto(l->shape[i], &sh, s)) != KILN_OK) break;
      if (!kn_attr_set_shape(&e, &sh)) return attr_oom(s, out);
      break;
    }
    case KILN_ATTR_TENSOR: {
      kiln_tensor *t = kn_tensor_from_proto(l->tensor[i], s);
      if (!t) {
        rc = kiln_status_code(s);
        break;
      }
      e.type = KILN_ATTR_TENSOR;
      e.v.tensor = t;
      break;
    }
    case KILN_ATTR_FUNC:
      e.type = KILN_ATTR_FUNC;
      rc = func_from_proto(l->func[i], &e.v.func, s);
      break;
    default:
      break;
    }
    if (rc != KILN_OK) {
      kn_status_prefix(s, "list element %zu: ", i);
      kn_attr_value_clear(&e);
      kn_attr_value_clear(out);
      return rc;
    }
    bool ok = kn_attr_list_push(out, &e);
    kn_attr_value_clear(&e);
    if (!ok) return attr_oom(s, out);
  }
  return KILN_OK;
}

kiln_code kn_attr_from_proto(const Tensorflow__AttrValue *p,
                             kn_attr_value *out, kiln_status *s) {
  memset(out, 0, sizeof *out);
  switch (p->value_case) {
  case TENSORFLOW__ATTR_VALUE__VALUE_S:
    if (!kn_attr_set_string(out, p->s.data, p->s.len)) return attr_oom(s, out);
    return KILN_OK;
  case TENSORFLOW__ATTR_VALUE__VALUE_I:
    kn_attr_set_int(out, p->i);
    return KILN_OK;
  case TENSORFLOW__ATTR_VALUE__VALUE_F:
    kn_attr_set_float(out, p->f);
    return KILN_OK;
  case TENSORFLOW__ATTR_VALUE__VALUE_B:
    kn_attr_set_bool(out, p->b != 0);
    return KILN_OK;
  case TENSORFLOW__ATTR_VALUE__VALUE_TYPE: {
    kiln_dtype t = KILN_INVALID_DTYPE;
    if (type_from_proto((int)p->type, &t, s) != KILN_OK) return kiln_status_code(s);
    kn_attr_set_type(out, t);
    return KILN_OK;
  }
  case TENSORFLOW__ATTR_VALUE__VALUE_SHAPE: {
    kn_shape sh;
    if (kn_shape_from_proto(p->shape, &sh, s) != KILN_OK) return kiln_status_code(s);
    if (!kn_attr_set_shape(out, &sh)) return attr_oom(s, out);
    return KILN_OK;
  }
  case TENSORFLOW__ATTR_VALUE__VALUE_TENSOR: {
    kiln_tensor *t = kn_tensor_from_proto(p->tensor, s);
    if (!t) return kiln_status_code(s);
    out->type = KILN_ATTR_TENSOR;
    out->v.tensor = t;
    return KILN_OK;
  }
  case TENSORFLOW__ATTR_VALUE__VALUE_LIST:
    return list_from_proto(p->list, out, s);
  case TENSORFLOW__ATTR_VALUE__VALUE_FUNC:
    out->type = KILN_ATTR_FUNC;
    return func_from_proto(p->func, &out->v.func, s);
  case TENSORFLOW__ATTR_VALUE__VALUE_PLACEHOLDER:
    if (!kn_attr_set_string(out, p->placeholder, strlen(p->placeholder)))
      return attr_oom(s, out);
    out->type = KILN_ATTR_PLACEHOLDER;
    return KILN_OK;
  default:
    return kn_errorf(s, KILN_INVALID_ARGUMENT, "AttrValue has no value set");
  }
}

static Tensorflow__NameAttrList *func_to_proto(kn_arena *a, const kn_func *f) {
  if (f->proto) {
    ProtobufCAllocator al;
    kn_arena_allocator(a, &al);
    return tensorflow__name_attr_list__unpack(&al, f->proto_len, f->proto);
  }
  Tensorflow__NameAttrList *p = kn_arena_alloc(a, sizeof *p);
  if (!p) return NULL;
  tensorflow__name_attr_list__init(p);
  p->name = f->name ? f->name : (char *)"";
  return p;
}

static bool list_to_proto(kn_arena *a, const kn_attr_value *v,
                          Tensorflow__AttrValue__ListValue *l,
                          kiln_status *s) {
  size_t n = (size_t)(v->list.n > 0 ? v->list.n : 0);
  if (n == 0 || v->list_type_unknown) return true;
  switch (v->type) {
  case KILN_ATTR_STRING:
  case KILN_ATTR_PLACEHOLDER:
    if (!(l->s = arena_array(a, n, sizeof *l->s))) return false;
    for (size_t i = 0; i < n; i++) {
      l->s[i].data = (uint8_t *)(v->list.v.s[i].data ? v->list.v.s[i].data : "");
      l->s[i].len = v->list.v.s[i].len;
    }
    l->n_s = n;
    return true;
  case KILN_ATTR_INT:
    l->i = v->list.v.i;
    l->n_i = n;
    return true;
  case KILN_ATTR_FLOAT:
    l->f = v->list.v.f;
    l->n_f = n;
    return true;
  case KILN_ATTR_BOOL:
    if (!(l->b = arena_array(a, n, sizeof *l->b))) return false;
    for (size_t i = 0; i < n; i++) l->b[i] = v->list.v.b[i];
    l->n_b = n;
    return true;
  case KILN_ATTR_TYPE:
    if (!(l->type = arena_array(a, n, sizeof *l->type))) return false;
    for (size_t i = 0; i < n; i++) l->type[i] = (Tensorflow__DataType)v->list.v.t[i];
    l->n_type = n;
    return true;
  case KILN_ATTR_SHAPE:
    if (!(l->shape = arena_array(a, n, sizeof *l->shape))) return false;
    for (size_t i = 0; i < n; i++) {
      const kn_shape *sh = &v->list.v.shape[i];
      if (!(l->shape[i] = shape_to_proto(a, sh->dims, sh->ndims))) return false;
    }
    l->n_shape = n;
    return true;
  case KILN_ATTR_TENSOR:
    if (!(l->tensor = arena_array(a, n, sizeof *l->tensor))) return false;
    for (size_t i = 0; i < n; i++)
      if (!(l->tensor[i] = kn_tensor_to_proto(a, v->list.v.tensor[i], s)))
        return false;
    l->n_tensor = n;
    return true;
  case KILN_ATTR_FUNC:
    if (!(l->func = arena_array(a, n, sizeof *l->func))) return false;
    for (size_t i = 0; i < n; i++)
      if (!(l->func[i] = func_to_proto(a, &v->list.v.func[i]))) return false;
    l->n_func = n;
    return true;
  }
  return true;
}

Tensorflow__AttrValue *kn_attr_to_proto(kn_arena *a, const kn_attr_value *v,
                                        kiln_status *s) {
  Tensorflow__AttrValue *p = kn_arena_alloc(a, sizeof *p);
  if (!p) goto oom;
  tensorflow__attr_value__init(p);
  if (v->is_list) {
    Tensorflow__AttrValue__ListValue *l = kn_arena_alloc(a, sizeof *l);
    if (!l) goto oom;
    tensorflow__attr_value__list_value__init(l);
    if (!list_to_proto(a, v, l, s)) goto oom;
    p->value_case = TENSORFLOW__ATTR_VALUE__VALUE_LIST;
    p->list = l;
    return p;
  }
  switch (v->type) {
  case KILN_ATTR_STRING:
    p->value_case = TENSORFLOW__ATTR_VALUE__VALUE_S;
    p->s.data = (uint8_t *)(v->v.s.data ? v->v.s.data : "");
    p->s.len = v->v.s.len;
    break;
  case KILN_ATTR_INT:
    p->value_case = TENSORFLOW__ATTR_VALUE__VALUE_I;
    p->i = v->v.i;
    break;
  case KILN_ATTR_FLOAT:
    p->value_case = TENSORFLOW__ATTR_VALUE__VALUE_F;
    p->f = v->v.f;
    break;
  case KILN_ATTR_BOOL:
    p->value_case = TENSORFLOW__ATTR_VALUE__VALUE_B;
    p->b = v->v.b;
    break;
  case KILN_ATTR_TYPE:
    p->value_case = TENSORFLOW__ATTR_VALUE__VALUE_TYPE;
    p->type = (Tensorflow__DataType)v->v.t;
    break;
  case KILN_ATTR_SHAPE: {
    const kn_shape *sh = v->v.shape;
    p->value_case = TENSORFLOW__ATTR_VALUE__VALUE_SHAPE;
    p->shape = sh ? shape_to_proto(a, sh->dims, sh->ndims)
                  : shape_to_proto(a, NULL, -1);
    if (!p->shape) goto oom;
    break;
  }
  case KILN_ATTR_TENSOR:
    p->value_case = TENSORFLOW__ATTR_VALUE__VALUE_TENSOR;
    if (!(p->tensor = kn_tensor_to_proto(a, v->v.tensor, s))) return NULL;
    break;
  case KILN_ATTR_PLACEHOLDER:
    p->value_case = TENSORFLOW__ATTR_VALUE__VALUE_PLACEHOLDER;
    p->placeholder = v->v.s.data ? v->v.s.data : (char *)"";
    break;
  case KILN_ATTR_FUNC:
    p->value_case = TENSORFLOW__ATTR_VALUE__VALUE_FUNC;
    if (!(p->func = func_to_proto(a, &v->v.func))) goto oom;
    break;
  }
  return p;
oom:
  if (kn_ok(s)) KN_OOM(s);
  return NULL;
}

kiln_code kn_attr_value_parse(const void *data, size_t len, kn_attr_value *out,
                              kiln_status *s) {
  memset(out, 0, sizeof *out);
  Tensorflow__AttrValue *p =
      kn_proto_unpack(&tensorflow__attr_value__descriptor, data, len, s);
  if (!p) return kiln_status_code(s);
  kiln_code rc = kn_attr_from_proto(p, out, s);
  tensorflow__attr_value__free_unpacked(p, NULL);
  if (rc == KILN_OK) kiln_status_reset(s);
  return rc;
}

kiln_buffer *kn_attr_value_serialize(const kn_attr_value *v, kiln_status *s) {
  kn_arena *a = kn_arena_new();
  return pack_and_free(a, a ? kn_attr_to_proto(a, v, s) : NULL, s);
}

/* ------------------------------------------------------------- nodes */

/* "name" for output 0, "name:i" otherwise, "^name" for a control input. */
static char *input_name(kn_arena *a, const char *name, int index, bool ctrl) {
  size_t n = strlen(name);
  char *p = kn_arena_alloc(a, n + 16);
  if (!p) return NULL;
  if (ctrl) {
    p[0] = '^';
    memcpy(p + 1, name, n + 1);
  } else {
    memcpy(p, name, n + 1);
    if (index != 0) snprintf(p + n, 16, ":%d", index);
  }
  return p;
}

Tensorflow__NodeDef *kn_node_def_to_proto(kn_arena *a, const kiln_op *op,
                                          kiln_status *s) {
  Tensorflow__NodeDef *p = kn_arena_alloc(a, sizeof *p);
  if (!p) goto oom;
  tensorflow__node_def__init(p);
  p->name = op->name;
  p->op = op->type;
  if (op->device && *op->device) p->device = op->device;
  size_t nin = (size_t)op->ninputs + (size_t)op->ncontrol;
  if (nin) {
    if (!(p->input = arena_array(a, nin, sizeof *p->input))) goto oom;
    for (int i = 0; i < op->ninputs; i++) {
      const kiln_output *in = &op->inputs[i];
      const char *src = in->op && in->op != KN_BACK_EDGE_OP ? in->op->name : "";
      if (!(p->input[i] = input_name(a, src, in->index, false))) goto oom;
    }
    for (int i = 0; i < op->ncontrol; i++)
      if (!(p->input[op->ninputs + i] =
                input_name(a, op->control[i]->name, 0, true)))
        goto oom;
    p->n_input = nin;
  }
  if (op->attrs.n > 0) {
    size_t n = (size_t)op->attrs.n;
    Tensorflow__NodeDef__AttrEntry *e = arena_array(a, n, sizeof *e);
    if (!e || !(p->attr = arena_array(a, n, sizeof *p->attr))) goto oom;
    for (size_t i = 0; i < n; i++) {
      tensorflow__node_def__attr_entry__init(&e[i]);
      e[i].key = op->attrs.items[i].name;
      e[i].value = kn_attr_to_proto(a, &op->attrs.items[i].value, s);
      if (!e[i].value) return NULL;
      p->attr[i] = &e[i];
    }
    p->n_attr = n;
  }
  return p;
oom:
  KN_OOM(s);
  return NULL;
}

kiln_buffer *kn_node_def_serialize(const kiln_op *op, kiln_status *s) {
  kn_arena *a = kn_arena_new();
  return pack_and_free(a, a ? kn_node_def_to_proto(a, op, s) : NULL, s);
}
