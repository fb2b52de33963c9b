#!/bin/bash
# bench/conformance.py in a network namespace of its own (root; util-linux `unshare`), with a Mosquitto of its own
# on 1883: the runner and the suite use fixed ports (18100-18102, 8085-8087), so this lets several runs go on at
# once on one machine. The suite's venv must already exist under WORK (a first run of bench/conformance.py outside
# a namespace makes it: pip needs the package index, which the namespace cannot reach).
#   bench/conformance_netns.sh SUITE_DIR ETSI_LIST WORK [--groups ...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
suite=$1; etsi=$2; work=$3; shift 3
exec unshare -n bash -c '
  ip link set lo up
  mosquitto -p 1883 >/dev/null 2>&1 &
  mq=$!
  sleep 0.3
  cd "$0"
  PYTHONPATH="$0" .venv/bin/python bench/conformance.py "$1" --etsi-list "$2" --work "$3" "${@:4}"
  rc=$?
  kill $mq 2>/dev/null || true
  exit $rc
' "$root" "$suite" "$etsi" "$work" "$@"
