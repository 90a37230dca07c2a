"""Secrets never reach output: registered values and credential shapes are masked."""

from __future__ import annotations

import logging

import pytest

from updater.infra import logmask, redact


def test_registered_secret_is_masked_everywhere() -> None:
    redact.register("s3cr3t-value-42")
    assert redact.mask("push failed with s3cr3t-value-42 at s3cr3t-value-42") == "push failed with *** at ***"


def test_credential_shapes_are_masked_without_registration() -> None:
    text = (
        "Authorization: Bearer abc.def.ghi\n"
        '{"token": "eyJhbGciOi", "password": "hunter2!"}\n'
        "ghp_" + "a" * 36 + "\n"
        "https://user:pa55word@example.com/repo.git"
    )
    masked = redact.mask(text)
    for leaked in ("abc.def.ghi", "eyJhbGciOi", "hunter2!", "a" * 36, "pa55word"):
        assert leaked not in masked
    assert "https://user:***@example.com/repo.git" in masked


def test_logging_filter_masks_formatted_messages(caplog: pytest.LogCaptureFixture) -> None:
    redact.register("tok-123456789")
    logger = logging.getLogger("updater.test")
    handler_filter = logmask.MaskingFilter()
    logger.addFilter(handler_filter)
    try:
        with caplog.at_level(logging.DEBUG, logger="updater.test"):
            logger.debug("sending %s", "tok-123456789")
    finally:
        logger.removeFilter(handler_filter)
    assert "tok-123456789" not in caplog.text
    assert "sending ***" in caplog.text


def test_printable_escapes_every_line_breaking_or_terminal_character() -> None:
    printable = redact.printable
    hostile = "x\n::error::forged\r\x1b[31m\t\u2028\u2029\u202e\x85\U000e0001"
    assert printable(hostile) == "x\\n::error::forged\\r\\x1b[31m\\t\\u2028\\u2029\\u202e\\x85\\U000e0001"
    assert printable("stage-1 é ü\u00a0") == "stage-1 é ü\u00a0"  # printable text is left alone
    assert len(printable(hostile).splitlines()) == 1
