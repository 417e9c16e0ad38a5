/*
** The core's own kernels: resource ops (variables, queues, readers,
** session tensor handles) whose state lives in the session, registered
** for every device type with host memory once plugins have loaded.
*/
#ifndef KN_CORE_KERNELS_H
#define KN_CORE_KERNELS_H

#include <stdbool.h>
#include <stddef.h>
#include <kiln/plugin.h>
#include "resource_mgr.h"

typedef struct kn_core_kernel {
  const char *op;
  void *(*create)(kiln_kernel_construct *c);
  void (*compute)(void *kernel, kiln_kernel_context *c);
  void (*destroy)(void *kernel);
  int flags;                  /* KN_KERNEL_* (kernel_registry.h) */
} kn_core_kernel;

extern const kn_core_kernel kn_variable_kernels[];
extern const size_t kn_variable_kernels_count;
extern const kn_core_kernel kn_queue_kernels[];
extern const size_t kn_queue_kernels_count;
extern const kn_core_kernel kn_reader_kernels[];
extern const size_t kn_reader_kernels_count;
extern const kn_core_kernel kn_handle_kernels[];
extern const size_t kn_handle_kernels_count;

/* Registers them; plugin_loader.c calls it after loading plugins. */
void kn_core_kernels_register(void);

/* What a resource op (VariableV2, FIFOQueueV2, a reader) does: finds
** resource (container, name) of `kind` in the session's container (or the
** process's, for a named one), or makes it with create(arg); check(r, arg,
** st), when given, confirms that a resource found matches the node's
** attrs. Output 0 becomes its tensor (kn_resource_tensor: dtype, ref).
** Fails c otherwise. */
void kn_kc_output_resource(kiln_kernel_context *c, const char *container,
                           const char *name, const kn_resource_kind *kind,
                           kn_resource *(*create)(void *arg, kiln_status *st),
                           kiln_code (*check)(kn_resource *r, void *arg,
                                              kiln_status *st),
                           void *arg, kiln_dtype dtype, bool ref);

/* A resource op's container and name (shared_name, else the node's),
** new strings; false (creation failed) when memory runs out. */
bool kn_resource_names(kiln_kernel_construct *c, char **container, char **name);

#endif
