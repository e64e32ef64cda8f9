/* Reference outputs for test/random_ref.test.js: xoshiro128** as Blackman & Vigna describe it
 * ("Scrambled linear pseudorandom number generators", ACM TOMS 2021; xoshiro128starstar.c at
 * prng.di.unimi.it): 128-bit state of four 32-bit words, output rotl(s1 * 5, 7) * 9.
 * Build and run: cc -O2 -o /tmp/x test/support/xoshiro128ss.c && /tmp/x
 * Prints, for each start state, the first 12 outputs in decimal. */
#include <stdint.h>
#include <stdio.h>

static uint32_t rotl(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

static uint32_t next(uint32_t s[4]) {
  uint32_t result = rotl(s[1] * 5u, 7) * 9u;
  uint32_t t = s[1] << 9;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 11);
  return result;
}

int main(void) {
  uint32_t states[3][4] = {{1, 2, 3, 4}, {0x964D4A0Cu, 0xD40AB895u, 0xAD7FDECBu, 0x3006F0F0u}, {0xFFFFFFFFu, 0, 0x80000000u, 1}};
  for (int i = 0; i < 3; i++) {
    uint32_t s[4] = {states[i][0], states[i][1], states[i][2], states[i][3]};
    printf("[%u, %u, %u, %u]:", s[0], s[1], s[2], s[3]);
    for (int j = 0; j < 12; j++) printf(" %u", next(s));
    printf("\n");
  }
  return 0;
}
