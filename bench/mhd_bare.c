/* A bare libmicrohttpd server with the same settings as the Swift HTTPServer (thread pool
 * over epoll) answering GET /bench with {"ok":true}: the baseline for `make bench`.
 * Usage: mhd_bare PORT THREADS. Runs until SIGINT or SIGTERM. */
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char body[] = "{\"ok\":true}";

static enum MHD_Result answer(void *cls, struct MHD_Connection *connection, const char *url, const char *method,
                              const char *version, const char *upload_data, size_t *upload_data_size,
                              void **request_context) {
    (void)cls; (void)version; (void)upload_data; (void)upload_data_size;
    /* libmicrohttpd's canonical pattern: answer on the second call, once the request has been
     * read. Answering on the first call makes it close the connection after every response. */
    static int marker;
    if (*request_context != &marker) {
        *request_context = &marker;
        return MHD_YES;
    }
    int found = strcmp(method, "GET") == 0 && strcmp(url, "/bench") == 0;
    struct MHD_Response *response = MHD_create_response_from_buffer(
        found ? strlen(body) : 0, (void *)body, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(response, "Content-Type", "application/json");
    enum MHD_Result result = MHD_queue_response(connection, found ? 200 : 404, response);
    MHD_destroy_response(response);
    return result;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s PORT THREADS\n", argv[0]);
        return 2;
    }
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    struct MHD_Daemon *daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, (uint16_t)atoi(argv[1]), NULL, NULL, answer, NULL,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)atoi(argv[2]), MHD_OPTION_CONNECTION_LIMIT, 1024u,
        MHD_OPTION_END);
    if (daemon == NULL) {
        fprintf(stderr, "cannot listen on port %s\n", argv[1]);
        return 1;
    }
    printf("listening on http://127.0.0.1:%s/bench\n", argv[1]);
    fflush(stdout);
    int received;
    sigwait(&signals, &received);
    MHD_stop_daemon(daemon);
    return 0;
}
