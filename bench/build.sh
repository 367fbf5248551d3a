#!/usr/bin/env bash
# Builder timings through `berth build` (not a test: prints numbers).
#   (a) fully cached rebuild of a 12-step Dockerfile with a 200-file COPY
#   (m) a metadata-only Dockerfile in (a)'s context, and (e) in an empty one
#   (b) --no-cache build of 10 small RUN steps
#   (c) two independent stages (1 s each): wall time vs the sum
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
N=${N:-10}

a=$dir/a; mkdir -p "$a/files"
for i in $(seq 200); do echo "file $i" > "$a/files/f$i.txt"; done
cat > "$a/Dockerfile" <<'DF'
FROM bench
ENV A=1
ARG B=2
WORKDIR /app
COPY files/ /app/files/
RUN echo one > /one
RUN echo two > /two
LABEL l=1
EXPOSE 80
USER root
ENTRYPOINT ["sh", "-c"]
CMD ["ls /app/files | wc -l"]
DF
for t in "${tools[@]}"; do
  tool "$t" build -q -t a "$a" >/dev/null
  echo "$t (a) cached rebuild, 12 steps + 200-file COPY: median $(for _ in $(seq $N); do time_ms tool "$t" build -q -t a "$a"; done | median) ms"
done

m=$dir/m; cp -r "$a" "$m"; printf 'FROM bench\nENV A=1\nLABEL x=y\nCMD ["sh"]\n' > "$m/Dockerfile"
e=$dir/e; mkdir -p "$e"; cp "$m/Dockerfile" "$e/"
for t in "${tools[@]}"; do
  for c in m e; do tool "$t" build -q -t "$c" "${!c}" >/dev/null; done
  echo "$t (m) metadata-only, (a)'s context:          median $(for _ in $(seq $N); do time_ms tool "$t" build -q -t m "$m"; done | median) ms"
  echo "$t (e) metadata-only, empty context:          median $(for _ in $(seq $N); do time_ms tool "$t" build -q -t e "$e"; done | median) ms"
done

b=$dir/b; mkdir -p "$b"
{ echo "FROM bench"; for i in $(seq 10); do echo "RUN echo $i > /f$i"; done; } > "$b/Dockerfile"
for t in "${tools[@]}"; do
  echo "$t (b) --no-cache, 10 RUN steps:               median $(for _ in $(seq $N); do time_ms tool "$t" build -q --no-cache "$b"; done | median) ms"
done

c=$dir/c; mkdir -p "$c"
cat > "$c/Dockerfile" <<'DF'
FROM bench AS one
RUN sleep 1; echo 1 > /1
FROM bench AS two
RUN sleep 1; echo 2 > /2
FROM bench
COPY --from=one /1 /1
COPY --from=two /2 /2
DF
for t in "${tools[@]}"; do
  echo "$t (c) two independent 1 s stages, --no-cache: $(time_ms tool "$t" build -q --no-cache "$c") ms (sum of stages: 2000+ ms)"
done
