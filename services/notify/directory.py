"""The demo county's duty phones (值班电话), loaded into notify at start.

`department_code` None is the centre head (中心主任), who receives a township's breach
notices when the department holding the case has no duty phone of its own.
"""

from __future__ import annotations

DUTY_CONTACTS: list[dict[str, str | None]] = [
    {"township_id": "qingshui", "department_code": None, "name": "清水镇中心主任", "phone": "+8613900010001"},
    {"township_id": "qingshui", "department_code": "social_security", "name": "清水镇社保站值班员", "phone": "+8613900010002"},
    {"township_id": "qingshui", "department_code": "medical_insurance", "name": "清水镇医保站值班员",
     "phone": "+8613900010003"},
    {"township_id": "qingshui", "department_code": "civil_affairs", "name": "清水镇民政办值班员", "phone": "+8613900010004"},
    {"township_id": "baishi", "department_code": None, "name": "白石乡中心主任", "phone": "+8613900020001"},
    {"township_id": "baishi", "department_code": "social_security", "name": "白石乡社保站值班员", "phone": "+8613900020002"},
    {"township_id": "baishi", "department_code": "natural_resources", "name": "白石乡自然资源所值班员",
     "phone": "+8613900020003"},
    {"township_id": "hexi", "department_code": None, "name": "河西街道中心主任", "phone": "+8613900030001"},
    {"township_id": "hexi", "department_code": "medical_insurance", "name": "河西街道医保站值班员", "phone": "+8613900030002"},
]
