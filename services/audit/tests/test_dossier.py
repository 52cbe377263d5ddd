"""The case dossier renders: Chinese text extractable, hashes, the signed head and inclusion proofs."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from uuid import uuid4

import pypdf
import pytest

from services.audit.app import create_app
from services.audit.dossier import Dossier, InclusionProof, RecordHash, SignedHead, render_dossier
from services.audit.settings import AuditSettings
from services.audit.tests.builders import assigned, chain_of, completed, submitted
from services.audit.timeline import timeline
from services.kit.auth import ConfigurationError

FONT = AuditSettings().font_file
CASE = uuid4()
PRINTED = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def _text(content: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return "".join(page.extract_text() for page in reader.pages).replace("\n", "")


def _dossier(*, head: SignedHead | None, proofs=None) -> Dossier:
    records = chain_of([submitted(CASE), assigned(CASE, version=1), completed(CASE, version=2)])
    return Dossier(case_id=CASE, township_id="qingshui", timeline=timeline(records),
                   records=[RecordHash(seq=r.seq, event_id=r.event_id, hash=r.hash, prev_hash=r.prev_hash)
                            for r in records], head=head, proofs=proofs or {})


def test_the_dossier_carries_facts_timeline_hashes_and_the_signed_head():
    dossier = _dossier(head=SignedHead(tree_size=2, root="ab" * 32, key_id="3b1f0c9e2d7a4f86", signature="c2ln" * 22,
                                       number=7, signed_at=PRINTED))
    content = render_dossier(dossier, font=FONT, printed_at=PRINTED)
    assert content.startswith(b"%PDF") and len(content) > 5000
    text = _text(content)
    for expected in ("办件审计档案", "QS-20261123-0001", "城乡居民养老保险参保登记", "受理登记", "分派至社保站",
                     "按期办结", "已办结", dossier.records[0].hash, "第7号", "3b1f0c9e2d7a4f86", "ab" * 32,
                     "已由哈希链连至该检查点", "晚于该检查点"):
        assert expected in text, expected


def test_inclusion_proofs_given_as_plain_values_are_printed():
    proof = InclusionProof(seq=1, leaf_index=0, leaf_hash="11" * 32, audit_path=["22" * 32, "33" * 32])
    dossier = _dossier(head=SignedHead(tree_size=3, root="44" * 32, key_id="3b1f0c9e2d7a4f86", signature="x",
                                       kind="merkle"), proofs={1: proof})
    text = _text(render_dossier(dossier, font=FONT, printed_at=PRINTED))
    assert "默克尔树根" in text and "叶序号 0" in text and "路径2：" + "33" * 32 in text


def test_without_a_signed_head_the_dossier_says_so():
    text = _text(render_dossier(_dossier(head=None), font=FONT, printed_at=PRINTED))
    assert "尚无签名检查点" in text


def test_audit_refuses_to_start_without_the_font(tmp_path):
    with pytest.raises(ConfigurationError, match="AUDIT_FONT_FILE"):
        create_app(AuditSettings(font_file=tmp_path / "missing.ttf"))
