"""Where each township's centre receives residents, when, and the number to call: printed on every
document, as the catalogue file (deploy/catalogue/) says."""

from __future__ import annotations

from dataclasses import dataclass

from services.intake.catalogue_file import CatalogueFile


@dataclass(frozen=True)
class ServiceHall:
    name: str
    address: str
    hours: str
    phone: str


def hall_of(catalogue: CatalogueFile, township_id: str) -> ServiceHall:
    """The township's centre; one the catalogue does not know still prints, with the county's hotline."""
    township = catalogue.township(township_id)
    if township is not None:
        return ServiceHall(name=township.name, address=township.address, hours=township.office_hours,
                           phone=township.enquiry_line)
    return ServiceHall(name="便民服务中心", address="请向乡镇（街道）便民服务中心咨询", hours="工作日", phone="12345")
