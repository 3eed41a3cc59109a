#!/usr/bin/env python3
"""Sets the run path (DT_RUNPATH or DT_RPATH) of an ELF64 little-endian file in place.

    set-runpath.py FILE NEW_PATH

The new path is written over the old string in .dynstr, so it must not be longer than the old
one (the bundle replaces the build machine's absolute libtorch folder with `$ORIGIN/lib`, which
is shorter); the rest of the old string is zeroed. No patchelf needed.
"""
import struct
import sys

DT_NULL, DT_STRTAB, DT_RPATH, DT_RUNPATH = 0, 5, 15, 29
PT_LOAD, PT_DYNAMIC = 1, 2


def fail(msg):
    sys.exit(f"set-runpath: {msg}")


def main():
    if len(sys.argv) != 3:
        fail("usage: set-runpath.py FILE NEW_PATH")
    path, new = sys.argv[1], sys.argv[2].encode()
    with open(path, "r+b") as f:
        data = bytearray(f.read())
        if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
            fail(f"{path}: not a little-endian ELF64 file")
        phoff = struct.unpack_from("<Q", data, 0x20)[0]
        phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
        loads, dynamic = [], None
        for i in range(phnum):
            p_type, _, p_offset, p_vaddr, _, p_filesz, _, _ = struct.unpack_from(
                "<IIQQQQQQ", data, phoff + i * phentsize)
            if p_type == PT_LOAD:
                loads.append((p_vaddr, p_offset, p_filesz))
            elif p_type == PT_DYNAMIC:
                dynamic = (p_offset, p_filesz)
        if dynamic is None:
            fail(f"{path}: no dynamic section")

        def file_offset(vaddr):
            for v, o, size in loads:
                if v <= vaddr < v + size:
                    return o + vaddr - v
            fail(f"{path}: address {vaddr:#x} is in no loaded segment")

        strtab, runpaths = None, []
        for off in range(dynamic[0], dynamic[0] + dynamic[1], 16):
            tag, val = struct.unpack_from("<qQ", data, off)
            if tag == DT_NULL:
                break
            if tag == DT_STRTAB:
                strtab = val
            elif tag in (DT_RPATH, DT_RUNPATH):
                runpaths.append(val)
        if strtab is None or not runpaths:
            fail(f"{path}: has no run path to replace")
        base = file_offset(strtab)
        for index in runpaths:
            start = base + index
            end = data.index(b"\0", start)
            if len(new) > end - start:
                fail(f"{path}: new run path longer than the old one "
                     f"({data[start:end].decode(errors='replace')!r})")
            data[start:end] = new + b"\0" * (end - start - len(new))
        f.seek(0)
        f.write(data)


if __name__ == "__main__":
    main()
