/*
** FIFO queues of tensor tuples (TensorFlow's FIFOQueue), a resource.
**
** Enqueues wait while the queue is full and dequeues while it has too few
** elements, each as a parked node (kernel_context.h): no thread is held.
** Waiters are served in arrival order. Close fails waiting dequeues that
** cannot be served (OUT_OF_RANGE) and, when asked, waiting enqueues
** (CANCELLED); a cancelled step withdraws its waiters.
*/
#ifndef KN_QUEUE_H
#define KN_QUEUE_H

#include <stdint.h>
#include "kernel_context.h"
#include "resource_mgr.h"
#include "shape.h"

typedef struct kn_queue kn_queue;

extern const kn_resource_kind kn_queue_kind;

/* What a queue holds: component dtypes, optional shapes (nshapes 0 or
** ncomp), capacity (-1: unbounded). */
typedef struct kn_queue_spec {
  int ncomp;
  const kiln_dtype *types;
  int nshapes;
  const kn_shape *shapes;
  int64_t capacity;
} kn_queue_spec;

/* A new queue (resource head zeroed), for kn_resource_lookup_or_create. */
kn_resource *kn_queue_new(void *spec, kiln_status *st);
/* INVALID_ARGUMENT when a queue found by name differs from spec. */
kiln_code kn_queue_check(const kn_queue *q, const kn_queue_spec *spec,
                         kiln_status *st);
const kn_queue_spec *kn_queue_get_spec(const kn_queue *q);
const char *kn_queue_name(const kn_queue *q);

/* Enqueues n tuples (elems[i * ncomp + c], validated; the queue takes the
** references, also on failure) for node context c: at once when there is
** room, else parked until there is. Fails c with ABORTED when closed. */
void kn_queue_enqueue(kn_queue *q, kiln_tensor **elems, int64_t n,
                      kiln_kernel_context *c);

/* Dequeues n tuples for c, now or parked until there are n. On success
** calls deliver(c, tuples, n, many) with tuples[i * ncomp + comp] (the
** callee takes the references), on the thread that completes it. With
** `many` false, n is 1 and outputs are the components themselves. A
** deliver may call kn_queue_dequeue again for the same c: when that one
** parks, the node stays parked until it is served. */
typedef void (*kn_queue_deliver)(kiln_kernel_context *c, kiln_tensor **tuples,
                                 int64_t n, bool many);
void kn_queue_dequeue(kn_queue *q, int64_t n, bool many,
                      kn_queue_deliver deliver, kiln_kernel_context *c);

void kn_queue_close(kn_queue *q, bool cancel_pending_enqueues);

/* The queue behind input i of a node (a handle made by FIFOQueueV2), or
** NULL with c failed INVALID_ARGUMENT naming `arg` ("input 0"). */
kn_queue *kn_queue_input(kiln_kernel_context *c, int i, const char *arg);
int64_t kn_queue_size(kn_queue *q);

#endif
