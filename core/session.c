/*
** Sessions: creation on a graph, the device set a session may use, run
** (by outputs and by names), closing, reset and the session registry.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "plugin_loader.h"
#include "resource_mgr.h"
#include "session_internal.h"
#include "status_internal.h"
#include "thread_pool.h"

struct kiln_session_options {
  char *target;
  kiln_config *config;
};

KILN_API kiln_session_options *kiln_session_options_new(void) {
  return calloc(1, sizeof(kiln_session_options));
}

KILN_API void kiln_session_options_free(kiln_session_options *o) {
  if (!o) return;
  free(o->target);
  kiln_config_free(o->config);
  free(o);
}

KILN_API void kiln_session_options_set_target(kiln_session_options *o,
                                              const char *target) {
  if (!o) return;
  char *t = strdup(target ? target : "");
  if (!t) return;
  free(o->target);
  o->target = t;
}

KILN_API void kiln_session_options_set_config(kiln_session_options *o,
                                              const kiln_config *c) {
  if (!o || !c) return;
  kiln_config *copy = calloc(1, sizeof *copy);
  if (!copy) return;
  if (!kn_config_copy(copy, c)) {
    free(copy);
    return;
  }
  kiln_config_free(o->config);
  o->config = copy;
}

/* Open sessions, for reset. */
static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static kiln_session *open_sessions;

static void registry_remove(kiln_session *s) {
  pthread_mutex_lock(&registry_mu);
  for (kiln_session **p = &open_sessions; *p; p = &(*p)->next_open)
    if (*p == s) {
      *p = s->next_open;
      break;
    }
  pthread_mutex_unlock(&registry_mu);
}

/* The devices a session may use: every device, in preference order, at
** most device_count of each type. */
static kiln_code pick_devices(kiln_session *s, kiln_status *st) {
  size_t n = kn_device_count();
  s->devices = calloc(n + 1, sizeof *s->devices);
  if (!s->devices) return KN_OOM(st);
  for (size_t i = 0; i < n; i++) {
    kn_device *d = kn_device_at(i);
    int limit = kn_config_device_limit(&s->config, d->type->type);
    int have = 0;
    for (int j = 0; j < s->ndevices; j++)
      if (s->devices[j]->type == d->type) have++;
    if (limit >= 0 && have >= limit) continue;
    s->devices[s->ndevices++] = d;
  }
  return KILN_OK;
}

kn_resource_mgr *kn_session_resources(kiln_session *s, const char *container) {
  return container && *container ? kn_shared_resources() : s->resources;
}

static void session_destroy(kiln_session *s) {
  kn_pool_free(s->pool);
  kiln_config *dflt = &s->config;
  kn_config_release(dflt);
  free(s->devices);
  free(s->target);
  kn_strmap_clear(&s->plans);
  free(s->plan_keys);
  kn_session_free_stateful_kernels(s);
  kn_session_handles_free(s);
  kn_resource_mgr_free(s->resources);
  for (int i = 0; i < s->nprun_handles; i++) free(s->prun_handles[i]);
  free(s->prun_handles);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->idle);
  kiln_graph_free(s->graph);
  free(s);
}

KILN_API kiln_session *kiln_session_new(kiln_graph *g,
                                        const kiln_session_options *opts,
                                        kiln_status *status) {
  const char *target = opts && opts->target ? opts->target : "";
  if (*target) {
    kn_errorf(status, KILN_UNIMPLEMENTED,
              "Session target '%s' is not supported: Kiln runs sessions in "
              "process only (target \"\")", target);
    return NULL;
  }
  if (!g) g = kiln_default_graph();
  if (!g) {
    KN_OOM(status);
    return NULL;
  }
  kn_plugins_ensure_loaded();
  kiln_session *s = calloc(1, sizeof *s);
  if (!s) {
    KN_OOM(status);
    return NULL;
  }
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->idle, NULL);
  atomic_init(&s->closed, false);
  atomic_init(&s->refs, 1);
  s->graph = kiln_graph_ref(g);
  s->target = strdup(target);
  s->resources = kn_resource_mgr_new();
  bool ok = s->target && s->resources;
  if (ok) {
    if (opts && opts->config) {
      ok = kn_config_copy(&s->config, opts->config);
    } else {
      kiln_config *d = kiln_config_new();
      ok = d && kn_config_copy(&s->config, d);
      kiln_config_free(d);
    }
  }
  if (!ok) {
    KN_OOM(status);
    session_destroy(s);
    return NULL;
  }
  if (pick_devices(s, status) != KILN_OK) {
    session_destroy(s);
    return NULL;
  }
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  s->intra_op_threads = s->config.intra_op_threads > 0 ? s->config.intra_op_threads
                        : cpus > 0 ? (int)cpus : 1;
  s->inter_op_threads = s->config.inter_op_threads > 0 ? s->config.inter_op_threads
                        : cpus > 0 ? (int)cpus : 1;
  pthread_mutex_lock(&registry_mu);
  s->next_open = open_sessions;
  open_sessions = s;
  pthread_mutex_unlock(&registry_mu);
  kiln_status_reset(status);
  return s;
}

KILN_API void kiln_session_close(kiln_session *s, kiln_status *status) {
  if (!s) return;
  pthread_mutex_lock(&s->mu);
  bool was = atomic_exchange(&s->closed, true);
  /* Steps see the flag between nodes and end with CANCELLED; parked
  ** nodes are woken by cancelling their steps. */
  kn_session_cancel_steps(s);
  while (kn_session_steps_active(s)) pthread_cond_wait(&s->idle, &s->mu);
  pthread_mutex_unlock(&s->mu);
  if (!was) {
    registry_remove(s);
    kn_default_session_remove(s);
    kn_pruns_free_all(s);
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->nplan_keys; i++) {
      kn_plan_unref(kn_strmap_get(&s->plans, s->plan_keys[i]));
      free(s->plan_keys[i]);
    }
    s->nplan_keys = 0;
    kn_strmap_clear(&s->plans);
    pthread_mutex_unlock(&s->mu);
    /* Variables, queues and handles of the default container go with
    ** the session; named containers stay until reset. */
    kn_session_handles_free(s);
    kn_resource_mgr_clear(s->resources, NULL, 0);
  }
  kiln_status_reset(status);
}

static void session_unref(kiln_session *s) {
  if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1)
    session_destroy(s);
}

KILN_API void kiln_session_free(kiln_session *s) {
  if (!s) return;
  kiln_session_close(s, NULL);
  session_unref(s);
}

KILN_API void kiln_session_run(kiln_session *s, const kiln_run_options *opts,
                               const kiln_output *feeds,
                               kiln_tensor *const *feed_values, int nfeeds,
                               const kiln_output *fetches,
                               kiln_tensor **fetch_values, int nfetches,
                               kiln_op *const *targets, int ntargets,
                               kiln_run_metadata *metadata,
                               kiln_status *status) {
  for (int i = 0; fetch_values && i < nfetches; i++) fetch_values[i] = NULL;
  if (!s) {
    kn_errorf(status, KILN_INVALID_ARGUMENT, "NULL session");
    return;
  }
  if (nfeeds > 0 && !feed_values) {
    kn_errorf(status, KILN_INVALID_ARGUMENT, "%d feeds given no values", nfeeds);
    return;
  }
  if (nfetches > 0 && !fetch_values) {
    kn_errorf(status, KILN_INVALID_ARGUMENT, "%d fetches given no array for results",
              nfetches);
    return;
  }
  if (atomic_load(&s->closed)) {
    kn_errorf(status, KILN_FAILED_PRECONDITION,
              "Attempted to use a closed Session: Session has been closed");
    return;
  }
  kn_plan *p = kn_plan_get(s, feeds, nfeeds, fetches, nfetches, targets, ntargets,
                           true, status);
  if (!p) return;
  kn_execute(s, p, opts, feed_values, fetch_values, metadata, status);
  kn_plan_unref(p);
}

/* Resolves "op:index" or "op" names; for fetches, a bare op name is a
** target-style fetch (index -1) when `bare_is_op`. */
static kiln_code resolve(kiln_session *s, const char *const *names, int n,
                         kiln_output *out, bool bare_is_op, const char *what,
                         kiln_status *st) {
  for (int i = 0; i < n; i++) {
    if (!names[i])
      return kn_errorf(st, KILN_INVALID_ARGUMENT, "%s %d is NULL", what, i);
    if (bare_is_op && !strchr(names[i], ':')) {
      kiln_op *op = kiln_graph_op(s->graph, names[i]);
      if (!op)
        return kn_errorf(st, KILN_NOT_FOUND, "%s '%s': no operation of that name "
                         "in the graph", what, names[i]);
      out[i] = (kiln_output){op, -1};
      continue;
    }
    out[i] = kiln_graph_output(s->graph, names[i], st);
    if (!out[i].op) {
      kn_status_prefix(st, "%s '%s': ", what, names[i]);
      return kiln_status_code(st);
    }
  }
  return KILN_OK;
}

KILN_API void kiln_session_run_names(kiln_session *s, const kiln_run_options *opts,
                                     const char *const *feeds,
                                     kiln_tensor *const *feed_values, int nfeeds,
                                     const char *const *fetches,
                                     kiln_tensor **fetch_values, int nfetches,
                                     const char *const *targets, int ntargets,
                                     kiln_run_metadata *metadata,
                                     kiln_status *status) {
  for (int i = 0; fetch_values && i < nfetches; i++) fetch_values[i] = NULL;
  if (!s) {
    kn_errorf(status, KILN_INVALID_ARGUMENT, "NULL session");
    return;
  }
  const int counts[3] = {nfeeds, nfetches, ntargets};
  const void *arrays[3] = {feeds, fetches, targets};
  static const char *const what[3] = {"feeds", "fetches", "targets"};
  for (int k = 0; k < 3; k++) {
    if (counts[k] < 0) {
      kn_errorf(status, KILN_INVALID_ARGUMENT, "negative number of %s: %d",
                what[k], counts[k]);
      return;
    }
    if (counts[k] > 0 && !arrays[k]) {
      kn_errorf(status, KILN_INVALID_ARGUMENT, "%d %s given no array of names",
                counts[k], what[k]);
      return;
    }
  }
  kiln_output *fo = calloc((size_t)nfeeds + 1, sizeof *fo);
  kiln_output *xo = calloc((size_t)nfetches + 1, sizeof *xo);
  kiln_op **to = calloc((size_t)ntargets + 1, sizeof *to);
  if (!fo || !xo || !to) {
    KN_OOM(status);
    goto done;
  }
  if (resolve(s, feeds, nfeeds, fo, false, "feed", status) != KILN_OK ||
      resolve(s, fetches, nfetches, xo, true, "fetch", status) != KILN_OK)
    goto done;
  for (int i = 0; i < ntargets; i++) {
    to[i] = targets[i] ? kiln_graph_op(s->graph, targets[i]) : NULL;
    if (!to[i]) {
      kn_errorf(status, KILN_NOT_FOUND, "target '%s': no operation of that name "
                "in the graph", targets[i] ? targets[i] : "(null)");
      goto done;
    }
  }
  kiln_session_run(s, opts, fo, feed_values, nfeeds, xo, fetch_values, nfetches,
                   to, ntargets, metadata, status);
done:
  free(fo);
  free(xo);
  free(to);
}

KILN_API kiln_graph *kiln_session_graph(const kiln_session *s) { return s->graph; }
KILN_API const char *kiln_session_target(const kiln_session *s) { return s->target; }

KILN_API kiln_buffer *kiln_session_graph_def(kiln_session *s, kiln_status *status) {
  return kiln_graph_export(s->graph, status);
}

KILN_API kiln_device_list *kiln_session_list_devices(kiln_session *s,
                                                     kiln_status *status) {
  if (atomic_load(&s->closed)) {
    kn_errorf(status, KILN_FAILED_PRECONDITION,
              "Attempted to use a closed Session: Session has been closed");
    return NULL;
  }
  return kn_device_list_make(s->devices, s->ndevices, status);
}

KILN_API void kiln_session_reset(const char *target,
                                 const char *const *containers, int ncontainers,
                                 const kiln_config *config, kiln_status *status) {
  (void)config;
  if (target && *target) {
    kn_errorf(status, KILN_UNIMPLEMENTED,
              "Session target '%s' is not supported: Kiln resets the in-process "
              "target (\"\") only", target);
    return;
  }
  /* Close every open in-process session: its default container goes
  ** with it. */
  for (;;) {
    /* Hold a reference while closing: the owner may free it meanwhile. */
    pthread_mutex_lock(&registry_mu);
    kiln_session *s = open_sessions;
    if (s) atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&registry_mu);
    if (!s) break;
    kiln_session_close(s, NULL);
    session_unref(s);
  }
  /* Then the shared containers: their resources lose their values. */
  kn_resource_mgr_clear(kn_shared_resources(),
                        containers && ncontainers > 0 ? containers : NULL,
                        ncontainers);
  kiln_status_reset(status);
}
