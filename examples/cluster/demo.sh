#!/usr/bin/env bash
# The container cluster rmchat agent is made for, on one machine, as root:
#   examples/cluster/demo.sh               the demo for a person: prints what happens
#   examples/cluster/demo.sh --check [N]   unattended (N machines, default 3): exit 0 when every
#                                          check passed, else 1 with the failed check last
#   examples/cluster/demo.sh --measure T   also T kill -9 trials with figures (median/min/max)
#   examples/cluster/demo.sh --measure-sigterm T   also T planned stops (SIGTERM) with figures
# Needs iproute2, iptables, python3, curl and a built dist/ (npm ci).
set -euo pipefail
exec node "$(dirname "$0")/cluster.mjs" "$@"
