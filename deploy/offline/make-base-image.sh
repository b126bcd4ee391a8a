#!/bin/sh
# OFFLINE VERIFICATION ONLY. Operators who can pull from Docker Hub do not need this script: the Dockerfile's
# `FROM python:3.11-slim-bookworm` pulls the official image.
#
# Builds a local stand-in tagged python:3.11-slim-bookworm on a host that reaches a Debian mirror (and a
# Python package index) but not Docker Hub. It is NOT the official image: Python is Debian's 3.11 in /usr/bin
# (the official image compiles its own into /usr/local), with /usr/local/bin/{python,python3,pip,pip3}
# linked to it and Debian's "externally managed" marker removed, so the Dockerfile's `python` and `pip`
# behave as they do on the official image.
#
#   sudo deploy/offline/make-base-image.sh [--mirror URL] [--extra-ca FILE.crt ...] [--tag TAG]
#
# --mirror    Debian mirror (default: the first bookworm URI in this host's apt sources, else deb.debian.org).
# --extra-ca  a CA certificate the stand-in should trust, e.g. a network's TLS-intercepting proxy, so that
#             `pip` inside the build reaches the package index. Repeatable. It goes into the stand-in
#             only, never into the project's image definition.
# --pip-conf  a pip.conf to put at /etc/pip.conf in the stand-in (e.g. an index-url for a private mirror).
#
# Needs root, debootstrap and docker.
set -eu

tag=python:3.11-slim-bookworm
mirror=
pip_conf=
cas=
while [ $# -gt 0 ]; do
    case $1 in
        --mirror) mirror=$2; shift 2 ;;
        --extra-ca) cas="$cas $2"; shift 2 ;;
        --pip-conf) pip_conf=$2; shift 2 ;;
        --tag) tag=$2; shift 2 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
if [ -z "$mirror" ]; then
    mirror=$(grep -hoE '^(URIs:|deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
        /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}' | head -n1 || true)
    [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
fi

work=$(mktemp -d /var/tmp/bonebot-base.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/root

echo "debootstrap bookworm (minbase) from $mirror" >&2
# As the official Debian slim images: no docs, man pages or translations in packages installed later, and apt
# keeps no package caches (else every `apt-get update` in a Dockerfile leaves ~80 MB of *.bin behind).
mkdir -p "$root/etc/dpkg/dpkg.cfg.d" "$root/etc/apt/apt.conf.d"
cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'DPKG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
DPKG
cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
printf 'Acquire::Languages "none";\n' >"$root/etc/apt/apt.conf.d/docker-no-languages"
printf 'Apt::AutoRemove::SuggestsImportant "false";\n' >"$root/etc/apt/apt.conf.d/docker-autoremove-suggests"
debootstrap --variant=minbase \
    --include=python3,python3-venv,python3-pip,ca-certificates,netbase,tzdata \
    bookworm "$root" "$mirror"

# Same sources as the official image: bookworm, bookworm-updates, bookworm-security.
security=$(echo "$mirror" | sed 's#/debian/*$#/debian-security#')
cat >"$root/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security bookworm-security main
SOURCES

for ca in $cas; do
    cp "$ca" "$root/usr/local/share/ca-certificates/$(basename "$ca" .crt).crt"
done
if [ -n "$cas" ]; then
    chroot "$root" update-ca-certificates
fi
# pip trusts the system bundle (and so the extra CAs above).
if [ -n "$pip_conf" ]; then
    cp "$pip_conf" "$root/etc/pip.conf"
else
    printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >"$root/etc/pip.conf"
fi

# The official image's pip is not "externally managed" and python/pip are on PATH under those names.
rm -f "$root"/usr/lib/python3*/EXTERNALLY-MANAGED
for name in python python3; do ln -sf /usr/bin/python3 "$root/usr/local/bin/$name"; done
for name in pip pip3; do ln -sf /usr/bin/pip3 "$root/usr/local/bin/$name"; done

chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/log/* "$root"/tmp/*
# What debootstrap installed before the dpkg filter applied.
find "$root/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete 2>/dev/null || true
rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/* "$root"/usr/share/lintian/*

tar --numeric-owner -C "$root" -c . | docker import \
    --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["python3"]' \
    --message 'offline stand-in for python:3.11-slim-bookworm (deploy/offline/make-base-image.sh)' \
    - "$tag"
docker run --rm "$tag" sh -c 'python --version && pip --version'
