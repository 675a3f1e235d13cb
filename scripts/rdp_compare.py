#!/usr/bin/env python3
"""Compares a lake after `edlake import` with the truth of scripts/gen_research_packages.py.

Reads the lake through its DuckDB catalog's typed views, as an analyst would, and compares
each value with the truth's text read as the view's type (timestamps, numbers, booleans);
prints one line per difference; exit status 1 if any.

  scripts/rdp_compare.py CATALOG TRUTH [--lms courses.edx.org] [--lake ROOT]
                         [--s3-endpoint HOST:PORT] [--extensions DIR]
"""

import argparse
import collections
import datetime
import json
import sys

import duckdb

# The tests' canonical text of a DuckDB value (same folder).
from duckdb_query import canonical, use_s3_endpoint


def as_type(text, duck_type):
    """The truth's text as the view types it."""
    if text is None:
        return None
    t = duck_type.upper()
    if t == "BOOLEAN":
        return "false" if text.strip() in ("0", "") else "true"
    if t == "DOUBLE":
        return repr(float(text))
    if t.startswith("TIMESTAMP"):
        fmt = "%Y-%m-%d %H:%M:%S.%f" if "." in text else "%Y-%m-%d %H:%M:%S"
        return datetime.datetime.strptime(text, fmt).isoformat(sep=" ", timespec="microseconds")
    if t in ("BIGINT", "INTEGER"):
        return str(int(text))
    return text


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("catalog")
    ap.add_argument("truth")
    ap.add_argument("--lms", default="courses.edx.org")
    ap.add_argument("--lake")
    ap.add_argument("--s3-endpoint")
    ap.add_argument("--extensions")
    ap.add_argument("--prefix", default="openedx")
    ap.add_argument("--schema", default="panorama", help="the catalog's database (catalog.database)")
    args = ap.parse_args()
    truth = json.load(open(args.truth))
    con = duckdb.connect()
    if args.s3_endpoint:
        use_s3_endpoint(con, args.s3_endpoint, args.extensions)
    if args.lake:
        con.execute("SET VARIABLE edlake_lake = ?", [args.lake])
    con.execute(open(args.catalog).read())
    problems = []

    def rows_of(view, columns):
        sql = "SELECT {} FROM \"{}\".{} WHERE lms = ?".format(
            ", ".join('"%s"' % c for c in columns), args.schema, view)
        cur = con.execute(sql, [args.lms])
        types = [str(d[1]) for d in cur.description]
        return types, [tuple(canonical(v) for v in row) for row in cur.fetchall()]

    for table, t in sorted(truth["tables"].items()):
        columns = t["columns"]
        types, rows = rows_of(f"{args.prefix}_table_{table}", columns)
        want = collections.Counter(
            tuple(as_type(r.get(c), ty) for c, ty in zip(columns, types)) for r in t["rows"])
        got = collections.Counter(rows)
        if got != want:
            missing = want - got
            extra = got - want
            problems.append(f"{table}: {sum(missing.values())} row(s) missing, {sum(extra.values())} extra; "
                            f"e.g. missing {next(iter(missing), None)} extra {next(iter(extra), None)}")
        else:
            print(f"ok  {table}: {sum(want.values())} rows")
    # Course structures: one row per block of each course, from its newest package.
    got = collections.Counter(
        r[0] for r in con.execute(
            f"SELECT course_id FROM \"{args.schema}\".{args.prefix}_table_course_structures WHERE lms = ?",
            [args.lms]).fetchall())
    want = collections.Counter({c: len(s["blocks"]) for c, s in truth["course_structures"].items()})
    if got != want:
        problems.append(f"course_structures: blocks per course {dict(got)} != {dict(want)}")
    else:
        print(f"ok  course_structures: {sum(want.values())} blocks in {len(want)} courses")
    # Events by the UTC day of their time.
    got = dict(con.execute(
        f"SELECT strftime(CAST(time AS TIMESTAMP), '%Y-%m-%d') AS d, count(*) "
        f"FROM \"{args.schema}\".{args.prefix}_table_tracking_logs WHERE lms = ? GROUP BY d",
        [args.lms]).fetchall())
    want = truth["events"]["per_day"]
    if got != want:
        diff = {d: (got.get(d), want.get(d)) for d in sorted(set(got) | set(want)) if got.get(d) != want.get(d)}
        problems.append(f"tracking_logs: events per day differ (got, want): {diff}")
    else:
        print(f"ok  tracking_logs: {sum(want.values())} events on {len(want)} days")
    for p in problems:
        print("DIFF " + p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
