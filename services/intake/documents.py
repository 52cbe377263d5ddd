"""The printed documents a resident takes home, as PDF: 受理回执, 一次性告知书, 不予受理通知书, 转介告知单.

Pure but for reading the font: data in (services/intake/document_data.py), bytes out. Large type and
plain words for older residents (适老化); what anyone typed is drawn as text, never read as markup.
The font is embedded as a subset, so the PDF prints the same on any machine.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from fpdf.enums import Align, TextMode, XPos, YPos

from contracts.events import ApplicationFields
from contracts.workdays import PROVISIONAL_MARK, chinese_date
from services.intake.document_data import Notice, Receipt, Referral, Rejection
from services.intake.service_halls import ServiceHall
from services.kit.pdf import FAMILY, LINE_MM, Writer

TITLE_PT, HEADING_PT, BODY_PT, SMALL_PT = 26, 17, 15, 12  # 15 pt body: readable without glasses for most elders
_PROBLEMS = {"missing": "缺少", "faulty": "不符合要求"}
RIGHTS = ("如对本决定不服，可以自收到本通知书之日起六十日内依法申请行政复议，"
          "也可以在六个月内依法向人民法院提起行政诉讼。")


class _Sheet:
    """One A4 document: a header naming the centre, a title, then labelled lines and paragraphs."""

    def __init__(self, font: Path, *, hall: ServiceHall, title: str, number: str, printed_at: datetime) -> None:
        self.writer = Writer(font, title=title, created_at=printed_at, body_pt=BODY_PT)
        self.pdf = pdf = self.writer.pdf
        footer = f"{hall.name}　咨询电话：{hall.phone}　打印日期：{chinese_date(printed_at)}"
        self.writer.footer(lambda: f"{footer}　第{pdf.page_no()}页", size=SMALL_PT)
        pdf.add_page()
        self._line(hall.name, size=HEADING_PT, align=Align.C)
        self._line(title, size=TITLE_PT, align=Align.C, bold=True, height=16)
        self._line(f"编号：{number}", size=BODY_PT, align=Align.R)
        pdf.ln(2)

    def _line(self, text: str, *, size: int = BODY_PT, align: Align = Align.L, bold: bool = False,
              height: float = LINE_MM) -> None:
        self.writer.line(text, size=size, align=align, bold=bold, height=height)

    def field(self, label: str, value: str) -> None:
        self._line(f"{label}：{value}")

    def heading(self, text: str) -> None:
        self.pdf.ln(2)
        self._line(text, size=HEADING_PT, bold=True, height=11)

    def paragraph(self, text: str) -> None:
        self._line(text)

    def items(self, lines: Sequence[str]) -> None:
        for number, text in enumerate(lines, start=1):
            self._line(f"{number}. {text}")
        self.pdf.ln(2)

    def mark(self, text: str) -> None:
        """A boxed, heavy line no one overlooks (第二次告知)."""
        pdf = self.pdf
        pdf.set_font(FAMILY, size=HEADING_PT + 3)
        with pdf.local_context(text_mode=TextMode.FILL_STROKE, line_width=0.5, draw_color=0):
            pdf.multi_cell(0, 14, text, border=1, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(2)

    def how_to_ask(self, hall: ServiceHall, case_no: str) -> None:
        self.heading("怎样查询和咨询")
        self.paragraph(f"请记住办件编号 {case_no}。凭办件编号和申请时留下的手机号码，拨打 {hall.phone} "
                       "或到中心窗口，就能查到办理进度。")
        self.field("中心地址", hall.address)
        self.field("办公时间", hall.hours)

    def signed(self, hall: ServiceHall, day: datetime) -> bytes:
        self.pdf.ln(8)
        self._line(f"{hall.name}（盖章）", align=Align.R)
        self._line(chinese_date(day), align=Align.R)
        return self.writer.output()


def _applicant(sheet: _Sheet, application: ApplicationFields) -> None:
    sheet.field("申请人", f"{application.applicant_name}（身份证号 {application.applicant_id_masked}）")
    sheet.field("办理事项", f"{application.item_name}（事项编码 {application.item_code}）")


def _mark(provisional: bool) -> str:
    """A date counted on the provisional calendar is printed as such: the official schedule may move it."""
    return PROVISIONAL_MARK if provisional else ""


def render_receipt(receipt: Receipt, *, hall: ServiceHall, font: Path, printed_at: datetime) -> bytes:
    app = receipt.application
    sheet = _Sheet(font, hall=hall, title="受理回执", number=app.case_no, printed_at=printed_at)
    _applicant(sheet, app)
    sheet.field("受理日期", chinese_date(receipt.accepted_at))
    if receipt.deemed_accepted:
        sheet.paragraph("中心未在收到材料后五个工作日内告知补正，依法视为自收到材料之日起已受理。")
    sheet.heading("已收到的材料")
    sheet.items(receipt.materials_received or ("无",))
    if receipt.owed:
        sheet.heading("还需要补交的材料（容缺受理）")
        sheet.items([f"{m.name}：请于{chinese_date(m.due)}前补交{_mark(m.due_provisional)}" if m.due
                     else f"{m.name}：补交期限以窗口告知为准" for m in receipt.owed])
    sheet.heading("什么时候办好")
    if receipt.promised_limit_days == 0:
        sheet.paragraph(f"本事项为即办件，承诺于{chinese_date(receipt.promised_deadline)}办结"
                        f"{_mark(receipt.deadline_provisional)}。")
    else:
        sheet.paragraph(f"承诺于{chinese_date(receipt.promised_deadline)}前办结{_mark(receipt.deadline_provisional)}"
                        f"（{receipt.promised_limit_days}个工作日，节假日不计算在内）。办好后会发短信告诉您。")
    sheet.field("首问负责人", app.first_contact_staff_id or "受理窗口工作人员")
    sheet.how_to_ask(hall, app.case_no)
    sheet.paragraph("请妥善保管本回执。")
    return sheet.signed(hall, receipt.accepted_at)


def render_notice(notice: Notice, *, hall: ServiceHall, font: Path, printed_at: datetime) -> bytes:
    app = notice.application
    sheet = _Sheet(font, hall=hall, title="一次性告知书", number=f"{app.case_no}-告{notice.notice_no}",
                   printed_at=printed_at)
    if notice.second_notice:
        sheet.mark("第二次告知")
        changed = f"（{notice.requirements_changed_from}版之后）" if notice.requirements_changed_from else ""
        sheet.paragraph(f"因本事项的办理要求{changed}有变化，需要再请您补充下列材料。")
    _applicant(sheet, app)
    sheet.field("告知日期", chinese_date(notice.given_at))
    sheet.paragraph("经审查，您申请的事项还需要补齐或更正下列材料。以下是需要补的全部材料，一次告诉您：")
    sheet.heading("需要补齐的材料")
    sheet.items([f"{m.name}（{_PROBLEMS[m.problem]}）" + (f"：{m.note}" if m.note else "") for m in notice.materials])
    sheet.paragraph("材料带齐后，请到中心窗口办理，出示本告知书即可。")
    sheet.field("首问负责人", app.first_contact_staff_id or "受理窗口工作人员")
    sheet.how_to_ask(hall, app.case_no)
    return sheet.signed(hall, notice.given_at)


def render_rejection(rejection: Rejection, *, case_no: str, hall: ServiceHall, font: Path, printed_at: datetime) -> bytes:
    sheet = _Sheet(font, hall=hall, title="不予受理通知书", number=case_no, printed_at=printed_at)
    if rejection.application is not None:
        _applicant(sheet, rejection.application)
    sheet.paragraph("经审查，您申请的事项不予受理。")
    sheet.field("理由", rejection.reason)
    sheet.field("依据", rejection.legal_basis)
    sheet.field("审批人（中心负责人）", rejection.approved_by)
    sheet.heading("您的权利")
    sheet.paragraph(RIGHTS)
    sheet.how_to_ask(hall, case_no)
    return sheet.signed(hall, rejection.rejected_at)


def render_referral(referral: Referral, *, case_no: str, hall: ServiceHall, font: Path, printed_at: datetime) -> bytes:
    sheet = _Sheet(font, hall=hall, title="转介告知单", number=case_no, printed_at=printed_at)
    sheet.field("您要办的事", referral.matter)
    sheet.paragraph("这件事不在本中心办理，请到下面的地方办理：")
    sheet.field("办理地点", referral.referred_to)
    if referral.address:
        sheet.field("地址", referral.address)
    if referral.office_hours:
        sheet.field("办公时间", referral.office_hours)
    if referral.note:
        sheet.field("提醒", referral.note)
    sheet.field("接待人", referral.first_contact_staff_id or "窗口工作人员")
    sheet.paragraph(f"有疑问请拨打本中心电话 {hall.phone}。")
    return sheet.signed(hall, referral.referred_at)
