"""Settings: packaged defaults, the user's YAML file deep-merged over them, SOHOA_* variables over
both, arguments over all; one loader for every command, which leaves the environment alone."""

from __future__ import annotations

import os

import pytest

from flows.options import common_parser, settings_of
from pipeline.errors import ConfigError
from pipeline.settings import Settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("SOHOA_"):
            monkeypatch.delenv(name)


def test_user_file_is_merged_over_the_defaults_and_env_wins(tmp_path, monkeypatch):
    user = tmp_path / "site.yaml"
    user.write_text("ocr:\n  dpi: 200\ncleaning:\n  deskew: false\n", encoding="utf-8")
    s = Settings.load(config=user)
    assert (s.ocr.dpi, s.ocr.lang, s.ocr.timeout_s) == (200, "vie", 180)  # a nested key replaced, its siblings kept
    assert s.cleaning.deskew is False and s.cleaning.orientation is True
    assert s.config_file == user.resolve()
    monkeypatch.setenv("SOHOA_OCR__DPI", "250")
    assert Settings.load(config=user).ocr.dpi == 250
    assert Settings.load(config=user, ocr={"dpi": 150, "lang": "vie"}).ocr.dpi == 150


def test_the_command_line_options_leave_the_environment_alone(tmp_path):
    user = tmp_path / "site.yaml"
    user.write_text("workers: 3\n", encoding="utf-8")
    args = common_parser().parse_args(["--config", str(user), "--home", str(tmp_path / "h")])
    before = dict(os.environ)
    s = settings_of(args)
    assert dict(os.environ) == before
    assert (s.workers, s.home, s.config_file) == (3, (tmp_path / "h").resolve(), user.resolve())
    # what a flow run is handed rebuilds the same settings
    again = Settings.load(config=s.for_flow()["config_file"], home=s.for_flow()["home"])
    assert again.model_dump() == s.model_dump()


def test_sohoa_config_names_the_file(tmp_path, monkeypatch):
    user = tmp_path / "site.yaml"
    user.write_text("catalog: sqlite\nrun:\n  dossiers_at_once: 4\n", encoding="utf-8")
    monkeypatch.setenv("SOHOA_CONFIG", str(user))
    s = Settings()
    assert s.run.dossiers_at_once == 4 and s.config_file == user.resolve()


@pytest.mark.parametrize("text, problem", [(None, "not found"), ("- a\n- b\n", "must be a mapping"),
                                          ("ocr: [unclosed\n", "not valid YAML")])
def test_a_bad_settings_file_is_named(tmp_path, text, problem):
    user = tmp_path / "site.yaml"
    if text is not None:
        user.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=problem) as err:
        Settings.load(config=user)
    assert str(user) in str(err.value)
