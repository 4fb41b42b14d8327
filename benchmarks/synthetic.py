"""Writes a synthetic but valid playbook data folder with N tasks, for benchmarks.

The shipped data/ is the base, so roles, stages, sources and the real tasks (which the hand-written pages
link to) are all there; random but deterministic tasks (a fixed seed) are added until there are N, each citing
only earlier synthetic tasks as prerequisites (so there is no cycle) and each cited by one responsibility.

    python benchmarks/synthetic.py --tasks 10000 --out /tmp/catalogue-10k
"""

from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "data"
TEXT = (
    "review plan confirm schedule validate migrate configure prepare document test assess enable monitor identity "
    "mailbox tenant workshop inventory licence network credential report environment batch cutover"
)
WORDS = TEXT.split(" ")


def _modeline(stem: str) -> str:
    return f"# yaml-language-server: $schema=https://partner-playbook.github.io/partner-playbook/schemas/{stem}.schema.json\n"


def _ids(collection: str, stem: str) -> list[str]:
    text = (SHIPPED / f"{stem}.yml").read_text(encoding="utf-8")
    return [record["id"] for record in yaml.safe_load(text)[collection]]


def _shipped(collection: str) -> list[dict[str, object]]:
    return yaml.safe_load((SHIPPED / f"{collection}.yml").read_text(encoding="utf-8"))[collection]


def _task(
    rng: random.Random,
    task_id: int,
    earlier: dict[int, int],
    roles: list[str],
    stages: list[str],
    sources: list[str],
) -> dict[str, object]:
    task: dict[str, object] = {
        "id": task_id,
        "title": " ".join(rng.choice(WORDS) for _ in range(5)).capitalize(),
        "summary": " ".join(rng.choice(WORDS) for _ in range(18)).capitalize() + ".",
        "owner": rng.choice(roles),
        "stage": rng.choice(stages),
    }
    if rng.random() < 0.4:
        task["sources"] = sorted(rng.sample(sources, rng.randint(1, 3)))
    if rng.random() < 0.1:
        task["optional"] = True
    if rng.random() < 0.1:
        task["if_applicable"] = True
    stage = stages.index(str(task["stage"]))
    window = [earlier_id for earlier_id in list(earlier)[-50:] if earlier[earlier_id] <= stage]  # no later stage
    if window and rng.random() < 0.7:
        task["prerequisites"] = sorted(rng.sample(window, min(len(window), rng.randint(1, 3))))
    task["source_pages"] = ["frp-migration-roles"]
    return task


def write_catalogue(out: Path, tasks: int, seed: int = 7) -> Path:
    """Fill `out` with a valid data folder of `tasks` tasks; returns `out`."""
    out.mkdir(parents=True, exist_ok=True)
    for path in SHIPPED.glob("*.yml"):
        if path.stem not in ("tasks", "responsibilities"):
            shutil.copyfile(path, out / path.name)
    rng = random.Random(seed)
    roles, stages = _ids("roles", "roles"), _ids("migration_stages", "migration")
    sources = _ids("migration_sources", "migration")
    shipped_tasks = _shipped("tasks")
    records = list(shipped_tasks)
    stage_of: dict[int, int] = {}  # task ID -> its stage's place in the order
    for number in range(max(0, tasks - len(records))):
        task_id = 10_000 + number * 3 + rng.randint(0, 2)
        records.append(_task(rng, task_id, stage_of, roles, stages, sources))
        stage_of[task_id] = stages.index(str(records[-1]["stage"]))
    responsibilities = _shipped("responsibilities") + [
        {
            "id": f"responsibility-{index + 1}",
            "role": task["owner"],
            "summary": f"Makes sure task {task['id']} is done.",
            "stage": task["stage"],
            "tasks": [task["id"]],
            "source_pages": ["frp-migration-roles"],
        }
        for index, task in enumerate(records[len(shipped_tasks) :])
    ]
    _dump(out / "tasks.yml", "tasks", records)
    _dump(out / "responsibilities.yml", "responsibilities", responsibilities)
    return out


def _dump(path: Path, collection: str, records: list[dict[str, object]]) -> None:
    body = yaml.safe_dump({collection: records}, sort_keys=False, allow_unicode=True, width=110)
    path.write_text(_modeline(path.stem) + body, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=1000, help="how many tasks (default 1000)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument("--out", type=Path, required=True, help="folder to fill (created if missing)")
    args = parser.parse_args()
    write_catalogue(args.out, args.tasks, args.seed)
    print(f"wrote {args.tasks} tasks to {args.out}")


if __name__ == "__main__":
    main()
