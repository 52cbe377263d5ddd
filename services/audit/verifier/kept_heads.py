"""The heads file the inspector keeps (JSON lines, one AuditCheckpointed each, in number order):
heads are added only after their signature verified with a pinned key and the server proved, by a
consistency proof checked here, that the new tree extends the last kept one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import ValidationError

from contracts.events import AuditCheckpointed, parse_event
from services.audit import checkpoints, merkle
from services.audit.verifier.server import AuditServer
from services.audit.verify import Unusable


def load(path: Path) -> list[AuditCheckpointed]:
    """The kept heads; none when the file does not exist yet."""
    if not path.exists():
        return []
    heads: list[AuditCheckpointed] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            event = parse_event(line)
        except (ValueError, ValidationError) as exc:
            raise Unusable(f"检查点文件 {path} 第 {number} 行无法读取：{exc}") from exc
        if not isinstance(event, AuditCheckpointed):
            raise Unusable(f"检查点文件 {path} 第 {number} 行不是检查点")
        heads.append(event)
    return heads


def append(path: Path, heads: Sequence[AuditCheckpointed]) -> None:
    with path.open("a", encoding="utf-8") as f:
        for head in heads:
            f.write(head.model_dump_json() + "\n")


def tree_heads(heads: Sequence[AuditCheckpointed]) -> list[AuditCheckpointed]:
    """The heads that sign a Merkle root (schema 1.1 on), in number order."""
    return [h for h in heads if h.payload.tree_size is not None]


def verified(heads: Sequence[AuditCheckpointed], keyring: Mapping[str, Ed25519PublicKey]) -> list[AuditCheckpointed]:
    """Kept heads re-checked against the keyring (the file may have been edited): Unusable if any fails."""
    judgement = checkpoints.judge(heads, keyring)
    if judgement.problems:
        raise Unusable("保存的检查点文件未通过验签：" + "；".join(judgement.problems))
    return judgement.checkpoints


def _root(head: AuditCheckpointed) -> tuple[int, bytes]:
    size, root = head.payload.tree_size, head.payload.root_hash
    assert size is not None and root is not None
    return size, bytes.fromhex(root)


async def consistency_fault(server: AuditServer, old: AuditCheckpointed, new: AuditCheckpointed) -> str | None:
    """Why `new` does not extend `old` (Chinese), or None: the server's proof is checked against the
    roots both heads signed, never against roots the server states."""
    (old_size, old_root), (new_size, new_root) = _root(old), _root(new)
    if new_size < old_size:
        return f"第 {new.stream_version} 号检查点的树（{new_size}）小于第 {old.stream_version} 号（{old_size}）"
    answer = await server.get("/api/v1/proofs/consistency", {"first": old.stream_version, "second": new.stream_version})
    try:
        proof = [bytes.fromhex(h) for h in answer["proof"]]
    except (KeyError, TypeError, ValueError):
        return f"审计服务给出的第 {old.stream_version}→{new.stream_version} 号一致性证明格式错误"
    if not merkle.verify_consistency(old_size, new_size, old_root, new_root, proof):
        return (f"第 {new.stream_version} 号检查点与已保存的第 {old.stream_version} 号检查点不一致："
                f"前 {old_size} 条记录已被改写或删除")
    return None
