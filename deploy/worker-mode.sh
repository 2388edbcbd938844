#!/usr/bin/env bash
# GraphLearn's worker mode on one machine: a seed node (no roles: membership and `ctl` entry point) and 2 workers,
# each with roles partition + trainer (each hosts one Cora partition, samples its seeds locally and trains a replica;
# the coordinator averages their parameters every K steps). Separate processes on 127.0.0.1.
#
#   deploy/worker-mode.sh [--out DIR] [--config FILE] [--store DIR] [--port PORT]
#
# Defaults: --out /tmp/ga-worker-mode, --config hocon/cora-cluster.hocon, --store OUT/store (built from Cora when
# missing), --port 4053 (the seed; workers take the next two). Prints the job's final status and exits 0 when it
# finished with metrics at every evaluation epoch and every seed trained (1 when it failed, was stopped, or lost an
# evaluation); every node is stopped with SIGTERM on the way out (also on Ctrl-C or failure).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/local-cluster.sh"

ga_args /tmp/ga-worker-mode 4053 "$@"

ga_build
ga_cora_store "$STORE" 2
trap ga_stop_all EXIT
ga_node seed "$SEED_PORT" ""
ga_node worker-1 $((SEED_PORT + 1)) "partition, trainer"
ga_node worker-2 $((SEED_PORT + 2)) "partition, trainer"
ga_wait_up 3
ga_train "$CONFIG" worker-mode
