"""Markdown tables of a published report beside the same tables of a new run.

Tables pair up by their header row (in order, when several share one); rows by their
first cell where it is unique in both tables, else by position. Every cell holding
numbers is compared; a differing cell shows the new value in bold with the published one
after it::

    >>> pub = parse_tables("| a | x |\\n|---|---:|\\n| r | 0.50 |\\n| s | 1.0x |")
    >>> new = parse_tables("| a | x |\\n|---|---:|\\n| r | 0.50 |\\n| s | 1.2x |")
    >>> lines, tally = side_by_side(pub[0], new[0])
    >>> lines[-1], tally.same, tally.differ
    ('| s | **1.2x** (published 1.0x) |', 1, 1)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

NUMBER = re.compile(r"-?\d+(?:[.,]\d+)*")


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]


@dataclass
class Tally:
    """Numeric cells compared, and the largest relative difference among them."""

    same: int = 0
    differ: int = 0
    missing_rows: int = 0
    largest: float = 0.0
    notes: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        self.same += other.same
        self.differ += other.differ
        self.missing_rows += other.missing_rows
        self.largest = max(self.largest, other.largest)


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def parse_tables(text: str) -> list[Table]:
    """Every pipe table of a Markdown text (header, separator, rows)."""
    tables, block = [], []
    for line in [*text.splitlines(), ""]:
        if line.lstrip().startswith("|"):
            block.append(line)
            continue
        if len(block) >= 2 and set(block[1].replace("|", "").strip()) <= set("-: "):
            tables.append(Table(_cells(block[0]), [_cells(b) for b in block[2:]]))
        block = []
    return tables


def numbers(cell: str) -> list[float]:
    """The numbers of a cell (``0.485 / 0.542``, ``**0.462**``, ``1.39x``, ``1,950``)."""
    return [float(n.replace(",", "")) for n in NUMBER.findall(cell.replace("**", ""))]


def _shape(header: list[str]) -> list[str]:
    return [NUMBER.sub("#", h) for h in header]


def _key(row: list[str]) -> tuple[str, ...]:
    """The cells that name a row: its leading cells that are not plain numbers."""
    key = []
    for cell in row:
        if numbers(cell) and not re.search(r"[A-Za-z]", cell.replace("**", "").rstrip("x%")):
            break
        key.append(cell)
    return tuple(key) or tuple(row[:1])


def _pair_rows(pub: Table, new: Table) -> list[tuple[list[str], list[str] | None]]:
    """By the naming cells where they are unique in both tables; by position when the
    names differ but the tables have as many rows (a relabelled table)."""

    def unique(t: Table) -> dict[tuple[str, ...], list[str]]:
        keys = [_key(r) for r in t.rows]
        return {k: r for k, r in zip(keys, t.rows, strict=True) if keys.count(k) == 1}

    by_key = unique(new)
    pub_keys = [_key(r) for r in pub.rows]
    if not all(k in by_key for k in pub_keys) and len(pub.rows) == len(new.rows):
        return list(zip(pub.rows, new.rows, strict=True))
    return [(row, by_key.get(k)) for row, k in zip(pub.rows, pub_keys, strict=True)]


def _cell(published: str, now: str, tally: Tally) -> str:
    a, b = numbers(published), numbers(now)
    if not a and not b:
        return now
    if a == b:
        tally.same += 1
        return now
    tally.differ += 1
    for x, y in zip(a, b, strict=False):
        if x != y:
            tally.largest = max(tally.largest, abs(y - x) / max(abs(x), 1e-9))
    return f"**{now.replace('**', '')}** (published {published.replace('**', '')})"


def side_by_side(pub: Table, new: Table) -> tuple[list[str], Tally]:
    """The new table in the published layout, differing cells marked; rows of the
    published table that the new run lacks are counted, not shown."""
    tally = Tally()
    lines = ["| " + " | ".join(new.header) + " |", "|---" * len(new.header) + "|"]
    for row, now in _pair_rows(pub, new):
        if now is None:
            tally.missing_rows += 1
            continue
        # The naming cells are how rows pair, not measurements.
        k = len(_key(now))
        cells = [*now[:k], *(_cell(p, n, tally) for p, n in zip(row[k:], now[k:], strict=False))]
        lines.append("| " + " | ".join(cells + now[len(cells):]) + " |")
    return lines, tally


def compare(published: str, new: str) -> tuple[list[str], Tally]:
    """Every published table beside its counterpart in the new report."""
    pending = parse_tables(new)
    out, total = [], Tally()
    for pub in parse_tables(published):
        # Exactly the same header, else the same one up to its numbers ("median of 5").
        match = next((t for t in pending if t.header == pub.header), None) or next(
            (t for t in pending if _shape(t.header) == _shape(pub.header)), None)
        if match is None:
            total.notes.append(f"no table headed `{' | '.join(pub.header)[:70]}` in the new run")
            continue
        pending.remove(match)
        lines, tally = side_by_side(pub, match)
        total.add(tally)
        out += [*lines, ""]
    return out, total
