"""What Scripts/bench's arms share: the lab's namespaces, the processes started in them (each
stopped by its pid at the end), netfault and the C consumers, and the results table."""
import json, os, random, re, signal, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# NETFAULT_BINARY=PATH benches another build (the lab and the C programs stay this checkout's).
NETFAULT = os.environ.get("NETFAULT_BINARY") or os.path.join(ROOT, ".build", "release", "netfault")
PEER = os.path.join(ROOT, "Lab", "peer.py")
BENCH = os.path.join(ROOT, ".build", "bench")
LAB = f"nfbench{os.getpid()}"
SERVER = "198.18.2.2"
started = []  # every process this script started, stopped by pid at the end
results = []  # (arm, workload, median, min, max)


def ns(role, *command, **options):
    """Runs `command` in the lab's namespace `role` (client, mbox, server, cap) to its end; its stdout."""
    return subprocess.run(["ip", "netns", "exec", f"{LAB}-{role}", *command], check=options.get("check", True),
                          stdout=subprocess.PIPE, stderr=options.get("stderr", subprocess.DEVNULL), text=True).stdout


def start(role, *command, **options):
    """Starts `command` in namespace `role` (`ip netns exec` execs it: the pid is its own)."""
    process = subprocess.Popen(["ip", "netns", "exec", f"{LAB}-{role}", *command],
                               stdout=options.get("stdout", subprocess.DEVNULL), stderr=options.get("stderr", subprocess.DEVNULL))
    started.append(process)
    return process


def stop(process):
    """SIGTERM, and waits: netfault writes its report then."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    process.wait()


def write(path, text):
    with open(path, "w") as file:
        file.write(text)
    return path


def record(arm, workload, runs):
    results.append((arm, workload, statistics.median(runs), min(runs), max(runs)))


def iperf(seconds, streams):
    """One iperf3 run: the received Gbit/s."""
    report = json.loads(ns("client", "iperf3", "-c", SERVER, "-t", str(seconds), "-P", str(streams), "-J"))
    return report["end"]["sum_received"]["bits_per_second"] / 1e9


def counter(role, path):
    return int(ns(role, "cat", path))


def udp64(seconds):
    """64-byte datagrams from one sendmmsg thread (Bench/udp-flood.c; iperf3, one datagram per call,
    set the rate itself): thousands per second that reached the server's interface."""
    before = counter("server", "/sys/class/net/eth0/statistics/rx_packets")
    ns("client", f"{BENCH}/udp-flood", SERVER, "9999", str(seconds))
    return (counter("server", "/sys/class/net/eth0/statistics/rx_packets") - before) / seconds / 1e3


def latency(seconds):
    """One sockperf ping-pong run: average, p50 and p99 round trips in µs."""
    text = subprocess.run(["ip", "netns", "exec", f"{LAB}-client", "sockperf", "ping-pong", "-i", SERVER, "-p", "11111",
                           "-t", str(seconds), "--full-rtt"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout
    found = [re.search(pattern, text) for pattern in (r"avg-(?:rtt|lat)\s*=\s*([0-9.]+)", r"percentile 50\.000\s*=\s*([0-9.]+)",
                                                        r"percentile 99\.000\s*=\s*([0-9.]+)")]
    return [float(match.group(1)) if match else float("nan") for match in found]


def queue_table(role):
    """/proc/net/netfilter/nfnetlink_queue of `role` by queue: queue, portid, waiting, copy mode and range, queue dropped, user dropped, last id, 1."""
    text = ns(role, "cat", "/proc/net/netfilter/nfnetlink_queue", check=False)
    return {int(fields[0]): [int(field) for field in fields] for fields in (line.split() for line in text.splitlines()) if fields}


def reference_start(role):
    """The C consumer on queue 0 in namespace `role` (the caller diverts to it)."""
    return start(role, f"{BENCH}/nfq-reference", "0")


def netfault_start(role, rules, report):
    """netfault in `role` with rule file `rules`, its JSON report to `report`, its control socket
    at `report`.sock; not up a second later, the bench ends."""
    process = start(role, NETFAULT, "apply", rules, "--report", "json", "--report-file", report, "--control", report + ".sock",
                    stderr=open(report + ".err", "w"))
    time.sleep(1)
    if process.poll() is not None:
        sys.exit(f"Scripts/bench: netfault did not start: {open(report + '.err').read()}")
    return process


def netfault_health(*reports):
    """The queue's health from netfault's JSON reports, summed."""
    queues = [json.load(open(path))["queue"] for path in reports]
    total = lambda field: sum(queue[field] or 0 for queue in queues)
    return (f"kernel dropped {total('kernel_dropped')} (queue full) + {total('receive_buffer_dropped')} (receive buffer), "
            f"{total('escaped_fail_open')} escaped through fail-open, {total('packets')} packets")


def iptables_queue(role, action, chain, *match, table="mangle"):
    ns(role, "iptables", "-t", table, action, chain, *match, "-j", "NFQUEUE", "--queue-num", "0", "--queue-bypass")


def divert_port(action, protocol, port):
    """`action` (-A, -D) the middlebox's diversion of both directions of `protocol` on `port` (either
    end's) to queue 0, where the C consumer or the C delayer takes them."""
    for match in (["--sport", str(port)], ["--dport", str(port)]):
        iptables_queue("mbox", action, "FORWARD", "-p", protocol, *match)


def cpu_ns(process):
    """CPU time (ns) the process has run so far, all its threads."""
    directory, total = f"/proc/{process.pid}/task", 0
    for task in os.listdir(directory):
        try:
            total += int(open(f"{directory}/{task}/schedstat").read().split()[0])
        except FileNotFoundError:
            pass  # a thread that ended meanwhile
    return total


def api(socket_path, method, path, body=None):
    """One request to netfault's control socket: (status, body)."""
    import http.client, socket as sockets

    class UnixConnection(http.client.HTTPConnection):
        def connect(self):
            self.sock = sockets.socket(sockets.AF_UNIX, sockets.SOCK_STREAM)
            self.sock.connect(socket_path)

    connection = UnixConnection("localhost", timeout=10)
    connection.request(method, path, body=body)
    response = connection.getresponse()
    answer = (response.status, response.read().decode())
    connection.close()
    return answer


def median_interval(values):
    """The median of `values` and its bootstrap 95% interval (10 000 resamples)."""
    medians = sorted(statistics.median(random.choices(values, k=len(values))) for _ in range(10000))
    return statistics.median(values), medians[250], medians[-251]


_echo = []


def echo_server():
    """Bench/udp-pingpong's echo on the server's UDP port 7, started once for the arms that ping."""
    if not _echo:
        _echo.append(start("server", f"{BENCH}/udp-pingpong", "server", SERVER, "7"))
        time.sleep(0.3)
