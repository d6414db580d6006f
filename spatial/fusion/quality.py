"""How well fusion finds the disagreements the generator planted: precision and recall."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from spatial.fusion.sql import read_sql


@dataclass(frozen=True)
class Quality:
    true_positives: int
    found: int
    planted: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.planted if self.planted else 1.0

    def __str__(self) -> str:
        return (
            f"precision {self.precision:.4f} ({self.true_positives}/{self.found}), "
            f"recall {self.recall:.4f} ({self.true_positives}/{self.planted})"
        )


def measure_against_planted(conn: psycopg.Connection) -> Quality:
    row = conn.execute(read_sql("quality.sql")).fetchone()
    assert row is not None
    return Quality(int(row[0]), int(row[1]), int(row[2]))
