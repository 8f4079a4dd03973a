"""`make bench`: run every bench script and write a markdown summary of their figures.

    .venv/bin/python bench/run_all.py [--full] [--only NAME ...]

Runs each `bench/*.py` script (catalog, import, orders, analytics, load first, then any other
with a `__main__` block; helper modules are left alone) one after the other, with `--quick`
unless `--full`, and `--json <tmpfile>`; a script that does not write JSON (or does not know
`--json`) is summarised by the end of its output instead.
Writes `bench/results/summary.md` and prints it. Exits 1 when a script failed or missed one
of its targets (a non-zero exit), 0 otherwise.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
ORDER = ["catalog", "import", "orders", "analytics", "load"]
TIMEOUT = {"quick": 10 * 60, "full": 30 * 60}
OUTPUT_TAIL = 40  # lines of output shown for a script without JSON


def scripts(only):
    """The bench scripts: files with a `__main__` block (not helper modules such as settings)."""
    found = {
        p.stem: p
        for p in BENCH.glob("*.py")
        if p.name != Path(__file__).name
        and not p.name.startswith("_")
        and '__name__ == "__main__"' in p.read_text()
    }
    names = [n for n in ORDER if n in found] + sorted(set(found) - set(ORDER))
    return [found[n] for n in names if not only or n in only]


def run(script, *, full, json_path):
    """Run one script; returns (exit code, seconds, output, figures or None)."""
    mode = [] if full else ["--quick"]
    attempts = [[*mode, "--json", str(json_path)], mode, []]
    started = time.perf_counter()
    for extra in attempts:
        try:
            done = subprocess.run(
                [sys.executable, str(script), *extra],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=TIMEOUT["full" if full else "quick"],
            )
        except subprocess.TimeoutExpired as exc:
            output = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else exc.stdout
            return -1, time.perf_counter() - started, (output or "") + "\n[timed out]", None
        output = done.stdout + (f"\n{done.stderr}" if done.returncode else "")
        if done.returncode == 2 and "unrecognized arguments" in done.stderr:
            continue  # an older script: try again with fewer options
        break
    figures = None
    if json_path.exists() and json_path.stat().st_size:
        try:
            figures = json.loads(json_path.read_text())
        except ValueError:
            figures = None
    return done.returncode, time.perf_counter() - started, output, figures


# --- markdown ----------------------------------------------------------------------------


def scalar(value):
    return value is None or isinstance(value, str | int | float | bool)


def cell(value):
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) < 1e15 else str(value)
    if isinstance(value, bool):
        return "yes" if value else "**no**"
    if isinstance(value, list):
        return ", ".join(cell(v) for v in value) if all(scalar(v) for v in value) else "…"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {cell(v)}" for k, v in value.items()) if len(value) <= 6 else "…"
    text = str(value).replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= 160 else text[:157] + "…"


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return lines


def is_record_set(value):
    """A dict or list whose items are all dicts of mostly scalar values: a table."""
    items = list(value.values()) if isinstance(value, dict) else value
    return bool(items) and all(isinstance(i, dict) for i in items)


def flatten(value, prefix=""):
    if isinstance(value, dict) and not is_record_set(value):
        for key, inner in value.items():
            yield from flatten(inner, f"{prefix}{key}.")
    else:
        yield prefix.rstrip("."), value


def render_figures(figures):
    lines, plain = [], []
    for key, value in figures.items():
        if isinstance(value, dict | list) and value and is_record_set(value):
            rows = value.items() if isinstance(value, dict) else enumerate(value, 1)
            rows = list(rows)
            columns = list(dict.fromkeys(c for _, item in rows for c in item))
            lines += ["", f"**{key}**", ""]
            lines += table(
                [""] + columns, [[name, *(r.get(c, "") for c in columns)] for name, r in rows]
            )
        else:
            plain += list(flatten(value, f"{key}."))
    if plain:
        lines = ["", *table(["figure", "value"], plain)] + lines
    return lines


def summary(results, *, full, elapsed):
    lines = [
        "# Benchmarks",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {'full' if full else 'quick (--quick)'} run, "
        f"{elapsed:.0f} s in all; {os.cpu_count()} CPU cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}. The machine may be shared: compare ratios "
        "measured in the same run rather than absolute figures.",
        "",
        *table(
            ["script", "result", "seconds"],
            [
                [
                    f"`bench/{r['script']}.py`",
                    "ok"
                    if r["code"] == 0
                    else ("timed out" if r["code"] == -1 else f"exit {r['code']}"),
                    round(r["seconds"], 1),
                ]
                for r in results
            ],
        ),
    ]
    for r in results:
        lines += ["", f"## {r['script']}"]
        if r["figures"] is not None:
            lines += render_figures(r["figures"])
        else:
            tail = r["output"].strip().splitlines()[-OUTPUT_TAIL:]
            lines += ["", "(no JSON figures: the end of its output)", "", "```", *tail, "```"]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true", help="full runs instead of --quick")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these scripts")
    args = parser.parse_args()

    results, started = [], time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        for script in scripts(args.only):
            print(f"== bench/{script.name} ...", file=sys.stderr, flush=True)
            json_path = Path(tmp) / f"{script.stem}.json"
            code, seconds, output, figures = run(script, full=args.full, json_path=json_path)
            print(output, file=sys.stderr, flush=True)
            results.append(
                {
                    "script": script.stem,
                    "code": code,
                    "seconds": seconds,
                    "output": output,
                    "figures": figures,
                }
            )
    text = summary(results, full=args.full, elapsed=time.perf_counter() - started)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "summary.md").write_text(text)
    print(text)
    print(f"(written to {(RESULTS / 'summary.md').relative_to(ROOT)})", file=sys.stderr)
    return 0 if results and all(r["code"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
