/*
** FIFO queues. Elements are tuples of tensors in a ring buffer; waiting
** enqueues and dequeues are lists of waiters, each the token of a parked
** node. Every change of the queue "flushes": serves waiters in order while
** it can, and collects the served ones, which are completed after the
** queue's lock is released (completing runs the step's bookkeeping).
*/
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "queue.h"
#include "status_internal.h"

typedef struct waiter {
  struct waiter *next, *prev;
  struct waiter *next_done;     /* in a flush's list of served waiters */
  kn_queue *q;
  kn_async *a;                  /* NULL while still inside the kernel */
  kiln_kernel_context *c;
  bool linked, enqueue, many;
  int64_t n, moved;             /* tuples to move, and moved so far */
  kiln_tensor **elems;          /* enqueue: n tuples; dequeue: taken ones */
  kn_queue_deliver deliver;
  kiln_code code;               /* a failure found by flush */
  char msg[256];
} waiter;

typedef struct wlist {
  waiter *head, *tail;
} wlist;

struct kn_queue {
  kn_resource res;
  pthread_mutex_t mu;
  int ncomp;
  kiln_dtype *types;
  int nshapes;
  kn_shape *shapes;
  int64_t capacity;
  kn_queue_spec spec;           /* points at the fields above */
  kiln_tensor **ring;           /* cap tuples */
  int64_t cap, head, count;
  bool closed;
  wlist enq, deq;
};

static void queue_destroy(kn_resource *r) {
  kn_queue *q = (kn_queue *)r;
  for (int64_t i = 0; i < q->count; i++)
    for (int c = 0; c < q->ncomp; c++)
      kiln_tensor_free(q->ring[((q->head + i) % q->cap) * q->ncomp + c]);
  free(q->ring);
  free(q->types);
  free(q->shapes);
  pthread_mutex_destroy(&q->mu);
  free(q);
}

const kn_resource_kind kn_queue_kind = {"queue", queue_destroy};

kn_resource *kn_queue_new(void *arg, kiln_status *st) {
  const kn_queue_spec *spec = arg;
  kn_queue *q = calloc(1, sizeof *q);
  if (!q) goto oom;
  q->ncomp = spec->ncomp;
  q->nshapes = spec->nshapes;
  q->capacity = spec->capacity;
  q->types = malloc((size_t)spec->ncomp * sizeof *q->types);
  q->shapes = malloc(((size_t)spec->nshapes + 1) * sizeof *q->shapes);
  if (!q->types || !q->shapes) {
    free(q->types);
    free(q->shapes);
    free(q);
    goto oom;
  }
  memcpy(q->types, spec->types, (size_t)spec->ncomp * sizeof *q->types);
  if (spec->nshapes)
    memcpy(q->shapes, spec->shapes, (size_t)spec->nshapes * sizeof *q->shapes);
  q->spec = (kn_queue_spec){q->ncomp, q->types, q->nshapes, q->shapes, q->capacity};
  pthread_mutex_init(&q->mu, NULL);
  return &q->res;
oom:
  KN_OOM(st);
  return NULL;
}

const kn_queue_spec *kn_queue_get_spec(const kn_queue *q) { return &q->spec; }
const char *kn_queue_name(const kn_queue *q) { return q->res.name; }

static char *types_str(const kiln_dtype *t, int n, char *buf, size_t cap) {
  size_t at = 0;
  buf[0] = 0;
  for (int i = 0; i < n && at < cap; i++)
    at += (size_t)snprintf(buf + at, cap - at, "%s%s", i ? ", " : "", kiln_dtype_name(t[i]));
  return buf;
}

kiln_code kn_queue_check(const kn_queue *q, const kn_queue_spec *s, kiln_status *st) {
  char a[256], b[256];
  bool types = q->ncomp == s->ncomp &&
               memcmp(q->types, s->types, (size_t)s->ncomp * sizeof *s->types) == 0;
  if (!types)
    return kn_errorf(st, KILN_INVALID_ARGUMENT,
                     "Shared queue '%s' has component types %s but requested "
                     "component types were %s", q->res.name,
                     types_str(q->types, q->ncomp, a, sizeof a),
                     types_str(s->types, s->ncomp, b, sizeof b));
  bool shapes = q->nshapes == s->nshapes;
  for (int i = 0; shapes && i < s->nshapes; i++)
    shapes = kn_shape_equal(&q->shapes[i], &s->shapes[i]);
  if (!shapes)
    return kn_errorf(st, KILN_INVALID_ARGUMENT,
                     "Shared queue '%s' has other component shapes than requested",
                     q->res.name);
  if (q->capacity != s->capacity)
    return kn_errorf(st, KILN_INVALID_ARGUMENT,
                     "Shared queue '%s' has capacity %lld but requested capacity "
                     "was %lld", q->res.name, (long long)q->capacity,
                     (long long)s->capacity);
  return KILN_OK;
}

/* ------------------------------------------------------------- storage */

static bool room(const kn_queue *q) { return q->capacity < 0 || q->count < q->capacity; }

/* Makes room for one more tuple in the ring; false when out of memory. */
static bool grow(kn_queue *q) {
  if (q->count < q->cap) return true;
  int64_t cap = q->cap ? 2 * q->cap : 16;
  if (q->capacity > 0 && cap > q->capacity) cap = q->capacity;
  kiln_tensor **r = malloc((size_t)cap * (size_t)q->ncomp * sizeof *r);
  if (!r) return false;
  for (int64_t i = 0; i < q->count; i++)
    memcpy(&r[i * q->ncomp], &q->ring[((q->head + i) % q->cap) * q->ncomp],
           (size_t)q->ncomp * sizeof *r);
  free(q->ring);
  q->ring = r;
  q->cap = cap;
  q->head = 0;
  return true;
}

static void push(kn_queue *q, kiln_tensor **tuple) {
  memcpy(&q->ring[((q->head + q->count) % q->cap) * q->ncomp], tuple,
         (size_t)q->ncomp * sizeof *tuple);
  q->count++;
}

static void pop(kn_queue *q, kiln_tensor **tuple) {
  memcpy(tuple, &q->ring[q->head * q->ncomp], (size_t)q->ncomp * sizeof *tuple);
  q->head = (q->head + 1) % q->cap;
  q->count--;
}

/* ------------------------------------------------------------- waiters */

static void link_tail(wlist *l, waiter *w) {
  w->next = NULL;
  w->prev = l->tail;
  if (l->tail) l->tail->next = w;
  else l->head = w;
  l->tail = w;
  w->linked = true;
}

static void unlink_w(wlist *l, waiter *w) {
  if (w->prev) w->prev->next = w->next;
  else l->head = w->next;
  if (w->next) w->next->prev = w->prev;
  else l->tail = w->prev;
  w->linked = false;
}

static void fail_w(waiter *w, kiln_code code, const char *fmt, ...) KN_PRINTF(3, 4);
static void fail_w(waiter *w, kiln_code code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(w->msg, sizeof w->msg, fmt, ap);
  va_end(ap);
  w->code = code;
}

/* Serves waiters in order while possible; served (or failed) ones are
** unlinked onto *done. Under q->mu. */
static void flush(kn_queue *q, waiter **done) {
  for (bool progress = true; progress;) {
    progress = false;
    while (q->enq.head) {
      waiter *w = q->enq.head;
      /* A waiter failed by close (cancel_pending_enqueues) just leaves. */
      while (!w->code && w->moved < w->n && room(q)) {
        if (!grow(q)) {
          fail_w(w, KILN_RESOURCE_EXHAUSTED, "out of memory growing queue '%s'",
                 q->res.name);
          break;
        }
        push(q, &w->elems[w->moved * q->ncomp]);
        w->moved++;
        progress = true;
      }
      if (!w->code && w->moved < w->n) break;
      unlink_w(&q->enq, w);
      w->next_done = *done;
      *done = w;
      progress = true;
    }
    while (q->deq.head) {
      waiter *w = q->deq.head;
      if (q->count >= w->n) {
        for (int64_t i = 0; i < w->n; i++) pop(q, &w->elems[i * q->ncomp]);
        w->moved = w->n;
      } else if (q->closed) {
        fail_w(w, KILN_OUT_OF_RANGE,
               "FIFOQueue '%s' is closed and has insufficient elements "
               "(requested %lld, current size %lld)", q->res.name,
               (long long)w->n, (long long)q->count);
      } else {
        break;
      }
      unlink_w(&q->deq, w);
      w->next_done = *done;
      *done = w;
      progress = true;
    }
  }
}

/* A deliver callback may dequeue again for its node (a reader whose file
** held nothing): the token being delivered to, and whether such a dequeue
** parked it again, in which case the node is not done yet. */
static _Thread_local kn_async *delivering;
static _Thread_local bool parked_again;

/* Ends a waiter: its node's outputs or failure, then the node itself. */
static void finish(waiter *w) {
  kiln_kernel_context *c = w->c;
  bool again = false;
  if (w->code) {
    kn_kc_fail(c, w->code, w->msg);
  } else if (!w->enqueue) {
    kn_async *outer = delivering;
    bool outer_again = parked_again;
    delivering = w->a;
    parked_again = false;
    w->deliver(c, w->elems, w->n, w->many);
    again = parked_again;
    delivering = outer;
    parked_again = outer_again;
    w->moved = 0;   /* delivered: the elements are the node's now */
  }
  /* What an enqueue did not move, or a failed dequeue took, is dropped. */
  int64_t from = w->enqueue ? w->moved : 0, to = w->enqueue ? w->n : w->moved;
  for (int64_t i = from * w->q->ncomp; i < to * w->q->ncomp; i++)
    kiln_tensor_free(w->elems[i]);
  kn_async *a = w->a;
  free(w->elems);
  kn_resource_unref(&w->q->res);
  free(w);
  if (a && !again) kn_async_done(a);
}

static void complete_all(waiter *done) {
  while (done) {
    waiter *next = done->next_done;
    if (done->a) kn_async_forget_cancel(done->a);
    finish(done);
    done = next;
  }
}

/* The step of a parked waiter was cancelled. */
static void on_cancel(void *arg, kiln_code code, const char *msg) {
  waiter *w = arg;
  kn_queue *q = w->q;
  pthread_mutex_lock(&q->mu);
  bool mine = w->linked;
  if (mine) unlink_w(w->enqueue ? &q->enq : &q->deq, w);
  waiter *done = NULL;
  if (mine) flush(q, &done);  /* a withdrawn head may unblock others */
  pthread_mutex_unlock(&q->mu);
  if (mine) {
    fail_w(w, code, "%s", msg);
    finish(w);
  }
  complete_all(done);
}

/* Queues w behind the others, or serves it now when it is first in line
** and can be served; c's node parks in the first case. */
static void submit(kn_queue *q, waiter *w) {
  pthread_mutex_lock(&q->mu);
  wlist *l = w->enqueue ? &q->enq : &q->deq;
  waiter *done = NULL;
  if (w->enqueue && q->closed) {
    pthread_mutex_unlock(&q->mu);
    fail_w(w, KILN_ABORTED, "FIFOQueue '%s' is closed.", q->res.name);
    finish(w);
    return;
  }
  link_tail(l, w);
  flush(q, &done);
  bool parked = w->linked;
  if (parked) {
    /* Waiting: the node finishes later; registering for cancellation
    ** under q->mu makes a cancel wait until w is in place. */
    w->a = kn_kc_go_async(w->c);
    if (!w->a) {
      unlink_w(l, w);
      fail_w(w, KILN_RESOURCE_EXHAUSTED, "out of memory");
      parked = false;
    } else {
      w->c = kn_async_context(w->a);
      if (delivering && w->a == delivering) parked_again = true;
      if (!kn_async_on_cancel(w->a, on_cancel, w)) {
        const char *why;
        kiln_code code = kn_async_cancel_reason(w->a, &why);
        unlink_w(l, w);
        fail_w(w, code, "%s", why);
        flush(q, &done);
        parked = false;
      }
    }
  }
  /* Once the lock goes, a parked w belongs to whoever serves or cancels
  ** it. One served at once is on done; one that failed here is not. */
  bool on_done = false;
  for (waiter *d = done; d; d = d->next_done) on_done |= d == w;
  pthread_mutex_unlock(&q->mu);
  if (!parked && !on_done) finish(w);
  complete_all(done);
}

static waiter *new_waiter(kn_queue *q, kiln_kernel_context *c, bool enqueue,
                          int64_t n, kiln_tensor **elems) {
  waiter *w = calloc(1, sizeof *w);
  if (!w) return NULL;
  w->q = (kn_queue *)kn_resource_ref(&q->res);
  w->c = c;
  w->enqueue = enqueue;
  w->n = n;
  w->elems = elems;
  return w;
}

void kn_queue_enqueue(kn_queue *q, kiln_tensor **elems, int64_t n,
                      kiln_kernel_context *c) {
  waiter *w = new_waiter(q, c, true, n, elems);
  if (!w) {
    for (int64_t i = 0; i < n * q->ncomp; i++) kiln_tensor_free(elems[i]);
    free(elems);
    kn_kc_fail(c, KILN_RESOURCE_EXHAUSTED, "out of memory");
    return;
  }
  submit(q, w);
}

void kn_queue_dequeue(kn_queue *q, int64_t n, bool many, kn_queue_deliver deliver,
                      kiln_kernel_context *c) {
  kiln_tensor **elems = calloc((size_t)(n ? n : 1) * (size_t)q->ncomp, sizeof *elems);
  waiter *w = elems ? new_waiter(q, c, false, n, elems) : NULL;
  if (!w) {
    free(elems);
    kn_kc_fail(c, KILN_RESOURCE_EXHAUSTED, "out of memory");
    return;
  }
  w->many = many;
  w->deliver = deliver;
  submit(q, w);
}

void kn_queue_close(kn_queue *q, bool cancel_pending_enqueues) {
  pthread_mutex_lock(&q->mu);
  q->closed = true;
  if (cancel_pending_enqueues)
    for (waiter *w = q->enq.head; w; w = w->next)
      fail_w(w, KILN_CANCELLED, "Enqueue operation was cancelled");
  waiter *done = NULL;
  flush(q, &done);
  pthread_mutex_unlock(&q->mu);
  complete_all(done);
}

int64_t kn_queue_size(kn_queue *q) {
  pthread_mutex_lock(&q->mu);
  int64_t n = q->count;
  pthread_mutex_unlock(&q->mu);
  return n;
}
