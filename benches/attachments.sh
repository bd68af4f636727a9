#!/usr/bin/env bash
# Attachment throughput against the Go `age` CLI (and `rage`, the Rust age CLI, when it is
# on the PATH), measured side by side in one run, and peak memory for a 1 GiB attachment.
# Needs: hyperfine, age (Debian packages), python3; rage optional (cargo install rage).
# Usage: benches/attachments.sh [SIZE_MIB]   (default 256)
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-256}
cargo build --release --quiet
posbon=$PWD/target/release/posbon
work=$PWD/target/bench-attachments
rm -rf "$work" && mkdir -p "$work" && cd "$work"
trap 'cd / && rm -rf "$work"' EXIT

head -c $((size_mib * 1024 * 1024)) /dev/urandom > in.bin
age-keygen -o key.txt 2>/dev/null
recipient=$(age-keygen -y key.txt)
printf 'benchmark passphrase\n' > pass
P="$posbon --vault vault --passphrase-file pass"
$P init --insecure-fast-kdf 2>/dev/null
id=$(echo | $P add draft --title bench)
age -r "$recipient" -o in.age in.bin
$P attach "$id" in.bin --name x 2>/dev/null

# posbon's numbers include unlocking (fast KDF here, to measure the data path), the
# database update and the fsync that makes the attachment durable; age does not fsync.
rage_enc=() rage_dec=()
if command -v rage >/dev/null 2>&1; then
  rage_enc=(-n "rage encrypt" "rage -r $recipient -o out-rage.age in.bin")
  rage_dec=(-n "rage decrypt" "rage -d -i key.txt -o out-rage.bin in.age")
fi
hyperfine --style basic -w 2 -r 10 --export-json enc.json \
  -n "age encrypt" "age -r $recipient -o out.age in.bin" "${rage_enc[@]}" \
  -n "posbon attach" --prepare "$P detach $id y 2>/dev/null || true" "$P attach $id in.bin --name y 2>/dev/null" >/dev/null
hyperfine --style basic -w 2 -r 10 --export-json dec.json \
  -n "age decrypt" "age -d -i key.txt -o out.bin in.age" "${rage_dec[@]}" \
  -n "posbon extract" "$P extract $id x --out out.bin 2>/dev/null" >/dev/null
cmp in.bin out.bin

# Peak resident memory of one attach and one extract of a 1 GiB file.
head -c $((1024 * 1024 * 1024)) /dev/zero > big.bin
peak() {
  python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)' "$@"
}
attach_peak=$(peak $P attach "$id" big.bin --name big)
extract_peak=$(peak $P extract "$id" big --out big.out)
age_peak=$(peak age -r "$recipient" -o big.age big.bin)

python3 - "$size_mib" "$attach_peak" "$extract_peak" "$age_peak" <<'PY'
import json, sys
size, attach_peak, extract_peak, age_peak = sys.argv[1:]
def means(path):
    return {r["command"]: r["mean"] for r in json.load(open(path))["results"]}
enc, dec = means("enc.json"), means("dec.json")
mib = float(size)
print(f"| {size} MiB attachment | Go age | posbon | posbon throughput / age |")
print("| --- | --- | --- | --- |")
print(f"| encrypt (age -e / posbon attach) | {enc['age encrypt']*1000:.0f} ms ({mib/enc['age encrypt']:.0f} MiB/s) "
      f"| {enc['posbon attach']*1000:.0f} ms ({mib/enc['posbon attach']:.0f} MiB/s) | {enc['age encrypt']/enc['posbon attach']:.2f}x |")
print(f"| decrypt (age -d / posbon extract) | {dec['age decrypt']*1000:.0f} ms ({mib/dec['age decrypt']:.0f} MiB/s) "
      f"| {dec['posbon extract']*1000:.0f} ms ({mib/dec['posbon extract']:.0f} MiB/s) | {dec['age decrypt']/dec['posbon extract']:.2f}x |")
if "rage encrypt" in enc:
    print()
    print(f"| {size} MiB, against rage (Rust) | rage | posbon | posbon throughput / rage |")
    print("| --- | --- | --- | --- |")
    print(f"| encrypt | {enc['rage encrypt']*1000:.0f} ms | {enc['posbon attach']*1000:.0f} ms | {enc['rage encrypt']/enc['posbon attach']:.2f}x |")
    print(f"| decrypt | {dec['rage decrypt']*1000:.0f} ms | {dec['posbon extract']*1000:.0f} ms | {dec['rage decrypt']/dec['posbon extract']:.2f}x |")
print()
print("| 1 GiB attachment, peak resident memory | MiB |")
print("| --- | --- |")
print(f"| posbon attach | {attach_peak} |")
print(f"| posbon extract | {extract_peak} |")
print(f"| Go age encrypt (reference) | {age_peak} |")
PY
