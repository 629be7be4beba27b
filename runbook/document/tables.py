"""Tables: read cells from tokens, then type the ones whose header we recognise."""

from __future__ import annotations

import re
from functools import lru_cache

from markdown_it.token import Token

from runbook.document.blocks import TABLE_ROW
from runbook.document.values import normalise_url, parse_bound, parse_expected_response, plain_text
from runbook.model import Endpoint, Environment, Problem, Table, TableKind, Threshold

_PIPE = re.compile(r"(?<!\\)\|")


def read_table(
    tokens: list[Token], lines: list[str], section: str, problems: list[Problem]
) -> Table:
    """The header and rows of one table block; ragged source rows are reported.

    `tokens` is the block as `runbook.document.blocks` reads it: a `TABLE_ROW` token per row.
    """
    rows = [
        [cell.strip() for cell in token.meta["cells"]]
        for token in tokens
        if token.type == TABLE_ROW
    ]
    header: list[str] = []
    if rows:
        header, rows = rows[0], rows[1:]
    first, end = tokens[0].map or (0, 0)
    for offset, source in enumerate(lines[first:end]):
        inner = source.strip().strip("|")
        # Without a backslash, no pipe is escaped: counting them is enough.
        cell_count = len(_PIPE.split(inner)) if "\\" in inner else inner.count("|") + 1
        if offset != 1 and cell_count != len(header) and source.strip():
            problems.append(
                Problem(
                    first + offset + 1,
                    f"table row has {cell_count} cells, its header has {len(header)}",
                )
            )
            break
    return Table(
        kind=_kind(header),
        header=tuple(header),
        rows=tuple(tuple(row) for row in rows),
        line=first + 1,
        section=section,
    )


@lru_cache(maxsize=1024)
def _label(heading: str) -> str:
    """A column heading as compared: plain lower-case text (headings repeat across tables)."""
    return plain_text(heading).lower()


def _kind(header: list[str]) -> TableKind:
    names = [_label(h) for h in header]
    if {"metric", "warning", "critical"} <= set(names):
        return "thresholds"
    if any(n.startswith("endpoint") for n in names) and any("expect" in n for n in names):
        return "endpoints"
    if any(n.startswith("environment") for n in names) and any(n in ("url", "urls") for n in names):
        return "environments"
    return "generic"


class _Columns:
    """Finds a row's cell by the start of its column's heading (`expect` -> Expected Response)."""

    def __init__(self, table: Table) -> None:
        self.labels = [_label(heading) for heading in table.header]
        self.indexes: dict[str, int | None] = {}

    def cell(self, row: tuple[str, ...], name: str) -> str:
        if name not in self.indexes:
            self.indexes[name] = next(
                (index for index, label in enumerate(self.labels) if label.startswith(name)), None
            )
        index = self.indexes[name]
        return row[index] if index is not None and index < len(row) else ""


def typed_rows(
    tables: list[Table],
) -> tuple[tuple[Threshold, ...], tuple[Endpoint, ...], tuple[Environment, ...]]:
    """Thresholds, endpoints and environments from every recognised table, in order."""
    thresholds: list[Threshold] = []
    endpoints: list[Endpoint] = []
    environments: list[Environment] = []
    for table in tables:
        if table.kind == "generic":
            continue
        columns = _Columns(table)
        for offset, row in enumerate(table.rows):
            line = table.line + 2 + offset
            if table.kind == "thresholds":
                thresholds.append(
                    Threshold(
                        metric=plain_text(columns.cell(row, "metric")),
                        warning=parse_bound(columns.cell(row, "warning")),
                        critical=parse_bound(columns.cell(row, "critical")),
                        action=plain_text(columns.cell(row, "action")),
                        line=line,
                    )
                )
            elif table.kind == "endpoints":
                cell = columns.cell(row, "endpoint")
                path = plain_text(cell).split()[0] if plain_text(cell) else ""
                expected = columns.cell(row, "expect")
                status, body = parse_expected_response(expected)
                endpoints.append(
                    Endpoint(
                        path,
                        plain_text(columns.cell(row, "purpose")),
                        status,
                        body,
                        plain_text(expected),
                        line,
                    )
                )
            elif table.kind == "environments":
                environments.append(
                    Environment(
                        name=plain_text(columns.cell(row, "environment")),
                        purpose=plain_text(columns.cell(row, "purpose")),
                        url=normalise_url(columns.cell(row, "url")),
                        status=plain_text(columns.cell(row, "status")),
                        line=line,
                    )
                )
    return tuple(thresholds), tuple(endpoints), tuple(environments)
