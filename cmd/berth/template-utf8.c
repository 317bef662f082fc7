/* SPDX-License-Identifier: GPL-2.0-or-later */
/* UTF-8 and Unicode for the template engine: Go's utf8.DecodeRune and
 * AppendRune, and the unicode package's classes and case mappings, taken from
 * glibc's C.UTF-8 locale (ASCII only when it is missing). */
#include <locale.h>
#include <pthread.h>
#include <stdint.h>
#include <wctype.h>

#include "template-internal.h"

/* Go's utf8.DecodeRune: an invalid or short sequence is RuneError, length 1. */
size_t tpl_u8_decode(const unsigned char *s, size_t n, uint32_t *r)
{
  unsigned char c = s[0];
  size_t len;
  uint32_t v, min;
  if (c < 0x80) {
    *r = c;
    return 1;
  }
  if (c >= 0xc2 && c <= 0xdf)
    len = 2, v = c & 0x1fu, min = 0x80;
  else if (c >= 0xe0 && c <= 0xef)
    len = 3, v = c & 0x0fu, min = 0x800;
  else if (c >= 0xf0 && c <= 0xf4)
    len = 4, v = c & 0x07u, min = 0x10000;
  else
    goto bad;
  if (n < len)
    goto bad;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80)
      goto bad;
    v = (v << 6) | (s[i] & 0x3fu);
  }
  if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
    goto bad;
  *r = v;
  return len;
bad:
  *r = RUNE_ERROR;
  return 1;
}

bool tpl_u8_valid_rune(uint32_t r)
{
  return r <= 0x10ffff && !(r >= 0xd800 && r <= 0xdfff);
}

/* Go's utf8.AppendRune: invalid runes become U+FFFD. */
void tpl_buf_add_rune(struct buf *b, uint32_t r)
{
  char s[4];
  if (!tpl_u8_valid_rune(r))
    r = RUNE_ERROR;
  if (r < 0x80) {
    tpl_buf_addc(b, (char)r);
  } else if (r < 0x800) {
    s[0] = (char)(0xc0 | (r >> 6));
    s[1] = (char)(0x80 | (r & 0x3f));
    tpl_buf_add(b, s, 2);
  } else if (r < 0x10000) {
    s[0] = (char)(0xe0 | (r >> 12));
    s[1] = (char)(0x80 | ((r >> 6) & 0x3f));
    s[2] = (char)(0x80 | (r & 0x3f));
    tpl_buf_add(b, s, 3);
  } else {
    s[0] = (char)(0xf0 | (r >> 18));
    s[1] = (char)(0x80 | ((r >> 12) & 0x3f));
    s[2] = (char)(0x80 | ((r >> 6) & 0x3f));
    s[3] = (char)(0x80 | (r & 0x3f));
    tpl_buf_add(b, s, 4);
  }
}

size_t tpl_u8_count(const char *s, size_t n)
{
  size_t count = 0;
  for (size_t i = 0; i < n; count++) {
    uint32_t r;
    i += tpl_u8_decode((const unsigned char *)s + i, n - i, &r);
  }
  return count;
}

bool tpl_u8_valid(const char *s, size_t n)
{
  for (size_t i = 0; i < n;) {
    uint32_t r;
    size_t w = tpl_u8_decode((const unsigned char *)s + i, n - i, &r);
    if (r == RUNE_ERROR && w == 1)
      return false;
    i += w;
  }
  return true;
}

/* Unicode classes come from glibc's C.UTF-8 locale; without it, ASCII only. */
static locale_t uni_locale;
static pthread_once_t uni_once = PTHREAD_ONCE_INIT;

static void uni_init(void)
{
  uni_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

static locale_t uni(void)
{
  (void)pthread_once(&uni_once, uni_init);
  return uni_locale;
}

bool tpl_uni_is_letter(uint32_t r)
{
  if (r < 0x80)
    return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z');
  return uni() && tpl_u8_valid_rune(r) && r != RUNE_ERROR && iswalpha_l((wint_t)r, uni());
}

bool tpl_uni_is_digit(uint32_t r)
{
  if (r < 0x80)
    return r >= '0' && r <= '9';
  return uni() && tpl_u8_valid_rune(r) && iswdigit_l((wint_t)r, uni());
}

bool tpl_uni_is_space(uint32_t r)
{
  if (r < 0x80)
    return r == ' ' || (r >= '\t' && r <= '\r');
  if (r == 0x85 || r == 0xa0)
    return true;
  return uni() && tpl_u8_valid_rune(r) && iswspace_l((wint_t)r, uni());
}

/* unicode.IsPrint: letters, marks, numbers, punctuation, symbols and ' '. */
bool tpl_uni_is_print(uint32_t r)
{
  if (r < 0x80)
    return r >= 0x20 && r < 0x7f;
  if (!tpl_u8_valid_rune(r) || r == 0xad || tpl_uni_is_space(r))
    return false;
  return uni() && iswprint_l((wint_t)r, uni());
}

uint32_t tpl_uni_upper(uint32_t r)
{
  if (r < 0x80)
    return r >= 'a' && r <= 'z' ? r - 32 : r;
  return uni() && tpl_u8_valid_rune(r) ? (uint32_t)towupper_l((wint_t)r, uni()) : r;
}

uint32_t tpl_uni_lower(uint32_t r)
{
  if (r < 0x80)
    return r >= 'A' && r <= 'Z' ? r + 32 : r;
  return uni() && tpl_u8_valid_rune(r) ? (uint32_t)towlower_l((wint_t)r, uni()) : r;
}
