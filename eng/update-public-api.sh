#!/usr/bin/env bash
# Regenerates the public-API baseline of every packable library from the current code: PublicAPI.Unshipped.txt is reset
# and refilled by the PublicApiAnalyzers' own code fix for RS0016 (through `dotnet format analyzers`), so added, changed and
# removed public symbols all land. PublicAPI.Shipped.txt is left alone (it holds what a release has shipped).
# Usage: eng/update-public-api.sh            (all libraries: every src/*/ with a PublicAPI.Shipped.txt)
#        eng/update-public-api.sh src/LlmEff.Core
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$#" -gt 0 ]; then
  projects=("$@")
else
  projects=()
  for shipped in src/*/PublicAPI.Shipped.txt; do projects+=("$(dirname "$shipped")"); done
fi

for dir in "${projects[@]}"; do
  dir=${dir%/}
  csproj="$dir/$(basename "$dir").csproj"
  [ -f "$csproj" ] || { echo "no $csproj" >&2; exit 1; }
  [ -f "$dir/PublicAPI.Shipped.txt" ] || printf '#nullable enable\n' > "$dir/PublicAPI.Shipped.txt"
  printf '#nullable enable\n' > "$dir/PublicAPI.Unshipped.txt"
done

dotnet restore LlmEff.sln --verbosity quiet

for dir in "${projects[@]}"; do
  dir=${dir%/}
  csproj="$dir/$(basename "$dir").csproj"
  echo "public API: $csproj"
  # RS0016: symbol missing from the files; RS0037: the files' #nullable enable. Only these fixes apply; no .cs file changes.
  dotnet format analyzers "$csproj" --diagnostics RS0016 RS0037 --severity info --verbosity quiet
  echo "  $(($(grep -cv '^#' "$dir/PublicAPI.Unshipped.txt"))) unshipped symbols"
done
