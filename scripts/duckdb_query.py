#!/usr/bin/env python3
"""Run one query against an edlake DuckDB catalog file and print the result as JSON.

The tests use it to read the lake through the local catalog's views exactly as a user's
DuckDB session would: the catalog file is executed as it is, then the query.

  scripts/duckdb_query.py CATALOG SQL [--lake ROOT] [--s3-endpoint HOST:PORT]
                          [--extensions DIR] [--time-zone ZONE]

  --lake         SET VARIABLE edlake_lake = ROOT before the catalog runs (another mount,
                 or s3://bucket/root).
  --s3-endpoint  LOAD httpfs (from --extensions when given) and create an S3 secret for
                 an S3-compatible endpoint such as moto: path-style URLs, no TLS, key
                 test/test, region us-east-1.
  --time-zone    the session's TimeZone (DuckDB defaults to the machine's), so a test can
                 prove a view does not depend on it.

Output: {"columns": [[name, DuckDB type], ...], "rows": [[value, ...], ...]} with every
value in one canonical text form, so the Rust side compares strings:
  NULL -> null; BOOLEAN -> "true"/"false"; integers -> decimal; DECIMAL -> exact, with the
  type's scale ("0.0000000000", never "0E-10"); DOUBLE -> repr(float); TIMESTAMP ->
  "YYYY-MM-DD HH:MM:SS.ffffff"; DATE -> "YYYY-MM-DD"; TIME -> "HH:MM:SS.ffffff";
  BLOB -> uppercase hex; STRUCT and LIST -> JSON of their canonical values.
Errors go to stderr with exit status 1; a missing duckdb package is exit status 3.
"""

import argparse
import datetime
import decimal
import json
import sys


def canonical(value):
    """One value as canonical text (None stays None)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, decimal.Decimal):
        # str() switches to exponents ("0E-10"); 'f' keeps every digit of the scale.
        return format(value, "f")
    if isinstance(value, datetime.datetime):
        # isoformat pads the year to 4 digits, strftime('%Y') does not everywhere.
        return value.isoformat(sep=" ", timespec="microseconds")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, datetime.time):
        return value.isoformat(timespec="microseconds")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex().upper()
    if isinstance(value, dict):
        return json.dumps({k: canonical(v) for k, v in value.items()}, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return json.dumps([canonical(v) for v in value], ensure_ascii=False)
    # str, and what Python cannot represent natively (DuckDB hands TIME '24:00:00' over
    # as text).
    return str(value)


def use_s3_endpoint(con, s3_endpoint, extensions=None):
    """httpfs and an S3 secret for an S3-compatible endpoint such as moto (path style, no
    TLS, key test/test)."""
    if extensions:
        con.execute("SET extension_directory = ?", [extensions])
    con.execute("LOAD httpfs")
    endpoint = s3_endpoint.split("://", 1)[-1].rstrip("/")
    con.execute(
        "CREATE SECRET edlake_test_s3 (TYPE s3, KEY_ID 'test', SECRET 'test', "
        f"REGION 'us-east-1', ENDPOINT '{endpoint}', URL_STYLE 'path', USE_SSL false)"
    )


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("catalog")
    p.add_argument("sql")
    p.add_argument("--lake")
    p.add_argument("--s3-endpoint")
    p.add_argument("--extensions")
    p.add_argument("--time-zone")
    args = p.parse_args()
    try:
        import duckdb
    except ImportError:
        print("the duckdb Python package is missing: run scripts/stack-up.sh", file=sys.stderr)
        sys.exit(3)

    con = duckdb.connect(":memory:")
    if args.time_zone:
        con.execute("SET TimeZone = ?", [args.time_zone])
    if args.s3_endpoint:
        use_s3_endpoint(con, args.s3_endpoint, args.extensions)
    if args.lake:
        con.execute("SET VARIABLE edlake_lake = ?", [args.lake])
    with open(args.catalog, encoding="utf-8") as f:
        con.execute(f.read())
    rel = con.sql(args.sql)
    columns = [[name, str(ty)] for name, ty in zip(rel.columns, rel.types)]
    rows = [[canonical(v) for v in row] for row in rel.fetchall()]
    json.dump({"columns": columns, "rows": rows}, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # one line for the test's panic message
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
