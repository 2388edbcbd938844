#!/usr/bin/env bash
# GraphLearn's server mode on one machine: 2 partition servers (role partition: they hold the graph and answer
# sampling and feature requests) and 2 trainer clients (role trainer: they only sample through the servers and
# compute). The first server is the seed. Separate processes on 127.0.0.1.
#
#   deploy/server-mode.sh [--out DIR] [--config FILE] [--store DIR] [--port PORT]
#
# Defaults: --out /tmp/ga-server-mode, --config hocon/cora-cluster.hocon, --store OUT/store (built from Cora when
# missing), --port 4063 (server 1; the others take the next three). Prints the job's final status and exits 0 when it
# finished with metrics at every evaluation epoch and every seed trained (1 when it failed, was stopped, or lost an
# evaluation); every node is stopped with SIGTERM on the way out.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/local-cluster.sh"

ga_args /tmp/ga-server-mode 4063 "$@"

ga_build
ga_cora_store "$STORE" 2
trap ga_stop_all EXIT
ga_node server-1 "$SEED_PORT" "partition"
ga_node server-2 $((SEED_PORT + 1)) "partition"
ga_node client-1 $((SEED_PORT + 2)) "trainer"
ga_node client-2 $((SEED_PORT + 3)) "trainer"
ga_wait_up 4
ga_train "$CONFIG" server-mode
