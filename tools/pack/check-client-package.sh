#!/usr/bin/env bash
# Packs the client library (FusionActors.Client with FusionActors.Protocol and FusionActors.Core) and fusionctl,
# checks what the packages carry, then builds samples/client-package from those packages alone and runs it
# against a real node on loopback: every frame committed, every window fused.
# Usage: bash tools/pack/check-client-package.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
out=artifacts/packages
rm -rf "$out"
# The repository URL goes into the packages only when the clone has a public remote.
url=$(git remote get-url origin 2>/dev/null | grep -E "^(https://|git@)" || true)
for p in FusionActors.Protocol FusionActors.Core FusionActors.Client FusionActors.Console; do
  dotnet pack "src/$p" -c Release -o "$out" -v q -p:FusionRepositoryUrl="$url" > /tmp/fusion-pack-$p.log 2>&1 \
    || { tail -n 40 /tmp/fusion-pack-$p.log; exit 1; }
done
ls "$out"

python3 - "$out" <<'PY'
import sys, zipfile, glob, re, os
out = sys.argv[1]
def nuspec(pkg):
    z = zipfile.ZipFile(pkg)
    name = next(n for n in z.namelist() if n.endswith(".nuspec"))
    return z, z.read(name).decode()
for pid, deps in [("FusionActors.Protocol", ["Akka", "Akka.Remote", "Akka.Streams"]),
                  ("FusionActors.Core", ["FusionActors.Protocol"]),
                  ("FusionActors.Client", ["FusionActors.Protocol", "FusionActors.Core", "Akka.Cluster.Tools"])]:
    [pkg] = glob.glob(os.path.join(out, pid + ".0.*.nupkg"))
    z, spec = nuspec(pkg)
    files = z.namelist()
    assert '<license type="expression">Apache-2.0</license>' in spec, f"{pid}: no licence expression"
    assert "<readme>README.md</readme>" in spec and "README.md" in files, f"{pid}: no README"
    assert re.search(r'<repository type="git"', spec), f"{pid}: no repository element"
    assert f"lib/net10.0/{pid}.xml" in files, f"{pid}: no XML docs"
    assert f"lib/net10.0/{pid}.dll" in files, f"{pid}: no assembly"
    for d in deps:
        assert f'id="{d}"' in spec, f"{pid}: does not depend on {d}"
    print(f"{pid}: licence, README, repository, XML docs and dependencies {deps} present")
[tool] = glob.glob(os.path.join(out, "FusionActors.Console.0.*.nupkg"))
z, spec = nuspec(tool)
assert '<packageType name="DotnetTool"' in spec, "fusionctl is not a tool package"
print("FusionActors.Console: dotnet tool package")
PY

# The sample restores into a package folder of its own, so no package cached from an earlier build is used.
work=$(mktemp -d)
node=""
trap '[ -n "$node" ] && kill "$node" 2>/dev/null; rm -rf "$work"' EXIT
dotnet build samples/client-package -c Release -v q -p:RestorePackagesPath="$work/packages" -o "$work/sample" > /tmp/fusion-pack-sample.log 2>&1 \
  || { tail -n 40 /tmp/fusion-pack-sample.log; exit 1; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
dotnet build src/FusionActors.Node -c Release -v q > /tmp/fusion-pack-node.log 2>&1 || { tail -n 40 /tmp/fusion-pack-node.log; exit 1; }
Fusion__Console__Enabled=false dotnet src/FusionActors.Node/bin/Release/net10.0/FusionActors.Node.dll \
  --port "$port" --seeds "127.0.0.1:$port" > "$work/node.log" 2>&1 &
node=$!
for _ in $(seq 1 120); do grep -q "node up at" "$work/node.log" 2>/dev/null && break; sleep 0.5; done
dotnet "$work/sample/ClientPackageSample.dll" "127.0.0.1:$port" | tee "$work/sample.json" || { tail -n 40 "$work/node.log"; exit 1; }
echo "client package: built from the packages alone and served by a node"
