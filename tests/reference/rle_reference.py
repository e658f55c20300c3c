#!/usr/bin/env python3
"""Independent reference for the SIIM-ACR run-length encoding, written from the format's
definition (not from ptx's code), for ptx-io's tests.

Definition (challenge's train-rle.csv, "relative" form): whitespace-separated pairs
`start length`; pixels are numbered down each column (column-major) of a width x height image;
the first start is absolute and 0-based, each later start counts from the end of the previous
run; "-1" means no mask. The "absolute" form has 1-based absolute starts.

For every row of the given CSV files it writes one TSV line:
    file  row  image_id  pixels  sha256(row-major uint8 0/1 mask bytes)  relative  absolute
where `relative`/`absolute` are this script's own re-encodings of the decoded row.
"""
import argparse
import csv
import hashlib
import io
import sys

import numpy as np


def decode_relative(text, width, height):
    flat = np.zeros(width * height, dtype=np.uint8)
    text = text.strip()
    if text in ("", "-1"):
        return flat.reshape(width, height).T
    values = [int(t) for t in text.split()]
    assert len(values) % 2 == 0, "odd number of values"
    position = 0
    for start, length in zip(values[0::2], values[1::2]):
        position += start
        assert position + length <= flat.size, "run past the image"
        flat[position:position + length] = 1
        position += length
    # flat is column-major: reshape to (columns, rows) and transpose to (rows, columns).
    return flat.reshape(width, height).T


def encode(mask, absolute):
    flat = mask.T.reshape(-1)  # column-major order
    padded = np.concatenate([[0], flat, [0]])
    changes = np.flatnonzero(padded[1:] != padded[:-1])
    starts, ends = changes[0::2], changes[1::2]
    if len(starts) == 0:
        return "-1"
    out = []
    previous_end = 0
    for s, e in zip(starts, ends):
        shown = s + 1 if absolute else s - previous_end
        out += [str(shown), str(e - s)]
        previous_end = e
    return " ".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--width", type=int, default=1024)
    ap.add_argument("--height", type=int, default=1024)
    ap.add_argument("--out", required=True)
    ap.add_argument("csv", nargs="+")
    args = ap.parse_args()
    lines = []
    for path in args.csv:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8-sig")
        reader = csv.reader(io.StringIO(text))
        header = [h.strip() for h in next(reader)]
        id_col = 0
        rle_col = 1
        for row_number, row in enumerate(reader):
            if not row:
                continue
            image_id, encoded = row[id_col].strip(), row[rle_col].strip()
            mask = decode_relative(encoded, args.width, args.height)
            digest = hashlib.sha256(np.ascontiguousarray(mask).tobytes()).hexdigest()
            name = path.rsplit("/", 1)[-1]
            lines.append("\t".join([name, str(row_number), image_id, str(int(mask.sum())), digest,
                                    encode(mask, False), encode(mask, True)]))
    with open(args.out, "w") as f:
        f.write("file\trow\timage_id\tpixels\tsha256\trelative\tabsolute\n")
        f.write("\n".join(lines) + "\n")
    print(f"rle_reference: {len(lines)} rows -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
