#!/usr/bin/env bash
# Regenerates the golden jute vectors with Apache ZooKeeper's own record classes.
#
# Usage: generate.sh [output dir]   (default: the data/ directory next to this script)
#
# Needs a JDK (javac, java) and ZooKeeper's jars, e.g. Debian's `zookeeper` package, which installs them in
# /usr/share/java. Override the location with ZK_JAVA_DIR, or the whole classpath with ZK_CLASSPATH.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/data}"
java_dir="${ZK_JAVA_DIR:-/usr/share/java}"

if [[ -z "${ZK_CLASSPATH:-}" ]]; then
    ZK_CLASSPATH="$java_dir/zookeeper.jar:$java_dir/zookeeper-jute.jar"
    # Runtime only: FastLeaderElection has a static slf4j logger (slf4j-nop keeps it quiet).
    for jar in slf4j-api.jar slf4j-nop.jar; do
        if [[ -f "$java_dir/$jar" ]]; then
            ZK_CLASSPATH="$ZK_CLASSPATH:$java_dir/$jar"
        fi
    done
fi

classes="$(mktemp -d)"
trap 'rm -rf "$classes"' EXIT

javac -encoding UTF-8 -nowarn -d "$classes" -cp "$ZK_CLASSPATH" "$here/GoldenVectors.java"
mkdir -p "$out"
java -cp "$classes:$ZK_CLASSPATH" GoldenVectors "$out"
