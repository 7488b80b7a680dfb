#!/usr/bin/env python3
"""Real socket clients and servers for netfault's lab: the tests, `netfault demo` (which carries a copy,
Sources/NetFaultLab/EmbeddedPeer.swift, made by Scripts/embed-presets), Scripts/soak and Scripts/bench.

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
        if args.hold:
            time.sleep(args.hold)
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


def listen(port, backlog=64):
    """A TCP listener on `port` for both families; prints "ready" once it listens."""
    listener = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    listener.bind(("::", port))
    listener.listen(backlog)
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
                answered = 0
                while True:
                    data = conn.recv(65536)
                    if not data:
                        break
                    received += len(data)
                    if args.answer_every and received - answered >= args.answer_every:
                        # A protocol that answers during an upload: its ACKs ride on these.
                        conn.sendall(b"ok %d\n" % received)
                        answered = received
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


def serve_each(listener, handle):
    """Accepts for ever; each connection in a thread of its own goes to `handle`, then is closed
    (an OSError ends only that connection)."""
    import threading

    def serve(conn):
        try:
            handle(conn)
        except OSError:
            pass
        finally:
            conn.close()

    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


def echo_server(args):
    """Per connection, in a thread of its own: echo every line back until the peer closes."""

    def echo(conn):
        while data := conn.recv(65536):
            conn.sendall(data)

    serve_each(listen(args.port), echo)


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


def request_server(args):
    """Per connection, in a thread of its own: read a request (up to 100 bytes), answer `--bytes`
    bytes, close. Many connections a second (Scripts/soak)."""

    def answer(conn):
        conn.recv(100)
        conn.sendall(b"x" * args.bytes)

    serve_each(listen(args.port, backlog=1024), answer)


def connect_loop(args):
    """Opens `--rate` connections a second for `--seconds`, one after another: each sends a short
    request and reads `--expect` bytes. Prints {"done", "failed"}."""
    done = failed = 0
    started = time.monotonic()
    while time.monotonic() - started < args.seconds:
        due = started + (done + failed) / args.rate
        if due > time.monotonic():
            time.sleep(due - time.monotonic())
        try:
            with socket.create_connection((args.host, args.port), timeout=2) as sock:
                sock.sendall(b"GET")
                received = 0
                while received < args.expect:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    received += len(chunk)
            done += 1
        except OSError:
            failed += 1
    outcome(done=done, failed=failed)


def udp_probe(args):
    """Sends a numbered datagram every millisecond to an echo server for `--seconds` (or until
    SIGTERM); prints {"sent", "arrivals"}: when each echo came back, CLOCK_MONOTONIC seconds,
    which every namespace shares, so the caller can line them up with its own events."""
    import select
    import signal
    import struct

    sock = socket.socket(family_of(args.host), socket.SOCK_DGRAM)
    sock.connect((args.host, args.port))
    sock.setblocking(False)
    arrivals = []
    running = [True]
    signal.signal(signal.SIGTERM, lambda *_: running.__setitem__(0, False))
    started = time.monotonic()
    sent = 0
    while running[0] and time.monotonic() - started < args.seconds:
        if time.monotonic() >= started + sent / 1000:
            try:
                sock.send(struct.pack("!Q", sent))
            except OSError:
                pass
            sent += 1
        if select.select([sock], [], [], max(0, started + sent / 1000 - time.monotonic()))[0]:
            try:
                while True:
                    sock.recv(100)
                    arrivals.append(round(time.monotonic(), 6))
            except OSError:
                pass
    outcome(sent=sent, arrivals=arrivals)


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
        sock.settimeout(args.drain)
        try:
            while True:
                replies.append(int(sock.recv(65536)))
        except (socket.timeout, OSError):
            pass
        sock.settimeout(args.timeout)
    rtts.sort()
    outcome(replies=len(replies), distinct=len(set(replies)), errors=errors,
            median_rtt_ms=round(rtts[len(rtts) // 2] * 1000, 1) if rtts else None,
            rtt_us={name: round(rtts[min(len(rtts) - 1, int(len(rtts) * share))] * 1e6)
                    for name, share in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("min", 0))} if rtts else None)


def udp_blast(args):
    """Send `--count` datagrams, as fast as the socket takes them or at `--rate` per second."""
    sock = socket.socket(family_of(args.host), socket.SOCK_DGRAM)
    if args.bind:
        sock.bind((args.bind, 0))
    sent = 0
    started = time.monotonic()
    for index in range(args.count):
        if args.rate and index % 100 == 0:
            ahead = index / args.rate - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)
        try:
            sock.sendto((b"%d " % index).ljust(args.size, b"x"), (args.host, args.port))
            sent += 1
        except OSError:
            pass
    outcome(sent=sent, seconds=round(time.monotonic() - started, 2))


def udp_sink(args):
    """Receive datagrams and never answer (no ICMP port unreachable either). With `--seconds`,
    stop after that long and print how many arrived."""
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    # Released holds arrive in one burst: room for all of them (SO_RCVBUFFORCE, 33: root only).
    try:
        sock.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)
    except OSError:
        pass
    sock.bind(("::", args.port))
    print("ready", flush=True)
    if args.unread:
        # A receiver that costs nothing (Scripts/bench counts at the interface): the port is
        # bound, so nothing answers with ICMP, and nothing is read.
        while True:
            time.sleep(3600)
    received = 0
    numbers = set()
    # Datagrams that came after one with a higher number: the reordered.
    late, highest = 0, -1
    end = time.monotonic() + args.seconds if args.seconds else None
    while end is None or time.monotonic() < end:
        if end is not None:
            sock.settimeout(max(0.01, end - time.monotonic()))
        try:
            data = sock.recv(65536)
            received += 1
            if args.expect:
                number = int(data.split(b" ", 1)[0])
                numbers.add(number)
                late += number < highest
                highest = max(highest, number)
        except (socket.timeout, ValueError):
            pass
    if not args.expect:
        return outcome(received=received)
    # The runs of datagrams missing among udp-blast's numbers 0..expect-1: the loss bursts.
    runs, current = [], 0
    for number in range(args.expect):
        if number in numbers:
            if current:
                runs.append(current)
            current = 0
        else:
            current += 1
    if current:
        runs.append(current)
    outcome(received=received, missing_runs=runs, late=late)


def udp_inspect(args):
    """Receive datagrams for `--seconds` and print one JSON line: each one's length and the TOS
    (IPv4) or traffic class (IPv6) its IP header carried, as the receiving socket saw them."""
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_RECVTOS, 1)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVTCLASS, 1)
    sock.bind(("::", args.port))
    print("ready", flush=True)
    datagrams = []
    end = time.monotonic() + args.seconds
    while time.monotonic() < end:
        sock.settimeout(max(0.01, end - time.monotonic()))
        try:
            data, ancillary, _, _ = sock.recvmsg(65536, 256)
        except socket.timeout:
            continue
        tos = None
        for level, kind, value in ancillary:
            if (level, kind) in ((socket.IPPROTO_IP, socket.IP_TOS), (socket.IPPROTO_IPV6, socket.IPV6_TCLASS)):
                tos = int.from_bytes(value[:4], sys.byteorder) if len(value) >= 4 else value[0]
        datagrams.append({"length": len(data), "tos": tos})
    outcome(datagrams=datagrams)


def eof_server(args):
    """Accept one connection, read until the peer's FIN (end of file) or `--timeout`; report the
    bytes read and how long after the first byte the end of file came."""
    listener = listen(args.port)
    conn, _ = listener.accept()
    conn.settimeout(args.timeout)
    received = 0
    first = None
    try:
        while True:
            data = conn.recv(65536)
            if first is None:
                first = time.monotonic()
            if not data:
                outcome(result="eof", received=received, eof_after_s=round(time.monotonic() - first, 3))
                return
            received += len(data)
    except OSError as error:
        outcome(result="error", errno=error_name(error), received=received)
    finally:
        conn.close()


def hostile_packets(host):
    """Malformed, truncated and fragmented packets, and IPv6 extension-header chains, each tagged
    (IPv4 identification 0xB000 + n, IPv6 flow label 0xB080 + n) so that a sniffer can tell which arrived."""
    import struct
    packets = []
    if ":" not in host:
        source, destination = socket.inet_pton(socket.AF_INET, "198.18.1.2"), socket.inet_pton(socket.AF_INET, host)

        def ip(protocol, body, fragment=0, options=b""):
            tag = 0xB000 + len(packets)
            header = struct.pack("!BBHHHBBH4s4s", 0x40 | (5 + len(options) // 4), 0, 20 + len(options) + len(body), tag,
                                 fragment, 64, protocol, 0, source, destination) + options
            packets.append((tag, header + body))
        tcp = lambda flags, offset=5: struct.pack("!HHIIBBHHH", 40000, 8080, 1, 0, offset << 4, flags, 1000, 0, 0)
        ip(6, tcp(0x10, offset=15), )                                   # data offset beyond the packet
        ip(6, tcp(0x02)[:10])                                           # TCP header cut to 10 bytes
        ip(17, struct.pack("!HHHH", 40000, 7000, 200, 0) + b"x" * 8)     # UDP length longer than the datagram
        ip(17, struct.pack("!HHHH", 40000, 7000, 4, 0) + b"x" * 8)       # UDP length shorter than its header
        ip(17, struct.pack("!HHHH", 40000, 7000, 40, 0) + b"y" * 16, fragment=0x2000)  # first fragment (MF)
        ip(17, b"z" * 16, fragment=3)                                   # a later fragment: no UDP header
        ip(6, tcp(0x02)[:8], fragment=0x2000)                           # a tiny first fragment: ports only
        ip(6, tcp(0x10), options=b"\x01\x01\x01\x00")                  # IP options (NOP NOP NOP END)
        ip(1, bytes([3, 3, 0, 0, 0, 0, 0, 0]) + b"\x45\x00")            # ICMP unreachable quoting 2 bytes
        ip(6, tcp(0x07))                                                # SYN, FIN and RST at once
    else:
        source, destination = socket.inet_pton(socket.AF_INET6, "2001:db8:1::2"), socket.inet_pton(socket.AF_INET6, host)

        def ip6(next_header, body):
            tag = 0xB080 + len(packets)
            header = struct.pack("!IHBB16s16s", (6 << 28) | tag, len(body), next_header, 64, source, destination)
            packets.append((tag, header + body))
        pad = lambda next_header: bytes([next_header, 0, 1, 4, 0, 0, 0, 0])  # an options header holding PadN
        tcp = struct.pack("!HHIIBBHHH", 40000, 8080, 1, 0, 5 << 4, 0x10, 1000, 0, 0)
        ip6(0, pad(60) + pad(6) + tcp)                                 # hop-by-hop, destination options, TCP
        ip6(60, pad(44) + struct.pack("!BBHI", 17, 0, 1, 7) + struct.pack("!HHHH", 40000, 7000, 40, 0) + b"y" * 16)  # first fragment
        ip6(44, struct.pack("!BBHI", 17, 0, 8 << 3, 7) + b"z" * 16)    # a later fragment: no UDP header
        ip6(60, bytes([6, 8, 1, 4, 0, 0, 0, 0]) + tcp)                 # destination options longer than the packet
        ip6(6, tcp[:6])                                                 # TCP header cut to 6 bytes
        ip6(58, bytes([1, 4, 0, 0, 0, 0, 0, 0]) + b"\x60\x00")          # ICMPv6 unreachable quoting 2 bytes
        ip6(60, pad(60) + pad(60) + pad(60) + pad(17) + struct.pack("!HHHH", 40000, 7000, 12, 0) + b"abcd")  # a long chain
    return packets


def hostile_send(args):
    """Send the hostile packets `--rounds` times through raw sockets, headers included."""
    family = family_of(args.host)
    sock = socket.socket(family, socket.SOCK_RAW, socket.IPPROTO_RAW)
    packets = hostile_packets(args.host)
    sent = 0
    for _ in range(args.rounds):
        for _, packet in packets:
            sock.sendto(packet, (args.host, 0))
            sent += 1
            time.sleep(0.001)
    outcome(kinds=len(packets), sent=sent, tags=[tag for tag, _ in packets])


def forge_rst(args):
    """Send `--count` RSTs from `source`:`sport` to `destination`:`dport` with random sequence
    numbers (an off-path attacker's guesses), through a raw socket, headers and checksums written here."""
    import random
    import struct
    family = family_of(args.destination)
    source, destination = socket.inet_pton(family, args.source), socket.inet_pton(family, args.destination)
    generator = random.Random(args.seed)
    sock = socket.socket(family, socket.SOCK_RAW, socket.IPPROTO_RAW)
    for _ in range(args.count):
        tcp = struct.pack("!HHIIBBHHH", args.sport, args.dport, generator.getrandbits(32), 0, 5 << 4, 0x04, 0, 0, 0)
        if family == socket.AF_INET:
            pseudo = source + destination + struct.pack("!BBH", 0, 6, len(tcp))
        else:
            pseudo = source + destination + struct.pack("!I3xB", len(tcp), 6)
        total = sum(struct.unpack("!%dH" % ((len(pseudo) + len(tcp)) // 2), pseudo + tcp))
        while total >> 16:
            total = (total & 0xFFFF) + (total >> 16)
        tcp = tcp[:16] + struct.pack("!H", ~total & 0xFFFF) + tcp[18:]
        if family == socket.AF_INET:
            header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0, source, destination)
            words = sum(struct.unpack("!10H", header))
            while words >> 16:
                words = (words & 0xFFFF) + (words >> 16)
            header = header[:10] + struct.pack("!H", ~words & 0xFFFF) + header[12:]
        else:
            header = struct.pack("!IHBB16s16s", 6 << 28, len(tcp), 6, 64, source, destination)
        sock.sendto(header + tcp, (args.destination, 0))
        time.sleep(0.002)
    outcome(sent=args.count)


def syn_flood(args):
    """Send `--count` SYNs to `host`:`port` at `--rate` per second, each opening a connection of
    its own: source ports from 10000 up, and source addresses from `--first-source` up (in the
    client's /24, so the middlebox routes them) once the ports run out; through a raw socket,
    headers and checksums written here. Nothing answers them: the flood's SYN-ACKs, if any, go
    to addresses no host holds."""
    import struct
    first = socket.inet_pton(socket.AF_INET, args.first_source)
    destination = socket.inet_pton(socket.AF_INET, args.host)
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    ports = 50000
    sent = 0
    started = time.monotonic()
    for index in range(args.count):
        if args.rate and index % 100 == 0:
            ahead = index / args.rate - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)
        source = first[:3] + bytes([first[3] + index // ports])
        tcp = struct.pack("!HHIIBBHHH", 10000 + index % ports, args.port, index, 0, 5 << 4, 0x02, 64240, 0, 0)
        pseudo = source + destination + struct.pack("!BBH", 0, 6, len(tcp))
        total = sum(struct.unpack("!16H", pseudo + tcp))
        while total >> 16:
            total = (total & 0xFFFF) + (total >> 16)
        tcp = tcp[:16] + struct.pack("!H", ~total & 0xFFFF) + tcp[18:]
        # The kernel fills in the IPv4 header's checksum (and an identification of 0).
        header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0, source, destination)
        try:
            sock.sendto(header + tcp, (args.host, 0))
            sent += 1
        except OSError:
            pass
    outcome(sent=sent, seconds=round(time.monotonic() - started, 2))


def tag_sniff(args):
    """Count, per tag, the tagged packets that arrive on any interface, until SIGTERM."""
    import signal
    import struct
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    seen = {}
    signal.signal(signal.SIGTERM, lambda *_: (outcome(seen={str(k): v for k, v in sorted(seen.items())}), sys.exit(0)))
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})  # Foundation's Process starts children with it blocked
    print("ready", flush=True)
    while True:
        frame, address = sock.recvfrom(65536)
        if address[2] == socket.PACKET_OUTGOING or len(frame) < 18:
            continue
        kind = struct.unpack("!H", frame[12:14])[0]
        if kind == 0x0800:
            tag = struct.unpack("!H", frame[18:20])[0]
        elif kind == 0x86DD:
            tag = struct.unpack("!I", frame[14:18])[0] & 0xFFFFF
        else:
            continue
        if 0xB000 <= tag < 0xB100:
            seen[tag] = seen.get(tag, 0) + 1


def main():
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    c = commands.add_parser("connect")
    c.add_argument("host")
    c.add_argument("port", type=int)
    c.add_argument("--send", default="")
    c.add_argument("--upload", type=int, default=0)
    c.add_argument("--read", action="store_true")
    c.add_argument("--hold", type=float, default=0, help="seconds to keep the connection open after sending")
    c.add_argument("--timeout", type=float, default=10)
    c.add_argument("--user-timeout-ms", type=int, default=0)
    c.set_defaults(run=connect)
    s = commands.add_parser("stream-server")
    s.add_argument("port", type=int)
    s.add_argument("--bytes", type=int, default=0)
    s.add_argument("--sink", action="store_true")
    s.add_argument("--answer-every", type=int, default=0, help="with --sink: a short answer every N bytes received")
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
    q = commands.add_parser("request-server")
    q.add_argument("port", type=int)
    q.add_argument("--bytes", type=int, default=1000)
    q.set_defaults(run=request_server)
    o = commands.add_parser("connect-loop")
    o.add_argument("host")
    o.add_argument("port", type=int)
    o.add_argument("--rate", type=float, default=100, help="connections a second")
    o.add_argument("--seconds", type=float, default=10)
    o.add_argument("--expect", type=int, default=1000, help="bytes to read from each")
    o.set_defaults(run=connect_loop)
    p = commands.add_parser("udp-probe")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--seconds", type=float, default=10)
    p.set_defaults(run=udp_probe)
    e = commands.add_parser("udp-echo")
    e.add_argument("port", type=int)
    e.set_defaults(run=udp_echo)
    b = commands.add_parser("udp-blast")
    b.add_argument("host")
    b.add_argument("port", type=int)
    b.add_argument("--count", type=int, default=1000)
    b.add_argument("--rate", type=int, default=0)
    b.add_argument("--bind", default="", help="source address")
    b.add_argument("--size", type=int, default=0, help="pad each datagram to this many bytes")
    b.set_defaults(run=udp_blast)
    k = commands.add_parser("udp-sink")
    k.add_argument("port", type=int)
    k.add_argument("--seconds", type=float, default=0)
    k.add_argument("--unread", action="store_true", help="bind the port and never read it")
    k.add_argument("--expect", type=int, default=0, help="udp-blast's count: report the runs of numbers missing")
    k.set_defaults(run=udp_sink)
    i = commands.add_parser("udp-inspect")
    i.add_argument("port", type=int)
    i.add_argument("--seconds", type=float, default=3)
    i.set_defaults(run=udp_inspect)
    f = commands.add_parser("eof-server")
    f.add_argument("port", type=int)
    f.add_argument("--timeout", type=float, default=10)
    f.set_defaults(run=eof_server)
    u = commands.add_parser("udp-client")
    u.add_argument("host")
    u.add_argument("port", type=int)
    u.add_argument("--count", type=int, default=10)
    u.add_argument("--timeout", type=float, default=1)
    u.add_argument("--drain", type=float, default=0.05, help="seconds to wait for late copies after each reply")
    u.set_defaults(run=udp_client)
    h = commands.add_parser("hostile-send")
    h.add_argument("host")
    h.add_argument("--rounds", type=int, default=1)
    h.set_defaults(run=hostile_send)
    r = commands.add_parser("forge-rst")
    r.add_argument("source")
    r.add_argument("sport", type=int)
    r.add_argument("destination")
    r.add_argument("dport", type=int)
    r.add_argument("--count", type=int, default=50)
    r.add_argument("--seed", type=int, default=1)
    r.set_defaults(run=forge_rst)
    y = commands.add_parser("syn-flood")
    y.add_argument("host")
    y.add_argument("port", type=int)
    y.add_argument("--count", type=int, default=1000)
    y.add_argument("--rate", type=int, default=0, help="SYNs a second (0: as fast as the socket takes them)")
    y.add_argument("--first-source", default="198.18.1.10", help="the first source address (IPv4)")
    y.set_defaults(run=syn_flood)
    t = commands.add_parser("tag-sniff")
    t.set_defaults(run=tag_sniff)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
