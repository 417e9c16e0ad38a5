/*
** Graphs and operations. A graph is append-only: an operation, once
** committed, never changes, so its fields are read without locking; the
** graph's mutex guards only the op array, the name tables and the scopes.
*/
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "graph_def.h"
#include "graph_internal.h"
#include "status_internal.h"
#include "tensor_internal.h"

kiln_op kn_back_edge_op;

/* ------------------------------------------------------------------ graph */

KILN_API kiln_graph *kiln_graph_new(void) {
  kiln_graph *g = calloc(1, sizeof *g);
  if (!g) return NULL;
  if (pthread_mutex_init(&g->mu, NULL) != 0) {
    free(g);
    return NULL;
  }
  atomic_init(&g->refs, 1);
  atomic_init(&g->nops, 0);
  g->by_name.borrow_keys = true; /* op names live as long as the graph */
  g->producer = KN_GRAPH_DEF_VERSION;
  return g;
}

KILN_API kiln_graph *kiln_graph_ref(kiln_graph *g) {
  if (g) atomic_fetch_add_explicit(&g->refs, 1, memory_order_relaxed);
  return g;
}

KILN_API void kiln_graph_free(kiln_graph *g) {
  if (!g || atomic_fetch_sub_explicit(&g->refs, 1, memory_order_acq_rel) != 1)
    return;
  size_t n = atomic_load(&g->nops);
  for (size_t i = 0; i < n; i++) kn_op_free(g->ops[i]);
  kn_op_slabs_free(g->slabs);
  free(g->ops);
  kn_strmap_clear(&g->by_name);
  kn_strmap_clear(&g->used_names);
  for (int i = 0; i < g->nscopes; i++) free(g->scopes[i]);
  free(g->scopes);
  free(g->bad_consumers);
  free(g->library);
  pthread_mutex_destroy(&g->mu);
  free(g);
}

KILN_API size_t kiln_graph_num_ops(kiln_graph *g) {
  return g ? atomic_load(&g->nops) : 0;
}

KILN_API kiln_op *kiln_graph_op_at(kiln_graph *g, size_t i) {
  kiln_op *op = NULL;
  if (!g) return NULL;
  pthread_mutex_lock(&g->mu);
  if (i < atomic_load(&g->nops)) op = g->ops[i];
  pthread_mutex_unlock(&g->mu);
  return op;
}

kiln_op *kn_graph_find_locked(kiln_graph *g, const char *name) {
  return kn_strmap_get(&g->by_name, name);
}

KILN_API kiln_op *kiln_graph_op(kiln_graph *g, const char *name) {
  if (!g || !name) return NULL;
  pthread_mutex_lock(&g->mu);
  kiln_op *op = kn_graph_find_locked(g, name);
  pthread_mutex_unlock(&g->mu);
  return op;
}

KILN_API kiln_output kiln_graph_output(kiln_graph *g, const char *name,
                                       kiln_status *status) {
  kiln_output none = {NULL, -1};
  if (!g) {
    kn_errorf(status, KILN_INVALID_ARGUMENT, "no graph given to look up '%s' in",
              name ? name : "(null)");
    return none;
  }
  if (!name || !*name) {
    kn_errorf(status, KILN_INVALID_ARGUMENT, "no tensor name given");
    return none;
  }
  const char *colon = strrchr(name, ':');
  size_t len = colon ? (size_t)(colon - name) : strlen(name);
  long index = 0;
  if (colon) {
    char *end;
    if (!isdigit((unsigned char)colon[1]) ||
        (index = strtol(colon + 1, &end, 10), *end != '\0') || index > 1 << 20) {
      kn_errorf(status, KILN_INVALID_ARGUMENT,
                "malformed tensor name '%s': expected 'op' or 'op:index'", name);
      return none;
    }
  }
  pthread_mutex_lock(&g->mu);
  kiln_op *op = kn_strmap_getn(&g->by_name, name, len);
  pthread_mutex_unlock(&g->mu);
  if (!op) {
    kn_errorf(status, KILN_NOT_FOUND,
              "The name '%s' refers to a Tensor which does not exist. The "
              "operation, '%.*s', does not exist in the graph.", name,
              (int)len, name);
    return none;
  }
  if (index >= op->noutputs) {
    kn_errorf(status, KILN_OUT_OF_RANGE,
              "The name '%s' refers to a Tensor which does not exist. The "
              "operation, '%s', exists but only has %d outputs.", name,
              op->name, op->noutputs);
    return none;
  }
  kiln_status_reset(status);
  return (kiln_output){op, (int)index};
}

/* ------------------------------------------------- names and name scopes */

bool kn_valid_node_name(const char *name) {
  /* TensorFlow's [A-Za-z0-9.][A-Za-z0-9_.\-/>]* */
  if (!name || !(isalnum((unsigned char)name[0]) || name[0] == '.')) return false;
  for (const char *p = name + 1; *p; p++)
    if (!isalnum((unsigned char)*p) && !strchr("_.-/>", *p)) return false;
  return true;
}

/* A scope name also accepts TensorFlow's leading '_' and no '>'. */
static bool valid_scope_name(const char *name) {
  if (!name || !*name) return false;
  for (const char *p = name; *p; p++)
    if (!isalnum((unsigned char)*p) && !strchr("_.-/", *p)) return false;
  return true;
}

static void lower(char *s) {
  for (; *s; s++) *s = (char)tolower((unsigned char)*s);
}

static intptr_t used_count(kiln_graph *g, const char *key) {
  return (intptr_t)kn_strmap_get(&g->used_names, key);
}

/* Marks `name` as used (TensorFlow keys its counters by lower case).
** Names of any length: unique_name_locked makes long ones too. */
static void mark_used(kiln_graph *g, const char *name) {
  char small[256];
  size_t len = strlen(name);
  char *key = len < sizeof small ? small : malloc(len + 1);
  if (!key) return;
  memcpy(key, name, len + 1);
  lower(key);
  /* Counts are never 0, so a name already there keeps its count. */
  kn_strmap_add(&g->used_names, key, (void *)1);
  if (key != small) free(key);
}

/* Marks the names of ops committed since the last call, under g->mu.
** Commit leaves this to the next unique name: a graph imported whole
** (a loaded model) may never need one, and marking a million names costs
** as much as importing them. A failed mark only risks a later "_1"
** suffix colliding, which commit would then refuse: not an error. */
static void mark_committed(kiln_graph *g) {
  size_t n = atomic_load(&g->nops);
  if (g->nmarked < n) kn_strmap_reserve(&g->used_names, n - g->nmarked);
  for (; g->nmarked < n; g->nmarked++) mark_used(g, g->ops[g->nmarked]->name);
}

/* TensorFlow's Graph.unique_name with mark_as_used, under g->mu. Writes
** the name into a new string (caller frees) or returns NULL on OOM. */
static char *unique_name_locked(kiln_graph *g, const char *base) {
  mark_committed(g);
  const char *scope = g->nscopes ? g->scopes[g->nscopes - 1] : "";
  size_t n = strlen(scope) + strlen(base) + 24;
  char *name = malloc(n), *key = malloc(n);
  if (!name || !key) goto oom;
  snprintf(name, n, "%s%s", scope, base);
  strcpy(key, name);
  lower(key);
  intptr_t i = used_count(g, key);
  if (!kn_strmap_put(&g->used_names, key, (void *)(i + 1))) goto oom;
  if (i > 0) {
    size_t blen = strlen(key);
    char *try = malloc(n);
    if (!try) goto oom;
    /* Skip suffixes taken by explicit names ("a_1" created by hand). */
    do snprintf(try, n, "%.*s_%ld", (int)blen, key, (long)i++);
    while (used_count(g, try) > 0);
    if (!kn_strmap_put(&g->used_names, try, (void *)1)) {
      free(try);
      goto oom;
    }
    free(try);
    size_t nlen = strlen(name);
    snprintf(name + nlen, n - nlen, "_%ld", (long)(i - 1));
  }
  free(key);
  return name;
oom:
  free(name);
  free(key);
  return NULL;
}

char *kn_graph_unique_name_dup(kiln_graph *g, const char *base) {
  pthread_mutex_lock(&g->mu);
  char *name = unique_name_locked(g, base);
  pthread_mutex_unlock(&g->mu);
  return name;
}

KILN_API int kiln_graph_unique_name(kiln_graph *g, const char *base, char *buf,
                                    size_t cap, kiln_status *status) {
  if (!g) {
    kn_errorf(status, KILN_INVALID_ARGUMENT, "no graph given to make a name in");
    return -1;
  }
  if (!kn_valid_node_name(base)) {
    kn_errorf(status, KILN_INVALID_ARGUMENT, "'%s' is not a valid op name",
              base ? base : "(null)");
    return -1;
  }
  char *name = kn_graph_unique_name_dup(g, base);
  if (!name) {
    KN_OOM(status);
    return -1;
  }
  int len = (int)strlen(name);
  if (cap) snprintf(buf, cap, "%s", name);
  free(name);
  kiln_status_reset(status);
  return len;
}

KILN_API void kiln_graph_push_name_scope(kiln_graph *g, const char *name,
                                         kiln_status *status) {
  if (!g) {
    kn_errorf(status, KILN_INVALID_ARGUMENT, "no graph given to push scope '%s' on",
              name ? name : "(null)");
    return;
  }
  if (!valid_scope_name(name)) {
    kn_errorf(status, KILN_INVALID_ARGUMENT, "'%s' is not a valid scope name",
              name ? name : "(null)");
    return;
  }
  pthread_mutex_lock(&g->mu);
  char *scope = NULL;
  size_t len = strlen(name);
  if (name[len - 1] == '/') {
    scope = strdup(name);
  } else {
    char *u = unique_name_locked(g, name);
    if (u && (scope = malloc(strlen(u) + 2))) sprintf(scope, "%s/", u);
    free(u);
  }
  if (scope && g->nscopes == g->scopes_cap) {
    int cap = g->scopes_cap ? g->scopes_cap * 2 : 4;
    char **p = realloc(g->scopes, (size_t)cap * sizeof *p);
    if (p) {
      g->scopes = p;
      g->scopes_cap = cap;
    } else {
      free(scope);
      scope = NULL;
    }
  }
  if (scope) g->scopes[g->nscopes++] = scope;
  pthread_mutex_unlock(&g->mu);
  if (scope) kiln_status_reset(status);
  else KN_OOM(status);
}

KILN_API void kiln_graph_pop_name_scope(kiln_graph *g) {
  if (!g) return;
  pthread_mutex_lock(&g->mu);
  if (g->nscopes > 0) free(g->scopes[--g->nscopes]);
  pthread_mutex_unlock(&g->mu);
}

KILN_API int kiln_graph_name_scope(kiln_graph *g, char *buf, size_t cap) {
  if (!g) return -1;
  pthread_mutex_lock(&g->mu);
  const char *scope = g->nscopes ? g->scopes[g->nscopes - 1] : "";
  int len = (int)strlen(scope);
  if (cap) snprintf(buf, cap, "%s", scope);
  pthread_mutex_unlock(&g->mu);
  return len;
}

/* ---------------------------------------------------------------- commit */

kiln_code kn_graph_commit(kiln_graph *g, kiln_op **ops, size_t n,
                          kiln_status *s) {
  kiln_code code = KILN_OK;
  pthread_mutex_lock(&g->mu);
  size_t nops = atomic_load(&g->nops);
  if (nops + n > g->cap) {
    size_t cap = g->cap ? g->cap : 64;
    while (cap < nops + n) cap *= 2;
    kiln_op **p = realloc(g->ops, cap * sizeof *p);
    if (p) {
      g->ops = p;
      g->cap = cap;
    } else {
      code = KN_OOM(s);
    }
  }
  if (code == KILN_OK && !kn_strmap_reserve(&g->by_name, n)) code = KN_OOM(s);
  /* Names enter the table in one probe each (reserved, borrowed: no
  ** failure but a clash, with the graph or earlier in the batch); a clash
  ** takes the batch's names back out. */
  /* A big batch (an import) hashes names AHEAD ops early and prefetches
  ** their table positions, so the cache misses of one probe overlap the
  ** work of the ones before it. */
  enum { AHEAD = 8 };
  size_t hash[AHEAD], len[AHEAD];
  for (size_t i = 0; code == KILN_OK && i < n && i < AHEAD; i++) {
    len[i] = strlen(ops[i]->name);
    hash[i] = kn_strhash(ops[i]->name, len[i]);
    kn_strmap_prefetch(&g->by_name, hash[i]);
  }
  size_t added = 0;
  while (code == KILN_OK && added < n) {
    size_t slot = added % AHEAD, h = hash[slot], l = len[slot];
    if (added + AHEAD < n) {
      const char *next = ops[added + AHEAD]->name;
      len[slot] = strlen(next);
      hash[slot] = kn_strhash(next, len[slot]);
      kn_strmap_prefetch(&g->by_name, hash[slot]);
    }
    if (kn_strmap_add_hashed(&g->by_name, ops[added]->name, l, h,
                             ops[added]) == 1)
      added++;
    else
      code = kn_errorf(s, KILN_INVALID_ARGUMENT,
                       "Duplicate node name in graph: '%s'", ops[added]->name);
  }
  if (code != KILN_OK) {
    for (size_t i = 0; i < added; i++) kn_strmap_remove(&g->by_name, ops[i]->name);
  } else {
    /* Their names are marked used by the next unique name. */
    for (size_t i = 0; i < n; i++) {
      ops[i]->id = nops + i;
      g->ops[nops + i] = ops[i];
    }
    atomic_store(&g->nops, nops + n);
  }
  pthread_mutex_unlock(&g->mu);
  if (code == KILN_OK) kiln_status_reset(s);
  return code;
}

/* An op is one allocation with its arrays, strings and attr items
** (op_create.c); its attr values own memory of their own. */
void kn_op_free(kiln_op *op) {
  if (!op) return;
  kn_attr_map_clear(&op->attrs);
  if (!op->in_slab) free(op);
}

/* ------------------------------------------------------------------ slabs */

/* Blocks grow to SLAB_MAX: big enough that malloc's cost vanishes, small
** enough that the last block's unused tail stays minor and that malloc
** serves them from its heap (reusing freed memory) rather than with a
** fresh mmap each, whose pages would fault in again on every import. */
enum { SLAB_MIN = 1024, SLAB_MAX = (64 << 10) - 64 };

void *kn_op_slab_alloc(kn_op_slab **slabs, size_t n, size_t size_hint) {
  kn_op_slab *b = *slabs;
  n = (n + 15) & ~(size_t)15;
  if (!b || b->cap - b->used < n) {
    size_t cap = b ? b->cap * 2 : size_hint;
    if (cap < SLAB_MIN) cap = SLAB_MIN;
    if (cap > SLAB_MAX) cap = SLAB_MAX;
    if (cap < n) cap = n;
    kn_op_slab *nb = malloc(sizeof *nb + cap);
    if (!nb) return NULL;
    nb->used = 0;
    nb->cap = cap;
    nb->next = b;
    *slabs = b = nb;
  }
  void *p = b->data + b->used;
  b->used += n;
  return memset(p, 0, n);
}

void kn_op_slabs_free(kn_op_slab *slabs) {
  while (slabs) {
    kn_op_slab *next = slabs->next;
    free(slabs);
    slabs = next;
  }
}

void kn_graph_adopt_slabs_locked(kiln_graph *g, kn_op_slab *slabs) {
  if (!slabs) return;
  kn_op_slab *last = slabs;
  while (last->next) last = last->next;
  last->next = g->slabs;
  g->slabs = slabs;
}
