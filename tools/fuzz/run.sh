#!/usr/bin/env bash
# Coverage-guided fuzzing of the node's wire readers (every control and frame manifest, the WebSocket ingress's
# open and frames messages, recording files) with SharpFuzz under AFL++; docs/security.md, "Fuzzing".
#   tools/fuzz/run.sh [SECONDS]      default 600; findings in artifacts/fuzz/findings, exit 1 when a crash was found
# Installs afl++ (apt) and the sharpfuzz tool (NuGet) when they are missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-600}"
command -v afl-fuzz > /dev/null || { apt-get update -qq && apt-get install -y -qq afl++ > /dev/null; }
export PATH="$PATH:$HOME/.dotnet/tools"
command -v sharpfuzz > /dev/null || dotnet tool install --global SharpFuzz.CommandLine --version 2.3.0 > /dev/null
out=artifacts/fuzz
bin="$out/bin"
rm -rf "$bin" "$out/findings"
mkdir -p "$out"
dotnet build -c Release src/FusionActors.Fuzz -o "$bin" -v q -nologo > "$out/build.log" 2>&1 || { cat "$out/build.log"; exit 1; }
dotnet "$bin/FusionActors.Fuzz.dll" seeds "$out/seeds" > /dev/null
echo "fuzzing $(dotnet "$bin/FusionActors.Fuzz.dll" list | wc -l) readers for ${seconds} s"
# The assemblies whose branches AFL sees: the readers under test (the harness itself and Akka stay uninstrumented).
# Instrumented code runs only under afl-fuzz: a replay uses the uninstrumented build (dotnet build src/FusionActors.Fuzz).
for dll in FusionActors.Protocol.dll FusionActors.Runtime.dll; do sharpfuzz "$bin/$dll" > /dev/null; done
AFL_SKIP_BIN_CHECK=1 AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
  afl-fuzz -V "$seconds" -t 5000 -m none -i "$out/seeds" -o "$out/findings" -x tools/fuzz/wire.dict \
  -- dotnet "$bin/FusionActors.Fuzz.dll" > "$out/afl.log" 2>&1 || { tail -30 "$out/afl.log"; exit 1; }
stats="$out/findings/default/fuzzer_stats"
for key in run_time execs_done execs_per_sec corpus_count bitmap_cvg saved_crashes saved_hangs; do
  grep -E "^$key " "$stats" || true
done
crashes=$(find "$out/findings/default/crashes" -type f -name 'id:*' 2>/dev/null | wc -l)
if [ "$crashes" -gt 0 ]; then
  echo "$crashes crashing inputs in $out/findings/default/crashes; replay: dotnet run --project src/FusionActors.Fuzz -- replay FILE"
  exit 1
fi
