/*
** Resources: the stateful objects steps share (variables, queues, readers),
** kept by name in containers, as TensorFlow's ResourceMgr keeps them.
**
** Every session has its own manager for the default container (called
** "localhost", as in TensorFlow); it goes away when the session closes.
** A resource op naming a container ("container" attr) uses the process's
** shared manager instead: such resources are shared by every in-process
** session and live until kiln_session_reset clears their container.
*/
#ifndef KN_RESOURCE_MGR_H
#define KN_RESOURCE_MGR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <kiln/status.h>
#include <kiln/tensor.h>

#define KN_DEFAULT_CONTAINER "localhost"

typedef struct kn_resource kn_resource;

/* What a kind of resource does: its name for messages and how it is
** destroyed when its last reference goes. */
typedef struct kn_resource_kind {
  const char *name;                    /* "variable", "queue", "reader" */
  void (*destroy)(kn_resource *r);
} kn_resource_kind;

/* The head of every resource object. */
struct kn_resource {
  atomic_int refs;
  const kn_resource_kind *kind;
  char *container, *name;              /* set by the manager */
};

typedef struct kn_resource_mgr kn_resource_mgr;

kn_resource_mgr *kn_resource_mgr_new(void);
/* Drops the manager's reference to each resource, then frees it. */
void kn_resource_mgr_free(kn_resource_mgr *m);
/* The process-wide manager of named containers. */
kn_resource_mgr *kn_shared_resources(void);

/* Resource (container, name) of `kind`, made by create(arg) when absent
** (create returns an object whose head is zeroed, or NULL with st set).
** The caller owns one reference. INVALID_ARGUMENT when the name is taken
** by another kind. Thread-safe. */
kn_resource *kn_resource_lookup_or_create(kn_resource_mgr *m,
                                          const char *container,
                                          const char *name,
                                          const kn_resource_kind *kind,
                                          kn_resource *(*create)(void *arg,
                                                                 kiln_status *st),
                                          void *arg, kiln_status *st);

/* Removes the resources of the given containers (all when containers is
** NULL); each loses the manager's reference and is destroyed when no step
** holds it. Returns how many went. Thread-safe. */
size_t kn_resource_mgr_clear(kn_resource_mgr *m, const char *const *containers,
                             int ncontainers);

kn_resource *kn_resource_ref(kn_resource *r);
void kn_resource_unref(kn_resource *r);

/* A scalar tensor standing for resource r (a new reference it releases
** when freed): a DT_RESOURCE handle, or, with ref set and dtype T, the
** reference output of a variable (Ref(T)). */
kiln_tensor *kn_resource_tensor(kn_resource *r, kiln_dtype dtype, bool ref,
                                kiln_status *st);
/* The resource a tensor from kn_resource_tensor stands for (borrowed), or
** NULL for any other tensor. */
kn_resource *kn_tensor_resource(const kiln_tensor *t);

#endif
