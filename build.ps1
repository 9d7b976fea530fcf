# Tasks of FusionActors (the twin of build.sh): ./build.ps1 build|test|demo|bench|dataset|dataset-ood|train|train-fusion|cluster-up|cluster-down|failover-demo|push|bench-remote|chaos-soak|hostile-soak|pack [args]
param([string]$Task = "build", [Parameter(ValueFromRemainingArguments = $true)][string[]]$Rest)
$ErrorActionPreference = "Stop"
Set-Location $PSScriptRoot
switch ($Task) {
  "build"   { dotnet build FusionActors.sln -c Release }
  "test"    { dotnet test FusionActors.sln @Rest }
  "demo"    { dotnet run --project src/FusionActors.Host -- demo @Rest }
  "bench"   { dotnet run -c Release --project src/FusionActors.Host -- bench @Rest }
  "dataset" { bash tools/avdigits/build.sh @Rest }
  "dataset-ood" { bash tools/avdigits/build-ood.sh @Rest }
  "train"   { bash tools/train/train.sh @Rest }
  "train-fusion" { bash tools/train/train-fusion.sh @Rest }
  "cluster-up"   { bash ./build.sh cluster-up }
  "cluster-down" { bash ./build.sh cluster-down }
  "failover-demo" { dotnet run -c Release --project src/FusionActors.Host -- failover-demo @Rest }
  "push"    { dotnet run -c Release --project src/FusionActors.Host -- push @Rest }
  "bench-remote" { dotnet run -c Release --project src/FusionActors.Host -- bench-remote @Rest }
  "chaos-soak" { dotnet run -c Release --project src/FusionActors.Soak -- @Rest }
  "hostile-soak" { dotnet run -c Release --project src/FusionActors.Host -- hostile-soak @Rest }
  "pack"    { bash tools/pack/check-client-package.sh }
  default   { Write-Error "unknown task '$Task' (build|test|demo|bench|dataset|dataset-ood|train|train-fusion|cluster-up|cluster-down|failover-demo|push|bench-remote|chaos-soak|hostile-soak|pack)"; exit 2 }
}
exit $LASTEXITCODE
