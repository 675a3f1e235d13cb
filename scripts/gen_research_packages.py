#!/usr/bin/env python3
"""Writes a month of synthetic edX research data packages (weekly database packages and
daily event files) and the truth a correct `edlake import` must produce. Synthetic
learners only; Python 3.11 standard library; gpg through its command line.

    gen_research_packages.py --out DIR --make-key [--truth DIR/truth.json]
    gen_research_packages.py --out DIR --gnupghome H --recipient FPR [--mixed | --plain]
    gen_research_packages.py --out DIR --plain --events-mb 1000 --days 1 --weeks 1
    gen_research_packages.py --faults DIR --gnupghome H --recipient FPR
    gen_research_packages.py --self-test

Deterministic for a given --seed and options (gpg ciphertext differs run to run; the
plaintext does not).

Format facts and where they come from (EXP = openedx-unsupported/edx-analytics-exporter,
PIPE = openedx-unsupported/edx-analytics-pipeline, DOC = openedx/edx-documentation
en_us/data/source/internal_data_formats/):
  * Weekly package `{org}-{date}.zip`, a new one every week, database state at export
    time (DOC package.rst). The zip holds one directory `{org}-{date}/` with the files
    (EXP main.py make_org_directory + archive_directory: `zip -r {dir}.zip {dir}`).
  * Every member is encrypted separately, binary OpenPGP, suffix `.gpg`, to the
    institution's keys and a master key (EXP main.py encrypt_files; DOC package.rst).
  * Database file `{org}-{course}-{run}-{table}-{site}-analytics.sql` (EXP tasks.py
    CourseTask entity `org-course-run` with non-ASCII characters replaced by `_`,
    template `{entity}-{task}-{name}.{ext}`, name = `{site}-analytics`; site `prod` or
    `edge`). DOC package.rst writes `{date}` where the run is.
  * The .sql format (EXP mysql_query.py MysqlDumpQueryToTSV; DOC sql_schema.rst
    "Conventions"): UTF-8; a header row of column names; csv.writer with tab delimiter,
    QUOTE_NONE, lineterminator LF; NULL as the text `NULL` (so a text value 'NULL' cannot
    be told apart: the generator has none); backslash → `\\\\`, CR → `\\r`, tab → `\\t`,
    LF → `\\n`, NUL removed (2023, EXP 87ad53d); values are Python str() of what
    mysql.connector returns: datetimes `YYYY-MM-DD HH:MM:SS[.ffffff]` (microseconds only
    when nonzero: "without trailing zeros"), floats `0.9`/`1.0`, tinyint `0`/`1`.
  * A table with no rows gives a header-only file (the writer always writes the header),
    except courseware_studentmodule, made by another process (PIPE
    export/database_exports.py StudentModulePerCourseTask, columns STUDENT_MODULE_FIELDS),
    which has no file for a course without rows (DOC package.rst).
  * Columns per table: rdp_model.TABLES (each with its source).
  * Course structure `{org}-{course}-{run}-course_structure-{site}-analytics.json` (EXP
    CourseStructureTask → edx-platform dump_course_structure): one JSON object keyed by
    block usage id, each {"category", "children": [ids], "metadata": {...}} (DOC
    course_structure.rst), json.dumps(indent=2, sort_keys=True).
  * Also in the package, not database tables: `{org}-{course}-{run}-{site}.mongo`
    (forums, mongoexport JSON lines; EXP ForumsTask) and
    `{org}-email_opt_in-{site}-analytics.csv` (EXP OrgEmailOptInTask; DOC
    institution_data.rst puts it under `email-opt-in/`).
  * Daily event file `{org}-{site}-events-{date}.log.gz.gpg`, org lower-cased, site
    `edx` or `edge` (not `prod`), in `{org}/{site}/events/{year}/` of the edx-course-data
    bucket (PIPE export/event_exports.py output_path_for_key; DOC package.rst). gzip,
    then gpg, streamed (multi_output_reducer). One tracking-log JSON event per line (the
    input line, stripped). The file's day is the day of the event's `time`, or of
    `context.received_at` for mobile events (get_event_time): such an event can sit in
    the next day's file.
Layout written: by default as the buckets hold them, OUT/course-data/{org}-{date}.zip
and OUT/edx-course-data/{org}/{site}/events/{year}/...; with --flat, all in OUT.
"""

import argparse
import csv
import datetime as dt
import io
import json
import os
import random
import shutil
import sys
import tempfile
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rdp_model import TABLES, World, truth_tables  # noqa: E402
from rdp_write import (Events, Gpg, make_key, remove_home, sql_file, stop_agent,  # noqa: E402
                       temp_home, truncate_copy, write_event_file)


def entity(course):
    """EXP tasks.py _substitute_non_ascii_chars('-'.join((org, course, run)))."""
    name = "-".join((course["org"], course["code"], course["run"]))
    return "".join("_" if ord(c) > 128 else c for c in name)


def encrypted(args, k, i):
    """Whether member i of package k is encrypted: --plain none, --mixed some."""
    if args.plain:
        return False
    if args.mixed:
        return k % 2 == 0 if k < args.weeks - 1 else i % 2 == 0
    return True


def write_packages(args, world, gpg, report):
    snapshots = []
    for k, date in enumerate(world.dates):
        if k:
            world.advance(k)
        for org in args.orgs:
            name = "%s-%s" % (org, date)
            members = []
            for cid in sorted(c for c, v in world.courses.items() if v["org"] == org and k in v["weeks"]):
                course = world.courses[cid]
                rows, blocks = world.export(cid)
                snapshots.append((k, name + ".zip", cid, rows, blocks))
                t, col, idcol, ident = world.raw_cr
                for table in sorted(rows):
                    raw = (col, lambda row, i=TABLES[t].index(idcol): row[i] == ident) if table == t and not args.no_raw_cr else (None, None)
                    data = sql_file(TABLES[table], rows[table], *raw)
                    members.append(("%s-%s-%s-analytics.sql" % (entity(course), table, args.site), data, table, len(rows[table])))
                members.append(("%s-course_structure-%s-analytics.json" % (entity(course), args.site),
                                (json.dumps(blocks, indent=2, sort_keys=True) + "\n").encode(), "course_structure", len(blocks)))
                forum = [{"_id": {"$oid": "%024x" % (world.rng.getrandbits(96))}, "_type": "CommentThread",
                          "course_id": cid, "author_id": str(uid), "body": "Hello \"forum\"\tü"}
                         for (uid, c) in sorted(world.enroll)[:3] if c == cid]
                members.append(("%s-%s.mongo" % (entity(course), args.site),
                                "".join(json.dumps(d) + "\n" for d in forum).encode(), "forum", len(forum)))
            buf = io.StringIO()
            w = csv.writer(buf, lineterminator="\n")
            w.writerow(["user_id", "username", "email", "full_name", "course_id", "is_opted_in_for_email", "preference_set_datetime"])
            for (uid, cid) in sorted(world.enroll):
                if world.courses[cid]["org"] == org and cid in [c for c, v in world.courses.items() if k in v["weeks"]]:
                    u = world.users[uid]
                    w.writerow([uid, u["username"], u["email"], (u["profile"] or {}).get("name", ""), cid, "True", "2025-09-01 10:00:00"])
            # EXP OrgTask: at the top of the directory (DOC institution_data.rst says email-opt-in/).
            members.append(("%s-email_opt_in-%s-analytics.csv" % (org, args.site), buf.getvalue().encode(), "email_opt_in", None))
            report.append(write_zip(args, gpg, k, name, date, org, members))
    return snapshots


def write_zip(args, gpg, k, name, date, org, members):
    out_dir = args.out if args.flat else os.path.join(args.out, "course-data")
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, name + ".zip")
    listed = []
    work = tempfile.mkdtemp(prefix="rdpz-", dir=args.out)
    try:
        with zipfile.ZipFile(path + ".part", "w", zipfile.ZIP_DEFLATED) as z:
            # `zip -r` stores the directory itself as an entry too.
            folder = zipfile.ZipInfo(name + "/", date_time=(date.year, date.month, date.day, 6, 0, 0))
            folder.external_attr = (0o40755 << 16) | 0x10
            z.writestr(folder, b"")
            for i, (member, data, kind, nrows) in enumerate(members):
                enc = encrypted(args, k, i)
                if enc:
                    tmp = os.path.join(work, "m")
                    gpg.encrypt(data, tmp)
                    with open(tmp, "rb") as f:
                        data = f.read()
                    member += ".gpg"
                # A fixed time per package keeps the zip bytes deterministic.
                info = zipfile.ZipInfo("%s/%s" % (name, member), date_time=(date.year, date.month, date.day, 6, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                z.writestr(info, data)
                listed.append({"name": "%s/%s" % (name, member), "kind": kind, "rows": nrows, "encrypted": enc})
        os.replace(path + ".part", path)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"file": os.path.relpath(path, args.out), "org": org, "date": str(date), "members": listed}


def write_events(args, world, gpg):
    files, counts, samples = [], {}, []
    rng = random.Random(args.seed + 1)
    start = dt.date.fromisoformat(args.events_start) if args.events_start else world.dates[0] - dt.timedelta(days=1)
    big_left = args.events_mb * 1_000_000
    for d in range(args.days):
        day = start + dt.timedelta(days=d)
        for org in args.orgs:
            source = Events(world, org, rng)
            enc = not args.plain and not (args.mixed and d % 2 == 1)
            lower = org.lower()
            name = "%s-%s-events-%s.log.gz%s" % (lower, args.event_site, day, ".gpg" if enc else "")
            folder = args.out if args.flat else os.path.join(args.out, "edx-course-data", lower, args.event_site, "events", str(day.year))
            os.makedirs(folder, exist_ok=True)
            path = os.path.join(folder, name)
            late = 2 if d % 5 == 1 else 0
            evs = list(source.day(day, args.events_per_day, late))
            for n, ev in enumerate(evs, start=1):
                if (n == 1 and d < 2) or "received_at" in ev["context"]:
                    samples.append({"file": os.path.relpath(path, args.out), "line": n, "event": ev})
            extra = big_left
            big_left = 0
            noon = dt.datetime.combine(day, dt.time(12))
            filler = (lambda s=source, t=noon: s.make(t + dt.timedelta(microseconds=s.rng.randrange(3_600_000_000))))
            lines, size = write_event_file(path, evs, gpg if enc else None, counts, extra, filler)
            files.append({"file": os.path.relpath(path, args.out), "org": org, "date": str(day),
                          "lines": lines, "bytes_uncompressed": size, "encrypted": enc})
    return {"files": files, "per_day": dict(sorted(counts.items())), "total": sum(counts.values()), "samples": samples}


def generate(args):
    gpg = None
    if not args.plain and not args.make_key and not (args.gnupghome and args.recipient):
        raise SystemExit("encryption needs --gnupghome and --recipient (or --make-key, or --plain)")
    os.makedirs(args.out, exist_ok=True)
    if not args.plain:
        if args.make_key:
            args.gnupghome = args.gnupghome or os.path.join(args.out, "gnupg")
            args.recipient = make_key(args.gnupghome)
            print("made test key %s in %s" % (args.recipient, args.gnupghome))
        gpg = Gpg(args.gnupghome, args.recipient)
    world = World(args.seed, args.weeks, dt.date.fromisoformat(args.start), args.orgs, args.learners)
    packages = []
    snapshots = write_packages(args, world, gpg, packages)
    events = write_events(args, world, gpg)
    tables, structures = truth_tables(snapshots)
    truth = {"generator": {"seed": args.seed, "weeks": args.weeks, "days": args.days, "orgs": args.orgs,
                           "site": args.site, "event_site": args.event_site, "plain": args.plain, "mixed": args.mixed},
             "rules": {"learner_tables": "one row per learner (key), from the newest package holding the learner",
                       "course_tables": "each course's rows from the newest package holding the course",
                       "values": "text as the file holds it after unescaping (NUL stripped), null for NULL",
                       "excluded": "auth_user.password (always '' in the files) is not in the lake",
                       "events.per_day": "event count by the UTC day of the event's time (file day may differ)"},
             "pitfalls": world.pitfalls, "packages": packages, "tables": tables,
             "course_structures": structures, "events": events}
    if args.truth:
        with open(args.truth, "w") as f:
            json.dump(truth, f, indent=1, sort_keys=True, ensure_ascii=False)
    n_members = sum(len(p["members"]) for p in packages)
    print("wrote %d packages (%d members) and %d event files (%d events) in %s" % (
        len(packages), n_members, len(events["files"]), events["total"], args.out))
    return truth


def write_faults(args):
    """Broken samples, one per directory, each with the error an import must name."""
    os.makedirs(args.faults, exist_ok=True)
    gpg = Gpg(args.gnupghome, args.recipient)
    good = "DelftX-EX101x-2T2026-student_courseenrollment-prod-analytics.sql"
    body = b"id\tuser_id\tcourse_id\tcreated\tis_active\tmode\n1\t1000\tcourse-v1:DelftX+EX101x+2T2026\t2026-03-01 10:00:00\t1\taudit\n"
    events = b"".join(b'{"name": "page_close", "event_type": "page_close", "time": "2026-03-31T10:00:0%d+00:00", "event_source": "browser", "event": "{}", "context": {"course_id": "", "org_id": "DelftX"}, "username": "x"}\n' % i for i in range(10)) * 50
    cases = {}

    def place(case, name, data, what):
        # A loose package member sits in its package's folder, {org}-{date}/, as the zip
        # holds it (and as an importer needs it, to know the package's date).
        if ".sql" in name:
            case_dir = os.path.join(case, "DelftX-2026-03-30")
        else:
            case_dir = case
        d = os.path.join(args.faults, case_dir)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
        cases[case] = {"file": os.path.join(case_dir, name), "expect": what}
        return os.path.join(d, name)

    other = temp_home()
    try:
        fpr = make_key(other, "rdpgen other key")
        path = place("wrong-key", good + ".gpg", b"", "not decryptable: encrypted to another key (%s)" % fpr)
        Gpg(other, fpr).encrypt(body, path)
    finally:
        remove_home(other)  # its secret key is gone: nobody can decrypt the sample
    full = place("truncated-gpg", "delftx-edx-events-2026-03-31.log.gz.gpg", b"", "truncated OpenPGP data")
    gpg.encrypt(gzip_bytes(events), full, compress=False)
    truncate_copy(full, full, 0.5)
    place("truncated-gz", "delftx-edx-events-2026-03-31.log.gz", gzip_bytes(events)[:-40], "truncated gzip stream (plain file)")
    place("unknown-table", "DelftX-EX101x-2T2026-no_such_table-prod-analytics.sql", body, "unknown table no_such_table")
    place("malformed-row", good, body + b"2\t1001\tcourse-v1:DelftX+EX101x+2T2026\t1\taudit\n",
          "line 3 has 5 fields, the header 6")
    place("truncated-zip", "DelftX-2026-03-30.zip", zip_bytes("DelftX-2026-03-30/" + good, body)[:-30], "truncated zip archive")
    with open(os.path.join(args.faults, "faults.json"), "w") as f:
        json.dump(cases, f, indent=1, sort_keys=True)
    print("wrote %d fault samples in %s" % (len(cases), args.faults))


def gzip_bytes(data):
    import gzip
    return gzip.compress(data, mtime=0)


def zip_bytes(name, data):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, data)
    return buf.getvalue()


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", help="output directory")
    p.add_argument("--truth", help="write the truth JSON here")
    p.add_argument("--seed", type=int, default=21)
    p.add_argument("--weeks", type=int, default=4, help="weekly packages (default 4)")
    p.add_argument("--start", default="2026-03-02", help="date of the first weekly package")
    p.add_argument("--days", type=int, default=30, help="daily event files per org (default 30)")
    p.add_argument("--events-start", help="first event day (default: the day before --start)")
    p.add_argument("--events-per-day", type=int, default=120)
    p.add_argument("--events-mb", type=int, default=0, help="make the first event file this many MB (uncompressed)")
    p.add_argument("--orgs", default="DelftX,MITx", help="comma-separated; the first has 4 courses, the others 1")
    p.add_argument("--learners", type=int, default=40)
    p.add_argument("--site", default="prod", help="site in database file names (prod, edge)")
    p.add_argument("--event-site", default="edx", help="site in event file names (edx, edge)")
    p.add_argument("--flat", action="store_true", help="all files in --out, no bucket folders")
    p.add_argument("--plain", action="store_true", help="nothing encrypted")
    p.add_argument("--mixed", action="store_true", help="some packages, members and event files plain")
    p.add_argument("--no-raw-cr", action="store_true", help="escape every CR (no legacy unescaped CR)")
    p.add_argument("--gnupghome", help="gpg home directory holding the recipient's public key")
    p.add_argument("--recipient", help="key id or fingerprint to encrypt to")
    p.add_argument("--make-key", action="store_true", help="make a throwaway test key in --gnupghome (default OUT/gnupg)")
    p.add_argument("--faults", help="write broken samples into this directory")
    p.add_argument("--self-test", action="store_true", help="generate a small set in a temp dir and check it")
    args = p.parse_args(argv)
    args.orgs = [o for o in args.orgs.split(",") if o]
    return args


def main(argv):
    args = parse_args(argv)
    if args.self_test:
        from rdp_selftest import self_test
        return self_test(parse_args, generate, write_faults)
    if args.faults and not args.out:
        if args.make_key:
            args.gnupghome = args.gnupghome or os.path.join(args.faults, "gnupg")
            args.recipient = make_key(args.gnupghome)
            print("made test key %s in %s" % (args.recipient, args.gnupghome))
        try:
            write_faults(args)
        finally:
            if args.make_key:
                stop_agent(args.gnupghome)
        return 0
    if not args.out:
        raise SystemExit("--out DIR is required (or --self-test, or --faults DIR)")
    try:
        generate(args)
        if args.faults:
            write_faults(args)
    finally:
        if args.make_key and args.gnupghome:
            stop_agent(args.gnupghome)  # the agent gpg started for the new home; gpg restarts it on demand
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
