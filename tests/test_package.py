"""An installed copy works without the source tree: the wheel carries the lexicon, the page's
assets and the seed article, and the `tension` command runs from any directory, keeping its
store under that directory's data/."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GOOD = ROOT / "tests" / "fixtures" / "good"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the built wheel, a folder it is installed into without its dependencies, which this
    environment already has)."""
    base = tmp_path_factory.mktemp("package")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q",
                    "--disable-pip-version-check", "-w", str(base / "dist")], check=True,
                   capture_output=True, timeout=600)
    (wheel,) = (base / "dist").glob("tension_index-*.whl")
    target = base / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q",
                    "--disable-pip-version-check", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=600)
    return wheel, target


def run(target: Path, cwd: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    # The installed copy first on the path, ahead of this checkout's editable install.
    env = {**os.environ, "PYTHONPATH": str(target), "TENSION_DB": "", "TENSION_DATA": ""}
    return subprocess.run([sys.executable, str(target / "bin" / "tension"), *args], cwd=cwd,
                          env=env, input=stdin, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_the_wheel_carries_the_package_data(installed: tuple[Path, Path]) -> None:
    wheel, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("indicators/lexicon.toml", "tension/dashboard/assets/style.css",
                   "tension/seeds/000_624e3677cbe7fb1b.txt", "tension/seeds/000_624e3677cbe7fb1b.json"):
        assert needed in names
    assert not any(n.startswith(("tests/", "bench/", "docs/")) for n in names)
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()
    declared = {line.split()[1].split(";")[0].lower() for line in metadata.splitlines()
                if line.startswith("Requires-Dist:")}
    pinned = {line.split("==")[0].split("[")[0].strip().lower()
              for line in (ROOT / "requirements.txt").read_text().splitlines()
              if line.strip() and not line.startswith("#")}
    assert {d.split("[")[0].split(">")[0].split("=")[0].split("<")[0] for d in declared} >= pinned
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"tension": "tension.cli:main"}


@pytest.mark.slow
def test_the_installed_command_works_from_any_directory(installed: tuple[Path, Path],
                                                         tmp_path: Path) -> None:
    _, target = installed
    work = tmp_path / "elsewhere"
    work.mkdir()
    where = subprocess.run([sys.executable, "-c", "import tension, indicators; print(tension.__file__, "
                            "indicators.__file__)"], cwd=work, env={**os.environ, "PYTHONPATH": str(target)},
                           capture_output=True, text=True, check=True).stdout
    assert str(ROOT) not in where and str(target) in where  # the installed copy, not this checkout
    scored = run(target, work, "score-text", stdin="We warn of a nuclear war.\n")
    assert scored.returncode == 0, scored.stderr
    assert json.loads(scored.stdout)["label"] == "hostile"
    ingested = run(target, work, "ingest", str(GOOD / "articles.csv"), "--quiet")
    assert ingested.returncode == 0, ingested.stderr
    assert (work / "data" / "tension.db").is_file()  # the default store: data/ under the cwd
    exported = run(target, work, "export", "--out", "-", "--smooth", "1")
    assert exported.returncode == 0 and exported.stdout.startswith("date,tension,"), exported.stderr


@pytest.mark.slow
def test_the_installed_dashboard_finds_its_assets_and_seeds(installed: tuple[Path, Path],
                                                            tmp_path: Path) -> None:
    _, target = installed
    code = ("from tension.dashboard.app import create_app\n"
            "app = create_app()\n"
            "c = app.server.test_client()\n"
            "assert c.get('/').status_code == 200\n"
            "print(app.config.assets_folder)\n"
            "print(c.get('/api/health').get_json()['counts']['articles'])\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(target), "TENSION_DB": "",
                              "TENSION_DATA": ""}, timeout=300)
    assert out.returncode == 0, out.stderr
    assets, articles = out.stdout.split()
    assert assets.startswith(str(target)) and (Path(assets) / "style.css").is_file()
    assert int(articles) == 1  # seeded from the package's own seed article
    assert (tmp_path / "data" / "tension.db").is_file()
