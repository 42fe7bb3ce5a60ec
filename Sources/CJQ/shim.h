#ifndef CJQ_SHIM_H
#define CJQ_SHIM_H

#include <stdio.h>
#include <jv.h>
#include <jq.h>

#ifdef __linux__
#include <dlfcn.h>

/// glibc's Dl_info, declared here: dlfcn.h shows it (and dladdr) only under _GNU_SOURCE.
typedef struct {
    const char *dli_fname;
    void *dli_fbase;
    const char *dli_sname;
    void *dli_saddr;
} cjq_dl_info;

extern int cjq_dladdr(const void *address, cjq_dl_info *info) __asm__("dladdr");
#endif

/// The path of the libjq file this process loaded, or NULL when it cannot be told.
static inline const char *cjq_library_path(void) {
#ifdef __linux__
    void *symbol = dlsym(dlopen(NULL, RTLD_LAZY), "jq_compile");
    cjq_dl_info info;
    if (symbol != NULL && cjq_dladdr(symbol, &info) != 0) return info.dli_fname;
#endif
    return NULL;
}

#endif
