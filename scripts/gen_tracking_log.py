#!/usr/bin/env python3
"""Writes a realistic tracking log of about SIZE_MB megabytes for the benchmark: Tutor's
logger prefix, server events with an object `event`, browser events with a JSON-string
`event`, a few large problem_check events, times spread over two UTC days.

    gen_tracking_log.py SIZE_MB OUT
"""

import json
import random
import sys

size = int(sys.argv[1]) * 1_000_000
rng = random.Random(42)
courses = ["course-v1:Org%d+C%d+2024" % (i % 7, i) for i in range(40)]
names = ["edx.ui.lms.sequence.next_selected", "play_video", "problem_check",
         "edx.course.enrollment.activated", "page_close", "showanswer"]
written = 0
seconds = 0.0
with open(sys.argv[2], "w") as out:
    while written < size:
        batch = []
        for _ in range(1000):
            seconds += rng.random() * 0.3
            day = 5 + int(seconds // 86400)
            rem = seconds % 86400
            t = "2024-03-%02dT%02d:%02d:%09.6f+00:00" % (day, rem // 3600, rem % 3600 // 60, rem % 60)
            name = rng.choice(names)
            course = rng.choice(courses)
            user = rng.randrange(100000)
            browser = name in ("play_video", "page_close", "edx.ui.lms.sequence.next_selected")
            payload = {"id": "block-v1:%s+type@video+block@%032x" % (course[10:], rng.getrandbits(128)),
                       "currentTime": round(rng.random() * 600, 3), "code": "html5"}
            if name == "problem_check":
                payload = {"answers": {"q%d" % i: "choice_%d" % rng.randrange(4) for i in range(rng.randrange(1, 30))},
                           "grade": rng.randrange(5), "max_grade": 4, "attempts": 1,
                           "state": {"student_answers": {}, "seed": 1, "done": True}}
            event = {
                "name": name, "event_type": name, "time": t,
                "username": "user%d" % user, "event_source": "browser" if browser else "server",
                "context": {"course_id": course, "org_id": course[10:14], "user_id": user,
                            "path": "/event", "user_agent": "Mozilla/5.0", "host": "lms.example.com"},
                "event": json.dumps(payload) if browser else payload,
                "page": "https://lms.example.com/courses/%s/courseware" % course if browser else None,
                "session": "%032x" % rng.getrandbits(128), "ip": "10.%d.%d.%d" % (rng.randrange(255), rng.randrange(255), rng.randrange(255)),
                "agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36", "host": "lms.example.com",
                "referer": "https://lms.example.com/dashboard", "accept_language": "en-US,en;q=0.9",
            }
            prefix = "2024-03-%02d %02d:%02d:%02d,%03d INFO 19 [tracking] [user %d] [ip 10.0.0.1] logger.py:41 - " % (
                day, rem // 3600, rem % 3600 // 60, rem % 60, int(rem * 1000) % 1000, user)
            batch.append(prefix + json.dumps(event) + "\n")
        chunk = "".join(batch)
        out.write(chunk)
        written += len(chunk)
