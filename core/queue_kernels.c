/*
** The queue ops: FIFOQueueV2 makes (or finds) a queue and outputs its
** handle; QueueEnqueue[Many]V2, QueueDequeue[Many]V2, QueueCloseV2 and
** QueueSizeV2 act on the queue behind a handle. Enqueue copies what it is
** given (a fed tensor stays its caller's to write); the many-forms split
** and stack along the first dimension.
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "attr.h"
#include "core_kernels.h"
#include "graph_internal.h"
#include "kernel_registry.h"
#include "queue.h"
#include "session_internal.h"
#include "status_internal.h"
#include "tensor_internal.h"

static const kn_attr_value *attr(kiln_kernel_construct *c, const char *name) {
  return kn_attr_map_get((const kn_attr_map *)kn_kcc_attrs(c), name);
}

/* ----------------------------------------------------------- FIFOQueueV2 */

typedef struct fifo_kernel {
  kn_queue_spec spec;
  kiln_dtype *types;
  kn_shape *shapes;
  char *container, *name;
} fifo_kernel;

static void fifo_destroy(void *p) {
  fifo_kernel *k = p;
  if (!k) return;
  free(k->types);
  free(k->shapes);
  free(k->container);
  free(k->name);
  free(k);
}

static void *fifo_create(kiln_kernel_construct *c) {
  fifo_kernel *k = calloc(1, sizeof *k);
  const kn_attr_value *ct = attr(c, "component_types"), *sh = attr(c, "shapes"),
                      *cap = attr(c, "capacity");
  int nt = ct ? ct->list.n : 0, ns = sh ? sh->list.n : 0;
  if (!k || !(k->types = malloc(((size_t)nt + 1) * sizeof *k->types)) ||
      !(k->shapes = malloc(((size_t)ns + 1) * sizeof *k->shapes))) {
    fifo_destroy(k);
    kn_kcc_fail(c, KILN_RESOURCE_EXHAUSTED, "out of memory");
    return NULL;
  }
  for (int i = 0; i < nt; i++) k->types[i] = ct->list.v.t[i];
  for (int i = 0; i < ns; i++) k->shapes[i] = sh->list.v.shape[i];
  if (ns && ns != nt) {
    char msg[160];
    snprintf(msg, sizeof msg, "shapes has %d entries but component_types has %d: "
             "give one shape per component, or none", ns, nt);
    fifo_destroy(k);
    kn_kcc_fail(c, KILN_INVALID_ARGUMENT, msg);
    return NULL;
  }
  k->spec = (kn_queue_spec){nt, k->types, ns, k->shapes, cap ? cap->v.i : -1};
  if (k->spec.capacity == 0 || k->spec.capacity < -1) {
    fifo_destroy(k);
    kn_kcc_fail(c, KILN_INVALID_ARGUMENT,
                "capacity must be positive, or -1 for an unbounded queue");
    return NULL;
  }
  if (!kn_resource_names(c, &k->container, &k->name)) {
    fifo_destroy(k);
    return NULL;
  }
  return k;
}

static kiln_code fifo_check(kn_resource *r, void *arg, kiln_status *st) {
  return kn_queue_check((kn_queue *)r, arg, st);
}

static void fifo_compute(void *p, kiln_kernel_context *c) {
  fifo_kernel *k = p;
  kn_kc_output_resource(c, k->container, k->name, &kn_queue_kind, kn_queue_new,
                        fifo_check, &k->spec, KILN_RESOURCE, false);
}

kn_queue *kn_queue_input(kiln_kernel_context *c, int i, const char *arg) {
  kn_resource *r = kn_tensor_resource(kn_kc_input_tensor(c, i));
  if (!r || r->kind != &kn_queue_kind) {
    kn_kc_failf(c, KILN_INVALID_ARGUMENT,
                r ? "%s is a handle to a resource that is not a queue"
                  : "%s is not a queue handle (a DT_RESOURCE tensor made by "
                    "FIFOQueueV2)", arg);
    return NULL;
  }
  return (kn_queue *)r;
}

static kn_queue *queue_of(kiln_kernel_context *c) { return kn_queue_input(c, 0, "input 0"); }

/* --------------------------------------------------------------- enqueue */

/* Checks component i of an element against the queue's spec. */
static bool check_component(kiln_kernel_context *c, const kn_queue *q, int i,
                            kiln_dtype dtype, const int64_t *dims, int ndims) {
  const kn_queue_spec *s = kn_queue_get_spec(q);
  if (dtype != s->types[i]) {
    kn_kc_failf(c, KILN_INVALID_ARGUMENT,
          "Type mismatch in tuple component %d. Expected %s, got %s", i,
          kiln_dtype_name(s->types[i]), kiln_dtype_name(dtype));
    return false;
  }
  kn_shape given = kn_shape_make(dims, ndims);
  if (s->nshapes && !kn_shape_compatible(&s->shapes[i], &given)) {
    char a[KN_SHAPE_STR_MAX], b[KN_SHAPE_STR_MAX];
    kn_kc_failf(c, KILN_INVALID_ARGUMENT,
          "Shape mismatch in tuple component %d. Expected %s, got %s", i,
          kn_shape_str(&s->shapes[i], a, sizeof a), kn_shape_str(&given, b, sizeof b));
    return false;
  }
  return true;
}

static bool check_arity(kiln_kernel_context *c, const kn_queue *q, int n) {
  if (n == kn_queue_get_spec(q)->ncomp) return true;
  kn_kc_failf(c, KILN_INVALID_ARGUMENT, "queue '%s' holds tuples of %d components, "
        "but %d were given", kn_queue_name(q), kn_queue_get_spec(q)->ncomp, n);
  return false;
}

/* Row `row` of t (along dimension 0) as a new tensor. */
static kiln_tensor *slice_row(const kiln_tensor *t, int64_t row, kiln_status *st) {
  kiln_tensor *e = kn_tensor_alloc(t->dtype, t->dims + 1, t->ndims - 1, st);
  if (!e) return NULL;
  if (t->dtype == KILN_STRING) {
    for (int64_t i = 0; i < e->nelems && kn_ok(st); i++) {
      size_t len;
      const char *s = kiln_tensor_string(t, row * e->nelems + i, &len);
      kiln_tensor_set_string(e, i, s, len, st);
    }
    if (!kn_ok(st)) {
      kiln_tensor_free(e);
      return NULL;
    }
  } else if (e->nbytes) {
    memcpy(e->data, (const char *)t->data + (size_t)row * e->nbytes, e->nbytes);
  }
  return e;
}

static void enqueue_compute(void *p, kiln_kernel_context *c) {
  bool many = p != NULL;
  kn_queue *q = queue_of(c);
  if (!q) return;
  int ncomp = kn_kc_num_inputs(c) - 1;
  if (!check_arity(c, q, ncomp)) return;
  int64_t n = 1;
  for (int i = 0; i < ncomp; i++) {
    const kiln_tensor *t = kn_kc_input_tensor(c, i + 1);
    if (many) {
      if (t->ndims < 1) {
        kn_kc_failf(c, KILN_INVALID_ARGUMENT, "EnqueueMany expects each component to "
              "have rank at least 1; component %d is a scalar", i);
        return;
      }
      if (i == 0) n = t->dims[0];
      if (t->dims[0] != n) {
        kn_kc_failf(c, KILN_INVALID_ARGUMENT,
              "EnqueueMany: all components must have the same size in the 0th "
              "dimension: component 0 has %lld, component %d has %lld",
              (long long)n, i, (long long)t->dims[0]);
        return;
      }
    }
    if (!check_component(c, q, i, t->dtype, t->dims + many, t->ndims - many)) return;
  }
  kiln_status *st = kiln_status_new();
  kiln_tensor **elems = calloc((size_t)(n ? n : 1) * (size_t)ncomp, sizeof *elems);
  bool ok = st && elems;
  for (int64_t r = 0; ok && r < n; r++)
    for (int i = 0; ok && i < ncomp; i++) {
      const kiln_tensor *t = kn_kc_input_tensor(c, i + 1);
      kiln_tensor *e = many ? slice_row(t, r, st) : kn_tensor_copy(t, st);
      ok = e != NULL;
      elems[r * ncomp + i] = e;
    }
  if (!ok) {
    for (int64_t i = 0; elems && i < n * ncomp; i++) kiln_tensor_free(elems[i]);
    free(elems);
    kn_kc_fail(c, st ? kiln_status_code(st) : KILN_RESOURCE_EXHAUSTED,
               st ? kiln_status_message(st) : "out of memory");
    kiln_status_free(st);
    return;
  }
  kiln_status_free(st);
  kn_queue_enqueue(q, elems, n, c);
}

/* --------------------------------------------------------------- dequeue */

static bool check_outputs(kiln_kernel_context *c, const kn_queue *q) {
  const kn_queue_spec *s = kn_queue_get_spec(q);
  int n = kn_kc_num_outputs(c);
  if (!check_arity(c, q, n)) return false;
  for (int i = 0; i < n; i++)
    if (kn_kc_output_dtype(c, i) != s->types[i]) {
      kn_kc_failf(c, KILN_INVALID_ARGUMENT,
            "Type mismatch in tuple component %d: queue '%s' holds %s, the op "
            "asks for %s", i, kn_queue_name(q), kiln_dtype_name(s->types[i]),
            kiln_dtype_name(kn_kc_output_dtype(c, i)));
      return false;
    }
  return true;
}

/* Stacks component i of n tuples into one tensor [n, ...]. */
static kiln_tensor *stack(kiln_kernel_context *c, const kn_queue_spec *s,
                          kiln_tensor **tuples, int64_t n, int i, kiln_status *st) {
  int64_t dims[KILN_MAX_DIMS];
  const kn_shape *want = &s->shapes[i];
  int nd = want->ndims + 1;
  if (nd > KILN_MAX_DIMS) {
    kn_errorf(st, KILN_INVALID_ARGUMENT, "component %d has too many dimensions", i);
    return NULL;
  }
  dims[0] = n;
  for (int d = 0; d < want->ndims; d++) dims[d + 1] = want->dims[d];
  if (n > 0) {
    const kiln_tensor *e0 = tuples[i];
    memcpy(dims + 1, e0->dims, (size_t)e0->ndims * sizeof *dims);
  }
  kiln_tensor *out = kn_tensor_alloc(s->types[i], dims, nd, st);
  if (!out) return NULL;
  for (int64_t r = 0; r < n; r++) {
    const kiln_tensor *e = tuples[r * s->ncomp + i];
    if (e->ndims != nd - 1 || memcmp(e->dims, dims + 1, (size_t)e->ndims * sizeof *dims)) {
      kn_errorf(st, KILN_INVALID_ARGUMENT,
                "DequeueMany: element %lld of component %d has another shape "
                "than element 0", (long long)r, i);
      kiln_tensor_free(out);
      return NULL;
    }
    if (out->dtype == KILN_STRING) {
      for (int64_t j = 0; j < e->nelems && kn_ok(st); j++) {
        size_t len;
        const char *str = kiln_tensor_string(e, j, &len);
        kiln_tensor_set_string(out, r * e->nelems + j, str, len, st);
      }
      if (!kn_ok(st)) {
        kiln_tensor_free(out);
        return NULL;
      }
    } else if (e->nbytes) {
      memcpy((char *)out->data + (size_t)r * e->nbytes, e->data, e->nbytes);
    }
  }
  (void)c;
  return out;
}

/* Hands dequeued tuples to the node (queue.h's kn_queue_deliver). */
static void deliver(kiln_kernel_context *c, kiln_tensor **tuples, int64_t n, bool many) {
  kn_queue *q = queue_of(c);
  const kn_queue_spec *s = kn_queue_get_spec(q);
  if (!many) {
    for (int i = 0; i < s->ncomp; i++) kn_kc_set_output_tensor(c, i, tuples[i]);
    return;
  }
  kiln_status *st = kiln_status_new();
  for (int i = 0; i < s->ncomp && st && kn_ok(st); i++) {
    kiln_tensor *t = stack(c, s, tuples, n, i, st);
    if (t) kn_kc_set_output_tensor(c, i, t);
  }
  for (int64_t j = 0; j < n * s->ncomp; j++) kiln_tensor_free(tuples[j]);
  if (!st || !kn_ok(st))
    kn_kc_fail(c, st ? kiln_status_code(st) : KILN_RESOURCE_EXHAUSTED,
               st ? kiln_status_message(st) : "out of memory");
  kiln_status_free(st);
}

static void dequeue_compute(void *p, kiln_kernel_context *c) {
  bool many = p != NULL;
  kn_queue *q = queue_of(c);
  if (!q || !check_outputs(c, q)) return;
  int64_t n = 1;
  if (many) {
    const kiln_tensor *nt = kn_kc_input_tensor(c, 1);
    n = *(const int32_t *)nt->data;
    if (nt->ndims != 0) {
      kn_kc_failf(c, KILN_INVALID_ARGUMENT, "n must be a scalar, not rank %d", nt->ndims);
      return;
    }
    if (n < 0) {
      kn_kc_failf(c, KILN_INVALID_ARGUMENT, "DequeueManyOp requested %lld < 0 elements",
            (long long)n);
      return;
    }
    if (kn_queue_get_spec(q)->nshapes == 0) {
      kn_kc_failf(c, KILN_INVALID_ARGUMENT,
            "FIFOQueue's DequeueMany and DequeueUpTo require the components to "
            "have specified shapes.");
      return;
    }
  }
  kn_queue_dequeue(q, n, many, deliver, c);
}

/* --------------------------------------------------------- close, size */

/* A kernel state that only says "yes" (never freed or read). */
static const char marker;

static void *close_create(kiln_kernel_construct *c) {
  const kn_attr_value *v = attr(c, "cancel_pending_enqueues");
  /* The flag itself is the state: NULL (false) or a non-NULL marker. */
  return v && v->v.b ? (void *)&marker : NULL;
}

static void close_compute(void *p, kiln_kernel_context *c) {
  kn_queue *q = queue_of(c);
  if (q) kn_queue_close(q, p != NULL);
}

static void size_compute(void *p, kiln_kernel_context *c) {
  (void)p;
  kn_queue *q = queue_of(c);
  if (!q) return;
  const kiln_tensor_view *v = kn_kc_allocate_output(c, 0, NULL, 0);
  if (v) *(int32_t *)v->data = (int32_t)kn_queue_size(q);
}

/* The many-forms share the kernels; a non-NULL state says "many". */
static void *many_create(kiln_kernel_construct *c) {
  (void)c;
  return (void *)&marker;
}

const kn_core_kernel kn_queue_kernels[] = {
    {"FIFOQueueV2", fifo_create, fifo_compute, fifo_destroy, 0},
    {"QueueEnqueueV2", NULL, enqueue_compute, NULL, KN_KERNEL_ASYNC},
    {"QueueEnqueueManyV2", many_create, enqueue_compute, NULL, KN_KERNEL_ASYNC},
    {"QueueDequeueV2", NULL, dequeue_compute, NULL, KN_KERNEL_ASYNC},
    {"QueueDequeueManyV2", many_create, dequeue_compute, NULL, KN_KERNEL_ASYNC},
    {"QueueCloseV2", close_create, close_compute, NULL, 0},
    {"QueueSizeV2", NULL, size_compute, NULL, 0},
};
const size_t kn_queue_kernels_count = sizeof kn_queue_kernels / sizeof kn_queue_kernels[0];
