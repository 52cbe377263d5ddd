"""Intake events that printed documents are made from, and a PDF's text, for the documents' tests."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pypdf

from contracts.envelope import Actor, Envelope, Payload, new_event_id
from contracts.events import (
    CaseReferred,
    CaseReferredPayload,
    CaseRejectedAtIntake,
    CaseRejectedAtIntakePayload,
    CaseSubmitted,
    CaseSubmittedPayload,
    MaterialsRequested,
    MaterialsRequestedPayload,
    MaterialsSupplied,
    MaterialsSuppliedPayload,
    NoticeMaterial,
    ToleratedMaterialDue,
    ToleratedMaterialDuePayload,
    event_type_name,
)

AT = datetime(2026, 11, 23, 17, 30, tzinfo=UTC)  # 24 November in Asia/Shanghai
DEADLINE = datetime(2026, 12, 8, 15, 59, 59, tzinfo=UTC)  # end of 8 December, Asia/Shanghai
NAMES = {"id_card": "居民身份证", "hukou": "户口簿", "bank_card": "本人银行卡或存折", "photo": "近期免冠照片"}
APPLICATION = dict(
    case_no="QS-20261124-0007", item_code="SB-002", item_name="城乡居民养老保险待遇申领", kind="promised",
    department_code="social_security", channel="window", applicant_name="王秀英", applicant_id_masked="1101**********002X",
    first_contact_staff_id="qs-general_window-01",
)
BANK_CARD = NoticeMaterial(code="bank_card", name="本人银行卡或存折", problem="faulty", note="须为本人名下的一类银行卡")
PHOTO = NoticeMaterial(code="photo", name="近期免冠照片", problem="missing", note="近期二寸白底")
HUKOU = NoticeMaterial(code="hukou", name="户口簿", problem="missing", note="户主页和本人页")
REASON = "申请人不属于本乡镇户籍居民 <b>请</b> **核实** {case_no}"  # typed by staff: never read as markup
LEGAL_BASIS = "《中华人民共和国行政许可法》第三十二条第一款第（二）项"


def requested(notice_no: int = 1, *, second: bool = False, materials: tuple[NoticeMaterial, ...] = (BANK_CARD, HUKOU),
              **application) -> MaterialsRequestedPayload:
    return MaterialsRequestedPayload(**{**APPLICATION, **application}, notice_no=notice_no, materials=list(materials),
                                     second_notice=second, requirements_changed_from="2026.11-r1" if second else None)


def submitted(provided=("id_card", "hukou", "bank_card"), tolerated=("photo",), **overrides) -> CaseSubmittedPayload:
    fields = dict(materials_provided=list(provided), materials_tolerated_missing=list(tolerated), promised_limit_days=10,
                  promised_deadline=DEADLINE)
    return CaseSubmittedPayload(**{**APPLICATION, **fields, **overrides})


def tolerated_due() -> ToleratedMaterialDuePayload:
    return ToleratedMaterialDuePayload(materials=[NoticeMaterial(code="photo", name="近期免冠照片", problem="missing")],
                                       due=datetime(2026, 12, 9, 15, 59, 59, tzinfo=UTC))


def supplied(*codes: str, still_owed: tuple[str, ...] = ()) -> MaterialsSuppliedPayload:
    return MaterialsSuppliedPayload(materials=list(codes), still_owed=list(still_owed), complete=not still_owed)


def rejected(reason: str = REASON) -> CaseRejectedAtIntakePayload:
    return CaseRejectedAtIntakePayload(reason=reason, legal_basis=LEGAL_BASIS, proposed_by="qs-general_window-01",
                                       approved_by="qs-head")


def referred() -> CaseReferredPayload:
    return CaseReferredPayload(matter="办理不动产登记", referred_to="县政务服务中心不动产登记窗口", address="县城人民路8号",
                               office_hours="工作日 9:00-17:00", note="请携带身份证和房产证",
                               first_contact_staff_id="qs-general_window-01")


_TYPES: dict[type[Payload], type[Envelope]] = {
    MaterialsRequestedPayload: MaterialsRequested, CaseSubmittedPayload: CaseSubmitted,
    ToleratedMaterialDuePayload: ToleratedMaterialDue, MaterialsSuppliedPayload: MaterialsSupplied,
    CaseRejectedAtIntakePayload: CaseRejectedAtIntake, CaseReferredPayload: CaseReferred,
}


def stream(*payloads: Payload, case_id: UUID | None = None, township_id: str = "qingshui") -> list[Envelope]:
    """Stamped envelopes as the event store would hold them, one after the other."""
    case_id = case_id or uuid4()
    actor = Actor(kind="staff", id="qs-general_window-01")
    out = []
    for version, payload in enumerate(payloads, start=1):
        cls = _TYPES[type(payload)]
        out.append(cls(event_id=new_event_id(), event_type=event_type_name(cls), schema_version=cls.SCHEMA_VERSION,
                       occurred_at=AT, source="intake", case_id=case_id, stream_version=version, township_id=township_id,
                       actor=actor, correlation_id=case_id, payload=payload))
    return out


def pdf_text(content: bytes) -> str:
    """The PDF's text with line breaks taken out (the layout wraps long lines anywhere)."""
    reader = pypdf.PdfReader(io.BytesIO(content))
    return "".join(page.extract_text() for page in reader.pages).replace("\n", "")


def embedded_font_files(content: bytes) -> list[str]:
    """/FontFile2 or /FontFile3 for every font of every page: the glyphs travel in the PDF."""
    reader = pypdf.PdfReader(io.BytesIO(content))
    found = []
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                descriptor = descendant.get_object()["/FontDescriptor"].get_object()
                found += [key for key in ("/FontFile", "/FontFile2", "/FontFile3") if key in descriptor]
    return found
