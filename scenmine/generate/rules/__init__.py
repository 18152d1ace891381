"""Offline code generator (``llm=rules``): a lexicon-driven parser from English to DSL programs."""
from scenmine.generate.rules.generator import RulesGenerator
from scenmine.generate.rules.parser import ParseError, parse

__all__ = ["ParseError", "RulesGenerator", "parse"]
