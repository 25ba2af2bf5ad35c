# Inflates the permessage-deflate payloads Duplex sent and deflates the same
# messages back with Python's zlib, the engine Python websockets uses.
# Input: a line "BITS TAKEOVER", then one hex payload per line.
# Output per payload: "PLAIN_HEX ANSWER_HEX".
import sys, zlib

bits, takeover = sys.stdin.readline().split()
bits, takeover = int(bits), takeover == "1"
cbits = max(bits, 9)  # zlib refuses to deflate with an 8-bit raw window
dec = zlib.decompressobj(wbits=-bits)
enc = zlib.compressobj(wbits=-cbits)
for line in sys.stdin:
    payload = bytes.fromhex(line.strip())
    if not takeover:
        dec = zlib.decompressobj(wbits=-bits)
        enc = zlib.compressobj(wbits=-cbits)
    plain = dec.decompress(payload + b"\x00\x00\xff\xff")
    out = enc.compress(plain) + enc.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    print(plain.hex(), out[:-4].hex(), flush=True)
