"""Signed tree heads, Merkle proofs and the verification keys over HTTP (ADR 0031). Every proof is
recorded in the access log with the answer, in one transaction."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Literal
from uuid import UUID

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import APIRouter, Depends, Query, Request

from contracts.events import AuditCheckpointed
from services.audit import access_log, checkpoints, merkle, merkle_store
from services.audit.deps import AuditRuntime
from services.audit.proof_schemas import ConsistencyProofView, InclusionProofView, PublicKeyView, SignedHeadView
from services.kit.access import Grant, permit
from services.kit.errors import ApiError, error_responses

router = APIRouter(prefix="/api/v1", tags=["audit"])
Number = Annotated[int, Query(ge=1, le=2**31 - 1, description="A checkpoint's number (1, 2, 3 …).")]


def _rt(request: Request) -> AuditRuntime:
    return request.app.state.runtime


def head_view(event: AuditCheckpointed) -> SignedHeadView:
    p = event.payload
    return SignedHeadView(checkpoint=event.stream_version, event_id=event.event_id, occurred_at=event.occurred_at,
                          head_seq=p.head_seq, head_hash=p.head_hash, records=p.records,
                          previous_head_seq=p.previous_head_seq, tree_size=p.tree_size, root_hash=p.root_hash,
                          key_id=p.key_id, signature=p.signature)


async def _tree_head(conn: asyncpg.Connection, number: int | None) -> AuditCheckpointed:
    event = await merkle_store.signed_head(conn, number)
    if event is None:
        raise ApiError(404, "CHECKPOINT_NOT_FOUND", "未找到该检查点" if number else "尚未签发任何检查点")
    if event.payload.tree_size is None:
        raise ApiError(422, "CHECKPOINT_WITHOUT_TREE", f"第 {event.stream_version} 号检查点签发于默克尔树启用之前，"
                       "不含树根，请选择更晚的检查点")
    return event


async def served_proof(make: Awaitable[list[bytes]]) -> list[bytes]:
    """The proof, or 409 TREE_INCOMPLETE when nodes the tree must hold are gone."""
    try:
        return await make
    except LookupError as exc:  # nodes the tree must hold are gone: only the owner can have removed them
        raise ApiError(409, "TREE_INCOMPLETE", "默克尔树节点缺失，审计日志可能已被篡改") from exc


@router.get("/checkpoints", response_model=list[SignedHeadView],
            summary="The signed tree heads, in number order, page by page (已签名的检查点)",
            responses=error_responses(401, 403, 422))
async def get_checkpoints(request: Request, grant: Annotated[Grant, Depends(permit("audit.checkpoints"))],
                          after: Annotated[int, Query(ge=0, le=2**31 - 1, description="Heads after this number.")] = 0,
                          limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[SignedHeadView]:
    rt = _rt(request)
    async with rt.pool.acquire() as conn, conn.transaction():
        heads = await merkle_store.signed_heads(conn, after=after, limit=limit)
        await access_log.record_query(conn, viewer=grant.principal, query="checkpoints",
                                      parameters={"after": after, "limit": limit}, case_ids=[],
                                      result_count=len(heads), township_id=None, now=rt.clock.now())
    return [head_view(h) for h in heads]


@router.get("/checkpoints/public-keys", response_model=list[PublicKeyView],
            summary="Every key heads are signed with: the current one and retired ones (验签公钥)",
            responses=error_responses(401, 403))
async def get_public_keys(request: Request,
                          _: Annotated[Grant, Depends(permit("audit.public_keys"))]) -> list[PublicKeyView]:
    deps = _rt(request).deps
    assert deps.signing_key is not None, "the signing key is loaded at start"

    def view(key: Ed25519PublicKey, status: Literal["current", "retired"]) -> PublicKeyView:
        return PublicKeyView(key_id=checkpoints.key_id(key), algorithm="Ed25519", status=status,
                             public_key_pem=checkpoints.public_pem(key))

    return [view(deps.signing_key.public_key(), "current"), *(view(k, "retired") for k in deps.retired_keys)]


@router.get("/proofs/inclusion", response_model=InclusionProofView,
            summary="Proof that one event is in the log a signed head covers (包含性证明)",
            responses=error_responses(401, 403, 404, 409, 422))
async def get_inclusion(request: Request, grant: Annotated[Grant, Depends(permit("audit.inclusion_proof"))],
                        event_id: UUID, checkpoint: Number | None = None) -> InclusionProofView:
    """Against checkpoint `checkpoint`, or the latest; 404 EVENT_NOT_IN_LOG, 404 CHECKPOINT_NOT_FOUND,
    422 EVENT_AFTER_CHECKPOINT when the event was logged after that head."""
    rt = _rt(request)
    async with rt.pool.acquire() as conn, conn.transaction():
        head = await _tree_head(conn, checkpoint)
        record = await merkle_store.record_of(conn, event_id)
        if record is None:
            raise ApiError(404, "EVENT_NOT_IN_LOG", "审计日志中没有该事件")
        size = head.payload.tree_size
        assert size is not None
        if record.seq > size:
            raise ApiError(422, "EVENT_AFTER_CHECKPOINT", f"该事件（序号 {record.seq}）在第 {head.stream_version} 号"
                           "检查点之后入档，请选择更晚的检查点")
        path = await served_proof(merkle_store.inclusion_proof(conn, record.seq - 1, size))
        await access_log.record_query(conn, viewer=grant.principal, query="proof_inclusion",
                                      parameters={"event_id": event_id, "checkpoint": head.stream_version},
                                      case_ids=[record.case_id], result_count=1, township_id=record.township_id,
                                      now=rt.clock.now())
    data = merkle_store.leaf_data(record)
    return InclusionProofView(checkpoint=head_view(head), seq=record.seq, event_id=record.event_id,
                              case_id=record.case_id, leaf_index=record.seq - 1, leaf_data=data.decode(),
                              leaf_hash=merkle.leaf_hash(data).hex(), tree_size=size, audit_path=[p.hex() for p in path])


@router.get("/proofs/consistency", response_model=ConsistencyProofView,
            summary="Proof that a later signed head extends an earlier one (一致性证明)",
            responses=error_responses(401, 403, 404, 409, 422))
async def get_consistency(request: Request, grant: Annotated[Grant, Depends(permit("audit.consistency_proof"))],
                          first: Number, second: Number) -> ConsistencyProofView:
    if first > second:
        raise ApiError(422, "FIRST_AFTER_SECOND", "first 须为不晚于 second 的检查点编号")
    rt = _rt(request)
    async with rt.pool.acquire() as conn, conn.transaction():
        old, new = await _tree_head(conn, first), await _tree_head(conn, second)
        old_size, new_size = old.payload.tree_size, new.payload.tree_size
        assert old_size is not None and new_size is not None
        if old_size > new_size:  # a signer never does this; the heads themselves are then the evidence
            raise ApiError(422, "TREE_SHRANK", "较晚检查点的树小于较早检查点，检查点序列本身有误")
        proof = await served_proof(merkle_store.consistency_proof(conn, old_size, new_size))
        await access_log.record_query(conn, viewer=grant.principal, query="proof_consistency",
                                      parameters={"first": first, "second": second}, case_ids=[], result_count=1,
                                      township_id=None, now=rt.clock.now())
    return ConsistencyProofView(first=head_view(old), second=head_view(new), proof=[p.hex() for p in proof])


