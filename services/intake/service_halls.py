"""Where each township's centre receives residents, when, and the number to call: printed on every document."""

from __future__ import annotations

from dataclasses import dataclass

from services.intake.catalogue import TOWNSHIPS


@dataclass(frozen=True)
class ServiceHall:
    name: str
    address: str
    hours: str
    phone: str


_DEMO_HALLS: dict[str, tuple[str, str, str]] = {  # township_id -> (address, hours, enquiry phone)
    "qingshui": ("清水镇人民路18号", "工作日 上午8:30-12:00，下午14:00-17:30", "0571-8888 1001"),
    "baishi": ("白石乡白石街6号", "工作日 上午8:30-12:00，下午14:00-17:30", "0571-8888 1002"),
    "hexi": ("河西街道河西路120号", "工作日 上午8:30-12:00，下午14:00-17:30", "0571-8888 1003"),
}
_NAMES = {t["township_id"]: t["name"] for t in TOWNSHIPS}


def hall_of(township_id: str) -> ServiceHall:
    """The township's centre; one missing from the demo table still prints, with the county's hotline."""
    address, hours, phone = _DEMO_HALLS.get(township_id, ("请向乡镇（街道）便民服务中心咨询", "工作日", "12345"))
    return ServiceHall(name=_NAMES.get(township_id, "便民服务中心"), address=address, hours=hours, phone=phone)
