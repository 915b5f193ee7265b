/* e^x in float32 by range reduction and a degree-6 polynomial (relative error ~1e-7), written so GCC vectorises the loops that call it. */
#ifndef PEFT_NATIVE_FAST_EXP_H
#define PEFT_NATIVE_FAST_EXP_H
#include <string.h>

static inline float exp_f(float x) {
  // Ternaries, not fminf/fmaxf: those keep C's NaN rules and stop GCC vectorising the loop.
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  // x = k ln2 + r, |r| ≤ ln2/2; e^x = 2^k e^r.
  float kf = __builtin_floorf(x * 1.44269504f + 0.5f);
  float r = x - kf * 0.693145751953125f - kf * 1.428606765330187e-06f;
  float p = 1.0f + r * (1.0f + r * (0.5f + r * (0.16666667f + r * (0.041666668f + r * (0.008333334f + r * 0.0013888889f)))));
  int bits = ((int)kf + 127) << 23;
  float scale;
  memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

#endif
