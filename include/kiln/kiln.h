/*
** kiln/kiln.h: the whole public API of libkiln.
**
** Conventions, everywhere in Kiln's headers:
**  - Names: functions and types start with kiln_, macros with KILN_.
**  - Objects are opaque and made by kiln_<thing>_new (or a builder) and
**    released by kiln_<thing>_free; every free function accepts NULL.
**  - A fallible call takes a caller-owned kiln_status * as its last
**    argument and sets it (code, message) on failure; on success it is set
**    to OK. Codes are TensorFlow's (see status.h).
**  - Ownership is stated per function: "caller frees" means with the
**    matching kiln_*_free, never free(). Strings returned as const char *
**    are borrowed, with the lifetime given.
**  - Thread-safety is stated per header and per function where it differs.
**  - Nothing in the library aborts or exits on a recoverable error.
*/
#ifndef KILN_H
#define KILN_H

#include <kiln/defs.h>
#include <kiln/status.h>
#include <kiln/buffer.h>
#include <kiln/tensor.h>
#include <kiln/graph.h>
#include <kiln/ops.h>
#include <kiln/devices.h>
#include <kiln/config.h>
#include <kiln/session.h>
#include <kiln/sparse.h>

#endif
