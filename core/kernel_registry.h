/* Kernels registered by plugins, keyed by (op, device type, constraints). */
#ifndef KN_KERNEL_REGISTRY_H
#define KN_KERNEL_REGISTRY_H

#include <kiln/plugin.h>
#include "attr.h"

typedef struct kn_plugin kn_plugin;

typedef struct kn_type_constraint {
  char *attr;
  kiln_dtype *types;
  int ntypes;
} kn_type_constraint;

typedef struct kn_kernel {
  kiln_kernel_def def;    /* the plugin's, defaults filled past struct_size;
                          ** its strings point at the copies below */
  char *op, *device_type, *host_memory_args; /* copies ("" none) */
  char *constraints;      /* normalised: attrs sorted, types in enum order,
                          ** "T=float,double;Tidx=int32" ("" none) */
  kn_type_constraint *cons;
  int ncons;
  kn_plugin *plugin;
  int flags;              /* KN_KERNEL_*: kernels of the core only */
} kn_kernel;

/* Core kernels (core_kernels.c) that reach past the plugin API: */
enum {
  /* Ref inputs arrive as the reference tensors themselves (Assign,
  ** IsVariableInitialized), not resolved to the variable's value. */
  KN_KERNEL_RAW_REFS = 1,
  /* May finish after compute returns (kn_kc_go_async): a plan holding one
  ** runs on the scheduler, which parks it without holding a thread. */
  KN_KERNEL_ASYNC = 2
};

/* Adds a kernel. ALREADY_EXISTS naming both plugins for a taken key (the
** first stays); INVALID_ARGUMENT for a missing op/device type/compute or
** constraints that do not parse. Thread-safe. */
kiln_code kn_kernel_register(kn_plugin *p, const kiln_kernel_def *def,
                             kiln_status *s);
/* The same with KN_KERNEL_* flags, for the core's own kernels. */
kiln_code kn_kernel_register_flags(kn_plugin *p, const kiln_kernel_def *def,
                                   int flags, kiln_status *s);
/* Withdraws every kernel of plugin p (its init failed). */
void kn_kernels_remove_plugin(const kn_plugin *p);

/* Parses "T=float,double;Tidx=int32" into constraints sorted by attr, with
** types in enum order and no repeats, and writes the normalised text into
** *norm (caller frees both; see kn_constraints_free). INVALID_ARGUMENT
** naming the part at fault. */
kiln_code kn_constraints_parse(const char *text, kn_type_constraint **cons,
                               int *ncons, char **norm, kiln_status *s);
void kn_constraints_free(kn_type_constraint *cons, int ncons);

/* The highest-priority kernel for `op` on `device_type` whose constraints
** the node's attrs satisfy; NULL when none. Thread-safe. */
const kn_kernel *kn_kernel_find(const char *op, const char *device_type,
                                const kn_attr_map *attrs);

/* Device types having a kernel for (op, attrs), as "CPU, VULKAN" in buf
** (in the order of the best kernel each has); returns how many. For
** placement messages. */
int kn_kernel_device_types(const char *op, const kn_attr_map *attrs,
                           char *buf, size_t cap);

/* Why kernel k does not match attrs ("T=double not in {float}", "attr 'T'
** is not set"), or NULL when it does. Writes into buf. */
const char *kn_kernel_mismatch(const kn_kernel *k, const kn_attr_map *attrs,
                               char *buf, size_t cap);

/* Every registered kernel (for the conformance suite and `kiln info`). */
size_t kn_kernel_count(void);
const kn_kernel *kn_kernel_at(size_t i);

void kn_kernels_clear(void);

#endif
