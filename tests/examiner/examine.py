#!/usr/bin/python3
"""An independent forensic reader of posbon vaults, written from docs/format.md alone.

It plays the state lab: it gets raw copies of the vault's files (and perhaps a raw image of
the disk) plus every secret the journalist was forced to give up, and tries to get anything
back. It never writes to the vault: the database is read from a private copy.

Needs Debian's python3-cryptography and python3-argon2 (run with /usr/bin/python3).

    examine.py unlock VAULT [--passphrase-file F]... [--recovery-key-file F]...
                            [--id HEX]... [--blob-id HEX]... [--old FILE]...
                            [--scan FILE]... [--marker TEXT]...
        gathers every key the secrets yield, decrypts everything it can, and tries every key
        on every old copy, every row, every copy of an old value in the raw files, and every
        attachment blob it can carve; prints JSON (see `report` below).
    examine.py snapshot VAULT ID OUT
        writes the raw sealed value of record ID (a copy taken before), without any key.
    examine.py shape VAULT
        what a raw copy shows without any secret: files, tables, trees and their row counts,
        and the printable strings (runs of 6 or more) of every file.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import sqlite3
import struct
import sys
import tempfile

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SLOT_KINDS = {1: "passphrase", 2: "recovery", 3: "duress"}
# Every metadata label docs/format.md names. `setting/NAME`: the doc gives "the settings of the
# watcher client, contacts and release" and names `device-keys` and `watchers`; the rest are
# guesses an examiner would make.
LABELS = ["identity", "slots", "decoy-key", "events", "retiring"] + [
    "setting/" + n
    for n in [
        "device-keys",
        "watchers",
        "contacts",
        "instructions",
        "plan",
        "release",
        "releases",
        "bundles",
        "sealing-key",
        "release-key",
        "watcher",
        "client",
        "device",
    ]
]


def hkdf(ikm, salt, info, length):
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def space(key, what):
    return hkdf(key, b"posbon/v1/name", what.encode(), 16).hex()


def meta_name(key, label):
    return hkdf(key, b"posbon/v2/meta-name", label.encode(), 32)[:16]


def open_aead(key, sealed, aad):
    """ChaCha20-Poly1305 `nonce (12) || ciphertext || tag (16)`, or None."""
    if len(key) != 32 or len(sealed) < 28:
        return None
    try:
        return ChaCha20Poly1305(key).decrypt(sealed[:12], sealed[12:], aad)
    except InvalidTag:
        return None


def unpad(plain):
    """`length (u32) || content || zero padding` (records; metadata assumed the same)."""
    if len(plain) >= 4:
        (n,) = struct.unpack(">I", plain[:4])
        if n <= len(plain) - 4:
            return plain[4 : 4 + n]
    return plain


def read(path):
    with open(path, "rb") as f:
        return f.read()


def first_line(path):
    return read(path).decode().split("\n")[0].rstrip("\r")


class Slots:
    def __init__(self, vault):
        raw = read(os.path.join(vault, "keyslots"))
        if raw[:8] != b"POSBONVK" or len(raw) < 10:
            raise SystemExit("not a key-slot file")
        (self.version,) = struct.unpack(">H", raw[8:10])
        if self.version > 2:
            raise SystemExit("made by a newer posbon")
        # Version 1: 758 bytes; version 2: 8192 (random padding before the checksum). The
        # checksum is the last 32 bytes and covers everything before it.
        if len(raw) != {1: 758, 2: 8192}[self.version]:
            raise SystemExit("not a key-slot file")
        self.kdf = raw[10]
        self.memory, self.passes, self.lanes = struct.unpack(">III", raw[12:24])
        if self.memory > 4 * 1024 * 1024 or self.passes > 64 or self.lanes > 16:
            raise SystemExit("unreasonable KDF costs")
        self.salt = raw[24:56]
        self.recipient = raw[56:118].rstrip(b"\0").decode("ascii", "replace")
        self.slots = [raw[118 + 76 * i : 118 + 76 * (i + 1)] for i in range(8)]
        self.checksum_ok = hashlib.sha256(raw[:-32]).digest() == raw[-32:]

    def kek(self, kind, secret):
        if kind == "recovery":
            return hkdf(secret, self.salt, b"posbon/v1/recovery", 32)
        return hash_secret_raw(
            secret,
            self.salt,
            time_cost=self.passes,
            memory_cost=self.memory,
            parallelism=self.lanes,
            hash_len=32,
            type=Type.ID,
            version=0x13,
        )

    def open(self, kek):
        out = []
        for i, slot in enumerate(self.slots):
            plain = open_aead(kek, slot, b"posbon/v1/slot" + bytes([i]))
            if plain is not None:
                out.append((i, plain[0], plain[1:33]))
        return out


def db_rows(vault):
    """Every row of `entry` (and `legacy`), read from a private copy of the database."""
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("vault.db", "vault.db-wal", "vault.db-shm"):
            src = os.path.join(vault, name)
            if os.path.exists(src):
                shutil.copyfile(src, os.path.join(tmp, name))
        con = sqlite3.connect(os.path.join(tmp, "vault.db"))
        try:
            tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            rows = [
                (t, bytes(n), c, bytes(v))
                for t, n, c, v in con.execute("SELECT tree, name, cell, value FROM entry")
            ]
            legacy = []
            if "legacy" in tables:
                legacy = [(t, bytes(n), None, bytes(v)) for t, n, v in con.execute("SELECT tree, name, value FROM legacy")]
            fmt = []
            if "format" in tables:
                fmt = [tuple(r) for r in con.execute("SELECT key, value FROM format")]
        finally:
            con.close()
    return tables, rows, legacy, fmt


def raw_files(vault):
    out = []
    for root, _dirs, files in os.walk(vault):
        for f in sorted(files):
            out.append(os.path.join(root, f))
    return sorted(out)


def cell_aad(cell, tree, name):
    t = tree.encode()
    return b"posbon/v2/cell/" + struct.pack(">QI", cell, len(t)) + t + name


def open_blob(data, key, blob_id_hex, want_size=None):
    """A blob starting at data[0]: the plaintext of its chunks, or None."""
    if data[:8] != b"POSBONAT" or len(data) < 16:
        return None
    (chunk,) = struct.unpack(">I", data[12:16])
    if chunk == 0 or chunk > 1 << 24:
        return None
    gcm = AESGCM(key)
    aad = b"posbon/v1/blob/" + blob_id_hex.encode()
    out = []
    pos, i = 16, 0
    while True:
        full = data[pos : pos + chunk + 16]
        nonce = lambda flag: b"\0\0\0" + struct.pack(">Q", i) + bytes([flag])
        if len(full) == chunk + 16:
            try:
                out.append(gcm.decrypt(nonce(0), full, aad))
                pos, i = pos + chunk + 16, i + 1
                continue
            except InvalidTag:
                pass
        # The last chunk: 0..chunk-1 bytes, the plaintext size (from a record, or given with
        # --size) modulo the chunk size. Without a size only full chunks are tried.
        lengths = [want_size % chunk] if want_size is not None else []
        for n in lengths:
            try:
                out.append(gcm.decrypt(nonce(1), data[pos : pos + n + 16], aad))
                return b"".join(out)
            except InvalidTag:
                continue
        return b"".join(out) if out else None


def unlock(args):
    vault = args.vault
    slots = Slots(vault)
    report = {"checksum_ok": slots.checksum_ok, "recipient": slots.recipient, "views": []}
    markers = [m.encode() for m in args.marker]
    found = []  # every decryption or raw place that yields a marker

    def check(plain, where):
        for m in markers:
            if plain is not None and m in plain:
                found.append({"marker": m.decode(), "where": where})

    # 1. Keys from the secrets: key-encryption keys and view keys.
    secrets = [("passphrase", f) for f in args.passphrase_file] + [
        ("recovery", f) for f in args.recovery_key_file
    ]
    keks, views = [], {}  # views: key bytes -> description
    for kind, path in secrets:
        kek = slots.kek(kind, first_line(path).encode())
        keks.append(kek)
        for index, slot_kind, key in slots.open(kek):
            views.setdefault(key, f"{SLOT_KINDS.get(slot_kind, slot_kind)} slot {index}")
            report["views"].append(
                {"secret": kind, "file": path, "slot": index, "kind": SLOT_KINDS.get(slot_kind, slot_kind)}
            )

    tables, rows, legacy, fmt = db_rows(vault)
    report["tables"] = sorted(tables)
    report["rows"] = len(rows)
    keys_raw = read(os.path.join(vault, "keys"))
    extra_ids = [bytes.fromhex(i) for i in args.id]

    # 2. View keys lead to more view keys (the real view's sealed `decoy-key`), so repeat
    # until nothing new; every cell of `keys` is tried against every (tree, name) pair known.
    entry = {}  # (tree, name) -> (cell, key)
    entry_keys = {}  # key -> description
    records, metas = {}, {}
    tried = set()
    while True:
        before = len(views)
        trees = {}
        for vk in list(views):
            trees["r" + space(vk, "records")] = ("records", vk)
            trees["m" + space(vk, "meta")] = ("meta", vk)
        # Rows of unknown owner are tried with every view key; a deleted record's id and the
        # labels only with the view whose tree they would be in. Each combination once.
        combos = set()
        for t, n, _c, _v in rows:
            for vk in views:
                combos.add((t, n, vk))
        for vk in list(views):
            for i in extra_ids + [meta_name(vk, "records-chaff")]:
                combos.add(("r" + space(vk, "records"), i, vk))
            for label in LABELS + args.label:
                combos.add(("m" + space(vk, "meta"), meta_name(vk, label), vk))
        ciphers = {vk: ChaCha20Poly1305(vk) for vk in views}
        for tree, name, vk in combos - tried:
            tried.add((tree, name, vk))
            ci = ciphers[vk]
            for c in range(len(keys_raw) // 64):
                cell = keys_raw[64 * c : 64 * c + 64]
                try:
                    k = ci.decrypt(cell[:12], cell[12:60], cell_aad(c, tree, name))
                except InvalidTag:
                    continue
                entry[(tree, name)] = (c, k)
                entry_keys.setdefault(k, f"cell {c} of {tree[:1]}-tree {tree[1:9]}.. name {name.hex()}")
        # Open the rows with their entry keys.
        for tree, name, c, value in rows:
            got = entry.get((tree, name))
            if tree in trees and trees[tree][0] == "records":
                if got and got[0] == c:
                    plain = open_aead(got[1], value, b"posbon/v1/record/" + name)
                    if plain is not None:
                        records[name] = (tree, json.loads(unpad(plain)))
            elif tree in trees:
                vk = trees[tree][1]
                for label in LABELS + args.label:
                    if meta_name(vk, label) == name and got and got[0] == c:
                        plain = open_aead(got[1], value, b"posbon/v1/meta/" + label.encode())
                        if plain is not None:
                            metas[(tree, label)] = unpad(plain)
                            if label == "decoy-key":
                                dk = unpad(plain)[:32]
                                if len(dk) == 32:
                                    views.setdefault(dk, f"decoy-key of {views[vk]}")
        if len(views) == before:
            break

    report["view_keys"] = sorted(views.values())
    report["trees"] = [
        {"tree": t, "kind": k, "view": views[vk]} for t, (k, vk) in sorted(trees.items())
    ]
    report["entry_keys"] = len(entry_keys)
    report["records"] = [
        {"id": n.hex(), "tree": t, "record": r} for n, (t, r) in sorted(records.items())
    ]
    report["meta"] = {
        f"{t[:9]}../{label}": (p.decode("utf-8", "replace") if label != "decoy-key" else p.hex())
        for (t, label), p in sorted(metas.items())
    }
    unknown_meta = [
        t for t, n, _c, _v in rows if t in trees and trees[t][0] == "meta" and (t, n) not in {(tt, meta_name(trees[tt][1], l)) for (tt, l) in metas}
    ]
    report["meta_rows_unlabelled"] = len(unknown_meta)
    report["rows_of_no_view"] = sum(1 for t, _n, _c, _v in rows if t not in trees)
    for _n, (_t, r) in records.items():
        check(json.dumps(r, ensure_ascii=False).encode(), "a live record")

    # 3. Every key the secrets yield: KEKs, view keys, entry keys, attachment keys.
    attachment_keys, blob_ids, sizes = {}, set(args.blob_id), set(args.size)
    for n, (_t, r) in records.items():
        for a in r.get("attachments", []):
            attachment_keys[bytes.fromhex(a["key"])] = f"attachment {a['name']} of {n.hex()}"
            blob_ids.add(a["blob"])
            sizes.add(a["size"])
    every = {}
    for k in keks:
        every.setdefault(k, "a key-encryption key")
    for k, d in views.items():
        every.setdefault(k, "view key: " + d)
    for k, d in entry_keys.items():
        every.setdefault(k, "entry key: " + d)
    for k, d in attachment_keys.items():
        every.setdefault(k, d)
    report["keys_gathered"] = len(every)
    ids = {n for _t, n, _c, _v in rows} | set(extra_ids)
    aads = [b"posbon/v1/record/" + i for i in sorted(ids)] + [
        b"posbon/v1/meta/" + l.encode() for l in LABELS + args.label
    ] + [b"posbon/v2/chaff"]
    ciphers = [(ChaCha20Poly1305(k), d) for k, d in every.items()]

    def try_all(sealed, where):
        opened = []
        if len(sealed) < 28:
            return opened
        for ci, d in ciphers:
            for aad in aads:
                try:
                    plain = ci.decrypt(sealed[:12], sealed[12:], aad)
                except InvalidTag:
                    continue
                opened.append({"key": d, "aad": aad[:40].decode("latin-1")})
                check(plain, f"{where} with {d}")
        return opened

    # (a) the copies taken before.
    report["old"] = []
    olds = [(p, read(p)) for p in args.old]
    for path, sealed in olds:
        report["old"].append({"file": path, "opened": try_all(sealed, f"old copy {path}")})
    # (b) every row of vault.db (and legacy) with every key.
    opened_rows = 0
    for tree, name, _c, value in rows + legacy:
        if try_all(value, f"row {tree[:9]}../{name.hex()}"):
            opened_rows += 1
    report["rows_opened_by_some_key"] = opened_rows
    # (c) every place in the raw files where a copy of an old value starts: found by its
    # 12-byte random nonce (any copy of those bytes, whole or cut, starts with it) or ends:
    # its 16-byte tag. Each such window is tried with every key.
    scan = raw_files(vault) + args.scan
    copies = []
    for path in scan:
        data = read(path)
        for m in markers:
            at = data.find(m)
            if at >= 0:
                found.append({"marker": m.decode(), "where": f"plaintext in {path} at {at}"})
        for old_path, sealed in olds:
            for needle, back in ((sealed[:12], 0), (sealed[-16:], len(sealed) - 16)):
                for hit in re.finditer(re.escape(needle), data):
                    start = hit.start() - back
                    if start < 0:
                        continue
                    window = data[start : start + len(sealed)]
                    opened = try_all(window, f"copy in {path} at {start}")
                    copies.append({"file": path, "offset": start, "of": old_path, "intact": window == sealed, "opened": bool(opened)})
    # Whole old copies are counted once (found by nonce and by tag).
    uniq = {(c["file"], c["offset"], c["of"]): c for c in copies}
    report["copies_of_old_values"] = list(uniq.values())

    # 4. Attachment blobs: every "POSBONAT" in the vault's blob files and in the images,
    # tried with every key and every blob id known.
    blobs = []
    gathered_blob_keys = [(k, d) for k, d in every.items()]
    for path in scan:
        data = read(path)
        for hit in re.finditer(b"POSBONAT", data):
            entry_b = {"file": path, "offset": hit.start(), "opened": None}
            piece = data[hit.start() : hit.start() + 16 + 64 * (65536 + 16)]
            for k, d in gathered_blob_keys:
                for bid in sorted(blob_ids):
                    for size in sorted(sizes) or [None]:
                        plain = open_blob(piece, k, bid, size)
                        if plain is not None:
                            entry_b["opened"] = {"key": d, "blob": bid, "bytes": len(plain)}
                            check(plain, f"blob at {path}:{hit.start()} with {d}")
                            break
                    if entry_b["opened"]:
                        break
                if entry_b["opened"]:
                    break
            blobs.append(entry_b)
    report["blobs"] = blobs
    report["found"] = found
    json.dump(report, sys.stdout, indent=1, ensure_ascii=False)
    print()


def snapshot(args):
    _tables, rows, _legacy, _fmt = db_rows(args.vault)
    want = bytes.fromhex(args.id)
    got = [v for _t, n, _c, v in rows if n == want]
    if len(got) != 1:
        raise SystemExit(f"{len(got)} rows named {args.id}")
    with open(args.out, "wb") as f:
        f.write(got[0])


def shape(args):
    vault = args.vault
    tables, rows, legacy, fmt = db_rows(vault)
    hexname = re.compile(r"^[0-9a-f]{32}(\.age|\.tmp)?$")
    files = []
    for root, dirs, fs in os.walk(vault):
        for n in sorted(dirs) + sorted(fs):
            rel = os.path.relpath(os.path.join(root, n), vault)
            rel = "/".join(hexname.sub("<hex>", part) for part in rel.split("/"))
            files.append(rel + ("/" if n in dirs else ""))
    trees = {}
    for t, _n, _c, _v in rows:
        trees[t] = trees.get(t, 0) + 1
    strings = {}
    for path in raw_files(vault):
        runs = re.findall(rb"[\x20-\x7e]{6,}", read(path))
        strings[os.path.relpath(path, vault)] = sorted({r.decode() for r in runs})
    out = {
        "files": sorted(set(files)),
        "tables": sorted(tables),
        "trees": sorted(
            [{"kind": t[:1], "rows": n, "value_lengths": sorted(len(v) for tt, _n, _c, v in rows if tt == t)} for t, n in trees.items()],
            key=lambda x: (x["kind"], x["rows"]),
        ),
        "legacy_rows": len(legacy),
        "format_rows": fmt,
        "keys_bytes": os.path.getsize(os.path.join(vault, "keys")),
        "strings": strings,
    }
    json.dump(out, sys.stdout, indent=1)
    print()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    u = sub.add_parser("unlock")
    u.add_argument("vault")
    u.add_argument("--passphrase-file", action="append", default=[])
    u.add_argument("--recovery-key-file", action="append", default=[])
    u.add_argument("--id", action="append", default=[])
    u.add_argument("--blob-id", action="append", default=[])
    u.add_argument("--label", action="append", default=[])
    u.add_argument("--size", action="append", default=[], type=int)
    u.add_argument("--old", action="append", default=[])
    u.add_argument("--scan", action="append", default=[])
    u.add_argument("--marker", action="append", default=[])
    s = sub.add_parser("snapshot")
    s.add_argument("vault")
    s.add_argument("id")
    s.add_argument("out")
    sh = sub.add_parser("shape")
    sh.add_argument("vault")
    args = p.parse_args()
    {"unlock": unlock, "snapshot": snapshot, "shape": shape}[args.cmd](args)


if __name__ == "__main__":
    main()
