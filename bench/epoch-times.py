#!/usr/bin/env python3
"""Runs one `reccluster train` and records, per finished epoch, wall seconds and the process's CPU seconds.

    epoch-times.py OUT.jsonl -- COMMAND...

Reads the epoch lines the CLI prints ("epoch N/M ...", every revision prints them as the epoch ends) and, at each,
the process's utime + stime from /proc/PID/stat. Writes one JSON object per epoch: {"epoch", "wall", "cpu"}, where
wall and cpu are the time since the previous epoch line (epoch 1: since the process started, so it includes start-up).
"""
import json, os, re, subprocess, sys, time

out, command = sys.argv[1], sys.argv[sys.argv.index("--") + 1:]
ticks = os.sysconf("SC_CLK_TCK")
started = time.monotonic()
process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime (fields 14 and 15 of stat)


epochs, last_wall, last_cpu = [], started, 0.0
for line in process.stdout:
    match = re.match(r"\s*epoch (\d+)/(\d+)", line)
    if not match:
        continue
    now, cpu = time.monotonic(), cpu_seconds(process.pid)
    epochs.append({"epoch": int(match.group(1)), "wall": now - last_wall, "cpu": cpu - last_cpu})
    last_wall, last_cpu = now, cpu
if process.wait() != 0:
    sys.exit(f"{' '.join(command)} failed with exit code {process.returncode}")
with open(out, "w") as file:
    for e in epochs:
        file.write(json.dumps(e) + "\n")
