"""Bad input: a clear error or a logged silence, never a broken connection."""

from __future__ import annotations

import logging

import pytest

from chanx.messages.incoming import PingMessage
from chanx.messages.outgoing import PongMessage
from chanx.testing import BaseCommunicator
from tests.conformance.behaviours import (
    ECHO_PATH,
    MAX_MESSAGE_SIZE,
    AdminMessage,
    EchoMessage,
    FailMessage,
    Text,
)
from tests.conformance.drivers import Driver


async def assert_still_usable(comm: BaseCommunicator) -> None:
    await comm.send_message(PingMessage())
    assert await comm.receive_all_messages() == [PongMessage()]


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ("this is not json", "not valid JSON"),
        ("[1, 2, 3]", "not a JSON object"),
        ('"a string"', "not a JSON object"),
        ("42", "not a JSON object"),
        ("null", "not a JSON object"),
        ('{"invalid": "format"}', "no 'action' key"),
        ('{"action": 5, "payload": null}', "'action' is not a string"),
        ('{"action": null}', "'action' is not a string"),
    ],
)
async def test_frames_that_are_not_chanx_messages_are_ignored_and_logged(
    driver: Driver, frame: str, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with driver.communicator(ECHO_PATH) as comm:
        with caplog.at_level(logging.WARNING, logger="chanx"):
            with comm.off_contract("frames that are not chanx messages, on purpose"):
                await comm.send_text(frame)
            await comm.receive_nothing(timeout=0.1)
        if driver.server_here:
            assert any(reason in r.getMessage() for r in caplog.records), caplog.text
        await assert_still_usable(comm)


async def test_invalid_json_object_via_send_json_is_ignored(driver: Driver) -> None:
    async with driver.communicator(ECHO_PATH) as comm:
        with comm.off_contract("a JSON object without an action, on purpose"):
            await comm.send_json({"invalid": "format"})
        await comm.receive_nothing(timeout=0.2)
        await assert_still_usable(comm)


async def test_unknown_action_gets_error_without_echoing_it(driver: Driver) -> None:
    async with driver.communicator(ECHO_PATH) as comm:
        with comm.off_contract("an unknown action, on purpose"):
            await comm.send_json({"action": "no_such_action_xyz", "payload": {"a": 1}})
        [error] = await comm.receive_all_json()
        assert error["action"] == "error"
        assert error["payload"]["detail"] == "Unknown action"
        assert error["payload"]["errors"][0]["type"] == "unknown_action"
        assert "no_such_action_xyz" not in str(error)
        await assert_still_usable(comm)


async def test_invalid_payload_gets_validation_details_without_input(driver: Driver) -> None:
    secret = "x" * 300
    async with driver.communicator(ECHO_PATH) as comm:
        with comm.off_contract("a payload over its length limit, on purpose"):
            await comm.send_json({"action": "echo", "payload": {"text": secret}})
        [error] = await comm.receive_all_json()
        assert error["action"] == "error"
        assert error["payload"]["detail"] == "Invalid message"
        [detail] = error["payload"]["errors"]
        assert detail["loc"] == ["payload", "text"]
        assert detail["type"] == "string_too_long"
        assert secret not in str(error)
        await assert_still_usable(comm)


@pytest.mark.parametrize(
    ("frame", "loc", "kind"),
    [
        ({"action": "echo", "payload": "hello"}, ["payload"], "model_type"),
        ({"action": "echo", "payload": [1, 2]}, ["payload"], "model_type"),
        ({"action": "echo", "payload": None}, ["payload"], "model_type"),
        (
            {"action": "draw", "payload": {"shape": {"radius": 1}}},
            ["payload", "shape"],
            "union_tag_not_found",
        ),
        (
            {"action": "draw", "payload": {"shape": {"kind": "triangle"}}},
            ["payload", "shape"],
            "union_tag_invalid",
        ),
        (
            {"action": "draw", "payload": {"shape": {"kind": "circle", "radius": 1}, "tags": "x"}},
            ["payload", "tags"],
            "dict_type",
        ),
    ],
)
async def test_payload_errors_shaped_like_frame_errors_are_still_payload_errors(
    driver: Driver, frame: dict[str, object], loc: list[str], kind: str
) -> None:
    """A wrong type or a bad tag inside the payload is an invalid message (answered),
    never mistaken for "not a chanx message" (silence) or "unknown action"."""
    async with driver.communicator(ECHO_PATH) as comm:
        with comm.off_contract("invalid payloads, on purpose"):
            await comm.send_json(frame)
        [error] = await comm.receive_all_json()
        assert error["payload"]["detail"] == "Invalid message"
        [detail] = error["payload"]["errors"]
        assert (detail["loc"], detail["type"]) == (loc, kind)


async def test_missing_payload_is_reported(driver: Driver) -> None:
    async with driver.communicator(ECHO_PATH) as comm:
        with comm.off_contract("a message without its payload, on purpose"):
            await comm.send_json({"action": "echo"})
        [error] = await comm.receive_all_json()
        assert error["payload"]["errors"] == [
            {"loc": ["payload"], "msg": "Field required", "type": "missing"}
        ]


async def test_handler_exception_gets_generic_error_and_traceback_is_logged(
    driver: Driver, caplog: pytest.LogCaptureFixture
) -> None:
    async with driver.communicator(ECHO_PATH) as comm:
        with caplog.at_level(logging.ERROR, logger="chanx"):
            await comm.send_message(FailMessage())
            [error] = await comm.receive_all_json()
        assert error == {
            "action": "error",
            "payload": {
                "detail": "Internal server error",
                "errors": [{"loc": [], "msg": "Internal server error", "type": "internal_error"}],
            },
        }
        assert "secret internal detail" not in str(error)
        if driver.server_here:
            logged = [r for r in caplog.records if r.exc_info]
            assert logged
            assert "secret internal detail" in str(logged[0].exc_info[1])  # type: ignore[index]
        await assert_still_usable(comm)


async def test_permission_denied_on_one_handler_while_others_work(driver: Driver) -> None:
    async with driver.communicator(ECHO_PATH) as comm:
        await comm.send_message(AdminMessage())
        [error] = await comm.receive_all_json()
        assert error["payload"]["detail"] == "Permission denied"
        assert error["payload"]["errors"][0]["type"] == "permission_denied"
        await comm.send_message(EchoMessage(payload=Text(text="still here")))
        [reply] = await comm.receive_all_messages()
        assert reply.payload.text == "still here"  # type: ignore[attr-defined]


async def test_oversized_frame_gets_error_and_connection_survives(driver: Driver) -> None:
    big = '{"action": "echo", "payload": {"text": "' + "y" * MAX_MESSAGE_SIZE + '"}}'
    async with driver.communicator(ECHO_PATH) as comm:
        with comm.off_contract("a frame over max_message_size, on purpose"):
            await comm.send_text(big)
        [error] = await comm.receive_all_json()
        assert error["payload"]["errors"][0]["type"] == "message_too_large"
        assert str(MAX_MESSAGE_SIZE) in error["payload"]["detail"]
        await assert_still_usable(comm)


def frame_of_bytes(size: int) -> str:
    """An echo frame of exactly ``size`` UTF-8 bytes, most of its text 4-byte characters
    (so it has far fewer characters than bytes), padded with spaces."""
    frame = '{"action": "echo", "payload": {"text": "' + "\U0001f600" * 200 + '"}}'
    frame += " " * (size - len(frame.encode()))
    assert len(frame.encode()) == size
    assert len(frame) < size - 500
    return frame


async def test_a_frame_of_exactly_max_message_size_bytes_is_accepted_one_more_refused(
    driver: Driver,
) -> None:
    async with driver.communicator(ECHO_PATH) as comm:
        await comm.send_text(frame_of_bytes(MAX_MESSAGE_SIZE))
        [reply] = await comm.receive_all_json()
        assert reply == {"action": "echo_reply", "payload": {"text": "\U0001f600" * 200}}
        await comm.send_text(frame_of_bytes(MAX_MESSAGE_SIZE + 1))
        [error] = await comm.receive_all_json()
        assert error["payload"]["errors"][0]["type"] == "message_too_large"


@pytest.mark.parametrize(
    ("payload", "loc", "kind"),
    [
        # A bad tag in a nested discriminated union: pydantic's message quotes the tag.
        (
            {"text": "t", "shape": {"kind": "<x>"}},
            ["payload", "shape"],
            "union_tag_invalid",
        ),
        # A dict key the client chose would be part of the location.
        (
            {"shape": {"kind": "circle", "radius": 1}, "tags": {"<k>": 5}},
            ["payload", "tags", "*"],
            "string_type",
        ),
    ],
)
async def test_error_replies_never_carry_client_text(
    driver: Driver, payload: dict[str, object], loc: list[str], kind: str
) -> None:
    async with driver.communicator(ECHO_PATH) as comm:
        with comm.off_contract("invalid payloads carrying markers, on purpose"):
            await comm.send_json({"action": "draw", "payload": payload})
        [error] = await comm.receive_all_json()
        assert "<" not in str(error)
        assert (error["payload"]["errors"][0]["loc"], error["payload"]["errors"][0]["type"]) == (
            loc,
            kind,
        )


async def test_size_limit_counts_utf8_bytes(driver: Driver) -> None:
    # Fewer characters than the limit, more bytes: refused.
    text = "é" * (MAX_MESSAGE_SIZE // 2 + 10)
    frame = '{"action": "echo", "payload": {"text": "' + text + '"}}'
    assert len(frame) < MAX_MESSAGE_SIZE < len(frame.encode())
    async with driver.communicator(ECHO_PATH) as comm:
        with comm.off_contract("a frame over max_message_size in bytes, on purpose"):
            await comm.send_text(frame)
        [error] = await comm.receive_all_json()
        assert error["payload"]["errors"][0]["type"] == "message_too_large"


async def test_binary_frame_gets_error_and_connection_survives(driver: Driver) -> None:
    async with driver.communicator(ECHO_PATH) as comm:
        with comm.off_contract("a binary frame, on purpose"):
            await comm.send_bytes(b'{"action": "ping"}')
        [error] = await comm.receive_all_json()
        assert error["payload"]["errors"][0]["type"] == "binary_frame"
        await assert_still_usable(comm)
