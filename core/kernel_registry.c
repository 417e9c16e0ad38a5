/*
** The kernel registry: every kernel plugins registered, keyed by (op,
** device type, constraints).
**
** Placement asks "which kernel runs op X on device type Y for these
** attrs" for every node of every plan, so kernels are indexed by op name
** in a hash map, each op's list kept sorted by priority (registration
** order among equals): the first match is the answer. Constraints are
** normalised at registration, which makes "T=double,float" and
** "T=float,double" one key. Registrations happen while plugins load and
** lookups at any time, hence a read-write lock.
*/
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "kernel_registry.h"
#include "op_registry.h"
#include "plugin_loader.h"
#include "status_internal.h"
#include "strmap.h"

typedef struct op_kernels {
  kn_kernel **items;      /* by priority, highest first */
  int n, cap;
} op_kernels;

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static kn_strmap by_op;         /* op name -> op_kernels */
static kn_kernel **all;         /* registration order */
static size_t nall, capall;

/* ------------------------------------------------------------ constraints */

void kn_constraints_free(kn_type_constraint *cons, int ncons) {
  for (int i = 0; i < ncons; i++) {
    free(cons[i].attr);
    free(cons[i].types);
  }
  free(cons);
}

static int cmp_cons(const void *a, const void *b) {
  return strcmp(((const kn_type_constraint *)a)->attr,
                ((const kn_type_constraint *)b)->attr);
}

static int cmp_dtype(const void *a, const void *b) {
  return (int)*(const kiln_dtype *)a - (int)*(const kiln_dtype *)b;
}

static bool attr_name_ok(const char *s, size_t n) {
  if (n == 0 || !isalpha((unsigned char)s[0])) return false;
  for (size_t i = 1; i < n; i++)
    if (!isalnum((unsigned char)s[i]) && s[i] != '_') return false;
  return true;
}

static void trim(const char **b, const char **e) {
  while (*b < *e && isspace((unsigned char)**b)) (*b)++;
  while (*e > *b && isspace((unsigned char)(*e)[-1])) (*e)--;
}

/* Parses one "attr=type,type" part [b, e) into *c. */
static kiln_code parse_part(const char *b, const char *e,
                            kn_type_constraint *c, kiln_status *s) {
  const char *eq = memchr(b, '=', (size_t)(e - b));
  int len = (int)(e - b);
  if (!eq)
    return kn_errorf(s, KILN_INVALID_ARGUMENT,
                     "constraint '%.*s' has no '=' (expected ATTR=type,...)",
                     len, b);
  const char *ab = b, *ae = eq;
  trim(&ab, &ae);
  if (!attr_name_ok(ab, (size_t)(ae - ab)))
    return kn_errorf(s, KILN_INVALID_ARGUMENT,
                     "constraint '%.*s': '%.*s' is not an attr name", len, b,
                     (int)(ae - ab), ab);
  if (!(c->attr = strndup(ab, (size_t)(ae - ab)))) return KN_OOM(s);
  for (const char *t = eq + 1; t < e;) {
    const char *te = memchr(t, ',', (size_t)(e - t));
    if (!te) te = e;
    const char *tb = t, *tend = te;
    trim(&tb, &tend);
    t = te + 1;
    if (tb == tend) continue;
    char name[40];
    kiln_dtype dt = KILN_INVALID_DTYPE;
    if ((size_t)(tend - tb) < sizeof name) {
      memcpy(name, tb, (size_t)(tend - tb));
      name[tend - tb] = '\0';
      dt = kiln_dtype_from_name(name);
    }
    if (dt == KILN_INVALID_DTYPE || (int)dt >= KILN_REF_OFFSET)
      return kn_errorf(s, KILN_INVALID_ARGUMENT,
                       "constraint '%.*s': '%.*s' is not a data type", len, b,
                       (int)(tend - tb), tb);
    kiln_dtype *nt = realloc(c->types, (size_t)(c->ntypes + 1) * sizeof *nt);
    if (!nt) return KN_OOM(s);
    c->types = nt;
    nt[c->ntypes++] = dt;
  }
  if (c->ntypes == 0)
    return kn_errorf(s, KILN_INVALID_ARGUMENT,
                     "constraint '%.*s' lists no types", len, b);
  qsort(c->types, (size_t)c->ntypes, sizeof *c->types, cmp_dtype);
  int n = 1;
  for (int i = 1; i < c->ntypes; i++)
    if (c->types[i] != c->types[n - 1]) c->types[n++] = c->types[i];
  c->ntypes = n;
  return KILN_OK;
}

static char *format_constraints(const kn_type_constraint *cons, int ncons) {
  size_t cap = 1;
  for (int i = 0; i < ncons; i++) {
    cap += strlen(cons[i].attr) + 2;
    for (int j = 0; j < cons[i].ntypes; j++)
      cap += strlen(kiln_dtype_name(cons[i].types[j])) + 1;
  }
  char *out = malloc(cap), *o = out;
  if (!out) return NULL;
  *o = '\0';
  for (int i = 0; i < ncons; i++) {
    o += sprintf(o, "%s%s=", i ? ";" : "", cons[i].attr);
    for (int j = 0; j < cons[i].ntypes; j++)
      o += sprintf(o, "%s%s", j ? "," : "", kiln_dtype_name(cons[i].types[j]));
  }
  return out;
}

kiln_code kn_constraints_parse(const char *text, kn_type_constraint **cons,
                               int *ncons, char **norm, kiln_status *s) {
  kn_type_constraint *c = NULL;
  int n = 0;
  kiln_code rc = KILN_OK;
  *cons = NULL;
  *ncons = 0;
  *norm = NULL;
  for (const char *p = text ? text : ""; *p && rc == KILN_OK;) {
    const char *e = strchr(p, ';');
    if (!e) e = p + strlen(p);
    const char *b = p, *end = e;
    trim(&b, &end);
    p = *e ? e + 1 : e;
    if (b == end) continue;
    kn_type_constraint *nc = realloc(c, (size_t)(n + 1) * sizeof *nc);
    if (!nc) {
      rc = KN_OOM(s);
      break;
    }
    c = nc;
    memset(&c[n], 0, sizeof c[n]);
    n++;
    rc = parse_part(b, end, &c[n - 1], s);
  }
  if (rc == KILN_OK && n > 1) {
    qsort(c, (size_t)n, sizeof *c, cmp_cons);
    for (int i = 1; i < n; i++)
      if (strcmp(c[i].attr, c[i - 1].attr) == 0) {
        rc = kn_errorf(s, KILN_INVALID_ARGUMENT,
                       "constraints '%s' name attr '%s' twice", text,
                       c[i].attr);
        break;
      }
  }
  if (rc == KILN_OK && !(*norm = format_constraints(c, n))) rc = KN_OOM(s);
  if (rc != KILN_OK) {
    kn_constraints_free(c, n);
    return rc;
  }
  *cons = c;
  *ncons = n;
  return KILN_OK;
}

/* ------------------------------------------------------------ registration */

static void kernel_free(kn_kernel *k) {
  if (!k) return;
  free(k->op);
  free(k->device_type);
  free(k->constraints);
  free(k->host_memory_args);
  kn_constraints_free(k->cons, k->ncons);
  free(k);
}

static bool device_type_ok(const char *t) {
  if (!t || !isupper((unsigned char)t[0])) return false;
  for (const char *c = t + 1; *c; c++)
    if (!isupper((unsigned char)*c) && !isdigit((unsigned char)*c) && *c != '_')
      return false;
  return true;
}

/* Builds the kernel from the plugin's struct, or fails naming the field. */
static kn_kernel *make_kernel(kn_plugin *p, const kiln_kernel_def *def,
                              kiln_status *s) {
  const char *who = kn_plugin_label(p);
  size_t min = KN_ABI1_SIZE(kiln_kernel_def, user);
  if (!def) {
    kn_errorf(s, KILN_INVALID_ARGUMENT, "%s: register_kernel got NULL", who);
    return NULL;
  }
  if (def->struct_size < min) {
    kn_errorf(s, KILN_INVALID_ARGUMENT,
              "%s: kiln_kernel_def.struct_size is %zu, smaller than the %zu "
              "bytes of plugin ABI 1 (op '%s')", who, def->struct_size, min,
              def->struct_size > offsetof(kiln_kernel_def, op) && def->op
                  ? def->op : "?");
    return NULL;
  }
  kn_kernel *k = calloc(1, sizeof *k);
  if (!k) {
    KN_OOM(s);
    return NULL;
  }
  memcpy(&k->def, def,
         def->struct_size < sizeof k->def ? def->struct_size : sizeof k->def);
  k->def.struct_size = sizeof k->def;
  k->plugin = p;
  const char *op = k->def.op, *dt = k->def.device_type;
  if (!op || !*op)
    kn_errorf(s, KILN_INVALID_ARGUMENT, "%s: kiln_kernel_def.op is %s", who,
              op ? "empty" : "NULL");
  else if (!dt)
    kn_errorf(s, KILN_INVALID_ARGUMENT,
              "%s: kiln_kernel_def.device_type is NULL (op '%s')", who, op);
  else if (!device_type_ok(dt))
    kn_errorf(s, KILN_INVALID_ARGUMENT,
              "%s: kiln_kernel_def.device_type '%s' (op '%s') is not a "
              "device type name ([A-Z][A-Z0-9_]*)", who, dt, op);
  else if (!k->def.compute)
    kn_errorf(s, KILN_INVALID_ARGUMENT,
              "%s: kiln_kernel_def.compute is NULL (op '%s' on %s)", who, op,
              dt);
  else if (kn_constraints_parse(k->def.constraints, &k->cons, &k->ncons,
                                &k->constraints, s) != KILN_OK)
    kn_status_prefix(s, "%s: kiln_kernel_def.constraints of op '%s' on %s: ",
                     who, op, dt);
  else if (!(k->op = strdup(op)) || !(k->device_type = strdup(dt)) ||
           !(k->host_memory_args = strdup(k->def.host_memory_args
                                              ? k->def.host_memory_args : "")))
    KN_OOM(s);
  else {
    k->def.op = k->op;
    k->def.device_type = k->device_type;
    k->def.constraints = k->constraints;
    k->def.host_memory_args = k->host_memory_args;
    return k;
  }
  kernel_free(k);
  return NULL;
}

static bool same_key(const kn_kernel *a, const kn_kernel *b) {
  return strcmp(a->device_type, b->device_type) == 0 &&
         strcmp(a->constraints, b->constraints) == 0;
}

kiln_code kn_kernel_register(kn_plugin *p, const kiln_kernel_def *def,
                             kiln_status *s) {
  return kn_kernel_register_flags(p, def, 0, s);
}

kiln_code kn_kernel_register_flags(kn_plugin *p, const kiln_kernel_def *def,
                                   int flags, kiln_status *s) {
  kiln_code rc = KILN_OK;
  kn_kernel *k = make_kernel(p, def, s);
  if (!k) return kiln_status_code(s) ? kiln_status_code(s)
                                     : KILN_INVALID_ARGUMENT;
  k->flags = flags;
  pthread_rwlock_wrlock(&lock);
  op_kernels *list = kn_strmap_get(&by_op, k->op);
  for (int i = 0; list && i < list->n; i++)
    if (same_key(list->items[i], k)) {
      rc = kn_errorf(s, KILN_ALREADY_EXISTS,
                     "kernel for op '%s' on %s with constraints '%s' is "
                     "already registered by %s; %s cannot register it again",
                     k->op, k->device_type, k->constraints,
                     kn_plugin_label(list->items[i]->plugin),
                     kn_plugin_label(p));
      goto done;
    }
  if (!list) {
    if (!(list = calloc(1, sizeof *list)) ||
        !kn_strmap_put(&by_op, k->op, list)) {
      free(list);
      rc = KN_OOM(s);
      goto done;
    }
  }
  if (list->n == list->cap) {
    int cap = list->cap ? 2 * list->cap : 4;
    kn_kernel **ni = realloc(list->items, (size_t)cap * sizeof *ni);
    if (!ni) {
      rc = KN_OOM(s);
      goto done;
    }
    list->items = ni;
    list->cap = cap;
  }
  if (nall == capall) {
    size_t cap = capall ? 2 * capall : 64;
    kn_kernel **na = realloc(all, cap * sizeof *na);
    if (!na) {
      rc = KN_OOM(s);
      goto done;
    }
    all = na;
    capall = cap;
  }
  /* After the last kernel of at least its priority: equals keep
  ** registration order. */
  int at = list->n;
  while (at > 0 && list->items[at - 1]->def.priority < k->def.priority) at--;
  memmove(&list->items[at + 1], &list->items[at],
          (size_t)(list->n - at) * sizeof *list->items);
  list->items[at] = k;
  list->n++;
  all[nall++] = k;
  k = NULL;
done:
  pthread_rwlock_unlock(&lock);
  kernel_free(k);
  return rc;
}

void kn_kernels_remove_plugin(const kn_plugin *p) {
  pthread_rwlock_wrlock(&lock);
  size_t keep = 0;
  for (size_t i = 0; i < nall; i++) {
    kn_kernel *k = all[i];
    if (k->plugin != p) {
      all[keep++] = k;
      continue;
    }
    op_kernels *list = kn_strmap_get(&by_op, k->op);
    for (int j = 0; list && j < list->n; j++)
      if (list->items[j] == k) {
        memmove(&list->items[j], &list->items[j + 1],
                (size_t)(list->n - j - 1) * sizeof *list->items);
        list->n--;
        break;
      }
    kernel_free(k);
  }
  nall = keep;
  pthread_rwlock_unlock(&lock);
}

void kn_kernels_clear(void) {
  pthread_rwlock_wrlock(&lock);
  for (size_t i = 0; i < by_op.cap; i++)
    if (by_op.slots[i].key) {
      op_kernels *list = by_op.slots[i].value;
      free(list->items);
      free(list);
    }
  kn_strmap_clear(&by_op);
  for (size_t i = 0; i < nall; i++) kernel_free(all[i]);
  free(all);
  all = NULL;
  nall = capall = 0;
  pthread_rwlock_unlock(&lock);
}

/* ----------------------------------------------------------------- lookup */

static void put(char *buf, size_t cap, const char *fmt, ...) KN_PRINTF(3, 4);
static void put(char *buf, size_t cap, const char *fmt, ...) {
  va_list ap;
  if (!buf || cap == 0) return;
  va_start(ap, fmt);
  vsnprintf(buf, cap, fmt, ap);
  va_end(ap);
}

/* Whether the node's attrs satisfy k's constraints; the reason in buf
** when not. A list(type) attr must have every element allowed. */
static bool satisfies(const kn_kernel *k, const kn_attr_map *attrs,
                      char *buf, size_t cap) {
  for (int i = 0; i < k->ncons; i++) {
    const kn_type_constraint *c = &k->cons[i];
    const kn_attr_value *v = attrs ? kn_attr_map_get(attrs, c->attr) : NULL;
    if (!v) {
      put(buf, cap, "attr '%s' is not set", c->attr);
      return false;
    }
    if (v->type != KILN_ATTR_TYPE) {
      put(buf, cap, "attr '%s' is %s, not a type", c->attr,
          kn_attr_kind_name(v->type, v->is_list));
      return false;
    }
    int n = v->is_list ? v->list.n : 1;
    for (int e = 0; e < n; e++) {
      kiln_dtype t = v->is_list ? v->list.v.t[e] : v->v.t;
      bool ok = false;
      for (int j = 0; j < c->ntypes && !ok; j++) ok = c->types[j] == t;
      if (ok) continue;
      const char *tn = kiln_dtype_name(t);
      char set[256];
      size_t used = 0;
      set[0] = '\0';
      for (int j = 0; j < c->ntypes && used < sizeof set; j++) {
        int w = snprintf(set + used, sizeof set - used, "%s%s", j ? ", " : "",
                         kiln_dtype_name(c->types[j]));
        used += w > 0 ? (size_t)w : 0;
      }
      put(buf, cap, "%s=%s not in {%s}", c->attr, tn ? tn : "invalid", set);
      return false;
    }
  }
  return true;
}

const kn_kernel *kn_kernel_find(const char *op, const char *device_type,
                                const kn_attr_map *attrs) {
  const kn_kernel *best = NULL;
  if (!op || !device_type) return NULL;
  pthread_rwlock_rdlock(&lock);
  op_kernels *list = kn_strmap_get(&by_op, op);
  for (int i = 0; list && i < list->n && !best; i++) {
    const kn_kernel *k = list->items[i];
    if (strcasecmp(k->device_type, device_type) == 0 &&
        satisfies(k, attrs, NULL, 0))
      best = k;
  }
  pthread_rwlock_unlock(&lock);
  return best;
}

int kn_kernel_device_types(const char *op, const kn_attr_map *attrs,
                           char *buf, size_t cap) {
  int count = 0;
  size_t used = 0;
  if (buf && cap) buf[0] = '\0';
  if (!op) return 0;
  pthread_rwlock_rdlock(&lock);
  op_kernels *list = kn_strmap_get(&by_op, op);
  for (int i = 0; list && i < list->n; i++) {
    const kn_kernel *k = list->items[i];
    bool seen = false;
    for (int j = 0; j < i && !seen; j++)
      seen = strcmp(list->items[j]->device_type, k->device_type) == 0 &&
             satisfies(list->items[j], attrs, NULL, 0);
    if (seen || !satisfies(k, attrs, NULL, 0)) continue;
    if (buf && used < cap) {
      int w = snprintf(buf + used, cap - used, "%s%s", count ? ", " : "",
                       k->device_type);
      used += w > 0 ? (size_t)w : 0;
    }
    count++;
  }
  pthread_rwlock_unlock(&lock);
  return count;
}

const char *kn_kernel_mismatch(const kn_kernel *k, const kn_attr_map *attrs,
                               char *buf, size_t cap) {
  if (!k) return NULL;
  if (satisfies(k, attrs, buf, cap)) return NULL;
  return buf && cap ? buf : "constraints not met";
}

size_t kn_kernel_count(void) {
  pthread_rwlock_rdlock(&lock);
  size_t n = nall;
  pthread_rwlock_unlock(&lock);
  return n;
}

const kn_kernel *kn_kernel_at(size_t i) {
  pthread_rwlock_rdlock(&lock);
  const kn_kernel *k = i < nall ? all[i] : NULL;
  pthread_rwlock_unlock(&lock);
  return k;
}
