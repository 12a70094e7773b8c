#!/usr/bin/env bash
# Runs JuteBench (Apache ZooKeeper's jute classes) on the same records as `cargo bench -p zk-proto --bench codec`.
# Needs a JDK and Debian's zookeeper package (jars in /usr/share/java; override with ZK_JAVA_DIR).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
java_dir="${ZK_JAVA_DIR:-/usr/share/java}"
cp="$java_dir/zookeeper.jar:$java_dir/zookeeper-jute.jar:$java_dir/slf4j-api.jar:$java_dir/slf4j-nop.jar"
classes="$(mktemp -d)"
trap 'rm -rf "$classes"' EXIT
javac -nowarn -d "$classes" -cp "$cp" "$here/JuteBench.java"
java -cp "$classes:$cp" JuteBench
