"""Provider settings: secrets from the environment or a file, never shown; the template mapping file."""

from __future__ import annotations

import pytest

from services.notify.providers.config import ProviderSettings, TemplateFileError, load_templates


def test_a_secret_comes_from_its_file_and_is_never_shown(monkeypatch, tmp_path):
    secret = tmp_path / "alibaba-secret"
    secret.write_text("s3cr3t-from-file\n", encoding="utf-8")
    monkeypatch.delenv("NOTIFY_ALIBABA_ACCESS_KEY_SECRET", raising=False)
    monkeypatch.setenv("NOTIFY_ALIBABA_ACCESS_KEY_SECRET_FILE", str(secret))
    monkeypatch.setenv("NOTIFY_TENCENT_SECRET_KEY", "from-env")
    settings = ProviderSettings()
    assert settings.secret("alibaba_access_key_secret") == "s3cr3t-from-file"
    assert settings.secret("tencent_secret_key") == "from-env" and settings.secret("sms_receipt_secret") == ""
    assert "s3cr3t" not in repr(settings) and "from-env" not in str(settings.model_dump())


def test_the_variable_wins_over_the_file(monkeypatch, tmp_path):
    secret = tmp_path / "s"
    secret.write_text("from-file", encoding="utf-8")
    monkeypatch.setenv("NOTIFY_SMS_RECEIPT_SECRET", "from-env")
    monkeypatch.setenv("NOTIFY_SMS_RECEIPT_SECRET_FILE", str(secret))
    assert ProviderSettings().secret("sms_receipt_secret") == "from-env"


def test_the_template_file_maps_our_codes_and_refuses_typos(tmp_path):
    good = tmp_path / "templates.yaml"
    good.write_text("tencent:\n  case_submitted: {template: '2000001', params: [case_no]}\n", encoding="utf-8")
    mapping = load_templates(good)
    assert mapping.tencent["case_submitted"].params == ("case_no",) and mapping.alibaba == {}
    assert load_templates(None).alibaba == {}
    bad = tmp_path / "bad.yaml"
    bad.write_text("tencent:\n  case_submitted: {templte: '2000001'}\n", encoding="utf-8")
    with pytest.raises(TemplateFileError, match="templte"):
        load_templates(bad)
