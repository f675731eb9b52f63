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

static void set_bit(char *bits, Py_ssize_t i) { bits[i >> 3] |= (char)(1 << (i & 7)); }

/* The value of a row's column, or NULL (no error set) when the row is not a tuple that long. */
static PyObject *cell(PyObject *rows, Py_ssize_t i, Py_ssize_t col) {
    PyObject *row = PyList_GET_ITEM(rows, i);
    if (!PyTuple_CheckExact(row) || PyTuple_GET_SIZE(row) <= col) return NULL;
    return PyTuple_GET_ITEM(row, col);
}

/* A zeroed bytes object of n bytes, written in place before anyone else sees it. */
static PyObject *zeroed(Py_ssize_t n) {
    PyObject *b = PyBytes_FromStringAndSize(NULL, n);
    if (b != NULL) memset(PyBytes_AS_STRING(b), 0, (size_t)n);
    return b;
}

/* One column; NULL with no error set: give up (the caller falls back to pyarrow). Each buffer is
 * a bytes object of its final size written in place; string columns are measured in a first pass,
 * so their text is copied once (growing a buffer and copying it out cost two more copies). */
static PyObject *build_column(PyObject *rows, Py_ssize_t col, char kind) {
    Py_ssize_t n = PyList_GET_SIZE(rows), nulls = 0, bitmap_len = (n + 7) / 8, total = 0;
    if (kind == 's') {
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *v = cell(rows, i, col);
            if (v == NULL) return NULL;
            if (v == Py_None) continue;
            if (!PyUnicode_CheckExact(v)) return NULL;
            Py_ssize_t len;
            if (PyUnicode_AsUTF8AndSize(v, &len) == NULL) { /* lone surrogates: pyarrow's business */
                PyErr_Clear();
                return NULL;
            }
            total += len;
            if (total > INT32_MAX) return NULL;
        }
    } else if (kind != 'i' && kind != 'f' && kind != 'b') {
        return NULL;
    }
    Py_ssize_t data_len = kind == 's' ? total : kind == 'b' ? bitmap_len : n * 8;
    PyObject *vbytes = zeroed(bitmap_len), *dbytes = zeroed(data_len);
    PyObject *obytes = kind == 's' ? zeroed((n + 1) * 4) : Py_NewRef(Py_None);
    PyObject *result = NULL;
    if (vbytes == NULL || dbytes == NULL || obytes == NULL) goto done;
    char *validity = PyBytes_AS_STRING(vbytes), *data = PyBytes_AS_STRING(dbytes);
    char *offsets = kind == 's' ? PyBytes_AS_STRING(obytes) : NULL;
    Py_ssize_t pos = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *v = cell(rows, i, col);
        if (v == NULL) goto done;
        int present = v != Py_None;
        if (present) set_bit(validity, i);
        else nulls++;
        switch (kind) {
        case 's': {
            if (present) {
                Py_ssize_t len;
                const char *s = PyUnicode_AsUTF8AndSize(v, &len); /* measured above: cannot fail */
                memcpy(data + pos, s, (size_t)len);
                pos += len;
            }
            int32_t end = (int32_t)pos;
            memcpy(offsets + 4 * (i + 1), &end, 4);
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
            memcpy(data + 8 * i, &x, 8);
            break;
        }
        case 'f': {
            double x = 0.0;
            if (present) {
                if (!PyFloat_CheckExact(v)) goto done;
                x = PyFloat_AS_DOUBLE(v);
            }
            memcpy(data + 8 * i, &x, 8);
            break;
        }
        case 'b':
            if (present) {
                if (!PyBool_Check(v)) goto done;
                if (v == Py_True) set_bit(data, i);
            }
            break;
        }
    }
    if (nulls == 0) Py_SETREF(vbytes, Py_NewRef(Py_None));
    result = Py_BuildValue("(OnOO)", vbytes, nulls, obytes, dbytes);
done:
    Py_XDECREF(vbytes);
    Py_XDECREF(obytes);
    Py_XDECREF(dbytes);
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

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "columns", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit_columns(void) { return PyModule_Create(&module); }
