import pytest

from services.intake import domain
from services.intake.tests.builders import VALID_ID

pytestmark = pytest.mark.unit

ITEM = domain.Item(item_code="X", name="测试事项", kind="promised", department_code="civil_affairs", promised_limit_days=5,
                   materials=(domain.Material("id_card", "身份证", True), domain.Material("hukou", "户口簿", True),
                              domain.Material("photo", "照片", False)))


def test_id_number_checksum():
    assert domain.valid_id_number(VALID_ID)
    assert not domain.valid_id_number(VALID_ID[:-1] + "1")
    assert not domain.valid_id_number("110105194913310021")  # month 13
    assert domain.mask_id_number(VALID_ID) == "1101**********002X"


def test_one_time_notice_lists_every_missing_essential_material():
    essential, tolerable = domain.missing_materials(ITEM, ())
    assert [m.code for m in essential] == ["id_card", "hukou"]
    assert [m.code for m in tolerable] == ["photo"]


def test_unknown_material_code_is_refused():
    with pytest.raises(domain.UnknownMaterial):
        domain.missing_materials(ITEM, ("passport",))


def test_rating_rules():
    with pytest.raises(domain.CaseNotCompleted):
        domain.decide_rating(domain.CaseState(status="assigned"), score=5, comment="")
    with pytest.raises(domain.CaseAlreadyRated):
        domain.decide_rating(domain.CaseState(status="completed", rated=True), score=5, comment="")
    [event] = domain.decide_rating(domain.CaseState(status="completed"), score=2, comment="慢")
    assert event.payload.bad_rating is True
