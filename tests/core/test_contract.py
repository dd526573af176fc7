"""Contract checking in the communicator: frames that break the consumer's declarations
fail the test that sent or received them, naming the frame and the declaration."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import BaseModel

from chanx.core.decorators import event_handler, ws_handler
from chanx.core.websocket import AsyncJsonWebsocketConsumer
from chanx.messages.base import BaseMessage
from chanx.testing import WebsocketCommunicator, contract
from chanx.testing.contract import ContractViolation


class Amount(BaseModel):
    value: int


class PayMessage(BaseMessage):
    action: Literal["k_pay"] = "k_pay"
    payload: Amount


class Paid(BaseMessage):
    action: Literal["k_paid"] = "k_paid"
    payload: Amount


class Hello(BaseMessage):
    action: Literal["k_hello"] = "k_hello"
    payload: str


class Undeclared(BaseMessage):
    action: Literal["k_undeclared"] = "k_undeclared"
    payload: None = None


class RefundEvent(BaseMessage):
    action: Literal["k_refund_event"] = "k_refund_event"
    payload: Amount


class Refunded(BaseMessage):
    action: Literal["k_refunded"] = "k_refunded"
    payload: Amount


class Till(AsyncJsonWebsocketConsumer):
    send_completion = True
    outgoing_messages = (Hello,)

    async def post_authentication(self) -> None:
        await self.send_message(Hello(payload="welcome"))

    @ws_handler
    async def handle_pay(self, message: PayMessage) -> Paid:
        if message.payload.value == 13:
            await self.send_message(Undeclared())
        if message.payload.value == 7:
            await self.send_json({"action": "k_paid", "payload": {"value": "seven"}})
        return Paid(payload=message.payload)

    @event_handler
    async def handle_refund(self, event: RefundEvent) -> Refunded:
        return Refunded(payload=event.payload)


def test_the_project_suite_checks_by_default() -> None:
    # tests/conftest.py turns checking on for every test; the library default is off.
    assert contract.default_enabled()
    assert WebsocketCommunicator(Till.as_asgi(), "/").check_contract


async def test_declared_frames_pass_all_the_way() -> None:
    async with WebsocketCommunicator(Till.as_asgi(), "/") as comm:
        assert await comm.receive_message() == Hello(payload="welcome")  # outgoing_messages
        await comm.send_message(PayMessage(payload=Amount(value=5)))
        assert await comm.receive_all_messages() == [Paid(payload=Amount(value=5))]
        assert comm.tracker is not None
        assert comm.tracker.consumer is not None
        await Till.send_event(
            RefundEvent(payload=Amount(value=2)), comm.tracker.consumer.channel_name
        )
        assert await comm.receive_all_messages(stop_action="event_complete") == [
            Refunded(payload=Amount(value=2))
        ]


async def test_an_undeclared_outgoing_action_fails_naming_frame_and_declarations() -> None:
    async with WebsocketCommunicator(Till.as_asgi(), "/") as comm:
        await comm.receive_message()
        await comm.send_message(PayMessage(payload=Amount(value=13)))
        with pytest.raises(ContractViolation) as caught:
            await comm.receive_all_messages()
    message = str(caught.value)
    assert 'Till sent \'{"action":"k_undeclared","payload":null}\'' in message
    assert "'k_undeclared' is not among its declared outgoing messages" in message
    assert "k_hello, k_paid, k_refunded" in message
    assert "output_type=" in message


async def test_a_payload_that_breaks_its_model_fails() -> None:
    async with WebsocketCommunicator(Till.as_asgi(), "/") as comm:
        await comm.receive_message()
        await comm.send_message(PayMessage(payload=Amount(value=7)))
        with pytest.raises(ContractViolation, match=r"does not match its declaration \(Paid: "):
            await comm.receive_all_messages()


async def test_the_test_side_is_checked_too() -> None:
    async with WebsocketCommunicator(Till.as_asgi(), "/") as comm:
        with pytest.raises(ContractViolation, match="Till has no handler for action 'k_nope'"):
            await comm.send_json({"action": "k_nope"})
        with pytest.raises(
            ContractViolation, match=r"does not match PayMessage .*payload.value: Input should"
        ):
            await comm.send_json({"action": "k_pay", "payload": {"value": "x"}})
        with pytest.raises(ContractViolation, match="not a chanx message"):
            await comm.send_text("[1]")
        with pytest.raises(ContractViolation, match="binary frame of 3 bytes"):
            await comm.send_bytes(b"abc")
        await comm.receive_message()  # the hello; nothing else was sent
        await comm.receive_nothing()


async def test_off_contract_sends_say_why_and_answers_are_still_checked() -> None:
    async with WebsocketCommunicator(Till.as_asgi(), "/") as comm:
        await comm.receive_message()
        with pytest.raises(ValueError, match="say why"), comm.off_contract(" "):
            pass
        with comm.off_contract("an unknown action, to see the error"):
            await comm.send_json({"action": "k_nope"})
        [error] = await comm.receive_all_json()
        assert error["action"] == "error"
        with pytest.raises(ContractViolation):  # the block is over
            await comm.send_json({"action": "k_nope"})


async def test_checking_can_be_off_for_one_communicator() -> None:
    comm = WebsocketCommunicator(Till.as_asgi(), "/")
    comm.check_contract = False
    async with comm:
        await comm.receive_message()
        await comm.send_message(PayMessage(payload=Amount(value=13)))
        assert [m.action for m in await comm.receive_all_messages()] == [
            "k_undeclared",
            "k_paid",
        ]


@pytest.mark.off_contract("shows that the default can be switched off")
def test_the_default_is_a_process_wide_switch() -> None:
    assert not contract.default_enabled()
    previous = contract.set_default(True)
    try:
        assert WebsocketCommunicator(Till.as_asgi(), "/").check_contract
    finally:
        contract.set_default(previous)
    assert not WebsocketCommunicator(Till.as_asgi(), "/").check_contract
