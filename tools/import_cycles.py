"""``make lint``: no import cycles among the project's modules (services, bench, tests).

A cycle hides itself behind a function-level import until the day the order of imports changes;
it also means two modules are one idea split in two. grimp reads every import statement
(top-level and inside functions) into a graph; Tarjan's algorithm finds its strongly connected
components, and any component of more than one module is a cycle, printed with one path round it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping

import grimp

PACKAGES = ("services", "bench", "tests")


def cycles(edges: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (iterative Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def graph_edges(packages: Iterable[str] = PACKAGES) -> dict[str, set[str]]:
    graph = grimp.build_graph(*packages, include_external_packages=False, cache_dir=None)
    return {module: graph.find_modules_directly_imported_by(module) for module in graph.modules}


def main() -> int:
    sys.path.insert(0, ".")
    found = cycles(graph_edges())
    for component in found:
        print("import cycle: " + " ↔ ".join(component), file=sys.stderr)
    if found:
        print(f"{len(found)} import cycle(s): move what both sides need into a module of its own", file=sys.stderr)
        return 1
    print("import cycles: none")
    return 0


if __name__ == "__main__":
    sys.exit(main())
