"""What a simulated station's drivers do, whatever OCPP version: come now and then to
charge on a free connector / EVSE for a while, and stop at the charger."""

from __future__ import annotations


class DriverScheduleMixin:
    """Needs `connectors` {id: Connector}, `options`, `rng`, `_stop`, `winding_down`,
    `_sleep_or_stop` and the version's `start_local_session`."""

    def stop_local_session(self, connector_id: int, reason: str = "Local") -> bool:
        connector = self.connectors.get(connector_id)
        if connector is None or connector.tx is None:
            return False
        connector.tx.stop(reason)
        return True

    async def session_scheduler(self) -> None:
        every = self.options.session_every
        await self._sleep_or_stop(self.rng.uniform(0, every))
        while not self._stop.is_set() and not self.winding_down:
            free = [c for c in self.connectors.values() if c.free and c.reservation is None]
            if free:
                duration = self.rng.uniform(0.4, 0.8) * every
                self.start_local_session(
                    self.rng.choice(free).id, self.rng.choice(self.options.id_tags), duration=duration
                )
            await self._sleep_or_stop(self.rng.uniform(0.5, 1.5) * every)
