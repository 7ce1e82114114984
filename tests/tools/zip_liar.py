"""A ZIP whose directory lies about an entry's size (check_consult).

  zip_liar.py IN OUT ENTRY MB    OUT is IN with ENTRY grown by MB MiB of
                                 spaces, both its headers saying it
                                 unpacks to 4 000 bytes
"""
import struct
import sys
import zipfile

CLAIMED = 4000


def main():
    src, out, entry, mib = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as o:
        for e in z.infolist():
            data = z.read(e)
            if e.filename != entry:
                o.writestr(e, data)
                continue
            info = zipfile.ZipInfo(entry)
            info.compress_type = zipfile.ZIP_DEFLATED
            with o.open(info, "w") as f:
                f.write(data)
                for _ in range(mib):
                    f.write(b" " * (1 << 20))
    b = bytearray(open(out, "rb").read())
    with zipfile.ZipFile(out) as z:
        local = z.getinfo(entry).header_offset
        central = b.find(entry.encode(), z.start_dir) - 46
    assert b[local:local + 4] == b"PK\x03\x04" and b[central:central + 4] == b"PK\x01\x02"
    struct.pack_into("<I", b, local + 22, CLAIMED)
    struct.pack_into("<I", b, central + 24, CLAIMED)
    open(out, "wb").write(b)


if __name__ == "__main__":
    main()
