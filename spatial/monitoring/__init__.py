"""Monitoring rules over the archives -> events and warnings for grid workers."""

from spatial.monitoring.engine import run_monitoring
from spatial.monitoring.rules import RULE_NAMES, RULES, MonitoringRule

__all__ = ["RULES", "RULE_NAMES", "MonitoringRule", "run_monitoring"]
