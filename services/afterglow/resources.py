"""Where the project's non-Python files live: the source tree, or the wheel when installed."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def project_root() -> Path:
    """The checkout root (the folder holding pyproject.toml) in an editable install."""
    candidate = _PACKAGE_DIR.parent.parent
    if (candidate / "pyproject.toml").is_file():
        return candidate
    return Path.cwd()


def _resource_dir(name: str, bundled_name: str) -> Path:
    source = project_root() / name
    if source.is_dir():
        return source
    return _PACKAGE_DIR / "_bundled" / bundled_name


def schemas_dir() -> Path:
    return _resource_dir("schemas", "schemas")


def templates_dir() -> Path:
    return _resource_dir("templates", "templates")


def kafka_recipe_dir() -> Path:
    return _resource_dir("deploy/kafka", "kafka")
