"""Response bodies of the signed tree heads, Merkle proofs and keys (ADR 0031)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field


class SignedHeadView(BaseModel):
    """One AuditCheckpointed as signed; the signed text is rebuilt from these fields (ADR 0031)."""

    checkpoint: int = Field(title="检查点编号", description="1, 2, 3 … without gaps (the event's stream_version).")
    event_id: UUID = Field(title="事件编号")
    occurred_at: datetime = Field(title="签发时间")
    head_seq: int = Field(title="最新序号")
    head_hash: str = Field(title="最新哈希")
    records: int = Field(title="记录数")
    previous_head_seq: int = Field(title="上一检查点序号")
    tree_size: int | None = Field(title="树大小", description="Null on checkpoints signed before Merkle heads (v1).")
    root_hash: str | None = Field(title="树根哈希", description="RFC 9162 Merkle tree hash of records 1..tree_size.")
    key_id: str = Field(title="密钥标识")
    signature: str = Field(title="签名", description="Base64 Ed25519 signature over the signed text.")


class InclusionProofView(BaseModel):
    checkpoint: SignedHeadView = Field(title="所依据的检查点")
    seq: int = Field(title="审计序号")
    event_id: UUID = Field(title="事件编号")
    case_id: UUID = Field(title="办件编号")
    leaf_index: int = Field(title="叶子序号", description="seq - 1.")
    leaf_data: str = Field(title="叶子原文", description="The record's hashed text (canonical JSON); "
                           "leaf hash = SHA-256(0x00 || UTF-8 of this text).")
    leaf_hash: str = Field(title="叶子哈希")
    tree_size: int = Field(title="树大小")
    audit_path: list[str] = Field(title="审计路径", description="RFC 9162 §2.1.3 inclusion proof, hex, deepest first.")


class ConsistencyProofView(BaseModel):
    first: SignedHeadView = Field(title="较早的检查点")
    second: SignedHeadView = Field(title="较晚的检查点")
    proof: list[str] = Field(title="一致性证明", description="RFC 9162 §2.1.4 consistency proof, hex.")


class PublicKeyView(BaseModel):
    key_id: str = Field(title="密钥标识", description="First 16 hex of sha256 over the raw public key.")
    algorithm: str = Field(title="签名算法", examples=["Ed25519"])
    status: Literal["current", "retired"] = Field(title="状态", description="current signs new heads; retired "
                                                  "keys only verify the heads they signed before rotation.")
    public_key_pem: str = Field(title="公钥", description="Pin out-of-band: a key fetched from the service being "
                                "checked proves nothing on its own.")
