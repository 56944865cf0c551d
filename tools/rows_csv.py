"""Shared by the validation-row generators (tools/bridge_ultra.py, nemo_tables.py, maxtext_rows.py): the CSV text
of a row list, and the write-or---check step each ends with, so the three files are written and compared alike."""
import csv
import io
import sys


def csv_text(header, rows):
    """rows (dicts) as CSV text with `header`, LF line ends"""
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return out.getvalue()


def write_or_check(path, text, check):
    """with check: 0 when the file at path holds text, else 1; without: write it, 0"""
    if check:
        with open(path, encoding="utf-8", newline="") as fh:
            return 0 if fh.read() == text else 1
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    return 0


def main_with_clone(doc, build, path):
    """the `TOOL CLONE [--check]` command line of a generator that reads a git clone"""
    args = [a for a in sys.argv[1:] if a != "--check"]
    if len(args) != 1:
        raise SystemExit(doc.split("\n\n")[1])
    sys.exit(write_or_check(path, build(args[0]), "--check" in sys.argv[1:]))
