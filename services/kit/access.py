"""Who may do what: the one role x endpoint table every service's HTTP API enforces.

Each action maps the roles allowed to it to the scope they act in; a role not listed is refused
(403 ROLE_FORBIDDEN) before anything is read. Scopes, from widest:
  ALL       every township (county-wide roles: inspector, admin)
  TOWNSHIP  only cases of the township in the caller's token
  HOLDER    only a case the caller holds: assigned to them (`sub` = staff id) or to their department
A PUBLIC action (what the centre offers, where it is; what a resident holds — a rating link, their
phone number — is the credential) needs no token at all: every role holds it, and so
does anyone without a role; its route depends on `public(action)` instead of `permit(action)`.
The README's access matrix is printed from this table (`python -m services.kit.access`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

from services.kit.auth import ROLES, CurrentPrincipal, Principal
from services.kit.errors import ApiError

ALL, TOWNSHIP, HOLDER = "all", "township", "holder"
PUBLIC = "public"
_ANYONE = dict.fromkeys(ROLES, PUBLIC)
_TAKERS = {"staff": TOWNSHIP, "village_agent": TOWNSHIP, "centre_head": TOWNSHIP}
_COUNTY_READERS = {"inspector": ALL, "admin": ALL}
_DEPARTMENT_READERS = {"staff": TOWNSHIP, "centre_head": TOWNSHIP, **_COUNTY_READERS}
_CASE_DECIDERS = {"staff": HOLDER, "centre_head": TOWNSHIP}
_CENTRE_STAFF = {"staff": TOWNSHIP, "centre_head": TOWNSHIP}
_DOCUMENT_READERS = {**_TAKERS, **_COUNTY_READERS}  # print a case's documents for the resident, or read them

# action -> (method and path, {role: scope}); the order is the README's.
POLICY: dict[str, tuple[str, dict[str, str]]] = {
    "intake.list_townships": ("intake GET /api/v1/townships", _ANYONE),
    "intake.read_catalogue": ("intake GET /api/v1/catalogue", _ANYONE),
    "intake.read_service_guide": ("intake GET /api/v1/catalogue/{item_code}", _ANYONE),
    "intake.list_departments": ("intake GET /api/v1/departments", _ANYONE),
    "intake.submit_case": ("intake POST /api/v1/cases", _TAKERS),
    "intake.review_case": ("intake POST /api/v1/cases/{id}/review", _CENTRE_STAFF),
    "intake.supply_materials": ("intake POST /api/v1/cases/{id}/materials", _TAKERS),
    "intake.reject_at_intake": ("intake POST /api/v1/cases/{id}/rejection", {"centre_head": TOWNSHIP}),
    "intake.hand_over": ("intake POST /api/v1/cases/{id}/handover", {"staff": TOWNSHIP, "centre_head": TOWNSHIP}),
    "intake.deliver_result": ("intake POST /api/v1/cases/{id}/delivery", _TAKERS),
    "intake.list_cases": ("intake GET /api/v1/cases", {"staff": TOWNSHIP, "centre_head": TOWNSHIP, **_COUNTY_READERS}),
    "intake.read_case": ("intake GET /api/v1/cases/{id}", {**_TAKERS, **_COUNTY_READERS}),
    "intake.rate_case": ("intake POST /api/v1/cases/{id}/rating", {"village_agent": TOWNSHIP, "window_pad": TOWNSHIP}),
    "intake.rate_case_again": ("intake POST /api/v1/cases/{id}/rating-again",
                               {"village_agent": TOWNSHIP, "window_pad": TOWNSHIP}),
    "intake.erase_contact": ("intake POST /api/v1/cases/{id}/contact-erasure", {"centre_head": TOWNSHIP, "admin": ALL}),
    # The hall's queue: the ticket kiosk and the windows act with a staff token of their township;
    # the display board shows ticket numbers only, to anyone.
    "intake.hall_issue_ticket": ("intake POST /api/v1/hall/tickets", _CENTRE_STAFF),
    "intake.hall_call_next": ("intake POST /api/v1/hall/calls", _CENTRE_STAFF),
    "intake.hall_recall_ticket": ("intake POST /api/v1/hall/tickets/{ticket_id}/recall", _CENTRE_STAFF),
    "intake.hall_start_service": ("intake POST /api/v1/hall/tickets/{ticket_id}/start", _CENTRE_STAFF),
    "intake.hall_end_service": ("intake POST /api/v1/hall/tickets/{ticket_id}/end", _CENTRE_STAFF),
    "intake.hall_board": ("intake GET /api/v1/hall/queue", _ANYONE),
    "intake.hall_stats": ("intake GET /api/v1/hall/stats", {"centre_head": TOWNSHIP, **_COUNTY_READERS}),
    "intake.log_consultation": ("intake POST /api/v1/consultations", _TAKERS),
    "intake.report_consultations": ("intake GET /api/v1/consultations", {"centre_head": TOWNSHIP, **_COUNTY_READERS}),
    "intake.register_complaint": ("intake POST /api/v1/complaints", _TAKERS),
    "intake.read_complaint": ("intake GET /api/v1/complaints/{complaint_id}",
                              {"staff": TOWNSHIP, "centre_head": TOWNSHIP, **_COUNTY_READERS}),
    "intake.erase_complainant_contact": ("intake POST /api/v1/complaints/{complaint_id}/contact-erasure",
                                         {"centre_head": TOWNSHIP, "admin": ALL}),
    "intake.refer_matter": ("intake POST /api/v1/referrals", _TAKERS),
    "intake.issue_rating_link": ("intake POST /api/v1/cases/{id}/rating-link", {"staff": TOWNSHIP, "centre_head": TOWNSHIP}),
    "intake.read_rating_link": ("intake GET /api/v1/rate/{token}", _ANYONE),
    "intake.rate_by_link": ("intake POST /api/v1/rate/{token}", _ANYONE),
    "intake.case_status": ("intake GET /api/v1/cases/{case_no}/status", _ANYONE),
    "intake.rate_by_status": ("intake POST /api/v1/cases/{case_no}/status/rating", _ANYONE),
    "intake.rate_again_by_status": ("intake POST /api/v1/cases/{case_no}/status/rating-again", _ANYONE),
    "intake.print_receipt": ("intake GET /api/v1/cases/{id}/documents/receipt.pdf", _DOCUMENT_READERS),
    "intake.print_notice": ("intake GET /api/v1/cases/{id}/documents/notice-{notice_no}.pdf", _DOCUMENT_READERS),
    "intake.print_rejection": ("intake GET /api/v1/cases/{id}/documents/rejection.pdf", _DOCUMENT_READERS),
    "intake.print_referral": ("intake GET /api/v1/cases/{id}/documents/referral.pdf", _DOCUMENT_READERS),
    "routing.list_queue": ("routing GET /api/v1/cases", _DEPARTMENT_READERS),
    "routing.read_case": ("routing GET /api/v1/cases/{id}", _DEPARTMENT_READERS),
    "routing.transfer_case": ("routing POST /api/v1/cases/{id}/transfer", _CASE_DECIDERS),
    "routing.complete_case": ("routing POST /api/v1/cases/{id}/complete", _CASE_DECIDERS),
    "routing.pause_clock": ("routing POST /api/v1/cases/{id}/pause", _CASE_DECIDERS),
    "routing.resume_clock": ("routing POST /api/v1/cases/{id}/resume", _CASE_DECIDERS),
    "routing.extend_deadline": ("routing POST /api/v1/cases/{id}/extension", {"centre_head": TOWNSHIP}),
    "routing.escalate_case": ("routing POST /api/v1/cases/{id}/escalation", _CASE_DECIDERS),
    # The county's answer is entered by the case's holder, or by the county's own system with an admin token.
    "routing.record_county_answer": ("routing POST /api/v1/cases/{id}/escalation/answer",
                                     {**_CASE_DECIDERS, "admin": ALL}),
    "routing.finish_share": ("routing POST /api/v1/cases/{id}/shares/{department_code}", _CASE_DECIDERS),
    "routing.read_workbench": ("routing GET /api/v1/workbench", _DEPARTMENT_READERS),
    "routing.list_complaints": ("routing GET /api/v1/complaints", {"centre_head": TOWNSHIP, **_COUNTY_READERS}),
    "routing.answer_complaint": ("routing POST /api/v1/complaints/{complaint_id}/answer", _CASE_DECIDERS),
    # Who is there: county IT records staff; staff and their centre head set presence; the hall's board is public.
    "routing.assign_case": ("routing POST /api/v1/cases/{id}/assign", {"centre_head": TOWNSHIP}),
    "routing.record_staff": ("routing PUT /api/v1/staff/{staff_id}", {"admin": ALL}),
    "routing.set_presence": ("routing POST /api/v1/staff/{staff_id}/presence", _CENTRE_STAFF),
    "routing.set_roster": ("routing PUT /api/v1/townships/{township_id}/roster/{week_monday}", {"centre_head": TOWNSHIP}),
    "routing.read_roster": ("routing GET /api/v1/townships/{township_id}/roster/{week_monday}", _DEPARTMENT_READERS),
    "routing.presence_board": ("routing GET /api/v1/townships/{township_id}/presence-board", _ANYONE),
    "routing.list_absences": ("routing GET /api/v1/townships/{township_id}/absences",
                              {"centre_head": TOWNSHIP, **_COUNTY_READERS}),
    # The bad-rating loop (ADR 35): staff act on follow-ups they own (谁办理谁负责), checked per follow-up.
    "routing.record_follow_up_visit": ("routing POST /api/v1/cases/{id}/follow-ups/{rating_event_id}/visit",
                                       _CENTRE_STAFF),
    "routing.record_rectification": ("routing POST /api/v1/cases/{id}/follow-ups/{rating_event_id}/rectification",
                                     _CENTRE_STAFF),
    "routing.appeal_rating": ("routing POST /api/v1/cases/{id}/follow-ups/{rating_event_id}/appeal", _CENTRE_STAFF),
    "routing.decide_rating_appeal": ("routing POST /api/v1/cases/{id}/follow-ups/{rating_event_id}/appeal-decision",
                                     {"centre_head": TOWNSHIP}),
    "routing.list_follow_ups": ("routing GET /api/v1/follow-ups", _DEPARTMENT_READERS),
    "routing.read_case_follow_ups": ("routing GET /api/v1/cases/{id}/follow-ups", _DEPARTMENT_READERS),
    "notify.list_messages": ("notify GET /api/v1/messages", _DEPARTMENT_READERS),
    # SMS providers push receipts: no bianmin role, the route checks the shared receipts secret itself.
    "notify.sms_receipts": ("notify POST /api/v1/sms/receipts/{provider}", _ANYONE),
    "audit.case_history": ("audit GET /api/v1/cases/{id}/history", {"centre_head": TOWNSHIP, **_COUNTY_READERS}),
    "audit.integrity": ("audit GET /api/v1/integrity", _COUNTY_READERS),
    "audit.events": ("audit GET /api/v1/events", _COUNTY_READERS),
    "audit.public_key": ("audit GET /api/v1/checkpoints/public-key", _COUNTY_READERS),
    "audit.checkpoints": ("audit GET /api/v1/checkpoints", _COUNTY_READERS),
    "audit.public_keys": ("audit GET /api/v1/checkpoints/public-keys", _COUNTY_READERS),
    "audit.inclusion_proof": ("audit GET /api/v1/proofs/inclusion", _COUNTY_READERS),
    "audit.consistency_proof": ("audit GET /api/v1/proofs/consistency", _COUNTY_READERS),
    "audit.export": ("audit GET /api/v1/export", _COUNTY_READERS),
    # Inspectors' queries, anomalies and figures (ADR 33): centre heads see their own township only.
    "audit.inspect_events": ("audit GET /api/v1/inspections/events", {"centre_head": TOWNSHIP, **_COUNTY_READERS}),
    "audit.inspect_case": ("audit GET /api/v1/inspections/cases/{case_no}", {"centre_head": TOWNSHIP, **_COUNTY_READERS}),
    "audit.inspect_anomalies": ("audit GET /api/v1/inspections/anomalies/{kind}",
                                {"centre_head": TOWNSHIP, **_COUNTY_READERS}),
    "audit.inspect_figures": ("audit GET /api/v1/inspections/figures", {"centre_head": TOWNSHIP, **_COUNTY_READERS}),
    "audit.case_timeline": ("audit GET /api/v1/cases/{id}/timeline", {"centre_head": TOWNSHIP, **_COUNTY_READERS}),
    "audit.access_log": ("audit GET /api/v1/access-log", _COUNTY_READERS),
    # The accountability ledger: recorded by inspectors only (a disciplinary decision; admins keep the system).
    "audit.record_accountability": ("audit POST /api/v1/accountability", {"inspector": ALL}),
    "audit.list_accountability": ("audit GET /api/v1/accountability", {"centre_head": TOWNSHIP, **_COUNTY_READERS}),
    "audit.export_accountability": ("audit GET /api/v1/accountability/export",
                                    {"centre_head": TOWNSHIP, **_COUNTY_READERS}),
    "audit.hall_figures": ("audit GET /api/v1/hall-figures", {"centre_head": TOWNSHIP, **_COUNTY_READERS}),
    "audit.case_dossier": ("audit GET /api/v1/cases/{id}/dossier.pdf", {"centre_head": TOWNSHIP, **_COUNTY_READERS}),
    # The bad-rating ledger (差评台账, ADR 37): a centre head watches their own township's; staff see none.
    "audit.inspect_bad_ratings": ("audit GET /api/v1/inspections/bad-ratings",
                                  {"centre_head": TOWNSHIP, **_COUNTY_READERS}),
    "audit.inspect_bad_rating_figures": ("audit GET /api/v1/inspections/bad-ratings/figures",
                                         {"centre_head": TOWNSHIP, **_COUNTY_READERS}),
    "admin.redrive_dead_letters": ("every POST /api/v1/admin/dead-letters/redrive", {"admin": ALL}),
}


@dataclass(frozen=True)
class Grant:
    """A caller allowed to an action, and the scope they hold it in; checks each case against it."""

    principal: Principal
    action: str
    scope: str

    def township(self, township_id: str) -> None:
        """Raises 403 unless the caller may act on cases of this township."""
        if self.scope != ALL and self.principal.township_id != township_id:
            raise ApiError(403, "TOWNSHIP_FORBIDDEN", "无权访问其他乡镇的办件")

    def listing_township(self, township_id: str | None) -> str:
        """The township a list is for: the one asked for, else the caller's own; county-wide roles must ask."""
        township = township_id or self.principal.township_id
        if township is None:
            raise ApiError(422, "TOWNSHIP_REQUIRED", "请指定要查看的乡镇（township_id）")
        self.township(township)
        return township

    def case(self, *, township_id: str, department_code: str | None, staff_id: str | None) -> None:
        """Raises 403 unless the caller may act on this case (its township, and for HOLDER its holder)."""
        self.township(township_id)
        if self.scope == HOLDER and not self._holds(department_code, staff_id):
            raise ApiError(403, "NOT_CASE_HOLDER", "只有承办人、承办科室或中心负责人可以办理此办件")

    def _holds(self, department_code: str | None, staff_id: str | None) -> bool:
        me = self.principal
        return (staff_id is not None and me.sub == staff_id) or (
            me.department_code is not None and me.department_code == department_code)


def grant(principal: Principal, action: str) -> Grant:
    """The caller's grant for an action, or 403 ROLE_FORBIDDEN."""
    _, roles = POLICY[action]
    if principal.role not in roles:
        raise ApiError(403, "ROLE_FORBIDDEN", "当前角色无权执行此操作")
    return Grant(principal=principal, action=action, scope=roles[principal.role])


def permit(action: str) -> Callable[[Principal], Grant]:
    """A FastAPI dependency: `g: Annotated[Grant, Depends(permit("routing.complete_case"))]`."""
    if action not in POLICY:
        raise KeyError(f"no access rule for {action!r}")

    def dependency(principal: CurrentPrincipal) -> Grant:
        return grant(principal, action)

    dependency.access_action = action  # type: ignore[attr-defined]  # for the guard test over the routes
    return dependency


def public(action: str) -> Callable[[], None]:
    """A FastAPI dependency for a PUBLIC action: no token is read, so none can be refused."""
    if set(POLICY[action][1].values()) != {PUBLIC}:
        raise KeyError(f"{action!r} is not public")

    def dependency() -> None:
        return None

    dependency.access_action = action  # type: ignore[attr-defined]  # for the guard test over the routes
    return dependency


_CELL = {PUBLIC: "✓ public, no token", ALL: "✓ all", TOWNSHIP: "✓ own township", HOLDER: "✓ case holder"}

def markdown_matrix() -> str:
    """The access matrix as the README shows it."""
    lines = ["| Endpoint | " + " | ".join(f"`{r}`" for r in ROLES) + " |", "|---" * (len(ROLES) + 1) + "|"]
    for endpoint, roles in POLICY.values():
        service, method, path = endpoint.split(" ")
        cells = [_CELL[roles[r]] if r in roles else "✗" for r in ROLES]
        lines.append(f"| {service} `{method} {path}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(markdown_matrix() + "\n")
