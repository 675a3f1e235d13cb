"""File formats for scripts/gen_research_packages.py: the exporter's TSV, the documented
parser, gpg through its command line, and tracking-log events streamed through gzip and
gpg. Sources of each rule are in gen_research_packages.py's docstring.
"""

import datetime as dt
import gzip
import json
import os
import shutil
import subprocess
import tempfile

from rdp_model import text


# ---- the .sql files ----------------------------------------------------------------
def escape(value):
    """exporter/mysql_query.py _normalize_value: NULL as the text NULL; backslash first,
    then CR, tab, LF as two-character sequences; NUL removed."""
    if value is None:
        return "NULL"
    return (text(value).replace("\\", "\\\\").replace("\r", "\\r")
            .replace("\t", "\\t").replace("\n", "\\n"))


def sql_file(columns, rows, raw_cr_column=None, raw_cr_when=None):
    """Header row, then one LF-terminated record per row (csv.writer, QUOTE_NONE,
    lineterminator '\\n'). raw_cr_column/raw_cr_when: the cell whose CR stays raw, as
    older exports left it (records are delimited by LF only, so it is still data)."""
    out = ["\t".join(columns) + "\n"]
    for row in rows:
        cells = [escape(v) for v in row]
        if raw_cr_column is not None and raw_cr_when(row):
            i = columns.index(raw_cr_column)
            cells[i] = cells[i].replace("\\r", "\r")
        out.append("\t".join(cells) + "\n")
    return "".join(out).encode("utf-8")


def parse_sql(data):
    """The documented rules, as an importer applies them: UTF-8; records end at LF only;
    fields split at tab; the field NULL is NULL; \\\\ \\t \\n \\r undone left to right.
    Returns (header, rows)."""
    lines = data.decode("utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    header = lines[0].split("\t")
    rows = []
    for n, line in enumerate(lines[1:], start=2):
        fields = line.split("\t")
        if len(fields) != len(header):
            raise ValueError("line %d has %d fields, the header %d" % (n, len(fields), len(header)))
        rows.append([None if f == "NULL" else unescape(f) for f in fields])
    return header, rows


def unescape(field):
    out, i = [], 0
    while i < len(field):
        c = field[i]
        if c == "\\" and i + 1 < len(field):
            out.append({"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}.get(field[i + 1], "\\" + field[i + 1]))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


# ---- gpg ---------------------------------------------------------------------------
class Gpg:
    """The system gpg, batch mode, one home directory. Binary (not armored) output, as
    exporter/main.py encrypt_files writes it (python-gnupg, armor=False)."""

    def __init__(self, home, recipient):
        self.home, self.recipient = home, recipient

    def _base(self):
        return ["gpg", "--batch", "--yes", "--quiet", "--homedir", self.home, "--trust-model", "always"]

    def encrypt(self, data, out_path, compress=True):
        cmd = self._base() + ["--recipient", self.recipient, "--output", out_path]
        if not compress:
            cmd += ["--compress-algo", "none"]
        subprocess.run(cmd + ["--encrypt"], input=data, check=True, stderr=subprocess.PIPE)

    def encrypt_stream(self, out_path, compress=False):
        """A gpg process whose stdin is encrypted into out_path (the caller writes and
        closes stdin, then waits)."""
        cmd = self._base() + ["--recipient", self.recipient, "--output", out_path]
        if not compress:
            cmd += ["--compress-algo", "none"]
        return subprocess.Popen(cmd + ["--encrypt"], stdin=subprocess.PIPE)

    def decrypt(self, path):
        return subprocess.run(self._base() + ["--decrypt", path], check=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout


def make_key(home, name="rdpgen test key"):
    """A throwaway key without passphrase (ed25519 + cv25519: fast to make). Returns its
    fingerprint."""
    os.makedirs(home, mode=0o700, exist_ok=True)
    params = ("%%no-protection\nKey-Type: eddsa\nKey-Curve: ed25519\nKey-Usage: sign\n"
              "Subkey-Type: ecdh\nSubkey-Curve: cv25519\nSubkey-Usage: encrypt\n"
              "Name-Real: %s\nName-Email: rdpgen@example.invalid\nExpire-Date: 0\n%%commit\n" % name)
    subprocess.run(["gpg", "--batch", "--quiet", "--homedir", home, "--gen-key"],
                   input=params.encode(), check=True, stderr=subprocess.PIPE)
    listing = subprocess.run(["gpg", "--batch", "--quiet", "--homedir", home, "--with-colons", "--list-keys"],
                             check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.decode()
    fprs = [line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:")]
    return fprs[0]


def stop_agent(home):
    """gpg starts an agent per home directory; stop the one of a directory we made."""
    subprocess.run(["gpgconf", "--homedir", home, "--kill", "gpg-agent"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# ---- tracking-log events -----------------------------------------------------------
def event_time(d):
    """common_fields.rst: ISO-8601 with +00:00; microseconds omitted when zero."""
    return d.isoformat() + "+00:00"


class Events:
    """Tracking-log events (openedx/edx-documentation tracking_logs/common_fields.rst)
    of the world's learners in one org's courses."""

    NAMES = [("problem_check", "server"), ("edx.course.enrollment.activated", "server"),
             ("play_video", "browser"), ("pause_video", "browser"),
             ("edx.ui.lms.sequence.next_selected", "browser"), ("edx.video.played", "mobile")]

    def __init__(self, world, org, rng, host="courses.edx.org"):
        self.world, self.org, self.rng, self.host = world, org, rng, host
        self.pairs = sorted((uid, cid) for (uid, cid) in world.enroll if world.courses[cid]["org"] == org)

    def make(self, at, received_at=None, kind=None):
        r = self.rng
        # Only learners enrolled by then (the world holds the last export's enrollments).
        pairs = [p for p in self.pairs if self.world.enroll[p]["created"] <= at] or self.pairs
        uid, cid = pairs[r.randrange(len(pairs))]
        user = self.world.users[uid]
        name, source = kind or self.NAMES[r.randrange(len(self.NAMES) - 1)]
        probs = self.world.problems(cid)
        block = probs[r.randrange(len(probs))]
        if name == "problem_check":
            payload = {"problem_id": block, "attempts": 1 + r.randrange(3), "grade": r.randrange(2), "max_grade": 1,
                       "answers": {block.split("@")[-1] + "_2_1": r.choice(["choice_0", "naïve \"answer\"", "a\\b\tc"])},
                       "success": r.choice(["correct", "incorrect"])}
        elif name.startswith("edx.course.enrollment"):
            payload = {"course_id": cid, "user_id": uid, "mode": "audit"}
        else:
            payload = {"id": block.replace("problem", "video"), "currentTime": round(r.random() * 600, 3), "code": "html5"}
        context = {"course_id": cid, "org_id": self.org, "user_id": uid, "path": "/event",
                   "user_agent": "Mozilla/5.0", "host": self.host}
        if received_at is not None:
            context["received_at"] = event_time(received_at)
        ev = {"name": name, "event_type": name, "time": event_time(at), "username": user["username_at_signup"],
              "event_source": source, "context": context,
              "event": json.dumps(payload) if source == "browser" else payload,
              "page": "https://%s/courses/%s/courseware" % (self.host, cid) if source == "browser" else None,
              "session": "%032x" % r.getrandbits(128), "ip": "10.0.%d.%d" % (r.randrange(255), r.randrange(255)),
              "agent": "Mozilla/5.0 (X11; Linux x86_64)", "host": self.host,
              "referer": "https://%s/dashboard" % self.host, "accept_language": "en-US,en;q=0.9"}
        return ev

    def day(self, day, count, late_mobile):
        """count events of `day` (the export's file day is the event's time day, or
        context.received_at's for mobile events: event_exports.py get_event_time), then
        late_mobile mobile events from the previous evening that reached the server on
        `day`, so they are in this day's file but belong to the previous event day."""
        start = dt.datetime.combine(day, dt.time())
        for i in range(count):
            us = 0 if i % 10 == 0 else self.rng.randrange(1, 1000000)
            yield self.make(start + dt.timedelta(seconds=self.rng.randrange(86400), microseconds=us))
        for i in range(late_mobile):
            at = start - dt.timedelta(seconds=30 + i, microseconds=500)
            yield self.make(at, received_at=start + dt.timedelta(seconds=5 + i), kind=("edx.video.played", "mobile"))


def write_event_file(path, events, gpg, counts, extra_bytes=0, filler=None):
    """Stream events as JSON lines through gzip (and gpg unless gpg is None) into path.
    counts[event day] is incremented per line. With extra_bytes, filler() events are
    appended until that many uncompressed bytes are written (the big-file benchmark);
    nothing is held in memory. Returns (lines, uncompressed bytes)."""
    tmp = path + ".part"
    proc = None
    if gpg is None:
        sink = open(tmp, "wb")
    else:
        proc = gpg.encrypt_stream(tmp)
        sink = proc.stdin
    lines = size = 0
    # gzip.GzipFile over a pipe: the exporter's order (gzip, then encrypt), streamed.
    with gzip.GzipFile(filename="", mode="wb", fileobj=sink, compresslevel=6, mtime=0) as gz:
        def put(ev):
            nonlocal lines, size
            line = (json.dumps(ev) + "\n").encode("utf-8")  # ASCII, \u escapes: json.dumps defaults, as eventtracking logs
            gz.write(line)
            lines += 1
            size += len(line)
            counts[ev["time"][:10]] = counts.get(ev["time"][:10], 0) + 1
        for ev in events:
            put(ev)
        while size < extra_bytes:
            put(filler())
    sink.close()
    if proc is not None and proc.wait() != 0:
        raise SystemExit("gpg failed encrypting %s" % path)
    os.replace(tmp, path)
    return lines, size


def truncate_copy(src, dst, keep):
    with open(src, "rb") as f:
        data = f.read()
    with open(dst, "wb") as f:
        f.write(data[: max(1, int(len(data) * keep))])


def temp_home():
    """A short path for a gpg home (its agent's socket path has a length limit)."""
    return tempfile.mkdtemp(prefix="rdpg-", dir="/tmp")


def remove_home(home):
    stop_agent(home)
    shutil.rmtree(home, ignore_errors=True)
