"""Verifying a signed package (``.airpkg``) in a fresh process vs the public ``model_signing verify key``.

Content: one random artefact of ``--size-mib`` MiB (1024 by default) and a few small files
(manifest, model card, evidence), signed by an ECDSA P-256 key generated here (held in memory).

* airlock verify: ``python -c`` that imports ``core.promotion``, runs ``read_package`` as
  admission's first two steps do (safe streaming read of every header; files up to 64 MiB kept in
  memory, larger ones hashed through a reused buffer and read again, re-hashed, when they are
  used or stored — that later read is not part of this timing) and
  ``verify_content`` (bundle, signature, statement, every file's digest): process start to exit.
* model_signing verify: ``python -m model_signing verify key content --signature author.sig
  --public_key author.pub`` on the same package extracted once into a folder beforehand
  (the extraction is NOT counted for the peer): process start to exit.
* build: a fresh process that reads the content files into memory (not timed) and then times
  ``sign_content`` + ``write_package`` (fsync included) itself: a partial, in-process timing.

Both sides read from the page cache (the files were just written). Sides alternate (which goes
first alternates too) ``--runs`` times, 3 by default; medians are compared, the ratio first.
Target: airlock's verify as fast as the public verifier or faster; ≥ 1 GB/s of hashing.
Run: .venv/bin/python benchmarks/promotion_bench.py [--size-mib 1024] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from profile_bench import ROOT, Run, fresh_process, median

SMALL = {
    "manifest.json": b'{"model":"bench","version":1}',
    "model_card.md": b"# Model card\n\nBenchmark model.\n",
    "model_card.json": b'{"title":"bench"}',
    "evidence/evidence.json": b"[]",
    "rubric/result.json": b'{"score":7.5}',
}

OURS = """
import time, sys
from pathlib import Path
from core.promotion.admission import keep_in_memory
from core.promotion.archive import read_package
from core.promotion.author import verify_content
t0 = time.perf_counter()
pkg = read_package(Path({pkg!r}), keep=keep_in_memory)  # as admission reads it
t1 = time.perf_counter()
digest = verify_content(pkg.bundle, Path({pub!r}).read_text(), pkg.digests)
t2 = time.perf_counter()
print(f"read_hash={{t1 - t0:.4f}} verify={{t2 - t1:.4f}} bytes={{Path({pkg!r}).stat().st_size}} digest={{digest}}")
"""

BUILD = """
import sys, time, json
from pathlib import Path
from cryptography.hazmat.primitives import serialization
from core.promotion.author import sign_content
from core.promotion.archive import write_package
data = json.loads(sys.stdin.read())
key = serialization.load_pem_private_key(data["key"].encode(), None)
content = Path(data["content"])
files = {{p.relative_to(content).as_posix(): p.read_bytes() for p in sorted(content.rglob("*")) if p.is_file()}}
t0 = time.perf_counter()
bundle = sign_content(files, key)
t1 = time.perf_counter()
write_package(Path(data["out"]), files, bundle)
t2 = time.perf_counter()
print(f"sign={{t1 - t0:.4f}} write={{t2 - t1:.4f}}")
"""


def fields(run: Run) -> dict[str, float]:
    line = run.stdout.strip().splitlines()[-1]
    return {k: float(v) for k, v in (part.split("=") for part in line.split()) if k != "digest"}


def make_content(folder: Path, size_mib: int) -> None:
    import numpy as np

    rng = np.random.default_rng(13)
    (folder / "model").mkdir(parents=True)
    with open(folder / "model" / "pipeline.joblib", "wb") as out:
        for _ in range(size_mib):
            out.write(rng.bytes(1 << 20))
    for name, data in SMALL.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)


def main() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    key = ec.generate_private_key(ec.SECP256R1())
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    ours: list[Run] = []
    peer: list[Run] = []
    builds: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        make_content(tmp / "source" / "content", args.size_mib)
        pkg, pub = tmp / "bench.airpkg", tmp / "author.pub"
        pub.write_text(public_pem)
        for _ in range(args.runs):
            done = subprocess.run(
                [sys.executable, "-c", BUILD.format()], cwd=ROOT, check=True, capture_output=True, text=True,
                input=json.dumps({"key": private_pem, "content": str(tmp / "source" / "content"), "out": str(pkg)}))
            builds.append({k: float(v) for k, v in (p.split("=") for p in done.stdout.split())})
        with tarfile.open(pkg, "r:") as tar:  # extraction for the peer: not timed
            tar.extractall(tmp / "unpacked", filter="data")
        size = pkg.stat().st_size
        peer_argv = [sys.executable, "-m", "model_signing", "verify", "key", str(tmp / "unpacked" / "content"),
                     "--signature", str(tmp / "unpacked" / "author.sig"), "--public_key", str(pub)]
        ours_argv = [sys.executable, "-c", OURS.format(pkg=str(pkg), pub=str(pub))]
        for i in range(args.runs):
            for side in ("airlock", "peer") if i % 2 else ("peer", "airlock"):
                if side == "airlock":
                    ours.append(fresh_process(ours_argv))
                else:
                    peer.append(fresh_process(peer_argv))
            print(f"  run {i + 1}: airlock {ours[-1].seconds:.2f} s, model_signing {peer[-1].seconds:.2f} s",
                  flush=True)
    a_s, p_s = median(ours, "seconds"), median(peer, "seconds")
    a_mb, p_mb = median(ours, "rss_mb"), median(peer, "rss_mb")
    inner = [fields(r) for r in ours]
    read_s = sorted(f["read_hash"] for f in inner)[len(inner) // 2]
    verify_s = sorted(f["verify"] for f in inner)[len(inner) // 2]
    content_bytes = inner[0]["bytes"]
    sign_s = sorted(b["sign"] for b in builds)[len(builds) // 2]
    write_s = sorted(b["write"] for b in builds)[len(builds) // 2]
    print(f"\npackage: {args.size_mib} MiB artefact + {len(SMALL)} small files, {size / 1e6:.0f} MB on disk; "
          f"medians of {args.runs} runs; files in the page cache")
    print(f"END TO END (fresh process to exit): airlock read+verify takes {a_s / p_s:.2f}× model_signing "
          f"verify's time (target ≤ 1×), {a_mb / p_mb:.2f}× its peak memory")
    print(f"  airlock read_package + verify_content (from the .airpkg):   {a_s:6.2f} s   peak RSS {a_mb:6.0f} MB")
    print(f"  model_signing verify key (extracted folder; extraction not counted): {p_s:6.2f} s   "
          f"peak RSS {p_mb:6.0f} MB")
    print(f"  airlock in-process (partial): read + SHA-256 {read_s:.2f} s = {content_bytes / read_s / 1e9:.2f} GB/s "
          f"of hashing (read included); verify_content {verify_s * 1000:.1f} ms")
    print(f"  peer, hashing rate implied end to end: {content_bytes / p_s / 1e9:.2f} GB/s (process start included)")
    print(f"BUILD (in-process, partial: inputs already in memory): sign_content {sign_s:.2f} s "
          f"({content_bytes / sign_s / 1e9:.2f} GB/s), write_package {write_s:.2f} s "
          f"({size / write_s / 1e9:.2f} GB/s, fsync included); total {sign_s + write_s:.2f} s")
    print("(a shared machine: compare medians, rerun when in doubt)")


if __name__ == "__main__":
    main()
