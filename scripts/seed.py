#!/usr/bin/env python3
"""Fill a MariaDB/MySQL database with a realistic synthetic Open edX data set.

The schema comes from scripts/schema.sql (every table is dropped and created
again). Rows are generated as TSV files in a temporary directory and loaded
with ``LOAD DATA LOCAL INFILE`` through the ``mariadb`` command-line client
(LOAD DATA's default escaping: \\N is NULL; backslash, tab, LF, CR escaped).
courseware_studentmodule is streamed through a named pipe in that directory,
so the server loads it while Python generates it (--keep-tsv DIR writes a
plain file instead and keeps every TSV).
Python standard library only; deterministic for a given --seed, --users and
--courses (--studentmodule-rows only changes courseware_studentmodule).

What the extractor's tests can rely on:
  * course keys: mostly ``course-v1:{org}+{course}+{run}`` with non-ASCII
    orgs/codes and ``:`` ``.`` ``~`` ``-`` inside parts, one legacy
    ``MITx/6.002x/2012_Fall`` key and one CCX ``ccx-v1:edX+DemoX+Demo_Course+ccx@3``;
  * course sizes are skewed: course-v1:edX+DemoX+Demo_Course holds about half
    of courseware_studentmodule (and of enrollments and grades), then a
    Zipf-like tail; four courses have only a handful of rows;
  * courseware_studentmodule.state is Open edX style JSON, NULL for ~3 % of
    rows, with free-text answers holding quotes, commas, backslashes, tabs,
    CR/LF, non-ASCII and emoji (escaped by json.dumps, or raw);
  * auth_user has pbkdf2_sha256 password hashes (never to be exported),
    unicode names with apostrophes, retired users and NULL last_login;
  * auth_userprofile free text holds every awkward value: tabs, CR, LF, CRLF,
    quotes, backslashes, leading/trailing spaces, the strings 'NULL' and '\\N',
    and '' (distinct from NULL);
  * the apps' tables (ORA submissions, completion, enterprise, site configuration,
    openedx-progress) as scripts/seed_apps.py describes; --release sumac creates an
    older release's schema instead (seed_apps.RELEASES lists what it lacks).

Examples:
  scripts/seed.py                                   # defaults: 2000 users, 40 courses, 200k module rows
  scripts/seed.py --studentmodule-rows 1000000 --only-studentmodule
  scripts/seed.py --mysql-url mysql://openedx:openedx@127.0.0.1:3306/openedx
  scripts/seed.py --release sumac                   # Sumac's tables and columns
"""

import argparse
import base64
import datetime as dt
import errno
import fcntl
import hashlib
import json
import os
import queue
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
import urllib.parse

import seed_apps

SCHEMA_SQL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schema.sql")
NULL = "\\N"

# ------------------------------------------------------------------ helpers

def esc(value):
    """A text value as LOAD DATA's default FIELDS/LINES options read it:
    NULL is \\N; backslash, tab, LF, CR and NUL become \\\\ \\t \\n \\r \\0."""
    if value is None:
        return NULL
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    if "\t" in value:
        value = value.replace("\t", "\\t")
    if "\n" in value:
        value = value.replace("\n", "\\n")
    if "\r" in value:
        value = value.replace("\r", "\\r")
    if "\0" in value:
        value = value.replace("\0", "\\0")
    return value


def num(value):
    """A number (or None) for a TSV field."""
    if value is None:
        return NULL
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


_EPOCH = dt.datetime(1970, 1, 1)
_DAY0 = dt.date(2010, 1, 1)
_DAY0_N = (_DAY0 - _EPOCH.date()).days
_DAYS = [(_DAY0 + dt.timedelta(days=d)).isoformat() for d in range(366 * 20)]
_HMS = ["%02d:%02d:%02d" % (s // 3600, s // 60 % 60, s % 60) for s in range(86400)]
DAY_US = 86_400_000_000


def us(y, m, d, hh=0, mm=0, ss=0):
    """Microseconds since the epoch of a naive UTC datetime."""
    return int((dt.datetime(y, m, d, hh, mm, ss) - _EPOCH).total_seconds()) * 1_000_000


def ts(t):
    """datetime(6) text of microseconds since the epoch."""
    d, r = divmod(t, DAY_US)
    s, f = divmod(r, 1_000_000)
    return "%s %s.%06d" % (_DAYS[d - _DAY0_N], _HMS[s], f)


def tsn(t):
    return NULL if t is None else ts(t)


def iso_z(t):
    """'2024-03-05T14:02:11Z' as capa writes last_submission_time."""
    d, r = divmod(t, DAY_US)
    return "%sT%sZ" % (_DAYS[d - _DAY0_N], _HMS[r // 1_000_000])


def iso_utc(t):
    d, r = divmod(t, DAY_US)
    s, f = divmod(r, 1_000_000)
    return "%sT%s.%06d+00:00" % (_DAYS[d - _DAY0_N], _HMS[s], f)


START = us(2023, 1, 1)
END = us(2026, 11, 15)  # fixed, so runs are reproducible


def hexid(rng, bits=128):
    return "%0*x" % (bits // 4, rng.getrandbits(bits))


def b64hash(text):
    return base64.b64encode(hashlib.sha1(text.encode()).digest()).decode()


_TRANSLIT = str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ß": "ss", "æ": "ae", "đ": "d", "ı": "i"})


def ascii_slug(text):
    text = unicodedata.normalize("NFKD", text.translate(_TRANSLIT)).encode("ascii", "ignore").decode()
    return "".join(ch for ch in text.lower() if ch.isalnum() or ch in "._-").strip("._-")


def fold(text):
    """Case- and accent-insensitive form, as utf8mb4_unicode_ci compares."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


# --------------------------------------------------------------- text pools

# Free text that every CSV/TSV writer gets wrong somewhere.
AWKWARD = [
    'He said "hello", then left.',
    "O'Brien's flat, 3rd floor",
    "C:\\Users\\josé\\Documents\\notes.txt",
    "literal backslash-t: \\t and backslash-n: \\n",
    "tab\tseparated\tvalues",
    "line one\nline two\nline three",
    "windows line\r\nending",
    "old mac\rline ending",
    "  leading and trailing spaces  ",
    "NULL",
    "\\N",
    "",
    "中文地址：北京市海淀区中关村大街 1 号",
    "emoji 🎓📚 ok 👍🏽",
    'comma, separated, "quoted, text"',
    "ends with a backslash \\",
    "\\\\fileserver\\share\\",
    '"',
    ",",
    "semi;colon|pipe^caret~tilde",
    "Ünïcödé façade — naïve café, résumé",
    '=HYPERLINK("http://example.com","click")',
    "right-to-left: مرحبا بالعالم",
    "e + combining acute: e\u0301",
    "mixed\tall\\of\"them\",\r\ntogether 🚀",
    "Calle de Alcalá, 42\n28014 Madrid\nEspaña",
    "123 Main St.\r\nApt 4\r\nCambridge, MA 02139",
    "x" * 300,
]

ANSWERS = [
    'The answer is "42", obviously.',
    "I'd say it's O'Brien's law",
    "C:\\Program Files\\edX\\answer.txt",
    "x = a\\tb (a literal backslash-t)",
    "first line\nsecond line\nthird line",
    "col1\tcol2\tcol3",
    "windows\r\nnewline",
    "café crème, naïve résumé",
    "光合作用需要阳光和水",
    "emoji 🎉🚀 answer",
    "  spaces around  ",
    ", , ,",
    "\\N",
    "NULL",
    "",
    'a "quoted, comma" \\ backslash \t tab\nnewline — all together ✓',
    '<script>alert("xss")</script>',
    "Ω≈ç√∫˜µ≤≥÷",
    "مرحبا",
    "Photosynthesis converts light energy into chemical energy.\n\n"
    "Steps:\n\t1. light reactions\n\t2. Calvin cycle\n\nSee: \"Biology\", ch. 8.",
]

FIRST_NAMES = [
    "José", "María", "Zoë", "François", "Siobhán", "Łukasz", "Ngozi", "Aarav", "Mei",
    "Yuki", "Olga", "Ahmed", "Fatima", "John", "Emily", "Chloé", "Björn", "Ana",
    "Lucía", "Mateo", "Priya", "Sven", "Ömer", "Kwame", "Aïcha", "Jean-Luc", "Seán",
    "Søren", "Inés", "Raúl", "Anne-Marie", "Wei", "Hana", "Carlos", "Laura", "Pedro",
    "Sarah", "Michael", "David", "Ji-woo", "Dmitri", "Thandiwe", "Noémie", "Joaquín",
]
LAST_NAMES = [
    "O'Brien", "García", "Müller", "Núñez", "D'Angelo", "Smith", "Nguyen", "Kowalski",
    "Dubois", "Ivanov", "Öztürk", "van der Berg", "Okafor", "Tanaka", "Rossi", "Silva",
    "Johansson", "MacDonald", "Ó Súilleabháin", "Martínez", "Fernández", "Schröder",
    "Jones", "Brown", "Kim", "Park", "Singh", "Patel", "Hernández", "Pérez", "Lefèvre",
    "Ferreira", "Nowak", "Andersen", "Mbeki", "Al-Farsi", "Çelik", "Wójcik", "Żukowski",
]
CJK_NAMES = [("李", "雷"), ("韩", "梅梅"), ("王", "芳"), ("张", "伟"), ("佐藤", "花子"), ("김", "민준")]
DOMAINS = ["example.com", "gmail.com", "yahoo.es", "mit.edu", "upv.es", "qq.com",
           "outlook.com", "example.org", "universidad.example", "correo.example"]
COUNTRIES = ["US", "US", "US", "IN", "ES", "ES", "MX", "BR", "CN", "FR", "DE", "GB", "NG",
             "CO", "AR", "EG", "JP", "KR", "PK", "CA", "IE", "PL", "TR", "ZA", "VN"]
US_STATES = ["MA", "CA", "NY", "TX", "WA", "IL", "FL"]
EDUCATION = ["p", "m", "b", "a", "hs", "jhs", "el", "none", "other", "p_se", "p_oth"]
LANGS = ["", "", "", "", "English", "español", "Français", "中文", "en", "es"]

ORGS = ["edX", "MITx", "HarvardX", "UPValenciaX", "UnivCafé", "DelftX", "UC3Mx",
        "TsinghuaX", "ETHx", "Universitat_Politècnica", "IBM", "Open-Learning.Org"]
CODES = ["CS50x", "6.00.1x", "PH125.1x", "Data-Sci_101", "IA101x", "FIS.1x", "BIO-201",
         "Écon101", "Math~Prep", "ES.Lang_2", "AI-ML.01", "Música101", "Chem.2x",
         "Hist-EU", "Stat:110", "Física_I", "ML4All", "Py101", "Ethics-AI", "OR.2x"]
RUNS = ["2024_T1", "3T2025", "Run:1", "1T2023", "2T2024", "2025", "Self_Paced",
        "2026-01", "Fall.2023", "1T2026", "Q3~2025", "2T2023", "R2:2025"]

COURSE_TITLES = [
    "Introduction to Computer Science", 'Data Science: "R" Basics', "Inteligencia Artificial, nivel 1",
    "Física I — Mecánica", "Barista 101: l'art du café", "Circuits & Electronics",
    "Machine Learning for Everyone", "Économie du développement", "Statistics 110: Probability",
    "Música y tecnología", "中文入门", "Ethics of AI\tand Society", "Chemistry, Part 2",
]

# Open edX block types in courseware_studentmodule, by share of rows.
BLOCK_MIX = [
    ("problem", 0.46), ("video", 0.17), ("sequential", 0.14), ("html", 0.07),
    ("chapter", 0.05), ("drag-and-drop-v2", 0.05), ("openassessment", 0.04),
    ("library_content", 0.02),
]
ENROLL_MODES = [("audit", 50), ("verified", 25), ("honor", 12), ("professional", 3),
                ("no-id-professional", 3), ("masters", 3), ("credit", 2),
                ("executive-education", 2)]


def weighted(rng, pairs):
    total = sum(w for _, w in pairs)
    x = rng.random() * total
    for value, w in pairs:
        x -= w
        if x < 0:
            return value
    return pairs[-1][0]


# ------------------------------------------------------------------- world

class Course:
    __slots__ = ("idx", "key", "kind", "org", "code", "run", "start", "end", "hi",
                 "tiny", "weight", "passing", "cutoffs", "published", "draft",
                 "objectid", "edited", "policy_hash", "title", "self_paced", "_blocks",
                 "_block_rng", "base_blocks")

    def __init__(self, idx, key, kind, org, code, run):
        self.idx, self.key, self.kind, self.org, self.code, self.run = idx, key, kind, org, code, run
        self._blocks = None

    # Blocks are generated from a per-course stream, so the first N blocks are
    # the same whatever the total (--only-studentmodule with a bigger table
    # still matches the subsection grades already loaded).
    def blocks(self, n):
        if self._blocks is None:
            self._blocks = [("course", "course" if self.kind != "legacy" else self.run)]
        rng = self._block_rng
        while len(self._blocks) < n:
            btype = weighted(rng, BLOCK_MIX)
            if self.kind == "legacy" and rng.random() < 0.5:
                bid = "%s_%d" % (rng.choice(["Sample_Problem", "Week_Intro", "Lecture", "HW", "Lab"]),
                                 len(self._blocks))
            else:
                bid = hexid(rng)
            self._blocks.append((btype, bid))
        return self._blocks[:n]

    def usage_key(self, btype, bid):
        if self.kind == "legacy":
            return "i4x://%s/%s/%s/%s" % (self.org, self.code, btype, bid)
        if self.kind == "ccx":
            return "ccx-block-v1:%s+%s+%s+ccx@3+type@%s+block@%s" % (self.org, self.code, self.run, btype, bid)
        return "block-v1:%s+%s+%s+type@%s+block@%s" % (self.org, self.code, self.run, btype, bid)


class World:
    """Users, courses and enrollments: everything the other tables hang on."""

    def __init__(self, seed, n_users, n_courses):
        self.seed = seed
        self.make_users(random.Random("%s:users" % seed), n_users)
        self.make_courses(random.Random("%s:courses" % seed), n_courses)
        self.make_enrollments(random.Random("%s:enrollments" % seed))

    # ---- users
    def make_users(self, rng, n):
        self.n_users = n
        self.users = []  # dicts; index = id - 1
        for uid in range(1, n + 1):
            u = {"id": uid}
            r = rng.random()
            if uid <= 4:
                first, last = [("Ada", "Admin"), ("Staff", "Member"), ("María José", "Núñez"), ("Seán", "O'Brien")][uid - 1]
                username = ["edx", "staff", "maria_staff", "sean.obrien"][uid - 1]
                u.update(staff=True, superuser=(uid == 1))
            else:
                u.update(staff=False, superuser=False)
                if r < 0.08:
                    last, first = rng.choice(CJK_NAMES)
                else:
                    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                if rng.random() < 0.05:
                    base = (first + last).replace(" ", "").replace("'", "")  # unicode username
                else:
                    base = ascii_slug(first) + rng.choice(["", ".", "_", "-"]) + ascii_slug(last).replace("'", "")
                    base = base.strip("._-") or "learner"
                username = "%s%d" % (base.rstrip("0123456789"), uid)
            u["first_name"], u["last_name"] = first, last
            u["username"] = username
            local = ascii_slug(first + "." + last.replace("'", "")) or "learner"
            if "'" in last and rng.random() < 0.3:
                local = ascii_slug(first) + "." + last.lower().replace(" ", "")  # o'brien in the local part
            email = "%s%d@%s" % (local, uid, rng.choice(DOMAINS))
            if rng.random() < 0.05:  # mixed case is kept as typed
                local_part, domain = email.split("@")
                email = local_part.capitalize() + "@" + domain.upper()
            u["email"] = email
            # joined: a few early adopters (legacy course), the rest recent.
            if rng.random() < 0.04:
                u["joined"] = us(2012, 9, 1) + int(rng.random() * (us(2014, 12, 31) - us(2012, 9, 1)))
            else:
                u["joined"] = us(2021, 1, 1) + int(rng.random() * (us(2026, 10, 31) - us(2021, 1, 1)))
            if uid <= 4:
                u["joined"] = us(2021, 1, 4, 9, 30) + uid * 1_000_123
            u["retired"] = uid > 4 and rng.random() < 0.015
            u["active"] = not u["retired"] and rng.random() > 0.05
            u["last_login"] = None if rng.random() < 0.15 else min(END, u["joined"] + int(rng.random() * 400 * DAY_US))
            if u["retired"]:
                h = hashlib.sha1(("retired%d%s" % (uid, seed_salt(rng))).encode()).hexdigest()
                u["username"] = "retired__user_" + h
                u["email"] = "retired__user_%s@retired.invalid" % h
                u["first_name"] = u["last_name"] = ""
            u["name"] = "" if u["retired"] else profile_name(rng, first, last)
            self.users.append(u)
        self.staff_ids = [1, 2, 3, 4][: min(4, n)]

    # ---- courses
    def make_courses(self, rng, n):
        specials = [
            ("course-v1", "edX", "DemoX", "Demo_Course"),
            ("legacy", "MITx", "6.002x", "2012_Fall"),
            ("ccx", "edX", "DemoX", "Demo_Course"),
            ("course-v1", "UnivCafé", "Barista101", "Run:1"),
            ("course-v1", "UPValenciaX", "IA101x", "3T2025"),
            ("course-v1", "MITx", "6.00.1x", "2024_T1"),
            ("course-v1", "HarvardX", "CS50x", "2024_T1"),
        ]
        seen = set()
        courses = []
        for kind, org, code, run in specials[:n]:
            courses.append(self._course(len(courses), kind, org, code, run))
            seen.add(fold(courses[-1].key))
        tries = 0
        while len(courses) < n:
            tries += 1
            org, code, run = rng.choice(ORGS), rng.choice(CODES), rng.choice(RUNS)
            if tries > 5000:  # very many courses: make codes unique
                code = "%s%d" % (code, tries)
            key = "course-v1:%s+%s+%s" % (org, code, run)
            if fold(key) in seen:
                continue
            seen.add(fold(key))
            courses.append(self._course(len(courses), "course-v1", org, code, run))
        self.courses = courses

        # Size skew: the demo course gets half, a Zipf tail shares the rest,
        # the legacy course, the CCX and the last two courses are tiny.
        tiny = {c.idx for c in courses if c.kind in ("legacy", "ccx")}
        regular = [c for c in courses if c.kind == "course-v1"]
        if len(regular) > 8:
            tiny.update(c.idx for c in regular[-2:])
        tail = [c for c in courses[1:] if c.idx not in tiny]
        ranks = list(range(1, len(tail) + 1))
        rng.shuffle(ranks)
        zipf = [1.0 / r ** 1.4 for r in ranks]
        zsum = sum(zipf) or 1.0
        for c in courses:
            c.tiny = c.idx in tiny
            c.weight = 0.0
        courses[0].weight = 0.5 if tail else 1.0
        for c, z in zip(tail, zipf):
            c.weight = 0.5 * z / zsum

        for c in courses:
            crng = random.Random("%s:course:%s" % (self.seed, c.key))
            c._block_rng = random.Random("%s:blocks:%s" % (self.seed, c.key))
            if c.idx == 0:
                c.start, c.end, c.self_paced = us(2023, 1, 9), None, True
                c.hi = END
            elif c.kind == "legacy":
                c.start, c.end, c.self_paced = us(2012, 9, 5), us(2012, 12, 20), False
                c.hi = us(2013, 3, 1)
            elif c.kind == "ccx":
                c.start, c.end, c.self_paced = us(2025, 2, 3), us(2025, 6, 30), False
                c.hi = us(2025, 9, 1)
            else:
                c.start = START + int(crng.random() * (us(2026, 6, 1) - START))
                c.self_paced = crng.random() < 0.3
                c.end = None if crng.random() < 0.2 else c.start + int((60 + crng.random() * 300) * DAY_US)
                c.hi = min(END, (c.end or c.start + 500 * DAY_US) + 90 * DAY_US)
            c.passing = crng.choice(["0.50", "0.50", "0.60", "0.70", "0.65", "0.55", None])
            c.cutoffs = ({"A": 0.9, "B": 0.8, "C": float(c.passing or 0.5)} if crng.random() < 0.3
                         else {"Pass": float(c.passing or 0.5)})
            c.objectid = hexid(crng, 96)
            c.published = "" if c.kind == "legacy" else hexid(crng, 96)
            c.draft = c.published if crng.random() < 0.4 else hexid(crng, 96)
            c.edited = min(END, c.start + int(crng.random() * 200 * DAY_US))
            c.policy_hash = b64hash("%s:%s" % (c.key, crng.random()))
            c.title = crng.choice(COURSE_TITLES)
            c.base_blocks = 450 if c.idx == 0 else (12 if c.tiny else 40 + int(crng.random() * 260))
        self.by_key = {c.key: c for c in courses}

    @staticmethod
    def _course(idx, kind, org, code, run):
        if kind == "legacy":
            key = "%s/%s/%s" % (org, code, run)
        elif kind == "ccx":
            key = "ccx-v1:%s+%s+%s+ccx@3" % (org, code, run)
        else:
            key = "course-v1:%s+%s+%s" % (org, code, run)
        return Course(idx, key, kind, org, code, run)

    # ---- enrollments (and which enrolled learners are active in the course)
    def make_enrollments(self, rng):
        n = self.n_users
        learners = [u for u in self.users if not u["staff"]] or list(self.users)
        early = sorted(learners, key=lambda u: u["joined"])
        self.enrollments = []  # (id, course, user, created, is_active, mode)
        self.active = {}  # course idx -> [(uid, lower bound for activity)]
        eid = 0
        for c in self.courses:
            if c.tiny:
                count = 1 + c.idx % 3
            else:
                count = max(3, int(round(0.7 * n * c.weight / 0.5)))
            count = min(count, len(learners))
            if c.kind == "legacy":
                chosen = early[:count]
            else:
                chosen = rng.sample(learners, count)
            act = []
            for u in chosen:
                eid += 1
                lo = max(u["joined"], c.start - 30 * DAY_US)
                hi = max(lo + DAY_US, c.hi - 10 * DAY_US)
                created = lo + int(rng.random() * (hi - lo))
                if rng.random() < 0.1:
                    created -= created % 1_000_000
                mode = weighted(rng, ENROLL_MODES) if c.kind != "legacy" else rng.choice(["honor", "audit"])
                is_active = 0 if rng.random() < 0.08 else 1
                self.enrollments.append((eid, c, u, created, is_active, mode))
                if rng.random() < 0.82 or c.tiny:
                    act.append((u["id"], max(created, c.start)))
            if not act and chosen:
                act.append((chosen[0]["id"], c.start))
            self.active[c.idx] = act


def seed_salt(rng):
    return rng.getrandbits(32)


def profile_name(rng, first, last):
    if any("\u4e00" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7af" for ch in first + last):
        return last + first
    r = rng.random()
    if r < 0.05:
        return "  %s %s " % (first, last)  # leading/trailing spaces survive
    if r < 0.08:
        return first.upper() + " " + last
    return "%s %s" % (first, last)


def password_hash(rng, joined, retired=False):
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    r = rng.random()
    if r < 0.04 or retired:
        return "!" + "".join(rng.choice(alphabet) for _ in range(40))  # unusable (SSO)
    iters = 600000 if joined > us(2024, 1, 1) else (260000 if joined > us(2022, 6, 1) else 36000)
    salt = "".join(rng.choice(alphabet) for _ in range(22))
    digest = base64.b64encode(rng.getrandbits(256).to_bytes(32, "big")).decode()
    return "pbkdf2_sha256$%d$%s$%s" % (iters, salt, digest)


# ------------------------------------------------------------------ writers

class Table:
    def __init__(self, name, columns):
        self.name, self.columns, self.rows = name, columns, 0
        self.path = None
        self.gen_s = 0.0


RELEASE = "verawood"  # set by main from --release


def write_rows(tmpdir, name, columns, rows_iter):
    """rows_iter yields lists of already-escaped field strings. None when the release
    (--release) has no such table; columns it lacks are left out."""
    keep = seed_apps.keep_columns(RELEASE, name, columns)
    if keep is None:
        return None
    if len(keep) != len(columns):
        columns = [columns[i] for i in keep]
        rows_iter = ([row[i] for i in keep] for row in rows_iter)
    t = Table(name, columns)
    t.path = os.path.join(tmpdir, name + ".tsv")
    t0 = time.perf_counter()
    buf = []
    with open(t.path, "w", encoding="utf-8", newline="\n", buffering=1 << 20) as f:
        for row in rows_iter:
            buf.append("\t".join(row))
            t.rows += 1
            if len(buf) >= 20000:
                f.write("\n".join(buf))
                f.write("\n")
                buf.clear()
        if buf:
            f.write("\n".join(buf))
            f.write("\n")
    t.gen_s = time.perf_counter() - t0
    return t


def gen_auth_user(w, rng):
    for u in w.users:
        yield [
            str(u["id"]), esc(password_hash(rng, u["joined"], u["retired"])), tsn(u["last_login"]),
            "1" if u["superuser"] else "0", "1" if u["staff"] else "0",
            esc(u["username"]), esc(u["first_name"]), esc(u["last_name"]), esc(u["email"]),
            "1" if u["active"] else "0", ts(u["joined"]),
        ]


def gen_auth_userprofile(w, rng):
    def text(p_null=0.35, p_empty=0.2, pool=AWKWARD):
        r = rng.random()
        if r < p_null:
            return None
        if r < p_null + p_empty:
            return ""
        return rng.choice(pool)

    for u in w.users:
        if u["retired"]:
            yield [str(u["id"]), str(u["id"]), "", "", "course.xml", "", "", NULL, NULL, NULL,
                   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL]
            continue
        r = rng.random()
        if r < 0.6:
            meta = ""
        elif r < 0.8:
            meta = "{}"
        elif r < 0.95:
            meta = json.dumps({"old_emails": [["old.%d@example.com" % u["id"], iso_utc(u["joined"])]]})
        else:
            meta = json.dumps({"session_id": hexid(rng), "referrer": "https://www.google.com/search?q=edx+curso&hl=es",
                               "nota": "importé depuis \"l'ancien\" système"}, ensure_ascii=False)
        country = None if rng.random() < 0.25 else rng.choice(COUNTRIES)
        state = rng.choice(US_STATES) if country == "US" and rng.random() < 0.7 else None
        yob = None if rng.random() < 0.3 else 1950 + int(rng.random() * 60)
        bio = text(0.6, 0.1)
        if bio is not None and rng.random() < 0.02:
            bio = ("Bio with ümlauts, \"quotes\", commas, and a\ttab.\n" * 60)[:2999]
        yield [
            str(u["id"]), str(u["id"]), esc(u["name"]), esc(meta), "course.xml",
            esc(rng.choice(LANGS)), esc("" if rng.random() < 0.9 else rng.choice(["Madrid", "Cambridge, MA", "北京"])),
            num(yob),
            esc(None if rng.random() < 0.3 else rng.choice(["m", "f", "o", "m", "f"])),
            esc(None if rng.random() < 0.3 else rng.choice(EDUCATION)),
            esc(text()), esc(text(0.3, 0.3, AWKWARD + ["Cambridge", "València", "São Paulo", "Zürich"])),
            esc(text(0.3, 0.3, AWKWARD + ["Learn to code", "Get a better job, hopefully!"])),
            esc(country), esc(state), esc(bio),
            esc(None if rng.random() < 0.85 else rng.choice(["+1 (617) 555-0100", "+34 600 123 456", "555\t0199"])),
            tsn(None if rng.random() < 0.85 else min(END, u["joined"] + int(rng.random() * 90 * DAY_US))),
        ]


def gen_enrollments(w, rng):
    for eid, c, u, created, is_active, mode in w.enrollments:
        yield [str(eid), esc(c.key), NULL if (c.kind == "legacy" and eid % 2) else ts(created),
               str(is_active), mode, str(u["id"])]


def grade_rows(w, rng):
    """One course grade per active learner; returns (course, uid, percent, passed, created, modified)."""
    out = []
    for c in w.courses:
        for uid, lo in w.active[c.idx]:
            r = rng.random()
            pct = 0.0 if r < 0.3 else round(rng.random() ** 0.6, 2)
            created = min(END, lo + int(rng.random() * max(DAY_US, c.hi - lo)))
            modified = created if rng.random() < 0.3 else min(END, created + int(rng.random() * 120 * DAY_US))
            out.append((c, uid, pct, created, modified))
    return out


def letter(c, pct):
    """Letter grade as the grading policy's cutoffs give it; '' when failing."""
    for name, cut in sorted(c.cutoffs.items(), key=lambda kv: -kv[1]):
        if pct >= cut:
            return name
    return ""


def gen_coursegrades(w, rng, grades):
    for gid, (c, uid, pct, created, modified) in enumerate(grades, 1):
        lg = letter(c, pct)
        passed = min(modified, created + int(rng.random() * DAY_US)) if lg else None
        yield [str(gid), ts(created), ts(modified), str(uid), esc(c.key), c.published,
               NULL if rng.random() < 0.05 else ts(c.edited), c.policy_hash, num(pct), esc(lg), tsn(passed)]


def gen_subsectiongrades(w, rng, grades):
    gid = 0
    seqs_of = {}
    for c, uid, pct, created, modified in grades:
        if c.idx not in seqs_of:
            seqs_of[c.idx] = [(t, b) for t, b in c.blocks(c.base_blocks) if t == "sequential"]
        seqs = seqs_of[c.idx]
        if not seqs:
            continue
        k = min(len(seqs), 1 + int(rng.random() * 10))
        for t, b in rng.sample(seqs, k):
            gid += 1
            possible = float(1 + int(rng.random() * 12))
            attempted = rng.random() < 0.8
            earned = round(possible * rng.random() * 4) / 4 if attempted else 0.0
            earned = min(earned, possible)
            graded = rng.random() < 0.7
            first = min(modified, created + int(rng.random() * DAY_US)) if attempted else None
            yield [str(gid), ts(created), ts(modified), str(uid), esc(c.key), c.published,
                   esc(c.usage_key(t, b)), NULL if rng.random() < 0.1 else ts(c.edited),
                   num(earned), num(possible), num(earned if graded else 0.0), num(possible if graded else 0.0),
                   b64hash("%s:%s" % (c.key, b)), tsn(first)]


def gen_certificates(w, rng, grades):
    modes = {}
    for _, c, u, _, _, mode in w.enrollments:
        modes[(c.idx, u["id"])] = mode
    cid = 0
    for c, uid, pct, created, modified in grades:
        if rng.random() > 0.5 or c.kind == "ccx":
            continue
        mode = modes.get((c.idx, uid), "audit")
        cmode = "verified" if mode == "credit" else mode
        passed = bool(letter(c, pct))
        if passed:
            if mode == "audit":
                status = "audit_passing"
            else:
                status = weighted(rng, [("downloadable", 88), ("unverified", 5), ("error", 2),
                                        ("generating", 1), ("invalidated", 2), ("unavailable", 2)])
        else:
            status = "audit_notpassing" if mode == "audit" else weighted(rng, [("notpassing", 90), ("unavailable", 10)])
        cid += 1
        legacy = c.kind == "legacy"
        u = w.users[uid - 1]
        dl = status == "downloadable"
        yield [
            str(cid), str(uid), esc(c.key), hexid(rng), hexid(rng) if dl else "",
            hexid(rng) if legacy else "",
            ("https://s3.amazonaws.com/verify.edx.org/downloads/%s/Certificate.pdf" % hexid(rng)[:12]) if legacy and dl else "",
            "" if legacy and rng.random() < 0.5 else "%.2f" % pct, "0", status, cmode, esc(u["name"]),
            ts(modified), ts(min(END, modified + int(rng.random() * 30 * DAY_US))),
            "Invalid template: certificate template not found" if status == "error" else "",
        ]


def gen_courseoverviews(w, rng):
    for c in w.courses:
        if c.kind == "legacy":
            loc = "i4x://%s/%s/course/%s" % (c.org, c.code, c.run)
            img = "/c4x/%s/%s/asset/images_course_image.jpg" % (c.org, c.code)
        elif c.kind == "ccx":
            loc = c.usage_key("course", "course")
            img = "/asset-v1:%s+%s+%s+type@asset+block@images_course_image.jpg" % (c.org, c.code, c.run)
        else:
            loc = c.usage_key("course", "course")
            img = "/asset-v1:%s+%s+%s+type@asset+block@images_course_image.jpg" % (c.org, c.code, c.run)
        created = min(c.start, c.edited) - int(rng.random() * 60 * DAY_US)
        start = None if (c.idx == 8 or (c.idx > 8 and rng.random() < 0.05)) else c.start
        row = [
            esc(c.key), esc(loc), "", NULL if rng.random() < 0.9 else "ext-%d" % c.idx,
            ts(created), ts(max(created, c.edited)), tsn(start), tsn(c.end),
            tsn(None if rng.random() < 0.3 else c.start - 45 * DAY_US), tsn(c.end),
            tsn(None if rng.random() < 0.7 else c.start - 60 * DAY_US),
            tsn(None if rng.random() < 0.6 or c.end is None else c.end + 7 * DAY_US),
            tsn(start), tsn(c.end),
            str(6 + int(rng.random() * 14)), NULL if rng.random() < 0.9 else str(500),
            esc(c.code), esc(c.org), esc(c.org), esc(img),
            "" if rng.random() < 0.7 else "/asset-v1:%s+%s+%s+type@asset+block@banner.png" % (c.org, c.code, c.run),
            "", "", "[]",
            esc(c.title), NULL, NULL, NULL,
            rng.choice(["end", "early_no_info", "end_with_date"]), NULL, "both", NULL,
            esc(None if rng.random() < 0.5 else rng.choice(["4 hours/week", "6–8 horas/semana", "2h, \"more\" if needed"])),
            esc(None if rng.random() < 0.4 else "Learn %s, step by step.\nNo prior knowledge needed." % c.title),
            NULL, esc(rng.choice(["en", "es", "fr", None, "zh-cn"])), NULL,
            esc(rng.choice(["null", "null", None, "proctortrack"])),
            "0", "1" if rng.random() < 0.6 else "0", "1" if rng.random() < 0.6 else "0",
            "1" if rng.random() < 0.5 else "0", "0", "1" if c.kind == "ccx" else "0",
            "1" if c.self_paced else "0", "1", "0", "0", "0", "0",
            NULL if rng.random() < 0.4 else ("1" if rng.random() < 0.3 else "0"),
            esc(c.passing), NULL if rng.random() < 0.85 else "2", "0.65",
        ]
        yield row


def gen_accessroles(w, rng):
    rows = set()
    n = w.n_users
    staff = w.staff_ids
    ids = list(range(1, n + 1))

    def add(org, course_id, role, uid):
        rows.add((uid, org, course_id, role))

    for uid in staff[1:3]:
        add("", "", "course_creator_group", uid)
    if len(staff) > 3:
        add("", "", "support", staff[3])
    for org in ("MITx", "UnivCafé"):
        add(org, "", "org_course_creator_group", staff[-1])
        add(org, "", "staff", rng.choice(ids))
    add("edX", "", "instructor", staff[0])
    add("edX", "library-v1:edX+DemoLib", "library_user", staff[-1])
    for c in w.courses:
        add(c.org, c.key, "instructor", rng.choice(staff))
        for _ in range(1 + int(rng.random() * 3)):
            add(c.org, c.key, "staff", rng.choice(ids))
        if rng.random() < 0.3:
            add(c.org, c.key, "limited_staff", rng.choice(ids))
        if rng.random() < 0.3:
            add(c.org, c.key, "data_researcher", rng.choice(ids))
        if rng.random() < 0.2:
            add(c.org, c.key, "finance_admin", rng.choice(ids))
        if rng.random() < 0.1:
            add(c.org, c.key, "sales_admin", rng.choice(ids))
        for uid, _ in w.active[c.idx][:2]:
            if rng.random() < 0.5:
                add(c.org, c.key, "beta_testers", uid)
        if c.kind == "ccx":
            parent = "course-v1:%s+%s+%s" % (c.org, c.code, c.run)
            add(c.org, parent, "ccx_coach", staff[-1])
            add(c.org, c.key, "ccx_coach", staff[-1])
    seen = set()
    out = []
    for uid, org, course_id, role in sorted(rows, key=lambda r: (r[2], r[1], r[3], r[0])):
        k = (uid, fold(org), fold(course_id), role)
        if k in seen:
            continue
        seen.add(k)
        out.append((uid, org, course_id, role))
    rng.shuffle(out)
    for i, (uid, org, course_id, role) in enumerate(out, 1):
        yield [str(i), esc(org), esc(course_id), role, str(uid)]


def gen_anonymous(w, rng):
    seen = set()
    aid = 0

    def fresh():
        while True:
            h = hexid(rng)
            if h not in seen:
                seen.add(h)
                return h

    for _, c, u, _, _, _ in w.enrollments:
        aid += 1
        yield [str(aid), fresh(), esc(c.key), str(u["id"])]
        if rng.random() < 0.05:  # a SECRET_KEY change leaves a second id for the pair
            aid += 1
            yield [str(aid), fresh(), esc(c.key), str(u["id"])]
    for u in w.users:
        if rng.random() < 0.3:
            aid += 1
            yield [str(aid), fresh(), "", str(u["id"])]


def gen_manual_audit(w, rng):
    aid = 0
    staff = w.staff_ids
    transitions = ["from unenrolled to enrolled", "from enrolled to unenrolled", "from allowed to enrolled",
                   "from unenrolled to allowed", "N/A"]
    for eid, c, u, created, _, _ in w.enrollments:
        if rng.random() > 0.03:
            continue
        aid += 1
        reason = None if rng.random() < 0.3 else ("" if rng.random() < 0.2 else rng.choice(AWKWARD + ["Bulk enroll, cohort 2024", "Requested by instructor"]))
        yield [str(aid), esc(u["email"]), NULL if rng.random() < 0.03 else ts(created), rng.choice(transitions[:3]),
               esc(reason), NULL if rng.random() < 0.1 else str(rng.choice(staff)),
               NULL if rng.random() < 0.05 else str(eid), NULL if rng.random() < 0.4 else "Learner"]
    for i in range(max(3, len(w.courses) // 2)):
        aid += 1
        c = w.courses[i % len(w.courses)]
        yield [str(aid), esc("invitee.%d@external-école.example" % i), ts(c.start), "from unenrolled to allowed",
               esc(rng.choice(AWKWARD)), str(rng.choice(staff)), NULL, NULL]


def gen_enrollment_allowed(w, rng):
    seen = set()
    aid = 0
    for c in w.courses:
        k = 1 + int(rng.random() * 4)
        for j in range(k):
            if rng.random() < 0.5:
                u = rng.choice(w.users)
                email, uid = u["email"], (str(u["id"]) if rng.random() < 0.7 else NULL)
            else:
                email, uid = "future.learner%d@%s" % (int(rng.random() * 10**6), rng.choice(DOMAINS)), NULL
            key = (fold(email), fold(c.key))
            if key in seen:
                continue
            seen.add(key)
            aid += 1
            yield [str(aid), esc(email), esc(c.key), "1" if rng.random() < 0.6 else "0",
                   NULL if rng.random() < 0.1 else ts(c.start - int(rng.random() * 30 * DAY_US)), uid]
    c = w.courses[0]
    aid += 1
    yield [str(aid), "redacted-before-delete@safe.com", esc(c.key), "0", ts(c.start), NULL]


def cohort_tables(w, rng, tmpdir):
    """All course_groups_* tables; returns their Table objects."""
    cohorted = [c for c in w.courses if c.idx == 0 or (not c.tiny and rng.random() < 0.12)]
    names_pool = ["Group A", "Group B", "Équipe \"Bleue\"", "Cohort, with comma", "verified learners",
                  "Grupo de mañana", "Night\tshift", "学习小组"]
    groups, cohorts, members, m2m, pgroups, unreg, settings = [], [], [], [], [], [], []
    gid = 0
    for c in cohorted:
        names = ["Default Group"] + rng.sample(names_pool, 1 + int(rng.random() * 3))
        cg = []
        for name in names:
            gid += 1
            cg.append(gid)
            groups.append([str(gid), esc(name), esc(c.key), "cohort"])
            cohorts.append([str(len(cohorts) + 1), "random" if name == "Default Group" else rng.choice(["random", "manual"]), str(gid)])
        for uid, _ in w.active[c.idx]:
            if rng.random() < 0.9:
                g = rng.choice(cg)
                members.append([str(len(members) + 1), esc(c.key), str(g), str(uid)])
                m2m.append([str(len(m2m) + 1), str(g), str(uid)])
        for g in cg[1:2]:
            t0 = c.start - 10 * DAY_US
            pgroups.append([str(len(pgroups) + 1), rng.choice(["50", "1536189893"]), str(1 + int(rng.random() * 3)),
                            ts(t0), ts(t0 + int(rng.random() * 20 * DAY_US)), str(g)])
        for j in range(2):
            unreg.append([str(len(unreg) + 1), esc("pending%d.%d@example.org" % (c.idx, j)), esc(c.key), str(rng.choice(cg))])
    cohorted_ids = {c.idx for c in cohorted}
    for c in w.courses:
        if c.idx in cohorted_ids or rng.random() < 0.5:
            settings.append([str(len(settings) + 1), "1" if c.idx in cohorted_ids else "0", esc(c.key),
                             rng.choice([NULL, "[]", "[]", json.dumps(["i4x-%s-discussion-%s" % (ascii_slug(c.org), hexid(rng)[:8])])]),
                             "1" if rng.random() < 0.5 else "0"])
    return [
        write_rows(tmpdir, "course_groups_courseusergroup", ["id", "name", "course_id", "group_type"], groups),
        write_rows(tmpdir, "course_groups_coursecohort", ["id", "assignment_type", "course_user_group_id"], cohorts),
        write_rows(tmpdir, "course_groups_cohortmembership", ["id", "course_id", "course_user_group_id", "user_id"], members),
        write_rows(tmpdir, "course_groups_coursecohortssettings",
                   ["id", "is_cohorted", "course_id", "cohorted_discussions", "always_cohort_inline_discussions"], settings),
        write_rows(tmpdir, "course_groups_courseusergroup_users", ["id", "courseusergroup_id", "user_id"], m2m),
        write_rows(tmpdir, "course_groups_courseusergrouppartitiongroup",
                   ["id", "partition_id", "group_id", "created_at", "updated_at", "course_user_group_id"], pgroups),
        write_rows(tmpdir, "course_groups_unregisteredlearnercohortassignments",
                   ["id", "email", "course_id", "course_user_group_id"], unreg),
    ]


def gen_split_index(w, rng):
    i = 0
    seen = set()
    for c in w.courses:
        if c.kind != "course-v1":
            continue
        i += 1
        seen.add(c.objectid)
        edited_by = rng.choice([None, -1, -3, w.staff_ids[0], w.staff_ids[-1]])
        yield [str(i), c.objectid, esc(c.key), esc(c.org), c.draft, c.published, "",
               esc("%s.%s.%s" % (c.org, c.code, c.run)), "mongodb", ts(c.edited),
               ts(c.edited + int(rng.random() * 10 * DAY_US) if rng.random() < 0.5 else c.edited), num(edited_by)]
    for org, lib in (("edX", "DemoLib"), ("UnivCafé", "Recetas.2x")):
        i += 1
        oid = hexid(rng, 96)
        t = us(2024, 5, 2, 11, 3, 7) + int(rng.random() * 300 * DAY_US)
        yield [str(i), oid, esc("library-v1:%s+%s" % (org, lib)), esc(org), "", "", hexid(rng, 96),
               esc("%s.%s.library" % (org, lib)), "mongodb", ts(t), ts(t), str(w.staff_ids[0])]


# ---------------------------------------------------- courseware_studentmodule

SM_COLUMNS = ["id", "module_type", "module_id", "course_id", "state", "grade", "max_grade",
              "done", "created", "modified", "student_id"]

K_COURSE, K_CHAPTER, K_SEQ, K_VIDEO, K_HTML, K_PROBLEM, K_ORA, K_LIB, K_DND = range(9)
KIND_OF = {"course": K_COURSE, "chapter": K_CHAPTER, "sequential": K_SEQ, "video": K_VIDEO,
           "html": K_HTML, "problem": K_PROBLEM, "openassessment": K_ORA,
           "library_content": K_LIB, "drag-and-drop-v2": K_DND}
CORRECT_MAP_ENTRY = ('{"answervariable": null, "correctness": "%s", "hint": "", "hintmode": null, '
                     '"msg": "", "npoint_map": %s, "queuestate": null}')


PH = "\x00"  # stands for the problem's input-id prefix in a shape


def problem_shape(rng):
    """One capa problem shape with a few precomputed states; the input ids are
    PH placeholders, filled per block by problem_block()."""
    n_inputs = weighted(rng, [(1, 80), (2, 15), (3, 5)])
    rtype = weighted(rng, [("choice", 55), ("numerical", 15), ("string", 12), ("checkbox", 10), ("option", 8)])
    weight = rng.choice([None, None, None, 1.0, 2.0, 3.0, 5.0, 10.0])
    ids = ["%s_%d_1" % (PH, k + 2) for k in range(n_inputs)]
    input_state = "{" + ", ".join('"%s": {}' % i for i in ids) + "}"
    seed = 1 if rng.random() < 0.7 else 1 + int(rng.random() * 99)

    def answer():
        r = rng.random()
        if rtype == "choice":
            return '"choice_%d"' % int(r * 4)
        if rtype == "numerical":
            return '"%s"' % rng.choice(["3.14", "42", "-0.5", "1e-3", "2.718"])
        if rtype == "string":
            return '"%s"' % rng.choice(["Paris", "photosynthesis", "mitochondria", "H2O"])
        if rtype == "checkbox":
            return '["choice_0", "choice_%d"]' % (1 + int(r * 3))
        return '"%s"' % rng.choice(["Option A", "True", "False"])

    variants = []
    for _ in range(6):
        earned = 0.0
        entries = []
        for i in ids:
            m = rng.choice(["correct", "correct", "incorrect", "partially-correct"])
            npoint = "null"
            if m == "correct":
                earned += 1
            elif m == "partially-correct":
                part = rng.choice([0.5, 0.75, 0.25])
                earned += part
                npoint = '{"%s": %s}' % (i, part)
            entries.append('"%s": %s' % (i, CORRECT_MAP_ENTRY % (m, npoint)))
        possible = float(n_inputs)
        if weight:
            earned, possible = round(earned * weight / n_inputs * 4) / 4, weight
        answers = "{" + ", ".join('"%s": %s' % (i, answer()) for i in ids) + "}"
        head = ('{"correct_map": {' + ", ".join(entries) + '}, "input_state": ' + input_state +
                ', "last_submission_time": "')
        tail = (', "seed": %d, "done": true, "student_answers": %s, "score": {"raw_earned": %s, "raw_possible": %s}}'
                % (seed, answers, num(earned), num(possible)))
        variants.append((head, tail, num(earned), num(possible)))
    viewed = '{"seed": %d, "input_state": %s}' % (seed, input_state)
    return variants, viewed, n_inputs, rtype == "string", num(float(weight or n_inputs))


def problem_block(shape, c, bid):
    """(variants, viewed state, input ids, free text?, max_grade) of one problem block."""
    if c.kind == "legacy":
        prefix = "i4x-%s-%s-problem-%s" % (c.org, c.code.replace(".", "_"), bid)
    else:
        prefix = bid
    variants, viewed, n_inputs, free, possible = shape
    return ([(h.replace(PH, prefix), t.replace(PH, prefix), g, m) for h, t, g, m in variants],
            viewed.replace(PH, prefix), ["%s_%d_1" % (prefix, k + 2) for k in range(n_inputs)], free, possible)


def free_text_problem_state(rng, ids, when, attempts, possible):
    """A problem state with learner-typed text, in one of the ways it gets stored."""
    answer = rng.choice(ANSWERS)
    earned = rng.choice([0.0, possible])
    state = {
        "correct_map": {i: {"answervariable": None, "correctness": "correct" if earned else "incorrect",
                            "hint": "", "hintmode": None, "msg": "", "npoint_map": None, "queuestate": None}
                        for i in ids},
        "input_state": {i: {} for i in ids},
        "last_submission_time": iso_z(when),
        "attempts": attempts, "seed": 1, "done": True,
        "student_answers": {i: answer for i in ids},
        "score": {"raw_earned": earned, "raw_possible": possible},
    }
    r = rng.random()
    if r < 0.6:
        text = json.dumps(state)  # what edx-platform writes: ASCII, \" \\ \n \u00e9 \ud83c\udf89 escapes
    elif r < 0.85:
        text = json.dumps(state, ensure_ascii=False)  # raw UTF-8
    elif r < 0.95:
        text = json.dumps(state, ensure_ascii=False, indent=2)  # real newlines between tokens
    else:
        # a lenient writer: raw tabs/newlines/CR inside JSON string values
        raw = '"' + answer.replace("\\", "\\\\").replace('"', '\\"') + '"'
        text = json.dumps(state, ensure_ascii=False).replace(json.dumps(answer, ensure_ascii=False), raw)
    return text, num(earned)


def ora_state(rng, when):
    text = rng.choice(ANSWERS + ["My essay.\n\nParagraph two, with \"quotes\" and a tab\there."])
    saved = json.dumps({"parts": [{"text": text}]})
    st = {"has_saved": True, "saved_response": saved, "saved_files_descriptions": "[]",
          "saved_files_names": "[]", "saved_files_sizes": "[]"}
    if rng.random() < 0.6:
        st["submission_uuid"] = "%s-%s-%s-%s-%s" % tuple(hexid(rng, b) for b in (32, 16, 16, 16, 48))
        st["no_of_submissions_seen"] = int(rng.random() * 5)
    return json.dumps(st, ensure_ascii=rng.random() < 0.8, indent=2 if rng.random() < 0.1 else None)


def studentmodule_targets(w, total):
    """Rows per course: half to the demo course, a Zipf tail, a handful for tiny courses."""
    tiny_counts = {}
    for c in w.courses:
        if c.tiny:
            tiny_counts[c.idx] = min(3 + (c.idx * 7) % 10, max(0, total // 100))
    rest = max(0, total - sum(tiny_counts.values()))
    weights = {c.idx: c.weight for c in w.courses if not c.tiny}
    wsum = sum(weights.values()) or 1.0
    targets = {i: int(rest * wt / wsum) for i, wt in weights.items()}
    targets[0] = targets.get(0, 0) + rest - sum(targets.values())  # rounding goes to the big course
    targets.update(tiny_counts)
    return targets


def gen_studentmodule(w, total, out, seed, t=None):
    """Write courseware_studentmodule to `out` (a path, or a callable returning
    an open text file, used for streaming through a FIFO); fills and returns
    the Table `t`."""
    t0 = time.perf_counter()
    targets = studentmodule_targets(w, total)
    rng = random.Random("%s:studentmodule" % seed)
    rand = rng.random
    srng = random.Random("%s:problemshapes" % seed)
    shapes = [problem_shape(srng) for _ in range(96)]

    blocks = []    # global block table: (prefix, kind, data)
    stu = []       # per row: student id
    blk = []       # per row: index into blocks
    cre = []       # per row: created (us)
    for c in w.courses:
        want = targets.get(c.idx, 0)
        learners = w.active[c.idx]
        if want <= 0 or not learners:
            continue
        if want < len(learners):
            learners = learners[:want]
        n = len(learners)
        nb = max(c.base_blocks, -(-2 * want // n) + 10)
        course_blocks = c.blocks(nb)
        brng = random.Random("%s:blockstate:%s" % (seed, c.key))
        base = len(blocks)
        ckey = esc(c.key)
        for btype, bid in course_blocks:
            kind = KIND_OF[btype]
            prefix = "%s\t%s\t%s\t" % (btype, esc(c.usage_key(btype, bid)), ckey)
            if kind == K_PROBLEM:
                data = problem_block(shapes[int(brng.random() * len(shapes))], c, bid)
            elif kind in (K_COURSE, K_CHAPTER, K_SEQ):
                data = 2 + int(brng.random() * 10)
            elif kind == K_LIB:
                data = '{"selected": [%s]}' % ", ".join(
                    '["problem", "%s"]' % hexid(brng, 80) for _ in range(1 + int(brng.random() * 4)))
            else:
                data = None
            blocks.append((prefix, kind, data))

        # How many blocks each learner touched: heavy-tailed, summing to `want`.
        ws = [rng.paretovariate(1.2) for _ in range(n)]
        wsum = sum(ws)
        ks = [min(nb, max(1, int(want * x / wsum))) for x in ws]
        diff = want - sum(ks)
        order = list(range(n))
        rng.shuffle(order)
        while diff > 0:
            for i in order:
                if ks[i] < nb:
                    ks[i] += 1
                    diff -= 1
                    if diff == 0:
                        break
        while diff < 0:
            for i in sorted(order, key=lambda i: -ks[i]):
                if ks[i] > 1:
                    ks[i] -= 1
                    diff += 1
                    if diff == 0:
                        break
        hi = c.hi
        sample = rng.sample
        for (uid, lo), k in zip(learners, ks):
            span = max(DAY_US, hi - lo)
            picks = sample(range(base + 1, base + nb), k - 1)
            picks.append(base)  # every active learner has the course-level row
            blk.extend(picks)
            stu.extend([uid] * k)
            cre.extend([lo + int(rand() * span) for _ in range(k)])

    # ids follow creation time, as AUTO_INCREMENT does
    order = sorted(range(len(cre)), key=cre.__getitem__)
    prep_s = time.perf_counter() - t0

    if t is None:
        t = Table("courseware_studentmodule", SM_COLUMNS)
        t.path = out
    speeds = ("0.75", "1.0", "1.25", "1.5", "2.0", "1.0", "1.0")
    days, hms = _DAYS, _HMS
    day0 = _DAY0_N
    buf = []
    rowid = 0
    f = out() if callable(out) else open(out, "w", encoding="utf-8", newline="\n", buffering=1 << 20)
    with f:
        for g in order:
            rowid += 1
            created = cre[g]
            prefix, kind, data = blocks[blk[g]]
            r = rand()
            if r < 0.25:
                modified = created
            else:
                modified = created + int(r * r * r * 7_776_000_000_000)  # up to 90 days later
                if modified > END:
                    modified = created + (END - created) // 3
            if r > 0.97:  # whole seconds: microseconds exactly .000000
                created -= created % 1_000_000
                modified = created
            grade = max_grade = NULL
            s = rand()
            if s < 0.03:
                state = NULL
            elif kind == K_PROBLEM:
                variants, viewed, ids, free, possible = data
                if s < 0.10:
                    state = viewed
                elif free and s < 0.55:
                    state, grade = free_text_problem_state(rng, ids, modified, 1 + int(s * 4), float(possible))
                    state = esc(state)
                    max_grade = possible
                else:
                    head, tail, grade, max_grade = variants[int(s * 60) % 6]
                    d, x = divmod(modified, DAY_US)
                    state = "%s%sT%sZ\", \"attempts\": %d%s" % (
                        head, days[d - day0], hms[x // 1_000_000], 1 + int(s * 97) % 3, tail)
            elif kind == K_SEQ or kind == K_CHAPTER or kind == K_COURSE:
                state = '{"position": %d}' % (1 + int(s * data))
            elif kind == K_VIDEO:
                sec = int(s * 1800)
                if s < 0.4:
                    state = '{"saved_video_position": "%s", "speed": %s}' % (hms[sec], speeds[int(s * 70) % 7])
                elif s < 0.7:
                    state = '{"saved_video_position": "%s"}' % hms[sec]
                elif s < 0.9:
                    state = ('{"transcript_language": "en", "saved_video_position": "%s", "speed": %s, '
                             '"youtube_is_available": true}' % (hms[sec], speeds[int(s * 70) % 7]))
                else:
                    state = '{"bumper_last_view_date": "%s", "bumper_do_not_show_again": true}' % iso_utc(created)
            elif kind == K_HTML:
                state = "{}"
            elif kind == K_ORA:
                state = esc(ora_state(rng, modified))
            elif kind == K_LIB:
                state = data
            else:  # drag-and-drop-v2
                ok = "true" if s < 0.6 else "false"
                state = ('{"attempts": %d, "completed": %s, "item_state": {"0": {"correct": true, "zone": "middle"}, '
                         '"1": {"correct": %s, "zone": "top"}}, "raw_earned": %s}'
                         % (1 + int(s * 9) % 3, ok, ok, "1.0" if s < 0.6 else "0.5"))
            done = "na" if r < 0.92 else ("f" if r < 0.96 else "i")
            d, x = divmod(created, DAY_US)
            sc, fc = divmod(x, 1_000_000)
            d2, x2 = divmod(modified, DAY_US)
            sm, fm = divmod(x2, 1_000_000)
            buf.append("%d\t%s%s\t%s\t%s\t%s\t%s %s.%06d\t%s %s.%06d\t%d\n" % (
                rowid, prefix, state, grade, max_grade, done,
                days[d - day0], hms[sc], fc, days[d2 - day0], hms[sm], fm, stu[g]))
            if len(buf) >= 20000:
                f.write("".join(buf))
                buf.clear()
        f.write("".join(buf))
    t.rows = rowid
    t.gen_s = time.perf_counter() - t0
    t.prep_s = prep_s
    return t


# ------------------------------------------------------------------ loading

class Db:
    def __init__(self, args, tmpdir):
        self.database = args.database
        self.cnf = os.path.join(tmpdir, "client.cnf")
        with open(os.open(self.cnf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write("[client]\nhost=%s\nport=%d\nuser=%s\npassword=%s\n" % (
                args.host, args.port, args.user, args.password.replace("\\", "\\\\")))
        self.client = shutil.which("mariadb") or shutil.which("mysql")
        if not self.client:
            sys.exit("seed.py: the mariadb client is not installed (scripts/stack-up.sh installs it)")

    def run(self, sql, database=True):
        cmd = [self.client, "--defaults-extra-file=" + self.cnf, "--protocol=tcp", "--local-infile=1",
               "--default-character-set=utf8mb4", "--batch", "--skip-column-names"]
        if database:
            cmd.append("--database=" + self.database)
        p = subprocess.run(cmd, input=sql, capture_output=True, text=True, encoding="utf-8")
        if p.returncode != 0:
            raise RuntimeError("mariadb client failed (exit %d):\n%s" % (p.returncode, p.stderr.strip()))
        return p.stdout

    def load(self, t):
        path = t.path.replace("\\", "\\\\").replace("'", "\\'")
        cols = ", ".join("`%s`" % c for c in t.columns)
        # LOAD DATA defaults: FIELDS TERMINATED BY '\t' ESCAPED BY '\\', LINES TERMINATED BY '\n', \N = NULL
        sql = ("SET SESSION unique_checks = 0;\nSET SESSION foreign_key_checks = 0;\n"
               "SET SESSION sql_mode = 'STRICT_TRANS_TABLES';\n"
               "SET SESSION net_read_timeout = 3600;\n"
               "LOAD DATA LOCAL INFILE '%s' INTO TABLE `%s` CHARACTER SET utf8mb4 (%s);\n"
               "SELECT 'LOADED', ROW_COUNT(), @@warning_count;\n"
               "SHOW WARNINGS LIMIT 10;\n"
               "SET SESSION unique_checks = 1;\nSET SESSION foreign_key_checks = 1;\n") % (path, t.name, cols)
        out = self.run(sql)
        loaded = warnings = None
        extra = []
        for line in out.splitlines():
            parts = line.split("\t")
            if parts[0] == "LOADED":
                loaded, warnings = int(parts[1]), int(parts[2])
            elif line.strip():
                extra.append(line)
        return loaded, warnings, extra


class Loader(threading.Thread):
    """Loads finished TSV files one after another while generation goes on."""

    def __init__(self, db):
        super().__init__(daemon=True)
        self.db, self.q, self.results, self.error = db, queue.Queue(), [], None

    def run(self):
        while True:
            t = self.q.get()
            if t is None:
                return
            if self.error:
                continue
            try:
                t0 = time.perf_counter()
                loaded, warnings, extra = self.db.load(t)
                self.results.append((t, loaded, warnings, extra, time.perf_counter() - t0))
            except Exception as e:  # reported by the main thread
                self.error = e


def open_fifo_for_writing(path, reader):
    """Open a FIFO for writing once the reader (a Loader thread) has opened it;
    give up if the reader fails first."""
    while True:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            break
        except OSError as e:
            if e.errno != errno.ENXIO:
                raise
            if reader.error or not reader.is_alive():
                raise RuntimeError("loading %s failed: %s" % (os.path.basename(path), reader.error))
            time.sleep(0.005)
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
    return os.fdopen(fd, "w", encoding="utf-8", newline="\n", buffering=1 << 20)


def schema_statements(only=None):
    with open(SCHEMA_SQL, encoding="utf-8") as f:
        text = f.read()
    stmts = []
    for chunk in text.split(";\n"):
        lines = [ln for ln in chunk.splitlines() if ln.strip() and not ln.strip().startswith("--")]
        if not lines:
            continue
        stmt = "\n".join(lines)
        if only and "`%s`" % only not in stmt:
            continue
        stmts.append(stmt)
    # An older release: its missing tables dropped (a rerun over a newer seed), then the
    # rest without the columns it lacks.
    drops = ["DROP TABLE IF EXISTS `%s`" % t for t in seed_apps.RELEASES[RELEASE]["tables"]]
    stmts = drops + seed_apps.schema_for(RELEASE, stmts)
    return "\n".join(s + ";" for s in stmts) + "\n"


def seed_derived(db, tmpdir, seed, say):
    """Tables that follow courseware_studentmodule once it is loaded: completions and
    progress summaries (SQL), and the ORA submissions of its openassessment rows."""
    t0 = time.perf_counter()
    db.run(seed_apps.derived_sql(RELEASE))
    ora = []
    for line in db.run(seed_apps.ORA_QUERY).splitlines():
        student_id, course_id, block, created, anon = line.split("\t")
        ora.append((student_id, course_id, block, created, anon))
    rng = random.Random("%s:submissions" % seed)
    results = []  # as Loader.results
    for name, (columns, rows) in seed_apps.gen_submissions(rng, ora, esc, NULL).items():
        db.run("TRUNCATE TABLE `%s`;" % name)
        t = write_rows(tmpdir, name, columns, iter(rows))
        t1 = time.perf_counter()
        results.append((t,) + db.load(t) + (time.perf_counter() - t1,))
    for name in ("completion_blockcompletion", "openedx_progress_coursecompletionsummary"):
        if seed_apps.keep_columns(RELEASE, name, []) is None:
            continue
        t = Table(name, [])
        t.rows = int(db.run("SELECT COUNT(*) FROM `%s`;" % name).strip())
        t.gen_s = time.perf_counter() - t0
        results.append((t, t.rows, 0, [], 0.0))  # INSERT ... SELECT: no load of its own
    return results


# --------------------------------------------------------------------- main

def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    d = " (default: %(default)s)"
    p.add_argument("--host", default="127.0.0.1", help="MariaDB/MySQL host" + d)
    p.add_argument("--port", type=int, default=3306, help="port" + d)
    p.add_argument("--user", default="openedx", help="user" + d)
    p.add_argument("--password", default="openedx", help="password" + d)
    p.add_argument("--database", default="openedx", help="database (must exist)" + d)
    p.add_argument("--mysql-url", help="mysql://user:pw@host:port/db (overrides the five flags above)")
    p.add_argument("--seed", type=int, default=42, help="random seed" + d)
    p.add_argument("--users", type=int, default=2000, help="auth_user rows" + d)
    p.add_argument("--courses", type=int, default=40, help="courses" + d)
    p.add_argument("--studentmodule-rows", type=int, default=200000, help="courseware_studentmodule rows" + d)
    p.add_argument("--only-studentmodule", action="store_true",
                   help="only drop, create and load courseware_studentmodule (other tables untouched; "
                        "use the same --seed/--users/--courses as the full seed)")
    p.add_argument("--keep-tsv", metavar="DIR", help="write the TSV files to DIR and keep them")
    p.add_argument("--quiet", action="store_true", help="print nothing unless something fails")
    p.add_argument("--release", choices=sorted(seed_apps.RELEASES), default="verawood",
                   help="the Open edX release whose schema to create (scripts/seed_apps.py: what "
                        "an older one lacks)" + d)
    a = p.parse_args(argv)
    if a.mysql_url:
        u = urllib.parse.urlsplit(a.mysql_url)
        if u.scheme not in ("mysql", "mariadb"):
            p.error("--mysql-url must start with mysql://")
        a.host = u.hostname or a.host
        a.port = u.port or a.port
        a.user = urllib.parse.unquote(u.username) if u.username else a.user
        a.password = urllib.parse.unquote(u.password) if u.password is not None else a.password
        if u.path.strip("/"):
            a.database = urllib.parse.unquote(u.path.strip("/"))
    if a.users < 5 or a.courses < 1 or a.studentmodule_rows < 0:
        p.error("need --users >= 5, --courses >= 1, --studentmodule-rows >= 0")
    return a


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    global RELEASE
    RELEASE = args.release
    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, flush=True))
    t_start = time.perf_counter()
    if args.keep_tsv:
        os.makedirs(args.keep_tsv, exist_ok=True)
        tmpdir = os.path.abspath(args.keep_tsv)
    else:
        tmpdir = tempfile.mkdtemp(prefix="edlake-seed-")
    try:
        db = Db(args, tmpdir)
        only = "courseware_studentmodule" if args.only_studentmodule else None
        if only:
            try:
                n = int(db.run("SELECT COUNT(*) FROM auth_user;").strip())
            except (RuntimeError, ValueError):
                n = None
            if n != args.users:
                print("seed.py: warning: auth_user has %s rows but --users is %d: run a full seed with the same "
                      "--seed/--users/--courses first, or student ids will not match" % (n, args.users),
                      file=sys.stderr)
        db.run(schema_statements(only))
        say("schema applied%s (%.2fs)" % (" (courseware_studentmodule only)" if only else "",
                                          time.perf_counter() - t_start))

        w = World(args.seed, args.users, args.courses)
        loader = Loader(db)
        loader.start()
        tables = []

        def emit(t):
            if t is None:  # not in this release
                return
            tables.append(t)
            loader.q.put(t)

        if not only:
            r = lambda name: random.Random("%s:%s" % (args.seed, name))  # noqa: E731
            emit(write_rows(tmpdir, "auth_user", ["id", "password", "last_login", "is_superuser", "is_staff",
                                                  "username", "first_name", "last_name", "email", "is_active",
                                                  "date_joined"], gen_auth_user(w, r("auth_user"))))
            emit(write_rows(tmpdir, "auth_userprofile",
                            ["id", "user_id", "name", "meta", "courseware", "language", "location", "year_of_birth",
                             "gender", "level_of_education", "mailing_address", "city", "goals", "country", "state",
                             "bio", "phone_number", "profile_image_uploaded_at"],
                            gen_auth_userprofile(w, r("auth_userprofile"))))
            emit(write_rows(tmpdir, "student_courseenrollment", ["id", "course_id", "created", "is_active", "mode", "user_id"],
                            gen_enrollments(w, r("enrollments"))))
            grades = grade_rows(w, r("grades"))
            emit(write_rows(tmpdir, "grades_persistentcoursegrade",
                            ["id", "created", "modified", "user_id", "course_id", "course_version",
                             "course_edited_timestamp", "grading_policy_hash", "percent_grade", "letter_grade",
                             "passed_timestamp"], gen_coursegrades(w, r("coursegrade"), grades)))
            emit(write_rows(tmpdir, "grades_persistentsubsectiongrade",
                            ["id", "created", "modified", "user_id", "course_id", "course_version", "usage_key",
                             "subtree_edited_timestamp", "earned_all", "possible_all", "earned_graded",
                             "possible_graded", "visible_blocks_hash", "first_attempted"],
                            gen_subsectiongrades(w, r("subsectiongrade"), grades)))
            emit(write_rows(tmpdir, "certificates_generatedcertificate",
                            ["id", "user_id", "course_id", "verify_uuid", "download_uuid", "key", "download_url",
                             "grade", "distinction", "status", "mode", "name", "created_date", "modified_date",
                             "error_reason"], gen_certificates(w, r("certificates"), grades)))
            emit(write_rows(tmpdir, "course_overviews_courseoverview", CO_COLUMNS, gen_courseoverviews(w, r("overviews"))))
            emit(write_rows(tmpdir, "student_courseaccessrole", ["id", "org", "course_id", "role", "user_id"],
                            gen_accessroles(w, r("accessroles"))))
            emit(write_rows(tmpdir, "student_anonymoususerid", ["id", "anonymous_user_id", "course_id", "user_id"],
                            gen_anonymous(w, r("anonymous"))))
            emit(write_rows(tmpdir, "student_manualenrollmentaudit",
                            ["id", "enrolled_email", "time_stamp", "state_transition", "reason", "enrolled_by_id",
                             "enrollment_id", "role"], gen_manual_audit(w, r("manualaudit"))))
            emit(write_rows(tmpdir, "student_courseenrollmentallowed",
                            ["id", "email", "course_id", "auto_enroll", "created", "user_id"],
                            gen_enrollment_allowed(w, r("allowed"))))
            for t in cohort_tables(w, r("cohorts"), tmpdir):
                emit(t)
            emit(write_rows(tmpdir, "site_configuration_siteconfiguration",
                            seed_apps.SITE_CONFIGURATION_COLUMNS, seed_apps.gen_site_configuration(esc)))
            customers, linked, pending = seed_apps.gen_enterprise(
                w, r("enterprise"), esc, ts, hexid, NULL, START, END, DAY_US)
            emit(write_rows(tmpdir, "enterprise_enterprisecustomer", seed_apps.CUSTOMER_COLUMNS, iter(customers)))
            emit(write_rows(tmpdir, "enterprise_enterprisecustomeruser", seed_apps.CUSTOMER_USER_COLUMNS,
                            iter(linked)))
            emit(write_rows(tmpdir, "enterprise_pendingenterprisecustomeruser", seed_apps.PENDING_COLUMNS,
                            iter(pending)))
            emit(write_rows(tmpdir, "split_modulestore_django_splitmodulestorecourseindex",
                            ["id", "objectid", "course_id", "org", "draft_version", "published_version",
                             "library_version", "wiki_slug", "base_store", "edited_on", "last_update",
                             "edited_by_id"], gen_split_index(w, r("splitindex"))))
        sm = Table("courseware_studentmodule", SM_COLUMNS)
        sm.path = os.path.join(tmpdir, sm.name + ".tsv")
        tables.append(sm)
        if args.keep_tsv:
            gen_studentmodule(w, args.studentmodule_rows, sm.path, args.seed, sm)
            loader.q.put(sm)
            loaders = [loader]
        else:
            # Stream the big table through a named pipe: the server loads it
            # while Python generates it (two cores busy instead of one).
            os.mkfifo(sm.path, 0o600)
            sm_loader = Loader(db)
            loaders = [loader, sm_loader]

            def open_pipe():
                sm_loader.start()
                sm_loader.q.put(sm)
                sm_loader.q.put(None)
                return open_fifo_for_writing(sm.path, sm_loader)

            try:
                gen_studentmodule(w, args.studentmodule_rows, open_pipe, args.seed, sm)
            except BrokenPipeError:
                sm_loader.join()
                raise RuntimeError("loading courseware_studentmodule failed: %s" % (sm_loader.error,))
        loader.q.put(None)
        for ld in loaders:
            ld.join()
            if ld.error:
                raise RuntimeError(str(ld.error))

        derived = seed_derived(db, tmpdir, args.seed, say)
        loader.results += derived
        tables += [r[0] for r in derived]

        failed = False
        say("%-52s %10s %8s %8s" % ("table", "rows", "gen s", "load s"))
        for t, loaded, warnings, extra, load_s in [r for ld in loaders for r in ld.results]:
            flag = ""
            if loaded != t.rows or warnings:
                failed = True
                flag = "  <-- loaded %s of %d rows, %s warnings" % (loaded, t.rows, warnings)
            say("%-52s %10d %8.2f %8.2f%s" % (t.name, t.rows, t.gen_s, load_s, flag))
            for line in extra:
                print("    " + line, file=sys.stderr)
        total_rows = sum(t.rows for t in tables)
        say("%-52s %10d" % ("total", total_rows))
        say("done in %.1fs (database %s on %s:%d, seed %d)" % (time.perf_counter() - t_start, args.database,
                                                              args.host, args.port, args.seed))
        if failed:
            print("seed.py: some loads did not match the generated rows", file=sys.stderr)
            return 1
        return 0
    except RuntimeError as e:
        print("seed.py: %s" % e, file=sys.stderr)
        return 1
    finally:
        if args.keep_tsv:
            for leftover in ("client.cnf",):
                try:
                    os.unlink(os.path.join(tmpdir, leftover))
                except OSError:
                    pass
        else:
            shutil.rmtree(tmpdir, ignore_errors=True)


CO_COLUMNS = [
    "id", "_location", "entrance_exam_id", "external_id", "created", "modified", "start", "end",
    "enrollment_start", "enrollment_end", "announcement", "certificate_available_date", "start_date", "end_date",
    "version", "max_student_enrollments_allowed", "display_number_with_default", "display_org_with_default",
    "org", "course_image_url", "banner_image_url", "cert_name_short", "cert_name_long",
    "_pre_requisite_courses_json", "display_name", "advertised_start", "social_sharing_url",
    "end_of_course_survey_url", "certificates_display_behavior", "enrollment_domain", "catalog_visibility",
    "course_video_url", "effort", "short_description", "marketing_url", "language",
    "proctoring_escalation_email", "proctoring_provider", "certificates_show_before_end",
    "cert_html_view_enabled", "has_any_active_web_certificate", "mobile_available", "visible_to_staff_only",
    "invitation_only", "self_paced", "eligible_for_financial_aid", "allow_proctoring_opt_out",
    "enable_proctored_exams", "entrance_exam_enabled", "force_on_flexible_peer_openassessments",
    "has_highlights", "lowest_passing_grade", "days_early_for_beta", "entrance_exam_minimum_score_pct",
]

if __name__ == "__main__":
    sys.exit(main())
