"""A Tutor root for the plugin's checks (scripts/tutor_checks.py): the real `tutor` CLI in a
temporary TUTOR_ROOT, with a stand-in `docker` that records its arguments instead of running
anything, and the files Tutor renders, parsed."""

import json
import os
import shlex
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlparse

import yaml

# Records each call as one JSON line; answers `docker compose ls --format json` (Tutor asks
# whether a dev project is running before a local job) with no project.
FAKE_DOCKER = """#!/usr/bin/env python3
import json, os, sys
with open(os.environ["FAKE_DOCKER_LOG"], "a") as f:
    f.write(json.dumps(sys.argv[1:]) + "\\n")
if "ls" in sys.argv and "--format" in sys.argv:
    print("[]")
"""

# The full configuration (defaults of Tutor and of the enabled plugins, rendered), as the
# CLI computes it, in one process rather than one `printvalue` per key.
LOAD_CONFIG = """
import json, sys
from tutor import config, hooks
from tutor.commands import cli  # noqa: F401  (registers the CLI's hooks)
hooks.Actions.CORE_READY.do()
hooks.Actions.PROJECT_ROOT_READY.do(sys.argv[1])
print(json.dumps(config.load(sys.argv[1]), default=str))
"""


class Skip(Exception):
    pass


class Tutor:
    def __init__(self, root, docker_log):
        self.root = Path(root)
        self.name = self.root.name
        self.env_dir = self.root / "env"
        self.docker_log = Path(docker_log)
        bindir = self.root.parent / "bin"
        bindir.mkdir(exist_ok=True)
        (bindir / "docker").write_text(FAKE_DOCKER)
        (bindir / "docker").chmod(0o755)
        (self.root.parent / "plugins").mkdir(exist_ok=True)
        self.exe = os.environ["TUTOR_BIN"]
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("TUTOR_", "EDLAKE_"))},
            "TUTOR_ROOT": str(self.root),
            # No yaml plugins of the user's, whatever their machine holds.
            "TUTOR_PLUGINS_ROOT": str(self.root.parent / "plugins"),
            "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}",
            "FAKE_DOCKER_LOG": str(self.docker_log),
        }
        self._config = None

    def run_full(self, *args):
        """(exit status, stdout, stderr) of `tutor ARGS`."""
        p = subprocess.run([self.exe, *args], env=self.env, capture_output=True, text=True)
        return p.returncode, p.stdout, p.stderr

    def run(self, *args):
        rc, out, err = self.run_full(*args)
        if rc != 0:
            tail = " | ".join(err.strip().splitlines()[-3:])
            raise RuntimeError(f"tutor {shlex.join(args)} exited {rc}: {tail}")
        self._config = None
        return out

    def version(self):
        return self.run("--version").split()[-1]

    def config(self):
        if self._config is None:
            python = str(Path(self.exe).parent / "python")
            p = subprocess.run([python, "-c", LOAD_CONFIG, str(self.root)], env=self.env,
                               capture_output=True, text=True, check=True)
            self._config = json.loads(p.stdout)
        return self._config

    def docker_calls(self, action):
        """The docker calls `action()` made, each a list of arguments."""
        self.docker_log.write_text("")
        action()
        return [json.loads(line) for line in self.docker_log.read_text().splitlines() if line]

    def plugin_file(self, *parts):
        return self.env_dir.joinpath("plugins", "edlake", *parts)


def read_env_file(path):
    """KEY=value lines, as docker compose reads an env_file (no quotes, no export)."""
    out = {}
    for line in Path(path).read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            k, _, v = line.partition("=")
            out[k.strip()] = v
    return out


def compose_files(tutor):
    local = tutor.env_dir / "local"
    return [local / "docker-compose.yml", local / "docker-compose.prod.yml", local / "docker-compose.jobs.yml"]


def compose_config(tutor):
    """The merged compose configuration of Tutor local: `docker-compose config` when installed
    (paths resolved, env_file read), else the files merged by service, as written."""
    dc = os.environ.get("DOCKER_COMPOSE", "")
    files = compose_files(tutor)
    if dc:
        cmd = shlex.split(dc)
        for f in files:
            cmd += ["-f", str(f)]
        p = subprocess.run(cmd + ["config"], capture_output=True, text=True, cwd=files[0].parent)
        if p.returncode != 0:
            raise RuntimeError(f"docker-compose config: {p.stderr.strip()}")
        return yaml.safe_load(p.stdout), "docker-compose config"
    merged = {"services": {}}
    for f in files:
        for name, svc in (yaml.safe_load(f.read_text()).get("services") or {}).items():
            merged["services"].setdefault(name, {}).update(svc)
    return merged, "the files, unmerged by docker-compose (not installed)"


def k8s_objects_of(tutor):
    """Every object of the rendered k8s environment, and the k8s-override patches."""
    objs = []
    for f in sorted((tutor.env_dir / "k8s").glob("*.yml")) + [tutor.plugin_file("k8s", "secrets.yml")]:
        if f.name == "override.yml":
            continue
        objs += [(f, d) for d in yaml.safe_load_all(f.read_text()) if d]
    patches = [d for d in yaml.safe_load_all((tutor.env_dir / "k8s" / "override.yml").read_text()) if d]
    return objs, patches


def mysql_admin():
    """(user, password, host, port) of an admin MySQL (EDLAKE_TEST_MYSQL_URL), or None."""
    url = os.environ.get("EDLAKE_TEST_MYSQL_URL", "")
    if not url:
        return None
    u = urlparse(url)
    return unquote(u.username or ""), unquote(u.password or ""), u.hostname or "127.0.0.1", u.port or 3306


# The plugin's own settings as declared (templates unrendered), from its module.
PLUGIN_SETTINGS = """
import json
from tutoredlake.plugin import config
print(json.dumps({"defaults": config["defaults"], "unique": config["unique"]}))
"""


def plugin_settings(tutor):
    python = str(Path(tutor.exe).parent / "python")
    p = subprocess.run([python, "-c", PLUGIN_SETTINGS], env=tutor.env, capture_output=True, text=True, check=True)
    return json.loads(p.stdout)
