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

/* A resource op's container and name (shared_name, else the node's),
** new strings; false (creation failed) when memory runs out. */
bool kn_resource_names(kiln_kernel_construct *c, char **container, char **name);

#endif
