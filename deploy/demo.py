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


HELD = {"quiet_hours": "夜间免打扰", "merge_window": "与同号码短信合并", "rate_limit": "同号码发送频率限制"}


def _held(message: dict) -> str:
    """`（夜间免打扰，08:00 发出）` for a message a sending rule holds; nothing for one sent."""
    if not message.get("waiting_for"):
        return ""
    at = datetime.fromisoformat(message["next_attempt_at"]).astimezone(SHANGHAI)
    return f"（{HELD.get(message['waiting_for'], '等待发送')}，{at:%H:%M} 发出）"


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


async def hall_morning(client: httpx.AsyncClient) -> None:
    """取号/叫号: a ticket from the kiosk, called, served; the display board shows no names."""
    say("== 开门：取号叫号 ==")
    hall = f"{URL['intake']}/api/v1/hall"
    ticket = (await client.post(f"{hall}/tickets", headers=WINDOW,
                                json={"township_id": "qingshui", "queue": "social_security"})).json()
    say(f"  取号机：{ticket['ticket_no']} 号（社保），前面还有 {ticket.get('waiting_ahead', 0)} 人")
    called = (await client.post(f"{hall}/calls", headers=WINDOW,
                                json={"township_id": "qingshui", "window_no": "3", "queues": ["social_security"]})).json()
    await client.post(f"{hall}/tickets/{called['ticket_id']}/start", headers=WINDOW, json={"window_no": "3"})
    board = (await client.get(f"{hall}/queue", params={"township_id": "qingshui"})).json()
    say(f"  叫号屏：请 {called['ticket_no']} 号到 3 号窗口（大屏不显示姓名）；屏上 {len(board.get('windows', []))} 个窗口在办理")
    await client.post(f"{hall}/tickets/{called['ticket_id']}/end", headers=WINDOW,
                      json={"window_no": "3", "outcome": "served"})


async def other_matters(client: httpx.AsyncClient) -> None:
    """Not every visit is an application: a question answered, a complaint registered, a refusal by the head."""
    say("== 咨询、投诉与不予受理 ==")
    await client.post(f"{URL['intake']}/api/v1/consultations", headers=WINDOW, json={
        "township_id": "qingshui", "question": "城乡居民医保今年什么时候开始缴费？",
        "answer": "9月1日至12月31日，可在窗口或手机缴纳", "item_code": "YB-001"})
    say("  咨询已登记：城乡居民医保缴费时间（首问负责人 window-01）")
    complaint = (await client.post(f"{URL['intake']}/api/v1/complaints", headers=WINDOW, json={
        "township_id": "qingshui", "subject": "窗口工作人员不在岗", "content": "上午十点到民政窗口无人办理",
        "department_code": "civil_affairs", "complainant_name": "周大爷"})).json()
    say(f"  投诉已登记：{complaint.get('complaint_no')}，须在 {complaint.get('answer_due', '')[:10]} 前答复")
    noticed = await take_in(client, 8, "吴强", "MZ-003", ["id_card"], "window")
    if noticed.get("status") == "materials_requested":
        refusal = {"reason": "申请人户籍不在本乡镇，应向户籍地申请", "legal_basis": "《社会救助暂行办法》第十一条"}
        by_window = await client.post(f"{URL['intake']}/api/v1/cases/{noticed['case_id']}/rejection",
                                      headers=WINDOW, json=refusal)
        say(f"  窗口不能自行不予受理（{by_window.status_code}）；经中心主任审批：")
        await client.post(f"{URL['intake']}/api/v1/cases/{noticed['case_id']}/rejection", headers=HEAD, json=refusal)
        paper = await client.get(f"{URL['intake']}/api/v1/cases/{noticed['case_id']}/documents/rejection.pdf",
                                 headers=WINDOW)
        say(f"  {noticed['case_no']} 不予受理，打印不予受理通知书（{len(paper.content) // 1024} KB，告知复议与诉讼权利）")


async def print_receipt(client: httpx.AsyncClient, case: dict) -> None:
    resp = await client.get(f"{URL['intake']}/api/v1/cases/{case['case_id']}/documents/receipt.pdf", headers=WINDOW)
    if resp.status_code == 200:
        out = ROOT / ".local" / "demo" / f"receipt-{case['case_no']}.pdf"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(resp.content)
        say(f"  打印受理回执：{out.relative_to(ROOT)}")


async def day(client: httpx.AsyncClient) -> None:
    await hall_morning(client)
    say("== 上午：窗口与代办点受理 ==")
    incomplete = await take_in(client, 7, "孙丽", "SB-002", ["id_card"], "window")
    cases = [await take_in(client, 10 + i, *r) for i, r in enumerate(RESIDENTS)]
    cases = [c for c in cases if c.get("status") == "submitted"]
    await print_receipt(client, cases[0])
    if incomplete.get("status") == "materials_requested":
        resp = await client.post(f"{URL['intake']}/api/v1/cases/{incomplete['case_id']}/materials", headers=WINDOW,
                                 json={"materials": [o["code"] for o in incomplete["owed"]]})
        if resp.json().get("status") == "submitted":
            say(f"  ✓ 孙丽 下午带齐材料回来补正，{incomplete['case_no']} 已受理（按一次性告知书核对，无新增要求）")

    await other_matters(client)

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

    say("== 暂停计时与延期 ==")
    case_url = f"{URL['routing']}/api/v1/cases/{fourth['case_id']}"
    fourth_holder = await holder(client, fourth)
    await client.post(f"{case_url}/pause", headers=fourth_holder, json={"reason": "expert_review", "note": "组织专家评审"})
    await client.post(f"{case_url}/resume", headers=fourth_holder, json={})
    resp = await client.post(f"{case_url}/extension", headers=HEAD, json={"days": 5, "reason": "需入户核查家庭情况"})
    if resp.status_code == 200:
        day = datetime.fromisoformat(resp.json()["promised_deadline"]).astimezone(SHANGHAI)
        say(f"  {fourth['case_no']} 专家评审期间暂停计时；中心主任批准延期5个工作日，办结期限 {day:%m月%d日}")
    bench = (await client.get(f"{URL['routing']}/api/v1/workbench", headers=HEAD)).json()
    say(f"  中心主任工作台：红灯 {bench['counts']['red']} 件，黄灯 {bench['counts']['yellow']} 件，"
        f"绿灯 {bench['counts']['green']} 件")

    say("== 群众查询进度（无需登录，凭办件编号和手机号） ==")
    status = await client.get(f"{URL['intake']}/api/v1/cases/{cases[1]['case_no']}/status",
                              headers={"X-Applicant-Phone": "13900000011"})
    if status.status_code == 200:
        say(f"  {cases[1]['case_no']}：{status.json().get('summary') or status.json().get('status_text')}")

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
        say(f"  {fourth['case_no']} 先黄灯预警、后红灯超期，已短信通知承办人和中心主任")
    finally:
        CLOCK_FILE.write_text("0")

    say("== 短信记录 ==")
    expected = {first["case_id"]: 2, second["case_id"]: 2, third["case_id"]: 2, fourth["case_id"]: 2}
    for c in cases:
        async def sent(case=c):
            data = (await client.get(f"{URL['notify']}/api/v1/messages", params={"case_id": case["case_id"]},
                                     headers=WINDOW)).json()
            # Sent, or held by a sending rule (ADR 30): the demo texts one sample number, at any hour.
            done = [m for m in data if m["status"] == "sent" or m.get("waiting_for")]
            return done if len(done) >= expected[case["case_id"]] else None
        for m in await wait_for(sent, "短信发送", timeout=60):
            say(f"  [{'群众' if m['recipient_kind'] == 'resident' else '工作人员'} {m['phone']}] {m['text']}"
                + _held(m))

    say("== 个人信息删除 ==")
    resp = await client.post(f"{URL['intake']}/api/v1/cases/{second['case_id']}/contact-erasure", headers=HEAD,
                             json={"reason": "申请人依《个人信息保护法》要求删除联系方式"})
    say(f"  {second['case_no']} 申请人的手机号码已按本人要求删除，办件记录完整保留" if resp.status_code == 200
        else f"  × {second['case_no']} 删除失败：{resp.json().get('message')}")

    say("== 纪检监察：办件时间线、异常清单与完整性 ==")
    async def full_timeline():
        resp = await client.get(f"{URL['audit']}/api/v1/cases/{third['case_id']}/timeline", headers=INSPECTOR)
        events = resp.json().get("events", []) if resp.status_code == 200 else []
        return events if {"CaseRated", "CaseCompleted", "CaseTransferred"} <= {e["event_type"] for e in events} else None
    for e in await wait_for(full_timeline, "审计记录", timeout=120):
        at = datetime.fromisoformat(e["occurred_at"])
        say(f"  {at:%m-%d %H:%M:%S}  {e['label']:<8} {e['actor']['label']} {e['actor']['id']}："
            f"{e['summary']}（{e['deadline_state_label']}）")
    for kind in ("overdue_case", "ping_pong", "second_notice"):
        page = (await client.get(f"{URL['audit']}/api/v1/inspections/anomalies/{kind}",
                                 params={"township_id": "qingshui"}, headers=INSPECTOR)).json()
        say(f"  异常清单【{page['label']}】：{len(page['items'])} 件"
            + "".join(f"；{i['case_no']} {i['summary']}" for i in page["items"][:3]))
    figures = (await client.get(f"{URL['audit']}/api/v1/inspections/figures",
                                params={"by": "township", "period": "month"}, headers=INSPECTOR)).json()
    for row in figures.get("rows", [])[:3]:
        say(f"  {row['key']} {row.get('period_start', '')}：受理 {row['cases']} 件，"
            f"按期办结率 {_rate(row['on_time_rate'])}，满意率 {_rate(row['satisfaction_rate'])}")
    integrity = (await client.get(f"{URL['audit']}/api/v1/integrity", headers=INSPECTOR)).json()
    say(f"  审计链校验：{'通过' if integrity['valid'] else '发现异常'}，共 {integrity['records']} 条记录；"
        "每次查询均已留痕（GET /api/v1/access-log）")


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


async def main() -> int:
    async with httpx.AsyncClient(timeout=15) as client:
        await day(client)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
