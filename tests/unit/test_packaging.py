"""What ships: the CRD copies in the chart and deploy/ are current, the Dockerfile follows the rules
that matter (there is no Docker engine here, so it is linted and its install step is replayed in a
fresh virtual environment instead of being built)."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from stratum.api import crds

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
CRD_COPIES = (ROOT / "charts" / "stratum" / "crds", ROOT / "deploy" / "crds")
TEST_ONLY = {
    "pytest",
    "pytest-asyncio",
    "pytest-timeout",
    "python-linstor",
    "python-libmaas",
    "ruff",
    "mypy",
    "import-linter",
    "types-pyyaml",
}


# ---------------------------------------------------------------------------- CRD copies


def test_chart_and_deploy_crds_are_byte_copies_of_crds() -> None:
    sources = {p.name: p.read_bytes() for p in sorted((ROOT / "crds").glob("*.yaml"))}
    assert set(sources) == {crds.file_name(kind) for kind in crds.KINDS}
    for target in CRD_COPIES:
        copies = {
            p.name: p.read_bytes() for p in sorted(target.glob("*.yaml")) if p.name != "kustomization.yaml"
        }
        stale = sorted(
            name for name in sources.keys() | copies.keys() if sources.get(name) != copies.get(name)
        )
        assert not stale, f"{target.relative_to(ROOT)} is stale ({', '.join(stale)}): run hack/sync-crds"


def test_deploy_crds_kustomization_lists_every_crd() -> None:
    kustomization = yaml.safe_load((ROOT / "deploy" / "crds" / "kustomization.yaml").read_text())
    assert kustomization["resources"] == sorted(p.name for p in (ROOT / "crds").glob("*.yaml"))


def test_sync_crds_check_agrees_and_catches_a_stale_copy(tmp_path: Path) -> None:
    script = ROOT / "hack" / "sync-crds"
    ok = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    # The same script on a copy of the tree with one edited CRD copy must fail and name it.
    for rel in ("hack/sync-crds", "crds", "charts/stratum/crds", "deploy/crds"):
        src, dst = ROOT / rel, tmp_path / rel
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    edited = tmp_path / "deploy" / "crds" / crds.file_name(crds.KINDS[0])
    edited.write_text(edited.read_text() + "# hand edit\n")
    stale = subprocess.run(
        [sys.executable, str(tmp_path / "hack" / "sync-crds"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert stale.returncode == 1
    assert f"stale: deploy/crds/{edited.name}" in stale.stderr
    fixed = subprocess.run(
        [sys.executable, str(tmp_path / "hack" / "sync-crds")], capture_output=True, text=True, check=False
    )
    assert fixed.returncode == 0, fixed.stderr
    assert edited.read_bytes() == (ROOT / "crds" / edited.name).read_bytes()


# ---------------------------------------------------------------------------- Dockerfile lint


@dataclass
class Instruction:
    keyword: str
    args: str
    line: int


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


def parse_dockerfile(text: str) -> tuple[dict[str, str], list[Stage]]:
    """Global ARG defaults and the stages, with line continuations joined and comments dropped."""
    instructions: list[Instruction] = []
    buffer, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not buffer and (not line or line.startswith("#")):
            continue
        if buffer and line.startswith("#"):
            continue
        if not buffer:
            start = number
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        buffer += line
        keyword, _, args = buffer.partition(" ")
        instructions.append(Instruction(keyword.upper(), args.strip(), start))
        buffer = ""
    assert not buffer, "Dockerfile ends inside a line continuation"
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for ins in instructions:
        if ins.keyword == "FROM":
            m = re.fullmatch(r"(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?", ins.args, re.IGNORECASE)
            assert m, f"line {ins.line}: cannot parse FROM {ins.args}"
            stages.append(Stage(base=m.group(1), name=m.group(2)))
        elif not stages:
            assert ins.keyword == "ARG", f"line {ins.line}: only ARG may precede the first FROM"
            name, _, default = ins.args.partition("=")
            global_args[name] = default
        else:
            stages[-1].instructions.append(ins)
    return global_args, stages


def expand(value: str, variables: dict[str, str]) -> str:
    return re.sub(
        r"\$\{(\w+)\}|\$(\w+)", lambda m: variables.get(m.group(1) or m.group(2), m.group(0)), value
    )


@pytest.fixture(scope="module")
def dockerfile() -> tuple[dict[str, str], list[Stage]]:
    return parse_dockerfile(DOCKERFILE.read_text())


def test_parser_understands_continuations_and_stages() -> None:
    args, stages = parse_dockerfile(
        "ARG B=python:3.11.7-slim\n# c\nFROM ${B} AS one\n"
        "RUN a \\\n  # inner comment\n  && b\nFROM ${B}\nUSER 1:1\n"
    )
    assert args == {"B": "python:3.11.7-slim"}
    assert [(s.base, s.name) for s in stages] == [("${B}", "one"), ("${B}", None)]
    assert stages[0].instructions[0].args == "a  && b"
    assert stages[1].all("USER")[0].args == "1:1"


def test_base_images_are_pinned_slim_python_without_a_registry_host(
    dockerfile: tuple[dict[str, str], list[Stage]],
) -> None:
    global_args, stages = dockerfile
    names = {s.name for s in stages if s.name}
    for stage in stages:
        base = expand(stage.base, global_args)
        if base in names:
            continue
        assert "$" not in base, f"unresolved base image {stage.base}"
        image, _, digest = base.partition("@")
        repo, _, tag = image.rpartition(":")
        assert repo == "python", f"base image {base}: the official python image"
        # A full version (3.11.7), a slim variant and a Debian release: no floating tags.
        assert re.fullmatch(r"3\.\d+\.\d+-slim-[a-z]+", tag), f"base image tag not pinned: {base}"
        assert "latest" not in base
        assert not digest or re.fullmatch(r"sha256:[0-9a-f]{64}", digest)
        first = repo.split("/")[0]
        assert "." not in first and ":" not in first, "no registry host in the Dockerfile"


def test_multi_stage_final_stage_gets_only_the_builder_venv(
    dockerfile: tuple[dict[str, str], list[Stage]],
) -> None:
    _, stages = dockerfile
    assert len(stages) == 2 and stages[0].name == "builder"
    final = stages[-1]
    copies = final.all("COPY")
    assert [c.args for c in copies] == ["--from=builder /opt/stratum /opt/stratum"]
    assert not final.all("RUN"), "the final stage installs nothing (no compilers, no pip run)"
    assert stages[0].all("ARG")[0].args == "VENV=/opt/stratum"


def test_runs_as_numeric_non_root_user(dockerfile: tuple[dict[str, str], list[Stage]]) -> None:
    _, stages = dockerfile
    users = stages[-1].all("USER")
    assert users, "the final stage must set USER"
    uid, _, gid = users[-1].args.partition(":")
    assert uid.isdigit() and int(uid) != 0, "numeric non-root uid, so runAsNonRoot can verify it"
    assert gid.isdigit() and int(gid) != 0
    assert int(uid) == 65532  # the uid deploy/ and the chart's securityContext use


def test_entrypoint_is_exec_form_stratum_run(dockerfile: tuple[dict[str, str], list[Stage]]) -> None:
    _, stages = dockerfile
    final = stages[-1]
    entrypoint = json.loads(final.all("ENTRYPOINT")[-1].args)
    assert entrypoint == ["/opt/stratum/bin/stratum", "run"]
    cmd = json.loads(final.all("CMD")[-1].args)
    assert cmd == ["--liveness", "http://0.0.0.0:8080/healthz", "--metrics-port", "9090"]
    assert set(final.all("EXPOSE")[-1].args.split()) == {"8080", "9090"}


def test_read_only_root_filesystem_friendly(dockerfile: tuple[dict[str, str], list[Stage]]) -> None:
    _, stages = dockerfile
    env = " ".join(i.args for i in stages[-1].all("ENV"))
    assert "PYTHONDONTWRITEBYTECODE=1" in env
    assert "HOME=/tmp" in env  # the one writable path (an emptyDir in deploy/ and the chart)
    builder_run = " ".join(i.args for i in stages[0].all("RUN"))
    assert "compileall" in builder_run, "bytecode is compiled at build time, never at run time"


def test_no_add_and_dependencies_from_the_constraints_file(
    dockerfile: tuple[dict[str, str], list[Stage]],
) -> None:
    _, stages = dockerfile
    for stage in stages:
        assert not stage.all("ADD"), "COPY only: ADD fetches URLs and unpacks archives"
    builder = stages[0]
    pip = [i for i in builder.all("RUN") if "pip" in i.args and "install" in i.args]
    assert pip, "the builder installs the package with pip"
    for ins in pip:
        words = shlex.split(ins.args)
        assert "-c" in words and words[words.index("-c") + 1] == "constraints.txt", ins.args
        assert "--no-cache-dir" in words
        assert not any("[" in w for w in words), "runtime dependencies only: no extras"
        assert not any(
            w.startswith(("--index-url", "--extra-index-url", "-i", "--trusted-host")) for w in words
        )
    copied = " ".join(i.args for i in builder.all("COPY"))
    assert "constraints.txt" in copied and "pyproject.toml" in copied and "operator/" in copied


def test_nothing_fetched_outside_pip_and_no_floating_tags() -> None:
    """No `latest` anywhere, no sudo/curl/wget/apt-get, no URL: nothing is fetched outside pip."""
    text = DOCKERFILE.read_text()
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    for word in ("latest", "sudo", "curl", "wget", "apt-get", "https://"):
        assert word not in code, f"Dockerfile uses {word!r}"


def test_dockerignore_keeps_only_what_the_image_copies(
    dockerfile: tuple[dict[str, str], list[Stage]],
) -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def included(path: str) -> bool:
        keep = True
        for pattern in patterns:
            negate = pattern.startswith("!")
            pat = pattern[1:] if negate else pattern
            pat = pat.rstrip("/")
            candidates = [pat, pat.replace("**/", "")]
            if any(fnmatch.fnmatch(path, p) or path.startswith(p + "/") for p in candidates) or any(
                fnmatch.fnmatch(part, pat.replace("**/", "")) for part in path.split("/")
            ):
                keep = negate
        return keep

    _, stages = dockerfile
    for ins in stages[0].all("COPY"):
        for src in ins.args.split()[:-1]:
            assert included(src.rstrip("/")), f".dockerignore excludes {src}, which the Dockerfile copies"
    for module in (ROOT / "operator" / "stratum").rglob("*.py"):
        assert included(str(module.relative_to(ROOT)))
    for local in (
        ".venv",
        ".git",
        "tests",
        ".mypy_cache",
        "operator/stratum/__pycache__/cli.cpython-311.pyc",
        "operator/stratum.egg-info",
    ):
        assert not included(local), f".dockerignore lets {local} into the build context"


# ---------------------------------------------------------------------------- the install step, for real


def test_image_install_step_in_a_fresh_venv(
    dockerfile: tuple[dict[str, str], list[Stage]], tmp_path: Path
) -> None:
    """SLOW (about a minute): the builder stage's COPY + RUN replayed outside Docker.

    The build context is copied as the Dockerfile's COPY lines say, then the builder's RUN line runs
    verbatim with VENV pointing into tmp_path. The result must hold exactly the pinned runtime
    dependencies, import every module, answer `--help` through the image's ENTRYPOINT and accept its
    default CMD, and print the same CRDs as crds/."""
    _, stages = dockerfile
    builder = stages[0]
    src = tmp_path / "src"
    src.mkdir()
    assert [w.args for w in builder.all("WORKDIR")] == ["/src"]
    for ins in builder.all("COPY"):
        *sources, dest = ins.args.split()
        for source in sources:
            origin = ROOT / source
            if origin.is_dir():
                shutil.copytree(
                    origin, src / dest, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
                )
            else:
                assert dest.endswith("/")
                shutil.copy2(origin, src / dest / origin.name)
    venv = tmp_path / "venv"
    shim = tmp_path / "shim"
    shim.mkdir()
    # The image's `python` is the base interpreter; here: the one behind this test's venv.
    (shim / "python").symlink_to(getattr(sys, "_base_executable", sys.executable))
    env = {
        **os.environ,
        "PATH": f"{shim}:{os.environ['PATH']}",
        "VENV": str(venv),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_NO_CACHE_DIR": "1",
    }
    env.pop("VIRTUAL_ENV", None)
    env.pop("PYTHONPATH", None)
    for ins in builder.all("RUN"):
        proc = subprocess.run(
            ["bash", "-euc", ins.args],
            cwd=src,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        assert proc.returncode == 0, f"RUN {ins.args}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"

    run_env = {k: v for k, v in env.items() if k != "VENV"}
    run_env.update(PYTHONDONTWRITEBYTECODE="1", PATH=f"{venv / 'bin'}:{os.environ['PATH']}")

    def run(*args: str) -> str:
        proc = subprocess.run(
            list(args), cwd=tmp_path, env=run_env, capture_output=True, text=True, timeout=120, check=False
        )
        assert proc.returncode == 0, f"{args}: {proc.stderr[-3000:]}"
        return proc.stdout

    # Exactly the pinned versions, and nothing from the [test] extra.
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[canonical(name)] = version.strip()
    installed = {
        canonical(p["name"]): p["version"]
        for p in json.loads(run(str(venv / "bin" / "python"), "-m", "pip", "list", "--format=json"))
    }
    assert installed.pop("stratum-operator") == "0.1.0"
    for tool in ("pip", "setuptools", "wheel"):
        installed.pop(tool, None)
    assert installed, "no dependencies installed"
    unpinned = {name: v for name, v in installed.items() if pins.get(name) != v}
    assert not unpinned, f"installed but not as pinned in constraints.txt: {unpinned}"
    assert not (installed.keys() & TEST_ONLY), (
        f"test-only packages in the image: {installed.keys() & TEST_ONLY}"
    )
    assert {"kopf", "httpx", "pydantic", "aiohttp", "prometheus-client"} <= installed.keys()

    # Every module imports with the runtime dependencies alone; bytecode was compiled at build time.
    run(
        str(venv / "bin" / "python"),
        "-c",
        "import importlib, pkgutil, stratum\n"
        "for m in pkgutil.walk_packages(stratum.__path__, 'stratum.'):\n"
        "    importlib.import_module(m.name)\n",
    )
    site = next((venv / "lib").glob("python3.*/site-packages"))
    assert list((site / "stratum" / "__pycache__").glob("cli.*.pyc"))

    # The image's ENTRYPOINT, with the venv where the image has /opt/stratum.
    entrypoint = [
        arg.replace("/opt/stratum", str(venv)) for arg in json.loads(stages[-1].all("ENTRYPOINT")[-1].args)
    ]
    assert "usage: stratum" in run(str(venv / "bin" / "stratum"), "--help")
    helptext = run(*entrypoint, "--help")
    for flag in ("--liveness", "--metrics-port", "--lease-namespace", "--lease-name", "--identity"):
        assert flag in helptext
    # The default CMD and the chart's/deploy's args are accepted by the installed parser.
    cmd = json.loads(stages[-1].all("CMD")[-1].args)
    run(
        str(venv / "bin" / "python"),
        "-c",
        "import sys; from stratum.cli import build_parser; build_parser().parse_args(sys.argv[1:])",
        "run",
        *cmd,
    )
    # The installed package generates the same CRDs as the source tree.
    assert run(str(venv / "bin" / "stratum"), "crds") == crds.render_all()


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
