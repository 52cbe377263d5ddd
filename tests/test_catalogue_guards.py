"""Guards: every department and township of the service catalogue is known to routing, which assigns cases."""

from __future__ import annotations

import pytest

from services.intake.catalogue_file import load_catalogue
from services.routing.directory import DEPARTMENTS, STAFF, TOWNSHIPS

pytestmark = pytest.mark.unit
CATALOGUE = load_catalogue()


def test_every_catalogue_department_is_known_to_routing():
    unknown = {d.code for d in CATALOGUE.departments} - set(DEPARTMENTS)
    assert not unknown, f"add {sorted(unknown)} to services/routing/directory.py DEPARTMENTS"


def test_every_catalogue_department_has_staff_in_every_township():
    staffed = {(s["township_id"], s["department_code"]) for s in STAFF}
    assert {(t.township_id, d.code) for t in CATALOGUE.townships for d in CATALOGUE.departments} <= staffed


def test_routing_knows_the_catalogue_townships():
    assert {t.township_id for t in CATALOGUE.townships} == set(TOWNSHIPS)
