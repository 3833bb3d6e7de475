#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The lab's host side (run it through tests/lab/lab.sh, which builds first).

With --vms netns (the default) one QEMU guest (tests/lab/guest/lab.sh) plays
N VMs, one network namespace each; with --vms qemu every VM is a QEMU guest
of its own (tests/lab/guest/vm.sh) whose NIC is a tap on a bridge of this
host, where the shared link and the sinks are. Either way each VM's
daqs-agent has its own virtio-serial port, whose host socket
is in a libvirt-like channel dir <tmp>/ch/domain-I-vmI/org.daqs.0, and one
daqsd running here controls them all, the real control path. A further port,
org.daqs.lab, carries this script's commands to the guest. Metrics are
defined in docs/lab.md; everything is computed here from 100 ms counter
samples (the guest's nic-side veths, or this host's taps).
"""
import argparse
import json
import math
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
METHODS = ["none", "static", "paper2023", "daqs"]
HDR = 66        # Ethernet + IPv4 + TCP with timestamps, per segment
MSS = 1448
# a VM's streams are this many iperf3 clients at most, one stream each
# (tests/lab/guest/lib.sh)
MAXP = 8
WARMUP_S = 3.0  # skipped at the start of every fig3 phase and of fig4/churn
HOLD_WINDOWS = 5  # "back at >= 95%" must last this many 100 ms windows
T0 = time.time()


def progress(msg):
    print("lab [%5.0fs] %s" % (time.time() - T0, msg), flush=True)


def die(msg):
    print("lab: " + msg, file=sys.stderr, flush=True)
    sys.exit(1)


def pct(xs, p):
    """p-th percentile (0..100), linear interpolation."""
    if not xs:
        return float("nan")
    s = sorted(xs)
    k = (len(s) - 1) * p / 100.0
    f = math.floor(k)
    c = min(f + 1, len(s) - 1)
    return s[f] + (s[c] - s[f]) * (k - f)


def mean(xs):
    return sum(xs) / len(xs) if xs else float("nan")


def median(xs):
    return pct(xs, 50)


def jain(xs):
    xs = [x for x in xs]
    if not xs or sum(x * x for x in xs) == 0:
        return float("nan")
    return sum(xs) ** 2 / (len(xs) * sum(x * x for x in xs))


def mbit(b):
    return b / 1e6


# ---------------------------------------------------------------------------
# the guest and its control port


class Port:
    """The lab's command port into one guest (org.daqs.lab, a host unix
    socket QEMU listens on): one command a line, answered by lines ending
    with "end CMD"."""

    def __init__(self, path, proc, log):
        self.proc = proc
        self.log = log
        self.sock = None
        self.buf = b""
        end = time.time() + 300
        while time.time() < end:
            if self.proc.poll() is not None:
                die("the guest ended before its control port answered; see %s" % self.log.name)
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(path)
                self.sock = s
                break
            except OSError:
                s.close()
                time.sleep(0.2)
        if not self.sock:
            die("no control port at %s" % path)

    def command(self, line, timeout=120):
        """Send one command; return its answer lines (without the end line)."""
        word = line.split()[0]
        self.sock.sendall((line + "\n").encode())
        lines = []
        end = time.time() + timeout
        while True:
            while b"\n" in self.buf:
                ln, self.buf = self.buf.split(b"\n", 1)
                ln = ln.decode(errors="replace").rstrip("\r")
                if ln == "end " + word:
                    return lines
                lines.append(ln)
            left = end - time.time()
            if left <= 0 or self.proc.poll() is not None:
                die("guest: no answer to '%s' (%d lines so far); see %s" % (word, len(lines), self.log.name))
            self.sock.settimeout(min(left, 1.0))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not data:
                die("guest: control port closed during '%s'" % word)
            self.buf += data

    def close(self):
        """quit, then wait for the guest's run.sh; True if both went well"""
        ok = True
        try:
            self.command("quit", timeout=30)
        except SystemExit:
            ok = False
        try:
            rc = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGTERM)
            rc = self.proc.wait()
        self.log.close()
        if self.sock:
            self.sock.close()
        return ok and rc == 0

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


def run_sh(args, outdir, tag, extra, script):
    """tests/qemu/run.sh for one lab guest, in its own process group"""
    cmd = [os.path.join(TOP, "tests/qemu/run.sh"), "--kernel", args.kv,
           "--tests", os.path.join(TOP, "tests/lab/guest"),
           "--module", os.path.join(args.build, "tree/kmod/daqs.ko"),
           "--bin", os.path.join(TOP, "daqsd/build/daqsctl"),
           "--bin", os.path.join(TOP, "daqsd/build/daqs-agent"),
           "--bin", os.path.join(args.build, "sample"),
           "--out", os.path.join(outdir, "guest-" + tag),
           "--timeout", str(args.guest_timeout)] + extra + [script]
    log = open(os.path.join(outdir, "run-%s.log" % tag), "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    return proc, log


class Guest:
    """--vms netns: one guest plays every VM (tests/lab/guest/lab.sh)."""

    def __init__(self, args, n, tmp, outdir, tag):
        self.n = n
        self.ch = os.path.join(tmp, "ch")
        lab_sock = os.path.join(tmp, "lab.sock")
        os.makedirs(self.ch, exist_ok=True)
        extra = ["--kmod", "bridge", "--smp", "2", "--mem", "2G"]
        for i in range(1, n + 1):
            d = os.path.join(self.ch, "domain-%d-vm%d" % (i, i))
            os.makedirs(d, exist_ok=True)
            extra += ["--virtio-serial", "%s/org.daqs.0,org.daqs.vm%d" % (d, i)]
        extra += ["--virtio-serial", lab_sock + ",org.daqs.lab"]
        proc, log = run_sh(args, outdir, tag, extra, "lab.sh")
        self.log = log
        self.port = Port(lab_sock, proc, log)

    def command(self, line, timeout=120):
        return self.port.command(line, timeout)

    def close(self):
        return self.port.close()

    def kill(self):
        self.port.kill()


class QemuVMs:
    """--vms qemu: one QEMU guest per VM (tests/lab/guest/vm.sh), each with a
    virtio-net NIC on a tap of a bridge in a namespace of this host, its own
    daqs.ko binding, daqs-agent and virtio-serial port; the shaped link and
    the iperf3 sinks are here too. Answers the commands of lab.sh (setup,
    unbind, show, run, quit) by driving the guests, so Lab does not care which
    kind it has."""

    def __init__(self, args, n, tmp, outdir, tag):
        self.n = n
        self.out = outdir
        self.build = args.build
        self.ns = "daqslab-%d" % os.getpid()
        self.sink = self.ns + "-sink"
        self.servers = []
        self.ports = []
        self.ch = os.path.join(tmp, "ch")
        os.makedirs(self.ch, exist_ok=True)
        self._net_up()
        procs = []
        for i in range(1, n + 1):
            d = os.path.join(self.ch, "domain-%d-vm%d" % (i, i))
            os.makedirs(d, exist_ok=True)
            lab_sock = os.path.join(tmp, "lab-vm%d.sock" % i)
            extra = ["--smp", "1", "--mem", "768M",
                     "--tap", "%s:tap%d,52:54:00:da:07:%02x" % (self.ns, i, i),
                     "--append", "daqs_ip=10.0.0.%d/24" % i,
                     "--virtio-serial", "%s/org.daqs.0" % d,
                     "--virtio-serial", lab_sock + ",org.daqs.lab"]
            proc, log = run_sh(args, outdir, "%s-vm%d" % (tag, i), extra, "vm.sh")
            procs.append((lab_sock, proc, log))
        self.log = procs[0][2]
        for lab_sock, proc, log in procs:
            self.ports.append(Port(lab_sock, proc, log))

    def _ip(self, *a):
        subprocess.run(["ip"] + list(a), check=True, capture_output=True)

    def _nsx(self, ns, *a, **kw):
        return subprocess.run(["ip", "netns", "exec", ns] + list(a), **kw)

    def _net_up(self):
        self._net_down()
        for ns in (self.ns, self.sink):
            self._ip("netns", "add", ns)
            self._nsx(ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                      "net.ipv6.conf.default.disable_ipv6=1", check=True)
            self._ip("-n", ns, "link", "set", "lo", "up")
        self._ip("-n", self.ns, "link", "add", "br0", "type", "bridge", "forward_delay", "0", "stp_state", "0")
        self._ip("-n", self.ns, "link", "set", "br0", "up")
        self._ip("-n", self.ns, "link", "add", "up0", "type", "veth", "peer", "name", "sink0", "netns", self.sink)
        self._ip("-n", self.ns, "link", "set", "up0", "master", "br0", "up")
        self._ip("-n", self.sink, "addr", "add", "10.0.0.254/24", "dev", "sink0")
        self._ip("-n", self.sink, "link", "set", "sink0", "up")
        for i in range(1, self.n + 1):
            self._ip("-n", self.ns, "tuntap", "add", "dev", "tap%d" % i, "mode", "tap", "vnet_hdr")
            self._ip("-n", self.ns, "link", "set", "tap%d" % i, "master", "br0", "up")

    def _net_down(self):
        for p in self.servers:
            p.terminate()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
        self.servers = []
        for ns in (self.ns, self.sink):
            pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (OSError, ValueError):
                    pass
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)

    def _all(self, fn):
        """fn(i, port) for every VM at once; -> answers in VM order"""
        res = [None] * self.n
        errs = []

        def one(i):
            try:
                res[i] = fn(i + 1, self.ports[i])
            except SystemExit as e:
                errs.append(str(e))
        ts = [threading.Thread(target=one, args=(i,)) for i in range(self.n)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        if errs:
            die("; ".join(errs))
        return res

    def _tap_counters(self):
        """per VM (rx_bytes, rx_packets) of its tap: what it sent"""
        out = []
        for i in range(1, self.n + 1):
            r = self._nsx(self.ns, "cat", "/sys/class/net/tap%d/statistics/rx_bytes" % i,
                          "/sys/class/net/tap%d/statistics/rx_packets" % i,
                          capture_output=True, text=True).stdout.split()
            out.append((r + ["-", "-"])[:2])
        return out

    def command(self, line, timeout=120):
        w = line.split()
        if w[0] == "setup":
            # setup N RATE QDISC...: the shared link, the sinks, then each VM
            if self._nsx(self.ns, "tc", "qdisc", "add", "dev", "up0", "root", *w[3:],
                         capture_output=True).returncode:
                return ["error setup: tc qdisc add dev up0 root %s failed" % " ".join(w[3:])]
            # one server per stream (tests/lab/guest/lib.sh: MAXP)
            for i in range(1, self.n + 1):
                for j in range(MAXP):
                    lg = open(os.path.join(self.out, "iperf3-s-%d-%d.log" % (i, j)), "w")
                    self.servers.append(subprocess.Popen(
                        ["ip", "netns", "exec", self.sink, "iperf3", "--server", "--port",
                         str(5200 + 10 * i + j)], stdout=lg, stderr=subprocess.STDOUT))
                    lg.close()
            time.sleep(0.5)
            return sum(self._all(lambda i, p: p.command("setup %d 10.0.0.254" % i, timeout)), [])
        if w[0] in ("unbind", "show", "gso"):
            return sum(self._all(lambda i, p: p.command(line, timeout)), [])
        if w[0] == "run":
            return self._run(w[1], int(w[2]), w[3:], timeout)
        if w[0] == "quit":
            return []
        die("QemuVMs: unknown command " + w[0])

    def _run(self, name, dur, segs, timeout):
        per = {i: [] for i in range(1, self.n + 1)}
        for seg in segs:
            vm, rest = seg.split(":", 1)
            per[int(vm)].append(rest)
        files = []
        for i in range(1, self.n + 1):
            files += ["/sys/class/net/tap%d/statistics/rx_bytes" % i,
                      "/sys/class/net/tap%d/statistics/rx_packets" % i]
        files += ["/sys/class/net/up0/statistics/tx_bytes", "/sys/class/net/up0/statistics/tx_packets"]
        c0 = self._tap_counters()
        sampler = subprocess.Popen(["ip", "netns", "exec", self.ns, os.path.join(self.build, "sample"),
                                    "100", str(dur * 10 + 11)] + files,
                                   stdout=subprocess.PIPE, text=True)
        ans = self._all(lambda i, p: p.command("flows %s %d %s" % (name, dur, " ".join(per[i])), timeout))
        samples = sampler.communicate()[0].splitlines()
        c1 = self._tap_counters()
        out = ["d " + ln for ln in samples if ln.strip()]
        for i in range(self.n):
            x = [a for a in ans[i] if a.startswith("x ")]
            d0, d1 = (x[0].split()[1:3] if x else ["-", "-"])
            out.append("w vm%d %s %s %s vm%d %s %s %s" % (i + 1, d0, c0[i][0], c0[i][1],
                                                          i + 1, d1, c1[i][0], c1[i][1]))
            out += [a for a in ans[i] if a.startswith("i ") or a.startswith("error")]
        return out

    def close(self):
        oks = self._all(lambda i, p: p.close())
        self._net_down()
        return all(oks)

    def kill(self):
        for p in self.ports:
            p.kill()
        self._net_down()


# ---------------------------------------------------------------------------
# daqsd


class Daqsd:
    def __init__(self, tmp, outdir):
        self.tmp = tmp
        self.out = outdir
        self.proc = None
        self.ctl = os.path.join(tmp, "ctl.sock")
        self.daqsd = os.path.join(TOP, "daqsd/build/daqsd")
        self.daqsctl = os.path.join(TOP, "daqsd/build/daqsctl")

    def start(self, name, policy, capacity, n, mins=None, maxs=None):
        mins = mins or {}
        maxs = maxs or {}
        conf = os.path.join(self.tmp, "daqsd.conf")
        with open(conf, "w") as f:
            f.write("[daqsd]\ncapacity = %d\npolicy = %s\ntick = 100ms\nlease = 1s\n"
                    "channel_dir = %s\ncontrol_socket = %s\n" %
                    (capacity, policy, os.path.join(self.tmp, "ch"), self.ctl))
            for i in range(1, n + 1):
                vm = "vm%d" % i
                f.write("\n[vm %s]\ndevice = eth0\n" % vm)
                if vm in mins:
                    f.write("min = %d\n" % mins[vm])
                if vm in maxs:
                    f.write("max = %d\n" % maxs[vm])
        shutil.copy(conf, os.path.join(self.out, "daqsd-%s.conf" % name))
        self.log = open(os.path.join(self.out, "daqsd-%s.log" % name), "w")
        self.proc = subprocess.Popen([self.daqsd, "-c", conf], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        end = time.time() + 40
        vms = []
        while time.time() < end:
            if self.proc.poll() is not None:
                die("daqsd exited (%s); see %s" % (self.proc.returncode, self.log.name))
            vms = self.vms()
            ready = [v for v in vms if v.get("controlled") and v.get("lease_state") == "active"
                     and v.get("in_force_bps") is not None
                     and v.get("in_force_bps") == v.get("limit_bps")]
            if len(ready) == n:
                return
            time.sleep(0.2)
        die("daqsd did not control all %d VMs within 40 s: %s" %
            (n, [(v.get("name"), v.get("state"), v.get("lease_state")) for v in vms]))

    def vms(self):
        try:
            out = subprocess.run([self.daqsctl, "-j", "vms", "socket", self.ctl],
                                 capture_output=True, text=True, timeout=10).stdout
            return json.loads(out).get("vms", [])
        except (ValueError, subprocess.TimeoutExpired, AttributeError):
            return []

    def poll_start(self, path, period=0.5):
        """daqsd's own view every period s into path (CSV): what it
        measured, allocated and pushed for each VM"""
        self._stop = threading.Event()

        def loop():
            t0 = time.monotonic()
            with open(path, "w") as f:
                f.write("t_s,vm,demand,rate_bps,alloc_bps,limit_bps,in_force_bps,lease_state\n")
                while not self._stop.wait(period):
                    for v in self.vms():
                        f.write("%.2f,%s,%s,%s,%s,%s,%s,%s\n" % (
                            time.monotonic() - t0, v.get("name"), v.get("demand", ""), v.get("rate_bps", ""),
                            v.get("alloc_bps", ""), v.get("limit_bps", ""), v.get("in_force_bps", ""),
                            v.get("lease_state", "")))
        self._poller = threading.Thread(target=loop, daemon=True)
        self._poller.start()

    def poll_stop(self):
        if getattr(self, "_poller", None):
            self._stop.set()
            self._poller.join()
            self._poller = None

    def stop(self):
        self.poll_stop()
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


# ---------------------------------------------------------------------------
# one phase: a method, a schedule of flows, 100 ms samples back


def wire_bytes(nbytes, npkts):
    """Bytes on the wire from a veth's counters: the kernel counts a GSO skb
    once with its headers; every segment carries them (see docs/lab.md)."""
    return max(0.0, (nbytes - HDR * npkts) * (MSS + HDR) / MSS)


def parse_samples(lines, n):
    """-> (t [s from the first sample], per-VM wire rate series [bit/s],
    link series [bit/s]); series[k] is the window ending at t[k + 1]."""
    rows = []
    for ln in lines:
        if not ln.startswith("d "):
            continue
        f = ln.split()[1:]
        if len(f) != 1 + 2 * (n + 1) or "-" in f:
            continue
        rows.append([int(x) for x in f])
    if len(rows) < 3:
        return None
    ts = [(r[0] - rows[0][0]) / 1e9 for r in rows]
    # The sampler runs in the guest and is now and then late (a TCG hiccup
    # of 100-300 ms, then two samples back to back): the counters are put
    # on an exact 100 ms grid by linear interpolation of the cumulative
    # bytes, so every window is 100 ms and a late sample spreads its bytes
    # over the time they took instead of making one long and one empty
    # window.
    nk = int(ts[-1] / 0.1)
    grid = [k * 0.1 for k in range(nk + 1)]
    rates = []
    for i in range(n + 1):
        w = [wire_bytes(r[1 + 2 * i], r[2 + 2 * i]) for r in rows]
        for j in range(1, len(w)):
            w[j] = max(w[j], w[j - 1])
        g, j = [], 0
        for x in grid:
            while j + 1 < len(ts) - 1 and ts[j + 1] < x:
                j += 1
            dt = ts[j + 1] - ts[j]
            f = (x - ts[j]) / dt if dt > 0 else 1.0
            f = min(1.0, max(0.0, f))
            g.append(w[j] + (w[j + 1] - w[j]) * f)
        rates.append([(g[k + 1] - g[k]) * 8 / 0.1 for k in range(nk)])
    return grid, rates[:n], rates[n]


class Lab:
    def __init__(self, args):
        self.a = args
        self.H = int(args.capacity * 1e6)
        self.out = args.out
        self.tmp = tempfile.mkdtemp(prefix="daqs-lab.", dir="/tmp")
        self.daqsd = Daqsd(self.tmp, self.out)
        self.guest = None
        self.phases = {}   # name -> dict(t, rates, link, method, ...)

    def boot(self, n, tag):
        self.n = n
        if self.a.analyze:
            return
        shutil.rmtree(os.path.join(self.tmp, "ch"), ignore_errors=True)
        if self.a.vms == "qemu":
            progress("booting %d guests for %s (QEMU TCG, 1 vCPU each), one VM each: NIC on a host bridge, "
                     "its own virtio-serial port" % (n, tag))
            self.guest = QemuVMs(self.a, n, self.tmp, self.out, tag)
        else:
            progress("booting the guest for %s: %d VMs (QEMU TCG, 2 vCPUs), one virtio-serial port each" % (tag, n))
            self.guest = Guest(self.a, n, self.tmp, self.out, tag)
        burst = max(64 * 1024, int(self.H / 8 * self.a.burst_ms / 1000))
        qd = "tbf rate %dbit burst %d limit %d" % (self.H, burst, int(self.H / 8 * self.a.queue_ms / 1000) + burst)
        ans = self.guest.command("setup %d %d %s" % (n, self.H, qd), timeout=240)
        errs = [a for a in ans if a.startswith("error")]
        if errs:
            die("guest setup failed: %s" % errs)
        if self.a.gso_segs:
            ans = self.guest.command("gso %d" % self.a.gso_segs)
            errs = [a for a in ans if a.startswith("error")]
            if errs:
                die("guest gso setting failed: %s" % errs)
        progress("guest ready: nic bridge, shared link %s, %d agents, GSO at most %s segment(s)" %
                 (qd, n, self.a.gso_segs or "the kernel's"))
        self.n = n

    def shutdown(self):
        if self.a.analyze:
            return True
        self.daqsd.stop()
        if self.guest:
            ok = self.guest.close()
            if not ok:
                progress("the guest's run.sh did not end cleanly; see %s" % self.guest.log.name)
            self.guest = None
            return ok
        return True

    def load(self, name, m, dur, segs):
        """a phase of an earlier run, from its CSV (--analyze)"""
        rows = [ln.strip().split(",") for ln in open(os.path.join(self.out, name + ".csv")).readlines()[1:]]
        t = [0.0] + [float(r[0]) for r in rows]
        rates = [[float(r[1 + i]) for r in rows] for i in range(self.n)]
        link = [float(r[-1]) for r in rows]
        ph = dict(name=name, method=m, t=t, rates=rates, link=link, segs=segs, dur=dur)
        self.phases[name] = ph
        return ph

    def method(self, name, m, g_vm=None, g=0):
        """Arrange method m for the next phase."""
        self.daqsd.stop()
        self.guest.command("unbind")
        if m == "none":
            return
        if m == "cap-tbf":
            # calibration: the same, held by tc tbf instead of daqs
            ans = self.guest.command("tbf %s %d" % (g_vm[2:], g))
            if any(x.startswith("error") for x in ans):
                die("phase %s: %s" % (name, ans))
            return
        n = self.n
        cap = int(self.H * (1 - self.a.headroom / 100))
        if m == "daqs":
            self.daqsd.start(name, "minimum_guarantee", cap, n, mins={g_vm: g} if g_vm else {})
        elif m == "paper2023":
            self.daqsd.start(name, "paper2023", cap, n, mins={g_vm: g} if g_vm else {})
        elif m == "static":
            # what `ip link set PF vf N max_tx_rate` can do: a fixed cap per
            # best-effort VM, the capacity less the guarantee shared among
            # them (fig3: H - g, as the paper's "ip link"), through daqsd's
            # static policy (standalone: each VM's max, else the capacity)
            be = [i for i in range(1, n + 1) if "vm%d" % i != g_vm]
            maxs = {"vm%d" % i: (cap - g) // len(be) for i in be}
            self.daqsd.start(name, "standalone", cap, n, maxs=maxs)
        elif m == "cap":
            # calibration, not a method: the guaranteed VM alone, held at
            # exactly its guarantee by a fixed daqs limit
            self.daqsd.start(name, "standalone", cap, n, maxs={g_vm: g})
        else:
            die("unknown method " + m)
        time.sleep(1.0)

    def run(self, name, m, dur, segs, g_vm=None, g=0):
        """segs: [(vm index, start s, duration s, streams)]"""
        if self.a.analyze:
            return self.load(name, m, dur, segs)
        if any(p > MAXP for (_, _, _, p) in segs):
            die("phase %s: more than %d streams from one VM" % (name, MAXP))
        progress("%-28s method %-9s %3d s, %d flow groups" % (name, m, dur, len(segs)))
        self.method(name, m, g_vm, g)
        # a flow that lasts to the end of the phase runs on past it (and is
        # stopped when sampling ends), so that the last windows are not empty
        spec = " ".join("%d:%g:%d:%d" % (v, st, d + 2 if st + d >= dur else d, p) for (v, st, d, p) in segs)
        if self.daqsd.proc:
            self.daqsd.poll_start(os.path.join(self.out, "%s.daqsd.csv" % name))
        ans = self.guest.command("run %s %d %s" % (name, dur, spec), timeout=dur + 120)
        self.daqsd.stop()
        with open(os.path.join(self.out, "%s.samples" % name), "w") as f:
            f.write("# T_NS then rx_bytes rx_packets of p1..p%d (nic side of each VM's veth), tx of up0\n" % self.n)
            f.write("\n".join(a[2:] for a in ans if a.startswith("d ")) + "\n")
        parsed = parse_samples(ans, self.n)
        if not parsed:
            die("phase %s: no samples from the guest: %s" % (name, ans[:5]))
        t, rates, link = parsed
        for a in ans:
            if a.startswith("i ") and "error" in a:
                progress("  iperf3: " + a[2:])
        # daqs' tx_wire_bytes against the lab's estimate from the nic side
        checks = []
        for a in ans:
            f = a.split()
            if len(f) == 9 and f[0] == "w" and f[2] != "-" and f[6] != "-":
                dq = int(f[6]) - int(f[2])
                est = wire_bytes(int(f[7]) - int(f[3]), int(f[8]) - int(f[4]))
                if dq > 1e6:
                    checks.append("%s %.3f" % (f[1], est / dq))
        if checks:
            progress("  lab wire estimate / daqs tx_wire_bytes: " + ", ".join(checks))
            with open(os.path.join(self.out, "wirecheck.txt"), "a") as fh:
                fh.write("%s %s\n" % (name, " ".join(checks)))
        with open(os.path.join(self.out, "%s.csv" % name), "w") as f:
            f.write("t_s," + ",".join("vm%d_bps" % (i + 1) for i in range(self.n)) + ",link_bps\n")
            for k in range(len(link)):
                f.write("%.3f," % t[k + 1] + ",".join("%.0f" % rates[i][k] for i in range(self.n)) +
                        ",%.0f\n" % link[k])
        ph = dict(name=name, method=m, t=t, rates=rates, link=link, segs=segs, dur=dur)
        self.phases[name] = ph
        tot = [sum(r[k] for r in rates) for k in range(len(link))]
        k0 = int(WARMUP_S * 10)
        progress("  -> " + "  ".join("vm%d %.0f" % (i + 1, mbit(mean(rates[i][k0:])))
                                     for i in range(self.n) if mean(rates[i][k0:]) > 1e6) +
                 "  total %.0f Mbit/s (link %.0f)" % (mbit(mean(tot[k0:])), mbit(mean(link[k0:]))))
        return ph


# ---------------------------------------------------------------------------
# metrics (docs/lab.md defines them)


def steady(series, skip_s=WARMUP_S):
    return series[int(skip_s * 10):]


def stalls(rates):
    """Windows in which the lab itself stalled: the aggregate of all VMs fell
    below half its median over the surrounding 2 s, everybody at once (a
    host hiccup of the emulator, seen as a sampler late by 100+ ms and all
    flows losing together). An allocator that starves one VM leaves the
    aggregate alone, so this never hides that. See docs/lab.md."""
    agg = [sum(r[k] for r in rates) for k in range(len(rates[0]))]
    out = set()
    for k in range(len(agg)):
        around = agg[max(0, k - 10):k + 11]
        if agg[k] < 0.5 * median(around):
            out.add(k)
    return out


def good(series, bad, skip_s=WARMUP_S):
    """series without the warm-up and the lab's stall windows"""
    k0 = int(skip_s * 10)
    return [x for k, x in enumerate(series) if k >= k0 and k not in bad]


def hold_time(series, start_k, target, frac=0.95):
    """windows from start_k until series holds >= frac*target for HOLD_WINDOWS
    windows in a row; None if never."""
    for k in range(start_k, len(series) - HOLD_WINDOWS + 1):
        if all(series[j] >= frac * target for j in range(k, k + HOLD_WINDOWS)):
            return k - start_k
    return None


def settle_time(series, start_k, target, bad=()):
    """windows from start_k until the rest of the run holds the target: the
    5th percentile of the windows from there on is >= 95% of it"""
    for k in range(start_k, len(series) - HOLD_WINDOWS + 1):
        rest = [series[j] for j in range(k, len(series)) if j not in bad]
        if rest and pct(rest, 5) >= 0.95 * target:
            return k - start_k
    return None


def observed_start(series, from_k, H):
    """first window at or after from_k in which a VM sends > 1% of H"""
    for k in range(max(0, from_k), len(series)):
        if series[k] > 0.01 * H:
            return k
    return None


def fmt(x, spec="%.1f", none="never"):
    if x is None:
        return none
    if isinstance(x, float) and math.isnan(x):
        return "-"
    return spec % x


def scenario_fig3(lab, a, res):
    H = lab.H
    D = a.fig3_seconds
    lab.boot(2, "fig3")
    try:
        ga = lab.run("fig3-alone-g", "none", D, [(1, 0, D, 1)])
        ba = lab.run("fig3-alone-be", "none", D, [(2, 0, D, 5)])
        none = lab.run("fig3-none", "none", D, [(1, 0, D, 1), (2, 0, D, 5)])
        cases, caps = {}, {}
        for gp in a.guarantees:
            g = int(H * gp / 100)
            if len(a.methods) > 1:
                caps[gp] = lab.run("fig3-g%g-cap" % gp, "cap", D, [(1, 0, D, 1)], g_vm="vm1", g=g)
            if len(a.methods) > 1 and a.vms == "netns":
                caps[(gp, "tbf")] = lab.run("fig3-g%g-cap-tbf" % gp, "cap-tbf", D, [(1, 0, D, 1)],
                                            g_vm="vm1", g=g)
            for m in a.methods:
                if m == "none":
                    continue
                cases[(gp, m)] = lab.run("fig3-g%g-%s" % (gp, m), m, D, [(1, 0, D, 1), (2, 0, D, 5)],
                                         g_vm="vm1", g=g)
    finally:
        ok = lab.shutdown()
    g_alone = mean(steady(ga["rates"][0]))
    be_alone = mean(steady(ba["rates"][1]))
    none_tot = mean(good([x + y for x, y in zip(*none["rates"])], stalls(none["rates"][:2])))
    rows = []
    cap_acc, cap_acc_tbf = {}, {}
    for gp in a.guarantees:
        g = H * gp / 100
        target = min(g, g_alone)
        if gp in caps:
            cap_acc[gp] = cap_accuracy(caps[gp], target)
            if (gp, "tbf") in caps:
                cap_acc_tbf[gp] = cap_accuracy(caps[(gp, "tbf")], target)
        for m in a.methods:
            ph = none if m == "none" else cases[(gp, m)]
            gs, bs = steady(ph["rates"][0]), steady(ph["rates"][1])
            bad = stalls(ph["rates"][:2])
            gg, bg = good(ph["rates"][0], bad), good(ph["rates"][1], bad)
            tot = mean([x + y for x, y in zip(gg, bg)])
            acc = pct(gg, 5) / target
            acc_raw = pct(gs, 5) / target
            # from the best-effort VM's start (both start together; whichever
            # iperf3 comes up second)
            st = max(observed_start(ph["rates"][0], 0, H) or 0, observed_start(ph["rates"][1], 0, H) or 0)
            conv = settle_time(ph["rates"][0], st, target, bad)
            rows.append(dict(scenario="fig3", guarantee_pct=gp, guarantee=g, method=m, target=target,
                             g_mbit=mbit(mean(gg)), be_mbit=mbit(mean(bg)), total_mbit=mbit(tot),
                             accuracy=acc, accuracy_raw=acc_raw, stalls=len([k for k in bad if k >= WARMUP_S * 10]),
                             windows=len(gs), utilisation=tot / none_tot,
                             conv_s=None if conv is None else conv / 10.0,
                             phase=ph["name"]))
    res["fig3"] = dict(rows=rows, g_alone=g_alone, be_alone=be_alone, none_total=none_tot, guest_ok=ok,
                       cap_accuracy=cap_acc, cap_accuracy_tbf=cap_acc_tbf)
    return rows


def cap_accuracy(ph, target):
    """The accuracy of the calibration phase: the guaranteed VM alone under
    a fixed limit of its guarantee. The most a limiter that gives it exactly
    its guarantee can score here: the 100 ms windows of one TCP flow held at
    a constant rate spread around it."""
    r = ph["rates"][0]
    return pct(good(r, stalls([r])), 5) / target


def run_methods(lab, a, name, n, D, segs, g):
    """Boot n VMs; vm1 alone first (what it sends by itself), then the
    schedule segs under every method. Returns (shutdown ok, runs by method,
    vm1's mean rate alone)."""
    lab.boot(n, name)
    runs = {}
    cap = None
    try:
        ga = lab.run("%s-alone-g" % name, "none", a.fig3_seconds, [(1, 0, a.fig3_seconds, 1)])
        if len(a.methods) > 1:
            cap = lab.run("%s-cap" % name, "cap", a.fig3_seconds, [(1, 0, a.fig3_seconds, 1)],
                          g_vm="vm1", g=g)
        for m in a.methods:
            runs[m] = lab.run("%s-%s" % (name, m), m, D, segs, g_vm="vm1", g=g)
    finally:
        ok = lab.shutdown()
    return ok, runs, mean(steady(ga["rates"][0])), cap


def fig4_schedule(n_be, T, streams=2):
    segs = [(1, 0, T * (n_be + 1), 1)]
    for j in range(n_be):
        st = T * (j + 1)
        segs.append((j + 2, st, T * (n_be + 1) - st, streams))
    return segs


def scenario_fig4(lab, a, res):
    H = lab.H
    T = a.fig4_step
    n = 8
    g = int(H * 0.25)
    D = T * n
    segs = fig4_schedule(n - 1, T)
    ok, runs, g_alone, cap = run_methods(lab, a, "fig4", n, D, segs, g)
    target = min(g, g_alone)
    none_tot = None
    rows = []
    for m in a.methods:
        ph = runs[m]
        r = ph["rates"]
        nk = len(r[0])
        tot = [sum(r[i][k] for i in range(n)) for k in range(nk)]
        if m == "none" or none_tot is None and "none" not in runs:
            pass
        convs = []
        jains = []
        bad = stalls(r)
        for j in range(n - 1):
            st_k = int(T * (j + 1) * 10)
            obs = observed_start(r[j + 1], st_k - 5, H)
            if obs is None:
                continue
            # until the guarantee holds for the rest of the stage
            end_k = min(nk, int(T * (j + 2) * 10))
            c = settle_time(r[0][:end_k], obs, target, bad)
            convs.append(None if c is None else c / 10.0)
            # stage j+1: BE VMs 2..j+2 active; skip its first 2 s
            s0, s1 = st_k + 20, min(nk, st_k + int(T * 10))
            if j >= 1 and s1 > s0:
                jains.append(jain([mean(r[i][s0:s1]) for i in range(1, j + 2)]))
        rows.append(dict(scenario="fig4", guarantee_pct=25, guarantee=g, method=m, target=target,
                         g_mbit=mbit(mean(steady(r[0]))),
                         g_last_mbit=mbit(mean(r[0][int((D - T + 2) * 10):])),
                         total_mbit=mbit(mean(good(tot, stalls(r)))),
                         accuracy=pct(good(r[0], stalls(r)), 5) / target,
                         accuracy_raw=pct(steady(r[0]), 5) / target,
                         stalls=len([k for k in stalls(r) if k >= WARMUP_S * 10]), windows=len(steady(r[0])),
                         conv=convs, jain=mean(jains) if jains else float("nan"),
                         phase=ph["name"], _tot=mean(good(tot, stalls(r)))))
    base = [x for x in rows if x["method"] == "none"]
    for x in rows:
        x["utilisation"] = x["_tot"] / base[0]["_tot"] if base else float("nan")
    res["fig4"] = dict(rows=rows, g_alone=g_alone, guest_ok=ok, T=T,
                       cap_accuracy=cap_accuracy(cap, target) if cap else None)
    return rows


def churn_schedule(rng, n_be, D, T):
    """G alternates busy/idle every ~T s (busy first); each BE VM has random
    on/off periods of T/2..2T s. Same schedule for every method."""
    segs = []
    t, busy = 0.0, True
    while t < D - 2:
        d = int(rng.uniform(0.7 * T, 1.3 * T))
        d = max(2, min(d, int(D - t)))
        if busy:
            segs.append((1, t, d, 1))
        t += d
        busy = not busy
    for i in range(2, n_be + 2):
        t = rng.uniform(0, T)
        while t < D - 3:
            d = int(rng.uniform(T / 2, 2 * T))
            d = max(2, min(d, int(D - t)))
            segs.append((i, round(t, 1), d, 2))
            t += d + rng.uniform(T / 2, 1.5 * T)
    return segs


def scenario_churn(lab, a, res):
    H = lab.H
    n = 6
    g = int(H * 0.25)
    D = a.churn_seconds
    T = a.fig4_step
    rng = random.Random(a.seed)
    segs = churn_schedule(rng, n - 1, D, T)
    ok, runs, g_alone, cap = run_methods(lab, a, "churn", n, D, segs, g)
    target = min(g, g_alone)
    gsegs = [s for s in segs if s[0] == 1]
    rows = []
    for m in a.methods:
        r = runs[m]["rates"]
        nk = len(r[0])
        tot = [sum(r[i][k] for i in range(n)) for k in range(nk)]
        busy_w, busy_raw, conv_busy, conv_idle, jains = [], [], [], [], []
        bad = stalls(r)
        for (_, st, d, _) in gsegs:
            obs = observed_start(r[0], int(st * 10) - 5, H)
            if obs is None:
                continue
            end_k = min(nk, int((st + d) * 10))
            busy_w += [r[0][k] for k in range(obs + 10, end_k) if k not in bad]
            busy_raw += r[0][obs + 10:end_k]
            c = hold_time(r[0][:end_k], obs, target)
            conv_busy.append(None if c is None else c / 10.0)
            # G goes idle: others must take >= 95% of what it freed
            if end_k + 15 < nk:
                freed = mean(r[0][end_k - 10:end_k])
                others = [sum(r[i][k] for i in range(1, n)) for k in range(nk)]
                before = mean(others[end_k - 10:end_k])
                if before > 0.05 * H:  # somebody there to take it
                    want = before + 0.95 * freed
                    want = min(want, 0.95 * mean(tot[end_k - 10:end_k]))
                    c2 = hold_time(others, end_k, want, frac=1.0)
                    conv_idle.append(None if c2 is None else c2 / 10.0)
        for k in range(0, nk, 10):
            act = [mean(r[i][k:k + 10]) for i in range(1, n) if min(r[i][k:k + 10] or [0]) > 0.01 * H]
            if len(act) >= 2:
                jains.append(jain(act))
        rows.append(dict(scenario="churn", guarantee_pct=25, guarantee=g, method=m, target=target,
                         accuracy=pct(busy_w, 5) / target, accuracy_raw=pct(busy_raw, 5) / target,
                         stalls=len(bad), windows=len(busy_raw), conv=conv_busy, conv_idle=conv_idle,
                         jain=mean(jains), _tot=mean(good(tot, bad)), total_mbit=mbit(mean(good(tot, bad))),
                         phase=runs[m]["name"]))
    base = [x for x in rows if x["method"] == "none"]
    for x in rows:
        x["utilisation"] = x["_tot"] / base[0]["_tot"] if base else float("nan")
    res["churn"] = dict(rows=rows, g_alone=g_alone, guest_ok=ok, segs=segs,
                        cap_accuracy=cap_accuracy(cap, target) if cap else None)
    return rows


# ---------------------------------------------------------------------------
# report


def conv_summary(cs):
    if not cs:
        return "-"
    never = sum(1 for c in cs if c is None)
    got = sorted(c for c in cs if c is not None)
    s = "%s / %s s" % (fmt(median(got), "%.1f") if got else "-", fmt(max(got), "%.1f") if got else "-")
    if never:
        s += " (%d of %d never)" % (never, len(cs))
    return s


CAP_LINE = ("An exact limiter (calibration: the guaranteed VM alone, held at its guarantee by a fixed daqs "
            "limit; the most any method that gives it exactly its guarantee can score here), accuracy: ")


def report(lab, a, res):
    H = lab.H
    L = []
    L.append("# daqs lab: %s" % os.path.basename(a.out))
    L.append("")
    if a.vms == "qemu":
        where = ("tc tbf on the host", "one QEMU guest per VM", "the host-side tap counters")
    else:
        where = ("tc tbf in the guest", "one guest, a namespace per VM", "the nic-side veth counters")
    L.append("Shared link H = %g Mbit/s (%s), daqsd's capacity %g Mbit/s, --vms %s (%s), kernel %s, QEMU TCG. "
             "Rates are wire rates from %s in 100 ms windows; "
             "metrics as defined in docs/lab.md (warm-up %.0f s skipped)." %
             (H / 1e6, where[0], H * (1 - a.headroom / 100) / 1e6, a.vms, where[1], a.kv, where[2], WARMUP_S))
    L.append("")
    if "fig3" in res:
        f = res["fig3"]
        L.append("## fig3: guaranteed VM (1 stream) vs best-effort VM (5 streams), %d s per case" % a.fig3_seconds)
        L.append("")
        L.append("Alone: guaranteed VM %.1f Mbit/s, best-effort VM %.1f Mbit/s; both, no control: %.1f Mbit/s." %
                 (mbit(f["g_alone"]), mbit(f["be_alone"]), mbit(f["none_total"])))
        if f.get("cap_accuracy"):
            L.append("")
            L.append(CAP_LINE + ", ".join("%g%%: %.1f%%" % (gp, 100 * v)
                                          for gp, v in sorted(f["cap_accuracy"].items())) +
                     ("; held by tc tbf instead (same burst and queue): " +
                      ", ".join("%g%%: %.1f%%" % (gp, 100 * v)
                                for gp, v in sorted(f["cap_accuracy_tbf"].items()))
                      if f.get("cap_accuracy_tbf") else "") + ".")
        L.append("")
        L.append("| guarantee | method | G Mbit/s | BE Mbit/s | total Mbit/s | utilisation | accuracy | accuracy, all windows (stalls) | G settled after |")
        L.append("|---|---|---|---|---|---|---|---|---|")
        for r in f["rows"]:
            L.append("| %g%% (%.1f; target %.1f) | %s | %.1f | %.1f | %.1f | %.1f%% | %.1f%% | %.1f%% (%d of %d) | %s |" %
                     (r["guarantee_pct"], mbit(r["guarantee"]), mbit(r["target"]), r["method"], r["g_mbit"],
                      r["be_mbit"], r["total_mbit"], 100 * r["utilisation"], 100 * r["accuracy"],
                      100 * r["accuracy_raw"], r["stalls"], r["windows"], fmt(r["conv_s"], "%.1f s")))
        L.append("")
    if "fig4" in res:
        f = res["fig4"]
        L.append("## fig4: 8 VMs; guaranteed VM (1 stream, 25%% = %.0f Mbit/s) from the start, a best-effort VM "
                 "(2 streams) more every %d s" % (mbit(H * 0.25), f["T"]))
        L.append("")
        L.append("Guaranteed VM alone: %.1f Mbit/s." % mbit(f["g_alone"]))
        if f.get("cap_accuracy"):
            L.append("")
            L.append(CAP_LINE + "%.1f%%." % (100 * f["cap_accuracy"]))
        L.append("")
        L.append("| method | G mean Mbit/s | G with 7 neighbours | total Mbit/s | utilisation | accuracy | "
                 "accuracy, all windows (stalls) | convergence after a start (median / max) | Jain (BE) |")
        L.append("|---|---|---|---|---|---|---|---|---|")
        for r in f["rows"]:
            L.append("| %s | %.1f | %.1f | %.1f | %.1f%% | %.1f%% | %.1f%% (%d of %d) | %s | %.3f |" %
                     (r["method"], r["g_mbit"], r["g_last_mbit"], r["total_mbit"], 100 * r["utilisation"],
                      100 * r["accuracy"], 100 * r["accuracy_raw"], r["stalls"], r["windows"],
                      conv_summary(r["conv"]), r["jain"]))
        L.append("")
    if "churn" in res:
        f = res["churn"]
        L.append("## churn: 6 VMs, best-effort VMs start and stop at random (seed %d), the guaranteed VM "
                 "(25%%) alternates busy and idle" % a.seed)
        L.append("")
        if f.get("cap_accuracy"):
            L.append(CAP_LINE + "%.1f%%." % (100 * f["cap_accuracy"]))
            L.append("")
        L.append("| method | total Mbit/s | utilisation | accuracy (busy) | accuracy, all busy windows (stalls) | G back after busy (median / max) | "
                 "others take 95% of freed (median / max) | Jain (active BE) |")
        L.append("|---|---|---|---|---|---|---|---|")
        for r in f["rows"]:
            L.append("| %s | %.1f | %.1f%% | %.1f%% | %.1f%% (%d) | %s | %s | %.3f |" %
                     (r["method"], r["total_mbit"], 100 * r["utilisation"], 100 * r["accuracy"],
                      100 * r["accuracy_raw"], r["stalls"],
                      conv_summary(r["conv"]), conv_summary(r["conv_idle"]), r["jain"]))
        L.append("")
    L.append("Goals (issue 4): accuracy >= 98%, utilisation >= 97% of none, convergence <= 0.3 s. "
             "A convergence of 0.0 s means the guaranteed VM never fell below 95% of its target.")
    L.append("")
    txt = "\n".join(L)
    with open(os.path.join(a.out, "results.md"), "w") as f:
        f.write(txt)
    with open(os.path.join(a.out, "metrics.json"), "w") as f:
        json.dump({k: {kk: vv for kk, vv in v.items() if kk != "segs"} for k, v in res.items()}, f, indent=1,
                  default=str)
    return txt


def plots(a, res):
    made = []
    if not shutil.which("gnuplot"):
        progress("gnuplot is not installed: no plots (tests/deps.sh installs gnuplot-nox)")
        return made
    if "fig3" in res:
        # the paper's Fig. 3: a baseline group (both VMs without control,
        # the guaranteed VM alone), then one group per guarantee with a
        # stacked bar per method; the total's % of the baseline on top
        f3 = res["fig3"]
        dat = os.path.join(a.out, "fig3.dat")
        groups = []
        none = [r for r in f3["rows"] if r["method"] == "none"][0]
        groups.append(("baseline", [("both VMs", none["g_mbit"], none["be_mbit"], 100.0),
                                    ("G alone", mbit(f3["g_alone"]), 0.0, float("nan"))]))
        for gp in a.guarantees:
            bars = [(r["method"], r["g_mbit"], r["be_mbit"], 100 * r["utilisation"])
                    for r in f3["rows"] if r["guarantee_pct"] == gp and r["method"] != "none"]
            groups.append(("guarantee %g%% = %g" % (gp, a.capacity * gp / 100), bars))
        x = 0
        xt = []
        with open(dat, "w") as f:
            for gi, (title, bars) in enumerate(groups):
                for (lab_, g_, be_, pc) in bars:
                    f.write('%d %.2f %.2f %s "%s"\n' % (x, g_, be_, "%.1f%%" % pc if pc == pc else '""', lab_))
                    xt.append('"%s" %d' % (lab_, x))
                    x += 1
                xg = x - len(bars) / 2.0 - 0.5
                xt.append('"\\n\\n%s" %.1f' % (title.replace("%", "%%"), xg))
                x += 1
        gp_lines = ["set terminal pngcairo size 1100,520 font 'sans,10'" if pngcairo() else "set terminal png size 1100,520",
                    "set output '%s/fig3.png'" % a.out,
                    "set title 'fig3 (lab): guaranteed VM (1 stream) vs best-effort VM (5 streams), H = %g Mbit/s, wire rates'" % a.capacity,
                    "set style fill solid 0.9 border -1", "set boxwidth 0.8", "set ylabel 'Mbit/s'",
                    "set yrange [0:%g]" % (a.capacity * 1.2), "set xrange [-1:%d]" % x,
                    "set key top center horizontal", "set grid ytics", "set bmargin 6",
                    "set xtics (%s) scale 0 font ',9'" % ", ".join(xt)]
        gp_lines.append("plot '%s' using 1:2 with boxes lc rgb '#4472c4' title 'guaranteed VM (1 stream)', "
                        "'' using 1:($2+$3) with boxes lc rgb '#ed7d31' notitle, "
                        "'' using 1:2 with boxes lc rgb '#4472c4' notitle, "
                        "'' using 1:($3 > 0 ? $2+$3 : 1/0) with boxes lc rgb '#ed7d31' title 'best-effort VM (5 streams)', "
                        "'' using 1:2 with boxes lc rgb '#4472c4' notitle, "
                        "'' using 1:($2+$3+3):4 with labels font ',9' notitle, "
                        "'' using 1:($2/2):(sprintf('%%.1f', $2)) with labels tc rgb 'white' font ',9' notitle"
                        % dat)
        if run_gnuplot(gp_lines):
            made.append(os.path.join(a.out, "fig3.png"))
    if "fig4" in res:
        ms = [r["method"] for r in res["fig4"]["rows"]]
        dat = os.path.join(a.out, "fig4.dat")
        with open(dat, "w") as f:
            for m in ms:
                src = os.path.join(a.out, "fig4-%s.csv" % m)
                rows = [ln.strip().split(",") for ln in open(src).readlines()[1:]]
                f.write("# %s: t G total (1 s averages)\n" % m)
                for k in range(0, len(rows) - 9, 5):
                    blk = rows[k:k + 10]
                    t = float(blk[-1][0])
                    g = mean([float(x[1]) for x in blk]) / 1e6
                    tot = mean([sum(float(v) for v in x[1:-1]) for x in blk]) / 1e6
                    f.write("%.1f %.2f %.2f\n" % (t, g, tot))
                f.write("\n\n")
        colors = {"none": "#7f7f7f", "static": "#2ca02c", "paper2023": "#9467bd", "daqs": "#d62728"}
        gp_lines = ["set terminal pngcairo size 1000,520 font 'sans,11'" if pngcairo() else "set terminal png size 1000,520",
                    "set output '%s/fig4.png'" % a.out,
                    "set title 'fig4: 8 VMs, a best-effort VM more every %d s; guarantee %g Mbit/s'" %
                    (a.fig4_step, a.capacity * 0.25),
                    "set xlabel 'time (s)'", "set ylabel 'Mbit/s (wire, 1 s averages)'",
                    "set yrange [0:%g]" % (a.capacity * 1.15), "set key outside right", "set grid",
                    "set arrow from graph 0, first %g to graph 1, first %g nohead dt 2 lc rgb 'black'" %
                    (a.capacity * 0.25, a.capacity * 0.25)]
        plot = []
        for j, m in enumerate(ms):
            c = colors.get(m, "black")
            plot.append("'%s' index %d using 1:3 with lines lw 2 dt 2 lc rgb '%s' title '%s total'" % (dat, j, c, m))
            plot.append("'%s' index %d using 1:2 with lines lw 2 lc rgb '%s' title '%s guaranteed VM'" % (dat, j, c, m))
        gp_lines.append("plot " + ", ".join(plot))
        if run_gnuplot(gp_lines):
            made.append(os.path.join(a.out, "fig4.png"))
    return made


_pngcairo = None


def pngcairo():
    global _pngcairo
    if _pngcairo is None:
        out = subprocess.run(["gnuplot", "-e", "set terminal"], capture_output=True, text=True)
        _pngcairo = "pngcairo" in (out.stdout + out.stderr)
    return _pngcairo


def run_gnuplot(lines):
    out = [ln for ln in lines if ln.startswith("set output")][0].split("'")[1]
    with open(out[:-4] + ".gp", "w") as f:
        f.write("\n".join(lines) + "\n")
    p = subprocess.run(["gnuplot"], input="\n".join(lines) + "\n", capture_output=True, text=True)
    if p.returncode != 0:
        progress("gnuplot failed: " + p.stderr.strip()[:400])
        return False
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vms", default="netns", choices=["netns", "qemu"])
    ap.add_argument("--capacity", type=float, default=50,
                    help="H in Mbit/s (default 50: what a TCG guest on 2 shared cores leaves to the link, see docs/lab.md)")
    ap.add_argument("--scenarios", default="fig3,fig4,churn")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--guarantees", default="25,37.5,50,62.5,75", help="fig3, percent of H")
    ap.add_argument("--fig3-seconds", type=int, default=15)
    ap.add_argument("--fig4-step", type=int, default=10, help="T: seconds between best-effort starts")
    ap.add_argument("--churn-seconds", type=int, default=90)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--burst-ms", type=float, default=10.0, help="the shared link's tbf burst, in ms at H")
    ap.add_argument("--queue-ms", type=float, default=20.0, help="the shared link's queue, in ms at H")
    ap.add_argument("--analyze", action="store_true",
                    help="run nothing: compute metrics, table and plots again from the CSVs in --out "
                    "(give the same scenario options as the run)")
    ap.add_argument("--gso-segs", type=int, default=4,
                    help="each VM's eth0 builds GSO packets of at most this many segments "
                         "(default 4; 0: the kernel's 65535; docs/lab.md: the lab's scale)")
    ap.add_argument("--headroom", type=float, default=2,
                    help="daqsd's capacity (and static's) is H less this many percent "
                         "(default 2; docs/lab.md)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--kv", required=True)
    ap.add_argument("--guest-timeout", type=int, default=0)
    a = ap.parse_args()
    a.methods = [m for m in a.methods.split(",") if m]
    for m in a.methods:
        if m not in METHODS:
            die("unknown method '%s' (have %s)" % (m, ", ".join(METHODS)))
    if "none" not in a.methods:
        a.methods.insert(0, "none")  # utilisation is relative to it
    a.methods = [m for m in METHODS if m in a.methods]
    a.guarantees = [float(x) for x in a.guarantees.split(",") if x]
    scen = [s for s in a.scenarios.split(",") if s]
    for s in scen:
        if s not in ("fig3", "fig4", "churn"):
            die("unknown scenario " + s)
    if not a.guest_timeout:
        a.guest_timeout = 600 + 40 * (len(a.methods) + 1) * len(a.guarantees) * a.fig3_seconds // 10 + \
            (len(a.methods) + 1) * (8 * a.fig4_step + a.churn_seconds) * 2
    os.makedirs(a.out, exist_ok=True)
    lab = Lab(a)
    res = {}

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        for s in scen:
            {"fig3": scenario_fig3, "fig4": scenario_fig4, "churn": scenario_churn}[s](lab, a, res)
    except KeyboardInterrupt:
        progress("interrupted")
        lab.daqsd.stop()
        if lab.guest:
            lab.guest.kill()
        sys.exit(130)
    except BaseException:
        lab.daqsd.stop()
        if lab.guest:
            lab.guest.kill()
        raise
    finally:
        shutil.rmtree(lab.tmp, ignore_errors=True)
    txt = report(lab, a, res)
    print()
    print(txt)
    made = plots(a, res)
    print("lab: results in %s/results.md, CSV time series %s/*.csv" % (a.out, a.out))
    for p in made:
        print("lab: plot %s" % p)
    bad = [k for k, v in res.items() if not v.get("guest_ok", True)]
    if bad:
        print("lab: the guest run of %s did not end cleanly (see run-*.log)" % ", ".join(bad))
        sys.exit(1)


if __name__ == "__main__":
    main()
