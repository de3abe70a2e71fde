"""Loader and operations CLI for the notification warehouse."""

from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
