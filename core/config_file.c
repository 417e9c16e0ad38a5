/*
** The configuration file: an INI file read with libinih.
**
** libinih calls back once per "key = value" and reports only the first
** syntax error's line, so the file is fed to it through our own line
** reader. The reader counts lines (the handler then knows where it is),
** checks section headers as they go by (an empty unknown section would
** otherwise pass unseen), and tells the handler whether a line is an
** indented continuation of the key above it. The first error stops the
** parse; the config is then left empty, never half-filled.
*/
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <ini.h>
#include "config_file.h"
#include "plugin_loader.h"
#include "status_internal.h"

#ifndef KILN_SYSCONFDIR
#define KILN_SYSCONFDIR "/etc/kiln"
#endif

/* Where each (section, key) was first given, to refuse repeats. */
typedef struct seen_key {
  char *section, *key;
  int line;
} seen_key;

typedef struct parser {
  const char *file;
  char *dir;              /* the file's folder, absolute */
  FILE *f;
  char *buf;              /* getline's buffer */
  size_t bufcap;
  int line;               /* the line libinih is working on */
  bool continuation;      /* it is an indented continuation line */
  bool have_key;          /* a key was set since the last section header */
  int error_line;         /* 0 while no error */
  kn_config *cfg;
  kiln_status *s;
  seen_key *seen;
  int nseen, capseen;
} parser;

static kiln_code perr(parser *p, const char *fmt, ...) KN_PRINTF(2, 3);

/* Records the first error, prefixed with "file:line: " (nothing when the
** text came from no file: KILN_PLUGINS). */
static kiln_code perr(parser *p, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  if (p->error_line) return KILN_INVALID_ARGUMENT;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  p->error_line = p->line > 0 ? p->line : 1;
  if (!p->file) return kn_errorf(p->s, KILN_INVALID_ARGUMENT, "%s", msg);
  return kn_errorf(p->s, KILN_INVALID_ARGUMENT, "%s:%d: %s", p->file,
                   p->error_line, msg);
}

static kiln_code poom(parser *p) {
  if (!p->error_line) {
    p->error_line = p->line > 0 ? p->line : 1;
    KN_OOM(p->s);
  }
  return KILN_RESOURCE_EXHAUSTED;
}

bool kn_plugin_name_valid(const char *name) {
  if (!name || !*name) return false;
  for (const char *c = name; *c; c++)
    if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-') return false;
  return true;
}

/* ------------------------------------------------------------ string lists */

static void free_list(char **l, int n) {
  for (int i = 0; i < n; i++) free(l[i]);
  free(l);
}

/* Appends a copy of s[0..n) to *l; false on OOM. The array always keeps
** one spare slot so an empty list given in the file is non-NULL. */
static bool list_push(char ***l, int *n, const char *s, size_t len) {
  char **nl = realloc(*l, (size_t)(*n + 2) * sizeof *nl);
  if (!nl) return false;
  *l = nl;
  if (!s) {
    nl[*n] = NULL;
    return true;
  }
  char *c = strndup(s, len);
  if (!c) return false;
  nl[(*n)++] = c;
  nl[*n] = NULL;
  return true;
}

static bool list_has(char **l, int n, const char *s) {
  for (int i = 0; i < n; i++)
    if (strcmp(l[i], s) == 0) return true;
  return false;
}

/* Calls fn on each trimmed, non-empty item of `value` split at any of
** `seps`. Stops at the first failure. */
static kiln_code split(parser *p, const char *value, const char *seps,
                       kiln_code (*fn)(parser *, const char *, void *),
                       void *arg) {
  const char *c = value;
  while (*c) {
    size_t n = strcspn(c, seps);
    const char *b = c, *e = c + n;
    while (b < e && isspace((unsigned char)*b)) b++;
    while (e > b && isspace((unsigned char)e[-1])) e--;
    if (e > b) {
      char *item = strndup(b, (size_t)(e - b));
      if (!item) return poom(p);
      kiln_code rc = fn(p, item, arg);
      free(item);
      if (rc != KILN_OK) return rc;
    }
    c += n;
    if (*c) c++;
  }
  return KILN_OK;
}

/* -------------------------------------------------------------- the keys */

typedef struct list_target {
  char ***list;
  int *n;
  const char *key;
  bool names;             /* items are plugin names */
} list_target;

static kiln_code add_item(parser *p, const char *item, void *arg) {
  list_target *t = arg;
  if (t->names) {
    if (!kn_plugin_name_valid(item))
      return perr(p, "%s: '%s' is not a plugin name (letters, digits, '_' "
                     "and '-'; the file is kiln-NAME.so)", t->key, item);
    if (list_has(*t->list, *t->n, item))
      return perr(p, "%s: plugin '%s' is listed twice", t->key, item);
  }
  if (!list_push(t->list, t->n, item, strlen(item))) return poom(p);
  return KILN_OK;
}

/* Makes a relative path absolute against the config file's folder, so a
** config works wherever the program runs. */
static char *resolve(parser *p, const char *path) {
  char *out;
  if (path[0] == '/') return strdup(path);
  while (path[0] == '.' && path[1] == '/') path += 2;
  if (strcmp(path, ".") == 0 || !*path) return strdup(p->dir);
  if (asprintf(&out, "%s/%s", p->dir, path) < 0) return NULL;
  return out;
}

static kiln_code add_dir(parser *p, const char *item, void *arg) {
  (void)arg;
  char *abs = resolve(p, item);
  if (!abs) return poom(p);
  if (!list_push(&p->cfg->plugin_dirs, &p->cfg->ndirs, NULL, 0)) {
    free(abs);
    return poom(p);
  }
  p->cfg->plugin_dirs[p->cfg->ndirs++] = abs;
  p->cfg->plugin_dirs[p->cfg->ndirs] = NULL;
  return KILN_OK;
}

static kiln_code list_key(parser *p, char ***list, int *n, const char *key,
                          const char *value, bool names) {
  list_target t = {list, n, key, names};
  /* Present but empty ("load =") still means "this list, empty". */
  if (!*list && !list_push(list, n, NULL, 0)) return poom(p);
  return split(p, value, ",", add_item, &t);
}

static kiln_code parse_bool(parser *p, const char *key, const char *v,
                            int *out) {
  static const char *const yes[] = {"true", "yes", "on", "1"};
  static const char *const no[] = {"false", "no", "off", "0"};
  for (size_t i = 0; i < 4; i++) {
    if (strcasecmp(v, yes[i]) == 0) return *out = 1, KILN_OK;
    if (strcasecmp(v, no[i]) == 0) return *out = 0, KILN_OK;
  }
  return perr(p, "[session] %s: '%s' is not a boolean (true or false)", key,
              v);
}

static kiln_code parse_count(parser *p, const char *key, const char *v,
                             int *out) {
  char *end;
  errno = 0;
  long n = strtol(v, &end, 10);
  if (!*v || *end || errno || n < 0 || n > INT_MAX)
    return perr(p, "[session] %s: '%s' is not a thread count (an integer "
                   ">= 0; 0 lets Kiln choose)", key, v);
  *out = (int)n;
  return KILN_OK;
}

static kn_plugin_config *plugin_section(parser *p, const char *name) {
  kn_config *c = p->cfg;
  for (int i = 0; i < c->nplugin_cfg; i++)
    if (strcmp(c->plugin_cfg[i].name, name) == 0) return &c->plugin_cfg[i];
  kn_plugin_config *nc =
      realloc(c->plugin_cfg, (size_t)(c->nplugin_cfg + 1) * sizeof *nc);
  if (!nc) return NULL;
  c->plugin_cfg = nc;
  kn_plugin_config *pc = &nc[c->nplugin_cfg];
  memset(pc, 0, sizeof *pc);
  if (!(pc->name = strdup(name))) return NULL;
  c->nplugin_cfg++;
  return pc;
}

static const char *const list_keys[] = {"load", "deny", "dirs", "devices"};

static bool is_list_key(const char *key) {
  for (size_t i = 0; i < sizeof list_keys / sizeof list_keys[0]; i++)
    if (strcmp(key, list_keys[i]) == 0) return true;
  return false;
}

/* A key given twice in a section is refused (which one would win is a
** guess); indented continuation lines of list keys add to it instead. */
static kiln_code check_repeat(parser *p, const char *section,
                              const char *key) {
  for (int i = 0; i < p->nseen; i++)
    if (strcmp(p->seen[i].section, section) == 0 &&
        strcmp(p->seen[i].key, key) == 0)
      return perr(p, "[%s] %s is given twice (first on line %d)", section,
                  key, p->seen[i].line);
  if (p->nseen == p->capseen) {
    int cap = p->capseen ? 2 * p->capseen : 8;
    seen_key *ns = realloc(p->seen, (size_t)cap * sizeof *ns);
    if (!ns) return poom(p);
    p->seen = ns;
    p->capseen = cap;
  }
  seen_key *k = &p->seen[p->nseen];
  k->section = strdup(section);
  k->key = strdup(key);
  k->line = p->line;
  if (!k->section || !k->key) {
    free(k->section);
    free(k->key);
    return poom(p);
  }
  p->nseen++;
  return KILN_OK;
}

static kiln_code plugins_key(parser *p, const char *key, const char *value) {
  kn_config *c = p->cfg;
  if (strcmp(key, "load") == 0)
    return list_key(p, &c->plugins, &c->nplugins, "[plugins] load", value,
                    true);
  if (strcmp(key, "deny") == 0)
    return list_key(p, &c->deny, &c->ndeny, "[plugins] deny", value, true);
  if (strcmp(key, "dirs") == 0) {
    if (!c->plugin_dirs && !list_push(&c->plugin_dirs, &c->ndirs, NULL, 0))
      return poom(p);
    return split(p, value, ":,", add_dir, NULL);
  }
  return perr(p, "[plugins] unknown key '%s'; known keys: load, deny, dirs",
              key);
}

static kiln_code plugin_key(parser *p, const char *name, const char *key,
                            const char *value) {
  kn_plugin_config *pc;
  if (strcmp(key, "path") != 0 && strcmp(key, "devices") != 0)
    return perr(p, "[plugin.%s] unknown key '%s'; known keys: path, devices",
                name, key);
  if (!(pc = plugin_section(p, name))) return poom(p);
  if (strcmp(key, "devices") == 0) {
    char label[128];
    snprintf(label, sizeof label, "[plugin.%s] devices", name);
    return list_key(p, &pc->devices, &pc->ndevices, label, value, false);
  }
  if (!*value) return perr(p, "[plugin.%s] path is empty", name);
  if (!(pc->path = resolve(p, value))) return poom(p);
  return KILN_OK;
}

static kiln_code session_key(parser *p, const char *key, const char *value) {
  kn_config *c = p->cfg;
  if (strcmp(key, "allow_soft_placement") == 0)
    return parse_bool(p, key, value, &c->allow_soft_placement);
  if (strcmp(key, "log_device_placement") == 0)
    return parse_bool(p, key, value, &c->log_device_placement);
  if (strcmp(key, "intra_op_parallelism_threads") == 0)
    return parse_count(p, key, value, &c->intra_op_threads);
  if (strcmp(key, "inter_op_parallelism_threads") == 0)
    return parse_count(p, key, value, &c->inter_op_threads);
  return perr(p, "[session] unknown key '%s'; known keys: "
                 "allow_soft_placement, log_device_placement, "
                 "intra_op_parallelism_threads, inter_op_parallelism_threads",
              key);
}

/* libinih's callback: nonzero to go on. */
static int on_key(void *user, const char *section, const char *key,
                  const char *value) {
  parser *p = user;
  kiln_code rc;
  if (p->error_line) return 0;
  p->have_key = true;
  if (!*section) {
    perr(p, "key '%s' is outside any section; put it under [plugins], "
            "[plugin.NAME] or [session]", key);
    return 0;
  }
  if (p->continuation) {
    if (!is_list_key(key)) {
      perr(p, "[%s] %s: an indented line continues a value, but %s takes "
              "one value", section, key, key);
      return 0;
    }
  } else if (check_repeat(p, section, key) != KILN_OK) {
    return 0;
  }
  if (strcmp(section, "plugins") == 0)
    rc = plugins_key(p, key, value);
  else if (strcmp(section, "session") == 0)
    rc = session_key(p, key, value);
  else /* "plugin.NAME": the reader let no other section through */
    rc = plugin_key(p, section + 7, key, value);
  return rc == KILN_OK;
}

/* ------------------------------------------------------------- the reader */

static bool section_known(const char *name) {
  return strcmp(name, "plugins") == 0 || strcmp(name, "session") == 0 ||
         (strncmp(name, "plugin.", 7) == 0 && kn_plugin_name_valid(name + 7));
}

/* Looks at a line the way libinih will, before it does. */
static void inspect_line(parser *p, char *line) {
  char *start = line, *end;
  if (p->line == 1 && (unsigned char)line[0] == 0xEF &&
      (unsigned char)line[1] == 0xBB && (unsigned char)line[2] == 0xBF)
    start += 3;
  while (*start && isspace((unsigned char)*start)) start++;
  p->continuation = false;
  if (!*start || *start == ';' || *start == '#') return;
  if (p->have_key && start > line) {
    p->continuation = true;
    return;
  }
  if (*start != '[') return;
  p->have_key = false;
  end = strchr(start + 1, ']');
  if (!end) return; /* libinih reports it */
  char name[256];
  size_t n = (size_t)(end - start - 1);
  if (n >= sizeof name) n = sizeof name - 1;
  memcpy(name, start + 1, n);
  name[n] = '\0';
  if (section_known(name)) return;
  if (strncmp(name, "plugin.", 7) == 0)
    perr(p, "[%s]: '%s' is not a plugin name (letters, digits, '_' and '-')",
         name, name + 7);
  else
    perr(p, "unknown section [%s]; known sections: [plugins], "
            "[plugin.NAME], [session]", name);
}

static char *read_line(char *str, int num, void *stream) {
  parser *p = stream;
  if (p->error_line) return NULL;
  ssize_t n = getline(&p->buf, &p->bufcap, p->f);
  if (n < 0) {
    if (ferror(p->f))
      kn_errorf(p->s, KILN_DATA_LOSS, "%s: read failed after line %d: %s",
                p->file, p->line, strerror(errno)),
          p->error_line = p->line + 1;
    return NULL;
  }
  p->line++;
  /* libinih's buffer holds the line, its newline and the NUL. */
  if (n >= num) {
    perr(p, "the line is longer than %d characters (libinih's limit; "
            "continue a list on indented lines)", num - 2);
    return NULL;
  }
  inspect_line(p, p->buf);
  if (p->error_line) return NULL;
  memcpy(str, p->buf, (size_t)n + 1);
  return str;
}

/* ---------------------------------------------------------------- parsing */

void kn_config_clear(kn_config *c) {
  if (!c) return;
  free(c->path);
  free_list(c->plugins, c->nplugins);
  free_list(c->deny, c->ndeny);
  free_list(c->plugin_dirs, c->ndirs);
  for (int i = 0; i < c->nplugin_cfg; i++) {
    free(c->plugin_cfg[i].name);
    free(c->plugin_cfg[i].path);
    free_list(c->plugin_cfg[i].devices, c->plugin_cfg[i].ndevices);
  }
  free(c->plugin_cfg);
  memset(c, 0, sizeof *c);
  c->allow_soft_placement = c->log_device_placement = -1;
  c->intra_op_threads = c->inter_op_threads = -1;
}

static char *folder_of(const char *path) {
  const char *slash = strrchr(path, '/');
  char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path))
                    : strdup(".");
  if (!dir) return NULL;
  char *abs = realpath(dir, NULL);
  if (abs) {
    free(dir);
    return abs;
  }
  return dir;
}

kiln_code kn_config_parse(const char *path, kn_config *out, kiln_status *s) {
  parser p = {0};
  struct stat st;
  kn_config_clear(out);
  if (!path || !*path)
    return kn_errorf(s, KILN_INVALID_ARGUMENT, "config file path is empty");
  p.file = path;
  p.cfg = out;
  p.s = s;
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
    return kn_errorf(s, KILN_FAILED_PRECONDITION,
                     "config file '%s' is a directory", path);
  if (!(p.f = fopen(path, "r")))
    return kn_errorf(s, kn_errno_code(errno), "cannot read config file '%s': %s",
                     path, strerror(errno));
  if (!(p.dir = folder_of(path)) || !(out->path = strdup(path))) {
    poom(&p);
  } else {
    int rc = ini_parse_stream(read_line, &p, on_key, &p);
    if (rc == -2) {
      poom(&p);
    } else if (rc > 0 && (!p.error_line || rc < p.error_line)) {
      p.error_line = 0;
      p.line = rc;
      perr(&p, "expected '[section]' or 'key = value'");
    }
  }
  fclose(p.f);
  free(p.buf);
  free(p.dir);
  for (int i = 0; i < p.nseen; i++) {
    free(p.seen[i].section);
    free(p.seen[i].key);
  }
  free(p.seen);
  if (p.error_line) {
    kn_config_clear(out);
    return kiln_status_code(s) != KILN_OK ? kiln_status_code(s)
                                          : KILN_INVALID_ARGUMENT;
  }
  return KILN_OK;
}

const kn_plugin_config *kn_config_plugin(const kn_config *c, const char *name) {
  if (!c || !name) return NULL;
  for (int i = 0; i < c->nplugin_cfg; i++)
    if (strcmp(c->plugin_cfg[i].name, name) == 0) return &c->plugin_cfg[i];
  return NULL;
}

bool kn_config_denies(const kn_config *c, const char *name) {
  return c && name && list_has(c->deny, c->ndeny, name);
}

/* ------------------------------------------------- the process's config */

static pthread_once_t config_once = PTHREAD_ONCE_INIT;
static kn_config config;
static kiln_status *config_status;

/* The first config file that exists, in the documented order. */
static char *find_config(void) {
  struct stat st;
  char *path = NULL;
  const char *env = getenv("KILN_CONFIG");
  if (env && *env) return strdup(env); /* named explicitly: must exist */
  const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
  if (xdg && *xdg) {
    if (asprintf(&path, "%s/kiln/kiln.conf", xdg) < 0) path = NULL;
  } else if (home && *home) {
    if (asprintf(&path, "%s/.config/kiln/kiln.conf", home) < 0) path = NULL;
  }
  if (path && stat(path, &st) == 0) return path;
  free(path);
  if (stat(KILN_SYSCONFDIR "/kiln.conf", &st) == 0)
    return strdup(KILN_SYSCONFDIR "/kiln.conf");
  return NULL;
}

static void load_config(void) {
  char *path = find_config();
  kiln_status *s = kiln_status_new();
  kn_config_clear(&config);
  if (path && kn_config_parse(path, &config, s) != KILN_OK) {
    kn_log(KILN_LOG_ERROR, "%s; using the defaults", kiln_status_message(s));
    config_status = s;
    s = NULL;
  }
  free(path);
  /* KILN_PLUGINS replaces the file's list, for one run of one program. */
  const char *env = getenv("KILN_PLUGINS");
  if (env && *env) {
    parser p = {0};
    kiln_status *es = kiln_status_new();
    char **list = NULL;
    int n = 0;
    p.s = es;
    if (list_key(&p, &list, &n, "KILN_PLUGINS", env, true) == KILN_OK) {
      free_list(config.plugins, config.nplugins);
      config.plugins = list;
      config.nplugins = n;
    } else {
      kn_log(KILN_LOG_ERROR, "%s; ignoring it", kiln_status_message(es));
      free_list(list, n);
      if (!config_status) {
        config_status = es;
        es = NULL;
      }
    }
    kiln_status_free(es);
  }
  kiln_status_free(s);
}

const kn_config *kn_config_get(void) {
  pthread_once(&config_once, load_config);
  return &config;
}

const kiln_status *kn_config_error(void) {
  kn_config_get();
  return config_status && kiln_status_code(config_status) != KILN_OK
             ? config_status
             : NULL;
}

void kn_config_file_release(void) {
  kn_config_get();
  kn_config_clear(&config);
  kiln_status_free(config_status);
  config_status = NULL;
}
