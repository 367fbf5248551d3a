"""Load generators for bench/networks.sh (not tests: they print numbers).

  net.py sink PORT              accept TCP connections on PORT and discard what they send
  net.py send HOST PORT MIB     send MIB MiB to HOST:PORT; prints MiB/s
  net.py upstream               answer every A query on 127.0.0.1:53 with 192.0.2.1 (TTL 0)
  net.py dnsload NAME QPS SECS  query 127.0.0.11 for NAME at QPS for SECS; prints p50/p99 ms
"""
import socket
import struct
import sys
import threading
import time


def sink(port):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", port))
    srv.listen(16)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=drain, args=(conn,), daemon=True).start()


def drain(conn):
    while conn.recv(1 << 20):
        pass
    conn.close()


def send(host, port, mib):
    buf = b"\0" * (1 << 20)
    s = socket.create_connection((host, port))
    start = time.monotonic()
    for _ in range(mib):
        s.sendall(buf)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)  # the sink closes once it has read everything
    print(f"{mib / (time.monotonic() - start):.0f}")


def query(name, qid):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\0" + struct.pack(">HH", 1, 1)


def upstream():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 53))
    while True:
        data, peer = s.recvfrom(512)
        head = struct.pack(">HHHHHH", struct.unpack(">H", data[:2])[0], 0x8180, 1, 1, 0, 0)
        answer = struct.pack(">HHHLH", 0xC00C, 1, 1, 0, 4) + socket.inet_aton("192.0.2.1")
        s.sendto(head + data[12:] + answer, peer)


def dnsload(name, qps, secs):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect(("127.0.0.11", 53))
    sent = {}
    lat = []
    lost = 0

    def receive():
        while True:
            try:
                data = s.recv(512)
            except OSError:
                return
            t = sent.pop(struct.unpack(">H", data[:2])[0], None)
            if t is not None:
                lat.append((time.monotonic() - t) * 1000)

    threading.Thread(target=receive, daemon=True).start()
    total = qps * secs
    start = time.monotonic()
    for i in range(total):
        wait = start + i / qps - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        qid = i % 65536
        sent[qid] = time.monotonic()
        s.send(query(name, qid))
    time.sleep(1)
    lost = len(sent)
    lat.sort()
    p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("nan")
    print(f"p50 {p(0.50):.2f} ms, p99 {p(0.99):.2f} ms, {len(lat)}/{total} answered, {lost} lost")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "sink":
        sink(int(args[0]))
    elif cmd == "send":
        send(args[0], int(args[1]), int(args[2]))
    elif cmd == "upstream":
        upstream()
    elif cmd == "dnsload":
        dnsload(args[0], int(args[1]), int(args[2]))
