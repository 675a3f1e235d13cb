"""edlake for Tutor: the daemon beside Tutor local, a CronJob and an LMS sidecar on Tutor k8s,
a read-only MySQL user, an image built from edlake's source. Every setting is EDLAKE_*; the
list with defaults and meanings is in docs/tutor.md."""

from __future__ import annotations

import os
import shlex
from glob import glob
from importlib import resources

import click
from tutor import hooks

from .__about__ import __version__

HERE = resources.files("tutoredlake")

# The Dockerfile stage that holds edlake's source: `tutor mounts add /path/to/edlake`
# replaces it with that checkout (a BuildKit named context).
SOURCE_STAGE = "edlake-src"

config = {
    "defaults": {
        "VERSION": __version__,
        # Built by `tutor images build edlake` (plugin Dockerfile), or a prebuilt one.
        "DOCKER_IMAGE": "{{ DOCKER_REGISTRY }}edlake:{{ EDLAKE_VERSION }}",
        # Where `tutor images build edlake` takes the source when no checkout is mounted:
        # a git URL ("" = only from a mounted checkout) and its branch or tag.
        "REPOSITORY": "",
        "REPOSITORY_VERSION": "v{{ EDLAKE_VERSION }}",
        # From Tutor's own settings.
        "LMS_HOST": "{{ LMS_HOST }}",
        # Base partitions (docs/lake-layout.md): [] = lms=<EDLAKE_LMS_HOST> alone; else a
        # list of {name, value} in path order, e.g. [{name: lms}, {name: school, value: x}]
        # (an lms entry without a value takes EDLAKE_LMS_HOST).
        "BASE_PARTITIONS": [],
        "MYSQL_HOST": "{{ MYSQL_HOST }}",
        "MYSQL_PORT": "{{ MYSQL_PORT }}",
        "MYSQL_DATABASE": "{{ OPENEDX_MYSQL_DATABASE }}",
        # The read-only user created by `tutor local do init --limit edlake`.
        "MYSQL_USERNAME": "edlake",
        "MYSQL_MAX_CONNECTIONS": 2,
        # Course structures from Tutor's MongoDB (a standard URI, credentials but the
        # password from MONGODB_*; the password goes through the env file or Secret).
        "COURSE_STRUCTURES": True,
        "MONGODB_URL": (
            "mongodb://{% if MONGODB_USERNAME %}{{ MONGODB_USERNAME|urlencode }}@{% endif %}"
            "{{ MONGODB_HOST }}:{{ MONGODB_PORT }}/?"
            "{% if MONGODB_USERNAME %}authSource={{ MONGODB_AUTH_SOURCE }}&{% endif %}"
            "{% if MONGODB_AUTH_MECHANISM %}authMechanism={{ MONGODB_AUTH_MECHANISM }}&{% endif %}"
            "{% if MONGODB_REPLICA_SET %}replicaSet={{ MONGODB_REPLICA_SET }}&{% endif %}"
            "tls={{ 'true' if MONGODB_USE_SSL else 'false' }}"
        ),
        "MONGODB_DATABASE": "{{ MONGODB_DATABASE }}",
        # The lake: "" = a local directory on the Tutor host, $(tutor config printroot)/
        # data/edlake/lake (k8s: a PersistentVolumeClaim); or s3://bucket[/root].
        "LAKE_URL": "",
        "LAKE_PREFIX": "openedx",
        "LAKE_FORMAT": "csv",
        "S3_ENDPOINT": "",
        "AWS_REGION": "us-east-1",
        # Static keys (local, or k8s without IRSA); empty = the AWS default chain.
        "AWS_ACCESS_KEY_ID": "",
        "AWS_SECRET_ACCESS_KEY": "",
        # k8s: the IAM role of the edlake ServiceAccount (IRSA).
        "AWS_ROLE_ARN": "",
        # Glue/Athena, for an S3 lake.
        "CATALOG": True,
        "GLUE_DATABASE": "panorama",
        "ATHENA_WORKGROUP": "primary",
        "ATHENA_OUTPUT": "",
        # Five-field crontab, UTC. SCHEDULE_EXTRACT is also the k8s CronJob's schedule.
        "SCHEDULE_EXTRACT": "55 * * * *",
        "SCHEDULE_LOGS": "*/5 * * * *",
        "SCHEDULE_CATALOG": "30 3 * * *",
        # Ship the LMS's tracking logs (local: the shared log dir; k8s: a sidecar, S3 only).
        "TRACKING_LOGS": True,
        # "" or "pseudonymous" (docs/privacy.md); the key is EDLAKE_PRIVACY_KEY.
        "PRIVACY_PROFILE": "",
        "K8S_MEMORY_LIMIT": "512Mi",
    },
    # Generated once by `tutor config save`, kept in config.yml.
    "unique": {
        "MYSQL_PASSWORD": "{{ 24|random_string }}",
        "PRIVACY_KEY": "{{ 64|random_string }}",
    },
    "overrides": {},
}

hooks.Filters.CONFIG_DEFAULTS.add_items([(f"EDLAKE_{k}", v) for k, v in config["defaults"].items()])
hooks.Filters.CONFIG_UNIQUE.add_items([(f"EDLAKE_{k}", v) for k, v in config["unique"].items()])
hooks.Filters.CONFIG_OVERRIDES.add_items(list(config["overrides"].items()))

# The read-only MySQL user: `tutor local do init --limit edlake`. It runs in edlake-mysql-job
# (the MySQL image, with edlake's password in its environment, never in the script: Tutor
# prints the scripts it runs).
with open(HERE / "templates" / "edlake" / "tasks" / "mysql" / "init", encoding="utf-8") as f:
    hooks.Filters.CLI_DO_INIT_TASKS.add_item(("edlake-mysql", f.read()))

hooks.Filters.IMAGES_BUILD.add_item(
    ("edlake", ("plugins", "edlake", "build", "edlake"), "{{ EDLAKE_DOCKER_IMAGE }}", ())
)


@hooks.Filters.IMAGES_BUILD_REQUIRED.add()
def _build_edlake_on_launch(images: list[str], context_name: str) -> list[str]:
    # `tutor local launch` builds the image (no public one to pull); with a prebuilt
    # EDLAKE_DOCKER_IMAGE, `tutor local launch --skip-build` (Tutor local builds nothing else).
    return [*images, "edlake"]


hooks.Filters.IMAGES_PULL.add_item(("edlake", "{{ EDLAKE_DOCKER_IMAGE }}"))
hooks.Filters.IMAGES_PUSH.add_item(("edlake", "{{ EDLAKE_DOCKER_IMAGE }}"))


def is_edlake_checkout(path: str) -> bool:
    """A directory holding edlake's source: its Cargo.toml names the edlake package."""
    try:
        with open(os.path.join(path, "Cargo.toml"), encoding="utf-8") as f:
            return any(line.strip().replace(" ", "") == 'name="edlake"' for line in f)
    except OSError:
        return False


@hooks.Filters.IMAGES_BUILD_MOUNTS.add()
def _mount_edlake_source(mounts: list[tuple[str, str]], path: str) -> list[tuple[str, str]]:
    # `tutor mounts add /path/to/edlake`: build from that checkout, whatever its folder name.
    if is_edlake_checkout(path):
        mounts.append(("edlake", SOURCE_STAGE))
    return mounts


hooks.Filters.ENV_TEMPLATE_ROOTS.add_item(str(HERE / "templates"))
# edlake/partials and edlake/tasks are included or read, not rendered on their own.
hooks.Filters.ENV_TEMPLATE_TARGETS.add_items(
    [("edlake/apps", "plugins"), ("edlake/build", "plugins"), ("edlake/k8s", "plugins")]
)
hooks.Filters.ENV_TEMPLATE_VARIABLES.add_item(("EDLAKE_SOURCE_STAGE", SOURCE_STAGE))

for path in sorted(glob(str(HERE / "patches" / "*"))):
    with open(path, encoding="utf-8") as patch_file:
        hooks.Filters.ENV_PATCHES.add_item((os.path.basename(path), patch_file.read()))


@click.command(
    name="edlake",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
    help="Run any edlake command as a one-off job, e.g. `tutor local do edlake -- extract --full`.",
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def edlake_command(args: tuple[str, ...]) -> list[tuple[str, str]]:
    if not args:
        raise click.UsageError("name an edlake command: tutor local do edlake -- check")
    # Runs as `sh -e -c` in edlake-job: quoted, so arguments reach edlake verbatim.
    return [("edlake", shlex.join(["/usr/local/bin/edlake", *args]))]


hooks.Filters.CLI_DO_COMMANDS.add_item(edlake_command)
