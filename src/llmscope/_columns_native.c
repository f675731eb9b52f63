/* Rows of Python values -> Arrow column buffers, for normalize.Batch.span_record_batch.
 *
 *   build_columns(rows: list[tuple], kinds: str) -> list[(validity, null_count, offsets, data)] | None
 *
 * kinds has one letter per column: 's' UTF-8 string (str or None), 'i' int64 (int or None),
 * 'f' float64 (float or None), 'b' bool (bool or None). validity is None when the column has no
 * nulls; offsets (int32) only for strings; bool data is a bitmap. Any other value -- a type the
 * column does not expect, an int beyond int64, a str that is not valid UTF-8, more than 2 GB of
 * text in a column -- returns None and the caller builds the batch with pyarrow from the same
 * rows (and meets the same error, if it is one). The caller wraps the buffers with
 * pyarrow.Array.from_buffers; tests compare the result with pyarrow's own conversion.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    char *p;
    Py_ssize_t len, cap;
} Buf;

static int buf_reserve(Buf *b, Py_ssize_t extra) {
    if (b->len + extra <= b->cap) return 0;
    Py_ssize_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra) cap *= 2;
    char *np = PyMem_Realloc(b->p, (size_t)cap);
    if (np == NULL) return -1;
    b->p = np;
    b->cap = cap;
    return 0;
}

static PyObject *buf_bytes(Buf *b) { return PyBytes_FromStringAndSize(b->p ? b->p : "", b->len); }

static void set_bit(char *bits, Py_ssize_t i) { bits[i >> 3] |= (char)(1 << (i & 7)); }

/* One column; NULL with no error set: give up (the caller falls back to pyarrow). */
static PyObject *build_column(PyObject *rows, Py_ssize_t col, char kind) {
    Py_ssize_t n = PyList_GET_SIZE(rows), nulls = 0, bitmap_len = (n + 7) / 8;
    Buf data = {0}, offsets = {0};
    char *validity = PyMem_Calloc((size_t)(bitmap_len ? bitmap_len : 1), 1);
    PyObject *result = NULL;
    if (validity == NULL) return PyErr_NoMemory();
    Py_ssize_t width = kind == 'i' || kind == 'f' ? 8 : 0;
    if (width && buf_reserve(&data, n * width)) goto done;
    if (kind == 'b') {
        if (buf_reserve(&data, bitmap_len ? bitmap_len : 1)) goto done;
        memset(data.p, 0, (size_t)(bitmap_len ? bitmap_len : 1));
        data.len = bitmap_len;
    }
    if (kind == 's') {
        if (buf_reserve(&offsets, (n + 1) * 4)) goto done;
        memset(offsets.p, 0, 4);
        offsets.len = 4;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *row = PyList_GET_ITEM(rows, i);
        if (!PyTuple_CheckExact(row) || PyTuple_GET_SIZE(row) <= col) goto done;
        PyObject *v = PyTuple_GET_ITEM(row, col);
        int present = v != Py_None;
        if (present) set_bit(validity, i);
        else nulls++;
        switch (kind) {
        case 's': {
            if (present) {
                if (!PyUnicode_CheckExact(v)) goto done;
                Py_ssize_t len;
                const char *s = PyUnicode_AsUTF8AndSize(v, &len);
                if (s == NULL) { /* lone surrogates: pyarrow's business */
                    PyErr_Clear();
                    goto done;
                }
                if (data.len + len > INT32_MAX || buf_reserve(&data, len)) goto done;
                memcpy(data.p + data.len, s, (size_t)len);
                data.len += len;
            }
            int32_t end = (int32_t)data.len;
            memcpy(offsets.p + offsets.len, &end, 4);
            offsets.len += 4;
            break;
        }
        case 'i': {
            int64_t x = 0;
            if (present) {
                if (!PyLong_CheckExact(v)) goto done; /* bool is not an int column's value */
                int overflow;
                long long ll = PyLong_AsLongLongAndOverflow(v, &overflow);
                if (overflow || (ll == -1 && PyErr_Occurred())) {
                    PyErr_Clear();
                    goto done;
                }
                x = (int64_t)ll;
            }
            memcpy(data.p + data.len, &x, 8);
            data.len += 8;
            break;
        }
        case 'f': {
            double x = 0.0;
            if (present) {
                if (!PyFloat_CheckExact(v)) goto done;
                x = PyFloat_AS_DOUBLE(v);
            }
            memcpy(data.p + data.len, &x, 8);
            data.len += 8;
            break;
        }
        case 'b':
            if (present) {
                if (!PyBool_Check(v)) goto done;
                if (v == Py_True) set_bit(data.p, i);
            }
            break;
        default:
            goto done;
        }
    }
    {
        PyObject *vbytes = nulls ? PyBytes_FromStringAndSize(validity, bitmap_len) : Py_NewRef(Py_None);
        PyObject *obytes = kind == 's' ? buf_bytes(&offsets) : Py_NewRef(Py_None);
        PyObject *dbytes = buf_bytes(&data);
        if (vbytes && obytes && dbytes) result = Py_BuildValue("(OnOO)", vbytes, nulls, obytes, dbytes);
        Py_XDECREF(vbytes);
        Py_XDECREF(obytes);
        Py_XDECREF(dbytes);
    }
done:
    PyMem_Free(validity);
    PyMem_Free(data.p);
    PyMem_Free(offsets.p);
    return result;
}

static PyObject *build_columns(PyObject *self, PyObject *args) {
    PyObject *rows;
    const char *kinds;
    Py_ssize_t ncols;
    if (!PyArg_ParseTuple(args, "O!s#", &PyList_Type, &rows, &kinds, &ncols)) return NULL;
    PyObject *out = PyList_New(ncols);
    if (out == NULL) return NULL;
    for (Py_ssize_t c = 0; c < ncols; c++) {
        PyObject *col = build_column(rows, c, kinds[c]);
        if (col == NULL) {
            Py_DECREF(out);
            if (PyErr_Occurred()) return NULL; /* out of memory */
            Py_RETURN_NONE;
        }
        PyList_SET_ITEM(out, c, col);
    }
    return out;
}

static PyMethodDef methods[] = {
    {"build_columns", build_columns, METH_VARARGS,
     "build_columns(rows, kinds) -> [(validity, null_count, offsets, data)] | None"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_columns_native", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__columns_native(void) { return PyModule_Create(&module); }
