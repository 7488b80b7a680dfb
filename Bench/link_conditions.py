"""Scripts/bench's link-condition arms: netfault's delay, jitter, loss and rate beside tc netem's,
on the middlebox's forwarding path of the same lab, in the same run.

This kernel may lack netem (CONFIG_NET_SCH_NETEM): each arm tries it in the lab and runs it where
it loads, and always runs the references beside netfault the same way:
  delay, jitter: Bench/nfq-delayer.c, a C NFQUEUE consumer releasing each packet by an absolute
                 timerfd at arrival + the delay (or a draw), and the configured value itself;
  goodput:       the C delayer with the same loss and delay, and the Mathis bound;
  rate:          the kernel's tbf and htb at the same rate and burst;
  burst loss:    the model's closed forms.
Client ports divide the probe traffic between them packet by packet: 40000 goes through no queue
(the path's own round trip), 40001 through the C delayer (queue 0), 40002 through netfault
(queue 1), 40003 through netem (a prio qdisc's third band, chosen by a u32 filter)."""
import json, math, os, re, statistics, subprocess, time

from benchlab import (BENCH, LAB, SERVER, cpu_ns, divert_port, echo_server, median_interval, netfault_start, ns, queue_table, record,
                      start, stop, write)

BASE, DELAYER, NETFAULT_PORT, NETEM_PORT = 40000, 40001, 40002, 40003
ECHO = "7"
EGRESS = "toserver"  # the middlebox's interface toward the server: client → server packets leave by it
_netem = None


def rounds():
    return int(os.environ.get("LINK_ROUNDS", "4"))


def netem_available():
    """Whether this kernel has netem, tried once in the lab's middlebox (the qdisc is removed again)."""
    global _netem
    if _netem is None:
        tried = subprocess.run(["ip", "netns", "exec", f"{LAB}-mbox", "tc", "qdisc", "add", "dev", EGRESS, "root", "netem",
                                "delay", "1ms"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        _netem = tried.returncode == 0
        if _netem:
            tc("qdisc", "del", "dev", EGRESS, "root")
        print("    netem: " + ("present, measured beside the references" if _netem else
                               f"not in this kernel ({tried.stdout.strip()}); the references stand in for it"), flush=True)
    return _netem


def tc(*arguments, check=True):
    ns("mbox", "tc", *arguments, check=check)


def netem_for_port(port, *parameters):
    """netem with `parameters` on the client → server packets from UDP `port` only."""
    tc("qdisc", "add", "dev", EGRESS, "root", "handle", "1:", "prio")
    tc("qdisc", "add", "dev", EGRESS, "parent", "1:3", "handle", "30:", "netem", *parameters, "limit", "100000")
    tc("filter", "add", "dev", EGRESS, "parent", "1:0", "protocol", "ip", "prio", "1", "u32", "match", "ip", "sport", str(port),
       "0xffff", "flowid", "1:3")


def qdisc_clear():
    tc("qdisc", "del", "dev", EGRESS, "root", check=False)


def netfault_rules(work, name, rules, seed=11):
    return write(os.path.join(work, name + ".yaml"), f"hooks: [forward]\nqueue: 1\nmax_held: 200000\nseed: {seed}\nrules:\n" + rules)


def probe(seconds, interval_us, ports):
    """The open-loop probe (udp-pingpong stream): {port: [(sequence, round trip in µs)]}, {port: sent}.
    The server's echo (port 7) starts with the first probe."""
    echo_server()
    text = ns("client", f"{BENCH}/udp-pingpong", "stream", SERVER, ECHO, str(seconds), str(interval_us), *map(str, ports))
    echoes, sent = {port: [] for port in ports}, {}
    for line in text.splitlines():
        fields = line.split()
        if fields[0] == "sent":
            sent[int(fields[1])] = int(fields[2])
        else:
            echoes[int(fields[0])].append((int(fields[1]), int(fields[2]) / 1e3))
    return echoes, sent


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


class Consumers:
    """The C delayer, netfault and netem (where the kernel has it) set up for one round, started
    in the order given and stopped together: each with its CPU time and queue packets counted."""

    def __init__(self, work, label, delayer_arguments, netfault_action, netem_parameters, order):
        self.report = os.path.join(work, f"{label}.json")
        rules = netfault_rules(work, label, "  - {name: link, match: {protocol: udp, client_port: %d, from: client}, action: %s}\n"
                               % (NETFAULT_PORT, netfault_action))
        self.netem = netem_parameters is not None and netem_available()
        starters = {"delayer": lambda: self.start_delayer(delayer_arguments), "netfault": lambda: self.start_netfault(rules)}
        for name in order:
            starters[name]()
        if self.netem:
            netem_for_port(NETEM_PORT, *netem_parameters)
        time.sleep(0.5)
        self.cpu0 = {"delayer": cpu_ns(self.delayer), "netfault": cpu_ns(self.netfault)}
        table = queue_table("mbox")
        self.ids0 = {"delayer": table[0][7], "netfault": table[1][7]}

    def start_delayer(self, arguments):
        divert_port("-A", "udp", DELAYER)
        self.delayer = start("mbox", f"{BENCH}/nfq-delayer", "0", *arguments, "--to-port", ECHO)

    def start_netfault(self, rules):
        self.netfault = netfault_start("mbox", rules, self.report)

    def ports(self):
        return [BASE, DELAYER, NETFAULT_PORT] + ([NETEM_PORT] if self.netem else [])

    def cpu_per_packet(self):
        """CPU µs each consumer spent per packet through its queue since the start."""
        table = queue_table("mbox")
        return {name: (cpu_ns(process) - self.cpu0[name]) / 1e3 / max(1, table[queue][7] - self.ids0[name])
                for name, process, queue in (("delayer", self.delayer, 0), ("netfault", self.netfault, 1))}

    def stop(self):
        stop(self.delayer)
        stop(self.netfault)
        divert_port("-D", "udp", DELAYER)
        if self.netem:
            qdisc_clear()
        queue = json.load(open(self.report))["queue"]
        return queue["kernel_dropped"] + queue["receive_buffer_dropped"]


TOOLS = (("delayer", DELAYER, "C delayer"), ("netfault", NETFAULT_PORT, "netfault"), ("netem", NETEM_PORT, "netem"))


def added_delays(echoes, ports):
    """Each probe's added delay: its round trip less the median of the unqueued port's, in µs."""
    base = statistics.median(trip for _, trip in echoes[BASE])
    return {port: [trip - base for _, trip in echoes[port]] for port in ports}


def arm_delay(seconds, work, files):
    """(l) Delay fidelity: 250 µs, 1 ms, 10 ms and 100 ms on each client → server probe; the error
    of each packet's added delay against the configured one at p50, p99 and max; per round the
    difference of netfault's p99 error from the C delayer's, median and 95% interval."""
    print(f"(l) delay fidelity: netfault, the C delayer and netem on the same probes, {rounds()} rounds per delay", flush=True)
    for label, microseconds in (("250us", 250), ("1ms", 1000), ("10ms", 10000), ("100ms", 100000)):
        errors, p99_differences, cpu, dropped = {name: [] for name, _, _ in TOOLS}, [], {"delayer": [], "netfault": []}, 0
        for number in range(rounds()):
            order = ["delayer", "netfault"] if number % 2 == 0 else ["netfault", "delayer"]
            consumers = Consumers(work, f"l{label}{number}", [str(microseconds)], "{delay: %s}" % label, ["delay", label], order)
            echoes, sent = probe(seconds, 300, consumers.ports())
            for name, value in consumers.cpu_per_packet().items():
                cpu[name].append(value)
            dropped += consumers.stop()
            added = added_delays(echoes, consumers.ports())
            round_errors = {}
            for name, port, _ in TOOLS:
                if port in added:
                    round_errors[name] = [value - microseconds for value in added[port]]
                    errors[name] += round_errors[name]
            p99_differences.append(percentile(round_errors["netfault"], 0.99) - percentile(round_errors["delayer"], 0.99))
        for name, _, title in TOOLS:
            if errors[name]:
                values = errors[name]
                record("l", f"{label} {name} error p99", [percentile(values, 0.99)])
                print(f"    {label:>5} {title:>9}: error p50 {percentile(values, 0.5):+8.1f} µs, p99 {percentile(values, 0.99):+8.1f} µs, "
                      f"max {max(values):+9.1f} µs ({len(values)} packets)")
        print("    %5s netfault p99 - C delayer p99 per round: median %+.1f µs, 95%% interval [%+.1f, %+.1f]; CPU per packet: "
              "netfault %.2f µs, C delayer %.2f µs (medians); kernel dropped %d" % ((label,) + median_interval(p99_differences)
              + (statistics.median(cpu["netfault"]), statistics.median(cpu["delayer"]), dropped)), flush=True)


def arm_jitter(seconds, work, files):
    """(j) Jitter: 10 ms ± 5 ms, uniform and normal; the realized distribution of added delays
    (standard deviation, p5, p50, p95) against the configured one's."""
    print(f"(j) jitter: 10 ms ± 5 ms, uniform and normal, {rounds()} rounds each", flush=True)
    expected = {"uniform": (5000 / math.sqrt(3), 10000 - 4500, 10000, 10000 + 4500),
                "normal": (5000, 10000 - 1.645 * 5000, 10000, 10000 + 1.645 * 5000)}
    for distribution in ("uniform", "normal"):
        added, ratios = {name: [] for name, _, _ in TOOLS}, []
        for number in range(rounds()):
            order = ["delayer", "netfault"] if number % 2 == 0 else ["netfault", "delayer"]
            consumers = Consumers(work, f"j{distribution}{number}", ["10000", "--jitter", "5000", "--distribution", distribution],
                                  "{delay: 10ms, jitter: 5ms, distribution: %s}" % distribution,
                                  ["delay", "10ms", "5ms", "distribution", distribution], order)
            echoes, _ = probe(seconds, 300, consumers.ports())
            consumers.stop()
            delays = added_delays(echoes, consumers.ports())
            for name, port, _ in TOOLS:
                added[name] += delays.get(port, [])
            ratios.append(statistics.pstdev(delays[NETFAULT_PORT]) / statistics.pstdev(delays[DELAYER]))
        deviation, p5, p50, p95 = expected[distribution]
        print(f"    {distribution:>7} configured: deviation {deviation / 1e3:.3f} ms, p5 {p5 / 1e3:.2f}, p50 {p50 / 1e3:.2f}, p95 {p95 / 1e3:.2f} ms")
        for name, _, title in TOOLS:
            values = added[name]
            if values:
                realized = statistics.pstdev(values)
                record("j", f"{distribution} {name} deviation ratio", [realized / deviation])
                print(f"    {distribution:>7} {title:>10}: deviation {realized / 1e3:.3f} ms ({realized / deviation:.3f} of configured), "
                      f"p5 {percentile(values, 0.05) / 1e3:.2f}, p50 {percentile(values, 0.5) / 1e3:.2f}, "
                      f"p95 {percentile(values, 0.95) / 1e3:.2f} ms ({len(values)} packets)", flush=True)
        print("    %7s netfault σ / C delayer σ per round: median %.3f, 95%% interval [%.3f, %.3f]"
              % ((distribution,) + median_interval(ratios)), flush=True)


def bursts(sequences_lost):
    """The lengths of the runs of consecutive lost sequence numbers."""
    lengths, run, last = [], 0, None
    for sequence in sorted(sequences_lost):
        if last is not None and sequence == last + 1:
            run += 1
        else:
            if run:
                lengths.append(run)
            run = 1
        last = sequence
    if run:
        lengths.append(run)
    return lengths


def arm_burst_loss(seconds, work, files):
    """(e) Burst loss: probes at 25 000 a second through a Gilbert model (p 1%, r 30%: loss
    p/(p+r) = 3.23%, bursts geometric with mean 1/r = 3.33) and through independent 1% loss (mean
    burst 1/(1 - p) = 1.01); the loss, the mean burst and its distribution against the model's,
    and netfault's count of what it dropped against what never came back."""
    print("(e) burst loss against the model", flush=True)
    models = (("gilbert p 1% r 30%", "{loss: {model: gilbert-elliott, p: 1%, r: 30%, h: 0%, k: 100%}}",
               ["loss", "gemodel", "1%", "30%", "100%", "0%"], 0.01, 0.30),
              ("independent 1%", "{loss: {model: gilbert-elliott, p: 1%}}", ["loss", "1%"], 0.01, 0.99))
    for title, action, netem_parameters, p, r in models:
        rules = netfault_rules(work, "e", "  - {name: link, match: {protocol: udp, client_port: %d, from: client}, action: %s}\n"
                               % (NETFAULT_PORT, action))
        report = os.path.join(work, "e.json")
        netfault = netfault_start("mbox", rules, report)
        netem = netem_available()
        if netem:
            netem_for_port(NETEM_PORT, *netem_parameters)
        ports = [NETFAULT_PORT] + ([NETEM_PORT] if netem else [])
        echoes, sent = probe(seconds * 2, 40 // len(ports), ports)
        stop(netfault)
        if netem:
            qdisc_clear()
        result = json.load(open(report))
        queue, fired = result["queue"], next(rule["fired"] for rule in result["rules"] if rule["name"] == "link")
        expected_loss, expected_burst = p / (p + r), 1 / r
        print(f"    {title}: model loss {expected_loss * 100:.2f}%, mean burst {expected_burst:.2f}, "
              f"P(1) {r:.3f}, P(2) {r * (1 - r):.3f}, P(>=3) {(1 - r) ** 2:.3f}")
        for port, name in ((NETFAULT_PORT, "netfault"), (NETEM_PORT, "netem")):
            if port not in ports:
                continue
            received = {sequence for sequence, _ in echoes[port]}
            lost = set(range(sent[port])) - received
            lengths = bursts(lost)
            share = lambda test: sum(1 for length in lengths if test(length)) / max(1, len(lengths))
            mean = statistics.mean(lengths) if lengths else float("nan")
            record("e", f"{title} {name} burst ratio", [mean / expected_burst])
            print(f"      {name:>8}: loss {len(lost) / sent[port] * 100:.2f}% ({len(lost)} of {sent[port]}), mean burst {mean:.2f} "
                  f"({mean / expected_burst:.3f} of the model's), P(1) {share(lambda n: n == 1):.3f}, P(2) {share(lambda n: n == 2):.3f}, "
                  f"P(>=3) {share(lambda n: n >= 3):.3f}"
                  + (f"; netfault dropped {fired}, kernel dropped {queue['kernel_dropped'] + queue['receive_buffer_dropped']}"
                     if name == "netfault" else ""), flush=True)


def mathis(rtt_seconds, loss, streams, mss=1448):
    """The Mathis et al. bound on TCP goodput, Mbit/s: streams × MSS / RTT × sqrt(3/2) / sqrt(p)."""
    return streams * mss * 8 / rtt_seconds * math.sqrt(1.5) / math.sqrt(loss) / 1e6


def arm_goodput(seconds, work, files):
    """(g) iperf3 TCP uploads under 20 ms ± 5 ms and 1% loss, and under 50 ms and 0.1% loss, on the
    data direction, with 1 and 4 streams: netfault, the C delayer (same delay, its own loss from
    the same round's seed) and netem, round by round in turn; against the Mathis bound. The senders run Reno, the
    congestion control the bound is derived for (this host's default, BBR, does not back off on
    random loss, and its goodput says nothing of the loss)."""
    print(f"(g) TCP goodput under delay and loss, {rounds()} rounds", flush=True)
    conditions = (("20±5ms 1%", "20ms", "5ms", "1%", 20000, 5000, 1.0), ("50ms 0.1%", "50ms", None, "0.1%", 50000, 0, 0.1))
    for title, delay, jitter, loss, delay_us, jitter_us, loss_percent in conditions:
        netfault_action = "{delay: %s%s}" % (delay, f", jitter: {jitter}" if jitter else "")
        rules = ("  - {name: loss, match: {server_port: 5201, from: client, probability: %s}, action: drop}\n"
                 "  - {name: link, match: {server_port: 5201, from: client}, action: %s}\n" % (loss, netfault_action))
        for streams in (1, 4):
            runs, tools = {"delayer": [], "netfault": [], "netem": []}, ["delayer", "netfault"] + (["netem"] if netem_available() else [])
            retransmitted, lost = {tool: [] for tool in tools}, {tool: [] for tool in tools}
            for number in range(rounds()):
                for tool in tools[number % len(tools):] + tools[:number % len(tools)]:
                    # Each round draws its losses from a seed of its own, in both tools: a fixed seed
                    # would repeat one draw's luck in every round.
                    seed = 1000 * streams + number + 1
                    mbits, share, loss_share = goodput_run(tool, seconds * 2, streams, netfault_rules(work, "g", rules, seed), work,
                                                           [str(delay_us), "--jitter", str(jitter_us), "--loss", str(loss_percent),
                                                            "--seed", str(seed)],
                                                           ["delay", delay] + ([jitter] if jitter else []) + ["loss", loss])
                    runs[tool].append(mbits)
                    retransmitted[tool].append(share)
                    lost[tool].append(loss_share)
            bound = mathis((delay_us + 60) / 1e6, loss_percent / 100, streams)
            print("    %s, %d stream(s): goodput Mbit/s (medians): %s; Mathis bound %.2f" % (title, streams, ", ".join(
                f"{tool} {statistics.median(runs[tool]):.2f} (lost {statistics.median(lost[tool]) * 100:.3f}%, retransmitted "
                f"{statistics.median(retransmitted[tool]) * 100:.2f}%)" for tool in tools), bound))
            # Few losses make a run (0.1% of 10 s at 10 Mbit/s is about 9): Mathis' goodput × sqrt(loss)
            # takes out how many a run happened to draw, and leaves what the tool did to TCP.
            for other in tools[:1] + tools[2:]:
                ratios = [n / d for n, d in zip(runs["netfault"], runs[other])]
                normalized = [(n * math.sqrt(pn)) / (d * math.sqrt(pd)) for n, d, pn, pd in
                              zip(runs["netfault"], runs[other], lost["netfault"], lost[other])]
                record("g", f"{title} {streams} netfault/{other}", ratios)
                print("      netfault / %s per round: median %.3f, 95%% interval [%.3f, %.3f]; with each run's own loss (× sqrt): "
                      "median %.3f, [%.3f, %.3f]" % ((other,) + median_interval(ratios) + median_interval(normalized)), flush=True)


def tcp_counters(role):
    """The Tcp: line of /proc/net/snmp in namespace `role`, by name (InSegs, OutSegs, RetransSegs, ...)."""
    lines = [line.split()[1:] for line in ns(role, "cat", "/proc/net/snmp").splitlines() if line.startswith("Tcp:")]
    return {name: int(value) for name, value in zip(lines[0], lines[1])}


def goodput_run(tool, seconds, streams, rules, work, delayer_arguments, netem_parameters):
    """One iperf3 upload through `tool`: the goodput the server received (Mbit/s), the share of the
    client's segments that were retransmissions, and the share of the data packets `tool` lost."""
    report_path, counts = os.path.join(work, "g.json"), os.path.join(work, "g.delayer")
    if tool == "netfault":
        process = netfault_start("mbox", rules, report_path)
    elif tool == "delayer":
        divert_port("-A", "tcp", 5201)
        process = start("mbox", f"{BENCH}/nfq-delayer", "0", *delayer_arguments, "--to-port", "5201", stderr=open(counts, "w"))
        time.sleep(0.5)
    else:
        tc("qdisc", "add", "dev", EGRESS, "root", "netem", *netem_parameters, "limit", "100000")
        process = None
    lost = None
    try:
        before = tcp_counters("client")
        report = json.loads(ns("client", "iperf3", "-c", SERVER, "-C", "reno", "-t", str(seconds), "-P", str(streams), "-J"))
        after = tcp_counters("client")
        if tool == "netem":  # "Sent B bytes P pkt (dropped D, ...": all of the interface's packets
            sent, dropped = map(int, re.search(r"Sent \d+ bytes (\d+) pkt \(dropped (\d+)", ns("mbox", "tc", "-s", "qdisc", "show", "dev", EGRESS)).groups())
            lost = dropped / max(1, sent + dropped)
    finally:
        if process:
            stop(process)
        if tool == "delayer":
            divert_port("-D", "tcp", 5201)
        if tool == "netem":
            qdisc_clear()
    if tool == "netfault":
        fired = {rule["name"]: rule["fired"] for rule in json.load(open(report_path))["rules"]}
        lost = fired["loss"] / max(1, fired["loss"] + fired["link"])
    elif tool == "delayer":  # "nfq-delayer: packets N delayed N lost N"
        delayed, dropped = map(int, re.search(r"delayed (\d+) lost (\d+)", open(counts).read()).groups())
        lost = dropped / max(1, delayed + dropped)
    retransmitted = (after["RetransSegs"] - before["RetransSegs"]) / max(1, after["OutSegs"] - before["OutSegs"])
    return report["end"]["sum_received"]["bits_per_second"] / 1e6, retransmitted, lost


def arm_rate(seconds, work, files):
    """(r) Rate accuracy at 10 Mbit/s, 100 Mbit/s and 1 Gbit/s: UDP offered at 1.5 times the rate
    (iperf3, 1400-byte datagrams) through netfault's `rate` (overhead 14, so that it counts Ethernet
    frames as tbf does), tbf, htb (with a bfifo of the same 100 ms) and netem's rate where the
    kernel has it; the frame rate the server received over the set one, and the queueing delay a
    probe every 10 ms met in the full queue (its round trip less the idle path's)."""
    print(f"(r) rate accuracy, {rounds()} rounds", flush=True)
    for label, bits, burst in (("10Mbit", 10e6, "32KiB"), ("100Mbit", 100e6, "64KiB"), ("1Gbit", 1e9, "128KiB")):
        tools = ["netfault", "tbf", "htb"] + (["netem"] if netem_available() else [])
        rates, delays, cpu = {tool: [] for tool in tools}, {tool: [] for tool in tools}, []
        rules = netfault_rules(work, "r", "  - {name: link, match: {protocol: udp, from: client}, "
                               "action: {rate: %s, burst: %s, queue: 100ms, overhead: 14}}\n" % (label, burst))
        for number in range(rounds()):
            for tool in tools[number % len(tools):] + tools[:number % len(tools)]:
                rate, delay, cost = rate_run(tool, bits, burst, seconds, rules, work)
                rates[tool].append(rate / bits)
                delays[tool].append(delay)
                if cost is not None:
                    cpu.append(cost)
        for tool in tools:
            record("r", f"{label} {tool} rate ratio", rates[tool])
        print(f"    {label}: measured / set, medians (min-max): " + ", ".join(
            f"{tool} {statistics.median(rates[tool]):.4f} ({min(rates[tool]):.4f}-{max(rates[tool]):.4f})" for tool in tools)
            + "; queueing delay p50: " + ", ".join(f"{tool} {statistics.median(delays[tool]):.1f} ms" for tool in tools)
            + f"; netfault CPU per packet {statistics.median(cpu):.2f} µs", flush=True)


def rate_run(tool, bits, burst, seconds, rules, work):
    """One run through `tool`: (frame bits per second the server received from second 1 on, the
    probes' median queueing delay in ms, netfault's CPU µs per queued packet or None)."""
    process = None
    if tool == "netfault":
        process = netfault_start("mbox", rules, os.path.join(work, "r.json"))
        cpu0, id0 = cpu_ns(process), queue_table("mbox")[1][7]
    elif tool == "tbf":
        tc("qdisc", "add", "dev", EGRESS, "root", "tbf", "rate", str(int(bits)), "burst", burst.replace("KiB", "kb"), "latency", "100ms")
    elif tool == "htb":
        tc("qdisc", "add", "dev", EGRESS, "root", "handle", "1:", "htb", "default", "1")
        tc("class", "add", "dev", EGRESS, "parent", "1:", "classid", "1:1", "htb", "rate", str(int(bits)), "ceil", str(int(bits)),
           "burst", burst.replace("KiB", "kb"))
        tc("qdisc", "add", "dev", EGRESS, "parent", "1:1", "handle", "10:", "bfifo", "limit", str(int(bits / 8 * 0.1)))
    else:
        tc("qdisc", "add", "dev", EGRESS, "root", "netem", "rate", str(int(bits)), "limit", str(int(bits / 8 * 0.1 / 1414)))
    try:
        idle, _ = probe(0.5, 10000, [BASE])
        base = statistics.median(trip for _, trip in idle[BASE])
        load = start("client", "iperf3", "-c", SERVER, "-u", "-b", str(int(bits * 1.5)), "-l", "1400", "-t", str(seconds + 1))
        time.sleep(1)
        path = "/sys/class/net/eth0/statistics/rx_bytes"
        frames0, time0 = int(ns("server", "cat", path)), time.monotonic()
        echoes, _ = probe(max(1, seconds - 2.5), 10000, [BASE])  # and 2 s for stragglers
        frames1, time1 = int(ns("server", "cat", path)), time.monotonic()
        load.wait()
        cost = None
        if process:
            cost = (cpu_ns(process) - cpu0) / 1e3 / max(1, queue_table("mbox")[1][7] - id0)
        delays = [trip - base for _, trip in echoes[BASE]]
        return (frames1 - frames0) * 8 / (time1 - time0), statistics.median(delays) / 1e3 if delays else float("nan"), cost
    finally:
        if process:
            stop(process)
        else:
            qdisc_clear()


ARMS = (("l", arm_delay), ("j", arm_jitter), ("e", arm_burst_loss), ("g", arm_goodput), ("r", arm_rate))
