#ifndef CODERDNS_CLIBEVENT_SHIM_H
#define CODERDNS_CLIBEVENT_SHIM_H
// libevent's event2/event-config.h defines _GNU_SOURCE; these system headers must come first
// or the module fails to build with an `fd_set __fds_bits` error.
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <event2/event.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/thread.h>
#endif
