"""Settings come from the environment, and production settings pass Django's deploy checks."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    drop = ("DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "CHANNEL_LAYER")
    clean = {k: v for k, v in os.environ.items() if k not in drop}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_check_deploy_without_warnings():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY="a-real-secret-" + "x" * 50 + "-with-enough-entropy-0123456789",
        ALLOWED_HOSTS="hotline.example.gov.cn",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage("check", DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_a_malformed_boolean_fails_loudly():
    result = run_manage("check", DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


@pytest.mark.parametrize(
    ("redis_url", "backend"),
    [
        ("", "channels.layers.InMemoryChannelLayer"),
        ("redis://127.0.0.1:6379/0", "channels_redis.pubsub.RedisPubSubChannelLayer"),
    ],
)
def test_redis_url_selects_the_channel_layer(redis_url, backend):
    code = "from django.conf import settings; print(settings.CHANNEL_LAYERS['default']['BACKEND'])"
    result = run_manage("shell", "-v", "0", "-c", code, REDIS_URL=redis_url)
    assert result.stdout.strip().endswith(backend), result.stderr


def test_channel_layer_core_selects_the_list_based_layer_and_a_typo_is_refused():
    code = "from django.conf import settings; print(settings.CHANNEL_LAYERS['default']['BACKEND'])"
    result = run_manage("shell", "-v", "0", "-c", code, REDIS_URL="redis://127.0.0.1:6379/0", CHANNEL_LAYER="core")
    assert result.stdout.strip().endswith("channels_redis.core.RedisChannelLayer"), result.stderr
    result = run_manage("shell", "-v", "0", "-c", code, REDIS_URL="redis://127.0.0.1:6379/0", CHANNEL_LAYER="pub-sub")
    assert result.returncode != 0 and "CHANNEL_LAYER: 'pub-sub' is neither core nor pubsub" in result.stderr


def test_defaults_are_the_embedded_configuration():
    code = (
        "from django.conf import settings as s; print(s.TIME_ZONE, s.LANGUAGE_CODE, s.DATABASES['default']['ENGINE'])"
    )
    result = run_manage("shell", "-v", "0", "-c", code)
    assert result.stdout.split() == ["Asia/Shanghai", "zh-hans", "django.db.backends.sqlite3"], result.stderr


def test_the_configured_channel_layer_carries_a_message():
    """In CI this goes through real Redis; locally through the in-memory layer."""
    layer = get_channel_layer()

    async def roundtrip():
        channel = await layer.new_channel()
        await layer.group_add("test.settings", channel)
        await layer.group_send("test.settings", {"type": "ping", "text": "王先生"})
        message = await layer.receive(channel)
        await layer.group_discard("test.settings", channel)
        return message

    assert async_to_sync(roundtrip)() == {"type": "ping", "text": "王先生"}
    if settings.REDIS_URL:
        expected = {"core": "RedisChannelLayer", "pubsub": "RedisPubSubChannelLayer"}[settings.CHANNEL_LAYER]
        assert type(layer).__name__ == expected


@pytest.mark.redis
def test_a_cancelled_receive_on_the_configured_layer_always_ends():
    """A console or the bridge cancels receive() when it stops; the cancel must take, every time.

    With a socket timeout, redis-py sends each command under asyncio.wait_for, which on Python 3.11
    swallows a cancel landing as the send completes: the receive then loops forever (about one
    cancel in thirty here, with messages flowing). Many cancels at random moments, none may linger.
    """
    import random

    layer = get_channel_layer()

    async def main():
        lingering = 0
        for _ in range(150):
            channel, other = await layer.new_channel(), await layer.new_channel()

            async def listen(name):
                while True:
                    await layer.receive(name)

            async def feed(*names):
                while True:
                    for name in names:
                        await layer.send(name, {"type": "x"})
                    await asyncio.sleep(0)

            tasks = [asyncio.create_task(c) for c in (listen(channel), listen(other), feed(channel, other))]
            await asyncio.sleep(random.random() * 0.03)
            tasks[0].cancel()
            done, _ = await asyncio.wait({tasks[0]}, timeout=2)
            lingering += not done
            for task in tasks:
                task.cancel()
            await asyncio.wait(tasks, timeout=2)
        return lingering

    assert asyncio.run(main()) == 0


@pytest.mark.redis
def test_a_hundred_consoles_closing_at_once_do_not_run_the_layer_out_of_connections():
    """Each closing console discards its four groups at once; redis-py 8's default pool stops at 100."""
    layer = get_channel_layer()

    async def main():
        channels = [await layer.new_channel() for _ in range(100)]
        groups = [f"test.storm.{n}" for n in range(4)]
        joined = await asyncio.gather(
            *(layer.group_add(g, c) for c in channels for g in groups), return_exceptions=True
        )
        # Every console is in its groups: a message to one group reaches the last console too.
        await layer.group_send(groups[-1], {"type": "storm"})
        reached = await asyncio.wait_for(layer.receive(channels[-1]), timeout=5)
        left = await asyncio.gather(
            *(layer.group_discard(g, c) for c in channels for g in groups), return_exceptions=True
        )
        return [r for r in (*joined, *left) if isinstance(r, BaseException)], reached

    failures, reached = asyncio.run(main())
    assert failures == []
    assert reached == {"type": "storm"}
