/* io.c: load and save, arrays in files (see io.h).
 *
 * .npy is NumPy's documented format (numpy.lib.format): a magic string, a
 * version, a header length and a header that is a Python dict literal with
 * the keys 'descr', 'fortran_order' and 'shape', then the raw elements.
 * load reads versions 1.0, 2.0 (a 4-byte header length) and 3.0 (a UTF-8
 * header), dtypes f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1 in either byte order
 * (converted to float64), C or Fortran order. save writes what numpy.save
 * writes for a float64 array: version 1.0, '<f8', C order, the header padded
 * with spaces and a newline so the data starts at a multiple of 64 bytes.
 *
 * .csv holds numbers separated by commas, a row per line: lines of one
 * number each are a 1-d array, longer rows a 2-d one. save writes numbers
 * as print does (the shortest text that reads back to the same double), so
 * load(save(x)) is x bit for bit (a nan's sign and payload aside).
 *
 * Files are hostile until checked: reads are bounded fread calls into
 * fixed buffers, a .npy file's size is checked against its header before
 * anything is allocated for the data, and every problem is an error naming
 * the file: "load: FILE: what is wrong", for CSV "load: FILE:LINE: ...". */
#include "io.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "array.h"

/* The longest .npy header load reads. NumPy's own headers for the dtypes
 * above are under 200 bytes; the bound keeps a hostile length from
 * becoming a large allocation. */
#define NPY_MAXHEADER (1 << 20)

static const char npy_magic[6] = "\x93NUMPY";

/* -- common ------------------------------------------------------------------ */

enum { FMT_NPY, FMT_CSV };

/* The format a file name's extension asks for, or -1. */
static int format_of(const char *path)
{
    size_t n = strlen(path);
    if (n >= 4 && strcasecmp(path + n - 4, ".npy") == 0) return FMT_NPY;
    if (n >= 4 && strcasecmp(path + n - 4, ".csv") == 0) return FMT_CSV;
    return -1;
}

/* "OP: PATH: message", or "OP: PATH:LINE: message" for line > 0; -1. */
static int file_err(Ctx *c, const char *op, const char *path, long line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int file_err(Ctx *c, const char *op, const char *path, long line, const char *fmt, ...)
{
    char m[sizeof c->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    if (line > 0) return ctx_err(c, "%s: %s:%ld: %s", op, path, line, m);
    return ctx_err(c, "%s: %s: %s", op, path, m);
}

/* Why a read came up short. */
static const char *read_failure(FILE *f)
{
    return ferror(f) ? strerror(errno) : "the file ends early";
}

static int is_space(char ch) { return ch == ' ' || (ch >= '\t' && ch <= '\r'); }
static int is_digit(char ch) { return ch >= '0' && ch <= '9'; }

/* -- .npy header ------------------------------------------------------------- */

/* An element type load converts: kind 'f' (IEEE float), 'i' (two's
 * complement), 'u' (unsigned) or 'b' (bool), its size in bytes, and
 * whether its bytes are most significant first. */
typedef struct Dtype {
    char kind;
    int size;
    int big;
} Dtype;

typedef struct Header {
    Dtype t;
    char descr[24];                 /* as the file spells it, for messages */
    int fortran;
    int nd;                         /* may exceed DIAL_MAXDIM: shape holds the first */
    int64_t shape[DIAL_MAXDIM];
} Header;

/* A cursor over the header text; the text is not NUL-terminated. */
typedef struct Scan {
    const char *p, *start, *end;
} Scan;

static void skip_space(Scan *s)
{
    while (s->p < s->end && is_space(*s->p)) s->p++;
}

/* Consume ch if it comes next, after spaces. */
static int next_is(Scan *s, char ch)
{
    skip_space(s);
    if (s->p == s->end || *s->p != ch) return 0;
    s->p++;
    return 1;
}

/* A Python string literal without escapes, '...' or "...": its text. */
static int quoted(Scan *s, const char **text, size_t *n)
{
    skip_space(s);
    if (s->p == s->end || (*s->p != '\'' && *s->p != '"')) return 0;
    const char *q = memchr(s->p + 1, *s->p, (size_t)(s->end - s->p - 1));
    if (!q || memchr(s->p, '\\', (size_t)(q - s->p)) || memchr(s->p, '\n', (size_t)(q - s->p)))
        return 0;
    *text = s->p + 1;
    *n = (size_t)(q - s->p - 1);
    s->p = q + 1;
    return 1;
}

/* The Python name w (True, False), not just a prefix of a longer name. */
static int word(Scan *s, const char *w)
{
    size_t n = strlen(w);
    skip_space(s);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0) return 0;
    if (s->p + n < s->end && (is_digit(s->p[n]) || s->p[n] == '_' ||
                              ((s->p[n] | 0x20) >= 'a' && (s->p[n] | 0x20) <= 'z')))
        return 0;
    s->p += n;
    return 1;
}

/* A non-negative integer literal; huge ones saturate at INT64_MAX, which
 * the shape check then rejects. */
static int integer(Scan *s, int64_t *v)
{
    skip_space(s);
    if (s->p == s->end || !is_digit(*s->p)) return 0;
    for (*v = 0; s->p < s->end && is_digit(*s->p); s->p++) {
        int dgt = *s->p - '0';
        *v = *v > (INT64_MAX - dgt) / 10 ? INT64_MAX : *v * 10 + dgt;
    }
    return 1;
}

/* A tuple of integers in Python's syntax: (), (5,), (2, 3), (2, 3,); (5)
 * is a number, not a tuple. */
static int shape_tuple(Scan *s, Header *h)
{
    h->nd = 0;
    if (!next_is(s, '(')) return 0;
    if (next_is(s, ')')) return 1;
    for (;;) {
        int64_t e;
        if (!integer(s, &e)) return 0;
        if (h->nd < DIAL_MAXDIM) h->shape[h->nd] = e;
        h->nd++;
        int comma = next_is(s, ',');
        if (next_is(s, ')')) return comma || h->nd > 1;
        if (!comma) return 0;
    }
}

/* A dtype string: byte order '<', '>' or '|' (one byte only), kind, size. */
static int dtype(const char *s, size_t n, Dtype *t)
{
    if (n != 3 || !memchr("<>|", s[0], 3) || !memchr("fiub", s[1], 4) || !is_digit(s[2]))
        return 0;
    t->big = s[0] == '>';
    t->kind = s[1];
    t->size = s[2] - '0';
    if (s[0] == '|' && t->size != 1) return 0;
    switch (t->kind) {
    case 'f': return t->size == 4 || t->size == 8;
    case 'b': return t->size == 1;
    }
    return t->size == 1 || t->size == 2 || t->size == 4 || t->size == 8;
}

/* The header's keys; KEY_* is the bit of npy_keys[i], 1 << i. */
static const char *const npy_keys[] = {"descr", "fortran_order", "shape"};
enum { KEY_DESCR = 1, KEY_ORDER = 2, KEY_SHAPE = 4 };

static int key_of(const char *k, size_t n)
{
    for (int i = 0; i < 3; i++)
        if (strlen(npy_keys[i]) == n && memcmp(npy_keys[i], k, n) == 0) return 1 << i;
    return 0;
}

/* The value of one key of the dict. */
static int header_value(Ctx *c, const char *path, Scan *s, int key, Header *h)
{
    const char *v;
    size_t n;
    switch (key) {
    case KEY_DESCR:
        if (!quoted(s, &v, &n))
            return file_err(c, "load", path, 0,
                            "'descr' is not a dtype string (structured dtypes are not supported)");
        snprintf(h->descr, sizeof h->descr, "%.*s", (int)(n < 20 ? n : 20), v);
        if (!dtype(v, n, &h->t))
            return file_err(c, "load", path, 0,
                            "unsupported dtype '%s' (dial reads f4, f8, i1, i2, i4, i8, u1, u2, "
                            "u4, u8 and b1, little- or big-endian)", h->descr);
        return 0;
    case KEY_ORDER:
        h->fortran = word(s, "True");
        if (!h->fortran && !word(s, "False"))
            return file_err(c, "load", path, 0, "'fortran_order' is not True or False");
        return 0;
    }
    /* KEY_SHAPE */
    if (!shape_tuple(s, h))
        return file_err(c, "load", path, 0, "'shape' is not a tuple of non-negative integers");
    return 0;
}

/* The header: a dict literal with exactly NumPy's three keys (numpy.load
 * refuses any other), then only whitespace (NumPy pads with spaces and a
 * newline). */
static int npy_header(Ctx *c, const char *path, Scan *s, Header *h)
{
    int seen = 0, closed;
    if (!next_is(s, '{')) return file_err(c, "load", path, 0, "the header is not a dict");
    while (!(closed = next_is(s, '}'))) {
        const char *k;
        size_t n;
        if (!quoted(s, &k, &n) || !next_is(s, ':')) break;
        int key = key_of(k, n);
        if (!key || (seen & key))
            return file_err(c, "load", path, 0, "the header has %s key '%.*s'",
                            key ? "a repeated" : "an unexpected", (int)(n < 40 ? n : 40), k);
        seen |= key;
        if (header_value(c, path, s, key, h)) return -1;
        if (!next_is(s, ',')) {
            closed = next_is(s, '}');
            break;
        }
    }
    skip_space(s);
    if (!closed || s->p != s->end)
        return file_err(c, "load", path, 0, "the header is malformed at byte %ld",
                        (long)(s->p - s->start));
    for (int i = 0; i < 3; i++)
        if (!(seen & 1 << i))
            return file_err(c, "load", path, 0, "the header has no '%s'", npy_keys[i]);
    return 0;
}

/* -- .npy data ---------------------------------------------------------------- */

/* The element of type t stored at p, as a double. Bytes are put together
 * by their significance, so the host's byte order does not matter. */
static double npy_value(const Dtype *t, const unsigned char *p)
{
    uint64_t u = 0;
    for (int k = 0; k < t->size; k++) u |= (uint64_t)p[k] << 8 * (t->big ? t->size - 1 - k : k);
    int bits = 8 * t->size;
    uint64_t mask = UINT64_MAX >> (64 - bits);
    switch (t->kind) {
    case 'b': return u != 0;
    case 'u': return (double)u;
    case 'i': /* two's complement, without implementation-defined conversions */
        return (double)(u >> (bits - 1) ? -(int64_t)(~u & mask) - 1 : (int64_t)u);
    }
    if (t->size == 4) {
        uint32_t w = (uint32_t)u;
        float x;
        memcpy(&x, &w, sizeof x);
        return x;
    }
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* count elements of type t into d, through a fixed buffer. */
static int npy_elements(FILE *f, const Dtype *t, double *d, int64_t count)
{
    unsigned char buf[8192];
    int64_t per = (int64_t)sizeof buf / t->size;
    while (count > 0) {
        size_t m = (size_t)(count < per ? count : per);
        if (fread(buf, (size_t)t->size, m, f) != m) return -1;
        for (size_t i = 0; i < m; i++) *d++ = npy_value(t, buf + i * (size_t)t->size);
        count -= (int64_t)m;
    }
    return 0;
}

/* The array the header describes, its elements read from f. Fortran order
 * is C order of the reversed shape, transposed. */
static int npy_array(Ctx *c, FILE *f, const char *path, Header *h, Value *out)
{
    int64_t shape[DIAL_MAXDIM];
    for (int k = 0; k < h->nd; k++) shape[k] = h->shape[h->fortran ? h->nd - 1 - k : k];
    double num;
    Value r = val_nil();
    if (h->nd) {
        Arr *a = arr_new(c, h->nd, shape);
        if (!a) return file_err(c, "load", path, 0, "%s", c->msg);
        r = val_arr(a);
    }
    if (npy_elements(f, &h->t, h->nd ? r.u.a->d : &num, h->nd ? r.u.a->n : 1)) {
        val_decref(c, &r);
        return file_err(c, "load", path, 0, "cannot read the data: %s", read_failure(f));
    }
    if (h->fortran && h->nd > 1) {
        Arr *t = arr_transpose(c, r.u.a);
        val_decref(c, &r);
        if (!t) return file_err(c, "load", path, 0, "%s", c->msg);
        r = val_arr(t);
    }
    *out = h->nd ? r : val_num(num);
    return 0;
}

/* The prefix (magic, version, header length), the header, then the data,
 * each checked against the file's size before it is read. */
static int npy_load(Ctx *c, FILE *f, const char *path, Value *out)
{
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode))
        return file_err(c, "load", path, 0, "not a regular file");
    int64_t size = (int64_t)st.st_size;
    unsigned char pre[12];
    size_t got = fread(pre, 1, 8, f);
    if (got < sizeof npy_magic || memcmp(pre, npy_magic, sizeof npy_magic) != 0)
        return file_err(c, "load", path, 0, "not a .npy file (no \\x93NUMPY magic string)");
    if (got < 8) return file_err(c, "load", path, 0, "the file ends before the header");
    if (pre[6] < 1 || pre[6] > 3 || pre[7] != 0)
        return file_err(c, "load", path, 0,
                        "unsupported .npy format version %d.%d (dial reads 1.0, 2.0 and 3.0)",
                        pre[6], pre[7]);
    size_t lenbytes = pre[6] == 1 ? 2 : 4;
    if (fread(pre + 8, 1, lenbytes, f) != lenbytes)
        return file_err(c, "load", path, 0, "the file ends before the header");
    int64_t hlen = 0, start = 8 + (int64_t)lenbytes;
    for (size_t k = 0; k < lenbytes; k++) hlen |= (int64_t)pre[8 + k] << 8 * k;
    if (hlen > size - start)
        return file_err(c, "load", path, 0,
                        "the header length %lld runs past the end of the file (%lld bytes)",
                        (long long)hlen, (long long)size);
    if (hlen > NPY_MAXHEADER)
        return file_err(c, "load", path, 0, "the header length %lld is more than dial reads (%d)",
                        (long long)hlen, NPY_MAXHEADER);
    char *text = ctx_alloc(c, (size_t)hlen);
    if (!text) return file_err(c, "load", path, 0, "%s", c->msg);
    Header h;
    memset(&h, 0, sizeof h);
    Scan s = {text, text, text + hlen};
    int rc = fread(text, 1, (size_t)hlen, f) == (size_t)hlen
                 ? npy_header(c, path, &s, &h)
                 : file_err(c, "load", path, 0, "cannot read the header: %s", read_failure(f));
    ctx_free(c, text, (size_t)hlen);
    if (rc) return -1;
    int64_t count = arr_checkshape(c, h.nd, h.shape);
    if (count < 0) return file_err(c, "load", path, 0, "%s", c->msg);
    /* at most ARR_MAXN elements of at most 8 bytes: no overflow */
    int64_t need = count * h.t.size, have = size - start - hlen;
    if (need > have) {
        Sbuf b;
        sb_init(&b);
        fmt_shape(&b, h.nd, h.shape);
        file_err(c, "load", path, 0, "the data is %lld bytes, shape %s of '%s' needs %lld",
                 (long long)have, sb_str(&b), h.descr, (long long)need);
        sb_free(&b);
        return -1;
    }
    return npy_array(c, f, path, &h, out);
}

/* numpy.save's layout for float64 data, whatever the host's byte order. */
static int npy_write(FILE *f, int nd, const int64_t *shape, const double *d, int64_t n)
{
    Sbuf h;
    sb_init(&h);
    sb_add(&h, npy_magic, sizeof npy_magic);
    sb_add(&h, "\x01\x00\x00\x00", 4); /* version 1.0; the length goes in below */
    sb_puts(&h, "{'descr': '<f8', 'fortran_order': False, 'shape': ");
    fmt_shape(&h, nd, shape);
    sb_puts(&h, ", }");
    while ((h.len + 1) % 64) sb_putc(&h, ' ');
    sb_putc(&h, '\n');
    int ok = h.len % 64 == 0 && h.len - 10 <= 0xffff; /* else an allocation failed */
    if (ok) {
        h.s[8] = (char)((h.len - 10) & 0xff);
        h.s[9] = (char)((h.len - 10) >> 8);
        ok = fwrite(h.s, 1, h.len, f) == h.len;
    } else {
        errno = ENOMEM;
    }
    sb_free(&h);
    unsigned char buf[8192];
    for (int64_t i = 0; ok && i < n;) {
        size_t m = 0;
        for (; m < sizeof buf && i < n; m += 8, i++) {
            uint64_t u;
            memcpy(&u, &d[i], sizeof u);
            for (int k = 0; k < 8; k++) buf[m + (size_t)k] = (unsigned char)(u >> 8 * k);
        }
        ok = fwrite(buf, 1, m, f) == m;
    }
    return ok ? 0 : -1;
}

/* -- CSV ------------------------------------------------------------------------ */

typedef struct Csv {
    Ctx *c;
    const char *path;
    long line;
    double *d;                  /* the values so far, accounted */
    int64_t n, cap;
    int64_t rows, cols;         /* cols: values in the first row */
    Sbuf num;                   /* a number's text for strtod */
} Csv;

static int csv_push(Csv *s, double x)
{
    if (s->n == s->cap) {
        int64_t cap = s->cap ? 2 * s->cap : 64;
        double *d = ctx_alloc(s->c, (size_t)cap * sizeof *d);
        if (!d) return file_err(s->c, "load", s->path, s->line, "%s", s->c->msg);
        if (s->n) memcpy(d, s->d, (size_t)s->n * sizeof *d);
        ctx_free(s->c, s->d, (size_t)s->cap * sizeof *d);
        s->d = d;
        s->cap = cap;
    }
    s->d[s->n++] = x;
    return 0;
}

/* The number spelt by [p, e), as Python's float() reads it (underscores
 * aside): [+-] digits [. digits] [(e|E) [+-] digits], or nan, inf or
 * infinity in any case; 0, or -1 if it is not a number. strtod gets the
 * text without its decimal point ("12.5e3" as "125e2"), so a host's locale
 * (a decimal comma) cannot change what is read. */
static int csv_number(Sbuf *b, const char *p, const char *e, double *x)
{
    int neg = p < e && *p == '-';
    if (p < e && (*p == '-' || *p == '+')) p++;
    size_t n = (size_t)(e - p);
    if (n == 3 && strncasecmp(p, "nan", 3) == 0) {
        *x = neg ? -NAN : NAN;
        return 0;
    }
    if ((n == 3 && strncasecmp(p, "inf", 3) == 0) || (n == 8 && strncasecmp(p, "infinity", 8) == 0)) {
        *x = neg ? -INFINITY : INFINITY;
        return 0;
    }
    sb_clear(b);
    sb_putc(b, neg ? '-' : '+');
    int64_t digits = 0, frac = 0, ex = 0;
    for (; p < e && is_digit(*p); p++, digits++) sb_putc(b, *p);
    if (p < e && *p == '.')
        for (p++; p < e && is_digit(*p); p++, digits++, frac++) sb_putc(b, *p);
    if (!digits) return -1;
    if (p < e && (*p == 'e' || *p == 'E')) {
        int eneg = ++p < e && *p == '-';
        if (p < e && (*p == '-' || *p == '+')) p++;
        if (p == e || !is_digit(*p)) return -1;
        /* saturated far beyond any double's range and any line's length */
        for (; p < e && is_digit(*p); p++)
            if (ex < INT64_C(1) << 50) ex = ex * 10 + (*p - '0');
        if (eneg) ex = -ex;
    }
    if (p != e) return -1;
    char et[32];
    int en = snprintf(et, sizeof et, "e%lld", (long long)(ex - frac));
    sb_add(b, et, (size_t)en);
    if (b->len != (size_t)(1 + digits + en)) return -1; /* an allocation failed */
    *x = strtod(sb_str(b), NULL);
    return 0;
}

/* One field, [p, e) without the comma. */
static int csv_field(Csv *s, const char *p, const char *e)
{
    while (p < e && is_space(*p)) p++;
    while (e > p && is_space(e[-1])) e--;
    double x;
    if (p == e) return file_err(s->c, "load", s->path, s->line, "a value is missing");
    if (csv_number(&s->num, p, e, &x)) {
        int n = (int)(e - p);
        return file_err(s->c, "load", s->path, s->line, "'%.*s%s' is not a number",
                        n > 40 ? 40 : n, p, n > 40 ? "..." : "");
    }
    return csv_push(s, x);
}

/* One line of len bytes; a blank line is skipped, and so is the UTF-8
 * byte order mark that spreadsheets put before the first line. */
static int csv_line(Csv *s, const char *p, size_t len)
{
    const char *e = p + len;
    if (s->line == 1 && len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) p += 3;
    while (e > p && is_space(e[-1])) e--;
    while (p < e && is_space(*p)) p++;
    if (p == e) return 0;
    int64_t k = 0;
    for (;;) {
        const char *comma = memchr(p, ',', (size_t)(e - p));
        if (csv_field(s, p, comma ? comma : e)) return -1;
        k++;
        if (!comma) break;
        p = comma + 1;
    }
    if (s->rows++ == 0) s->cols = k;
    else if (k != s->cols)
        return file_err(s->c, "load", s->path, s->line, "row has %lld value%s, expected %lld",
                        (long long)k, k == 1 ? "" : "s", (long long)s->cols);
    return 0;
}

static int csv_load(Ctx *c, FILE *f, const char *path, Value *out)
{
    Csv s;
    memset(&s, 0, sizeof s);
    s.c = c;
    s.path = path;
    sb_init(&s.num);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;
    while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
        s.line++;
        rc = csv_line(&s, line, (size_t)len);
    }
    if (rc == 0 && !feof(f)) rc = file_err(c, "load", path, 0, "cannot read: %s", strerror(errno));
    free(line);
    sb_free(&s.num);
    if (rc == 0) {
        int64_t shape[2] = {s.rows, s.cols};
        Arr *a = arr_new(c, s.cols > 1 ? 2 : 1, shape);
        if (!a) rc = file_err(c, "load", path, 0, "%s", c->msg);
        else {
            if (s.n) memcpy(a->d, s.d, (size_t)s.n * sizeof *s.d);
            *out = val_arr(a);
        }
    }
    ctx_free(c, s.d, (size_t)s.cap * sizeof *s.d);
    return rc;
}

/* A value per line for 1-d, a row per line for 2-d. */
static int csv_write(FILE *f, int nd, const int64_t *shape, const double *d, int64_t n)
{
    int64_t cols = nd == 2 ? shape[1] : 1;
    Sbuf b;
    sb_init(&b);
    int ok = 1;
    for (int64_t i = 0; ok && i < n; i++) {
        sb_clear(&b);
        fmt_num(&b, d[i]);
        sb_putc(&b, (i + 1) % cols ? ',' : '\n');
        if (b.len < 2) errno = ENOMEM; /* an allocation failed */
        ok = b.len >= 2 && fwrite(b.s, 1, b.len, f) == b.len;
    }
    sb_free(&b);
    return ok ? 0 : -1;
}

/* -- load and save ------------------------------------------------------------- */

int io_load(Ctx *c, const char *path, Value *out)
{
    int fmt = format_of(path);
    if (fmt < 0)
        return file_err(c, "load", path, 0, "unknown file type (dial reads .npy and .csv files)");
    FILE *f = fopen(path, "rb");
    if (!f) return ctx_err(c, "load: cannot open %s: %s", path, strerror(errno));
    int rc = fmt == FMT_NPY ? npy_load(c, f, path, out) : csv_load(c, f, path, out);
    fclose(f);
    return rc;
}

int io_save(Ctx *c, const char *path, const Value *v)
{
    int fmt = format_of(path);
    if (fmt < 0)
        return file_err(c, "save", path, 0, "unknown file type (dial writes .npy and .csv files)");
    int nd = v->t == T_ARR ? v->u.a->nd : 0;
    const int64_t *shape = v->t == T_ARR ? v->u.a->shape : NULL;
    const double *d = v->t == T_ARR ? v->u.a->d : &v->u.n;
    int64_t n = v->t == T_ARR ? v->u.a->n : 1;
    if (fmt == FMT_CSV && nd != 1 && nd != 2) {
        Sbuf b;
        sb_init(&b);
        fmt_shape(&b, nd, shape);
        file_err(c, "save", path, 0, "a .csv file holds a 1-d or 2-d array, not shape %s",
                 sb_str(&b));
        sb_free(&b);
        return -1;
    }
    FILE *f = fopen(path, "wb");
    if (!f) return ctx_err(c, "save: cannot write %s: %s", path, strerror(errno));
    int rc = fmt == FMT_NPY ? npy_write(f, nd, shape, d, n) : csv_write(f, nd, shape, d, n);
    int err = errno;
    if (fclose(f) != 0 && rc == 0) {
        rc = -1;
        err = errno;
    }
    if (rc) return ctx_err(c, "save: cannot write %s: %s", path, strerror(err));
    return 0;
}
