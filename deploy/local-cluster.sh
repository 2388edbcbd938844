#!/usr/bin/env bash
# Shared by deploy/worker-mode.sh and deploy/server-mode.sh: start GraphActors nodes as separate processes on
# 127.0.0.1, train a job through `graphactors ctl`, print the result, stop every node with SIGTERM (graceful leave).
# Source it; do not run it.
set -euo pipefail

GA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GA_DLL="${GA_DLL:-$GA_ROOT/src/GraphActors.Cli/bin/Release/net10.0/graphactors.dll}"
GA_PIDS=()

ga() { dotnet "$GA_DLL" "$@"; }

# ga_args DEFAULT_OUT DEFAULT_PORT "$@": the scripts' options (--out, --config, --store, --port) into OUT, CONFIG,
# STORE and SEED_PORT; a fresh journal and checkpoint folder under OUT.
ga_args() {
  OUT="$1"; SEED_PORT="$2"; shift 2
  CONFIG="$GA_ROOT/hocon/cora-cluster.hocon"; STORE=""
  while (( $# )); do
    case "$1" in
      --out) OUT="$2"; shift 2 ;;
      --config) CONFIG="$2"; shift 2 ;;
      --store) STORE="$2"; shift 2 ;;
      --port) SEED_PORT="$2"; shift 2 ;;
      *) echo "usage: $0 [--out DIR] [--config FILE] [--store DIR] [--port PORT]" >&2; exit 2 ;;
    esac
  done
  mkdir -p "$OUT"; OUT="$(cd "$OUT" && pwd)"; STORE="${STORE:-$OUT/store}"
  rm -f "$OUT"/coordinator.db* "$OUT/ctl.token"; rm -rf "$OUT/checkpoints"
}

ga_build() {
  if [[ ! -f "$GA_DLL" || "${GA_BUILD:-1}" == 1 ]]; then
    echo "building graphactors (Release) …"
    dotnet build "$GA_ROOT/src/GraphActors.Cli" -c Release -v quiet -nologo >/dev/null
  fi
}

# ga_cora_store DIR PARTS: Cora (../shared/data/cora, or GA_DATA/cora) → tables → CGDF → PARTS METIS partitions in DIR.
ga_cora_store() {
  local store="$1" parts="$2"
  if [[ -f "$store/partitions.json" ]]; then echo "using the partition store $store"; return; fi
  local data="${GA_DATA:-$GA_ROOT/../shared/data}/cora"
  [[ -d "$data" ]] || { echo "error: Cora not found at $data (set GA_DATA to the folder holding cora/)" >&2; exit 2; }
  local work; work="$(dirname "$store")/cora-build"
  rm -rf "$work"
  ga import linqs --input "$data" --name cora --out "$work/tables"
  ga etl --tables "$work/tables" --dt 2024-01-01 --out "$work/cgdf"
  ga partition --cgdf "$work/cgdf" --out "$store" --parts "$parts" --method metis
}

# ga_node NAME PORT ROLES: writes OUT/NAME.hocon and starts the node in the background (log OUT/NAME.log).
ga_node() {
  local name="$1" port="$2" roles="$3"
  cat > "$OUT/$name.hocon" <<HOCON
# $name: written by $(basename "$0"); base.hocon (built into graphactors) underneath.
akka.remote.dot-netty.tcp.hostname = "127.0.0.1"
akka.remote.dot-netty.tcp.port = $port
akka.cluster.seed-nodes = ["akka.tcp://graphactors@127.0.0.1:$SEED_PORT"]
akka.cluster.roles = [$roles]
graphactors.partitions.store-path = "$STORE"
# One journal file for every node that may host the coordinator (on one machine; PostgreSQL for a real cluster).
graphactors.persistence.sqlite-path = "$OUT/coordinator.db"
graphactors.node.data-dir = "$OUT/$name-data"
# The secret ctl's changing commands carry: the first node to start writes it (mode 0600), the others read it.
graphactors.ctl.token-file = "$OUT/ctl.token"
HOCON
  # dotnet itself in the background (not the ga function, whose subshell would take the SIGTERM meant for the node).
  dotnet "$GA_DLL" node --config "$OUT/$name.hocon" >"$OUT/$name.log" 2>&1 &
  GA_PIDS+=($!)
  echo "started $name (pid $!, port $port, roles [$roles]) — log $OUT/$name.log"
}

ga_stop_all() {
  local pid
  for pid in "${GA_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${GA_PIDS[@]}"; do
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then echo "node $pid did not leave within 30 s: killing it" >&2; kill -KILL "$pid" 2>/dev/null || true; fi
  done
  GA_PIDS=()
}

# ga_wait_up COUNT: until `ctl cluster show` lists COUNT members Up (timeout GA_UP_TIMEOUT, 120 s).
ga_wait_up() {
  local want="$1" deadline=$((SECONDS + ${GA_UP_TIMEOUT:-120})) up=0
  while (( SECONDS < deadline )); do
    up=$(ga ctl cluster show --json --contact "127.0.0.1:$SEED_PORT" --timeout 3s 2>/dev/null | grep -io '"status": *"Up"' | wc -l || true)
    if (( up >= want )); then echo "cluster up: $up members"; return 0; fi
    sleep 1
  done
  echo "error: $up of $want members up after ${GA_UP_TIMEOUT:-120} s; node logs are in $OUT" >&2
  return 1
}

# ga_train CONFIG JOB: start the job and follow it to its end (timeout GA_TRAIN_TIMEOUT, 900 s): a line per epoch with
# its loss and metrics, a progress line every 10 s, then the summary (last and best epoch, a table of every epoch).
ga_train() {
  local config="$1" job="$2" rc=0
  timeout "${GA_TRAIN_TIMEOUT:-900}" dotnet "$GA_DLL" ctl train start --config "$config" --store "$STORE" --job "$job" \
    --checkpoint-dir "$OUT/checkpoints" --contact "127.0.0.1:$SEED_PORT" --token-file "$OUT/ctl.token" --follow || rc=$?
  case "$rc" in
    0)
      echo "checkpoints: $OUT/checkpoints/$job (each verified by: graphactors ctl checkpoints list --job $job --contact 127.0.0.1:$SEED_PORT)"
      return 0 ;;
    124) echo "error: job $job still running after ${GA_TRAIN_TIMEOUT:-900} s; node logs are in $OUT" >&2 ;;
    # Exit 4: the job failed, was stopped, or finished without a whole result (an evaluation epoch without metrics,
    # no metrics at all, seeds of an epoch not all trained); --follow named the reason above.
    4) echo "error: job $job ended without a whole result (see above); node logs are in $OUT" >&2 ;;
    *) echo "error: ctl train start --follow exited $rc for job $job; node logs are in $OUT" >&2 ;;
  esac
  return 1
}
