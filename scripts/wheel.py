#!/usr/bin/env python3
"""Writes one wheel from a folder of files (stdlib only; called by scripts/wheel.sh).

    wheel.py OUT_DIR NAME VERSION TAG SRC_DIR [--requires SPEC]... [--extra NAME:SPEC]...
             [--entry-point 'newsmill = newsmill.__main__:main'] [--summary TEXT]

SRC_DIR's tree becomes the wheel's root (its top folders are the installed packages). The
wheel has METADATA (2.1), WHEEL (Root-Is-Purelib false unless the tag ends in -any),
entry_points.txt when asked, and RECORD with sha256 digests. Files keep their executable bit;
timestamps are fixed (SOURCE_DATE_EPOCH, else 1980-01-01), so the same files give the same
wheel. Prints the wheel's path and size.
"""

import argparse
import base64
import hashlib
import os
import sys
import time
import zipfile


def digest(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("out_dir")
    p.add_argument("name")
    p.add_argument("version")
    p.add_argument("tag", help="e.g. py3-none-manylinux_2_34_x86_64")
    p.add_argument("src")
    p.add_argument("--requires", action="append", default=[])
    p.add_argument("--extra", action="append", default=[], help="EXTRA:SPEC")
    p.add_argument("--entry-point", action="append", default=[])
    p.add_argument("--summary", default="")
    p.add_argument("--requires-python", default=">=3.9")
    a = p.parse_args()

    dist = a.name.replace("-", "_")
    info = f"{dist}-{a.version}.dist-info"
    wheel_path = os.path.join(a.out_dir, f"{dist}-{a.version}-{a.tag}.whl")
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "315532800"))
    stamp = time.gmtime(max(epoch, 315532800))[:6]

    meta = [
        "Metadata-Version: 2.1",
        f"Name: {a.name}",
        f"Version: {a.version}",
        f"Summary: {a.summary}",
        f"Requires-Python: {a.requires_python}",
    ]
    meta += [f"Requires-Dist: {r}" for r in a.requires]
    extras = sorted({e.split(":", 1)[0] for e in a.extra})
    meta += [f"Provides-Extra: {e}" for e in extras]
    for e in a.extra:
        name, spec = e.split(":", 1)
        meta.append(f'Requires-Dist: {spec}; extra == "{name}"')
    purelib = "true" if a.tag.endswith("-any") else "false"
    wheel = [
        "Wheel-Version: 1.0",
        "Generator: newsmill scripts/wheel.py",
        f"Root-Is-Purelib: {purelib}",
    ]
    py, abi, plats = a.tag.split("-")
    wheel += [f"Tag: {py}-{abi}-{plat}" for plat in plats.split(".")]

    files = []
    for d, dirs, names in os.walk(a.src):
        dirs[:] = sorted(x for x in dirs if x != "__pycache__")
        for n in sorted(names):
            full = os.path.join(d, n)
            files.append((os.path.relpath(full, a.src).replace(os.sep, "/"), full))

    os.makedirs(a.out_dir, exist_ok=True)
    tmp = wheel_path + ".partial"
    record = []
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:

        def add(arcname: str, data: bytes, mode: int = 0o644) -> None:
            zi = zipfile.ZipInfo(arcname, stamp)
            zi.external_attr = (0o100000 | mode) << 16
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, data, compresslevel=6)
            record.append(f"{arcname},{digest(data)},{len(data)}")

        for arc, full in files:
            with open(full, "rb") as f:
                data = f.read()
            mode = 0o755 if os.stat(full).st_mode & 0o111 else 0o644
            add(arc, data, mode)
        add(f"{info}/METADATA", ("\n".join(meta) + "\n").encode())
        add(f"{info}/WHEEL", ("\n".join(wheel) + "\n").encode())
        if a.entry_point:
            add(
                f"{info}/entry_points.txt",
                ("[console_scripts]\n" + "\n".join(a.entry_point) + "\n").encode(),
            )
        rec = f"{info}/RECORD"
        record.append(f"{rec},,")
        zi = zipfile.ZipInfo(rec, stamp)
        zi.external_attr = (0o100000 | 0o644) << 16
        z.writestr(zi, "\n".join(record) + "\n", zipfile.ZIP_DEFLATED)
    os.replace(tmp, wheel_path)
    size = os.path.getsize(wheel_path)
    print(f"{wheel_path} {size}")


if __name__ == "__main__":
    sys.exit(main())
