"""Where `make redrive` finds a service: its own settings, env prefix included."""

import pytest

from services.kit.redrive import main, service_url

pytestmark = pytest.mark.unit


def test_the_url_comes_from_the_services_settings(monkeypatch):
    monkeypatch.delenv("NOTIFY_PORT", raising=False)
    assert service_url("notify") == "http://127.0.0.1:8103"
    monkeypatch.setenv("AUDIT_PORT", "18104")
    assert service_url("audit") == "http://127.0.0.1:18104"


def test_an_unreachable_service_is_exit_code_2(capsys):
    assert main(["--service", "routing", "--url", "http://127.0.0.1:9"]) == 2
    assert "ConnectError" in capsys.readouterr().err
