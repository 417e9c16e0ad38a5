/*
** Placement: each node of a plan goes to one of the session's devices.
** Explicit or partial device requests are honoured, colocation groups
** ("_class" = loc:@other) share a device, and a device is only chosen when
** it has a kernel for the node's op and dtypes. Without a request a node
** follows its first input's device when that device can run it, so chains
** stay on one device; otherwise the most preferred device wins.
*/
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "plugin_loader.h"
#include "session_internal.h"
#include "status_internal.h"

/* A parsed device request: type NULL / index -1 mean "any". */
typedef struct spec {
  char type[32];
  int index;
  bool any_type;
  bool bad_job;    /* names a job/replica/task other than this process */
} spec;

/* Parses TensorFlow's device strings: "/job:localhost/replica:0/task:0/
** device:CPU:0", "/device:GPU:1", "/gpu:0", "/cpu:*", "CPU:0", "". */
static bool parse_spec(const char *str, spec *sp) {
  memset(sp, 0, sizeof *sp);
  sp->index = -1;
  sp->any_type = true;
  const char *p = str;
  while (*p) {
    while (*p == '/') p++;
    if (!*p) break;
    const char *end = strchr(p, '/');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    char part[128];
    if (len >= sizeof part) return false;
    memcpy(part, p, len);
    part[len] = '\0';
    p += len;
    char *colon = strchr(part, ':');
    if (!colon) return false;
    *colon = '\0';
    const char *key = part, *val = colon + 1;
    if (strcmp(key, "job") == 0) {
      if (strcmp(val, "localhost") != 0 && strcmp(val, "*") != 0) sp->bad_job = true;
    } else if (strcmp(key, "replica") == 0 || strcmp(key, "task") == 0) {
      if (strcmp(val, "0") != 0 && strcmp(val, "*") != 0) sp->bad_job = true;
    } else {
      /* "device:CPU:0", or the legacy "cpu:0" / "gpu:*" / "CPU:0". */
      const char *type = key, *idx = val;
      if (strcmp(key, "device") == 0) {
        char *c2 = strchr((char *)val, ':');
        type = val;
        idx = c2 ? c2 + 1 : NULL;
        if (c2) *c2 = '\0';
      }
      if (strlen(type) >= sizeof sp->type || !*type) return false;
      for (size_t i = 0; type[i]; i++) {
        if (!isalnum((unsigned char)type[i]) && type[i] != '_') return false;
        sp->type[i] = (char)toupper((unsigned char)type[i]);
      }
      sp->any_type = false;
      if (idx && strcmp(idx, "*") != 0) {
        char *e;
        long v = strtol(idx, &e, 10);
        if (*idx == '\0' || *e || v < 0 || v > 1 << 20) return false;
        sp->index = (int)v;
      }
    }
  }
  return true;
}

static bool spec_matches(const spec *sp, const kn_device *d) {
  if (sp->bad_job) return false;
  if (!sp->any_type && strcasecmp(sp->type, d->type->type) != 0) return false;
  return sp->index < 0 || sp->index == d->index;
}

/* Union-find over plan nodes for colocation. */
static int find_root(int *parent, int i) {
  while (parent[i] != i) i = parent[i] = parent[parent[i]];
  return i;
}

static void append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
    KN_PRINTF(4, 5);
static void append(char **buf, size_t *len, size_t *cap, const char *fmt, ...) {
  va_list ap;
  for (;;) {
    va_start(ap, fmt);
    int n = vsnprintf(*buf ? *buf + *len : NULL, *buf ? *cap - *len : 0, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (*buf && *len + (size_t)n < *cap) {
      *len += (size_t)n;
      return;
    }
    size_t nc = (*cap ? *cap : 128);
    while (nc <= *len + (size_t)n) nc *= 2;
    char *p = realloc(*buf, nc);
    if (!p) return;
    *buf = p;
    *cap = nc;
  }
}

/* The strings parts[0..n) joined in a new string, or NULL when out of
** memory. Every node gets one (run metadata reports it): joined by hand,
** as formatting it cost more than the rest of placement. */
static char *concat(const char *const *parts, size_t n) {
  size_t len = 0, pos = 0;
  for (size_t i = 0; i < n; i++) len += strlen(parts[i]);
  char *out = malloc(len + 1);
  if (!out) return NULL;
  for (size_t i = 0; i < n; i++) {
    size_t l = strlen(parts[i]);
    memcpy(out + pos, parts[i], l);
    pos += l;
  }
  out[pos] = '\0';
  return out;
}

/* Whether str is parts[0..n) joined. Nodes placed alike share the
** previous node's account (plan.c frees a run of equal pointers once):
** a million nodes would otherwise hold a million copies of one line. */
static bool is_concat(const char *str, const char *const *parts, size_t n) {
  for (size_t i = 0; i < n; i++) {
    size_t l = strlen(parts[i]);
    if (strncmp(str, parts[i], l) != 0) return false;
    str += l;
  }
  return *str == '\0';
}

/* Kernel lookups remembered within one placement: the registry's answer
** depends only on the op type, the device type and the attrs a kernel's
** constraints read (type attrs), so a node like a recent one gets the
** same kernel without the registry's lock and hash lookup. */
enum { KCACHE = 4 };
typedef struct kcache {
  struct {
    const kiln_op *op;
    const kn_device_type *type;
    const kn_kernel *kernel;
  } e[KCACHE];
  int next;
} kcache;

/* Whether ops a and b get the same kernel on any device type. */
static bool same_kernel_key(const kiln_op *a, const kiln_op *b) {
  if (a->def != b->def || a->attrs.n != b->attrs.n) return false;
  for (int i = 0; i < a->attrs.n; i++) {
    const kn_attr *x = &a->attrs.items[i], *y = &b->attrs.items[i];
    if (x->value.type != y->value.type || x->value.is_list != y->value.is_list ||
        strcmp(x->name, y->name) != 0)
      return false;
    if (x->value.type == KILN_ATTR_TYPE && !kn_attr_value_equal(&x->value, &y->value))
      return false;
  }
  return true;
}

static const kn_kernel *find_kernel(kcache *kc, const kiln_op *op,
                                    const kn_device_type *type) {
  for (int i = 0; i < KCACHE; i++)
    if (kc->e[i].op && kc->e[i].type == type && same_kernel_key(kc->e[i].op, op))
      return kc->e[i].kernel;
  const kn_kernel *k = kn_kernel_find(op->type, type->type, &op->attrs);
  kc->e[kc->next].op = op;
  kc->e[kc->next].type = type;
  kc->e[kc->next].kernel = k;
  kc->next = (kc->next + 1) % KCACHE;
  return k;
}

/* The names of the session's device types, "CPU, VULKAN". */
static void device_types(kiln_session *s, char *buf, size_t cap) {
  size_t pos = 0;
  buf[0] = '\0';
  for (int i = 0; i < s->ndevices; i++) {
    const char *t = s->devices[i]->type->type;
    bool seen = false;
    for (int j = 0; j < i; j++)
      if (strcmp(s->devices[j]->type->type, t) == 0) seen = true;
    if (!seen && pos < cap)
      pos += (size_t)snprintf(buf + pos, cap - pos, "%s%s", pos ? ", " : "", t);
  }
}

/* Says why no device could be found when none are loaded at all. */
static kiln_code no_devices(kiln_session *s, const kiln_op *op, kiln_status *st) {
  char tried[1024] = "";
  size_t pos = 0;
  for (size_t i = 0; i < kn_plugin_count() && pos < sizeof tried; i++) {
    const kn_plugin *pl = kn_plugin_at(i);
    pos += (size_t)snprintf(tried + pos, sizeof tried - pos, "%s%s (%s)",
                            pos ? "; " : "", *pl->path ? pl->path : pl->name,
                            pl->code == KILN_OK ? "loaded, no devices" : pl->message);
  }
  (void)s;
  return kn_errorf(st, KILN_INVALID_ARGUMENT,
                   "Cannot assign a device for operation '%s' (%s): no devices "
                   "are available: %s%s. Set KILN_PLUGIN_PATH or the config "
                   "file's [plugins] dirs to where the kiln-*.so plugins are.",
                   op->name, op->type, pos ? "plugins tried: " : "no plugin was found",
                   tried);
}

kiln_code kn_place(kiln_session *s, kn_plan *p, kiln_status *st) {
  int n = p->nnodes;
  int *parent = malloc(((size_t)n + 1) * sizeof *parent);
  int *group_req = malloc(((size_t)n + 1) * sizeof *group_req);
  spec *specs = malloc(((size_t)n + 1) * sizeof *specs);
  kiln_code code = KILN_OK;
  if (!parent || !group_req || !specs) {
    free(parent);
    free(group_req);
    free(specs);
    return KN_OOM(st);
  }
  /* Device requests and colocation in one pass over the ops (each pass
  ** over a big plan reads every op from memory again). Colocation joins
  ** nodes with the ops their "_class" names; plan nodes are found by op
  ** id, made on first need: a scan per name would make placement
  ** quadratic in graphs where many ops carry "_class". */
  for (int i = 0; i < n; i++) parent[i] = i;
  int *node_of = NULL;
  size_t nops = 0;
  for (int i = 0; i < n; i++) {
    const kiln_op *op = p->nodes[i].op;
    if (!parse_spec(op->device, &specs[i])) {
      code = kn_errorf(st, KILN_INVALID_ARGUMENT,
                       "Malformed device specification '%s' in node '%s' (%s)",
                       op->device, op->name, op->type);
      free(node_of);
      goto done;
    }
    const kn_attr_value *cls = kn_attr_map_get(&op->attrs, "_class");
    if (!cls || !cls->is_list || cls->type != KILN_ATTR_STRING) continue;
    for (int k = 0; k < cls->list.n; k++) {
      const char *loc = cls->list.v.s[k].data;
      if (strncmp(loc, "loc:@", 5) != 0) continue;
      kiln_op *other = kiln_graph_op(s->graph, loc + 5);
      if (!other) continue;
      if (!node_of) {
        nops = kiln_graph_num_ops(s->graph);
        if (!(node_of = malloc((nops + 1) * sizeof *node_of))) {
          code = KN_OOM(st);
          goto done;
        }
        for (size_t j = 0; j < nops; j++) node_of[j] = -1;
        for (int j = 0; j < n; j++) node_of[p->nodes[j].op->id] = j;
      }
      int j = other->id < nops ? node_of[other->id] : -1;
      if (j >= 0) parent[find_root(parent, i)] = find_root(parent, j);
    }
  }
  free(node_of);

  /* The request that binds each colocation group: its first member, in
  ** plan order, that asks for a device (one pass, not one per node). */
  for (int j = 0; j < n; j++) group_req[j] = -1;
  for (int j = 0; j < n; j++) {
    int r = find_root(parent, j);
    if (group_req[r] < 0 && (!specs[j].any_type || specs[j].index >= 0 || specs[j].bad_job))
      group_req[r] = j;
  }

  /* Node by node in plan order, so a node's inputs are placed before it;
  ** a colocation group is decided by its first member for all. */
  kcache kc;
  memset(&kc, 0, sizeof kc);
  for (int i = 0; i < n && code == KILN_OK; i++) {
    kn_node *nd = &p->nodes[i];
    const kiln_op *op = nd->op;
    int root = find_root(parent, i);
    if (root != i && p->nodes[root].device) {
      /* Group decided: still needs a kernel there. */
      nd->device = p->nodes[root].device;
    }
    if (s->ndevices == 0) {
      code = no_devices(s, op, st);
      break;
    }
    char *why = NULL;
    size_t wlen = 0, wcap = 0;
    kn_device *chosen = NULL;
    const kn_kernel *kernel = NULL;
    bool soft = false;
    /* Requests of every member of the group; `asker` made the request
    ** that binds this node, for messages. */
    spec *req = &specs[i];
    const kiln_op *asker = op;
    if (req->any_type && req->index < 0 && !req->bad_job && group_req[root] >= 0) {
      req = &specs[group_req[root]];
      asker = p->nodes[group_req[root]].op;
    }
    bool requested = !req->any_type || req->index >= 0 || req->bad_job;
    /* Preferred order: the group's device if decided, the first input's
    ** device, then the session's order. */
    kn_device *pref[2] = {nd->device, NULL};
    if (!pref[0] && op->ninputs > 0) {
      int prod = p->slot_producer[nd->in_slot[0]];
      if (prod >= 0) pref[1] = p->nodes[prod].device;
    }
    for (int pass = 0; pass < 2 && !chosen; pass++) {
      /* pass 0 honours the request; pass 1 is soft placement. */
      if (pass == 1 && !(requested && s->config.allow_soft_placement)) break;
      for (int c = -2; c < s->ndevices && !chosen; c++) {
        kn_device *d = c < 0 ? pref[c + 2] : s->devices[c];
        if (!d) continue;
        if (nd->device && d != nd->device) continue;
        if (pass == 0 && requested && !spec_matches(req, d)) continue;
        const kn_kernel *k = find_kernel(&kc, op, d->type);
        if (k) {
          chosen = d;
          kernel = k;
          soft = pass == 1;
        } else if (c >= 0) {
          append(&why, &wlen, &wcap, "%s%s: no %s kernel for these dtypes",
                 wlen ? "; " : "", d->name, op->type);
        }
      }
    }
    if (!chosen) {
      /* The request named in messages: its own, or the one it inherits
      ** through colocation. */
      char reqdesc[512], have[256], types[256];
      if (asker == op)
        snprintf(reqdesc, sizeof reqdesc, "'%s'", op->device);
      else
        snprintf(reqdesc, sizeof reqdesc,
                 "'%s' (colocated with node '%s', which requires '%s')",
                 op->device, asker->name, asker->device);
      kn_kernel_device_types(op->type, &op->attrs, have, sizeof have);
      device_types(s, types, sizeof types);
      bool any_match = false;
      for (int c = 0; requested && c < s->ndevices; c++)
        any_match = any_match || spec_matches(req, s->devices[c]);
      if (requested && !any_match) {
        char names[1024] = "";
        size_t pos = 0;
        for (int c = 0; c < s->ndevices && pos < sizeof names; c++)
          pos += (size_t)snprintf(names + pos, sizeof names - pos, "%s%s",
                                  c ? ", " : "", s->devices[c]->name);
        code = kn_errorf(st, KILN_INVALID_ARGUMENT,
                         "Cannot assign a device for operation '%s': Could not "
                         "satisfy explicit device specification %s because no "
                         "devices matching that specification are registered in "
                         "this process; available devices: %s", op->name, reqdesc,
                         names);
      } else if (requested)
        code = kn_errorf(st, KILN_INVALID_ARGUMENT,
                         "Cannot assign a device for operation '%s': Could not "
                         "satisfy explicit device specification %s because no "
                         "supported kernel for %s devices is available. Devices "
                         "with a kernel for %s: [%s]. Registered devices: [%s]%s",
                         op->name, reqdesc, req->any_type ? "the requested" : req->type,
                         op->type, have, types,
                         *have ? " (allow_soft_placement would use one of them)" : "");
      else
        code = kn_errorf(st, KILN_INVALID_ARGUMENT,
                         "No kernel is registered for op '%s' used by node '%s' "
                         "with these attrs on any device. Devices with a kernel "
                         "for %s (other dtypes): [%s]. Registered devices: [%s]",
                         op->type, op->name, op->type, have, types);
      free(why);
      break;
    }
    nd->device = chosen;
    nd->kernel = kernel;
    if (root != i && !p->nodes[root].device) p->nodes[root].device = chosen;
    const char *parts[] = {
      chosen->name, requested ? " (requested '" : "", requested ? asker->device : "",
      requested ? "')" : "", soft ? ", moved by soft placement" : "",
      kernel ? "; kernel from plugin " : "", kernel ? kernel->plugin->name : "",
      why ? "; rejected: " : "", why ? why : ""};
    size_t nparts = sizeof parts / sizeof parts[0];
    const char *prev = i > 0 ? p->nodes[i - 1].placement : NULL;
    nd->placement = prev && is_concat(prev, parts, nparts) ? (char *)prev
                                                            : concat(parts, nparts);
    free(why);
    if (s->config.log_device_placement)
      fprintf(stderr, "%s: (%s): %s\n", op->name, op->type, chosen->name);
  }
  /* Open the devices this plan uses (first use initialises them); a node
  ** on the previous node's device shares its state. */
  for (int i = 0; i < n && code == KILN_OK; i++) {
    kn_node *nd = &p->nodes[i];
    if (i > 0 && nd->device == p->nodes[i - 1].device) {
      nd->device_state = p->nodes[i - 1].device_state;
      continue;
    }
    nd->device_state = kn_device_open(nd->device, st);
    if (!kn_ok(st)) code = kiln_status_code(st);
  }
done:
  free(parent);
  free(group_req);
  free(specs);
  return code;
}
