"""Writes a Docker 20.10-style docker-archive of `big:1`: 300 MB in 5 layers of 60 random
1 MiB files (compression cannot help). Shared by bench/archive.sh and bench/pull.sh.

usage: big_image.py ARCHIVE
"""
import hashlib, io, json, os, sys, tarfile
layers, diffs = [], []
for i in range(5):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        for j in range(60):
            data = os.urandom(1 << 20)
            info = tarfile.TarInfo(f"layer{i}/f{j}")
            info.size, info.mtime = len(data), 0
            t.addfile(info, io.BytesIO(data))
    layers.append(buf.getvalue())
    diffs.append("sha256:" + hashlib.sha256(buf.getvalue()).hexdigest())
config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                     "rootfs": {"type": "layers", "diff_ids": diffs},
                     "history": [{"created_by": f"layer {i}"} for i in range(5)]}).encode()
cid = hashlib.sha256(config).hexdigest()
with tarfile.open(sys.argv[1], "w", format=tarfile.GNU_FORMAT) as out:
    def add(name, data):
        info = tarfile.TarInfo(name)
        info.size = len(data)
        out.addfile(info, io.BytesIO(data))
    for i, l in enumerate(layers):
        add(f"l{i}/layer.tar", l)
    add(f"{cid}.json", config)
    add("manifest.json", json.dumps([{"Config": f"{cid}.json", "RepoTags": ["big:1"],
                                      "Layers": [f"l{i}/layer.tar" for i in range(5)]}]).encode())
