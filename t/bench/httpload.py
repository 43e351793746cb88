#!/usr/bin/python3
"""HTTP load for the benchmark's php-fpm capacity cases (t/bench/fpm_cases.py).

    httpload.py rate  PORT PATH RATE SECONDS [TIMEOUT]   open loop, RATE/s
    httpload.py conns PORT PATH CONNS SECONDS [TIMEOUT]  closed loop
    httpload.py trickle PORT PATH CLIENTS BODY CHUNK INTERVAL_MS

rate: requests are due at fixed intervals (start + i / RATE), whether or
not earlier ones have been answered, as wrk2 does: each is sent on an idle
kept connection or a new one (up to 64), and its latency counts from the
moment it was due, so a gateway that stalls is charged for the requests that piled
up behind the stall (a closed-loop client such as wrk stops sending while
it waits and hides them).  conns: CONNS keep-alive clients each send the
next request when the previous one is answered, the offered concurrency.
Every request carries ?s=N (N counts from 0), which the PHP script uses as
its random seed, so two runs of the same length send the same mix of
service times.

Both print one JSON object: requests sent and answered, ok (2xx/3xx),
statuses, socket errors, timeouts (no answer within TIMEOUT seconds,
default 40: past fcgate's 30 s queue_timeout in the burst), p50/p99/max
latency in ms and requests/s of the ok answers (a quick 502 is no
service, and would make a failing gateway look fast), and p50/p99 of
their wait: the latency less the time tail.php says it slept, what the
gateway's balancing and queueing added.  With 1 % of requests at 200 ms
the p99 latency is that 200 ms plus a wait; the wait's p99 shows the
balancing by itself.  rate also says how late, at most, it sent a request
(client_lag_ms: the machine was too busy for the rate when that is more
than a few ms).

trickle: CLIENTS connections each POST a BODY-byte body CHUNK bytes every
INTERVAL_MS, staggered, never finishing within a run.  Prints "ready"
once all are connected with their heads sent; on SIGTERM prints a JSON
object with how many are still connected.  A benchmark tool, not a test.
"""
import asyncio
import json
import re
import signal
import sys
import time


OPEN_CONNS = 64


# tail.php ends its answer with "POOL MS": the milliseconds it slept
SLEPT = re.compile(rb"p\d+ (\d+)\n")


class Stats:
    def __init__(self):
        self.lat = []
        self.wait = []
        self.statuses = {}
        self.socket_errors = 0
        self.timeouts = 0
        self.ok = 0
        self.answered = 0

    def answer(self, status, ms, slept):
        key = str(status)
        self.statuses[key] = self.statuses.get(key, 0) + 1
        if 200 <= status < 400:
            # a gateway's quick 502 is not service: latency is of answers
            self.lat.append(ms)
            if slept is not None:
                self.wait.append(ms - slept)
            self.ok += 1
        self.answered += 1

    def report(self, seconds, sent):
        lat = sorted(self.lat)
        wait = sorted(self.wait)

        def pct(p, v=lat):
            if not v:
                return float("nan")
            return v[min(len(v) - 1, int(len(v) * p))]
        return {"sent": sent, "requests": self.answered, "ok": self.ok,
                "statuses": self.statuses,
                "socket_errors": self.socket_errors,
                "timeouts": self.timeouts,
                "p50_ms": pct(0.50), "p99_ms": pct(0.99),
                "wait_p50_ms": pct(0.50, wait), "wait_p99_ms": pct(0.99, wait),
                "max_ms": lat[-1] if lat else float("nan"),
                "rps": self.ok / seconds if seconds else 0.0}


class Answer:
    """Parses one HTTP/1.1 answer from bytes as they arrive."""

    def __init__(self):
        self.buf = b""
        self.status = 0
        self.keep = True
        self.want = None        # body bytes still to come, or None: chunked
        self.head_done = False
        self.slept = None

    def feed(self, data):
        """True once the answer is complete; raises ValueError on garbage."""
        self.buf += data
        if not self.head_done:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return False
            lines = self.buf[:end].decode("latin-1").split("\r\n")
            self.buf = self.buf[end + 4:]
            self.head_done = True
            self.status = int(lines[0].split(" ", 2)[1])
            hdr = {}
            for line in lines[1:]:
                k, sep, v = line.partition(":")
                if sep:
                    hdr[k.strip().lower()] = v.strip().lower()
            self.keep = "close" not in hdr.get("connection", "")
            if "content-length" in hdr:
                self.want = int(hdr["content-length"])
            elif "chunked" not in hdr.get("transfer-encoding", ""):
                raise ValueError("answer without a length")
        if self.want is not None:
            if len(self.buf) < self.want:
                return False
            self.note(self.buf[:self.want])
            return True
        return self.chunks()

    def note(self, body):
        m = SLEPT.search(body)
        if m:
            self.slept = int(m.group(1))

    def chunks(self):
        while True:
            end = self.buf.find(b"\r\n")
            if end < 0:
                return False
            size = int(self.buf[:end].split(b";")[0], 16)
            if size == 0:
                # no trailers from either gateway: the last CRLF ends it
                return self.buf.find(b"\r\n\r\n", end) == end
            if len(self.buf) < end + 2 + size + 2:
                return False
            self.note(self.buf[end + 2:end + 2 + size])
            self.buf = self.buf[end + 2 + size + 2:]


class Conn(asyncio.Protocol):
    """One kept client connection: one request at a time."""

    def __init__(self):
        self.transport = None
        self.answer = None
        self.done = None

    def connection_made(self, transport):
        self.transport = transport

    def send(self, data):
        self.answer = Answer()
        self.done = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return self.done

    def data_received(self, data):
        if self.done is None or self.done.done():
            return
        try:
            if self.answer.feed(data):
                self.done.set_result((self.answer.status, self.answer.keep,
                                      self.answer.slept))
        except (ValueError, IndexError) as e:
            self.done.set_exception(e)

    def connection_lost(self, exc):
        self.transport = None
        if self.done is not None and not self.done.done():
            self.done.set_exception(ConnectionResetError("closed"))


def request(path, seq):
    sep = "&" if "?" in path else "?"
    return (f"GET {path}{sep}s={seq} HTTP/1.1\r\nHost: bench\r\n\r\n"
            .encode())


class Client:
    def __init__(self, port, path, timeout, conns):
        self.port = port
        self.path = path
        self.timeout = timeout
        self.idle = []
        self.stats = Stats()
        self.slots = asyncio.Semaphore(conns)

    async def one(self, seq, due):
        """Send request seq, record its answer; latency counted from due."""
        async with self.slots:
            await self.one_on_a_connection(seq, due)

    async def one_on_a_connection(self, seq, due):
        loop = asyncio.get_running_loop()
        conn = None
        while self.idle and conn is None:
            conn = self.idle.pop()
            if conn.transport is None:
                conn = None
        keep = False
        try:
            # the connect too: a full listen backlog drops the SYN
            # (asyncio.timeout, not wait_for(): that costs a task each)
            async with asyncio.timeout(self.timeout):
                if conn is None:
                    _, conn = await loop.create_connection(
                        Conn, "127.0.0.1", self.port)
                status, keep, slept = await conn.send(
                    request(self.path, seq))
        except TimeoutError:
            self.stats.timeouts += 1
        except (OSError, ValueError, IndexError):
            self.stats.socket_errors += 1
        else:
            self.stats.answer(status, (time.monotonic() - due) * 1000,
                              slept)
        if conn is not None and conn.transport is not None:
            if keep:
                self.idle.append(conn)
            else:
                conn.transport.close()


async def open_loop(port, path, rate, seconds, timeout):
    # at most OPEN_CONNS connections, as wrk2 has a fixed number: a request
    # due while all are busy waits for one (its latency still counts from
    # when it was due), so a stalled gateway is not also handed thousands
    # of new connections, which would measure accept() instead
    c = Client(port, path, timeout, OPEN_CONNS)
    start = time.monotonic()
    n = int(rate * seconds)
    tasks = []
    seq = 0
    lag = 0.0
    while seq < n:
        now = time.monotonic()
        while seq < n and start + seq / rate <= now:
            lag = max(lag, now - (start + seq / rate))
            tasks.append(asyncio.ensure_future(
                c.one(seq, start + seq / rate)))
            seq += 1
        await asyncio.sleep(max(0.0, start + seq / rate - time.monotonic()))
    if tasks:
        await asyncio.wait(tasks)
    r = c.stats.report(seconds, n)
    # how late this client itself sent a request: on a machine too busy
    # to keep the rate, that delay is in the latencies too
    r["client_lag_ms"] = lag * 1000
    return r


async def closed_loop(port, path, conns, seconds, timeout):
    c = Client(port, path, timeout, conns)
    end = time.monotonic() + seconds
    counter = [0]

    async def client():
        while time.monotonic() < end:
            seq = counter[0]
            counter[0] += 1
            await c.one(seq, time.monotonic())
    await asyncio.gather(*(client() for _ in range(conns)))
    return c.stats.report(seconds, counter[0])


async def trickle(port, path, clients, body, chunk, interval):
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    conns = []
    for _ in range(clients):
        try:
            r, w = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            continue
        w.write(f"POST {path} HTTP/1.1\r\nHost: bench\r\n"
                f"Content-Type: application/octet-stream\r\n"
                f"Content-Length: {body}\r\n\r\n".encode())
        conns.append((r, w))
    print("ready", len(conns), flush=True)
    alive = [True] * len(conns)
    piece = b"x" * chunk

    async def watch(i):
        # whatever the gateway answers (a 408, a 413) ends the upload
        try:
            while await conns[i][0].read(65536):
                pass
        except OSError:
            pass
        alive[i] = False

    async def one(i):
        w = conns[i][1]
        await asyncio.sleep(interval * i / max(1, len(conns)))
        sent = 0
        while not stop.is_set() and sent + chunk <= body and alive[i]:
            if w.is_closing():
                alive[i] = False
                return
            w.write(piece)
            sent += chunk
            try:
                await asyncio.wait_for(stop.wait(), interval)
            except asyncio.TimeoutError:
                pass
    watchers = [asyncio.ensure_future(watch(i)) for i in range(len(conns))]
    await asyncio.gather(*(one(i) for i in range(len(conns))))
    await stop.wait()
    n = sum(alive)
    for t in watchers:
        t.cancel()
    for _, w in conns:
        w.close()
    print(json.dumps({"clients": len(conns), "still_connected": n}),
          flush=True)


def main():
    a = sys.argv[1:]
    if len(a) < 5 or a[0] not in ("rate", "conns", "trickle"):
        sys.exit(__doc__)
    port, path = int(a[1]), a[2]
    if a[0] == "trickle":
        asyncio.run(trickle(port, path, int(a[3]), int(a[4]), int(a[5]),
                            int(a[6]) / 1000))
        return
    timeout = float(a[5]) if len(a) > 5 else 40.0
    if a[0] == "rate":
        r = asyncio.run(open_loop(port, path, float(a[3]), float(a[4]),
                                  timeout))
    else:
        r = asyncio.run(closed_loop(port, path, int(a[3]), float(a[4]),
                                    timeout))
    print(json.dumps(r))


if __name__ == "__main__":
    main()
