#!/usr/bin/env python3
"""Seed split-modulestore documents (modulestore.active_versions, .structures,
.definitions) into a MongoDB server (the local wire-compatible test server).

Two modes:
  --world      the courses of scripts/seed.py (same --seed/--users/--courses): every
               course-v1 course gets a published structure whose _id is the
               published_version seed.py put in MySQL's split course index, and whose
               blocks include the block ids seed.py used in courseware_studentmodule,
               so the demo lake joins learner activity to the outline.
  --synthetic N  N courses of --blocks blocks each (benchmark), listed in
               active_versions only (use course_structures.course_index = "mongodb").

The collections are emptied first. Needs pymongo (in the stack's venv).

Examples:
  .venv/bin/python scripts/seed_mongo.py --world
  .venv/bin/python scripts/seed_mongo.py --synthetic 1000 --blocks 400 --database edlake_bench
"""

import argparse
import datetime as dt
import importlib.util
import os
import random
import sys
import time

import bson
import pymongo

HERE = os.path.dirname(os.path.abspath(__file__))
COMPONENTS = [("problem", 45), ("video", 20), ("html", 25), ("drag-and-drop-v2", 4),
              ("openassessment", 3), ("library_content", 3)]
RESPONSES = [("multiplechoiceresponse", '<choicegroup type="MultipleChoice"><choice correct="true">Yes</choice>'
                                        '<choice correct="false">No</choice></choicegroup>'),
             ("stringresponse", '<textline size="20"/>'),
             ("numericalresponse", '<formulaequationinput/>'),
             ("optionresponse", '<optioninput options="(\'a\',\'b\')" correct="a"/>'),
             ("choiceresponse", '<checkboxgroup><choice correct="true">A</choice></checkboxgroup>')]


def weighted(rng, pairs):
    x = rng.random() * sum(w for _, w in pairs)
    for value, w in pairs:
        x -= w
        if x < 0:
            return value
    return pairs[-1][0]


def hexid(rng):
    return "%032x" % rng.getrandbits(128)


def olx(rng, n_responses):
    """Problem OLX with n responses; a commented-out response must not count."""
    parts = ["<problem>", "<p>Question &amp; context, caf\u00e9 \u2014 \u00bfpor qu\u00e9?</p>",
             "<!-- <stringresponse><textline/></stringresponse> -->"]
    for _ in range(n_responses):
        tag, inputs = rng.choice(RESPONSES)
        parts.append("<%s>%s</%s>" % (tag, inputs, tag))
    parts.append("</problem>")
    return "".join(parts)


def build_course(rng, key_parts, version, block_ids, now):
    """One published structure with its definitions. `block_ids` is [(type, id)], the
    first being the root; chapters, sequentials and components are arranged in a tree
    (verticals are added, as courseware_studentmodule rarely names them)."""
    org, code, run = key_parts
    by_type = {}
    for t, b in block_ids[1:]:
        by_type.setdefault(t, []).append(b)
    chapters = by_type.pop("chapter", []) or [hexid(rng)]
    sequentials = by_type.pop("sequential", []) or [hexid(rng)]
    components = [(t, b) for t, ids in by_type.items() for b in ids]
    rng.shuffle(components)
    definitions, blocks = [], []

    def block(t, b, fields, definition_fields=None):
        d_id = bson.ObjectId()
        blocks.append({"block_type": t, "block_id": b, "definition": d_id, "fields": fields,
                       "defaults": {}, "asides": [],
                       "edit_info": {"edited_on": now, "edited_by": 3, "previous_version": None,
                                     "update_version": version, "source_version": None}})
        if definition_fields is not None:
            definitions.append({"_id": d_id, "block_type": t, "fields": definition_fields,
                                "edit_info": {"edited_on": now, "edited_by": 3}, "schema_version": 1})
        return b

    def component(t, b):
        name = "%s %s" % (t.replace("_", " ").title(), b[:6])
        fields = {"display_name": name}
        if t == "problem":
            fields["markdown"] = "Question with a long markdown body. " * 15
            fields["max_attempts"] = 3
            roll = rng.random()
            if roll < 0.1:
                fields["weight"] = 0
            elif roll < 0.25:
                fields["weight"] = rng.choice([1, 2, 0.5, 10])
            if "weight" in fields:
                return block(t, b, fields)
            return block(t, b, fields, {"data": olx(rng, 1 + int(rng.random() * 3))})
        if t == "library_content":
            kids = []
            for _ in range(2):
                kid = hexid(rng)[:20]
                blocks.append({"block_type": "problem", "block_id": kid, "definition": bson.ObjectId(),
                               "fields": {}, "defaults": {"display_name": "Library problem", "weight": 1},
                               "edit_info": {"original_usage": "lib-block-v1:%s+Lib+type@problem+block@%s"
                                             % (org, kid)}})
                kids.append(["problem", kid])
            fields["children"] = kids
            fields["max_count"] = 1
            return block(t, b, fields)
        return block(t, b, fields, {"data": "<p>Body of %s</p>" % b})

    # Verticals of 1-4 components, spread over sequentials, spread over chapters.
    verticals, i = [], 0
    while i < len(components):
        n = 1 + int(rng.random() * 4)
        kids = [[t, component(t, b)] for t, b in components[i:i + n]]
        i += n
        v = hexid(rng)
        verticals.append(["vertical", block("vertical", v, {"display_name": "Unit %d" % (len(verticals) + 1),
                                                           "children": kids})])
    seq_children = {s: [] for s in sequentials}
    for n, v in enumerate(verticals):
        seq_children[sequentials[n % len(sequentials)]].append(v)
    ch_children = {c: [] for c in chapters}
    start = dt.datetime(2025, 1, 6, 9, 0, tzinfo=dt.timezone.utc)
    for n, s in enumerate(sequentials):
        graded = n % 3 == 0
        fields = {"display_name": "Subsection %d" % (n + 1), "children": seq_children[s]}
        if graded:
            fields.update(graded=True, format=rng.choice(["Homework", "Lab", "Exam"]),
                          due=(start + dt.timedelta(weeks=n + 1)).strftime("%Y-%m-%dT%H:%M:%SZ"))
        ch_children[chapters[n % len(chapters)]].append(["sequential", block("sequential", s, fields)])
    for n, c in enumerate(chapters):
        fields = {"display_name": "Week %d" % (n + 1), "children": ch_children[c],
                  "start": start + dt.timedelta(weeks=n)}
        if n == len(chapters) - 1 and len(chapters) > 2:
            fields["visible_to_staff_only"] = True
        block("chapter", c, fields)
    root_type, root_id = block_ids[0]
    block(root_type, root_id, {"display_name": "%s %s (%s)" % (org, code, run),
                               "children": [["chapter", c] for c in chapters], "start": start},
          {"grading_policy": {"GRADER": [], "GRADE_CUTOFFS": {"Pass": 0.5}}, "wiki_slug": code})
    # The about and static-tab blocks live outside the tree, and one orphan.
    block("about", "overview", {}, {"data": "<section>About</section>"})
    block("html", hexid(rng), {"display_name": "Deleted unit text (orphan)"}, {"data": "<p>orphan</p>"})
    rng.shuffle(blocks)  # block order in the document is arbitrary
    structure = {"_id": version, "root": [root_type, root_id], "previous_version": None,
                 "original_version": version, "edited_by": 3, "edited_on": now, "schema_version": 1,
                 "blocks": blocks}
    return structure, definitions


def insert(db, structures, definitions, active):
    if structures:
        db["modulestore.structures"].insert_many(structures)
    if definitions:
        db["modulestore.definitions"].insert_many(definitions)
    if active:
        db["modulestore.active_versions"].insert_many(active)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--world", action="store_true", help="the courses of scripts/seed.py")
    mode.add_argument("--synthetic", type=int, metavar="N", help="N synthetic courses")
    p.add_argument("--blocks", type=int, default=400, help="blocks per synthetic course (default 400)")
    p.add_argument("--url", default="mongodb://127.0.0.1:27017/?directConnection=true")
    p.add_argument("--database", default="openedx")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--users", type=int, default=2000)
    p.add_argument("--courses", type=int, default=40)
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args()
    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, flush=True))
    t0 = time.perf_counter()
    db = pymongo.MongoClient(args.url, serverSelectionTimeoutMS=5000)[args.database]
    for name in ("modulestore.structures", "modulestore.definitions", "modulestore.active_versions"):
        db[name].drop()
    now = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    n_courses = n_blocks = 0
    if args.world:
        spec = importlib.util.spec_from_file_location("seed", os.path.join(HERE, "seed.py"))
        seed = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(seed)
        world = seed.World(args.seed, args.users, args.courses)
        for c in world.courses:
            if c.kind != "course-v1" or not c.published:
                continue
            rng = random.Random("%s:structure:%s" % (args.seed, c.key))
            version = bson.ObjectId(c.published)
            structure, definitions = build_course(rng, (c.org, c.code, c.run), version,
                                                  c.blocks(c.base_blocks), now)
            active = {"_id": bson.ObjectId(c.objectid), "org": c.org, "course": c.code, "run": c.run,
                      "edited_by": 3, "edited_on": now, "last_update": now, "schema_version": 1,
                      "versions": {"draft-branch": bson.ObjectId(c.draft), "published-branch": version},
                      "search_targets": {"wiki_slug": c.code}}
            insert(db, [structure], definitions, [active])
            n_courses += 1
            n_blocks += len(structure["blocks"])
    else:
        rng = random.Random(args.seed)
        batch_s, batch_d, batch_a = [], [], []
        for i in range(args.synthetic):
            org, code, run = "BenchX", "C%05d" % i, "2025_T1"
            version = bson.ObjectId()
            ids = [("course", "course")]
            ids += [("chapter", hexid(rng)) for _ in range(8)]
            ids += [("sequential", hexid(rng)) for _ in range(24)]
            # components to reach --blocks (verticals, about and the orphan come on top)
            comps = max(0, int((args.blocks - 35) * 0.72))
            ids += [(weighted(rng, COMPONENTS), hexid(rng)) for _ in range(comps)]
            structure, definitions = build_course(rng, (org, code, run), version, ids, now)
            batch_s.append(structure)
            batch_d.extend(definitions)
            batch_a.append({"_id": bson.ObjectId(), "org": org, "course": code, "run": run,
                            "versions": {"draft-branch": version, "published-branch": version},
                            "edited_on": now, "last_update": now, "schema_version": 1})
            n_courses += 1
            n_blocks += len(structure["blocks"])
            if len(batch_s) >= 50:
                insert(db, batch_s, batch_d, batch_a)
                batch_s, batch_d, batch_a = [], [], []
        insert(db, batch_s, batch_d, batch_a)
    say("seeded %d courses, %d blocks into %s (%.1fs)" % (n_courses, n_blocks, args.database,
                                                          time.perf_counter() - t0))


if __name__ == "__main__":
    sys.exit(main())
