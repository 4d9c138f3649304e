#!/usr/bin/env python3
"""Hostile peers for the load test: COUNT connections to an ergond that try to hold it up.

    python3 bench/hostile_peers.py HOST PORT [--count 1000] [--seconds S] [--kinds K,K,...]
                                   [--reconnect-delay 1.0] [--ramp 10] [--slow-interval 3.0]
                                   [--ready-file F] [--source ADDRESS]

Standard library only (socket, ssl, threading): one thread per connection, COUNT threads. The
kinds, dealt round-robin over the connections:

  idle_tcp   connect, send nothing (the server is waiting for a TLS handshake)
  idle_tls   TLS handshake, then send nothing (the server is waiting for a hello)
  slow       TLS, a valid length prefix (16 KiB, the most allowed before a hello), then one
             byte every --slow-interval seconds
  oversized  TLS, a length prefix announcing 16 MiB, nothing more
  garbage    random bytes: on even connections straight onto TCP (instead of a TLS
             ClientHello), on odd ones inside TLS (instead of a frame)

Each connection is kept open: when the server closes it, the thread counts the close and
connects again after --reconnect-delay seconds (±50 %), until SIGTERM/SIGINT or --seconds; the
first connections are spread over --ramp seconds so that their timeouts do not come in waves. TLS does not
verify the server (its certificate is self-signed; pinning is the real client's job). When every
connection has been opened once, the script writes "ready" to --ready-file (if given) and to
stderr. At the end it prints one JSON object: per kind the connections opened, closed by the
server, connect/handshake failures, bytes the server sent back (its error frames), and how long
a connection stayed open; how many hostile connections were open at once (sampled every 0.5 s
after "ready"); and the exceptions that ended connections (a reset or TLS alert from the server
is counted as a close by the server; a timeout is not).
"""

import argparse
import json
import os
import random
import signal
import socket
import ssl
import struct
import sys
import threading
import time

KINDS = ["idle_tcp", "idle_tls", "slow", "oversized", "garbage"]
POLL = 1.0  # socket timeout: how often a waiting thread looks at the stop flag


class Stats:
    def __init__(self, kinds):
        self.lock = threading.Lock()
        self.kinds = {k: {"connections": 0, "opened": 0, "closed_by_server": 0,
                          "connect_failed": 0, "bytes_from_server": 0,
                          "seconds_open_total": 0.0, "seconds_open_max": 0.0}
                      for k in kinds}
        self.open_now = 0
        self.open_samples = []
        self.errors = {}

    def add(self, kind, key, value=1):
        with self.lock:
            self.kinds[kind][key] += value

    def opened(self, kind):
        with self.lock:
            self.kinds[kind]["opened"] += 1
            self.open_now += 1

    def ended(self, kind, seconds, by_server):
        with self.lock:
            k = self.kinds[kind]
            self.open_now -= 1
            k["seconds_open_total"] += seconds
            k["seconds_open_max"] = max(k["seconds_open_max"], seconds)
            if by_server:
                k["closed_by_server"] += 1

    def error(self, kind, exc):
        name = f"{kind}: {type(exc).__name__}"
        with self.lock:
            self.errors[name] = self.errors.get(name, 0) + 1


class Peer(threading.Thread):
    def __init__(self, index, kind, args, tls, stats, stop, first_done):
        super().__init__(daemon=True)
        self.index, self.kind, self.args = index, kind, args
        self.tls, self.stats, self.stop, self.first_done = tls, stats, stop, first_done

    def run(self):
        self.stats.add(self.kind, "connections")
        # Starts spread over --ramp seconds and jittered reconnects, so the connections do not
        # all time out (and come back) at the same moment.
        self.stop.wait(self.args.ramp * self.index / max(self.args.count, 1))
        self.first = True
        while not self.stop.is_set():
            self.once()
            if self.first:  # the first attempt failed before opening
                self.first = False
                self.first_done.release()
            self.stop.wait(self.args.reconnect_delay * random.uniform(0.5, 1.5))

    def once(self):
        try:
            source = (self.args.source, 0) if self.args.source else None
            sock = socket.create_connection((self.args.host, self.args.port), timeout=10,
                                            source_address=source)
        except OSError as e:
            self.stats.add(self.kind, "connect_failed")
            self.stats.error(self.kind, e)
            return
        started = time.monotonic()
        self.stats.opened(self.kind)
        if self.first:
            self.first = False
            self.first_done.release()
        by_server = False
        try:
            by_server = getattr(self, self.kind)(sock)
        except (ssl.SSLError, ConnectionError) as e:
            # A reset or a TLS alert is the server's way of closing on us too.
            by_server = not self.stop.is_set()
            self.stats.error(self.kind, e)
        except OSError as e:  # e.g. a handshake the server never answered
            self.stats.error(self.kind, e)
        finally:
            try:
                sock.close()
            except OSError:
                pass
            self.stats.ended(self.kind, time.monotonic() - started, by_server)

    # --- helpers ------------------------------------------------------------------------------

    def handshake(self, sock):
        sock.settimeout(15)  # the server gives a handshake 10 s
        tls = self.tls.wrap_socket(sock, server_hostname=None)
        tls.settimeout(POLL)
        return tls

    def wait_closed(self, sock, until=None):
        """Reads until the server closes (True), the stop flag (False) or `until` (None)."""
        sock.settimeout(POLL)
        while not self.stop.is_set():
            if until is not None and time.monotonic() >= until:
                return None
            try:
                data = sock.recv(65536)
            except (socket.timeout, TimeoutError):
                continue
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError, ConnectionError):
                return True
            if not data:
                return True
            self.stats.add(self.kind, "bytes_from_server", len(data))
        return False

    # --- the kinds: each returns True when the server closed the connection -------------------

    def idle_tcp(self, sock):
        return self.wait_closed(sock)

    def idle_tls(self, sock):
        return self.wait_closed(self.handshake(sock))

    def slow(self, sock):
        tls = self.handshake(sock)
        tls.sendall(struct.pack(">I", 16 << 10))
        while True:
            closed = self.wait_closed(tls, until=time.monotonic() + self.args.slow_interval)
            if closed is not None:
                return closed
            tls.sendall(b"\x08")

    def oversized(self, sock):
        tls = self.handshake(sock)
        tls.sendall(struct.pack(">I", 16 << 20))
        return self.wait_closed(tls)

    def garbage(self, sock):
        junk = os.urandom(random.randint(64, 4096))
        if self.index % 2 == 0:
            sock.sendall(junk)
            return self.wait_closed(sock)
        tls = self.handshake(sock)
        tls.sendall(junk)
        return self.wait_closed(tls)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--seconds", type=float, default=0, help="stop after this long (0: at SIGTERM)")
    p.add_argument("--kinds", default=",".join(KINDS))
    p.add_argument("--reconnect-delay", type=float, default=1.0,
                   help="mean seconds before a closed connection comes back (jittered ±50%%)")
    p.add_argument("--ramp", type=float, default=10.0,
                   help="spread the first connections over this many seconds")
    p.add_argument("--slow-interval", type=float, default=3.0)
    p.add_argument("--ready-file")
    p.add_argument("--source", help="the local address to connect from (the load test uses "
                   "127.0.0.2: ergond limits connections logging in per address, and the "
                   "honest clients come from 127.0.0.1)")
    args = p.parse_args()
    kinds = args.kinds.split(",")
    for k in kinds:
        if k not in KINDS:
            p.error(f"unknown kind {k!r}; allowed: {', '.join(KINDS)}")

    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    tls.check_hostname = False
    tls.verify_mode = ssl.CERT_NONE

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    threading.stack_size(256 << 10)
    stats = Stats(kinds)
    first_done = threading.Semaphore(0)
    peers = [Peer(i, kinds[i % len(kinds)], args, tls, stats, stop, first_done)
             for i in range(args.count)]
    started = time.monotonic()
    for peer in peers:
        peer.start()
    for _ in peers:  # every connection opened (or refused) once
        while not first_done.acquire(timeout=0.5):
            if stop.is_set():
                break
        if stop.is_set():
            break
    ready_after = time.monotonic() - started
    if args.ready_file:
        with open(args.ready_file, "w") as f:
            f.write("ready\n")
    print(f"hostile_peers: {args.count} connections opened in {ready_after:.1f} s: ready",
          file=sys.stderr, flush=True)

    while not stop.wait(0.5):
        with stats.lock:
            stats.open_samples.append(stats.open_now)
        if args.seconds and time.monotonic() - started >= args.seconds:
            stop.set()
    for peer in peers:
        peer.join(timeout=20)

    samples = stats.open_samples or [0]
    out = {"count": args.count, "seconds": round(time.monotonic() - started, 1),
           "ready_after_s": round(ready_after, 1),
           "open_at_once": {"min": min(samples), "mean": round(sum(samples) / len(samples)),
                            "max": max(samples)},
           "kinds": {}, "exceptions": stats.errors,
           "threads_still_running": sum(p.is_alive() for p in peers)}
    for kind, k in stats.kinds.items():
        ended = max(k["opened"], 1)
        out["kinds"][kind] = {
            "connections": k["connections"], "opened": k["opened"],
            "closed_by_server": k["closed_by_server"], "connect_failed": k["connect_failed"],
            "bytes_from_server": k["bytes_from_server"],
            "mean_open_s": round(k["seconds_open_total"] / ended, 2),
            "max_open_s": round(k["seconds_open_max"], 1)}
    print(json.dumps(out, indent=2), flush=True)


if __name__ == "__main__":
    main()
