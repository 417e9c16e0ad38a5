/*
** Session tensor handles (TensorFlow's session_ops): GetSessionHandle
** keeps its input in the session and outputs a string naming it;
** GetSessionTensor outputs the tensor a handle names, in a later run;
** DeleteSessionTensor lets it go. Close drops what is left.
**
** A handle is "<node>;<id>;<device>", as TensorFlow's TensorAndKey makes
** it: the node's name, a number the session hands out once, and the full
** name of the device the node ran on (TensorFlow's Python TensorHandle
** reads the device back from the last part). GetSessionHandleV2 keeps the
** tensor the same way and outputs a DT_RESOURCE handle whose name is that
** string, as TensorFlow's ResourceHandle for it.
**
** As TensorFlow, a step's tensor is kept only when the step fetches its
** handle: the node keeps it at once (a later node of the step may read
** it), and the step's end drops what it did not fetch.
**
** The session keeps a private copy, marked read-only: a fed tensor stays
** its caller's to write, and a variable's value may change in place.
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core_kernels.h"
#include "device.h"
#include "kernel_context.h"
#include "resource_mgr.h"
#include "session_internal.h"
#include "status_internal.h"
#include "tensor_internal.h"

/* What s->handles maps a handle to; the map borrows `key`. */
typedef struct kept {
  kiln_tensor *value;
  char key[];
} kept;

void kn_session_handles_free(kiln_session *s) {
  pthread_mutex_lock(&s->mu);
  for (size_t i = 0; i < s->handles.cap; i++) {
    kept *k = s->handles.slots[i].key ? s->handles.slots[i].value : NULL;
    if (!k) continue;
    kiln_tensor_free(k->value);
    free(k);
  }
  kn_strmap_clear(&s->handles);
  pthread_mutex_unlock(&s->mu);
}

struct kn_new_handle {
  char *key;
  const kiln_op *op;
};

/* Notes a handle node op made in this step; under s->mu. */
static bool note_new(kn_frame *f, const char *key, const kiln_op *op) {
  if (f->nnew_handles == f->cap_new_handles) {
    int cap = f->cap_new_handles ? 2 * f->cap_new_handles : 4;
    struct kn_new_handle *n = realloc(f->new_handles, (size_t)cap * sizeof *n);
    if (!n) return false;
    f->new_handles = n;
    f->cap_new_handles = cap;
  }
  char *k = strdup(key);
  if (!k) return false;
  f->new_handles[f->nnew_handles++] = (struct kn_new_handle){k, op};
  return true;
}

static void drop(kiln_session *s, const char *key) {
  kept *k = kn_strmap_get(&s->handles, key);
  if (!k) return;
  kn_strmap_remove(&s->handles, k->key);
  kiln_tensor_free(k->value);
  free(k);
}

void kn_session_handles_settle(kiln_session *s, kn_frame *f) {
  const kn_plan *p = f->plan;
  pthread_mutex_lock(&s->mu);
  for (int i = 0; i < f->nnew_handles; i++) {
    struct kn_new_handle *h = &f->new_handles[i];
    bool fetched = false;
    for (int j = 0; j < p->nfetches && !fetched; j++)
      fetched = p->fetches[j].op == h->op && p->fetches[j].index == 0;
    if (!fetched) drop(s, h->key);
    free(h->key);
  }
  f->nnew_handles = 0;
  pthread_mutex_unlock(&s->mu);
}

/* ---------------------------------------------------- GetSessionHandle */

/* A DT_RESOURCE handle's resource: a name only, the tensor is the
** session's. */
static void name_destroy(kn_resource *r) { free(r); }
static const kn_resource_kind tensor_handle_kind = {"tensor handle", name_destroy};

static kiln_tensor *handle_resource(const char *handle, kiln_status *st) {
  kn_resource *r = calloc(1, sizeof *r);
  if (!r) {
    KN_OOM(st);
    return NULL;
  }
  atomic_init(&r->refs, 1);
  r->kind = &tensor_handle_kind;
  r->container = strdup(KN_DEFAULT_CONTAINER);
  r->name = strdup(handle);
  kiln_tensor *t = r->container && r->name
                       ? kn_resource_tensor(r, KILN_RESOURCE, false, st)
                       : NULL;
  if (!r->container || !r->name) KN_OOM(st);
  kn_resource_unref(r);
  return t;
}

static void get_handle_compute(void *p, kiln_kernel_context *c) {
  (void)p;
  kiln_session *s = kn_kc_session(c);
  kiln_status *st = kiln_status_new();
  if (!st) {
    kn_kc_fail(c, KILN_RESOURCE_EXHAUSTED, "out of memory");
    return;
  }
  const char *node = kn_kc_node_name(c), *dev = kn_kc_device_name(c);
  /* A resource handle never changes: it is kept as it is. */
  kiln_tensor *in = kn_kc_input_tensor(c, 0);
  kiln_tensor *copy = kiln_tensor_dtype(in) == KILN_RESOURCE
                          ? kiln_tensor_ref(in) : kn_tensor_copy(in, st);
  kept *k = copy ? malloc(sizeof *k + strlen(node) + strlen(dev) + 24) : NULL;
  kiln_tensor *out = NULL;
  if (k) {
    if (kiln_tensor_dtype(in) != KILN_RESOURCE) atomic_store(&copy->readonly, true);
    k->value = copy;
    pthread_mutex_lock(&s->mu);
    sprintf(k->key, "%s;%" PRIu64 ";%s", node, s->next_handle++, dev);
    pthread_mutex_unlock(&s->mu);
    out = kn_kc_output_dtype(c, 0) == KILN_RESOURCE
              ? handle_resource(k->key, st)
              : kn_tensor_alloc(KILN_STRING, NULL, 0, st);
    if (out && kiln_tensor_dtype(out) == KILN_STRING)
      kiln_tensor_set_string(out, 0, k->key, strlen(k->key), st);
  } else if (copy) {
    KN_OOM(st);
  }
  bool kept_it = false;
  if (kn_ok(st)) {
    pthread_mutex_lock(&s->mu);
    s->handles.borrow_keys = true;
    kept_it = kn_strmap_put(&s->handles, k->key, k);
    if (kept_it && !note_new(kn_kc_frame(c), k->key, kn_kc_op(c))) {
      kn_strmap_remove(&s->handles, k->key);
      kept_it = false;
    }
    pthread_mutex_unlock(&s->mu);
    if (!kept_it) KN_OOM(st);
  }
  if (kept_it) {
    kn_kc_set_output_tensor(c, 0, out);
  } else {
    kiln_tensor_free(out);
    kiln_tensor_free(copy);
    free(k);
    kn_kc_fail(c, kiln_status_code(st), kiln_status_message(st));
  }
  kiln_status_free(st);
}

/* ---------------------------------------------------- GetSessionTensor */

/* The handle in input 0, a scalar string; NULL with c failed. */
static const char *handle_of(kiln_kernel_context *c, size_t *len) {
  const kiln_tensor *h = kn_kc_input_tensor(c, 0);
  if (kiln_tensor_ndims(h) != 0) {
    kn_kc_failf(c, KILN_INVALID_ARGUMENT, "handle must be scalar, but had rank %d",
          kiln_tensor_ndims(h));
    return NULL;
  }
  const char *name = kiln_tensor_string(h, 0, len);
  if (!name) *len = 0;
  return name ? name : "";
}

static void get_tensor_compute(void *p, kiln_kernel_context *c) {
  (void)p;
  kiln_session *s = kn_kc_session(c);
  size_t len;
  const char *name = handle_of(c, &len);
  if (!name) return;
  pthread_mutex_lock(&s->mu);
  kept *k = kn_strmap_getn(&s->handles, name, len);
  kiln_tensor *t = k ? kiln_tensor_ref(k->value) : NULL;
  pthread_mutex_unlock(&s->mu);
  kiln_dtype want = kn_kc_output_dtype(c, 0);
  if (!t) {
    kn_kc_failf(c, KILN_INVALID_ARGUMENT,
          "The tensor with handle '%.*s' is not in the session store.",
          (int)len, name);
  } else if (kiln_tensor_dtype(t) != want) {
    kn_kc_failf(c, KILN_INVALID_ARGUMENT,
          "The tensor with handle '%.*s' is a %s tensor, but %s asks for dtype "
          "%s", (int)len, name, kiln_dtype_name(kiln_tensor_dtype(t)),
          kn_kc_node_name(c), kiln_dtype_name(want));
    kiln_tensor_free(t);
  } else {
    kn_kc_set_output_tensor(c, 0, t);
  }
}

static void delete_tensor_compute(void *p, kiln_kernel_context *c) {
  (void)p;
  kiln_session *s = kn_kc_session(c);
  size_t len;
  const char *name = handle_of(c, &len);
  if (!name) return;
  pthread_mutex_lock(&s->mu);
  kept *k = kn_strmap_getn(&s->handles, name, len);
  if (k) kn_strmap_remove(&s->handles, k->key);
  pthread_mutex_unlock(&s->mu);
  if (!k) {
    kn_kc_failf(c, KILN_INVALID_ARGUMENT,
          "Failed to delete a tensor with handle '%.*s' in the session store.",
          (int)len, name);
    return;
  }
  kiln_tensor_free(k->value);
  free(k);
}

const kn_core_kernel kn_handle_kernels[] = {
    {"GetSessionHandle", NULL, get_handle_compute, NULL, 0},
    {"GetSessionHandleV2", NULL, get_handle_compute, NULL, 0},
    {"GetSessionTensor", NULL, get_tensor_compute, NULL, 0},
    {"DeleteSessionTensor", NULL, delete_tensor_compute, NULL, 0},
};
const size_t kn_handle_kernels_count =
    sizeof kn_handle_kernels / sizeof kn_handle_kernels[0];
