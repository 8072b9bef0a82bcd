/* oxvec._fastcall: the hot path of Index.search, one query or a few, in C.
 *
 * Why it exists: a single-query search over a small index costs the engine
 * about 2 us, and ctypes costs more than that around it: packing the
 * request struct, converting and checking the call's arguments, carving
 * the result views, asking numpy for addresses. This module does that
 * work in one C call. It is an optimisation only: oxvec works the same
 * without it (python/oxvec/_fast.py falls back to ctypes when it is
 * missing, fails to import, or OXVEC_NO_FASTCALL is set), and every call
 * it does not take on (returns None) goes the ctypes way.
 *
 * Why it does not link against liboxvec: the engine is loaded by ctypes
 * (_library.py) from wherever OXVEC_LIBRARY or the package says, once.
 * bind() takes the address of that library's oxv_index_search from ctypes
 * and this module calls through it, so both paths reach the same engine
 * and the extension has no load-time dependency of its own.
 *
 * Why the limited API (Py_LIMITED_API 3.9): one abi3 wheel serves every
 * CPython from 3.9 on. The limited API of 3.9 has no buffer protocol, so
 * arrays are read through numpy's __array_struct__ capsule (the array
 * interface's C struct, stable since numpy 1.0): its data pointer, shape,
 * element kind and flags, checked here as Index._search checks them.
 *
 * The GIL is released around the engine call, as for every engine call.
 * A process forked after bind() must not enter the Go runtime, which does
 * not survive fork: a fork handler switches the fast path off in the child,
 * and the ctypes path then raises ForkError. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#ifndef _WIN32
#include <pthread.h>
#endif

#define OXV_NO_PROTOTYPES /* the types only: nothing here links to the engine */
#include "oxvec.h"

typedef int (*search_fn)(const oxv_search_request *, oxv_error *);

/* numpy's PyArrayInterface (numpy/ndarraytypes.h), field for field */
typedef struct {
    int two; /* 2: a sanity check */
    int nd;
    char typekind;
    int itemsize;
    int flags;
    Py_intptr_t *shape;
    Py_intptr_t *strides;
    void *data;
    PyObject *descr;
} array_interface;

#define NPY_C_CONTIGUOUS 0x0001
#define NPY_ALIGNED 0x0100
#define NPY_NOTSWAPPED 0x0200
#define QUERY_FLAGS (NPY_C_CONTIGUOUS | NPY_ALIGNED | NPY_NOTSWAPPED)

/* Set by bind(); the module is used with the GIL held except around the
 * engine call, so these need no lock. */
static search_fn engine_search;
static PyObject *new_slab;     /* () -> (ids int64 array, dist float32 array) */
static PyObject *raise_status; /* (rc, message) -> raises the oxvec error */
static long long long_call_work; /* nq * cost above it: the caller's Ctrl-C path */
static volatile int forked;

/* Output slab: result arrays are views of it, carved with the GIL held
 * (see _call.py's module doc for why a slab: a fresh array per call costs
 * more than the engine's search). */
static PyObject *slab_ids, *slab_dist;
static char *slab_ids_data, *slab_dist_data;
static Py_ssize_t slab_len, slab_used;
static unsigned long slab_gen; /* counts renewals: row views belong to one slab */

/* The slab seen as rows of k results, (slab_len / k, k), for k up to
 * ROW_VIEWS_K, made on first use per slab: a result is then one index or
 * slice of these (row r: results r*k..), where a view of the flat slab
 * would need a reshape per call for (nq, k) results, which costs as much
 * as the rest of the call. Larger k carve the flat slab and reshape. */
#define ROW_VIEWS_K 128
static PyObject *rows_ids[ROW_VIEWS_K + 1], *rows_dist[ROW_VIEWS_K + 1];

static PyObject *str_array_struct;

#define SET_REF(slot, value) \
    do {                             \
        PyObject *old_ = (slot);     \
        (slot) = (value);            \
        Py_XDECREF(old_);            \
    } while (0)

/* *slot = value (a new reference), releasing the old one (Py_XSETREF is
 * not in the limited API of 3.9) */
static void replace(PyObject **slot, PyObject *value) {
    PyObject *old = *slot;
    Py_INCREF(value);
    *slot = value;
    Py_XDECREF(old);
}

#ifndef _WIN32
static void in_forked_child(void) { forked = 1; }
#endif

/* The interface of obj's __array_struct__ capsule (a new reference in
 * *capsule), or NULL without an exception when obj has none. */
static array_interface *interface_of(PyObject *obj, PyObject **capsule) {
    PyObject *c = PyObject_GetAttr(obj, str_array_struct);
    if (c == NULL) {
        PyErr_Clear();
        return NULL;
    }
    array_interface *a = PyCapsule_IsValid(c, NULL) ? (array_interface *)PyCapsule_GetPointer(c, NULL) : NULL;
    if (a == NULL || a->two != 2) {
        PyErr_Clear();
        Py_DECREF(c);
        return NULL;
    }
    *capsule = c;
    return a;
}

/* A fresh slab from new_slab(), its data addresses read as above. */
static int renew_slab(void) {
    PyObject *pair = PyObject_CallObject(new_slab, NULL);
    if (pair == NULL)
        return -1;
    PyObject *ids = NULL, *dist = NULL, *ci = NULL, *cd = NULL;
    if (!PyArg_ParseTuple(pair, "OO", &ids, &dist)) {
        Py_DECREF(pair);
        return -1;
    }
    array_interface *ai = interface_of(ids, &ci), *ad = interface_of(dist, &cd);
    int ok = ai && ad && ai->nd == 1 && ad->nd == 1 && ai->shape[0] == ad->shape[0] && ai->typekind == 'i' &&
             ai->itemsize == 8 && ad->typekind == 'f' && ad->itemsize == 4 && (ai->flags & QUERY_FLAGS) == QUERY_FLAGS &&
             (ad->flags & QUERY_FLAGS) == QUERY_FLAGS;
    if (ok) {
        replace(&slab_ids, ids);
        replace(&slab_dist, dist);
        for (int k = 0; k <= ROW_VIEWS_K; k++) {
            Py_CLEAR(rows_ids[k]);
            Py_CLEAR(rows_dist[k]);
        }
        slab_ids_data = ai->data;
        slab_dist_data = ad->data;
        slab_len = (Py_ssize_t)ai->shape[0];
        slab_used = 0;
        slab_gen++;
    } else {
        PyErr_SetString(PyExc_SystemError, "oxvec._fastcall: new_slab must return C-contiguous int64 and float32 arrays of one length");
    }
    Py_XDECREF(ci);
    Py_XDECREF(cd);
    Py_DECREF(pair);
    return ok ? 0 : -1;
}

/* array[lo:hi], or array[lo] when hi < 0 */
static PyObject *carve(PyObject *array, Py_ssize_t lo, Py_ssize_t hi) {
    PyObject *a = PyLong_FromSsize_t(lo);
    if (a == NULL || hi < 0) {
        PyObject *view = a ? PyObject_GetItem(array, a) : NULL;
        Py_XDECREF(a);
        return view;
    }
    PyObject *b = PyLong_FromSsize_t(hi);
    PyObject *s = b ? PySlice_New(a, b, NULL) : NULL;
    PyObject *view = s ? PyObject_GetItem(array, s) : NULL;
    Py_DECREF(a);
    Py_XDECREF(b);
    Py_XDECREF(s);
    return view;
}

/* flat[:rows * k].reshape(rows, k) for a slab of len values */
static PyObject *row_view(PyObject *flat, Py_ssize_t len, Py_ssize_t k) {
    Py_ssize_t rows = len / k;
    PyObject *head = carve(flat, 0, rows * k);
    PyObject *view = head ? PyObject_CallMethod(head, "reshape", "(nn)", rows, k) : NULL;
    Py_XDECREF(head);
    return view;
}

/* The cached row view *slot of the slab of generation gen, made from flat
 * when missing (a new reference); cached only while that slab is current. */
static PyObject *rows_of(PyObject **slot, PyObject *flat, Py_ssize_t len, Py_ssize_t k, unsigned long gen) {
    PyObject *v = *slot;
    if (v != NULL && gen == slab_gen) {
        Py_INCREF(v);
        return v;
    }
    v = row_view(flat, len, k);
    if (v != NULL && gen == slab_gen && *slot == NULL) {
        Py_INCREF(v);
        *slot = v;
    }
    return v;
}

/* The (ids, dist) views of nq*k results, shape (k,) when single else
 * (nq, k), and their addresses, carved from the slab (a new one when this
 * one is full).
 *
 * The results' place is reserved before anything that can run Python code
 * (an allocation can start the garbage collector, whose finalizers can
 * switch threads, and another thread can then carve or renew): the slab
 * and its row views are held by local references from then on, so a
 * renewal in between changes nothing for this call. */
static int carve_results(long long nq, long long k, int single, PyObject **ids, PyObject **dist, int64_t **out_ids,
                         float **out_dist) {
    Py_ssize_t n = (Py_ssize_t)(nq * k), kk = (Py_ssize_t)k, at;
    int rows = k <= ROW_VIEWS_K;
    for (;;) {
        at = rows ? (slab_used + kk - 1) / kk * kk : slab_used; /* row views: a row starts here */
        if (at + n <= slab_len)
            break;
        if (renew_slab() < 0)
            return -1;
    }
    slab_used = at + n;
    unsigned long gen = slab_gen;
    Py_ssize_t len = slab_len;
    PyObject *flat_ids = slab_ids, *flat_dist = slab_dist;
    Py_INCREF(flat_ids);
    Py_INCREF(flat_dist);
    *out_ids = (int64_t *)(slab_ids_data + 8 * at);
    *out_dist = (float *)(slab_dist_data + 4 * at);

    *ids = *dist = NULL;
    if (rows) {
        PyObject *ri = rows_of(&rows_ids[k], flat_ids, len, kk, gen);
        PyObject *rd = ri ? rows_of(&rows_dist[k], flat_dist, len, kk, gen) : NULL;
        if (rd != NULL) {
            Py_ssize_t r = at / kk, end = single ? -1 : r + (Py_ssize_t)nq;
            *ids = carve(ri, r, end);
            *dist = *ids ? carve(rd, r, end) : NULL;
        }
        Py_XDECREF(ri);
        Py_XDECREF(rd);
    } else {
        *ids = carve(flat_ids, at, at + n);
        *dist = *ids ? carve(flat_dist, at, at + n) : NULL;
        if (*dist && !single) {
            PyObject *i2 = PyObject_CallMethod(*ids, "reshape", "(LL)", nq, k);
            PyObject *d2 = i2 ? PyObject_CallMethod(*dist, "reshape", "(LL)", nq, k) : NULL;
            SET_REF(*ids, i2);
            SET_REF(*dist, d2);
        }
    }
    Py_DECREF(flat_ids);
    Py_DECREF(flat_dist);
    if (*ids == NULL || *dist == NULL) {
        Py_CLEAR(*ids);
        Py_CLEAR(*dist);
        return -1;
    }
    return 0;
}

/* bind(search_address, new_slab, raise_status, long_call_work) */
static PyObject *fc_bind(PyObject *self, PyObject *args) {
    unsigned long long addr;
    PyObject *slab, *raiser;
    long long work;
    (void)self;
    if (!PyArg_ParseTuple(args, "KOOL", &addr, &slab, &raiser, &work))
        return NULL;
    if (!PyCallable_Check(slab) || !PyCallable_Check(raiser)) {
        PyErr_SetString(PyExc_TypeError, "bind: new_slab and raise_status must be callable");
        return NULL;
    }
    replace(&new_slab, slab);
    replace(&raise_status, raiser);
    long_call_work = work;
    if (renew_slab() < 0)
        return NULL;
    engine_search = (search_fn)(uintptr_t)addr;
    Py_RETURN_NONE;
}

/* an int argument as a long long; -1 with an exception for a non-int */
static long long int_arg(PyObject *args, Py_ssize_t i) {
    PyObject *v = PyTuple_GetItem(args, i);
    return v ? PyLong_AsLongLong(v) : -1;
}

/* search(handle, queries, dim, k, ef, nprobe, cost) -> (ids, dist) or None.
 * None: not a call for this path (queries not C-contiguous native float32
 * of shape (dim,) or (nq, dim); no queries; a result too big for the slab;
 * work above long_call_work; not bound; a forked child) - the caller takes
 * its general path. ids and dist have shape (k,) for 1-D queries, else
 * (nq, k). k must be at least 1 and at most the index's size (the caller
 * cuts it), ef and nprobe as oxv_search_request carries them. */
static PyObject *fc_search(PyObject *self, PyObject *args) {
    (void)self;
    /* parsed by hand: PyArg_ParseTuple's format parsing costs more than
     * the rest of this function's Python calls */
    if (PyTuple_Size(args) != 7) {
        PyErr_SetString(PyExc_TypeError, "search takes 7 arguments: handle, queries, dim, k, ef, nprobe, cost");
        return NULL;
    }
    PyObject *h = PyTuple_GetItem(args, 0), *queries = PyTuple_GetItem(args, 1);
    unsigned long long handle = PyLong_AsUnsignedLongLong(h);
    long long dim = int_arg(args, 2), k = int_arg(args, 3), ef = int_arg(args, 4), nprobe = int_arg(args, 5),
              cost = int_arg(args, 6);
    if (PyErr_Occurred())
        return NULL;
    if (engine_search == NULL || forked || handle == 0 || k < 1 || dim < 1 || ef < 0 || ef > INT32_MAX || nprobe < 0 ||
        nprobe > INT32_MAX || cost < 0)
        Py_RETURN_NONE;
    PyObject *capsule = NULL;
    array_interface *q = interface_of(queries, &capsule);
    if (q == NULL)
        Py_RETURN_NONE;
    long long nq = 0;
    int single = q->nd == 1;
    if (q->typekind == 'f' && q->itemsize == 4 && (q->flags & QUERY_FLAGS) == QUERY_FLAGS) {
        if (single && q->shape[0] == dim)
            nq = 1;
        else if (q->nd == 2 && q->shape[1] == dim)
            nq = q->shape[0];
    }
    /* nq * k and nq * cost stay far from overflow: nq is an array length,
     * k and cost are bounded by what an index holds */
    if (nq < 1 || nq * k > slab_len / 4 || nq * cost > long_call_work) {
        Py_DECREF(capsule);
        Py_RETURN_NONE;
    }
    PyObject *ids, *dist;
    int64_t *out_ids;
    float *out_dist;
    if (carve_results(nq, k, single, &ids, &dist, &out_ids, &out_dist) < 0) {
        Py_DECREF(capsule);
        return NULL;
    }

    oxv_search_request req;
    memset(&req, 0, sizeof req);
    req.size = sizeof req;
    req.ef = (int32_t)ef;
    req.nprobe = (int32_t)nprobe;
    req.index = handle;
    req.queries = (const float *)q->data;
    req.nq = nq;
    req.dim = dim;
    req.k = k;
    req.out_ids = out_ids;
    req.out_dist = out_dist;
    oxv_error err;
    err.message[0] = 0;
    int rc;
    /* the capsule holds the query array, ids and dist hold the slab: all
     * stay alive while the engine reads and writes them */
    Py_BEGIN_ALLOW_THREADS
    rc = engine_search(&req, &err);
    Py_END_ALLOW_THREADS
    Py_DECREF(capsule);

    if (rc != 0) {
        Py_DECREF(ids);
        Py_DECREF(dist);
        err.message[sizeof err.message - 1] = 0;
        /* as _call.error_text decodes it */
        PyObject *msg = PyUnicode_DecodeUTF8(err.message, (Py_ssize_t)strlen(err.message), "replace");
        PyObject *r = msg ? PyObject_CallFunction(raise_status, "iN", rc, msg) : NULL;
        if (r != NULL) { /* raise_status must raise */
            Py_DECREF(r);
            PyErr_SetString(PyExc_SystemError, "oxvec._fastcall: raise_status returned");
        }
        return NULL;
    }
    PyObject *out = PyTuple_Pack(2, ids, dist);
    Py_DECREF(ids);
    Py_DECREF(dist);
    return out;
}

static PyMethodDef methods[] = {
    {"bind", fc_bind, METH_VARARGS,
     "bind(search_address, new_slab, raise_status, long_call_work): call the engine's oxv_index_search at "
     "search_address from now on"},
    {"search", fc_search, METH_VARARGS,
     "search(handle, queries, dim, k, ef, nprobe, cost) -> (ids, distances), or None for a call this path "
     "does not take"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_fastcall", "oxvec's single-query search call in C (see _fastcall.c).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__fastcall(void) {
    str_array_struct = PyUnicode_InternFromString("__array_struct__");
    if (str_array_struct == NULL)
        return NULL;
#ifndef _WIN32
    pthread_atfork(NULL, NULL, in_forked_child);
#endif
    return PyModule_Create(&module);
}
