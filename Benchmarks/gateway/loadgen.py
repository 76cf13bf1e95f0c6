#!/usr/bin/env python3
"""Open-loop, fixed-rate HTTP/1.1 POST load generator over keep-alive connections (Debian has no wrk2).

Sends one request body on a fixed schedule (`--rate` per second) over `--connections` keep-alive
connections and records, per request:
  service    from writing the request to its last byte (what the server side added is service - service_direct)
  corrected  from the scheduled send time to the last byte (includes client lateness and connection queueing)
  first_byte with --stream: from writing the request to the first byte of the body (the first event)
Prints one JSON object with percentiles (ms) and counts; `--samples FILE` also writes every measured
request's service time (and, with --stream, time to first byte) in ms, so that runs can be pooled.

  python3 Benchmarks/gateway/loadgen.py --port 8080 --rate 1000 --duration 15 \
      --header 'Authorization: Bearer KEY' --body '{"model":"m","messages":[...]}' [--stream] [--spin]

asyncio with uvloop when installed. `--spin` busy-polls near send times (only when the generator has
a CPU of its own): the timer resolution is ~1 ms, polling gets sends within ~5 us of schedule.
"""
import argparse
import asyncio
import gc
import json
import socket
import time
from collections import deque

try:
    import uvloop
except ImportError:
    uvloop = None

clock = time.perf_counter


def parse_response(buf):
    """(status, bytes consumed, head end) of the first complete HTTP/1.1 response in buf, or None."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = bytes(buf[:end]).lower()
    status = int(head[9:12])
    body_start = end + 4
    i = head.find(b"\r\ncontent-length:")
    if i >= 0:
        j = head.find(b"\r\n", i + 2)
        n = int(head[i + 17:j if j >= 0 else len(head)].strip())
        return (status, body_start + n) if len(buf) >= body_start + n else None
    if b"\r\ntransfer-encoding: chunked" in head:
        pos = body_start
        while True:
            k = buf.find(b"\r\n", pos)
            if k < 0:
                return None
            size = int(bytes(buf[pos:k]).split(b";")[0], 16)
            if size == 0:
                return (status, k + 4) if len(buf) >= k + 4 else None
            pos = k + 2 + size + 2
            if pos > len(buf):
                return None
    return (status, body_start)  # no body


class Conn(asyncio.Protocol):
    def __init__(self, gen):
        self.gen, self.buf, self.transport = gen, bytearray(), None
        self.busy, self.sent, self.intended, self.first = False, 0.0, 0.0, None

    def connection_made(self, transport):
        self.transport = transport
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send(self, intended):
        self.busy, self.intended, self.first = True, intended, None
        self.sent = clock()
        self.transport.write(self.gen.request)

    def data_received(self, data):
        now = clock()
        self.buf += data
        if self.busy and self.first is None:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0 and len(self.buf) > end + 4:
                self.first = now
        while self.busy:
            r = parse_response(self.buf)
            if r is None:
                return
            del self.buf[:r[1]]
            self.busy = False
            self.gen.done(self, r[0], now)

    def connection_lost(self, exc):
        self.gen.lost(self)


class Gen:
    def __init__(self, a):
        self.a = a
        headers = "".join(f"{h}\r\n" for h in a.header)
        body = a.body.encode()
        self.request = (f"POST {a.path} HTTP/1.1\r\nHost: {a.host}:{a.port}\r\nContent-Type: application/json\r\n"
                        f"{headers}Content-Length: {len(body)}\r\n\r\n").encode() + body
        self.idle, self.waiting = [], deque()
        self.service, self.total, self.lateness, self.first = [], [], [], []
        self.statuses, self.errors, self.queued, self.outstanding = {}, 0, 0, 0
        self.measure_from = float("inf")
        self.last_done = 0.0

    def dispatch(self, intended):
        self.outstanding += 1
        if self.idle:
            c = self.idle.pop()
            c.send(intended)
            if intended >= self.measure_from:
                self.lateness.append(c.sent - intended)
        else:
            self.waiting.append(intended)
            if intended >= self.measure_from:
                self.queued += 1

    def done(self, c, status, now):
        self.outstanding -= 1
        if c.intended >= self.measure_from:
            self.service.append(now - c.sent)
            self.total.append(now - c.intended)
            if c.first is not None:
                self.first.append(c.first - c.sent)
            self.statuses[status] = self.statuses.get(status, 0) + 1
            self.last_done = now
        if self.waiting:
            c.send(self.waiting.popleft())
        else:
            self.idle.append(c)

    def lost(self, c):
        if c in self.idle:
            self.idle.remove(c)
        if c.busy:
            self.outstanding -= 1
            self.errors += 1
        asyncio.get_running_loop().create_task(self.connect())

    async def connect(self):
        loop = asyncio.get_running_loop()
        _, c = await loop.create_connection(lambda: Conn(self), self.a.host, self.a.port)
        if self.waiting:
            c.send(self.waiting.popleft())
        else:
            self.idle.append(c)


def pct(sorted_values, p):
    if not sorted_values:
        return None
    k = min(len(sorted_values) - 1, max(0, int(round(p / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def summary(values):
    v = sorted(values)
    ms = lambda x: None if x is None else round(x * 1000, 3)
    return {"p50_ms": ms(pct(v, 50)), "p90_ms": ms(pct(v, 90)), "p99_ms": ms(pct(v, 99)),
            "p999_ms": ms(pct(v, 99.9)), "max_ms": ms(v[-1] if v else None),
            "mean_ms": ms(sum(v) / len(v) if v else None)}


async def main(a):
    gen = Gen(a)
    for _ in range(a.connections):
        await gen.connect()
    interval = 1.0 / a.rate
    count = int(a.rate * (a.warmup + a.duration))
    t0 = clock() + 0.05
    gen.measure_from = t0 + a.warmup
    i = 0
    while i < count:
        now = clock()
        due = t0 + i * interval
        if due > now:
            # Sleep when the next send is far; closer than 2 ms, busy-poll the loop (sleep(0) runs one
            # I/O poll with zero timeout) so sends go out on time: the timer resolution is ~1 ms.
            await asyncio.sleep(0 if a.spin and due - now < 0.002 else max(0.0, due - now - (0.002 if a.spin else 0)))
            continue
        while i < count and t0 + i * interval <= now:
            gen.dispatch(t0 + i * interval)
            i += 1
    deadline = clock() + 10
    while gen.outstanding > 0 and clock() < deadline:
        await asyncio.sleep(0.01)
    n = len(gen.service)
    out = {"rate_target": a.rate, "duration_s": a.duration, "connections": a.connections, "completed": n,
           "achieved_rps": round(n / max(a.duration, gen.last_done - gen.measure_from), 1),
           "statuses": {str(k): v for k, v in gen.statuses.items()},
           "errors": gen.errors, "unfinished": gen.outstanding, "queued_for_connection": gen.queued,
           "event_loop": "uvloop" if uvloop else "asyncio", "spin": a.spin, "stream": a.stream,
           "service": summary(gen.service), "corrected": summary(gen.total), "send_lateness": summary(gen.lateness)}
    if a.stream:
        out["first_byte"] = summary(gen.first)
    if a.samples:
        with open(a.samples, "w") as f:
            json.dump({"service_ms": [round(x * 1000, 4) for x in gen.service],
                       "first_byte_ms": [round(x * 1000, 4) for x in gen.first] if a.stream else None}, f)
    print(json.dumps(out))


if __name__ == "__main__":
    p = argparse.ArgumentParser(description="Open-loop fixed-rate HTTP/1.1 POST load generator over keep-alive connections.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--path", default="/v1/chat/completions")
    p.add_argument("--rate", type=float, default=1000)
    p.add_argument("--duration", type=float, default=15)
    p.add_argument("--warmup", type=float, default=2)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--header", action="append", default=[])
    p.add_argument("--body", required=True)
    p.add_argument("--stream", action="store_true", help="also record the time to the first body byte (streamed answers)")
    p.add_argument("--samples", help="write every measured request's times (ms) to this JSON file")
    p.add_argument("--spin", action="store_true", help="busy-poll near send times (only when the generator has a CPU of its own)")
    a = p.parse_args()
    gc.disable()  # no collector pauses inside the measurement
    if uvloop:
        uvloop.run(main(a))
    else:
        asyncio.run(main(a))
