"""Run every benchmark (`make bench`) or some (`python -m bench search startup`)."""

from __future__ import annotations

import importlib
import sys

MODULES = {
    "startup": "bench.bench_startup",
    "search": "bench.bench_search",
    "catalog": "bench.bench_catalog",
    "invoice_list": "bench.bench_invoice_list",
    "invoicing": "bench.bench_invoicing",
    "obd": "bench.bench_obd",
    "sync": "bench.bench_sync",
    "reports": "bench.bench_reports",
    "chat": "bench.bench_chat",
    "chat_proxy": "bench.bench_chat_proxy",
}


def main(argv: list[str]) -> int:
    """Print one line per figure with its baseline ratio and goal."""
    chosen = argv or list(MODULES)
    missed = 0
    for name in chosen:
        module = importlib.import_module(MODULES[name])
        for result in module.run():
            print(result.line(), flush=True)
            missed += result.ok is False
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
