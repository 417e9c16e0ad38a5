/*
** Resource managers: containers of named resources. A manager is a hash
** map from "container<US>name" to a counted reference; containers are few
** and cleared rarely (close, reset), so clearing rebuilds the map.
*/
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "resource_mgr.h"
#include "status_internal.h"
#include "strmap.h"
#include "tensor_internal.h"

struct kn_resource_mgr {
  pthread_mutex_t mu;
  kn_strmap by_key;          /* key -> kn_resource (one reference each) */
  kn_resource **all;         /* the same resources, in creation order */
  size_t n, cap;
};

kn_resource_mgr *kn_resource_mgr_new(void) {
  kn_resource_mgr *m = calloc(1, sizeof *m);
  if (m) pthread_mutex_init(&m->mu, NULL);
  return m;
}

void kn_resource_mgr_free(kn_resource_mgr *m) {
  if (!m) return;
  kn_resource_mgr_clear(m, NULL, 0);
  free(m->all);
  kn_strmap_clear(&m->by_key);
  pthread_mutex_destroy(&m->mu);
  free(m);
}

static kn_resource_mgr *shared;
static pthread_once_t shared_once = PTHREAD_ONCE_INIT;

static void free_shared(void) { kn_resource_mgr_free(shared); }

static void make_shared(void) {
  shared = kn_resource_mgr_new();
  if (shared) atexit(free_shared);
}

kn_resource_mgr *kn_shared_resources(void) {
  pthread_once(&shared_once, make_shared);
  return shared;
}

kn_resource *kn_resource_ref(kn_resource *r) {
  if (r) atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
  return r;
}

void kn_resource_unref(kn_resource *r) {
  if (!r || atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) != 1)
    return;
  char *container = r->container, *name = r->name;
  r->kind->destroy(r);
  free(container);
  free(name);
}

/* "container\x1fname": neither part holds the unit separator in practice,
** and a clash would only make two resources one. */
static char *make_key(const char *container, const char *name) {
  size_t a = strlen(container), b = strlen(name);
  char *k = malloc(a + b + 2);
  if (!k) return NULL;
  memcpy(k, container, a);
  k[a] = '\x1f';
  memcpy(k + a + 1, name, b + 1);
  return k;
}

kn_resource *kn_resource_lookup_or_create(kn_resource_mgr *m,
                                          const char *container,
                                          const char *name,
                                          const kn_resource_kind *kind,
                                          kn_resource *(*create)(void *arg,
                                                                 kiln_status *st),
                                          void *arg, kiln_status *st) {
  if (!container || !*container) container = KN_DEFAULT_CONTAINER;
  char *key = make_key(container, name);
  if (!key) {
    KN_OOM(st);
    return NULL;
  }
  pthread_mutex_lock(&m->mu);
  kn_resource *r = kn_strmap_get(&m->by_key, key);
  if (r) {
    if (r->kind != kind) {
      kn_errorf(st, KILN_INVALID_ARGUMENT,
                "Resource %s/%s is a %s, not a %s", container, name,
                r->kind->name, kind->name);
      r = NULL;
    } else {
      kn_resource_ref(r);
    }
    goto out;
  }
  if (m->n == m->cap) {
    size_t cap = m->cap ? 2 * m->cap : 8;
    kn_resource **na = realloc(m->all, cap * sizeof *na);
    if (!na) {
      KN_OOM(st);
      goto out;
    }
    m->all = na;
    m->cap = cap;
  }
  if (!(r = create(arg, st))) goto out;
  atomic_init(&r->refs, 2);   /* the manager's and the caller's */
  r->kind = kind;
  r->container = strdup(container);
  r->name = strdup(name);
  if (!r->container || !r->name || !kn_strmap_put(&m->by_key, key, r)) {
    atomic_store(&r->refs, 1);
    kn_resource_unref(r);
    r = NULL;
    KN_OOM(st);
    goto out;
  }
  m->all[m->n++] = r;
out:
  pthread_mutex_unlock(&m->mu);
  free(key);
  return r;
}

static bool selected(const kn_resource *r, const char *const *containers, int n) {
  if (!containers) return true;
  for (int i = 0; i < n; i++) {
    const char *c = containers[i] && *containers[i] ? containers[i] : KN_DEFAULT_CONTAINER;
    if (strcmp(c, r->container) == 0) return true;
  }
  return false;
}

size_t kn_resource_mgr_clear(kn_resource_mgr *m, const char *const *containers,
                             int ncontainers) {
  if (!m) return 0;
  pthread_mutex_lock(&m->mu);
  size_t keep = 0, gone = 0, dropped_cap = m->n;
  kn_resource **drop = m->n ? malloc(m->n * sizeof *drop) : NULL;
  if (m->n && !drop) dropped_cap = 0;
  for (size_t i = 0; i < m->n; i++) {
    kn_resource *r = m->all[i];
    if (selected(r, containers, ncontainers) && gone < dropped_cap)
      drop[gone++] = r;
    else
      m->all[keep++] = r;
  }
  m->n = keep;
  /* The map is rebuilt from the survivors. A put failing for memory
  ** leaves one unfindable: its next lookup makes a fresh resource. */
  kn_strmap_clear(&m->by_key);
  for (size_t i = 0; i < keep; i++) {
    char *key = make_key(m->all[i]->container, m->all[i]->name);
    if (key) kn_strmap_put(&m->by_key, key, m->all[i]);
    free(key);
  }
  pthread_mutex_unlock(&m->mu);
  /* Destroyed outside the lock: a queue's destruction may wake steps. */
  for (size_t i = 0; i < gone; i++) kn_resource_unref(drop[i]);
  free(drop);
  return gone;
}

/* ------------------------------------------------------ resource tensors */

static void release_resource(void *data, size_t len, void *arg) {
  (void)data;
  (void)len;
  kn_resource_unref(arg);
}

kiln_tensor *kn_resource_tensor(kn_resource *r, kiln_dtype dtype, bool ref,
                                kiln_status *st) {
  kiln_tensor *t = kn_tensor_opaque(ref ? dtype : KILN_RESOURCE,
                                    release_resource, r, st);
  if (!t) return NULL;
  kn_resource_ref(r);
  t->resource = r;
  t->is_ref = ref;
  return t;
}

kn_resource *kn_tensor_resource(const kiln_tensor *t) {
  return t && t->dealloc == release_resource ? t->resource : NULL;
}
