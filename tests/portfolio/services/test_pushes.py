"""After-commit portfolio pushes from sync code: queued, sent in bursts, none lost."""

import threading

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from apps.portfolio.services import pushes
from tests.channel_messages import channel_receive


def _listen(portfolio_id: int) -> str:
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(f"portfolio.{portfolio_id}", channel)
    return channel


def test_a_burst_from_many_threads_arrives_whole_and_in_each_threads_order():
    threads, per_thread = 8, 25
    channels = {number: _listen(900_000 + number) for number in range(threads)}

    def send(number: int) -> None:
        for seq in range(per_thread):
            pushes.portfolio_push(portfolio_id=900_000 + number, event="order", data={"seq": seq})

    workers = [threading.Thread(target=send, args=(number,)) for number in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    for channel in channels.values():
        received = [channel_receive(channel)["data"]["seq"] for _ in range(per_thread)]
        assert received == list(range(per_thread))


def test_a_failing_push_does_not_stop_the_ones_queued_after_it(monkeypatch, caplog):
    layer = get_channel_layer()
    channel = _listen(900_100)
    original = layer.group_send

    async def group_send(group, message):
        if message["data"].get("poison"):
            raise RuntimeError("layer refused")
        await original(group, message)

    monkeypatch.setattr(layer, "group_send", group_send)
    pushes.portfolio_push(portfolio_id=900_100, event="order", data={"poison": True})
    pushes.portfolio_push(portfolio_id=900_100, event="order", data={"seq": 1})
    assert channel_receive(channel)["data"] == {"seq": 1}
    assert "push to portfolio.900100 failed" in caplog.text
