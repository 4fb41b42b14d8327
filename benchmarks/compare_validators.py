"""Runs the golden corpus (tests/cases/validate/) through `playbook validate`, check-jsonschema and yamllint, and
prints, per case, whether each tool caught the mistake at the line to change.

    python benchmarks/compare_validators.py              # every case
    python benchmarks/compare_validators.py unclosed-quote record-without-dash

The line to change is the first line each case expects. A tool "caught it at the line" when the first problem it
reports is on that line of that file; "elsewhere" when it failed but first points somewhere else (or, for
check-jsonschema, at no line: it names a JSON path, which is turned into a line here with the playbook's own
positions, as a contributor would have to by hand); "missed" when it passed. check-jsonschema gets the offline
`--base-uri` that CONTRIBUTING.md documents; yamllint runs with its default rules less the two the playbook's
files break on purpose (line length, `---`), and only its errors count.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from conftest import CASES, build_case_data, load_case  # noqa: E402

from generator.data.model import DATA_FILES  # noqa: E402
from generator.data.yamlsafe import load_yaml  # noqa: E402
from generator.errors import YamlLoadError  # noqa: E402

SCHEMAS = REPO / "generator" / "schemas"
BIN = Path(sys.executable).parent
#: yamllint's defaults, less the two rules every file of the playbook breaks on purpose (long prose lines, no
#: `---` before the schema line), so its errors point at real mistakes only.
YAMLLINT_CONFIG = "{extends: default, rules: {line-length: disable, document-start: disable}}"
_EXPECTED = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):\d+: ")


@dataclass
class Verdict:
    word: str  # "at the line", "elsewhere" or "missed"
    where: str = ""

    def __str__(self) -> str:
        return f"{self.word} {self.where}".strip()


def judge(failed: bool, first: tuple[str, int] | None, expected: tuple[str, int]) -> Verdict:
    if not failed:
        return Verdict("missed")
    if first is None:
        return Verdict("elsewhere", "(no line)")
    if first == expected:
        return Verdict("at the line")
    return Verdict("elsewhere", f"({first[0]}:{first[1]})")


#: A tool still busy after this long has not caught the mistake (check-jsonschema expands an alias bomb).
TIMEOUT_SECONDS = 20


class TimedOut(Exception):
    pass


def run(*command: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(command, capture_output=True, text=True, check=False, timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired as err:
        raise TimedOut from err


def with_playbook(expected: tuple[str, int]) -> Verdict:
    result = run(sys.executable, "-m", "generator", "validate")
    found = _EXPECTED.match(result.stderr)
    return judge(result.returncode != 0, (found["file"], int(found["line"])) if found else None, expected)


def with_check_jsonschema(expected: tuple[str, int]) -> Verdict:
    path = Path(expected[0])
    if path.suffix != ".yml" or path.stem not in DATA_FILES or not path.is_file():
        return Verdict("n/a", "(not a data file)")
    result = run(
        str(BIN / "check-jsonschema"),
        "--base-uri",
        SCHEMAS.as_uri() + "/",
        "--schemafile",
        str(SCHEMAS / f"{path.stem}.schema.json"),
        str(path),
    )
    output = result.stdout + result.stderr
    line = re.search(r"line (\d+)", output)  # a YAML error names its line
    if line:
        return judge(result.returncode != 0, (str(path), int(line.group(1))), expected)
    json_path = re.search(r"::\s*\$((?:\.[\w-]+|\[\d+\])*)", output)
    return judge(result.returncode != 0, _line_of(path, json_path.group(1)) if json_path else None, expected)


def _line_of(path: Path, json_path: str) -> tuple[str, int] | None:
    steps = tuple(
        int(step[1:-1]) if step.startswith("[") else step[1:] for step in re.findall(r"\.[\w-]+|\[\d+\]", json_path)
    )
    try:
        document = load_yaml(path.read_text(encoding="utf-8"), str(path))
    except YamlLoadError:
        return None
    return (str(path), document.positions.locate(steps)[0])


def with_yamllint(expected: tuple[str, int]) -> Verdict:
    files = sorted(str(path) for path in Path("data").glob("*.y*ml"))
    result = run(str(BIN / "yamllint"), "-f", "parsable", "-d", YAMLLINT_CONFIG, *files)
    errors = [line for line in result.stdout.splitlines() if "[error]" in line]
    found = _EXPECTED.match(errors[0]) if errors else None
    return judge(bool(errors), (found["file"], int(found["line"])) if found else None, expected)


def _verdict(check, expected: tuple[str, int]) -> Verdict:
    try:
        return check(expected)
    except TimedOut:
        return Verdict("missed", f"(still busy after {TIMEOUT_SECONDS} s)")


TOOLS = {"playbook validate": with_playbook, "check-jsonschema": with_check_jsonschema, "yamllint": with_yamllint}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cases", nargs="*", help="case names (file stems); default: all")
    args = parser.parse_args()
    case_files = [CASES / f"{name}.yml" for name in args.cases] or sorted(CASES.glob("*.yml"))
    width = max(len(path.stem) for path in case_files)
    print(f"{'case':<{width}}  " + "  ".join(f"{tool:<34}" for tool in TOOLS))
    totals = dict.fromkeys(TOOLS, 0)
    here = Path.cwd()
    with tempfile.TemporaryDirectory() as scratch:
        for case_file in case_files:
            case = load_case(case_file)
            first = _EXPECTED.match(case["expect"][0])
            expected = (first["file"], int(first["line"]))
            folder = Path(scratch) / case_file.stem
            folder.mkdir()
            build_case_data(case, folder / "data")
            os.chdir(folder)
            verdicts = {tool: _verdict(check, expected) for tool, check in TOOLS.items()}
            os.chdir(here)
            for tool, verdict in verdicts.items():
                totals[tool] += verdict.word == "at the line"
            print(f"{case_file.stem:<{width}}  " + "  ".join(f"{v!s:<34}" for v in verdicts.values()), flush=True)
    print(
        f"{'caught at the line':<{width}}  " + "  ".join(f"{f'{n} of {len(case_files)}':<34}" for n in totals.values())
    )


if __name__ == "__main__":
    main()
