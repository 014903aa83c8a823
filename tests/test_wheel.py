"""The report notebooks travel in the wheel: build it, install it with its dependencies into
a fresh virtual environment outside the repository, and render a report from there.

This needs the package registry (the dependencies are installed like a user's ``pip
install``); when it cannot be reached the test is skipped saying so. uv is used when it is
beside this Python or on PATH (its cache makes a second run take seconds), else pip.
``FPANALYSIS_SKIP_WHEEL=1`` skips it on purpose.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLE

#: Words in an installer's error output that mean the registry could not be reached.
OFFLINE = re.compile(r"Could not find a version|No matching distribution|Failed to establish|"
                     r"Temporary failure in name resolution|Network is unreachable|"
                     r"Connection refused|Max retries exceeded|ConnectTimeout|"
                     r"dns error|failed to fetch|error sending request|offline",
                     re.IGNORECASE)


def _uv() -> str | None:
    here = Path(sys.executable).parent / "uv"
    return str(here) if here.is_file() else shutil.which("uv")


def _run(cmd: list[str], what: str, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-15:]
        if OFFLINE.search(done.stderr + done.stdout):
            pytest.skip(f"{what}: the package registry is unreachable ({tail[-1]})")
        pytest.fail(f"{what} failed ({done.returncode}):\n" + "\n".join(tail))
    return done


def _source_copy(dest: Path) -> Path:
    """The files a build reads, copied so that the build writes nothing into the repo."""
    dest.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, dest / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
    shutil.copytree(ROOT / "fpanalysis", dest / "fpanalysis", ignore=ignore)
    shutil.copytree(ROOT / "notebooks", dest / "notebooks", ignore=ignore)
    return dest


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The ``fpanalysis`` script of a fresh environment holding the built wheel."""
    if os.environ.get("FPANALYSIS_SKIP_WHEEL") == "1":
        pytest.skip("FPANALYSIS_SKIP_WHEEL=1")
    base = tmp_path_factory.mktemp("wheel")
    src = _source_copy(base / "src")
    dist, env = base / "dist", base / "venv"
    uv = _uv()
    if uv:
        _run([uv, "build", "--wheel", "--out-dir", str(dist), str(src)], "uv build")
        _run([uv, "venv", "--quiet", "--python", sys.executable, str(env)], "uv venv")
        wheel = next(dist.glob("*.whl"))
        _run([uv, "pip", "install", "--quiet", "--python", str(env / "bin" / "python"),
              str(wheel)], "uv pip install of the wheel")
    else:
        _run([sys.executable, "-m", "venv", str(env)], "python -m venv")
        pip = [str(env / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
        _run([*pip, "wheel", "--quiet", "--no-deps", "--wheel-dir", str(dist), str(src)],
             "pip wheel")
        wheel = next(dist.glob("*.whl"))
        _run([*pip, "install", "--quiet", str(wheel)], "pip install of the wheel")
    return env / "bin" / "fpanalysis"


def test_the_wheel_holds_every_subpackage_and_notebook(installed):
    wheel = next((installed.parents[2] / "dist").glob("*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    # every subpackage of the source tree (pyproject lists them by hand) and every notebook
    packages = {p.parent.relative_to(ROOT).as_posix()
                for p in (ROOT / "fpanalysis").rglob("__init__.py")}
    missing = sorted(f"{p}/__init__.py" for p in packages if f"{p}/__init__.py" not in names)
    assert missing == []
    notebooks = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks and all(f"fpanalysis/notebooks/{n}" in names for n in notebooks)


def test_an_installed_package_renders_a_report_outside_the_repository(installed, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run([str(installed), "report", "--data-dir", str(data), "--period",
                           "2024Q3", "--output-dir", str(tmp_path / "out")],
                          cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    html = tmp_path / "out" / "2024Q3" / "quarterly_report.html"
    assert done.stdout.strip() == str(html)
    text = html.read_text(encoding="utf-8")
    assert "2024年第3季度" in text
    # the notebook ran from the installed package, not from this checkout
    check = subprocess.run([str(installed.parent / "python"), "-c",
                            "import fpanalysis.batch as b; print(b.notebook_path("
                            "'quarterly_report'))"],
                           cwd=work, env=env, capture_output=True, text=True, check=True)
    found = Path(check.stdout.strip())
    assert ROOT not in found.parents and "site-packages" in found.parts
