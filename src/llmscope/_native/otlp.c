/* OTLP decoding in C: an OTLP/JSON line (one ExportTraceServiceRequest / ExportLogsServiceRequest)
 * or a protobuf ExportTraceServiceRequest, straight from bytes to the values the Python decoders
 * hand a sink (`otlp.emit_typed`, `otlp._emit_proto_traces`), without typed structs or parsed
 * messages being built and walked in Python first.
 *
 * It is an accelerator, not a second decoder: it accepts only the canonical encoding (lower-case
 * hex ids, integer or digit-string times, integer enums, strict JSON, valid UTF-8) and returns
 * None for anything else -- a wrong type, an unusual spelling, a bad record, malformed input --
 * so that the Python path decodes that input and names what is wrong with it. Whenever this
 * returns spans, they are exactly what the Python path would have emitted (tests/test_native.py
 * compares both on every captured and sample line, on the same spans as protobuf, and on
 * thousands of mutated inputs).
 *
 *   decode_request(line: bytes) -> (spans, logs) | None
 *   decode_trace_protobuf(message: bytes) -> (spans, []) | None
 *   spans: [(trace_id, span_id, parent_span_id, name, kind, start_ns, end_ns, status_code,
 *            status_message, attributes, events, resource, scope_name)]
 *   logs:  [(trace_id, span_id, time_ns, event_name, body, attributes, resource)]
 *
 * Spans of one resourceSpans share one resource dict (the normalizer caches by its identity).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define BAIL (-1)
#define MAX_DEPTH 64

typedef struct {
    const unsigned char *p;
    const unsigned char *end;
    int depth;
    char *buf; /* scratch for strings with escapes */
    Py_ssize_t cap;
} Cur;

/* --------------------------------------------------------------------------- lexing */

static inline void ws(Cur *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\n' || *c->p == '\r' || *c->p == '\t')) c->p++;
}

static inline int peek(Cur *c) {
    ws(c);
    return c->p < c->end ? *c->p : -1;
}

static inline int expect(Cur *c, unsigned char ch) {
    ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 0;
    }
    return BAIL;
}

static inline int literal(Cur *c, const char *word, size_t n) {
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0) return BAIL;
    c->p += n;
    return 0;
}

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL
static inline uint64_t has_zero(uint64_t v) { return (v - ONES) & ~v & HIGHS; }
static inline uint64_t has_byte(uint64_t v, unsigned char b) { return has_zero(v ^ (ONES * b)); }
static inline uint64_t has_less(uint64_t v, unsigned char n) { return (v - ONES * n) & ~v & HIGHS; }

/* SSE2 on every x86-64; -DLLMSCOPE_NO_SIMD builds the portable path (to test it there too) */
#if defined(__SSE2__) && !defined(LLMSCOPE_NO_SIMD)
#define USE_SSE2 1
#include <emmintrin.h>
#endif

/* A JSON string at c->p: the raw bytes between the quotes, whether they hold escapes, and whether
 * any byte is non-ASCII. Long content strings are the bulk of a line: 16 bytes at a time with
 * SSE2 (every x86-64), 8 at a time elsewhere. */
static int scan_string(Cur *c, const unsigned char **s, Py_ssize_t *n, int *esc, int *hi) {
    if (c->p >= c->end || *c->p != '"') return BAIL;
    const unsigned char *q = ++c->p, *e = c->end;
    int E = 0, H = 0;
#ifdef USE_SSE2
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'), ctl = _mm_set1_epi8(0x1F);
#endif
    for (;;) {
#ifdef USE_SSE2
        while (e - q >= 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)q);
            __m128i sp = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash)),
                                      _mm_cmpeq_epi8(_mm_max_epu8(x, ctl), ctl)); /* '"', '\\', < 0x20 */
            unsigned special = (unsigned)_mm_movemask_epi8(sp), high = (unsigned)_mm_movemask_epi8(x);
            if (special) {
                unsigned at = (unsigned)__builtin_ctz(special);
                H |= (high & ((1u << at) - 1)) != 0;
                q += at;
                break;
            }
            H |= high != 0;
            q += 16;
        }
#else
        while (e - q >= 8) {
            uint64_t w;
            memcpy(&w, q, 8);
            if (has_byte(w, '"') | has_byte(w, '\\') | has_less(w, 0x20)) break;
            H |= (w & HIGHS) != 0;
            q += 8;
        }
#endif
        if (q >= e) return BAIL;
        unsigned char ch = *q;
        if (ch == '"') break;
        if (ch == '\\') {
            E = 1;
            q += 2;
            if (q > e) return BAIL;
            continue;
        }
        if (ch < 0x20) return BAIL;
        H |= ch >= 0x80;
        q++;
    }
    *s = c->p;
    *n = q - c->p;
    *esc = E;
    *hi = H;
    c->p = q + 1;
    return 0;
}

static inline int hexval(unsigned char ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

static int read_hex4(const unsigned char *q, const unsigned char *e, unsigned *out) {
    if (e - q < 4) return BAIL;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(q[i]);
        if (h < 0) return BAIL;
        v = (v << 4) | (unsigned)h;
    }
    *out = v;
    return 0;
}

/* Unescape into c->buf as UTF-8 (plain runs copied whole); lone surrogates and unknown escapes
 * give up. *wide: an escape produced a non-ASCII character. */
static int unescape(Cur *c, const unsigned char *s, Py_ssize_t n, Py_ssize_t *outn, int *wide) {
    if (c->cap < n) {
        char *nb = PyMem_Realloc(c->buf, (size_t)n);
        if (nb == NULL) return BAIL;
        c->buf = nb;
        c->cap = n;
    }
    /* UTF-8 of an escape is never longer than the escape itself, so n bytes suffice */
    unsigned char *o = (unsigned char *)c->buf;
    const unsigned char *q = s, *e = s + n;
    int W = 0;
    while (q < e) {
        const unsigned char *bs = memchr(q, '\\', (size_t)(e - q));
        size_t run = bs ? (size_t)(bs - q) : (size_t)(e - q);
        memcpy(o, q, run);
        o += run;
        q += run;
        if (bs == NULL) break;
        q++;
        if (q >= e) return BAIL;
        unsigned char ch = *q++;
        switch (ch) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '/': *o++ = '/'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            unsigned cp;
            if (read_hex4(q, e, &cp)) return BAIL;
            q += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo;
                if (e - q < 6 || q[0] != '\\' || q[1] != 'u' || read_hex4(q + 2, e, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                    return BAIL;
                q += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                return BAIL;
            }
            W |= cp >= 0x80;
            if (cp < 0x80) {
                *o++ = (unsigned char)cp;
            } else if (cp < 0x800) {
                *o++ = (unsigned char)(0xC0 | (cp >> 6));
                *o++ = (unsigned char)(0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                *o++ = (unsigned char)(0xE0 | (cp >> 12));
                *o++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
                *o++ = (unsigned char)(0x80 | (cp & 0x3F));
            } else {
                *o++ = (unsigned char)(0xF0 | (cp >> 18));
                *o++ = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
                *o++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
                *o++ = (unsigned char)(0x80 | (cp & 0x3F));
            }
            break;
        }
        default:
            return BAIL;
        }
    }
    *outn = (Py_ssize_t)(o - (unsigned char *)c->buf);
    *wide = W;
    return 0;
}

/* Attribute keys, names and short values repeat on nearly every span: the same str object is
 * handed out again (its hash computed once, dict lookups by identity), not allocated each time.
 * A direct-mapped table of short ASCII strings; a collision just replaces the entry. */
#define CACHE_SLOTS 4096
#define CACHE_MAX_LEN 48
static PyObject *str_cache[CACHE_SLOTS];

static PyObject *ascii_str(const unsigned char *s, Py_ssize_t n) {
    if (n > CACHE_MAX_LEN) {
        PyObject *u = PyUnicode_New(n, 127);
        if (u != NULL) memcpy(PyUnicode_DATA(u), s, (size_t)n);
        return u;
    }
    /* hash of the length and the first, middle and last 8 bytes (memcmp below decides) */
    uint64_t a = 0, m = 0, b = 0;
    if (n >= 8) {
        memcpy(&a, s, 8);
        memcpy(&m, s + n / 2 - 4, 8);
        memcpy(&b, s + n - 8, 8);
    } else {
        for (Py_ssize_t i = 0; i < n; i++) a = (a << 8) | s[i];
    }
    uint64_t h = (a * 0x9E3779B97F4A7C15ULL) ^ ((m + (uint64_t)n) * 0xC2B2AE3D27D4EB4FULL) ^ (b * 0x165667B19E3779F9ULL);
    h ^= h >> 31;
    PyObject **slot = &str_cache[(h ^ (h >> 17)) & (CACHE_SLOTS - 1)];
    PyObject *u = *slot;
    if (u != NULL && PyUnicode_GET_LENGTH(u) == n && memcmp(PyUnicode_DATA(u), s, (size_t)n) == 0)
        return Py_NewRef(u);
    u = PyUnicode_New(n, 127);
    if (u == NULL) return NULL;
    memcpy(PyUnicode_DATA(u), s, (size_t)n);
    Py_XSETREF(*slot, Py_NewRef(u));
    return u;
}

/* A JSON string as a new str; NULL (no error set unless out of memory) to give up. */
static PyObject *read_str(Cur *c) {
    const unsigned char *s;
    Py_ssize_t n;
    int esc, hi;
    if (peek(c) != '"' || scan_string(c, &s, &n, &esc, &hi)) return NULL;
    if (esc) {
        Py_ssize_t m;
        int wide;
        if (unescape(c, s, n, &m, &wide)) return NULL;
        s = (const unsigned char *)c->buf;
        n = m;
        hi |= wide;
    }
    if (!hi) return ascii_str(s, n);
    PyObject *u = PyUnicode_DecodeUTF8((const char *)s, n, "strict");
    if (u == NULL && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) PyErr_Clear();
    return u;
}

/* A strict JSON number token: [start, end), whether it is an integer. */
static int scan_number(Cur *c, const unsigned char **start, const unsigned char **stop, int *is_int) {
    const unsigned char *q = c->p, *e = c->end;
    *start = q;
    int integer = 1;
    if (q < e && *q == '-') q++;
    if (q >= e) return BAIL;
    if (*q == '0') {
        q++;
    } else if (*q >= '1' && *q <= '9') {
        while (q < e && *q >= '0' && *q <= '9') q++;
    } else {
        return BAIL;
    }
    if (q < e && *q == '.') {
        integer = 0;
        q++;
        if (q >= e || *q < '0' || *q > '9') return BAIL;
        while (q < e && *q >= '0' && *q <= '9') q++;
    }
    if (q < e && (*q == 'e' || *q == 'E')) {
        integer = 0;
        q++;
        if (q < e && (*q == '+' || *q == '-')) q++;
        if (q >= e || *q < '0' || *q > '9') return BAIL;
        while (q < e && *q >= '0' && *q <= '9') q++;
    }
    *stop = q;
    *is_int = integer;
    c->p = q;
    return 0;
}

/* -?digits as an int: up to 19 digits (Unix nanoseconds have 19) cannot overflow 64 bits. */
static int parse_digits(const unsigned char *s, const unsigned char *e, int allow_minus, int *neg, uint64_t *out) {
    *neg = 0;
    if (allow_minus && s < e && *s == '-') {
        *neg = 1;
        s++;
    }
    if (s >= e || e - s > 19) return BAIL;
    uint64_t v = 0;
    for (; s < e; s++) {
        if (*s < '0' || *s > '9') return BAIL;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 0;
}

static PyObject *digits_to_int(const unsigned char *s, const unsigned char *e, int allow_minus) {
    int neg;
    uint64_t v;
    if (parse_digits(s, e, allow_minus, &neg, &v)) return NULL;
    if (!neg) return PyLong_FromUnsignedLongLong(v);
    if (v > (uint64_t)INT64_MAX) return NULL;
    return PyLong_FromLongLong(-(int64_t)v);
}

/* A JSON integer as a new int; NULL to give up. */
static PyObject *read_int(Cur *c) {
    const unsigned char *s, *e;
    int is_int;
    ws(c);
    if (scan_number(c, &s, &e, &is_int) || !is_int) return NULL;
    return digits_to_int(s, e, 1);
}

/* int64 as OTLP/JSON writes it: a number, or a string of ASCII digits (the common case). */
static PyObject *read_int_or_digits(Cur *c) {
    int ch = peek(c);
    if (ch == '"') {
        const unsigned char *s;
        Py_ssize_t n;
        int esc, hi;
        if (scan_string(c, &s, &n, &esc, &hi) || esc || hi) return NULL;
        return digits_to_int(s, s + n, 0);
    }
    return read_int(c);
}

static int skip_value(Cur *c);

static int next_member(Cur *c, int *first, unsigned char close);

static int skip_container(Cur *c, unsigned char close) {
    if (++c->depth > MAX_DEPTH) return BAIL;
    c->p++;
    int first = 1, r;
    while ((r = next_member(c, &first, close)) == 1) {
        if (close == '}') {
            PyObject *k = read_str(c); /* any key, escapes included: validated, not kept */
            if (k == NULL) return BAIL;
            Py_DECREF(k);
            if (expect(c, ':')) return BAIL;
        }
        if (skip_value(c)) return BAIL;
    }
    if (r < 0) return BAIL;
    c->depth--;
    return 0;
}

/* Skip a value of a field we do not read -- still strictly validated, as the typed decoder would. */
static int skip_value(Cur *c) {
    const unsigned char *s, *e;
    int is_int;
    switch (peek(c)) {
    case '"': {
        PyObject *u = read_str(c); /* validates escapes and UTF-8 */
        if (u == NULL) return BAIL;
        Py_DECREF(u);
        return 0;
    }
    case '{': return skip_container(c, '}');
    case '[': return skip_container(c, ']');
    case 't': return literal(c, "true", 4);
    case 'f': return literal(c, "false", 5);
    case 'n': return literal(c, "null", 4);
    default: return scan_number(c, &s, &e, &is_int);
    }
}

/* --------------------------------------------------------------------------- objects */

/* Next member of an object or array whose opening bracket is consumed: 1 if there is one, 0 at
 * the closing bracket, BAIL on anything else (a missing or trailing comma). */
static int next_member(Cur *c, int *first, unsigned char close) {
    ws(c);
    if (c->p >= c->end) return BAIL;
    if (*c->p == close) {
        c->p++;
        return 0;
    }
    if (!*first) {
        if (*c->p != ',') return BAIL;
        c->p++;
        ws(c);
    }
    *first = 0;
    return 1;
}

/* Next key of an object whose '{' is consumed: 1 and the key, 0 at the end, BAIL. Keys with
 * escapes give up (they could spell a field name). */
static int next_key(Cur *c, int *first, const unsigned char **k, Py_ssize_t *kn) {
    int r = next_member(c, first, '}'), esc, hi;
    if (r != 1) return r;
    if (scan_string(c, k, kn, &esc, &hi) || esc || expect(c, ':')) return BAIL;
    ws(c);
    return 1;
}

/* Next element of an array whose '[' is consumed: 1, 0 at the end, BAIL. */
static int next_item(Cur *c, int *first) { return next_member(c, first, ']'); }

/* A JSON array whose elements `reader` turns into objects, appended to `out`. */
static int read_list_into(Cur *c, PyObject *out, PyObject *(*reader)(Cur *)) {
    if (expect(c, '[')) return BAIL;
    int first = 1, r;
    while ((r = next_item(c, &first)) == 1) {
        PyObject *v = reader(c);
        if (v == NULL) return BAIL;
        int bad = PyList_Append(out, v);
        Py_DECREF(v);
        if (bad) return BAIL;
    }
    return r < 0 ? BAIL : 0;
}

#define KEY_IS(lit) (kn == (Py_ssize_t)(sizeof(lit) - 1) && memcmp(k, lit, sizeof(lit) - 1) == 0)

static inline int is_null(Cur *c) {
    if (peek(c) == 'n') return literal(c, "null", 4) == 0 ? 1 : BAIL;
    return 0;
}

static PyObject *read_any_value(Cur *c);
static int read_attributes(Cur *c, PyObject *into);

/* {"values": [AnyValue, ...]} -> list */
static PyObject *read_array_value(Cur *c) {
    if (expect(c, '{')) return NULL;
    PyObject *out = PyList_New(0);
    if (out == NULL) return NULL;
    int first = 1, r, seen = 0;
    const unsigned char *k;
    Py_ssize_t kn;
    while ((r = next_key(c, &first, &k, &kn)) == 1) {
        if (KEY_IS("values")) {
            if (seen++ || read_list_into(c, out, read_any_value)) goto fail; /* read_any_value: no nulls */
        } else if (skip_value(c)) {
            goto fail;
        }
    }
    if (r < 0) goto fail;
    return out;
fail:
    Py_DECREF(out);
    return NULL;
}

/* An object whose `field` holds a list of KeyValues (KeyValueList: "values"; Resource:
 * "attributes") -> a new dict of them; other fields skipped. */
static PyObject *read_keyvalues_object(Cur *c, const char *field) {
    if (expect(c, '{')) return NULL;
    PyObject *out = PyDict_New();
    if (out == NULL) return NULL;
    int first = 1, r, seen = 0;
    const unsigned char *k;
    Py_ssize_t kn;
    size_t fn = strlen(field);
    while ((r = next_key(c, &first, &k, &kn)) == 1) {
        if ((size_t)kn == fn && memcmp(k, field, fn) == 0) {
            if (seen++ || read_attributes(c, out)) goto fail;
        } else if (skip_value(c)) {
            goto fail;
        }
    }
    if (r < 0) goto fail;
    return out;
fail:
    Py_DECREF(out);
    return NULL;
}

enum { AV_STRING, AV_INT, AV_DOUBLE, AV_BOOL, AV_ARRAY, AV_KVLIST, AV_BYTES, AV_N };

/* An AnyValue object -> its value, by the precedence of otlp.any_value (the first field that is
 * present and not null); None when none is. */
static PyObject *read_any_value(Cur *c) {
    if (++c->depth > MAX_DEPTH || expect(c, '{')) return NULL;
    PyObject *slot[AV_N] = {NULL};
    int seen[AV_N] = {0};
    int first = 1, r;
    const unsigned char *k;
    Py_ssize_t kn;
    PyObject *result = NULL;
    while ((r = next_key(c, &first, &k, &kn)) == 1) {
        int i;
        if (KEY_IS("stringValue")) i = AV_STRING;
        else if (KEY_IS("intValue")) i = AV_INT;
        else if (KEY_IS("doubleValue")) i = AV_DOUBLE;
        else if (KEY_IS("boolValue")) i = AV_BOOL;
        else if (KEY_IS("arrayValue")) i = AV_ARRAY;
        else if (KEY_IS("kvlistValue")) i = AV_KVLIST;
        else if (KEY_IS("bytesValue")) i = AV_BYTES;
        else {
            if (skip_value(c)) goto done;
            continue;
        }
        if (seen[i]++) goto done;
        int n = is_null(c);
        if (n < 0) goto done;
        if (n) continue;
        PyObject *v = NULL;
        switch (i) {
        case AV_STRING:
        case AV_BYTES:
            v = read_str(c);
            break;
        case AV_INT:
            v = read_int_or_digits(c);
            break;
        case AV_DOUBLE: {
            int ch = peek(c);
            if (ch == '"') { /* OTLP/JSON spells the non-finite values as strings */
                const unsigned char *s;
                Py_ssize_t sn;
                int esc, hi;
                if (scan_string(c, &s, &sn, &esc, &hi) || esc) break;
                if (sn == 3 && memcmp(s, "NaN", 3) == 0) v = PyFloat_FromDouble(Py_NAN);
                else if (sn == 8 && memcmp(s, "Infinity", 8) == 0) v = PyFloat_FromDouble(Py_HUGE_VAL);
                else if (sn == 9 && memcmp(s, "-Infinity", 9) == 0) v = PyFloat_FromDouble(-Py_HUGE_VAL);
                break;
            }
            const unsigned char *s, *e;
            int is_int;
            if (scan_number(c, &s, &e, &is_int)) break;
            char tok[64];
            if (e - s >= (Py_ssize_t)sizeof tok) break;
            memcpy(tok, s, (size_t)(e - s));
            tok[e - s] = 0;
            double d = PyOS_string_to_double(tok, NULL, NULL);
            if (d == -1.0 && PyErr_Occurred()) {
                PyErr_Clear();
                break;
            }
            if (Py_IS_INFINITY(d)) break; /* out of range: the typed decoder rejects it */
            if (is_int) {
                int neg;
                uint64_t iv;
                /* integers: exact within 2**53; beyond, leave rounding questions to the Python path */
                if (parse_digits(s, e, 1, &neg, &iv) || iv > (1ULL << 53)) break;
                d = neg ? (double)(-(int64_t)iv) : (double)iv; /* -0 is 0.0, as an integer */
            }
            v = PyFloat_FromDouble(d);
            break;
        }
        case AV_BOOL:
            if (peek(c) == 't' && literal(c, "true", 4) == 0) v = Py_NewRef(Py_True);
            else if (peek(c) == 'f' && literal(c, "false", 5) == 0) v = Py_NewRef(Py_False);
            break;
        case AV_ARRAY:
            v = read_array_value(c);
            break;
        case AV_KVLIST:
            v = read_keyvalues_object(c, "values");
            break;
        }
        if (v == NULL) goto done;
        slot[i] = v;
    }
    if (r < 0) goto done;
    for (int i = 0; i < AV_N; i++) {
        if (slot[i] != NULL) {
            result = slot[i];
            slot[i] = NULL;
            break;
        }
    }
    if (result == NULL) result = Py_NewRef(Py_None);
    c->depth--;
done:
    for (int i = 0; i < AV_N; i++) Py_XDECREF(slot[i]);
    return result;
}

/* [KeyValue, ...] into a dict (later keys win, as in attrs_dict). */
static int read_attributes(Cur *c, PyObject *into) {
    if (expect(c, '[')) return BAIL;
    int first = 1, r;
    while ((r = next_item(c, &first)) == 1) {
        if (expect(c, '{')) return BAIL;
        PyObject *key = NULL, *value = NULL;
        int f2 = 1, r2, seen_key = 0, seen_value = 0;
        const unsigned char *k;
        Py_ssize_t kn;
        while ((r2 = next_key(c, &f2, &k, &kn)) == 1) {
            if (KEY_IS("key")) {
                if (seen_key++ || (key = read_str(c)) == NULL) goto fail;
            } else if (KEY_IS("value")) {
                if (seen_value++) goto fail;
                int n = is_null(c);
                if (n < 0) goto fail;
                if (!n && (value = read_any_value(c)) == NULL) goto fail;
            } else if (skip_value(c)) {
                goto fail;
            }
        }
        if (r2 < 0 || key == NULL) goto fail;
        if (PyDict_SetItem(into, key, value ? value : Py_None)) goto fail;
        Py_DECREF(key);
        Py_XDECREF(value);
        continue;
    fail:
        Py_XDECREF(key);
        Py_XDECREF(value);
        return BAIL;
    }
    return r < 0 ? BAIL : 0;
}

/* A lower-case hex id of nbytes bytes as a new str; Py_None for the all-zero id; NULL to give up
 * (other spellings -- upper case, 0x, base64 -- are the Python path's). */
static PyObject *read_hex_id(Cur *c, Py_ssize_t nbytes) {
    const unsigned char *s;
    Py_ssize_t n;
    int esc, hi;
    if (peek(c) != '"' || scan_string(c, &s, &n, &esc, &hi) || esc || n != 2 * nbytes) return NULL;
    int nonzero = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char ch = s[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) return NULL;
        nonzero |= ch != '0';
    }
    if (!nonzero) return Py_NewRef(Py_None);
    PyObject *u = PyUnicode_New(n, 127);
    if (u == NULL) return NULL;
    memcpy(PyUnicode_DATA(u), s, (size_t)n);
    return u;
}

/* An optional id field: "" -> None. */
static PyObject *read_optional_id(Cur *c, Py_ssize_t nbytes) {
    if (peek(c) == '"' && c->end - c->p >= 2 && c->p[1] == '"') {
        c->p += 2;
        return Py_NewRef(Py_None);
    }
    return read_hex_id(c, nbytes);
}

/* [Event, ...] -> [(name, time_ns, attributes)] */
static PyObject *read_events(Cur *c) {
    if (expect(c, '[')) return NULL;
    PyObject *out = PyList_New(0);
    if (out == NULL) return NULL;
    int first = 1, r;
    while ((r = next_item(c, &first)) == 1) {
        if (expect(c, '{')) goto fail;
        PyObject *name = NULL, *t = NULL, *attrs = PyDict_New();
        if (attrs == NULL) goto fail;
        int f2 = 1, r2, seen = 0;
        const unsigned char *k;
        Py_ssize_t kn;
        while ((r2 = next_key(c, &f2, &k, &kn)) == 1) {
            if (KEY_IS("name")) {
                if (seen & 1 || (name = read_str(c)) == NULL) goto efail;
                seen |= 1;
            } else if (KEY_IS("timeUnixNano")) {
                if (seen & 2 || (t = read_int_or_digits(c)) == NULL) goto efail;
                seen |= 2;
            } else if (KEY_IS("attributes")) {
                if (seen & 4 || read_attributes(c, attrs)) goto efail;
                seen |= 4;
            } else if (skip_value(c)) {
                goto efail;
            }
        }
        if (r2 < 0) goto efail;
        if (name == NULL) name = PyUnicode_New(0, 127);
        if (t == NULL) t = PyLong_FromLong(0);
        if (name == NULL || t == NULL) goto efail;
        PyObject *ev = PyTuple_Pack(3, name, t, attrs);
        Py_DECREF(name);
        Py_DECREF(t);
        Py_DECREF(attrs);
        if (ev == NULL) goto fail;
        int bad = PyList_Append(out, ev);
        Py_DECREF(ev);
        if (bad) goto fail;
        continue;
    efail:
        Py_XDECREF(name);
        Py_XDECREF(t);
        Py_DECREF(attrs);
        goto fail;
    }
    if (r < 0) goto fail;
    return out;
fail:
    Py_DECREF(out);
    return NULL;
}

/* {"code": int, "message": str} -> code and message (new refs). */
static int read_status(Cur *c, PyObject **code, PyObject **message) {
    if (expect(c, '{')) return BAIL;
    int first = 1, r;
    const unsigned char *k;
    Py_ssize_t kn;
    while ((r = next_key(c, &first, &k, &kn)) == 1) {
        if (KEY_IS("code")) {
            if (*code != NULL || (*code = read_int(c)) == NULL) return BAIL; /* names: Python path */
        } else if (KEY_IS("message")) {
            if (*message != NULL || (*message = read_str(c)) == NULL) return BAIL;
        } else if (skip_value(c)) {
            return BAIL;
        }
    }
    return r < 0 ? BAIL : 0;
}

enum { S_TRACE, S_SPAN, S_PARENT, S_NAME, S_KIND, S_START, S_END, S_STATUS, S_MESSAGE, S_ATTRS, S_EVENTS,
       S_RESOURCE, S_SCOPE, S_N };

/* One Span -> a 13-tuple with resource and scope name left empty (filled once the enclosing
 * objects are read: JSON does not promise that "scope" comes before "spans"). */
static PyObject *read_span(Cur *c) {
    if (expect(c, '{')) return NULL;
    PyObject *f[S_N] = {NULL};
    int first = 1, r, status_seen = 0;
    const unsigned char *k;
    Py_ssize_t kn;
    while ((r = next_key(c, &first, &k, &kn)) == 1) {
        int i = -1;
        if (KEY_IS("traceId")) i = S_TRACE;
        else if (KEY_IS("spanId")) i = S_SPAN;
        else if (KEY_IS("parentSpanId")) i = S_PARENT;
        else if (KEY_IS("name")) i = S_NAME;
        else if (KEY_IS("kind")) i = S_KIND;
        else if (KEY_IS("startTimeUnixNano")) i = S_START;
        else if (KEY_IS("endTimeUnixNano")) i = S_END;
        else if (KEY_IS("attributes")) i = S_ATTRS;
        else if (KEY_IS("events")) i = S_EVENTS;
        else if (KEY_IS("status")) {
            int n;
            if (status_seen++ || (n = is_null(c)) < 0) goto fail;
            if (!n && read_status(c, &f[S_STATUS], &f[S_MESSAGE])) goto fail;
            continue;
        } else {
            if (skip_value(c)) goto fail;
            continue;
        }
        if (f[i] != NULL) goto fail;
        switch (i) {
        case S_TRACE: f[i] = read_hex_id(c, 16); break;
        case S_SPAN: f[i] = read_hex_id(c, 8); break;
        case S_PARENT: f[i] = read_optional_id(c, 8); break;
        case S_NAME: f[i] = read_str(c); break;
        case S_KIND: f[i] = read_int(c); break; /* names (SPAN_KIND_CLIENT): Python path */
        case S_START:
        case S_END: f[i] = read_int_or_digits(c); break;
        case S_ATTRS:
            if ((f[i] = PyDict_New()) != NULL && read_attributes(c, f[i])) Py_CLEAR(f[i]);
            break;
        case S_EVENTS: f[i] = read_events(c); break;
        }
        if (f[i] == NULL) goto fail;
    }
    if (r < 0) goto fail;
    /* a span without ids is a bad record: the Python path reports it */
    if (f[S_TRACE] == NULL || f[S_TRACE] == Py_None || f[S_SPAN] == NULL || f[S_SPAN] == Py_None) goto fail;
    if (f[S_PARENT] == NULL) f[S_PARENT] = Py_NewRef(Py_None);
    if (f[S_NAME] == NULL) f[S_NAME] = PyUnicode_New(0, 127);
    if (f[S_KIND] == NULL) f[S_KIND] = PyLong_FromLong(0);
    if (f[S_START] == NULL) f[S_START] = PyLong_FromLong(0);
    if (f[S_END] == NULL) f[S_END] = PyLong_FromLong(0);
    if (f[S_STATUS] == NULL) f[S_STATUS] = PyLong_FromLong(0);
    if (f[S_MESSAGE] == NULL) f[S_MESSAGE] = PyUnicode_New(0, 127);
    if (f[S_ATTRS] == NULL) f[S_ATTRS] = PyDict_New();
    if (f[S_EVENTS] == NULL) f[S_EVENTS] = PyList_New(0);
    for (int i = 0; i < S_RESOURCE; i++)
        if (f[i] == NULL) goto fail;
    PyObject *t = PyTuple_New(S_N);
    if (t == NULL) goto fail;
    for (int i = 0; i < S_RESOURCE; i++) PyTuple_SET_ITEM(t, i, f[i]);
    return t; /* S_RESOURCE, S_SCOPE still NULL */
fail:
    for (int i = 0; i < S_N; i++) Py_XDECREF(f[i]);
    return NULL;
}

/* {"name": str, ...} (a Scope) -> its name */
static PyObject *read_scope_name(Cur *c) {
    if (expect(c, '{')) return NULL;
    PyObject *name = NULL;
    int first = 1, r;
    const unsigned char *k;
    Py_ssize_t kn;
    while ((r = next_key(c, &first, &k, &kn)) == 1) {
        if (KEY_IS("name")) {
            if (name != NULL || (name = read_str(c)) == NULL) goto fail;
        } else if (KEY_IS("version")) {
            PyObject *v = read_str(c);
            if (v == NULL) goto fail;
            Py_DECREF(v);
        } else if (skip_value(c)) {
            goto fail;
        }
    }
    if (r < 0) goto fail;
    return name ? name : PyUnicode_New(0, 127);
fail:
    Py_XDECREF(name);
    return NULL;
}

/* Fill the empty slot of each tuple from index `from` of `items` with `value`. */
static void fill_slot(PyObject *items, Py_ssize_t from, Py_ssize_t slot, PyObject *value) {
    for (Py_ssize_t j = from; j < PyList_GET_SIZE(items); j++) {
        PyObject *t = PyList_GET_ITEM(items, j);
        if (PyTuple_GET_ITEM(t, slot) == NULL) PyTuple_SET_ITEM(t, slot, Py_NewRef(value));
    }
}

/* [ScopeSpans, ...] -> spans appended to `out`; returns how many ScopeSpans there were. */
static Py_ssize_t read_scope_spans_list(Cur *c, PyObject *out) {
    if (expect(c, '[')) return BAIL;
    Py_ssize_t count = 0;
    int first = 1, r;
    while ((r = next_item(c, &first)) == 1) {
        count++;
        if (expect(c, '{')) return BAIL;
        Py_ssize_t from = PyList_GET_SIZE(out);
        PyObject *scope_name = NULL;
        int f2 = 1, r2, spans_seen = 0;
        const unsigned char *k;
        Py_ssize_t kn;
        while ((r2 = next_key(c, &f2, &k, &kn)) == 1) {
            if (KEY_IS("scope")) {
                int n;
                if (scope_name != NULL || (n = is_null(c)) < 0) goto fail;
                scope_name = n ? PyUnicode_New(0, 127) : read_scope_name(c);
                if (scope_name == NULL) goto fail;
            } else if (KEY_IS("spans")) {
                if (spans_seen++ || read_list_into(c, out, read_span)) goto fail;
            } else if (skip_value(c)) {
                goto fail;
            }
        }
        if (r2 < 0) goto fail;
        if (scope_name == NULL && (scope_name = PyUnicode_New(0, 127)) == NULL) goto fail;
        fill_slot(out, from, S_SCOPE, scope_name);
        Py_DECREF(scope_name);
        continue;
    fail:
        Py_XDECREF(scope_name);
        return BAIL;
    }
    return r < 0 ? BAIL : count;
}

/* [ResourceSpans, ...] -> spans appended to `out` */
static int read_resource_spans(Cur *c, PyObject *out) {
    if (expect(c, '[')) return BAIL;
    int first = 1, r;
    while ((r = next_item(c, &first)) == 1) {
        if (expect(c, '{')) return BAIL;
        PyObject *resource = NULL;
        PyObject *scope_spans = PyList_New(0), *library_spans = PyList_New(0);
        Py_ssize_t n_scope = 0, n_library = 0;
        int f2 = 1, r2, seen = 0;
        const unsigned char *k;
        Py_ssize_t kn;
        if (scope_spans == NULL || library_spans == NULL) goto fail;
        while ((r2 = next_key(c, &f2, &k, &kn)) == 1) {
            if (KEY_IS("resource")) {
                int n;
                if (resource != NULL || (n = is_null(c)) < 0) goto fail;
                if ((resource = n ? PyDict_New() : read_keyvalues_object(c, "attributes")) == NULL) goto fail;
            } else if (KEY_IS("scopeSpans")) {
                if (seen & 1 || (n_scope = read_scope_spans_list(c, scope_spans)) < 0) goto fail;
                seen |= 1;
            } else if (KEY_IS("instrumentationLibrarySpans")) {
                /* OTLP before 0.15: its "instrumentationLibrary" is skipped, as by the typed path */
                if (seen & 2 || (n_library = read_scope_spans_list(c, library_spans)) < 0) goto fail;
                seen |= 2;
            } else if (skip_value(c)) {
                goto fail;
            }
        }
        if (r2 < 0) goto fail;
        if (resource == NULL && (resource = PyDict_New()) == NULL) goto fail;
        /* rs.scopeSpans or rs.instrumentationLibrarySpans */
        PyObject *chosen = n_scope ? scope_spans : (n_library ? library_spans : scope_spans);
        fill_slot(chosen, 0, S_RESOURCE, resource);
        for (Py_ssize_t j = 0; j < PyList_GET_SIZE(chosen); j++)
            if (PyList_Append(out, PyList_GET_ITEM(chosen, j))) goto fail;
        Py_DECREF(resource);
        Py_DECREF(scope_spans);
        Py_DECREF(library_spans);
        continue;
    fail:
        Py_XDECREF(resource);
        Py_XDECREF(scope_spans);
        Py_XDECREF(library_spans);
        return BAIL;
    }
    return r < 0 ? BAIL : 0;
}

enum { L_TRACE, L_SPAN, L_TIME, L_EVENT, L_BODY, L_ATTRS, L_RESOURCE, L_N };

/* One LogRecord -> (trace_id, span_id, time_ns, event_name, body, attributes, resource=empty) */
static PyObject *read_log_record(Cur *c) {
    if (expect(c, '{')) return NULL;
    PyObject *trace = NULL, *span = NULL, *time = NULL, *observed = NULL, *event = NULL, *body = NULL, *attrs = NULL;
    PyObject *t = NULL;
    int first = 1, r, body_seen = 0, sev_seen = 0;
    const unsigned char *k;
    Py_ssize_t kn;
    while ((r = next_key(c, &first, &k, &kn)) == 1) {
        PyObject **dst = NULL;
        if (KEY_IS("traceId")) {
            if (trace != NULL || (trace = read_optional_id(c, 16)) == NULL) goto done;
        } else if (KEY_IS("spanId")) {
            if (span != NULL || (span = read_optional_id(c, 8)) == NULL) goto done;
        } else if (KEY_IS("timeUnixNano")) {
            dst = &time;
        } else if (KEY_IS("observedTimeUnixNano")) {
            dst = &observed;
        } else if (KEY_IS("eventName")) {
            if (event != NULL || (event = read_str(c)) == NULL) goto done;
        } else if (KEY_IS("severityText")) {
            PyObject *v;
            if (sev_seen++ || (v = read_str(c)) == NULL) goto done;
            Py_DECREF(v);
        } else if (KEY_IS("body")) {
            int n;
            if (body_seen++ || (n = is_null(c)) < 0) goto done;
            if (!n && (body = read_any_value(c)) == NULL) goto done;
        } else if (KEY_IS("attributes")) {
            if (attrs != NULL || (attrs = PyDict_New()) == NULL || read_attributes(c, attrs)) goto done;
        } else if (skip_value(c)) {
            goto done;
        }
        if (dst != NULL && (*dst != NULL || (*dst = read_int_or_digits(c)) == NULL)) goto done;
    }
    if (r < 0) goto done;
    if (attrs == NULL && (attrs = PyDict_New()) == NULL) goto done;
    /* to_ns(time) or to_ns(observed) */
    PyObject *when = (time != NULL && PyObject_IsTrue(time)) ? time : observed;
    when = when ? Py_NewRef(when) : PyLong_FromLong(0);
    /* eventName or str(attributes.get("event.name") or "") */
    if (event == NULL || PyUnicode_GET_LENGTH(event) == 0) {
        Py_XDECREF(event);
        PyObject *v = PyDict_GetItemString(attrs, "event.name"); /* borrowed */
        int truthy = v ? PyObject_IsTrue(v) : 0;
        if (truthy < 0) {
            PyErr_Clear();
            event = NULL;
        } else {
            event = truthy ? PyObject_Str(v) : PyUnicode_New(0, 127);
        }
    }
    if (when == NULL || event == NULL) {
        Py_XDECREF(when);
        goto done;
    }
    t = PyTuple_New(L_N);
    if (t == NULL) {
        Py_DECREF(when);
        goto done;
    }
    PyTuple_SET_ITEM(t, L_TRACE, trace ? trace : Py_NewRef(Py_None));
    PyTuple_SET_ITEM(t, L_SPAN, span ? span : Py_NewRef(Py_None));
    PyTuple_SET_ITEM(t, L_TIME, when);
    PyTuple_SET_ITEM(t, L_EVENT, event);
    PyTuple_SET_ITEM(t, L_BODY, body ? body : Py_NewRef(Py_None));
    PyTuple_SET_ITEM(t, L_ATTRS, attrs);
    trace = span = event = body = attrs = NULL;
done:
    Py_XDECREF(trace);
    Py_XDECREF(span);
    Py_XDECREF(time);
    Py_XDECREF(observed);
    Py_XDECREF(event);
    Py_XDECREF(body);
    Py_XDECREF(attrs);
    return t;
}

/* [ResourceLogs, ...] -> log tuples appended to `out` */
static int read_resource_logs(Cur *c, PyObject *out) {
    if (expect(c, '[')) return BAIL;
    int first = 1, r;
    while ((r = next_item(c, &first)) == 1) {
        if (expect(c, '{')) return BAIL;
        Py_ssize_t from = PyList_GET_SIZE(out);
        PyObject *resource = NULL;
        int f2 = 1, r2, scope_logs_seen = 0;
        const unsigned char *k;
        Py_ssize_t kn;
        while ((r2 = next_key(c, &f2, &k, &kn)) == 1) {
            if (KEY_IS("resource")) {
                int n;
                if (resource != NULL || (n = is_null(c)) < 0) goto fail;
                if ((resource = n ? PyDict_New() : read_keyvalues_object(c, "attributes")) == NULL) goto fail;
            } else if (KEY_IS("scopeLogs")) {
                if (scope_logs_seen++ || expect(c, '[')) goto fail;
                int f3 = 1, r3;
                while ((r3 = next_item(c, &f3)) == 1) {
                    if (expect(c, '{')) goto fail;
                    int f4 = 1, r4, records_seen = 0, scope_seen = 0;
                    while ((r4 = next_key(c, &f4, &k, &kn)) == 1) {
                        if (KEY_IS("logRecords")) {
                            if (records_seen++ || read_list_into(c, out, read_log_record)) goto fail;
                        } else if (KEY_IS("scope")) {
                            int n;
                            if (scope_seen++ || (n = is_null(c)) < 0) goto fail;
                            if (!n) {
                                PyObject *name = read_scope_name(c);
                                if (name == NULL) goto fail;
                                Py_DECREF(name);
                            }
                        } else if (skip_value(c)) {
                            goto fail;
                        }
                    }
                    if (r4 < 0) goto fail;
                }
                if (r3 < 0) goto fail;
            } else if (skip_value(c)) {
                goto fail;
            }
        }
        if (r2 < 0) goto fail;
        if (resource == NULL && (resource = PyDict_New()) == NULL) goto fail;
        fill_slot(out, from, L_RESOURCE, resource);
        Py_DECREF(resource);
        continue;
    fail:
        Py_XDECREF(resource);
        return BAIL;
    }
    return r < 0 ? BAIL : 0;
}

/* --------------------------------------------------------------------------- protobuf
 *
 * ExportTraceServiceRequest in the protobuf wire format -> the same span tuples, exactly as
 * otlp._emit_proto_traces gives them from the upb-parsed message. Strict: a field with an
 * unexpected wire type, a singular message field seen twice (protobuf would merge them), two
 * members of AnyValue's oneof, invalid UTF-8, a span without valid ids -- the Python path takes
 * the message (and reports what is wrong). Unknown fields are skipped, as protobuf does.
 */

typedef struct {
    const unsigned char *p, *end;
} PB;

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

static int pb_varint(PB *b, uint64_t *out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && b->p < b->end; shift += 7) {
        unsigned char byte = *b->p++;
        if (shift == 63 && byte > 1) return BAIL;
        v |= (uint64_t)(byte & 0x7F) << shift;
        if (!(byte & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return BAIL;
}

/* The next field: its number and wire type; 0 at the end, BAIL on malformed input. */
static int pb_field(PB *b, uint32_t *field, int *wt) {
    if (b->p >= b->end) return 0;
    uint64_t key;
    if (pb_varint(b, &key) || (key >> 3) == 0 || (key >> 3) > 0x1FFFFFFF) return BAIL;
    *field = (uint32_t)(key >> 3);
    *wt = (int)(key & 7);
    return 1;
}

static int pb_len(PB *b, PB *sub) {
    uint64_t n;
    if (pb_varint(b, &n) || n > (uint64_t)(b->end - b->p)) return BAIL;
    sub->p = b->p;
    sub->end = b->p + n;
    b->p += n;
    return 0;
}

static int pb_fixed64(PB *b, uint64_t *out) {
    if (b->end - b->p < 8) return BAIL;
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | b->p[i]; /* little-endian on the wire */
    *out = v;
    b->p += 8;
    return 0;
}

static int pb_skip(PB *b, int wt) {
    uint64_t v;
    PB sub;
    switch (wt) {
    case WT_VARINT: return pb_varint(b, &v);
    case WT_I64:
        if (b->end - b->p < 8) return BAIL;
        b->p += 8;
        return 0;
    case WT_LEN: return pb_len(b, &sub);
    case WT_I32:
        if (b->end - b->p < 4) return BAIL;
        b->p += 4;
        return 0;
    default: return BAIL; /* groups: not in OTLP */
    }
}

static PyObject *pb_str(PB *s) {
    Py_ssize_t n = s->end - s->p;
    for (Py_ssize_t i = 0; i < n; i++)
        if (s->p[i] >= 0x80) {
            PyObject *u = PyUnicode_DecodeUTF8((const char *)s->p, n, "strict");
            if (u == NULL && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) PyErr_Clear();
            return u;
        }
    return ascii_str(s->p, n);
}

/* A string field we do not keep: protobuf still rejects it if it is not UTF-8. */
static int pb_check_str(PB *b, int wt) {
    PB sub;
    PyObject *u;
    if (wt != WT_LEN || pb_len(b, &sub) || (u = pb_str(&sub)) == NULL) return BAIL;
    Py_DECREF(u);
    return 0;
}

static PyObject *hex_of(const unsigned char *p, Py_ssize_t n) {
    static const char digits[] = "0123456789abcdef";
    PyObject *u = PyUnicode_New(2 * n, 127);
    if (u == NULL) return NULL;
    char *o = PyUnicode_DATA(u);
    for (Py_ssize_t i = 0; i < n; i++) {
        o[2 * i] = digits[p[i] >> 4];
        o[2 * i + 1] = digits[p[i] & 15];
    }
    return u;
}

static int all_zero(const unsigned char *p, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

/* bytes_value: standard base64 with padding, as base64.b64encode */
static PyObject *base64_of(const unsigned char *p, Py_ssize_t n) {
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    Py_ssize_t m = 4 * ((n + 2) / 3);
    PyObject *u = PyUnicode_New(m, 127);
    if (u == NULL) return NULL;
    char *o = PyUnicode_DATA(u);
    Py_ssize_t i = 0, j = 0;
    for (; i + 2 < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
        o[j++] = tab[v >> 18];
        o[j++] = tab[(v >> 12) & 63];
        o[j++] = tab[(v >> 6) & 63];
        o[j++] = tab[v & 63];
    }
    if (i < n) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0);
        o[j++] = tab[v >> 18];
        o[j++] = tab[(v >> 12) & 63];
        o[j++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        o[j++] = '=';
    }
    return u;
}

static PyObject *pb_any_value(PB *b, int depth);
static int pb_key_values(PB *b, PyObject *into, int depth);

/* AnyValue: the oneof member that is present (None if none); two present: give up. */
static PyObject *pb_any_value(PB *b, int depth) {
    if (depth > MAX_DEPTH) return NULL;
    PyObject *v = NULL;
    uint32_t f;
    int wt, r;
    while ((r = pb_field(b, &f, &wt)) == 1) {
        if (f >= 1 && f <= 7) {
            if (v != NULL) goto fail;
            uint64_t x;
            PB sub;
            switch (f) {
            case 1: /* string_value */
                if (wt != WT_LEN || pb_len(b, &sub) || (v = pb_str(&sub)) == NULL) goto fail;
                break;
            case 2: /* bool_value */
                if (wt != WT_VARINT || pb_varint(b, &x)) goto fail;
                v = Py_NewRef(x ? Py_True : Py_False);
                break;
            case 3: /* int_value: int64 */
                if (wt != WT_VARINT || pb_varint(b, &x) || (v = PyLong_FromLongLong((long long)(int64_t)x)) == NULL) goto fail;
                break;
            case 4: { /* double_value */
                if (wt != WT_I64 || pb_fixed64(b, &x)) goto fail;
                double d;
                memcpy(&d, &x, 8);
                if ((v = PyFloat_FromDouble(d)) == NULL) goto fail;
                break;
            }
            case 5: { /* array_value */
                if (wt != WT_LEN || pb_len(b, &sub) || (v = PyList_New(0)) == NULL) goto fail;
                int r2;
                while ((r2 = pb_field(&sub, &f, &wt)) == 1) {
                    if (f != 1) {
                        if (pb_skip(&sub, wt)) goto fail;
                        continue;
                    }
                    PB item;
                    if (wt != WT_LEN || pb_len(&sub, &item)) goto fail;
                    PyObject *e = pb_any_value(&item, depth + 1);
                    if (e == NULL) goto fail;
                    int bad = PyList_Append(v, e);
                    Py_DECREF(e);
                    if (bad) goto fail;
                }
                if (r2 < 0) goto fail;
                break;
            }
            case 6: /* kvlist_value */
                if (wt != WT_LEN || pb_len(b, &sub) || (v = PyDict_New()) == NULL || pb_key_values(&sub, v, depth + 1))
                    goto fail;
                break;
            case 7: /* bytes_value */
                if (wt != WT_LEN || pb_len(b, &sub) || (v = base64_of(sub.p, sub.end - sub.p)) == NULL) goto fail;
                break;
            }
        } else if (pb_skip(b, wt)) {
            goto fail;
        }
    }
    if (r < 0) goto fail;
    return v ? v : Py_NewRef(Py_None);
fail:
    Py_XDECREF(v);
    return NULL;
}

/* One KeyValue into a dict (later keys win, as in _pb_attrs). */
static int pb_key_value(PB *b, PyObject *into, int depth) {
    PyObject *key = NULL, *value = NULL;
    uint32_t f;
    int wt, r;
    while ((r = pb_field(b, &f, &wt)) == 1) {
        PB sub;
        if (f == 1) {
            if (key != NULL || wt != WT_LEN || pb_len(b, &sub) || (key = pb_str(&sub)) == NULL) goto fail;
        } else if (f == 2) {
            if (value != NULL || wt != WT_LEN || pb_len(b, &sub) || (value = pb_any_value(&sub, depth + 1)) == NULL) goto fail;
        } else if (pb_skip(b, wt)) {
            goto fail;
        }
    }
    if (r < 0) goto fail;
    if (key == NULL && (key = PyUnicode_New(0, 127)) == NULL) goto fail; /* proto3: absent means "" */
    if (PyDict_SetItem(into, key, value ? value : Py_None)) goto fail;
    Py_DECREF(key);
    Py_XDECREF(value);
    return 0;
fail:
    Py_XDECREF(key);
    Py_XDECREF(value);
    return BAIL;
}

/* Every field-1 KeyValue of a message (attributes; KeyValueList.values) into a dict. */
static int pb_key_values(PB *b, PyObject *into, int depth) {
    uint32_t f;
    int wt, r;
    while ((r = pb_field(b, &f, &wt)) == 1) {
        PB sub;
        if (f != 1) {
            if (pb_skip(b, wt)) return BAIL;
        } else if (wt != WT_LEN || pb_len(b, &sub) || pb_key_value(&sub, into, depth)) {
            return BAIL;
        }
    }
    return r < 0 ? BAIL : 0;
}

/* Resource: 1 attributes (into a dict), 2 dropped count; anything with entity refs (3) goes to
 * the Python path. */
static int pb_resource(PB *b, PyObject *into) {
    uint32_t f;
    int wt, r;
    while ((r = pb_field(b, &f, &wt)) == 1) {
        PB sub;
        if (f == 1) {
            if (wt != WT_LEN || pb_len(b, &sub) || pb_key_value(&sub, into, 0)) return BAIL;
        } else if (f == 3) {
            return BAIL;
        } else if (pb_skip(b, wt)) {
            return BAIL;
        }
    }
    return r < 0 ? BAIL : 0;
}

/* Event -> (name, time_unix_nano, attributes) */
static PyObject *pb_event(PB *b) {
    PyObject *name = NULL, *attrs = PyDict_New();
    uint64_t t = 0;
    int seen_time = 0;
    uint32_t f;
    int wt, r;
    if (attrs == NULL) return NULL;
    while ((r = pb_field(b, &f, &wt)) == 1) {
        PB sub;
        if (f == 1) {
            if (seen_time++ || wt != WT_I64 || pb_fixed64(b, &t)) goto fail;
        } else if (f == 2) {
            if (name != NULL || wt != WT_LEN || pb_len(b, &sub) || (name = pb_str(&sub)) == NULL) goto fail;
        } else if (f == 3) {
            if (wt != WT_LEN || pb_len(b, &sub) || pb_key_value(&sub, attrs, 0)) goto fail;
        } else if (pb_skip(b, wt)) {
            goto fail;
        }
    }
    if (r < 0) goto fail;
    if (name == NULL && (name = PyUnicode_New(0, 127)) == NULL) goto fail;
    PyObject *time = PyLong_FromUnsignedLongLong(t);
    if (time == NULL) goto fail;
    PyObject *ev = PyTuple_Pack(3, name, time, attrs);
    Py_DECREF(time);
    Py_DECREF(name);
    Py_DECREF(attrs);
    return ev;
fail:
    Py_XDECREF(name);
    Py_DECREF(attrs);
    return NULL;
}

/* Span -> the 13-tuple of read_span (resource and scope name filled by the callers). */
static PyObject *pb_span(PB *b) {
    PyObject *f[S_N] = {NULL};
    PB trace = {NULL, NULL}, span = {NULL, NULL}, parent = {NULL, NULL};
    uint64_t start = 0, end = 0, kind = 0, code = 0;
    unsigned seen = 0;
    uint32_t fn;
    int wt, r;
    if ((f[S_ATTRS] = PyDict_New()) == NULL || (f[S_EVENTS] = PyList_New(0)) == NULL) goto fail;
    while ((r = pb_field(b, &fn, &wt)) == 1) {
        PB sub;
        unsigned bit = fn < 32 ? 1u << fn : 0;
        if (bit & ((1u << 1) | (1u << 2) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 7) | (1u << 8) | (1u << 15))) {
            if (seen & bit) goto fail; /* a singular field twice */
            seen |= bit;
        }
        switch (fn) {
        case 1: if (wt != WT_LEN || pb_len(b, &trace)) goto fail; break;
        case 2: if (wt != WT_LEN || pb_len(b, &span)) goto fail; break;
        case 4: if (wt != WT_LEN || pb_len(b, &parent)) goto fail; break;
        case 5: if (wt != WT_LEN || pb_len(b, &sub) || (f[S_NAME] = pb_str(&sub)) == NULL) goto fail; break;
        case 6: if (wt != WT_VARINT || pb_varint(b, &kind)) goto fail; break;
        case 7: if (wt != WT_I64 || pb_fixed64(b, &start)) goto fail; break;
        case 8: if (wt != WT_I64 || pb_fixed64(b, &end)) goto fail; break;
        case 9: if (wt != WT_LEN || pb_len(b, &sub) || pb_key_value(&sub, f[S_ATTRS], 0)) goto fail; break;
        case 11: {
            PyObject *ev;
            if (wt != WT_LEN || pb_len(b, &sub) || (ev = pb_event(&sub)) == NULL) goto fail;
            int bad = PyList_Append(f[S_EVENTS], ev);
            Py_DECREF(ev);
            if (bad) goto fail;
            break;
        }
        case 3: if (pb_check_str(b, wt)) goto fail; break; /* trace_state */
        case 13: goto fail; /* links (strings and attributes of their own): the Python path */
        case 15: { /* Status: 2 message, 3 code */
            if (wt != WT_LEN || pb_len(b, &sub)) goto fail;
            uint32_t sf;
            int swt, sr, seen_code = 0;
            while ((sr = pb_field(&sub, &sf, &swt)) == 1) {
                PB m;
                if (sf == 2) {
                    if (f[S_MESSAGE] != NULL || swt != WT_LEN || pb_len(&sub, &m) || (f[S_MESSAGE] = pb_str(&m)) == NULL)
                        goto fail;
                } else if (sf == 3) {
                    if (seen_code++ || swt != WT_VARINT || pb_varint(&sub, &code)) goto fail;
                } else if (pb_skip(&sub, swt)) {
                    goto fail;
                }
            }
            if (sr < 0) goto fail;
            break;
        }
        default:
            if (pb_skip(b, wt)) goto fail;
        }
    }
    if (r < 0) goto fail;
    /* ids: 16 and 8 bytes, not all zero; anything else is a bad record the Python path reports */
    if (trace.end - trace.p != 16 || span.end - span.p != 8 || all_zero(trace.p, 16) || all_zero(span.p, 8)) goto fail;
    if ((f[S_TRACE] = hex_of(trace.p, 16)) == NULL || (f[S_SPAN] = hex_of(span.p, 8)) == NULL) goto fail;
    Py_ssize_t pn = parent.end - parent.p;
    f[S_PARENT] = (pn == 0 || all_zero(parent.p, pn)) ? Py_NewRef(Py_None) : hex_of(parent.p, pn);
    if (f[S_NAME] == NULL) f[S_NAME] = PyUnicode_New(0, 127);
    f[S_KIND] = PyLong_FromLong((long)(int32_t)kind); /* enum: int32 */
    f[S_START] = PyLong_FromUnsignedLongLong(start);
    f[S_END] = PyLong_FromUnsignedLongLong(end);
    f[S_STATUS] = PyLong_FromLong((long)(int32_t)code);
    if (f[S_MESSAGE] == NULL) f[S_MESSAGE] = PyUnicode_New(0, 127);
    for (int i = 0; i < S_RESOURCE; i++)
        if (f[i] == NULL) goto fail;
    PyObject *t = PyTuple_New(S_N);
    if (t == NULL) goto fail;
    for (int i = 0; i < S_RESOURCE; i++) PyTuple_SET_ITEM(t, i, f[i]);
    return t;
fail:
    for (int i = 0; i < S_N; i++) Py_XDECREF(f[i]);
    return NULL;
}

/* InstrumentationScope -> its name */
static PyObject *pb_scope_name(PB *b) {
    PyObject *name = NULL;
    uint32_t f;
    int wt, r;
    while ((r = pb_field(b, &f, &wt)) == 1) {
        PB sub;
        if (f == 1) {
            if (name != NULL || wt != WT_LEN || pb_len(b, &sub) || (name = pb_str(&sub)) == NULL) goto fail;
        } else if (f == 2) { /* version: a string, validated as protobuf does */
            if (pb_check_str(b, wt)) goto fail;
        } else if (f == 3) { /* the scope's own attributes: validated, not kept */
            PyObject *scratch = PyDict_New();
            int bad = scratch == NULL || wt != WT_LEN || pb_len(b, &sub) || pb_key_value(&sub, scratch, 0);
            Py_XDECREF(scratch);
            if (bad) goto fail;
        } else if (pb_skip(b, wt)) {
            goto fail;
        }
    }
    if (r < 0) goto fail;
    return name ? name : PyUnicode_New(0, 127);
fail:
    Py_XDECREF(name);
    return NULL;
}

/* ResourceSpans -> spans appended to out */
static int pb_resource_spans(PB *b, PyObject *out) {
    Py_ssize_t from = PyList_GET_SIZE(out);
    PyObject *resource = PyDict_New();
    int seen_resource = 0;
    uint32_t f;
    int wt, r;
    if (resource == NULL) return BAIL;
    while ((r = pb_field(b, &f, &wt)) == 1) {
        PB sub;
        if (f == 1) { /* Resource: 1 attributes, 2 dropped count; 3 entity refs: the Python path */
            if (seen_resource++ || wt != WT_LEN || pb_len(b, &sub) || pb_resource(&sub, resource)) goto fail;
        } else if (f == 3) { /* schema_url */
            if (pb_check_str(b, wt)) goto fail;
        } else if (f == 2) { /* ScopeSpans: 1 scope, 2 spans */
            if (wt != WT_LEN || pb_len(b, &sub)) goto fail;
            Py_ssize_t scope_from = PyList_GET_SIZE(out);
            PyObject *scope_name = NULL;
            uint32_t sf;
            int swt, sr;
            while ((sr = pb_field(&sub, &sf, &swt)) == 1) {
                PB m;
                if (sf == 1) {
                    if (scope_name != NULL || swt != WT_LEN || pb_len(&sub, &m) || (scope_name = pb_scope_name(&m)) == NULL)
                        goto scope_fail;
                } else if (sf == 2) {
                    PyObject *sp;
                    if (swt != WT_LEN || pb_len(&sub, &m) || (sp = pb_span(&m)) == NULL) goto scope_fail;
                    int bad = PyList_Append(out, sp);
                    Py_DECREF(sp);
                    if (bad) goto scope_fail;
                } else if (sf == 3) { /* schema_url */
                    if (pb_check_str(&sub, swt)) goto scope_fail;
                } else if (pb_skip(&sub, swt)) {
                    goto scope_fail;
                }
            }
            if (sr < 0 || (scope_name == NULL && (scope_name = PyUnicode_New(0, 127)) == NULL)) goto scope_fail;
            fill_slot(out, scope_from, S_SCOPE, scope_name);
            Py_DECREF(scope_name);
            continue;
        scope_fail:
            Py_XDECREF(scope_name);
            goto fail;
        } else if (pb_skip(b, wt)) {
            goto fail;
        }
    }
    if (r < 0) goto fail;
    fill_slot(out, from, S_RESOURCE, resource);
    Py_DECREF(resource);
    return 0;
fail:
    Py_DECREF(resource);
    return BAIL;
}

static PyObject *decode_trace_protobuf(PyObject *self, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    PB b = {(const unsigned char *)view.buf, (const unsigned char *)view.buf + view.len};
    PyObject *spans = PyList_New(0), *result = NULL;
    int ok = spans != NULL, any = 0;
    uint32_t f;
    int wt, r = 0;
    while (ok && (r = pb_field(&b, &f, &wt)) == 1) {
        PB sub;
        if (f == 1) {
            any = 1;
            ok = wt == WT_LEN && pb_len(&b, &sub) == 0 && pb_resource_spans(&sub, spans) == 0;
        } else {
            ok = pb_skip(&b, wt) == 0;
        }
    }
    ok = ok && r == 0 && any && PyList_GET_SIZE(spans) > 0;
    PyBuffer_Release(&view);
    if (ok) {
        PyObject *logs = PyList_New(0);
        result = logs ? PyTuple_Pack(2, spans, logs) : NULL;
        Py_XDECREF(logs);
    } else if (PyErr_Occurred() && PyErr_ExceptionMatches(PyExc_MemoryError)) {
        result = NULL;
    } else {
        PyErr_Clear();
        result = Py_NewRef(Py_None);
    }
    Py_XDECREF(spans);
    return result;
}

/* --------------------------------------------------------------------------- entry point */

static PyObject *decode_request(PyObject *self, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    Cur c = {(const unsigned char *)view.buf, (const unsigned char *)view.buf + view.len, 0, NULL, 0};
    PyObject *spans = PyList_New(0), *logs = PyList_New(0), *result = NULL;
    int ok = spans != NULL && logs != NULL && expect(&c, '{') == 0;
    int first = 1, r = 0, seen_spans = 0, seen_logs = 0, has_spans = 0, has_logs = 0;
    const unsigned char *k;
    Py_ssize_t kn;
    while (ok && (r = next_key(&c, &first, &k, &kn)) == 1) {
        if (KEY_IS("resourceSpans")) {
            int n;
            if (seen_spans++ || (n = is_null(&c)) < 0) {
                ok = 0;
            } else if (!n) {
                ok = read_resource_spans(&c, spans) == 0;
                has_spans = 1;
            }
        } else if (KEY_IS("resourceLogs")) {
            int n;
            if (seen_logs++ || (n = is_null(&c)) < 0) {
                ok = 0;
            } else if (!n) {
                ok = read_resource_logs(&c, logs) == 0;
                has_logs = 1;
            }
        } else {
            ok = skip_value(&c) == 0;
        }
    }
    ok = ok && r == 0 && (has_spans || has_logs);
    if (ok) {
        ws(&c);
        ok = c.p == c.end; /* nothing after the object */
    }
    PyMem_Free(c.buf);
    PyBuffer_Release(&view);
    if (ok) {
        result = PyTuple_Pack(2, spans, logs);
    } else if (PyErr_Occurred() && PyErr_ExceptionMatches(PyExc_MemoryError)) {
        result = NULL;
    } else {
        PyErr_Clear(); /* anything else: the Python path decodes this line and says what is wrong */
        result = Py_NewRef(Py_None);
    }
    Py_XDECREF(spans);
    Py_XDECREF(logs);
    return result;
}

static PyMethodDef methods[] = {
    {"decode_request", decode_request, METH_O,
     "decode_request(line: bytes) -> (spans, logs) | None\n\n"
     "Decode one OTLP/JSON export request in its canonical encoding; None hands the line to the\n"
     "Python decoder (anything unusual, malformed or bad)."},
    {"decode_trace_protobuf", decode_trace_protobuf, METH_O,
     "decode_trace_protobuf(message: bytes) -> (spans, []) | None\n\n"
     "Decode one ExportTraceServiceRequest in protobuf bytes as otlp._emit_proto_traces does; None\n"
     "hands the message to the Python path (logs requests, anything unusual, bad records)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "otlp", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit_otlp(void) { return PyModule_Create(&module); }
