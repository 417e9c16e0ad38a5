/* The tensor object, for the core's own use. */
#ifndef KN_TENSOR_INTERNAL_H
#define KN_TENSOR_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <kiln/plugin.h>
#include <kiln/tensor.h>

struct kn_device;

/* Element of a DT_STRING tensor: bytes with a NUL after them (data is NULL
** for the empty string). */
typedef struct kn_tstring {
  char *data;
  size_t len;
} kn_tstring;

struct kiln_tensor {
  atomic_int refs;
  kiln_dtype dtype;
  int ndims;
  int64_t dims[KILN_MAX_DIMS];
  int64_t nelems;
  size_t nbytes;            /* buffer bytes (strings: nelems * sizeof(kn_tstring)) */
  void *data;
  /* What kernels see (plugin.h); points at the fields above. */
  kiln_tensor_view view;
  /* Where the buffer lives: NULL for host memory. */
  struct kn_device *device;
  /* A tensor sharing another's buffer (a reshape alias) holds a reference
  ** to it here and frees nothing of its own. */
  kiln_tensor *base;
  kiln_deallocator dealloc; /* caller's deallocator for wrapped memory */
  void *dealloc_arg;
  size_t dealloc_len;       /* the length the caller wrapped */
  bool wrapped;             /* data is the caller's, not Kiln's */
  /* Bytes of a host buffer Kiln allocated by size class (0 otherwise):
  ** such a tensor is recycled whole when its last reference goes. */
  size_t cap;
  /* A graph's constant that steps share by reference: never written in
  ** place, and copied when fetched (the caller may write what it gets). */
  atomic_bool readonly;
  /* A tensor standing for a resource (resource_mgr.h): a DT_RESOURCE
  ** handle, or with is_ref, a variable's reference output. It has no
  ** buffer; kernels of plugins never see it. */
  struct kn_resource *resource;
  bool is_ref;
};

/* True when t, or the tensor whose buffer it aliases, is read-only. */
static inline bool kn_tensor_readonly(const kiln_tensor *t) {
  return atomic_load_explicit(&t->readonly, memory_order_relaxed) ||
         (t->base && atomic_load_explicit(&t->base->readonly, memory_order_relaxed));
}

/* Validates dtype and shape and computes element count and buffer bytes;
** INVALID_ARGUMENT naming the problem otherwise. */
kiln_code kn_tensor_size(kiln_dtype dtype, const int64_t *dims, int ndims,
                         int64_t *nelems, size_t *nbytes, kiln_status *s);

/* Like kiln_tensor_new but leaves a numeric buffer uninitialised. */
kiln_tensor *kn_tensor_alloc(kiln_dtype dtype, const int64_t *dims, int ndims,
                             kiln_status *s);

/* A new tensor header over t's buffer with other dims of the same element
** count (t gains a reference). INVALID_ARGUMENT when the counts differ. */
kiln_tensor *kn_tensor_alias(kiln_tensor *t, const int64_t *dims, int ndims,
                             kiln_status *s);

/* A scalar header of `dtype` with no buffer, standing for an object that
** release(NULL, 0, arg) lets go of when the tensor is freed (resource
** handles and variable references, resource_mgr.h). */
kiln_tensor *kn_tensor_opaque(kiln_dtype dtype, kiln_deallocator release,
                              void *arg, kiln_status *s);
/* Refreshes t->view after the fields changed. */
void kn_tensor_sync_view(kiln_tensor *t);

/* True when both have the same dtype, shape and contents. */
bool kn_tensor_equal(const kiln_tensor *a, const kiln_tensor *b);

/* A deep copy. */
kiln_tensor *kn_tensor_copy(const kiln_tensor *t, kiln_status *s);

/* Aligned allocation used for tensor buffers (64-byte alignment). */
void *kn_aligned_alloc(size_t nbytes);
void kn_aligned_free(void *p);

/* A small number for the calling thread, fixed for its life and handed
** out in turn (1, 2, ...), so that per-thread caches can be picked without
** locks or thread-local pointers. */
unsigned kn_thread_index(void);

/* Frees every tensor kept for reuse (see tensor.c); tests and tools use it
** to return memory. Thread-safe. */
void kn_tensor_cache_trim(void);

#endif
