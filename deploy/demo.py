"""A scripted day at 清水镇便民服务中心, driven through the public HTTP APIs of a running system.

Run with `make demo` (it starts the system first). Prints what staff and residents would see.
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from contracts.workdays import SHANGHAI  # noqa: E402
from deploy.samples import id_number  # noqa: E402
from deploy.services import SERVICES  # noqa: E402
from services.kit.token import bearer_header as auth_header  # noqa: E402

URL = {name: f"http://127.0.0.1:{port}" for name, port in SERVICES.items()}
WINDOW = auth_header("staff", "qingshui", sub="window-01")
AGENT = auth_header("village_agent", "qingshui", sub="agent-dongcun")
PAD = auth_header("window_pad", "qingshui", sub="qs-pad-1")  # the rating pad at the window (评价器)
HEAD = auth_header("centre_head", "qingshui", sub="head-qingshui")
INSPECTOR = auth_header("inspector", None, sub="inspector-01")
CLOCK_FILE = ROOT / ".local" / "clock-offset"

RESIDENTS = [
    ("王秀英", "SB-002", ["id_card", "hukou", "bank_card", "photo"], "window"),
    ("李建国", "YB-001", ["id_card", "hukou"], "window"),
    ("赵桂兰", "MZ-003", ["id_card", "hukou", "income_statement"], "village_point"),
    ("陈志强", "TY-006", ["id_card", "discharge_cert", "photo"], "window"),
]


def say(text: str) -> None:
    print(text, flush=True)


async def wait_for(probe, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = await probe()
        if result:
            return result
        await asyncio.sleep(0.2)
    raise SystemExit(f"演示中断：等待“{what}”超时")


async def take_in(client: httpx.AsyncClient, seed: int, name: str, item: str, materials: list[str], channel: str) -> dict:
    body = {"item_code": item, "township_id": "qingshui", "channel": channel,
            "applicant": {"name": name, "id_number": id_number(seed), "phone": f"139{seed:08d}"},
            "materials": materials}
    if channel == "village_point":
        body["village_id"] = "qs-dongfeng"
    resp = await client.post(f"{URL['intake']}/api/v1/cases", json=body, headers=AGENT if channel == "village_point" else WINDOW)
    data = resp.json()
    if resp.status_code != 201:
        say(f"  × {name}：{data['message']}")
        return data
    if data["status"] == "received":
        say(f"  ✓ {name} 申请 {item} 由代办员在代办点收件，编号 {data['case_no']}，中心须在5个工作日内审查")
        await client.post(f"{URL['intake']}/api/v1/cases/{data['case_id']}/handover", headers=WINDOW,
                          json={"materials": materials})
        say("    代办员将纸质材料交接到中心窗口（已记录交接人、接收人、时间）")
        data = (await client.post(f"{URL['intake']}/api/v1/cases/{data['case_id']}/review", headers=WINDOW,
                                  json={})).json()
    if data["status"] == "materials_requested":
        missing = "、".join(o["name"] for o in data["owed"])
        say(f"  ! {name} 申请 {item} 材料不齐，编号 {data['case_no']}，一次性告知：请补齐 {missing}")
        return data
    deadline = datetime.fromisoformat(data["promised_deadline"]).astimezone(SHANGHAI)
    say(f"  ✓ {name} 申请 {item} 已受理，编号 {data['case_no']}，承诺 {deadline:%Y年%m月%d日} 前办结")
    return data


async def routed(client: httpx.AsyncClient, case_id: str) -> dict:
    async def probe():
        resp = await client.get(f"{URL['routing']}/api/v1/cases/{case_id}", headers=WINDOW)
        return resp.json() if resp.status_code == 200 else None
    return await wait_for(probe, "分办")


async def holder(client: httpx.AsyncClient, case: dict) -> dict[str, str]:
    """The assigned staff member decides the case (办结), signed in with their department."""
    view = await routed(client, case["case_id"])
    return auth_header("staff", "qingshui", sub=view["staff_id"], department_code=view["department_code"])


async def day(client: httpx.AsyncClient) -> None:
    say("== 上午：窗口与代办点受理 ==")
    incomplete = await take_in(client, 7, "孙丽", "SB-002", ["id_card"], "window")
    cases = [await take_in(client, 10 + i, *r) for i, r in enumerate(RESIDENTS)]
    cases = [c for c in cases if c.get("status") == "submitted"]
    if incomplete.get("status") == "materials_requested":
        resp = await client.post(f"{URL['intake']}/api/v1/cases/{incomplete['case_id']}/materials", headers=WINDOW,
                                 json={"materials": [o["code"] for o in incomplete["owed"]]})
        if resp.json().get("status") == "submitted":
            say(f"  ✓ 孙丽 下午带齐材料回来补正，{incomplete['case_no']} 已受理（按一次性告知书核对，无新增要求）")

    say("== 分办到部门 ==")
    for c in cases:
        view = await routed(client, c["case_id"])
        say(f"  {c['case_no']} → {view.get('department_name', view['department_code'])}（{view.get('staff_id') or '待指定'}）")

    say("== 转办与办结 ==")
    first, second, third, fourth = cases
    await client.post(f"{URL['routing']}/api/v1/cases/{third['case_id']}/transfer", headers=HEAD,
                      json={"to_department_code": "social_security", "reason": "涉及养老保险待遇，转社保站办理"})
    say(f"  {third['case_no']} 转办社保站")
    for c, result, note in ((first, "granted", "待遇已核定，次月发放"), (second, "granted", "参保登记完成"),
                            (third, "refused", "家庭收入超过低保标准，不予批准；如有异议可在60日内申请行政复议")):
        await client.post(f"{URL['routing']}/api/v1/cases/{c['case_id']}/complete", headers=await holder(client, c),
                          json={"result": result, "note": note})
        say(f"  {c['case_no']} 办结（{'准予' if result == 'granted' else '不予'}）")

    say("== 群众评价 ==")
    for c, score, comment in ((first, 5, "一次就办好了"), (third, 2, "跑了两个窗口")):
        async def completed(case=c):
            view = (await client.get(f"{URL['intake']}/api/v1/cases/{case['case_id']}", headers=WINDOW)).json()
            return view["status"] == "completed"
        await wait_for(completed, "办结同步")
        resp = await client.post(f"{URL['intake']}/api/v1/cases/{c['case_id']}/rating", headers=PAD,
                                 json={"score": score, "comment": comment})
        say(f"  {c['case_no']} 评价 {score} 分{'（差评，需回访）' if resp.json().get('bad_rating') else ''}")

    say("== 一个月后：超期预警 ==")
    CLOCK_FILE.write_text(str(30 * 86400))
    try:
        async def breached():
            view = (await client.get(f"{URL['routing']}/api/v1/cases/{fourth['case_id']}", headers=WINDOW)).json()
            return view.get("breached_at")
        await wait_for(breached, "超期判定", timeout=60)
        say(f"  {fourth['case_no']} 已超期，已短信通知值班人员")
    finally:
        CLOCK_FILE.write_text("0")

    say("== 短信记录 ==")
    expected = {first["case_id"]: 2, second["case_id"]: 2, third["case_id"]: 2, fourth["case_id"]: 2}
    for c in cases:
        async def sent(case=c):
            data = (await client.get(f"{URL['notify']}/api/v1/messages", params={"case_id": case["case_id"]},
                                     headers=WINDOW)).json()
            done = [m for m in data if m["status"] == "sent"]
            return done if len(done) >= expected[case["case_id"]] else None
        for m in await wait_for(sent, "短信发送", timeout=60):
            say(f"  [{'群众' if m['recipient_kind'] == 'resident' else '工作人员'} {m['phone']}] {m['text']}")

    say("== 个人信息删除 ==")
    resp = await client.post(f"{URL['intake']}/api/v1/cases/{second['case_id']}/contact-erasure", headers=HEAD,
                             json={"reason": "申请人依《个人信息保护法》要求删除联系方式"})
    say(f"  {second['case_no']} 申请人的手机号码已按本人要求删除，办件记录完整保留" if resp.status_code == 200
        else f"  × {second['case_no']} 删除失败：{resp.json().get('message')}")

    say("== 纪检监察：办件轨迹与完整性 ==")
    async def full_history():
        resp = await client.get(f"{URL['audit']}/api/v1/cases/{third['case_id']}/history", headers=INSPECTOR)
        events = resp.json().get("events", []) if resp.status_code == 200 else []
        return events if {"CaseRated", "CaseCompleted", "CaseTransferred"} <= {e["event_type"] for e in events} else None
    for e in await wait_for(full_history, "审计记录", timeout=120):
        at = datetime.fromisoformat(e["occurred_at"]).astimezone(SHANGHAI)
        say(f"  {at:%m-%d %H:%M:%S}  {e['source']:<8} {e['event_type']}")
    integrity = (await client.get(f"{URL['audit']}/api/v1/integrity", headers=INSPECTOR)).json()
    say(f"  审计链校验：{'通过' if integrity['valid'] else '发现异常'}，共 {integrity['records']} 条记录")


async def main() -> int:
    async with httpx.AsyncClient(timeout=15) as client:
        await day(client)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
