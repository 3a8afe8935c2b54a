"""Runs the workloads: one child process per measurement, engines alternating, stores prepared.

Within a workload the repeats go runelog, MLflow, raw sqlite3, runelog, …
so that a noisy neighbour on a shared machine hits every engine alike.
Every store lives in one temporary folder, removed at the end.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from . import child, measure
from .workloads import LINEAGE_DEPTH, MEMORY, SCALE_SIZES, Workload

SQLITE_SETUP_BATCH = 1000  # raw sqlite3 setup (not timed as W3) commits this many runs at once


class ChildFailed(Exception):
    pass


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Runner:
    """Spawns measured processes and prepares what they need.

    `pythons` maps each engine to the interpreter that runs it; the order of
    the mapping is the order engines alternate in.
    """

    def __init__(self, pythons: dict[str, str], *, tiny: bool = False, repeat: int = 3,
                 database_url: str | None = None, profile_dir: str | None = None,
                 timeout: float = 3600, in_process: bool = False, log=_log):
        self.pythons = pythons
        self.tiny = tiny
        self.repeat = repeat
        self.database_url = database_url
        self.profile_dir = Path(profile_dir) if profile_dir else None
        self.timeout = timeout
        self.in_process = in_process
        self.log = log
        self.root = Path(tempfile.mkdtemp(prefix="runelog-bench-"))
        self._populated: dict[tuple[str, int], tuple[str, str]] = {}
        self._files: dict[int, Path] = {}

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------ processes and stores

    def child(self, engine: str, task: str, profile: Path | None = None, **kwargs) -> dict:
        """Run one task in a fresh process of the engine's interpreter; its RESULT dict."""
        if engine == "runelog" and self.database_url:
            kwargs["database_url"] = self.database_url
        if self.in_process and self.pythons[engine] == sys.executable:
            return self._in_process(engine, task, kwargs)
        extra = {measure.PROFILE_ENV: str(profile)} if profile else {}
        try:
            done = subprocess.run(child.command(self.pythons[engine], engine, task, kwargs),
                                  cwd=kwargs.get("store", self.root), env=child.environment(extra),
                                  capture_output=True, text=True, timeout=self.timeout, check=False)
        except subprocess.TimeoutExpired:
            raise ChildFailed(f"{engine} {task}: no result after {self.timeout:.0f} s") from None
        if done.returncode != 0:
            raise ChildFailed(f"{engine} {task}: {child.error_line(done.stderr or f'exit code {done.returncode}')}")
        return child.parse(done.stdout)

    @staticmethod
    def _in_process(engine: str, task: str, kwargs: dict) -> dict:
        """The smoke test's shortcut: the task runs here (W7 and W8 still start processes).
        Figures taken this way are not comparable; only that the code runs is."""
        try:
            return json.loads(json.dumps(child.run(engine, task, kwargs)))
        except Exception as exc:
            raise ChildFailed(f"{engine} {task}: {type(exc).__name__}: {exc}") from exc

    def new_store(self, engine: str) -> Path:
        return Path(tempfile.mkdtemp(prefix=f"{engine}-", dir=self.root))

    @staticmethod
    def experiment(base: str) -> str:
        """Unique per store, so that a shared server database (--database-url) never mixes runs."""
        return f"{base}-{uuid.uuid4().hex[:8]}"

    def populated(self, engine: str, runs: int) -> tuple[str, str]:
        """A store holding `runs` W3-shaped runs, made once per engine and reused (only read)."""
        if (engine, runs) not in self._populated:
            store, experiment = self.new_store(engine), self.experiment("feature-sets")
            self.log(f"  populating {runs:,} runs for {engine} …")
            batch = {"runs_per_commit": SQLITE_SETUP_BATCH} if engine == "sqlite" else {}
            self.child(engine, "populate", store=str(store), experiment=experiment, start=0, count=runs, **batch)
            self._populated[(engine, runs)] = (str(store), experiment)
        return self._populated[(engine, runs)]

    def source_file(self, mib: int) -> Path:
        """A random file of `mib` MiB, made once."""
        if mib not in self._files:
            self.log(f"  writing a {mib} MiB test file …")
            self._files[mib] = measure.write_random_file(self.root / f"source-{mib}MiB.bin", mib)
        return self._files[mib]

    def _profile_path(self, workload: Workload, engine: str, repeat: int) -> Path | None:
        if self.profile_dir is None or engine != "runelog":
            return None
        self.profile_dir.mkdir(parents=True, exist_ok=True)
        slug = workload.label.replace(" ", "-").replace("/", "-")
        return self.profile_dir / f"{slug}-{repeat + 1}.pstats"

    # ------------------------------------------------------------ the main table

    def measure(self, workload: Workload) -> dict[str, list[dict | str]]:
        """Every repeat of one workload on every engine, alternating; a failure is recorded as text."""
        engines = [e for e in self.pythons if e in workload.engines]
        results: dict[str, list[dict | str]] = {e: [] for e in engines}
        for r in range(self.repeat):
            for engine in engines:
                if workload.local_only and engine == "runelog" and self.database_url:
                    results[engine].append("n/a with --database-url (needs a new local store)")
                    continue
                try:
                    outcome: dict | str = self._measure_once(workload, engine, r)
                except ChildFailed as exc:
                    outcome = f"error: {exc}"
                results[engine].append(outcome)
                self.log(f"[{workload.label}] {engine} {r + 1}/{self.repeat}: {_brief(workload, outcome)}")
        return results

    def _measure_once(self, workload: Workload, engine: str, r: int) -> dict:
        kwargs = workload.size(self.tiny)
        keep = False
        if workload.setup == "populated":
            store, experiment = self.populated(engine, kwargs["runs"])
            keep = True
        else:
            store, experiment = str(self.new_store(engine)), self.experiment(workload.id.lower())
            if workload.setup == "created":
                self.child(engine, "create_store", store=store, experiment=experiment)
            elif workload.setup == "file":
                kwargs["source"] = str(self.source_file(kwargs.pop("mib")))
        if workload.task == "populate" and (engine, kwargs["count"]) not in self._populated:
            # W3 makes exactly the store W4 and W5 read: keep the first one instead of making another.
            self._populated[(engine, kwargs["count"])] = (store, experiment)
            keep = True
        profile = self._profile_path(workload, engine, r)
        try:
            return self.child(engine, workload.task, profile=profile, store=store, experiment=experiment, **kwargs)
        finally:
            if not keep:
                shutil.rmtree(store, ignore_errors=True)
            if profile is not None and profile.exists():
                _summarise_profile(profile)

    # ------------------------------------------------------------ --scale and --memory

    def ladder(self, scale: bool, memory: bool) -> dict:
        """Grow one store per engine through the scale sizes, measuring W4, W5 and lineage at each.

        --memory's W5 (peak RSS at 20,000 runs) is taken on the same store when
        --scale is also given, so the runs are populated once.
        """
        mode = "tiny" if self.tiny else "full"
        depth = LINEAGE_DEPTH[mode]
        sizes = SCALE_SIZES[mode] if scale else ()
        memory_runs = MEMORY[mode]["runs"] if memory else None
        steps = sorted(set(sizes) | ({memory_runs} if memory else set()))
        engines = [e for e in self.pythons if e in (("runelog", "sqlite") if scale else ("runelog",))]
        calls = 5 if self.tiny else 200
        found: dict = {"scale": {}, "memory": {}, "depth": depth}
        for engine in engines:
            store, experiment = str(self.new_store(engine)), self.experiment("scale")
            done = 0
            for runs in steps:
                self.log(f"[scale] {engine}: populating to {runs:,} runs …")
                batch = {"runs_per_commit": SQLITE_SETUP_BATCH} if engine == "sqlite" else {}
                common = {"store": store, "experiment": experiment}
                step: dict = {}
                try:
                    step["populate"] = self.child(engine, "populate", start=done, count=runs - done,
                                                  chain=depth + 1, **batch, **common)
                except ChildFailed as exc:
                    step["populate"] = f"error: {exc}"
                    found["scale"].setdefault(engine, {})[runs] = step
                    break
                done = runs
                if runs in sizes or (engine == "runelog" and runs == memory_runs):
                    step["W5"] = self._repeat(engine, "results_frame", runs=runs, **common)
                if runs in sizes:
                    step["W4"] = self._repeat(engine, "latest_tagged", runs=runs, calls=calls, **common)
                    step["lineage"] = self._repeat(engine, "lineage", runs=runs, depth=depth, calls=calls, **common)
                    found["scale"].setdefault(engine, {})[runs] = step
                if engine == "runelog" and runs == memory_runs:
                    found["memory"]["W5"] = {"runs": runs, "results": step["W5"]}
                self.log(f"[scale] {engine} at {runs:,} runs: {_brief_step(step)}")
            shutil.rmtree(store, ignore_errors=True)
        if memory:
            found["memory"].update(self._memory_artifact(MEMORY[mode]["mib"]))
        return found

    def _repeat(self, engine: str, task: str, **kwargs) -> list[dict | str]:
        out: list[dict | str] = []
        for _ in range(self.repeat):
            try:
                out.append(self.child(engine, task, **kwargs))
            except ChildFailed as exc:
                out.append(f"error: {exc}")
        return out

    def _memory_artifact(self, mib: int) -> dict:
        """Peak RSS of an idle tracker (the floor) and of logging a `mib` MiB artifact."""
        source = str(self.source_file(mib))
        idle, big = [], []
        for _ in range(self.repeat):
            for task, sink, extra in (("idle", idle, {}), ("log_big_artifact", big, {"source": source})):
                store = str(self.new_store("runelog"))
                try:
                    sink.append(self.child("runelog", task, store=store, experiment=self.experiment("memory"), **extra))
                except ChildFailed as exc:
                    sink.append(f"error: {exc}")
                finally:
                    shutil.rmtree(store, ignore_errors=True)
        self.log(f"[memory] artifact of {mib} MiB: peak RSS "
                 + ", ".join(f"{r['peak_rss_mb']:.0f} MB" if isinstance(r, dict) else r for r in big))
        return {"idle": idle, "artifact": {"mib": mib, "results": big}}

    def versions(self) -> dict[str, dict | str]:
        out: dict[str, dict | str] = {}
        for engine in self.pythons:
            try:
                out[engine] = self.child(engine, "versions")
            except ChildFailed as exc:
                out[engine] = f"error: {exc}"
        return out


def _summarise_profile(path: Path) -> None:
    """Next to each .pstats, the 40 costliest functions by cumulative time, as text."""
    import io
    import pstats

    text = io.StringIO()
    pstats.Stats(str(path), stream=text).sort_stats("cumulative").print_stats(40)
    path.with_suffix(".txt").write_text(text.getvalue())


def _brief(workload: Workload, outcome: dict | str) -> str:
    if isinstance(outcome, str):
        return outcome
    parts = [f"{outcome[row.figure]:,.4g} {row.unit}" for row in workload.rows if row.figure in outcome]
    if "checks" in outcome:
        parts.append("checks ok" if outcome["checks"].get("ok") else f"CHECKS FAILED {outcome['checks']}")
    return ", ".join(parts)


def _brief_step(step: dict) -> str:
    parts = []
    for name, key in (("W4", "ms"), ("W5", "s"), ("lineage", "ms")):
        firsts = [r[key] for r in step.get(name, []) if isinstance(r, dict)]
        if firsts:
            parts.append(f"{name} {min(firsts):.4g} {key}")
    populate = step.get("populate")
    if isinstance(populate, dict):
        parts.insert(0, f"populated at {populate['runs_per_s']:,.0f} runs/s")
    return ", ".join(parts)
