"""The synthetic world behind scripts/gen_research_packages.py: learners, courses and
their state as of each weekly export, and the truth a correct import must produce.

Everything here is plain data (no files, no gpg), so the truth is computed from this
model and never by parsing the generated files back. Column lists and their sources are
in TABLES; the format facts are in gen_research_packages.py's docstring.
"""

import datetime as dt
import hashlib
import json
import random

# Columns of each database file, in file order, with where the order comes from.
# EXP = openedx-unsupported/edx-analytics-exporter exporter/tasks.py (the SELECT that
# writes the file; `SELECT *` tables follow sql_schema.rst's column list);
# PIPE = edx-analytics-pipeline edx/analytics/tasks/export/database_exports.py.
TABLES = {
    # EXP AuthUserTask: password is written as '' and the obsolete forum columns as
    # constants; the alias is avatar_type (sql_schema.rst spells it avatar_typ).
    "auth_user": ["id", "username", "first_name", "last_name", "email", "password",
                  "is_staff", "is_active", "is_superuser", "last_login", "date_joined",
                  "status", "email_key", "avatar_type", "country", "show_country",
                  "date_of_birth", "interesting_tags", "ignored_tags",
                  "email_tag_filter_strategy", "display_tag_filter_strategy",
                  "consecutive_days_visit_count"],
    # EXP AuthUserProfileTask (adds `state`, which sql_schema.rst's sample lacks).
    "auth_userprofile": ["id", "user_id", "name", "language", "location", "meta",
                         "courseware", "gender", "mailing_address", "year_of_birth",
                         "level_of_education", "goals", "country", "city", "bio",
                         "profile_image_uploaded_at", "state"],
    # EXP `SELECT *`; order from sql_schema.rst.
    "student_courseenrollment": ["id", "user_id", "course_id", "created", "is_active", "mode"],
    # EXP `SELECT *`; order from sql_schema.rst.
    "certificates_generatedcertificate": ["id", "user_id", "download_url", "grade",
                                          "course_id", "key", "distinction", "status",
                                          "verify_uuid", "download_uuid", "name",
                                          "created_date", "modified_date", "error_reason",
                                          "mode"],
    # PIPE STUDENT_MODULE_FIELDS (copied in by EXP StudentModuleTask).
    "courseware_studentmodule": ["id", "module_type", "module_id", "student_id", "state",
                                 "grade", "created", "modified", "max_grade", "done",
                                 "course_id"],
    # EXP UserIDMapTask: `hash_id, user_id, username` (sql_schema.rst says `id`, but the
    # query's column is sau.user_id).
    "user_id_map": ["hash_id", "user_id", "username"],
    # EXP `SELECT * ... WHERE course_id = {course}`: the course-specific ids.
    "student_anonymoususerid": ["id", "user_id", "anonymous_user_id", "course_id"],
    # EXP CourseGradesTask (no id, no course_edited_timestamp).
    "grades_persistentcoursegrade": ["course_id", "user_id", "grading_policy_hash",
                                     "percent_grade", "letter_grade", "passed_timestamp",
                                     "created", "modified"],
    # EXP SubsectionGradesTask.
    "grades_persistentsubsectiongrade": ["course_id", "user_id", "usage_key", "earned_all",
                                         "possible_all", "earned_graded", "possible_graded",
                                         "first_attempted", "created", "modified"],
    # EXP CourseRoleTask.
    "student_courseaccessrole": ["org", "course_id", "user_id", "role"],
    # EXP `SELECT *`; order from sql_schema.rst.
    "user_api_usercoursetag": ["user_id", "course_id", "key", "value"],
}
# One row per learner in the lake (the exports repeat them per course).
LEARNER_TABLES = {"auth_user": "id", "auth_userprofile": "user_id", "user_id_map": "user_id"}
# Never in the lake, whatever the file holds.
LAKE_EXCLUDED = {"auth_user": ["password"]}

NAMES = ["Zoë Ångström", "José Núñez", "李小龙", "Łukasz Żółć", "Siobhán O'Brien",
         "Ana María", "Ngozi Okonkwo", "Dmitri Иванов", "Priya Raman", "Jan de Vries",
         "Fatima Zahra", "Kenji 佐藤", "Olga Kovač", "Emma Smith", "Mehmet Öztürk"]


def ts(d):
    """A datetime as mysql.connector + str() print it: microseconds only when nonzero."""
    return str(d)


class World:
    """Learners, courses and everything they did, one snapshot per weekly export."""

    def __init__(self, seed, weeks, start, orgs, learners):
        self.rng = random.Random(seed)
        self.seed = seed
        self.dates = [start + dt.timedelta(days=7 * k) for k in range(weeks)]
        self.orgs = orgs
        self.courses = self._courses(orgs, weeks)
        self.users = {}
        self.enroll = {}      # (user_id, course_id) -> row dict
        self.modules = {}     # (user_id, course_id, module_id) -> row dict
        self.cgrades = {}     # (user_id, course_id) -> row dict
        self.sgrades = {}     # (user_id, course_id, usage_key) -> row dict
        self.certs = {}       # (user_id, course_id) -> row dict
        self.tags = {}        # (user_id, course_id, key) -> value
        self.roles = []       # (org, course_id, user_id, role)
        self.anon = {}        # (user_id, course_id) -> student_anonymoususerid row
        self.ids = {"enroll": 5000, "module": 900000, "cert": 70, "anon": 30000}
        self.pitfalls = {}
        # The one cell written with an unescaped CR, as some older exports hold (MIT's
        # importer met them): (table, column, id column, id).
        self.raw_cr = ("auth_userprofile", "goals", "user_id", 1002)
        self._populate(learners)

    # ---- courses -------------------------------------------------------------------
    def _courses(self, orgs, weeks):
        specs = []
        first = orgs[0]
        # EX100x is only in the first two packages (an old course the export drops);
        # EX103x is new in the third (no studentmodule rows yet, so no file).
        specs.append((first, "EX100x", "1T2025", 0, min(1, weeks - 1)))
        specs.append((first, "EX101x", "2T2026", 0, weeks - 1))
        specs.append((first, "EX102x", "1T2026", 0, weeks - 1))
        specs.append((first, "EX103x", "3T2026", min(2, weeks - 1), weeks - 1))
        for org in orgs[1:]:
            specs.append((org, "6.00x", "1T2026", 0, weeks - 1))
        courses = {}
        for org, code, run, w0, w1 in specs:
            cid = "course-v1:%s+%s+%s" % (org, code, run)
            courses[cid] = {"id": cid, "org": org, "code": code, "run": run,
                            "weeks": range(w0, w1 + 1), "blocks": self._blocks(org, code, run)}
        return courses

    def _hex(self):
        return "%032x" % self.rng.getrandbits(128)

    def _blocks(self, org, code, run):
        """A course outline in dump_course_structure's shape (openedx/edx-platform
        lms/djangoapps/courseware/management/commands/dump_course_structure.py)."""
        base = "block-v1:%s+%s+%s+type@" % (org, code, run)
        root = base + "course+block@course"
        blocks = {root: {"category": "course", "children": [], "metadata": {
            "display_name": "%s: a \"quoted\" course — ünïcode" % code,
            "start": "2026-01-05T00:00:00Z", "end": None,
            "tabs": [{"name": "Course", "type": "courseware"}, {"name": "Progress", "type": "progress"}],
            "discussion_topics": {"General": {"id": "course"}}}}}
        for c in range(2):
            ch = base + "chapter+block@" + self._hex()
            blocks[root]["children"].append(ch)
            blocks[ch] = {"category": "chapter", "children": [],
                          "metadata": {"display_name": "Week %d" % (c + 1), "start": "2026-01-%02dT00:00:00Z" % (5 + 7 * c)}}
            for s in range(2):
                sq = base + "sequential+block@" + self._hex()
                blocks[ch]["children"].append(sq)
                blocks[sq] = {"category": "sequential", "children": [],
                              "metadata": {"display_name": "Lesson %d.%d" % (c + 1, s + 1), "graded": s == 1, "format": "Homework" if s else None}}
                vt = base + "vertical+block@" + self._hex()
                blocks[sq]["children"].append(vt)
                blocks[vt] = {"category": "vertical", "children": [], "metadata": {"display_name": "Unit"}}
                for kind in ("video", "problem", "html"):
                    b = base + kind + "+block@" + self._hex()
                    blocks[vt]["children"].append(b)
                    md = {"display_name": "%s %d.%d" % (kind, c + 1, s + 1)}
                    if kind == "problem":
                        md.update({"weight": 1.0, "max_attempts": None, "markdown": "Pick one:\n[[a, (b), c]]\t\"tab\" \\ end"})
                    blocks[b] = {"category": kind, "children": [], "metadata": md}
        return blocks

    def problems(self, cid):
        return sorted(k for k, v in self.courses[cid]["blocks"].items() if v["category"] == "problem")

    def sequentials(self, cid):
        return sorted(k for k, v in self.courses[cid]["blocks"].items() if v["category"] == "sequential")

    # ---- learners -------------------------------------------------------------------
    def _user(self, uid, name):
        r = self.rng
        joined = dt.datetime(2025, 9, 1, 8, 0, 0) + dt.timedelta(minutes=r.randrange(200000))
        username = "learner_%d" % uid
        self.users[uid] = {
            "id": uid, "username": username, "first_name": "", "last_name": "",
            "email": "%s@example.org" % username, "password": "", "is_staff": 0, "is_active": 1,
            "is_superuser": 0,
            "last_login": None if uid % 7 == 0 else joined + dt.timedelta(days=3, microseconds=r.randrange(1, 999999)),
            "date_joined": joined, "status": "", "email_key": None, "avatar_type": "", "country": "",
            "show_country": 0, "date_of_birth": None, "interesting_tags": "", "ignored_tags": "",
            "email_tag_filter_strategy": 0, "display_tag_filter_strategy": 0,
            "consecutive_days_visit_count": 0,
            "username_at_signup": username,  # events use it: a later retirement rewrites username
            "hash_id": hashlib.md5(("hash%d-%d" % (self.seed, uid)).encode()).hexdigest(),
            "profile": {
                "id": uid + 100000, "user_id": uid, "name": name, "language": "", "location": "",
                "meta": "", "courseware": "course.xml",
                "gender": r.choice(["m", "f", "o", None, ""]),
                "mailing_address": None, "year_of_birth": r.choice([None, 1980 + r.randrange(25)]),
                "level_of_education": r.choice(["b", "m", "p", "hs", None, ""]),
                "goals": r.choice([None, "", "Learn things."]),
                "country": r.choice(["NL", "US", "IN", "NG", "", None]),
                "city": r.choice([None, "", "Delft", "Zürich"]), "bio": None,
                "profile_image_uploaded_at": None, "state": None,
            },
        }

    def _populate(self, n):
        r = self.rng
        for i in range(n):
            self._user(1000 + i, NAMES[i % len(NAMES)] + ("" if i < len(NAMES) else " %d" % i))
        u = self.users
        # Pitfalls in free text (the pitfall names are what docs/research-packages.md lists).
        p = u[1001]["profile"]
        p["bio"] = "Line one\rline two after a bare CR"          # escaped as \r
        p["meta"] = json.dumps({"old_names": [["Old \"Nick\" Name", "Mike's too \"informal\"", "2025-10-18T15:21:41.916389"]],
                                "old_emails": [["old@example.org", "2025-10-18T15:21:41"]]})
        p["mailing_address"] = "C:\\Users\\me\tcolumn two\nsecond line\\"   # backslash, tab, LF, trailing backslash
        p["city"] = "NULL-ish but not NULL"
        u[1002]["profile"]["goals"] = "Raw CR legacy\rexport"               # written unescaped (legacy files)
        u[1002]["profile"]["location"] = "Nul\x00byte"                      # NUL is stripped
        u[1003]["profile"]["goals"] = "\"starts with a quote, has a comma\""
        u[1003]["profile"]["bio"] = "CRLF inside\r\nthe bio"
        self.pitfalls.update({
            "escaped_cr": "auth_userprofile.bio of user 1001", "raw_cr": "auth_userprofile.goals of user 1002 (unescaped CR)",
            "json_quotes": "auth_userprofile.meta of user 1001, courseware_studentmodule.state",
            "backslash_tab": "auth_userprofile.mailing_address of user 1001",
            "nul_stripped": "auth_userprofile.location of user 1002",
            "unicode": "auth_userprofile.name, course display names"})
        # A staff member without a profile (createsuperuser makes none): in auth_user only.
        staff = 900
        self._user(staff, "Staff")
        u[staff].update({"username": "course_staff", "email": "staff@example.org", "is_staff": 1})
        u[staff]["profile"] = None
        self.pitfalls["no_profile"] = "user 900 is in auth_user but not auth_userprofile"

        cids = sorted(self.courses)
        first_org = [c for c in cids if self.courses[c]["org"] == self.orgs[0]]
        old, c101, c102, c103 = (next(c for c in first_org if "+%s+" % k in c) for k in ("EX100x", "EX101x", "EX102x", "EX103x"))
        week0 = dt.datetime.combine(self.dates[0], dt.time(9, 15, 30))
        for i, uid in enumerate(sorted(x for x in u if x >= 1000)):
            if i < 4:
                targets = [old, c101]     # learners in two courses (EX100x leaves the export)
            elif i % 3 == 0:
                targets = [c101, c102]
            else:
                targets = [cids[i % len(cids)]] if cids[i % len(cids)] not in (c103, old) else [c102]
            if i == 12:
                targets = [old]           # only in the course the export drops after week 2
            if i == 5 and len(self.orgs) > 1:
                targets = [c101] + [c for c in cids if self.courses[c]["org"] == self.orgs[1]]  # two orgs
            for cid in targets:
                self.enroll_user(uid, cid, week0 - dt.timedelta(days=20 + i))
        for cid in cids:
            if cid != c103:
                self.enroll_user(staff, cid, week0 - dt.timedelta(days=40), mode="honor")
                self.roles.append((self.courses[cid]["org"], cid, staff, "staff"))
        self.pitfalls["two_courses"] = "users 1000-1003 in %s and %s (both in weeks 1-2)" % (old, c101)
        self.pitfalls["dropped_course"] = "%s is only in weeks 1-2; user 1012 only there (truth: the week-2 rows)" % old
        self.special = {"old": old, "c101": c101, "c102": c102, "c103": c103, "staff": staff}

    def enroll_user(self, uid, cid, when, mode=None):
        r = self.rng
        self.ids["enroll"] += 1
        self.enroll[(uid, cid)] = {"id": self.ids["enroll"], "user_id": uid, "course_id": cid,
                                   "created": when, "is_active": 1,
                                   "mode": mode or r.choice(["audit", "verified", "honor"])}
        self.ids["anon"] += 1
        self.anon[(uid, cid)] = {"id": self.ids["anon"], "user_id": uid, "course_id": cid,
                                 "anonymous_user_id": hashlib.md5(("anon%d%s%d" % (self.seed, cid, uid)).encode()).hexdigest()}
        if uid % 4 == 0:
            self.tags[(uid, cid, "xblock.partition_service.partition_50")] = str(uid % 2)
        if "EX103x" in cid:
            return  # a new course: no activity, no grades yet
        for prob in self.problems(cid)[: 1 + uid % 3]:
            self._answer(uid, cid, prob, when + dt.timedelta(days=1, seconds=uid))
        for seq in self.sequentials(cid)[: 1 + uid % 2]:
            self.ids["module"] += 1
            self.modules[(uid, cid, seq)] = {"id": self.ids["module"], "module_type": "sequential",
                                              "module_id": seq, "student_id": uid,
                                              "state": json.dumps({"position": 1 + uid % 2}), "grade": None,
                                              "created": when, "modified": when, "max_grade": None,
                                              "done": "na", "course_id": cid}
            self.sgrades[(uid, cid, seq)] = {"course_id": cid, "user_id": uid, "usage_key": seq,
                                             "earned_all": float(uid % 3), "possible_all": 3.0,
                                             "earned_graded": float(uid % 3), "possible_graded": 3.0,
                                             "first_attempted": None if uid % 5 == 0 else when,
                                             "created": when, "modified": when}
        pct = round((uid % 10) / 10, 2)
        self.cgrades[(uid, cid)] = {"course_id": cid, "user_id": uid, "grading_policy_hash": "Rw9V1yzMuIzWHvcZfxY5vhYF3/8=",
                                    "percent_grade": pct, "letter_grade": "Pass" if pct >= 0.5 else "",
                                    "passed_timestamp": when + dt.timedelta(days=2) if pct >= 0.5 else None,
                                    "created": when, "modified": when}

    def _answer(self, uid, cid, prob, when):
        self.ids["module"] += 1
        state = {"attempts": 1 + uid % 3, "seed": 1, "done": True,
                 "student_answers": {prob.split("@")[-1] + "_2_1": "choice_%d" % (uid % 3)},
                 "input_state": {}, "last_submission_time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                 "note": "He said \"hi\"\n\tthen left \\ ü"}
        self.modules[(uid, cid, prob)] = {"id": self.ids["module"], "module_type": "problem", "module_id": prob,
                                           "student_id": uid, "state": json.dumps(state, ensure_ascii=uid % 2 == 0),
                                           "grade": float(uid % 2), "created": when,
                                           "modified": when + dt.timedelta(microseconds=123456), "max_grade": 1.0,
                                           "done": "na", "course_id": cid}

    # ---- changes between exports ---------------------------------------------------
    def advance(self, week):
        """Apply what happened between export week-1 and export `week`."""
        r, u, s = self.rng, self.users, self.special
        at = dt.datetime.combine(self.dates[week], dt.time(1, 30))
        if week == 1:
            p = u[1004]["profile"]
            p.update({"name": "Renamed Ålice", "bio": "Edited bio\twith tab", "goals": ""})   # profile edit, None -> ''
            self.pitfalls["profile_edit"] = "user 1004 renamed in week 2"
            g = self.cgrades[(1006, s["c101"])] if (1006, s["c101"]) in self.cgrades else next(v for k, v in self.cgrades.items() if k[1] == s["c101"])
            g.update({"percent_grade": 0.93, "letter_grade": "Pass", "passed_timestamp": at, "modified": at})
            self.pitfalls["grade_change"] = "course grade of user %d in %s changes in week 2" % (g["user_id"], s["c101"])
            self.enroll_user(1007, s["c102"], at)
            self.pitfalls["new_enrollment"] = "user 1007 enrolls in %s in week 2" % s["c102"]
            e = self.enroll[(1008, s["c101"])] if (1008, s["c101"]) in self.enroll else next(v for k, v in self.enroll.items() if k[1] == s["c101"] and k[0] >= 1008)
            e["is_active"] = 0
            self.pitfalls["unenrollment"] = "user %d unenrolls from %s in week 2 (row kept, is_active 0)" % (e["user_id"], s["c101"])
            gone = sorted(k for k in self.modules if k[1] == s["c101"] and self.modules[k]["module_type"] == "problem")[0]
            del self.modules[gone]
            self.pitfalls["deleted_row"] = "courseware_studentmodule row %s deleted in week 2 (reset attempts)" % (gone,)
        if week == 2:
            for uid in (1009, 1010):
                self.enroll_user(uid, s["c103"], at)
            self.pitfalls["new_course"] = "%s appears in week 3: header-only grade files, no studentmodule file" % s["c103"]
            cid = s["c101"]
            b = self.courses[cid]["blocks"]
            vt = next(k for k, v in sorted(b.items()) if v["category"] == "vertical")
            new = "block-v1:%s+type@problem+block@%s" % (cid.split(":", 1)[1], self._hex())
            b[vt]["children"].append(new)
            b[new] = {"category": "problem", "children": [], "metadata": {"display_name": "Added in week 3", "weight": 2.0}}
            self.pitfalls["structure_change"] = "%s gains a problem in week 3" % cid
            for uid in sorted({k[0] for k in self.enroll if k[1] == cid})[:3]:
                if uid >= 1000:
                    self.certs[(uid, cid)] = self._cert(uid, cid, at)
        if week == 3:
            h = hashlib.sha1(b"1011").hexdigest()[:32]
            u[1011].update({"username": "retired__user_" + h, "email": "retired__user_%s@retired.invalid" % h,
                            "is_active": 0, "first_name": "", "last_name": ""})
            u[1011]["profile"].update({"name": "", "bio": None, "goals": None, "mailing_address": None, "city": None})
            self.pitfalls["retired"] = "user 1011 retired in week 4 (username/email rewritten)"
            cert = next(iter(sorted(self.certs)))
            flip = {"downloadable": "notpassing", "notpassing": "downloadable"}
            self.certs[cert].update({"status": flip[self.certs[cert]["status"]], "modified_date": at})
            self.pitfalls["cert_change"] = "certificate of %s changes status in week 4" % (cert,)
        for k in sorted(self.modules):
            if r.random() < 0.1:
                self.modules[k]["modified"] = at + dt.timedelta(seconds=k[0])

    def _cert(self, uid, cid, at):
        self.ids["cert"] += 1
        return {"id": self.ids["cert"], "user_id": uid, "download_url": "", "grade": "0.9",
                "course_id": cid, "key": "", "distinction": 0, "status": "notpassing" if uid % 2 else "downloadable",
                "verify_uuid": hashlib.md5(("v%d%s" % (uid, cid)).encode()).hexdigest(), "download_uuid": "",
                "name": self.users[uid]["profile"]["name"], "created_date": at, "modified_date": at,
                "error_reason": "", "mode": "verified"}

    # ---- one export ----------------------------------------------------------------
    def export(self, cid):
        """The rows of every table for one course as of now, as exporter queries see them.
        A table missing from the result has no file (only courseware_studentmodule, as
        package.rst says: "No file is produced for courses that do not have any records")."""
        learners = sorted({uid for (uid, c) in self.enroll if c == cid})
        course = self.courses[cid]
        out = {
            "auth_user": [self.users[uid] for uid in learners],
            "auth_userprofile": [self.users[uid]["profile"] for uid in learners if self.users[uid]["profile"]],
            "user_id_map": [{"hash_id": self.users[uid]["hash_id"], "user_id": uid, "username": self.users[uid]["username"]} for uid in learners],
            "student_anonymoususerid": [self.anon[(uid, cid)] for uid in learners],
            "student_courseenrollment": sorted((v for (uid, c), v in self.enroll.items() if c == cid), key=lambda v: v["id"]),
            "certificates_generatedcertificate": [self.certs[k] for k in sorted(self.certs) if k[1] == cid],
            "grades_persistentcoursegrade": [self.cgrades[k] for k in sorted(self.cgrades) if k[1] == cid],
            "grades_persistentsubsectiongrade": [self.sgrades[k] for k in sorted(self.sgrades) if k[1] == cid],
            "student_courseaccessrole": [dict(zip(TABLES["student_courseaccessrole"], x)) for x in self.roles if x[1] == cid],
            "user_api_usercoursetag": [{"user_id": k[0], "course_id": k[1], "key": k[2], "value": v} for k, v in sorted(self.tags.items()) if k[1] == cid],
        }
        modules = sorted((v for k, v in self.modules.items() if k[1] == cid), key=lambda v: v["id"])
        if modules:
            out["courseware_studentmodule"] = modules
        rows = {t: [[row[c] for c in TABLES[t]] for row in rs] for t, rs in out.items()}
        return rows, json.loads(json.dumps(course["blocks"]))


def text(v):
    """A model value as the text a correct import reads back (str() as the exporter
    does, NUL stripped), or None for NULL."""
    if v is None:
        return None
    return (ts(v) if isinstance(v, dt.datetime) else str(v)).replace("\x00", "")


def truth_tables(snapshots):
    """snapshots: [(package_index, package_file, course_id, {table: rows}, blocks)] in
    package order. Learner tables: one row per learner, the newest package's. Course
    tables: each course's rows from the newest package that contains the course."""
    tables = {}
    for t, cols in TABLES.items():
        keep = [c for c in cols if c not in LAKE_EXCLUDED.get(t, [])]
        tables[t] = {"columns": keep, "scope": "learner" if t in LEARNER_TABLES else "course",
                     "key": LEARNER_TABLES.get(t), "rows": []}
    newest_course = {}
    learner_rows = {t: {} for t in LEARNER_TABLES}
    for k, pkg, cid, rows, blocks in snapshots:
        newest_course[cid] = (k, pkg, rows, blocks)
        for t, key in LEARNER_TABLES.items():
            i = TABLES[t].index(key)
            for row in rows.get(t, []):
                learner_rows[t][row[i]] = row
    for t in TABLES:
        cols = TABLES[t]
        keep = tables[t]["columns"]
        if t in LEARNER_TABLES:
            src = [learner_rows[t][k] for k in sorted(learner_rows[t])]
        else:
            src = [row for cid in sorted(newest_course) for row in newest_course[cid][2].get(t, [])]
        tables[t]["rows"] = [{c: text(row[cols.index(c)]) for c in keep} for row in src]
    structures = {cid: {"package": v[1], "blocks": v[3]} for cid, v in sorted(newest_course.items())}
    return tables, structures
