/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Random container names: an adjective and the surname of a scientist or
 * engineer, joined by an underscore, like docker's namesgenerator.  The word
 * lists are our own. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "engine/names.h"

static const char *const adjectives[] = {
    "able",      "agile",     "amazing",   "amused",    "ardent",    "awesome",   "blissful",  "bold",
    "boring",    "brave",     "bright",    "brisk",     "busy",      "calm",      "candid",    "careful",
    "charming",  "cheerful",  "clever",    "cool",      "cosmic",    "crafty",    "curious",   "daring",
    "dazzling",  "deft",      "determined","diligent",  "dreamy",    "eager",     "earnest",   "easy",
    "elastic",   "elated",    "elegant",   "epic",      "fervent",   "festive",   "fierce",    "focused",
    "fond",      "friendly",  "frosty",    "gallant",   "gentle",    "gifted",    "glad",      "gleeful",
    "graceful",  "happy",     "hardy",     "hopeful",   "humble",    "jolly",     "jovial",    "keen",
    "kind",      "lively",    "loving",    "lucid",     "lucky",     "magical",   "merry",     "mighty",
    "modest",    "musing",    "nervous",   "nifty",     "nimble",    "noble",     "optimistic","patient",
    "peaceful",  "pensive",   "plucky",    "polite",    "practical", "proud",     "quick",     "quiet",
    "quirky",    "radiant",   "relaxed",   "restless",  "robust",    "serene",    "sharp",     "shy",
    "silly",     "sleepy",    "smart",     "snappy",    "sober",     "spirited",  "steady",    "stoic",
    "sunny",     "swift",     "tender",    "thirsty",   "tidy",      "trusting",  "upbeat",    "vibrant",
    "vigilant",  "wise",      "witty",     "youthful",  "zealous",   "zen",
};

static const char *const surnames[] = {
    "agnesi",     "alhazen",    "ampere",     "archimedes", "aryabhata",  "avogadro",   "babbage",    "backus",
    "banach",     "bardeen",    "bell",       "bernoulli",  "bohr",       "boltzmann",  "boole",      "born",
    "bose",       "brahe",      "brattain",   "cannon",     "cantor",     "carnot",     "carson",     "cauchy",
    "cerf",       "chandra",    "chebyshev",  "clarke",     "compton",    "conway",     "copernicus", "corbato",
    "coulomb",    "curie",      "darwin",     "davy",       "dijkstra",   "dirac",      "doppler",    "easley",
    "edison",     "einstein",   "elion",      "engelbart",  "euclid",     "euler",      "faraday",    "fermat",
    "fermi",      "feynman",    "fibonacci",  "fourier",    "franklin",   "fresnel",    "galileo",    "galois",
    "gauss",      "germain",    "gibbs",      "godel",      "goldberg",   "goodall",    "hamilton",   "hamming",
    "hawking",    "heisenberg", "hertz",      "hilbert",    "hodgkin",    "hollerith",  "hopper",     "hubble",
    "huygens",    "hypatia",    "jackson",    "jemison",    "johnson",    "joule",      "kalam",      "kapitsa",
    "kelvin",     "kepler",     "kilby",      "knuth",      "kowalevski", "lagrange",   "lamarr",     "lamport",
    "laplace",    "lavoisier",  "leakey",     "leavitt",    "leibniz",    "lemaitre",   "liskov",     "lovelace",
    "lumiere",    "margulis",   "maxwell",    "mayer",      "mcclintock", "meitner",    "mendel",     "mendeleev",
    "minsky",     "mirzakhani", "moore",      "morse",      "napier",     "nash",       "newton",     "noether",
    "nobel",      "noyce",      "ohm",        "pascal",     "pasteur",    "pauli",      "pauling",    "perlman",
    "planck",     "poincare",   "ptolemy",    "raman",      "ramanujan",  "ride",       "ritchie",    "roentgen",
    "rubin",      "rutherford", "sagan",      "salk",       "sammet",     "schrodinger","shannon",    "shockley",
    "sinoussi",   "snyder",     "somerville", "stallman",   "stonebraker","sutherland", "swanson",    "tesla",
    "thompson",   "torvalds",   "turing",     "vaughan",    "volta",      "watt",       "wiles",      "williams",
    "wilson",     "wing",       "wozniak",    "wright",     "wu",         "yalow",      "yonath",     "zuse",
};

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

/* A uniform index below n: getrandom, with a clock-seeded fallback for the
 * (old-kernel) case where it is missing; names need no cryptographic quality. */
static size_t random_below(size_t n)
{
  uint32_t r;
  if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    r = (uint32_t)(ts.tv_nsec ^ (ts.tv_sec * 2654435761u));
  }
  return (size_t)(((uint64_t)r * n) >> 32);
}

char *berth_name_generate(unsigned attempt)
{
  const char *adj, *sur;
  char *name = NULL;
  int n;
  do {
    adj = adjectives[random_below(N_ELEMENTS(adjectives))];
    sur = surnames[random_below(N_ELEMENTS(surnames))];
    /* Steve Wozniak is not boring (docker's rule, kept). */
  } while (strcmp(adj, "boring") == 0 && strcmp(sur, "wozniak") == 0);
  if (attempt > 0)
    n = asprintf(&name, "%s_%s%zu", adj, sur, random_below(10));
  else
    n = asprintf(&name, "%s_%s", adj, sur);
  if (n < 0)
    abort();
  return name;
}
