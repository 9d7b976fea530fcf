#!/usr/bin/env bash
# Tasks of FusionActors (the twin of build.ps1; CI uses this one).
#   ./build.sh build | test | demo [args] | bench [args] | dataset [OUT] | dataset-ood [OUT] | train | train-fusion | cluster-up | cluster-down
#              | failover-demo [args] | push [args] | bench-remote [args] | chaos-soak [--minutes N] [--report PATH] | hostile-soak [args] | pack
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
  dataset-ood) bash tools/avdigits/build-ood.sh "$@" ;;
  train)   bash tools/train/train.sh "$@" ;;
  train-fusion) bash tools/train/train-fusion.sh "$@" ;;
  failover-demo) dotnet run -c Release --project src/FusionActors.Host -- failover-demo "$@" ;;
  push)    dotnet run -c Release --project src/FusionActors.Host -- push "$@" ;;
  bench-remote) dotnet run -c Release --project src/FusionActors.Host -- bench-remote "$@" ;;
  chaos-soak)
    # Three node processes behind loopback proxies, eight push processes and a probe, with kills, pauses and a partition
    # on a seeded schedule (docs/operations.md); logs in artifacts/soak. Exit 1 when a frame, a result or a window went wrong.
    dotnet run -c Release --project src/FusionActors.Soak -- "$@" ;;
  hostile-soak)
    # A node process under bad frames and garbage connections from a raw peer, beside an honest probe session:
    # node memory and its slope, probe latency, rejections by reason (docs/operations.md).
    dotnet run -c Release --project src/FusionActors.Host -- hostile-soak "$@" ;;
  pack)
    # NuGet packages of the client library (with Protocol and Core) and fusionctl into artifacts/packages, checked,
    # then used alone by samples/client-package against a node on loopback.
    bash tools/pack/check-client-package.sh ;;
  cluster-up)
    # Three nodes on loopback (remoting 4053-4055, consoles 9111-9113), each listing all three as seeds (the
    # first forms the cluster; any of them restarted with its command line joins the others); logs and pids in
    # artifacts/cluster. The non-Docker twin of docker/compose.yaml.
    dotnet build src/FusionActors.Host -c Release -v q
    mkdir -p artifacts/cluster
    for i in 1 2 3; do
      port=$((4052 + i))
      FUSION_CONSOLE_PORT=$((9110 + i)) nohup dotnet src/FusionActors.Host/bin/Release/net10.0/FusionActors.Host.dll \
        node --config config/node.hocon --port "$port" --seeds 127.0.0.1:4053,127.0.0.1:4054,127.0.0.1:4055 > "artifacts/cluster/node$i.log" 2>&1 &
      echo $! > "artifacts/cluster/node$i.pid"
      echo "node$i: akka.tcp://fusion@127.0.0.1:$port, console 127.0.0.1:$((9110 + i)), log artifacts/cluster/node$i.log"
    done ;;
  cluster-down)
    for f in artifacts/cluster/node*.pid; do
      [ -f "$f" ] || continue
      pid=$(cat "$f"); kill -TERM "$pid" 2>/dev/null && echo "stopping node $(basename "$f" .pid) ($pid)"
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      rm -f "$f"
    done ;;
  *) echo "unknown task '$task' (build|test|demo|bench|dataset|dataset-ood|train|train-fusion|cluster-up|cluster-down|failover-demo|push|bench-remote|chaos-soak|hostile-soak|pack)" >&2; exit 2 ;;
esac
