/* The hot loop of normalize.Mapping.resolve in C: columns whose best source is a plain attribute.
 *
 *   fill_direct(values: list, attrs: dict, resource: dict, direct: tuple, direct_lower: tuple,
 *               first_usable) -> None
 *
 * direct:       ((column index, key, type, candidates), ...): the attribute's value if it already
 *               has the column's type (and is not "", and an int fits int64), else
 *               first_usable(candidates, attrs, resource, {}).
 * direct_lower: ((column index, key, candidates), ...): the value if it is a lower-case str, else
 *               first_usable(...).
 *
 * Exactly `normalize._fill_direct` (the Python version, used when this is not built); every rule
 * that is more than a type test stays in Python, in first_usable.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* str.islower() without a call for ASCII; other strings ask str.islower itself. */
static int is_lower(PyObject *s) {
    if (PyUnicode_IS_ASCII(s)) {
        const unsigned char *p = PyUnicode_DATA(s);
        Py_ssize_t n = PyUnicode_GET_LENGTH(s);
        int cased = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            if (p[i] >= 'A' && p[i] <= 'Z') return 0;
            cased |= p[i] >= 'a' && p[i] <= 'z';
        }
        return cased;
    }
    PyObject *r = PyObject_CallMethod(s, "islower", NULL);
    if (r == NULL) return -1;
    int t = PyObject_IsTrue(r);
    Py_DECREF(r);
    return t;
}

/* Not an int, or an int within int64 (integer columns are int64). */
static int fits_int64(PyObject *v) {
    if (!PyLong_CheckExact(v)) return 1;
    int overflow;
    long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    (void)x;
    return overflow == 0;
}

static PyObject *fallback(PyObject *first_usable, PyObject *candidates, PyObject *attrs, PyObject *resource) {
    PyObject *parsed = PyDict_New();
    if (parsed == NULL) return NULL;
    PyObject *v = PyObject_CallFunctionObjArgs(first_usable, candidates, attrs, resource, parsed, NULL);
    Py_DECREF(parsed);
    return v;
}

static PyObject *lookup(PyObject *attrs, PyObject *key) {
    PyObject *v = PyDict_GetItemWithError(attrs, key); /* borrowed */
    if (v == NULL && !PyErr_Occurred()) PyErr_SetObject(PyExc_KeyError, key);
    return v;
}

/* The column index an entry starts with; -1 (with an error set) if it is not one of `n`. */
static Py_ssize_t column_of(PyObject *entry, Py_ssize_t n) {
    Py_ssize_t col = PyLong_AsSsize_t(PyTuple_GET_ITEM(entry, 0));
    if ((col < 0 || col >= n) && !PyErr_Occurred()) PyErr_SetString(PyExc_IndexError, "column index");
    return col < 0 || col >= n ? -1 : col;
}

static PyObject *fill_direct(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError, "fill_direct takes 6 arguments");
        return NULL;
    }
    PyObject *values = args[0], *attrs = args[1], *resource = args[2], *direct = args[3], *lower = args[4],
             *first_usable = args[5];
    if (!PyList_CheckExact(values) || !PyDict_CheckExact(attrs) || !PyTuple_CheckExact(direct) ||
        !PyTuple_CheckExact(lower)) {
        PyErr_SetString(PyExc_TypeError, "fill_direct(list, dict, dict, tuple, tuple, callable)");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(values);
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(direct); i++) {
        PyObject *entry = PyTuple_GET_ITEM(direct, i);
        Py_ssize_t col = column_of(entry, n);
        PyObject *v = col < 0 ? NULL : lookup(attrs, PyTuple_GET_ITEM(entry, 1));
        if (v == NULL) return NULL;
        /* type(v) is typ and v != "" and (an int column's value fits int64) */
        if (Py_IS_TYPE(v, (PyTypeObject *)PyTuple_GET_ITEM(entry, 2)) &&
            !(PyUnicode_CheckExact(v) && PyUnicode_GET_LENGTH(v) == 0) && fits_int64(v)) {
            Py_INCREF(v);
        } else if ((v = fallback(first_usable, PyTuple_GET_ITEM(entry, 3), attrs, resource)) == NULL) {
            return NULL;
        }
        PyList_SetItem(values, col, v); /* steals v */
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(lower); i++) {
        PyObject *entry = PyTuple_GET_ITEM(lower, i);
        Py_ssize_t col = column_of(entry, n);
        PyObject *v = col < 0 ? NULL : lookup(attrs, PyTuple_GET_ITEM(entry, 1));
        if (v == NULL) return NULL;
        int ok = PyUnicode_CheckExact(v) ? is_lower(v) : 0;
        if (ok < 0) return NULL;
        if (ok) {
            Py_INCREF(v);
        } else if ((v = fallback(first_usable, PyTuple_GET_ITEM(entry, 2), attrs, resource)) == NULL) {
            return NULL;
        }
        PyList_SetItem(values, col, v);
    }
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"fill_direct", (PyCFunction)(void (*)(void))fill_direct, METH_FASTCALL,
     "fill_direct(values, attrs, resource, direct, direct_lower, first_usable) -> None"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "resolve", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit_resolve(void) { return PyModule_Create(&module); }
