/* delay_proxy: the bench's stand-in for a network with latency (this kernel has no netem).

   delay_proxy ONE_WAY_US LISTEN:UPSTREAM [LISTEN:UPSTREAM ...]

   For every pair, accepts on 127.0.0.1:LISTEN and forwards to 127.0.0.1:UPSTREAM, holding every
   chunk (and the end of each direction) ONE_WAY_US microseconds before passing it on, in order.
   Prints "ready" when every port listens; exits on SIGTERM. Loopback only, by construction.

   Same behaviour as the asyncio proxy in ssh_fanout.py, for a fraction of its CPU: a real
   network's latency costs the machines at both ends nothing, and here the proxy shares the two
   cores with every host and the client being measured. One thread, epoll; since every chunk is
   held for the same time, one FIFO in arrival order is also the order they fall due. Ends are
   never freed (a chunk may still point at one): a bench run opens a few thousand connections. */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct end {
    int fd;
    struct end *peer;
    int connected, closed, watched;
    int read_eof;      /* this end sent its EOF (or failed): nothing more to read from it */
    int write_eof;     /* the peer's EOF has been passed on: SHUT_WR done on this end */
    int eof_pending;   /* the peer's EOF is due, after `out` drains */
    char *out;         /* due bytes not yet written (the socket was full) */
    size_t out_len, out_cap;
} end;

typedef struct chunk {
    struct chunk *next;
    uint64_t due;
    end *to;
    size_t len;        /* 0: the end of the stream */
    char data[];
} chunk;

typedef struct { int fd; int upstream; } listener;

static int ep;
static uint64_t one_way;
static chunk *head, *tail;
static listener *listeners;
static int n_listeners;

static uint64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void watch(end *e, int op, uint32_t events) {
    struct epoll_event ev = {.events = events, .data.ptr = e};
    epoll_ctl(ep, op, e->fd, &ev);
}

static void close_end(end *e) {
    if (e->closed) return;
    e->closed = 1;
    if (e->watched) epoll_ctl(ep, EPOLL_CTL_DEL, e->fd, NULL);
    close(e->fd);
    free(e->out);
    e->out = NULL;
    e->out_len = e->out_cap = 0;
}

static void close_pair(end *e) {
    close_end(e);
    close_end(e->peer);
}

static void maybe_done(end *e) {
    end *p = e->peer;
    if (e->read_eof && p->read_eof && e->write_eof && p->write_eof) close_pair(e);
}

static void events_for(end *e) {
    if (e->closed) return;
    uint32_t ev = 0;
    if (!e->read_eof) ev |= EPOLLIN;
    if (!e->connected || e->out_len) ev |= EPOLLOUT;
    if (!ev) {  /* unwatched, or a shut-down socket would report EPOLLHUP on every wait */
        if (e->watched) epoll_ctl(ep, EPOLL_CTL_DEL, e->fd, NULL);
        e->watched = 0;
        return;
    }
    watch(e, e->watched ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, ev);
    e->watched = 1;
}

static void flush(end *e) {
    if (e->closed || !e->connected) return;
    while (e->out_len) {
        ssize_t n = send(e->fd, e->out, e->out_len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            close_pair(e);
            return;
        }
        memmove(e->out, e->out + n, e->out_len - (size_t)n);
        e->out_len -= (size_t)n;
    }
    if (!e->out_len && e->eof_pending && !e->write_eof) {
        shutdown(e->fd, SHUT_WR);
        e->write_eof = 1;
        maybe_done(e);
    }
    events_for(e);
}

static void enqueue(end *to, const char *data, size_t len) {
    chunk *c = malloc(sizeof(chunk) + len);
    if (!c) { perror("malloc"); exit(1); }
    c->next = NULL;
    c->due = now_us() + one_way;
    c->to = to;
    c->len = len;
    if (len) memcpy(c->data, data, len);
    if (tail) tail->next = c; else head = c;
    tail = c;
}

static void deliver(chunk *c) {
    end *e = c->to;
    if (e->closed) return;
    if (!c->len) {
        e->eof_pending = 1;
    } else {
        if (e->out_len + c->len > e->out_cap) {
            size_t cap = e->out_cap ? e->out_cap : 65536;
            while (cap < e->out_len + c->len) cap *= 2;
            char *grown = realloc(e->out, cap);
            if (!grown) { perror("realloc"); exit(1); }
            e->out = grown;
            e->out_cap = cap;
        }
        memcpy(e->out + e->out_len, c->data, c->len);
        e->out_len += c->len;
    }
    flush(e);
}

static void readable(end *e) {
    char buf[65536];
    for (;;) {
        ssize_t n = recv(e->fd, buf, sizeof buf, 0);
        if (n > 0) {
            enqueue(e->peer, buf, (size_t)n);
            if ((size_t)n < sizeof buf) return;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        /* EOF or an error: the peer gets its end of stream, in order, after the data before it */
        e->read_eof = 1;
        enqueue(e->peer, NULL, 0);
        events_for(e);
        maybe_done(e);
        return;
    }
}

static end *new_end(int fd, int connected) {
    end *e = calloc(1, sizeof(end));
    if (!e) { perror("calloc"); exit(1); }
    e->fd = fd;
    e->connected = connected;
    return e;
}

static void accept_from(listener *l) {
    for (;;) {
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE) {  /* the listener would stay ready: a spin, not a bench */
                perror("delay_proxy: accept (raise ulimit -n)");
                exit(1);
            }
            return;
        }
        int up = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)l->upstream),
                                   .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(up, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(up, (struct sockaddr *)&addr, sizeof addr) < 0 && errno != EINPROGRESS) {
            close(up);
            close(fd);
            continue;
        }
        end *a = new_end(fd, 1), *b = new_end(up, 0);
        a->peer = b;
        b->peer = a;
        events_for(a);
        events_for(b);
    }
}

static void writable(end *e) {
    if (!e->connected) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(e->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) { close_pair(e); return; }
        e->connected = 1;
    }
    flush(e);
}

static void on_term(int sig) { (void)sig; _exit(0); }

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s ONE_WAY_US LISTEN:UPSTREAM ...\n", argv[0]);
        return 2;
    }
    signal(SIGTERM, on_term);
    signal(SIGPIPE, SIG_IGN);
    one_way = strtoull(argv[1], NULL, 10);
    ep = epoll_create1(EPOLL_CLOEXEC);
    n_listeners = argc - 2;
    listeners = calloc((size_t)n_listeners, sizeof(listener));
    for (int i = 0; i < n_listeners; i++) {
        int listen_port, upstream;
        if (sscanf(argv[i + 2], "%d:%d", &listen_port, &upstream) != 2) {
            fprintf(stderr, "bad pair %s\n", argv[i + 2]);
            return 2;
        }
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)listen_port),
                                   .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, 1024) < 0) {
            perror("listen");
            return 1;
        }
        listeners[i].fd = fd;
        listeners[i].upstream = upstream;
        /* listeners are told apart from ends by address: they live in `listeners` */
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &listeners[i]};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
    printf("ready\n");
    fflush(stdout);

    struct epoll_event events[256];
    for (;;) {
        int timeout = -1;
        if (head) {
            uint64_t now = now_us();
            timeout = head->due <= now ? 0 : (int)((head->due - now + 999) / 1000);
        }
        int n = epoll_wait(ep, events, 256, timeout);
        for (int i = 0; i < n; i++) {
            void *p = events[i].data.ptr;
            if (p >= (void *)listeners && p < (void *)(listeners + n_listeners)) {
                accept_from(p);
                continue;
            }
            end *e = p;
            if (e->closed) continue;
            if (events[i].events & (EPOLLOUT | EPOLLERR)) writable(e);
            if (!e->closed && !e->read_eof && events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) readable(e);
        }
        uint64_t now = now_us();
        while (head && head->due <= now) {
            chunk *c = head;
            head = c->next;
            if (!head) tail = NULL;
            deliver(c);
            free(c);
        }
    }
}
