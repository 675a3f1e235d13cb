"""gen_research_packages.py --self-test: generate a small set in a temporary directory,
decrypt members and event files with gpg, parse .sql files back with the documented rules
and compare with the truth the generator computed from its model."""

import gzip
import json
import os
import shutil
import subprocess
import tempfile
import zipfile

from rdp_write import Gpg, parse_sql, remove_home


def check(cond, what):
    if not cond:
        raise SystemExit("self-test FAILED: " + what)
    print("ok   " + what)


def member(z, suffix):
    names = [n for n in z.namelist() if n.endswith(suffix) or n.endswith(suffix + ".gpg")]
    assert len(names) == 1, (suffix, names)
    return names[0]


def self_test(parse_args, generate, write_faults):
    tmp = tempfile.mkdtemp(prefix="rdpt-", dir="/tmp")
    home = os.path.join(tmp, "g")
    try:
        out = os.path.join(tmp, "out")
        args = parse_args(["--out", out, "--make-key", "--gnupghome", home, "--mixed", "--days", "3",
                           "--truth", os.path.join(tmp, "truth.json")])
        truth = generate(args)
        gpg = Gpg(home, args.recipient)
        with open(os.path.join(tmp, "truth.json")) as f:
            check(json.load(f)["tables"] == truth["tables"], "truth file written")
        pkgs = [p for p in truth["packages"] if p["org"] == "DelftX"]
        encs = {m["encrypted"] for p in pkgs for m in p["members"]}
        check(encs == {True, False}, "--mixed writes encrypted and plain members")

        # The newest package's EX101x profile file, decrypted and parsed back.
        newest = pkgs[-1]
        with zipfile.ZipFile(os.path.join(out, newest["file"])) as z:
            names = z.namelist()
            top = newest["file"].split("/")[-1][:-4] + "/"
            check(names[0] == top and all(n.startswith(top) for n in names), "zip members sit in {org}-{date}/")
            name = member(z, "DelftX-EX101x-2T2026-auth_userprofile-prod-analytics.sql")
            raw = z.read(name)
            h103 = z.read(member(z, "DelftX-EX103x-3T2026-grades_persistentcoursegrade-prod-analytics.sql"))
            no_sm = [n for n in names if "EX103x" in n and "courseware_studentmodule" in n]
        if name.endswith(".gpg"):
            p = os.path.join(tmp, "m.gpg")
            with open(p, "wb") as f:
                f.write(raw)
            raw = gpg.decrypt(p)
            print("ok   decrypted " + name)
        check(b"\r" in raw, "a raw (unescaped) CR is in the profile file")
        check(b"\\r" in raw and b"\\t" in raw and b"\\\\" in raw and b"\\n" in raw, "escaped CR, tab, backslash, LF present")
        check(b"\x00" not in raw, "NUL stripped")
        header, rows = parse_sql(raw)
        want = {r["user_id"]: r for r in truth["tables"]["auth_userprofile"]["rows"]}
        got = {r[header.index("user_id")]: dict(zip(header, r)) for r in rows}
        check(all(want[u] == got[u] for u in got) and len(got) > 3, "parsed rows equal the truth (%d rows)" % len(got))
        check(got["1001"]["mailing_address"] == "C:\\Users\\me\tcolumn two\nsecond line\\", "backslash/tab/LF/trailing backslash round-trip")
        check(got["1001"]["bio"] == "Line one\rline two after a bare CR", "escaped CR round-trips")
        check('"Old \\"Nick\\" Name"' in got["1001"]["meta"], "JSON meta keeps its quotes")
        if "1002" in got:
            check(got["1002"]["goals"] == "Raw CR legacy\rexport", "raw CR read as data")
        if h103.endswith(b".gpg") or not h103.startswith(b"course_id"):
            p = os.path.join(tmp, "h.gpg")
            with open(p, "wb") as f:
                f.write(h103)
            h103 = gpg.decrypt(p)
        check(h103.count(b"\n") == 1 and h103.startswith(b"course_id\t"), "header-only file for a course without grades")
        check(not no_sm, "no courseware_studentmodule file for a course without rows")

        # Event files: decrypt, gunzip, count.
        ev = truth["events"]["files"]
        check({f["encrypted"] for f in ev} == {True, False}, "event files encrypted and plain")
        total = 0
        for f in ev:
            path = os.path.join(out, f["file"])
            data = gpg.decrypt(path) if f["encrypted"] else open(path, "rb").read()
            lines = gzip.decompress(data).decode().splitlines()
            check(len(lines) == f["lines"], "%s: %d lines" % (f["file"], len(lines)))
            total += len(lines)
            for line in lines:
                json.loads(line)
        check(total == truth["events"]["total"] == sum(truth["events"]["per_day"].values()), "event totals agree")

        # The same seed without encryption gives the same truth (tables, structures, events).
        args2 = parse_args(["--out", os.path.join(tmp, "plain"), "--plain", "--flat", "--days", "3"])
        t2 = generate(args2)
        check(t2["tables"] == truth["tables"] and t2["course_structures"] == truth["course_structures"], "deterministic tables")
        check(t2["events"]["per_day"] == truth["events"]["per_day"], "deterministic events")

        # Fault samples.
        fa = parse_args(["--faults", os.path.join(tmp, "faults"), "--gnupghome", home, "--recipient", args.recipient])
        write_faults(fa)
        fdir = fa.faults
        cases = json.load(open(os.path.join(fdir, "faults.json")))

        def sample(case):
            return os.path.join(fdir, cases[case]["file"])
        for case in ("wrong-key", "truncated-gpg"):
            r = subprocess.run(["gpg", "--batch", "--homedir", home, "--decrypt", sample(case)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            check(r.returncode != 0, "%s: gpg fails (%s)" % (case, r.stderr.decode().strip().splitlines()[-1]))
        try:
            gzip.decompress(open(sample("truncated-gz"), "rb").read())
            check(False, "truncated gz fails")
        except EOFError:
            check(True, "truncated gz fails")
        try:
            parse_sql(open(sample("malformed-row"), "rb").read())
            check(False, "malformed row fails")
        except ValueError as e:
            check(True, "malformed row fails (%s)" % e)
        print("self-test passed")
        return 0
    finally:
        remove_home(home)
        shutil.rmtree(tmp, ignore_errors=True)
