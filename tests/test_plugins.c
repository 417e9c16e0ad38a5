/*
** The plugin loader with real modules: small plugins built for the purpose
** (tests/plugins/), most of them broken in one particular way, and what
** the loader, the device and kernel registries and a session make of them.
**
** Plugins load once per process, so each scenario runs in a child process
** with its own folder of plugins and its own config file
** (tests/plugins/harness.h). Under KILN_VALGRIND the children are checked
** for leaks too, as they exit through the loader's cleanup.
*/
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include "testutil.h"
#include <kiln/devices.h>
#include <kiln/session.h>
#include "config_file.h"
#include "device.h"
#include "kernel_registry.h"
#include "op_registry.h"
#include "plugin_loader.h"

#include "plugins/harness.h"

/* ------------------------------------------------------- the good plugin */

static int open_count(int index) {
  for (size_t i = 0; i < kn_device_count(); i++) {
    kn_device *d = kn_device_at(i);
    if (d->enum_index == index && strcmp(d->type->type, "TESTDEV") == 0)
      return *(int *)d->cookie;
  }
  return -1;
}

/* Devices of one type: scenarios that scan folders may also meet plugins
** installed on the machine, so they count only their own. */
static int count_type(const char *type) {
  int n = 0;
  for (size_t i = 0; i < kn_device_count(); i++)
    n += strcmp(kn_device_at(i)->type->type, type) == 0;
  return n;
}

static void *open_device1(void *arg) {
  kiln_status *s = kiln_status_new();
  void *state = kn_device_open(arg, s);
  CHECK(kiln_status_code(s) == KILN_OK);
  kiln_status_free(s);
  return state;
}

static void check_good_records(void) {
  char want[PATH_MAX];
  kiln_plugin_list *l = kiln_plugins_list();
  CHECK(l);
  CHECK_INT(kiln_plugin_list_size(l), 1);
  snprintf(want, sizeof want, "%s/kiln-good.so", dir);
  CHECK_STR(kiln_plugin_list_path(l, 0), want);
  CHECK_STR(kiln_plugin_list_name(l, 0), "good");
  CHECK_INT(kiln_plugin_list_code(l, 0), KILN_OK);
  CHECK_STR(kiln_plugin_list_message(l, 0), "");
  CHECK_INT(kiln_plugin_list_abi_found(l, 0), KILN_PLUGIN_ABI_VERSION);
  CHECK_INT(kiln_plugin_list_abi_expected(l, 0), KILN_PLUGIN_ABI_VERSION);
  CHECK_INT(kiln_plugin_list_num_devices(l, 0), 3);
  CHECK_STR(kiln_plugin_list_device(l, 0, 0),
            "/job:localhost/replica:0/task:0/device:TESTDEV:0");
  CHECK_STR(kiln_plugin_list_device(l, 0, 2),
            "/job:localhost/replica:0/task:0/device:TESTDEV:2");
  CHECK(kiln_plugin_list_device(l, 0, 3) == NULL);
  CHECK(kiln_plugin_list_path(l, 1) == NULL);
  CHECK_INT(kiln_plugin_list_code(l, 1), KILN_OUT_OF_RANGE);
  kiln_plugin_list_free(l);
  CHECK_STR(getenv("KT_GOOD_MAPPED"), "1");

  kiln_status *s = kiln_status_new();
  kiln_device_list *d = kiln_devices_list(s);
  CHECK(kiln_status_code(s) == KILN_OK);
  CHECK_INT(kiln_device_list_size(d), 3);
  CHECK_STR(kiln_device_list_name(d, 1),
            "/job:localhost/replica:0/task:0/device:TESTDEV:1");
  CHECK_STR(kiln_device_list_type(d, 1), "TESTDEV");
  CHECK_STR(kiln_device_list_plugin(d, 1), "good");
  CHECK_STR(kiln_device_list_description(d, 0), "Test device A (init 1)");
  CHECK_STR(kiln_device_list_vendor(d, 0), "Kiln tests");
  CHECK_STR(kiln_device_list_stable_id(d, 2), "test:2");
  CHECK_INT(kiln_device_list_memory_limit(d, 1), 2 << 20);
  CHECK_INT(kiln_device_list_free_memory(d, 1), 2 << 19);
  CHECK(kiln_device_list_name(d, 3) == NULL);
  CHECK(kiln_device_list_name(d, -1) == NULL);
  kiln_device_list_free(d);
  kiln_status_free(s);
}

static void check_good_kernels(void) {
  char buf[256];
  kn_attr_map f = type_attr("T", KILN_FLOAT), i32 = type_attr("T", KILN_INT32);
  const kn_kernel *k = kn_kernel_find("Neg", "TESTDEV", &f);
  CHECK(k);
  /* The priority-10 kernel wins; its constraints were normalised. */
  CHECK_INT(k->def.priority, 10);
  CHECK_STR(k->constraints, "T=float,double");
  CHECK_STR(k->plugin->name, "good");
  CHECK(kn_kernel_find("Neg", "testdev", &f) == k);
  CHECK(kn_kernel_find("Neg", "TESTDEV", &i32) == NULL);
  CHECK(kn_kernel_find("Neg", "CPU", &f) == NULL);
  CHECK(kn_kernel_find("Neg", "TESTDEV", NULL) == NULL);
  CHECK(kn_kernel_mismatch(k, &f, buf, sizeof buf) == NULL);
  CHECK_STR(kn_kernel_mismatch(k, &i32, buf, sizeof buf),
            "T=int32 not in {float, double}");
  CHECK_STR(kn_kernel_mismatch(k, NULL, buf, sizeof buf),
            "attr 'T' is not set");
  CHECK_INT(kn_kernel_device_types("Neg", &f, buf, sizeof buf), 1);
  CHECK_STR(buf, "TESTDEV");
  CHECK_INT(kn_kernel_device_types("Neg", &i32, buf, sizeof buf), 0);
  CHECK_STR(buf, "");
  /* Its three, and the core's resource kernels on its host-memory type. */
  int mine = 0, core = 0;
  for (size_t i = 0; i < kn_kernel_count(); i++) {
    mine += strcmp(kn_kernel_at(i)->plugin->name, "good") == 0;
    core += strcmp(kn_kernel_at(i)->plugin->name, "core") == 0;
  }
  CHECK_INT(mine, 3);
  CHECK((size_t)(mine + core) == kn_kernel_count());
  kn_attr_map_clear(&f);
  kn_attr_map_clear(&i32);

  const kn_op_def *op = kn_op_lookup("GoodDouble");
  CHECK(op);
  CHECK_STR(op->owner, "good");
}

static void check_good_shapes(void) {
  kiln_status *s = kiln_status_new();
  kiln_graph *g = kiln_graph_new();
  int64_t dims[2] = {3, -1}, got[4];
  kiln_output x = kiln_placeholder(g, KILN_FLOAT, dims, 2, "x", s);
  CHECK(kiln_status_code(s) == KILN_OK);
  kiln_op_desc *d = kiln_op_desc_new(g, "GoodDouble", "d");
  kiln_op_desc_add_input(d, x);
  kiln_op *op = kiln_op_desc_finish(d, s);
  CHECK(op);
  kiln_output y = {op, 0};
  CHECK_INT(kiln_op_output_shape(y, got, 4), 2);
  CHECK_INT(got[0], 6);
  CHECK_INT(got[1], -1);
  /* The plugin's shape function refuses a scalar, through shape_fail. */
  kiln_output sc = kiln_placeholder(g, KILN_FLOAT, NULL, 0, "sc", s);
  d = kiln_op_desc_new(g, "GoodDouble", "bad");
  kiln_op_desc_add_input(d, sc);
  CHECK(kiln_op_desc_finish(d, s) == NULL);
  CHECK_INT(kiln_status_code(s), KILN_INVALID_ARGUMENT);
  CHECK_HAS(kiln_status_message(s), "GoodDouble needs rank >= 1");
  kiln_graph_free(g);
  kiln_status_free(s);
}

static void check_good_devices(void) {
  kiln_status *s = kiln_status_new();
  kn_device *d0 = kn_device_find("TESTDEV", 0), *d1 = kn_device_find("testdev", 1);
  kn_device *d2 = kn_device_find("TESTDEV", 2);
  CHECK(d0 && d1 && d2 && !kn_device_find("TESTDEV", 3));
  CHECK(kn_device_by_name("/job:localhost/replica:0/task:0/device:TESTDEV:1") == d1);
  CHECK_INT(open_count(0), 0); /* enumeration opened nothing */
  void *st = kn_device_open(d0, s);
  CHECK(kiln_status_code(s) == KILN_OK);
  CHECK(st == d0->cookie);
  CHECK(kn_device_open(d0, s) == st);
  CHECK_INT(open_count(0), 1);

  /* Many threads opening one device: open() runs once. */
  pthread_t th[8];
  for (int i = 0; i < 8; i++) pthread_create(&th[i], NULL, open_device1, d1);
  for (int i = 0; i < 8; i++) pthread_join(th[i], NULL);
  CHECK_INT(open_count(1), 1);

  /* A failed open is remembered and reported each time. */
  for (int i = 0; i < 2; i++) {
    CHECK(kn_device_open(d2, s) == NULL);
    CHECK_INT(kiln_status_code(s), KILN_UNAVAILABLE);
    CHECK_HAS(kiln_status_message(s), "device:TESTDEV:2");
    CHECK_HAS(kiln_status_message(s), "kiln-good.so");
    CHECK_HAS(kiln_status_message(s), "test device 2 is broken");
    kiln_status_reset(s);
  }
  CHECK_INT(open_count(2), 1);
  CHECK(kn_device_alloc(d2, 64, s) == NULL);
  CHECK_INT(kiln_status_code(s), KILN_UNAVAILABLE);
  kiln_status_reset(s);

  /* Host memory: Kiln's aligned allocator and plain copies. */
  char *a = kn_device_alloc(d0, 100, s), *b = kn_device_alloc(d0, 100, s);
  CHECK(a && b && ((uintptr_t)a % 64) == 0);
  CHECK_INT(kn_device_copy_to_device(d0, a, "hello", 6, s), KILN_OK);
  CHECK_INT(kn_device_copy_on_device(d0, b, a, 6, s), KILN_OK);
  char back[8];
  CHECK_INT(kn_device_copy_to_host(d0, back, b, 6, s), KILN_OK);
  CHECK_STR(back, "hello");
  CHECK_INT(kn_device_synchronize(d0, s), KILN_OK);
  kn_device_free(d0, a);
  kn_device_free(d0, b);
  kn_device_free(d0, NULL);
  kiln_status_free(s);
}

/* GoodDouble and Neg run on the plugin's device, end to end. */
static void check_good_runs(void) {
  kiln_status *s = kiln_status_new();
  kiln_graph *g = kiln_graph_new();
  int64_t dims[1] = {2};
  kiln_output x = kiln_placeholder(g, KILN_FLOAT, dims, 1, "x", s);
  kiln_op_desc *d = kiln_op_desc_new(g, "GoodDouble", "twice");
  kiln_op_desc_add_input(d, x);
  kiln_op *dbl = kiln_op_desc_finish(d, s);
  CHECK(dbl);
  d = kiln_op_desc_new(g, "Neg", "neg");
  kiln_op_desc_add_input(d, (kiln_output){dbl, 0});
  kiln_op *neg = kiln_op_desc_finish(d, s);
  CHECK(neg);
  kiln_session *sess = kiln_session_new(g, NULL, s);
  CHECK(sess);
  kiln_tensor *feed = kiln_tensor_new(KILN_FLOAT, dims, 1, s);
  ((float *)kiln_tensor_data(feed))[0] = 1;
  ((float *)kiln_tensor_data(feed))[1] = 2;
  kiln_output fetches[2] = {{dbl, 0}, {neg, 0}};
  kiln_tensor *out[2] = {NULL, NULL};
  kiln_session_run(sess, NULL, &x, &feed, 1, fetches, out, 2, NULL, 0, NULL,
                   s);
  if (kiln_status_code(s) != KILN_OK)
    fprintf(stderr, "run: %s\n", kiln_status_message(s));
  CHECK(kiln_status_code(s) == KILN_OK);
  CHECK_INT(kiln_tensor_num_elements(out[0]), 4);
  const float *y = kiln_tensor_data(out[0]), *z = kiln_tensor_data(out[1]);
  CHECK(y[0] == 2 && y[1] == 4 && y[2] == 2 && y[3] == 4);
  CHECK(z[0] == -2 && z[1] == -4 && z[2] == -2 && z[3] == -4);
  kiln_tensor_free(out[0]);
  kiln_tensor_free(out[1]);
  kiln_tensor_free(feed);
  kiln_session_free(sess);
  kiln_graph_free(g);
  kiln_status_free(s);
}

static void child_good(void) {
  char mark[PATH_MAX];
  snprintf(mark, sizeof mark, "%s/shutdown.mark", dir);
  setenv("KT_SHUTDOWN_MARK", mark, 1);
  check_good_records();
  check_good_kernels();
  check_good_shapes();
  check_good_devices();
  check_good_runs();
}

static void good_plugin_loads(void **state) {
  (void)state;
  char mark[PATH_MAX];
  struct stat st;
  add_plugin("good", "good");
  write_config("[plugins]\ndirs = DIR\nload = good\n");
  in_child(child_good);
  /* The shutdown hook ran at the child's exit. */
  snprintf(mark, sizeof mark, "%s/shutdown.mark", dir);
  assert_int_equal(stat(mark, &st), 0);
}

/* ------------------------------------------------- loading from threads */

static pthread_barrier_t barrier;

static void *list_devices(void *arg) {
  (void)arg;
  kiln_status *s = kiln_status_new();
  pthread_barrier_wait(&barrier);
  kiln_device_list *l = kiln_devices_list(s);
  CHECK(kiln_status_code(s) == KILN_OK);
  CHECK_INT(kiln_device_list_size(l), 3);
  CHECK_STR(kiln_device_list_description(l, 0), "Test device A (init 1)");
  kiln_device_list_free(l);
  kiln_status_free(s);
  return NULL;
}

static void child_concurrent(void) {
  pthread_t th[8];
  pthread_barrier_init(&barrier, NULL, 8);
  for (int i = 0; i < 8; i++) pthread_create(&th[i], NULL, list_devices, NULL);
  for (int i = 0; i < 8; i++) pthread_join(th[i], NULL);
  pthread_barrier_destroy(&barrier);
  CHECK_INT(kn_plugin_count(), 1);
}

static void loads_once_from_many_threads(void **state) {
  (void)state;
  add_plugin("good", "good");
  write_config("[plugins]\ndirs = DIR\nload = good\n");
  in_child(child_concurrent);
}

/* ------------------------------------------------ order, missing files */

static void child_order(void) {
  kiln_plugin_list *l = kiln_plugins_list();
  CHECK_INT(kiln_plugin_list_size(l), 3);
  CHECK_STR(kiln_plugin_list_name(l, 0), "other");
  CHECK_INT(kiln_plugin_list_code(l, 0), KILN_OK);
  CHECK_STR(kiln_plugin_list_name(l, 1), "absent");
  CHECK_STR(kiln_plugin_list_path(l, 1), "kiln-absent.so");
  CHECK_INT(kiln_plugin_list_code(l, 1), KILN_NOT_FOUND);
  CHECK_HAS(kiln_plugin_list_message(l, 1), "no kiln-absent.so in ");
  CHECK_HAS(kiln_plugin_list_message(l, 1), dir);
  CHECK_INT(kiln_plugin_list_abi_found(l, 1), 0);
  CHECK_INT(kiln_plugin_list_code(l, 2), KILN_OK);
  kiln_plugin_list_free(l);
  /* Devices follow the order of preference. */
  CHECK_INT(kn_device_count(), 4);
  CHECK_STR(kn_device_at(0)->name,
            "/job:localhost/replica:0/task:0/device:OTHERDEV:0");
  CHECK_STR(kn_device_at(1)->type->type, "TESTDEV");
  kn_attr_map f = type_attr("T", KILN_FLOAT);
  char buf[64];
  CHECK_INT(kn_kernel_device_types("Neg", &f, buf, sizeof buf), 2);
  CHECK_STR(buf, "TESTDEV, OTHERDEV"); /* by each type's best kernel */
  kn_attr_map_clear(&f);
  /* The config file had no error. */
  kiln_status *s = kiln_status_new();
  kiln_status_set(s, KILN_UNKNOWN, "stale");
  kiln_plugins_load(s);
  CHECK_INT(kiln_status_code(s), KILN_OK);
  kiln_status_free(s);
  CHECK_HAS(kn_plugin_search_path(), dir);
}

static void list_order_and_missing_file(void **state) {
  (void)state;
  add_plugin("good", "good");
  add_plugin("other", "other");
  write_config("[plugins]\ndirs = DIR\nload = other, absent, good\n");
  in_child(child_order);
}

/* KILN_PLUGINS replaces the config's list. */
static void child_env(void) {
  setenv("KILN_PLUGINS", "good", 1);
  kiln_plugin_list *l = kiln_plugins_list();
  CHECK_INT(kiln_plugin_list_size(l), 1);
  CHECK_STR(kiln_plugin_list_name(l, 0), "good");
  kiln_plugin_list_free(l);
}

static void env_overrides_list(void **state) {
  (void)state;
  add_plugin("good", "good");
  add_plugin("other", "other");
  write_config("[plugins]\ndirs = DIR\nload = other\n");
  in_child(child_env);
}

/* A malformed config is reported and the defaults are used. */
static void child_bad_config(void) {
  kiln_status *s = kiln_status_new();
  setenv("KILN_PLUGIN_PATH", dir, 1);
  kiln_plugins_load(s);
  CHECK_INT(kiln_status_code(s), KILN_INVALID_ARGUMENT);
  CHECK_HAS(kiln_status_message(s), "kiln.conf:2: [plugins] unknown key "
                                    "'lod'");
  kiln_status_free(s);
  kiln_plugin_list *l = kiln_plugins_list();
  CHECK(find_record(l, "/kiln-good.so") >= 0);
  kiln_plugin_list_free(l);
}

static void bad_config_uses_defaults(void **state) {
  (void)state;
  add_plugin("good", "good");
  write_config("[plugins]\nlod = good\n");
  in_child(child_bad_config);
}

/* ----------------------------------------------------- broken modules */

static void child_broken(void) {
  char path[PATH_MAX];
  kiln_plugin_list *l = kiln_plugins_list();
  int i;
  CHECK_INT(kiln_plugin_list_size(l), 6);

  i = 0; /* a text file */
  snprintf(path, sizeof path, "%s/kiln-garbage.so", dir);
  CHECK_STR(kiln_plugin_list_path(l, i), path);
  CHECK_INT(kiln_plugin_list_code(l, i), KILN_NOT_FOUND);
  CHECK_HAS(kiln_plugin_list_message(l, i), path);
  CHECK_HAS(kiln_plugin_list_message(l, i), "is not a loadable module: ");
  CHECK(strstr(kiln_plugin_list_message(l, i), "file too short") ||
        strstr(kiln_plugin_list_message(l, i), "invalid ELF header"));

  i = 1; /* no entry point */
  CHECK_INT(kiln_plugin_list_code(l, i), KILN_NOT_FOUND);
  CHECK_HAS(kiln_plugin_list_message(l, i), "kiln-noentry.so has no "
                                            "kiln_plugin_init symbol");

  i = 2; /* built for a newer ABI */
  CHECK_INT(kiln_plugin_list_code(l, i), KILN_FAILED_PRECONDITION);
  CHECK_INT(kiln_plugin_list_abi_found(l, i), KILN_PLUGIN_ABI_VERSION + 1);
  CHECK_INT(kiln_plugin_list_abi_expected(l, i), KILN_PLUGIN_ABI_VERSION);
  CHECK_HAS(kiln_plugin_list_message(l, i), "kiln-newabi.so was built for "
            "plugin ABI 2, newer than this Kiln's ABI 1");
  CHECK(kn_device_type_find("NEWDEV") == NULL);

  i = 3; /* init fails after registering */
  CHECK_INT(kiln_plugin_list_code(l, i), KILN_FAILED_PRECONDITION);
  CHECK_HAS(kiln_plugin_list_message(l, i), "kiln-initfail.so: "
            "kiln_plugin_init failed (returned 9): no FAILDEV hardware "
            "answered");
  CHECK_INT(kiln_plugin_list_num_devices(l, i), 0);
  CHECK(kn_device_type_find("FAILDEV") == NULL);
  kn_attr_map f = type_attr("T", KILN_FLOAT);
  CHECK(kn_kernel_find("Neg", "FAILDEV", &f) == NULL);
  kn_attr_map_clear(&f);
  CHECK(kn_op_lookup("FailOp") == NULL);

  i = 4; /* NULL required callbacks: refused, the plugin loads */
  CHECK_INT(kiln_plugin_list_code(l, i), KILN_OK);
  snprintf(path, sizeof path, "plugin %s/kiln-nullcb.so: "
           "kiln_device_type.enumerate is NULL", dir);
  CHECK_HAS(kiln_plugin_list_message(l, i), path);
  CHECK_HAS(kiln_plugin_list_message(l, i),
            "kiln_kernel_def.compute is NULL (op 'Neg' on CPU)");
  CHECK(kn_device_type_find("NULLDEV") == NULL);

  i = 5; /* and the good one is unharmed */
  CHECK_INT(kiln_plugin_list_code(l, i), KILN_OK);
  CHECK_INT(kiln_plugin_list_num_devices(l, i), 3);
  kiln_plugin_list_free(l);
  CHECK_INT(kn_device_count(), 3);
}

static void broken_plugins_are_recorded(void **state) {
  (void)state;
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/kiln-garbage.so", dir);
  write_text(path, "this is not a shared library\n");
  add_plugin("noentry", "noentry");
  add_plugin("newabi", "newabi");
  add_plugin("initfail", "initfail");
  add_plugin("nullcb", "nullcb");
  add_plugin("good", "good");
  write_config("[plugins]\ndirs = DIR\n"
               "load = garbage, noentry, newabi, initfail, nullcb, good\n");
  in_child(child_broken);
}

/* ------------------------------------------------------ duplicates */

static void child_duplicates(void) {
  char good[PATH_MAX], msg[2 * PATH_MAX + 200];
  kiln_plugin_list *l = kiln_plugins_list();
  CHECK_INT(kiln_plugin_list_size(l), 3);
  snprintf(good, sizeof good, "%s/kiln-good.so", dir);

  CHECK_INT(kiln_plugin_list_code(l, 1), KILN_OK);
  snprintf(msg, sizeof msg, "refused: kernel for op 'Neg' on TESTDEV with "
           "constraints 'T=float' is already registered by plugin %s; plugin "
           "%s/kiln-dupkernel.so cannot register it again", good, dir);
  CHECK_STR(kiln_plugin_list_message(l, 1), msg);
  /* The first stays; the duplicate's other kernel is in. */
  int n = 0;
  for (size_t i = 0; i < kn_kernel_count(); i++) {
    const kn_kernel *k = kn_kernel_at(i);
    if (strcmp(k->op, "Neg") == 0 && strcmp(k->constraints, "T=float") == 0 &&
        strcmp(k->device_type, "TESTDEV") == 0) {
      CHECK_STR(k->plugin->name, "good");
      n++;
    }
  }
  CHECK_INT(n, 1);
  kn_attr_map i32 = type_attr("T", KILN_INT32);
  CHECK_STR(kn_kernel_find("Neg", "TESTDEV", &i32)->plugin->name, "dupkernel");
  kn_attr_map_clear(&i32);

  CHECK_INT(kiln_plugin_list_code(l, 2), KILN_OK);
  snprintf(msg, sizeof msg, "refused: device type 'TESTDEV' is already "
           "registered by plugin %s; plugin %s/kiln-duptype.so cannot "
           "register it again", good, dir);
  CHECK_STR(kiln_plugin_list_message(l, 2), msg);
  CHECK_STR(kn_device_type_find("TESTDEV")->plugin->name, "good");
  CHECK_INT(kn_device_count(), 3);
  kiln_plugin_list_free(l);
}

static void duplicates_are_refused(void **state) {
  (void)state;
  add_plugin("good", "good");
  add_plugin("dupkernel", "dupkernel");
  add_plugin("duptype", "duptype");
  write_config("[plugins]\ndirs = DIR\nload = good, dupkernel, duptype\n");
  in_child(child_duplicates);
}

/* ------------------------------------------- one file, reached twice */

static void child_twice(void) {
  kiln_plugin_list *l = kiln_plugins_list();
  int a = find_record(l, "/kiln-alias.so"), g = find_record(l, "/kiln-good.so");
  CHECK(a >= 0 && g >= 0 && a < g);
  CHECK_INT(kiln_plugin_list_code(l, a), KILN_OK);
  CHECK_INT(kiln_plugin_list_code(l, g), KILN_ALREADY_EXISTS);
  CHECK_HAS(kiln_plugin_list_message(l, g), "same file as plugin ");
  CHECK_HAS(kiln_plugin_list_message(l, g), "kiln-alias.so");
  CHECK_HAS(kiln_plugin_list_message(l, g), "loaded once");
  CHECK_INT(kiln_plugin_list_num_devices(l, g), 0);
  kiln_plugin_list_free(l);
  CHECK_INT(count_type("TESTDEV"), 3);
  CHECK_STR(kn_device_at(0)->description, "Test device A (init 1)");
}

static void same_file_loads_once(void **state) {
  (void)state;
  char from[PATH_MAX], to[PATH_MAX];
  add_plugin("good", "good");
  snprintf(from, sizeof from, "%s/kiln-good.so", dir);
  snprintf(to, sizeof to, "%s/kiln-alias.so", dir);
  assert_int_equal(symlink(from, to), 0);
  /* No list: every kiln-*.so of the folder (given twice), by name. */
  write_config("[plugins]\ndirs = DIR:DIR\n");
  in_child(child_twice);
}

/* ------------------------------------------- the working directory */

static void child_cwd(void) {
  CHECK(chdir(dir) == 0);
  setenv("KILN_PLUGIN_PATH", "::", 1); /* empty entries: not "." */
  kiln_plugin_list *l = kiln_plugins_list();
  CHECK(find_record(l, "/kiln-good.so") < 0);
  kiln_plugin_list_free(l);
  CHECK(getenv("KT_GOOD_MAPPED") == NULL);
}

static void child_config_relative(void) {
  char want[PATH_MAX];
  char *real = realpath(dir, NULL);
  CHECK(real && chdir("/") == 0);
  snprintf(want, sizeof want, "%s/kiln-good.so", real);
  free(real);
  kiln_plugin_list *l = kiln_plugins_list();
  int g = find_record(l, "/kiln-good.so");
  CHECK(g >= 0);
  CHECK_STR(kiln_plugin_list_path(l, g), want);
  CHECK_INT(kiln_plugin_list_code(l, g), KILN_OK);
  kiln_plugin_list_free(l);
}

static void working_directory_is_not_searched(void **state) {
  (void)state;
  add_plugin("good", "good");
  write_config("[plugins]\n");
  in_child(child_cwd);
  /* A relative folder in the config is the config file's. */
  write_config("[plugins]\ndirs = .\n");
  in_child(child_config_relative);
}

/* ----------------------------------------------------------- denied */

static void child_denied(void) {
  char conf[PATH_MAX];
  snprintf(conf, sizeof conf, "%s/kiln.conf", dir);
  kiln_plugin_list *l = kiln_plugins_list();
  int g = find_record(l, "/kiln-good.so"), b = find_record(l, "/kiln-garbage.so");
  CHECK(g >= 0 && b >= 0);
  CHECK_INT(kiln_plugin_list_code(l, g), KILN_PERMISSION_DENIED);
  CHECK_HAS(kiln_plugin_list_message(l, g), "denied by the config file");
  CHECK_HAS(kiln_plugin_list_message(l, g), conf);
  CHECK_INT(kiln_plugin_list_code(l, b), KILN_PERMISSION_DENIED);
  kiln_plugin_list_free(l);
  CHECK(getenv("KT_GOOD_MAPPED") == NULL); /* never opened */
  CHECK_INT(count_type("TESTDEV"), 0);
}

static void denied_plugin_is_never_opened(void **state) {
  (void)state;
  char path[PATH_MAX];
  add_plugin("good", "good");
  snprintf(path, sizeof path, "%s/kiln-garbage.so", dir);
  write_text(path, "not a library\n");
  write_config("[plugins]\ndirs = DIR\ndeny = good, garbage\n");
  in_child(child_denied);
}

/* ---------------------------------------------- device filters, paths */

static void child_filters(void) {
  kn_plugins_ensure_loaded();
  CHECK_INT(kn_device_count(), 2);
  kn_device *a = kn_device_at(0), *b = kn_device_at(1);
  CHECK_STR(a->name, "/job:localhost/replica:0/task:0/device:TESTDEV:0");
  CHECK_INT(a->enum_index, 0);
  /* Renumbered: the third enumerated device is TESTDEV:1 now. */
  CHECK_STR(b->name, "/job:localhost/replica:0/task:0/device:TESTDEV:1");
  CHECK_INT(b->enum_index, 2);
  CHECK_HAS(b->description, "Broken test device");
  kiln_status *s = kiln_status_new();
  CHECK(kn_device_open(b, s) == NULL); /* open() got the plugin's index */
  CHECK_HAS(kiln_status_message(s), "test device 2 is broken");
  kiln_status_free(s);
  kiln_plugin_list *l = kiln_plugins_list();
  CHECK_STR(kiln_plugin_list_path(l, 0), KT_PLUGIN_BUILD_DIR "/kiln-good.so");
  CHECK_INT(kiln_plugin_list_num_devices(l, 0), 2);
  kiln_plugin_list_free(l);
}

static void config_filters_devices(void **state) {
  (void)state;
  write_config("[plugins]\nload = good\n"
               "[plugin.good]\npath = " KT_PLUGIN_BUILD_DIR "/kiln-good.so\n"
               "devices = 0, broken test, nothing-matches\n");
  in_child(child_filters);
}

static void child_filters_by_name(void) {
  kn_plugins_ensure_loaded();
  CHECK_INT(kn_device_count(), 2);
  CHECK_HAS(kn_device_at(0)->description, "Test device B");
  CHECK_HAS(kn_device_at(1)->description, "Broken");
}

static void config_filters_by_name_and_id(void **state) {
  (void)state;
  add_plugin("good", "good");
  write_config("[plugins]\ndirs = DIR\nload = good\n"
               "[plugin.good]\ndevices = /device:TESTDEV:1, test:2\n");
  in_child(child_filters_by_name);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(good_plugin_loads, setup_dir,
                                      teardown_dir),
      cmocka_unit_test_setup_teardown(loads_once_from_many_threads,
                                      setup_dir, teardown_dir),
      cmocka_unit_test_setup_teardown(list_order_and_missing_file, setup_dir,
                                      teardown_dir),
      cmocka_unit_test_setup_teardown(env_overrides_list, setup_dir,
                                      teardown_dir),
      cmocka_unit_test_setup_teardown(bad_config_uses_defaults, setup_dir,
                                      teardown_dir),
      cmocka_unit_test_setup_teardown(broken_plugins_are_recorded, setup_dir,
                                      teardown_dir),
      cmocka_unit_test_setup_teardown(duplicates_are_refused, setup_dir,
                                      teardown_dir),
      cmocka_unit_test_setup_teardown(same_file_loads_once, setup_dir,
                                      teardown_dir),
      cmocka_unit_test_setup_teardown(working_directory_is_not_searched,
                                      setup_dir, teardown_dir),
      cmocka_unit_test_setup_teardown(denied_plugin_is_never_opened,
                                      setup_dir, teardown_dir),
      cmocka_unit_test_setup_teardown(config_filters_devices, setup_dir,
                                      teardown_dir),
      cmocka_unit_test_setup_teardown(config_filters_by_name_and_id,
                                      setup_dir, teardown_dir),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
