"""The house rules of docs/architecture.md, checked: phases import only the layers below them,
no import cycle anywhere, no module of pipeline/ outside its phase folder but the shared model, and
Tesseract and Poppler are run from one module each."""

from __future__ import annotations

import ast
import re
from collections import defaultdict

from tests.conftest import REPO

SHARED = {"manifest", "settings", "errors", "textnorm", "retrying"}
# A phase may import the shared model and the phases listed; docs/architecture.md draws this.
ALLOWED = {
    "store": set(), "catalog": set(), "imaging": set(), "ocr": set(),
    "ingest": {"store", "catalog"},
    "publish": {"ocr", "store", "catalog"},
    "understand": {"ingest", "publish", "ocr", "store", "catalog"},
    "digitise": {"ingest", "imaging", "ocr", "understand", "publish", "store", "catalog"},
    "api": {"digitise", "ingest", "understand", "publish", "store", "catalog"},
    "web": {"api", "digitise", "ingest", "understand", "publish", "store", "catalog"},
}
ROOTS = ("pipeline", "flows", "samples", "config")


def _modules() -> dict[str, ast.Module]:
    out = {}
    for root in ROOTS:
        for p in (REPO / root).rglob("*.py"):
            name = ".".join(p.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
            out[name] = ast.parse(p.read_text(encoding="utf-8"))
    return out


def _imports(modules: dict[str, ast.Module]) -> dict[str, set[str]]:
    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = defaultdict(set)
    for me, tree in modules.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            for t in targets:
                found = resolve(t)
                if found and found != me:
                    graph[me].add(found)
    return graph


def _phase(module: str) -> str:
    parts = module.split(".")
    return "shared" if len(parts) < 3 and parts[-1] in SHARED else parts[1]


def test_no_import_cycle():
    graph = _imports(_modules())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in list(graph):
        if v not in index:
            visit(v)
    assert cycles == []


def test_phases_import_only_the_layers_below():
    modules = _modules()
    wrong = []
    for me, targets in _imports(modules).items():
        if not me.startswith("pipeline.") or me.count(".") < 2 and me.split(".")[1] in SHARED:
            continue
        mine = _phase(me)
        for t in targets:
            if t.startswith("pipeline.") and _phase(t) not in (mine, "shared") and _phase(t) not in ALLOWED[mine]:
                wrong.append(f"{me} -> {t}")
    assert wrong == []


def test_every_module_lives_in_its_phase_folder():
    loose = sorted(p.stem for p in (REPO / "pipeline").glob("*.py") if p.stem not in SHARED | {"__init__"})
    assert loose == []
    assert {p.name for p in (REPO / "pipeline").iterdir() if p.is_dir() and p.name != "__pycache__"} == set(ALLOWED)


def test_each_program_is_run_from_one_module():
    runs = {"tesseract": re.compile(r"pytesseract\.(run_tesseract|image_to|get_)|\[command\(\)|tesseract_cmd"),
            "poppler": re.compile(r"\b(pdftoppm|pdfinfo|pdftotext|convert_from_path|convert_from_bytes)\b")}
    where: dict[str, set[str]] = {name: set() for name in runs}
    for root in ("pipeline", "flows"):
        for p in (REPO / root).rglob("*.py"):
            code = "\n".join(line for line in p.read_text(encoding="utf-8").splitlines()
                             if not line.strip().startswith("#"))
            code = re.sub(r'""".*?"""', "", code, flags=re.S)  # docstrings name the programs, they do not run them
            for name, pattern in runs.items():
                if pattern.search(code):
                    where[name].add(str(p.relative_to(REPO)))
    assert where == {"tesseract": {"pipeline/ocr/tesseract.py"},
                     "poppler": {"pipeline/ingest/poppler.py", "flows/doctor.py"}}
