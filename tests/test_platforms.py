"""Platforms are declared once, in their spider modules; the project's modules form no cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from spiders import catalog
from spiders.base import PlatformSpider, Target
from tests.spider_helpers import platform_config
from watcher.rounds.engine import RoundError, run_round

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("watcher", "spiders", "alerts")


def test_every_platform_module_declares_a_working_spider():
    assert len(catalog.names()) == 10
    for info in catalog.all_platforms():
        cls = catalog.spider_class(info.name)
        assert issubclass(cls, PlatformSpider) and cls.info is info
        for mode in info.modes:  # a declared mode is implemented, not inherited from the base
            assert getattr(cls, mode) is not getattr(PlatformSpider, mode), (info.name, mode)
        assert info.label and (info.base_urls or info.name == "website")


@pytest.mark.parametrize("text, code", [("微博", "weibo"), ("weibo", "weibo"), ("新浪微博", "weibo"), ("B站", "bilibili"),
                                        ("公众号", "wechat"), ("贴吧", "tieba"), ("WEIBO", "weibo")])
def test_platforms_are_named_in_chinese_or_english(text, code):
    assert catalog.resolve(text) == code


def test_unknown_platform_says_what_is_accepted():
    with pytest.raises(catalog.UnknownPlatform, match="微博"):
        catalog.resolve("脸书")


def test_a_mode_the_platform_lacks_is_refused_in_chinese(tmp_path):
    cfg = platform_config(tmp_path, "website", "http://127.0.0.1:9")
    with pytest.raises(RoundError, match="网站不支持「仿冒发现」"):
        run_round(cfg, "website", "discover", [Target.for_mode("discover", "北理工")])
    assert not catalog.get("wechat").watchable  # WeChat article lists are not public: no watch mode


def _python_files(*dirs: str) -> list[Path]:
    return [p for d in dirs for p in (ROOT / d).rglob("*.py")]


def _literal_strings(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Dict):
        elts = [k for k in node.keys if k is not None] + list(node.values)
    elif isinstance(node, ast.Tuple | ast.List | ast.Set):
        elts = node.elts
    else:
        return []
    return [e.value for e in elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]


def test_no_per_platform_table_outside_the_descriptors():
    """Labels, aliases, base URLs and modes live in ``PLATFORM`` of each spider module; a literal
    listing three or more platforms (by code or by label) anywhere else is a second table."""
    words = set(catalog.names()) | {p.label for p in catalog.all_platforms()}
    offenders = []
    for path in _python_files(*PACKAGES):
        if path.parent.name == "spiders" and path.name not in ("base.py", "browser.py", "middlewares.py"):
            continue  # the platform modules (and the catalog that reads them)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            hits = {s for s in _literal_strings(node) if s in words}
            if len(hits) >= 3:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {sorted(hits)}")
    assert not offenders, offenders
def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, name: str, modules: set[str]) -> set[str]:
    """Every project module ``path`` imports, at any depth of the file (function-level imports
    too), except under ``if TYPE_CHECKING:``, which never runs."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for n in ast.walk(node)}
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            for a in node.names:
                found.add(f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base)
    return {m for m in found if m in modules and m != name}


def test_no_import_cycle_among_the_projects_modules():
    files = {_module_name(p): p for p in _python_files(*PACKAGES)}
    graph = {name: _imports(path, name, set(files)) for name, path in files.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    assert not cycles, cycles
