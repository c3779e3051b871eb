"""What every `sohoa` command shares: the --config/--home options and the settings they give."""

from __future__ import annotations

import argparse

from pipeline.settings import Settings


def common_parser(verbose: bool = True) -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", help="settings file (YAML); also SOHOA_CONFIG")
    common.add_argument("--home", help="data home (store, catalog); also SOHOA_HOME, default ./.sohoa")
    if verbose:
        common.add_argument("-v", "--verbose", action="store_true", help="show Prefect and pipeline logs")
    return common


def settings_of(args: argparse.Namespace) -> Settings:
    """--config and --home (and `process --text-layer`) over SOHOA_* over the packaged defaults; the
    environment is left as it is."""
    overrides = {"ocr": {"text_layer": args.text_layer}} if getattr(args, "text_layer", None) else {}
    return Settings.load(config=getattr(args, "config", None), home=getattr(args, "home", None), **overrides)
