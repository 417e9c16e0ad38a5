/*
** String hash map: entries in a dense array, found through an open-
** addressing table (linear probing, at most 50% full) of 8-byte positions
** holding an entry's index and 32 bits of its hash. A lookup in a big map
** (a graph of a million ops) then costs one cache miss in a table a third
** the size of one holding whole entries, and the entry itself is read only
** when the tag agrees. Copied keys are packed into blocks: a million
** short names would otherwise pay a malloc, a free and a chunk header each.
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

enum { KEYS_MIN = 256, KEYS_MAX = 1 << 20, CAP_MIN = 8 };

/* Entry indexes are stored in 32 bits, as index + 1. */
#define CAP_MAX ((size_t)UINT32_MAX / 2)

/* FNV-1a. Its weak mixing is an asset here: names that differ only in
** their last characters ("Identity_41", "Identity_42", as unique names
** go) land a short, fixed stride apart, so building or importing a big
** graph walks the table with locality a well-mixed hash would destroy
** (measured: import a fifth slower at a million nodes). */
size_t kn_strhash(const char *s, size_t len) {
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < len; i++) {
    h ^= (unsigned char)s[i];
    h *= 1099511628211ULL;
  }
  return (size_t)h;
}

static uint32_t tag_of(size_t h) { return (uint32_t)((uint64_t)h >> 32); }

/* The table position holding key (*found) or the empty one where it would
** go. The map must have a table. */
static size_t probe(const kn_strmap *m, const char *key, size_t len, size_t h,
                    bool *found) {
  size_t mask = m->tcap - 1;
  uint32_t tag = tag_of(h);
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    uint64_t t = m->table[i];
    if (!t) {
      *found = false;
      return i;
    }
    if ((uint32_t)(t >> 32) != tag) continue;
    const kn_strmap_slot *e = &m->slots[(uint32_t)t - 1];
    if (e->hash == h && strncmp(e->key, key, len) == 0 && e->key[len] == '\0') {
      *found = true;
      return i;
    }
  }
}

static uint64_t position(size_t h, size_t index) {
  return (uint64_t)tag_of(h) << 32 | (uint64_t)(index + 1);
}

void *kn_strmap_getn(const kn_strmap *m, const char *key, size_t len) {
  if (m->n == 0) return NULL;
  bool found;
  size_t i = probe(m, key, len, kn_strhash(key, len), &found);
  return found ? m->slots[(uint32_t)m->table[i] - 1].value : NULL;
}

void *kn_strmap_get(const kn_strmap *m, const char *key) {
  return kn_strmap_getn(m, key, strlen(key));
}

bool kn_strmap_has(const kn_strmap *m, const char *key) {
  if (m->n == 0) return false;
  bool found;
  size_t len = strlen(key);
  probe(m, key, len, kn_strhash(key, len), &found);
  return found;
}

/* Room for cap entries (a power of two, above m->cap). The table and the
** entries share one block (the table first, then the entries): one
** allocation per growth, and big maps give malloc one large block, not
** two medium ones (glibc tunes its mmap and trim thresholds to the largest
** block freed; halving it made memory go back to the system and fault in
** again on every import of a mid-sized graph). */
static bool grow_to(kn_strmap *m, size_t cap) {
  if (cap > CAP_MAX) return false;
  size_t tcap = cap * 2;
  uint64_t *table = calloc(1, tcap * sizeof *table + cap * sizeof *m->slots);
  if (!table) return false;
  kn_strmap_slot *slots = (kn_strmap_slot *)(void *)(table + tcap);
  if (m->n) memcpy(slots, m->slots, m->n * sizeof *slots);
  for (size_t k = 0; k < m->n; k++) {
    size_t j = slots[k].hash & (tcap - 1);
    while (table[j]) j = (j + 1) & (tcap - 1);
    table[j] = position(slots[k].hash, k);
  }
  free(m->table);
  m->table = table;
  m->tcap = tcap;
  m->slots = slots;
  m->cap = cap;
  return true;
}

bool kn_strmap_reserve(kn_strmap *m, size_t extra) {
  if (extra > CAP_MAX - m->n) return false;
  size_t cap = m->cap ? m->cap : CAP_MIN;
  while (cap < m->n + extra) cap *= 2;
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

/* Adds the entry for key (absent; table position pos, hash h); false on
** OOM. The map has room for it. */
static bool fill(kn_strmap *m, size_t pos, const char *key, size_t len,
                 size_t h, void *value) {
  char *k = m->borrow_keys ? (char *)key : copy_key(m, key, len);
  if (!k) return false;
  m->slots[m->n] = (kn_strmap_slot){k, h, value};
  m->table[pos] = position(h, m->n);
  m->n++;
  return true;
}

/* Makes room for one more entry; false when out of memory. */
static bool room(kn_strmap *m) {
  return m->n < m->cap || grow_to(m, m->cap ? m->cap * 2 : CAP_MIN);
}

bool kn_strmap_put(kn_strmap *m, const char *key, void *value) {
  size_t len = strlen(key), h = kn_strhash(key, len);
  bool found;
  if (!room(m)) {
    if (m->n == 0) return false;
    size_t i = probe(m, key, len, h, &found);
    if (!found) return false;
    m->slots[(uint32_t)m->table[i] - 1].value = value;
    return true;
  }
  size_t i = probe(m, key, len, h, &found);
  if (found) {
    m->slots[(uint32_t)m->table[i] - 1].value = value;
    return true;
  }
  return fill(m, i, key, len, h, value);
}

void kn_strmap_prefetch(const kn_strmap *m, size_t hash) {
  if (m->tcap) __builtin_prefetch(&m->table[hash & (m->tcap - 1)], 1);
}

int kn_strmap_add(kn_strmap *m, const char *key, void *value) {
  size_t len = strlen(key);
  return kn_strmap_add_hashed(m, key, len, kn_strhash(key, len), value);
}

int kn_strmap_add_hashed(kn_strmap *m, const char *key, size_t len, size_t h,
                         void *value) {
  if (!room(m)) return -1;
  bool found;
  size_t i = probe(m, key, len, h, &found);
  if (found) return 0;
  return fill(m, i, key, len, h, value) ? 1 : -1;
}

void kn_strmap_remove(kn_strmap *m, const char *key) {
  if (m->n == 0) return;
  size_t len = strlen(key), mask = m->tcap - 1;
  bool found;
  size_t hole = probe(m, key, len, kn_strhash(key, len), &found);
  if (!found) return;
  size_t index = (uint32_t)m->table[hole] - 1;
  /* Backward-shift deletion: move later members of the probe run into
  ** the hole when their home position does not lie after it, so that
  ** every key stays reachable from its home without tombstones. */
  for (size_t i = (hole + 1) & mask; m->table[i]; i = (i + 1) & mask) {
    size_t home = m->slots[(uint32_t)m->table[i] - 1].hash & mask;
    /* Does home lie cyclically in (hole, i]? Then the entry stays. */
    bool stays = hole <= i ? (home > hole && home <= i)
                           : (home > hole || home <= i);
    if (stays) continue;
    m->table[hole] = m->table[i];
    hole = i;
  }
  m->table[hole] = 0;
  /* The last entry fills the removed one's place in the dense array. */
  size_t last = m->n - 1;
  if (index != last) {
    m->slots[index] = m->slots[last];
    size_t i = m->slots[index].hash & mask;
    while ((uint32_t)m->table[i] != last + 1) i = (i + 1) & mask;
    m->table[i] = position(m->slots[index].hash, index);
  }
  memset(&m->slots[last], 0, sizeof m->slots[last]);
  m->n--;
}

void kn_strmap_clear(kn_strmap *m) {
  while (m->keys) {
    kn_strmap_keys *next = m->keys->next;
    free(m->keys);
    m->keys = next;
  }
  free(m->table); /* and the entries after it */
  m->slots = NULL;
  m->table = NULL;
  m->cap = m->n = m->tcap = 0;
}
