#!/usr/bin/env bash
# One install step: publish the graphactors executable once and put it on PATH, so that every later command starts in
# a second instead of rebuilding through `dotnet run`. Shows the build's progress. Re-running it replaces the install
# atomically (a new folder, then a rename).
#
#   deploy/install.sh                      # → ~/.local/lib/graphactors, linked as ~/.local/bin/graphactors
#   deploy/install.sh --prefix /usr/local  # → /usr/local/lib/graphactors, /usr/local/bin/graphactors (root)
#   deploy/install.sh --self-contained     # bundles the .NET runtime (for machines without it)
#
# Then: graphactors quickstart. docs/DEPLOY.md has the rest.
set -euo pipefail

GA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX="${PREFIX:-$HOME/.local}"
SELF_CONTAINED=0
while (( $# )); do
  case "$1" in
    --prefix) PREFIX="${2:?--prefix needs a folder}"; shift 2 ;;
    --self-contained) SELF_CONTAINED=1; shift ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
done
command -v dotnet >/dev/null 2>&1 || { echo "install.sh: the .NET SDK (dotnet, see global.json) is not on PATH" >&2; exit 2; }

lib="$PREFIX/lib/graphactors"
bin="$PREFIX/bin"
staging="$lib.new-$$"
trap 'rm -rf "$staging"' EXIT
mkdir -p "$PREFIX/lib" "$bin"

echo "[1/3] restoring and publishing src/GraphActors.Cli (Release; the first time takes a few minutes) …"
args=(publish "$GA_ROOT/src/GraphActors.Cli" -c Release -o "$staging" -nologo -v minimal)
(( SELF_CONTAINED )) && args+=(-r linux-x64 --self-contained true)
started=$SECONDS
progress() {
  # One line per project as it finishes, and every warning or error, with the seconds so far.
  while IFS= read -r line; do
    case "$line" in
      *" -> "*|*warning*|*error*) printf '      %4ds  %s\n' "$((SECONDS - started))" "${line#"${line%%[![:space:]]*}"}" ;;
    esac
  done
}
if ! dotnet "${args[@]}" 2>&1 | progress; then
  echo "install.sh: dotnet publish failed (run it by hand for the full log: dotnet ${args[*]})" >&2
  exit 1
fi
cp -r "$GA_ROOT/hocon" "$staging/hocon"

echo "[2/3] installing into $lib"
old="$lib.old-$$"
[[ -d "$lib" ]] && mv "$lib" "$old"
mv "$staging" "$lib"
rm -rf "$old"
ln -sfn "$lib/graphactors" "$bin/graphactors"

echo "[3/3] checking: $("$bin/graphactors" --version)"
case ":$PATH:" in
  *":$bin:"*) echo "done: graphactors is on your PATH (try: graphactors quickstart)" ;;
  *) echo "done: add $bin to your PATH, e.g.  export PATH=\"$bin:\$PATH\"  (then: graphactors quickstart)" ;;
esac
