"""The county's department codes (部门/站所) and names: every event's `department_code` is one of these.

Routing assigns cases to them; intake checks a consultation's or complaint's department against them.
"""

from __future__ import annotations

DEPARTMENTS: dict[str, str] = {
    "general_window": "综合窗口",
    "medical_insurance": "医保站",
    "social_security": "社保站",
    "civil_affairs": "民政办",
    "disabled_persons": "残联",
    "natural_resources": "自然资源所",
    "veterans": "退役军人服务站",
    "agriculture": "农业综合服务中心",
    "forestry": "林业站",
    "health": "卫生健康办",
    "judicial": "司法所",
    "household_registration": "户籍室",
    "employment": "就业服务站",
}
