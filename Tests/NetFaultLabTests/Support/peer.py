#!/usr/bin/env python3
"""Real socket clients and servers for netfault's lab tests.

Every client prints one JSON line on stdout: what the application saw, with the errno name when a
call failed, so a test can assert "ECONNRESET after 812 KB" instead of guessing from exit codes.
Servers print "ready" once listening, then one JSON line per connection that ended.
"""
import argparse
import errno
import json
import os
import socket
import sys
import time


def outcome(**fields):
    print(json.dumps(fields), flush=True)


def error_name(error):
    """ECONNRESET, ETIMEDOUT...; "timeout" for Python's own socket timeout (no errno).

    Python maps an OSError carrying ETIMEDOUT to TimeoutError, the same class as its own
    socket.timeout, so the errno is what tells the kernel's timeout from the client's."""
    if error.errno:
        return errno.errorcode.get(error.errno, str(error.errno))
    return "timeout" if isinstance(error, TimeoutError) else type(error).__name__


def family_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def connect(args):
    """Connect, optionally send a request and read until the peer closes."""
    sock = socket.socket(family_of(args.host), socket.SOCK_STREAM)
    sock.settimeout(args.timeout)
    if args.user_timeout_ms:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, args.user_timeout_ms)
    received = 0
    sent = 0
    started = time.monotonic()
    stage = "connect"
    try:
        sock.connect((args.host, args.port))
        connected = time.monotonic() - started
        stage = "send"
        if args.send:
            sock.sendall(args.send.encode())
            sent += len(args.send)
        if args.upload:
            chunk = b"u" * 16384
            while sent < args.upload:
                sent += sock.send(chunk[: args.upload - sent])
        stage = "receive"
        if args.read:
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                received += len(data)
        outcome(result="ok", connect_s=round(connected, 3), sent=sent, received=received,
                seconds=round(time.monotonic() - started, 3))
    except OSError as error:
        outcome(result="error", errno=error_name(error), stage=stage, sent=sent, received=received,
                seconds=round(time.monotonic() - started, 3))
    finally:
        sock.close()


def listen(port):
    """A TCP listener on `port` for both families; prints "ready" once it listens."""
    listener = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    listener.bind(("::", port))
    listener.listen(64)
    print("ready", flush=True)
    return listener


def stream_server(args):
    """Per connection: read a request line (if any), send `--bytes` bytes, then close; report how it ended."""
    listener = listen(args.port)
    while True:
        conn, peer = listener.accept()
        sent = 0
        received = 0
        try:
            conn.settimeout(args.timeout)
            if args.sink:
                while True:
                    data = conn.recv(65536)
                    if not data:
                        break
                    received += len(data)
            else:
                chunk = b"s" * 65536
                while sent < args.bytes:
                    sent += conn.send(chunk[: args.bytes - sent])
                conn.shutdown(socket.SHUT_WR)
                while conn.recv(65536):
                    pass
            outcome(result="ok", sent=sent, received=received)
        except OSError as error:
            outcome(result="error", errno=error_name(error), sent=sent, received=received)
        finally:
            conn.close()


def echo_server(args):
    """Per connection, in a thread of its own: echo every line back until the peer closes."""
    import threading

    listener = listen(args.port)

    def serve(conn):
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                conn.sendall(data)
        except OSError:
            pass
        finally:
            conn.close()

    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


def session(args):
    """One connection, used `--rounds` times `--interval` seconds apart (a line out, its echo back),
    like a pooled client; `--hold` keeps it open afterwards. Prints "connected" once connected."""
    sock = socket.socket(family_of(args.host), socket.SOCK_STREAM)
    sock.settimeout(args.timeout)
    if args.user_timeout_ms:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, args.user_timeout_ms)
    started = time.monotonic()
    round_number = 0
    try:
        sock.connect((args.host, args.port))
        print("connected", flush=True)
        for round_number in range(1, args.rounds + 1):
            if round_number > 1:
                time.sleep(args.interval)
            sock.sendall(b"ping %d\n" % round_number)
            if not sock.recv(65536):
                raise ConnectionAbortedError(0, "closed by the peer")
        time.sleep(args.hold)
        outcome(result="ok", rounds=args.rounds, seconds=round(time.monotonic() - started, 3))
    except OSError as error:
        outcome(result="error", errno=error_name(error), round=round_number, seconds=round(time.monotonic() - started, 3))
    finally:
        sock.close()


def udp_echo(args):
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.bind(("::", args.port))
    print("ready", flush=True)
    while True:
        data, peer = sock.recvfrom(65536)
        sock.sendto(data, peer)


def udp_client(args):
    """Send `--count` numbered datagrams on a connected socket; report replies, timing and errors."""
    sock = socket.socket(family_of(args.host), socket.SOCK_DGRAM)
    sock.connect((args.host, args.port))
    sock.settimeout(args.timeout)
    replies = []
    rtts = []
    errors = []
    for index in range(args.count):
        started = time.monotonic()
        try:
            sock.send(b"%d" % index)
            while True:
                data = sock.recv(65536)
                replies.append(int(data))
                if int(data) == index:
                    rtts.append(time.monotonic() - started)
                    break
        except OSError as error:
            errors.append(error_name(error))
        # Late copies (duplicates) of earlier datagrams are drained and counted too.
        sock.settimeout(0.05)
        try:
            while True:
                replies.append(int(sock.recv(65536)))
        except (socket.timeout, OSError):
            pass
        sock.settimeout(args.timeout)
    outcome(replies=len(replies), distinct=len(set(replies)), errors=errors,
            median_rtt_ms=round(sorted(rtts)[len(rtts) // 2] * 1000, 1) if rtts else None)


def udp_blast(args):
    """Send `--count` datagrams, as fast as the socket takes them or at `--rate` per second."""
    sock = socket.socket(family_of(args.host), socket.SOCK_DGRAM)
    sent = 0
    started = time.monotonic()
    for index in range(args.count):
        if args.rate and index % 100 == 0:
            ahead = index / args.rate - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)
        try:
            sock.sendto(b"%d" % index, (args.host, args.port))
            sent += 1
        except OSError:
            pass
    outcome(sent=sent, seconds=round(time.monotonic() - started, 2))


def udp_sink(args):
    """Receive datagrams and never answer (no ICMP port unreachable either)."""
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.bind(("::", args.port))
    print("ready", flush=True)
    while True:
        sock.recv(65536)


def main():
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    c = commands.add_parser("connect")
    c.add_argument("host")
    c.add_argument("port", type=int)
    c.add_argument("--send", default="")
    c.add_argument("--upload", type=int, default=0)
    c.add_argument("--read", action="store_true")
    c.add_argument("--timeout", type=float, default=10)
    c.add_argument("--user-timeout-ms", type=int, default=0)
    c.set_defaults(run=connect)
    s = commands.add_parser("stream-server")
    s.add_argument("port", type=int)
    s.add_argument("--bytes", type=int, default=0)
    s.add_argument("--sink", action="store_true")
    s.add_argument("--timeout", type=float, default=30)
    s.set_defaults(run=stream_server)
    x = commands.add_parser("echo-server")
    x.add_argument("port", type=int)
    x.set_defaults(run=echo_server)
    n = commands.add_parser("session")
    n.add_argument("host")
    n.add_argument("port", type=int)
    n.add_argument("--rounds", type=int, default=1)
    n.add_argument("--interval", type=float, default=1)
    n.add_argument("--hold", type=float, default=0)
    n.add_argument("--timeout", type=float, default=30)
    n.add_argument("--user-timeout-ms", type=int, default=0)
    n.set_defaults(run=session)
    e = commands.add_parser("udp-echo")
    e.add_argument("port", type=int)
    e.set_defaults(run=udp_echo)
    b = commands.add_parser("udp-blast")
    b.add_argument("host")
    b.add_argument("port", type=int)
    b.add_argument("--count", type=int, default=1000)
    b.add_argument("--rate", type=int, default=0)
    b.set_defaults(run=udp_blast)
    k = commands.add_parser("udp-sink")
    k.add_argument("port", type=int)
    k.set_defaults(run=udp_sink)
    u = commands.add_parser("udp-client")
    u.add_argument("host")
    u.add_argument("port", type=int)
    u.add_argument("--count", type=int, default=10)
    u.add_argument("--timeout", type=float, default=1)
    u.set_defaults(run=udp_client)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
