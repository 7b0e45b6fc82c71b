#!/usr/bin/env python3
"""hostile_http.py - hostile HTTP clients against the metrics endpoint.

    hostile_http.py HOST PORT SECONDS [SOURCE_ADDRESS...]

Three kinds of clients run at once, from the given loopback source
addresses (default 127.0.0.2), until SECONDS have passed:

  slow    SLOW_CONNS connections that send a request line and then one
          header byte every SLOW_TICK seconds, never ending the headers
          (slowloris), reopened when the server closes them
  huge    requests whose headers never end (1 MiB of header lines, sent as
          fast as the server reads); at most HUGE_MAX
  flood   connect, send half a request line, close; at most FLOOD_MAX,
          with FLOOD_HELD more kept open and silent

Every loop is bounded by its count and by SECONDS.  Prints one line of
key=value pairs: what was sent and how the server answered (the status
line of a huge request, connections the server closed).
"""
import socket
import sys
import threading
import time

SLOW_CONNS = 48
SLOW_TICK = 2.0
HUGE_MAX = 200
HUGE_SIZE = 1 << 20
FLOOD_MAX = 20000
FLOOD_HELD = 64

stats = {}
lock = threading.Lock()


def count(key, n=1):
    with lock:
        stats[key] = stats.get(key, 0) + n


def dial(host, port, source, timeout=5.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((source, 0))
    s.connect((host, port))
    return s


def slow(host, port, sources, deadline):
    conns = []
    opened = 0
    while time.monotonic() < deadline and opened < SLOW_CONNS * 50:
        while len(conns) < SLOW_CONNS and opened < SLOW_CONNS * 50:
            try:
                s = dial(host, port, sources[opened % len(sources)])
                s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                s.setblocking(False)
                conns.append((s, time.monotonic()))
                count("slow_opened")
            except OSError:
                count("slow_refused")
            opened += 1
        time.sleep(SLOW_TICK)
        alive = []
        for s, t0 in conns:
            try:
                if s.recv(4096) == b"":
                    raise ConnectionResetError
                # the server answered something (an error): it is done
                count("slow_answered")
                s.close()
            except BlockingIOError:
                try:
                    s.send(b"a")
                    alive.append((s, t0))
                except OSError:
                    count("slow_closed_by_server")
                    s.close()
            except OSError:
                count("slow_closed_by_server")
                s.close()
        conns = alive
    with lock:
        stats["slow_open_at_end"] = len(conns)
    for s, _ in conns:
        s.close()


def huge(host, port, sources, deadline):
    line = b"X-Huge: " + b"a" * 1000 + b"\r\n"
    for i in range(HUGE_MAX):
        if time.monotonic() >= deadline:
            break
        try:
            s = dial(host, port, sources[i % len(sources)])
        except OSError:
            count("huge_refused")
            time.sleep(0.05)
            continue
        count("huge_sent")
        status = b""
        try:
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
            sent = 0
            while sent < HUGE_SIZE and time.monotonic() < deadline:
                s.sendall(line)
                sent += len(line)
            count("huge_fully_sent")
        except OSError:
            pass
        try:
            s.settimeout(2.0)
            status = s.recv(64).split(b"\r\n")[0]
        except OSError:
            pass
        if status.startswith(b"HTTP/1.1 431") or status.startswith(b"HTTP/1.0 431"):
            count("huge_431")
        elif status == b"":
            count("huge_closed")
        else:
            count("huge_other")
            with lock:
                stats["huge_other_status"] = status.decode("ascii", "replace").replace(" ", "_")
        s.close()
        time.sleep(0.05)


def flood(host, port, sources, deadline):
    held = []
    for i in range(FLOOD_MAX):
        if time.monotonic() >= deadline:
            break
        try:
            s = dial(host, port, sources[i % len(sources)], timeout=2.0)
            count("flood_connects")
            if len(held) < FLOOD_HELD:
                held.append(s)
                continue
            s.sendall(b"GET /met")
            s.close()
        except OSError:
            count("flood_refused")
        if i % 50 == 49:
            time.sleep(0.01)
    for s in held:
        s.close()


def main():
    if len(sys.argv) < 4:
        sys.exit("usage: hostile_http.py HOST PORT SECONDS [SOURCE...]")
    host, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    sources = sys.argv[4:] or ["127.0.0.2"]
    deadline = time.monotonic() + min(seconds, 600)
    threads = [threading.Thread(target=f, args=(host, port, sources, deadline))
               for f in (slow, huge, flood)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(0, deadline - time.monotonic()) + 30)
    with lock:
        print(" ".join("%s=%s" % (k, stats[k]) for k in sorted(stats)))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
