/* Work over [0, count) shared among threads, the caller's among them (a thread that cannot start leaves its part to the caller). */
#ifndef PEFT_NATIVE_SPLIT_H
#define PEFT_NATIVE_SPLIT_H
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

enum { MostThreads = 8 };

typedef void (*range_work)(void* context, int64_t from, int64_t to);

typedef struct {
  range_work work;
  void* context;
  int64_t from, to;
} Range;

static void* run_range(void* arg) {
  const Range* r = (const Range*)arg;
  r->work(r->context, r->from, r->to);
  return NULL;
}

/* work(context, from, to) over parts of [0, count) on up to `threads` threads; part boundaries are multiples of `align`. */
static void split_range(range_work work, void* context, int64_t count, int64_t threads, int64_t align) {
  if (threads > MostThreads) threads = MostThreads;
  if (threads > count / align) threads = count / align;
  if (threads < 1) threads = 1;
  Range parts[MostThreads];
  pthread_t helpers[MostThreads];
  bool started[MostThreads] = {false};
  for (int64_t i = 0; i < threads; i++) {
    const int64_t from = count * i / threads / align * align, to = i + 1 == threads ? count : count * (i + 1) / threads / align * align;
    parts[i] = (Range){work, context, from, to};
  }
  for (int64_t i = 1; i < threads; i++) started[i] = pthread_create(&helpers[i], NULL, run_range, &parts[i]) == 0;
  run_range(&parts[0]);
  for (int64_t i = 1; i < threads; i++) {
    if (started[i]) pthread_join(helpers[i], NULL);
    else run_range(&parts[i]);
  }
}

#endif
