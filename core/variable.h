/*
** Variables: a resource holding one tensor, TensorFlow 1.x's ref-typed
** variables (VariableV2, Variable). Steps see a variable through its
** reference output (a tensor with is_ref, resource_mgr.h); the executor
** resolves it to the current value for kernels that read it.
*/
#ifndef KN_VARIABLE_H
#define KN_VARIABLE_H

#include <pthread.h>
#include "resource_mgr.h"
#include "shape.h"

typedef struct kn_variable {
  kn_resource res;
  pthread_mutex_t mu;        /* guards value; held by kernels with use_locking */
  kiln_dtype dtype;
  kn_shape shape;            /* as declared; may be partly unknown */
  kiln_tensor *value;        /* NULL until initialised; marked read-only */
} kn_variable;

extern const kn_resource_kind kn_variable_kind;

/* The variable behind a reference tensor, or NULL. */
kn_variable *kn_ref_variable(const kiln_tensor *t);

/* A new reference to the variable's value; FAILED_PRECONDITION
** "Attempting to use uninitialized value NAME" when it has none. */
kiln_tensor *kn_variable_read(kn_variable *v, kiln_status *st);

#endif
