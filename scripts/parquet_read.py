#!/usr/bin/env python3
"""Read one Parquet file with pyarrow and print its schema and rows as JSON.

The tests use it as a second reader of the lake's Parquet files, independent of the
writer's own crate (arrow-rs) and of DuckDB.

  scripts/parquet_read.py FILE

Output:
  {"columns": [{"name", "arrow", "physical", "logical", "compression", "statistics"}, ...],
   "row_groups": N, "rows": [[value, ...], ...]}
where "arrow" is pyarrow's type (timestamp[us], decimal128(20, 0), ...), "physical" and
"logical" the Parquet column's physical type and logical type as pyarrow names them,
"compression" the codec of the first row group's column chunk and "statistics" whether
that chunk has min/max statistics. Values are in scripts/duckdb_query.py's canonical text
form (a TIME stored as int64 microseconds is the integer).
Errors go to stderr with exit status 1; a missing pyarrow package is exit status 3.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from duckdb_query import canonical  # noqa: E402  (one canonical form for both readers)


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(1)
    try:
        import pyarrow.parquet as pq
    except ImportError:
        print("the pyarrow Python package is missing: run scripts/stack-up.sh", file=sys.stderr)
        sys.exit(3)
    f = pq.ParquetFile(sys.argv[1])
    meta = f.metadata
    arrow = f.schema_arrow
    columns = []
    for i, field in enumerate(arrow):
        column = f.schema.column(i)
        chunk = meta.row_group(0).column(i) if meta.num_row_groups else None
        columns.append(
            {
                "name": field.name,
                "arrow": str(field.type),
                "physical": column.physical_type,
                "logical": str(column.logical_type),
                "compression": chunk.compression if chunk else None,
                "statistics": bool(chunk and chunk.statistics and chunk.statistics.has_min_max),
            }
        )
    table = f.read()
    data = [table.column(i).to_pylist() for i in range(table.num_columns)]
    rows = [[canonical(col[r]) for col in data] for r in range(table.num_rows)]
    json.dump(
        {"columns": columns, "row_groups": meta.num_row_groups, "rows": rows},
        sys.stdout,
        ensure_ascii=False,
    )


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # one line for the test's panic message
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
