/* A string-keyed hash map. Keys are copied (into blocks the map owns, not
** one allocation each) unless the map borrows them; values are opaque
** pointers. Not thread-safe. */
#ifndef KN_STRMAP_H
#define KN_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One entry. */
typedef struct kn_strmap_slot {
  char *key;      /* NULL: unused */
  size_t hash;
  void *value;
} kn_strmap_slot;

struct kn_strmap_keys;

/* Entries lie densely in slots[0..n), in no particular order; slots[n..cap)
** are zeroed, so walking slots[0..cap) and skipping NULL keys visits every
** entry. The hash table holds 8 bytes per position: an entry's index and
** a tag of its hash, so a probe reads one small array and follows an
** entry only when the tag agrees. */
typedef struct kn_strmap {
  kn_strmap_slot *slots;
  size_t cap, n;
  bool borrow_keys;  /* keys are the caller's and outlive the map */
  struct kn_strmap_keys *keys; /* blocks holding copied keys */
  uint64_t *table;   /* 0 empty, else (tag << 32) | (entry index + 1) */
  size_t tcap;       /* 0 or a power of two, at least 2 * cap */
} kn_strmap;

size_t kn_strhash(const char *s, size_t len);
/* The value for key, or NULL. */
void *kn_strmap_get(const kn_strmap *m, const char *key);
/* Same for key[0..len), not NUL-terminated. */
void *kn_strmap_getn(const kn_strmap *m, const char *key, size_t len);
bool kn_strmap_has(const kn_strmap *m, const char *key);
/* Inserts or replaces; false when out of memory (map unchanged). */
bool kn_strmap_put(kn_strmap *m, const char *key, void *value);
/* Inserts key only when it is absent, in one probe: 1 when added, 0 when
** the key was there (its value unchanged), -1 when out of memory. */
int kn_strmap_add(kn_strmap *m, const char *key, void *value);
/* For bulk insertion into a big map, where each probe would wait on a
** cache miss: hash keys a few ahead (kn_strhash), prefetch their table
** positions, then add each with its hash. */
void kn_strmap_prefetch(const kn_strmap *m, size_t hash);
/* kn_strmap_add for key[0..len) (NUL-terminated at len) and its hash. */
int kn_strmap_add_hashed(kn_strmap *m, const char *key, size_t len,
                         size_t hash, void *value);
/* Removes key if present. The memory of a copied key is kept until the
** map is cleared: removal is for undoing recent additions, not churn. */
void kn_strmap_remove(kn_strmap *m, const char *key);
/* Makes room for `extra` more keys, so that that many puts of borrowed
** keys cannot fail; false when out of memory. */
bool kn_strmap_reserve(kn_strmap *m, size_t extra);
/* Frees keys and slots (not the values). */
void kn_strmap_clear(kn_strmap *m);

#endif
