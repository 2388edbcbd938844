#!/usr/bin/env bash
# `graphactors deploy` for people without the CLI on PATH: runs the built graphactors.dll (building it once if it is
# missing) with the same arguments. Examples:
#
#   deploy/launch.sh --ip-config deploy/ip_config.example.txt --layout none:1,partition+trainer:2 \
#                    --store /data/store --out /tmp/ga-deploy --dry-run
#   deploy/launch.sh --ip-config ip_config.txt --layout none:1,partition+trainer:2 --store /data/store --out /tmp/ga --local
#   deploy/launch.sh status --out /tmp/ga
#   deploy/launch.sh stop --out /tmp/ga
#
# GA_DLL names another graphactors.dll; GA_BUILD=1 rebuilds first. docs/DEPLOY.md has the whole story.
set -euo pipefail

GA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GA_DLL="${GA_DLL:-$GA_ROOT/src/GraphActors.Cli/bin/Release/net10.0/graphactors.dll}"

if [[ ! -f "$GA_DLL" || "${GA_BUILD:-0}" == 1 ]]; then
  echo "building graphactors (Release) …" >&2
  dotnet build "$GA_ROOT/src/GraphActors.Cli" -c Release -v quiet -nologo >/dev/null
fi

exec dotnet "$GA_DLL" deploy "$@"
