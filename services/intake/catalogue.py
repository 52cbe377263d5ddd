"""The demo county's townships and service catalogue (服务事项目录), loaded into intake at start."""

from __future__ import annotations

TOWNSHIPS: list[dict[str, str]] = [
    {"township_id": "qingshui", "name": "清水镇便民服务中心", "case_prefix": "QS"},
    {"township_id": "baishi", "name": "白石乡便民服务中心", "case_prefix": "BS"},
    {"township_id": "hexi", "name": "河西街道便民服务中心", "case_prefix": "HX"},
]


def _m(code: str, name: str, essential: bool = True) -> dict[str, object]:
    return {"code": code, "name": name, "essential": essential}


_ID = _m("id_card", "居民身份证")
_HUKOU = _m("hukou", "户口簿")

ITEMS: list[dict[str, object]] = [
    {"item_code": "YB-001", "name": "城乡居民医保参保登记", "category": "public_service", "kind": "immediate",
     "department_code": "medical_insurance", "handling_level": "township", "legal_limit_days": 5, "promised_limit_days": 0,
     "materials": [_ID, _HUKOU]},
    {"item_code": "SB-002", "name": "城乡居民养老保险待遇申领", "category": "public_service", "kind": "promised",
     "department_code": "social_security", "handling_level": "township", "legal_limit_days": 20, "promised_limit_days": 10,
     "materials": [_ID, _HUKOU, _m("bank_card", "本人银行卡或存折"), _m("photo", "近期免冠照片", essential=False)]},
    {"item_code": "MZ-003", "name": "最低生活保障申请", "category": "confirmation", "kind": "promised",
     "department_code": "civil_affairs", "handling_level": "county", "legal_limit_days": 30, "promised_limit_days": 20,
     "materials": [_ID, _HUKOU, _m("income_statement", "家庭收入情况声明"),
                   _m("authorization", "家庭经济状况核对授权书", essential=False)]},
    {"item_code": "CL-004", "name": "残疾人两项补贴申请", "category": "public_service", "kind": "promised",
     "department_code": "disabled_persons", "handling_level": "county", "legal_limit_days": 20, "promised_limit_days": 15,
     "materials": [_ID, _m("disability_card", "残疾人证"), _m("bank_card", "本人银行卡或存折", essential=False)]},
    {"item_code": "NY-005", "name": "农村宅基地和建房（规划许可）申请", "category": "licence", "kind": "joint",
     "department_code": "natural_resources", "handling_level": "township", "legal_limit_days": 20, "promised_limit_days": 15,
     "materials": [_ID, _HUKOU, _m("site_plan", "宅基地和建房申请表"),
                   _m("neighbour_consent", "相邻权利人意见", essential=False)]},
    {"item_code": "TY-006", "name": "退役军人优待证申领", "category": "public_service", "kind": "promised",
     "department_code": "veterans", "handling_level": "county", "legal_limit_days": 15, "promised_limit_days": 10,
     "materials": [_ID, _m("discharge_cert", "退役证明"), _m("photo", "近期免冠照片")]},
]
