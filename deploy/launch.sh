#!/usr/bin/env bash
# `graphactors deploy` from a checkout: runs the installed graphactors, or the built graphactors.dll (building it once if
# it is missing), with the same arguments. Examples:
#
#   deploy/launch.sh --ip-config deploy/ip_config.example.txt --layout none:1,partition+trainer:2 \
#                    --store /data/store --out /tmp/ga-deploy --dry-run
#   deploy/launch.sh --ip-config ip_config.txt --layout none:1,partition+trainer:2 --store /data/store --out /tmp/ga --local
#   deploy/launch.sh status --out /tmp/ga
#   deploy/launch.sh stop --out /tmp/ga
#
# Uses `graphactors` from PATH when installed (deploy/install.sh); GA_DLL names a graphactors.dll instead; GA_BUILD=1
# rebuilds the checkout's first. docs/DEPLOY.md has the whole story.
set -euo pipefail

GA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dll_given="${GA_DLL:-}"
GA_DLL="${GA_DLL:-$GA_ROOT/src/GraphActors.Cli/bin/Release/net10.0/graphactors.dll}"

# An installed graphactors (deploy/install.sh) first, unless GA_DLL or GA_BUILD says otherwise.
if [[ -z "$dll_given" && "${GA_BUILD:-0}" != 1 ]] && command -v graphactors >/dev/null 2>&1; then
  exec graphactors deploy "$@"
fi
if [[ ! -f "$GA_DLL" || "${GA_BUILD:-0}" == 1 ]]; then
  echo "building graphactors (Release) … (deploy/install.sh installs it once instead)" >&2
  dotnet build "$GA_ROOT/src/GraphActors.Cli" -c Release -v minimal -nologo
fi

exec dotnet "$GA_DLL" deploy "$@"
