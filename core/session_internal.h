/* Sessions, step plans and step frames, for the core's own use. */
#ifndef KN_SESSION_INTERNAL_H
#define KN_SESSION_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <kiln/session.h>
#include "device.h"
#include "graph_internal.h"
#include "kernel_registry.h"
#include "session_config.h"
#include "strmap.h"

/* One operation of a plan, placed and with its kernel made. */
typedef struct kn_node {
  kiln_op *op;
  kn_device *device;
  void *device_state;         /* what the device's open() returned */
  const kn_kernel *kernel;    /* NULL only for ops the executor runs itself */
  void *kstate;               /* kernel->def.create's result */
  int *in_slot;               /* op->ninputs slots read */
  bool *in_copy;              /* input i must be copied to this node's memory */
  int out_slot;               /* outputs are slots out_slot .. + noutputs */
  int npending;               /* producers in the plan to wait for */
  int *succ;                  /* nodes that wait on this one */
  int nsucc;
  char *placement;            /* the placer's account, for run metadata */
  bool shared_kstate;         /* kstate belongs to the session (stateful op) */
  /* A Const in host memory: its value tensor (the graph's), output by
  ** reference instead of running the kernel, as TensorFlow's ConstantOp
  ** does; the tensor is marked read-only (tensor_internal.h). */
  kiln_tensor *value;
} kn_node;

/* A pruned, placed and compiled subgraph for one (feeds, fetches, targets)
** signature; immutable once built, shared by concurrent steps. */
typedef struct kn_plan {
  atomic_int refs;
  kiln_session *session;
  kn_node *nodes;             /* topological order */
  int nnodes;
  int nslots;
  int *slot_readers;          /* nodes reading each slot, plus 1 if fetched/fed */
  int *slot_producer;         /* node index, -1 for feeds */
  int nfeeds;
  int *feed_slot;
  kiln_output *feeds;
  kn_shape *feed_shapes;      /* what a feed may hold */
  kiln_dtype *feed_dtypes;
  int nfetches;
  int *fetch_slot;            /* -1: an op run as target (no value) */
  kiln_output *fetches;
  int *roots;                 /* nodes with nothing to wait for */
  int nroots;
  bool wide;                  /* independent branches: run on the pool */
  atomic_int async_kind;      /* 0 not known yet, 1 no async kernel, 2 some */
  /* Frames kept for reuse, so steady-state steps allocate no bookkeeping:
  ** one per thread slot (kn_thread_index), each slot on its own cache line
  ** so that threads calling one plan share no lock and no line, and past
  ** those a list under frames_mu. */
  struct kn_frame_slot *frame_slots;  /* KN_FRAME_SLOTS, 64-byte aligned */
  pthread_mutex_t frames_mu;
  struct kn_frame *free_frames;
} kn_plan;

#define KN_FRAME_SLOTS 8
typedef struct kn_frame_slot {
  _Alignas(64) _Atomic(struct kn_frame *) frame;
} kn_frame_slot;

/* The per-step state of one plan execution. */
typedef struct kn_frame {
  struct kn_frame *next_free;
  kn_plan *plan;
  kiln_tensor **slots;
  int *readers;               /* remaining readers per slot */
  int *pending;               /* remaining producers per node */
  bool *done;                 /* node ran (partial runs) */
  kiln_tensor **inputs;       /* scratch: the node's inputs */
  kiln_tensor **copies;       /* scratch: copies made for it */
  int max_inputs;
  /* Tensor handles made in this step (session_handles.c, under the
  ** session's mu): kept only if the step fetches them. */
  struct kn_new_handle *new_handles;
  int nnew_handles, cap_new_handles;
} kn_frame;

#define KN_STEP_STRIPES 8

struct kiln_session {
  kiln_graph *graph;
  char *target;
  kiln_config config;
  kn_device **devices;        /* usable devices, most preferred first */
  int ndevices;
  int intra_op_threads;
  int inter_op_threads;
  struct kn_pool *pool;       /* inter-op threads, made on first wide step */
  atomic_bool closed;
  pthread_mutex_t mu;         /* guards the fields below */
  pthread_cond_t idle;
  /* Steps running, counted without mu (kn_session_step_begin) in one
  ** counter per thread slot (kn_thread_index), each alone on its cache
  ** line: concurrent steps then never write a line another thread uses.
  ** Close waits under mu for kn_session_steps_active() to be false. */
  char pad_before_steps[64];
  struct {
    atomic_int n;
    char pad[60];
  } steps[KN_STEP_STRIPES];
  kn_strmap plans;            /* signature key -> kn_plan */
  char **plan_keys;           /* insertion order, for eviction */
  int nplan_keys;
  struct kn_prun *pruns;      /* open partial runs */
  uint64_t next_prun_id;
  char **prun_handles;        /* every handle given out, kept until free */
  int nprun_handles;
  bool interactive;
  void *interactive_stack;    /* the default-session stack it pushed on */
  struct kiln_session *next_open; /* registry of open sessions, for reset */
  atomic_int plans_built;     /* plans compiled, for tests of the cache */
  /* Kernels of stateful ops (random generators, ...) are made once per
  ** (node, device) and shared by every plan, as TensorFlow shares them
  ** across a session's executors: "<op id>@<device>" -> kn_shared_kernel. */
  kn_strmap stateful_kernels;
  /* The owner's reference, plus one held by kiln_session_reset while it
  ** closes the session, so that a concurrent kiln_session_free cannot
  ** free it under reset; the last one destroys the session. */
  atomic_int refs;
  /* Resources of the default container (variables, queues, readers,
  ** tensor handles); freed by close. */
  struct kn_resource_mgr *resources;
  struct par_step *async_steps; /* steps that may park, for close (under mu) */
  /* Tensors kept by GetSessionHandle: handle string -> kiln_tensor. */
  kn_strmap handles;
  uint64_t next_handle;
};

/* Builds (or finds in the cache) the plan for a signature. The caller
** owns one reference (kn_plan_unref). */
kn_plan *kn_plan_get(kiln_session *s, const kiln_output *feeds, int nfeeds,
                     const kiln_output *fetches, int nfetches,
                     kiln_op *const *targets, int ntargets, bool cache,
                     kiln_status *st);
void kn_plan_unref(kn_plan *p);

/* Destroys the kernels of stateful ops (session.c, after its plans). */
void kn_session_free_stateful_kernels(kiln_session *s);

/* Places every node of the plan on a device (placer.c). */
kiln_code kn_place(kiln_session *s, kn_plan *p, kiln_status *st);

/* Frames. */
kn_frame *kn_frame_get(kn_plan *p, kiln_status *st);
void kn_frame_put(kn_frame *f);           /* back to the plan's free list */
void kn_frame_clear(kn_frame *f);         /* drops every tensor held */
void kn_frame_free(kn_frame *f);          /* clears and frees (plan_free) */

/* Runs a plan: checks and binds feeds, executes, returns fetches (new
** references). Steps are counted as active on the session so that close
** waits for them. */
void kn_execute(kiln_session *s, kn_plan *p, const kiln_run_options *opts,
                kiln_tensor *const *feed_values, kiln_tensor **fetch_values,
                kiln_run_metadata *md, kiln_status *st);

/* Runs the nodes of frame f selected by `want` (NULL: all not done) in
** plan order; used by kn_execute and partial runs. */
kiln_code kn_execute_nodes(kiln_session *s, kn_frame *f, const bool *want,
                           const kiln_run_options *opts,
                           kiln_run_metadata *md, kiln_status *st);

/* What the caller gets for fetching value t: a new reference, or a host
** copy when t lives in device memory or is a shared read-only constant.
** NULL with st set when a copy fails. */
kiln_tensor *kn_fetch_value(kiln_tensor *t, kiln_status *st);

/* Feed checks shared by run and partial run. */
kiln_code kn_check_feed(const kn_plan *p, int i, const kiln_tensor *t,
                        kiln_status *st);

/* Session bookkeeping for steps. A step ends on the thread it began on. */
kiln_code kn_session_step_begin(kiln_session *s, kiln_status *st);
void kn_session_step_end(kiln_session *s);
/* True while any step runs; close waits on s->idle (under s->mu) for it
** to turn false. */
bool kn_session_steps_active(kiln_session *s);

/* Cancels every step that may be parked (close, after setting closed);
** under s->mu. */
void kn_session_cancel_steps(kiln_session *s);

/* The resource manager for a resource op's container attr: the session's
** for "" (the default container), else the process's shared one. */
struct kn_resource_mgr *kn_session_resources(kiln_session *s, const char *container);

/* Drops every tensor handle (session_handles.c); close calls it. */
void kn_session_handles_free(kiln_session *s);
/* After a step (or partial-run call) of frame f: keeps the handles it made
** whose GetSessionHandle output the plan fetches, as TensorFlow saves only
** fetched handles, and drops the others. */
void kn_session_handles_settle(kiln_session *s, kn_frame *f);

/* Partial runs (partial_run.c): freed on close. */
void kn_pruns_free_all(kiln_session *s);

/* Interactive sessions pop themselves on close (default_session.c). */
void kn_default_session_remove(kiln_session *s);

#endif
