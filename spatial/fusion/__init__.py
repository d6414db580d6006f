"""One figure, one source; many sources cross-check: source rules, the fusion engine, provenance, quality."""

from spatial.fusion.engine import FusionReport, current_rules, reset_fusion, run_fusion
from spatial.fusion.provenance import provenance_for_building, provenance_for_building_async, shape_provenance
from spatial.fusion.quality import Quality, measure_against_planted
from spatial.fusion.rules import ARCHIVE_ATTRIBUTES, FusionRule, RuleError, RuleSet, load_rule_file

__all__ = [
    "ARCHIVE_ATTRIBUTES",
    "FusionReport",
    "FusionRule",
    "Quality",
    "RuleError",
    "RuleSet",
    "current_rules",
    "load_rule_file",
    "measure_against_planted",
    "provenance_for_building",
    "provenance_for_building_async",
    "reset_fusion",
    "run_fusion",
    "shape_provenance",
]
