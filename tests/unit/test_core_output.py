"""The headless core prints nothing: it returns data or reports through a callback it is given.

Printing belongs to the command line (`console/cli/`) and the TUI. The one exception
is the detached supervisor's entry point, whose stderr is the run's supervisor.log.
"""

from __future__ import annotations

import ast
from pathlib import Path

import runbook

CORE = Path(runbook.__file__).resolve().parent
STREAMS = {"stdout", "stderr", "__stdout__", "__stderr__"}
WRITES_ITS_OWN_LOG = {("execution/supervisor.py", "main")}
"""(module, function) pairs allowed to write to the process's own streams."""


class _Output(ast.NodeVisitor):
    def __init__(self, module: str) -> None:
        self.module = module
        self.functions: list[str] = []
        self.found: list[str] = []

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.functions.append(node.name)
        self.generic_visit(node)
        self.functions.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Name) and node.func.id == "print":
            self.found.append(f"{self.module}:{node.lineno}: print()")
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.value, ast.Name) and node.value.id == "sys" and node.attr in STREAMS:
            function = self.functions[0] if self.functions else ""
            if (self.module, function) not in WRITES_ITS_OWN_LOG:
                self.found.append(f"{self.module}:{node.lineno}: sys.{node.attr}")
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module == "sys" and {alias.name for alias in node.names} & STREAMS:
            self.found.append(f"{self.module}:{node.lineno}: from sys import a stream")


def output_in(source: str, module: str) -> list[str]:
    visitor = _Output(module)
    visitor.visit(ast.parse(source))
    return visitor.found


def test_the_core_writes_to_no_stream_of_its_own() -> None:
    found = [
        line
        for path in sorted(CORE.rglob("*.py"))
        for line in output_in(path.read_text(), path.relative_to(CORE).as_posix())
    ]
    assert found == []


def test_the_check_sees_prints_and_streams() -> None:
    source = (
        "import sys\nfrom sys import stderr\n"
        "def main():\n    sys.stderr.write('log')\n"
        "def other():\n    print('x')\n    sys.stdout.flush()\n"
    )
    assert output_in(source, "execution/supervisor.py") == [
        "execution/supervisor.py:2: from sys import a stream",
        "execution/supervisor.py:6: print()",
        "execution/supervisor.py:7: sys.stdout",
    ]
    assert output_in(source, "execution/executor.py")[1] == "execution/executor.py:4: sys.stderr"
