#!/usr/bin/env bash
# The main job, end to end: import a base image (no registry needed), build
# the web image, `compose up` a project of three services in dependency
# order with the web tier scaled to 3 behind one published port, show it
# answering, then `compose down`. Run as root after `cargo install --path .`.
set -euo pipefail
cd "$(dirname "$0")"

if [ "$(id -u)" != 0 ]; then
  echo "run.sh: run as root: containers need namespaces, cgroups and mounts" >&2
  exit 1
fi
if ! command -v compose >/dev/null; then
  echo "run.sh: no compose on PATH; install it first: cargo install --locked --path ." >&2
  exit 1
fi
# What the demo needs from Debian: the busybox base, and nft/ip, which
# `compose up` uses for project networks.
missing=()
[ -x /bin/busybox ] || missing+=(busybox-static)
command -v nft >/dev/null || missing+=(nftables)
command -v ip >/dev/null || missing+=(iproute2)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
port=${WEB_PORT:-8080}
export WEB_PORT=$port

# A base image from Debian's static busybox, as `docker import` would make.
tmp=$(mktemp -d)
cleanup() {
  compose down -v -t 1 >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/rootfs"/{bin,etc,tmp,proc,sys,dev,root}
cp /bin/busybox "$tmp/rootfs/bin/"
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -s busybox "$tmp/rootfs/bin/$applet"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$tmp/rootfs/etc/passwd"
echo 'root:x:0:' >"$tmp/rootfs/etc/group"
tar -C "$tmp/rootfs" -cf "$tmp/busybox.tar" .
compose image import "$tmp/busybox.tar" busybox:demo

echo "== compose up -d --build --wait"
compose up -d --build --wait
compose ps
echo "== six requests to 127.0.0.1:$port: the replicas answer in turn"
for _ in 1 2 3 4 5 6; do
  /bin/busybox wget -q -O - "http://127.0.0.1:$port/cgi-bin/index.cgi"
done
echo "== compose logs migrate"
compose logs migrate
echo "== compose down -v"
compose down -v -t 1
