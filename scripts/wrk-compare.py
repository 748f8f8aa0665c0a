#!/usr/bin/env python3
"""Compares HTTP servers that are already running, in one run.

Usage: wrk-compare.py ROUNDS SECONDS NAME=PID[,PID...]=URL ...

Runs `wrk -t1 -c64 -dSECONDS URL` against each server in turn, ROUNDS
times round-robin (so a slow phase of a shared machine hits every server
alike), and prints per server the median requests/s and the median CPU
time the server's processes spent per request (user + system, read from
/proc), then each server's ratio to the last one named.
"""
import os
import re
import statistics
import subprocess
import sys

TICK = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pids):
    """User + system CPU ticks of these processes and their threads."""
    total = 0
    for pid in pids:
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total


def main():
    rounds, seconds = int(sys.argv[1]), sys.argv[2]
    servers = [arg.split("=", 2) for arg in sys.argv[3:]]
    rps = {name: [] for name, _, _ in servers}
    cpu = {name: [] for name, _, _ in servers}
    for _ in range(rounds):
        for name, pids, url in servers:
            pids = pids.split(",")
            before = cpu_ticks(pids)
            out = subprocess.run(["wrk", "-t1", "-c64", f"-d{seconds}s", url], capture_output=True, text=True).stdout
            spent = cpu_ticks(pids) - before
            requests = int(re.search(r"(\d+) requests in", out).group(1))
            rps[name].append(float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)))
            cpu[name].append(spent / TICK * 1e6 / max(requests, 1))
    last = servers[-1][0]
    for name, _, _ in servers:
        r, c = statistics.median(rps[name]), statistics.median(cpu[name])
        ratio = r / statistics.median(rps[last])
        runs = " ".join(f"{x:.0f}" for x in sorted(rps[name]))
        print(f"  {name:24} {r:9.0f} requests/s  {c:6.2f} us CPU/request  {ratio:5.2f}x {last}   (runs: {runs})")


main()
