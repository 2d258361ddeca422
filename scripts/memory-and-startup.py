#!/usr/bin/env python3
"""Startup time and idle-connection memory of the release calculator.

1. Startup: from spawning the binary to its first answered JSON-RPC request (median of runs).
2. Memory: the server's resident memory before and after N keep-alive connections that have
   each made one call and then sit idle; prints the cost per connection. The calculator runs
   with the library's defaults: the first 1,024 connections keep hyper's buffers (16 KiB)
   while idle, the rest park without them (see `Serve::keep_buffers_up_to`).

Usage: scripts/memory-and-startup.py [CONNECTIONS]   (default 5000; run from anywhere)
Builds nothing: run `cargo build --release --example calculator` first (bench-http.sh does).
"""
import asyncio
import os
import resource
import socket
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "examples", "calculator")
HOST, PORT = "127.0.0.1", 5301
CALL = b'{"jsonrpc":"2.0","method":"add","params":{"a":2,"b":3},"id":1}'
REQUEST = (
    b"POST /rpc HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
    + b"Content-Length: %d\r\n\r\n" % len(CALL)
    + CALL
)
ANSWER = b'{"jsonrpc":"2.0","result":5,"id":1}'


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def start(max_connections=4096):
    return subprocess.Popen(
        [BINARY, "--addr", f"{HOST}:{PORT}", "--max-connections", str(max_connections)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(server):
    server.terminate()
    server.wait(timeout=10)


def call_once(timeout=0.05):
    with socket.create_connection((HOST, PORT), timeout=timeout) as conn:
        conn.sendall(REQUEST)
        reply = b""
        while ANSWER not in reply:
            chunk = conn.recv(4096)
            if not chunk:
                raise ConnectionError("closed")
            reply += chunk
    return reply


def startup_ms(runs=7):
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        server = start()
        deadline = began + 10
        while True:
            try:
                call_once()
                break
            except OSError:
                if time.perf_counter() > deadline:
                    stop(server)
                    raise RuntimeError("the calculator did not answer within 10 s")
                time.sleep(0.0005)
        times.append((time.perf_counter() - began) * 1000)
        stop(server)
    return statistics.median(times), min(times), max(times)


async def open_idle(count):
    connections = []
    semaphore = asyncio.Semaphore(1000)

    async def one():
        async with semaphore:
            reader, writer = await asyncio.open_connection(HOST, PORT)
            writer.write(REQUEST)
            await writer.drain()
            reply = b""
            while ANSWER not in reply:
                chunk = await reader.read(4096)
                if not chunk:
                    raise ConnectionError("closed early")
                reply += chunk
            connections.append(writer)

    # In waves, so that a burst does not overflow the listen queue (clients would then wait
    # for a SYN retry, and the first connections could time out before the last are open).
    for start in range(0, count, 500):
        await asyncio.gather(*(one() for _ in range(min(500, count - start))))
    return connections


def count_established():
    """Connections to the server's port that are still open, by the kernel's table."""
    local = "%08X:%04X" % (0x0100007F, PORT)  # 127.0.0.1 in /proc/net/tcp's byte order
    with open("/proc/net/tcp") as table:
        return sum(1 for line in table if line.split()[1] == local and line.split()[3] == "01")


def memory(count):
    server = start(max_connections=count + 100)
    try:
        for _ in range(200):
            try:
                call_once()
                break
            except OSError:
                time.sleep(0.01)
        time.sleep(0.5)
        before = rss_kib(server.pid)
        began = time.perf_counter()
        loop = asyncio.new_event_loop()
        connections = loop.run_until_complete(open_idle(count))
        opened = time.perf_counter() - began
        time.sleep(1.0)
        after = rss_kib(server.pid)
        established = count_established()
        for writer in connections:
            writer.close()
        loop.close()
        return before, after, opened, established
    finally:
        stop(server)


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, count * 2 + 100)), hard))
    if not os.path.exists(BINARY):
        sys.exit(f"{BINARY} is missing: cargo build --release --example calculator")

    median, low, high = startup_ms()
    print(f"startup to first answer: {median:.1f} ms median (min {low:.1f}, max {high:.1f}) of 7 runs")

    before, after, opened, established = memory(count)
    if established < count:
        print(f"warning: only {established} of {count} connections were still open")
    per = (after - before) / max(established, 1)
    print(
        f"idle keep-alive connections: {count} opened in {opened:.1f} s, {established} open at "
        f"the reading; server RSS {before / 1024:.1f} MiB -> {after / 1024:.1f} MiB: "
        f"{per:.1f} KiB per open connection"
    )


if __name__ == "__main__":
    main()
