/*
** Running step plans. A step binds its feeds into a frame of value slots,
** runs the plan's nodes in order on the caller's thread, frees each value
** when its last reader is done (or lets that reader reuse its buffer), and
** hands the fetched values back. Frames are recycled per plan, so a steady
** stream of steps allocates no bookkeeping.
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "graph_def.h"
#include "kernel_context.h"
#include "plugin_loader.h"
#include "session_internal.h"
#include "status_internal.h"
#include "tensor_internal.h"
#include "thread_pool.h"
#include "variable.h"

struct par_step;

struct kiln_kernel_context {
  kiln_session *session;
  kn_frame *frame;
  const kn_node *node;
  kiln_tensor **inputs;
  kiln_status *st;
  struct par_step *ps;        /* the step's scheduler; NULL inline */
  int index;                  /* the node's position in the plan */
  struct kn_async *async;     /* set when the kernel went asynchronous */
  kiln_tensor **copies;       /* what was made for the inputs */
  bool trace;
  int64_t t0, m0;             /* start, for tracing */
};

/* ----------------------------------------------------------------- frames */

/* A frame is one block of whole cache lines: its counters are written
** at every node, and sharing a line with anything another thread reads
** (the plan's arrays, another thread's frame) would bounce that line
** between cores on every step. */
static size_t lines(size_t n) { return (n + 63) / 64 * 64; }

static kn_frame *frame_new(kn_plan *p, kiln_status *st) {
  int maxin = 1;
  for (int i = 0; i < p->nnodes; i++)
    if (p->nodes[i].op->ninputs > maxin) maxin = p->nodes[i].op->ninputs;
  size_t nslots = (size_t)p->nslots + 1, nnodes = (size_t)p->nnodes + 1;
  size_t at_slots = lines(sizeof(kn_frame));
  size_t at_readers = at_slots + lines(nslots * sizeof(kiln_tensor *));
  size_t at_pending = at_readers + lines(nslots * sizeof(int));
  size_t at_done = at_pending + lines(nnodes * sizeof(int));
  size_t at_inputs = at_done + lines(nnodes * sizeof(bool));
  size_t at_copies = at_inputs + lines((size_t)maxin * sizeof(kiln_tensor *));
  size_t total = at_copies + lines((size_t)maxin * sizeof(kiln_tensor *));
  char *block = kn_aligned_alloc(total);
  if (!block) {
    KN_OOM(st);
    return NULL;
  }
  memset(block, 0, total);
  kn_frame *f = (kn_frame *)block;
  f->plan = p;
  f->max_inputs = maxin;
  f->slots = (kiln_tensor **)(block + at_slots);
  f->readers = (int *)(block + at_readers);
  f->pending = (int *)(block + at_pending);
  f->done = (bool *)(block + at_done);
  f->inputs = (kiln_tensor **)(block + at_inputs);
  f->copies = (kiln_tensor **)(block + at_copies);
  return f;
}

void kn_frame_free(kn_frame *f) {
  if (!f) return;
  kn_frame_clear(f);
  free(f->new_handles);
  kn_aligned_free(f);
}

/* The calling thread's slot of the plan's frame cache. */
static kn_frame_slot *frame_slot(kn_plan *p) {
  return p->frame_slots ? &p->frame_slots[kn_thread_index() % KN_FRAME_SLOTS] : NULL;
}

kn_frame *kn_frame_get(kn_plan *p, kiln_status *st) {
  /* This thread's cached frame, else the shared list, else a new one. */
  kn_frame_slot *slot = frame_slot(p);
  kn_frame *f = slot ? atomic_exchange_explicit(&slot->frame, NULL, memory_order_acquire)
                     : NULL;
  if (!f) {
    pthread_mutex_lock(&p->frames_mu);
    f = p->free_frames;
    if (f) p->free_frames = f->next_free;
    pthread_mutex_unlock(&p->frames_mu);
  }
  if (!f && !(f = frame_new(p, st))) return NULL;
  memcpy(f->readers, p->slot_readers, (size_t)p->nslots * sizeof *f->readers);
  for (int i = 0; i < p->nnodes; i++) {
    f->pending[i] = p->nodes[i].npending;
    f->done[i] = false;
  }
  return f;
}

void kn_frame_clear(kn_frame *f) {
  for (int i = 0; i < f->plan->nslots; i++) {
    kiln_tensor_free(f->slots[i]);
    f->slots[i] = NULL;
  }
}

void kn_frame_put(kn_frame *f) {
  kn_plan *p = f->plan;
  kn_frame_clear(f);
  kn_frame_slot *slot = frame_slot(p);
  kn_frame *none = NULL;
  if (slot && atomic_compare_exchange_strong_explicit(&slot->frame, &none, f,
                                                      memory_order_release,
                                                      memory_order_relaxed))
    return;
  pthread_mutex_lock(&p->frames_mu);
  f->next_free = p->free_frames;
  p->free_frames = f;
  pthread_mutex_unlock(&p->frames_mu);
}

/* --------------------------------------------------------- memory moves */

/* Allocates a tensor in device d's memory (host memory for NULL or
** host-memory devices). */
static kiln_tensor *alloc_on(kn_device *d, kiln_dtype dtype, const int64_t *dims,
                             int ndims, kiln_status *st) {
  if (!d || d->type->def.host_memory || dtype == KILN_STRING)
    return kn_tensor_alloc(dtype, dims, ndims, st);
  int64_t nelems;
  size_t nbytes;
  if (kn_tensor_size(dtype, dims, ndims, &nelems, &nbytes, st) != KILN_OK) return NULL;
  void *mem = kn_device_alloc(d, nbytes, st);
  if (!mem) return NULL;
  /* A header built by wrapping, then marked as the device's. */
  kiln_tensor *t = kiln_tensor_wrap(dtype, dims, ndims, mem, nbytes, NULL, NULL, st);
  if (!t) {
    kn_device_free(d, mem);
    return NULL;
  }
  t->wrapped = false;
  t->device = d;
  return t;
}

static bool in_host_memory(const kiln_tensor *t) {
  return !t->device || t->device->type->def.host_memory;
}

/* A copy of t in device d's memory (NULL d: host). */
static kiln_tensor *copy_to(const kiln_tensor *t, kn_device *d, kiln_status *st) {
  kiln_tensor *c = alloc_on(d, t->dtype, t->dims, t->ndims, st);
  if (!c) return NULL;
  if (t->dtype == KILN_STRING) {
    kiln_tensor_free(c);
    c = kn_tensor_copy(t, st);
    return c;
  }
  bool src_host = in_host_memory(t), dst_host = in_host_memory(c);
  if (t->nbytes == 0) {
  } else if (src_host && dst_host) {
    memcpy(c->data, t->data, t->nbytes);
  } else if (src_host) {
    d->type->def.copy_to_device(c->device->state, c->data, t->data, t->nbytes, st);
  } else if (dst_host) {
    kn_device *from = t->device;
    if (from->type->def.synchronize) from->type->def.synchronize(from->state, st);
    if (kn_ok(st))
      from->type->def.copy_to_host(from->state, c->data, t->data, t->nbytes, st);
  } else if (t->device == c->device && d->type->def.copy_on_device) {
    d->type->def.copy_on_device(d->state, c->data, t->data, t->nbytes, st);
  } else {
    /* Between two devices: through the host. */
    kiln_tensor *h = copy_to(t, NULL, st);
    if (h) {
      d->type->def.copy_to_device(d->state, c->data, h->data, h->nbytes, st);
      kiln_tensor_free(h);
    }
  }
  if (!kn_ok(st)) {
    kiln_tensor_free(c);
    return NULL;
  }
  return c;
}

/* The caller owns what it fetches and may write it: a shared read-only
** value (a graph's constant) is handed over as a copy, as is one in device
** memory. */
kiln_tensor *kn_fetch_value(kiln_tensor *t, kiln_status *st) {
  if (t->is_ref) {
    /* A variable's reference fetches as a copy of its value. */
    kiln_tensor *v = kn_variable_read(kn_ref_variable(t), st);
    if (!v) return NULL;
    kiln_tensor *c = copy_to(v, NULL, st);
    kiln_tensor_free(v);
    return c;
  }
  if (in_host_memory(t) && !kn_tensor_readonly(t)) return kiln_tensor_ref(t);
  return copy_to(t, NULL, st);
}

/* -------------------------------------------------------- kernel context */

void *kn_kc_kernel_user(kiln_kernel_context *c) { return c->node->kernel->def.user; }
const kiln_attrs *kn_kc_attrs(kiln_kernel_context *c) {
  return (const kiln_attrs *)&c->node->op->attrs;
}
const char *kn_kc_node_name(kiln_kernel_context *c) { return c->node->op->name; }
void *kn_kc_device(kiln_kernel_context *c) { return c->node->device_state; }
int kn_kc_intra_op_threads(kiln_kernel_context *c) { return c->session->intra_op_threads; }
int kn_kc_num_inputs(kiln_kernel_context *c) { return c->node->op->ninputs; }
int kn_kc_num_outputs(kiln_kernel_context *c) { return c->node->op->noutputs; }

const kiln_tensor_view *kn_kc_input(kiln_kernel_context *c, int i) {
  if (i < 0 || i >= c->node->op->ninputs) return NULL;
  return &c->inputs[i]->view;
}

kiln_dtype kn_kc_output_dtype(kiln_kernel_context *c, int i) {
  const kiln_op *op = c->node->op;
  if (i < 0 || i >= op->noutputs) return KILN_INVALID_DTYPE;
  kiln_dtype t = op->output_types[i];
  return (int)t > KILN_REF_OFFSET ? (kiln_dtype)(t - KILN_REF_OFFSET) : t;
}

static bool failed(kiln_kernel_context *c) { return !kn_ok(c->st); }

void kn_kc_fail(kiln_kernel_context *c, kiln_code code, const char *msg) {
  if (failed(c)) return;
  kn_errorf(c->st, code == KILN_OK ? KILN_INTERNAL : code, "%s",
            msg ? msg : "kernel failed");
}

/* Stores output i, replacing (and freeing) anything a kernel set before. */
static const kiln_tensor_view *set_output(kiln_kernel_context *c, int i,
                                          kiln_tensor *t) {
  kiln_tensor **slot = &c->frame->slots[c->node->out_slot + i];
  kiln_tensor_free(*slot);
  *slot = t;
  return &t->view;
}

static bool check_out(kiln_kernel_context *c, int i) {
  if (i >= 0 && i < c->node->op->noutputs) return true;
  kn_kc_fail(c, KILN_INTERNAL, "kernel asked for an output index out of range");
  return false;
}

const kiln_tensor_view *kn_kc_allocate_output(kiln_kernel_context *c, int i,
                                              const int64_t *dims, int ndims) {
  if (failed(c) || !check_out(c, i)) return NULL;
  kiln_tensor *t = alloc_on(c->node->device, kn_kc_output_dtype(c, i), dims, ndims, c->st);
  return t ? set_output(c, i, t) : NULL;
}

/* True when input `in` may be written in place: this node is its last
** reader, nobody else holds it, and it is no caller's memory. */
static bool forwardable(kiln_kernel_context *c, int in) {
  const kiln_tensor *t = c->inputs[in];
  int slot = c->node->in_slot[in];
  /* Pool threads decrement readers concurrently; the count only falls, so
  ** reading 1 means this node is the last reader. */
  if (c->frame->slots[slot] != t ||
      __atomic_load_n(&c->frame->readers[slot], __ATOMIC_ACQUIRE) != 1)
    return false;
  /* The same value read twice by this node is not exclusively ours. */
  for (int j = 0; j < c->node->op->ninputs; j++)
    if (j != in && c->node->in_slot[j] == slot) return false;
  return atomic_load(&t->refs) == 1 && !t->wrapped && !t->base &&
         !kn_tensor_readonly(t) &&
         t->device == (c->node->device->type->def.host_memory ? NULL : c->node->device);
}

const kiln_tensor_view *kn_kc_forward_or_allocate(kiln_kernel_context *c, int in,
                                                  int out, const int64_t *dims,
                                                  int ndims) {
  if (failed(c) || !check_out(c, out)) return NULL;
  if (in >= 0 && in < c->node->op->ninputs && forwardable(c, in)) {
    kiln_tensor *t = c->inputs[in];
    int64_t n;
    size_t nbytes;
    kiln_dtype dt = kn_kc_output_dtype(c, out);
    /* A plain loop: dims were usually just stored by the kernel, and a
    ** wide vector load of them (memcmp) stalls on store forwarding. */
    bool same_shape = ndims == t->ndims;
    for (int d = 0; same_shape && d < ndims; d++) same_shape = dims[d] == t->dims[d];
    if (same_shape && t->dtype == dt && dt != KILN_STRING) {
      /* Same shape: the output is the input itself. This node holds the
      ** only reference (forwardable), so it moves from the input slot to
      ** the output slot; c->inputs keeps the pointer for the kernel. */
      c->frame->slots[c->node->in_slot[in]] = NULL;
      return set_output(c, out, t);
    }
    if (t->dtype == dt && t->dtype != KILN_STRING &&
        kn_tensor_size(dt, dims, ndims, &n, &nbytes, NULL) == KILN_OK &&
        nbytes == t->nbytes) {
      kiln_tensor *o = kn_tensor_alias(t, dims, ndims, c->st);
      if (o) return set_output(c, out, o);
      return NULL;
    }
  }
  return kn_kc_allocate_output(c, out, dims, ndims);
}

bool kn_kc_set_output_alias(kiln_kernel_context *c, int out, int in,
                            const int64_t *dims, int ndims) {
  if (failed(c) || !check_out(c, out)) return false;
  if (in < 0 || in >= c->node->op->ninputs) {
    kn_kc_fail(c, KILN_INTERNAL, "kernel aliased an input index out of range");
    return false;
  }
  /* A ref output passing a ref input on (Apply*, Assign) is the same
  ** reference, so that later nodes update the variable itself. */
  kiln_tensor *r = c->frame->slots[c->node->in_slot[in]];
  if (r && r->is_ref && (int)c->node->op->output_types[out] > KILN_REF_OFFSET) {
    set_output(c, out, kiln_tensor_ref(r));
    return true;
  }
  kiln_tensor *t = c->inputs[in];
  bool same = ndims == t->ndims && (ndims == 0 || memcmp(dims, t->dims, (size_t)ndims * sizeof *dims) == 0);
  kiln_tensor *o = same ? kiln_tensor_ref(t) : kn_tensor_alias(t, dims, ndims, c->st);
  if (!o) return false;
  set_output(c, out, o);
  return true;
}

kiln_session *kn_kc_session(kiln_kernel_context *c) { return c->session; }
const kiln_op *kn_kc_op(kiln_kernel_context *c) { return c->node->op; }
kiln_tensor *kn_kc_input_tensor(kiln_kernel_context *c, int i) {
  return i >= 0 && i < c->node->op->ninputs ? c->inputs[i] : NULL;
}
void kn_kc_set_output_tensor(kiln_kernel_context *c, int i, kiln_tensor *t) {
  if (failed(c) || !check_out(c, i)) {
    kiln_tensor_free(t);
    return;
  }
  set_output(c, i, t);
}
bool kn_kc_failed(kiln_kernel_context *c) { return failed(c); }

void kn_kc_failf(kiln_kernel_context *c, kiln_code code, const char *fmt, ...) {
  if (failed(c)) return;
  char *msg = NULL;
  va_list ap;
  va_start(ap, fmt);
  int n = vasprintf(&msg, fmt, ap);
  va_end(ap);
  kn_kc_fail(c, code, n < 0 ? "out of memory formatting an error" : msg);
  if (n >= 0) free(msg);
}
const char *kn_kc_device_name(kiln_kernel_context *c) { return c->node->device->name; }
kn_frame *kn_kc_frame(kiln_kernel_context *c) { return c->frame; }

const char *kn_kc_string_get(const kiln_tensor_view *v, int64_t i, size_t *len) {
  const kiln_tensor *t = (const kiln_tensor *)((const char *)v - offsetof(kiln_tensor, view));
  return kiln_tensor_string(t, i, len);
}

bool kn_kc_string_set(kiln_kernel_context *c, const kiln_tensor_view *v, int64_t i,
                      const char *data, size_t len) {
  kiln_tensor *t = (kiln_tensor *)((char *)v - offsetof(kiln_tensor, view));
  kiln_tensor_set_string(t, i, data, len, c->st);
  return !failed(c);
}

/* ------------------------------------------------------------------ steps */

/* Steps count themselves without the session's mutex, which concurrent
** steps would otherwise all take twice, and each in its thread's own
** counter, so that concurrent steps write no common cache line. Close
** sets `closed`, then waits under mu until every counter is 0. Both sides
** use sequentially consistent operations: a step either sees `closed` set
** (and backs out, or wakes close when it ends), or its increment is seen
** by close. A step must end on the thread that began it. */
static atomic_int *step_counter(kiln_session *s) {
  return &s->steps[kn_thread_index() % KN_STEP_STRIPES].n;
}

kiln_code kn_session_step_begin(kiln_session *s, kiln_status *st) {
  atomic_fetch_add(step_counter(s), 1);
  if (atomic_load(&s->closed)) {
    kn_session_step_end(s);
    return kn_errorf(st, KILN_FAILED_PRECONDITION,
                     "Attempted to use a closed Session: Session has been closed");
  }
  return KILN_OK;
}

void kn_session_step_end(kiln_session *s) {
  atomic_fetch_sub(step_counter(s), 1);
  if (atomic_load(&s->closed)) {
    pthread_mutex_lock(&s->mu);
    pthread_cond_broadcast(&s->idle);
    pthread_mutex_unlock(&s->mu);
  }
}

bool kn_session_steps_active(kiln_session *s) {
  for (int i = 0; i < KN_STEP_STRIPES; i++)
    if (atomic_load(&s->steps[i].n) > 0) return true;
  return false;
}

kiln_code kn_check_feed(const kn_plan *p, int i, const kiln_tensor *t,
                        kiln_status *st) {
  const kiln_output *f = &p->feeds[i];
  if (!t)
    return kn_errorf(st, KILN_INVALID_ARGUMENT, "no value given for feed '%s:%d'",
                     f->op->name, f->index);
  if (t->dtype != p->feed_dtypes[i])
    return kn_errorf(st, KILN_INVALID_ARGUMENT,
                     "Cannot feed value of dtype %s for Tensor '%s:%d', which "
                     "has dtype %s", kiln_dtype_name(t->dtype), f->op->name,
                     f->index, kiln_dtype_name(p->feed_dtypes[i]));
  /* The common case first, without building a kn_shape per feed. */
  const kn_shape *want = &p->feed_shapes[i];
  bool fits = want->ndims < 0 || want->ndims == t->ndims;
  for (int d = 0; fits && want->ndims > 0 && d < want->ndims; d++)
    fits = want->dims[d] < 0 || want->dims[d] == t->dims[d];
  if (fits) return KILN_OK;
  kn_shape given = kn_shape_make(t->dims, t->ndims);
  if (!kn_shape_compatible(&p->feed_shapes[i], &given)) {
    char a[KN_SHAPE_STR_MAX], b[KN_SHAPE_STR_MAX];
    return kn_errorf(st, KILN_INVALID_ARGUMENT,
                     "Cannot feed value of shape %s for Tensor '%s:%d', which "
                     "has shape %s", kn_shape_str(&given, a, sizeof a),
                     f->op->name, f->index,
                     kn_shape_str(&p->feed_shapes[i], b, sizeof b));
  }
  return KILN_OK;
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Adds the failing node to the status: its name and NodeDef. */
static void blame(const kn_node *nd, kiln_status *st) {
  kiln_code code = kiln_status_code(st);
  char *msg = strdup(kiln_status_message(st));
  kn_errorf(st, code, "node '%s' (%s) on %s: %s", nd->op->name, nd->op->type,
            nd->device->name, msg ? msg : "");
  free(msg);
  kiln_status *tmp = kiln_status_new();
  kiln_buffer *nd_bytes = tmp ? kn_node_def_serialize(nd->op, tmp) : NULL;
  kn_status_set_op(st, nd->op->name, nd_bytes ? nd_bytes->data : NULL,
                   nd_bytes ? nd_bytes->length : 0);
  kiln_buffer_free(nd_bytes);
  kiln_status_free(tmp);
}

static void record(kiln_run_metadata *md, const kn_node *nd, kn_frame *f,
                   int64_t start_ns, int64_t dur) {
  const kiln_op *op = nd->op;
  int64_t each[64];
  int dtypes[64];
  int64_t total = 0;
  int no = op->noutputs < 64 ? op->noutputs : 64;
  for (int o = 0; o < no; o++) {
    kiln_tensor *t = f->slots[nd->out_slot + o];
    each[o] = t ? (int64_t)kiln_tensor_byte_size(t) : 0;
    dtypes[o] = t ? (int)t->dtype : 0;
    total += each[o];
  }
  kn_node_stats ns = {
    .node = op->name, .op = op->type, .device = nd->device->name,
    .start_us = start_ns / 1000, .start_ns = start_ns, .duration_ns = dur,
    .output_bytes = total, .noutputs = no, .output_bytes_each = each,
    .output_dtype = dtypes, .thread_id = (uint32_t)gettid(),
    .requested_device = op->device, .placement = nd->placement ? nd->placement : "",
  };
  kn_run_metadata_add(md, &ns);
}

/* Per-thread scratch for one node's inputs. */
typedef struct scratch {
  kiln_tensor **inputs, **copies;
} scratch;

static void drop_copies(scratch *sc, int n) {
  for (int k = 0; k < n; k++) {
    kiln_tensor_free(sc->copies[k]);
    sc->copies[k] = NULL;
  }
}

static bool is_ref_type(kiln_dtype t) { return (int)t > KILN_REF_OFFSET; }

/* The value input j of node nd reads, in sc->inputs[j]: the slot's tensor,
** a variable's value for a reference read as a value, or a copy in the
** node's memory. What it made for the node goes in sc->copies[j]. */
static kiln_code resolve_input(const kn_node *nd, kn_frame *f, int j, scratch *sc,
                               kiln_status *st) {
  const kiln_op *op = nd->op;
  kiln_tensor *t = f->slots[nd->in_slot[j]];
  if (!t)
    return kn_errorf(st, KILN_INVALID_ARGUMENT,
                     "input %d of node '%s' (%s) has no value: the tensor "
                     "'%s:%d' must be fed first", j, op->name, op->type,
                     op->inputs[j].op->name, op->inputs[j].index);
  bool wants_ref = is_ref_type(op->input_types[j]);
  if (wants_ref && !t->is_ref)
    return kn_errorf(st, KILN_INVALID_ARGUMENT,
                     "input %d of node '%s' (%s) must be a reference to a "
                     "variable, but '%s:%d' was fed a value", j, op->name,
                     op->type, op->inputs[j].op->name, op->inputs[j].index);
  if (t->is_ref && !(wants_ref && nd->kernel && (nd->kernel->flags & KN_KERNEL_RAW_REFS))) {
    kiln_tensor *v = kn_variable_read(kn_ref_variable(t), st);
    if (!v) return kiln_status_code(st);
    sc->copies[j] = v;
    t = v;
  }
  if (nd->in_copy[j] && !t->is_ref) {
    bool want_host = nd->device->type->def.host_memory;
    kiln_tensor *c = want_host ? copy_to(t, NULL, st) : copy_to(t, nd->device, st);
    if (!c) return kiln_status_code(st);
    kiln_tensor_free(sc->copies[j]);
    sc->copies[j] = c;
    t = c;
  }
  sc->inputs[j] = t;
  return KILN_OK;
}

/* Variables a kernel updates through ref inputs are locked around its
** compute when its use_locking attr says so, in address order (as
** TensorFlow does) so that two such nodes cannot deadlock. */
#define MAX_LOCKED 8
typedef struct locked_vars {
  kn_variable *v[MAX_LOCKED];
  int n;
} locked_vars;

static int cmp_ptr(const void *a, const void *b) {
  uintptr_t x = (uintptr_t) * (kn_variable *const *)a,
            y = (uintptr_t) * (kn_variable *const *)b;
  return x < y ? -1 : x > y;
}

static void lock_ref_inputs(const kn_node *nd, kn_frame *f, locked_vars *lv) {
  lv->n = 0;
  const kn_attr_value *ul = kn_attr_map_get(&nd->op->attrs, "use_locking");
  if (!ul || ul->type != KILN_ATTR_BOOL || ul->is_list || !ul->v.b ||
      (nd->kernel && (nd->kernel->flags & KN_KERNEL_RAW_REFS)))
    return;
  for (int j = 0; j < nd->op->ninputs && lv->n < MAX_LOCKED; j++) {
    kn_variable *v = kn_ref_variable(f->slots[nd->in_slot[j]]);
    bool seen = false;
    for (int k = 0; k < lv->n; k++) seen |= lv->v[k] == v;
    if (v && !seen) lv->v[lv->n++] = v;
  }
  qsort(lv->v, (size_t)lv->n, sizeof *lv->v, cmp_ptr);
  for (int k = 0; k < lv->n; k++) pthread_mutex_lock(&lv->v[k]->mu);
}

static void unlock_ref_inputs(locked_vars *lv) {
  for (int k = lv->n - 1; k >= 0; k--) pthread_mutex_unlock(&lv->v[k]->mu);
}

/* After a node computed: checks its outputs, records it, and releases
** the inputs whose last reader it was. `atomic` when other threads may
** touch the frame meanwhile. */
static kiln_code finish_node(kiln_kernel_context *ctx, bool trace, int64_t t0,
                             int64_t dur, kiln_run_metadata *md,
                             pthread_mutex_t *md_mu, bool atomic) {
  const kn_node *nd = ctx->node;
  kn_frame *f = ctx->frame;
  kiln_op *op = nd->op;
  kiln_status *st = ctx->st;
  if (kn_ok(st))
    for (int o = 0; o < op->noutputs; o++) {
      kiln_tensor *out = f->slots[nd->out_slot + o];
      if (!out) {
        kn_errorf(st, KILN_INTERNAL, "the %s kernel of plugin %s produced no "
                  "output %d", op->type, nd->kernel->plugin->name, o);
        break;
      }
      if (out->dtype != kn_kc_output_dtype(ctx, o)) {
        kn_errorf(st, KILN_INTERNAL, "the %s kernel of plugin %s produced "
                  "output %d of dtype %s, not %s", op->type,
                  nd->kernel->plugin->name, o, kiln_dtype_name(out->dtype),
                  kiln_dtype_name(kn_kc_output_dtype(ctx, o)));
        break;
      }
    }
  if (!kn_ok(st)) {
    blame(nd, st);
    return kiln_status_code(st);
  }
  if (trace) {
    if (md_mu) pthread_mutex_lock(md_mu);
    record(md, nd, f, t0, dur);
    if (md_mu) pthread_mutex_unlock(md_mu);
  }
  f->done[nd - f->plan->nodes] = true;
  /* Each input slot loses a reader; the last one frees the value. Only
  ** steps on the scheduler need an atomic count: inline, one thread runs
  ** all. */
  for (int j = 0; j < op->ninputs; j++) {
    int slot = nd->in_slot[j];
    int left = atomic ? __atomic_sub_fetch(&f->readers[slot], 1, __ATOMIC_ACQ_REL)
                      : --f->readers[slot];
    if (left == 0) {
      kiln_tensor_free(f->slots[slot]);
      f->slots[slot] = NULL;
    }
  }
  return KILN_OK;
}

/* Returned by run_node for a node that went asynchronous. */
#define KN_PARKED ((kiln_code)-1)

/* Runs node i of frame f: resolves its inputs, computes, and finishes it
** (or leaves that to whoever completes it, KN_PARKED). ps is the step's
** scheduler, NULL inline. */
static kiln_code run_node(kiln_session *s, kn_frame *f, int i, bool trace,
                          kiln_run_metadata *md, struct par_step *ps,
                          pthread_mutex_t *md_mu, scratch *sc, kiln_status *st) {
  kn_plan *p = f->plan;
  kn_node *nd = &p->nodes[i];
  kiln_op *op = nd->op;
  bool refs = false;
  for (int j = 0; j < op->ninputs; j++) {
    refs |= is_ref_type(op->input_types[j]);
    if (resolve_input(nd, f, j, sc, st) != KILN_OK) {
      drop_copies(sc, j + 1);
      blame(nd, st);
      return kiln_status_code(st);
    }
  }
  kiln_kernel_context ctx = {s, f, nd, sc->inputs, st, ps, i, NULL, sc->copies, trace, 0, 0};
  ctx.t0 = trace ? now_ns() : 0;
  ctx.m0 = trace ? mono_ns() : 0;
  if (nd->value) {
    set_output(&ctx, 0, kiln_tensor_ref(nd->value));
  } else if (nd->kernel) {
    locked_vars lv = {.n = 0};
    if (refs) lock_ref_inputs(nd, f, &lv);
    nd->kernel->def.compute(nd->kstate, &ctx);
    unlock_ref_inputs(&lv);
  }
  if (ctx.async) return KN_PARKED;   /* the token owns the copies now */
  int64_t dur = trace ? mono_ns() - ctx.m0 : 0;
  drop_copies(sc, op->ninputs);
  return finish_node(&ctx, trace, ctx.t0, dur, md, md_mu, md_mu != NULL);
}

/* Stops a step between nodes when the session closes or time runs out. */
static kiln_code interrupted(kiln_session *s, int64_t deadline, int64_t timeout,
                             const kn_node *nd, kiln_status *st) {
  if (atomic_load_explicit(&s->closed, memory_order_relaxed))
    return kn_errorf(st, KILN_CANCELLED,
                     "Step was cancelled: the session was closed while it ran");
  if (deadline && mono_ns() > deadline)
    return kn_errorf(st, KILN_DEADLINE_EXCEEDED,
                     "Timed out after %lld ms before running node '%s' (%s)",
                     (long long)timeout, nd->op->name, nd->op->type);
  return KILN_OK;
}

static int64_t step_timeout(kiln_session *s, const kiln_run_options *opts) {
  return opts && opts->timeout_ms > 0 ? opts->timeout_ms : s->config.operation_timeout_ms;
}

/* True when a node of the plan may finish asynchronously; decided once. */
static bool plan_is_async(kn_plan *p) {
  int k = atomic_load_explicit(&p->async_kind, memory_order_relaxed);
  if (k == 0) {
    k = 1;
    for (int i = 0; i < p->nnodes && k == 1; i++)
      if (p->nodes[i].kernel && (p->nodes[i].kernel->flags & KN_KERNEL_ASYNC)) k = 2;
    atomic_store_explicit(&p->async_kind, k, memory_order_relaxed);
  }
  return k == 2;
}

static kiln_code execute_scheduled(kiln_session *s, kn_frame *f, const bool *want,
                                   const kiln_run_options *opts,
                                   kiln_run_metadata *md, kiln_status *st,
                                   bool use_pool);

kiln_code kn_execute_nodes(kiln_session *s, kn_frame *f, const bool *want,
                           const kiln_run_options *opts, kiln_run_metadata *md,
                           kiln_status *st) {
  kn_plan *p = f->plan;
  if (plan_is_async(p)) return execute_scheduled(s, f, want, opts, md, st, false);
  bool trace = md && opts && opts->trace_level != KILN_TRACE_NONE;
  int64_t timeout = step_timeout(s, opts);
  int64_t deadline = timeout > 0 ? mono_ns() + timeout * 1000000 : 0;
  scratch sc = {f->inputs, f->copies};
  for (int i = 0; i < p->nnodes; i++) {
    if (f->done[i] || (want && !want[i])) continue;
    if (interrupted(s, deadline, timeout, &p->nodes[i], st) != KILN_OK ||
        run_node(s, f, i, trace, md, NULL, NULL, &sc, st) != KILN_OK)
      return kiln_status_code(st);
  }
  return KILN_OK;
}

/* -------------------------------------------------------- cancellation */

/* A step's cancellation, as TensorFlow's CancellationManager: callbacks
** of parked nodes, run once when the step is cancelled. A token leaves the
** list when its node completes (kn_async_forget_cancel) or when its
** callback is taken, so a callback never runs for a finished node. */
typedef struct cancel_mgr {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool cancelled;
  pthread_t cancel_thread;    /* the thread running callbacks */
  kn_async *current;          /* the token whose callback runs */
  kiln_code code;
  char msg[256];
  kn_async *callbacks;        /* registered tokens, doubly linked */
} cancel_mgr;

/* ------------------------------------------------------ scheduled steps */

/* A step whose nodes run as they become ready: on the session's inter-op
** pool for wide plans (the caller's thread works too; pool threads join
** while there is work for them), and always for plans with asynchronous
** nodes, which park without holding any thread until they complete. */
typedef struct par_step {
  kiln_session *s;
  kn_frame *f;
  bool trace;
  kiln_run_metadata *md;
  int64_t deadline, timeout;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int *ready;                 /* stack of runnable nodes */
  int nready;
  int remaining;              /* nodes not finished */
  int running;                /* threads computing a node right now */
  int parked;                 /* asynchronous nodes not yet done */
  int last_parked;            /* one of them, for messages */
  int idle_helpers;           /* helpers the pool may still lend */
  int outstanding;            /* helpers submitted and not yet returned */
  bool failed;
  kiln_status *st;            /* first error */
  cancel_mgr cm;
  struct par_step *next_async; /* the session's steps that can park */
} par_step;

struct kn_async {
  kiln_kernel_context ctx;
  kiln_tensor **inputs, **copies;
  kn_async *cb_next, *cb_prev;
  kn_cancel_fn cb;
  void *cb_arg;
  bool cb_linked;
};

static void work(par_step *ps, bool caller);

static void helper_task(void *arg) {
  par_step *ps = arg;
  work(ps, false);
  pthread_mutex_lock(&ps->mu);
  ps->outstanding--;
  pthread_cond_broadcast(&ps->cv);
  pthread_mutex_unlock(&ps->mu);
}

/* Lends up to n more pool threads to the step; under ps->mu. */
static void lend(par_step *ps, int n) {
  while (n-- > 0 && ps->idle_helpers > 0) {
    ps->idle_helpers--;
    ps->outstanding++;
    if (!kn_pool_submit(ps->s->pool, helper_task, ps)) {
      ps->idle_helpers++;
      ps->outstanding--;
      return;
    }
  }
}

/* Node i finished well: its successors may be ready. Under ps->mu. */
static void node_finished(par_step *ps, int i) {
  kn_plan *p = ps->f->plan;
  ps->remaining--;
  int newly = 0;
  for (int e = 0; e < p->nodes[i].nsucc; e++) {
    int k = p->nodes[i].succ[e];
    if (--ps->f->pending[k] == 0) {
      ps->ready[ps->nready++] = k;
      newly++;
    }
  }
  /* Lend more threads when more work became ready than we can take. */
  if (newly > 1) lend(ps, newly - 1);
  pthread_cond_broadcast(&ps->cv);
}

static void step_fail(par_step *ps, kiln_status *st) {
  if (!ps->failed) kn_status_copy(ps->st, st);
  ps->failed = true;
  pthread_cond_broadcast(&ps->cv);
}

static void cancel_step(par_step *ps, kiln_code code, const char *fmt, ...)
    KN_PRINTF(3, 4);
static void cancel_step(par_step *ps, kiln_code code, const char *fmt, ...) {
  cancel_mgr *cm = &ps->cm;
  pthread_mutex_lock(&cm->mu);
  if (cm->cancelled) {
    pthread_mutex_unlock(&cm->mu);
    return;
  }
  cm->cancelled = true;
  cm->cancel_thread = pthread_self();
  cm->code = code;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cm->msg, sizeof cm->msg, fmt, ap);
  va_end(ap);
  /* One at a time, each unlinked before its callback runs: a callback may
  ** complete other tokens of the step (a queue serving the next waiter),
  ** which unlink themselves and are then never called. */
  while (cm->callbacks) {
    kn_async *a = cm->callbacks;
    cm->callbacks = a->cb_next;
    if (cm->callbacks) cm->callbacks->cb_prev = NULL;
    a->cb_linked = false;
    cm->current = a;
    pthread_mutex_unlock(&cm->mu);
    a->cb(a->cb_arg, code, cm->msg);
    pthread_mutex_lock(&cm->mu);
    cm->current = NULL;
    pthread_cond_broadcast(&cm->cv);
  }
  pthread_mutex_unlock(&cm->mu);
}

/* Pops and runs nodes until none is left for this thread. The caller's
** thread stays until the step is over (it waits for parked nodes, with
** the deadline); pool threads leave when nothing is ready and no other
** thread computes. */
static void work(par_step *ps, bool caller) {
  kn_plan *p = ps->f->plan;
  kiln_status *st = kiln_status_new();
  kiln_tensor **buf = calloc(2 * (size_t)ps->f->max_inputs, sizeof *buf);
  scratch sc = {buf, buf ? buf + ps->f->max_inputs : NULL};
  pthread_mutex_lock(&ps->mu);
  if (!st || !buf) {
    KN_OOM(st ? st : ps->st);
    if (st) step_fail(ps, st);
    else ps->failed = true;
  }
  for (;;) {
    while (!ps->failed && ps->remaining > 0 && ps->nready == 0 &&
           (caller || ps->running > 0)) {
      if (caller && ps->deadline) {
        int64_t left = ps->deadline - mono_ns();
        if (left <= 0) {
          const kn_node *nd = &p->nodes[ps->last_parked];
          kn_errorf(st, KILN_DEADLINE_EXCEEDED,
                    "Timed out after %lld ms waiting for node '%s' (%s)",
                    (long long)ps->timeout, nd->op->name, nd->op->type);
          step_fail(ps, st);
          break;
        }
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t at = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + left;
        ts.tv_sec = at / 1000000000;
        ts.tv_nsec = at % 1000000000;
        pthread_cond_timedwait(&ps->cv, &ps->mu, &ts);
      } else {
        pthread_cond_wait(&ps->cv, &ps->mu);
      }
    }
    if (ps->failed || ps->remaining == 0 || ps->nready == 0) break;
    int i = ps->ready[--ps->nready];
    ps->running++;
    pthread_mutex_unlock(&ps->mu);
    kiln_code code = interrupted(ps->s, ps->deadline, ps->timeout, &p->nodes[i], st);
    if (code == KILN_OK)
      code = run_node(ps->s, ps->f, i, ps->trace, ps->md, ps, &ps->mu, &sc, st);
    pthread_mutex_lock(&ps->mu);
    ps->running--;
    if (code == KN_PARKED) {
      pthread_cond_broadcast(&ps->cv);
      continue;
    }
    if (code != KILN_OK) {
      step_fail(ps, st);
      break;
    }
    node_finished(ps, i);
  }
  if (caller && ps->failed) {
    /* Parked nodes end before the frame can be reused. */
    kiln_code why = kiln_status_code(ps->st);
    pthread_mutex_unlock(&ps->mu);
    cancel_step(ps, why, "Step was cancelled: %s", kiln_status_message(ps->st));
    pthread_mutex_lock(&ps->mu);
    while (ps->parked > 0 || ps->running > 0) pthread_cond_wait(&ps->cv, &ps->mu);
  }
  pthread_cond_broadcast(&ps->cv);
  pthread_mutex_unlock(&ps->mu);
  free(buf);
  kiln_status_free(st);
}

/* ------------------------------------------------------ async kernels */

kn_async *kn_kc_go_async(kiln_kernel_context *c) {
  if (c->async) return c->async;
  if (!c->ps || !(c->node->kernel->flags & KN_KERNEL_ASYNC)) {
    kn_kc_fail(c, KILN_INTERNAL, "kernel went asynchronous outside a scheduled step");
    return NULL;
  }
  int n = c->node->op->ninputs;
  kn_async *a = calloc(1, sizeof *a + 2 * (size_t)(n ? n : 1) * sizeof(kiln_tensor *));
  kiln_status *st = kiln_status_new();
  if (!a || !st) {
    free(a);
    kiln_status_free(st);
    KN_OOM(c->st);
    return NULL;
  }
  a->inputs = (kiln_tensor **)(a + 1);
  a->copies = a->inputs + (n ? n : 1);
  /* The token owns the node's inputs and copies from here on. */
  for (int j = 0; j < n; j++) {
    a->inputs[j] = c->inputs[j];
    a->copies[j] = c->copies[j];
    c->copies[j] = NULL;
  }
  a->ctx = *c;
  a->ctx.inputs = a->inputs;
  a->ctx.copies = a->copies;
  a->ctx.st = st;
  a->ctx.async = a;
  c->async = a;
  par_step *ps = c->ps;
  pthread_mutex_lock(&ps->mu);
  ps->parked++;
  ps->last_parked = c->index;
  pthread_mutex_unlock(&ps->mu);
  return a;
}

kiln_kernel_context *kn_async_context(kn_async *a) { return &a->ctx; }

void kn_async_done(kn_async *a) {
  kiln_kernel_context *c = &a->ctx;
  par_step *ps = c->ps;
  int64_t dur = c->trace ? mono_ns() - c->m0 : 0;
  for (int j = 0; j < c->node->op->ninputs; j++) kiln_tensor_free(a->copies[j]);
  kiln_code code = finish_node(c, c->trace, c->t0, dur, ps->md, &ps->mu, true);
  int i = c->index;
  kiln_status *st = c->st;
  free(a);
  pthread_mutex_lock(&ps->mu);
  ps->parked--;
  if (code != KILN_OK)
    step_fail(ps, st);
  else if (!ps->failed)
    node_finished(ps, i);
  pthread_cond_broadcast(&ps->cv);
  pthread_mutex_unlock(&ps->mu);
  kiln_status_free(st);
}

bool kn_async_on_cancel(kn_async *a, kn_cancel_fn fn, void *arg) {
  cancel_mgr *cm = &a->ctx.ps->cm;
  pthread_mutex_lock(&cm->mu);
  bool ok = !cm->cancelled;
  if (ok) {
    a->cb = fn;
    a->cb_arg = arg;
    a->cb_prev = NULL;
    a->cb_next = cm->callbacks;
    if (cm->callbacks) cm->callbacks->cb_prev = a;
    cm->callbacks = a;
    a->cb_linked = true;
  }
  pthread_mutex_unlock(&cm->mu);
  return ok;
}

void kn_async_forget_cancel(kn_async *a) {
  cancel_mgr *cm = &a->ctx.ps->cm;
  pthread_mutex_lock(&cm->mu);
  if (a->cb_linked) {
    if (a->cb_prev) a->cb_prev->cb_next = a->cb_next;
    else cm->callbacks = a->cb_next;
    if (a->cb_next) a->cb_next->cb_prev = a->cb_prev;
    a->cb_linked = false;
  } else {
    /* Its callback may be running on the cancelling thread: wait for it,
    ** unless this is that thread. */
    while (cm->current == a && !pthread_equal(cm->cancel_thread, pthread_self()))
      pthread_cond_wait(&cm->cv, &cm->mu);
  }
  pthread_mutex_unlock(&cm->mu);
}

kiln_code kn_async_cancel_reason(kn_async *a, const char **msg) {
  cancel_mgr *cm = &a->ctx.ps->cm;
  pthread_mutex_lock(&cm->mu);
  kiln_code code = cm->cancelled ? cm->code : KILN_OK;
  if (msg) *msg = cm->msg;
  pthread_mutex_unlock(&cm->mu);
  return code;
}

/* Close cancels the steps that may be parked; a step starting after close
** began is refused. Under s->mu. */
void kn_session_cancel_steps(kiln_session *s) {
  for (par_step *ps = s->async_steps; ps; ps = ps->next_async)
    cancel_step(ps, KILN_CANCELLED,
                "Step was cancelled: the session was closed while it ran");
}

static kn_pool *session_pool(kiln_session *s) {
  pthread_mutex_lock(&s->mu);
  if (!s->pool && s->inter_op_threads > 1) s->pool = kn_pool_new(s->inter_op_threads - 1);
  kn_pool *pool = s->pool;
  pthread_mutex_unlock(&s->mu);
  return pool;
}

/* A partial run's nodes (wanted, not yet run) wait only for producers
** among them: counting the others would never let their successors go. */
static void select_nodes(par_step *ps, const bool *want) {
  kn_frame *f = ps->f;
  kn_plan *p = f->plan;
  for (int i = 0; i < p->nnodes; i++) f->pending[i] = 0;
  for (int i = 0; i < p->nnodes; i++) {
    if (f->done[i] || (want && !want[i])) {
      f->pending[i] = -1;
      continue;
    }
    ps->remaining++;
    for (int e = 0; e < p->nodes[i].nsucc; e++) f->pending[p->nodes[i].succ[e]]++;
  }
  for (int i = p->nnodes - 1; i >= 0; i--)
    if (f->pending[i] == 0) ps->ready[ps->nready++] = i;
}

static kiln_code execute_scheduled(kiln_session *s, kn_frame *f, const bool *want,
                                   const kiln_run_options *opts,
                                   kiln_run_metadata *md, kiln_status *st,
                                   bool use_pool) {
  kn_plan *p = f->plan;
  par_step ps = {.s = s, .f = f, .md = md, .st = st};
  ps.trace = md && opts && opts->trace_level != KILN_TRACE_NONE;
  ps.timeout = step_timeout(s, opts);
  ps.deadline = ps.timeout > 0 ? mono_ns() + ps.timeout * 1000000 : 0;
  ps.ready = malloc(((size_t)p->nnodes + 1) * sizeof *ps.ready);
  if (!ps.ready) return KN_OOM(st);
  if (want) {
    select_nodes(&ps, want);
  } else {
    ps.remaining = p->nnodes;
    for (int r = p->nroots - 1; r >= 0; r--) ps.ready[ps.nready++] = p->roots[r];
  }
  ps.idle_helpers = use_pool ? kn_pool_size(s->pool) : 0;
  pthread_mutex_init(&ps.mu, NULL);
  /* The caller's wait for parked nodes is timed on the monotonic clock. */
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&ps.cv, &ca);
  pthread_condattr_destroy(&ca);
  pthread_mutex_init(&ps.cm.mu, NULL);
  pthread_cond_init(&ps.cm.cv, NULL);
  bool async = plan_is_async(p);
  if (async) {
    pthread_mutex_lock(&s->mu);
    ps.next_async = s->async_steps;
    s->async_steps = &ps;
    if (atomic_load(&s->closed)) {
      kn_errorf(st, KILN_CANCELLED,
                "Step was cancelled: the session was closed while it ran");
      ps.failed = true;
    }
    pthread_mutex_unlock(&s->mu);
  }
  pthread_mutex_lock(&ps.mu);
  lend(&ps, ps.nready - 1);
  pthread_mutex_unlock(&ps.mu);
  work(&ps, true);
  /* Helpers still queued or running finish before the frame is reused. */
  pthread_mutex_lock(&ps.mu);
  ps.idle_helpers = 0;
  while (ps.outstanding > 0) pthread_cond_wait(&ps.cv, &ps.mu);
  pthread_mutex_unlock(&ps.mu);
  if (async) {
    pthread_mutex_lock(&s->mu);
    par_step **pp = &s->async_steps;
    while (*pp != &ps) pp = &(*pp)->next_async;
    *pp = ps.next_async;
    pthread_mutex_unlock(&s->mu);
  }
  pthread_mutex_destroy(&ps.cm.mu);
  pthread_cond_destroy(&ps.cm.cv);
  pthread_mutex_destroy(&ps.mu);
  pthread_cond_destroy(&ps.cv);
  free(ps.ready);
  return ps.failed ? kiln_status_code(st) : KILN_OK;
}

void kn_execute(kiln_session *s, kn_plan *p, const kiln_run_options *opts,
                kiln_tensor *const *feed_values, kiln_tensor **fetch_values,
                kiln_run_metadata *md, kiln_status *st) {
  kiln_status_reset(st);
  for (int i = 0; i < p->nfetches; i++) fetch_values[i] = NULL;
  for (int i = 0; i < p->nfeeds; i++)
    if (kn_check_feed(p, i, feed_values[i], st) != KILN_OK) return;
  if (kn_session_step_begin(s, st) != KILN_OK) return;
  kn_frame *f = kn_frame_get(p, st);
  if (!f) {
    kn_session_step_end(s);
    return;
  }
  if (md) kn_run_metadata_reset(md);
  int64_t start = md ? now_ns() : 0, m0 = md ? mono_ns() : 0;
  /* Feeds are borrowed: the caller holds them until the call returns, and
  ** a feed slot never loses its last reader within a step, so it is never
  ** freed or written in place; taking references would only make
  ** concurrent callers sharing a feed fight over its count. The slots are
  ** emptied before the frame is put back. */
  for (int i = 0; i < p->nfeeds; i++) f->slots[p->feed_slot[i]] = feed_values[i];
  bool pool = p->wide && session_pool(s);
  kiln_code code = pool || plan_is_async(p)
                       ? execute_scheduled(s, f, NULL, opts, md, st, pool)
                       : kn_execute_nodes(s, f, NULL, opts, md, st);
  if (code == KILN_OK) {
    for (int i = 0; i < p->nfetches && kn_ok(st); i++) {
      if (p->fetch_slot[i] < 0) continue;
      kiln_tensor *t = f->slots[p->fetch_slot[i]];
      fetch_values[i] = kn_fetch_value(t, st);
    }
    if (!kn_ok(st))
      for (int i = 0; i < p->nfetches; i++) {
        kiln_tensor_free(fetch_values[i]);
        fetch_values[i] = NULL;
      }
  }
  if (md) {
    md->step_start_us = start / 1000;
    md->step_duration_ns = mono_ns() - m0;
  }
  for (int i = 0; i < p->nfeeds; i++) f->slots[p->feed_slot[i]] = NULL;
  if (f->nnew_handles) kn_session_handles_settle(s, f);
  kn_frame_put(f);
  kn_session_step_end(s);
  if (kn_ok(st)) kiln_status_reset(st);
}
