#!/usr/bin/env bash
# Tasks of FusionActors (the twin of build.ps1; CI uses this one).
#   ./build.sh build | test | demo [args] | bench [args] | dataset [OUT] | train
set -euo pipefail
cd "$(dirname "$0")"
task="${1:-build}"
shift || true
case "$task" in
  build)   dotnet build FusionActors.sln -c Release ;;
  test)    dotnet test FusionActors.sln "$@" ;;
  demo)    dotnet run --project src/FusionActors.Host -- demo "$@" ;;
  bench)   dotnet run -c Release --project src/FusionActors.Host -- bench "$@" ;;
  dataset) bash tools/avdigits/build.sh "$@" ;;
  train)   bash tools/train/train.sh "$@" ;;
  *) echo "unknown task '$task' (build|test|demo|bench|dataset|train)" >&2; exit 2 ;;
esac
