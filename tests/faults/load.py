"""A short, bounded load of real submissions (POST /api/v1/cases) across every township and item."""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field

import httpx

from services.intake.catalogue_file import load_catalogue
from services.kit.testing import auth_header, eventually
from tests.builders import id_number

_CATALOGUE = load_catalogue()
TOWNSHIP_IDS = [t.township_id for t in _CATALOGUE.townships]
# The six items the load has always rotated over: offered everywhere, of every kind the suite's figures know.
ITEMS = [i for i in _CATALOGUE.items if i.item_code in {"YB-001", "SB-002", "MZ-003", "CL-004", "NY-005", "TY-006"}]
REQUEST_BOUND = 15.0  # seconds: an answer later than this is a hang
_seeds = itertools.count(10_000)


def staff(township: str) -> dict[str, str]:
    return auth_header("staff", township, sub=f"window-{township}")


def ordinary_case(seed: int, township: str | None = None) -> dict:
    """A complete submission: township and item rotate with the seed, every material handed in."""
    item = ITEMS[seed % len(ITEMS)]
    return {
        "item_code": item.item_code, "township_id": township or TOWNSHIP_IDS[seed % len(TOWNSHIP_IDS)],
        "channel": "window",
        "applicant": {"name": "李桂兰", "id_number": id_number(seed), "phone": "13912345678"},
        "materials": [m.code for m in item.materials],
    }


@dataclass
class Answer:
    at: float
    status: int | None  # None: no answer (connection refused, reset, or past REQUEST_BOUND)
    json_error: bool = False  # a JSON body with code and message
    code: str | None = None
    error: str | None = None


@dataclass
class Load:
    """Submits until `target` cases are accepted (201) or `deadline` seconds pass.

    Paced: a short pause after an acceptance, a longer one after a failure, so an outage costs
    a bounded number of attempts."""

    intake_url: str
    target: int
    deadline: float = 150.0
    accepted: list[dict] = field(default_factory=list)  # {"case_id", "township_id", "at"}
    answers: list[Answer] = field(default_factory=list)
    _task: asyncio.Task | None = None

    def start(self) -> Load:
        self._task = asyncio.create_task(self._run(), name="fault-load")
        return self

    async def _run(self) -> None:
        ends = time.monotonic() + self.deadline
        async with httpx.AsyncClient(timeout=REQUEST_BOUND) as client:
            while len(self.accepted) < self.target and time.monotonic() < ends:
                ok = await self._submit_one(client, next(_seeds))
                await asyncio.sleep(0.03 if ok else 0.25)  # pacing of the load, not a wait for a condition

    async def _submit_one(self, client: httpx.AsyncClient, seed: int) -> bool:
        body = ordinary_case(seed)
        at = time.monotonic()
        try:
            resp = await client.post(f"{self.intake_url}/api/v1/cases", json=body, headers=staff(body["township_id"]))
        except httpx.HTTPError as exc:
            self.answers.append(Answer(at=at, status=None, error=f"{type(exc).__name__}: {exc}"[:200]))
            return False
        answer = Answer(at=at, status=resp.status_code)
        try:
            data = resp.json()
            answer.json_error = isinstance(data, dict) and {"code", "message"} <= data.keys()
            answer.code = data.get("code") if isinstance(data, dict) else None
        except ValueError:
            data = None
        self.answers.append(answer)
        if resp.status_code == 201:
            self.accepted.append({"case_id": data["case_id"], "township_id": body["township_id"], "at": at})
            return True
        return False

    async def reached(self, accepted: int) -> None:
        await eventually(lambda: self._progress(accepted), timeout=90, interval=0.05,
                         what=f"{accepted} accepted submissions")

    async def _progress(self, accepted: int) -> bool:
        if len(self.accepted) >= accepted:
            return True
        if self._task is not None and self._task.done():
            self._task.result()  # re-raise a crash of the load itself
            raise AssertionError(f"load ended with {len(self.accepted)} accepted, {accepted} awaited")
        return False

    async def attempts_after(self, since: float, count: int) -> None:
        """Waits until `count` attempts were answered (or failed) since `since`."""
        await eventually(lambda: _true(sum(a.at >= since for a in self.answers) >= count), timeout=90, interval=0.05,
                         what=f"{count} submissions attempted during the fault")

    async def finish(self) -> None:
        assert self._task is not None
        await self._task

    def between(self, start: float, end: float) -> list[Answer]:
        return [a for a in self.answers if start <= a.at < end]

    @property
    def case_ids(self) -> list[str]:
        return [c["case_id"] for c in self.accepted]


async def _true(value: bool) -> bool:
    return value
