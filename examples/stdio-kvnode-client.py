#!/usr/bin/env python3
"""A faultline stdio client for kvnode's HTTP API, in Python with the standard library only.

faultline starts one of these per Jepsen process and talks to it in JSON Lines
(docs/stdio-protocol.md): an `init` line with the nodes, then one `invoke` line per operation,
each answered with one `ok`, `fail` or `info` line on stdout. Logs go to stderr.

kvnode's API is in docs/kvnode.md. What matters for correctness here:
- every request carries (client_id, seq); a retry of an operation reuses its seq, so kvnode's
  dedup table answers it instead of applying it twice. That makes retries of writes safe.
- `fail` only when the operation certainly did not happen: any read, a request that never left
  (connection refused), or kvnode's definite refusal. Anything that may have been applied is
  `info`. This is the same table as faultline's own client (workloads/src/kvnode_client/).

Copy this file to write a client for your own store: keep `main`, replace `attempt`.
"""

import http.client
import json
import sys
import time

ROUTES = {"read": "/kv/get", "write": "/kv/put", "cas": "/kv/cas",
          "append": "/kv/append", "add": "/kv/append"}
# Definite answers of the state machine itself: the request was applied in log order and
# refused, so no earlier attempt of it can still commit. Other definite answers (not_leader,
# a refused connection) only say this attempt did not get through.
SETTLED = {"cas_mismatch", "type_mismatch"}
MAX_ATTEMPTS = 5
CONNECT_TIMEOUT = 0.2   # a paused node still accepts connections; a dead one refuses them
BACKOFF = 0.02          # before trying another node when nobody is known to lead


def attempt(address, route, body, timeout):
    """One request to one node: ("ok", value), ("definite", code, leader_address),
    ("not_sent", why) or ("indefinite", why)."""
    host, port = address.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=min(CONNECT_TIMEOUT, timeout))
    try:
        try:
            conn.connect()
        except TimeoutError:
            return ("not_sent", "connect timeout")
        except OSError as e:
            return ("not_sent", e.strerror or "connect failed")
        conn.sock.settimeout(timeout)
        try:
            conn.request("POST", route, body=json.dumps(body),
                         headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            status, raw = response.status, response.read()
        except TimeoutError:
            return ("indefinite", "no answer in time")
        except (OSError, http.client.HTTPException) as e:
            return ("indefinite", f"connection lost after sending ({type(e).__name__})")
    finally:
        conn.close()
    try:
        answer = json.loads(raw)
    except ValueError:
        return ("indefinite", f"unparsable answer (HTTP {status})")
    if not isinstance(answer, dict):
        return ("indefinite", f"unexpected answer (HTTP {status})")
    if status == 200 and answer.get("ok") is True:
        return ("ok", answer.get("value"))
    if answer.get("ok") is False and answer.get("definite") is True:
        leader = answer.get("leader") or {}
        return ("definite", answer.get("error", "unknown error"), leader.get("addr"))
    if answer.get("ok") is False and answer.get("definite") is False:
        return ("indefinite", answer.get("error", "unknown error"))
    return ("indefinite", f"unexpected answer (HTTP {status})")


def classify(f, last, uncertain):
    """`fail` or `info` for an operation whose last attempt was not ok. `uncertain`: an
    earlier attempt of this write may have been applied."""
    if f == "read":
        return "fail"  # reads change nothing
    if last[0] == "definite" and last[1] in SETTLED:
        return "fail"
    if last[0] in ("definite", "not_sent") and not uncertain:
        return "fail"
    return "info"


class Client:
    def __init__(self, init):
        self.nodes = init["nodes"]
        # Process numbers are unique in a run, and a fresh program starts after every info:
        # this id is never reused, so kvnode's dedup table never mistakes us for another.
        self.client_id = f"stdio-{init['process']}"
        self.seq = 0
        # Answer a little before faultline stops waiting, with room for one retry.
        self.budget = init["timeout_ms"] / 1000 * 0.8
        self.leader = None  # index of the node that last acknowledged a write

    def perform(self, op):
        f, key, value = op["f"], op.get("key"), op.get("value")
        if f not in ROUTES:
            return {"type": "fail", "error": f"kvnode has no operation {f}"}
        self.seq += 1  # one seq per operation, kept by all its retries
        body = {"client_id": self.client_id, "seq": self.seq, "key": key}
        if f == "cas":
            body["from"], body["to"] = value
        elif f != "read":
            body["value"] = value

        deadline = time.monotonic() + self.budget
        target = self.leader if self.leader is not None else 0
        uncertain = False
        last = ("not_sent", "no attempt")
        for n in range(MAX_ATTEMPTS):
            left = deadline - time.monotonic()
            if n > 0 and left <= 0:
                break
            node = self.nodes[target]["name"]
            last = attempt(self.nodes[target]["address"], ROUTES[f], body,
                           max(0.01, min(left, self.budget / 2)))
            if last[0] == "ok":
                if f != "read":
                    self.leader = target  # followers may answer reads; only writes prove a leader
                answer = {"type": "ok", "node": node}
                if f == "read":
                    answer["value"] = last[1]  # for append, the whole list
                return answer
            if last[0] == "definite" and last[1] == "not_leader":
                hinted = self.index_of(last[2])
                if hinted is not None and hinted != target:
                    self.leader = target = hinted  # follow the hint at once
                    continue
                self.leader, target = None, self.after(target)  # an election: try the next
                time.sleep(min(BACKOFF, max(0, left)))
            elif last[0] == "definite" and last[1] == "read_timeout":
                self.leader, target = None, self.after(target)
            elif last[0] == "definite":
                break  # cas_mismatch, a 4xx: the same answer anywhere
            elif last[0] == "not_sent":
                if self.leader == target:
                    self.leader = None
                target = self.after(target)
                time.sleep(min(BACKOFF, max(0, left)))
            else:  # indefinite: retry elsewhere under the same seq
                uncertain = uncertain or f != "read"
                self.leader, target = None, self.after(target)
        return {"type": classify(f, last, uncertain), "error": last[1], "node": node}

    def index_of(self, address):
        for i, n in enumerate(self.nodes):
            if n["address"] == address:
                return i
        return None

    def after(self, target):
        return (target + 1) % len(self.nodes)


def reply(answer):
    print(json.dumps(answer), flush=True)  # unflushed, an answer would sit in a pipe buffer


def main():
    client = Client(json.loads(sys.stdin.readline()))
    reply({"type": "ready"})
    while True:
        line = sys.stdin.readline()
        if not line:
            return  # faultline closed stdin: the run is over
        reply(client.perform(json.loads(line)))


if __name__ == "__main__":
    main()
