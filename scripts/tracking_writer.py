#!/usr/bin/env python3
"""Writes numbered tracking events the way the LMS does: through the `tracking` logger, a
logging.handlers.WatchedFileHandler (reopens the file when it is renamed) and Tutor's
`standard` format.

    tracking_writer.py PATH --writer W --count N --rate R --start ISO --step-ms S

Event i of writer W has `event.seq = i`, `event.writer = W` and
`time = start + i * step` (UTC), so a run can straddle midnight. Prints `done N` at the end.
"""

import argparse
import datetime as dt
import json
import logging
import logging.handlers
import os
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("path")
    p.add_argument("--writer", default="w0")
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--rate", type=float, default=1000.0, help="events per second")
    p.add_argument("--start", default="2024-03-05T23:59:58+00:00")
    p.add_argument("--step-ms", type=float, default=1.0)
    args = p.parse_args()

    handler = logging.handlers.WatchedFileHandler(args.path)
    # openedx/core/lib/logsettings.py `standard`, with Tutor's fields filled in.
    handler.setFormatter(logging.Formatter(
        "%(asctime)s %(levelname)s %(process)d [%(name)s] [user %(userid)s] "
        "[ip %(remoteip)s] %(filename)s:%(lineno)d - %(message)s"))
    logger = logging.getLogger("tracking")
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    logger.propagate = False

    start = dt.datetime.fromisoformat(args.start)
    began = time.monotonic()
    for i in range(args.count):
        when = start + dt.timedelta(milliseconds=i * args.step_ms)
        event = {
            "name": "edx.test.numbered",
            "event_type": "edx.test.numbered",
            "time": when.isoformat(),
            "username": "learner%d" % (i % 50),
            "event_source": "server",
            "context": {"course_id": "course-v1:Org+C+R", "org_id": "Org",
                        "user_id": i % 50, "path": "/event"},
            "event": {"seq": i, "writer": args.writer},
            "page": None,
            "session": "%032x" % i,
            "host": "lms.example.com",
        }
        logger.info(json.dumps(event), extra={"userid": i % 50, "remoteip": "10.0.0.1"})
        # A steady rate, without drifting.
        delay = began + (i + 1) / args.rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    handler.close()
    print("done %d" % args.count, flush=True)


if __name__ == "__main__":
    os.umask(0o022)
    main()
