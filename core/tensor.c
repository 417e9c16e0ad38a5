/*
** Tensors and data types. A tensor is one allocation for the header and,
** for buffers Kiln owns, a separate 64-byte-aligned block, so that wrapped
** caller memory and owned memory look the same to everyone else.
**
** Host tensors are recycled. A step allocates its intermediate values and
** outputs anew each time, and the caller frees fetched values after each
** call; handing those to malloc and back costs more than a small step's
** kernels, and for large buffers each new block is fresh pages the kernel
** must fault in and zero. So buffers Kiln allocates are rounded up to a
** size class (four per power of two, at most 25% more), and when the last
** reference to such a tensor goes, header and buffer are kept whole in a
** cache, ready for the next tensor of that class; bare headers (aliases,
** wrapped memory) are kept too. A steady stream of steps then allocates
** nothing. The cache is split into shards picked by thread, each under a
** spin lock held for a few instructions, so concurrent steps do not share
** a lock or a cache line; a shard keeps at most KN_SHARD_TENSORS tensors
** and KN_SHARD_BYTES bytes, beyond which memory goes back to malloc.
** Cached memory is marked unaddressable for AddressSanitizer and valgrind,
** so a use after free is still caught until the memory is reused.
*/
#include <ctype.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "status_internal.h"
#include "tensor_internal.h"
#include "shape.h"
#include "device.h"

/* KN_POISON: no access while cached. KN_UNPOISON: usable again with
** whatever it holds (a buffer's old bytes count as uninitialised);
** KN_UNPOISON_KEPT: usable again, contents kept (a header). */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define KN_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define KN_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#define KN_UNPOISON_KEPT(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#elif defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define KN_POISON(p, n) VALGRIND_MAKE_MEM_NOACCESS((p), (n))
#define KN_UNPOISON(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define KN_UNPOISON_KEPT(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))
#endif
#endif
#ifndef KN_POISON
#define KN_POISON(p, n) ((void)(p), (void)(n))
#define KN_UNPOISON(p, n) ((void)(p), (void)(n))
#define KN_UNPOISON_KEPT(p, n) ((void)(p), (void)(n))
#endif

static const struct {
  const char *name;
  size_t size;
} dtypes[] = {
  [KILN_FLOAT] = {"float", 4},       [KILN_DOUBLE] = {"double", 8},
  [KILN_INT32] = {"int32", 4},       [KILN_UINT8] = {"uint8", 1},
  [KILN_INT16] = {"int16", 2},       [KILN_INT8] = {"int8", 1},
  [KILN_STRING] = {"string", 0},     [KILN_COMPLEX64] = {"complex64", 8},
  [KILN_INT64] = {"int64", 8},       [KILN_BOOL] = {"bool", 1},
  [KILN_QINT8] = {"qint8", 1},       [KILN_QUINT8] = {"quint8", 1},
  [KILN_QINT32] = {"qint32", 4},     [KILN_BFLOAT16] = {"bfloat16", 2},
  [KILN_QINT16] = {"qint16", 2},     [KILN_QUINT16] = {"quint16", 2},
  [KILN_UINT16] = {"uint16", 2},     [KILN_COMPLEX128] = {"complex128", 16},
  [KILN_HALF] = {"half", 2},         [KILN_RESOURCE] = {"resource", 0},
  [KILN_VARIANT] = {"variant", 0},   [KILN_UINT32] = {"uint32", 4},
  [KILN_UINT64] = {"uint64", 8},
};
#define NDTYPES ((int)(sizeof dtypes / sizeof dtypes[0]))

static const char *const ref_names[NDTYPES] = {
  [KILN_FLOAT] = "float_ref",       [KILN_DOUBLE] = "double_ref",
  [KILN_INT32] = "int32_ref",       [KILN_UINT8] = "uint8_ref",
  [KILN_INT16] = "int16_ref",       [KILN_INT8] = "int8_ref",
  [KILN_STRING] = "string_ref",     [KILN_COMPLEX64] = "complex64_ref",
  [KILN_INT64] = "int64_ref",       [KILN_BOOL] = "bool_ref",
  [KILN_QINT8] = "qint8_ref",       [KILN_QUINT8] = "quint8_ref",
  [KILN_QINT32] = "qint32_ref",     [KILN_BFLOAT16] = "bfloat16_ref",
  [KILN_QINT16] = "qint16_ref",     [KILN_QUINT16] = "quint16_ref",
  [KILN_UINT16] = "uint16_ref",     [KILN_COMPLEX128] = "complex128_ref",
  [KILN_HALF] = "half_ref",         [KILN_RESOURCE] = "resource_ref",
  [KILN_VARIANT] = "variant_ref",   [KILN_UINT32] = "uint32_ref",
  [KILN_UINT64] = "uint64_ref",
};

KILN_API const char *kiln_dtype_name(kiln_dtype t) {
  int i = (int)t;
  if (i > 0 && i < NDTYPES) return dtypes[i].name;
  if (i > KILN_REF_OFFSET && i - KILN_REF_OFFSET < NDTYPES)
    return ref_names[i - KILN_REF_OFFSET];
  return NULL;
}

KILN_API kiln_dtype kiln_dtype_from_name(const char *name) {
  static const struct { const char *alias; kiln_dtype t; } aliases[] = {
    {"float32", KILN_FLOAT}, {"float64", KILN_DOUBLE}, {"float16", KILN_HALF},
  };
  if (!name) return KILN_INVALID_DTYPE;
  char buf[32];
  size_t n = strlen(name);
  if (n >= sizeof buf) return KILN_INVALID_DTYPE;
  /* "DT_FLOAT" and "DT_FLOAT_REF" are the enum spellings of "float(_ref)". */
  if (n > 3 && strncmp(name, "DT_", 3) == 0) {
    for (size_t i = 3; i <= n; i++) buf[i - 3] = (char)tolower((unsigned char)name[i]);
  } else {
    memcpy(buf, name, n + 1);
  }
  for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
    if (strcmp(buf, aliases[i].alias) == 0) return aliases[i].t;
  for (int i = 1; i < NDTYPES; i++) {
    if (strcmp(buf, dtypes[i].name) == 0) return (kiln_dtype)i;
    if (strcmp(buf, ref_names[i]) == 0) return (kiln_dtype)(i + KILN_REF_OFFSET);
  }
  return KILN_INVALID_DTYPE;
}

KILN_API size_t kiln_dtype_size(kiln_dtype t) {
  int i = (int)t;
  return i > 0 && i < NDTYPES ? dtypes[i].size : 0;
}

void *kn_aligned_alloc(size_t nbytes) {
  void *p = NULL;
  if (posix_memalign(&p, 64, nbytes ? nbytes : 64) != 0) return NULL;
  return p;
}

void kn_aligned_free(void *p) { free(p); }

/* ------------------------------------------------------ recycling cache */

#define KN_SHARDS 8
#define KN_SHARD_TENSORS 32
#define KN_SHARD_HEADERS 32
#define KN_SHARD_BYTES ((size_t)128 << 20)

/* Headers take whole cache lines: a tensor that threads only read (a feed
** shared by concurrent calls) then never shares a line with one a thread
** writes (its step's values), which would bounce the line between cores. */
#define HEADER_BYTES ((sizeof(kiln_tensor) + 63) / 64 * 64)


unsigned kn_thread_index(void) {
  static atomic_uint next;
  static _Thread_local unsigned mine;
  if (!mine) mine = atomic_fetch_add_explicit(&next, 1, memory_order_relaxed) + 1;
  return mine;
}

/* Buffer bytes for a request of n: 64 for small ones, else n rounded up
** to a quarter of its power of two (and to 64). Past 2^62, n itself. */
static size_t size_class(size_t n) {
  if (n <= 64) return 64;
  if (n > ((size_t)1 << 62)) return n;
  size_t pow = (size_t)1 << (63 - __builtin_clzll((unsigned long long)(n - 1)));
  size_t step = pow / 4 > 64 ? pow / 4 : 64;
  return (n + step - 1) / step * step;
}

typedef struct cached {
  kiln_tensor *t;
  size_t cap;               /* kept here: the cached header is poisoned */
} cached;

typedef struct shard {
  _Alignas(64) atomic_bool busy;
  int ntensors, nheaders;
  size_t bytes;
  cached tensors[KN_SHARD_TENSORS];
  kiln_tensor *headers[KN_SHARD_HEADERS];
} shard;

static shard shards[KN_SHARDS];
static atomic_bool cache_closed; /* at exit: memory goes straight back */

static shard *lock_shard(void) {
  shard *sh = &shards[kn_thread_index() % KN_SHARDS];
  while (atomic_exchange_explicit(&sh->busy, true, memory_order_acquire))
    while (atomic_load_explicit(&sh->busy, memory_order_relaxed)) sched_yield();
  return sh;
}

static void unlock_shard(shard *sh) {
  atomic_store_explicit(&sh->busy, false, memory_order_release);
}

/* A cached tensor whose buffer has `cap` bytes, or NULL. */
static kiln_tensor *take_tensor(size_t cap) {
  kiln_tensor *t = NULL;
  shard *sh = lock_shard();
  for (int i = sh->ntensors - 1; i >= 0; i--)
    if (sh->tensors[i].cap == cap) {
      t = sh->tensors[i].t;
      sh->tensors[i] = sh->tensors[--sh->ntensors];
      sh->bytes -= cap;
      break;
    }
  unlock_shard(sh);
  if (t) {
    KN_UNPOISON_KEPT(t, HEADER_BYTES);
    KN_UNPOISON(t->data, cap);
  }
  return t;
}

static kiln_tensor *take_header(void) {
  kiln_tensor *t = NULL;
  shard *sh = lock_shard();
  if (sh->nheaders > 0) t = sh->headers[--sh->nheaders];
  unlock_shard(sh);
  if (t) KN_UNPOISON_KEPT(t, HEADER_BYTES);
  return t;
}

/* Keeps t (its header, and its buffer when t->cap) for reuse; false when
** the shard is full. */
static bool give(kiln_tensor *t) {
  if (atomic_load_explicit(&cache_closed, memory_order_relaxed)) return false;
  size_t cap = t->cap;
  void *data = t->data;
  bool kept = false;
  shard *sh = lock_shard();
  if (cap && sh->ntensors < KN_SHARD_TENSORS && cap <= KN_SHARD_BYTES - sh->bytes) {
    sh->tensors[sh->ntensors++] = (cached){t, cap};
    sh->bytes += cap;
    kept = true;
  } else if (!cap && sh->nheaders < KN_SHARD_HEADERS) {
    sh->headers[sh->nheaders++] = t;
    kept = true;
  }
  unlock_shard(sh);
  if (kept) {
    if (cap) KN_POISON(data, cap);
    KN_POISON(t, HEADER_BYTES);
  }
  return kept;
}

void kn_tensor_cache_trim(void) {
  for (int i = 0; i < KN_SHARDS; i++) {
    shard *sh = &shards[i];
    while (atomic_exchange_explicit(&sh->busy, true, memory_order_acquire))
      sched_yield();
    for (int k = 0; k < sh->ntensors; k++) {
      kiln_tensor *t = sh->tensors[k].t;
      KN_UNPOISON_KEPT(t, HEADER_BYTES);
      KN_UNPOISON(t->data, sh->tensors[k].cap);
      kn_aligned_free(t->data);
      kn_aligned_free(t);
    }
    for (int k = 0; k < sh->nheaders; k++) {
      KN_UNPOISON_KEPT(sh->headers[k], HEADER_BYTES);
      free(sh->headers[k]);
    }
    sh->ntensors = sh->nheaders = 0;
    sh->bytes = 0;
    unlock_shard(sh);
  }
}

/* At exit the cache is emptied and closed, so that leak checkers see every
** block returned and late frees bypass it. */
#if defined(__GNUC__)
__attribute__((destructor))
#endif
static void cache_close(void) {
  atomic_store(&cache_closed, true);
  kn_tensor_cache_trim();
}

kiln_code kn_tensor_size(kiln_dtype dtype, const int64_t *dims, int ndims,
                         int64_t *nelems, size_t *nbytes, kiln_status *s) {
  size_t esize = kiln_dtype_size(dtype);
  if (dtype == KILN_STRING) esize = sizeof(kn_tstring);
  if (esize == 0)
    return kn_errorf(s, KILN_INVALID_ARGUMENT,
                     "cannot make a tensor of dtype %s (%d): %s",
                     kiln_dtype_name(dtype) ? kiln_dtype_name(dtype) : "invalid",
                     (int)dtype,
                     kiln_dtype_name(dtype) ? "its elements are not plain data"
                                            : "no such data type");
  if (ndims < 0 || ndims > KILN_MAX_DIMS)
    return kn_errorf(s, KILN_INVALID_ARGUMENT,
                     "tensor rank %d is outside 0..%d", ndims, KILN_MAX_DIMS);
  if (ndims > 0 && !dims)
    return kn_errorf(s, KILN_INVALID_ARGUMENT,
                     "tensor of rank %d given no dimensions", ndims);
  int64_t n = 1;
  bool overflow = false;
  for (int i = 0; i < ndims; i++) {
    if (dims[i] < 0)
      return kn_errorf(s, KILN_INVALID_ARGUMENT,
                       "dimension %d of a tensor shape is negative (%lld)", i,
                       (long long)dims[i]);
    if (dims[i] != 0 && n > INT64_MAX / dims[i]) overflow = true;
    else n *= dims[i];
  }
  /* A zero dimension makes the tensor empty whatever the others are. */
  for (int i = 0; i < ndims; i++)
    if (dims[i] == 0) { n = 0; overflow = false; }
  if (overflow || (uint64_t)n > SIZE_MAX / esize) {
    char buf[KN_SHAPE_STR_MAX];
    return kn_errorf(s, KILN_INVALID_ARGUMENT,
                     "tensor of shape %s and type %s is too large: its byte "
                     "size overflows",
                     kn_dims_str(dims, ndims, buf, sizeof buf),
                     kiln_dtype_name(dtype));
  }
  *nelems = n;
  *nbytes = (size_t)n * esize;
  return KILN_OK;
}

/* Fills a header (new or recycled) with everything but the buffer. */
static void header_init(kiln_tensor *t, kiln_dtype dtype, const int64_t *dims,
                        int ndims, int64_t nelems, size_t nbytes) {
  atomic_init(&t->refs, 1);
  t->dtype = dtype;
  t->ndims = ndims;
  if (ndims) memcpy(t->dims, dims, (size_t)ndims * sizeof *dims);
  t->nelems = nelems;
  t->nbytes = nbytes;
  t->data = NULL;
  t->dealloc = NULL;
  t->dealloc_arg = NULL;
  t->dealloc_len = 0;
  t->wrapped = false;
  t->device = NULL;
  t->base = NULL;
  t->cap = 0;
  atomic_init(&t->readonly, false);
  t->resource = NULL;
  t->is_ref = false;
}

static kiln_tensor *header(kiln_dtype dtype, const int64_t *dims, int ndims,
                           int64_t nelems, size_t nbytes, kiln_status *s) {
  kiln_tensor *t = take_header();
  if (!t && !(t = kn_aligned_alloc(HEADER_BYTES))) {
    KN_OOM(s);
    return NULL;
  }
  header_init(t, dtype, dims, ndims, nelems, nbytes);
  kn_tensor_sync_view(t);
  return t;
}

void kn_tensor_sync_view(kiln_tensor *t) {
  t->view.dtype = t->dtype;
  t->view.ndims = t->ndims;
  t->view.dims = t->dims;
  t->view.num_elements = t->nelems;
  t->view.data = t->data;
  t->view.nbytes = t->nbytes;
}

kiln_tensor *kn_tensor_alias(kiln_tensor *t, const int64_t *dims, int ndims,
                             kiln_status *s) {
  int64_t nelems;
  size_t nbytes;
  if (kn_tensor_size(t->dtype, dims, ndims, &nelems, &nbytes, s) != KILN_OK)
    return NULL;
  if (nelems != t->nelems) {
    char a[KN_SHAPE_STR_MAX], b[KN_SHAPE_STR_MAX];
    kn_errorf(s, KILN_INVALID_ARGUMENT,
              "Cannot reshape a tensor with %lld elements to shape %s (%lld "
              "elements); it has shape %s", (long long)t->nelems,
              kn_dims_str(dims, ndims, a, sizeof a), (long long)nelems,
              kn_dims_str(t->dims, t->ndims, b, sizeof b));
    return NULL;
  }
  kiln_tensor *a = header(t->dtype, dims, ndims, nelems, t->nbytes, s);
  if (!a) return NULL;
  a->data = t->data;
  a->device = t->device;
  /* Point at the owner of the buffer, never at another alias. */
  a->base = kiln_tensor_ref(t->base ? t->base : t);
  kn_tensor_sync_view(a);
  kiln_status_reset(s);
  return a;
}

static kiln_tensor *alloc_tensor(kiln_dtype dtype, const int64_t *dims,
                                 int ndims, bool zero, kiln_status *s) {
  int64_t nelems;
  size_t nbytes;
  if (kn_tensor_size(dtype, dims, ndims, &nelems, &nbytes, s) != KILN_OK)
    return NULL;
  /* Strings own their elements: they are not recycled. */
  size_t cap = dtype == KILN_STRING ? 0 : size_class(nbytes);
  kiln_tensor *t = cap ? take_tensor(cap) : NULL;
  if (t) {
    void *data = t->data;
    header_init(t, dtype, dims, ndims, nelems, nbytes);
    t->data = data;
  } else {
    if (!(t = header(dtype, dims, ndims, nelems, nbytes, s))) return NULL;
    t->data = kn_aligned_alloc(cap ? cap : nbytes);
    if (!t->data) {
      char buf[KN_SHAPE_STR_MAX];
      kn_errorf(s, KILN_RESOURCE_EXHAUSTED,
                "OOM when allocating tensor with shape %s and type %s (%zu bytes)",
                kn_dims_str(dims, ndims, buf, sizeof buf), kiln_dtype_name(dtype),
                nbytes);
      kn_aligned_free(t);
      return NULL;
    }
  }
  t->cap = cap;
  if (zero || dtype == KILN_STRING) memset(t->data, 0, nbytes);
  kn_tensor_sync_view(t);
  kiln_status_reset(s);
  return t;
}

kiln_tensor *kn_tensor_alloc(kiln_dtype dtype, const int64_t *dims, int ndims,
                             kiln_status *s) {
  return alloc_tensor(dtype, dims, ndims, false, s);
}

KILN_API kiln_tensor *kiln_tensor_new(kiln_dtype dtype, const int64_t *dims,
                                      int ndims, kiln_status *status) {
  return alloc_tensor(dtype, dims, ndims, true, status);
}

KILN_API kiln_tensor *kiln_tensor_wrap(kiln_dtype dtype, const int64_t *dims,
                                       int ndims, void *data, size_t len,
                                       kiln_deallocator dealloc, void *arg,
                                       kiln_status *status) {
  if (dtype == KILN_STRING) {
    kn_errorf(status, KILN_INVALID_ARGUMENT,
              "string tensors cannot wrap caller memory: use kiln_tensor_new "
              "and kiln_tensor_set_string");
    return NULL;
  }
  int64_t nelems;
  size_t nbytes;
  if (kn_tensor_size(dtype, dims, ndims, &nelems, &nbytes, status) != KILN_OK)
    return NULL;
  char buf[KN_SHAPE_STR_MAX];
  if (len < nbytes) {
    kn_errorf(status, KILN_INVALID_ARGUMENT,
              "buffer of %zu bytes is too small for a %s tensor of shape %s "
              "(%zu bytes)", len, kiln_dtype_name(dtype),
              kn_dims_str(dims, ndims, buf, sizeof buf), nbytes);
    return NULL;
  }
  size_t esize = kiln_dtype_size(dtype);
  if (nbytes > 0 && (!data || (uintptr_t)data % esize != 0)) {
    kn_errorf(status, KILN_INVALID_ARGUMENT,
              "buffer %p is not aligned to the %zu-byte elements of %s", data,
              esize, kiln_dtype_name(dtype));
    return NULL;
  }
  kiln_tensor *t = header(dtype, dims, ndims, nelems, nbytes, status);
  if (!t) return NULL;
  t->data = data;
  t->dealloc = dealloc;
  t->dealloc_arg = arg;
  t->dealloc_len = len;
  t->wrapped = true;
  kn_tensor_sync_view(t);
  kiln_status_reset(status);
  return t;
}

kiln_tensor *kn_tensor_opaque(kiln_dtype dtype, kiln_deallocator release,
                              void *arg, kiln_status *s) {
  kiln_tensor *t = header(dtype, NULL, 0, 1, 0, s);
  if (!t) return NULL;
  t->wrapped = true;
  t->dealloc = release;
  t->dealloc_arg = arg;
  kiln_status_reset(s);
  return t;
}

KILN_API kiln_tensor *kiln_tensor_ref(kiln_tensor *t) {
  if (t) atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
  return t;
}

KILN_API void kiln_tensor_free(kiln_tensor *t) {
  if (!t) return;
  if (atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) != 1) return;
  if (t->cap) {
    /* A host buffer of a size class: kept whole for the next tensor. */
    if (!give(t)) {
      kn_aligned_free(t->data);
      kn_aligned_free(t);
    }
    return;
  }
  if (t->base) {
    kiln_tensor_free(t->base);
  } else {
    if (t->dtype == KILN_STRING) {
      kn_tstring *e = t->data;
      for (int64_t i = 0; i < t->nelems; i++) free(e[i].data);
    }
    if (t->device)
      kn_device_free(t->device, t->data);
    else if (!t->wrapped)
      kn_aligned_free(t->data);
    else if (t->dealloc)
      t->dealloc(t->data, t->dealloc_len, t->dealloc_arg);
  }
  t->cap = 0;
  if (!give(t)) kn_aligned_free(t);
}

KILN_API kiln_dtype kiln_tensor_dtype(const kiln_tensor *t) { return t->dtype; }
KILN_API int kiln_tensor_ndims(const kiln_tensor *t) { return t->ndims; }
KILN_API const int64_t *kiln_tensor_dims(const kiln_tensor *t) { return t->dims; }
KILN_API int64_t kiln_tensor_num_elements(const kiln_tensor *t) { return t->nelems; }

KILN_API int64_t kiln_tensor_dim(const kiln_tensor *t, int i) {
  return i >= 0 && i < t->ndims ? t->dims[i] : -1;
}

KILN_API size_t kiln_tensor_byte_size(const kiln_tensor *t) {
  if (t->dtype != KILN_STRING) return t->nbytes;
  const kn_tstring *e = t->data;
  size_t n = 0;
  for (int64_t i = 0; i < t->nelems; i++) n += e[i].len;
  return n;
}

KILN_API void *kiln_tensor_data(const kiln_tensor *t) {
  return t->dtype == KILN_STRING ? NULL : t->data;
}

KILN_API const char *kiln_tensor_string(const kiln_tensor *t, int64_t i,
                                        size_t *len) {
  if (len) *len = 0;
  if (!t || t->dtype != KILN_STRING || i < 0 || i >= t->nelems) return NULL;
  const kn_tstring *e = (const kn_tstring *)t->data + i;
  if (len) *len = e->len;
  return e->data ? e->data : "";
}

KILN_API void kiln_tensor_set_string(kiln_tensor *t, int64_t i,
                                     const char *data, size_t len,
                                     kiln_status *status) {
  if (!t || t->dtype != KILN_STRING) {
    kn_errorf(status, KILN_INVALID_ARGUMENT,
              "kiln_tensor_set_string on a %s tensor, not a string tensor",
              t ? kiln_dtype_name(t->dtype) : "NULL");
    return;
  }
  if (i < 0 || i >= t->nelems) {
    kn_errorf(status, KILN_INVALID_ARGUMENT,
              "string index %lld is out of range for a tensor of %lld elements",
              (long long)i, (long long)t->nelems);
    return;
  }
  if (len == SIZE_MAX || (len && !data)) {
    kn_errorf(status, KILN_INVALID_ARGUMENT,
              "string of %zu bytes given no data", len);
    return;
  }
  char *copy = NULL;
  if (len) {
    if (!(copy = malloc(len + 1))) {
      KN_OOM(status);
      return;
    }
    memcpy(copy, data, len);
    copy[len] = '\0';
  }
  kn_tstring *e = (kn_tstring *)t->data + i;
  free(e->data);
  e->data = copy;
  e->len = len;
  kiln_status_reset(status);
}

bool kn_tensor_equal(const kiln_tensor *a, const kiln_tensor *b) {
  if (a->dtype != b->dtype || a->ndims != b->ndims) return false;
  for (int i = 0; i < a->ndims; i++)
    if (a->dims[i] != b->dims[i]) return false;
  if (a->dtype != KILN_STRING)
    return a->nbytes == 0 || memcmp(a->data, b->data, a->nbytes) == 0;
  const kn_tstring *x = a->data, *y = b->data;
  for (int64_t i = 0; i < a->nelems; i++)
    if (x[i].len != y[i].len || (x[i].len && memcmp(x[i].data, y[i].data, x[i].len)))
      return false;
  return true;
}

kiln_tensor *kn_tensor_copy(const kiln_tensor *t, kiln_status *s) {
  kiln_tensor *c = alloc_tensor(t->dtype, t->dims, t->ndims, false, s);
  if (!c) return NULL;
  if (t->dtype != KILN_STRING) {
    if (t->nbytes) memcpy(c->data, t->data, t->nbytes);
    return c;
  }
  const kn_tstring *e = t->data;
  for (int64_t i = 0; i < t->nelems; i++) {
    kiln_tensor_set_string(c, i, e[i].data, e[i].len, s);
    if (!kn_ok(s)) {
      kiln_tensor_free(c);
      return NULL;
    }
  }
  return c;
}
