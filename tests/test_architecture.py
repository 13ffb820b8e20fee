"""The code agrees with docs/architecture.md: no import cycle between modules, imports
between apps only along the allowed arrows, no hidden imports inside functions, and no
app module over 400 lines.

The import graph is read from the source with ``ast``, imports inside functions
included, so a cycle cannot hide behind a function-level import.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("accounts", "billing_portal", "invoices", "notifications", "payments", "purchase_orders", "support")

# billing_portal is two layers: its core modules (below every app) and its wiring
# (settings, URLs, the shared layout, the demo command), which may import any app.
CORE_MODULES = {
    "billing_portal",
    "billing_portal.admin",
    "billing_portal.admin_site",
    "billing_portal.api",
    "billing_portal.cache",
    "billing_portal.db",
    "billing_portal.card_numbers",
    "billing_portal.celery",
    "billing_portal.clock",
    "billing_portal.env",
    "billing_portal.error_reporting",
    "billing_portal.errors",
    "billing_portal.forms",
    "billing_portal.hooks",
    "billing_portal.lockout",
    "billing_portal.money",
    "billing_portal.observability",
    "billing_portal.parsers",
    "billing_portal.queue",
    "billing_portal.s3_storage",
    "billing_portal.schema",
    "billing_portal.storage",
    "billing_portal.validators",
}
# The allowed arrows between layers (docs/architecture.md, "Apps and arrows").
ALLOWED = {
    "core": set(),
    "accounts": {"core"},
    "notifications": {"accounts", "core"},
    "invoices": {"notifications", "accounts", "core"},
    "purchase_orders": {"invoices", "notifications", "accounts", "core"},
    "payments": {"invoices", "notifications", "accounts", "core"},
    "support": {"purchase_orders", "payments", "invoices", "notifications", "accounts", "core"},
    "wiring": {"core", "accounts", "notifications", "invoices", "purchase_orders", "payments", "support"},
}
# Imports that may stay inside a function: heavy optional modules, loaded only where used.
LAZY_ALLOWED = ("weasyprint", "psycopg2.extras")
MAX_LINES = 400


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _app_modules() -> dict[str, Path]:
    modules = {}
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            modules[_module_name(path)] = path
    return modules


MODULES = _app_modules()


def _layer(module: str) -> str:
    if module.startswith("billing_portal"):
        return "core" if module in CORE_MODULES else "wiring"
    return module.split(".")[0]


class _Imports(ast.NodeVisitor):
    """Every import of a module, with whether it sits inside a function."""

    def __init__(self, module: str, is_package: bool):
        self.module, self.is_package = module, is_package
        self.found: list[tuple[str, int, str | None]] = []  # (target, line, enclosing function)
        self._function: list[str] = []

    def _visit_function(self, node):
        self._function.append(node.name)
        self.generic_visit(node)
        self._function.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = _visit_function

    def _add(self, target: str, line: int):
        self.found.append((target, line, self._function[-1] if self._function else None))

    def visit_Import(self, node):
        for alias in node.names:
            self._add(alias.name, node.lineno)

    def visit_ImportFrom(self, node):
        if node.level:
            package = self.module.split(".") if self.is_package else self.module.split(".")[:-1]
            base = package[: len(package) - (node.level - 1)]
            prefix = ".".join(base + ([node.module] if node.module else []))
        else:
            prefix = node.module
        for alias in node.names:
            candidate = f"{prefix}.{alias.name}"
            self._add(candidate if candidate in MODULES else prefix, node.lineno)


def _imports():
    result = {}
    for module, path in MODULES.items():
        visitor = _Imports(module, path.name == "__init__.py")
        visitor.visit(ast.parse(path.read_text(), str(path)))
        result[module] = visitor.found
    return result


IMPORTS = _imports()


def _graph() -> dict[str, set[str]]:
    graph = {module: set() for module in MODULES}
    for module, found in IMPORTS.items():
        for target, _line, _function in found:
            if target in MODULES and target != module:
                graph[module].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, on_stack, stack, components = {}, {}, set(), [], []
    counter = [0]

    def connect(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return components


def test_the_graph_reader_sees_imports_inside_functions():
    tree = ast.parse("def f():\n    from .services import x\n")
    visitor = _Imports("invoices.tasks", False)
    visitor.visit(tree)
    assert visitor.found == [("invoices.services", 2, "f")]
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]


def test_no_import_cycle_between_modules():
    assert _cycles(_graph()) == []


def test_apps_import_each_other_only_along_the_allowed_arrows():
    wrong = []
    for module, found in IMPORTS.items():
        source = _layer(module)
        for target, line, _function in found:
            if target.split(".")[0] not in APPS:
                continue
            target_layer = _layer(target)
            if target_layer != source and target_layer not in ALLOWED[source]:
                wrong.append(f"{MODULES[module].relative_to(ROOT)}:{line} {source} -> {target_layer} ({target})")
    assert wrong == []


def test_imports_inside_functions_only_for_heavy_modules_or_app_ready():
    hidden = []
    for module, found in IMPORTS.items():
        for target, line, function in found:
            if function is None:
                continue
            if function == "ready" and module.endswith(".apps"):
                continue  # Django: other apps' modules are importable only once models are loaded
            if target.startswith(LAZY_ALLOWED):
                continue
            hidden.append(f"{MODULES[module].relative_to(ROOT)}:{line} {target} inside {function}()")
    assert hidden == []


def test_no_app_module_over_400_lines():
    long = {
        str(path.relative_to(ROOT)): lines
        for path in MODULES.values()
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}
