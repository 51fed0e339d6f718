"""Erlang C: how many agents a queue needs. Pure functions, no Django (STYLE §5).

Traffic ``A = λ · AHT`` (Erlangs) offered to ``N`` agents, callers waiting in an infinite queue
and never giving up. For N > A:

    C(N, A)  = (A^N / N! · N/(N−A)) / (Σ_{k<N} A^k / k!  +  A^N / N! · N/(N−A))   probability of waiting
    SL(t)    = 1 − C(N, A) · exp(−(N−A) · t / AHT)                                 share answered within t
    ASA      = C(N, A) · AHT / (N − A)                                             average speed of answer

C is computed from the Erlang B recursion (B₀ = 1, Bₖ = A·Bₖ₋₁ / (k + A·Bₖ₋₁),
C = N·B / (N − A·(1 − B))), which stays exact where the factorials would overflow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def erlang_b(agents: int, traffic: float) -> float:
    """Blocking probability with ``agents`` servers and no queue."""
    if agents < 0 or traffic < 0:
        raise ValueError("agents and traffic must not be negative")
    b = 1.0
    for k in range(1, agents + 1):
        b = traffic * b / (k + traffic * b)
    return b


def erlang_c(agents: int, traffic: float) -> float:
    """Probability that a call waits. 1.0 when the queue is unstable (agents ≤ traffic)."""
    if traffic == 0:
        return 0.0
    if agents <= traffic:
        return 1.0
    b = erlang_b(agents, traffic)
    return agents * b / (agents - traffic * (1 - b))


def service_level(agents: int, traffic: float, aht_seconds: float, target_seconds: float) -> float:
    """Share of calls answered within ``target_seconds``."""
    if traffic == 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    return 1 - erlang_c(agents, traffic) * math.exp(-(agents - traffic) * target_seconds / aht_seconds)


def average_speed_of_answer(agents: int, traffic: float, aht_seconds: float) -> float:
    if traffic == 0:
        return 0.0
    if agents <= traffic:
        return math.inf
    return erlang_c(agents, traffic) * aht_seconds / (agents - traffic)


@dataclass(frozen=True)
class Staffing:
    agents: int
    traffic: float
    service_level: float
    asa_seconds: float
    occupancy: float


def agents_needed(
    calls_per_hour: float,
    aht_seconds: float,
    *,
    target_level: float = 0.8,
    target_seconds: float = 20,
    max_agents: int = 10_000,
) -> Staffing:
    """The fewest agents reaching ``target_level`` of calls answered within ``target_seconds``."""
    if calls_per_hour < 0 or aht_seconds < 0:
        raise ValueError("arrival rate and handle time must not be negative")
    if not 0 < target_level < 1:
        raise ValueError("the target service level is a share between 0 and 1")
    traffic = calls_per_hour * aht_seconds / 3600
    if traffic == 0:
        return Staffing(0, 0.0, 1.0, 0.0, 0.0)
    agents = max(1, math.floor(traffic) + 1)
    while service_level(agents, traffic, aht_seconds, target_seconds) < target_level:
        agents += 1
        if agents > max_agents:
            raise ValueError(f"more than {max_agents} agents needed; check the inputs")
    return Staffing(
        agents=agents,
        traffic=traffic,
        service_level=service_level(agents, traffic, aht_seconds, target_seconds),
        asa_seconds=average_speed_of_answer(agents, traffic, aht_seconds),
        occupancy=traffic / agents,
    )
