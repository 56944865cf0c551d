/* scaleplan._scaleplan: the CPython face of libscaleplan.
 *
 * One function, call(data_dir, command, request_json) -> (status, text): it hands the request to sp_call, the
 * library's single entry point (src/call.c), which builds the same JSON result the CLI prints for --json. On
 * success text is that JSON; on failure it is the one-line message the CLI prints, and status the sp_status
 * code (scaleplan/__init__.py turns it into an exception). The GIL is released while the library works: a
 * search or a sweep in one Python thread does not stop the others, and the library keeps no mutable global
 * state, so calls from several threads run at once. Why an extension and not cffi: docs/python.md.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdlib.h>

#include "scaleplan.h"

static PyObject *py_call(PyObject *self, PyObject *args)
{
    (void)self;
    const char *data_dir, *command, *request;
    if (!PyArg_ParseTuple(args, "sss", &data_dir, &command, &request))
        return NULL;
    char *out = NULL;
    sp_error err = {0};
    sp_status st;
    /* the three strings belong to `args`, which the caller holds for the whole call */
    Py_BEGIN_ALLOW_THREADS
    st = sp_call(data_dir, command, request, &out, &err);
    Py_END_ALLOW_THREADS
    PyObject *r;
    if (st == SP_OK)
        r = Py_BuildValue("(is)", 0, out ? out : "null");
    else
        r = Py_BuildValue("(is)", (int)st, err.msg);
    free(out);
    return r;
}

static PyObject *py_version(PyObject *self, PyObject *args)
{
    (void)self, (void)args;
    return PyUnicode_FromString(SP_VERSION);
}

static PyMethodDef methods[] = {
    {"call", py_call, METH_VARARGS,
     "call(data_dir, command, request_json) -> (status, text): run one scaleplan command in the library"},
    {"version", py_version, METH_NOARGS, "version() -> the library's version string"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_scaleplan", "libscaleplan, bound directly", -1,
                                    methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__scaleplan(void) { return PyModule_Create(&module); }
