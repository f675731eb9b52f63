/* The hot loops of the injection classifier (safety/classifier.py) in C.
 *
 *   ascii_tokens(text: str) -> list[str] | None
 *       classifier.tokens(text) for an ASCII text holding no "://", "www." or "@" (so normalize()
 *       replaces no link): runs of ASCII letters and digits, lower-cased, every digit "0". None for
 *       any other text (the Python tokenizer handles it).
 *
 *   best_window(toks: list[str], vocab: dict, uni: list[float], pre: dict, bi: dict, m: int,
 *               bias: float, window: int, stride: int) -> (logit, start, end)
 *       Model.best_window: the same position weights, the same additions in the same order (so the
 *       same doubles), the first of equal windows.
 *
 *   words_in(data: bytes, table: bytes, words: frozenset, max_len: int, first: bool) -> frozenset
 *       words.intersection(data.translate(table).split()) -- the words of the text (runs of bytes the
 *       table maps to anything but ASCII whitespace) that are in `words`, with no list of all of them
 *       made; words longer than max_len (the longest in `words`) are not looked up. first=True: stop at
 *       the first one found (for `not words.isdisjoint(...)`).
 *
 * Exactly the Python code they stand in for (tests/test_native_classify.py compares both); used when built.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

static PyObject *ascii_tokens(PyObject *self, PyObject *arg) {
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "ascii_tokens() needs a str");
        return NULL;
    }
    if (!PyUnicode_IS_ASCII(arg)) Py_RETURN_NONE;
    const unsigned char *p = PyUnicode_DATA(arg);
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg);
    if (memchr(p, '@', n) != NULL) Py_RETURN_NONE;
    for (Py_ssize_t i = 0; i + 2 < n; i++) {
        if (p[i] == ':' && p[i + 1] == '/' && p[i + 2] == '/') Py_RETURN_NONE;
        if (i + 3 < n && (p[i] | 32) == 'w' && (p[i + 1] | 32) == 'w' && (p[i + 2] | 32) == 'w' && p[i + 3] == '.')
            Py_RETURN_NONE;
    }
    PyObject *out = PyList_New(0);
    if (out == NULL) return NULL;
    char buf[256];
    Py_ssize_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        int word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!word) {
            i++;
            continue;
        }
        Py_ssize_t a = i;
        while (i < n) {
            c = p[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) break;
            i++;
        }
        Py_ssize_t len = i - a;
        char *dst = len <= (Py_ssize_t)sizeof buf ? buf : PyMem_Malloc(len);
        if (dst == NULL) {
            Py_DECREF(out);
            return PyErr_NoMemory();
        }
        for (Py_ssize_t k = 0; k < len; k++) {
            c = p[a + k];
            dst[k] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : (c >= '0' && c <= '9') ? '0' : (char)c;
        }
        PyObject *tok = PyUnicode_FromStringAndSize(dst, len);
        if (dst != buf) PyMem_Free(dst);
        if (tok == NULL || PyList_Append(out, tok) < 0) {
            Py_XDECREF(tok);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(tok);
    }
    return out;
}

/* dict.get(key, 0.0) as a double; -1 with an error set if the value is not a float. */
static int get_double(PyObject *d, PyObject *key, double *v) {
    PyObject *x = PyDict_GetItemWithError(d, key); /* borrowed */
    if (x == NULL) {
        if (PyErr_Occurred()) return -1;
        *v = 0.0;
        return 0;
    }
    *v = PyFloat_AsDouble(x);
    return (*v == -1.0 && PyErr_Occurred()) ? -1 : 0;
}

/* Position weights (w: unigram + prefix, plus the bigram ending there; bw: that bigram's weight). */
static int weights(PyObject *toks, Py_ssize_t n, PyObject *vocab, PyObject *uni, PyObject *pre, PyObject *bi,
                   long long m, double *w, double *bw) {
    long long prev = 0;
    Py_ssize_t n_uni = PyList_GET_SIZE(uni);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *t = PyList_GET_ITEM(toks, i);
        long long id = 0;
        PyObject *x = PyDict_GetItemWithError(vocab, t);
        if (x == NULL && PyErr_Occurred()) return -1;
        if (x != NULL) {
            id = PyLong_AsLongLong(x);
            if (id == -1 && PyErr_Occurred()) return -1;
        }
        if (id < 0 || id >= n_uni) {
            PyErr_SetString(PyExc_IndexError, "token id outside the unigram weights");
            return -1;
        }
        double u = PyFloat_AsDouble(PyList_GET_ITEM(uni, id));
        if (u == -1.0 && PyErr_Occurred()) return -1;
        PyObject *pfx = PyUnicode_Substring(t, 0, 5);
        if (pfx == NULL) return -1;
        double pw;
        int rc = get_double(pre, pfx, &pw);
        Py_DECREF(pfx);
        if (rc < 0) return -1;
        w[i] = u + pw;
        bw[i] = 0.0;
        if (i > 0) {
            PyObject *key = PyLong_FromLongLong(prev * m + id);
            if (key == NULL) return -1;
            rc = get_double(bi, key, &bw[i]);
            Py_DECREF(key);
            if (rc < 0) return -1;
            w[i] = w[i] + bw[i];
        }
        prev = id;
    }
    return 0;
}

static PyObject *best_window(PyObject *self, PyObject *args) {
    PyObject *toks, *vocab, *uni, *pre, *bi;
    long long m;
    double bias;
    Py_ssize_t window, stride;
    if (!PyArg_ParseTuple(args, "O!O!O!O!O!Ldnn", &PyList_Type, &toks, &PyDict_Type, &vocab, &PyList_Type, &uni,
                          &PyDict_Type, &pre, &PyDict_Type, &bi, &m, &bias, &window, &stride))
        return NULL;
    if (window < 1 || stride < 1) {
        PyErr_SetString(PyExc_ValueError, "window and stride must be positive");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(toks);
    if (n == 0) return Py_BuildValue("(dnn)", bias, (Py_ssize_t)0, (Py_ssize_t)0);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (!PyUnicode_CheckExact(PyList_GET_ITEM(toks, i))) {
            PyErr_SetString(PyExc_TypeError, "tokens must be str");
            return NULL;
        }
    }
    double *w = PyMem_Malloc(sizeof(double) * (size_t)(2 * n + 1));
    if (w == NULL) return PyErr_NoMemory();
    double *bw = w + n;
    PyObject *res = NULL;
    if (weights(toks, n, vocab, uni, pre, bi, m, w, bw) < 0) goto done;
    if (n <= window) {
        double s = 0.0; /* sum(w): left to right from 0 */
        for (Py_ssize_t i = 0; i < n; i++) s = s + w[i];
        res = Py_BuildValue("(dnn)", bias + s, (Py_ssize_t)0, n);
        goto done;
    }
    /* prefix sums (accumulate(w, initial=0.0)), in place of w shifted by one: cs[k] */
    double *cs = PyMem_Malloc(sizeof(double) * (size_t)(n + 1));
    if (cs == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    cs[0] = 0.0;
    for (Py_ssize_t i = 0; i < n; i++) cs[i + 1] = cs[i] + w[i];
    Py_ssize_t last = n - window, best_s = 0;
    double best = 0.0;
    int have = 0;
    for (Py_ssize_t s = 0;; s += stride) {
        if (s > last) {
            if (s - stride == last) break; /* the last start was n - window already */
            s = last;
        }
        double v = cs[s + window] - cs[s] - bw[s];
        if (!have || v > best) {
            best = v;
            best_s = s;
            have = 1;
        }
        if (s == last) break;
    }
    PyMem_Free(cs);
    res = Py_BuildValue("(dnn)", bias + best, best_s, best_s + window);
done:
    PyMem_Free(w);
    return res;
}

static int is_space(unsigned char c) { return c == ' ' || (c >= 9 && c <= 13); }

static PyObject *words_in(PyObject *self, PyObject *args) {
    Py_buffer data, table;
    PyObject *words;
    Py_ssize_t max_len;
    int first;
    if (!PyArg_ParseTuple(args, "y*y*O!np", &data, &table, &PyFrozenSet_Type, &words, &max_len, &first)) return NULL;
    PyObject *found = NULL;
    if (table.len != 256) {
        PyErr_SetString(PyExc_ValueError, "the table must be 256 bytes");
        goto done;
    }
    found = PySet_New(NULL);
    if (found == NULL) goto done;
    const unsigned char *p = data.buf, *map = table.buf;
    Py_ssize_t n = data.len, i = 0;
    while (i < n) {
        if (is_space(map[p[i]])) {
            i++;
            continue;
        }
        Py_ssize_t a = i;
        while (i < n && !is_space(map[p[i]])) i++;
        Py_ssize_t len = i - a;
        if (len > max_len) continue;
        PyObject *w = PyBytes_FromStringAndSize(NULL, len);
        if (w == NULL) goto fail;
        char *dst = PyBytes_AS_STRING(w);
        for (Py_ssize_t k = 0; k < len; k++) dst[k] = (char)map[p[a + k]];
        int has = PySet_Contains(words, w);
        if (has == 1 && PySet_Add(found, w) < 0) has = -1;
        Py_DECREF(w);
        if (has < 0) goto fail;
        if (has && first) break;
    }
    PyObject *frozen = PyFrozenSet_New(found);
    Py_DECREF(found);
    found = frozen;
    goto done;
fail:
    Py_CLEAR(found);
done:
    PyBuffer_Release(&data);
    PyBuffer_Release(&table);
    return found;
}

static PyMethodDef methods[] = {
    {"ascii_tokens", ascii_tokens, METH_O, "classifier.tokens for ASCII text without links (else None)"},
    {"best_window", best_window, METH_VARARGS, "Model.best_window"},
    {"words_in", words_in, METH_VARARGS, "words.intersection(data.translate(table).split())"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "classify", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit_classify(void) { return PyModule_Create(&module); }
