#ifndef CMICROHTTPD_SHIM_H
#define CMICROHTTPD_SHIM_H

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <microhttpd.h>

static inline int cmhd_hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/// libmicrohttpd's unescaping of paths and query arguments, except that `%2F` (a slash
/// inside a path segment), `%25` (a percent sign) and `%00` stay escaped: a router that
/// splits the path on "/" must not see a slash that was data, and Swift decodes these last
/// two escapes itself once the path is split (so that "%252F" is the text "%2F").
static inline size_t cmhd_unescape_keeping_separators(void *cls, struct MHD_Connection *connection, char *value) {
    (void)cls;
    (void)connection;
    char *read = value;
    char *write = value;
    while (*read != 0) {
        if (read[0] == '%' && cmhd_hex_value(read[1]) >= 0 && cmhd_hex_value(read[2]) >= 0) {
            int decoded = cmhd_hex_value(read[1]) * 16 + cmhd_hex_value(read[2]);
            if (decoded == '/' || decoded == '%' || decoded == 0) {
                write[0] = read[0];
                write[1] = read[1];
                write[2] = read[2];
                write += 3;
            } else {
                *write++ = (char)decoded;
            }
            read += 3;
            continue;
        }
        *write++ = *read++;
    }
    *write = 0;
    return (size_t)(write - value);
}

/// MHD_start_daemon is variadic and cannot be called from Swift. This fixed-arity form
/// starts an internally threaded daemon (a thread pool over poll) that allows
/// suspend/resume, so request handlers may finish on other threads.
///
/// Not epoll: with a thread pool over epoll, MHD_quiesce_daemon (0.9.75) removes the listen
/// socket from each worker's epoll set while the worker, seeing `was_quiesced`, removes it
/// too; whichever comes second gets ENOENT and MHD_PANIC aborts the process ("Failed to
/// remove listen FD from epoll set", seen once in the ASAN suite). Over poll, quiescing only
/// wakes the workers through their inter-thread channel (which suspend/resume already
/// requires), and they drop the listen socket from their own poll sets.
static inline struct MHD_Daemon *cmhd_start_daemon(uint16_t port, const struct sockaddr *bind_address,
                                                   unsigned int thread_pool_size,
                                                   unsigned int connection_limit,
                                                   unsigned int connection_timeout_seconds,
                                                   MHD_AccessHandlerCallback handler, void *handler_cls,
                                                   MHD_RequestCompletedCallback completed, void *completed_cls) {
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_ALLOW_SUSPEND_RESUME;
    if (MHD_is_feature_supported(MHD_FEATURE_POLL) == MHD_YES) {
        flags |= MHD_USE_POLL;
    }
    return MHD_start_daemon(flags, port, NULL, NULL, handler, handler_cls,
                            MHD_OPTION_SOCK_ADDR, bind_address,
                            MHD_OPTION_THREAD_POOL_SIZE, thread_pool_size,
                            MHD_OPTION_CONNECTION_LIMIT, connection_limit,
                            MHD_OPTION_CONNECTION_TIMEOUT, connection_timeout_seconds,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, completed_cls,
                            MHD_OPTION_UNESCAPE_CALLBACK, cmhd_unescape_keeping_separators, NULL,
                            MHD_OPTION_END);
}

/// The port the daemon is bound to (the real one when it was started on port 0), or 0.
static inline uint16_t cmhd_bound_port(struct MHD_Daemon *daemon) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info == NULL ? 0 : info->port;
}

/// The number of connections the daemon holds open right now.
static inline unsigned int cmhd_current_connections(struct MHD_Daemon *daemon) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return info == NULL ? 0 : info->num_connections;
}

#endif
