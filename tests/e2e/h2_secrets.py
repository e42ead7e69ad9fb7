"""h2_secrets.py - is a secret anywhere in a file, in any encoding HPACK
may have given it?  For tests/e2e/record_http2.sh.

    python h2_secrets.py FILE SECRET...

For each SECRET prints one line "SECRET raw=N huffman=N": N the number of
places it was found as its own bytes (raw=) and as its HPACK Huffman code
(RFC 7541 Appendix B, the table of Python's hpack package, PyPI: software
beyla did not write) at any bit offset of the file (huffman=).  A secret
inside a longer value ("Bearer X", "session=X") is coded as the
concatenation of its octets' codes wherever the value's code puts them, so
a search of the file's bit string at every bit offset finds it however it
was aligned.  Exit status 0 when no secret was found, 1 otherwise.
"""
import sys

from hpack.huffman_constants import REQUEST_CODES, REQUEST_CODES_LENGTH


def huffman_bits(s):
    return "".join(format(REQUEST_CODES[c], "0%db" % REQUEST_CODES_LENGTH[c]) for c in s)


def count(hay, needle):
    n, i = 0, hay.find(needle)
    while i >= 0:
        n += 1
        i = hay.find(needle, i + 1)
    return n


def main():
    data = open(sys.argv[1], "rb").read()
    bits = "".join(format(b, "08b") for b in data)
    found = 0
    for secret in sys.argv[2:]:
        s = secret.encode()
        raw, huff = count(data, s), count(bits, huffman_bits(s))
        print("%s raw=%d huffman=%d" % (secret, raw, huff))
        found += raw + huff
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
