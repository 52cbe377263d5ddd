"""Notify's sending rules out of the way, for systems under test that text one sample number many
times at any hour of a moved clock (end-to-end, fault and trace suites, the other integration
tests). The rules themselves are tested in test_send_rules*.py."""

RULES_OFF = {
    "merge_window_seconds": "0", "quiet_start": "00:00", "quiet_end": "00:00", "same_text_hours": "0",
    "limit_per_minute": "1000000", "limit_per_hour": "1000000", "limit_per_day": "1000000",
}
RULES_OFF_ENV = {f"NOTIFY_{name.upper()}": value for name, value in RULES_OFF.items()}
