"""The tables of the apps around the LMS core, for scripts/seed.py: open response
assessments (edx-submissions), block completion, edx-enterprise, site configuration,
and the openedx-progress plugin; and the older release seed.py can create instead of the
current one (--release). Standard library only, deterministic like seed.py.

What the tests can rely on:
  * site_configuration_siteconfiguration.site_values holds fake secrets, every one
    containing SECRET_MARKER: no lake file may ever contain it;
  * completion_blockcompletion has one row per completable courseware_studentmodule row
    (same user, course and block), and the progress summaries count those rows;
  * submissions come from the openassessment rows of courseware_studentmodule: the
    student item's student_id is the learner's anonymous id in that course, raw_answer is
    edx-submissions' JSON with non-ASCII text and newlines (escaped by json.dumps as
    edx-submissions does since its 0003_ensure_ascii, raw in older rows);
  * pending enterprise learners have e-mails in mixed case.
"""

import json

SECRET_MARKER = "EDLAKE_FAKE_SECRET"

# What an older release's database lacks, against schema.sql (the current release).
# Sumac (Open edX 2024-12, Tutor 19): edx-enterprise 5.x stops before migrations 0229
# (user_fk, 2025-02), 0238 (2025-05), 0247 and 0249 (2026); the openedx-progress plugin
# (2026) does not exist. edx-submissions, completion and edx-platform's tables have the
# same columns (their later migrations only rename indexes or add other tables).
RELEASES = {
    "verawood": {"tables": [], "columns": {}},
    "sumac": {
        "tables": ["openedx_progress_coursecompletionsummary"],
        "columns": {
            "enterprise_enterprisecustomeruser": ["user_fk"],
            "enterprise_enterprisecustomer": [
                "enable_learner_credit_message_box",
                "enable_credit_and_industry_pathways",
                "enable_people_management",
            ],
        },
    },
}


def schema_for(release, sql):
    """schema.sql's statements (seed.py's split) as the release has them."""
    drop = RELEASES[release]
    out = []
    for stmt in sql:
        if any("`%s`" % t in stmt for t in drop["tables"]):
            continue
        for table, columns in drop["columns"].items():
            if "CREATE TABLE `%s`" % table in stmt:
                lines = stmt.split("\n")
                lines = [ln for ln in lines
                         if not any(("`%s`" % c) in ln for c in columns)]
                # If the table's last key went, the line before ")" keeps no comma.
                for i in range(1, len(lines)):
                    if lines[i].startswith(")"):
                        lines[i - 1] = lines[i - 1].rstrip(",")
                stmt = "\n".join(lines)
        out.append(stmt)
    return out


def keep_columns(release, table, columns):
    """Indexes of `columns` the release's table has; None when the table is absent."""
    drop = RELEASES[release]
    if table in drop["tables"]:
        return None
    gone = drop["columns"].get(table, [])
    return [i for i, c in enumerate(columns) if c not in gone]


# ------------------------------------------------------------------ site configuration

SITE_CONFIGURATION_COLUMNS = ["id", "site_id", "enabled", "site_values"]


def gen_site_configuration(esc):
    """Two sites; their settings mix what analytics would like (platform name, org
    filter) with the secrets operators really keep there."""
    main = {
        "PLATFORM_NAME": "Académie Ouverte",
        "LANGUAGE_CODE": "fr",
        "course_org_filter": ["UnivCafé", "edX"],
        "ENABLE_ENTERPRISE_INTEGRATION": True,
        "SEGMENT_KEY": "EDLAKE_FAKE_SECRET_segment_8c1f0e",
        "STRIPE_API_KEY": "sk_live_EDLAKE_FAKE_SECRET_4242424242",
        "SOCIAL_AUTH_OAUTH_SECRETS": {"azuread-oauth2": "EDLAKE_FAKE_SECRET~azure/+==\ttab"},
        "email_from_address": "no-reply@academie.example",
        "contact_mailing_address": "1 rue de l'École\nParis",
    }
    second = {
        "PLATFORM_NAME": "Partner \"Portal\"",
        "course_org_filter": "MITx",
        "OPENAI_API_KEY": "sk-EDLAKE_FAKE_SECRET-proj-0123456789",
        "MKTG_URLS": {"ROOT": "https://partner.example"},
    }
    yield ["1", "1", "1", esc(json.dumps(main, ensure_ascii=False))]
    # Pretty-printed by hand in the Django admin: raw newlines inside the value.
    yield ["2", "2", "0", esc(json.dumps(second, indent=2))]


# ------------------------------------------------------------------ enterprise

CUSTOMER_COLUMNS = [
    "created", "modified", "uuid", "name", "slug", "active", "country", "hide_course_original_price",
    "enable_data_sharing_consent", "enforce_data_sharing_consent", "enable_audit_enrollment",
    "enable_audit_data_reporting", "replace_sensitive_sso_username", "enable_autocohorting",
    "enable_portal_code_management_screen", "enable_portal_reporting_config_screen",
    "enable_portal_subscription_management_screen", "enable_learner_portal", "contact_email",
    "customer_type_id", "site_id", "enable_slug_login", "enable_portal_saml_configuration_screen",
    "default_contract_discount", "enable_analytics_screen",
    "enable_integrated_customer_learner_portal_search", "default_language",
    "enable_portal_lms_configurations_screen", "sender_alias", "reply_to", "hide_labor_market_data",
    "enable_universal_link", "enable_browse_and_request", "enable_learner_portal_offers",
    "enable_portal_learner_credit_management_screen", "enable_executive_education_2U_fulfillment",
    "auth_org_id", "enable_generation_of_api_credentials", "enable_pathways", "enable_programs",
    "enable_demo_data_for_analytics_and_lpr", "enable_academies", "enable_one_academy",
    "disable_expiry_messaging_for_learner_credit", "enable_learner_portal_sidebar_message",
    "learner_portal_sidebar_content", "show_videos_in_learner_portal_search_results",
    "enable_learner_credit_message_box", "enable_credit_and_industry_pathways",
    "enable_people_management",
]
CUSTOMER_USER_COLUMNS = [
    "id", "created", "modified", "user_id", "active", "linked", "enterprise_customer_id",
    "invite_key_id", "should_inactivate_other_customers", "is_relinkable", "user_fk",
]
PENDING_COLUMNS = ["id", "created", "modified", "user_email", "enterprise_customer_id"]


def gen_enterprise(w, rng, esc, ts, hexid, null, start, end, day_us):
    """(customers, customer users, pending users) rows."""
    names = [("Acme Learning Co.", "acme", "US"), ("Universidad Ñandú", "nandu", "AR"),
             ("東京トレーニング株式会社", "tokyo-training", "JP")]
    customers, uuids = [], []
    for i, (name, slug, country) in enumerate(names):
        uuid = hexid(rng)
        uuids.append(uuid)
        created = start + int(rng.random() * 200 * day_us)
        modified = min(end, created + int(rng.random() * 400 * day_us))
        flags = ["1" if rng.random() < 0.5 else "0" for _ in range(60)]
        row = {
            "created": ts(created), "modified": ts(modified), "uuid": uuid, "name": esc(name),
            "slug": slug, "active": "1" if i < 2 else "0", "country": country,
            "enforce_data_sharing_consent": "at_enrollment" if i != 1 else "externally_managed",
            "contact_email": null if i == 2 else esc("admin@%s.example" % slug),
            "customer_type_id": "1", "site_id": "1",
            "default_contract_discount": null if i else "12.50000",
            "default_language": null if i != 1 else "es-419",
            "sender_alias": null if i != 0 else esc("Acme \"Academy\""),
            "reply_to": null, "auth_org_id": null if i else "org_" + hexid(rng, 64),
            "learner_portal_sidebar_content": esc("" if i else "<p>Welcome!\nBienvenue — 欢迎</p>"),
        }
        customers.append([row[c] if c in row else flags[j] for j, c in enumerate(CUSTOMER_COLUMNS)])
    linked, pending = [], []
    learners = [u for u in w.users if not u["staff"] and not u["retired"]]
    chosen = sorted(rng.sample(learners, max(3, len(learners) // 20)), key=lambda u: u["id"])
    for i, u in enumerate(chosen, 1):
        created = max(u["joined"], start) + int(rng.random() * 30 * day_us)
        created = min(end, created)
        modified = created if rng.random() < 0.6 else min(end, created + int(rng.random() * 90 * day_us))
        linked.append([str(i), ts(created), ts(modified), str(u["id"]), "1" if rng.random() < 0.9 else "0",
                       "1", uuids[i % 2], null, "1", "1", str(u["id"])])
    for i in range(1, 9):
        who = rng.choice(["Jordan.Lee", "marie-claire.dupont", "O'Connor.Sean", "zhang.wei", "Ana.Núñez"])
        created = start + int(rng.random() * 600 * day_us)
        pending.append([str(i), ts(created), ts(created), esc("%s+%d@Partner.Example" % (who, i)),
                        uuids[i % 3]])
    return customers, linked, pending


# ------------------------------------------------------------------ derived from studentmodule

SUBMISSION_TEXTS = [
    "My answer:\nthe café's \"price\" rises, so demand falls.\nQ.E.D.",
    "Réponse : l'élasticité est négative.\r\nVoir le graphique ci-dessous.",
    "答案：供给曲线向右移动。\n第二段。",
    "Tabs\tand, commas; a backslash \\ and an emoji 🎓\n\n(two blank lines above)",
    "Short.",
    "",
]


def raw_answer(rng, n):
    """edx-submissions' answer JSON; 0003_ensure_ascii (2022) escapes non-ASCII, older rows
    kept it raw."""
    parts = [{"text": rng.choice(SUBMISSION_TEXTS)} for _ in range(1 + n % 2)]
    answer = {"parts": parts}
    if rng.random() < 0.15:
        answer["file_keys"] = ["%d/course/block/%032x" % (n, rng.getrandbits(128))]
        answer["files_descriptions"] = ["Diagram — v2"]
        answer["files_names"] = ["schéma final.png"]
    return json.dumps(answer, ensure_ascii=rng.random() < 0.8)


def derived_sql(release):
    """SQL run once courseware_studentmodule is loaded: completions on the same users and
    blocks, then the per-learner progress summaries from them."""
    sql = [
        "TRUNCATE TABLE completion_blockcompletion;",
        # Completable leaf blocks only (the aggregators are computed, never stored).
        "INSERT INTO completion_blockcompletion "
        "(created, modified, course_key, block_key, block_type, completion, user_id) "
        "SELECT m.created, m.modified, m.course_id, m.module_id, m.module_type, "
        "CASE WHEN m.module_type = 'problem' AND m.grade IS NULL THEN 0.0 "
        "WHEN m.module_type = 'video' AND m.id % 5 = 0 THEN 0.0 ELSE 1.0 END, m.student_id "
        "FROM courseware_studentmodule m "
        "WHERE m.module_type NOT IN ('course', 'chapter', 'sequential', 'vertical', 'library_content') "
        "ORDER BY m.modified, m.id;",
    ]
    if keep_columns(release, "openedx_progress_coursecompletionsummary", []) is not None:
        sql += [
            "TRUNCATE TABLE openedx_progress_coursecompletionsummary;",
            "INSERT INTO openedx_progress_coursecompletionsummary "
            "(created, modified, user_id, course_id, complete_count, incomplete_count, locked_count, "
            "percent_complete, computed_at) "
            "SELECT MIN(b.created), MAX(b.modified), b.user_id, b.course_key, "
            "SUM(b.completion = 1), t.units - SUM(b.completion = 1), b.user_id % 3, "
            "ROUND(SUM(b.completion = 1) / t.units, 5), MAX(b.modified) "
            "FROM completion_blockcompletion b JOIN "
            "(SELECT course_key, COUNT(DISTINCT block_key) AS units FROM completion_blockcompletion "
            "GROUP BY course_key) t ON t.course_key = b.course_key "
            "GROUP BY b.user_id, b.course_key, t.units ORDER BY MIN(b.created), b.user_id;",
        ]
    return "\n".join(sql) + "\n"


ORA_QUERY = (
    "SELECT m.student_id, m.course_id, m.module_id, DATE_FORMAT(m.created, '%Y-%m-%d %H:%i:%s.%f'), "
    "(SELECT MIN(a.anonymous_user_id) FROM student_anonymoususerid a "
    " WHERE a.user_id = m.student_id AND a.course_id = m.course_id) "
    "FROM courseware_studentmodule m WHERE m.module_type = 'openassessment' ORDER BY m.id;"
)

STUDENTITEM_COLUMNS = ["id", "student_id", "course_id", "item_id", "item_type"]
TEAM_COLUMNS = ["id", "created", "modified", "uuid", "attempt_number", "submitted_at", "course_id",
                "item_id", "team_id", "status", "submitted_by_id"]
SUBMISSION_COLUMNS = ["id", "uuid", "attempt_number", "submitted_at", "created_at", "raw_answer",
                      "student_item_id", "status", "team_submission_id"]
SCORE_COLUMNS = ["id", "points_earned", "points_possible", "created_at", "reset", "student_item_id",
                 "submission_id"]
SUMMARY_COLUMNS = ["id", "highest_id", "latest_id", "student_item_id"]
ANNOTATION_COLUMNS = ["id", "annotation_type", "creator", "reason", "score_id"]


def _later(text, seconds):
    """A datetime(6) text `seconds` later (text arithmetic kept simple: via datetime)."""
    import datetime as dt
    t = dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f") + dt.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%d %H:%M:%S.%f")


def gen_submissions(rng, ora_rows, esc, null):
    """The ORA tables from the openassessment rows of courseware_studentmodule:
    {table: (columns, rows)}."""
    items, teams, subs, scores, summaries, notes = [], [], [], [], [], []
    team_of = {}
    for student_id, course_id, block, created, anon in ora_rows:
        if anon in (None, "", "NULL"):
            continue
        item_id = len(items) + 1
        items.append([str(item_id), anon, esc(course_id), esc(block), "openassessment"])
        team_id = null
        if rng.random() < 0.1 or not teams:  # a team ORA (at least one): shared by its members
            key = (course_id, block)
            if key not in team_of:
                tid = len(teams) + 1
                team_of[key] = tid
                teams.append([str(tid), created, _later(created, 5), "%032x" % rng.getrandbits(128), "1",
                              created, esc(course_id), esc(block), "team-%d" % (tid % 4), "A",
                              student_id])
            team_id = str(team_of[key])
        item_scores = []
        for attempt in range(1, 2 + (rng.random() < 0.25)):
            sid = len(subs) + 1
            at = _later(created, attempt * 3600 + rng.random() * 60)
            status = "D" if rng.random() < 0.05 else "A"
            subs.append([str(sid), "%032x" % rng.getrandbits(128), str(attempt), at, at,
                         esc(raw_answer(rng, sid)), str(item_id), status, team_id])
            if rng.random() < 0.7:
                score_id = len(scores) + 1
                possible = rng.choice([5, 10, 10, 20])
                earned = int(round(possible * rng.random()))
                scores.append([str(score_id), str(earned), str(possible), _later(at, 86400), "0",
                               str(item_id), str(sid)])
                item_scores.append((score_id, earned))
                if rng.random() < 0.1 or not notes:  # a staff override (at least one)
                    notes.append([str(len(notes) + 1), "staff_defined", "%032x" % rng.getrandbits(128),
                                  esc(rng.choice(["Regraded after appeal — voir l'e-mail.",
                                                  "Override:\nrubric criterion 2 misapplied"])),
                                  str(score_id)])
        if item_scores and rng.random() < 0.05:  # a reset: a new row, 0 of 0, no submission
            score_id = len(scores) + 1
            scores.append([str(score_id), "0", "0", _later(created, 30 * 86400), "1", str(item_id), null])
            item_scores.append((score_id, -1))
        if item_scores:
            highest = max(item_scores, key=lambda s: s[1])[0]
            summaries.append([str(len(summaries) + 1), str(highest), str(item_scores[-1][0]), str(item_id)])
    return {
        "submissions_studentitem": (STUDENTITEM_COLUMNS, items),
        "submissions_teamsubmission": (TEAM_COLUMNS, teams),
        "submissions_submission": (SUBMISSION_COLUMNS, subs),
        "submissions_score": (SCORE_COLUMNS, scores),
        "submissions_scoresummary": (SUMMARY_COLUMNS, summaries),
        "submissions_scoreannotation": (ANNOTATION_COLUMNS, notes),
    }
