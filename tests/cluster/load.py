#!/usr/bin/env python3
"""Clients for make test-cluster (tests/cluster/cluster.sh), standard library only.

  load.py fresh WRITER READER TOKEN ROUNDS
      Posts an update on host WRITER, then reads the action on host READER
      until it shows it; prints the distribution of the delays (from the
      write's acknowledgement to the first read that shows it) and fails
      when the p99 is over 100 ms.
  load.py writers LB TOKEN THREADS SECONDS KEYS_FILE
      THREADS clients post updates through the load balancer, each with a
      fresh Idempotency-Key, retrying a failed request with the same key
      until it is acknowledged; writes one key per acknowledged update to
      KEYS_FILE and prints how many requests failed.
  load.py once HOST TOKEN ACTION
      Posts one update on HOST and prints its id.
  load.py latest HOST TOKEN ACTION
      Prints the id of the action's latest update as HOST shows it.
"""
import http.client
import json
import sys
import threading
import time
import uuid

ACTIONS = (1, 2, 3)  # cycle 2021 in the seed
PERIOD = "2021-Q4"


def conn(hostport):
    host, port = hostport.rsplit(":", 1)
    return http.client.HTTPConnection(host, int(port), timeout=10)


def request(c, method, path, token, body=None, key=None):
    headers = {"Authorization": "Bearer " + token}
    if body is not None:
        headers["Content-Type"] = "application/json"
    if key:
        headers["Idempotency-Key"] = key
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse()
    return r.status, r.read()


def update_body(note):
    return json.dumps({"period": PERIOD, "status": "on_track", "percent_complete": 50,
                       "narrative": note})


def post(c, token, action, key):
    status, body = request(c, "POST", "/v1/actions/%d/updates" % action, token,
                           update_body("key " + key), key)
    if status not in (200, 201):
        raise RuntimeError("POST answered %d: %s" % (status, body[:200]))
    return json.loads(body)["id"]


def latest(c, token, action):
    status, body = request(c, "GET", "/v1/actions/%d" % action, token)
    if status != 200:
        raise RuntimeError("GET answered %d" % status)
    l = json.loads(body).get("latest")
    return l["id"] if l else None


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def fresh(writer, reader, token, rounds):
    w, r = conn(writer), conn(reader)
    delays, polls = [], []
    for i in range(int(rounds)):
        action = ACTIONS[i % len(ACTIONS)]
        # the reader holds the action's current answer in its cache
        latest(r, token, action)
        uid = post(w, token, action, str(uuid.uuid4()))
        t0 = time.monotonic()
        n = 1
        while latest(r, token, action) != uid:
            n += 1
            if time.monotonic() - t0 > 5:
                print("update %d not visible on %s after 5 s" % (uid, reader))
                return 1
        delays.append((time.monotonic() - t0) * 1000)
        polls.append(n)
    print("cross-host freshness over %d writes (ms, from the write's 201 on one host to the"
          " first read showing it on the other):" % len(delays))
    print("  p50 %.1f  p90 %.1f  p99 %.1f  max %.1f" % (pct(delays, 50), pct(delays, 90),
                                                      pct(delays, 99), max(delays)))
    buckets = [1, 2, 5, 10, 20, 50, 100, 1e9]
    counts = [sum(1 for d in delays if (buckets[i - 1] if i else 0) <= d < b)
              for i, b in enumerate(buckets)]
    print("  " + "  ".join("<%s: %d" % ("%g" % b if b < 1e9 else "inf", n)
                           for b, n in zip(buckets, counts)))
    print("  shown by the first read after the 201: %d of %d; reads needed at most %d"
          % (polls.count(1), len(polls), max(polls)))
    return 0 if pct(delays, 99) <= 100 else 1


def writers(lb, token, threads, seconds, keys_file):
    lock = threading.Lock()
    keys, failures = [], [0]
    stop = time.monotonic() + float(seconds)

    def client(n):
        c = conn(lb)
        while time.monotonic() < stop:
            key = str(uuid.uuid4())
            action = ACTIONS[n % len(ACTIONS)]
            while True:
                try:
                    post(c, token, action, key)
                    break
                except Exception:
                    with lock:
                        failures[0] += 1
                    c.close()
                    c = conn(lb)
                    time.sleep(0.05)
            with lock:
                keys.append(key)

    ts = [threading.Thread(target=client, args=(n,)) for n in range(int(threads))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    with open(keys_file, "w") as f:
        f.write("".join(k + "\n" for k in keys))
    print("writers: %d updates acknowledged, %d requests failed and were retried"
          " with their key" % (len(keys), failures[0]))
    return 0 if failures[0] <= int(threads) else 1


def main(argv):
    cmd = argv[1]
    if cmd == "fresh":
        return fresh(*argv[2:6])
    if cmd == "writers":
        return writers(*argv[2:7])
    if cmd == "once":
        print(post(conn(argv[2]), argv[3], int(argv[4]), str(uuid.uuid4())))
        return 0
    if cmd == "latest":
        print(latest(conn(argv[2]), argv[3], int(argv[4])))
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
