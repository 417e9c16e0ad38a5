/*
** Partial runs: one step spread over several calls. Setup builds the plan
** for every declared feed, fetch and target and keeps a frame; each call
** binds more feeds and runs just the nodes its fetches need, so every node
** runs at most once. The run ends when every fetch has been fetched (the
** targets and anything left then run) or when released.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "session_internal.h"
#include "status_internal.h"

typedef struct kn_prun {
  struct kn_prun *next;
  const char *handle;         /* owned by the session */
  kn_plan *plan;
  kn_frame *frame;
  bool *fed, *fetched, *want;
  int nfetched;
  bool busy;                  /* a call is in progress */
} kn_prun;

static void prun_free(kn_prun *r) {
  if (r->frame) kn_frame_put(r->frame);
  kn_plan_unref(r->plan);
  free(r->fed);
  free(r->fetched);
  free(r->want);
  free(r);
}

KILN_API const char *kiln_session_prun_setup(kiln_session *s,
                                             const kiln_output *feeds, int nfeeds,
                                             const kiln_output *fetches,
                                             int nfetches, kiln_op *const *targets,
                                             int ntargets, kiln_status *status) {
  if (!s) {
    kn_errorf(status, KILN_INVALID_ARGUMENT, "NULL session");
    return NULL;
  }
  if (kn_session_step_begin(s, status) != KILN_OK) return NULL;
  kn_prun *r = calloc(1, sizeof *r);
  if (!r) {
    KN_OOM(status);
    kn_session_step_end(s);
    return NULL;
  }
  r->plan = kn_plan_get(s, feeds, nfeeds, fetches, nfetches, targets, ntargets,
                        false, status);
  if (r->plan) {
    r->frame = kn_frame_get(r->plan, status);
    r->fed = calloc((size_t)nfeeds + 1, sizeof *r->fed);
    r->fetched = calloc((size_t)nfetches + 1, sizeof *r->fetched);
    r->want = calloc((size_t)r->plan->nnodes + 1, sizeof *r->want);
    if (r->frame && (!r->fed || !r->fetched || !r->want)) KN_OOM(status);
  }
  if (!kn_ok(status)) {
    prun_free(r);
    kn_session_step_end(s);
    return NULL;
  }
  /* Handles outlive their partial runs (a stale one must still read as
  ** a string), so the session keeps every one until it is freed. */
  pthread_mutex_lock(&s->mu);
  char **hs = s->nprun_handles % 16 == 0
      ? realloc(s->prun_handles, ((size_t)s->nprun_handles + 16) * sizeof *hs)
      : s->prun_handles;
  char *h = malloc(32);
  if (hs) s->prun_handles = hs;
  if (!hs || !h) {
    pthread_mutex_unlock(&s->mu);
    free(h);
    KN_OOM(status);
    prun_free(r);
    kn_session_step_end(s);
    return NULL;
  }
  snprintf(h, 32, "prun:%llu", (unsigned long long)++s->next_prun_id);
  s->prun_handles[s->nprun_handles++] = h;
  r->handle = h;
  r->next = s->pruns;
  s->pruns = r;
  pthread_mutex_unlock(&s->mu);
  /* Past step_end a concurrent close may free r; the handle string stays. */
  kn_session_step_end(s);
  return h;
}

/* Finds and claims a partial run; NULL with status set if impossible.
** Only inside a step (kn_session_step_begin): close frees partial runs
** once no step is active, so a claimed one is never freed under its
** caller. */
static kn_prun *claim(kiln_session *s, const char *handle, kiln_status *st) {
  pthread_mutex_lock(&s->mu);
  kn_prun *r = s->pruns;
  while (r && (!handle || strcmp(r->handle, handle) != 0)) r = r->next;
  if (r && r->busy) {
    pthread_mutex_unlock(&s->mu);
    kn_errorf(st, KILN_FAILED_PRECONDITION,
              "partial run '%s' is already running a call on another thread", handle);
    return NULL;
  }
  if (r) r->busy = true;
  pthread_mutex_unlock(&s->mu);
  if (!r)
    kn_errorf(st, KILN_INVALID_ARGUMENT,
              "Partial run handle '%s' is unknown: never set up, already "
              "completed, or released", handle ? handle : "(null)");
  return r;
}

static void unlink_prun(kiln_session *s, kn_prun *r) {
  pthread_mutex_lock(&s->mu);
  for (kn_prun **p = &s->pruns; *p; p = &(*p)->next)
    if (*p == r) {
      *p = r->next;
      break;
    }
  pthread_mutex_unlock(&s->mu);
}

static int find_output(const kiln_output *list, int n, kiln_output o) {
  for (int i = 0; i < n; i++)
    if (list[i].op == o.op && list[i].index == o.index) return i;
  return -1;
}

KILN_API void kiln_session_prun(kiln_session *s, const char *handle,
                                const kiln_output *feeds,
                                kiln_tensor *const *feed_values, int nfeeds,
                                const kiln_output *fetches,
                                kiln_tensor **fetch_values, int nfetches,
                                kiln_status *status) {
  for (int i = 0; fetch_values && i < nfetches; i++) fetch_values[i] = NULL;
  if (!s) {
    kn_errorf(status, KILN_INVALID_ARGUMENT, "NULL session");
    return;
  }
  if ((nfeeds && (!feeds || !feed_values)) || (nfetches && (!fetches || !fetch_values))) {
    kn_errorf(status, KILN_INVALID_ARGUMENT, "NULL feed or fetch arrays");
    return;
  }
  kiln_status_reset(status);
  if (kn_session_step_begin(s, status) != KILN_OK) return;
  kn_prun *r = claim(s, handle, status);
  if (!r) {
    kn_session_step_end(s);
    return;
  }
  kn_plan *p = r->plan;
  int *fi = calloc((size_t)nfeeds + (size_t)nfetches + 1, sizeof *fi);
  int *xi = fi ? fi + nfeeds : NULL;
  if (!fi) {
    KN_OOM(status);
    goto out;
  }
  /* Check everything before changing anything. */
  for (int i = 0; i < nfeeds; i++) {
    int k = find_output(p->feeds, p->nfeeds, feeds[i]);
    const char *name = feeds[i].op ? feeds[i].op->name : "(null)";
    if (k < 0) {
      kn_errorf(status, KILN_INVALID_ARGUMENT, "The feed '%s:%d' was not specified "
                "in partial run setup", name, feeds[i].index);
      goto out;
    }
    if (r->fed[k] || find_output(feeds, i, feeds[i]) >= 0) {
      kn_errorf(status, KILN_INVALID_ARGUMENT, "The feed '%s:%d' has already been "
                "fed in this partial run", name, feeds[i].index);
      goto out;
    }
    if (kn_check_feed(p, k, feed_values[i], status) != KILN_OK) goto out;
    fi[i] = k;
  }
  for (int i = 0; i < nfetches; i++) {
    int k = find_output(p->fetches, p->nfetches, fetches[i]);
    const char *name = fetches[i].op ? fetches[i].op->name : "(null)";
    if (k < 0) {
      kn_errorf(status, KILN_INVALID_ARGUMENT, "The fetch '%s:%d' was not specified "
                "in partial run setup", name, fetches[i].index);
      goto out;
    }
    if (r->fetched[k] || find_output(fetches, i, fetches[i]) >= 0) {
      kn_errorf(status, KILN_INVALID_ARGUMENT, "The fetch '%s:%d' has already been "
                "fetched in this partial run", name, fetches[i].index);
      goto out;
    }
    xi[i] = k;
  }
  /* The nodes these fetches need: producers of their slots and, walking
  ** the plan backwards, whatever feeds those. When this call completes
  ** the run, everything left (targets too) runs. */
  bool last = r->nfetched + nfetches == p->nfetches;
  for (int i = 0; i < p->nnodes; i++) r->want[i] = last;
  for (int i = 0; i < nfetches; i++) {
    if (fetches[i].index < 0) {
      for (int n = 0; n < p->nnodes; n++)
        if (p->nodes[n].op == fetches[i].op) r->want[n] = true;
      continue;
    }
    int prod = p->slot_producer[p->fetch_slot[xi[i]]];
    if (prod >= 0) r->want[prod] = true;
  }
  /* Successors come later in plan order: one backward sweep finds every
  ** ancestor of what is wanted. */
  for (int n = p->nnodes - 1; n >= 0; n--)
    for (int e = 0; !r->want[n] && e < p->nodes[n].nsucc; e++)
      if (r->want[p->nodes[n].succ[e]]) r->want[n] = true;
  /* Every feed the wanted nodes read must be there by now. */
  for (int n = 0; n < p->nnodes; n++) {
    if (!r->want[n] || r->frame->done[n]) continue;
    const kn_node *nd = &p->nodes[n];
    for (int j = 0; j < nd->op->ninputs; j++) {
      int slot = nd->in_slot[j];
      if (slot >= p->nfeeds || r->fed[slot]) continue;
      bool now = false;
      for (int i = 0; i < nfeeds; i++) now = now || fi[i] == slot;
      if (!now) {
        kn_errorf(status, KILN_INVALID_ARGUMENT,
                  "node '%s' needs the feed '%s:%d', which has not been fed "
                  "in this partial run yet", nd->op->name,
                  p->feeds[slot].op->name, p->feeds[slot].index);
        goto out;
      }
    }
  }
  for (int i = 0; i < nfeeds; i++) {
    r->fed[fi[i]] = true;
    r->frame->slots[p->feed_slot[fi[i]]] = kiln_tensor_ref(feed_values[i]);
  }
  kiln_code ran = kn_execute_nodes(s, r->frame, r->want, NULL, NULL, status);
  if (r->frame->nnew_handles) kn_session_handles_settle(s, r->frame);
  if (ran == KILN_OK) {
    for (int i = 0; i < nfetches; i++) {
      int slot = p->fetch_slot[xi[i]];
      if (slot < 0) continue;
      kiln_tensor *t = r->frame->slots[slot];
      if (!t) {
        kn_errorf(status, KILN_INVALID_ARGUMENT, "The fetch '%s:%d' has no value: "
                  "it needs a feed not given yet", fetches[i].op->name,
                  fetches[i].index);
        break;
      }
      if (!(fetch_values[i] = kn_fetch_value(t, status))) break;
    }
    if (kn_ok(status)) {
      for (int i = 0; i < nfetches; i++) r->fetched[xi[i]] = true;
      r->nfetched += nfetches;
    } else {
      for (int i = 0; i < nfetches; i++) {
        kiln_tensor_free(fetch_values[i]);
        fetch_values[i] = NULL;
      }
    }
  }
out:
  free(fi);
  bool complete = kn_ok(status) && r->nfetched == p->nfetches;
  if (complete) {
    unlink_prun(s, r);
    prun_free(r);
  } else {
    pthread_mutex_lock(&s->mu);
    r->busy = false;
    pthread_mutex_unlock(&s->mu);
  }
  kn_session_step_end(s);
}

KILN_API void kiln_session_prun_release(kiln_session *s, const char *handle) {
  if (!s || !handle) return;
  kiln_status *st = kiln_status_new();
  /* After close there is nothing to release: close freed every run. */
  if (!st || kn_session_step_begin(s, st) != KILN_OK) {
    kiln_status_free(st);
    return;
  }
  kn_prun *r = claim(s, handle, st);
  if (r) {
    unlink_prun(s, r);
    prun_free(r);
  }
  kn_session_step_end(s);
  kiln_status_free(st);
}

void kn_pruns_free_all(kiln_session *s) {
  pthread_mutex_lock(&s->mu);
  kn_prun *r = s->pruns;
  s->pruns = NULL;
  pthread_mutex_unlock(&s->mu);
  while (r) {
    kn_prun *next = r->next;
    prun_free(r);
    r = next;
  }
}
