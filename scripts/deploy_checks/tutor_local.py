"""The plugin's `tutor local` environment, its edlake.toml files, where its secrets are, the
`do` commands and the image build, and the init task run against a real MySQL."""

import os
import re
import shlex
import shutil
import subprocess
import tempfile
import tomllib
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import yaml
from dockerfile_parse import DockerfileParser

from deploy_checks.tutor_env import Skip, compose_config, plugin_settings, read_env_file
from deploy_checks.tutor_k8s import SECRETS_DIR, uses_sidecar

REPO = Path(__file__).resolve().parent.parent.parent
CONFIG_PATH = "/etc/edlake/edlake.toml"
LOGS_DIR = "/openedx/data/logs"
EDLAKE_BIN_IN_IMAGE = "/usr/local/bin/edlake"
# The only rendered files allowed to hold edlake's secrets.
SECRET_FILES = (("apps", "edlake.env"), ("k8s", "secrets.yml"))


def volumes(svc, base):
    """(host path, container path, options) of a service's volumes, host paths absolute."""
    out = []
    for v in svc.get("volumes", []):
        if isinstance(v, dict):
            src, dst, opts = v.get("source", ""), v.get("target", ""), "ro" if v.get("read_only") else ""
        else:
            src, dst, *rest = v.split(":")
            opts = rest[0] if rest else ""
        if src.startswith("."):
            src = os.path.normpath(os.path.join(base, src))
        out.append((src, dst, opts))
    return out


def environment(svc, base):
    """The service's environment: `docker-compose config` inlines env_file; the raw files do not."""
    env = svc.get("environment") or {}
    if isinstance(env, list):
        env = dict(e.split("=", 1) for e in env)
    env = dict(env)
    files = svc.get("env_file") or []
    for f in [files] if isinstance(files, str) else files:
        env = {**read_env_file(os.path.join(base, f)), **env}
    return env


def check_compose(problems, tutor):
    cfg = tutor.config()
    dc, how = compose_config(tutor)
    base = str(tutor.env_dir / "local")
    svcs = dc["services"]
    root = str(tutor.root)
    config_file = str(tutor.plugin_file("apps", "config", "local", "edlake.toml"))
    want_vols = {(config_file, CONFIG_PATH), (f"{root}/data/edlake", "/var/lib/edlake")}
    if cfg["EDLAKE_TRACKING_LOGS"]:
        want_vols.add((f"{root}/data/lms/logs", LOGS_DIR))
        lms_data = {(s, d) for s, d, _ in volumes(svcs["lms"], base)}
        if (f"{root}/data/lms", os.path.dirname(LOGS_DIR)) not in lms_data:
            problems.append(f"the lms service does not mount {root}/data/lms at {os.path.dirname(LOGS_DIR)}: the shared log dir is wrong")
    for name in ("edlake", "edlake-job"):
        svc = svcs.get(name)
        if svc is None:
            problems.append(f"no service {name}")
            continue
        if svc.get("image") != cfg["EDLAKE_DOCKER_IMAGE"]:
            problems.append(f"{name}: image {svc.get('image')}, EDLAKE_DOCKER_IMAGE is {cfg['EDLAKE_DOCKER_IMAGE']}")
        if str(svc.get("user")) != "1000:1000":
            problems.append(f"{name}: user {svc.get('user')}, expected the LMS's 1000:1000")
        vols = volumes(svc, base)
        got = {(s, d) for s, d, _ in vols}
        for s, d in sorted(want_vols - got):
            problems.append(f"{name}: no volume {s}:{d} (has {sorted(got)})")
        if not cfg["EDLAKE_TRACKING_LOGS"] and any(d == LOGS_DIR for _, d in got):
            problems.append(f"{name}: mounts the LMS logs with EDLAKE_TRACKING_LOGS off")
        if not any(d == CONFIG_PATH and "ro" in o for _, d, o in vols):
            problems.append(f"{name}: {CONFIG_PATH} is not mounted read-only")
        env = environment(svc, base)
        if env.get("EDLAKE_CONFIG") != CONFIG_PATH:
            problems.append(f"{name}: EDLAKE_CONFIG is {env.get('EDLAKE_CONFIG')}")
        for var, key in (("EDLAKE_MYSQL__PASSWORD", "EDLAKE_MYSQL_PASSWORD"), ("EDLAKE_PRIVACY__KEY", "EDLAKE_PRIVACY_KEY")):
            if env.get(var) != cfg[key]:
                problems.append(f"{name}: ${var} is not {key} (from the env file)")
        if cfg["EDLAKE_AWS_ACCESS_KEY_ID"] and env.get("AWS_SECRET_ACCESS_KEY") != cfg["EDLAKE_AWS_SECRET_ACCESS_KEY"]:
            problems.append(f"{name}: $AWS_SECRET_ACCESS_KEY is not EDLAKE_AWS_SECRET_ACCESS_KEY")
        if cfg["MONGODB_USERNAME"] and cfg["EDLAKE_COURSE_STRUCTURES"] and env.get("EDLAKE_MONGODB__PASSWORD") != cfg["MONGODB_PASSWORD"]:
            problems.append(f"{name}: $EDLAKE_MONGODB__PASSWORD is not MONGODB_PASSWORD")
        deps = svc.get("depends_on") or []
        for dep in ["permissions"] + (["mysql"] if cfg["RUN_MYSQL"] else []):
            if dep not in deps:
                problems.append(f"{name}: does not depend on {dep}")
    edl = svcs.get("edlake") or {}
    if edl.get("command") != ["run"] or edl.get("restart") != "unless-stopped":
        problems.append(f"edlake: command {edl.get('command')}, restart {edl.get('restart')}: expected ['run'], unless-stopped")
    test = " ".join((edl.get("healthcheck") or {}).get("test", []))
    if "/healthz" not in test or ":9090" not in test:
        problems.append(f"edlake: health check {test!r} does not fetch /healthz on 9090")
    # Tutor runs `<service>-job sh -e -c <command>`: the image's entrypoint must be out of the way.
    if (svcs.get("edlake-job") or {}).get("entrypoint") not in ([], "", None) or "entrypoint" not in (svcs.get("edlake-job") or {}):
        problems.append(f"edlake-job: entrypoint {(svcs.get('edlake-job') or {}).get('entrypoint')!r}, expected [] (sh -e -c runs)")
    mjob = svcs.get("edlake-mysql-job") or {}
    menv = environment(mjob, base)
    if mjob.get("image") != cfg["DOCKER_IMAGE_MYSQL"] or menv.get("MYSQL_PWD") != cfg["MYSQL_ROOT_PASSWORD"] or menv.get("EDLAKE_MYSQL__PASSWORD") != cfg["EDLAKE_MYSQL_PASSWORD"]:
        problems.append("edlake-mysql-job: not Tutor's MySQL image with MYSQL_PWD (admin) and EDLAKE_MYSQL__PASSWORD")
    perm = {(s, d) for s, d, _ in volumes(svcs["permissions"], base)}
    if (f"{root}/data/edlake", "/mounts/edlake") not in perm or "setowner 1000 /mounts/edlake" not in (tutor.env_dir / "apps" / "permissions" / "setowners.sh").read_text():
        problems.append("the permissions service does not give data/edlake to 1000")
    return f"{how}: edlake (run, unless-stopped, /healthz), edlake-job, edlake-mysql-job; mounts, env file, user 1000:1000"


def run_edlake_config(toml_path, env_extra, problems, label):
    exe = os.environ["EDLAKE_BIN"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EDLAKE_", "AWS_")) and k != "RUST_LOG"}
    p = subprocess.run([exe, "--config", str(toml_path), "config"], env={**env, **env_extra}, capture_output=True, text=True)
    if p.returncode != 0:
        problems.append(f"{label}: edlake config rejects it (exit {p.returncode}): {p.stderr.strip()}")
        return None
    return tomllib.loads(p.stdout)


def builtin_table_names(problems):
    """The tables edlake extracts when its config lists none (the rendered configs list none)."""
    with tempfile.TemporaryDirectory() as t:
        minimal = Path(t) / "minimal.toml"
        minimal.write_text('lms_host = "x"\n[mysql]\nurl = "mysql://u@h/db"\n')
        c = run_edlake_config(minimal, {}, problems, "a minimal config")
    return [t["name"] for t in (c or {}).get("tables", [])]


def check_edlake_configs(problems, tutor):
    cfg = tutor.config()
    s3 = cfg["EDLAKE_LAKE_URL"].startswith("s3://")
    local_env = read_env_file(tutor.plugin_file("apps", "edlake.env"))
    secret = next(d for d in yaml.safe_load_all(tutor.plugin_file("k8s", "secrets.yml").read_text()) if d and d["metadata"]["name"] == "edlake-secrets")
    effective = {}
    with tempfile.TemporaryDirectory() as t:
        # The k8s config reads the Secret's files: give it them, as the mount would.
        sdir = Path(t) / "secrets"
        sdir.mkdir()
        for k, v in secret["stringData"].items():
            (sdir / k).write_text(v)
        k8s = Path(t) / "k8s.toml"
        k8s.write_text(tutor.plugin_file("apps", "config", "k8s", "edlake.toml").read_text().replace(SECRETS_DIR, str(sdir)))
        effective["local"] = run_edlake_config(tutor.plugin_file("apps", "config", "local", "edlake.toml"), local_env, problems, "local")
        effective["k8s"] = run_edlake_config(k8s, {}, problems, "k8s")
        effective["sidecar"] = run_edlake_config(tutor.plugin_file("apps", "config", "sidecar", "edlake.toml"), {}, problems, "sidecar")
    lake = cfg["EDLAKE_LAKE_URL"] or "/var/lib/edlake/lake"
    builtin_tables = builtin_table_names(problems)
    if not builtin_tables:
        problems.append("edlake has no built-in table list (a stale binary? rebuild it)")
    for name, c in effective.items():
        if c is None:
            continue
        if c["lms_host"] != cfg["LMS_HOST"]:
            problems.append(f"{name}: lms_host {c['lms_host']!r}, LMS_HOST is {cfg['LMS_HOST']!r}")
        if c["datalake"]["url"].rstrip("/") != lake.rstrip("/") or c["datalake"]["prefix"] != cfg["EDLAKE_LAKE_PREFIX"]:
            problems.append(f"{name}: datalake {c['datalake']['url']}/{c['datalake']['prefix']}, expected {lake}/{cfg['EDLAKE_LAKE_PREFIX']}")
        if c["catalog"]["enabled"] != (s3 and bool(cfg["EDLAKE_CATALOG"])) or c["catalog"]["database"] != cfg["EDLAKE_GLUE_DATABASE"]:
            problems.append(f"{name}: catalog enabled={c['catalog']['enabled']} database={c['catalog']['database']}")
        # Every config, the sidecar's too: its tracking logs go under the base partitions.
        base = [(p["name"], p.get("value") or cfg["EDLAKE_LMS_HOST"]) for p in cfg.get("EDLAKE_BASE_PARTITIONS") or []]
        got = [(p["name"], p.get("value") or c["lms_host"]) for p in c.get("base_partitions", [])]
        if got != base:
            problems.append(f"{name}: base_partitions {got} in effect, expected {base} from EDLAKE_BASE_PARTITIONS")
        if name == "sidecar":
            if c["mysql"].get("url") or c["mongodb"].get("url") or c.get("tables"):
                problems.append("sidecar: extracts (a mysql/mongodb url or tables); it ships logs only")
            if c["tracking_logs"].get("path") != f"{LOGS_DIR}/tracking.log" or not c["tracking_logs"].get("ship_on_stop"):
                problems.append("sidecar: tracking_logs.path/ship_on_stop")
            continue
        u = urlparse(c["mysql"]["url"])
        # The scenarios keep EDLAKE_MYSQL_HOST/PORT/DATABASE at their defaults: Tutor's.
        want = (cfg["EDLAKE_MYSQL_USERNAME"], cfg["MYSQL_HOST"], int(cfg["MYSQL_PORT"]), cfg["OPENEDX_MYSQL_DATABASE"])
        if (u.username, u.hostname, u.port, u.path.strip("/")) != want:
            problems.append(f"{name}: mysql {u.username}@{u.hostname}:{u.port}/{u.path.strip('/')}, expected {want} from Tutor's MYSQL_*")
        if [t["name"] for t in c.get("tables", [])] != builtin_tables:
            problems.append(f"{name}: {len(c.get('tables', []))} tables in effect, expected edlake's built-in {len(builtin_tables)}")
        m = c["mongodb"].get("url") or ""
        if bool(m) != bool(cfg["EDLAKE_COURSE_STRUCTURES"]):
            problems.append(f"{name}: mongodb.url {m!r} with EDLAKE_COURSE_STRUCTURES {cfg['EDLAKE_COURSE_STRUCTURES']}")
        if m:
            mu = urlparse(m)
            if (mu.hostname, mu.port) != (cfg["MONGODB_HOST"], int(cfg["MONGODB_PORT"])) or c["mongodb"]["database"] != cfg["MONGODB_DATABASE"]:
                problems.append(f"{name}: mongodb {mu.hostname}:{mu.port}/{c['mongodb']['database']} is not Tutor's MONGODB_*")
            if cfg["MONGODB_USERNAME"] and (mu.username != cfg["MONGODB_USERNAME"] or parse_qs(mu.query).get("authSource") != [cfg["MONGODB_AUTH_SOURCE"]]):
                problems.append(f"{name}: mongodb user/authSource not from MONGODB_USERNAME/MONGODB_AUTH_SOURCE")
        if c["schedule"]["extract"] != cfg["EDLAKE_SCHEDULE_EXTRACT"] or c["privacy"]["profile"] != cfg["EDLAKE_PRIVACY_PROFILE"]:
            problems.append(f"{name}: schedule.extract {c['schedule']['extract']!r} / privacy.profile {c['privacy']['profile']!r} not from the settings")
        if name == "local":
            if (c["tracking_logs"].get("path") == f"{LOGS_DIR}/tracking.log") != bool(cfg["EDLAKE_TRACKING_LOGS"]):
                problems.append(f"local: tracking_logs.path {c['tracking_logs'].get('path')!r} with EDLAKE_TRACKING_LOGS {cfg['EDLAKE_TRACKING_LOGS']}")
            if not c["http"]["listen"].endswith(":9090"):
                problems.append("local: http.listen is not the health-checked :9090")
        else:
            if c["tracking_logs"].get("path") or c["http"]["listen"] != "":
                problems.append("k8s: the CronJob reads no tracking logs and serves no HTTP")
    if not uses_sidecar(cfg):
        effective.pop("sidecar")
    return f"{', '.join(effective)} accepted by edlake config, from Tutor's settings (lms_host, MySQL, MongoDB, lake {lake})"


def check_secrets(problems, tutor, secrets):
    cfg = tutor.config()
    allowed = {tutor.plugin_file(*p) for p in SECRET_FILES}
    names = {v: k for k, v in cfg.items() if isinstance(v, str) and v in secrets}
    scanned = 0
    for path in sorted(tutor.env_dir.rglob("*")):
        if not path.is_file() or path in allowed:
            continue
        text = path.read_text(errors="replace")
        scanned += 1
        for s in secrets:
            # MONGODB_PASSWORD is Tutor's: its own LMS settings hold it. Not edlake's files.
            if names[s] == "MONGODB_PASSWORD" and "plugins/edlake" not in str(path) and path.suffix != ".yml":
                continue
            if names[s] == "MONGODB_PASSWORD" and path.parent.name in ("config", "settings"):
                continue
            if s in text:
                problems.append(f"{path.relative_to(tutor.env_dir)} holds the value of {names[s]}")
    for f in allowed:
        text = f.read_text()
        for s in secrets:
            if s not in text:
                problems.append(f"{f.relative_to(tutor.env_dir)} lacks {names[s]}: edlake would not get it")
    return f"{len(secrets)} secrets ({', '.join(sorted(names.values()))}) only in {', '.join(str(f.relative_to(tutor.env_dir)) for f in sorted(allowed))}; {scanned} other files clean"


def job_call(calls, service):
    """The `sh -e -c` command of the docker compose run of `service`, or None."""
    for args in calls:
        if "run" in args and service in args:
            rest = args[args.index(service) + 1:]
            if rest[:3] == ["sh", "-e", "-c"] and len(rest) == 4:
                return rest[3]
    return None


def check_do_commands(problems, tutor):
    cfg = tutor.config()
    out = {}
    calls = tutor.docker_calls(lambda: out.update(zip(("rc", "out", "err"), tutor.run_full("local", "do", "init", "--limit", "edlake"))))
    script = job_call(calls, "edlake-mysql-job")
    if out["rc"] != 0 or script is None:
        problems.append(f"do init --limit edlake: exit {out['rc']}, no edlake-mysql-job run in {calls}")
    ran = [a[a.index("-T") + 1] if "-T" in a else "?" for a in calls if "run" in a]
    if ran != ["edlake-mysql-job"]:
        problems.append(f"do init --limit edlake ran {ran}, expected only edlake-mysql-job")
    for key in ("EDLAKE_MYSQL_PASSWORD", "MYSQL_ROOT_PASSWORD", "EDLAKE_PRIVACY_KEY"):
        if cfg[key] in (script or "") or cfg[key] in out["out"] + out["err"]:
            problems.append(f"do init --limit edlake: {key}'s value is in the script or Tutor's output")
    if script and re.search(r"(^|\s)set\s+-[a-z]*x", script):
        problems.append("the init script turns on set -x")
    for args in (["extract", "--full"], ["logs", "ship"], ["extract", "--table", "auth_user"]):
        calls = tutor.docker_calls(lambda: tutor.run("local", "do", "edlake", "--", *args))
        cmd = job_call(calls, "edlake-job")
        if cmd is None or shlex.split(cmd) != [EDLAKE_BIN_IN_IMAGE, *args]:
            problems.append(f"do edlake -- {' '.join(args)}: ran {cmd!r} in edlake-job, expected {EDLAKE_BIN_IN_IMAGE} {' '.join(args)}")
    rc, _, err = tutor.run_full("local", "do", "edlake")
    if rc == 0:
        problems.append("do edlake without a command succeeded")
    return "do init --limit edlake runs edlake-mysql-job only, no secret in its script or output; do edlake -- ARGS runs edlake ARGS in edlake-job"


def stages(path):
    """[(stage name, [(instruction, value)])] of a Dockerfile, comments dropped."""
    out = []
    for i in DockerfileParser(path=str(path), cache_content=True).structure:
        if i["instruction"] == "FROM":
            parts = i["value"].split()
            out.append((parts[2] if len(parts) > 2 else "", [("FROM", parts[0])]))
        elif i["instruction"] != "COMMENT" and out:
            out[-1][1].append((i["instruction"], i["value"]))
    return out


def check_dockerfile(problems, tutor):
    cfg = tutor.config()
    tutor.run("mounts", "add", str(REPO))
    calls = tutor.docker_calls(lambda: tutor.run("images", "build", "edlake"))
    build = next((a for a in calls if a[:2] == ["buildx", "build"]), None)
    context = str(tutor.plugin_file("build", "edlake"))
    if not build or f"--tag={cfg['EDLAKE_DOCKER_IMAGE']}" not in build or build[-1] != context:
        problems.append(f"images build edlake: {build}, expected --tag={cfg['EDLAKE_DOCKER_IMAGE']} and context {context}")
    m = re.search(r"--build-context=([^=]+)=(.*)", " ".join(build or []))
    stage_name = m.group(1) if m else None
    if not m or m.group(2).split()[0] != str(REPO):
        problems.append(f"images build edlake after mounts add {REPO}: no --build-context with the checkout")
    ours = stages(Path(context) / "Dockerfile")
    theirs = stages(REPO / "Dockerfile")
    names = [n for n, _ in ours]
    if stage_name not in names:
        problems.append(f"the build context {stage_name} replaces no stage of the plugin's Dockerfile ({names})")
    # The build stage: the repository's, the source copied from the named stage.
    strip = f"--from={stage_name} "
    ours_build = [(i, v.replace(strip, "")) for i, v in dict(ours).get("build", [])]
    if ours_build != dict(theirs).get("build"):
        problems.append("the plugin Dockerfile's build stage differs from the repository's (beyond --from=<source stage>)")
    # The runtime stage: the repository's, plus busybox (sh for Tutor's jobs, wget for the health check).
    final_ours, final_theirs = ours[-1][1], theirs[-1][1]
    extra = [x for x in final_ours if x not in final_theirs]
    if [x for x in final_theirs if x in final_ours] != final_theirs or any(not (i == "COPY" and v.startswith("--from=busybox ")) for i, v in extra):
        problems.append(f"the runtime stage differs from the repository's beyond the busybox copies: {extra}")
    if ("COPY", "--from=busybox /bin/busybox /bin/sh") not in final_ours:
        problems.append("no /bin/sh in the image: tutor local do edlake (sh -e -c) would fail")
    lint = "hadolint skipped"
    if os.environ.get("HADOLINT"):
        p = subprocess.run([os.environ["HADOLINT"], "--no-color", str(Path(context) / "Dockerfile")], capture_output=True, text=True)
        if p.returncode != 0:
            problems.append("hadolint: " + (p.stdout + p.stderr).strip())
        lint = "hadolint clean"
    return f"images build edlake: tag {cfg['EDLAKE_DOCKER_IMAGE']}, --build-context {stage_name}=<checkout>; build stage = repository's, runtime = repository's + busybox; {lint}"


def check_init_task(problems, tutor, admin):
    if admin is None:
        raise Skip("EDLAKE_TEST_MYSQL_URL not set (scripts/stack-up.sh sets it)")
    if not shutil.which("mysql"):
        raise Skip("no mysql client on PATH")
    user, password, host, port = admin
    test_user = "edlake_tutor_test"
    tutor.run("plugins", "enable", "edlake")
    tutor.run("config", "save", "--set", f"MYSQL_ROOT_USERNAME={user}", "--set", f"MYSQL_ROOT_PASSWORD={password}",
              "--set", f"MYSQL_HOST={host}", "--set", f"MYSQL_PORT={port}",
              "--set", f"EDLAKE_MYSQL_USERNAME={test_user}", "--set", "EDLAKE_COURSE_STRUCTURES=false")
    cfg = tutor.config()
    script = job_call(tutor.docker_calls(lambda: tutor.run("local", "do", "init", "--limit", "edlake")), "edlake-mysql-job")
    if script is None:
        problems.append("do init --limit edlake ran no edlake-mysql-job")
        return ""
    svc = compose_config(tutor)[0]["services"]["edlake-mysql-job"]
    job_env = environment(svc, str(tutor.env_dir / "local"))
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"),
           "MYSQL_PWD": job_env["MYSQL_PWD"], "EDLAKE_MYSQL__PASSWORD": job_env["EDLAKE_MYSQL__PASSWORD"]}

    def as_edlake(sql):
        return subprocess.run(["mysql", f"--user={test_user}", f"--host={host}", f"--port={port}", "-N", "-e", sql],
                              env={**env, "MYSQL_PWD": cfg["EDLAKE_MYSQL_PASSWORD"]}, capture_output=True, text=True)

    try:
        for attempt in (1, 2):  # twice: the task is idempotent (init runs at every upgrade)
            p = subprocess.run(["sh", "-e", "-c", script], env=env, capture_output=True, text=True)
            if p.returncode != 0:
                problems.append(f"init task run {attempt}: exit {p.returncode}: {p.stderr.strip()}")
                return ""
            if cfg["EDLAKE_MYSQL_PASSWORD"] in p.stdout + p.stderr:
                problems.append("the init task printed edlake's password")
        grants = as_edlake("SHOW GRANTS").stdout
        privileges = sorted(re.sub(r" IDENTIFIED BY .*", "", g).strip() for g in grants.splitlines())
        want = sorted([f"GRANT USAGE ON *.* TO `{test_user}`@`%`", f"GRANT SELECT ON `{cfg['EDLAKE_MYSQL_DATABASE']}`.* TO `{test_user}`@`%`"])
        if privileges != want:
            problems.append(f"grants of {test_user}: {privileges}, expected {want}")
        if as_edlake(f"CREATE TABLE `{cfg['EDLAKE_MYSQL_DATABASE']}`.edlake_tutor_probe (i INT)").returncode == 0:
            problems.append(f"{test_user} could create a table")
        with tempfile.TemporaryDirectory() as lake:
            run_env = {k: v for k, v in os.environ.items() if not k.startswith(("EDLAKE_", "AWS_"))}
            run_env.update(read_env_file(tutor.plugin_file("apps", "edlake.env")))
            run_env["EDLAKE_DATALAKE__URL"] = lake
            toml = tutor.plugin_file("apps", "config", "local", "edlake.toml")
            p = subprocess.run([os.environ["EDLAKE_BIN"], "--config", str(toml), "--log-format", "text", "extract", "--table", "auth_user"],
                               env=run_env, capture_output=True, text=True)
            files = list(Path(lake).rglob("auth_user*.csv"))
            if p.returncode != 0 or not files:
                problems.append(f"edlake extract --table auth_user as {test_user}: exit {p.returncode}, {len(files)} files: {p.stderr.strip()[-400:]}")
    finally:
        subprocess.run(["mysql", f"--user={user}", f"--host={host}", f"--port={port}", "-e",
                        f"DROP USER IF EXISTS '{test_user}'@'%'; DROP TABLE IF EXISTS `{cfg['EDLAKE_MYSQL_DATABASE']}`.edlake_tutor_probe"],
                       env={**env, "MYSQL_PWD": password}, capture_output=True)
    return (f"do init --limit edlake's script, run twice against {host}:{port}: {test_user} has SELECT on "
            f"{cfg['EDLAKE_MYSQL_DATABASE']}.* only, cannot create tables, and edlake extracts auth_user with it")


def check_launch(problems, tutor):
    """`tutor local launch` builds edlake's image (there is none to pull) and runs its init task."""
    cfg = tutor.config()
    calls = tutor.docker_calls(lambda: tutor.run("local", "launch", "--non-interactive"))
    builds = [a for a in calls if a[:2] == ["buildx", "build"]]
    if not any(f"--tag={cfg['EDLAKE_DOCKER_IMAGE']}" in a for a in builds):
        problems.append(f"local launch built no {cfg['EDLAKE_DOCKER_IMAGE']}: {builds}")
    if job_call(calls, "edlake-mysql-job") is None:
        problems.append("local launch did not run the init task in edlake-mysql-job")
    return f"local launch builds {cfg['EDLAKE_DOCKER_IMAGE']} and runs edlake's init task ({len(calls)} docker calls)"


def check_docs_settings(problems, tutor):
    """docs/tutor.md's table lists every setting of the plugin, with its default."""
    declared = plugin_settings(tutor)
    rows = dict(re.findall(r"^\| `(EDLAKE_[A-Z0-9_]+)` \| ([^|]+) \|", (REPO / "docs" / "tutor.md").read_text(), re.M))
    for key, value in declared["defaults"].items():
        name = f"EDLAKE_{key}"
        want = f"`{str(value).lower() if isinstance(value, bool) else value}`" if value != "" else '`""`'
        if name not in rows:
            problems.append(f"docs/tutor.md: no row for {name}")
        elif rows[name].strip() != want and not (key == "MONGODB_URL" and rows[name].startswith("from ")):
            problems.append(f"docs/tutor.md: {name} default {rows[name].strip()}, the plugin's is {want}")
    for key in declared["unique"]:
        if "(unique)" not in rows.get(f"EDLAKE_{key}", ""):
            problems.append(f"docs/tutor.md: EDLAKE_{key} is not documented as generated (unique)")
    known = {f"EDLAKE_{k}" for k in [*declared["defaults"], *declared["unique"]]}
    for name in sorted(set(rows) - known):
        problems.append(f"docs/tutor.md documents {name}, which the plugin does not have")
    return f"docs/tutor.md lists the plugin's {len(known)} settings with their defaults"
