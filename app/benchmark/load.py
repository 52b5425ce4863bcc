"""A small load generator, run as a process of its own beside the server (`python -m app.benchmark.load`): a few
threads, each with one keep-alive connection, send the same GET as fast as answers come back, for a fixed number
of seconds after a short warm-up; it prints one JSON line with the requests answered per second and their times.

Only for 127.0.0.1: it is bounded in time and stops by itself.
"""
import argparse
import http.client
import json
import threading
import time
from collections import Counter
from urllib.parse import urlsplit

from app.benchmark.stats import percentiles

LOOPBACK = ("127.0.0.1", "localhost", "::1")
WARM_REQUESTS = 2  # per connection, before the clock starts


def run(url: str, seconds: float, connections: int, headers: dict, warm_up: float = 1.0) -> dict:
    """Drive `url` with `connections` connections for `seconds`; what was answered, per second.

    Every connection first warms up (WARM_REQUESTS answers, and at least `warm_up` seconds): a server's workers
    compile their templates and fill their caches on their first requests. Then all are timed together.
    """
    parts = urlsplit(url)
    if parts.hostname not in LOOPBACK:
        raise ValueError(f"{url}: the load generator only drives this machine's loopback")
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    statuses, times, lock = Counter(), [], threading.Lock()
    window = {}

    def start_the_clock():
        window["from"] = time.perf_counter()
        window["to"] = window["from"] + seconds

    ready = threading.Barrier(connections, action=start_the_clock)

    def drive():
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)

        def get():
            try:
                connection.request("GET", path, headers=headers)
                answer = connection.getresponse()
                answer.read()
                if answer.getheader("Connection", "").lower() == "close":
                    connection.close()
                return answer.status
            except (OSError, http.client.HTTPException):
                connection.close()
                return "error"

        warm_until = time.perf_counter() + warm_up
        for _ in range(WARM_REQUESTS):
            get()
        while time.perf_counter() < warm_until:
            get()
        ready.wait()
        mine, mine_times = Counter(), []
        while (now := time.perf_counter()) < window["to"]:
            mine[get()] += 1
            mine_times.append((time.perf_counter() - now) * 1000)
        connection.close()
        with lock:
            statuses.update(mine)
            times.extend(mine_times)

    threads = [threading.Thread(target=drive) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    answered = sum(count for status, count in statuses.items() if status == 200)
    p50, p95 = percentiles(times) if times else (None, None)
    return {"url": path, "seconds": seconds, "connections": connections, "requests": sum(statuses.values()),
            "ok": answered, "statuses": {str(k): v for k, v in statuses.items()},
            "rps": round(answered / seconds, 1), "p50_ms": p50 and round(p50, 2), "p95_ms": p95 and round(p95, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--warm-up", type=float, default=1.0)
    parser.add_argument("--header", action="append", default=[], help='"Name: value", repeatable')
    arguments = parser.parse_args()
    headers = dict(header.split(": ", 1) for header in arguments.header)
    print(json.dumps(run(arguments.url, arguments.seconds, arguments.connections, headers, arguments.warm_up)))


if __name__ == "__main__":
    main()
