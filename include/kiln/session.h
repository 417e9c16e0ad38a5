/*
** kiln/session.h: sessions run graphs (TensorFlow 1.x's tf.Session).
**
** A session holds a reference to its graph, places and compiles each
** distinct (feeds, fetches, targets) signature once into a step plan, and
** runs steps on the devices of the loaded plugins. It sees ops added to
** the graph after it was created. All functions on one session are
** thread-safe: concurrent runs are allowed.
**
** Ownership: feed tensors stay the caller's (the session takes its own
** reference while it needs one); fetched tensors are new references the
** caller frees with kiln_tensor_free.
**
** Placement differs from TensorFlow's in one respect: a node without a
** device request goes to the device of its first input when that device
** has a kernel for it (so a chain stays on one device), and only otherwise
** to the most preferred device with a kernel; TensorFlow would put every
** such node on the most preferred device. Placement is decided per step
** plan (per feeds/fetches/targets signature), not once for the graph.
*/
#ifndef KILN_SESSION_H
#define KILN_SESSION_H

#include <stdbool.h>
#include <kiln/defs.h>
#include <kiln/status.h>
#include <kiln/buffer.h>
#include <kiln/tensor.h>
#include <kiln/graph.h>
#include <kiln/config.h>
#include <kiln/devices.h>

KILN_EXTERN_C_BEGIN

typedef struct kiln_session kiln_session;
typedef struct kiln_session_options kiln_session_options;
typedef struct kiln_callable kiln_callable;

/* ---------------------------------------------------------------- options */

KILN_API kiln_session_options *kiln_session_options_new(void);
KILN_API void kiln_session_options_free(kiln_session_options *o);
/* "" (the default) runs in process; any other target is UNIMPLEMENTED at
** session creation. */
KILN_API void kiln_session_options_set_target(kiln_session_options *o,
                                              const char *target);
/* Copies the config. */
KILN_API void kiln_session_options_set_config(kiln_session_options *o,
                                              const kiln_config *c);

/* --------------------------------------------------------------- sessions */

/* A session on g (the calling thread's default graph when NULL); options
** may be NULL. Loads plugins if not yet done. Errors: UNIMPLEMENTED naming
** a target that is not in-process; RESOURCE_EXHAUSTED. Caller frees with
** kiln_session_free. */
KILN_API kiln_session *kiln_session_new(kiln_graph *g,
                                        const kiln_session_options *opts,
                                        kiln_status *status);

/* An interactive session: as kiln_session_new, and it pushes itself as the
** calling thread's default session until it is closed (from any thread,
** even after the creating thread has exited). */
KILN_API kiln_session *kiln_interactive_session_new(
    kiln_graph *g, const kiln_session_options *opts, kiln_status *status);

/* Runs one step: feeds[i] gets feed_values[i]; fetch_values[i] receives a
** new tensor for fetches[i] (NULL when fetches[i].index is -1, meaning the
** op is run as a target); targets run for their effects. Only what the
** fetches and targets need runs. run_options and run_metadata may be NULL.
** Errors: INVALID_ARGUMENT for a feed of the wrong dtype or shape (naming
** the tensor, the shape expected and given), an unfed placeholder a fetch
** needs ("You must feed a value for placeholder tensor 'x' with dtype float
** and shape [?,3]"), a feed or fetch from another graph, a tensor fed twice;
** errors of placement and of kernels (the failing op's name and NodeDef in
** the status); DEADLINE_EXCEEDED, CANCELLED (the session was closed
** meanwhile); FAILED_PRECONDITION "Session has been closed". On error no
** fetch value is returned (all are NULL). */
KILN_API void kiln_session_run(kiln_session *s, const kiln_run_options *opts,
                               const kiln_output *feeds,
                               kiln_tensor *const *feed_values, int nfeeds,
                               const kiln_output *fetches,
                               kiln_tensor **fetch_values, int nfetches,
                               kiln_op *const *targets, int ntargets,
                               kiln_run_metadata *metadata,
                               kiln_status *status);

/* As kiln_session_run with names: feeds and fetches "op:index" or "op";
** a fetch naming an op without ":index" runs it as a target and gives
** NULL, as TensorFlow's sess.run("op"). NOT_FOUND naming a name that does
** not exist. */
KILN_API void kiln_session_run_names(kiln_session *s,
                                     const kiln_run_options *opts,
                                     const char *const *feeds,
                                     kiln_tensor *const *feed_values,
                                     int nfeeds, const char *const *fetches,
                                     kiln_tensor **fetch_values, int nfetches,
                                     const char *const *targets, int ntargets,
                                     kiln_run_metadata *metadata,
                                     kiln_status *status);

/* ----------------------------------------------------------- partial runs */

/* Declares a partial run: the feeds, fetches and targets its later prun
** calls may use. Returns a handle owned by the session: the partial run
** it names lasts until every fetch is fetched, it is released, or the
** session closes; the string itself stays readable until the session is
** freed. NULL with status set on error. */
KILN_API const char *kiln_session_prun_setup(kiln_session *s,
                                             const kiln_output *feeds, int nfeeds,
                                             const kiln_output *fetches,
                                             int nfetches,
                                             kiln_op *const *targets,
                                             int ntargets, kiln_status *status);

/* Continues partial run `handle` with more feeds and fetches; every op
** runs at most once over the whole partial run. INVALID_ARGUMENT for a
** feed or fetch not declared at setup, one fed or fetched before, or an
** unknown handle; FAILED_PRECONDITION after close. */
KILN_API void kiln_session_prun(kiln_session *s, const char *handle,
                                const kiln_output *feeds,
                                kiln_tensor *const *feed_values, int nfeeds,
                                const kiln_output *fetches,
                                kiln_tensor **fetch_values, int nfetches,
                                kiln_status *status);

/* Abandons a partial run early, freeing what it holds. Unknown handles,
** a closed session and a run busy in a call on another thread are
** ignored. */
KILN_API void kiln_session_prun_release(kiln_session *s, const char *handle);

/* -------------------------------------------------------------- callables */

/* Binds feeds, fetches and targets once (TensorFlow's make_callable): all
** name lookup, pruning, placement and planning happen here, none per
** call. accept_options lets calls take run options and metadata. Errors as
** kiln_session_run's that do not depend on values. Caller frees the
** callable, before or after the session; a call after the session is
** closed fails with FAILED_PRECONDITION, a call after it is freed is
** undefined (the callable does not keep the session alive). */
KILN_API kiln_callable *kiln_session_make_callable(
    kiln_session *s, const kiln_output *feeds, int nfeeds,
    const kiln_output *fetches, int nfetches, kiln_op *const *targets,
    int ntargets, bool accept_options, kiln_status *status);

/* One call: feed values in the order bound, fetch values out in the order
** bound (caller frees them). Thread-safe. */
KILN_API void kiln_callable_call(kiln_callable *c,
                                 kiln_tensor *const *feed_values,
                                 kiln_tensor **fetch_values,
                                 kiln_status *status);

/* As kiln_callable_call with run options and metadata; INVALID_ARGUMENT
** unless the callable was made with accept_options. */
KILN_API void kiln_callable_call_with_options(kiln_callable *c,
                                              const kiln_run_options *opts,
                                              kiln_tensor *const *feed_values,
                                              kiln_tensor **fetch_values,
                                              kiln_run_metadata *metadata,
                                              kiln_status *status);

KILN_API void kiln_callable_free(kiln_callable *c);

/* ------------------------------------------------------- devices, closing */

/* The devices this session may use (loaded plugins, config file filters,
** the session's device_count); caller frees. FAILED_PRECONDITION after
** close. */
KILN_API kiln_device_list *kiln_session_list_devices(kiln_session *s,
                                                     kiln_status *status);

/* Closes: cancels pending steps (they end with CANCELLED, also those
** waiting on a queue, at once), frees the session's default container
** (its variables, queues, readers and tensor handles), and makes every
** later call FAILED_PRECONDITION "Session has been closed". Returns when
** no step of the session runs any more. Closing twice is harmless. An
** interactive session pops itself from its thread's default stack. */
KILN_API void kiln_session_close(kiln_session *s, kiln_status *status);

/* Closes if still open and frees. NULL is ignored. */
KILN_API void kiln_session_free(kiln_session *s);

/* TensorFlow's Session.reset: closes every open session of `target`
** (their later calls are FAILED_PRECONDITION; their default containers
** go with them), then clears the named resource containers of the
** process: `containers[0..ncontainers)`, or every one when containers is
** NULL or ncontainers is 0. Variables there lose their values and shapes,
** queues their elements; a resource a step still uses lives until that
** step ends, unreachable by name. `config` selects nothing more.
** UNIMPLEMENTED for targets other than "". Thread-safe, also against a
** concurrent kiln_session_free of a session being closed.
**
** Resources (variables, queues, readers) live by container: an op whose
** "container" attr is "" uses its session's default container, created
** with the session and freed by close; a named container is shared by
** every in-process session and lasts until reset clears it. */
KILN_API void kiln_session_reset(const char *target,
                                 const char *const *containers,
                                 int ncontainers, const kiln_config *config,
                                 kiln_status *status);

/* The session's graph (borrowed), its GraphDef (caller frees) and target. */
KILN_API kiln_graph *kiln_session_graph(const kiln_session *s);
KILN_API kiln_buffer *kiln_session_graph_def(kiln_session *s,
                                             kiln_status *status);
KILN_API const char *kiln_session_target(const kiln_session *s);

/* -------------------------------------------------------- default session */

/* Makes s the calling thread's default session until the matching pop
** (`with sess.as_default():`). The stack holds no ownership: popping never
** closes the session; the caller keeps it alive while pushed. When memory
** runs out nothing is pushed (and the matching pop pops what was below). */
KILN_API void kiln_session_push_default(kiln_session *s);
/* Pops the innermost; false when none. */
KILN_API bool kiln_session_pop_default(void);
/* The calling thread's innermost default session, or NULL (a new thread
** has none). Independent of the default graph. */
KILN_API kiln_session *kiln_default_session(void);

/* Evaluates `out` in the default session with optional feeds (tensor.eval);
** returns a new tensor. FAILED_PRECONDITION "Cannot evaluate tensor using
** `eval()`: no default session is registered" when there is none;
** INVALID_ARGUMENT for an op-only output (index -1); errors of
** kiln_session_run. */
KILN_API kiln_tensor *kiln_output_eval(kiln_output out, const kiln_output *feeds,
                                       kiln_tensor *const *feed_values,
                                       int nfeeds, kiln_status *status);
/* Runs `op` in the default session (operation.run). FAILED_PRECONDITION
** "Cannot execute operation using `run()`: no default session is
** registered" when there is none; errors of kiln_session_run. */
KILN_API void kiln_op_run(kiln_op *op, const kiln_output *feeds,
                          kiln_tensor *const *feed_values, int nfeeds,
                          kiln_status *status);

KILN_EXTERN_C_END

#endif
