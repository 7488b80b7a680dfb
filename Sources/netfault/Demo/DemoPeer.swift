/// The small Python program the demo runs as server and client in its lab: servers that echo or
/// swallow what they get, and clients that report, as one JSON line, the errno their calls met.
enum DemoPeer {
    static let script = #"""
import errno, json, socket, sys, threading, time

def name(error):
    return errno.errorcode.get(error.errno, "timeout") if error.errno else "timeout"

def serve(port, handle):
    listener = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    listener.bind(("::", port))
    listener.listen(64)
    print("ready", flush=True)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=handle, args=(conn,), daemon=True).start()

def echo(conn):
    try:
        while (data := conn.recv(65536)):
            conn.sendall(data)
    except OSError:
        pass
    conn.close()

def sink(conn):
    try:
        while conn.recv(65536):
            pass
    except OSError:
        pass
    conn.close()

def client(host, port, user_timeout_ms):
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(30)
    if user_timeout_ms:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, user_timeout_ms)
    sock.connect((host, port))
    return sock

def report(**fields):
    print(json.dumps(fields), flush=True)

def session(host, port, rounds, interval, user_timeout_ms, hold):
    started, done = time.monotonic(), 0
    try:
        sock = client(host, port, user_timeout_ms)
        print("connected", flush=True)
        for done in range(1, rounds + 1):
            if done > 1:
                time.sleep(interval)
            sock.sendall(b"ping\n")
            if not sock.recv(100):
                raise ConnectionAbortedError(0, "closed")
        time.sleep(hold)
        report(ok=True, rounds=rounds, seconds=round(time.monotonic() - started, 1))
    except OSError as error:
        report(ok=False, errno=name(error), round=done, seconds=round(time.monotonic() - started, 1))

def upload(host, port, size, user_timeout_ms):
    started, sent = time.monotonic(), 0
    try:
        sock = client(host, port, user_timeout_ms)
        chunk = b"u" * 16384
        while sent < size:
            sent += sock.send(chunk)
        report(ok=True, sent=sent, seconds=round(time.monotonic() - started, 1))
    except OSError as error:
        report(ok=False, errno=name(error), sent=sent, seconds=round(time.monotonic() - started, 1))

command, args = sys.argv[1], sys.argv[2:]
if command == "echo-server":
    serve(int(args[0]), echo)
elif command == "sink-server":
    serve(int(args[0]), sink)
elif command == "session":
    session(args[0], int(args[1]), int(args[2]), float(args[3]), int(args[4]), float(args[5]))
elif command == "upload":
    upload(args[0], int(args[1]), int(args[2]), int(args[3]))
"""#
}
