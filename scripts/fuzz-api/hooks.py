"""Schemathesis hooks for scripts/fuzz-api.sh.

They keep the fuzz run bounded and pointed at things that exist:
- path parameters are often swapped for fixtures (running, created, exited and short-lived
  containers, execs, the busybox image), which are put back first when the fuzzer removed them;
  containers are also made from create bodies the fuzzer got accepted, for ContainerStart;
- about half the builds and imports get a real tarball, so their options act on something;
- calls that would block forever are bounded (logs never follow, events get an `until`, stop and
  restart get a short timeout, wait only targets containers that are not running, ExecStart
  only runs execs whose commands end at once);
- the busybox image is never deleted or overwritten, and no container gets host networking;
- a small regression corpus (CORPUS) is sent in the examples phase of every run;
- every request is logged as JSON lines to $FUZZ_LOG, once when sent and once with its answer
  (or its network error), so summary.py can tell a request that never got an answer.

Environment: FUZZ_SOCK (the daemon's unix socket), FUZZ_LOG (the log to append to), FUZZ_URL
(the base URL schemathesis uses, for the log).
"""

import http.client
import io
import json
import os
import socket
import tarfile
import time
import urllib.parse
import zlib

import schemathesis

SOCK = os.environ["FUZZ_SOCK"]
LOG = os.environ["FUZZ_LOG"]
BASE_URL = os.environ.get("FUZZ_URL", "http://localhost/v1.43")
# Seconds a fixture call may take; they are simple and local.
FIXTURE_TIMEOUT = 30

IMAGE = "busybox"
TAG_REPO, TAG_TAG = "fuzz/tagged", "1"
RUNNING, CREATED, EXITED = "fuzz-running", "fuzz-created", "fuzz-exited"
# Started just before each call that targets it, and exits at once: calls meet it mid-exit.
SHORT = "fuzz-short"


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


def api(method, path, body=None):
    """One call to the daemon, outside the fuzzer: (status, parsed JSON or text)."""
    conn = _UnixConnection(SOCK, FIXTURE_TIMEOUT)
    try:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
        try:
            return resp.status, json.loads(raw) if raw else None
        except ValueError:
            return resp.status, raw.decode(errors="replace")
    finally:
        conn.close()


def _fixture_call(method, path, body=None, ok=(200, 201, 204, 304)):
    status, out = api(method, path, body)
    if status not in ok:
        print(f"fuzz-api fixture: {method} {path} -> {status} {out}", flush=True)
    return status, out


_state = {"image_id": None, "exec_id": None, "seq": 0}
_pending = {}  # id(case) -> seq of the request being sent
_created = []  # IDs of containers the fuzzer created (newest last)
_create_bodies = []  # bodies the daemon accepted at create: ContainerStart runs some of them


def _container(name):
    status, out = api("GET", f"/containers/{name}/json")
    return out if status == 200 else None


def _ensure_container(name, cmd, run):
    c = _container(name)
    if c is None:
        _fixture_call(
            "POST",
            f"/containers/create?name={name}",
            {"Image": IMAGE, "Cmd": cmd, "HostConfig": {"NetworkMode": "none"}},
        )
        c = _container(name)
        if c is None:
            return None
    status = c.get("State", {}).get("Status")
    if run == "running" and status != "running":
        _fixture_call("POST", f"/containers/{name}/start")
    elif run == "exited" and status == "created":
        _fixture_call("POST", f"/containers/{name}/start")
        _fixture_call("POST", f"/containers/{name}/wait")
    elif run == "created" and status != "created":
        # Started by the fuzzer: make a fresh one.
        _fixture_call("DELETE", f"/containers/{name}?force=1")
        return _ensure_container(name, cmd, run)
    return c


CHANGES_IMAGES = {"ImageDelete", "ImageTag", "ImageCreate", "ImageBuild"}


def ensure_image():
    if not _state.get("image_dirty", True):
        return
    _state["image_dirty"] = False
    status, out = api("GET", f"/images/{IMAGE}/json")
    if status == 200:
        _state["image_id"] = out["Id"]
    status, _ = api("GET", f"/images/{TAG_REPO}:{TAG_TAG}/json")
    if status != 200:
        _fixture_call("POST", f"/images/{IMAGE}/tag?repo={TAG_REPO}&tag={TAG_TAG}")


# Calls after which a fixture container may be gone or in another state.
CHANGES_CONTAINERS = {
    "ContainerStart", "ContainerStop", "ContainerRestart", "ContainerKill", "ContainerDelete",
    "ContainerPrune", "ContainerCreate", "ContainerWait",
}


def ensure_containers():
    if not _state.get("dirty", True):
        return
    _state["dirty"] = False
    _ensure_all()


def _ensure_all():
    # Ends at once on SIGTERM, so a stop is quick.
    c = _ensure_container(RUNNING, ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"], "running")
    _state["running_id"] = c["Id"] if c else None
    _ensure_container(CREATED, ["true"], "created")
    # Some output, for the logs.
    _ensure_container(EXITED, ["sh", "-c", "echo out; echo err >&2; echo more"], "exited")
    _ensure_container(SHORT, ["sh", "-c", "echo short"], "any")


def ensure_exec():
    eid = _state["exec_id"]
    if eid is not None and api("GET", f"/exec/{eid}/json")[0] == 200:
        return eid
    status, out = _fixture_call(
        "POST", f"/containers/{RUNNING}/exec", {"Cmd": ["true"], "AttachStdout": True}
    )
    _state["exec_id"] = out["Id"] if status == 201 else None
    if _state["exec_id"]:
        _our_execs.add(_state["exec_id"])
    return _state["exec_id"]


# Commands of the execs the hooks make: each ends at once, so even an attached start returns.
EXEC_CMDS = [["true"], ["echo", "fuzz"], ["sh", "-c", "echo out; echo err >&2; exit 3"]]
_our_execs = set()


def fresh_exec(container, h):
    body = {"Cmd": EXEC_CMDS[h % len(EXEC_CMDS)], "AttachStdout": True, "AttachStderr": bool(h & 4)}
    status, out = api("POST", f"/containers/{container}/exec", body)
    if status != 201:
        return None
    _our_execs.add(out["Id"])
    return out["Id"]


def _exec_for_start(value):
    """ExecStart runs the exec: only ones the hooks made (whose commands end), or unknown IDs."""
    h = zlib.crc32(repr(value).encode())
    plain = urllib.parse.unquote(str(value))
    known = api("GET", f"/exec/{urllib.parse.quote(plain, safe='')}/json")[0] == 200
    if h % 4 == 0 and (not known or plain in _our_execs):
        return value
    if h % 4 == 1:
        api("POST", f"/containers/{SHORT}/start")
        eid = fresh_exec(SHORT, h >> 2)
    elif h % 4 == 2:
        eid = ensure_exec()  # started already, most likely: a conflict
    else:
        eid = fresh_exec(RUNNING, h >> 2)
    return eid or "no-such-exec"


def _pick(value, choices):
    """Deterministically (from the generated value) keep it or swap it for one of `choices`:
    about a third of the cases keep what the fuzzer made."""
    options = [value] + [c for c in choices if c]
    h = zlib.crc32(repr(value).encode())
    if h % 3 == 0:
        return value
    return options[1 + h % (len(options) - 1)] if len(options) > 1 else value


def _op(case):
    return case.operation.definition.raw.get("operationId", "")


def _is_protected_image(name):
    """Whether `name` names the busybox image that the fixtures need."""
    if not isinstance(name, str) or not name:
        return False
    # Schemathesis sometimes hands path parameters over already percent-encoded.
    plain = urllib.parse.unquote(name)
    status, out = api("GET", "/images/" + urllib.parse.quote(plain, safe="") + "/json")
    return status == 200 and isinstance(out, dict) and out.get("Id") == _state["image_id"]


CONTAINER_ID_OPS = {
    "ContainerInspect", "ContainerTop", "ContainerLogs", "ContainerResize", "ContainerStart",
    "ContainerStop", "ContainerRestart", "ContainerKill", "ContainerWait", "ContainerDelete",
    "ContainerExec",
}
IMAGE_NAME_OPS = {"ImageInspect", "ImageHistory", "ImageTag", "ImageDelete"}
EXEC_ID_OPS = {"ExecInspect", "ExecResize"}


def _clamp_timeout(query, key, hi=1):
    """Stop and restart wait `t` seconds (default 10) for a container that ignores the signal."""
    t = query.get(key)
    if t is None:
        query[key] = hi
        return
    try:
        n = int(t)
    except (TypeError, ValueError):
        return  # not a number: the daemon should reject it quickly
    if n > hi or n < 0:  # a negative one means no timeout at all
        query[key] = hi


# HostConfig fields berth implements (the typed ones of crates/berth-api/src/container.rs) or
# accepts and ignores; it refuses the others with 501 when they are set.
HOST_CONFIG_KEEP = {
    "AutoRemove", "Memory", "MemorySwap", "NanoCpus", "CpuShares", "CpuPeriod", "CpuQuota",
    "PidsLimit", "Init", "ConsoleSize", "IpcMode", "PidMode", "UTSMode", "CgroupnsMode",
    "Runtime", "ShmSize", "ReadonlyRootfs", "ContainerIDFile", "KernelMemory", "CpuCount",
    "CpuPercent",
}
# Build contexts for ImageBuild, picked by the generated query: the fuzzed options then act on
# a build that can succeed. Only these fixed Dockerfiles run anything (`RUN true`).
DOCKERFILES = [
    "FROM busybox\nLABEL fuzz=1\nENV A=b C=d\nCOPY f /f\nWORKDIR /w\nCMD [\"sh\"]\n",
    "FROM busybox\nARG X=1\nRUN true\nEXPOSE 80/tcp\nUSER root\n",
    "FROM busybox AS base\nARG X\nENV X=$X\nFROM base AS second\nCOPY --from=base /bin/true /t\nFROM second\n",
    "FROM busybox\nONBUILD RUN true\nSTOPSIGNAL SIGINT\nENTRYPOINT [\"sh\", \"-c\"]\nVOLUME /v\n",
]
# Options berth refuses with 501 before reading the context (crates/berth-daemon/src/http/build.rs),
# and those whose fuzzed values would only fail the build (extrahosts, networkmode).
BUILD_REFUSED = (
    "remote", "extrahosts", "squash", "memory", "memswap", "cpushares", "cpusetcpus", "cpusetmems",
    "cpuperiod", "cpuquota", "shmsize", "ulimits", "outputs", "pull", "version", "platform",
    "networkmode",
)


def make_tar(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _build_context(case, q):
    """About half the builds get a real context (and lose the options berth refuses)."""
    h = zlib.crc32(repr(sorted(q.items(), key=str)).encode())
    if h % 2:
        return None
    files = {"Dockerfile": DOCKERFILES[(h >> 1) % len(DOCKERFILES)], "f": "data\n"}
    df = q.get("dockerfile")
    if isinstance(df, str) and df and "\x00" not in df and len(df) < 90 and (h >> 3) % 2:
        files[df] = files["Dockerfile"]
    for k in BUILD_REFUSED:
        q.pop(k, None)
    try:
        case.body = make_tar(files)
    except (ValueError, UnicodeError, tarfile.TarError):
        files = {"Dockerfile": files["Dockerfile"], "f": files["f"]}
        case.body = make_tar(files)
    return files


def _import_tarball(case, q):
    """About half the imports get `fromSrc=-` and a real tarball, with the other options fuzzed."""
    h = zlib.crc32(repr(sorted(q.items(), key=str)).encode())
    if h % 2:
        return None
    files = {"etc/hostname": "fuzz\n", "f": "data\n"}
    q.pop("fromImage", None)
    q["fromSrc"] = "-"
    case.body = make_tar(files)
    return files


# The regression corpus: cases that once got a 5xx, sent in the examples phase of every run so a
# fix shows and a regression fails, whatever the random generation does. A path parameter of
# "@NAME" is that fixture as is; "@create:{...}" is a container freshly created from that body.
CORPUS = {
    # The container exits between the state check and reading its cgroup: a race, which 1 in 5
    # to 1 in 10 of these hit.
    "ContainerTop": [{"path_parameters": {"id": "@" + SHORT}} for _ in range(60)]
    + [{"path_parameters": {"id": "@" + RUNNING}, "query": {"ps_args": "\x00"}}],
    "ContainerStart": [
        {"path_parameters": {"id": "@create:" + json.dumps(b)}}
        for b in [
            {"Image": IMAGE, "Cmd": ["true"], "WorkingDir": "/etc/passwd"},
            {"Image": IMAGE, "Cmd": ["true"], "Hostname": "h" * 70},
            {"Image": IMAGE, "Cmd": ["true"], "Hostname": "a\x00b"},
            {"Image": IMAGE, "Cmd": ["true"], "Env": ["A=\x00"]},
            {"Image": IMAGE, "Cmd": ["true"], "WorkingDir": "/a\x00"},
            {"Image": IMAGE, "Cmd": ["true"], "HostConfig": {"PidsLimit": 1}},
        ]
    ],
}


@schemathesis.hook
def before_add_examples(context, examples):
    op = context.operation.definition.raw.get("operationId", "") if context.operation else ""
    for c in CORPUS.get(op, []):
        examples.append(context.operation.Case(**c))


def _pinned(pp):
    """Resolves a corpus case's "@..." path parameter in place; whether there was one."""
    key = next((k for k in ("id", "name") if isinstance(pp.get(k), str) and pp[k].startswith("@")), None)
    if key is None:
        return False
    ensure_containers()
    ensure_image()
    v = pp[key][1:]
    if v.startswith("create:"):
        body = json.loads(v[len("create:"):])
        status, out = _fixture_call("POST", "/containers/create", body)
        v = out["Id"] if status == 201 else "no-such-container"
        _state["setup"] = [["POST", "/containers/create", json.dumps(body), v]]
    pp[key] = v
    return True


BUSYBOX_NAMES = (IMAGE, "library/" + IMAGE, "docker.io/" + IMAGE, "docker.io/library/" + IMAGE)


def _names_busybox(v):
    return isinstance(v, str) and v.lower().lstrip("/").split("@")[0].split(":")[0] in BUSYBOX_NAMES


@schemathesis.hook
def before_call(context, case, kwargs):
    op = _op(case)
    _state.pop("setup", None)

    if not isinstance(case.query, dict):
        case.query = {}
    q = case.query
    pp = case.path_parameters if isinstance(case.path_parameters, dict) else {}

    pinned = _pinned(pp)

    # Path parameters: often one of the fixtures, put back first if the fuzzer removed them.
    if pinned:
        pass
    elif op in CONTAINER_ID_OPS and "id" in pp:
        ensure_containers()
        if op == "ContainerWait":
            # Waiting on a running container blocks until it stops: only ones that are not.
            pp["id"] = _pick(pp["id"], [EXITED, CREATED, SHORT])
            target = _container(urllib.parse.quote(urllib.parse.unquote(str(pp["id"])), safe=""))
            if target and target.get("State", {}).get("Status") in ("running", "restarting", "paused"):
                pp["id"] = EXITED
            if q.get("condition") in ("next-exit", "removed"):
                q["condition"] = "not-running"
        else:
            rid = _state.get("running_id")
            made = _created[-1 - zlib.crc32(repr(pp["id"]).encode()) % len(_created)] if _created else None
            recent = _created[-1] if _created else None
            pp["id"] = _pick(pp["id"], [RUNNING, CREATED, EXITED, SHORT, rid, rid and rid[:12], made, recent])
            h = zlib.crc32(("start" + repr(pp["id"])).encode())
            if op == "ContainerStart" and _create_bodies and h % 3 == 0:
                # A fresh container from a config the fuzzer made and the daemon accepted, so
                # that start meets fuzzed configs (the fuzzer's own containers get pruned).
                body = _create_bodies[(h // 3) % len(_create_bodies)]
                status, out = api("POST", "/containers/create", body)
                if status == 201:
                    pp["id"] = out["Id"]
                    _state["setup"] = [["POST", "/containers/create", json.dumps(body), out["Id"]]]
    if op in CONTAINER_ID_OPS and pp.get("id") == SHORT:
        api("POST", f"/containers/{SHORT}/start")
        # The call lands 0 to 30 ms later, spread: before, during or after the exit, which takes
        # from ~5 ms (idle machine) to ~20 ms (busy one).
        time.sleep(0.001 * (_state["seq"] * 7 % 31))
        _state["setup"] = [["POST", f"/containers/{SHORT}/start", "", None]]
    if pinned:
        pass
    elif op in IMAGE_NAME_OPS and "name" in pp:
        ensure_image()
        tagged = f"{TAG_REPO}:{TAG_TAG}"
        if op == "ImageDelete":
            pp["name"] = _pick(pp["name"], [tagged])
            if pp["name"] != tagged and _is_protected_image(pp["name"]):
                pp["name"] = tagged
        else:
            iid = _state["image_id"]
            pp["name"] = _pick(pp["name"], [IMAGE, f"{IMAGE}:latest", iid, iid and iid[7:19]])
    if op in EXEC_ID_OPS and "id" in pp:
        ensure_containers()
        pp["id"] = _pick(pp["id"], [ensure_exec()])
    if op == "ExecStart" and "id" in pp:
        ensure_containers()
        pp["id"] = _exec_for_start(pp["id"])

    # Calls that would block forever, or for long.
    if op == "ContainerLogs" and "follow" in q:
        q["follow"] = False
    if op == "SystemEvents":
        # Without `until` (or with one in the future) the stream never ends.
        q["until"] = str(int(time.time()))
    if op in ("ContainerStop", "ContainerRestart"):
        _clamp_timeout(q, "t")

    # Keep the fixtures' names and the busybox image as they are.
    if op == "ContainerCreate" and isinstance(q.get("name"), str):
        if q["name"].lstrip("/").startswith("fuzz-"):
            q["name"] = "x" + q["name"].lstrip("/")
        # The same few names come back often: half the bodies go without, so that they are not
        # all refused as taken.
        if zlib.crc32(("name" + repr(case.body)).encode()) % 2 == 1:
            del q["name"]
    key = {"ImageCreate": "repo", "ImageBuild": "t", "ImageTag": "repo"}.get(op)
    if key and _names_busybox(q.get(key)):
        q[key] = "fuzz/" + q[key].lstrip("/")
    elif key and isinstance(q.get(key), list):
        q[key] = ["fuzz/" + v.lstrip("/") if _names_busybox(v) else v for v in q[key]]

    if op == "ContainerCreate" and isinstance(case.body, dict):
        h = zlib.crc32(repr(case.body).encode())
        # Mostly an image that exists, so creation gets past the lookup.
        if h % 4 != 0:
            case.body["Image"] = IMAGE
        hc = case.body.get("HostConfig")
        if isinstance(hc, dict):
            if h % 2 == 0:
                # Half the bodies lose the options berth refuses with 501 before anything
                # else, so that the rest of creation is fuzzed too.
                for k in [k for k in hc if k not in HOST_CONFIG_KEEP]:
                    del hc[k]
                for k in ("NetworkMode", "RestartPolicy", "LogConfig", "Privileged"):
                    hc.pop(k, None)
                for k in ("Healthcheck", "MacAddress"):
                    case.body.pop(k, None)
            if hc.get("NetworkMode") == "host":
                hc["NetworkMode"] = "none"

    tar = None
    if op == "ImageBuild":
        tar = _build_context(case, q)
    elif op == "ImageCreate":
        tar = _import_tarball(case, q)
    if tar is not None:
        case.media_type = "application/octet-stream"
        case.headers["Content-Type"] = "application/x-tar"

    # What is about to be sent, in case no answer comes (a hang or a dropped connection): the
    # answer's record (after_call) carries the same `seq`.
    _state["seq"] += 1
    _pending[id(case)] = _state["seq"]
    _log(
        {
            "seq": _state["seq"],
            "event": "send",
            "t": round(time.time(), 3),
            "phase": _phase(case),
            "op": op,
            "method": str(case.method).upper(),
            "url": BASE_URL + case.formatted_path + _query_string(q),
            "body": "" if tar else _case_body(case),
            "tar": tar,
            # Requests the hooks made for this one: [method, path, body, ID it made].
            "setup": _state.pop("setup", None),
        }
    )


def _log(entry):
    with open(LOG, "a") as f:
        f.write(json.dumps(entry) + "\n")


def _phase(case):
    meta = getattr(case, "_meta", None)  # not `case.meta`: that revalidates
    name = getattr(getattr(meta, "phase", None), "name", None)
    return getattr(name, "value", name) if name is not None else None


def _query_string(q):
    if not q:
        return ""
    try:
        return "?" + urllib.parse.urlencode(q, doseq=True)
    except (TypeError, ValueError):
        return "?" + repr(q)


def _case_body(case):
    body = case.body
    if body is None or type(body).__name__ == "NotSet":
        return ""
    if isinstance(body, (bytes, str)):
        return _body_text(body, 2000)
    try:
        return json.dumps(body)[:2000]
    except (TypeError, ValueError):
        return repr(body)[:2000]


def _body_text(body, limit=400):
    if body is None:
        return ""
    if isinstance(body, bytes):
        body = body.decode(errors="replace")
    return body[:limit]


@schemathesis.hook
def after_call(context, case, response):
    req = response.request
    if _op(case) in CHANGES_CONTAINERS:
        _state["dirty"] = True  # check the fixtures before the next call that uses them
    if _op(case) in CHANGES_IMAGES:
        _state["image_dirty"] = True
    if _op(case) == "ContainerCreate" and response.status_code == 201:
        try:
            _created.append(json.loads(response.content)["Id"])
            del _created[:-50]
            if isinstance(case.body, dict):
                _create_bodies.append(json.loads(json.dumps(case.body)))
                del _create_bodies[:-100]
        except (ValueError, KeyError, TypeError):
            pass
    _log(
        {
            "seq": _pending.pop(id(case), None),
            "event": "answer",
            "op": _op(case),
            "method": req.method,
            "url": req.url,
            "body": _body_text(req.body, 2000),
            "status": response.status_code,
            "response": _body_text(response.content),
            "elapsed": round(response.elapsed, 3),
        }
    )


@schemathesis.hook
def after_network_error(context, case, request):
    _state["dirty"] = _state["image_dirty"] = True
    _log(
        {
            "seq": _pending.pop(id(case), None),
            "event": "no-answer",
            "op": _op(case),
            "method": request.method,
            "url": request.url,
            "body": _body_text(request.body, 2000),
            "status": None,
            "response": "network error (timeout, reset or refused connection)",
        }
    )
