"""Export the UCI optical handwritten digits from scikit-learn's bundled copy to data/digits.csv.gz.

scikit-learn is needed only to run this script, not to take the course:

    python -m pip install scikit-learn
    python scripts/export_digits.py

The output is byte-for-byte reproducible (gzip mtime 0), so its SHA-256 matches the one recorded in
course_utils/data.py and data/README.md.
"""
from __future__ import annotations

import gzip
import hashlib
import io
from pathlib import Path

from sklearn.datasets import load_digits

OUT = Path(__file__).resolve().parents[1] / "data" / "digits.csv.gz"


def main() -> None:
    digits = load_digits()
    text = io.StringIO()
    text.write(",".join([f"p{i}" for i in range(64)] + ["label"]) + "\n")
    for row, label in zip(digits.data.astype(int), digits.target.astype(int)):
        text.write(",".join(str(v) for v in row) + f",{label}\n")
    raw = text.getvalue().encode("ascii")
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as gz:
        gz.write(raw)
    OUT.write_bytes(buffer.getvalue())
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes), {len(digits.target)} images")
    print("sha256", hashlib.sha256(OUT.read_bytes()).hexdigest())


if __name__ == "__main__":
    main()
