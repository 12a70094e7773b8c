#!/usr/bin/env bash
# Installs the oracle: Apache ZooKeeper 3.8 (server, Java client, C client tools) from Debian's packages, and
# the kazoo Python client. Java 17 must already be present. Idempotent.
set -euo pipefail
if ! dpkg -s zookeeper zookeeper-bin netcat-openbsd >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  [ -n "$(ls /var/lib/apt/lists/ 2>/dev/null | grep -v lock)" ] || $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq zookeeper zookeeper-bin netcat-openbsd >/dev/null
fi
python3 -c 'import kazoo' 2>/dev/null || python3 -m pip install -q kazoo
echo "Apache ZooKeeper $(dpkg -s zookeeper | sed -n 's/^Version: //p'), kazoo $(python3 -c 'import kazoo.version as v; print(v.__version__)')"
