import pytest

from contracts.personal_data import complainant_name_for, mask_id_number, mask_phone

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("phone", "masked"), [
    ("+8613800138000", "138****8000"), ("13800138000", "138****8000"), ("+447911123456", "447****3456"),
    ("+8612345", "***45"), ("1380013", "*****13"),
])
def test_phone_masking(phone, masked):
    assert mask_phone(phone) == masked


def test_id_number_masking_hides_the_birth_date():
    assert mask_id_number("11010519491231002X") == "1101**********002X"


def test_the_staff_member_complained_about_never_sees_the_complainants_name():
    assert complainant_name_for("qs-mi-01", name="李四", about_staff_id="qs-mi-01") is None
    assert complainant_name_for("qs-head", name="李四", about_staff_id="qs-mi-01") == "李四"
    assert complainant_name_for("qs-mi-01", name="李四", about_staff_id=None) == "李四"
