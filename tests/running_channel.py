"""A channel started as `serve` starts it: with the one outbox worker (`bot.channels.running`), alerts held only
briefly so tests need not wait minutes; `stop()` ends both."""

from contextlib import AsyncExitStack

from bot.channels import running


class RunningChannel:
    def __init__(self, channel, stack: AsyncExitStack) -> None:
        self.channel, self._stack = channel, stack

    async def stop(self) -> None:
        await self._stack.aclose()

    def __getattr__(self, name):
        return getattr(self.channel, name)


async def start_channel(channel, services, hold: tuple[float, float] = (0.0, 0.05)) -> RunningChannel:
    stack = AsyncExitStack()
    await stack.enter_async_context(running(services, [channel], outbox_hold=hold))
    return RunningChannel(channel, stack)
