#!/usr/bin/env bash
# Attachment speed against the limits of the machine and against the age CLIs, measured side
# by side in one run: `dd conv=fsync` of the same bytes (what the disk can do durably) and a
# plain `cp` (what a copy costs), Go `age` and `rage` (when on the PATH). Then peak memory for
# a 1 GiB attachment.
#
# Each round runs every command once (hyperfine -r 1), in an order rotated from round to
# round, so that the load of this shared machine and the swings of its virtual disk fall on
# all of them alike; the tables give medians over the rounds and each command's ratio to its
# reference. Two places: the vault's disk (ext4 under target/, where `attach` and `extract`
# pay for their fsyncs) and tmpfs (/dev/shm, where fsync is free and the data path shows).
# Before each timed run: `sync`, so no command pays for the dirty pages of the one before.
#
# posbon's times include unlocking (the test-only fast KDF), the database update and, on
# disk, everything that makes the result durable; age, rage and cp do not fsync.
#
# Needs: hyperfine, age (Debian packages), python3; rage optional (cargo install rage).
# Usage: benches/attachments.sh [SIZE_MIB [ROUNDS]]   (default 256 MiB, 15 rounds)
# With POSBON_BEFORE=path/to/an/older/posbon, that binary's attach and extract run in the
# same rounds on the same vaults, for a before/after column.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-256}
rounds=${2:-15}
cargo build --release --quiet
posbon=$PWD/target/release/posbon
disk=$PWD/target/bench-attachments
shm=/dev/shm/posbon-bench-attachments-$$
rm -rf "$disk" "$shm" && mkdir -p "$disk" "$shm"
trap 'cd / && rm -rf "$disk" "$shm"' EXIT
head -c $((size_mib * 1024 * 1024)) /dev/urandom > "$disk/in.bin"

# One vault, input and age key per place; attachment "x" is the one extracted.
for place in "$disk" "$shm"; do
  (
    cd "$place"
    [ -f in.bin ] || cp "$disk/in.bin" in.bin
    age-keygen -o key.txt 2>/dev/null
    printf 'benchmark passphrase\n' > pass
    P="$posbon --vault vault --passphrase-file pass"
    $P init --insecure-fast-kdf 2>/dev/null
    echo | $P add draft --title bench > id
    $P attach "$(cat id)" in.bin --name x 2>/dev/null
    age -r "$(age-keygen -y key.txt)" -o in.age in.bin
  )
done

# Command lines for one place: name, prepare, command (hyperfine -N: no shell).
commands() {
  local place=$1
  local P="$posbon --vault $place/vault --passphrase-file $place/pass"
  local id recipient
  id=$(cat "$place/id")
  recipient=$(age-keygen -y "$place/key.txt")
  local clean="sh -c 'rm -f $place/out.*; sync'"
  local detach="sh -c '$P detach $id y 2>/dev/null; sync'"
  cmds=(
    "dd conv=fsync" "$clean" "dd if=$place/in.bin of=$place/out.dd bs=4M conv=fsync status=none"
    "cp" "$clean" "cp $place/in.bin $place/out.cp"
    "posbon attach" "$detach" "$P attach $id $place/in.bin --name y"
    "posbon extract" "$clean" "$P extract $id x --out $place/out.bin"
    "age encrypt" "$clean" "age -r $recipient -o $place/out.age $place/in.bin"
    "age decrypt" "$clean" "age -d -i $place/key.txt -o $place/out.age-d $place/in.age"
  )
  if [ -n "${POSBON_BEFORE:-}" ]; then
    local B="$POSBON_BEFORE --vault $place/vault --passphrase-file $place/pass"
    local detach_before="sh -c '$P detach $id z 2>/dev/null; sync'"
    cmds+=(
      "before attach" "$detach_before" "$B attach $id $place/in.bin --name z"
      "before extract" "$clean" "$B extract $id x --out $place/out.before"
    )
  fi
  if command -v rage >/dev/null 2>&1; then
    cmds+=(
      "rage encrypt" "$clean" "rage -r $recipient -o $place/out.rage $place/in.bin"
      "rage decrypt" "$clean" "rage -d -i $place/key.txt -o $place/out.rage-d $place/in.age"
    )
  fi
}

# Round r runs the commands starting from the (r mod n)-th.
run_round() {
  local place=$1 label=$2 round=$3
  commands "$place"
  local n=$((${#cmds[@]} / 3)) args=()
  for ((k = 0; k < n; k++)); do
    local i=$(((k + round) % n * 3))
    args+=(-n "${cmds[i]}" --prepare "${cmds[i + 1]}" "${cmds[i + 2]}")
  done
  hyperfine -N -r 1 --style none --export-json "$disk/$label-$round.json" "${args[@]}" >/dev/null
}

for ((round = 0; round < rounds; round++)); do
  run_round "$disk" disk "$round"
  run_round "$shm" tmpfs "$round"
done
"$posbon" --vault "$shm/vault" --passphrase-file "$shm/pass" extract "$(cat "$shm/id")" x \
  --out "$shm/check.bin" 2>/dev/null
cmp "$shm/in.bin" "$shm/check.bin"

# Peak resident memory of one attach and one extract of a 1 GiB file (on tmpfs).
head -c $((1024 * 1024 * 1024)) /dev/zero > "$shm/big.bin"
peak() {
  python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)' "$@"
}
P="$posbon --vault $shm/vault --passphrase-file $shm/pass"
attach_peak=$(peak $P attach "$(cat "$shm/id")" "$shm/big.bin" --name big)
extract_peak=$(peak $P extract "$(cat "$shm/id")" big --out "$shm/big.out")
age_peak=$(peak age -r "$(age-keygen -y "$shm/key.txt")" -o "$shm/big.age" "$shm/big.bin")

python3 - "$disk" "$rounds" "$size_mib" "$attach_peak" "$extract_peak" "$age_peak" <<'PY'
import glob, json, statistics, sys
work, rounds, size, attach_peak, extract_peak, age_peak = sys.argv[1:]

def medians(label):
    times = {}
    for path in glob.glob(f"{work}/{label}-*.json"):
        for r in json.load(open(path))["results"]:
            times.setdefault(r["command"], []).extend(r["times"])
    return {name: statistics.median(t) for name, t in times.items()}

disk, tmpfs = medians("disk"), medians("tmpfs")
ms = lambda s: f"{s * 1000:,.0f} ms"
print(f"{size} MiB attachment, median of {rounds} interleaved runs of each command.")
print()
print("| direction | where | reference | posbon | posbon / reference | Go age | rage |")
print("| --- | --- | --- | --- | --- | --- | --- |")
def row(direction, where, t, ref, ours, age, rage):
    print(f"| {direction} | {where} | {ref}: {ms(t[ref])} | {ms(t[ours])} | "
          f"{t[ours] / t[ref]:.2f}x | {ms(t[age])} | {ms(t[rage]) if rage in t else '-'} |")
row("attach (durable)", "disk", disk, "dd conv=fsync", "posbon attach", "age encrypt", "rage encrypt")
row("attach", "tmpfs", tmpfs, "dd conv=fsync", "posbon attach", "age encrypt", "rage encrypt")
row("extract (durable)", "disk", disk, "dd conv=fsync", "posbon extract", "age decrypt", "rage decrypt")
row("extract (durable)", "disk", disk, "cp", "posbon extract", "age decrypt", "rage decrypt")
row("extract", "tmpfs", tmpfs, "cp", "posbon extract", "age decrypt", "rage decrypt")
if "before attach" in disk:
    print()
    print("| command | where | before | now | now / before |")
    print("| --- | --- | --- | --- | --- |")
    for what in ("attach", "extract"):
        for where, t in (("disk", disk), ("tmpfs", tmpfs)):
            b, n = t[f"before {what}"], t[f"posbon {what}"]
            print(f"| {what} | {where} | {ms(b)} | {ms(n)} | {n / b:.2f} |")
print()
print("| 1 GiB attachment, peak resident memory | MiB |")
print("| --- | --- |")
print(f"| posbon attach | {attach_peak} |")
print(f"| posbon extract | {extract_peak} |")
print(f"| Go age encrypt (reference) | {age_peak} |")
PY
