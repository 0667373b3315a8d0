#!/usr/bin/env python3
"""The coderdns benchmark: see bench/run and docs/benchmarks.md.

Generates the workspace state (coderdns JSON, and the same names as a zone file for knotd and
nsd) and a dnsperf query file; runs each server in turn, pinned to CPU 0, inside a network
namespace (netns) on [fd60:627a:a42b::53]:53 with dnsperf pinned to CPU 1; prints a table and (full
runs) writes docs/benchmarks.md and docs/benchmarks.png.

Only the Python standard library is used.
"""

import argparse
import datetime
import ipaddress
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

ADDRESS = "fd60:627a:a42b::53"
PREFIX = bytes.fromhex("fd60627aa42b")
SENTINEL = "is.coder--connect--enabled--right--now.coder"
OWNER = "alice"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

ADJECTIVES = ["brave", "calm", "eager", "fancy", "gentle", "happy", "jolly", "kind", "lucky", "merry",
              "nimble", "proud", "quick", "rapid", "silly", "tidy", "vivid", "witty", "zesty", "bold"]
NOUNS = ["otter", "falcon", "maple", "river", "comet", "badger", "cedar", "harbor", "lynx", "meadow",
         "nebula", "orchid", "pebble", "quartz", "raven", "summit", "tundra", "violet", "willow", "yak"]
AGENTS = ["main", "dev", "agent", "coder", "box"]


def log(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Data


def generate(directory, workspaces, query_count, seed=1):
    """Writes state.json, coder.zone and queries.txt; returns the number of names served."""
    rng = random.Random(seed)
    state = []
    zone = [
        "$ORIGIN coder.",
        "$TTL 2",
        f"@ IN SOA {SENTINEL}. hostmaster.coder. 1 3600 600 86400 2",
        f"@ IN NS {SENTINEL}.",
        f"{SENTINEL}. IN AAAA {ADDRESS}",
    ]
    names = []
    for index in range(workspaces):
        workspace = f"{rng.choice(ADJECTIVES)}-{rng.choice(NOUNS)}-{index}"
        agent = rng.choice(AGENTS)
        workspace_id = format_uuid(uuid_from(rng))
        agent_uuid = uuid_from(rng)
        address = str(ipaddress.IPv6Address(PREFIX + agent_uuid[6:16]))
        state.append({"id": workspace_id, "name": workspace, "status": "RUNNING",
                      "agents": [{"id": format_uuid(agent_uuid), "name": agent}]})
        for name in (f"{agent}.{workspace}.me", f"{agent}.{workspace}.{OWNER}", workspace):
            zone.append(f"{name} IN AAAA {address}")
            names.append(f"{name}.coder")
    with open(os.path.join(directory, "state.json"), "w") as file:
        json.dump({"workspaces": state}, file, separators=(",", ":"))
    with open(os.path.join(directory, "coder.zone"), "w") as file:
        file.write("\n".join(zone) + "\n")

    lines = []
    for _ in range(query_count):
        draw = rng.random()
        if draw < 0.80:
            name, qtype = rng.choice(names), "AAAA"
        elif draw < 0.88:
            name, qtype = rng.choice(names), "A"
        elif draw < 0.96:
            # NXDOMAIN inside the zone: an unknown agent, or an unknown workspace.
            known = rng.choice(names)
            if rng.random() < 0.5:
                name = f"nx{rng.randrange(10**6)}.{known}"
            else:
                name = f"gone-{rng.randrange(10**9)}.coder"
            qtype = "AAAA"
        else:
            name, qtype = SENTINEL, "AAAA"
        if rng.random() < 0.10:
            name = mixed_case(name, rng)
        lines.append(f"{name} {qtype}")
    with open(os.path.join(directory, "queries.txt"), "w") as file:
        file.write("\n".join(lines) + "\n")
    return len(names) + 1


def uuid_from(rng):
    return bytes(rng.getrandbits(8) for _ in range(16))


def format_uuid(raw):
    text = raw.hex()
    return f"{text[0:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:32]}"


def mixed_case(name, rng):
    # At least one letter flipped, so every such name really differs from the stored one.
    letters = [i for i, c in enumerate(name) if c.isalpha()]
    chars = list(name)
    for i in letters:
        if rng.random() < 0.5:
            chars[i] = chars[i].upper()
    if letters and "".join(chars) == name:
        chars[letters[0]] = chars[letters[0]].upper()
    return "".join(chars)


# ---------------------------------------------------------------------------------------------
# Namespace and processes


class Namespace:
    def __init__(self):
        self.name = f"cdnsbench{os.getpid()}"

    def __enter__(self):
        run(["ip", "netns", "add", self.name])
        self.exec(["ip", "link", "set", "lo", "up"])
        self.exec(["ip", "addr", "add", f"{ADDRESS}/128", "dev", "lo", "nodad"])
        return self

    def __exit__(self, *_):
        subprocess.run(["ip", "netns", "delete", self.name], check=False)

    def command(self, argv, cpu=None):
        prefix = ["ip", "netns", "exec", self.name]
        if cpu is not None:
            # Pinned, and favoured over whatever else runs on the machine (nice -15 weighs
            # about 30 times a default process), so a compiler elsewhere moves the figures less.
            prefix += ["nice", "-n", "-15", "taskset", "-c", str(cpu)]
        return prefix + argv

    def exec(self, argv, **kwargs):
        return run(self.command(argv), **kwargs)


def run(argv, **kwargs):
    return subprocess.run(argv, check=True, **kwargs)


def process_tree(root):
    """root and its descendants (nsd forks its server and xfrd processes)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as file:
                fields = file.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending.extend(children.get(pid, []))
    return tree


def cpu_seconds(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as file:
                fields = file.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except OSError:
            pass
    return total / CLOCK_TICKS


def peak_rss_kib(pids, field="VmHWM:"):
    """The largest VmHWM (or another field) among the server's processes (nsd's children share
    its pages, so a sum would count them twice)."""
    peak = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as file:
                for line in file:
                    if line.startswith(field):
                        peak = max(peak, int(line.split()[1]))
        except OSError:
            pass
    return peak


def probe(namespace, name=SENTINEL, timeout=0.3):
    """One AAAA query from inside the namespace; the RCODE, or None without an answer."""
    script = (
        "import socket,struct,sys\n"
        "q=struct.pack('>HHHHHH',0x4242,0x0100,1,0,0,0)+b''.join(bytes([len(l)])+l.encode() "
        f"for l in {name!r}.split('.'))+b'\\0'+struct.pack('>HH',28,1)\n"
        "s=socket.socket(socket.AF_INET6,socket.SOCK_DGRAM);s.settimeout(" + str(timeout) + ")\n"
        f"s.sendto(q,({ADDRESS!r},53))\n"
        "try:\n r=s.recv(4096);print(r[3]&15, struct.unpack('>H',r[6:8])[0])\n"
        "except OSError: print('none')\n")
    out = subprocess.run(namespace.command([sys.executable, "-c", script]), capture_output=True, text=True)
    words = out.stdout.split()
    return None if not words or words[0] == "none" else (int(words[0]), int(words[1]))


# ---------------------------------------------------------------------------------------------
# Servers


class Server:
    label = "?"

    def __init__(self, directory):
        self.directory = directory
        self.process = None
        self.stderr_lines = []

    def argv(self):
        raise NotImplementedError

    def prepare(self):
        pass

    def start(self, namespace, cpu=0):
        self.prepare()
        self.stderr_lines = []
        argv = namespace.command(self.argv(), cpu=cpu)
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.started = time.monotonic()
        threading.Thread(target=self._read_stderr, daemon=True).start()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.label} exited: {''.join(l for _, l in self.stderr_lines)[-2000:]}")
            answer = probe(namespace)
            if answer is not None and answer[0] == 0 and answer[1] == 1:
                self.ready_seconds = time.monotonic() - self.started
                return
            time.sleep(0.05)
        raise RuntimeError(f"{self.label} did not answer the sentinel within 120 s")

    def _read_stderr(self):
        for line in self.process.stderr:
            self.stderr_lines.append((time.monotonic(), line))

    def pids(self):
        return process_tree(self.process.pid)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


class CoderDNS(Server):
    def __init__(self, directory, binary, workers=1, label=None):
        super().__init__(directory)
        self.binary = binary
        self.workers = workers
        self.label = label or ("coderdns" if workers == 1 else f"coderdns-w{workers}")

    def argv(self):
        # As the README starts it: the data and the address, nothing else. The server is pinned
        # to one CPU, so its default worker count (the CPUs it may use) is 1. Extra columns only:
        # -w2 (--workers 2).
        extra = [] if self.workers == 1 else ["--workers", str(self.workers)]
        return [self.binary, "serve", "--snapshot", os.path.join(self.directory, "state.json"),
                "--owner", OWNER, "--listen", f"[{ADDRESS}]:53"] + extra


class Knot(Server):
    label = "knotd"

    def prepare(self):
        base = os.path.join(self.directory, "knot")
        shutil.rmtree(base, ignore_errors=True)
        os.makedirs(os.path.join(base, "run"))
        os.makedirs(os.path.join(base, "db"))
        with open(os.path.join(base, "knot.conf"), "w") as file:
            file.write(f"""server:
    rundir: "{base}/run"
    listen: {ADDRESS}@53
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "{base}/db"
log:
  - target: stderr
    any: warning
template:
  - id: default
    storage: "{self.directory}"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
    semantic-checks: off
zone:
  - domain: coder.
    file: "{self.directory}/coder.zone"
""")
        self.config = os.path.join(base, "knot.conf")

    def argv(self):
        return ["knotd", "-c", self.config]


class NSD(Server):
    label = "nsd"

    def prepare(self):
        base = os.path.join(self.directory, "nsd")
        shutil.rmtree(base, ignore_errors=True)
        os.makedirs(base)
        with open(os.path.join(base, "nsd.conf"), "w") as file:
            file.write(f"""server:
    ip-address: {ADDRESS}@53
    do-ip4: no
    server-count: 1
    rrl-ratelimit: 0
    username: ""
    chroot: ""
    database: ""
    zonelistfile: "{base}/zone.list"
    xfrdfile: "{base}/xfrd.state"
    xfrdir: "{base}"
    pidfile: "{base}/nsd.pid"
    verbosity: 0
    zonesdir: "{self.directory}"
remote-control:
    control-enable: no
zone:
    name: coder.
    zonefile: "{self.directory}/coder.zone"
""")
        self.config = os.path.join(base, "nsd.conf")

    def argv(self):
        return ["nsd", "-d", "-c", self.config]


# ---------------------------------------------------------------------------------------------
# dnsperf


def dnsperf(namespace, queries, seconds, rate=None, verbose=False, clients=8, outstanding=500):
    argv = ["dnsperf", "-s", ADDRESS, "-p", "53", "-d", queries, "-l", str(seconds), "-c", str(clients),
            "-T", "1", "-q", str(outstanding), "-t", "2"]
    if rate:
        argv += ["-Q", str(rate)]
    if verbose:
        argv += ["-v"]
    with tempfile.NamedTemporaryFile("w+", prefix="dnsperf-", suffix=".txt") as out:
        subprocess.run(namespace.command(argv, cpu=1), stdout=out, stderr=subprocess.STDOUT, check=True)
        out.seek(0)
        report = out.read()
    return parse_dnsperf(report)


def parse_dnsperf(report):
    def number(pattern, default=0.0):
        match = re.search(pattern, report)
        return float(match.group(1)) if match else default

    result = {
        "sent": number(r"Queries sent:\s+(\d+)"),
        "completed": number(r"Queries completed:\s+(\d+)"),
        "lost": number(r"Queries lost:\s+(\d+)"),
        "qps": number(r"Queries per second:\s+([\d.]+)"),
        "runtime": number(r"Run time \(s\):\s+([\d.]+)"),
        "noerror": number(r"NOERROR (\d+)"),
        "nxdomain": number(r"NXDOMAIN (\d+)"),
    }
    # -v: one line per answered query, "> RCODE name type latency-seconds".
    latencies = [float(m.group(1)) for m in re.finditer(r"^> \S+ \S+ \S+ ([\d.]+)$", report, re.M)]
    result["latencies"] = latencies
    return result


def percentile(values, fraction):
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(fraction * len(ordered) + 0.5)) - 1))
    return ordered[index]


# ---------------------------------------------------------------------------------------------
# Runs


def measure_slot(namespace, server, queries, seconds, rates, warmup):
    """Starts `server`, runs saturation and fixed-rate loads, stops it; returns the figures."""
    server.start(namespace)
    figures = {"ready": server.ready_seconds}
    try:
        if warmup:
            dnsperf(namespace, queries, warmup)
        result = dnsperf(namespace, queries, seconds)
        figures["qps"] = result["qps"]
        figures["lost"] = result["lost"]
        figures["rcodes"] = (result["noerror"], result["nxdomain"])
        for rate in rates:
            pids = server.pids()
            before = cpu_seconds(pids)
            result = dnsperf(namespace, queries, seconds, rate=rate, verbose=True)
            used = cpu_seconds(pids) - before
            runtime = result["runtime"] or seconds
            figures[rate] = {
                "cpu": used / runtime,
                "cpu_per_query_us": used / max(result["completed"], 1) * 1e6,
                "qps": result["qps"],
                "lost": result["lost"],
                "p50": percentile(result["latencies"], 0.50),
                "p99": percentile(result["latencies"], 0.99),
                "p999": percentile(result["latencies"], 0.999),
                "answers": len(result["latencies"]),
            }
            figures["lost"] += result["lost"]
        figures["rss_kib"] = peak_rss_kib(server.pids())
        figures["rss_now_kib"] = peak_rss_kib(server.pids(), "VmRSS:")
    finally:
        server.stop()
    return figures


def reload_under_load(namespace, server, queries, rate, seconds, reloads):
    """coderdns only: SIGHUP re-reads the state file while dnsperf runs at `rate`. Returns the
    time from each SIGHUP to the 'reloaded' log line (JSON parse + build + publish), and lost."""
    server.start(namespace)
    try:
        times = []
        phases = {}
        result = {}

        def load():
            result.update(dnsperf(namespace, queries, seconds, rate=rate))

        thread = threading.Thread(target=load)
        thread.start()
        time.sleep(1)
        for _ in range(reloads):
            seen = len(server.stderr_lines)
            sent = time.monotonic()
            server.process.send_signal(signal.SIGHUP)
            deadline = sent + 30
            while time.monotonic() < deadline:
                fresh = [(t, l) for t, l in server.stderr_lines[seen:] if "reload" in l]
                if fresh:
                    times.append(fresh[0][0] - sent)
                    line = fresh[0][1]
                    if "milliseconds=" in line:
                        phases.setdefault("server_ms", []).append(int(line.split("milliseconds=")[1].split()[0]))
                    break
                time.sleep(0.002)
            time.sleep(max(0.2, (seconds - 2) / reloads - times[-1] if times else 0.2))
        thread.join()
        return {"reload_ms": [t * 1000 for t in times], "server_ms": phases.get("server_ms", []), "lost": result.get("lost", -1),
                "qps": result.get("qps", 0), "completed": result.get("completed", 0)}
    finally:
        server.stop()


def scaling(namespace, binary, directory, queries, seconds):
    """Saturation with --workers 1 and 2, neither server nor dnsperf pinned."""
    rows = []
    for workers in (1, 2):
        server = CoderDNS(directory, binary, workers=workers)
        server.start(namespace, cpu=None)
        try:
            pids = server.pids()
            before = cpu_seconds(pids)
            result = dnsperf(namespace, queries, seconds, clients=16)
            used = cpu_seconds(pids) - before
            rows.append({"workers": workers, "qps": result["qps"], "lost": result["lost"],
                         "cpu": used / (result["runtime"] or seconds)})
        finally:
            server.stop()
    return rows


# ---------------------------------------------------------------------------------------------
# Report


def summarize(results, rates):
    """Per server: medians over rounds, and the spread of saturation QPS."""
    summary = {}
    for label, rounds in results.items():
        qps = [r["qps"] for r in rounds]
        entry = {
            "qps": statistics.median(qps),
            "qps_spread": (max(qps) - min(qps)) / statistics.median(qps) * 100 if qps and statistics.median(qps) else 0,
            "lost": sum(r["lost"] for r in rounds),
            "rss_mib": max(r["rss_kib"] for r in rounds) / 1024,
            "rss_now_mib": max(r["rss_now_kib"] for r in rounds) / 1024,
            "ready": statistics.median(r["ready"] for r in rounds),
        }
        for rate in rates:
            for key in ("qps", "cpu", "cpu_per_query_us", "p50", "p99", "p999"):
                entry[f"{key}@{rate}"] = statistics.median(r[rate][key] for r in rounds)
        summary[label] = entry
    return summary


def table(summary, rates, reference="knotd"):
    columns = [("saturation QPS", "qps", "{:,.0f}"), ("spread", "qps_spread", "±{:.1f}%"), ("lost", "lost", "{:.0f}")]
    for rate in rates:
        k = f"{rate // 1000}k"
        columns += [
            (f"answered QPS @{k}", f"qps@{rate}", "{:,.0f}"),
            (f"CPU @{k}", f"cpu@{rate}", "{:.1%}"),
            (f"µs CPU/query @{k}", f"cpu_per_query_us@{rate}", "{:.2f}"),
            (f"p50 @{k} (µs)", f"p50@{rate}", "{:.0f}"),
            (f"p99 @{k} (µs)", f"p99@{rate}", "{:.0f}"),
            (f"p99.9 @{k} (µs)", f"p999@{rate}", "{:.0f}"),
        ]
    columns += [("peak RSS, VmHWM (MiB)", "rss_mib", "{:.1f}"), ("RSS at the end, VmRSS (MiB)", "rss_now_mib", "{:.1f}"),
                ("start to first answer (s, polled)", "ready", "{:.2f}")]
    ref = summary.get(reference)
    lines = ["| figure | " + " | ".join(summary) + " |", "|---|" + "---|" * len(summary)]
    for title, key, fmt in columns:
        cells = []
        for label, entry in summary.items():
            value = entry[key]
            shown = value * 1e6 if key.startswith(("p50", "p99")) else value
            cell = fmt.format(shown)
            if ref is not None and label != reference and key not in ("lost", "qps_spread") and ref[key]:
                cell += f" ({value / ref[key]:.2f}×)"
            cells.append(cell)
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def chart(summary, rates, path):
    labels = list(summary)
    panels = [
        ("saturation QPS (thousands)", lambda e: e["qps"] / 1000),
        (f"server CPU per answered query at {rates[-1] // 1000}k QPS (µs)", lambda e: e[f"cpu_per_query_us@{rates[-1]}"]),
        (f"p99 latency at {rates[0] // 1000}k QPS (µs)", lambda e: e[f"p99@{rates[0]}"] * 1e6),
        ("peak RSS (MiB)", lambda e: e["rss_mib"]),
    ]
    data = os.path.join(os.path.dirname(path), ".benchmarks.dat")
    script = [f'set terminal pngcairo size 1200,800 font "sans,11"', f'set output "{path}"',
              "set multiplot layout 2,2 title 'coderdns vs knotd vs nsd: 100,000 workspaces, server pinned to one core'",
              "set style data histogram", "set style fill solid 0.8 border -1", "set boxwidth 0.6",
              "unset key", "set yrange [0:*]", "set offsets 0, 0, graph 0.12, 0", "set grid ytics",
              "set termoption noenhanced"]
    with open(data, "w") as file:
        for index, (_, value) in enumerate(panels):
            file.write(f"# panel {index}\n")
            for label in labels:
                file.write(f"\"{label}\" {value(summary[label]):.3f}\n")
            file.write("\n\n")
    for index, (title, _) in enumerate(panels):
        script.append(f"set title \"{title}\"")
        script.append(f"plot '{data}' index {index} using 2:xtic(1) lc rgb '#4477aa', "
                      f"'' index {index} using 0:2:(sprintf('%.1f',$2)) with labels offset 0,0.7")
    script.append("unset multiplot")
    subprocess.run(["gnuplot"], input="\n".join(script), text=True, check=True)
    os.remove(data)


def latency_chart(summary, rates, path):
    """p50 and p99 against the offered rate, one line per server (docs/latency.png)."""
    data = os.path.join(os.path.dirname(path), ".latency.dat")
    labels = list(summary)
    with open(data, "w") as file:
        for label in labels:
            file.write(f"# {label}\n")
            for rate in rates:
                entry = summary[label]
                file.write(f"{rate / 1000:.0f} {entry[f'p50@{rate}'] * 1e6:.1f} {entry[f'p99@{rate}'] * 1e6:.1f}\n")
            file.write("\n\n")
    script = [f'set terminal pngcairo size 1200,500 font "sans,11"', f'set output "{path}"',
              "set multiplot layout 1,2 title 'latency against offered load: 100,000 workspaces, server pinned to one core'",
              "set key top left", "set grid", "set xlabel 'offered QPS (thousands)'", "set termoption noenhanced",
              "set logscale y", "set yrange [10:*]"]
    for column, title in ((2, "p50 (µs)"), (3, "p99 (µs)")):
        script.append(f"set title \"{title}\"")
        plots = [f"'{data}' index {index} using 1:{column} with linespoints lw 2 title '{label}'"
                 for index, label in enumerate(labels)]
        script.append("plot " + ", ".join(plots))
    script.append("unset multiplot")
    subprocess.run(["gnuplot"], input="\n".join(script), text=True, check=True)
    os.remove(data)


def machine():
    model = "unknown CPU"
    with open("/proc/cpuinfo") as file:
        for line in file:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = 0
    with open("/proc/meminfo") as file:
        memory = int(file.readline().split()[1]) // 1024 // 1024
    versions = {}
    for name, argv in (("knotd", ["knotd", "--version"]), ("nsd", ["nsd", "-v"]), ("dnsperf", ["dnsperf", "-h"])):
        out = subprocess.run(argv, capture_output=True, text=True)
        text = (out.stdout + out.stderr)
        match = re.search(r"(\d+\.\d+\.\d+)", text)
        versions[name] = match.group(1) if match else "?"
    return (f"{os.cpu_count()} × {model}, {memory} GiB, Linux {platform.release()}; "
            f"knotd {versions['knotd']}, nsd {versions['nsd']}, dnsperf {versions['dnsperf']}")


# ---------------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--coderdns", required=True, help="the coderdns binary")
    parser.add_argument("--smoke", action="store_true", help="a few seconds, for CI: nothing is written")
    parser.add_argument("--workspaces", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rates", default="20000,40000,60000,80000",
                        help="fixed rates (QPS) measured after saturation; CPU, latency and the latency-versus-load chart")
    parser.add_argument("--servers", default="coderdns,knotd,nsd")
    parser.add_argument("--baseline", help="another coderdns binary, measured as coderdns-baseline in the same rounds "
                        "(add coderdns-baseline to --servers): an A/B of two builds")
    parser.add_argument("--no-extras", action="store_true", help="skip the reload and --workers runs")
    parser.add_argument("--output", default=os.path.join(REPO, "docs"), help="where benchmarks.md/.png go")
    args = parser.parse_args()
    # Stopped by a signal, still stop the servers and delete the namespace (the finally blocks
    # and context managers). A background job starts with SIGINT ignored: take it back.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if args.smoke:
        args.workspaces, args.rounds, args.seconds, args.rates = 200, 1, 1, "2000"
    rates = [int(r) for r in args.rates.split(",")]
    # The commit when the run starts (bench/run has just built the binary from the work tree).
    args.commit = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True,
                                 text=True).stdout.strip()

    directory = tempfile.mkdtemp(prefix="coderdns-bench-")
    try:
        started = time.monotonic()
        count = generate(directory, args.workspaces, 2_000 if args.smoke else 500_000)
        log(f"{args.workspaces:,} workspaces, {count:,} names, generated in {time.monotonic() - started:.1f} s")
        queries = os.path.join(directory, "queries.txt")
        servers = {
            "coderdns": CoderDNS(directory, args.coderdns),
            "coderdns-baseline": CoderDNS(directory, args.baseline or args.coderdns, label="coderdns-baseline"),
            "knotd": Knot(directory),
            "nsd": NSD(directory),
        }
        servers = {k: v for k, v in servers.items() if k in args.servers.split(",")}
        results = {label: [] for label in servers}
        with Namespace() as namespace:
            for round_number in range(args.rounds):
                for label, server in servers.items():
                    log(f"round {round_number + 1}/{args.rounds}: {label}")
                    figures = measure_slot(namespace, server, queries, args.seconds, rates,
                                           warmup=0 if args.smoke else 2)
                    results[label].append(figures)
                    log(f"  {figures['qps']:,.0f} QPS, lost {figures['lost']:.0f}, "
                        + ", ".join(f"{r}: CPU {figures[r]['cpu']:.1%} p99 {figures[r]['p99'] * 1e6:.0f} µs"
                                    for r in rates)
                        + f", RSS {figures['rss_kib'] / 1024:.1f} MiB")
                    if args.smoke:
                        noerror, nxdomain = figures["rcodes"]
                        answered = figures[rates[0]]["answers"]
                        if noerror == 0 or nxdomain == 0 or answered == 0:
                            log(f"{label}: no answers (NOERROR {noerror}, NXDOMAIN {nxdomain}, timed {answered})")
                            return 1
                        # At the fixed rate (2,000 a second, far below saturation) every query
                        # is answered; saturation may drop some, which dnsperf counts as lost.
                        lost = sum(figures[r]["lost"] for r in rates)
                        if lost != 0:
                            log(f"{label}: {lost:.0f} queries lost at {args.rates} a second")
                            return 1
            extras = {}
            if not args.smoke and not args.no_extras and "coderdns" in servers:
                log("coderdns: SIGHUP reloads under load at 60,000 QPS")
                extras["reload"] = reload_under_load(namespace, servers["coderdns"], queries, 60_000, 10, 5)
                log(f"  {extras['reload']}")
                log("coderdns: control-plane figures (bench/control-plane-figures)")
                figures = subprocess.run([sys.executable, os.path.join(REPO, "bench", "control-plane-figures"),
                                          "--binary", args.coderdns, "--workspaces", str(args.workspaces)],
                                         capture_output=True, text=True, timeout=600)
                extras["control_plane"] = figures.stdout.rstrip().splitlines()
                log("\n".join(extras["control_plane"]))
                log("coderdns: --workers 1 and 2, unpinned")
                extras["scaling"] = scaling(namespace, args.coderdns, directory, queries, args.seconds)
                log(f"  {extras['scaling']}")

        summary = summarize(results, rates)
        text = table(summary, rates)
        print(text)
        if args.smoke:
            print("bench: smoke run passed: every server started and answered")
            return 0
        write_docs(args, summary, rates, text, extras)
        return 0
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def write_docs(args, summary, rates, text, extras):
    os.makedirs(args.output, exist_ok=True)
    chart(summary, rates, os.path.join(args.output, "benchmarks.png"))
    if len(rates) > 1:
        latency_chart(summary, rates, os.path.join(args.output, "latency.png"))
    path = os.path.join(args.output, "benchmarks.md")
    document = "# Benchmarks\n\n<!-- bench:begin -->\n<!-- bench:end -->\n"
    if os.path.exists(path):
        with open(path) as file:
            document = file.read()
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    block = [f"Run on {date} (coderdns at commit {args.commit or '?'}): {machine()}. {args.workspaces:,} workspaces, {args.rounds} rounds of "
             f"{args.seconds} s per figure, medians over rounds.", "", text, ""]
    if "reload" in extras:
        r = extras["reload"]
        block += [f"SIGHUP reload of the {args.workspaces:,}-workspace state under 60,000 QPS: "
                  + ", ".join(f"{t:.0f}" for t in r["reload_ms"])
                  + f" ms from signal to the 'reloaded' log line (the server's own count: "
                  f"{', '.join(str(t) for t in r['server_ms'])} ms to read the 16 MB JSON and build the snapshot in one pass, "
                  f"and swap it in, on a thread sharing the pinned core with the one answering 60,000 queries a second). "
                  f"{r['lost']:.0f} queries lost of {r['completed'] + r['lost']:,.0f}.", ""]
    if "control_plane" in extras:
        block += ["`bench/control-plane-figures` (same release build, loopback, a stand-in control plane on a Unix socket):",
                  "", "```"] + extras["control_plane"] + ["```", ""]
    if "scaling" in extras:
        block += ["`--workers` on this 2-core machine (server unpinned, dnsperf on CPU 1, saturation):", "",
                  "| workers | QPS | server CPU | lost |", "|---|---|---|---|"]
        for row in extras["scaling"]:
            block.append(f"| {row['workers']} | {row['qps']:,.0f} | {row['cpu']:.0%} | {row['lost']:.0f} |")
        block.append("")
    start, end = "<!-- bench:begin -->", "<!-- bench:end -->"
    before, _, rest = document.partition(start)
    _, _, after = rest.partition(end)
    with open(path, "w") as file:
        file.write(before + start + "\n" + "\n".join(block) + end + after)
    log(f"wrote {path}, benchmarks.png and latency.png")


if __name__ == "__main__":
    sys.exit(main())
