"""Checks of the Tutor plugin's rendered environment; run by scripts/test-tutor.sh.

Real Tutor (TUTOR_BIN, in its own venv), temporary roots, no Docker engine or cluster: docker
is a stand-in on PATH that records its arguments (the `do` commands, `images build`), the
compose files go through `docker-compose config` when installed, Kubernetes objects through
the strict schemas of deploy_checks/k8s_objects.py (kustomize too when installed), every
rendered edlake.toml through `edlake config`. One line per check; exit 1 if any failed.

Environment (set by the shell script): TUTOR_BIN, EDLAKE_BIN, DOCKER_COMPOSE, KUSTOMIZE,
HADOLINT (empty: skipped), EDLAKE_TEST_MYSQL_URL (empty: the init task test is skipped).
"""

import sys
import tempfile
import time
from pathlib import Path

import yaml

# No __pycache__ next to the deploy_checks modules: the repository ignores none.
sys.dont_write_bytecode = True
from deploy_checks.tutor_env import Skip, Tutor, mysql_admin  # noqa: E402
from deploy_checks.tutor_k8s import check_k8s  # noqa: E402
from deploy_checks.tutor_local import (  # noqa: E402
    check_compose,
    check_do_commands,
    check_docs_settings,
    check_dockerfile,
    check_edlake_configs,
    check_init_task,
    check_launch,
    check_secrets,
)

results = []


def run_check(name, fn, *args):
    problems = []
    started = time.monotonic()
    try:
        detail = fn(problems, *args) or ""
        status = "FAIL" if problems else "ok"
    except Skip as e:
        status, detail = "skip", str(e)
    except Exception as e:  # a crash of the check is a failure of it, with the reason
        status, detail = "FAIL", f"{type(e).__name__}: {e}"
    if problems:
        detail = f"{len(problems)} problem(s)"
    results.append(status)
    print(f"{status:<4}  {name}: {detail} [{time.monotonic() - started:.1f} s]")
    for p in problems:
        print(f"        - {p}")
    sys.stdout.flush()


# Each scenario: the settings given to `tutor config save`, and the secret values among them
# (besides the generated EDLAKE_MYSQL_PASSWORD and EDLAKE_PRIVACY_KEY).
SCENARIOS = {
    # The first try: Tutor's defaults, a local lake.
    "local": {"settings": {"LMS_HOST": "lms.tutor-test.example"}, "secrets": []},
    # S3 with IRSA on k8s, MongoDB with authentication.
    "s3-irsa": {
        "settings": {
            "LMS_HOST": "lms.tutor-test.example",
            "EDLAKE_LAKE_URL": "s3://tutor-test-bucket/lake",
            "EDLAKE_AWS_REGION": "eu-west-3",
            "EDLAKE_AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/edlake-tutor-test",
            "EDLAKE_GLUE_DATABASE": "tutor_test_db",
            "EDLAKE_BASE_PARTITIONS": '[{"name": "lms"}, {"name": "school", "value": "Lincoln High"}]',
            "EDLAKE_ATHENA_WORKGROUP": "tutor-test-wg",
            "MONGODB_USERNAME": "mongo-tutor-test",
            "MONGODB_PASSWORD": "MongoSecret-6b1f0c2e9d",
            "MYSQL_HOST": "mysql.tutor-test.internal",
            "MYSQL_PORT": "3307",
        },
        "secrets": ["MONGODB_PASSWORD"],
    },
    # S3 with static keys (no IRSA), tracking logs off, course structures off.
    "s3-keys": {
        "settings": {
            "EDLAKE_LAKE_URL": "s3://tutor-test-bucket",
            "EDLAKE_AWS_ACCESS_KEY_ID": "AKIATUTORTEST0000001",
            "EDLAKE_AWS_SECRET_ACCESS_KEY": "AwsSecret-tutor-test-4a7c9e",
            "EDLAKE_S3_ENDPOINT": "http://minio:9000",
            "EDLAKE_SCHEDULE_EXTRACT": "15 */2 * * *",
            "EDLAKE_PRIVACY_PROFILE": "pseudonymous",
            "EDLAKE_COURSE_STRUCTURES": "false",
        },
        "secrets": ["EDLAKE_AWS_SECRET_ACCESS_KEY"],
    },
}


def main():
    with tempfile.TemporaryDirectory(prefix="edlake-tutor-test-") as tmp:
        tmp = Path(tmp)
        roots = {}
        for name, sc in SCENARIOS.items():
            tutor = Tutor(tmp / name, tmp / "docker.log")

            def setup(problems, tutor=tutor, sc=sc):
                tutor.run("plugins", "enable", "edlake")
                tutor.run("config", "save", *[a for k, v in sc["settings"].items() for a in ("--set", f"{k}={v}")])
                cfg = tutor.config()
                for k, v in sc["settings"].items():
                    # Tutor parses each value as YAML: compare as parsed.
                    if cfg.get(k) != yaml.safe_load(v) and str(cfg.get(k)).lower() != v.lower():
                        problems.append(f"{k} is {cfg.get(k)!r} after config save --set {k}={v}")
                for key in ("EDLAKE_MYSQL_PASSWORD", "EDLAKE_PRIVACY_KEY"):
                    saved = yaml.safe_load((tutor.root / "config.yml").read_text()).get(key)
                    printed = tutor.run("config", "printvalue", key).strip()
                    if not saved or saved != printed:
                        problems.append(f"{key}: config.yml has {'a value' if saved else 'none'}, printvalue gave another")
                if len(cfg["EDLAKE_PRIVACY_KEY"]) < 32:
                    problems.append("EDLAKE_PRIVACY_KEY is shorter than edlake's 32 bytes")
                if tutor.run("config", "printvalue", "EDLAKE_LMS_HOST").strip() != cfg["LMS_HOST"]:
                    problems.append("EDLAKE_LMS_HOST does not follow LMS_HOST")
                roots[tutor.name] = tutor
                return (f"tutor {tutor.version()}: plugins enable edlake, config save ({len(sc['settings'])} settings); "
                        "secrets in config.yml, printvalue works")

            run_check(f"{name}: enable and save", setup)
            if name not in roots:
                continue
            secrets = [roots[name].config()[k] for k in ["EDLAKE_MYSQL_PASSWORD", "EDLAKE_PRIVACY_KEY", *sc["secrets"]]]
            run_check(f"{name}: compose", check_compose, roots[name])
            run_check(f"{name}: edlake config", check_edlake_configs, roots[name])
            run_check(f"{name}: k8s", check_k8s, roots[name])
            run_check(f"{name}: secrets", check_secrets, roots[name], secrets)
        if "local" in roots:
            run_check("local: do commands", check_do_commands, roots["local"])
            run_check("local: image", check_dockerfile, roots["local"])
            run_check("local: launch", check_launch, roots["local"])
            run_check("docs: settings", check_docs_settings, roots["local"])
        admin = mysql_admin()
        init = Tutor(tmp / "init", tmp / "docker.log")
        run_check("init task on MariaDB", check_init_task, init, admin)

    failed = results.count("FAIL")
    print(f"test-tutor: {results.count('ok')} passed, {failed} failed, {results.count('skip')} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
