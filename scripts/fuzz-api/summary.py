"""Reads the request log that hooks.py wrote and prints what scripts/fuzz-api.sh reports.

    python3 summary.py LOG [COUNTS]

Counts the requests and their statuses, then lists each distinct failure: a 5xx other than 501
(berth's "not implemented") and the documented answers in ACCEPTED, or a request that got no answer in time (a hang, a reset or a
refused connection), with a curl line that repeats it against the default socket.
Exits 1 when there is a failure, 0 when there is none; writes "PASSED FAILED" (request counts)
to COUNTS when given.
"""

import collections
import json
import re
import shlex
import sys
import urllib.parse

ACCEPTED_5XX = {501}
# 5xx answers accepted all the same, each with the reason: (operationId, status, regex on the
# message). Keep it empty unless an internal error is the documented, intended answer.
ACCEPTED = [
    # ("ContainerTop", 500, r"^Error running ps: ", "Docker answers 500 when ps cannot run"),
]
# A node in no swarm: Docker's 503 for everything a manager serves, and for leaving.
NO_MANAGER = r'^This node is not a swarm manager\. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again\.$'
ACCEPTED += [
    (op, 503, NO_MANAGER, "an engine in no swarm (daemon/cluster errNoManager)")
    for op in """SwarmInspect SwarmUpdate SwarmUnlockkey SwarmUnlock NodeList NodeInspect NodeDelete
    NodeUpdate ServiceList ServiceCreate ServiceInspect ServiceDelete ServiceUpdate ServiceLogs
    TaskList TaskInspect TaskLogs SecretList SecretCreate SecretInspect SecretDelete SecretUpdate
    ConfigList ConfigCreate ConfigInspect ConfigDelete ConfigUpdate""".split()
]
ACCEPTED.append(("SwarmLeave", 503, r"^This node is not part of a swarm$", "errNoSwarm"))
SHOW_PER_KIND = 3  # examples printed for each distinct failure


def load(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    out.append(json.loads(line))
    except FileNotFoundError:
        pass
    return out


def is_failure(e):
    s = e["status"]
    if s is None:
        return True
    if s < 500 or s in ACCEPTED_5XX:
        return False
    return not any(op == e["op"] and st == s and re.search(rx, message(e)) for op, st, rx, _ in ACCEPTED)


def message(e):
    body = e.get("response") or ""
    try:
        m = json.loads(body).get("message")
        if isinstance(m, str):
            return m
    except (ValueError, AttributeError):
        pass
    return body


def printable(text):
    """Control characters (NUL bytes, escapes) shown as \\xNN."""
    return re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", lambda m: f"\\x{ord(m.group()):02x}", text)


def shape(msg):
    """A failure's message with IDs, numbers and quoted values blurred, to group alike ones."""
    msg = re.sub(r"[0-9a-f]{12,64}", "<id>", msg)
    msg = re.sub(r'"[^"]*"|\'[^\']*\'', "<v>", msg)
    msg = re.sub(r"\d+", "<n>", msg)
    return msg[:160]


SOCKET = "/run/berth/berth.sock"
FIXTURES = """\
  The fixtures named in paths (made by hooks.py on the busybox image; with the berth CLI):
    berth run -d --name fuzz-running busybox sh -c "trap 'exit 0' TERM; sleep 3600 & wait"
    berth create --name fuzz-created busybox true
    berth run --name fuzz-exited busybox sh -c 'echo out; echo err >&2; echo more'
    berth create --name fuzz-short busybox sh -c 'echo short'   # started before each call"""


def curl(e):
    setup = ""
    for method, path, body, made in e.get("setup") or []:
        line = f"curl -sS -o /dev/null --unix-socket {SOCKET} -X {method} "
        if body:
            line += f"-H 'Content-Type: application/json' --data-binary {shlex.quote(body)} "
            # The created ID, for the request that follows.
            line = f"id=$({line.replace('-o /dev/null ', '')}http://localhost/v1.43{path} | sed 's/.*\"Id\":\"\\([0-9a-f]*\\)\".*/\\1/')"
            if made:
                e = dict(e, url=e["url"].replace(made, "$id"))
        else:
            line += f"http://localhost/v1.43{path}"
        setup += line + "; "
    return setup + _curl(e)


def _curl(e):
    u = urllib.parse.urlsplit(e["url"])
    target = u.path + (f"?{u.query}" if u.query else "")
    parts = ["curl", "-sS", "--unix-socket", SOCKET, "-X", e["method"]]
    prefix = ""
    if e.get("tar"):
        # The body was a tarball of these files.
        files = "; ".join(
            f"mkdir -p \"$d/$(dirname {shlex.quote(n)})\"; printf %s {shlex.quote(t)} > \"$d\"/{shlex.quote(n)}"
            for n, t in e["tar"].items()
        )
        prefix = f"d=$(mktemp -d); {files}; tar -C \"$d\" -c . | "
        parts += ["-H", "Content-Type: application/x-tar", "--data-binary", "@-"]
    elif e.get("body"):
        parts += ["-H", "Content-Type: application/json", "--data-binary", e["body"]]
    url = "http://localhost" + target
    if "$id" in url:
        return prefix + " ".join(shlex.quote(p) for p in parts) + ' "' + url + '"'
    parts.append(url)
    return prefix + " ".join(shlex.quote(p) for p in parts)


def requests_of(records):
    """One entry per request sent: its answer, or what was sent when no answer came."""
    sends, done, out = {}, set(), []
    for r in records:
        if r.get("event") == "send":
            sends[r["seq"]] = r
            continue
        if r.get("seq") is not None:
            done.add(r["seq"])
            sent = sends.get(r["seq"], {})
            if sent.get("tar"):
                r = dict(r, tar=sent["tar"], body="")
            if sent.get("setup"):
                r = dict(r, setup=sent["setup"])
        if r.get("event") == "no-answer" and r.get("seq") in sends:
            # What was sent, with the body as the hooks saw it.
            r = dict(sends[r["seq"]], status=None, response=r["response"])
        out.append(r)
    for seq, r in sends.items():
        if seq not in done:
            out.append(dict(r, status=None, response="no answer (timed out, or the connection failed)"))
    return out


def main():
    entries = requests_of(load(sys.argv[1]))
    failed = sum(1 for e in entries if is_failure(e))
    if len(sys.argv) > 2:
        with open(sys.argv[2], "w") as f:
            f.write(f"{len(entries) - failed} {failed}\n")
    statuses = collections.Counter(e["status"] for e in entries)
    per_op = collections.Counter(e["op"] for e in entries)
    print(f"requests made: {len(entries)} over {len(per_op)} operations")
    print(
        "statuses: "
        + ", ".join(f"{s if s is not None else 'no answer'}: {n}" for s, n in sorted(statuses.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)))
    )
    slow = sorted((e for e in entries if e.get("elapsed")), key=lambda e: -e["elapsed"])[:3]
    if slow:
        print("slowest: " + ", ".join(f"{e['op']} {e['elapsed']:.2f}s" for e in slow))

    groups = collections.OrderedDict()
    for e in entries:
        if is_failure(e):
            groups.setdefault((e["op"], e["method"], e["status"], shape(message(e))), []).append(e)
    if not groups:
        print("failures: none (no 5xx other than 501, no request without an answer)")
        return 0
    total = sum(len(v) for v in groups.values())
    print(f"failures: {total} requests, {len(groups)} distinct")
    print(FIXTURES)
    for (op, method, status, _), es in groups.items():
        e = es[0]
        path = re.sub(r"/[0-9a-f]{64}(?=/|$)", "/<id>", urllib.parse.urlsplit(e["url"]).path)
        print(f"\n  {op}: {method} {path} -> {status if status is not None else 'no answer'}  ({len(es)}x)")
        print(f"    body: {printable(message(e)[:300])}")
        for x in es[:SHOW_PER_KIND]:
            print(f"    repro: {printable(curl(x)[:1500])}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
