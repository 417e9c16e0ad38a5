/*
** The plugin loader.
**
** Loading runs once per process (pthread_once), on the first call that
** needs devices or kernels, and never fails as a whole: every candidate
** file gets a record saying what was tried and how it ended, so a broken
** plugin costs only itself. Candidates come from the config's plugin list
** (exactly those names, in that order: the order of preference) or, with
** no list, from every kiln-*.so in the plugin folders, folder by folder.
** A name resolves to the first folder holding kiln-NAME.so, like a PATH
** lookup, so a build-tree plugin on KILN_PLUGIN_PATH shadows an installed
** one; the working directory is never searched unless a config names it.
**
** Modules open with local symbol scope: plugins never link libkiln and
** reach the core only through the table they are handed, so two plugins'
** symbols cannot collide. A plugin's registrations made during an init
** that then fails are withdrawn before its module is closed. Loaded
** modules stay open until exit; an atexit hook closes devices, runs the
** plugins' shutdown hooks and frees the registries.
*/
#include <dirent.h>
#include <errno.h>
#include <ltdl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include "config_file.h"
#include "device.h"
#include "kernel_registry.h"
#include "core_kernels.h"
#include "plugin_loader.h"
#include "status_internal.h"

#ifndef KILN_PLUGINDIR
#define KILN_PLUGINDIR "/usr/local/lib/kiln/plugins"
#endif
#define MODULE_EXT ".so"

/* ---------------------------------------------------------------- logging */

static pthread_once_t log_once = PTHREAD_ONCE_INIT;
static int log_threshold = KILN_LOG_WARNING;
static const char *const level_names[] = {"debug", "info", "warning", "error"};

static void read_log_level(void) {
  static const struct { const char *name; int level; } names[] = {
      {"debug", KILN_LOG_DEBUG}, {"info", KILN_LOG_INFO},
      {"warning", KILN_LOG_WARNING}, {"warn", KILN_LOG_WARNING},
      {"error", KILN_LOG_ERROR}, {"none", KILN_LOG_ERROR + 1},
      {"off", KILN_LOG_ERROR + 1}, {"0", KILN_LOG_DEBUG},
      {"1", KILN_LOG_INFO}, {"2", KILN_LOG_WARNING}, {"3", KILN_LOG_ERROR}};
  const char *e = getenv("KILN_LOG");
  if (!e || !*e) return;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcasecmp(e, names[i].name) == 0) {
      log_threshold = names[i].level;
      return;
    }
  fprintf(stderr, "kiln: [warning] KILN_LOG='%s' is not a level (debug, "
                  "info, warning, error, none); using warning\n", e);
}

bool kn_log_enabled(kiln_log_level level) {
  pthread_once(&log_once, read_log_level);
  return (int)level >= log_threshold;
}

void kn_log(kiln_log_level level, const char *fmt, ...) {
  char small[512], *msg = small;
  va_list ap;
  if (!kn_log_enabled(level)) return;
  if ((int)level < 0 || (int)level > KILN_LOG_ERROR) level = KILN_LOG_ERROR;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n >= (int)sizeof small) {
    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0) msg = small; /* cut short beats none */
    va_end(ap);
  }
  /* One call, so lines from several threads do not interleave. */
  fprintf(stderr, "kiln: [%s] %s\n", level_names[level], msg);
  if (msg != small) free(msg);
}

/* ---------------------------------------------------------------- records */

static pthread_mutex_t load_mu = PTHREAD_MUTEX_INITIALIZER; /* one loader */
static pthread_rwlock_t records_lock = PTHREAD_RWLOCK_INITIALIZER;
static kn_plugin **records;
static size_t nrecords, caprecords;
static char *search_path; /* the folders searched, ':'-joined */

static void record_free(kn_plugin *p) {
  if (!p) return;
  free(p->path);
  free(p->realpath);
  free(p->stem);
  free(p->name);
  free(p->label);
  free(p->message);
  free(p->last_error);
  for (int i = 0; i < p->ndevices; i++) free(p->devices[i]);
  free(p->devices);
  free(p);
}

static kn_plugin *record_new(const char *path, const char *stem,
                             bool builtin) {
  kn_plugin *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->builtin = builtin;
  p->path = strdup(path ? path : "");
  p->stem = strdup(stem ? stem : "");
  p->name = strdup(stem ? stem : "");
  p->message = strdup("");
  if (builtin) {
    if (asprintf(&p->label, "built-in plugin '%s'", stem) < 0) p->label = NULL;
  } else if (path && *path) {
    if (asprintf(&p->label, "plugin %s", path) < 0) p->label = NULL;
  } else {
    if (asprintf(&p->label, "plugin '%s'", stem) < 0) p->label = NULL;
  }
  if (!p->path || !p->stem || !p->name || !p->message || !p->label) {
    record_free(p);
    return NULL;
  }
  return p;
}

/* Publishes a finished record; readers never see one half-made. */
static void publish(kn_plugin *p) {
  pthread_rwlock_wrlock(&records_lock);
  if (nrecords == caprecords) {
    size_t cap = caprecords ? 2 * caprecords : 16;
    kn_plugin **nr = realloc(records, cap * sizeof *nr);
    if (!nr) {
      pthread_rwlock_unlock(&records_lock);
      /* The plugin stays loaded (its kernels are registered); only its
      ** record is lost, so say so. */
      kn_log(KILN_LOG_ERROR, "out of memory recording %s", p->label);
      return;
    }
    records = nr;
    caprecords = cap;
  }
  records[nrecords++] = p;
  pthread_rwlock_unlock(&records_lock);
}

size_t kn_plugin_count(void) {
  pthread_rwlock_rdlock(&records_lock);
  size_t n = nrecords;
  pthread_rwlock_unlock(&records_lock);
  return n;
}

const kn_plugin *kn_plugin_at(size_t i) {
  pthread_rwlock_rdlock(&records_lock);
  const kn_plugin *p = i < nrecords ? records[i] : NULL;
  pthread_rwlock_unlock(&records_lock);
  return p;
}

const char *kn_plugin_label(const kn_plugin *p) {
  return p && p->label ? p->label : "a plugin";
}

void kn_plugin_note(kn_plugin *p, const char *fmt, ...) {
  char *add, *joined;
  va_list ap;
  if (!p) return;
  va_start(ap, fmt);
  int n = vasprintf(&add, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if (p->message && *p->message) {
    if (asprintf(&joined, "%s; %s", p->message, add) < 0) joined = NULL;
    free(add);
  } else {
    joined = add;
  }
  if (!joined) return;
  free(p->message);
  p->message = joined;
}

/* Sets the outcome; logs failures at warning (the plugin did not load). */
static kiln_code outcome(kn_plugin *p, kiln_code code, const char *fmt, ...)
    KN_PRINTF(3, 4);
static kiln_code outcome(kn_plugin *p, kiln_code code, const char *fmt, ...) {
  char *msg;
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&msg, fmt, ap) < 0) msg = NULL;
  va_end(ap);
  p->code = code;
  if (msg) {
    free(p->message);
    p->message = msg;
  }
  kn_log(code == KILN_PERMISSION_DENIED ? KILN_LOG_INFO : KILN_LOG_WARNING,
         "%s not loaded: %s", p->label, p->message);
  return code;
}

static const kn_plugin *loaded_named(const char *name) {
  const kn_plugin *found = NULL;
  pthread_rwlock_rdlock(&records_lock);
  for (size_t i = 0; i < nrecords && !found; i++)
    if (records[i]->code == KILN_OK && strcmp(records[i]->name, name) == 0)
      found = records[i];
  pthread_rwlock_unlock(&records_lock);
  return found;
}

/* -------------------------------------------------------------------- init */

/* Runs a plugin's entry point and checks what it declared, for modules and
** built-ins alike. On failure everything it registered is withdrawn. */
static kiln_code run_init(kn_plugin *p, kiln_plugin_init_fn init) {
  /* Room past the struct for a plugin built against a newer header,
  ** whose kiln_plugin is larger: it may write there before its ABI is
  ** checked. */
  union {
    kiln_plugin self;
    unsigned char room[1024];
  } u;
  size_t min = KN_ABI1_SIZE(kiln_plugin, handle);
  memset(&u, 0, sizeof u);
  u.self.handle = (kiln_plugin_handle *)p;
  p->live = &u.self;
  p->initializing = true;
  int rc = init(&kn_plugin_api, &u.self);
  p->initializing = false;
  p->live = NULL;
  p->abi_found = u.self.abi_version;
  const char *why = p->last_error ? p->last_error : "";
  kiln_code code = KILN_OK;

  if (u.self.abi_version == 0)
    code = outcome(p, KILN_FAILED_PRECONDITION,
                   "%s did not set kiln_plugin.abi_version (found 0, "
                   "expected %d)", p->label, KILN_PLUGIN_ABI_VERSION);
  else if (u.self.abi_version > KILN_PLUGIN_ABI_VERSION)
    code = outcome(p, KILN_FAILED_PRECONDITION,
                   "%s was built for plugin ABI %d, newer than this Kiln's "
                   "ABI %d: use a Kiln that supports ABI %d, or build the "
                   "plugin against this Kiln's <kiln/plugin.h>", p->label,
                   u.self.abi_version, KILN_PLUGIN_ABI_VERSION,
                   u.self.abi_version);
  else if (u.self.abi_version < KILN_PLUGIN_ABI_VERSION)
    code = outcome(p, KILN_FAILED_PRECONDITION,
                   "%s was built for plugin ABI %d, older than this Kiln's "
                   "ABI %d: rebuild it against this Kiln's <kiln/plugin.h>",
                   p->label, u.self.abi_version, KILN_PLUGIN_ABI_VERSION);
  else if (u.self.struct_size < min)
    code = outcome(p, KILN_INVALID_ARGUMENT,
                   "%s: kiln_plugin.struct_size is %zu, smaller than the %zu "
                   "bytes of plugin ABI 1 (set it to sizeof(kiln_plugin))",
                   p->label, u.self.struct_size, min);
  else if (rc != 0)
    code = outcome(p, rc > 0 && rc <= KILN_UNAUTHENTICATED ? (kiln_code)rc
                                                           : KILN_UNKNOWN,
                   "%s: kiln_plugin_init failed (returned %d)%s%s", p->label,
                   rc, *why ? ": " : "", why);
  else if (u.self.name && !kn_plugin_name_valid(u.self.name))
    code = outcome(p, KILN_INVALID_ARGUMENT,
                   "%s: kiln_plugin.name '%s' is not a plugin name (letters, "
                   "digits, '_' and '-')", p->label, u.self.name);
  else {
    const char *name = u.self.name ? u.self.name : p->stem;
    const kn_plugin *other = loaded_named(name);
    if (other)
      code = outcome(p, KILN_ALREADY_EXISTS,
                     "%s: a plugin named '%s' is already loaded (%s)",
                     p->label, name, kn_plugin_label(other));
  }
  free(p->last_error);
  p->last_error = NULL;

  if (code == KILN_OK) {
    char *name = strdup(u.self.name ? u.self.name : p->stem);
    if (!name) {
      code = outcome(p, KILN_RESOURCE_EXHAUSTED, "out of memory loading %s",
                     p->label);
    } else {
      free(p->name);
      p->name = name;
    }
  }
  if (code != KILN_OK) {
    kn_kernels_remove_plugin(p);
    kn_device_types_remove_plugin(p);
    kn_plugin_api_discard(p);
    return code;
  }
  memcpy(&p->self, &u.self,
         u.self.struct_size < sizeof p->self ? u.self.struct_size
                                             : sizeof p->self);
  p->self.struct_size = sizeof p->self;
  p->self.handle = (kiln_plugin_handle *)p;
  p->code = KILN_OK;
  kiln_status *s = kiln_status_new();
  if (kn_plugin_api_commit(p, s) != KILN_OK)
    kn_plugin_note(p, "%s", s ? kiln_status_message(s) : "out of memory");
  kiln_status_free(s);
  kn_device_type_enumerate(p);
  kn_log(KILN_LOG_INFO, "loaded %s (%s%s%s), %d device%s", p->label, p->name,
         p->self.version ? " " : "", p->self.version ? p->self.version : "",
         p->ndevices, p->ndevices == 1 ? "" : "s");
  return KILN_OK;
}

/* ----------------------------------------------------------------- modules */

/* libltdl reports "file not found" for any module the system loader
** refuses. Asking its dlopen back end directly yields the real reason
** ("invalid ELF header", a missing dependency). */
static char *loader_reason(const char *path) {
  const char *err = lt_dlerror();
  char *saved = strdup(err ? err : "unknown error");
  const lt_dlvtable *v = lt_dlloader_find("lt_dlopen");
  if (!v || !v->module_open) return saved;
  lt_module m = v->module_open(v->dlloader_data, path, NULL);
  if (m) {
    if (v->module_close) v->module_close(v->dlloader_data, m);
    return saved;
  }
  err = lt_dlerror();
  if (!err) return saved;
  free(saved);
  return strdup(err);
}

static const kn_plugin *same_file(const char *real) {
  const kn_plugin *found = NULL;
  pthread_rwlock_rdlock(&records_lock);
  for (size_t i = 0; i < nrecords && !found; i++)
    if (records[i]->realpath && strcmp(records[i]->realpath, real) == 0)
      found = records[i];
  pthread_rwlock_unlock(&records_lock);
  return found;
}

static kiln_code errno_code(int e) {
  switch (e) {
    case ENOENT: case ENOTDIR: case ELOOP: return KILN_NOT_FOUND;
    case EACCES: case EPERM: return KILN_PERMISSION_DENIED;
    case ENOMEM: return KILN_RESOURCE_EXHAUSTED;
    default: return KILN_UNKNOWN;
  }
}

static void load_module(kn_plugin *p) {
  const kn_plugin *twin;
  lt_dladvise advise;
  if (!(p->realpath = realpath(p->path, NULL))) {
    outcome(p, errno_code(errno), "%s: %s", p->label, strerror(errno));
    return;
  }
  if ((twin = same_file(p->realpath))) {
    /* Reached twice (a symlink, a folder listed twice): one module. */
    free(p->realpath);
    p->realpath = NULL;
    p->code = KILN_ALREADY_EXISTS;
    kn_plugin_note(p, "same file as %s (%s), which was already tried; "
                   "loaded once", kn_plugin_label(twin), twin->realpath);
    kn_log(KILN_LOG_INFO, "%s: %s", p->label, p->message);
    return;
  }
  lt_dlhandle h = NULL;
  if (lt_dladvise_init(&advise) == 0) {
    lt_dladvise_local(&advise);
    h = lt_dlopenadvise(p->path, advise);
    lt_dladvise_destroy(&advise);
  }
  if (!h) {
    char *why = loader_reason(p->path);
    outcome(p, KILN_NOT_FOUND, "%s is not a loadable module: %s", p->label,
            why ? why : "out of memory");
    free(why);
    return;
  }
  kiln_plugin_init_fn init;
  *(void **)&init = lt_dlsym(h, KILN_PLUGIN_INIT_SYMBOL);
  if (!init) {
    const char *err = lt_dlerror();
    outcome(p, KILN_NOT_FOUND,
            "%s has no %s symbol: it is no Kiln plugin, or its entry point "
            "is not exported (%s)", p->label, KILN_PLUGIN_INIT_SYMBOL,
            err ? err : "symbol not found");
    lt_dlclose(h);
    return;
  }
  if (run_init(p, init) != KILN_OK) {
    lt_dlclose(h);
    return;
  }
  p->module = h;
}

/* ------------------------------------------------------------- candidates */

typedef struct strlist {
  char **v;
  int n, cap;
} strlist;

static bool sl_push(strlist *l, const char *s, size_t len) {
  if (l->n == l->cap) {
    int cap = l->cap ? 2 * l->cap : 8;
    char **nv = realloc(l->v, (size_t)cap * sizeof *nv);
    if (!nv) return false;
    l->v = nv;
    l->cap = cap;
  }
  if (!(l->v[l->n] = strndup(s, len))) return false;
  l->n++;
  return true;
}

static bool sl_has(const strlist *l, const char *s) {
  for (int i = 0; i < l->n; i++)
    if (strcmp(l->v[i], s) == 0) return true;
  return false;
}

static void sl_free(strlist *l) {
  for (int i = 0; i < l->n; i++) free(l->v[i]);
  free(l->v);
  memset(l, 0, sizeof *l);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The config's folders, then KILN_PLUGIN_PATH, then the installed folder.
** Empty entries of KILN_PLUGIN_PATH are skipped: unlike $PATH they do not
** mean the working directory. */
static bool search_dirs(const kn_config *cfg, strlist *dirs) {
  for (int i = 0; i < cfg->ndirs; i++)
    if (!sl_push(dirs, cfg->plugin_dirs[i], strlen(cfg->plugin_dirs[i])))
      return false;
  const char *env = getenv("KILN_PLUGIN_PATH");
  for (const char *c = env ? env : ""; *c;) {
    size_t n = strcspn(c, ":");
    if (n && !sl_push(dirs, c, n)) return false;
    c += n;
    if (*c) c++;
  }
  return sl_push(dirs, KILN_PLUGINDIR, strlen(KILN_PLUGINDIR));
}

static char *joined(const strlist *l, const char *sep) {
  size_t len = 1;
  for (int i = 0; i < l->n; i++) len += strlen(l->v[i]) + strlen(sep);
  char *out = malloc(len);
  if (!out) return NULL;
  out[0] = '\0';
  for (int i = 0; i < l->n; i++) {
    if (i) strcat(out, sep);
    strcat(out, l->v[i]);
  }
  return out;
}

static bool is_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && !S_ISDIR(st.st_mode);
}

/* The first kiln-<stem>.so along the folders, or NULL. */
static char *find_plugin(const strlist *dirs, const char *stem) {
  for (int i = 0; i < dirs->n; i++) {
    char *path;
    if (asprintf(&path, "%s/kiln-%s" MODULE_EXT, dirs->v[i], stem) < 0)
      return NULL;
    if (is_file(path)) return path;
    free(path);
  }
  return NULL;
}

/* Every kiln-*.so of one folder, by name. */
static void scan_dir(const char *dir, strlist *stems) {
  DIR *d = opendir(dir);
  struct dirent *e;
  strlist found = {0};
  size_t pre = strlen("kiln-"), ext = strlen(MODULE_EXT);
  if (!d) {
    kn_log(KILN_LOG_DEBUG, "plugin folder %s: %s", dir, strerror(errno));
    return;
  }
  while ((e = readdir(d))) {
    size_t n = strlen(e->d_name);
    if (n <= pre + ext || strncmp(e->d_name, "kiln-", pre) != 0 ||
        strcmp(e->d_name + n - ext, MODULE_EXT) != 0)
      continue;
    char stem[256];
    if (n - pre - ext >= sizeof stem) continue;
    memcpy(stem, e->d_name + pre, n - pre - ext);
    stem[n - pre - ext] = '\0';
    if (kn_plugin_name_valid(stem) && !sl_push(&found, stem, strlen(stem)))
      break;
  }
  closedir(d);
  if (found.n > 1) qsort(found.v, (size_t)found.n, sizeof *found.v, cmp_str);
  for (int i = 0; i < found.n; i++)
    if (!sl_has(stems, found.v[i]))
      sl_push(stems, found.v[i], strlen(found.v[i]));
  sl_free(&found);
}

/* Tries one candidate: `path` NULL when no file was found. */
static void try_candidate(const kn_config *cfg, const strlist *dirs,
                          const char *stem, const char *path,
                          const char *ltdl_error) {
  kn_plugin *p = record_new(path, stem, false);
  if (!p) {
    kn_log(KILN_LOG_ERROR, "out of memory loading plugin '%s'", stem);
    return;
  }
  if (kn_config_denies(cfg, stem)) {
    outcome(p, KILN_PERMISSION_DENIED,
            "%s is denied by the config file %s ([plugins] deny); it was not "
            "opened", p->label, cfg->path ? cfg->path : "");
  } else if (!path) {
    char *where = joined(dirs, ", ");
    free(p->path);
    if (asprintf(&p->path, "kiln-%s" MODULE_EXT, stem) < 0) p->path = NULL;
    outcome(p, KILN_NOT_FOUND, "%s: no kiln-%s" MODULE_EXT " in %s", p->label,
            stem, where ? where : "the plugin folders");
    free(where);
    if (!p->path) {
      record_free(p);
      return;
    }
  } else if (ltdl_error) {
    outcome(p, KILN_INTERNAL, "%s: libltdl could not start: %s", p->label,
            ltdl_error);
  } else {
    load_module(p);
  }
  publish(p);
}

static pthread_once_t exit_once = PTHREAD_ONCE_INIT;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

/* At exit: devices closed, then each plugin's shutdown hook (last loaded
** first), then the registries freed. Modules stay mapped: a thread a
** plugin started may still be running its code. */
static void at_exit(void) {
  pthread_mutex_lock(&load_mu);
  kn_devices_clear();
  pthread_rwlock_wrlock(&records_lock);
  for (size_t i = nrecords; i-- > 0;) {
    kn_plugin *p = records[i];
    if (p->code == KILN_OK && p->self.shutdown) p->self.shutdown(p->self.user);
  }
  pthread_rwlock_unlock(&records_lock);
  kn_kernels_clear();
  kn_plugin_api_release();
  pthread_rwlock_wrlock(&records_lock);
  for (size_t i = 0; i < nrecords; i++) record_free(records[i]);
  free(records);
  records = NULL;
  nrecords = caprecords = 0;
  pthread_rwlock_unlock(&records_lock);
  free(search_path);
  search_path = NULL;
  kn_config_file_release();
  pthread_mutex_unlock(&load_mu);
}

static void register_exit(void) { atexit(at_exit); }

static void load_all(void) {
  strlist dirs = {0}, stems = {0};
  const char *ltdl_error = NULL;
  pthread_mutex_lock(&load_mu);
  pthread_once(&exit_once, register_exit);
  const kn_config *cfg = kn_config_get();
  if (lt_dlinit() != 0) {
    ltdl_error = lt_dlerror();
    if (!ltdl_error) ltdl_error = "lt_dlinit failed";
    kn_log(KILN_LOG_ERROR, "libltdl could not start: %s", ltdl_error);
  }
  if (!search_dirs(cfg, &dirs)) {
    kn_log(KILN_LOG_ERROR, "out of memory listing the plugin folders");
    goto done;
  }
  free(search_path);
  search_path = joined(&dirs, ":");
  if (cfg->plugins) {
    for (int i = 0; i < cfg->nplugins; i++) {
      const char *stem = cfg->plugins[i];
      const kn_plugin_config *pc = kn_config_plugin(cfg, stem);
      char *path = pc && pc->path ? strdup(pc->path) : find_plugin(&dirs, stem);
      try_candidate(cfg, &dirs, stem, path, ltdl_error);
      free(path);
    }
  } else {
    /* No list: the config's explicit files, then every folder's. */
    for (int i = 0; i < cfg->nplugin_cfg; i++)
      if (cfg->plugin_cfg[i].path) {
        try_candidate(cfg, &dirs, cfg->plugin_cfg[i].name,
                      cfg->plugin_cfg[i].path, ltdl_error);
        sl_push(&stems, cfg->plugin_cfg[i].name,
                strlen(cfg->plugin_cfg[i].name));
      }
    int explicit_count = stems.n;
    for (int i = 0; i < dirs.n; i++) scan_dir(dirs.v[i], &stems);
    for (int i = explicit_count; i < stems.n; i++) {
      char *path = find_plugin(&dirs, stems.v[i]);
      try_candidate(cfg, &dirs, stems.v[i], path, ltdl_error);
      free(path);
    }
  }
  size_t loaded = 0;
  for (size_t i = 0; i < kn_plugin_count(); i++)
    loaded += kn_plugin_at(i)->code == KILN_OK;
  if (!loaded)
    kn_log(KILN_LOG_WARNING, "no plugin loaded (searched %s); graphs build, "
           "but nothing can run", search_path ? search_path : "");
  kn_core_kernels_register();
done:
  sl_free(&dirs);
  sl_free(&stems);
  pthread_mutex_unlock(&load_mu);
}

void kn_plugins_ensure_loaded(void) { pthread_once(&load_once, load_all); }

const char *kn_plugin_search_path(void) {
  kn_plugins_ensure_loaded();
  return search_path ? search_path : "";
}

kiln_code kn_plugin_add_builtin(const char *name, kiln_plugin_init_fn init,
                                kiln_status *s) {
  if (!kn_plugin_name_valid(name))
    return kn_errorf(s, KILN_INVALID_ARGUMENT,
                     "built-in plugin name '%s' is not a plugin name "
                     "(letters, digits, '_' and '-')", name ? name : "(null)");
  if (!init)
    return kn_errorf(s, KILN_INVALID_ARGUMENT,
                     "built-in plugin '%s' has no init function", name);
  pthread_mutex_lock(&load_mu);
  pthread_once(&exit_once, register_exit);
  kn_plugin *p = record_new(NULL, name, true);
  if (!p) {
    pthread_mutex_unlock(&load_mu);
    return KN_OOM(s);
  }
  const kn_config *cfg = kn_config_get();
  if (kn_config_denies(cfg, name))
    outcome(p, KILN_PERMISSION_DENIED,
            "%s is denied by the config file %s ([plugins] deny)", p->label,
            cfg->path ? cfg->path : "");
  else
    run_init(p, init);
  kiln_code code = p->code;
  if (code != KILN_OK) kn_errorf(s, code, "%s", p->message);
  publish(p);
  pthread_mutex_unlock(&load_mu);
  return code;
}
