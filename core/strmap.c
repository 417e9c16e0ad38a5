/*
** String hash map: FNV-1a hashes, open addressing with linear probing,
** grown at 50% load so probes stay short. Copied keys are packed into
** blocks: a graph of a million ops would otherwise pay a malloc, a free
** and a chunk header for each short name.
*/
#include <stdlib.h>
#include <string.h>
#include "strmap.h"

/* A block of copied keys; blocks double in size up to KEYS_MAX. */
typedef struct kn_strmap_keys {
  struct kn_strmap_keys *next;
  size_t used, cap;
  char data[];
} kn_strmap_keys;

enum { KEYS_MIN = 256, KEYS_MAX = 1 << 20 };

size_t kn_strhash(const char *s, size_t len) {
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < len; i++) {
    h ^= (unsigned char)s[i];
    h *= 1099511628211ULL;
  }
  return (size_t)h;
}

static kn_strmap_slot *find(const kn_strmap *m, const char *key, size_t len,
                            size_t h) {
  if (m->cap == 0) return NULL;
  size_t mask = m->cap - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    kn_strmap_slot *sl = &m->slots[i];
    if (!sl->key) return sl;
    if (sl->hash == h && strncmp(sl->key, key, len) == 0 && sl->key[len] == '\0')
      return sl;
  }
}

void *kn_strmap_getn(const kn_strmap *m, const char *key, size_t len) {
  kn_strmap_slot *sl = find(m, key, len, kn_strhash(key, len));
  return sl && sl->key ? sl->value : NULL;
}

void *kn_strmap_get(const kn_strmap *m, const char *key) {
  return kn_strmap_getn(m, key, strlen(key));
}

bool kn_strmap_has(const kn_strmap *m, const char *key) {
  size_t len = strlen(key);
  kn_strmap_slot *sl = find(m, key, len, kn_strhash(key, len));
  return sl && sl->key;
}

static bool grow_to(kn_strmap *m, size_t cap) {
  kn_strmap_slot *slots = calloc(cap, sizeof *slots);
  if (!slots) return false;
  for (size_t i = 0; i < m->cap; i++) {
    kn_strmap_slot *sl = &m->slots[i];
    if (!sl->key) continue;
    size_t j = sl->hash & (cap - 1);
    while (slots[j].key) j = (j + 1) & (cap - 1);
    slots[j] = *sl;
  }
  free(m->slots);
  m->slots = slots;
  m->cap = cap;
  return true;
}

static bool grow(kn_strmap *m) { return grow_to(m, m->cap ? m->cap * 2 : 16); }

bool kn_strmap_reserve(kn_strmap *m, size_t extra) {
  size_t cap = m->cap ? m->cap : 16;
  while ((m->n + extra + 1) * 2 > cap) cap *= 2;
  return cap == m->cap || grow_to(m, cap);
}

/* A copy of key[0..len] (with its NUL) in the map's key blocks. */
static char *copy_key(kn_strmap *m, const char *key, size_t len) {
  kn_strmap_keys *b = m->keys;
  if (!b || b->cap - b->used <= len) {
    size_t cap = b ? b->cap * 2 : KEYS_MIN;
    if (cap > KEYS_MAX) cap = KEYS_MAX;
    if (cap <= len) cap = len + 1;
    kn_strmap_keys *nb = malloc(sizeof *nb + cap);
    if (!nb) return NULL;
    nb->used = 0;
    nb->cap = cap;
    nb->next = b;
    m->keys = b = nb;
  }
  char *k = b->data + b->used;
  memcpy(k, key, len + 1);
  b->used += len + 1;
  return k;
}

/* Fills the empty slot `sl` (found for key, len, h); false on OOM. */
static bool fill(kn_strmap *m, kn_strmap_slot *sl, const char *key,
                 size_t len, size_t h, void *value) {
  char *k = m->borrow_keys ? (char *)key : copy_key(m, key, len);
  if (!k) return false;
  sl->key = k;
  sl->hash = h;
  sl->value = value;
  m->n++;
  return true;
}

bool kn_strmap_put(kn_strmap *m, const char *key, void *value) {
  size_t len = strlen(key), h = kn_strhash(key, len);
  kn_strmap_slot *sl = find(m, key, len, h);
  if (sl && sl->key) {
    sl->value = value;
    return true;
  }
  if ((m->n + 1) * 2 > m->cap) {
    if (!grow(m)) return false;
    sl = find(m, key, len, h);
  }
  return fill(m, sl, key, len, h, value);
}

int kn_strmap_add(kn_strmap *m, const char *key, void *value) {
  size_t len = strlen(key), h = kn_strhash(key, len);
  if ((m->n + 1) * 2 > m->cap && !grow(m)) return -1;
  kn_strmap_slot *sl = find(m, key, len, h);
  if (sl->key) return 0;
  return fill(m, sl, key, len, h, value) ? 1 : -1;
}

void kn_strmap_remove(kn_strmap *m, const char *key) {
  size_t len = strlen(key);
  kn_strmap_slot *sl = find(m, key, len, kn_strhash(key, len));
  if (!sl || !sl->key) return;
  /* Backward-shift deletion: move later members of the probe run into
  ** the hole when their home slot does not lie after it, so that every
  ** key stays reachable from its home without tombstones. */
  size_t mask = m->cap - 1, hole = (size_t)(sl - m->slots);
  for (size_t i = (hole + 1) & mask; m->slots[i].key; i = (i + 1) & mask) {
    size_t home = m->slots[i].hash & mask;
    /* Does home lie cyclically in (hole, i]? Then the entry stays. */
    bool stays = hole <= i ? (home > hole && home <= i)
                           : (home > hole || home <= i);
    if (stays) continue;
    m->slots[hole] = m->slots[i];
    hole = i;
  }
  memset(&m->slots[hole], 0, sizeof m->slots[hole]);
  m->n--;
}

void kn_strmap_clear(kn_strmap *m) {
  while (m->keys) {
    kn_strmap_keys *next = m->keys->next;
    free(m->keys);
    m->keys = next;
  }
  free(m->slots);
  m->slots = NULL;
  m->cap = m->n = 0;
}
