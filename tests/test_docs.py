"""Docs stay in step with the code: every setting is documented."""

from pathlib import Path

from cityos.config import Settings

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_every_setting_is_documented() -> None:
    text = (DOCS / "configuration.md").read_text()
    missing = [name for name in Settings.model_fields if f"CITYOS_{name.upper()}" not in text]
    assert missing == [], f"document these settings in docs/configuration.md: {missing}"


def test_every_cli_command_is_documented() -> None:
    text = (DOCS / "cli.md").read_text()
    for command in ("cityos demo", "cityos serve", "cityos db upgrade", "cityos token create"):
        assert command in text
