#!/usr/bin/env bash
# Builds one context with berth and with a reference Docker (classic builder, --no-cache) and
# diffs what users see of the result: the image's Config, Author, Comment and Size, and
# `docker history` (content hashes in COPY/ADD lines masked). A development aid, not a test.
#   scripts/compare-docker.sh CONTEXT BERTH_HOST REF_HOST
#   e.g. scripts/compare-docker.sh ./ctx unix:///run/berth/berth.sock unix:///tmp/ref/docker.sock
# The busybox (or other) base images must be loaded in both daemons.
set -euo pipefail
ctx=$1 berth=$2 ref=$3
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for side in berth ref; do
  host=${!side}
  (cd "$ctx" && DOCKER_BUILDKIT=0 docker -H "$host" build --no-cache -q -t compare-docker . \
    >/dev/null 2>"$out/$side.err") || { echo "$side: build failed"; cat "$out/$side.err"; }
  docker -H "$host" image inspect compare-docker | python3 -c '
import json, sys
i = json.load(sys.stdin)[0]
c = i["Config"]
c.pop("Image", None)  # the parent ID: differs by nature
print(json.dumps(c, sort_keys=True, indent=1))
print("Author", i.get("Author"), "Comment", i.get("Comment"), "Size", i.get("Size"))' >"$out/$side.cfg"
  docker -H "$host" history --no-trunc --format '{{.CreatedBy}} | {{.Size}} | {{.Comment}}' compare-docker |
    sed -E 's/(file|dir|multi):[0-9a-f]{64}/\1:HASH/' >"$out/$side.hist"
  docker -H "$host" rmi compare-docker >/dev/null
done
diff "$out/berth.cfg" "$out/ref.cfg" && diff "$out/berth.hist" "$out/ref.hist" && echo "same config and history"
