#!/usr/bin/env bash
# Per-image latency of the C example (libtfpose) vs the C# API (PoseEstimator.Estimate), interleaved
# so that load on the machine hits both alike. Run after `build.ps1 -Task Native` (or a CMake build in
# artifacts/native/build):  bash native/bench/latency.sh [IMAGE] [ROUNDS] [RUNS] [THREADS]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
shared="${TFPOSE_SHARED:-$root/../shared}"
model="$shared/data/models/openpose-mobilenet-v2-small/graph_opt.pb"
image="${1:-$shared/data/images/p2.jpg}"
rounds="${2:-5}"; runs="${3:-61}"; threads="${4:-1}"
example="$root/artifacts/native/build/examples/pose_image"
dotnet build "$root/native/bench/CsPoseLatency" -c Release --nologo -v:q >/dev/null
cs="$root/native/bench/CsPoseLatency/bin/Release/net10.0/CsPoseLatency"
out="$(mktemp -d)"
for _ in $(seq "$rounds"); do
  "$example" "$model" "$image" --repeat "$runs" --threads "$threads" --quiet --out "$out" | sed 's/^/C  (libtfpose)    : /'
  "$cs" "$model" "$image" "$runs" 432x368 "$threads" | sed 's/^/C# (PoseEstimator): /'
done
rm -rf "$out"
