"""How the container image builds the edlake binary: which Cargo profile, what that profile
does with debug info and symbols, and whether the file the final stage copies is the one
that profile produced. Plain functions on Cargo.toml (as a dict), the Dockerfile's parsed
instructions (dockerfile_parse's `structure`) and ELF files."""

import json
import os
import re
import shlex
import struct
import tomllib
from pathlib import Path

# Cargo's built-in profiles and the settings this module reads (The Cargo Book, "Profiles").
# release's strip default depends on the debug info of the whole graph: "none" is what it is
# whenever any debug info is asked for, and the question here is only whether a profile
# strips on purpose.
BUILTIN = {
    "dev": {"debug": True, "strip": "none"},
    "release": {"debug": False, "strip": "none"},
    "test": {"inherits": "dev"},
    "bench": {"inherits": "release"},
}
OUTPUT_DIR = {"dev": "debug", "test": "debug", "release": "release", "bench": "release"}


def profile_settings(cargo, name):
    """The effective settings of profile `name`: its own table, then what it inherits, then
    Cargo's defaults. KeyError if the profile is defined nowhere."""
    tables = cargo.get("profile", {})
    seen, merged = [], {}
    while name and name not in seen:
        seen.append(name)
        own = tables.get(name)
        if own is None and name not in BUILTIN:
            raise KeyError(name)
        for k, v in {**BUILTIN.get(name, {}), **(own or {})}.items():
            if k not in ("inherits", "package", "build-override"):
                merged.setdefault(k, v)
        name = (own or {}).get("inherits") or BUILTIN.get(name, {}).get("inherits")
    return merged


def has_debug_info(settings):
    return settings.get("debug") not in (False, 0, "none")


def strips_symbols(settings):
    return settings.get("strip") in (True, "symbols")


def output_dir(profile):
    return OUTPUT_DIR.get(profile, profile)


def _commands(run_value):
    """The shell commands of a RUN instruction, as word lists (split at && ; ||)."""
    words = shlex.split(run_value.replace("\\\n", " "), posix=True)
    cmds, cur = [], []
    for w in words:
        if w in ("&&", ";", "||"):
            cmds.append(cur)
            cur = []
        else:
            cur.append(w)
    return [c for c in cmds + [cur] if c]


def _option(words, name):
    for i, w in enumerate(words):
        if w == name and i + 1 < len(words):
            return words[i + 1]
        if w.startswith(name + "="):
            return w.split("=", 1)[1]
    return None


def cargo_build(instructions):
    """What the Dockerfile builds: {stage, profile, bin, locked, built, copied_to} of the
    first `cargo build` in a RUN, with `built` the path cargo writes the binary to and
    `copied_to` where the same RUN installs or copies it (the cache-mounted target/ is not
    part of the image). None when no RUN runs cargo build."""
    stage = None
    for ins in instructions:
        if ins["instruction"] == "FROM":
            m = re.search(r"\s+AS\s+(\S+)\s*$", ins["value"], re.I)
            stage = m.group(1) if m else None
        if ins["instruction"] != "RUN" or "cargo" not in ins["value"]:
            continue
        cmds = _commands(re.sub(r"--mount=\S+", "", ins["value"]))
        build = next((c for c in cmds if c[:2] == ["cargo", "build"]), None)
        if build is None:
            continue
        profile = _option(build, "--profile") or ("release" if "--release" in build else "dev")
        target = _option(build, "--target")
        built = "/".join(p for p in ("target", target, output_dir(profile), _option(build, "--bin") or "edlake") if p)
        copied_to = None
        for c in cmds:
            if c and c[0] in ("install", "cp"):
                paths = [w for w in c[1:] if not w.startswith("-") and not re.fullmatch(r"[0-7]{3,4}", w)]
                if len(paths) >= 2 and paths[0].lstrip("./") == built:
                    copied_to = paths[-1]
        return {"stage": stage, "profile": profile, "bin": _option(build, "--bin"),
                "locked": "--locked" in build, "built": built, "copied_to": copied_to}
    return None


def copies_from(instructions, stage, path):
    """The COPY instructions of the final stage that take `path` (or the directory holding
    it) from build stage `stage`, as their destinations."""
    froms = [i for i, ins in enumerate(instructions) if ins["instruction"] == "FROM"]
    final = instructions[froms[-1] + 1:] if froms else instructions
    out = []
    for ins in final:
        if ins["instruction"] != "COPY":
            continue
        words = shlex.split(ins["value"])
        if _option(words, "--from") != stage:
            continue
        srcs = [w for w in words if not w.startswith("--")]
        for src in srcs[:-1]:
            if path == src or path.startswith(src.rstrip("/") + "/"):
                out.append(srcs[-1])
    return out


def elf_sections(path):
    """Section names and sizes of an ELF64 little-endian file: {name: size}."""
    with open(path, "rb") as f:
        data = f.read(64)
        if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
            raise ValueError(f"{path} is not a 64-bit little-endian ELF file")
        shoff, = struct.unpack_from("<Q", data, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
        f.seek(shoff)
        table = f.read(shentsize * shnum)
        headers = [struct.unpack_from("<IIQQQQ", table, i * shentsize) for i in range(shnum)]
        _, _, _, _, str_off, str_size = headers[shstrndx]
        f.seek(str_off)
        names = f.read(str_size)
    out = {}
    for name_off, _, _, _, _, size in headers:
        out[names[name_off:names.index(b"\0", name_off)].decode()] = size
    return out


def entrypoint(instructions):
    """The executable of the last ENTRYPOINT (exec or shell form), or ""."""
    values = [i["value"] for i in instructions if i["instruction"] == "ENTRYPOINT"]
    if not values:
        return ""
    v = values[-1].strip()
    words = json.loads(v) if v.startswith("[") else shlex.split(v)
    return words[0] if words else ""


def image_binary(cargo, instructions, repo, problems):
    """The image-binary check: problems appended, the detail line returned."""
    build = cargo_build(instructions)
    if build is None:
        problems.append("no RUN of the Dockerfile runs cargo build")
        return ""
    profile, built = build["profile"], build["built"]
    try:
        settings = profile_settings(cargo, profile)
    except KeyError:
        problems.append(f"the Dockerfile builds with profile {profile}, which Cargo.toml does not define")
        return ""
    if has_debug_info(settings):
        problems.append(f"the image's binary is built with profile {profile}, which keeps debug info "
                        f"(debug = {settings['debug']!r}): build it with a profile that has debug = false")
    if not strips_symbols(settings):
        problems.append(f"profile {profile} does not strip the symbol table "
                        f"(strip = {settings.get('strip')!r}): set strip = true")
    if build["bin"] != "edlake":
        problems.append(f"cargo build --bin {build['bin']}, expected --bin edlake")
    entry = entrypoint(instructions)
    if not build["copied_to"]:
        problems.append(f"the RUN that builds does not install {built} (profile {profile}'s binary) out "
                        "of the cache-mounted target/")
    else:
        dests = copies_from(instructions, build["stage"], build["copied_to"])
        if not any(d == entry or d.rstrip("/") + "/edlake" == entry for d in dests):
            problems.append(f"the final stage does not COPY --from={build['stage']} {build['copied_to']} "
                            f"to the ENTRYPOINT {entry!r} (it copies it to {dests})")
    release = profile_settings(cargo, "release")
    if not has_debug_info(release) or release.get("strip", "none") != "none":
        problems.append("profile release must keep its line tables for developers' backtraces "
                        f"(debug = {release.get('debug')!r}, strip = {release.get('strip')!r})")
    what = (f"builds with profile {profile} (debug {settings.get('debug')!r}, strip {settings.get('strip')!r}), "
            f"installs {built} as {entry}; release keeps debug = {release.get('debug')!r}")
    # The binary itself when it was built here (no Docker engine to build the image).
    binary = Path(repo) / built
    if not binary.exists():
        return f"{what}; {built} not built here (cargo build --profile {profile} --locked --bin edlake)"
    sections = elf_sections(binary)
    kept = sorted(s for s in sections if s in (".symtab", ".debug_info", ".debug_line"))
    if kept:
        problems.append(f"{built} has {', '.join(kept)}: built before the profile changed? Rebuild it: "
                        f"cargo build --profile {profile} --locked --bin edlake")
    size = binary.stat().st_size
    return f"{what}; {built}: {size} bytes ({size / 1e6:.1f} MB), no symbol table or debug info"


def vtuple(v):
    return tuple(int(x) for x in re.findall(r"\d+", v)[:3]) + (0,) * (3 - len(re.findall(r"\d+", v)[:3]))


def min_rust(package, repo):
    """The newest rust-version among Cargo.toml's [package] and every locked crate whose
    sources are in the local cargo registry (cargo refuses to build a crate on an older
    rustc)."""
    need, who = vtuple(package.get("rust-version", "0")), "Cargo.toml's rust-version"
    home = Path(os.environ.get("CARGO_HOME", Path.home() / ".cargo"))
    srcs = list((home / "registry" / "src").glob("*"))
    lock = tomllib.loads((Path(repo) / "Cargo.lock").read_text())
    for pkg in lock.get("package", []):
        if "source" not in pkg:
            continue
        for s in srcs:
            f = s / f"{pkg['name']}-{pkg['version']}" / "Cargo.toml"
            if f.exists():
                m = re.search(r'^rust-version\s*=\s*"([^"]+)"', f.read_text(), re.M)
                if m and vtuple(m.group(1)) > need:
                    need, who = vtuple(m.group(1)), f"{pkg['name']} {pkg['version']} (Cargo.lock)"
                break
    return need, who
